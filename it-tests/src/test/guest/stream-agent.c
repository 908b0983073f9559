/*
 * stream-agent: the guest side of the SPICE stream-device protocol, for spicestream's end-to-end tests.
 *
 * It plays pre-encoded frames from stream files (format below) into the virtio-serial port
 * org.spice-space.stream.0 the way spice-streaming-agent would, and is driven through the serial
 * console: commands on stdin, one "AGENT ..." status line per event on stdout (see usage()).
 *
 * Stream file (little endian): "SSTR", u32 version=1, u32 codec, u32 width, u32 height, u32 fps,
 * u32 frame_count, u32 reserved; then per frame: u32 size, u32 flags (bit 0 = key frame), size bytes.
 *
 * Built with `gcc -static` at test time; the test guest has nothing but busybox besides this.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/input.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum {
    MSG_CAPABILITIES = 1,
    MSG_FORMAT = 2,
    MSG_DATA = 3,
    MSG_START_STOP = 4,
    MSG_NOTIFY_ERROR = 5,
    MSG_CURSOR_SET = 6,
    MSG_CURSOR_MOVE = 7,
};

#define HEADER_SIZE 8
/* The reference agent refuses host messages above 4 KiB; so do we. */
#define MAX_HOST_PAYLOAD 4096
/* The driver moves at most 32 KiB per write() anyway. */
#define WRITE_CHUNK 32768
#define MAX_STREAMS 16
#define MAX_INPUTS 16
#define CURSOR_SIZE 16

struct stream {
    const char *path;
    uint32_t codec, width, height, fps, count;
    const uint8_t **frame;
    uint32_t *frame_size;
    uint8_t *key;
};

static struct stream streams[MAX_STREAMS];
static int stream_count;

static const char *port_name = "org.spice-space.stream.0";
static int port_fd = -1;
static char port_path[300];
static int64_t reopen_at;   /* when the port is closed: time to (re)open it; -1 = stay closed */
static int64_t next_port_scan;
static int waiting_logged;
static int host_up;
/* A requested close waits for the message being written, so the host never sees a torn one. */
static int close_pending;
static int64_t close_deadline;
static int64_t close_then_reopen_ms;
#define CLOSE_FLUSH_TIMEOUT_MS 1000

/* protocol state */
static int caps_received;
static int streaming;        /* START_STOP with >= 1 codec received and a FORMAT sent */
static uint8_t codecs[256];
static int codec_count;
static int current = -1;     /* index into streams[] */
static uint32_t next_frame;
static uint64_t frames_sent;
static int64_t next_frame_at;
/* Frame times are counted from pace_start so that 1000/fps rounding does not add up. */
static int64_t pace_start;
static uint64_t pace_count;
static int paused;
static uint32_t fps_override;
static int renegotiate;      /* -r: restart when START_STOP no longer lists the current codec */

/* cursor */
static int send_cursor_shape = 1;
static int cursor_interval_ms = 250;
static int64_t next_cursor_at;
static int32_t cursor_x, cursor_y, cursor_dx = 7, cursor_dy = 5;

/* host -> guest parsing */
static uint8_t in_buf[HEADER_SIZE + MAX_HOST_PAYLOAD];
static size_t in_len;
static uint32_t skip_bytes;  /* payload of an oversized message still to throw away */

/* guest -> host bytes not yet accepted by the port; whole messages only, so never torn */
static uint8_t *out_buf;
static size_t out_len, out_off, out_cap;

/* keyboard */
static int input_fd[MAX_INPUTS];
static int input_num[MAX_INPUTS];
static int input_count;
static int use_input = 1;
static int64_t next_input_scan;

static char cmd_buf[8192];
static size_t cmd_len;

