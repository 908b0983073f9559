package org.spicestream.reds;

import java.net.SocketAddress;

/** One connected SPICE client: a main channel connection and the channel connections linked with its id. */
public interface ClientSession {

    /** The session id sent in MAIN_INIT; other channels link with it as {@code connection_id}. */
    int id();

    /** Remote address of the main channel connection. */
    SocketAddress remoteAddress();

    /** The session's multimedia clock: its latency, fed by the stream channels' video reports (R9). */
    SessionClock clock();

    /** False once the main channel is gone. */
    boolean isActive();
}
