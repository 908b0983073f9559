package org.spicestream.reds;

/** What a new main-channel link does to the sessions already connected. */
public enum SessionPolicy {
    /** Reference behaviour (B51): a new main link disconnects every existing session first. */
    REPLACE,
    /** Several sessions at once, up to {@link SessionConfig#maxSessions()}. */
    SHARE
}
