/* lifecycle: per-session cgroups (cgroup v2) and SessionKillMode.
 *
 * Layout: <base>/wombat-<user>-<connection pid>-ch<channel id>, where base
 * is SessionCgroupRoot or the daemon's own cgroup. The session's child moves
 * itself into its cgroup before exec, so everything it starts is in there
 * (a double fork, setsid or a tmux server cannot leave it).
 *
 * Session end, per mode (see DESIGN.md "What survives a session"):
 *   process        SIGHUP to the main process alone if it still runs (its
 *                  group also holds the `cmd &` jobs of a shell without
 *                  job control, which live on); with a pty, closing it
 *                  then hangs up the terminal's foreground group, as a
 *                  terminal does
 *   none           nothing
 *   control-group  SessionKillSignal to every process in the cgroup, then
 *                  cgroup.kill (SIGKILL) after SessionKillTimeout
 *   mixed          SessionKillSignal to the main process, SIGKILL to what
 *                  is left once it has gone or the timeout has passed
 * The two waiting modes run in a forked reaper, so the connection's poll
 * loop (other channels) never waits for a timeout. */
#include "lifecycle.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "alive.h"
#include "config.h"
#include "log.h"
#include "session.h"   /* session_signame */

#define CG_PREFIX "wombat-"
#define MAX_PIDS 4096
#define FINAL_WAIT_MS 3000      /* after SIGKILL: the kernel is quick */
/* Bounded waits in the connection process for the main process to act on
 * SIGHUP. With a pty it should act before the terminal is closed: a shell
 * that sees EOF on the tty first exits without hanging up its jobs. At
 * 300 ms a plain `cmd &` survived about 1 run in 4 on a busy machine; with
 * 2 s about 1 in 20 (bash itself does not always hang its jobs up). A
 * shell normally exits within milliseconds; only one that ignores SIGHUP
 * makes the connection wait the whole time. */
#define HUP_GRACE_MS 300
#define HUP_GRACE_PTY_MS 2000
/* Each session cgroup carries its policy as an extended attribute: "MODE
 * SIG TIMEOUT MAINPID" while the session runs, "ended" once its connection
 * has applied SessionKillMode itself. A connection process killed outright
 * (SIGKILL, a crash) cannot end its sessions, and only it knew the policy
 * its Match blocks gave them: the listener reads it from here when it reaps
 * such a process. The cgroup directory is the daemon's (mode 0755), so the
 * session's user cannot change it. */
#define POLICY_XATTR "user.wombat.session"

struct lc_session {
	int mode, sig, timeout, fallback;
	unsigned chan;
	char user[64];
	pid_t pgid;                 /* the main process (a session leader) */
	char dir[PATH_MAX];         /* "" when the session has no cgroup */
};

/* The cgroup the session cgroups go under; "" when no usable cgroup v2.
 * On the heap: a connection process holds it for its whole life, and a
 * static array of PATH_MAX would keep a page of .bss resident for it. */
#define CG_BASE_MAX (PATH_MAX - 128)
static char cg_none[1];
static char *cg_base = cg_none;

/* 0, or -1 when base could not be kept (out of memory: no cgroup then). */
static int set_base(const char *base)
{
	char *copy = base && base[0] ? strdup(base) : NULL;
	if (cg_base != cg_none)
		free(cg_base);
	cg_base = copy ? copy : cg_none;
	return base && base[0] && !copy ? -1 : 0;
}

static const char *mode_name(int mode)
{
	switch (mode) {
	case KILL_CONTROL_GROUP: return "control-group";
	case KILL_MIXED: return "mixed";
	case KILL_NONE: return "none";
	default: return "process";
	}
}

static const char *sig_name(int sig)
{
	const char *n = session_signame(sig);
	return n ? n : "?";
}

/* ---------- small file helpers ---------- */

