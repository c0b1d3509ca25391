/* listen: sockets, accept, one forked process per connection. */
#include "listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "conn.h"
#include "crypto.h"
#include "lifecycle.h"
#include "log.h"
#include "penalty.h"
#include "rexec.h"
#include "sanitize.h"
#include "session.h"   /* session_signame */

static volatile sig_atomic_t got_term, got_child, got_hup;
static int n_children;
static listen_reload_fn reload_fn;
/* fork + exec of each connection process (rexec.h): its command line, and
 * the snapshot of the configuration and host keys it reads */
static char *const *exec_argv;
static int snapshot_fd = -1;

void listen_set_exec(char *const *argv)
{
	exec_argv = argv;
}

/* A new snapshot for the connections to come; -1 keeps the old one. */
static int take_snapshot(const struct config *cfg, struct sshkey **hostkeys, int n_hostkeys)
{
	if (!exec_argv)
		return 0;
	int fd = rexec_snapshot(cfg, hostkeys, n_hostkeys);
	if (fd < 0)
		return -1;
	if (snapshot_fd >= 0)
		close(snapshot_fd);
	snapshot_fd = fd;
	return 0;
}

void listen_set_reload(listen_reload_fn fn)
{
	reload_fn = fn;
}

int listen_from_systemd(int *fds, int max)
{
	const char *pid = getenv("LISTEN_PID"), *nfds = getenv("LISTEN_FDS");
	if (!pid || !nfds || strtol(pid, NULL, 10) != (long)getpid())
		return 0;
	int n = (int)strtol(nfds, NULL, 10);
	if (n <= 0)
		return 0;
	if (n > max)
		n = max;
	for (int i = 0; i < n; i++) {
		fds[i] = 3 + i;
		fcntl(fds[i], F_SETFD, FD_CLOEXEC);
	}
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return n;
}

static int bind_one(const char *host, int port, int *fds, int *n, int max)
{
	struct addrinfo hints, *res, *ai;
	char portstr[16];
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST;
	snprintf(portstr, sizeof(portstr), "%d", port);
	int rc = getaddrinfo(host, portstr, &hints, &res);
	if (rc != 0) {
		error("ListenAddress %s: %s", host ? host : "*", gai_strerror(rc));
		return -1;
	}
	int bound = 0;
	for (ai = res; ai && *n < max; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		int one = 1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (ai->ai_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		char shown[64] = "?";
		getnameinfo(ai->ai_addr, ai->ai_addrlen, shown, sizeof(shown), NULL, 0, NI_NUMERICHOST);
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 128) < 0) {
			error("Bind to port %d on %s failed: %m", port, shown);
			close(fd);
			continue;
		}
		logit("Server listening on %s port %d.", shown, port);
		fds[(*n)++] = fd;
		bound++;
	}
	freeaddrinfo(res);
	return bound ? 0 : -1;
}

/* "addr", "addr:port", "[v6]:port" */
static void split_listen_addr(const char *spec, char *host, size_t hsz, int *port)
{
	const char *colon = strrchr(spec, ':');
	if (spec[0] == '[') {
		const char *end = strchr(spec, ']');
		size_t len = end ? (size_t)(end - spec - 1) : strlen(spec + 1);
		snprintf(host, hsz, "%.*s", (int)len, spec + 1);
		if (end && end[1] == ':')
			*port = (int)strtol(end + 2, NULL, 10);
	} else if (colon && strchr(spec, ':') == colon) {
		snprintf(host, hsz, "%.*s", (int)(colon - spec), spec);
		*port = (int)strtol(colon + 1, NULL, 10);
	} else {
		str_copy(host, hsz, spec);
	}
}

int listen_open(const struct config *cfg, int *fds, int max)
{
	int n = 0, failed = 0;
	int n_ports = cfg->n_ports ? cfg->n_ports : 1;
	for (int p = 0; p < n_ports; p++) {
		int port = cfg->n_ports ? cfg->ports[p] : 22;
		if (cfg->n_listen_addrs == 0) {
			if (bind_one("0.0.0.0", port, fds, &n, max) < 0)
				failed = 1;
			bind_one("::", port, fds, &n, max);   /* IPv6 may be absent */
			continue;
		}
		for (int a = 0; a < cfg->n_listen_addrs; a++) {
			char host[128];
			int aport = port;
			split_listen_addr(cfg->listen_addrs[a], host, sizeof(host), &aport);
			if (strchr(cfg->listen_addrs[a] + (cfg->listen_addrs[a][0] == '['), ':') &&
			    p > 0 && aport != port)
				continue;  /* an address with its own port is bound once */
			if (bind_one(host, aport, fds, &n, max) < 0)
				failed = 1;
		}
	}
	if (n == 0 || failed)
		return -1;
	return n;
}

