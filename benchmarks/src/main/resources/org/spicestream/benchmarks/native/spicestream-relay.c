/*
 * The native raw-relay baseline of the benchmarks: the guest's byte stream copied from the guest's Unix socket
 * to TCP readers with the simplest loop there is, nothing parsed. It is the machine's limit for the data path
 * of docs/performance.md, not a server: one thread, blocking sockets, a slow reader blocks everyone.
 *
 *   spicestream-relay rw|splice GUEST_SOCKET PORT READERS
 *
 * Connects to GUEST_SOCKET (the load generator listens there as QEMU's chardev does; retried for 20 s),
 * listens on 127.0.0.1:PORT, accepts READERS readers, sends the guest CAPABILITIES and START_STOP(MJPEG) once,
 * then relays until the guest or a reader goes away:
 *   rw      read() up to 64 KiB into one buffer, write() it to each reader in turn;
 *   splice  splice() up to 64 KiB from the guest socket into a pipe, tee() it into a second pipe for every
 *           reader but the last, splice() the pipes into the readers (no copy through user space).
 * Built by the benchmark runner with the machine's gcc; never committed as a binary.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* Bytes one read from the guest may take: the server's transport read size. */
#define READ_SIZE (64 * 1024)
#define MAX_READERS 1024
#define CONNECT_TIMEOUT_MS 20000
#define CONNECT_RETRY_MS 20
/* Guest protocol: header = version (1), padding (1), type (u16 LE), size (u32 LE). */
#define PROTOCOL_VERSION 1
#define TYPE_CAPABILITIES 1
#define TYPE_START_STOP 4
#define CODEC_MJPEG 1

static void die(const char *what)
{
    fprintf(stderr, "spicestream-relay: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void on_term(int sig)
{
    (void) sig;
    _exit(0);
}

static void write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            die("write");
        }
        p += n;
        len -= (size_t) n;
    }
}

static int connect_guest(const char *path)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof(addr.sun_path)) {
        errno = ENAMETOOLONG;
        die(path);
    }
    strcpy(addr.sun_path, path);
    for (int waited = 0;; waited += CONNECT_RETRY_MS) {
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            die("socket");
        }
        if (connect(fd, (struct sockaddr *) &addr, sizeof(addr)) == 0) {
            return fd;
        }
        close(fd);
        if (waited >= CONNECT_TIMEOUT_MS) {
            die(path);
        }
        struct timespec ts = { 0, CONNECT_RETRY_MS * 1000000L };
        nanosleep(&ts, NULL);
    }
}

static void put_header(uint8_t *h, int type, uint32_t size)
{
    h[0] = PROTOCOL_VERSION;
    h[1] = 0;
    h[2] = (uint8_t) type;
    h[3] = (uint8_t) (type >> 8);
    h[4] = (uint8_t) size;
    h[5] = (uint8_t) (size >> 8);
    h[6] = (uint8_t) (size >> 16);
    h[7] = (uint8_t) (size >> 24);
}

static void start_guest(int guest)
{
    uint8_t msg[8 + 8 + 2];
    put_header(msg, TYPE_CAPABILITIES, 0);
    put_header(msg + 8, TYPE_START_STOP, 2);
    msg[16] = 1;           /* one codec */
    msg[17] = CODEC_MJPEG;
    write_all(guest, msg, sizeof(msg));
}

static void relay_rw(int guest, const int *readers, int n)
{
    static char buf[READ_SIZE];
    for (;;) {
        ssize_t got = read(guest, buf, sizeof(buf));
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got <= 0) {
            return;
        }
        for (int i = 0; i < n; i++) {
            write_all(readers[i], buf, (size_t) got);
        }
    }
}

static void splice_all(int from, int to, size_t len)
{
    while (len > 0) {
        ssize_t n = splice(from, NULL, to, NULL, len, SPLICE_F_MOVE);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            die("splice to reader");
        }
        if (n == 0) {
            errno = EPIPE;
            die("splice to reader");
        }
        len -= (size_t) n;
    }
}

static void relay_splice(int guest, const int *readers, int n)
{
    int in[2];
    int copy[2];
    if (pipe2(in, O_CLOEXEC) < 0 || pipe2(copy, O_CLOEXEC) < 0) {
        die("pipe");
    }
    /* Both pipes hold one read, so tee() copies all of it into the empty copy pipe at once. */
    if (fcntl(in[1], F_SETPIPE_SZ, READ_SIZE) < 0 || fcntl(copy[1], F_SETPIPE_SZ, READ_SIZE) < 0) {
        die("F_SETPIPE_SZ");
    }
    for (;;) {
        ssize_t got = splice(guest, NULL, in[1], NULL, READ_SIZE, SPLICE_F_MOVE);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got <= 0) {
            return;
        }
        for (int i = 0; i < n - 1; i++) {
            ssize_t t;
            do {
                t = tee(in[0], copy[1], (size_t) got, 0);
            } while (t < 0 && errno == EINTR);
            if (t != got) {
                errno = t < 0 ? errno : EIO;
                die("tee");
            }
            splice_all(copy[0], readers[i], (size_t) got);
        }
        splice_all(in[0], readers[n - 1], (size_t) got);
    }
}

int main(int argc, char **argv)
{
    if (argc != 5 || (strcmp(argv[1], "rw") != 0 && strcmp(argv[1], "splice") != 0)) {
        fprintf(stderr, "usage: spicestream-relay rw|splice GUEST_SOCKET PORT READERS\n");
        return 2;
    }
    int port = atoi(argv[3]);
    int n = atoi(argv[4]);
    if (port <= 0 || port > 65535 || n < 1 || n > MAX_READERS) {
        fprintf(stderr, "spicestream-relay: bad port or reader count (1..%d)\n", MAX_READERS);
        return 2;
    }
    signal(SIGTERM, on_term);
    signal(SIGPIPE, SIG_IGN);

    int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (listener < 0 || setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0) {
        die("listen socket");
    }
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t) port) };
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(listener, (struct sockaddr *) &addr, sizeof(addr)) < 0 || listen(listener, n) < 0) {
        die("bind/listen");
    }
    int guest = connect_guest(argv[2]);
    int *readers = calloc((size_t) n, sizeof(int));
    for (int i = 0; i < n; i++) {
        readers[i] = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
        if (readers[i] < 0) {
            die("accept");
        }
        setsockopt(readers[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    start_guest(guest);
    if (strcmp(argv[1], "rw") == 0) {
        relay_rw(guest, readers, n);
    } else {
        relay_splice(guest, readers, n);
    }
    return 0;
}