/* dir/name opened with flags (and O_CLOEXEC); -1 with errno set. */
static int open_in(const char *dir, const char *name, int flags)
{
	char path[PATH_MAX];
	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return open(path, flags | O_CLOEXEC, 0);   /* the mode: no __open_2 import */
}

static int write_file(const char *dir, const char *name, const char *text)
{
	int fd = open_in(dir, name, O_WRONLY);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, text, strlen(text));
	int saved = errno;
	close(fd);
	errno = saved;
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* Whole small file dir/name into buf (NUL-terminated); -1 if unreadable. */
static int read_file(const char *dir, const char *name, char *buf, size_t sz)
{
	int fd = open_in(dir, name, O_RDONLY);
	if (fd < 0)
		return -1;
	size_t got = 0;
	ssize_t n;
	while (got + 1 < sz && (n = read(fd, buf + got, sz - 1 - got)) > 0)
		got += (size_t)n;
	close(fd);
	buf[got] = 0;
	return (int)got;
}

static void sleep_ms(long ms)
{
	alive_sleep_us((int64_t)ms * 1000);
}

static long now_ms(void)
{
	return (long)alive_now_ms();
}

/* ---------- processes ---------- */

/* State letter and process group from /proc/PID/stat; 0 if gone. */
static char proc_state(pid_t pid, pid_t *pgrp)
{
	char name[32], buf[512];
	snprintf(name, sizeof(name), "%d/stat", (int)pid);
	if (read_file("/proc", name, buf, sizeof(buf)) <= 0)
		return 0;
	char *p = strrchr(buf, ')');    /* comm may hold spaces and ')' */
	int ppid, pg;
	char st;
	if (!p || sscanf(p + 1, " %c %d %d", &st, &ppid, &pg) != 3)
		return 0;
	if (pgrp)
		*pgrp = pg;
	return st;
}

static int proc_running(pid_t pid)
{
	char st = pid > 0 ? proc_state(pid, NULL) : 0;
	return st && st != 'Z' && st != 'X';
}

/* ---------- cgroups ---------- */

/* PIDs in dir/cgroup.procs (at most max); -1 if unreadable. */
static int cg_pids(const char *dir, pid_t *out, int max)
{
	static char buf[MAX_PIDS * 12];
	if (read_file(dir, "cgroup.procs", buf, sizeof(buf)) < 0)
		return -1;
	int n = 0;
	for (char *p = buf, *end; *p && n < max; p = end) {
		long v = strtol(p, &end, 10);
		if (end == p)
			break;
		if (v > 0)
			out[n++] = (pid_t)v;
	}
	return n;
}

static int cg_count(const char *dir)
{
	static pid_t pids[MAX_PIDS];
	int n = dir[0] ? cg_pids(dir, pids, MAX_PIDS) : 0;
	return n < 0 ? 0 : n;
}

/* cgroup.events "populated 1": some process in it or below. */
static int cg_populated(const char *dir)
{
	char buf[256];
	if (read_file(dir, "cgroup.events", buf, sizeof(buf)) < 0)
		return 0;
	const char *p = strstr(buf, "populated ");
	return p && p[10] == '1';
}

static int cg_wait_empty(const char *dir, long ms)
{
	long end = now_ms() + ms;
	while (cg_populated(dir)) {
		if (now_ms() >= end)
			return 0;
		sleep_ms(20);
	}
	return 1;
}

/* Signal every process in the cgroup; a few passes catch processes forked
 * meanwhile. Returns how many distinct processes got the signal. */
static int cg_signal_all(const char *dir, int sig)
{
	static pid_t seen[MAX_PIDS], now[MAX_PIDS];
	int n_seen = 0;
	for (int pass = 0; pass < 4; pass++) {
		int n = cg_pids(dir, now, MAX_PIDS), fresh = 0;
		for (int i = 0; i < n; i++) {
			int known = 0;
			for (int j = 0; j < n_seen && !known; j++)
				known = seen[j] == now[i];
			if (known)
				continue;
			kill(now[i], sig);
			if (sig != SIGKILL && sig != SIGCONT)
				kill(now[i], SIGCONT);  /* a stopped process must see it */
			if (n_seen < MAX_PIDS)
				seen[n_seen++] = now[i];
			fresh++;
		}
		if (!fresh)
			break;
	}
	return n_seen;
}