void listen_notify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	if (!path || !path[0])
		return;
	struct sockaddr_un sa;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	size_t len = strlen(path);
	if (len >= sizeof(sa.sun_path))
		return;
	memcpy(sa.sun_path, path, len);
	if (path[0] == '@')
		sa.sun_path[0] = 0;      /* abstract namespace */
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	socklen_t sl = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	/* connect and write, not sendto: one libc import fewer; a datagram
	 * socket raises no SIGPIPE */
	if (connect(fd, (struct sockaddr *)&sa, sl) < 0 || write(fd, state, strlen(state)) < 0)
		debug("sd_notify %s: %m", state);
	close(fd);
}

static long mono_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec;
}

static void on_term(int sig) { (void)sig; got_term = 1; }
static void on_child(int sig) { (void)sig; got_child = 1; }
static void on_hup(int sig) { (void)sig; got_hup = 1; }

/* SIGHUP: swap in the re-read configuration; connection processes already
 * running keep their copy. */
/* sd_notify(3): RELOADING=1 with the CLOCK_MONOTONIC time it began (systemd
 * 253's Type=notify-reload wants it); READY=1 when done. */
static void notify_reloading(void)
{
	struct timespec ts;
	char msg[96];
	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof(msg), "RELOADING=1\nSTATUS=reloading\nMONOTONIC_USEC=%llu",
		 (unsigned long long)ts.tv_sec * 1000000ull +
		 (unsigned long long)ts.tv_nsec / 1000u);
	listen_notify(msg);
}

static void reload_config(struct config *cfg, struct sshkey **hostkeys, int n_hostkeys)
{
	struct config fresh;
	got_hup = 0;
	if (!reload_fn) {
		logit("Received SIGHUP; no configuration to re-read.");
		return;
	}
	notify_reloading();
	if (reload_fn(&fresh) < 0) {
		error("Received SIGHUP; configuration not reloaded, keeping the old one.");
		listen_notify("READY=1\nSTATUS=accepting connections (reload failed)");
		return;
	}
	char err[5000];
	if (lifecycle_init(&fresh, 1, err, sizeof(err)) < 0) {
		error("Received SIGHUP; configuration not reloaded: %s", err);
		config_free(&fresh);
		lifecycle_init(cfg, 1, err, sizeof(err));
		listen_notify("READY=1\nSTATUS=accepting connections (reload failed)");
		return;
	}
	if (take_snapshot(&fresh, hostkeys, n_hostkeys) < 0) {
		error("Received SIGHUP; configuration not reloaded (snapshot failed).");
		config_free(&fresh);
		listen_notify("READY=1\nSTATUS=accepting connections (reload failed)");
		return;
	}
	config_free(cfg);
	*cfg = fresh;
	penalty_configure(cfg);
	logit("Received SIGHUP; configuration re-read (applies to new connections).");
	listen_notify("READY=1\nSTATUS=accepting connections");
}

/* The peer address of each connection process, for the penalty its exit
 * status may earn. */
struct child_peer {
	pid_t pid;
	struct sockaddr_storage addr;
};
static struct child_peer *peers;
static int n_peers, cap_peers;

static void peer_remember(pid_t pid, const struct sockaddr_storage *addr)
{
	if (n_peers == cap_peers) {
		int cap = cap_peers ? cap_peers * 2 : 64;
		struct child_peer *t = realloc(peers, sizeof *t * (size_t)cap);
		if (!t) {
			error("out of memory: connection %ld not tracked for penalties", (long)pid);
			return;
		}
		peers = t;
		cap_peers = cap;
	}
	peers[n_peers++] = (struct child_peer){ .pid = pid, .addr = *addr };
}

/* A connection process killed by a signal cleaned nothing up: say so (a
 * fault signal is a bug, or an attack) and end its sessions for it. */
static void conn_killed(pid_t pid, int sig, const struct config *cfg)
{
	const char *name = session_signame(sig);
	error("connection process %ld killed by signal SIG%s", (long)pid, name ? name : "?");
	lifecycle_connection_killed(pid, cfg);
}

/* Apply the penalty, if any, a reaped connection process earned. */
static void peer_ended(pid_t pid, int status, const struct config *cfg)
{
	for (int i = 0; i < n_peers; i++) {
		if (peers[i].pid != pid)
			continue;
		if (WIFSIGNALED(status))
			conn_killed(pid, WTERMSIG(status), cfg);
		enum penalty_cause cause = penalty_cause_of(status);
		if (cause != PENALTY_NONE)
			penalty_record((struct sockaddr *)&peers[i].addr, cause, mono_seconds());
		peers[i] = peers[--n_peers];
		return;
	}
}

static void reap(const struct config *cfg)
{
	int status;
	int reaped = 0;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		n_children--;
		reaped = 1;
		peer_ended(pid, status, cfg);
	}
	got_child = 0;
	if (reaped)
		lifecycle_sweep();  /* session cgroups the connections left empty */
}

