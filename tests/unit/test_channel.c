/* channel + session: drive the channel layer the way conn.c does, with a
 * stub connection that records every packet, and real child processes. */
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "unit.h"
#include "alive.h"
#include "buf.h"
#include "channel.h"
#include "config.h"
#include "conn.h"
#include "crypto.h"
#include "log.h"
#include "session.h"

/* ---------- stub connection ---------- */

struct conn { int dummy; };
static struct conn the_conn;
static struct config cfg;
static struct authkey_opts keyopts;
static int use_keyopts;
static buf_t out_pkt;
static size_t fake_queued;

#define MAX_PKTS 4096
struct pkt { uint8_t msg; uint8_t *data; size_t len; };
static struct pkt pkts[MAX_PKTS];
static int n_pkts;

buf_t *conn_pkt_start(struct conn *c, uint8_t msg)
{
	(void)c;
	buf_reset(&out_pkt);
	buf_put_u8(&out_pkt, msg);
	return &out_pkt;
}

int conn_pkt_send(struct conn *c)
{
	(void)c;
	if (n_pkts == MAX_PKTS)
		return -1;
	struct pkt *p = &pkts[n_pkts++];
	p->msg = buf_data(&out_pkt)[0];
	p->len = buf_used(&out_pkt) - 1;
	p->data = malloc(p->len + 1);
	memcpy(p->data, buf_data(&out_pkt) + 1, p->len);
	return 0;
}

/* The direct path: payloads laid out STUB_SLACK bytes further apart than
 * asked (where the packet layer puts padding, tag and the next header),
 * recorded as conn_pkt_send does when sealed. Every third call answers
 * NULL, as when a key exchange holds output: the channel layer must then
 * take the copying path, and the two may alternate within one stream. */
#define STUB_SLACK 37
static uint8_t *room;
static size_t room_next, room_stride, room_calls;

uint8_t *conn_pkt_room(struct conn *c, size_t n, size_t len, size_t *stride)
{
	(void)c;
	if (++room_calls % 3 == 0)
		return NULL;
	free(room);
	room_stride = len + STUB_SLACK;
	room = malloc(n * room_stride);
	room_next = 0;
	*stride = room_stride;
	return room;
}

int conn_pkt_seal(struct conn *c, size_t len)
{
	(void)c;
	if (n_pkts == MAX_PKTS)
		return -1;
	struct pkt *p = &pkts[n_pkts++];
	p->msg = room[room_next];
	p->len = len - 1;
	p->data = malloc(len);
	memcpy(p->data, room + room_next + 1, p->len);
	room_next += room_stride;
	return 0;
}

size_t conn_out_queued(const struct conn *c) { (void)c; return fake_queued; }
const struct config *conn_config(const struct conn *c) { (void)c; return &cfg; }
/* payloads stay put until chan_flush_input, as the packet layer's do without
 * decompression; a test may say otherwise */
static int payload_lendable = 1;
int conn_payload_lendable(const struct conn *c) { (void)c; return payload_lendable; }
const struct passwd *conn_user(const struct conn *c) { (void)c; return getpwuid(getuid()); }
const struct authkey_opts *conn_authkey_opts(const struct conn *c)
{
	(void)c;
	return use_keyopts ? &keyopts : NULL;
}
const char *conn_peer_addr(const struct conn *c) { (void)c; return "192.0.2.1"; }
int conn_peer_port(const struct conn *c) { (void)c; return 5555; }
const char *conn_local_addr(const struct conn *c) { (void)c; return "192.0.2.2"; }
int conn_local_port(const struct conn *c) { (void)c; return 22; }

static void clear_pkts(void)
{
	for (int i = 0; i < n_pkts; i++)
		free(pkts[i].data);
	n_pkts = 0;
}

/* ---------- client side helpers ---------- */

static buf_t msg;

static int send_msg(struct chanset *cs)
{
	rd_t r;
	rd_init(&r, buf_data(&msg) + 1, buf_used(&msg) - 1);
	int rc = chan_dispatch(cs, buf_data(&msg)[0], &r);
	chan_flush_input(cs);   /* as conn does after each batch of packets */
	buf_reset(&msg);
	return rc;
}

static void start_msg(uint8_t type)
{
	buf_reset(&msg);
	buf_put_u8(&msg, type);
}

static int open_chan(struct chanset *cs, const char *type, uint32_t rid,
		     uint32_t win, uint32_t maxpkt)
{
	start_msg(SSH_MSG_CHANNEL_OPEN);
	buf_put_cstring(&msg, type);
	buf_put_u32(&msg, rid);
	buf_put_u32(&msg, win);
	buf_put_u32(&msg, maxpkt);
	return send_msg(cs);
}