/* SIGKILL to the whole cgroup: cgroup.kill (Linux 5.14+), else by PID. */
static void cg_kill(const char *dir)
{
	if (write_file(dir, "cgroup.kill", "1") == 0)
		return;
	cg_signal_all(dir, SIGKILL);
}

static int is_cgroup2_dir(const char *dir)
{
	struct statfs sf;
	return statfs(dir, &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC;
}

/* "\040" style escapes of /proc/self/mountinfo, in place. */
static void unescape_octal(char *s)
{
	char *w = s;
	for (char *r = s; *r; ) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '7' && r[2] && r[3]) {
			*w++ = (char)(((r[1] - '0') << 6) | ((r[2] - '0') << 3) | (r[3] - '0'));
			r += 4;
		} else {
			*w++ = *r++;
		}
	}
	*w = 0;
}

/* The cgroup2 mount point and the root of the hierarchy it shows. */
static int find_cgroup2_mount(char *mnt, size_t msz, char *root, size_t rsz)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];
	int found = 0;
	if (!f)
		return -1;
	while (!found && fgets(line, sizeof(line), f)) {
		char *sep = strstr(line, " - ");
		if (!sep || strncmp(sep + 3, "cgroup2 ", 8) != 0)
			continue;
		char r[PATH_MAX], m[PATH_MAX];
		if (sscanf(line, "%*s %*s %*s %4095s %4095s", r, m) != 2)
			continue;
		unescape_octal(r);
		unescape_octal(m);
		str_copy(mnt, msz, m);
		str_copy(root, rsz, r);
		found = 1;
	}
	fclose(f);
	return found ? 0 : -1;
}

/* Our cgroup v2 path ("0::/path" in /proc/self/cgroup). */
static int own_cgroup(char *out, size_t sz)
{
	char buf[8192];
	if (read_file("/proc/self", "cgroup", buf, sizeof(buf)) < 0)
		return -1;
	for (char *line = buf; line && *line; ) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = 0;
		if (strncmp(line, "0::", 3) == 0) {
			str_copy(out, sz, line + 3);
			return 0;
		}
		line = nl ? nl + 1 : NULL;
	}
	return -1;
}

/* The directory session cgroups go in; reason in err when there is none. */
static int find_base(const struct config *cfg, char *out, size_t sz, char *err, size_t errsz)
{
	char mnt[PATH_MAX], root[PATH_MAX], own[PATH_MAX];
	if (cfg->session_cgroup_root) {
		if (!is_cgroup2_dir(cfg->session_cgroup_root)) {
			snprintf(err, errsz, "SessionCgroupRoot %s is not a cgroup v2 directory",
				 cfg->session_cgroup_root);
			return -1;
		}
		str_copy(out, sz, cfg->session_cgroup_root);
		return 0;
	}
	if (find_cgroup2_mount(mnt, sizeof(mnt), root, sizeof(root)) < 0) {
		snprintf(err, errsz, "no cgroup v2 hierarchy is mounted");
		return -1;
	}
	if (own_cgroup(own, sizeof(own)) < 0) {
		snprintf(err, errsz, "no cgroup v2 entry in /proc/self/cgroup");
		return -1;
	}
	/* a bind mount of a subtree shows paths relative to its root */
	const char *rel = own;
	size_t rl = strlen(root);
	if (strcmp(root, "/") != 0 && strncmp(own, root, rl) == 0)
		rel = own + rl;
	if (snprintf(out, sz, "%s%s", mnt, strcmp(rel, "/") == 0 ? "" : rel) >= (int)sz) {
		snprintf(err, errsz, "cgroup path too long");
		return -1;
	}
	return 0;
}

