/* fuzz_forward: src/forward.c with forwarding allowed — direct-tcpip and
 * direct-streamlocal opens (restrictions, the resolver's answer, the
 * non-blocking connect and its timeout), the global requests
 * tcpip-forward / streamlocal-forward@openssh.com and their cancels, and
 * forwarded-tcpip / forwarded-streamlocal channels for accepted
 * connections — through chan_dispatch, with a stub connection as in
 * fuzz_channel.c.
 *
 * Nothing reaches the network or the file system: while an input runs,
 * socket() hands out one end of a socketpair (the other end, the "peer",
 * stays with the harness), and connect, bind, listen, accept4,
 * getsockopt(SO_ERROR) and getsockname answer from a script; fork() (the
 * resolver) starts nothing and writes a scripted answer into the pipe the
 * resolver would have written to; unlink() and kill() only record. Outside
 * an input every one of them is the real system call.
 *
 * Input: [flags][u16 len][script][u16 len][message]...
 * script: bytes consumed one per faked decision (connect, bind, accept,
 * fork), 0 once used up. A message's first byte is its number: 80 is a
 * global request (string name, bool want-reply, then its data), 90..100
 * go to chan_dispatch; 0..11 are events (below); others fold into
 * 80, 90..100.
 * flags: bit 0: a user (else conn_user is NULL); bit 1: key options
 * (permitopen=, permitlisten=); bit 4: the key's no-port-forwarding;
 * bits 2..3: one of the configurations below. */
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "alive.h"
#include "authfile.h"
#include "buf.h"
#include "channel.h"
#include "config.h"
#include "conn.h"
#include "forward.h"
#include "fuzz_conn.h"
#include "fuzz_util.h"
#include "packet.h"

static const char *const config_texts[4] = {
	("AllowTcpForwarding yes\nAllowStreamLocalForwarding yes\n"
	 "GatewayPorts clientspecified\nStreamLocalBindUnlink yes\nForwardConnectTimeout 5\n"),
	("PermitOpen 127.0.0.1:* localhost:22 [::1]:80 *:443\n"
	 "PermitListen 8080 localhost:* [::1]:9000\nGatewayPorts yes\n"),
	("AllowTcpForwarding local\nAllowStreamLocalForwarding remote\nPermitOpen any\n"
	 "ChannelTimeout direct-tcpip=2 forwarded-tcpip=3\n"),
	("AllowTcpForwarding remote\nAllowStreamLocalForwarding no\nPermitListen none\n"
	 "ForwardConnectTimeout 0\n"),
};
static struct config configs[4];
static struct fuzz_user user;

/* ---- the stub connection ----------------------------------------------- */

struct conn {
	const struct config *cfg;
	int have_user, have_opts;
	struct authkey_opts opts;
	size_t queued;
	buf_t out;
};
static struct conn the_conn;

buf_t *conn_pkt_start(struct conn *c, uint8_t msg)
{
	buf_reset(&c->out);
	buf_put_u8(&c->out, msg);
	return &c->out;
}

int conn_pkt_send(struct conn *c)
{
	size_t n = buf_used(&c->out);
	if (n == 0 || n > PACKET_MAX_PAYLOAD)
		abort();
	return 0;
}

/* channel data goes through conn_pkt_start/conn_pkt_send (the copying
 * path), which checks every payload */
uint8_t *conn_pkt_room(struct conn *c, size_t n, size_t len, size_t *stride)
{
	(void)c, (void)n, (void)len, (void)stride;
	return NULL;
}
int conn_pkt_seal(struct conn *c, size_t len) { (void)c, (void)len; abort(); }
size_t conn_out_queued(const struct conn *c) { return c->queued; }
const struct config *conn_config(const struct conn *c) { return c->cfg; }
/* DATA payloads are lent until chan_flush_input (as fuzz_channel's) */
int conn_payload_lendable(const struct conn *c) { (void)c; return 1; }
const struct passwd *conn_user(const struct conn *c) { return c->have_user ? &user.pw : NULL; }
const struct authkey_opts *conn_authkey_opts(const struct conn *c)
{
	return c->have_opts ? &c->opts : NULL;
}
const char *conn_peer_addr(const struct conn *c) { (void)c; return "192.0.2.7"; }
int conn_peer_port(const struct conn *c) { (void)c; return 50022; }
const char *conn_local_addr(const struct conn *c) { (void)c; return "192.0.2.1"; }
int conn_local_port(const struct conn *c) { (void)c; return 22; }

