package org.spicestream.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Feeds bytes through a {@link GuestMessageDecoder} on an EmbeddedChannel in given pieces. */
final class Feed implements AutoCloseable {

    final List<GuestMessage> messages = new ArrayList<>();
    final List<Throwable> errors = new ArrayList<>();
    final GuestMessageDecoder decoder;
    final EmbeddedChannel channel;

    Feed(StreamLimits limits, boolean qualityIndicator) {
        decoder = new GuestMessageDecoder(limits);
        decoder.parser().setQualityIndicatorAllowed(qualityIndicator);
        channel = new EmbeddedChannel(decoder, new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                messages.add((GuestMessage) msg);
            }

            @Override
            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                errors.add(cause);
            }
        });
    }

    Feed() {
        this(StreamLimits.DEFAULT, true);
    }

    /** Writes {@code bytes} cut at the given offsets (ascending, exclusive of 0 and length). */
    Feed write(byte[] bytes, int... cuts) {
        int start = 0;
        for (int cut : cuts) {
            writePiece(Arrays.copyOfRange(bytes, start, cut));
            start = cut;
        }
        writePiece(Arrays.copyOfRange(bytes, start, bytes.length));
        return this;
    }

    Feed writeByteByByte(byte[] bytes) {
        for (byte b : bytes) {
            writePiece(new byte[] {b});
        }
        return this;
    }

    private void writePiece(byte[] piece) {
        // Direct, pooled-like input as a transport would deliver it.
        ByteBuf buf = channel.alloc().directBuffer(piece.length);
        buf.writeBytes(piece);
        channel.writeInbound(buf);
    }

    List<String> errorTexts() {
        List<String> texts = new ArrayList<>();
        for (Throwable t : errors) {
            texts.add(t instanceof StreamProtocolException p ? p.notifyErrorText() : t.toString());
        }
        return texts;
    }

    @Override
    public void close() {
        messages.forEach(ReferenceCountUtil::release);
        messages.clear();
        channel.finishAndReleaseAll();
    }

    static ByteBuf wrap(byte[] bytes) {
        return Unpooled.wrappedBuffer(bytes);
    }
}
