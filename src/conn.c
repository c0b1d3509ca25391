/* conn: one connection's life — version exchange, the poll loop, message
 * dispatch, timers, and the logged reason it ended. */
#include "conn.h"
#include "match.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <malloc.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "alive.h"
#include "auth.h"
#include "channel.h"
#include "crypto.h"
#include "build_opts.h"
#include "forward.h"
#include "kex.h"
#include "log.h"
#include "monitor.h"
#include "packet.h"
#include "sandbox.h"

/* The software version starts with "OpenSSH" on purpose: OpenSSH's client
 * only sends eow@openssh.com (its stdout has failed, e.g. `ssh host 'cat
 * /dev/zero' | false`) to servers whose version matches "OpenSSH*"; without
 * it that command never ends. No particular OpenSSH release is claimed, so
 * no version-specific client workaround is triggered. */
#define VERSION_STRING "SSH-2.0-OpenSSH_wombat_0.1"
#define VERSION_LINE_MAX 255
#define MAX_POLLFDS 1024   /* socket, signals, 3 per channel, listeners */

struct conn {
	struct packet pkt;
	struct kex kex;
	struct auth auth;
	struct config cfg;           /* after Match for the user */
	struct chanset *chans;
	struct fwdset *fwd;          /* remote forwards' listeners */
	buf_t obuf;                  /* payload of the packet being built */
	buf_t held;                  /* non-transport packets held during kex */
	int version_done;
	int userauth_started;        /* SERVICE_REQUEST "ssh-userauth" accepted */
	int authenticated;
	int closing;                 /* DISCONNECT sent or peer gone: flush and end */
	int64_t closing_since;       /* when closing began (monotonic ms) */
	int ended;
	int end_kind;                /* enum conn_end once decided, else 0 */
	int no_more_sessions;
	char cause[300];             /* why the connection ended */
	char peer_addr[64], local_addr[64];
	int peer_port, local_port;
	struct alive alive;          /* timers: grace, keepalive, unused */
	int was_throttled;
	int preauth_child;           /* the sandboxed pre-auth child (monitor.h) */
	int handed_over;             /* the child sent its transport state */
	int trimmed;                 /* memory given back since the last event */
};

/* In .data, not .bss: .data's page is written at start-up anyway, and in
 * .bss this flag alone dirtied a page of every connection process (4 KiB;
 * nothing else the process writes lay on it). */
static int privsep_on __attribute__((section(".data.privsep_on")));
void (*conn_test_after_version)(const char *client_version);

void conn_set_privsep(int on)
{
	privsep_on = on;
}

struct auth *conn_auth(struct conn *c)
{
	return &c->auth;
}

static int sig_pipe[2] = { -1, -1 };
static int auth_notify_fd = -1;

void conn_set_auth_notify(int fd)
{
	auth_notify_fd = fd;
}

/* ---- services for the channel layer ---------------------------------- */

__attribute__((noinline)) buf_t *conn_pkt_start(struct conn *c, uint8_t msg)
{
	buf_reset(&c->obuf);
	buf_put_u8(&c->obuf, msg);
	return &c->obuf;
}

static int is_transport_msg(uint8_t msg)
{
	return msg >= 1 && msg <= 49 && msg != SSH_MSG_SERVICE_ACCEPT && msg != SSH_MSG_EXT_INFO;
}

/* During a key exchange only transport messages may leave (RFC 4253 s7.1);
 * everything else waits in `held` until our NEWKEYS has gone out. */
static int kex_holds_output(const struct conn *c)
{
	return c->kex.sent_kexinit && !c->kex.sent_newkeys;
}

int conn_pkt_send(struct conn *c)
{
	if (c->closing)
		return -1;
	const uint8_t *p = buf_data(&c->obuf);
	size_t n = buf_used(&c->obuf);
	if (kex_holds_output(c) && !is_transport_msg(p[0])) {
		if (buf_put_u32(&c->held, (uint32_t)n) < 0 || buf_put(&c->held, p, n) < 0) {
			conn_disconnect(c, SSH_DISCONNECT_BY_APPLICATION,
					"output held during key exchange overflowed");
			return -1;
		}
		return 0;
	}
	if (pkt_send(&c->pkt, p, n) < 0) {
		conn_disconnect(c, SSH_DISCONNECT_BY_APPLICATION, "%s", c->pkt.err);
		return -1;
	}
	return 0;
}

uint8_t *conn_pkt_room(struct conn *c, size_t n, size_t len, size_t *stride)
{
	if (c->closing || kex_holds_output(c))
		return NULL;
	return pkt_room(&c->pkt, n, len, stride);
}

int conn_pkt_seal(struct conn *c, size_t len)
{
	if (c->closing)
		return -1;
	if (pkt_seal_queued(&c->pkt, len) < 0) {
		conn_disconnect(c, SSH_DISCONNECT_BY_APPLICATION, "%s", c->pkt.err);
		return -1;
	}
	return 0;
}

static void release_held(struct conn *c)
{
	rd_t r;
	rd_init(&r, buf_data(&c->held), buf_used(&c->held));
	while (rd_left(&r) > 0) {
		uint32_t n;
		const uint8_t *p;
		if (rd_u32(&r, &n) < 0 || rd_ptr(&r, &p, n) < 0)
			break;
		if (pkt_send(&c->pkt, p, n) < 0) {
			conn_disconnect(c, SSH_DISCONNECT_BY_APPLICATION, "%s", c->pkt.err);
			break;
		}
	}
	buf_reset(&c->held);
}

size_t conn_out_queued(const struct conn *c)
{
	return pkt_out_queued(&c->pkt) + buf_used(&c->held);
}

const struct config *conn_config(const struct conn *c) { return &c->cfg; }
int conn_payload_lendable(const struct conn *c) { return !c->pkt.zin_on; }
const struct passwd *conn_user(const struct conn *c)
{
	return c->authenticated ? &c->auth.pw : NULL;
}
const struct authkey_opts *conn_authkey_opts(const struct conn *c)
{
	return c->auth.have_opts ? &c->auth.opts : NULL;
}
const char *conn_peer_addr(const struct conn *c) { return c->peer_addr; }
int conn_peer_port(const struct conn *c) { return c->peer_port; }
const char *conn_local_addr(const struct conn *c) { return c->local_addr; }
int conn_local_port(const struct conn *c) { return c->local_port; }

