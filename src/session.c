/* session: session channel requests (RFC 4254 s6) and the child process. */
#include "session.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "authfile.h"
#include "channel.h"
#include "config.h"
#include "conn.h"
#include "lifecycle.h"
#include "log.h"
#include "tty.h"
#include "utmp_log.h"

#define SESSION_MAX_ENV 64          /* client "env" requests kept */
#define SESSION_PATH "/usr/local/bin:/usr/bin:/bin"

struct session {
	struct channel *ch;
	pid_t pid;                  /* -1: none running (never started or reaped) */
	int started;
	char *client_env[SESSION_MAX_ENV];  /* "NAME=VALUE" */
	int n_client_env;
	struct pty *pty;            /* after pty-req, else NULL */
	pid_t utmp_pid;             /* the pid of the utmp login record, 0: none */
	struct lc_session *lc;      /* cgroup and SessionKillMode (lifecycle.c) */
};

/* ---------- signal names (RFC 4254 s6.10) ---------- */

/* The names glibc's sigabbrev_np gives signals 1-31, kept here: that call
 * is one more versioned libc import (about 90 bytes of dynamic symbol,
 * relocation and version entries), in a table by number with no pointers. */
#define SIGNAL_NAMES 32           /* 1-31 named, 0 not */
static const char signal_names[SIGNAL_NAMES][7] = {
	[SIGHUP] = "HUP", [SIGINT] = "INT", [SIGQUIT] = "QUIT", [SIGILL] = "ILL",
	[SIGTRAP] = "TRAP", [SIGABRT] = "ABRT", [SIGBUS] = "BUS", [SIGFPE] = "FPE",
	[SIGKILL] = "KILL", [SIGUSR1] = "USR1", [SIGSEGV] = "SEGV", [SIGUSR2] = "USR2",
	[SIGPIPE] = "PIPE", [SIGALRM] = "ALRM", [SIGTERM] = "TERM",
#ifdef SIGSTKFLT                /* not on every architecture */
	[SIGSTKFLT] = "STKFLT",
#endif
	[SIGCHLD] = "CHLD", [SIGCONT] = "CONT", [SIGSTOP] = "STOP", [SIGTSTP] = "TSTP",
	[SIGTTIN] = "TTIN", [SIGTTOU] = "TTOU", [SIGURG] = "URG", [SIGXCPU] = "XCPU",
	[SIGXFSZ] = "XFSZ", [SIGVTALRM] = "VTALRM", [SIGPROF] = "PROF", [SIGWINCH] = "WINCH",
	[SIGPOLL] = "POLL", [SIGPWR] = "PWR", [SIGSYS] = "SYS",
};

const char *session_signame(int sig)
{
	if (sig <= 0 || sig >= SIGNAL_NAMES || !signal_names[sig][0])
		return NULL;
	return signal_names[sig];
}

int session_signum(const char *name)
{
	for (int sig = 1; sig < SIGNAL_NAMES; sig++)
		if (signal_names[sig][0] && strcmp(signal_names[sig], name) == 0)
			return sig;
	return 0;
}

/* ---------- lifetime ---------- */

static struct session *session_new(struct channel *ch)
{
	struct session *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->ch = ch;
	s->pid = -1;
	return s;
}

static pid_t session_pid(const struct session *s)
{
	return s->pid;
}

/* SessionKillMode for whatever still runs of the session (lifecycle.c);
 * s->pid is -1 when the main process has been reaped already. */
static void session_end_policy(struct session *s)
{
	lifecycle_session_end(s->lc, s->pid, s->pty != NULL);
	s->lc = NULL;
}

/* The pty session's logout record, then the tty goes back to root. */
static void session_pty_end(struct session *s)
{
	if (!s->pty)
		return;
	if (s->utmp_pid)
		utmp_record(s->pty->path, NULL, NULL, s->utmp_pid);
	pty_release(s->pty);
	s->pty = NULL;
}

static void session_free(struct session *s)
{
	if (!s)
		return;
	session_end_policy(s);
	session_pty_end(s);
	for (int i = 0; i < s->n_client_env; i++)
		free(s->client_env[i]);
	free(s);
}

/* ---------- exit reporting ---------- */