static void say(const char *fmt, ...)
{
    va_list ap;
    fputs("AGENT ", stdout);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint32_t get_u32(const uint8_t *p)
{
    return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_u16(uint8_t *p, uint16_t v)
{
    p[0] = v;
    p[1] = v >> 8;
}

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = v;
    p[1] = v >> 8;
    p[2] = v >> 16;
    p[3] = v >> 24;
}

static void die(const char *what)
{
    say("fatal %s: %s", what, strerror(errno));
    exit(1);
}

/* ---------------------------------------------------------------- stream files */

static int load_stream(const char *path, struct stream *s)
{
    int fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        say("bad-stream %s %s", path, strerror(errno));
        return -1;
    }
    if (st.st_size < 32) {
        say("bad-stream %s too-short", path);
        close(fd);
        return -1;
    }
    const uint8_t *base = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (base == MAP_FAILED) {
        say("bad-stream %s mmap %s", path, strerror(errno));
        return -1;
    }
    if (memcmp(base, "SSTR", 4) != 0 || get_u32(base + 4) != 1) {
        say("bad-stream %s magic", path);
        return -1;
    }
    s->path = path;
    s->codec = get_u32(base + 8);
    s->width = get_u32(base + 12);
    s->height = get_u32(base + 16);
    s->fps = get_u32(base + 20);
    s->count = get_u32(base + 24);
    if (s->count == 0 || s->fps == 0) {
        say("bad-stream %s empty", path);
        return -1;
    }
    s->frame = calloc(s->count, sizeof *s->frame);
    s->frame_size = calloc(s->count, sizeof *s->frame_size);
    s->key = calloc(s->count, 1);
    if (!s->frame || !s->frame_size || !s->key)
        die("calloc");
    size_t off = 32;
    for (uint32_t i = 0; i < s->count; i++) {
        if (off + 8 > (size_t)st.st_size || get_u32(base + off) > (size_t)st.st_size - off - 8) {
            say("bad-stream %s truncated-at-frame %u", path, i);
            return -1;
        }
        s->frame_size[i] = get_u32(base + off);
        s->key[i] = get_u32(base + off + 4) & 1;
        s->frame[i] = base + off + 8;
        off += 8 + s->frame_size[i];
    }
    say("stream %d %s codec=%u %ux%u fps=%u frames=%u", stream_count, path, s->codec, s->width,
        s->height, s->fps, s->count);
    return 0;
}

/* ---------------------------------------------------------------- output queue */

static void queue_message(uint16_t type, const void *payload, uint32_t size)
{
    if (out_off == out_len)
        out_off = out_len = 0;
    if (out_len + HEADER_SIZE + size > out_cap) {
        out_cap = (out_len + HEADER_SIZE + size) * 2;
        out_buf = realloc(out_buf, out_cap);
        if (!out_buf)
            die("realloc");
    }
    uint8_t *h = out_buf + out_len;
    h[0] = 1; /* protocol version */
    h[1] = 0;
    put_u16(h + 2, type);
    put_u32(h + 4, size);
    if (size)
        memcpy(h + HEADER_SIZE, payload, size);
    out_len += HEADER_SIZE + size;
}

static void queue_raw(const uint8_t *bytes, size_t n)
{
    if (out_off == out_len)
        out_off = out_len = 0;
    if (out_len + n > out_cap) {
        out_cap = (out_len + n) * 2 + 64;
        out_buf = realloc(out_buf, out_cap);
        if (!out_buf)
            die("realloc");
    }
    memcpy(out_buf + out_len, bytes, n);
    out_len += n;
}

static void flush_output(void)
{
    while (out_off < out_len) {
        size_t n = out_len - out_off;
        if (n > WRITE_CHUNK)
            n = WRITE_CHUNK;
        ssize_t w = write(port_fd, out_buf + out_off, n);
        if (w < 0) {
            if (errno != EAGAIN && errno != EINTR)
                say("write-error %s", strerror(errno));
            return;
        }
        out_off += w;
    }
}

/* ---------------------------------------------------------------- protocol */

static void restart_pacing(void)
{
    pace_start = next_frame_at = now_ms();
    pace_count = 0;
}

