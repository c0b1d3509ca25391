/* sandbox: chroot, uid change, rlimits, no_new_privs and the seccomp filter
 * of the pre-auth child. */
#include "sandbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef HAVE_SECCOMP
#include <seccomp.h>
#endif

#include "log.h"

/* Where the fallback uid search starts when the dedicated user is missing:
 * far above anything useradd hands out. */
#define FALLBACK_UID_START 0x7ffe0000u

static uid_t sb_uid;
static gid_t sb_gid;
static int sb_ready;         /* sandbox_prepare found a uid and directory */
static int sb_root;          /* running as root: chroot + uid change */

int sandbox_has_seccomp(void)
{
#if defined(HAVE_SECCOMP) && !defined(WOMBAT_VALGRIND)
	return 1;
#else
	return 0;
#endif
}

/* An unused uid (no passwd entry) with the same number as gid. */
static int pick_unused_uid(void)
{
	for (uid_t u = FALLBACK_UID_START; u < FALLBACK_UID_START + 4096u; u++) {
		if (!getpwuid(u) && !getgrgid((gid_t)u)) {
			sb_uid = u;
			sb_gid = (gid_t)u;
			return 0;
		}
	}
	return -1;
}

static void mkdir_parents(const char *path)
{
	char dir[512];
	snprintf(dir, sizeof(dir), "%s", path);
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		mkdir(dir, 0755);
		*p = '/';
	}
	mkdir(dir, 0755);
}

/* The chroot directory: a directory owned by root, writable by nobody
 * else, empty. Made if missing. */
static int check_dir(void)
{
	struct stat st;
	if (stat(PRIVSEP_DIR, &st) < 0 && errno == ENOENT)
		mkdir_parents(PRIVSEP_DIR);
	if (stat(PRIVSEP_DIR, &st) < 0) {
		error("privilege separation directory %s: %s", PRIVSEP_DIR, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022)) {
		error("privilege separation directory %s must be a directory owned by root "
		      "and not writable by group or others", PRIVSEP_DIR);
		return -1;
	}
	DIR *d = opendir(PRIVSEP_DIR);
	struct dirent *e;
	int empty = d != NULL;
	while (d && (e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			empty = 0;
	if (d)
		closedir(d);
	if (!empty) {
		error("privilege separation directory %s must be empty", PRIVSEP_DIR);
		return -1;
	}
	return 0;
}

int sandbox_prepare(int quiet)
{
	if (sb_ready)
		return 0;
	sb_root = geteuid() == 0;
	if (!sb_root) {
		if (!quiet)
			logit("privilege separation: not running as root: the pre-auth child keeps "
		      "uid %u and the file system (no chroot); key separation, rlimits, "
		      "no_new_privs and %s still apply", (unsigned)geteuid(),
		      sandbox_has_seccomp() ? "seccomp" : "no seccomp (built --without-seccomp)");
		sb_ready = 1;
		return 0;
	}
	struct passwd *pw = getpwnam(PRIVSEP_USER);
	if (pw && pw->pw_uid != 0) {
		sb_uid = pw->pw_uid;
		sb_gid = pw->pw_gid;
	} else if (pick_unused_uid() < 0) {
		error("privilege separation: no user %s and no unused uid found", PRIVSEP_USER);
		return -1;
	} else if (!quiet) {
		logit("privilege separation: warning: no user \"%s\" (make install or "
		      "./bootstrap creates it): the pre-auth child runs as unused uid %u",
		      PRIVSEP_USER, (unsigned)sb_uid);
	}
	if (check_dir() < 0)
		return -1;
	if (!quiet)
		logit("privilege separation: pre-auth child as uid %u gid %u, chroot %s, seccomp %s",
		      (unsigned)sb_uid, (unsigned)sb_gid, PRIVSEP_DIR,
		      sandbox_has_seccomp() ? "yes" :
		      "no (built --without-seccomp, or for check-valgrind)");
	sb_ready = 1;
	return 0;
}

static int kept(int fd, const int *keep, int n)
{
	for (int i = 0; i < n; i++)
		if (keep[i] == fd)
			return 1;
	return 0;
}

/* Close every descriptor not in keep; returns the highest one kept. */
static int close_others(const int *keep, int n)
{
	int sorted[8], m = 0;
	for (int i = 0; i < n && m < 8; i++) {
		int j = m;
		if (kept(keep[i], sorted, m))
			continue;
		while (j > 0 && sorted[j - 1] > keep[i]) {
			sorted[j] = sorted[j - 1];
			j--;
		}
		sorted[j] = keep[i];
		m++;
	}
	unsigned first = 0;
	for (int i = 0; i < m; i++) {
		if ((unsigned)sorted[i] > first)
			close_range(first, (unsigned)sorted[i] - 1, 0);
		first = (unsigned)sorted[i] + 1;
	}
	close_range(first, ~0u, 0);
	return m ? sorted[m - 1] : -1;
}

static int drop_root(void)
{
	if (setgroups(0, NULL) < 0 || setresgid(sb_gid, sb_gid, sb_gid) < 0) {
		error("sandbox: cannot set gid %u: %s", (unsigned)sb_gid, strerror(errno));
		return -1;
	}
	if (chroot(PRIVSEP_DIR) < 0 || chdir("/") < 0) {
		error("sandbox: chroot %s: %s", PRIVSEP_DIR, strerror(errno));
		return -1;
	}
	if (setresuid(sb_uid, sb_uid, sb_uid) < 0) {
		error("sandbox: cannot set uid %u: %s", (unsigned)sb_uid, strerror(errno));
		return -1;
	}
	/* must not be able to come back */
	if (setuid(0) == 0 || geteuid() == 0) {
		error("sandbox: uid change did not stick");
		return -1;
	}
	return 0;
}

static int limit(int resource, rlim_t n, const char *name)
{
	struct rlimit rl = { n, n };
#ifdef WOMBAT_VALGRIND
	/* valgrind keeps its own descriptors above the hard NOFILE limit and
	 * refuses to lower it: the check-valgrind build lowers the soft limit
	 * only (seccomp forbids raising it again all the same) */
	if (resource == RLIMIT_NOFILE && getrlimit(resource, &rl) == 0)
		rl.rlim_cur = n;
	/* valgrind writes the child's log (--log-file) from inside the child:
	 * with FSIZE 0 every write past the header fails (EFBIG), and the
	 * log would end without its error summary, so check-valgrind could not
	 * tell a clean child from one whose report was lost */
	if (resource == RLIMIT_FSIZE)
		return 0;
#endif
	if (setrlimit(resource, &rl) < 0) {
		error("sandbox: setrlimit %s: %s", name, strerror(errno));
		return -1;
	}
	return 0;
}

#ifdef HAVE_SECCOMP
/* What the child does: read and write its two sockets, poll, keep time,
 * sleep (the failure delay), allocate (no executable memory), take random
 * bytes, re-arm TCP_QUICKACK, exit. Everything else kills it. */
static const int allowed[] = {
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(close),
	SCMP_SYS(poll), SCMP_SYS(ppoll),
	SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday), SCMP_SYS(time),
	SCMP_SYS(nanosleep), SCMP_SYS(clock_nanosleep),
	SCMP_SYS(getrandom), SCMP_SYS(getpid),
	SCMP_SYS(brk), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(madvise),
	SCMP_SYS(futex), SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(exit), SCMP_SYS(exit_group),
};

/* The sanitizer runtime (make check-asan) maps shadow memory, reads
 * /proc/self/maps through readlink-like calls and switches stacks; allowed
 * only in that build. A report it cannot write (open is not allowed) ends
 * the child by SIGSYS, which the tests see. */
#if defined(__SANITIZE_ADDRESS__) || defined(WOMBAT_LEAK_CHECK)
static const int allowed_sanitizer[] = {
	SCMP_SYS(sigaltstack), SCMP_SYS(readlink), SCMP_SYS(readlinkat),
	SCMP_SYS(sched_yield), SCMP_SYS(gettid), SCMP_SYS(prctl),
};
#endif

static int seccomp_allow(scmp_filter_ctx ctx, const int *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, list[i], 0) < 0)
			return -1;
	return 0;
}