static void session_child_exited(struct session *s, int status)
{
	uint32_t id = chan_id(s->ch);
	s->pid = -1;
	if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);
		const char *name = session_signame(sig);
		char num[32];
		if (!name) {
			snprintf(num, sizeof(num), "SIG%d@wombat", sig);
			name = num;
		}
		verbose("session channel %u: child killed by signal %s%s", id, name,
			WCOREDUMP(status) ? " (core dumped)" : "");
		buf_t *b = chan_request_start(s->ch, "exit-signal", 0);
		if (!b)
			return;
		buf_put_cstring(b, name);
		buf_put_bool(b, WCOREDUMP(status));
		buf_put_cstring(b, "");
		buf_put_cstring(b, "");
		conn_pkt_send(chan_conn(s->ch));
		return;
	}
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : 255;
	verbose("session channel %u: child exited with status %d", id, code);
	buf_t *b = chan_request_start(s->ch, "exit-status", 0);
	if (!b)
		return;
	buf_put_u32(b, (uint32_t)code);
	conn_pkt_send(chan_conn(s->ch));
}

/* ---------- environment ---------- */

struct envlist {
	char **v;
	int n, cap;
};

static int name_len(const char *entry)
{
	const char *eq = strchr(entry, '=');
	return eq ? (int)(eq - entry) : -1;
}

/* Add "NAME=VALUE", replacing an earlier entry with the same name. */
static void env_put(struct envlist *e, const char *entry)
{
	int nl = name_len(entry);
	if (nl <= 0)
		return;
	for (int i = 0; i < e->n; i++) {
		if (name_len(e->v[i]) == nl && strncmp(e->v[i], entry, (size_t)nl) == 0) {
			e->v[i] = (char *)entry;
			return;
		}
	}
	if (e->n + 1 >= e->cap) {
		int ncap = e->cap ? e->cap * 2 : 32;
		char **nv = realloc(e->v, (size_t)ncap * sizeof(*nv));
		if (!nv)
			return;
		e->v = nv;
		e->cap = ncap;
	}
	e->v[e->n++] = (char *)entry;
	e->v[e->n] = NULL;
}

/* "NAME=VALUE" in a fresh allocation; NULL when out of memory. */
static char *env_entry(const char *name, const char *value)
{
	size_t n = strlen(name) + strlen(value) + 2;
	char *s = malloc(n);
	if (s)
		snprintf(s, n, "%s=%s", name, value);
	return s;
}

static void env_set(struct envlist *e, const char *name, const char *value)
{
	char *s = env_entry(name, value);
	if (s)
		env_put(e, s);
}

/* authorized_keys environment=: PermitUserEnvironment yes, or a pattern
 * list the variable's name must match. */
static int user_env_allowed(const struct config *cfg, const char *entry)
{
	char name[256];
	int nl = name_len(entry);
	if (!cfg->permit_user_env_pattern)
		return 1;
	if (nl <= 0 || (size_t)nl >= sizeof(name))
		return 0;
	memcpy(name, entry, (size_t)nl);
	name[nl] = '\0';
	return match_pattern_list(name, cfg->permit_user_env_pattern) == 1;
}

/* ~/.ssh/environment (sshd(8) ENVIRONMENT): "NAME=value" lines, # comments.
 * Read in the child after the privilege drop, so only what the user may read
 * is read. Lines without '=' or longer than the buffer are skipped. */
static void read_user_environment_file(struct envlist *e, const struct config *cfg,
				       const struct passwd *pw)
{
	char path[1024], line[4096];
	snprintf(path, sizeof(path), "%s/.ssh/environment", pw->pw_dir);
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		size_t n = strlen(line);
		if (n == sizeof(line) - 1 && line[n - 1] != '\n') {
			int ch;
			while ((ch = fgetc(f)) != EOF && ch != '\n')
				;
			continue;
		}
		while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		const char *entry = line + strspn(line, " \t");
		if (!*entry || *entry == '#' || name_len(entry) <= 0 ||
		    !user_env_allowed(cfg, entry))
			continue;
		char *copy = strdup(entry);
		if (copy)
			env_put(e, copy);
	}
	fclose(f);
}

struct launch {
	const char *command;        /* run with "-c"; NULL = login shell */
	const char *original;       /* SSH_ORIGINAL_COMMAND when forced, or NULL */
	char last_login[400];       /* PrintLastLog message for a pty login */
};