/* Can we make session cgroups in base and move processes into them? */
static int base_writable(const char *base, char *err, size_t errsz)
{
	char probe[PATH_MAX];
	snprintf(probe, sizeof(probe), "%s/%sprobe-%d", base, CG_PREFIX, (int)getpid());
	if (mkdir(probe, 0755) < 0 && errno != EEXIST) {
		snprintf(err, errsz, "cannot create a cgroup in %s: %m", base);
		return -1;
	}
	char procs[PATH_MAX + 16];
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", probe);
	int ok = access(procs, W_OK) == 0;
	rmdir(probe);
	if (!ok) {
		snprintf(err, errsz, "%s/cgroup.procs is not writable", base);
		return -1;
	}
	return 0;
}

/* ---------- start-up ---------- */

struct mode_scan {
	int needs_cgroup;
	const char *where;
};

static void scan_block(const struct config *applied, void *arg)
{
	struct mode_scan *ms = arg;
	if (applied->session_kill_mode == KILL_CONTROL_GROUP ||
	    applied->session_kill_mode == KILL_MIXED) {
		ms->needs_cgroup = 1;
		ms->where = "in a Match block";
	}
}

/* The connection pid in "wombat-USER-PID-chN[.K]", with the length of USER
 * and N; 0 if not one of ours. */
static pid_t session_dir_parse(const char *name, size_t *user_len, unsigned *chan)
{
	if (strncmp(name, CG_PREFIX, strlen(CG_PREFIX)) != 0)
		return 0;
	const char *ch = strstr(name, "-ch");
	const char *last = NULL;
	while (ch) {                /* the last "-ch" */
		last = ch;
		ch = strstr(ch + 1, "-ch");
	}
	if (!last || last == name)
		return 0;
	const char *p = last - 1;
	while (p > name && *p >= '0' && *p <= '9')
		p--;
	if (*p != '-' || p + 1 == last || p < name + strlen(CG_PREFIX))
		return 0;
	*user_len = (size_t)(p - name) - strlen(CG_PREFIX);
	*chan = (unsigned)strtoull(last + 3, NULL, 10);   /* strtoul on LP64 */
	return (pid_t)strtol(p + 1, NULL, 10);
}

typedef void session_dir_fn(const char *dir, const char *name, size_t user_len,
			    unsigned chan, const void *arg);

/* fn for each session cgroup under the base whose connection is conn, or
 * (conn 0) whose connection is gone. */
static void each_session_dir(pid_t conn, session_dir_fn *fn, const void *arg)
{
	DIR *d = cg_base[0] ? opendir(cg_base) : NULL;
	struct dirent *e;
	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		size_t user_len;
		unsigned chan;
		pid_t owner = session_dir_parse(e->d_name, &user_len, &chan);
		if (conn ? owner != conn : (owner <= 0 || kill(owner, 0) == 0 || errno == EPERM))
			continue;       /* not ours, or its connection still runs */
		char dir[PATH_MAX];
		if (snprintf(dir, sizeof(dir), "%s/%s", cg_base, e->d_name) >= (int)sizeof(dir))
			continue;
		fn(dir, e->d_name, user_len, chan, arg);
	}
	closedir(d);
}

/* A session cgroup of a connection that is gone: removed when empty,
 * reported when populated and *report is set. */
static void leftover(const char *dir, const char *name, size_t user_len, unsigned chan,
		     const void *report)
{
	(void)name;
	(void)user_len;
	(void)chan;
	if (rmdir(dir) == 0)
		debug("removed empty session cgroup %s", dir);
	else if (*(const int *)report)
		logit("leftover session cgroup %s from an earlier run: %d processes "
		      "still running", dir, cg_count(dir));
}

