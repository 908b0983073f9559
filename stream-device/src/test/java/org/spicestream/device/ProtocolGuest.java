package org.spicestream.device;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.local.LocalAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.spicestream.protocol.GuestMessage;
import org.spicestream.protocol.HostMessage;
import org.spicestream.protocol.HostStreamParser;
import org.spicestream.protocol.StartStop;
import org.spicestream.protocol.StreamMessages;

/** A guest speaking the stream protocol over a {@link LocalGuestTransport} (bytes carried as ISO-8859-1 text). */
final class ProtocolGuest {

    private final LocalGuest guest;

    private ProtocolGuest(LocalGuest guest) {
        this.guest = guest;
    }

    static ProtocolGuest connect(EventLoopGroup group, LocalAddress address) {
        return new ProtocolGuest(LocalGuest.connect(group, address));
    }

    void send(GuestMessage... messages) {
        StringBuilder all = new StringBuilder();
        for (GuestMessage m : messages) {
            ByteBuf bytes = StreamMessages.encode(m, ByteBufAllocator.DEFAULT);
            all.append(bytes.toString(StandardCharsets.ISO_8859_1));
            bytes.release();
        }
        guest.send(all.toString());
    }

    void sendRaw(byte[] bytes) {
        guest.send(new String(bytes, StandardCharsets.ISO_8859_1));
    }

    /** Everything the host wrote so far, decoded. */
    List<HostMessage> received() {
        List<HostMessage> out = new ArrayList<>();
        byte[] bytes = guest.received().getBytes(StandardCharsets.ISO_8859_1);
        new HostStreamParser().parse(Unpooled.wrappedBuffer(bytes), out::add);
        return out;
    }

    List<StartStop> startStops() {
        return received().stream().filter(m -> m instanceof StartStop).map(m -> (StartStop) m).toList();
    }

    boolean isClosed() {
        return guest.isClosed();
    }

    void close() {
        guest.close();
    }
}
