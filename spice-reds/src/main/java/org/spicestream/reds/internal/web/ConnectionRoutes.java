package org.spicestream.reds.internal.web;

import io.netty.channel.ChannelPipeline;

/**
 * Where the connections of one listener go once their first bytes tell what they are. A server's own listener
 * keeps every connection ({@link #SELF}: its link handler is already in the pipeline); a front door picks one of
 * several servers.
 */
public interface ConnectionRoutes {

    /** Puts the chosen server's link stage into a pipeline, after the handler named {@code after}. */
    @FunctionalInterface
    interface Attach {
        /** Attaches; false when the server refused the connection (it is then closed). */
        boolean after(ChannelPipeline pipeline, String after);
    }

    /** Already attached: nothing to add. */
    Attach ATTACHED = (pipeline, after) -> true;

    /** The route of a server's own listener: every connection stays with it, no CONNECT. */
    ConnectionRoutes SELF = new ConnectionRoutes() {
        @Override
        public Attach spice() {
            return ATTACHED;
        }

        @Override
        public Attach webSocket(String path) {
            return ATTACHED;
        }
    };

    /** A plain SPICE link (anything but HTTP): where it goes, or null (closed without reply). */
    Attach spice();

    /** A WebSocket upgrade of request path {@code path} (no query): where it goes, or null (404). */
    Attach webSocket(String path);

    /** Whether {@code CONNECT host:port} requests are answered here (otherwise "CONN" is a bad SPICE magic). */
    default boolean connectAllowed() {
        return false;
    }

    /** An HTTP CONNECT to {@code host:port}: where the tunnel goes, or null (404). */
    default Attach connect(String host, int port) {
        return null;
    }
}