/* request with an optional string argument */
static int request(struct chanset *cs, uint32_t id, const char *type, int want,
		   const char *arg, const char *arg2)
{
	start_msg(SSH_MSG_CHANNEL_REQUEST);
	buf_put_u32(&msg, id);
	buf_put_cstring(&msg, type);
	buf_put_bool(&msg, want);
	if (arg)
		buf_put_cstring(&msg, arg);
	if (arg2)
		buf_put_cstring(&msg, arg2);
	return send_msg(cs);
}

static int send_data(struct chanset *cs, uint32_t id, const void *p, size_t n)
{
	start_msg(SSH_MSG_CHANNEL_DATA);
	buf_put_u32(&msg, id);
	buf_put_string(&msg, p, n);
	return send_msg(cs);
}

static int send_simple(struct chanset *cs, uint8_t type, uint32_t id)
{
	start_msg(type);
	buf_put_u32(&msg, id);
	return send_msg(cs);
}

static int send_adjust(struct chanset *cs, uint32_t id, uint32_t n)
{
	start_msg(SSH_MSG_CHANNEL_WINDOW_ADJUST);
	buf_put_u32(&msg, id);
	buf_put_u32(&msg, n);
	return send_msg(cs);
}

/* ---------- looking at what the server sent ---------- */

static int find_pkt(uint8_t type, int from)
{
	for (int i = from; i < n_pkts; i++)
		if (pkts[i].msg == type)
			return i;
	return -1;
}