static int load_seccomp(void)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (!ctx)
		return -1;
	int rc = seccomp_allow(ctx, allowed, sizeof(allowed) / sizeof(allowed[0]));
#if defined(__SANITIZE_ADDRESS__) || defined(WOMBAT_LEAK_CHECK)
	if (rc == 0)
		rc = seccomp_allow(ctx, allowed_sanitizer,
				   sizeof(allowed_sanitizer) / sizeof(allowed_sanitizer[0]));
#endif
	/* memory, but never executable */
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
				      SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
				      SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	/* conn.c re-arms quick ACKs after every read before authentication */
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(setsockopt), 2,
				      SCMP_A1(SCMP_CMP_EQ, IPPROTO_TCP, 0),
				      SCMP_A2(SCMP_CMP_EQ, TCP_QUICKACK, 0));
	if (rc == 0)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc < 0)
		error("sandbox: cannot load the seccomp filter: %s", strerror(-rc));
	return rc < 0 ? -1 : 0;
}
#endif

int sandbox_enter(const int *keep, int n)
{
	if (!sb_ready) {
		error("sandbox: not prepared");
		return -1;
	}
	int high = close_others(keep, n);
	if (sb_root && drop_root() < 0)
		return -1;
	/* NOFILE bounds poll()'s nfds as well as new descriptors: what is open */
	if (limit(RLIMIT_NOFILE, (rlim_t)high + 1, "NOFILE") < 0 ||
	    limit(RLIMIT_NPROC, 0, "NPROC") < 0 || limit(RLIMIT_FSIZE, 0, "FSIZE") < 0)
		return -1;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		error("sandbox: no_new_privs: %s", strerror(errno));
		return -1;
	}
#ifdef HAVE_SECCOMP
	if (sandbox_has_seccomp() && load_seccomp() < 0)
		return -1;
#endif
	/* The check-valgrind build (WOMBAT_VALGRIND, never installed) has no
	 * seccomp filter: valgrind runs the child's code from translations it
	 * maps executable, and makes calls of its own, which the filter kills
	 * (README, Security). The rest of the sandbox stays. */
	return 0;
}