/* Record why the connection ends (the first cause wins) and stop reading. */
static void set_cause(struct conn *c, const char *cause)
{
	if (!c->cause[0])
		str_copy(c->cause, sizeof(c->cause), cause);
	if (!c->closing)
		c->closing_since = alive_now_ms();
	c->closing = 1;
}

/* Disconnect reasons that mean the client broke the protocol: before
 * authentication they count against its address (PerSourcePenalties). */
static void note_end_kind(struct conn *c, uint32_t reason)
{
	if (c->end_kind || c->authenticated)
		return;
	if (reason == SSH_DISCONNECT_PROTOCOL_ERROR || reason == SSH_DISCONNECT_MAC_ERROR ||
	    reason == SSH_DISCONNECT_KEY_EXCHANGE_FAILED ||
	    reason == SSH_DISCONNECT_SERVICE_NOT_AVAILABLE)
		c->end_kind = CONN_END_PROTOCOL;
}

void conn_disconnect(struct conn *c, uint32_t reason, const char *fmt, ...)
{
	char why[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	note_end_kind(c, reason);
	/* once closing, nothing more is sent */
	if (!c->closing && c->version_done && !c->pkt.eof) {
		buf_t b;
		buf_init(&b, 300, 1024);
		buf_put_u8(&b, SSH_MSG_DISCONNECT);
		buf_put_u32(&b, reason);
		buf_put_cstring(&b, why);
		buf_put_cstring(&b, "");
		pkt_send(&c->pkt, buf_data(&b), buf_used(&b));
		buf_free(&b);
	}
	set_cause(c, why);
}

/* ---- signals ------------------------------------------------------------ */

static void on_sigchld(int sig)
{
	(void)sig;
	int saved = errno;
	if (sig_pipe[1] >= 0)
		(void)!write(sig_pipe[1], "c", 1);
	errno = saved;
}

/* The self-pipe is made once per process: a daemon's connection process
 * runs one connection, but the fuzz harness (tests/fuzz/fuzz_preauth.c)
 * runs conn_run many times in one process and must not leak a pipe each. */
static void setup_signals(void)
{
	if (sig_pipe[0] < 0 && pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		fatal("pipe: %m");
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigchld;
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_DFL);
}

static void reap_children(struct conn *c)
{
	char tmp[64];
	while (read(sig_pipe[0], tmp, sizeof(tmp)) > 0)
		;
	for (;;) {
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG);
		if (pid <= 0)
			break;
		if (c->chans)
			chan_child_exited(c->chans, pid, status);
	}
}

/* ---- version exchange (RFC 4253 s4.2) -------------------------------- */

/* 1 when the client's version line has been read, 0 need more, -1 bad. */
static int read_version(struct conn *c)
{
	buf_t *in = &c->pkt.in;
	const uint8_t *d = buf_data(in);
	size_t n = buf_used(in);
	const uint8_t *nl = memchr(d, '\n', n);
	if (!nl) {
		if (n > VERSION_LINE_MAX) {
			conn_disconnect(c, SSH_DISCONNECT_PROTOCOL_ERROR,
					"bad protocol version identification: line longer than %d bytes",
					VERSION_LINE_MAX);
			return -1;
		}
		return 0;
	}
	size_t linelen = (size_t)(nl - d) + 1;
	size_t textlen = linelen - 1;
	if (textlen && d[textlen - 1] == '\r')
		textlen--;
	if (linelen > VERSION_LINE_MAX) {
		conn_disconnect(c, SSH_DISCONNECT_PROTOCOL_ERROR,
				"bad protocol version identification: line longer than %d bytes",
				VERSION_LINE_MAX);
		return -1;
	}
	char line[VERSION_LINE_MAX + 1];
	memcpy(line, d, textlen);
	line[textlen] = 0;
	buf_consume(in, linelen);
	if (strlen(line) != textlen ||
	    (strncmp(line, "SSH-2.0-", 8) != 0 && strncmp(line, "SSH-1.99-", 9) != 0)) {
		char shown[64];
		size_t k;
		for (k = 0; k < sizeof(shown) - 1 && k < textlen; k++)
			shown[k] = (line[k] >= 0x20 && line[k] < 0x7f) ? line[k] : '?';
		shown[k] = 0;
		conn_disconnect(c, SSH_DISCONNECT_PROTOCOL_ERROR,
				"bad protocol version identification '%s' from %s port %d",
				shown, c->peer_addr, c->peer_port);
		return -1;
	}
	str_copy(c->kex.v_c, sizeof(c->kex.v_c), line);
	c->version_done = 1;
	debug("client version: %s", line);
	if (c->preauth_child && conn_test_after_version)
		conn_test_after_version(line);
	return 1;
}

/* ---- message dispatch -------------------------------------------------- */

static void send_unimplemented(struct conn *c)
{
	buf_t *b = conn_pkt_start(c, SSH_MSG_UNIMPLEMENTED);
	buf_put_u32(b, c->pkt.seq_in - 1);
	conn_pkt_send(c);
}

static void handle_service_request(struct conn *c, rd_t *r)
{
	char name[64];
	if (rd_cstring(r, name, sizeof(name)) < 0 || rd_end(r) < 0) {
		conn_disconnect(c, SSH_DISCONNECT_PROTOCOL_ERROR, "malformed service request");
		return;
	}
	if (strcmp(name, "ssh-userauth") != 0 || c->authenticated) {
		conn_disconnect(c, SSH_DISCONNECT_SERVICE_NOT_AVAILABLE,
				"service \"%s\" not available", name);
		return;
	}
	c->userauth_started = 1;
	buf_t *b = conn_pkt_start(c, SSH_MSG_SERVICE_ACCEPT);
	buf_put_cstring(b, name);
	conn_pkt_send(c);
}