static __attribute__((noinline)) void scan_leftovers(int report)
{
	each_session_dir(0, leftover, &report);
}

int lifecycle_init(const struct config *cfg, int check_only, char *err, size_t errsz)
{
	char why[PATH_MAX + 128] = "";
	struct mode_scan ms = { 0, "globally" };
	if (cfg->session_kill_mode == KILL_CONTROL_GROUP || cfg->session_kill_mode == KILL_MIXED)
		ms.needs_cgroup = 1;
	else
		config_each_match_block(cfg, scan_block, &ms);

	char base[CG_BASE_MAX] = "";
	if (find_base(cfg, base, sizeof(base), why, sizeof(why)) < 0 ||
	    base_writable(base, why, sizeof(why)) < 0)
		base[0] = 0;
	if (set_base(base) < 0)
		snprintf(why, sizeof(why), "out of memory");
	if (!cg_base[0] && ms.needs_cgroup && !cfg->session_kill_fallback_pgrp) {
		snprintf(err, errsz, "SessionKillMode control-group/mixed (set %s) needs a "
			 "writable cgroup v2, and there is none: %s. Run wombatd with a "
			 "delegated cgroup (systemd: Delegate=yes), set SessionCgroupRoot to a "
			 "writable cgroup v2 directory, or set SessionKillFallback process-group",
			 ms.where, why);
		return -1;
	}
	if (!cg_base[0]) {
		if (ms.needs_cgroup)
			logit("no writable cgroup v2 (%s): SessionKillMode control-group/mixed "
			      "fall back to the process group", why);
		else
			debug("no per-session cgroups: %s", why);
		return 0;
	}
	debug("session cgroups under %s", cg_base);
	if (!check_only)
		scan_leftovers(1);
	return 0;
}

int lifecycle_use_base(const char *base)
{
	return set_base(base);
}

const char *lifecycle_cgroup_base(void)
{
	return cg_base[0] ? cg_base : NULL;
}

void lifecycle_sweep(void)
{
	scan_leftovers(0);
}

/* ---------- per session ---------- */

/* SessionKillMode, SessionKillSignal and SessionKillTimeout as cfg has them. */
static __attribute__((noinline)) void policy_from_config(struct lc_session *ls, const struct config *cfg)
{
	ls->mode = cfg->session_kill_mode;
	ls->sig = cfg->session_kill_signal > 0 ? cfg->session_kill_signal : SIGTERM;
	ls->timeout = cfg->session_kill_timeout >= 0 ? cfg->session_kill_timeout : 5;
	ls->pgid = -1;
}

static int needs_cgroup(const struct lc_session *ls)
{
	return (ls->mode == KILL_CONTROL_GROUP || ls->mode == KILL_MIXED) && !ls->fallback;
}

static void policy_record(const struct lc_session *ls, int ended)
{
	char text[64];
	const char *v = "ended";
	if (!ls->dir[0])
		return;
	if (!ended) {
		snprintf(text, sizeof(text), "%d %d %d %d", ls->mode, ls->sig, ls->timeout,
			 (int)ls->pgid);
		v = text;
	}
	if (setxattr(ls->dir, POLICY_XATTR, v, strlen(v), 0) < 0)
		debug("session cgroup %s: cannot record its policy (%m); if the connection "
		      "is killed, the listener applies the global SessionKillMode",
		      ls->dir);
}

/* A fresh directory: channel numbers are reused within a connection, and
 * an earlier session's cgroup may still hold survivors or be in the middle
 * of being killed, so a taken name gets a ".N" suffix. */
static int make_session_dir(struct lc_session *ls)
{
	for (int n = 0; n < 1000; n++) {
		char suffix[16] = "";
		if (n)
			snprintf(suffix, sizeof(suffix), ".%d", n);
		int len = snprintf(ls->dir, sizeof(ls->dir), "%s/%s%s-%d-ch%u%s", cg_base,
				   CG_PREFIX, ls->user, (int)getpid(), ls->chan, suffix);
		if (len < 0 || len >= (int)sizeof(ls->dir)) {
			errno = ENAMETOOLONG;
			return -1;
		}
		if (mkdir(ls->dir, 0755) == 0)
			return 0;
		if (errno != EEXIST)
			return -1;
	}
	return -1;
}

