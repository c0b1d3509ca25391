/* forward: TCP and Unix-socket forwarding; see forward.h. */
#include "forward.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "alive.h"
#include "authfile.h"
#include "channel.h"
#include "config.h"
#include "conn.h"
#include "match.h"
#include "log.h"

#define FWD_HOST_MAX 256

/* ================================================================ rules */

/* "host:port", "[v6]:port" or (listen rules) "port" alone: host ("" when
 * absent) and port text. -1 when malformed. */
static int split_rule(const char *rule, char *host, size_t hsz, char *port, size_t psz)
{
	const char *colon;
	size_t hl;
	if (rule[0] == '[') {
		const char *rb = strchr(rule, ']');
		if (!rb || rb[1] != ':')
			return -1;
		hl = (size_t)(rb - rule - 1);
		if (hl >= hsz)
			return -1;
		memcpy(host, rule + 1, hl);
		host[hl] = '\0';
		colon = rb + 1;
	} else {
		colon = strrchr(rule, ':');
		if (!colon) {
			host[0] = '\0';
			str_copy(port, psz, rule);
			return 0;
		}
		hl = (size_t)(colon - rule);
		if (hl >= hsz)
			return -1;
		memcpy(host, rule, hl);
		host[hl] = '\0';
	}
	str_copy(port, psz, colon + 1);
	return 0;
}

static int port_matches(const char *rule_port, int port)
{
	if (strcmp(rule_port, "*") == 0)
		return 1;
	char *end;
	long p = strtol(rule_port, &end, 10);
	return *rule_port && !*end && p == port;
}

/* PermitOpen / permitopen=: host compared as written ("*" = any); no
 * lookups. Listen rules (PermitListen / permitlisten=): host is a pattern,
 * absent = any host. */
static int rule_matches(const char *rule, const char *host, int port, int listen)
{
	char rhost[FWD_HOST_MAX], rport[16];
	if (split_rule(rule, rhost, sizeof(rhost), rport, sizeof(rport)) < 0)
		return 0;
	if (!port_matches(rport, port))
		return 0;
	if (!rhost[0] || strcmp(rhost, "*") == 0)
		return 1;
	if (listen)
		return match_pattern(host, rhost) == 1;
	return strcasecmp(rhost, host) == 0;
}

/* A config list: empty = any; "none" alone = nothing. */
static int config_list_allows(char *const *list, int n, const char *host, int port,
			      int listen)
{
	if (n == 0)
		return 1;
	for (int i = 0; i < n; i++) {
		if (strcasecmp(list[i], "none") == 0)
			return 0;
		if (rule_matches(list[i], host, port, listen))
			return 1;
	}
	return 0;
}

/* A key's list: empty = no restriction from the key. */
static int key_list_allows(char *const *list, int n, const char *host, int port, int listen)
{
	if (n == 0)
		return 1;
	for (int i = 0; i < n; i++)
		if (rule_matches(list[i], host, port, listen))
			return 1;
	return 0;
}

/* AllowTcpForwarding / AllowStreamLocalForwarding: 1 yes/all, 0 no,
 * 2 local, 3 remote. */
static const char *allow_refusal(int value, int remote, int unix_socket)
{
	int ok = value == 1 || (value == 2 && !remote) || (value == 3 && remote);
	if (ok)
		return NULL;
	static const char *const names[2][4] = {
		{ "AllowTcpForwarding no", "", "AllowTcpForwarding local",
		  "AllowTcpForwarding remote" },
		{ "AllowStreamLocalForwarding no", "", "AllowStreamLocalForwarding local",
		  "AllowStreamLocalForwarding remote" },
	};
	return names[unix_socket][value & 3];
}

static const char *common_refusal(const struct config *cfg, const struct authkey_opts *ko,
				  int unix_socket, int remote)
{
	if (cfg->disable_forwarding)
		return "DisableForwarding yes";
	const char *why = allow_refusal(unix_socket ? cfg->allow_streamlocal_forwarding
						    : cfg->allow_tcp_forwarding,
					remote, unix_socket);
	if (why)
		return why;
	if (ko && ko->no_port_forwarding)
		return ko->restrict_ ? "the key's restrict option"
				     : "the key's no-port-forwarding option";
	return NULL;
}

const char *fwd_open_refusal(const struct config *cfg, const struct authkey_opts *ko,
			     int unix_socket, const char *host, int port)
{
	const char *why = common_refusal(cfg, ko, unix_socket, 0);
	if (why || unix_socket)
		return why;
	if (!config_list_allows(cfg->permit_open, cfg->n_permit_open, host, port, 0))
		return cfg->n_permit_open == 1 && !strcasecmp(cfg->permit_open[0], "none")
		       ? "PermitOpen none" : "PermitOpen (no entry matches)";
	if (ko && !key_list_allows(ko->permitopen, ko->n_permitopen, host, port, 0))
		return "the key's permitopen (no entry matches)";
	return NULL;
}