static void handle_global_request(struct conn *c, rd_t *r)
{
	char name[128];
	int want_reply;
	if (rd_cstring(r, name, sizeof(name)) < 0 || rd_bool(r, &want_reply) < 0) {
		conn_disconnect(c, SSH_DISCONNECT_PROTOCOL_ERROR, "malformed global request");
		return;
	}
	if (strcmp(name, "no-more-sessions@openssh.com") == 0) {
		c->no_more_sessions = 1;
		return;
	}
	int fwd = HAVE_FORWARDING && c->fwd ? fwd_global_request(c->fwd, name, want_reply, r) : 0;
	if (fwd < 0)
		conn_disconnect(c, SSH_DISCONNECT_PROTOCOL_ERROR, "malformed %s request", name);
	if (fwd)
		return;
	debug("global request %s (want_reply %d): not supported", name, want_reply);
	/* keepalive@openssh.com and unknown requests: failure is the answer the
	 * client's keepalive expects. */
	if (want_reply) {
		conn_pkt_start(c, SSH_MSG_REQUEST_FAILURE);
		conn_pkt_send(c);
	}
}

int conn_apply_match(struct conn *c, const char *user, const char *const *groups)
{
	int level_before = c->cfg.log_level;
	struct match_conn mc = { .user = user, .groups = groups, .addr = c->peer_addr,
				 .host = NULL, .laddr = c->local_addr, .lport = c->local_port };
	if (config_match(&c->cfg, &mc) < 0)
		return -1;
	if (c->cfg.log_level != level_before)
		log_set_level((enum log_level)c->cfg.log_level);
	return 0;
}

/* The user is in (Match was applied at the first userauth request): start
 * delayed compression, open channels. */
static void on_authenticated(struct conn *c)
{
	if (c->preauth_child) {
		c->authenticated = 1;   /* the monitor takes over (conn_loop) */
		return;
	}
	if (auth_notify_fd >= 0) {
		close(auth_notify_fd);      /* no longer counts for MaxStartups */
		auth_notify_fd = -1;
	}
	c->authenticated = 1;
	int zin = strcmp(c->kex.comp_c2s, "zlib@openssh.com") == 0;
	int zout = strcmp(c->kex.comp_s2c, "zlib@openssh.com") == 0;
	if ((zin || zout) && pkt_start_compression(&c->pkt, zin, zout) < 0)
		conn_disconnect(c, SSH_DISCONNECT_BY_APPLICATION, "%s", c->pkt.err);
	c->chans = chan_init(c);
	/* no forwarding state in a build without it (--disable-forwarding) */
	c->fwd = HAVE_FORWARDING && c->chans ? fwd_init(c, c->chans) : NULL;
	if (!c->chans || (HAVE_FORWARDING && !c->fwd))
		conn_disconnect(c, SSH_DISCONNECT_BY_APPLICATION, "out of memory");
	alive_authenticated(&c->alive, alive_now_ms());
}

static void handle_peer_disconnect(struct conn *c, rd_t *r)
{
	uint32_t code = 0;
	char desc[160] = "";
	rd_u32(r, &code);
	rd_cstring(r, desc, sizeof(desc));
	/* formatted where set_cause would copy it (the first cause stays) */
	if (!c->cause[0])
		snprintf(c->cause, sizeof(c->cause), "client closed: disconnect %u \"%s\"", code,
			 desc);
	set_cause(c, c->cause);
}

static int strict_kex_allows(const struct conn *c, uint8_t msg)
{
	if (c->kex.done_first)
		return 1;
	if (msg == SSH_MSG_KEXINIT || msg == SSH_MSG_NEWKEYS || (msg >= 30 && msg <= 49) ||
	    msg == SSH_MSG_DISCONNECT)
		return 1;
	return !c->kex.strict && msg != SSH_MSG_SERVICE_REQUEST && msg < 50 ? 1 : 0;
}

static void dispatch(struct conn *c, const uint8_t *payload, size_t len)
{
	uint8_t msg = payload[0];
	rd_t r;
	rd_init(&r, payload + 1, len - 1);
	if (!c->kex.done_first && !c->kex.got_kexinit && msg != SSH_MSG_KEXINIT &&
	    msg != SSH_MSG_DISCONNECT && msg != SSH_MSG_IGNORE && msg != SSH_MSG_DEBUG) {
		conn_disconnect(c, SSH_DISCONNECT_PROTOCOL_ERROR,
				"protocol error: message %u before KEXINIT", msg);
		return;
	}
	if (!strict_kex_allows(c, msg)) {
		conn_disconnect(c, SSH_DISCONNECT_PROTOCOL_ERROR,
				"protocol error: message %u during initial key exchange", msg);
		return;
	}
	if (msg >= SSH_MSG_KEXINIT && msg <= 49) {
		if (kex_handle(&c->kex, &c->pkt, msg, payload, len) < 0) {
			conn_disconnect(c, SSH_DISCONNECT_KEY_EXCHANGE_FAILED, "key exchange: %s",
					c->kex.err);
			return;
		}
		if (!kex_holds_output(c) && buf_used(&c->held))
			release_held(c);
		return;
	}
	switch (msg) {
	case SSH_MSG_DISCONNECT:
		handle_peer_disconnect(c, &r);
		return;
	case SSH_MSG_IGNORE: case SSH_MSG_DEBUG: case SSH_MSG_UNIMPLEMENTED:
		return;
	case SSH_MSG_SERVICE_REQUEST:
		handle_service_request(c, &r);
		return;
	case SSH_MSG_USERAUTH_REQUEST:
		if (c->authenticated)
			return;    /* RFC 4252 s5.1: ignored after success */
		if (!c->userauth_started) {
			conn_disconnect(c, SSH_DISCONNECT_PROTOCOL_ERROR,
					"protocol error: userauth request before service request");
			return;
		}
		if (auth_handle(&c->auth, c, payload + 1, len - 1, c->kex.session_id,
				c->kex.session_id_len) == 0 && c->auth.success)
			on_authenticated(c);
		pkt_wipe_last(&c->pkt);      /* a password request carries a secret */
		return;
	case SSH_MSG_GLOBAL_REQUEST:
		if (!c->authenticated)
			break;
		handle_global_request(c, &r);
		return;
	case SSH_MSG_REQUEST_SUCCESS: case SSH_MSG_REQUEST_FAILURE:
		return;    /* answers to our keepalives; receiving them is the point */
	default:
		if (msg >= SSH_MSG_CHANNEL_OPEN && msg <= SSH_MSG_CHANNEL_FAILURE) {
			if (!c->authenticated || !c->chans) {
				conn_disconnect(c, SSH_DISCONNECT_PROTOCOL_ERROR,
						"protocol error: channel message %u before authentication", msg);
				return;
			}
			if (chan_dispatch(c->chans, msg, &r) < 0 && !c->closing)
				conn_disconnect(c, SSH_DISCONNECT_PROTOCOL_ERROR,
						"protocol error in channel message %u", msg);
			return;
		}
	}
	send_unimplemented(c);
}