static uint32_t pkt_u32(int i, size_t off)
{
	const uint8_t *p = pkts[i].data + off;
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Concatenated DATA (ext 0) or EXTENDED_DATA (ext 1) payload. */
static size_t collect(int ext, char *out, size_t cap, size_t *maxchunk)
{
	size_t n = 0;
	if (maxchunk)
		*maxchunk = 0;
	for (int i = 0; i < n_pkts; i++) {
		size_t off;
		if (!ext && pkts[i].msg == SSH_MSG_CHANNEL_DATA)
			off = 4;
		else if (ext && pkts[i].msg == SSH_MSG_CHANNEL_EXTENDED_DATA)
			off = 8;
		else
			continue;
		size_t len = pkt_u32(i, off);
		if (maxchunk && len > *maxchunk)
			*maxchunk = len;
		if (out && n + len < cap)
			memcpy(out + n, pkts[i].data + off + 4, len);
		n += len;
	}
	if (out && n < cap)
		out[n] = '\0';
	return n;
}

/* The name of the request in packet i (CHANNEL_REQUEST). */
static int req_is(int i, const char *name)
{
	size_t n = pkt_u32(i, 4);
	return n == strlen(name) && memcmp(pkts[i].data + 8, name, n) == 0;
}

static int find_req(const char *name)
{
	for (int i = 0; i < n_pkts; i++)
		if (pkts[i].msg == SSH_MSG_CHANNEL_REQUEST && req_is(i, name))
			return i;
	return -1;
}

/* exit-status value, or -1 */
static int exit_status(void)
{
	int i = find_req("exit-status");
	if (i < 0)
		return -1;
	return (int)pkt_u32(i, 8 + 11 + 1);
}

/* Run the loop until exit-status has been sent (at most ~5 s): a busy
 * machine may take longer than any fixed pause. */
static void wait_exit_status(struct chanset *cs);

static int exit_signal_is(const char *name)
{
	int i = find_req("exit-signal");
	if (i < 0)
		return 0;
	size_t off = 8 + 11 + 1;
	size_t n = pkt_u32(i, off);
	return n == strlen(name) && memcmp(pkts[i].data + off + 4, name, n) == 0;
}

/* ---------- the event loop, as conn.c runs it ---------- */

static void loop_once(struct chanset *cs, int ms)
{
	struct pollfd pfds[64];
	int n = chan_pollfds(cs, pfds, 64);
	poll(pfds, (nfds_t)n, ms);
	chan_poll_done(cs, pfds, n);
	int st;
	pid_t pid;
	while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
		chan_child_exited(cs, pid, st);
	chan_kick(cs);
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Run until a packet of this type has been sent, or the time is up. */
static int run_until(struct chanset *cs, uint8_t type, double secs)
{
	double end = now_s() + secs;
	while (now_s() < end) {
		if (find_pkt(type, 0) >= 0)
			return 1;
		loop_once(cs, 20);
	}
	return find_pkt(type, 0) >= 0;
}

/* Run the loop until the session's stdout so far equals what. */
static int run_until_output(struct chanset *cs, const char *what, double secs)
{
	char out[256];
	double end = now_s() + secs;
	for (;;) {
		collect(0, out, sizeof(out), NULL);
		if (strcmp(out, what) == 0)
			return 1;
		if (now_s() >= end)
			return 0;
		loop_once(cs, 20);
	}
}

static void run_for(struct chanset *cs, double secs)
{
	double end = now_s() + secs;
	while (now_s() < end)
		loop_once(cs, 20);
}

/* Bounds here are for a hung test, not for speed: each exec starts the
 * user's login shell, which for root on a loaded test machine (a .bashrc
 * that runs pyenv) has taken seconds. */
static void wait_exit_status(struct chanset *cs)
{
	double end = now_s() + 30;
	while (exit_status() < 0 && now_s() < end)
		run_for(cs, 0.1);
}

static void reap_all(void)
{
	while (waitpid(-1, NULL, 0) > 0)
		;
}

static struct chanset *fresh(void)
{
	clear_pkts();
	fake_queued = 0;
	return chan_init(&the_conn);
}

/* open a session channel (client id 7) and check the confirmation */
static uint32_t open_session(struct chanset *cs, uint32_t win, uint32_t maxpkt)
{
	CHECK(open_chan(cs, "session", 7, win, maxpkt) == 0);
	int i = find_pkt(SSH_MSG_CHANNEL_OPEN_CONFIRMATION, 0);
	CHECK(i >= 0);
	if (i < 0)
		return 0;
	CHECK(pkt_u32(i, 0) == 7);
	CHECK(pkt_u32(i, 8) == (uint32_t)cfg.channel_window);   /* ChannelWindowSize */
	CHECK(pkt_u32(i, 12) == 32768);
	uint32_t id = pkt_u32(i, 4);
	clear_pkts();
	return id;
}

/* ---------- tests ---------- */

static void test_open(void)
{
	struct chanset *cs = fresh();
	CHECK(open_chan(cs, "x11", 3, 1000, 1000) == 0);
	int i = find_pkt(SSH_MSG_CHANNEL_OPEN_FAILURE, 0);
	CHECK(i >= 0 && pkt_u32(i, 0) == 3 && pkt_u32(i, 4) == 3);
	CHECK(chan_count(cs) == 0);
	clear_pkts();

	uint32_t id = open_session(cs, 1 << 20, 32768);
	CHECK(chan_count(cs) == 1);
	/* unknown request: FAILURE when a reply is wanted, nothing otherwise */
	CHECK(request(cs, id, "keepalive@openssh.com", 1, NULL, NULL) == 0);
	CHECK(n_pkts == 1 && pkts[0].msg == SSH_MSG_CHANNEL_FAILURE && pkt_u32(0, 0) == 7);
	clear_pkts();
	CHECK(request(cs, id, "pty-req-ish", 0, NULL, NULL) == 0);
	CHECK(n_pkts == 0);
	/* messages for channels that do not exist are protocol errors */
	CHECK(send_simple(cs, SSH_MSG_CHANNEL_EOF, id + 1) < 0);
	CHECK(send_data(cs, 999, "x", 1) < 0);
	/* truncated request */
	start_msg(SSH_MSG_CHANNEL_REQUEST);
	buf_put_u32(&msg, id);
	buf_put_cstring(&msg, "exec");
	CHECK(send_msg(cs) < 0);
	/* MaxSessions */
	cfg.max_sessions = 1;
	CHECK(open_chan(cs, "session", 8, 1000, 1000) == 0);
	i = find_pkt(SSH_MSG_CHANNEL_OPEN_FAILURE, 0);
	CHECK(i >= 0 && pkt_u32(i, 0) == 8 && pkt_u32(i, 4) == 1);
	cfg.max_sessions = 10;
	clear_pkts();
	/* server keepalive goes to the open channel */
	CHECK(chan_send_keepalive(cs) == 1);
	CHECK(find_req("keepalive@openssh.com") == 0);
	CHECK(send_simple(cs, SSH_MSG_CHANNEL_FAILURE, id) == 0);
	clear_pkts();
	/* client CLOSE without any child: CLOSE answered, channel gone */
	CHECK(send_simple(cs, SSH_MSG_CHANNEL_CLOSE, id) == 0);
	CHECK(n_pkts == 1 && pkts[0].msg == SSH_MSG_CHANNEL_CLOSE);
	CHECK(chan_count(cs) == 0);
	CHECK(chan_send_keepalive(cs) == 0);
	chan_free(cs);
}

static void test_exec_basic(void)
{
	struct chanset *cs = fresh();
	uint32_t id = open_session(cs, 1 << 20, 32768);
	CHECK(request(cs, id, "exec", 1, "echo out; echo err >&2; exit 3", NULL) == 0);
	CHECK(n_pkts == 1 && pkts[0].msg == SSH_MSG_CHANNEL_SUCCESS);
	/* a second exec on the same channel fails */
	CHECK(request(cs, id, "exec", 1, "true", NULL) == 0);
	CHECK(pkts[1].msg == SSH_MSG_CHANNEL_FAILURE);
	CHECK(run_until(cs, SSH_MSG_CHANNEL_CLOSE, 15));
	char out[64], err[64];
	collect(0, out, sizeof(out), NULL);
	collect(1, err, sizeof(err), NULL);
	CHECK(strcmp(out, "out\n") == 0);
	CHECK(strcmp(err, "err\n") == 0);
	CHECK(exit_status() == 3);
	int e = find_pkt(SSH_MSG_CHANNEL_EOF, 0), c = find_pkt(SSH_MSG_CHANNEL_CLOSE, 0);
	CHECK(e >= 0 && e < c && find_req("exit-status") < c);
	CHECK(find_pkt(SSH_MSG_CHANNEL_CLOSE, c + 1) < 0);
	/* after both CLOSEs the channel is gone */
	CHECK(chan_count(cs) == 1);
	clear_pkts();
	CHECK(send_simple(cs, SSH_MSG_CHANNEL_CLOSE, id) == 0);
	CHECK(n_pkts == 0);
	CHECK(chan_count(cs) == 0);
	chan_free(cs);
}

static void test_env_and_identity(void)
{
	struct chanset *cs = fresh();
	cfg.accept_env[0] = "LC_*,LANG";
	cfg.n_accept_env = 1;
	uint32_t id = open_session(cs, 1 << 20, 32768);
	CHECK(request(cs, id, "env", 1, "LC_FOO", "bar") == 0);
	CHECK(request(cs, id, "env", 1, "EVIL", "x") == 0);
	CHECK(n_pkts == 2 && pkts[0].msg == SSH_MSG_CHANNEL_SUCCESS &&
	      pkts[1].msg == SSH_MSG_CHANNEL_FAILURE);
	CHECK(request(cs, id, "exec", 1,
		      "case \"$PATH\" in */usr/local/bin:/usr/bin:/bin) p=path-ok;; esac;"
		      "echo \"$LC_FOO|$EVIL|$USER|$SSH_CONNECTION|$SSH_CLIENT|$p|$(pwd)\";"
		      /* glibc reserves signals 32 and 33 (a parent may ignore
		       * them and nobody can reset them): check 1..31 only */
		      "for f in SigBlk SigIgn; do v=$(awk -v f=$f: '$1==f{print $2}' /proc/self/status);"
		      " printf '%s:\\t%016x\\n' $f $((0x$v & 0x7fffffff)); done;"
		      " ls /proc/self/fd | wc -l",
		      NULL) == 0);
	CHECK(run_until(cs, SSH_MSG_CHANNEL_CLOSE, 15));
	char out[1024], expect[512];
	collect(0, out, sizeof(out), NULL);
	const struct passwd *pw = getpwuid(getuid());
	snprintf(expect, sizeof(expect),
		 "bar||%s|192.0.2.1 5555 192.0.2.2 22|192.0.2.1 5555 22|"
		 "path-ok|%s\n"
		 "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n4\n",
		 pw->pw_name, pw->pw_dir);
	CHECK(strcmp(out, expect) == 0);
	if (strcmp(out, expect) != 0)
		fprintf(stderr, "got:\n%s\nwanted:\n%s\n", out, expect);
	CHECK(exit_status() == 0);
	cfg.n_accept_env = 0;
	chan_free(cs);
}

static void test_forced_and_subsystem(void)
{
	struct chanset *cs = fresh();
	cfg.force_command = "echo forced:$SSH_ORIGINAL_COMMAND";
	uint32_t id = open_session(cs, 1 << 20, 32768);
	CHECK(request(cs, id, "exec", 1, "ls /", NULL) == 0);
	CHECK(run_until(cs, SSH_MSG_CHANNEL_CLOSE, 15));
	char out[256];
	collect(0, out, sizeof(out), NULL);
	CHECK(strcmp(out, "forced:ls /\n") == 0);
	cfg.force_command = NULL;
	chan_free(cs);

	/* authorized_keys command= */
	cs = fresh();
	keyopts.command = "echo key:$SSH_ORIGINAL_COMMAND";
	use_keyopts = 1;
	id = open_session(cs, 1 << 20, 32768);
	CHECK(request(cs, id, "exec", 1, "id", NULL) == 0);
	CHECK(run_until(cs, SSH_MSG_CHANNEL_CLOSE, 15));
	collect(0, out, sizeof(out), NULL);
	CHECK(strcmp(out, "key:id\n") == 0);
	use_keyopts = 0;
	chan_free(cs);

	cs = fresh();
	cfg.subsystem_names[0] = "hello";
	cfg.subsystem_cmds[0] = "echo sub-$0";
	cfg.n_subsystems = 1;
	id = open_session(cs, 1 << 20, 32768);
	CHECK(request(cs, id, "subsystem", 1, "nope", NULL) == 0);
	CHECK(pkts[0].msg == SSH_MSG_CHANNEL_FAILURE);
	CHECK(request(cs, id, "subsystem", 1, "hello", NULL) == 0);
	CHECK(pkts[1].msg == SSH_MSG_CHANNEL_SUCCESS);
	CHECK(run_until(cs, SSH_MSG_CHANNEL_CLOSE, 15));
	collect(0, out, sizeof(out), NULL);
	CHECK(strncmp(out, "sub-", 4) == 0);
	cfg.n_subsystems = 0;
	chan_free(cs);
}

static void test_signals(void)
{
	struct chanset *cs = fresh();
	uint32_t id = open_session(cs, 1 << 20, 32768);
	CHECK(request(cs, id, "exec", 0, "kill -PIPE $$", NULL) == 0);
	CHECK(run_until(cs, SSH_MSG_CHANNEL_CLOSE, 15));
	CHECK(exit_signal_is("PIPE"));
	CHECK(exit_status() == -1);
	chan_free(cs);

	/* the "signal" request reaches the child */
	cs = fresh();
	id = open_session(cs, 1 << 20, 32768);
	/* the signal is sent once "ready" has come back, from a /bin/sh that
	 * then becomes sleep: the user's shell (bash, whose start-up files
	 * Debian runs for SSH sessions) could catch a signal sent while it
	 * starts and lose it when it execs */
	CHECK(request(cs, id, "exec", 0, "exec /bin/sh -c 'echo ready; exec sleep 10'", NULL) == 0);
	CHECK(run_until_output(cs, "ready\n", 15));
	CHECK(request(cs, id, "signal", 0, "INT", NULL) == 0);
	CHECK(run_until(cs, SSH_MSG_CHANNEL_CLOSE, 15));
	CHECK(exit_signal_is("INT"));
	chan_free(cs);

	/* eow@openssh.com: our read ends close, the writer dies of SIGPIPE */
	cs = fresh();
	id = open_session(cs, 1 << 20, 32768);
	CHECK(request(cs, id, "exec", 0, "cat /dev/zero", NULL) == 0);
	run_for(cs, 0.1);
	CHECK(request(cs, id, "eow@openssh.com", 0, NULL, NULL) == 0);
	CHECK(run_until(cs, SSH_MSG_CHANNEL_CLOSE, 15));
	CHECK(exit_signal_is("PIPE"));
	chan_free(cs);

	CHECK(session_signum("TERM") == SIGTERM);
	CHECK(strcmp(session_signame(SIGPIPE), "PIPE") == 0);
	CHECK(session_signum("NOPE") == 0);
}

static void test_stdin_and_windows(void)
{
	/* 3 MiB through cat: window adjusts arrive, every byte comes back */
	struct chanset *cs = fresh();
	uint32_t id = open_session(cs, 0xffffffffu, 32768);
	CHECK(request(cs, id, "exec", 1, "cat", NULL) == 0);
	static char chunk[32768];
	for (size_t i = 0; i < sizeof(chunk); i++)
		chunk[i] = (char)('a' + i % 26);
	uint64_t win = 2u * 1024 * 1024, sent = 0, total = 3u * 1024 * 1024;
	int adjusts = 0, seen = 0;
	double end = now_s() + 30;
	while (sent < total && now_s() < end) {
		while (sent < total && win >= sizeof(chunk)) {
			CHECK(send_data(cs, id, chunk, sizeof(chunk)) == 0);
			sent += sizeof(chunk);
			win -= sizeof(chunk);
		}
		loop_once(cs, 10);
		for (; seen < n_pkts; seen++)
			if (pkts[seen].msg == SSH_MSG_CHANNEL_WINDOW_ADJUST) {
				win += pkt_u32(seen, 4);
				adjusts++;
			}
	}
	CHECK(sent == total);
	CHECK(adjusts >= 1);
	CHECK(send_simple(cs, SSH_MSG_CHANNEL_EOF, id) == 0);
	CHECK(run_until(cs, SSH_MSG_CHANNEL_CLOSE, 30));
	size_t maxchunk;
	CHECK(collect(0, NULL, 0, &maxchunk) == total);
	CHECK(maxchunk <= 32768);
	CHECK(exit_status() == 0);
	chan_free(cs);

	/* the window we advertise is enforced, and so is the max packet */
	cs = fresh();
	id = open_session(cs, 1 << 20, 32768);
	CHECK(request(cs, id, "exec", 1, "sleep 10", NULL) == 0);
	static char big[32769];
	CHECK(send_data(cs, id, big, sizeof(big)) < 0);
	for (int i = 0; i < 64; i++)
		CHECK(send_data(cs, id, big, 32768) == 0);
	CHECK(send_data(cs, id, big, 1) < 0);
	chan_free(cs);      /* SIGHUP ends the sleep */
	reap_all();
}

/* The byte at offset i of the stream test_input_batches sends. */
static void put_u32_be(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint8_t stream_byte(size_t i)
{
	return (uint8_t)(i * 7 + i / 251);
}

/* Client data as the packet layer hands it over: several DATA payloads
 * decrypted in one input buffer, dispatched one after another, then
 * chan_flush_input, then the buffer read into again (filled with junk
 * here). The consumer (cat after a pause, so that its pipe fills and
 * writes come up short) must echo every byte in order: what it did not
 * take at the flush was copied out of the buffer, whether the payloads
 * were lent or copied from the start (decompression). */
static void input_batches(int lendable)
{
	static uint8_t inbuf[12 * (32768 + 16)];
	static char out[(1536u << 10) + 1];
	const size_t total = 1536u << 10;     /* within the 2 MiB window */
	struct chanset *cs = fresh();
	uint32_t id = open_session(cs, 0xffffffffu, 32768);
	CHECK(request(cs, id, "exec", 1, "sleep 0.3; exec cat", NULL) == 0);
	payload_lendable = lendable;
	size_t sent = 0;
	for (unsigned batch = 0; sent < total; batch++) {
		size_t at = 0;
		for (unsigned k = 0; k < 1 + batch % 12 && sent < total; k++) {
			size_t n = (batch * 7919u + k * 104729u) % 32768u + 1;
			if (n > total - sent)
				n = total - sent;
			uint8_t *m = inbuf + at;
			m[0] = SSH_MSG_CHANNEL_DATA;
			put_u32_be(m + 1, id);
			put_u32_be(m + 5, (uint32_t)n);
			for (size_t i = 0; i < n; i++)
				m[9 + i] = stream_byte(sent + i);
			rd_t r;
			rd_init(&r, m + 1, 8 + n);
			CHECK(chan_dispatch(cs, m[0], &r) == 0);
			at += 9 + n;
			sent += n;
		}
		chan_flush_input(cs);
		memset(inbuf, 0xee, sizeof(inbuf));   /* the next socket read */
		loop_once(cs, 0);
	}
	payload_lendable = 1;
	CHECK(send_simple(cs, SSH_MSG_CHANNEL_EOF, id) == 0);
	CHECK(run_until(cs, SSH_MSG_CHANNEL_CLOSE, 30));
	size_t got = collect(0, out, sizeof(out), NULL);
	CHECK(got == total);
	size_t bad = 0;
	while (bad < got && bad < total && (uint8_t)out[bad] == stream_byte(bad))
		bad++;
	if (bad != total)
		fprintf(stderr, "input_batches(%d): first wrong byte at %zu\n", lendable, bad);
	CHECK(bad == total);
	chan_free(cs);
	reap_all();
}

static void test_input_batches(void)
{
	input_batches(1);
	input_batches(0);
}

/* ChannelWindowSize 4K: announced in the confirmation (open_session
 * checks), enforced, and refilled to 4K once half of it is consumed. */
static void test_configured_window(void)
{
	cfg.channel_window = 4096;
	struct chanset *cs = fresh();
	uint32_t id = open_session(cs, 1 << 20, 32768);
	CHECK(request(cs, id, "exec", 1, "cat >/dev/null", NULL) == 0);
	clear_pkts();
	static char data[4097];
	CHECK(send_data(cs, id, data, 4097) < 0);
	CHECK(send_data(cs, id, data, 2047) == 0);
	CHECK(find_pkt(SSH_MSG_CHANNEL_WINDOW_ADJUST, 0) < 0);  /* under half: none yet */
	CHECK(send_data(cs, id, data, 2050) < 0);               /* 2049 left */
	CHECK(send_data(cs, id, data, 2049) == 0);
	int i = find_pkt(SSH_MSG_CHANNEL_WINDOW_ADJUST, 0);
	CHECK(i >= 0 && pkt_u32(i, 0) == 7 && pkt_u32(i, 4) == 4096);
	CHECK(send_data(cs, id, data, 4097) < 0);
	CHECK(send_data(cs, id, data, 4096) == 0);
	chan_free(cs);
	reap_all();
	cfg.channel_window = 2 * 1024 * 1024;
}

static void test_remote_window(void)
{
	/* client window 10: 10 bytes, then nothing until it adjusts */
	struct chanset *cs = fresh();
	uint32_t id = open_session(cs, 10, 32768);
	CHECK(request(cs, id, "exec", 1, "printf 0123456789abcdef", NULL) == 0);
	wait_exit_status(cs);
	run_for(cs, 0.1);
	char out[64];
	CHECK(collect(0, out, sizeof(out), NULL) == 10);
	CHECK(strcmp(out, "0123456789") == 0);
	CHECK(find_pkt(SSH_MSG_CHANNEL_CLOSE, 0) < 0);
	CHECK(exit_status() == 0);
	CHECK(send_adjust(cs, id, 100) == 0);
	CHECK(run_until(cs, SSH_MSG_CHANNEL_CLOSE, 15));
	collect(0, out, sizeof(out), NULL);
	CHECK(strcmp(out, "0123456789abcdef") == 0);
	chan_free(cs);

	/* client max packet 100 */
	cs = fresh();
	id = open_session(cs, 1 << 20, 100);
	CHECK(request(cs, id, "exec", 1, "head -c 1000 /dev/zero", NULL) == 0);
	CHECK(run_until(cs, SSH_MSG_CHANNEL_CLOSE, 15));
	size_t maxchunk;
	CHECK(collect(0, NULL, 0, &maxchunk) == 1000);
	CHECK(maxchunk == 100);
	chan_free(cs);

	/* back-pressure: nothing is read while the output queue is full */
	cs = fresh();
	id = open_session(cs, 1 << 20, 32768);
	fake_queued = CONN_OUT_HIGH + 1;
	CHECK(request(cs, id, "exec", 1, "echo held", NULL) == 0);
	run_for(cs, 0.3);
	CHECK(collect(0, NULL, 0, NULL) == 0);
	fake_queued = 0;
	chan_kick(cs);
	CHECK(run_until(cs, SSH_MSG_CHANNEL_CLOSE, 15));
	CHECK(collect(0, out, sizeof(out), NULL) == 5);
	chan_free(cs);
}

static void test_close_policy(void)
{
	/* stderr after stdout's EOF still arrives; EOF once both are done */
	struct chanset *cs = fresh();
	uint32_t id = open_session(cs, 1 << 20, 32768);
	CHECK(request(cs, id, "exec", 1, "exec 1>&-; sleep 0.2; echo late >&2", NULL) == 0);
	CHECK(run_until(cs, SSH_MSG_CHANNEL_CLOSE, 15));
	char err[64];
	collect(1, err, sizeof(err), NULL);
	CHECK(strcmp(err, "late\n") == 0);
	int last_ext = -1;
	for (int i = 0; i < n_pkts; i++)
		if (pkts[i].msg == SSH_MSG_CHANNEL_EXTENDED_DATA)
			last_ext = i;
	CHECK(last_ext >= 0 && last_ext < find_pkt(SSH_MSG_CHANNEL_EOF, 0));
	chan_free(cs);

	/* CloseOnChildExit no: a background job holding stdout delays CLOSE
	 * (3 s: on a loaded machine the exit may be seen late) */
	cs = fresh();
	id = open_session(cs, 1 << 20, 32768);
	CHECK(request(cs, id, "exec", 1, "sleep 3 & echo done", NULL) == 0);
	wait_exit_status(cs);
	CHECK(exit_status() == 0);
	CHECK(find_pkt(SSH_MSG_CHANNEL_CLOSE, 0) < 0);
	CHECK(run_until(cs, SSH_MSG_CHANNEL_CLOSE, 15));
	chan_free(cs);
	reap_all();

	/* CloseOnChildExit yes: CLOSE right after exit, nothing lost, and a
	 * small client window is waited for, not overrun */
	cfg.close_on_child_exit = 1;
	cs = fresh();
	id = open_session(cs, 1 << 20, 32768);
	double t0 = now_s();
	/* the background job outlives the bound by far, so a close inside it
	 * proves nothing waited for the job (a loaded machine is still fine) */
	CHECK(request(cs, id, "exec", 1, "sleep 30 & echo done", NULL) == 0);
	CHECK(run_until(cs, SSH_MSG_CHANNEL_CLOSE, 15));
	CHECK(now_s() - t0 < 12);
	char out[64];
	collect(0, out, sizeof(out), NULL);
	CHECK(strcmp(out, "done\n") == 0);
	CHECK(find_pkt(SSH_MSG_CHANNEL_EOF, 0) >= 0);
	chan_free(cs);

	cs = fresh();
	id = open_session(cs, 1000, 32768);
	CHECK(request(cs, id, "exec", 1, "head -c 60000 /dev/zero; sleep 3 &", NULL) == 0);
	run_for(cs, 0.5);          /* the shell has exited; 59000 bytes wait */
	CHECK(exit_status() < 0);  /* the exit report follows the output */
	CHECK(find_pkt(SSH_MSG_CHANNEL_CLOSE, 0) < 0);
	/* 60 adjusts of 1000 bytes let it all out; on a slow machine keep
	 * looping (bounded) until the child's exit has been seen too */
	double t1 = now_s();
	for (int i = 0; find_pkt(SSH_MSG_CHANNEL_CLOSE, 0) < 0 && now_s() - t1 < 15; i++) {
		if (i < 200)
			CHECK(send_adjust(cs, id, 1000) == 0);
		loop_once(cs, 5);
	}
	CHECK(find_pkt(SSH_MSG_CHANNEL_CLOSE, 0) >= 0);
	CHECK(collect(0, NULL, 0, NULL) == 60000);
	CHECK(exit_status() == 0);
	{
		int last_data = -1;
		for (int i = 0; i < n_pkts; i++)
			if (pkts[i].msg == SSH_MSG_CHANNEL_DATA)
				last_data = i;
		CHECK(find_req("exit-status") > last_data);
		CHECK(find_req("exit-status") < find_pkt(SSH_MSG_CHANNEL_EOF, 0));
	}
	cfg.close_on_child_exit = 0;
	chan_free(cs);
	reap_all();

	/* client CLOSE is answered at once, while the child still runs */
	cs = fresh();
	id = open_session(cs, 1 << 20, 32768);
	CHECK(request(cs, id, "exec", 1, "cat /dev/zero", NULL) == 0);
	run_for(cs, 0.1);
	clear_pkts();
	CHECK(send_simple(cs, SSH_MSG_CHANNEL_CLOSE, id) == 0);
	CHECK(n_pkts == 1 && pkts[0].msg == SSH_MSG_CHANNEL_CLOSE);
	CHECK(chan_count(cs) == 0);
	int st;
	CHECK(waitpid(-1, &st, 0) > 0 && WIFSIGNALED(st));
	chan_free(cs);
}

static void test_channel_timeout(void)
{
	struct chanset *cs = fresh();
	CHECK(chan_next_timeout_ms(cs, 0) == -1);
	cfg.channel_timeout[0] = "session=2";
	cfg.n_channel_timeout = 1;
	uint32_t id = open_session(cs, 1 << 20, 32768);
	CHECK(request(cs, id, "exec", 1, "sleep 10", NULL) == 0);
	int64_t now = alive_now_ms();
	int64_t left = chan_next_timeout_ms(cs, now);
	CHECK(left > 1500 && left <= 2000);
	chan_expire_idle(cs, now + 1000);
	CHECK(find_pkt(SSH_MSG_CHANNEL_CLOSE, 0) < 0);
	/* data resets the clock */
	CHECK(send_data(cs, id, "x", 1) == 0);
	CHECK(chan_next_timeout_ms(cs, now) >= 1900);
	chan_expire_idle(cs, alive_now_ms() + 2001);
	int e = find_pkt(SSH_MSG_CHANNEL_EOF, 0), c = find_pkt(SSH_MSG_CHANNEL_CLOSE, 0);
	CHECK(e >= 0 && c > e);
	CHECK(chan_next_timeout_ms(cs, now) == -1);
	CHECK(chan_count(cs) == 1);
	clear_pkts();
	CHECK(send_simple(cs, SSH_MSG_CHANNEL_CLOSE, id) == 0);
	CHECK(n_pkts == 0 && chan_count(cs) == 0);
	int st;
	CHECK(waitpid(-1, &st, 0) > 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGHUP);
	cfg.n_channel_timeout = 0;
	chan_free(cs);
}

int main(void)
{
	crypto_init();
	log_init("test_channel", LOG_L_ERROR, 1, NULL, 0);
	/* as under nohup: a child's SIG_IGN until it resets its signals. The
	 * sessions ended at once below still have to die of their SIGHUP. */
	signal(SIGHUP, SIG_IGN);
	buf_init(&out_pkt, 1024, 1u << 20);
	buf_init(&msg, 1024, 1u << 20);
	cfg.max_sessions = 10;
	cfg.channel_window = 2 * 1024 * 1024;
	test_open();
	test_exec_basic();
	test_env_and_identity();
	test_forced_and_subsystem();
	test_signals();
	test_stdin_and_windows();
	test_input_batches();
	test_remote_window();
	test_configured_window();
	test_close_policy();
	test_channel_timeout();
	clear_pkts();
	return UNIT_DONE();
}