/* ---- the faked network ------------------------------------------------- */

#define MAX_FAKES 512
#define FAKE_PID  0x7ffffff0   /* above any pid_max */

struct fake {
	int fd, peer;          /* ours (handed out) and the harness's end */
	int family;            /* what socket() was asked for */
	int port;              /* bound port */
	int pending_error;     /* SO_ERROR after EINPROGRESS */
};
static struct fake fakes[MAX_FAKES];
static int n_fakes;
static int in_input;           /* 1: fake; 0: the real calls */
static const uint8_t *script;
static size_t script_left;
static int resolver_pipe = -1;             /* the write end pipe2() made last */
static int held_fds[8], n_held;            /* resolver write ends kept open */
static uint8_t answer[4200];
static size_t answer_len;
static int have_answer;
static int next_port = 30000;

static uint8_t decide(void)
{
	if (script_left == 0)
		return 0;
	script_left--;
	return *script++;
}

static struct fake *fake_of(int fd)
{
	for (int i = 0; i < n_fakes; i++)
		if (fakes[i].fd == fd)
			return &fakes[i];
	return NULL;
}

/* A new fake over fd (a closed fake's number may come back). */
static struct fake *fake_add(int fd, int peer, int family)
{
	struct fake *f = fake_of(fd);
	if (!f) {
		if (n_fakes == MAX_FAKES)
			abort();
		f = &fakes[n_fakes++];
	} else if (f->peer >= 0) {
		syscall(SYS_close, f->peer);
	}
	*f = (struct fake){ .fd = fd, .peer = peer, .family = family };
	return f;
}

static int real_socketpair(int type, int sv[2])
{
	return (int)syscall(SYS_socketpair, AF_UNIX, type, 0, sv);
}

int socket(int domain, int type, int protocol)
{
	if (!in_input)
		return (int)syscall(SYS_socket, domain, type, protocol);
	if (domain != AF_INET && domain != AF_INET6 && domain != AF_UNIX)
		abort();
	int sv[2];
	if (real_socketpair(type, sv) < 0)
		return -1;
	fake_add(sv[0], sv[1], domain);
	return sv[0];
}

int connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	if (!in_input)
		return (int)syscall(SYS_connect, fd, sa, len);
	struct fake *f = fake_of(fd);
	if (!f || len < sizeof(sa_family_t) || sa->sa_family != f->family)
		abort();
	switch (decide() % 6) {
	case 0: return 0;
	case 1: errno = EINPROGRESS; return -1;
	case 2: f->pending_error = ECONNREFUSED; errno = EINPROGRESS; return -1;
	case 3: errno = ECONNREFUSED; return -1;
	case 4: errno = ENETUNREACH; return -1;
	default: errno = EAGAIN; return -1;
	}
}

int bind(int fd, const struct sockaddr *sa, socklen_t len)
{
	if (!in_input)
		return (int)syscall(SYS_bind, fd, sa, len);
	struct fake *f = fake_of(fd);
	if (!f || sa->sa_family != f->family)
		abort();
	switch (decide() % 4) {
	case 1: errno = EADDRINUSE; return -1;
	case 2: errno = EACCES; return -1;
	default: break;
	}
	int port = 0;
	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in))
		port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
	else if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6))
		port = ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	f->port = port ? port : next_port++;
	return 0;
}

int listen(int fd, int backlog)
{
	if (!in_input)
		return (int)syscall(SYS_listen, fd, backlog);
	if (!fake_of(fd))
		abort();
	return 0;
}

