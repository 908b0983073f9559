package org.spicestream.device.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.spicestream.reds.agent.AgentProtocolException;
import org.spicestream.reds.agent.VdAgent;
import org.spicestream.reds.testclient.AgentMessage;

/** The VDI chunk stream of a guest agent, read in every split: pieces, server-port chunks, framing errors. */
class VdiChunkReaderTest {

    record Got(byte[] bytes, boolean first, boolean last, int type, long remaining) {}

    private static byte[] chunk(int port, byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate(8 + payload.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(port).putInt(payload.length).put(payload);
        return b.array();
    }

    private static byte[] message(int type, int size, int seed) {
        byte[] body = new byte[size];
        new Random(seed).nextBytes(body);
        return AgentMessage.of(type, body);
    }

    private static List<Got> read(VdiChunkReader r, byte[] stream, int... cuts) {
        List<Got> out = new ArrayList<>();
        int from = 0;
        List<Integer> ends = new ArrayList<>();
        for (int c : cuts) {
            ends.add(c);
        }
        ends.add(stream.length);
        for (int to : ends) {
            ByteBuf in = Unpooled.wrappedBuffer(stream, from, to - from);
            r.read(in, (piece, f, remaining) -> {
                out.add(new Got(ByteBufUtil.getBytes(piece), f.first(), f.last(), f.type(), remaining));
                piece.release();
            });
            assertThat(in.isReadable()).isFalse();
            from = to;
        }
        return out;
    }

    @Test
    void aLargeChunkBecomesPiecesOfAtMost2048BytesInEverySplit() {
        byte[] msg = message(VdAgent.CLIPBOARD, 5000, 1); // 5020 bytes: 2048 + 2048 + 924
        byte[] server = chunk(VdAgent.PORT_SERVER, message(VdAgent.REPLY, 8, 2));
        byte[] stream = AgentMessage.concat(server, chunk(VdAgent.PORT_CLIENT, msg), chunk(VdAgent.PORT_CLIENT, new byte[0]));
        for (int cut = 1; cut < stream.length; cut += 97) {
            VdiChunkReader r = new VdiChunkReader(PooledByteBufAllocator.DEFAULT, 1 << 20);
            List<Got> got = read(r, stream, cut, Math.min(stream.length, cut + 3));
            assertThat(got).extracting(g -> g.bytes().length).as("cut at %d", cut).containsExactly(2048, 2048, 924);
            assertThat(got).extracting(Got::first).containsExactly(true, false, false);
            assertThat(got).extracting(Got::remaining).containsExactly(5020L - 2048, 924L, 0L);
            assertThat(got).extracting(Got::type).containsOnly(VdAgent.CLIPBOARD);
            assertThat(AgentMessage.concat(got.get(0).bytes(), got.get(1).bytes(), got.get(2).bytes())).isEqualTo(msg);
            assertThat(r.chunks()).isEqualTo(3);
            r.reset();
        }
    }

    @Test
    void severalMessagesInOneReadAndOneMessageInSeveralChunks() {
        byte[] a = message(VdAgent.REPLY, 8, 3);
        byte[] b = message(VdAgent.CLIPBOARD_GRAB, 8, 4);
        byte[] c = message(VdAgent.CLIPBOARD, 30, 5);
        byte[] stream = AgentMessage.concat(chunk(1, a), chunk(1, b), chunk(1, java.util.Arrays.copyOf(c, 24)),
                chunk(1, java.util.Arrays.copyOfRange(c, 24, c.length)));
        VdiChunkReader r = new VdiChunkReader(PooledByteBufAllocator.DEFAULT, 1 << 20);
        List<Got> got = read(r, stream);
        assertThat(got).extracting(Got::bytes).containsExactly(a, b, java.util.Arrays.copyOf(c, 24),
                java.util.Arrays.copyOfRange(c, 24, c.length));
        assertThat(got).extracting(Got::last).containsExactly(true, true, false, true);
    }

    @ParameterizedTest
    @ValueSource(strings = {"port", "short header", "protocol", "two messages", "too large"})
    void framingErrorsAreProtocolExceptions(String what) {
        byte[] ok = message(VdAgent.REPLY, 8, 6);
        byte[] stream = switch (what) {
            case "port" -> chunk(3, ok);
            case "short header" -> chunk(1, java.util.Arrays.copyOf(ok, 12));
            case "protocol" -> {
                byte[] bad = ok.clone();
                bad[0] = 7;
                yield chunk(1, bad);
            }
            case "two messages" -> chunk(1, AgentMessage.concat(ok, ok));
            default -> chunk(1, message(VdAgent.CLIPBOARD, 4096, 7));
        };
        VdiChunkReader r = new VdiChunkReader(PooledByteBufAllocator.DEFAULT, 1024);
        assertThatThrownBy(() -> read(r, stream)).isInstanceOf(AgentProtocolException.class);
        r.reset();
        assertThat(read(r, chunk(1, ok))).extracting(Got::bytes).containsExactly(ok);
    }
}