/* The pre-auth child stops once the user is in and no key exchange is
 * running: what follows belongs to the monitor. */
static int handover_due(const struct conn *c)
{
	return c->preauth_child && c->authenticated && !kex_in_progress(&c->kex);
}

static void process_input(struct conn *c)
{
	if (!c->version_done) {
		if (read_version(c) <= 0)
			return;
	}
	const uint8_t *payload;
	size_t len;
	int rc = 0;
	while (!c->closing && !handover_due(c) && (rc = pkt_next(&c->pkt, &payload, &len)) == 1) {
		alive_received(&c->alive, alive_now_ms());
		dispatch(c, payload, len);
	}
	if (!c->closing && rc < 0) {
		int mac = strstr(c->pkt.err, "MAC") != NULL;
		conn_disconnect(c, mac ? SSH_DISCONNECT_MAC_ERROR : SSH_DISCONNECT_PROTOCOL_ERROR,
				"protocol error: %s", c->pkt.err);
	}
}

/* ---- timers ------------------------------------------------------------- */

/* ClientAlive probe: as a channel request on an open channel when there is
 * one, else as a global request — OpenSSH's way; either needs a reply. */
static void send_keepalive(struct conn *c)
{
	if (c->chans && chan_send_keepalive(c->chans))
		return;
	buf_t *b = conn_pkt_start(c, SSH_MSG_GLOBAL_REQUEST);
	buf_put_cstring(b, "keepalive@openssh.com");
	buf_put_bool(b, 1);
	conn_pkt_send(c);
}

static void run_alive(struct conn *c, int64_t now)
{
	const struct config *cfg = &c->cfg;
	if (c->chans)
		alive_channels(&c->alive, chan_count(c->chans), now);
	switch (alive_check(&c->alive, cfg, now)) {
	case ALIVE_NOTHING:
		break;
	case ALIVE_LOGIN_GRACE:
		c->end_kind = CONN_END_GRACE;
		conn_disconnect(c, SSH_DISCONNECT_BY_APPLICATION,
				"LoginGraceTime (%d s) exceeded before authentication",
				cfg->login_grace_time);
		break;
	case ALIVE_SEND_PROBE:
		debug("no packet from the client for %d s: keepalive probe %d of %d",
		      cfg->client_alive_interval, c->alive.probes, cfg->client_alive_count_max);
		send_keepalive(c);
		break;
	case ALIVE_KEEPALIVE_TIMEOUT:
		conn_disconnect(c, SSH_DISCONNECT_BY_APPLICATION,
				"keepalive timeout: %d probes unanswered (ClientAliveInterval %d, ClientAliveCountMax %d)",
				c->alive.probes, cfg->client_alive_interval,
				cfg->client_alive_count_max);
		break;
	case ALIVE_UNUSED_TIMEOUT:
		conn_disconnect(c, SSH_DISCONNECT_BY_APPLICATION,
				"unused connection timeout: no open channel for %d s (UnusedConnectionTimeout)",
				cfg->unused_connection_timeout);
		break;
	}
}

static void run_timers(struct conn *c, time_t now)
{
	int64_t ms = alive_now_ms();
	run_alive(c, ms);
	if (c->closing)
		return;
	if (c->chans)
		chan_expire_idle(c->chans, ms);
	if (kex_rekey_due(&c->kex, &c->pkt, now)) {
		debug("starting rekey");
		if (kex_send_kexinit(&c->kex, &c->pkt) < 0)
			conn_disconnect(c, SSH_DISCONNECT_BY_APPLICATION, "rekey: %s", c->kex.err);
	}
}

/* poll() timeout: the nearest timer, at most a minute (the rekey time
 * limit is checked at least that often). */
static int next_timeout_ms(const struct conn *c)
{
	int64_t now = alive_now_ms();
	int64_t best = 60000;
	if (c->closing) {
		int64_t left = c->closing_since + CONN_CLOSE_LINGER_MS - now;
		return left > 0 ? (int)left + 5 : 0;
	}
	int64_t t = alive_next_ms(&c->alive, &c->cfg, now);
	if (t >= 0 && t < best)
		best = t;
	if (c->chans) {
		t = chan_next_timeout_ms(c->chans, now);
		if (t >= 0 && t < best)
			best = t;
	}
	return (int)best + 5;   /* a little late rather than spinning early */
}

/* ---- the loop ----------------------------------------------------------- */

/* Numeric address and port of a socket address; "UNKNOWN" otherwise. */

static void fill_addresses(struct conn *c, int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	memcpy(c->peer_addr, "UNKNOWN", sizeof "UNKNOWN");
	memcpy(c->local_addr, "UNKNOWN", sizeof "UNKNOWN");
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0)
		c->peer_port = sockaddr_text(&ss, c->peer_addr, sizeof(c->peer_addr));
	sl = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
		c->local_port = sockaddr_text(&ss, c->local_addr, sizeof(c->local_addr));
}

/* During the handshake the client writes several small packets in a row
 * (KEXINIT then ECDH_INIT; NEWKEYS then SERVICE_REQUEST) and Nagle holds
 * the second until we ACK the first. The kernel drops out of quick-ACK
 * mode on its own, so it is re-armed after every read until the user is
 * in; otherwise each of those waits costs a delayed ACK (~40 ms). */
static void rearm_quickack(int fd)
{
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
}

static void tune_socket(int fd, const struct config *cfg)
{
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
	if (cfg->tcp_keep_alive)
		setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
}

/* The one line that says why the connection ended. A connection that
 * ends unauthenticated after failed attempts is an auth failure, whoever
 * hung up (the client giving up, MaxAuthTries, LoginGraceTime). */
/* How the connection ended, for the listener (enum conn_end). */
static int end_kind(const struct conn *c)
{
	if (c->authenticated)
		return CONN_END_OK;
	if (c->end_kind)
		return c->end_kind;
	if (c->auth.failures > 0)
		return CONN_END_AUTHFAIL;
	return c->auth.attempts > 0 ? CONN_END_OK : CONN_END_NOAUTH;
}