const char *fwd_listen_refusal(const struct config *cfg, const struct authkey_opts *ko,
			       int unix_socket, const char *host, int port, int user_is_root)
{
	const char *why = common_refusal(cfg, ko, unix_socket, 1);
	if (why || unix_socket)
		return why;
	if (!config_list_allows(cfg->permit_listen, cfg->n_permit_listen, host, port, 1))
		return cfg->n_permit_listen == 1 && !strcasecmp(cfg->permit_listen[0], "none")
		       ? "PermitListen none" : "PermitListen (no entry matches)";
	if (ko && !key_list_allows(ko->permitlisten, ko->n_permitlisten, host, port, 1))
		return "the key's permitlisten (no entry matches)";
	if (port > 0 && port < 1024 && !user_is_root)
		return "privileged port (only root may listen below 1024)";
	return NULL;
}

static const char *user_name(struct conn *c)
{
	const struct passwd *pw = conn_user(c);
	return pw ? pw->pw_name : "(none)";
}

static int user_is_root(struct conn *c)
{
	const struct passwd *pw = conn_user(c);
	return pw && pw->pw_uid == 0;
}

/* ================================================= the user's identity */

/* Unix sockets are bound and connected as the user (file ownership and
 * permission checks are the user's): the effective ids are switched and
 * switched back; the process is single-threaded. */
#define FWD_MAX_GROUPS 256
struct saved_ids {
	int switched;
	int ngroups;
	gid_t groups[FWD_MAX_GROUPS];
};

static void restore_ids(struct saved_ids *sv)
{
	if (!sv->switched)
		return;
	if (seteuid(0) < 0 || setegid(0) < 0 || setgroups((size_t)sv->ngroups, sv->groups) < 0)
		fatal("cannot return to root after acting as the user: %m");
	sv->switched = 0;
}

static int become_user(const struct passwd *pw, struct saved_ids *sv)
{
	sv->switched = 0;
	if (!pw)
		return -1;
	if (geteuid() != 0 || pw->pw_uid == 0)
		return 0;      /* already the user, or the user is root */
	sv->ngroups = getgroups(FWD_MAX_GROUPS, sv->groups);
	if (sv->ngroups < 0)
		return -1;
	gid_t gl[FWD_MAX_GROUPS];
	int ng = FWD_MAX_GROUPS;
	if (getgrouplist(pw->pw_name, pw->pw_gid, gl, &ng) < 0) {
		gl[0] = pw->pw_gid;
		ng = 1;
	}
	sv->switched = 1;
	if (setgroups((size_t)ng, gl) < 0 || setegid(pw->pw_gid) < 0 ||
	    seteuid(pw->pw_uid) < 0) {
		int e = errno;
		restore_ids(sv);
		errno = e;
		return -1;
	}
	return 0;
}

static int unix_address(const char *path, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (!path[0] || strlen(path) >= sizeof(sun->sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sun->sun_path, path, strlen(path));
	return 0;
}

/* A numeric IPv4 or IPv6 address and a port as a socket address: its
 * length, 0 when addr is not numeric (no lookup is made). */
static socklen_t numeric_sockaddr(const char *addr, int port, struct sockaddr_storage *ss)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		return sizeof(*s4);
	}
	if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		return sizeof(*s6);
	}
	return 0;
}

/* The numeric address of an IPv4 or IPv6 socket address into addr (left
 * as it was for another family); its port, 0 for another family. */

/* =================================================== reading requests */

/* A name off the wire into out (NUL-terminated). 0 ok, 1 unusable (too
 * long or holding a NUL: refused, not a protocol error), -1 malformed. */
