package org.spicestream.it.robustness;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import org.spicestream.reds.SpiceMessages;
import org.spicestream.reds.internal.Caps;
import org.spicestream.reds.internal.Rsa;
import org.spicestream.reds.internal.Wire;

/**
 * A SPICE client on a plain blocking socket, for clients that misbehave at the socket level: it links (empty
 * ticket), then the test decides how (and whether) it reads. The receive buffer is set small before connecting so
 * that a client that does not read pushes back on the server quickly.
 */
final class RawSpiceClient implements AutoCloseable {

    /** Receive buffer of a raw client (the kernel may round it up). */
    static final int RECEIVE_BUFFER = 4096;

    final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    private RawSpiceClient(Socket socket) throws IOException {
        this.socket = socket;
        this.in = socket.getInputStream();
        this.out = socket.getOutputStream();
    }

    /** Connects and links channel (type, id) of session {@code connectionId}; throws unless the link result is OK. */
    static RawSpiceClient link(InetSocketAddress server, long connectionId, int type, int id, int... channelCaps)
            throws Exception {
        Socket s = new Socket();
        s.setReceiveBufferSize(RECEIVE_BUFFER);
        s.setSoTimeout(10_000);
        s.connect(server);
        RawSpiceClient c = new RawSpiceClient(s);
        try {
            c.out.write(linkMessage(connectionId, type, id, channelCaps));
            c.out.flush();
            byte[] header = c.in.readNBytes(Wire.LINK_HEADER_SIZE);
            int size = ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN).getInt(12);
            byte[] reply = c.in.readNBytes(size);
            if (reply.length != size || ByteBuffer.wrap(reply).order(ByteOrder.LITTLE_ENDIAN).getInt(0) != 0) {
                throw new IOException("link refused: " + Arrays.toString(Arrays.copyOf(reply, Math.min(4, reply.length))));
            }
            PublicKey key = KeyFactory.getInstance("RSA")
                    .generatePublic(new X509EncodedKeySpec(Arrays.copyOfRange(reply, 4, 4 + Wire.PUB_KEY_SIZE)));
            ByteBuffer auth = ByteBuffer.allocate(4 + Wire.TICKET_SIZE).order(ByteOrder.LITTLE_ENDIAN);
            auth.putInt(Wire.AUTH_MECHANISM_SPICE).put(Rsa.encryptTicket(key, new byte[0]));
            c.out.write(auth.array());
            c.out.flush();
            byte[] result = c.in.readNBytes(Wire.LINK_RESULT_SIZE);
            if (result.length != 4 || ByteBuffer.wrap(result).order(ByteOrder.LITTLE_ENDIAN).getInt() != 0) {
                throw new IOException("link result " + Arrays.toString(result));
            }
            return c;
        } catch (Exception e) {
            s.close();
            throw e;
        }
    }

    /** SpiceLinkHeader + SpiceLinkMess + caps as spice-gtk sends them (AUTH_SELECTION, MINI_HEADER). */
    static byte[] linkMessage(long connectionId, int type, int id, int... channelCaps) {
        int[] common = Caps.words(SpiceMessages.COMMON_CAP_PROTOCOL_AUTH_SELECTION, SpiceMessages.COMMON_CAP_MINI_HEADER);
        int[] channel = Caps.words(channelCaps);
        int size = Wire.LINK_MESS_SIZE + 4 * (common.length + channel.length);
        ByteBuf b = Unpooled.buffer(Wire.LINK_HEADER_SIZE + size);
        b.writeIntLE(Wire.LINK_MAGIC).writeIntLE(Wire.VERSION_MAJOR).writeIntLE(Wire.VERSION_MINOR).writeIntLE(size);
        b.writeIntLE((int) connectionId).writeByte(type).writeByte(id);
        b.writeIntLE(common.length).writeIntLE(channel.length).writeIntLE(Wire.LINK_MESS_SIZE);
        for (int w : common) {
            b.writeIntLE(w);
        }
        for (int w : channel) {
            b.writeIntLE(w);
        }
        byte[] bytes = new byte[b.readableBytes()];
        b.readBytes(bytes);
        return bytes;
    }

    /** Reads one byte; -1 at end of stream (the server closed). */
    int readByte() throws IOException {
        return in.read();
    }

    void write(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
