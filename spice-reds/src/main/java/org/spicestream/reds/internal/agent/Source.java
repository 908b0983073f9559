package org.spicestream.reds.internal.agent;

/** Who a piece of an agent message comes from: the guest agent, a client, or the server itself. */
public interface Source {

    /** Called when every output a piece went to wrote or dropped it. */
    void pieceDone(Piece piece);

    /** For logs. */
    String describe();
}