static int stream_w(void) { return current >= 0 ? (int)streams[current].width : 320; }
static int stream_h(void) { return current >= 0 ? (int)streams[current].height : 240; }

static void send_cursor_set(void)
{
    /* A white arrow with a black outline; pixels are premultiplied BGRA like XFixes gives. */
    uint8_t msg[12 + CURSOR_SIZE * CURSOR_SIZE * 4];
    memset(msg, 0, sizeof msg);
    put_u16(msg, CURSOR_SIZE);
    put_u16(msg + 2, CURSOR_SIZE);
    msg[8] = 0; /* SPICE_CURSOR_TYPE_ALPHA */
    for (int y = 0; y < CURSOR_SIZE; y++) {
        for (int x = 0; x < CURSOR_SIZE; x++) {
            uint8_t *px = msg + 12 + (y * CURSOR_SIZE + x) * 4;
            int inside = x <= y && x + y / 2 < CURSOR_SIZE - 2;
            int edge = inside && (x == 0 || x == y || x + y / 2 == CURSOR_SIZE - 3);
            if (inside) {
                uint8_t v = edge ? 0 : 255;
                px[0] = px[1] = px[2] = v;
                px[3] = 255;
            }
        }
    }
    queue_message(MSG_CURSOR_SET, msg, sizeof msg);
    say("cursor-set %dx%d", CURSOR_SIZE, CURSOR_SIZE);
}

static void send_cursor_move(void)
{
    cursor_x += cursor_dx;
    cursor_y += cursor_dy;
    if (cursor_x < 0 || cursor_x >= stream_w()) {
        cursor_dx = -cursor_dx;
        cursor_x += 2 * cursor_dx;
    }
    if (cursor_y < 0 || cursor_y >= stream_h()) {
        cursor_dy = -cursor_dy;
        cursor_y += 2 * cursor_dy;
    }
    uint8_t msg[8];
    put_u32(msg, (uint32_t)cursor_x);
    put_u32(msg + 4, (uint32_t)cursor_y);
    queue_message(MSG_CURSOR_MOVE, msg, sizeof msg);
}

static void send_format(int idx)
{
    struct stream *s = &streams[idx];
    uint8_t msg[12] = {0};
    put_u32(msg, s->width);
    put_u32(msg + 4, s->height);
    msg[8] = s->codec;
    queue_message(MSG_FORMAT, msg, sizeof msg);
    current = idx;
    next_frame = 0;
    restart_pacing();
    streaming = 1;
    say("format %ux%u codec=%u stream=%d", s->width, s->height, s->codec, idx);
}

static int codec_listed(uint32_t codec)
{
    for (int i = 0; i < codec_count; i++)
        if (codecs[i] == codec)
            return 1;
    return 0;
}

/* Streams are tried in command-line order: the first one whose codec the host offers wins. */
static int pick_stream(void)
{
    for (int i = 0; i < stream_count; i++)
        if (codec_listed(streams[i].codec))
            return i;
    return -1;
}

static void start_best_stream(void)
{
    int idx = pick_stream();
    if (idx < 0) {
        streaming = 0;
        say("no-matching-stream");
        return;
    }
    send_format(idx);
}

static void reset_protocol(void)
{
    caps_received = 0;
    streaming = 0;
    codec_count = 0;
    in_len = 0;
    skip_bytes = 0;
    out_len = out_off = 0;
}

