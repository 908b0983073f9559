package org.spicestream.reds;

/** A SPICE client broke the wire protocol; the connection that did it is closed. */
public class SpiceProtocolException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public SpiceProtocolException(String message) {
        super(message);
    }
}