static void log_end(struct conn *c)
{
	long dur = (long)((alive_now_ms() - c->alive.start) / 1000);
	char authfail[128] = "";
	if (!c->authenticated && c->auth.failures > 0)
		snprintf(authfail, sizeof(authfail), "auth failure (%d failed attempt%s as %s): ",
			 c->auth.failures, c->auth.failures == 1 ? "" : "s", c->auth.user);
	logit("Connection from %s port %d ended: %s%s; user %s; %lds, %llu bytes in, %llu bytes out",
	      c->peer_addr, c->peer_port, authfail, c->cause[0] ? c->cause : "unknown",
	      c->authenticated ? c->auth.pw.pw_name : "(not authenticated)", dur,
	      (unsigned long long)c->pkt.total_in, (unsigned long long)c->pkt.total_out);
}

static int build_pollfds(struct conn *c, struct pollfd *pfd, int *n_chan, int *n_fwd)
{
	int n = 0;
	int in_fd = c->pkt.in_fd, out_fd = c->pkt.out_fd;
	short in_ev = c->closing ? 0 : POLLIN;
	short out_ev = pkt_out_queued(&c->pkt) ? POLLOUT : 0;
	if (in_fd == out_fd) {
		pfd[n++] = (struct pollfd){ .fd = in_fd, .events = in_ev | out_ev };
		pfd[n++] = (struct pollfd){ .fd = -1 };
	} else {
		pfd[n++] = (struct pollfd){ .fd = in_fd, .events = in_ev };
		pfd[n++] = (struct pollfd){ .fd = out_fd, .events = out_ev };
	}
	pfd[n++] = (struct pollfd){ .fd = sig_pipe[0], .events = POLLIN };
	*n_chan = *n_fwd = 0;
	if (c->chans && !c->closing)
		*n_chan = chan_pollfds(c->chans, pfd + n, MAX_POLLFDS - n);
	if (HAVE_FORWARDING && c->fwd && !c->closing)
		*n_fwd = fwd_pollfds(c->fwd, pfd + n + *n_chan, MAX_POLLFDS - n - *n_chan);
	return n + *n_chan + *n_fwd;
}

static void handle_socket_events(struct conn *c, struct pollfd *pfd)
{
	short in_rev = pfd[0].revents;
	short out_rev = pfd[0].fd == c->pkt.out_fd ? pfd[0].revents : pfd[1].revents;
	if (out_rev & (POLLOUT | POLLERR | POLLHUP)) {
		if (pkt_out_queued(&c->pkt) && pkt_flush(&c->pkt) < 0) {
			set_cause(c, c->pkt.err);
			c->ended = 1;
			return;
		}
	}
	if (!c->closing && (in_rev & (POLLIN | POLLERR | POLLHUP))) {
		if (pkt_fill(&c->pkt) < 0) {
			set_cause(c, c->pkt.err);
			c->pkt.eof = 1;
		}
		if (!c->authenticated)
			rearm_quickack(c->pkt.in_fd);
		process_input(c);
		if (c->chans)
			chan_flush_input(c->chans);
	}
}

/* A client that does not read may not pin this process: before
 * authentication its unread output is bounded, and once a disconnect is
 * decided the process lingers at most CONN_CLOSE_LINGER_MS for it. */
static void check_output_bounds(struct conn *c)
{
	size_t queued = pkt_out_queued(&c->pkt);
	if (!c->authenticated && !c->closing && queued > CONN_PREAUTH_OUT_MAX) {
		c->end_kind = CONN_END_PROTOCOL;
		_Static_assert(CONN_PREAUTH_OUT_MAX == 512u * 1024, "the cause below names 512 KiB");
		set_cause(c, "client does not read: more than 512 KiB of unread "
			  "output before authentication");
		c->ended = 1;
		return;
	}
	if (c->closing && queued && alive_now_ms() - c->closing_since >= CONN_CLOSE_LINGER_MS) {
		size_t used = strlen(c->cause);
		snprintf(c->cause + used, sizeof(c->cause) - used,
			 "; %zu bytes left unsent: client did not read for %d s",
			 queued, CONN_CLOSE_LINGER_MS / 1000);
		c->ended = 1;
	}
}

/* ---- privilege separation: the transport state between processes ---- */

#define HANDOVER_CHUNK (64u * 1024u)

static void put_chunks(buf_t *b, const uint8_t *p, size_t n)
{
	buf_put_u32(b, (uint32_t)((n + HANDOVER_CHUNK - 1) / HANDOVER_CHUNK));
	while (n > 0) {
		size_t take = n < HANDOVER_CHUNK ? n : HANDOVER_CHUNK;
		buf_put_string(b, p, take);
		p += take;
		n -= take;
	}
}

static int get_chunks(rd_t *r, buf_t *into)
{
	uint32_t n;
	if (rd_u32(r, &n) < 0 || n > 64)
		return -1;
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *p;
		size_t len;
		if (rd_string(r, &p, &len) < 0 || buf_put(into, p, len) < 0)
			return -1;
	}
	return 0;
}

/* A string of exactly n bytes into out. */
static int rd_fixed(rd_t *r, uint8_t *out, size_t n)
{
	const uint8_t *p;
	size_t len;
	if (rd_string(r, &p, &len) < 0 || len != n)
		return -1;
	memcpy(out, p, n);
	return 0;
}

/* The packet layer's counters, in the order they are handed over. */
static const struct { unsigned short at, wide; } pkt_counters[] = {
	{ offsetof(struct packet, seq_in), 0 },      { offsetof(struct packet, seq_out), 0 },
	{ offsetof(struct packet, rekey_in), 1 },    { offsetof(struct packet, rekey_out), 1 },
	{ offsetof(struct packet, total_in), 1 },    { offsetof(struct packet, total_out), 1 },
	{ offsetof(struct packet, packets_in), 1 },  { offsetof(struct packet, packets_out), 1 },
};
#define N_PKT_COUNTERS (sizeof(pkt_counters) / sizeof(pkt_counters[0]))
_Static_assert(sizeof(((struct packet *)0)->seq_in) == 4 &&
	       sizeof(((struct packet *)0)->rekey_in) == 8, "pkt_counters' widths");