static int take_name(rd_t *r, char *out, size_t outsz)
{
	const uint8_t *p;
	size_t n;
	if (rd_string(r, &p, &n) < 0)
		return -1;
	if (n >= outsz || memchr(p, 0, n))
		return 1;
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

/* Printable for the log: a name from the client may hold anything. */
static void printable(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			*s = '?';
}

/* ====================================================== direct-tcpip */

static int pending_opens;   /* direct opens still looking up or connecting */

struct dial {
	char host[FWD_HOST_MAX];
	int port;
	int sock;                     /* connecting, -1 none */
	int res_fd;                   /* resolver's pipe, -1 none */
	pid_t res_pid;                /* resolver child, -1 none */
	buf_t res_out;                /* what it wrote */
	struct sockaddr_storage addrs[FWD_MAX_ADDRS];
	socklen_t lens[FWD_MAX_ADDRS];
	int n_addrs, next;
	int last_errno;
	int64_t due;                  /* alive_now_ms deadline, 0 none */
	int pending;                  /* counted in pending_opens */
	int timeout_s;
};

static void dial_free(struct channel *ch)
{
	struct dial *d = chan_priv(ch);
	if (!d)
		return;
	if (d->sock >= 0)
		close(d->sock);
	if (d->res_fd >= 0)
		close(d->res_fd);
	if (d->res_pid > 0)
		kill(d->res_pid, SIGKILL);   /* reaped with the other children */
	if (d->pending)
		pending_opens--;
	buf_free(&d->res_out);
	free(d);
	chan_set_priv(ch, NULL);
}

static void dial_failed(struct channel *ch, const char *fmt, const char *detail)
{
	struct dial *d = chan_priv(ch);
	char why[300];
	snprintf(why, sizeof(why), fmt, detail);
	logit("direct-tcpip to %s port %d for %s failed: %s", d->host, d->port,
	      user_name(chan_conn(ch)), why);
	chan_open_done(ch, SSH_OPEN_CONNECT_FAILED, why);
}

static void dial_connected(struct channel *ch)
{
	struct dial *d = chan_priv(ch);
	char addr[INET6_ADDRSTRLEN] = "?";
	sockaddr_text(&d->addrs[d->next], addr, sizeof(addr));
	int dupfd = fcntl(d->sock, F_DUPFD_CLOEXEC, 0);
	if (dupfd < 0) {
		dial_failed(ch, "%s", "out of file descriptors");
		return;
	}
	chan_wait(ch, -1, 0, 0);
	chan_attach_fds(ch, dupfd, d->sock, -1);
	d->sock = -1;                 /* the channel's now */
	if (d->pending) {
		d->pending = 0;
		pending_opens--;
	}
	verbose("direct-tcpip channel %u for %s: connected to %s port %d (%s)", chan_id(ch),
		user_name(chan_conn(ch)), d->host, d->port, addr);
	chan_open_done(ch, 0, NULL);
}

/* Try the addresses from d->next on; each that fails at once is skipped. */
static void dial_next(struct channel *ch)
{
	struct dial *d = chan_priv(ch);
	for (; d->next < d->n_addrs; d->next++) {
		const struct sockaddr *sa = (const struct sockaddr *)&d->addrs[d->next];
		d->sock = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (d->sock < 0) {
			d->last_errno = errno;
			continue;
		}
		if (connect(d->sock, sa, d->lens[d->next]) == 0) {
			dial_connected(ch);
			return;
		}
		if (errno == EINPROGRESS) {
			chan_wait(ch, d->sock, POLLOUT, d->due);
			return;
		}
		d->last_errno = errno;
		close(d->sock);
		d->sock = -1;
	}
	dial_failed(ch, "connect failed: %s", strerror(d->last_errno ? d->last_errno : EHOSTUNREACH));
}

/* The connecting socket is writable: connected, or refused. */
static void dial_check(struct channel *ch)
{
	struct dial *d = chan_priv(ch);
	int err = 0;
	socklen_t len = sizeof(err);
	struct sockaddr_storage peer;
	socklen_t plen = sizeof(peer);
	if (getsockopt(d->sock, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (!err && getpeername(d->sock, (struct sockaddr *)&peer, &plen) == 0) {
		dial_connected(ch);
		return;
	}
	if (!err)
		return;                   /* still connecting: a stale wake-up */
	d->last_errno = err;
	close(d->sock);
	d->sock = -1;
	d->next++;
	dial_next(ch);
}

/* ---- the resolver child ---- */

/* In the child: look the name up and write [u32 gai status][u32 n]
 * n x [string sockaddr] to fd, then exit. Runs with the user's ids. */
static void __attribute__((noreturn))
resolver_child(const char *host, int port, int fd, const struct passwd *pw)
{
	signal(SIGCHLD, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	if (fd != 3 && dup2(fd, 3) < 0)
		_exit(1);
	close_range(4, ~0u, 0);
	close(0);
	close(1);
	close(2);
	if (pw && getuid() == 0 && pw->pw_uid != 0 &&
	    (setgroups(0, NULL) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0))
		_exit(1);
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res = NULL;
	char portstr[16];
	snprintf(portstr, sizeof(portstr), "%d", port);
	int rc = getaddrinfo(host, portstr, &hints, &res);
	buf_t out;
	if (buf_init(&out, 512, 4096) < 0)
		_exit(1);
	uint32_t n = 0;
	for (struct addrinfo *ai = res; rc == 0 && ai && n < FWD_MAX_ADDRS; ai = ai->ai_next)
		n++;
	buf_put_u32(&out, (uint32_t)rc);
	buf_put_u32(&out, n);
	struct addrinfo *ai = res;
	for (uint32_t i = 0; i < n; i++, ai = ai->ai_next)
		buf_put_string(&out, ai->ai_addr, ai->ai_addrlen);
	const uint8_t *p = buf_data(&out);
	size_t left = buf_used(&out);
	while (left > 0) {
		ssize_t w = write(3, p, left);
		if (w <= 0)
			_exit(1);
		p += w;
		left -= (size_t)w;
	}
	_exit(0);
}

static int start_resolver(struct channel *ch)
{
	struct dial *d = chan_priv(ch);
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid_t pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0)
		resolver_child(d->host, d->port, p[1], conn_user(chan_conn(ch)));
	close(p[1]);
	set_nonblock(p[0]);
	d->res_fd = p[0];
	d->res_pid = pid;
	buf_init(&d->res_out, 256, 4096);
	chan_wait(ch, d->res_fd, POLLIN, d->due);
	return 0;
}

/* One address from the resolver: only a whole IPv4 or IPv6 socket
 * address is used (never another family, which socket() and connect()
 * would take as it comes). */
static int usable_address(const uint8_t *sa, size_t len)
{
	sa_family_t family;
	if (len < sizeof(family))
		return 0;
	memcpy(&family, sa, sizeof(family));
	return (family == AF_INET && len == sizeof(struct sockaddr_in)) ||
	       (family == AF_INET6 && len == sizeof(struct sockaddr_in6));
}

int fwd_parse_lookup(const uint8_t *p, size_t n, struct sockaddr_storage *addrs,
		     socklen_t *lens, int *n_addrs)
{
	rd_t r;
	uint32_t status, count;
	*n_addrs = 0;
	rd_init(&r, p, n);
	if (rd_u32(&r, &status) < 0 || rd_u32(&r, &count) < 0 || count > FWD_MAX_ADDRS)
		return -1;
	if (status != 0)
		return (int)status;
	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *sa;
		size_t len;
		if (rd_string(&r, &sa, &len) < 0)
			break;
		if (!usable_address(sa, len))
			continue;
		memset(&addrs[*n_addrs], 0, sizeof(addrs[0]));
		memcpy(&addrs[*n_addrs], sa, len);
		lens[(*n_addrs)++] = (socklen_t)len;
	}
	return 0;
}

/* The resolver's answer. */
static void resolver_done(struct channel *ch)
{
	struct dial *d = chan_priv(ch);
	int rc = fwd_parse_lookup(buf_data(&d->res_out), buf_used(&d->res_out), d->addrs,
				  d->lens, &d->n_addrs);
	if (rc < 0) {
		dial_failed(ch, "%s", "name lookup failed");
		return;
	}
	if (rc > 0) {
		dial_failed(ch, "name lookup failed: %s", gai_strerror(rc));
		return;
	}
	if (d->n_addrs == 0) {
		dial_failed(ch, "%s", "name lookup gave no address");
		return;
	}
	d->next = 0;
	dial_next(ch);
}

static void resolver_readable(struct channel *ch)
{
	struct dial *d = chan_priv(ch);
	for (;;) {
		uint8_t *p = buf_reserve(&d->res_out, 512);
		if (!p) {
			dial_failed(ch, "%s", "name lookup answer too long");
			return;
		}
		ssize_t got = read(d->res_fd, p, 512);
		if (got > 0) {
			buf_commit(&d->res_out, (size_t)got);
			continue;
		}
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		break;                        /* EOF: the child is done */
	}
	chan_wait(ch, -1, 0, 0);
	close(d->res_fd);
	d->res_fd = -1;
	d->res_pid = -1;                      /* exited; reaped by the connection */
	resolver_done(ch);
}

static void dial_wake(struct channel *ch, short revents)
{
	struct dial *d = chan_priv(ch);
	if (revents == 0) {
		char t[32];
		snprintf(t, sizeof(t), "%d s", d->timeout_s);
		dial_failed(ch, d->res_fd >= 0 ? "name lookup timed out after %s"
					       : "connect timed out after %s", t);
		return;
	}
	if (d->res_fd >= 0)
		resolver_readable(ch);
	else if (d->sock >= 0)
		dial_check(ch);
}

/* A numeric address needs no lookup. */
static int numeric_address(struct dial *d)
{
	d->lens[0] = numeric_sockaddr(d->host, d->port, &d->addrs[0]);
	d->n_addrs = d->lens[0] ? 1 : 0;
	return d->n_addrs;
}

static enum chan_open_rc tcpip_open(struct channel *ch, rd_t *r)
{
	struct conn *c = chan_conn(ch);
	char host[FWD_HOST_MAX], orig[FWD_HOST_MAX], label[FWD_HOST_MAX + 40];
	uint32_t port, oport;
	int h = take_name(r, host, sizeof(host));
	if (h < 0 || rd_u32(r, &port) < 0)
		return CHAN_OPEN_BAD;
	int o = take_name(r, orig, sizeof(orig));
	if (o < 0 || rd_u32(r, &oport) < 0 || rd_end(r) < 0)
		return CHAN_OPEN_BAD;
	if (h || !host[0] || port == 0 || port > 65535) {
		logit("direct-tcpip for %s refused: bad target", user_name(c));
		chan_refuse(ch, SSH_OPEN_CONNECT_FAILED, "bad target");
		return CHAN_OPEN_REFUSED;
	}
	printable(host);
	if (o || !orig[0])   /* too long, or empty (asyncssh sends "") */
		snprintf(orig, sizeof(orig), "?");
	printable(orig);
	snprintf(label, sizeof(label), "to %s:%u", host, port);
	chan_set_label(ch, label);
	const char *why = fwd_open_refusal(conn_config(c), conn_authkey_opts(c), 0, host,
					   (int)port);
	if (why) {
		logit("direct-tcpip to %s port %u (from %s port %u) refused for %s: %s", host,
		      port, orig, oport, user_name(c), why);
		chan_refuse(ch, SSH_OPEN_ADMINISTRATIVELY_PROHIBITED, "administratively prohibited");
		return CHAN_OPEN_REFUSED;
	}
	if (pending_opens >= FWD_MAX_PENDING) {
		logit("direct-tcpip to %s port %u refused for %s: %d opens already pending",
		      host, port, user_name(c), FWD_MAX_PENDING);
		chan_refuse(ch, SSH_OPEN_RESOURCE_SHORTAGE, "too many pending connects");
		return CHAN_OPEN_REFUSED;
	}
	struct dial *d = calloc(1, sizeof(*d));
	if (!d) {
		chan_refuse(ch, SSH_OPEN_RESOURCE_SHORTAGE, "resource shortage");
		return CHAN_OPEN_REFUSED;
	}
	str_copy(d->host, sizeof(d->host), host);
	d->port = (int)port;
	d->sock = d->res_fd = -1;
	d->res_pid = -1;
	d->timeout_s = conn_config(c)->forward_connect_timeout;
	d->due = d->timeout_s > 0 ? alive_now_ms() + (int64_t)d->timeout_s * 1000 : 0;
	d->pending = 1;
	pending_opens++;
	chan_set_priv(ch, d);
	verbose("direct-tcpip to %s port %u (from %s port %u) allowed for %s", host, port,
		orig, oport, user_name(c));
	if (numeric_address(d)) {
		dial_next(ch);            /* may already have decided */
		return CHAN_OPEN_PENDING;
	}
	if (start_resolver(ch) < 0) {
		dial_failed(ch, "name lookup: %s", strerror(errno));
		return CHAN_OPEN_PENDING;
	}
	return CHAN_OPEN_PENDING;
}

/* ================================================ direct-streamlocal */

static enum chan_open_rc streamlocal_open(struct channel *ch, rd_t *r)
{
	struct conn *c = chan_conn(ch);
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)], label[200];
	const uint8_t *reserved;
	size_t rn;
	uint32_t rsv;
	int h = take_name(r, path, sizeof(path));
	/* OpenSSH sends a reserved string and u32 after the path */
	if (h < 0 || rd_string(r, &reserved, &rn) < 0 || rd_u32(r, &rsv) < 0 || rd_end(r) < 0)
		return CHAN_OPEN_BAD;
	if (h || path[0] != '/') {
		logit("direct-streamlocal for %s refused: bad socket path (must be absolute)",
		      user_name(c));
		chan_refuse(ch, SSH_OPEN_CONNECT_FAILED, "bad socket path");
		return CHAN_OPEN_REFUSED;
	}
	printable(path);
	snprintf(label, sizeof(label), "to %s", path);
	chan_set_label(ch, label);
	const char *why = fwd_open_refusal(conn_config(c), conn_authkey_opts(c), 1, path, 0);
	if (why) {
		logit("direct-streamlocal to %s refused for %s: %s", path, user_name(c), why);
		chan_refuse(ch, SSH_OPEN_ADMINISTRATIVELY_PROHIBITED, "administratively prohibited");
		return CHAN_OPEN_REFUSED;
	}
	struct sockaddr_un sun;
	struct saved_ids sv;
	int fd = -1, err = 0;
	if (unix_address(path, &sun) < 0 || become_user(conn_user(c), &sv) < 0) {
		err = errno;
	} else {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		/* a Unix connect completes at once, or fails (EAGAIN: backlog full) */
		if (fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
			err = errno;
			close(fd);
			fd = -1;
		} else if (fd < 0) {
			err = errno;
		}
		restore_ids(&sv);
	}
	int dupfd = fd >= 0 ? fcntl(fd, F_DUPFD_CLOEXEC, 0) : -1;
	if (fd < 0 || dupfd < 0) {
		if (fd >= 0)
			close(fd);
		logit("direct-streamlocal to %s for %s failed: %s", path, user_name(c),
		      strerror(err ? err : EMFILE));
		chan_refuse(ch, SSH_OPEN_CONNECT_FAILED, "connect failed");
		return CHAN_OPEN_REFUSED;
	}
	chan_attach_fds(ch, dupfd, fd, -1);
	verbose("direct-streamlocal channel %u for %s: connected to %s", chan_id(ch),
		user_name(c), path);
	return CHAN_OPEN_OK;
}