static void handle_message(uint16_t type, const uint8_t *p, uint32_t size)
{
    char text[3 * 64 + 1];
    switch (type) {
    case MSG_CAPABILITIES: {
        size_t n = 0;
        for (uint32_t i = 0; i < size && i < 64; i++)
            n += snprintf(text + n, sizeof text - n, "%02x", p[i]);
        text[n] = 0;
        /* The host sends CAPABILITIES only when it (re)starts talking to us: whatever we were
         * streaming belongs to the previous session. */
        streaming = 0;
        caps_received = 1;
        say("caps %s", size ? text : "-");
        uint8_t none = 0;
        queue_message(MSG_CAPABILITIES, &none, 1);
        if (send_cursor_shape)
            send_cursor_set();
        next_cursor_at = now_ms() + cursor_interval_ms;
        break;
    }
    case MSG_START_STOP: {
        if (size < 1 || p[0] != size - 1) {
            say("bad-start-stop size=%u", size);
            break;
        }
        codec_count = p[0];
        memcpy(codecs, p + 1, codec_count);
        if (codec_count == 0) {
            if (streaming)
                say("stop frames=%llu", (unsigned long long)frames_sent);
            else
                say("stop");
            streaming = 0;
            break;
        }
        size_t n = 0;
        for (int i = 0; i < codec_count; i++)
            n += snprintf(text + n, sizeof text - n, "%s%u", i ? "," : "", codecs[i]);
        say("start codecs=%s", text);
        /* Like spice-streaming-agent: an already running stream just keeps going. */
        if (!streaming || (renegotiate && !codec_listed(streams[current].codec)))
            start_best_stream();
        break;
    }
    case MSG_NOTIFY_ERROR: {
        char msg[1025];
        uint32_t n = 0;
        if (size >= 4) {
            for (uint32_t i = 4; i < size && n < sizeof msg - 1 && p[i]; i++)
                msg[n++] = isprint(p[i]) ? p[i] : '?';
        }
        msg[n] = 0;
        say("notify-error %s", msg);
        break;
    }
    default:
        say("unexpected-message type=%u size=%u", type, size);
        break;
    }
}

static void parse_input(void)
{
    size_t pos = 0;
    for (;;) {
        if (skip_bytes) {
            uint32_t n = in_len - pos < skip_bytes ? in_len - pos : skip_bytes;
            skip_bytes -= n;
            pos += n;
            if (skip_bytes)
                break;
        }
        if (in_len - pos < HEADER_SIZE)
            break;
        const uint8_t *h = in_buf + pos;
        uint16_t type = h[2] | h[3] << 8;
        uint32_t size = get_u32(h + 4);
        if (h[0] != 1) {
            say("bad-header version=%u type=%u size=%u", h[0], type, size);
            in_len = 0;
            return;
        }
        if (size > MAX_HOST_PAYLOAD) {
            say("oversized-message type=%u size=%u", type, size);
            pos += HEADER_SIZE;
            skip_bytes = size;
            continue;
        }
        if (in_len - pos < HEADER_SIZE + size)
            break;
        handle_message(type, h + HEADER_SIZE, size);
        pos += HEADER_SIZE + size;
    }
    memmove(in_buf, in_buf + pos, in_len - pos);
    in_len -= pos;
}

/* ---------------------------------------------------------------- the port */

static int find_port(char *dev, size_t devlen)
{
    DIR *d = opendir("/sys/class/virtio-ports");
    struct dirent *e;
    int found = 0;
    if (!d)
        return 0;
    while (!found && (e = readdir(d))) {
        char path[300], name[128];
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "/sys/class/virtio-ports/%s/name", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        if (fgets(name, sizeof name, f)) {
            name[strcspn(name, "\n")] = 0;
            if (strcmp(name, port_name) == 0) {
                snprintf(dev, devlen, "/dev/%s", e->d_name);
                found = 1;
            }
        }
        fclose(f);
    }
    closedir(d);
    return found;
}

