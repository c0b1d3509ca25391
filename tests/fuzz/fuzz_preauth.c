/* fuzz_preauth: a whole connection before authentication — conn_run
 * (src/conn.c) with its version-line reader, the message dispatch before,
 * during and after the first KEXINIT, kex_handle and the disconnect path —
 * driven over a socketpair, as a client would drive it.
 *
 * Input: [u16 len][version line bytes][u16 len][payload][u16 len][payload]...
 * The version part goes on the wire as it is (so it needs its own "\r\n");
 * each payload (first byte = message number) is framed by frame() into an
 * unencrypted RFC 4253 packet. A client thread writes all of it, then
 * shuts its sending side, and reads (and drops) what the server sends
 * until conn_run returns; conn_run ends at the input's end at the latest.
 *
 * What cannot be reached: anything after the client's NEWKEYS is read with
 * keys from the server's ephemeral secret, so later packets fail their MAC;
 * SERVICE_REQUEST and USERAUTH_REQUEST are refused before the first key
 * exchange completes (fuzz_userauth drives auth_handle directly).
 *
 * Checked besides the sanitizers: the process has as many open fds after
 * each input as before it (conn_run must not leak a socket or pipe); an
 * empty connection at start-up makes conn's once-per-process self-pipe. */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "conn.h"
#include "fuzz_util.h"
#include "hostkey.h"

static struct config cfg;
static struct sshkey *hostkey;

static void run_connection(const uint8_t *wire, size_t n);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_setup();
	config_defaults(&cfg);
	cfg.login_grace_time = 0;          /* no timer may end a run early */
	cfg.client_alive_interval = 0;
	cfg.unused_connection_timeout = 0;
	if (key_generate(KEY_ED25519, 0, &hostkey) < 0)
		abort();
	/* a first, empty connection makes what lives for the process (conn's
	 * self-pipe), so the fd count around each input must then not move */
	run_connection(NULL, 0);
	return 0;
}

/* What the open fds are (for the report when their number changes). */
static void list_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	while (d && (e = readdir(d)) != NULL) {
		char link[256], target[256] = "";
		snprintf(link, sizeof(link), "/proc/self/fd/%s", e->d_name);
		ssize_t n = readlink(link, target, sizeof(target) - 1);
		if (n > 0)
			target[n] = 0;
		fprintf(stderr, "  fd %s -> %s\n", e->d_name, target);
	}
	if (d)
		closedir(d);
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* One unencrypted binary packet (RFC 4253 s6): block size 8, 4..11 bytes
 * of padding, no MAC. */
static void frame(buf_t *wire, const uint8_t *payload, size_t n)
{
	size_t pad = 8 - (5 + n) % 8;
	if (pad < 4)
		pad += 8;
	static const uint8_t zeros[16];
	buf_put_u32(wire, (uint32_t)(1 + n + pad));
	buf_put_u8(wire, (uint8_t)pad);
	buf_put(wire, payload, n);
	buf_put(wire, zeros, pad);
}

struct client {
	int fd;
	const uint8_t *out;
	size_t out_len;
};

/* The client: send everything, then half-close; read what the server
 * says until the server's end is closed. */
static void *client_run(void *arg)
{
	struct client *cl = arg;
	uint8_t sink[16384];
	size_t sent = 0;
	int wr_open = 1;
	for (;;) {
		if (wr_open && sent == cl->out_len) {
			shutdown(cl->fd, SHUT_WR);
			wr_open = 0;
		}
		struct pollfd p = { .fd = cl->fd, .events = POLLIN | (wr_open ? POLLOUT : 0) };
		if (poll(&p, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			abort();
		}
		if (wr_open && (p.revents & POLLOUT)) {
			ssize_t w = send(cl->fd, cl->out + sent, cl->out_len - sent, MSG_NOSIGNAL);
			if (w > 0)
				sent += (size_t)w;
			else if (w < 0 && errno != EAGAIN && errno != EINTR)
				wr_open = 0;    /* the server has gone */
		}
		if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t r = read(cl->fd, sink, sizeof(sink));
			if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
				break;
		}
	}
	return NULL;
}

/* conn_run on one end of a socketpair, the client thread on the other. */
static void run_connection(const uint8_t *wire, size_t n)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	fcntl(sv[1], F_SETFL, O_NONBLOCK);   /* the client never blocks on a full socket */
	struct client cl = { .fd = sv[1], .out = wire, .out_len = n };
	pthread_t t;
	if (pthread_create(&t, NULL, client_run, &cl) != 0)
		abort();
	(void)conn_run(sv[0], sv[0], &cfg, &hostkey, 1);
	close(sv[0]);                 /* the client thread sees EOF and ends */
	pthread_join(t, NULL);
	close(sv[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *part;
	size_t plen;
	buf_t wire;
	if (buf_init(&wire, 4096, 1u << 24) < 0)
		abort();
	if (fuzz_next_part(&data, &size, &part, &plen))
		buf_put(&wire, part, plen);                 /* version line, raw */
	while (fuzz_next_part(&data, &size, &part, &plen))
		if (plen > 0)
			frame(&wire, part, plen);

	int fds_before = count_fds();
	run_connection(buf_data(&wire), buf_used(&wire));
	buf_free(&wire);

	/* fds are counted around the run only: libFuzzer opens its own
	 * between inputs (the symbolizer's pipes for NEW_FUNC lines) */
	int fds_after = count_fds();
	if (fds_after != fds_before) {
		fprintf(stderr, "%s: %d open fds after this input, %d before\n",
			"fuzz_preauth", fds_after, fds_before);
		list_fds();
		abort();
	}
	return 0;
}
