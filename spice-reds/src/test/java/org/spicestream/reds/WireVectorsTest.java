package org.spicestream.reds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.spicestream.reds.internal.Caps;
import org.spicestream.reds.internal.CommonMessages;
import org.spicestream.reds.internal.LinkCodec;
import org.spicestream.reds.internal.LinkMess;
import org.spicestream.reds.internal.Rsa;
import org.spicestream.reds.internal.TicketVerifier;
import org.spicestream.testsupport.Vectors;

/** Byte-exact encoders and parsers against the spec vectors. */
class WireVectorsTest {
    private static final ByteBufAllocator ALLOC = ByteBufAllocator.DEFAULT;

    static byte[] bytes(ByteBuf b) {
        try {
            byte[] out = new byte[b.readableBytes()];
            b.getBytes(b.readerIndex(), out);
            return out;
        } finally {
            b.release();
        }
    }

    /** The message with a mini header, as the core writes it. */
    static byte[] mini(OutgoingMessage m) {
        ByteBuf b = ALLOC.buffer();
        try {
            CommonMessages.writeMiniHeader(b, m.type(), m.bodySize());
            b.writeBytes(m.head(), m.head().readerIndex(), m.head().readableBytes());
            if (m.payload() != null) {
                b.writeBytes(m.payload(), m.payload().readerIndex(), m.payload().readableBytes());
            }
            return bytes(b.retain());
        } finally {
            b.release();
            m.release();
        }
    }

    @Test
    void linkReplyDisplayAndCursorMatchVectors() {
        byte[] key = Vectors.bytes("example_rsa_spki_public_key");
        int[] common = Caps.words(SpiceMessages.COMMON_CAP_PROTOCOL_AUTH_SELECTION, SpiceMessages.COMMON_CAP_AUTH_SPICE,
                SpiceMessages.COMMON_CAP_MINI_HEADER);
        assertThat(common).containsExactly(0x0b);
        assertThat(bytes(LinkCodec.reply(ALLOC, key, common, Caps.words(1, 4, 12))))
                .isEqualTo(Vectors.bytes("s2c_link_reply_display"));
        assertThat(bytes(LinkCodec.reply(ALLOC, key, common, Caps.words())))
                .isEqualTo(Vectors.bytes("s2c_link_reply_cursor"));
    }

    @Test
    void linkErrorAndResultsMatchVectors() {
        assertThat(bytes(LinkCodec.error(ALLOC, SpiceLinkError.VERSION_MISMATCH)))
                .isEqualTo(Vectors.bytes("s2c_link_error_version_mismatch"));
        assertThat(bytes(LinkCodec.result(ALLOC, SpiceLinkError.OK))).isEqualTo(Vectors.bytes("s2c_link_result_ok"));
        assertThat(bytes(LinkCodec.result(ALLOC, SpiceLinkError.PERMISSION_DENIED)))
                .isEqualTo(Vectors.bytes("s2c_link_result_permission_denied"));
    }

    @Test
    void commonMessagesMatchVectors() {
        assertThat(mini(CommonMessages.setAck(ALLOC, 1, 20))).isEqualTo(Vectors.bytes("s2c_set_ack"));
        assertThat(mini(CommonMessages.ping(ALLOC, 1, 0x0102030405060708L))).isEqualTo(Vectors.bytes("s2c_ping"));
        assertThat(mini(CommonMessages.notify(ALLOC, 0, SpiceMessages.NOTIFY_SEVERITY_WARN,
                SpiceMessages.NOTIFY_VISIBILITY_HIGH, "hi"))).isEqualTo(Vectors.bytes("s2c_notify_warn"));

        OutgoingMessage setAck = CommonMessages.setAck(ALLOC, 1, 20);
        ByteBuf full = ALLOC.buffer();
        CommonMessages.writeFullHeader(full, 1, setAck.type(), setAck.bodySize());
        full.writeBytes(setAck.head());
        setAck.release();
        assertThat(bytes(full)).isEqualTo(Vectors.bytes("s2c_full_set_ack"));
    }

    @Test
    void mainMessagesMatchVectors() {
        assertThat(mini(MainChannel.init(ALLOC, 0x12345678, SpiceMessages.MOUSE_MODE_SERVER, SpiceMessages.MOUSE_MODE_SERVER,
                0x00a00000))).isEqualTo(Vectors.bytes("s2c_main_init"));
        assertThat(mini(MainChannel.mouseModeMessage(ALLOC, 3, 2))).isEqualTo(Vectors.bytes("s2c_mouse_mode"));
    }