static int put_direction(buf_t *b, const tcrypt_t *t)
{
	struct tcrypt_state st;
	int rc = tcrypt_export(t, &st);
	buf_put_cstring(b, st.cipher);
	buf_put_cstring(b, st.mac);
	buf_put_string(b, st.key, sizeof(st.key));
	buf_put_string(b, st.iv, sizeof(st.iv));
	buf_put_string(b, st.mackey, sizeof(st.mackey));
	wipe(&st, sizeof(st));
	return rc;
}

static tcrypt_t *get_direction(rd_t *r, int encrypt)
{
	struct tcrypt_state st;
	memset(&st, 0, sizeof(st));
	tcrypt_t *t = NULL;
	if (rd_cstring(r, st.cipher, sizeof(st.cipher)) == 0 &&
	    rd_cstring(r, st.mac, sizeof(st.mac)) == 0 &&
	    rd_fixed(r, st.key, sizeof(st.key)) == 0 &&
	    rd_fixed(r, st.iv, sizeof(st.iv)) == 0 &&
	    rd_fixed(r, st.mackey, sizeof(st.mackey)) == 0)
		t = tcrypt_import(&st, encrypt);
	wipe(&st, sizeof(st));
	return t;
}

/* The child: everything the monitor needs to carry the connection on,
 * sent once; the child then ends. */
static void hand_over(struct conn *c)
{
	struct packet *p = &c->pkt;
	struct kex *k = &c->kex;
	buf_t b;
	if (p->consume_pending) {
		buf_consume(&p->in, p->consume_pending);
		p->consume_pending = 0;
	}
	pkt_flush(p);
	buf_init(&b, 4096, MON_MSG_MAX);
	buf_put_string(&b, k->session_id, k->session_id_len);
	buf_put_cstring(&b, k->v_c);
	int rc = put_direction(&b, p->rx) | put_direction(&b, p->tx);
	for (size_t i = 0; i < N_PKT_COUNTERS; i++) {
		const void *v = (const char *)p + pkt_counters[i].at;
		if (pkt_counters[i].wide)
			buf_put_u64(&b, *(const uint64_t *)v);
		else
			buf_put_u32(&b, *(const uint32_t *)v);
	}
	buf_put_bool(&b, k->strict);
	buf_put_bool(&b, k->ext_info_c);
	buf_put_u32(&b, (uint32_t)k->rekeys);
	buf_put_u64(&b, (uint64_t)k->last_kex_time);
	const char *names[] = { k->alg_kex, k->alg_hostkey, k->enc_c2s, k->enc_s2c,
				k->mac_c2s, k->mac_s2c, k->comp_c2s, k->comp_s2c };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		buf_put_cstring(&b, names[i]);
	put_chunks(&b, buf_data(&p->in), buf_used(&p->in));
	put_chunks(&b, buf_data(&p->out), buf_used(&p->out));
	if (rc < 0 || mon_send(MON_TRANSPORT, &b) < 0)
		set_cause(c, "cannot hand the connection over to the monitor");
	else
		c->handed_over = 1;
	buf_free(&b);
}

int conn_import_transport(struct conn *c, rd_t *r, const uint8_t *sid, size_t sidl,
			  char *err, size_t errsz)
{
	struct packet *p = &c->pkt;
	struct kex *k = &c->kex;
	const uint8_t *their_sid;
	size_t their_sidl;
	if (rd_string(r, &their_sid, &their_sidl) < 0 || their_sidl != sidl || sidl == 0 ||
	    ct_memcmp(their_sid, sid, sidl) != 0) {
		snprintf(err, errsz, "transport state with a session id the monitor did not sign");
		return -1;
	}
	memcpy(k->session_id, sid, sidl);
	k->session_id_len = sidl;
	tcrypt_t *rx = NULL, *tx = NULL;
	if (rd_cstring(r, k->v_c, sizeof(k->v_c)) < 0 || !(rx = get_direction(r, 0)) ||
	    !(tx = get_direction(r, 1))) {
		tcrypt_free(rx);
		snprintf(err, errsz, "malformed transport state (keys)");
		return -1;
	}
	pkt_set_rx(p, rx);
	pkt_set_tx(p, tx);
	uint32_t rekeys;
	uint64_t last;
	int strict, ext;
	for (size_t i = 0; i < N_PKT_COUNTERS; i++) {
		void *v = (char *)p + pkt_counters[i].at;
		if (pkt_counters[i].wide)
			rd_u64(r, v);
		else
			rd_u32(r, v);
	}
	rd_bool(r, &strict);
	rd_bool(r, &ext);
	rd_u32(r, &rekeys);
	rd_u64(r, &last);
	char *names[] = { k->alg_kex, k->alg_hostkey, k->enc_c2s, k->enc_s2c,
			  k->mac_c2s, k->mac_s2c, k->comp_c2s, k->comp_s2c };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		rd_cstring(r, names[i], KEX_NAME_MAX);
	if (r->err || get_chunks(r, &p->in) < 0 || get_chunks(r, &p->out) < 0 || rd_end(r) < 0) {
		snprintf(err, errsz, "malformed transport state");
		return -1;
	}
	k->strict = strict;
	k->ext_info_c = ext;
	k->rekeys = (int)(rekeys & 0xffff);
	k->last_kex_time = (time_t)last;
	k->done_first = 1;
	k->newkeys_sent_once = 1;
	c->version_done = 1;
	c->userauth_started = 1;
	return 0;
}

/* ---- memory of an idle connection -------------------------------------- */

/* How long an authenticated connection is quiet before it gives memory back. */
#define CONN_IDLE_TRIM_MS 500

/* The stack below this frame holds nothing live: its pages go back to the
 * kernel (they come back zeroed if the stack grows there again). Kept: the
 * page holding the lowest byte this frame and the madvise call below it
 * can use (STACK_TRIM_MARGIN; madvise is a bare system call), not a page
 * more. The window lies within the stack and the guard gap the kernel
 * keeps free below it (256 pages or more), so it maps nothing else. */
#define STACK_TRIM_MARGIN 1024
static __attribute__((noinline)) void trim_stack(void)
{
	const uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	const size_t window = 512u * 1024;
	uintptr_t top = ((uintptr_t)__builtin_frame_address(0) - STACK_TRIM_MARGIN) & ~(page - 1);
	if (top > window)
		madvise((void *)(top - window), window, MADV_DONTNEED);
}