struct lc_session *lifecycle_session_new(const struct config *cfg, const char *user,
					 unsigned chan_id)
{
	struct lc_session *ls = calloc(1, sizeof(*ls));
	if (!ls)
		return NULL;
	policy_from_config(ls, cfg);
	ls->fallback = cfg->session_kill_fallback_pgrp;
	ls->chan = chan_id;
	/* a name an administrator can read: user, connection, channel */
	size_t i;
	for (i = 0; user[i] && i + 1 < sizeof(ls->user); i++) {
		char c = user[i];
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			 (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
		ls->user[i] = ok ? c : '_';
	}
	ls->user[i] = 0;
	if (!cg_base[0]) {
		if (!needs_cgroup(ls))
			return ls;
		error("session: SessionKillMode %s needs a cgroup v2, and there is none",
		      mode_name(ls->mode));
		free(ls);
		return NULL;
	}
	if (make_session_dir(ls) < 0) {
		int saved = errno;
		ls->dir[0] = 0;
		if (needs_cgroup(ls)) {
			error("session: cannot create its cgroup under %s: %s", cg_base,
			      strerror(saved));
			free(ls);
			return NULL;
		}
		debug("session: no cgroup (%s); SessionKillMode %s works without",
		      strerror(saved), mode_name(ls->mode));
	}
	policy_record(ls, 0);
	return ls;
}

int lifecycle_child_enter(const struct lc_session *ls)
{
	char pid[32];
	if (!ls || !ls->dir[0])
		return 0;
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	if (write_file(ls->dir, "cgroup.procs", pid) == 0)
		return 0;
	return needs_cgroup(ls) ? -1 : 0;
}

/* ---------- session end ---------- */

struct tally {
	int running;        /* processes of the session at its end */
	int signalled;      /* sent the first signal (SIGHUP, SessionKillSignal) */
	int killed;         /* sent SIGKILL */
	int left;           /* still running when we are done */
};

static void log_end(const struct lc_session *ls, int sig, const struct tally *t)
{
	logit("session channel %u of %s ended: SessionKillMode %s%s: %d processes "
	      "running, %d signalled (SIG%s), %d killed (SIGKILL), %d left running",
	      ls->chan, ls->user, mode_name(ls->mode),
	      ls->dir[0] || ls->mode == KILL_PROCESS || ls->mode == KILL_NONE ? "" :
	      " (process-group fallback)", t->running, t->signalled, sig_name(sig),
	      t->killed, t->left);
}

/* Give a hung-up main process a moment to act on SIGHUP before its pty
 * goes away (the caller closes it next). A shell that sees the signal
 * hangs up its jobs; one that first sees EOF on the closed terminal exits
 * without doing so — bash races the two when both come at once. Terminal
 * emulators order it the same way: SIGHUP first, then close. */
static void wait_gone(pid_t pid, long ms, long step_ms)
{
	long end = now_ms() + ms;
	while (proc_running(pid) && now_ms() < end)
		sleep_ms(step_ms);
}

/* process mode (hup: SIGHUP to the main process, then up to grace_ms for
 * it to go) and none (nothing sent): nobody waits afterwards. */
static void end_in_place(struct lc_session *ls, pid_t main_pid, int hup, long grace_ms)
{
	struct tally t = { cg_count(ls->dir), 0, 0, 0 };
	if (main_pid > 0) {
		if (!ls->dir[0])
			t.running = 1;
		/* the main process alone, not its group: what it started
		 * is for it to hang up (an interactive shell does) */
		if (hup && kill(main_pid, SIGHUP) == 0)
			t.signalled = 1;
		if (hup)
			wait_gone(main_pid, grace_ms, 5);
	}
	t.left = t.running - t.signalled;
	if (t.left < 0)
		t.left = 0;
	if (ls->dir[0] && rmdir(ls->dir) == 0)
		ls->dir[0] = 0;
	log_end(ls, hup ? SIGHUP : 0, &t);
}

/* The reaper owns nothing of the connection: no socket, no channel pipes
 * (holding them would keep the client or other sessions waiting). */
static void reaper_detach(void)
{
	int keep = log_fileno();
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
	}
	if (keep > 2) {
		if (keep > 3)
			close_range(3, (unsigned)keep - 1, 0);
		close_range((unsigned)keep + 1, ~0u, 0);
	} else {
		close_range(3, ~0u, 0);
	}
}