/* Session environment, later wins (README "Session environment"):
 *   1. the client's "env" requests that AcceptEnv let through;
 *   2. the server's defaults PATH and TERM (TERM only from a pty-req);
 *   3. with PermitUserEnvironment: authorized_keys environment=, then
 *      ~/.ssh/environment (sshd(8) reads the file after the basic
 *      environment, so a user may set PATH there, as with OpenSSH);
 *   4. SetEnv;
 *   5. what describes the account and the connection: USER, LOGNAME, HOME,
 *      SHELL, MAIL, SSH_CONNECTION, SSH_CLIENT, SSH_TTY, SSH_ORIGINAL_COMMAND.
 * So a client can replace none of 2 and 5 nor anything the administrator
 * set, and nobody can change 5 (a forced command may rely on it). Client
 * variables named like those of 5 or PATH are refused already (req_env),
 * so a session without a pty or forced command has no forged SSH_TTY or
 * SSH_ORIGINAL_COMMAND either. */
static void env_put_client(struct envlist *e, const struct session *s)
{
	for (int i = 0; i < s->n_client_env; i++)
		env_put(e, s->client_env[i]);
}

static void env_put_defaults(struct envlist *e, const struct session *s)
{
	env_set(e, "PATH", SESSION_PATH);
	if (s->pty && s->pty->term[0])
		env_set(e, "TERM", s->pty->term);
}

static void env_put_user_files(struct envlist *e, const struct config *cfg,
			       const struct authkey_opts *ko, const struct passwd *pw)
{
	if (!cfg->permit_user_environment)
		return;
	if (ko)
		for (int i = 0; i < ko->n_environment; i++)
			if (user_env_allowed(cfg, ko->environment[i]))
				env_put(e, ko->environment[i]);
	read_user_environment_file(e, cfg, pw);
}

static void env_put_setenv(struct envlist *e, const struct config *cfg)
{
	for (int i = 0; i < cfg->n_set_env; i++)
		env_put(e, cfg->set_env[i]);
}

static void env_put_facts(struct envlist *e, const struct session *s,
			  const struct passwd *pw, const struct launch *l)
{
	struct conn *c = chan_conn(s->ch);
	const char *shell = pw->pw_shell && *pw->pw_shell ? pw->pw_shell : "/bin/sh";
	char tmp[512];

	env_set(e, "USER", pw->pw_name);
	env_set(e, "LOGNAME", pw->pw_name);
	env_set(e, "HOME", pw->pw_dir);
	env_set(e, "SHELL", shell);
	snprintf(tmp, sizeof(tmp), "/var/mail/%s", pw->pw_name);
	env_set(e, "MAIL", tmp);
	snprintf(tmp, sizeof(tmp), "%s %d %s %d", conn_peer_addr(c), conn_peer_port(c),
		 conn_local_addr(c), conn_local_port(c));
	env_set(e, "SSH_CONNECTION", tmp);
	snprintf(tmp, sizeof(tmp), "%s %d %d", conn_peer_addr(c), conn_peer_port(c),
		 conn_local_port(c));
	env_set(e, "SSH_CLIENT", tmp);
	if (s->pty)
		env_set(e, "SSH_TTY", s->pty->path);
	if (l->original)
		env_set(e, "SSH_ORIGINAL_COMMAND", l->original);
}

/* Runs in the child (the process is ours alone: allocation is fine). */
static char **build_env(struct session *s, const struct passwd *pw,
			const struct launch *l)
{
	struct conn *c = chan_conn(s->ch);
	const struct config *cfg = conn_config(c);
	struct envlist e = { 0 };

	env_put_client(&e, s);
	env_put_defaults(&e, s);
	env_put_user_files(&e, cfg, conn_authkey_opts(c), pw);
	env_put_setenv(&e, cfg);
	env_put_facts(&e, s, pw, l);
	if (!e.v)
		env_put(&e, "PATH=" SESSION_PATH);
	return e.v;
}

/* ---------- the child ---------- */

static void child_fail(const char *what)
{
	char msg[256];
	int n = snprintf(msg, sizeof(msg), "wombatd: %s: %m\r\n", what);
	if (n > 0)
		(void)!write(2, msg, (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1);
	_exit(1);
}

static void reset_signals(void)
{
	sigset_t none = { 0 };          /* Linux's empty set: all bits clear */
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);       /* EINVAL for KILL/STOP etc: fine */
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* Put the three pipe ends on 0, 1, 2 (moving them above 2 first so that
 * none is overwritten whatever numbers they had). */
static void setup_stdio(int in, int out, int err)
{
	int fds[3] = { in, out, err };
	for (int i = 0; i < 3; i++) {
		fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 3);
		if (fds[i] < 0)
			child_fail("dup");
	}
	for (int i = 0; i < 3; i++)
		if (dup2(fds[i], i) < 0)
			child_fail("dup2");
}