    @Test
    void clientLinkMessagesParse() throws Exception {
        byte[] gtk = Vectors.bytes("c2s_link_main_spicegtk");
        ByteBuf b = Unpooled.wrappedBuffer(gtk, 16, gtk.length - 16);
        LinkMess m = LinkMess.parse(b, gtk.length - 16);
        assertThat(m.connectionId()).isZero();
        assertThat(m.channelType()).isEqualTo(SpiceChannelType.MAIN);
        assertThat(m.hasCommonCap(SpiceMessages.COMMON_CAP_PROTOCOL_AUTH_SELECTION)).isTrue();
        assertThat(m.miniHeader()).isTrue();
        assertThat(m.hasChannelCap(SpiceMessages.MAIN_CAP_AGENT_CONNECTED_TOKENS)).isTrue();

        byte[] html5 = Vectors.bytes("c2s_link_display_html5");
        LinkMess d = LinkMess.parse(Unpooled.wrappedBuffer(html5, 16, html5.length - 16), html5.length - 16);
        assertThat(d.connectionId()).isEqualTo(0x12345678L);
        assertThat(d.channelType()).isEqualTo(SpiceChannelType.DISPLAY);
        assertThat(d.channelId()).isZero();
        assertThat(d.hasChannelCap(8)).isTrue(); // MULTI_CODEC
        assertThat(d.hasChannelCap(1)).isFalse(); // no MONITORS_CONFIG
    }

    @Test
    void linkMessageWithCapsOutsideIsInvalidData() {
        byte[] gtk = Vectors.bytes("c2s_link_main_spicegtk").clone();
        gtk[16 + 6] = 100; // num_common_caps = 100 words: beyond the message
        assertThatThrownBy(() -> LinkMess.parse(Unpooled.wrappedBuffer(gtk, 16, gtk.length - 16), gtk.length - 16))
                .isInstanceOf(LinkMess.Invalid.class)
                .satisfies(e -> assertThat(((LinkMess.Invalid) e).linkError()).isEqualTo(SpiceLinkError.INVALID_DATA));
    }

    static PrivateKey exampleKey() throws Exception {
        return KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(Vectors.bytes("example_rsa_pkcs8_private_key")));
    }

    @Test
    void ticketVectorsDecryptWithTheExampleKey() throws Exception {
        PrivateKey key = exampleKey();
        assertThat(Rsa.decryptTicket(key, Vectors.bytes("c2s_ticket_s3cret")))
                .isEqualTo(new byte[] {0x73, 0x33, 0x63, 0x72, 0x65, 0x74, 0});
        assertThat(Rsa.decryptTicket(key, Vectors.bytes("c2s_ticket_empty_password"))).isEqualTo(new byte[] {0});
    }

    @Test
    void ticketVerifierFollowsTheReferenceOrder() throws Exception {
        PrivateKey key = exampleKey();
        byte[] ticket = Vectors.bytes("c2s_ticket_s3cret");
        Clock now = Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC);
        byte[] pw = "s3cret".getBytes();
        assertThat(new TicketVerifier(pw, null, false, now).check(key, ticket)).isEqualTo(TicketVerifier.Result.OK);
        assertThat(new TicketVerifier("s3cret2".getBytes(), null, false, now).check(key, ticket))
                .isEqualTo(TicketVerifier.Result.WRONG_PASSWORD);
        assertThat(new TicketVerifier(pw, Instant.parse("2025-12-31T23:59:59Z"), false, now).check(key, ticket))
                .isEqualTo(TicketVerifier.Result.EXPIRED);
        assertThat(new TicketVerifier(pw, Instant.parse("2026-01-01T00:00:01Z"), false, now).check(key, ticket))
                .isEqualTo(TicketVerifier.Result.OK);
        assertThat(new TicketVerifier(null, null, false, now).check(key, ticket)).isEqualTo(TicketVerifier.Result.NO_PASSWORD);
        assertThat(new TicketVerifier(null, null, true, now).check(key, ticket)).isEqualTo(TicketVerifier.Result.OK);
        byte[] broken = ticket.clone();
        broken[5] ^= 1;
        assertThat(new TicketVerifier(null, null, true, now).check(key, broken)).isEqualTo(TicketVerifier.Result.UNDECRYPTABLE);
        assertThat(new TicketVerifier(null, null, true, now).check(key, Arrays.copyOf(ticket, 127)))
                .isEqualTo(TicketVerifier.Result.UNDECRYPTABLE);
    }

    @Test
    void generatedKeysAre162ByteSpkiAsTheExample() {
        byte[] example = Vectors.bytes("example_rsa_spki_public_key");
        byte[] key = Rsa.generate().getPublic().getEncoded();
        assertThat(key).hasSize(162);
        assertThat(Arrays.copyOfRange(key, 0, 29)).isEqualTo(Arrays.copyOfRange(example, 0, 29));
        assertThat(Arrays.copyOfRange(key, 157, 162)).isEqualTo(Arrays.copyOfRange(example, 157, 162));
    }

    @Test
    void passwordLongerThan60BytesIsRefused() {
        assertThatThrownBy(() -> AuthConfig.password("x".repeat(61))).isInstanceOf(IllegalArgumentException.class);
        assertThat(AuthConfig.password("x".repeat(60))).isInstanceOf(AuthConfig.Password.class);
    }
}