static void fake_address(int family, int port, struct sockaddr *sa, socklen_t *len)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	socklen_t n;
	if (family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		s6->sin6_addr.s6_addr[15] = 1;
		n = sizeof(*s6);
	} else if (family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		s4->sin_addr.s_addr = htonl(0xc0000209);   /* 192.0.2.9 */
		n = sizeof(*s4);
	} else {
		ss.ss_family = AF_UNIX;
		n = sizeof(sa_family_t);
	}
	memcpy(sa, &ss, n < *len ? n : *len);
	*len = n;
}

int accept4(int fd, struct sockaddr *sa, socklen_t *len, int flags)
{
	if (!in_input)
		return (int)syscall(SYS_accept4, fd, sa, len, flags);
	struct fake *l = fake_of(fd);
	if (!l)
		abort();
	if (decide() % 4 == 3) {
		errno = EAGAIN;
		return -1;
	}
	int sv[2];
	if (real_socketpair(SOCK_STREAM | flags, sv) < 0)
		return -1;
	fake_add(sv[0], sv[1], l->family);
	if (sa && len)
		fake_address(l->family, 40000 + decide(), sa, len);
	return sv[0];
}

int getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	struct fake *f = in_input ? fake_of(fd) : NULL;
	if (f && level == SOL_SOCKET && name == SO_ERROR && *len >= sizeof(int)) {
		*(int *)val = f->pending_error;
		f->pending_error = 0;
		*len = sizeof(int);
		return 0;
	}
	return (int)syscall(SYS_getsockopt, fd, level, name, val, len);
}

int getsockname(int fd, struct sockaddr *sa, socklen_t *len)
{
	struct fake *f = in_input ? fake_of(fd) : NULL;
	if (!f)
		return (int)syscall(SYS_getsockname, fd, sa, len);
	fake_address(f->family, f->port, sa, len);
	return 0;
}

int pipe2(int p[2], int flags)
{
	int rc = (int)syscall(SYS_pipe2, p, flags);
	if (rc == 0 && in_input)
		resolver_pipe = p[1];
	return rc;
}

/* The default answer of the resolver: 127.0.0.1 and ::1, port 80. */
static size_t default_answer(uint8_t *out)
{
	buf_t b;
	struct sockaddr_in s4 = { .sin_family = AF_INET, .sin_port = htons(80),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6, .sin6_port = htons(80) };
	s6.sin6_addr.s6_addr[15] = 1;
	if (buf_init(&b, 128, 512) < 0)
		abort();
	buf_put_u32(&b, 0);
	buf_put_u32(&b, 2);
	buf_put_string(&b, &s4, sizeof(s4));
	buf_put_string(&b, &s6, sizeof(s6));
	size_t n = buf_used(&b);
	memcpy(out, buf_data(&b), n);
	buf_free(&b);
	return n;
}

/* The resolver: no process; its answer goes into the pipe now. */
pid_t fork(void)
{
	if (!in_input || resolver_pipe < 0) {
		fprintf(stderr, "fuzz_forward: fork() outside a name lookup\n");
		abort();
	}
	uint8_t d = decide();
	if (d % 8 == 7) {
		errno = EAGAIN;
		return -1;
	}
	if (d % 8 == 6 && n_held < 8) {
		/* a resolver that never answers: its end stays open */
		held_fds[n_held++] = (int)syscall(SYS_fcntl, resolver_pipe, F_DUPFD_CLOEXEC, 0);
		resolver_pipe = -1;
		return FAKE_PID;
	}
	uint8_t def[256];
	const uint8_t *p = have_answer ? answer : def;
	size_t n = have_answer ? answer_len : default_answer(def);
	if (syscall(SYS_write, resolver_pipe, p, n) != (long)n)
		abort();
	resolver_pipe = -1;
	return FAKE_PID;
}

int kill(pid_t pid, int sig)
{
	if (in_input && pid != FAKE_PID)
		abort();
	if (pid == FAKE_PID)
		return 0;
	return (int)syscall(SYS_kill, pid, sig);
}

int unlink(const char *path)
{
	if (in_input)
		return 0;       /* a fuzzed path: never removed */
	return (int)syscall(SYS_unlinkat, AT_FDCWD, path, 0);
}