/* MaxStartups. Each connection still authenticating holds the write end of
 * a pipe whose read end the listener keeps here; the child closes it when
 * the user is in (or by exiting), which the listener sees as POLLHUP. */
#define STARTUPS_MAX 1024
static int startup_fds[STARTUPS_MAX];
static int n_startups;

static void startup_forget(int i)
{
	close(startup_fds[i]);
	startup_fds[i] = startup_fds[--n_startups];
}

/* sshd_config(5): refuse with probability rate% at `start` unauthenticated
 * connections, rising linearly to 100% at `full`. */
static int startups_refuse(const struct config *cfg)
{
	if (n_startups >= STARTUPS_MAX || n_startups >= cfg->max_startups_full)
		return 1;
	if (n_startups < cfg->max_startups)
		return 0;
	int span = cfg->max_startups_full - cfg->max_startups;
	int pct = cfg->max_startups_rate;
	if (span > 0)
		pct += (100 - pct) * (n_startups - cfg->max_startups) / span;
	return (int)(rand_u32() % 100) < pct;
}

static void serve_child(int fd, int *fds, int n, int notify_fd, struct config *cfg,
			struct sshkey **hostkeys, int n_hostkeys)
{
	for (int i = 0; i < n; i++)
		close(fds[i]);
	for (int i = 0; i < n_startups; i++)
		close(startup_fds[i]);
	conn_set_auth_notify(notify_fd);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	int status = conn_run(fd, fd, cfg, hostkeys, n_hostkeys);
	leak_check_before_exit();
	_exit(status);
}

static void accept_one(int *fds, int n, int which, struct config *cfg,
		       struct sshkey **hostkeys, int n_hostkeys)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int fd = accept4(fds[which], (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	if (penalty_refuse((struct sockaddr *)&ss, mono_seconds())) {
		close(fd);   /* unread: the penalty is the whole answer */
		return;
	}
	if (startups_refuse(cfg)) {
		char addr[64] = "?";
		getnameinfo((struct sockaddr *)&ss, sl, addr, sizeof(addr), NULL, 0,
			    NI_NUMERICHOST);
		logit("drop connection from %s: MaxStartups %d:%d:%d (%d unauthenticated)",
		      addr, cfg->max_startups, cfg->max_startups_rate,
		      cfg->max_startups_full, n_startups);
		close(fd);
		return;
	}
	int notify[2];
	if (pipe2(notify, O_CLOEXEC) < 0) {
		error("pipe: %m");
		close(fd);
		return;
	}
	pid_t pid;
	if (exec_argv) {
		pid = rexec_spawn(fd, snapshot_fd, notify[1], exec_argv);
	} else {
		pid = fork();
		if (pid == 0) {
			close(notify[0]);
			serve_child(fd, fds, n, notify[1], cfg, hostkeys, n_hostkeys);
		}
		if (pid < 0)
			error("fork: %m");
	}
	close(notify[1]);
	if (pid > 0) {
		n_children++;
		peer_remember(pid, &ss);
		startup_fds[n_startups++] = notify[0];
	} else {
		close(notify[0]);
	}
	close(fd);
}

/* noinline: inlined into main (its one caller), it made main larger than
 * the two apart */
__attribute__((noinline))
void listen_loop(int *fds, int n, struct config *cfg, struct sshkey **hostkeys,
		 int n_hostkeys)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_hup;
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = on_child;
	sa.sa_flags = SA_NOCLDSTOP;
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	penalty_configure(cfg);
	if (take_snapshot(cfg, hostkeys, n_hostkeys) < 0)
		fatal("cannot start connection processes: not listening");
	/* ready only now: a SIGHUP right after READY=1 must reload, not kill */
	listen_notify("READY=1\nSTATUS=accepting connections");
	static struct pollfd pfd[LISTEN_MAX + STARTUPS_MAX];
	while (!got_term) {
		if (got_child)
			reap(cfg);
		if (got_hup)
			reload_config(cfg, hostkeys, n_hostkeys);
		penalty_expire(mono_seconds());
		for (int i = 0; i < n; i++)
			pfd[i] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
		for (int i = 0; i < n_startups; i++)
			pfd[n + i] = (struct pollfd){ .fd = startup_fds[i], .events = POLLIN };
		int polled_startups = n_startups;
		if (poll(pfd, (nfds_t)(n + polled_startups), 1000) <= 0)
			continue;
		/* back to front: startup_forget moves the last entry down */
		for (int i = polled_startups - 1; i >= 0; i--)
			if (pfd[n + i].revents)
				startup_forget(i);
		for (int i = 0; i < n; i++)
			if (pfd[i].revents & POLLIN)
				accept_one(fds, n, i, cfg, hostkeys, n_hostkeys);
	}
	logit("Received signal; terminating (sessions keep running).");
	listen_notify("STOPPING=1");
}