static void close_other_fds(void)
{
	if (close_range(3, ~0u, 0) == 0)
		return;
	long max = sysconf(_SC_OPEN_MAX);
	if (max < 0 || max > 65536)
		max = 65536;
	for (int fd = 3; fd < max; fd++)
		close(fd);
}

/* Become the user, and check that it stuck (and cannot be undone). */
static void drop_privileges(const struct passwd *pw)
{
	if (geteuid() != 0 || pw->pw_uid == getuid())
		return;
	if (initgroups(pw->pw_name, pw->pw_gid) < 0)
		child_fail("initgroups");
	if (setgid(pw->pw_gid) < 0)
		child_fail("setgid");
	if (setuid(pw->pw_uid) < 0)
		child_fail("setuid");
	if (getuid() != pw->pw_uid || geteuid() != pw->pw_uid ||
	    getgid() != pw->pw_gid || getegid() != pw->pw_gid) {
		errno = EPERM;
		child_fail("privilege drop did not take");
	}
	if (pw->pw_uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
		errno = EPERM;
		child_fail("privileges could be regained");
	}
}

static const char *base_name(const char *path)
{
	const char *sl = strrchr(path, '/');
	return sl ? sl + 1 : path;
}

/* A login shell on a pty greets as login(1) does: last login, then
 * /etc/motd, unless ~/.hushlogin exists (we are in the home directory). */
static void print_login_messages(struct session *s, const struct launch *l)
{
	const struct config *cfg = conn_config(chan_conn(s->ch));
	if (access(".hushlogin", F_OK) == 0)
		return;
	if (cfg->print_last_log && l->last_login[0])
		fprintf(stdout, "%s\r\n", l->last_login);
	fflush(stdout);
	if (!cfg->print_motd)
		return;
	FILE *f = fopen("/etc/motd", "r");
	if (!f)
		return;
	char line[1024];
	while (fgets(line, sizeof(line), f))
		fputs(line, stdout);      /* the tty's ONLCR adds the \r */
	fclose(f);
	fflush(stdout);
}

static void __attribute__((noreturn))
child_exec(struct session *s, const struct passwd *pw, const struct launch *l,
	   int in, int out, int err)
{
	const char *shell = pw->pw_shell && *pw->pw_shell ? pw->pw_shell : "/bin/sh";
	char argv0[256];
	char *argv[4];

	reset_signals();
	if (lifecycle_child_enter(s->lc) < 0)
		child_fail("cannot enter the session's cgroup");
	setsid();
	if (s->pty) {
		if (pty_child_attach(s->pty) < 0)
			child_fail("pty");
	} else {
		setup_stdio(in, out, err);
	}
	close_other_fds();
	drop_privileges(pw);
	if (chdir(pw->pw_dir) < 0 && chdir("/") < 0)
		child_fail("chdir");
	if (s->pty && !l->command)
		print_login_messages(s, l);
	char **envp = build_env(s, pw, l);
	if (l->command) {
		str_copy(argv0, sizeof(argv0), base_name(shell));
		argv[0] = argv0;
		argv[1] = (char *)"-c";
		argv[2] = (char *)l->command;
		argv[3] = NULL;
	} else {
		snprintf(argv0, sizeof(argv0), "-%s", base_name(shell));
		argv[0] = argv0;
		argv[1] = NULL;
	}
	execve(shell, argv, envp);
	child_fail(shell);
	_exit(127);
}

/* ---------- starting ---------- */

static void close_pair(int p[2])
{
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
}

/* The child's stdout pipe holds 256 KiB rather than the kernel's 64 KiB: a
 * bulk writer runs ahead without blocking, and the channel finds a full
 * read (CHAN_READ_MAX, four to the pipe) waiting. A pipe's pages are only
 * allocated while data waits in it. */
#define STDOUT_PIPE_SIZE ((int)(256u * 1024))

/* The child's stdio: three pipes, or with a pty the master twice for the
 * channel (stderr goes to the tty, so no efd). -1 on failure. */