/* Buffers grow on demand: once the connection is quiet, the empty ones
 * are wiped and freed, the free heap pages returned (malloc_trim), and
 * the stack the handshake and the last burst used given back, so an idle
 * session holds little more than its state. */
static void trim_memory(struct conn *c)
{
	pkt_trim(&c->pkt);
	if (c->chans)
		chan_trim(c->chans);
	if (buf_used(&c->obuf) == 0)
		buf_release(&c->obuf);
	if (buf_used(&c->held) == 0)
		buf_release(&c->held);
	malloc_trim(0);
	trim_stack();
	c->trimmed = 1;
}

/* The poll() timeout, shortened to the idle mark when memory is still held. */
static int loop_timeout_ms(const struct conn *c)
{
	int t = next_timeout_ms(c);
	if (c->authenticated && !c->trimmed && !c->closing && t > CONN_IDLE_TRIM_MS)
		t = CONN_IDLE_TRIM_MS;
	return t;
}

static void conn_loop(struct conn *c)
{
	/* static: 8 KiB on the stack would stay resident for the whole session */
	static struct pollfd pfd[MAX_POLLFDS];
	while (!c->ended) {
		int n_chan, n_fwd;
		int n = build_pollfds(c, pfd, &n_chan, &n_fwd);
		int ready = poll(pfd, (nfds_t)n, loop_timeout_ms(c));
		if (ready < 0 && errno != EINTR) {
			set_cause(c, "poll failed");
			break;
		}
		if (ready != 0)
			c->trimmed = 0;
		else if (c->authenticated && !c->trimmed && !c->closing)
			trim_memory(c);
		if (pfd[2].revents & POLLIN)
			reap_children(c);
		handle_socket_events(c, pfd);
		if (handover_due(c) && !c->closing) {
			hand_over(c);
			break;
		}
		if (c->chans && n_chan && !c->closing)
			chan_poll_done(c->chans, pfd + 3, n_chan);
		if (HAVE_FORWARDING && c->fwd && n_fwd && !c->closing)
			fwd_poll_done(c->fwd, pfd + 3 + n_chan, n_fwd);
		if (!c->closing)
			run_timers(c, time(NULL));
		/* send what we produced in this round in one go */
		if (pkt_out_queued(&c->pkt) && pkt_flush(&c->pkt) < 0) {
			set_cause(c, c->pkt.err);
			break;
		}
		int throttled = conn_out_queued(c) > CONN_OUT_HIGH;
		if (c->chans && c->was_throttled && !throttled)
			chan_kick(c->chans);
		c->was_throttled = throttled;
		check_output_bounds(c);
		if (c->closing && (pkt_out_queued(&c->pkt) == 0 || c->pkt.eof))
			c->ended = 1;
	}
}

/* Everything a connection needs before its first byte: the same in the
 * pre-auth child and in the monitor (which resumes it after the login). */
static struct conn *conn_new(int in_fd, int out_fd, const struct config *cfg,
			     struct sshkey **hostkeys, int n_hostkeys)
{
	struct conn *c = calloc(1, sizeof(*c));
	if (!c)
		fatal("out of memory");
	config_copy(&c->cfg, cfg);
	alive_init(&c->alive, alive_now_ms());
	fill_addresses(c, in_fd);
	char prefix[100];
	snprintf(prefix, sizeof(prefix), "[%s:%d]", c->peer_addr, c->peer_port);
	log_set_prefix(prefix);
	verbose("Connection from %s port %d on %s port %d", c->peer_addr, c->peer_port,
		c->local_addr, c->local_port);
	tune_socket(in_fd, cfg);
	set_nonblock(in_fd);
	set_nonblock(out_fd);
	if (pkt_init(&c->pkt, in_fd, out_fd) < 0 ||
	    kex_init(&c->kex, &c->cfg, hostkeys, n_hostkeys) < 0 ||
	    buf_init(&c->obuf, 1024, PACKET_MAX_PAYLOAD) < 0 ||
	    buf_init(&c->held, 0, 64u * 1024 * 1024) < 0)
		fatal("out of memory");
	auth_init(&c->auth);
	str_copy(c->kex.v_s, sizeof(c->kex.v_s), VERSION_STRING);
	return c;
}

static void conn_free(struct conn *c)
{
	if (HAVE_FORWARDING)
		fwd_free(c->fwd);       /* its listeners and pending opens first */
	if (c->chans)
		chan_free(c->chans);
	pkt_free(&c->pkt);
	kex_free(&c->kex);
	auth_free(&c->auth);
	buf_free(&c->obuf);
	buf_free(&c->held);
	config_free(&c->cfg);
	free(c);
}

/* Our version line and KEXINIT leave in one write. */
static void conn_start(struct conn *c)
{
	buf_put(&c->pkt.out, VERSION_STRING "\r\n", strlen(VERSION_STRING) + 2);
	if (kex_send_kexinit(&c->kex, &c->pkt) < 0)
		fatal("cannot start key exchange: %s", c->kex.err);
	pkt_flush(&c->pkt);
}

/* The end: one log line, and how it ended. */
static int conn_finish(struct conn *c)
{
	if (HAVE_FORWARDING)
		fwd_free(c->fwd);
	c->fwd = NULL;
	if (c->chans) {
		chan_free(c->chans);
		c->chans = NULL;
	}
	log_end(c);
	int kind = end_kind(c);
	conn_free(c);
	return kind;
}

/* ---- privilege separation (monitor.h) ---------------------------------- */

/* Replace the host keys by public copies; the private ones are wiped. */
static int keep_public_hostkeys(struct sshkey **hostkeys, int n)
{
	for (int i = 0; i < n; i++) {
		buf_t blob;
		struct sshkey *pub = NULL;
		buf_init(&blob, 512, 8192);
		int rc = key_public_blob(hostkeys[i], &blob);
		if (rc == 0)
			rc = key_from_blob(buf_data(&blob), buf_used(&blob), &pub);
		buf_free(&blob);
		key_free(hostkeys[i]);
		hostkeys[i] = pub;
		if (rc < 0)
			return -1;
	}
	return 0;
}

static void child_log(int level, const char *line)
{
	mon_log(level, line);
}