static void fakes_reset(void)
{
	for (int i = 0; i < n_fakes; i++)
		if (fakes[i].peer >= 0)
			syscall(SYS_close, fakes[i].peer);
	n_fakes = 0;
	for (int i = 0; i < n_held; i++)
		syscall(SYS_close, held_fds[i]);
	n_held = 0;
	resolver_pipe = -1;
	have_answer = 0;
}

/* The k-th peer that is still open, or -1. */
static int peer_pick(uint8_t k)
{
	if (n_fakes == 0)
		return -1;
	struct fake *f = &fakes[k % n_fakes];
	return f->peer;
}

/* ---- set-up ------------------------------------------------------------ */

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

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_setup();
	signal(SIGPIPE, SIG_IGN);   /* writes to a closed peer */
	fuzz_load_configs(configs, config_texts, 4, "fuzz_forward");
	fuzz_user_self(&user);
	return 0;
}

static void set_key_options(struct authkey_opts *o, int no_forwarding)
{
	memset(o, 0, sizeof(*o));
	o->permitopen[0] = strdup("127.0.0.1:8080");
	o->permitopen[1] = strdup("*:22");
	o->n_permitopen = 2;
	o->permitlisten[0] = strdup("localhost:*");
	o->permitlisten[1] = strdup("0");
	o->n_permitlisten = 2;
	o->no_port_forwarding = no_forwarding;
}

/* ---- messages ---------------------------------------------------------- */

/* A global request as conn.c reads one: -1 when the connection would end. */
static int global_request(struct fwdset *fs, rd_t *r)
{
	const uint8_t *name;
	size_t nn;
	uint8_t want;
	if (rd_string(r, &name, &nn) < 0 || rd_u8(r, &want) < 0 || nn > 64)
		return -1;
	char cname[65];
	memcpy(cname, name, nn);
	cname[nn] = '\0';
	if (memchr(name, 0, nn))
		return 0;
	return fwd_global_request(fs, cname, want, r) < 0 ? -1 : 0;
}

static void poll_round(struct chanset *cs, struct fwdset *fs, int accept_k)
{
	struct pollfd pfds[CHAN_MAX_CHANNELS * 3 + 2 * FWD_MAX_LISTENERS];
	int n = chan_pollfds(cs, pfds, CHAN_MAX_CHANNELS * 3);
	if (n > CHAN_MAX_CHANNELS * 3)
		abort();
	int nl = fwd_pollfds(fs, pfds + n, 2 * FWD_MAX_LISTENERS);
	if (accept_k >= 0) {
		/* a connection arrives at one listener */
		for (int i = 0; i < nl; i++)
			pfds[n + i].revents = (short)(i == accept_k % (nl ? nl : 1) ? POLLIN : 0);
		fwd_poll_done(fs, pfds + n, nl);
		return;
	}
	if (poll(pfds, (nfds_t)n, 0) < 0)
		return;
	chan_poll_done(cs, pfds, n);
}

static void event(struct chanset *cs, struct fwdset *fs, const uint8_t *p, size_t n)
{
	uint8_t ev = p[0], arg = n > 1 ? p[1] : 0;
	int peer;
	switch (ev) {
	case 0: chan_kick(cs); break;
	case 1: chan_expire_idle(cs, alive_now_ms() + 3600 * 1000); break;
	case 2: the_conn.queued = CONN_OUT_HIGH + 1; break;
	case 3: the_conn.queued = 0; chan_kick(cs); break;
	case 4: poll_round(cs, fs, -1); break;
	case 5: poll_round(cs, fs, arg); break;
	case 6:         /* the far end sends */
		if ((peer = peer_pick(arg)) >= 0 && n > 2)
			(void)!syscall(SYS_sendto, peer, p + 2, n - 2, MSG_DONTWAIT | MSG_NOSIGNAL,
				       NULL, 0);
		break;
	case 7:         /* the far end half-closes */
		if ((peer = peer_pick(arg)) >= 0)
			shutdown(peer, SHUT_WR);
		break;
	case 8:         /* what the next name lookup answers */
		answer_len = n - 1 < sizeof(answer) ? n - 1 : sizeof(answer);
		memcpy(answer, p + 1, answer_len);
		have_answer = 1;
		break;
	case 9:         /* the far end goes away */
		if (n_fakes > 0 && fakes[arg % n_fakes].peer >= 0) {
			syscall(SYS_close, fakes[arg % n_fakes].peer);
			fakes[arg % n_fakes].peer = -1;
		}
		break;
	case 10: (void)chan_next_timeout_ms(cs, alive_now_ms()); break;
	default: (void)chan_send_keepalive(cs); break;
	}
}