const struct chan_type direct_tcpip_chan_type = {
	.name = "direct-tcpip",
	.open = tcpip_open,
	.wake = dial_wake,
	.free = dial_free,
	.socket = 1,
};

const struct chan_type direct_streamlocal_chan_type = {
	.name = "direct-streamlocal@openssh.com",
	.open = streamlocal_open,
	.socket = 1,
};

/* Opened by us towards the client (chan_open_out); nothing to hold. */
const struct chan_type forwarded_tcpip_chan_type = {
	.name = "forwarded-tcpip",
	.socket = 1,
};

const struct chan_type forwarded_streamlocal_chan_type = {
	.name = "forwarded-streamlocal@openssh.com",
	.socket = 1,
};

/* ========================================================== listeners */

struct listener {
	int fds[2], nfds;
	int is_unix;
	char host[FWD_HOST_MAX];   /* as the client asked: echoed in forwarded-tcpip */
	int port;                  /* as asked (0: any) */
	int bound_port;
	char bound[80];            /* the addresses bound, for the log */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

struct fwdset {
	struct conn *c;
	struct chanset *cs;
	struct listener *l[FWD_MAX_LISTENERS];
};

struct fwdset *fwd_init(struct conn *c, struct chanset *cs)
{
	struct fwdset *fs = calloc(1, sizeof(*fs));
	if (!fs)
		return NULL;
	fs->c = c;
	fs->cs = cs;
	return fs;
}

static void unlink_as_user(struct fwdset *fs, const char *path)
{
	struct saved_ids sv;
	if (become_user(conn_user(fs->c), &sv) < 0)
		return;
	unlink(path);
	restore_ids(&sv);
}

static void listener_close(struct fwdset *fs, int i)
{
	struct listener *l = fs->l[i];
	for (int k = 0; k < l->nfds; k++)
		close(l->fds[k]);
	if (l->is_unix)
		unlink_as_user(fs, l->path);
	if (l->is_unix)
		verbose("remote forward on %s for %s closed", l->path, user_name(fs->c));
	else
		verbose("remote forward on %s port %d for %s closed", l->host, l->bound_port,
			user_name(fs->c));
	free(l);
	fs->l[i] = NULL;
}

void fwd_free(struct fwdset *fs)
{
	if (!fs)
		return;
	for (int i = 0; i < FWD_MAX_LISTENERS; i++)
		if (fs->l[i])
			listener_close(fs, i);
	free(fs);
}

static int free_listener_slot(const struct fwdset *fs)
{
	for (int i = 0; i < FWD_MAX_LISTENERS; i++)
		if (!fs->l[i])
			return i;
	return -1;
}

/* Where to listen for a tcpip-forward to `host` (GatewayPorts): up to two
 * numeric addresses. -1 when the client named an address we will not
 * look up (clientspecified takes numeric addresses and localhost). */
static int listen_addresses(int gateway_ports, const char *host, const char *out[2], int *n)
{
	static char given[FWD_HOST_MAX];
	int wildcard = gateway_ports == 1 ||
		       (gateway_ports == 2 && (!host[0] || strcmp(host, "*") == 0));
	int loopback = gateway_ports == 0 ||
		       (gateway_ports == 2 && strcasecmp(host, "localhost") == 0);
	if (wildcard) {
		out[0] = "0.0.0.0";
		out[1] = "::";
		*n = 2;
		return 0;
	}
	if (loopback) {
		out[0] = "127.0.0.1";
		out[1] = "::1";
		*n = 2;
		return 0;
	}
	struct sockaddr_storage tmp;
	if (!numeric_sockaddr(host, 0, &tmp))
		return -1;
	str_copy(given, sizeof(given), host);
	out[0] = given;
	*n = 1;
	return 0;
}

static int tcp_listen_on(const char *addr, int port)
{
	struct sockaddr_storage ss;
	socklen_t len = numeric_sockaddr(addr, port, &ss);
	if (!len) {
		errno = EINVAL;
		return -1;
	}
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 128) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static int bound_port_of(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return -1;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

/* Bind the listener's sockets; an address family the host lacks is
 * skipped when another one worked. 0 or -1 with errno. */
static int tcp_listener_bind(struct listener *l, const char *const addrs[2], int n)
{
	int port = l->port, err = 0;
	for (int i = 0; i < n; i++) {
		int fd = tcp_listen_on(addrs[i], port);
		if (fd < 0) {
			err = errno;
			if (err == EADDRINUSE && l->nfds == 0)
				break;
			continue;
		}
		l->fds[l->nfds++] = fd;
		size_t used = strlen(l->bound);
		snprintf(l->bound + used, sizeof(l->bound) - used, "%s%s", used ? " and " : "",
			 addrs[i]);
		if (port == 0)
			port = bound_port_of(fd);   /* the same port on both families */
	}
	if (l->nfds == 0) {
		errno = err ? err : EADDRNOTAVAIL;
		return -1;
	}
	l->bound_port = port;
	return 0;
}

static int unix_listener_bind(struct fwdset *fs, struct listener *l)
{
	const struct config *cfg = conn_config(fs->c);
	struct sockaddr_un sun;
	struct saved_ids sv;
	if (unix_address(l->path, &sun) < 0)
		return -1;
	if (become_user(conn_user(fs->c), &sv) < 0)
		return -1;
	int err = 0;
	struct stat st;
	if (cfg->streamlocal_bind_unlink && lstat(l->path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(l->path);
	mode_t old = umask((mode_t)cfg->streamlocal_bind_mask);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || listen(fd, 128) < 0) {
		err = errno;
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	umask(old);
	restore_ids(&sv);
	if (fd < 0) {
		errno = err;
		return -1;
	}
	l->fds[0] = fd;
	l->nfds = 1;
	return 0;
}

static void reply(struct fwdset *fs, int want_reply, int ok, int with_port, uint32_t port)
{
	if (!want_reply)
		return;
	buf_t *b = conn_pkt_start(fs->c, ok ? SSH_MSG_REQUEST_SUCCESS : SSH_MSG_REQUEST_FAILURE);
	if (ok && with_port)
		buf_put_u32(b, port);
	conn_pkt_send(fs->c);
}

/* tcpip-forward (host, port) or streamlocal-forward@openssh.com (path):
 * a listener for the client. */
static int req_forward(struct fwdset *fs, int want_reply, rd_t *r, int is_unix)
{
	const struct config *cfg = conn_config(fs->c);
	struct listener tmp = { .is_unix = is_unix };
	char *name = is_unix ? tmp.path : tmp.host;
	char what[FWD_HOST_MAX + 64];
	uint32_t port = 0;
	int h = take_name(r, name, is_unix ? sizeof(tmp.path) : sizeof(tmp.host));
	if (h < 0 || (!is_unix && rd_u32(r, &port) < 0) || rd_end(r) < 0)
		return -1;
	printable(name);
	/* the log lines name the request this way throughout */
	if (is_unix)
		snprintf(what, sizeof(what), "streamlocal-forward on %s", name);
	else
		snprintf(what, sizeof(what), "tcpip-forward on %s port %u", name, port);
	const char *why;
	if (is_unix && (h || name[0] != '/'))
		why = "bad socket path (must be absolute)";
	else if (!is_unix && (h || port > 65535))
		why = "bad address or port";
	else
		why = fwd_listen_refusal(cfg, conn_authkey_opts(fs->c), is_unix, name, (int)port,
					 user_is_root(fs->c));
	int slot = free_listener_slot(fs);
	if (!why && slot < 0)
		why = "too many remote forwards on this connection";
	const char *addrs[2];
	int n = 0;
	if (!why && !is_unix && listen_addresses(cfg->gateway_ports, name, addrs, &n) < 0)
		why = "GatewayPorts clientspecified takes numeric addresses and localhost only";
	if (why) {
		logit("%s refused for %s: %s", what, user_name(fs->c), why);
		goto fail;
	}
	struct listener *l = malloc(sizeof(*l));
	if (!l)
		goto fail;
	*l = tmp;
	l->port = (int)port;
	if ((is_unix ? unix_listener_bind(fs, l) : tcp_listener_bind(l, addrs, n)) < 0) {
		logit("%s for %s failed: %m", what, user_name(fs->c));
		free(l);
		goto fail;
	}
	fs->l[slot] = l;
	if (is_unix)
		verbose("streamlocal-forward for %s: listening on %s", user_name(fs->c), l->path);
	else
		verbose("tcpip-forward for %s: listening on %s port %d (asked %s port %u)",
			user_name(fs->c), l->bound, l->bound_port, name, port);
	reply(fs, want_reply, 1, !is_unix && port == 0, (uint32_t)l->bound_port);
	return 1;
fail:
	reply(fs, want_reply, 0, 0, 0);
	return 1;
}

static int req_cancel(struct fwdset *fs, int want_reply, rd_t *r, int is_unix)
{
	char name[FWD_HOST_MAX];
	uint32_t port = 0;
	int h = take_name(r, name, sizeof(name));
	if (h < 0 || (!is_unix && rd_u32(r, &port) < 0) || rd_end(r) < 0)
		return -1;
	for (int i = 0; !h && i < FWD_MAX_LISTENERS; i++) {
		struct listener *l = fs->l[i];
		if (!l || l->is_unix != is_unix)
			continue;
		int hit = is_unix ? strcmp(l->path, name) == 0
				  : strcmp(l->host, name) == 0 &&
				    ((uint32_t)l->port == port || (uint32_t)l->bound_port == port);
		if (hit) {
			listener_close(fs, i);
			reply(fs, want_reply, 1, 0, 0);
			return 1;
		}
	}
	reply(fs, want_reply, 0, 0, 0);
	return 1;
}

int fwd_global_request(struct fwdset *fs, const char *name, int want_reply, rd_t *r)
{
	/* even: TCP, odd: Unix socket; the first two set up, the others cancel */
	static const char *const requests[] = {
		"tcpip-forward", "streamlocal-forward@openssh.com",
		"cancel-tcpip-forward", "cancel-streamlocal-forward@openssh.com",
	};
	for (int i = 0; i < 4; i++)
		if (strcmp(name, requests[i]) == 0)
			return i < 2 ? req_forward(fs, want_reply, r, i)
				     : req_cancel(fs, want_reply, r, i & 1);
	return 0;
}

/* ---- accepting ---- */

static void accept_one(struct fwdset *fs, struct listener *l, int lfd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd = accept4(lfd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	buf_t extra;
	char label[FWD_HOST_MAX + 120], addr[INET6_ADDRSTRLEN] = "?";
	int oport;
	if (buf_init(&extra, 128, 1024) < 0) {
		close(fd);
		return;
	}
	if (l->is_unix) {
		buf_put_cstring(&extra, l->path);
		buf_put_cstring(&extra, "");
		snprintf(label, sizeof(label), "via %s", l->path);
		chan_open_out(fs->cs, &forwarded_streamlocal_chan_type, NULL, &extra, fd, label);
	} else {
		oport = sockaddr_text(&ss, addr, sizeof(addr));
		buf_put_cstring(&extra, l->host);
		buf_put_u32(&extra, (uint32_t)l->bound_port);
		buf_put_cstring(&extra, addr);
		buf_put_u32(&extra, (uint32_t)oport);
		snprintf(label, sizeof(label), "from %s:%d via %s:%d", addr, oport, l->host,
			 l->bound_port);
		chan_open_out(fs->cs, &forwarded_tcpip_chan_type, NULL, &extra, fd, label);
	}
	buf_free(&extra);
}

int fwd_pollfds(struct fwdset *fs, struct pollfd *pfds, int max)
{
	int n = 0;
	for (int i = 0; i < FWD_MAX_LISTENERS; i++) {
		struct listener *l = fs->l[i];
		for (int k = 0; l && k < l->nfds && n < max; k++)
			pfds[n++] = (struct pollfd){ .fd = l->fds[k], .events = POLLIN };
	}
	return n;
}

void fwd_poll_done(struct fwdset *fs, struct pollfd *pfds, int n)
{
	for (int j = 0; j < n; j++) {
		if (!(pfds[j].revents & POLLIN))
			continue;
		for (int i = 0; i < FWD_MAX_LISTENERS; i++) {
			struct listener *l = fs->l[i];
			for (int k = 0; l && k < l->nfds; k++)
				if (l->fds[k] == pfds[j].fd)
					accept_one(fs, l, pfds[j].fd);
		}
	}
}
