/*
 * The C reference of the benchmarks: Debian's libspice-server (0.15.x) serving a guest stream port, so that
 * "above the C server" is measured in the same run as spicestream and the native relay. Our own small program
 * on libspice-server's public API: a single-threaded poll loop as the core interface, and a char device of
 * subtype "port" named org.spice-space.stream.0 whose bytes come from the guest's Unix socket, as QEMU's
 * virtio-serial chardev would give them.
 *
 *   spicestream-cserver GUEST_SOCKET PORT
 *
 * Connects to GUEST_SOCKET (retried for 20 s), opens the port (libspice-server then creates the display and
 * cursor channels of the stream and asks the guest for its capabilities), and listens on 127.0.0.1:PORT
 * without ticketing. Several clients (the benchmarks' one session per viewer) need SPICE_DEBUG_ALLOW_MC=1,
 * which this program sets. SIGTERM exits 0. Built by the benchmark runner with gcc and pkg-config spice-server.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <spice.h>
#include <spice/protocol.h>

#define MAX_WATCHES 256
#define MAX_TIMERS 256
#define CONNECT_TIMEOUT_MS 20000
#define CONNECT_RETRY_MS 20
#define PORT_NAME "org.spice-space.stream.0"

struct SpiceWatch {
    int fd;
    int mask;
    SpiceWatchFunc func;
    void *opaque;
    int used;
};

struct SpiceTimer {
    SpiceTimerFunc func;
    void *opaque;
    long long due_ms; /* < 0: not armed */
    int used;
};

static struct SpiceWatch watches[MAX_WATCHES];
static struct SpiceTimer timers[MAX_TIMERS];
static volatile sig_atomic_t stopping;

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void fail(const char *what)
{
    fprintf(stderr, "spicestream-cserver: %s: %s\n", what, strerror(errno));
    exit(1);
}

/* ---- core interface: one poll loop ---- */

static SpiceTimer *timer_add(SpiceTimerFunc func, void *opaque)
{
    for (int i = 0; i < MAX_TIMERS; i++) {
        if (!timers[i].used) {
            timers[i] = (struct SpiceTimer) { func, opaque, -1, 1 };
            return &timers[i];
        }
    }
    fprintf(stderr, "spicestream-cserver: more than %d timers\n", MAX_TIMERS);
    abort();
}

static void timer_start(SpiceTimer *t, uint32_t ms)
{
    t->due_ms = now_ms() + ms;
}

static void timer_cancel(SpiceTimer *t)
{
    t->due_ms = -1;
}

static void timer_remove(SpiceTimer *t)
{
    t->used = 0;
    t->due_ms = -1;
}

static SpiceWatch *watch_add(int fd, int mask, SpiceWatchFunc func, void *opaque)
{
    for (int i = 0; i < MAX_WATCHES; i++) {
        if (!watches[i].used) {
            watches[i] = (struct SpiceWatch) { fd, mask, func, opaque, 1 };
            return &watches[i];
        }
    }
    fprintf(stderr, "spicestream-cserver: more than %d watches\n", MAX_WATCHES);
    abort();
}

static void watch_update_mask(SpiceWatch *w, int mask)
{
    w->mask = mask;
}

static void watch_remove(SpiceWatch *w)
{
    w->used = 0;
}

static void channel_event(int event, SpiceChannelEventInfo *info)
{
    (void) event;
    (void) info;
}

static SpiceCoreInterface core = {
    .base = { SPICE_INTERFACE_CORE, "spicestream benchmark core", SPICE_INTERFACE_CORE_MAJOR,
              SPICE_INTERFACE_CORE_MINOR },
    .timer_add = timer_add,
    .timer_start = timer_start,
    .timer_cancel = timer_cancel,
    .timer_remove = timer_remove,
    .watch_add = watch_add,
    .watch_update_mask = watch_update_mask,
    .watch_remove = watch_remove,
    .channel_event = channel_event,
};

/* ---- the stream port, backed by the guest's Unix socket ---- */

static int guest_fd = -1;
static SpiceWatch *guest_watch;
static SpiceCharDeviceInstance port;
/* Reads the server made since the last readable event. A readable socket is worth a wakeup only while the
 * server reads: when it has stopped (its flow control: anything queued for a client), the watch is off and the
 * guest stays blocked, as QEMU's port would, until the server reads again by itself. */
static int reads_since_event;
static int guest_watch_on = 1;

static void guest_watch_set(int on)
{
    if (on != guest_watch_on) {
        guest_watch_on = on;
        watch_update_mask(guest_watch, on ? SPICE_WATCH_EVENT_READ : 0);
    }
}

static int port_write(SpiceCharDeviceInstance *sin, const uint8_t *buf, int len)
{
    (void) sin;
    ssize_t n = write(guest_fd, buf, (size_t) len);
    if (n < 0) {
        return errno == EAGAIN || errno == EINTR ? 0 : -1;
    }
    return (int) n;
}

static int port_read(SpiceCharDeviceInstance *sin, uint8_t *buf, int len)
{
    (void) sin;
    if (len <= 0) {
        return 0; /* the server asks for 0 bytes when a message is complete: not an end of file */
    }
    reads_since_event++;
    guest_watch_set(1);
    ssize_t n = read(guest_fd, buf, (size_t) len);
    if (n > 0) {
        return (int) n;
    }
    if (n == 0) {
        fprintf(stderr, "spicestream-cserver: guest closed the port\n");
        stopping = 1;
        return 0;
    }
    if (errno == EAGAIN || errno == EINTR) {
        return 0;
    }
    return -1;
}

static void port_state(SpiceCharDeviceInstance *sin, int connected)
{
    (void) sin;
    (void) connected;
}