static int make_stdio(struct session *s, int in[2], int out[2], int err[2])
{
	if (s->pty)
		return pty_channel_fds(s->pty, &in[1], &out[0]);
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 ||
	    pipe2(err, O_CLOEXEC) < 0)
		return -1;
	fcntl(out[0], F_SETPIPE_SZ, STDOUT_PIPE_SIZE);  /* best effort */
	return 0;
}

/* A pty login: lastlog (read for the greeting, then updated) before the
 * fork; utmp/wtmp once the child's pid is known (after). */
static void record_login_before(struct session *s, const struct passwd *pw,
				struct launch *l)
{
	if (s->pty && !l->command)
		lastlog_update(pw->pw_uid, s->pty->path, conn_peer_addr(chan_conn(s->ch)),
			       l->last_login, sizeof(l->last_login));
}

static void record_login_after(struct session *s, const struct passwd *pw, pid_t pid)
{
	if (!s->pty)
		return;
	pty_parent_forked(s->pty);
	utmp_record(s->pty->path, pw->pw_name, conn_peer_addr(chan_conn(s->ch)), pid);
	s->utmp_pid = pid;
}

/* Fork the child with pipes or its pty; the channel gets our ends. */
static int session_launch(struct session *s, struct launch *l, const char *what)
{
	const struct passwd *pw = conn_user(chan_conn(s->ch));
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, err[2] = { -1, -1 };

	if (!pw || s->started)
		return 0;
	s->lc = lifecycle_session_new(conn_config(chan_conn(s->ch)), pw->pw_name,
				      chan_id(s->ch));
	if (!s->lc)
		return 0;   /* a cgroup is required and could not be made: logged */
	const char *failed = "pipe";
	if (make_stdio(s, in, out, err) < 0)
		goto fail;
	record_login_before(s, pw, l);
	/* Signals stay blocked from before the fork until the child has reset
	 * their dispositions (reset_signals): one sent to it in between, such
	 * as the SIGHUP of a session ended at once, waits instead of running
	 * this process's handler or being dropped by an inherited SIG_IGN. */
	sigset_t all, old;
	memset(&all, 0xff, sizeof all);     /* sigfillset's bits, one import fewer */
	sigprocmask(SIG_SETMASK, &all, &old);
	pid_t pid = fork();
	if (pid == 0)
		child_exec(s, pw, l, in[0], out[1], err[1]);
	sigprocmask(SIG_SETMASK, &old, NULL);
	failed = "fork";
	if (pid < 0)
		goto fail;
	lifecycle_session_started(s->lc, pid);
	if (in[0] >= 0)
		close(in[0]);
	if (out[1] >= 0)
		close(out[1]);
	if (err[1] >= 0)
		close(err[1]);
	record_login_after(s, pw, pid);
	s->pid = pid;
	s->started = 1;
	chan_attach_fds(s->ch, in[1], out[0], err[0]);
	verbose("session channel %u: %s for %s, pid %d%s%s", chan_id(s->ch), what,
		pw->pw_name, (int)pid, s->pty ? " on " : "", s->pty ? s->pty->path : "");
	return 1;
fail:
	error("session: %s: %m", failed);
	close_pair(in);
	close_pair(out);
	close_pair(err);
	return 0;
}

/* The command that runs in place of what the client asked: ForceCommand
 * first (the administrator's), then the key's command="...". */
static const char *forced_command(struct session *s)
{
	struct conn *c = chan_conn(s->ch);
	const struct config *cfg = conn_config(c);
	const struct authkey_opts *ko = conn_authkey_opts(c);

	if (cfg->force_command)
		return cfg->force_command;
	if (ko && ko->command)
		return ko->command;
	return NULL;
}

/* requested: the client's command (NULL for a shell). */
static int start_command(struct session *s, const char *requested, const char *label)
{
	struct launch l = { .command = requested };
	const char *forced = forced_command(s);
	char what[600];

	if (forced) {
		l.command = forced;
		l.original = requested;
		snprintf(what, sizeof(what), "forced command \"%s\" (%s)", forced, label);
	} else if (requested) {
		snprintf(what, sizeof(what), "%s \"%s\"", label, requested);
	} else {
		str_copy(what, sizeof(what), label);
	}
	return session_launch(s, &l, what);
}

/* ---------- requests ---------- */

/* A string argument copied into a fresh NUL-terminated allocation; NULL on
 * a malformed packet (r->err set: a protocol error) or when it holds a NUL
 * or memory is short (r->err clear: the request is refused). */