/* A session request that would start a process: dropped (fork() here
 * is the resolver's). */
static int would_spawn(const uint8_t *p, size_t n)
{
	rd_t r;
	uint32_t id;
	const uint8_t *type;
	size_t tn;
	rd_init(&r, p, n);
	if (rd_u32(&r, &id) < 0 || rd_string(&r, &type, &tn) < 0)
		return 0;
	return (tn == 4 && memcmp(type, "exec", 4) == 0) ||
	       (tn == 5 && memcmp(type, "shell", 5) == 0) ||
	       (tn == 9 && memcmp(type, "subsystem", 9) == 0);
}

/* -1 when the connection would end. */
static int one_message(struct chanset *cs, struct fwdset *fs, const uint8_t *part,
		       size_t plen)
{
	uint8_t msg = part[0];
	if (msg < 12) {
		event(cs, fs, part, plen);
		return 0;
	}
	if (msg != SSH_MSG_GLOBAL_REQUEST &&
	    (msg < SSH_MSG_CHANNEL_OPEN || msg > SSH_MSG_CHANNEL_FAILURE)) {
		unsigned k = msg % 12;
		msg = k == 11 ? SSH_MSG_GLOBAL_REQUEST : (uint8_t)(SSH_MSG_CHANNEL_OPEN + k);
	}
	if (msg == SSH_MSG_CHANNEL_REQUEST && would_spawn(part + 1, plen - 1))
		return 0;
	uint8_t *copy = fuzz_dup(part + 1, plen - 1);
	rd_t r;
	rd_init(&r, copy, plen - 1);
	int rc = msg == SSH_MSG_GLOBAL_REQUEST ? global_request(fs, &r)
					       : chan_dispatch(cs, msg, &r);
	chan_flush_input(cs);   /* as conn does after each batch */
	free(copy);
	if (chan_count(cs) > CHAN_MAX_CHANNELS)
		abort();
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t flags = data[0];
	data++;
	size--;
	const uint8_t *part;
	size_t plen;
	script = NULL;
	script_left = 0;
	if (fuzz_next_part(&data, &size, &part, &plen)) {
		script = part;
		script_left = plen;
	}

	int fds_before = count_fds();
	struct conn *c = &the_conn;
	memset(c, 0, sizeof(*c));
	if (buf_init(&c->out, 1024, PACKET_MAX_PAYLOAD) < 0)
		abort();
	c->cfg = &configs[(flags >> 2) & 3];
	c->have_user = flags & 1;
	c->have_opts = (flags & 2) != 0;
	if (c->have_opts)
		set_key_options(&c->opts, (flags & 16) != 0);

	in_input = 1;
	next_port = 30000;
	struct chanset *cs = chan_init(c);
	struct fwdset *fs = cs ? fwd_init(c, cs) : NULL;
	if (!fs)
		abort();
	while (fuzz_next_part(&data, &size, &part, &plen))
		if (plen > 0 && one_message(cs, fs, part, plen) < 0)
			break;
	fwd_free(fs);
	chan_free(cs);
	fakes_reset();
	in_input = 0;
	if (c->have_opts)
		authkey_opts_free(&c->opts);
	buf_free(&c->out);

	int fds_after = count_fds();
	if (fds_after != fds_before) {
		fprintf(stderr, "fuzz_forward: %d open fds after this input, %d before\n",
			fds_after, fds_before);
		abort();
	}
	return 0;
}