static void port_event(SpiceCharDeviceInstance *sin, uint8_t event)
{
    (void) sin;
    (void) event;
}

static SpiceCharDeviceInterface port_sif = {
    .base = { SPICE_INTERFACE_CHAR_DEVICE, "spicestream benchmark stream port", SPICE_INTERFACE_CHAR_DEVICE_MAJOR,
              SPICE_INTERFACE_CHAR_DEVICE_MINOR },
    .state = port_state,
    .write = port_write,
    .read = port_read,
    .event = port_event,
};

static void guest_readable(int fd, int event, void *opaque)
{
    (void) fd;
    (void) event;
    (void) opaque;
    reads_since_event = 0;
    spice_server_char_device_wakeup(&port);
    if (reads_since_event == 0) {
        guest_watch_set(0); /* not reading: it calls read again by itself when it wants more */
    }
}

static int connect_guest(const char *path)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof(addr.sun_path)) {
        errno = ENAMETOOLONG;
        fail(path);
    }
    strcpy(addr.sun_path, path);
    for (int waited = 0;; waited += CONNECT_RETRY_MS) {
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0) {
            fail("socket");
        }
        if (connect(fd, (struct sockaddr *) &addr, sizeof(addr)) == 0) {
            return fd;
        }
        close(fd);
        if (waited >= CONNECT_TIMEOUT_MS) {
            fail(path);
        }
        struct timespec ts = { 0, CONNECT_RETRY_MS * 1000000L };
        nanosleep(&ts, NULL);
    }
}

static void on_term(int sig)
{
    (void) sig;
    stopping = 1;
}

static void run_loop(void)
{
    struct pollfd fds[MAX_WATCHES];
    SpiceWatch *owners[MAX_WATCHES];
    while (!stopping) {
        long long now = now_ms();
        int timeout = -1;
        for (int i = 0; i < MAX_TIMERS; i++) {
            if (timers[i].used && timers[i].due_ms >= 0) {
                long long left = timers[i].due_ms - now;
                int ms = left < 0 ? 0 : (int) left;
                timeout = timeout < 0 || ms < timeout ? ms : timeout;
            }
        }
        int n = 0;
        for (int i = 0; i < MAX_WATCHES; i++) {
            if (watches[i].used && watches[i].mask) {
                fds[n].fd = watches[i].fd;
                fds[n].events = (short) ((watches[i].mask & SPICE_WATCH_EVENT_READ ? POLLIN : 0)
                        | (watches[i].mask & SPICE_WATCH_EVENT_WRITE ? POLLOUT : 0));
                fds[n].revents = 0;
                owners[n++] = &watches[i];
            }
        }
        if (poll(fds, (nfds_t) n, timeout) < 0) {
            if (errno == EINTR) {
                continue;
            }
            fail("poll");
        }
        for (int i = 0; i < n; i++) {
            SpiceWatch *w = owners[i];
            /* a callback may have removed or changed this watch meanwhile */
            if (!fds[i].revents || !w->used || w->fd != fds[i].fd) {
                continue;
            }
            int ev = 0;
            if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) {
                ev |= SPICE_WATCH_EVENT_READ;
            }
            if (fds[i].revents & (POLLOUT | POLLERR)) {
                ev |= SPICE_WATCH_EVENT_WRITE;
            }
            ev &= w->mask;
            if (ev) {
                w->func(w->fd, ev, w->opaque);
            }
        }
        now = now_ms();
        for (int i = 0; i < MAX_TIMERS; i++) {
            if (timers[i].used && timers[i].due_ms >= 0 && timers[i].due_ms <= now) {
                timers[i].due_ms = -1;
                timers[i].func(timers[i].opaque);
            }
        }
    }
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: spicestream-cserver GUEST_SOCKET PORT\n");
        return 2;
    }
    int tcp_port = atoi(argv[2]);
    if (tcp_port <= 0 || tcp_port > 65535) {
        fprintf(stderr, "spicestream-cserver: bad port %s\n", argv[2]);
        return 2;
    }
    signal(SIGTERM, on_term);
    signal(SIGINT, on_term);
    signal(SIGPIPE, SIG_IGN);
    setenv("SPICE_DEBUG_ALLOW_MC", "1", 1);

    guest_fd = connect_guest(argv[1]);
    SpiceServer *server = spice_server_new();
    spice_server_set_addr(server, "127.0.0.1", SPICE_ADDR_FLAG_IPV4_ONLY);
    spice_server_set_port(server, tcp_port);
    spice_server_set_noauth(server);
    spice_server_set_name(server, "spicestream-cserver");
    if (spice_server_init(server, &core) != 0) {
        fprintf(stderr, "spicestream-cserver: spice_server_init failed\n");
        return 1;
    }
    guest_watch = watch_add(guest_fd, SPICE_WATCH_EVENT_READ, guest_readable, NULL);
    port.base.sif = &port_sif.base;
    port.subtype = "port";
    port.portname = PORT_NAME;
    if (spice_server_add_interface(server, &port.base) != 0) {
        fprintf(stderr, "spicestream-cserver: adding the stream port failed\n");
        return 1;
    }
    spice_server_port_event(&port, SPICE_PORT_EVENT_OPENED);
    run_loop();
    /* No spice_server_remove_interface/spice_server_destroy: with the worker thread still finishing a client's
     * disconnect, that teardown crashed once in a CI run (SIGSEGV on SIGTERM, LoadToolsSmokeTest). The measurement
     * is over and the kernel releases everything; _exit skips the libraries' exit handlers as well. */
    fflush(stdout);
    fflush(stderr);
    _exit(0);
}