static void open_port(void)
{
    if (!port_path[0] && !find_port(port_path, sizeof port_path)) {
        if (!waiting_logged)
            say("waiting-for-port %s", port_name);
        waiting_logged = 1;
        next_port_scan = now_ms() + 100;
        return;
    }
    port_fd = open(port_path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (port_fd < 0) {
        say("port-open-error %s %s", port_path, strerror(errno));
        next_port_scan = now_ms() + 500;
        return;
    }
    host_up = 0;
    reset_protocol();
    say("port-open %s", port_path);
}

static void close_port(int64_t reopen_after_ms)
{
    if (port_fd >= 0) {
        close(port_fd);
        port_fd = -1;
        say("port-closed");
    }
    host_up = 0;
    reset_protocol();
    reopen_at = reopen_after_ms < 0 ? -1 : now_ms() + reopen_after_ms;
}

static void request_close(int64_t reopen_after_ms)
{
    if (port_fd < 0) {
        reopen_at = reopen_after_ms < 0 ? -1 : now_ms() + reopen_after_ms;
        return;
    }
    close_pending = 1;
    close_deadline = now_ms() + CLOSE_FLUSH_TIMEOUT_MS;
    close_then_reopen_ms = reopen_after_ms;
}

static void host_down(void)
{
    if (host_up)
        say("host-disconnected");
    host_up = 0;
    reset_protocol();
}

/* Returns 0 when the host end went away (EOF). */
static int read_port(void)
{
    for (;;) {
        ssize_t n = read(port_fd, in_buf + in_len, sizeof in_buf - in_len);
        if (n > 0) {
            in_len += n;
            parse_input();
            continue;
        }
        if (n == 0)
            return 0;
        if (errno == EAGAIN || errno == EINTR)
            return 1;
        say("read-error %s", strerror(errno));
        return 0;
    }
}

/*
 * While the host end is not connected the driver reports POLLHUP (and reads return EOF) at once and
 * for as long as it stays away, so the port cannot sit in the main poll set then: probe it instead.
 */
static void probe_host(void)
{
    struct pollfd p = {.fd = port_fd, .events = POLLIN};
    if (poll(&p, 1, 0) < 0 || (p.revents & (POLLHUP | POLLERR | POLLNVAL)))
        return;
    host_up = 1;
    say("host-connected");
}

/* ---------------------------------------------------------------- keyboard */

static void scan_inputs(void)
{
    for (int num = 0; num < 32 && input_count < MAX_INPUTS; num++) {
        int known = 0;
        for (int i = 0; i < input_count; i++)
            known |= input_num[i] == num;
        if (known)
            continue;
        char path[32], name[128] = "?";
        snprintf(path, sizeof path, "/dev/input/event%d", num);
        int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
            continue;
        ioctl(fd, EVIOCGNAME(sizeof name), name);
        input_fd[input_count] = fd;
        input_num[input_count++] = num;
        say("input event%d %s", num, name);
    }
}

static void read_input(int fd)
{
    struct input_event ev[16];
    ssize_t n;
    while ((n = read(fd, ev, sizeof ev)) > 0) {
        for (size_t i = 0; i < n / sizeof ev[0]; i++)
            if (ev[i].type == EV_KEY)
                say("key %u %d", ev[i].code, ev[i].value);
    }
}

/* ---------------------------------------------------------------- console commands */

static void status(void)
{
    say("status port=%s host=%s caps=%d streaming=%d stream=%d codec=%u frames=%llu next=%u paused=%d",
        port_fd >= 0 ? "open" : "closed", host_up ? "up" : "down", caps_received, streaming, current,
        current >= 0 ? streams[current].codec : 0, (unsigned long long)frames_sent, next_frame, paused);
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static void command(char *line)
{
    char *arg = line + strcspn(line, " ");
    if (*arg)
        *arg++ = 0;
    while (*arg == ' ')
        arg++;

    if (!strcmp(line, "quit")) {
        say("quit");
        exit(0);
    } else if (!strcmp(line, "reopen")) {
        request_close(*arg ? atoi(arg) : 200);
    } else if (!strcmp(line, "close")) {
        request_close(-1);
    } else if (!strcmp(line, "open")) {
        if (port_fd < 0)
            reopen_at = 0;
    } else if (!strcmp(line, "status")) {
        status();
    } else if (!strcmp(line, "send")) {
        /* Raw bytes for the host, e.g. a malformed message: "send 01000200 08000000 ..." */
        uint8_t bytes[4096];
        size_t n = 0;
        for (char *c = arg; *c && n < sizeof bytes; c++) {
            if (*c == ' ')
                continue;
            int hi = hexval(c[0]), lo = c[1] ? hexval(c[1]) : -1;
            if (hi < 0 || lo < 0) {
                say("bad-command send: not hex");
                return;
            }
            bytes[n++] = hi << 4 | lo;
            c++;
        }
        queue_raw(bytes, n);
        say("sent %zu", n);
    } else if (!strcmp(line, "stream")) {
        int idx = atoi(arg);
        if (idx < 0 || idx >= stream_count) {
            say("bad-command stream %d", idx);
            return;
        }
        if (streaming)
            send_format(idx);
        else
            current = idx;
    } else if (!strcmp(line, "fps")) {
        fps_override = atoi(arg);
        restart_pacing();
        say("fps %u", fps_override);
    } else if (!strcmp(line, "cursor")) {
        cursor_interval_ms = atoi(arg);
        next_cursor_at = now_ms() + cursor_interval_ms;
        say("cursor %d", cursor_interval_ms);
    } else if (!strcmp(line, "cursor-set")) {
        send_cursor_set();
    } else if (!strcmp(line, "pause")) {
        paused = 1;
        say("paused");
    } else if (!strcmp(line, "resume")) {
        paused = 0;
        restart_pacing();
        say("resumed");
    } else if (!strcmp(line, "seek")) {
        if (current >= 0)
            next_frame = (uint32_t)atoi(arg) % streams[current].count;
        say("seek %u", next_frame);
    } else if (line[0]) {
        say("bad-command %s", line);
    }
}

static void read_console(void)
{
    ssize_t n = read(STDIN_FILENO, cmd_buf + cmd_len, sizeof cmd_buf - 1 - cmd_len);
    if (n <= 0)
        return;
    cmd_len += n;
    char *nl;
    while ((nl = memchr(cmd_buf, '\n', cmd_len)) || (nl = memchr(cmd_buf, '\r', cmd_len))) {
        *nl = 0;
        size_t used = nl - cmd_buf + 1;
        char *line = cmd_buf;
        line[strcspn(line, "\r")] = 0;
        command(line);
        memmove(cmd_buf, cmd_buf + used, cmd_len - used);
        cmd_len -= used;
    }
    if (cmd_len == sizeof cmd_buf - 1)
        cmd_len = 0;
}

/* ---------------------------------------------------------------- main loop */

static void send_due_frame(int64_t now)
{
    struct stream *s = &streams[current];
    uint32_t fps = fps_override ? fps_override : s->fps;
    /* Frames wait for the previous one to be taken: a slow host delays frames instead of us
     * buffering without bound. */
    if (out_off != out_len || now < next_frame_at)
        return;
    queue_message(MSG_DATA, s->frame[next_frame], s->frame_size[next_frame]);
    next_frame = (next_frame + 1) % s->count;
    frames_sent++;
    pace_count++;
    next_frame_at = pace_start + (int64_t)(pace_count * 1000 / fps);
    /* Late (slow host, busy emulator): carry on from now rather than catch up in a burst. */
    if (next_frame_at < now)
        restart_pacing();
    if (frames_sent == 1 || frames_sent % fps == 0)
        say("frames %llu", (unsigned long long)frames_sent);
}

static void usage(void)
{
    fprintf(stderr,
            "usage: stream-agent [-p PORT_NAME] [-f FPS] [-m CURSOR_MOVE_MS] [-C] [-r] [-I] STREAM_FILE...\n"
            "  -C  no CURSOR_SET; -m 0 no CURSOR_MOVE; -r restart when the current codec is withdrawn;\n"
            "  -I  do not report keys from /dev/input/event*\n"
            "console commands: quit, reopen [MS], close, open, status, send HEX, stream N, fps N,\n"
            "  cursor MS, cursor-set, pause, resume, seek N\n");
    exit(2);
}

int main(int argc, char **argv)
{
    int opt;
    while ((opt = getopt(argc, argv, "p:f:m:CrI")) != -1) {
        switch (opt) {
        case 'p': port_name = optarg; break;
        case 'f': fps_override = atoi(optarg); break;
        case 'm': cursor_interval_ms = atoi(optarg); break;
        case 'C': send_cursor_shape = 0; break;
        case 'r': renegotiate = 1; break;
        case 'I': use_input = 0; break;
        default: usage();
        }
    }
    for (int i = optind; i < argc && stream_count < MAX_STREAMS; i++)
        if (load_stream(argv[i], &streams[stream_count]) == 0)
            stream_count++;
    if (stream_count > 0)
        current = 0;
    cursor_x = stream_w() / 2;
    cursor_y = stream_h() / 2;
    fcntl(STDIN_FILENO, F_SETFL, fcntl(STDIN_FILENO, F_GETFL) | O_NONBLOCK);
    say("ready streams=%d", stream_count);

    for (;;) {
        int64_t now = now_ms();
        if (close_pending && (out_off == out_len || !host_up || now >= close_deadline)) {
            close_pending = 0;
            close_port(close_then_reopen_ms);
        }
        if (port_fd < 0 && reopen_at >= 0 && now >= reopen_at && now >= next_port_scan)
            open_port();
        if (port_fd >= 0 && !host_up)
            probe_host();
        if (use_input && now >= next_input_scan) {
            scan_inputs();
            next_input_scan = now + 1000;
        }
        if (port_fd >= 0 && host_up && !close_pending) {
            if (caps_received && cursor_interval_ms > 0 && now >= next_cursor_at) {
                send_cursor_move();
                next_cursor_at = now + cursor_interval_ms;
            }
            if (streaming && !paused)
                send_due_frame(now);
        }

        struct pollfd pfd[2 + MAX_INPUTS];
        int n = 0, port_slot = -1;
        pfd[n++] = (struct pollfd){.fd = STDIN_FILENO, .events = POLLIN};
        if (port_fd >= 0 && host_up) {
            port_slot = n;
            pfd[n++] = (struct pollfd){.fd = port_fd, .events = POLLIN | (out_off < out_len ? POLLOUT : 0)};
        }
        int first_input = n;
        for (int i = 0; i < input_count; i++)
            pfd[n++] = (struct pollfd){.fd = input_fd[i], .events = POLLIN};

        int64_t wake = now + 1000;
        if (port_fd < 0 && reopen_at >= 0)
            wake = reopen_at > next_port_scan ? reopen_at : next_port_scan;
        if (port_fd >= 0 && !host_up)
            wake = now + 20;
        if (close_pending && close_deadline < wake)
            wake = close_deadline;
        if (port_slot >= 0 && caps_received && cursor_interval_ms > 0 && next_cursor_at < wake)
            wake = next_cursor_at;
        if (port_slot >= 0 && streaming && !paused && out_off == out_len && next_frame_at < wake)
            wake = next_frame_at;
        if (use_input && next_input_scan < wake)
            wake = next_input_scan;
        int timeout = wake > now ? (int)(wake - now) : 0;

        if (poll(pfd, n, timeout) < 0) {
            if (errno == EINTR)
                continue;
            die("poll");
        }
        if (pfd[0].revents & POLLIN)
            read_console();
        if (port_slot >= 0 && port_fd >= 0) {
            short re = pfd[port_slot].revents;
            if (re & (POLLIN | POLLHUP | POLLERR)) {
                if (!read_port() || (re & POLLHUP))
                    host_down();
            }
            if (host_up && (re & POLLOUT))
                flush_output();
        }
        for (int i = 0; i < input_count; i++)
            if (pfd[first_input + i].revents & POLLIN)
                read_input(input_fd[i]);
    }
}