static void reap_cgroup(struct lc_session *ls, pid_t main_pid, struct tally *t)
{
	long timeout_ms = ls->timeout * 1000L;
	if (ls->mode == KILL_CONTROL_GROUP) {
		t->signalled = cg_signal_all(ls->dir, ls->sig);
		if (!cg_wait_empty(ls->dir, timeout_ms)) {
			t->killed = cg_count(ls->dir);
			cg_kill(ls->dir);
		}
	} else {                    /* mixed */
		if (proc_running(main_pid)) {
			t->signalled = 1;
			kill(main_pid, ls->sig);
			if (ls->sig != SIGKILL)
				kill(main_pid, SIGCONT);
			wait_gone(main_pid, timeout_ms, 20);
		}
		t->killed = cg_count(ls->dir);
		if (t->killed)
			cg_kill(ls->dir);
	}
	cg_wait_empty(ls->dir, FINAL_WAIT_MS);
	t->left = cg_count(ls->dir);
	if (rmdir(ls->dir) < 0 && errno != ENOENT)
		error("session cgroup %s: cannot remove: %m", ls->dir);
}

/* SessionKillFallback process-group: the same on the main process group. */
static void reap_group(struct lc_session *ls, pid_t main_pid, struct tally *t)
{
	pid_t pg = ls->pgid;
	long end = now_ms() + ls->timeout * 1000L;
	if (ls->mode == KILL_CONTROL_GROUP) {
		if (kill(-pg, ls->sig) == 0) {
			t->signalled = 1;
			kill(-pg, SIGCONT);
		}
		while (kill(-pg, 0) == 0 && now_ms() < end)
			sleep_ms(20);
	} else if (proc_running(main_pid)) {
		t->signalled = 1;
		kill(main_pid, ls->sig);
		wait_gone(main_pid, ls->timeout * 1000L, 20);
	}
	if (kill(-pg, SIGKILL) == 0)
		t->killed = 1;
}

static void end_with_reaper(struct lc_session *ls, pid_t main_pid)
{
	struct tally t = { cg_count(ls->dir), 0, 0, 0 };
	if (!ls->dir[0])
		t.running = main_pid > 0 || (ls->pgid > 0 && kill(-ls->pgid, 0) == 0);
	if (t.running == 0) {
		if (ls->dir[0] && rmdir(ls->dir) < 0 && errno != ENOENT)
			debug("session cgroup %s: %m", ls->dir);
		log_end(ls, ls->sig, &t);
		return;
	}
	pid_t pid = fork();
	if (pid < 0) {
		error("session end: fork: %m; SIGKILL at once");
		if (ls->dir[0])
			cg_kill(ls->dir);
		else
			kill(-ls->pgid, SIGKILL);
		return;
	}
	if (pid > 0)
		return;
	reaper_detach();
	if (ls->dir[0])
		reap_cgroup(ls, main_pid, &t);
	else if (ls->pgid > 0)
		reap_group(ls, main_pid, &t);
	log_end(ls, ls->sig, &t);
	_exit(0);
}