static char *take_string(rd_t *r)
{
	const uint8_t *p;
	size_t n;
	if (rd_string(r, &p, &n) < 0 || memchr(p, 0, n))
		return NULL;
	char *s = malloc(n + 1);
	if (!s)
		return NULL;
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

/* A request whose string take_string refused: failed (0), or malformed (-1) */
static int take_failed(const rd_t *r)
{
	return r->err ? -1 : 0;
}

/* Set by the server for every session (or, for SSH_TTY and
 * SSH_ORIGINAL_COMMAND, left unset on purpose): a client may not send them,
 * whatever AcceptEnv says. TERM is not here: a session without a pty may
 * take the client's; with one, pty-req's wins (build_env). */
static int env_reserved(const char *name)
{
	static const char *const reserved[] = {
		"USER", "LOGNAME", "HOME", "SHELL", "PATH", "MAIL", "SSH_CONNECTION",
		"SSH_CLIENT", "SSH_TTY", "SSH_ORIGINAL_COMMAND",
	};
	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (strcmp(name, reserved[i]) == 0)
			return 1;
	return 0;
}

static int env_accepted(const struct config *cfg, const char *name)
{
	if (env_reserved(name))
		return 0;
	for (int i = 0; i < cfg->n_accept_env; i++)
		if (match_pattern_list(name, cfg->accept_env[i]) == 1)
			return 1;
	return 0;
}

static int req_env(struct session *s, rd_t *r)
{
	const struct config *cfg = conn_config(chan_conn(s->ch));
	int ok = 0;
	char *name = take_string(r);
	if (!name)
		return take_failed(r);
	char *value = take_string(r);
	if (!value) {
		free(name);
		return take_failed(r);
	}
	if (!s->started && s->n_client_env < SESSION_MAX_ENV && name[0] &&
	    !strchr(name, '=') && env_accepted(cfg, name)) {
		char *e = env_entry(name, value);
		if (e) {
			s->client_env[s->n_client_env++] = e;
			ok = 1;
		}
	}
	if (!ok)
		debug("session channel %u: env %s refused", chan_id(s->ch), name);
	free(name);
	free(value);
	return ok;
}

static int req_exec(struct session *s, rd_t *r)
{
	char *cmd = take_string(r);
	if (!cmd)
		return take_failed(r);
	int ok = start_command(s, cmd, "exec");
	if (ok)
		chan_set_kind(s->ch, "session:command");
	free(cmd);
	return ok;
}

/* The configured command for a subsystem. With no "Subsystem sftp" line,
 * OpenSSH's sftp-server is used when installed (OpenSSH itself has no
 * default; sftp and scp working out of the box is friendlier). */
#define DEFAULT_SFTP_SERVER "/usr/lib/openssh/sftp-server"
static const char *subsystem_command(const struct config *cfg, const char *name)
{
	for (int i = 0; i < cfg->n_subsystems; i++)
		if (strcmp(cfg->subsystem_names[i], name) == 0)
			return cfg->subsystem_cmds[i];
	if (strcmp(name, "sftp") == 0 && access(DEFAULT_SFTP_SERVER, X_OK) == 0)
		return DEFAULT_SFTP_SERVER;
	return NULL;
}

static int req_subsystem(struct session *s, rd_t *r)
{
	const struct config *cfg = conn_config(chan_conn(s->ch));
	int ok = 0;
	char *name = take_string(r);
	if (!name)
		return take_failed(r);
	const char *cmd = subsystem_command(cfg, name);
	if (cmd) {
		char label[300];
		snprintf(label, sizeof(label), "subsystem %s", name);
		if (forced_command(s)) {
			ok = start_command(s, name, label);
		} else {
			struct launch l = { .command = cmd };
			char what[600];
			snprintf(what, sizeof(what), "%s \"%s\"", label, cmd);
			ok = session_launch(s, &l, what);
		}
	}
	if (ok) {
		char kind[80];
		snprintf(kind, sizeof(kind), "session:subsystem:%s", name);
		chan_set_kind(s->ch, kind);
	} else {
		verbose("session channel %u: subsystem \"%s\" refused", chan_id(s->ch), name);
	}
	free(name);
	return ok;
}

static int req_signal(struct session *s, rd_t *r)
{
	char name[32];
	if (rd_cstring(r, name, sizeof(name)) < 0)
		return 0;
	int sig = session_signum(name);
	if (!sig || s->pid <= 0)
		return 0;
	verbose("session channel %u: client sends SIG%s", chan_id(s->ch), name);
	if (kill(-s->pid, sig) < 0 && kill(s->pid, sig) < 0)
		return 0;
	return 1;
}

/* May this session have a pty? PermitTTY, and the key's no-pty/restrict. */
static int pty_allowed(struct session *s)
{
	struct conn *c = chan_conn(s->ch);
	const struct authkey_opts *ko = conn_authkey_opts(c);
	if (!conn_config(c)->permit_tty) {
		verbose("session channel %u: pty refused by PermitTTY", chan_id(s->ch));
		return 0;
	}
	if (ko && ko->no_pty) {
		verbose("session channel %u: pty refused by the key's %s option",
			chan_id(s->ch), ko->restrict_ ? "restrict" : "no-pty");
		return 0;
	}
	return 1;
}

static int req_pty(struct session *s, rd_t *r)
{
	struct pty_req req;
	const struct passwd *pw = conn_user(chan_conn(s->ch));
	if (pty_parse_request(r, &req) < 0)
		return -1;
	if (s->pty || s->started || !pw || !pty_allowed(s))
		return 0;
	s->pty = pty_open(&req, pw);
	if (!s->pty)
		return 0;
	verbose("session channel %u: pty %s (TERM %s, %ux%u)", chan_id(s->ch),
		s->pty->path, req.term[0] ? req.term : "unset", req.cols, req.rows);
	return 1;
}

static int req_window_change(struct session *s, rd_t *r)
{
	uint32_t cols, rows, wpx, hpx;
	if (pty_parse_winsize(r, &cols, &rows, &wpx, &hpx) < 0 || rd_end(r) < 0)
		return -1;
	if (!s->pty)
		return 0;
	pty_set_winsize(s->pty, cols, rows, wpx, hpx);
	return 1;
}

static int session_request(struct session *s, const char *type, rd_t *r)
{
	if (strcmp(type, "exec") == 0)
		return req_exec(s, r);
	if (strcmp(type, "shell") == 0) {
		int ok = start_command(s, NULL, "shell");
		if (ok)
			chan_set_kind(s->ch, "session:shell");
		return ok;
	}
	if (strcmp(type, "subsystem") == 0)
		return req_subsystem(s, r);
	if (strcmp(type, "env") == 0)
		return req_env(s, r);
	if (strcmp(type, "signal") == 0)
		return req_signal(s, r);
	if (strcmp(type, "pty-req") == 0)
		return req_pty(s, r);
	if (strcmp(type, "window-change") == 0)
		return req_window_change(s, r);
	return 0;   /* x11-req, keepalive@openssh.com, ... */
}

/* ---------- the channel type ---------- */

static enum chan_open_rc sess_open(struct channel *ch, rd_t *r)
{
	const struct config *cfg = conn_config(chan_conn(ch));
	if (rd_end(r) < 0)
		return CHAN_OPEN_BAD;
	/* the table already holds this one */
	if (chan_count_type(chan_set(ch), &session_chan_type) > cfg->max_sessions) {
		verbose("session open refused: MaxSessions %d reached", cfg->max_sessions);
		chan_refuse(ch, SSH_OPEN_ADMINISTRATIVELY_PROHIBITED, "administratively prohibited");
		return CHAN_OPEN_REFUSED;
	}
	struct session *s = session_new(ch);
	if (!s) {
		chan_refuse(ch, SSH_OPEN_RESOURCE_SHORTAGE, "resource shortage");
		return CHAN_OPEN_REFUSED;
	}
	chan_set_priv(ch, s);
	return CHAN_OPEN_OK;
}

static int sess_request(struct channel *ch, const char *type, rd_t *r)
{
	struct session *s = chan_priv(ch);
	return s ? session_request(s, type, r) : 0;
}

static pid_t sess_child(const struct channel *ch)
{
	const struct session *s = chan_priv(ch);
	return s ? session_pid(s) : -1;
}

static void sess_child_exited(struct channel *ch, int status)
{
	struct session *s = chan_priv(ch);
	if (s)
		session_child_exited(s, status);
}

static void sess_free(struct channel *ch)
{
	session_free(chan_priv(ch));
	chan_set_priv(ch, NULL);
}

const struct chan_type session_chan_type = {
	.name = "session",
	.open = sess_open,
	.request = sess_request,
	.child = sess_child,
	.child_exited = sess_child_exited,
	.free = sess_free,
};