/* The pre-auth child: sandboxed before the first byte is read, it runs the
 * connection until the user is in, hands over and exits. */
static void preauth_child(struct conn *c, int mon, struct sshkey **hostkeys, int n_hostkeys)
{
	mon_set_fd(mon);
	log_set_sink(child_log);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGCHLD, SIG_DFL);
	int keep[] = { c->pkt.in_fd, c->pkt.out_fd, mon };
	if (keep_public_hostkeys(hostkeys, n_hostkeys) < 0 || sandbox_enter(keep, 3) < 0)
		_exit(255);
	c->preauth_child = 1;
	conn_start(c);
	conn_loop(c);
	if (c->handed_over)
		_exit(CONN_END_OK);
	_exit(conn_finish(c));
}

/* How long the monitor waits for the child before the login: LoginGraceTime
 * (which the child enforces itself) and a margin; -1 for none. */
static int64_t monitor_deadline(const struct conn *c)
{
	if (c->cfg.login_grace_time <= 0)
		return -1;
	return alive_now_ms() + (int64_t)c->cfg.login_grace_time * 1000 + 10000;
}

/* Answer the child until it hands over (1), ends (0), breaks the protocol
 * (-1, logged), or outlives LoginGraceTime and its margin (-2, logged: a
 * child stopped or starved of CPU, which is the grace time's end, not a
 * protocol error). */
static int serve_child(struct conn *c, int fd, struct sshkey **hostkeys, int n_hostkeys)
{
	struct monitor m;
	buf_t msg, reply;
	int64_t deadline = monitor_deadline(c);
	int rc = 0;
	monitor_init(&m, c, hostkeys, n_hostkeys);
	buf_init(&msg, 4096, MON_MSG_MAX + 8);
	buf_init(&reply, 1024, MON_MSG_MAX);
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int64_t left = deadline < 0 ? -1 : deadline - alive_now_ms();
		if (deadline >= 0 && left <= 0) {
			snprintf(m.err, sizeof(m.err), "pre-auth child still running after LoginGraceTime");
			rc = -2;
			break;
		}
		if (poll(&pfd, 1, left < 0 ? -1 : (int)left) <= 0)
			continue;
		if (mon_read_msg(fd, &msg) < 0)
			break;                  /* the child has ended */
		rc = monitor_dispatch(&m, buf_data(&msg), buf_used(&msg), &reply);
		if (rc < 0)
			break;
		if (buf_used(&reply) &&
		    mon_write_msg(fd, buf_data(&reply)[0], buf_data(&reply) + 1,
				  buf_used(&reply) - 1) < 0) {
			rc = 0;
			break;
		}
		if (rc == 1)
			break;
	}
	if (rc < 0)
		error("monitor: %s: ending the connection", m.err);
	buf_free(&msg);
	buf_free(&reply);
	wipe(&m, sizeof(m));
	return rc;
}

static const char *signal_name(int sig)
{
	switch (sig) {
	case SIGSYS:  return "SIGSYS: a system call outside the sandbox";
	case SIGSEGV: return "SIGSEGV";
	case SIGBUS:  return "SIGBUS";
	case SIGABRT: return "SIGABRT";
	case SIGILL:  return "SIGILL";
	case SIGFPE:  return "SIGFPE";
	case SIGKILL: return "SIGKILL";
	default:      return "signal";
	}
}

/* The monitor ends the connection itself: the cause logged, how it ended. */
static int end_separated(struct conn *c, const char *cause, int kind)
{
	set_cause(c, cause);
	c->end_kind = kind;
	log_end(c);
	conn_free(c);
	return kind;
}

/* The child ended before a login: it logged its own end unless it was
 * killed. */
static int child_ended(struct conn *c, int status)
{
	char why[120] = "";
	int kind = c->end_kind ? c->end_kind : CONN_END_PROTOCOL;
	if (WIFEXITED(status)) {
		int code = WEXITSTATUS(status);
		if (code != 255) {
			conn_free(c);
			return code;
		}
		return end_separated(c, "pre-auth child failed (see above)", kind);
	}
	if (WIFSIGNALED(status)) {
		snprintf(why, sizeof(why), "pre-auth child killed by signal %d (%s)",
			 WTERMSIG(status), signal_name(WTERMSIG(status)));
		kind = CONN_END_CRASH;
	}
	return end_separated(c, why, kind);
}

static int wait_child(pid_t pid)
{
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return status;
}

static int run_separated(struct conn *c, struct sshkey **hostkeys, int n_hostkeys)
{
	int sp[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
		fatal("socketpair: %m");
	pid_t pid = fork();
	if (pid < 0)
		fatal("fork: %m");
	if (pid == 0) {
		close(sp[0]);
		preauth_child(c, sp[1], hostkeys, n_hostkeys);
	}
	close(sp[1]);
	int rc = serve_child(c, sp[0], hostkeys, n_hostkeys);
	if (rc < 0)
		kill(pid, SIGKILL);
	close(sp[0]);
	int status = wait_child(pid);
	if (rc == -2) {
		char cause[128];
		snprintf(cause, sizeof(cause), "LoginGraceTime (%d s) exceeded before "
			 "authentication (the pre-auth child did not end in time)",
			 c->cfg.login_grace_time);
		return end_separated(c, cause, CONN_END_GRACE);
	}
	if (rc < 0)
		return end_separated(c, "monitor request out of order or malformed (see above)",
				     CONN_END_PROTOCOL);
	if (rc == 0)
		return child_ended(c, status);
	/* the user is in: the monitor carries the connection on, starting with
	 * what the client sent after its userauth request, if anything */
	setup_signals();
	on_authenticated(c);
	if (buf_used(&c->pkt.in) && !c->closing)
		process_input(c);
	if (c->chans)
		chan_flush_input(c->chans);
	conn_loop(c);
	return conn_finish(c);
}

int conn_run(int in_fd, int out_fd, const struct config *cfg,
	     struct sshkey **hostkeys, int n_hostkeys)
{
	struct conn *c = conn_new(in_fd, out_fd, cfg, hostkeys, n_hostkeys);
	if (privsep_on)
		return run_separated(c, hostkeys, n_hostkeys);
	setup_signals();
	conn_start(c);
	conn_loop(c);
	return conn_finish(c);
}