/* SessionKillMode for a session that is over; hup_grace_ms: how long
 * `process` mode waits for the hung-up main process (see wait_gone). */
static void apply_end(struct lc_session *ls, pid_t main_pid, long hup_grace_ms)
{
	if (ls->pgid <= 0)
		ls->pgid = main_pid;
	switch (ls->mode) {
	case KILL_NONE:
		end_in_place(ls, main_pid, 0, 0);
		break;
	case KILL_CONTROL_GROUP:
	case KILL_MIXED:
		end_with_reaper(ls, main_pid);
		break;
	default:
		end_in_place(ls, main_pid, 1, hup_grace_ms);
		break;
	}
}

void lifecycle_session_end(struct lc_session *ls, pid_t main_pid, int has_pty)
{
	if (!ls)
		return;
	policy_record(ls, 1);
	apply_end(ls, main_pid, has_pty ? HUP_GRACE_PTY_MS : HUP_GRACE_MS);
	free(ls);
}

void lifecycle_session_started(struct lc_session *ls, pid_t pid)
{
	if (!ls)
		return;
	ls->pgid = pid;
	if (pid > 0)                /* the parent; the child is on its way to exec */
		policy_record(ls, 0);
}

/* ---------- a connection process killed outright (listener) ---------- */

/* The policy recorded on ls->dir: 1 read (main process in ls->pgid, -1 if
 * it is no longer in the cgroup), 0 the session was ended by its
 * connection, -1 nothing usable recorded. */
static int policy_read(struct lc_session *ls)
{
	char text[64];
	ssize_t n = getxattr(ls->dir, POLICY_XATTR, text, sizeof(text) - 1);
	if (n < 0)
		return -1;
	text[n] = 0;
	if (strcmp(text, "ended") == 0)
		return 0;
	int mode, sig, timeout, pid;
	char extra;
	if (sscanf(text, "%d %d %d %d %c", &mode, &sig, &timeout, &pid, &extra) != 4 ||
	    mode < KILL_PROCESS || mode > KILL_NONE || sig <= 0 || sig >= NSIG ||
	    timeout < 0 || pid < -1)
		return -1;
	ls->mode = mode;
	ls->sig = sig;
	ls->timeout = timeout;
	ls->pgid = pid;
	return 1;
}

/* pid is one of the processes in dir (so a recycled pid is never hit). */
static int cg_holds(const char *dir, pid_t pid)
{
	static pid_t pids[MAX_PIDS];
	int n = pid > 0 ? cg_pids(dir, pids, MAX_PIDS) : 0;
	for (int i = 0; i < n; i++)
		if (pids[i] == pid)
			return 1;
	return 0;
}

/* One session cgroup left by a killed connection: its policy (recorded, or
 * the listener's global one), applied as its connection would have. */
static void end_orphan(const char *dir, const char *name, size_t user_len, unsigned chan,
		       const void *cfg)
{
	struct lc_session ls = { .chan = chan };
	policy_from_config(&ls, cfg);
	str_copy(ls.dir, sizeof(ls.dir), dir);
	if (user_len >= sizeof(ls.user))
		user_len = sizeof(ls.user) - 1;
	memcpy(ls.user, name + strlen(CG_PREFIX), user_len);
	ls.user[user_len] = 0;
	int got = policy_read(&ls);
	if (got == 0)
		return;
	if (got < 0)
		logit("session cgroup %s records no policy: the global SessionKillMode %s applies",
		      dir, mode_name(ls.mode));
	pid_t main_pid = cg_holds(dir, ls.pgid) ? ls.pgid : -1;
	policy_record(&ls, 1);
	apply_end(&ls, main_pid, 0);   /* its pty, if any, was hung up already */
}

void lifecycle_connection_killed(pid_t conn, const struct config *cfg)
{
	if (conn > 0)
		each_session_dir(conn, end_orphan, cfg);
}
