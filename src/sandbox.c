/* sandbox: chroot, uid change, rlimits, no_new_privs and the seccomp filter
 * of the pre-auth child. */
#include "sandbox.h"
#include "crypto.h"

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
#include <sys/wait.h>
#include <unistd.h>

#ifdef HAVE_SECCOMP
#include <stddef.h>
#include <stdint.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/net.h>
#include <linux/seccomp.h>
#include <sys/syscall.h>
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

/* The pre-auth child's ids: PRIVSEP_USER's, or else the first uid from
 * FALLBACK_UID_START with neither a passwd nor a group entry, as its own
 * gid. ids[2] is 1 for the user, 0 for the fallback, -1 when neither. */
static void find_ids(long ids[3])
{
	struct passwd *pw = getpwnam(PRIVSEP_USER);
	ids[2] = -1;
	if (pw && pw->pw_uid != 0) {
		ids[0] = (long)pw->pw_uid;
		ids[1] = (long)pw->pw_gid;
		ids[2] = 1;
		return;
	}
	for (uid_t u = FALLBACK_UID_START; u < FALLBACK_UID_START + 4096u; u++)
		if (!getpwuid(u) && !getgrgid((gid_t)u)) {
			ids[0] = ids[1] = (long)u;
			ids[2] = 0;
			return;
		}
}

/* PRIVSEP_USER from /etc/passwd, read directly: the usual case, which
 * then loads no NSS module and costs no process. 0 when found there. */
static int ids_from_passwd_file(long ids[3])
{
	FILE *f = fopen("/etc/passwd", "re");
	struct passwd *pw;
	int rc = -1;
	while (f && rc < 0 && (pw = fgetpwent(f)) != NULL)
		if (strcmp(pw->pw_name, PRIVSEP_USER) == 0 && pw->pw_uid != 0) {
			ids[0] = (long)pw->pw_uid;
			ids[1] = (long)pw->pw_gid;
			ids[2] = 1;
			rc = 0;
		}
	if (f)
		fclose(f);
	return rc;
}

/* find_ids in a short-lived child: a name or number that no source knows
 * (the missing user, the fallback's search) is asked of every NSS source,
 * which maps their modules (libnss_systemd with libcap and libm, ~100 kB)
 * into the process, and every connection process looks at its start and
 * then carries a session. 0, or -1 when the child gave no answer. */
static int lookup_ids(long ids[3])
{
	int fds[2], status = 0;
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		find_ids(ids);
		_exit(write(fds[1], ids, 3 * sizeof ids[0]) == (ssize_t)(3 * sizeof ids[0]) ? 0 : 1);
	}
	close(fds[1]);
	ssize_t got;
	do
		got = pid > 0 ? read(fds[0], ids, 3 * sizeof ids[0]) : -1;
	while (got < 0 && errno == EINTR);
	close(fds[0]);
	while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return got == (ssize_t)(3 * sizeof ids[0]) ? 0 : -1;
}

static void mkdir_parents(const char *path)
{
	char dir[512];
	str_copy(dir, sizeof(dir), path);
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
		error("privilege separation directory %s: %m", PRIVSEP_DIR);
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
	long ids[3];
	if (ids_from_passwd_file(ids) < 0 && (lookup_ids(ids) < 0 || ids[2] < 0)) {
		error("privilege separation: no user %s and no unused uid found", PRIVSEP_USER);
		return -1;
	}
	sb_uid = (uid_t)ids[0];
	sb_gid = (gid_t)ids[1];
	if (ids[2] == 0 && !quiet) {
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
		error("sandbox: cannot set gid %u: %m", (unsigned)sb_gid);
		return -1;
	}
	if (chroot(PRIVSEP_DIR) < 0 || chdir("/") < 0) {
		error("sandbox: chroot %s: %m", PRIVSEP_DIR);
		return -1;
	}
	if (setresuid(sb_uid, sb_uid, sb_uid) < 0) {
		error("sandbox: cannot set uid %u: %m", (unsigned)sb_uid);
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
		error("sandbox: setrlimit %s: %m", name);
		return -1;
	}
	return 0;
}

#ifdef HAVE_SECCOMP
/* The filter is a classic BPF program over struct seccomp_data, written
 * here (no library: each connection process is a fresh exec, and every
 * shared library it maps costs private pages per session). It checks the
 * architecture, then compares the system call number with the allow-list;
 * anything not allowed kills the process. */
#if defined(__x86_64__) && !defined(__ILP32__)
#define SB_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__) && !defined(__AARCH64EB__)
#define SB_AUDIT_ARCH AUDIT_ARCH_AARCH64
#elif defined(__arm__) && defined(__ARM_EABI__) && !defined(__ARMEB__)
#define SB_AUDIT_ARCH AUDIT_ARCH_ARM
#elif defined(__s390x__)
#define SB_AUDIT_ARCH AUDIT_ARCH_S390X
#elif defined(__i386__)
#define SB_AUDIT_ARCH AUDIT_ARCH_I386
#else
#error "seccomp filter: unknown architecture (no AUDIT_ARCH here): ./configure --without-seccomp"
#endif

/* i386 and s390x: glibc passes mmap's arguments (old_mmap) and
 * setsockopt's (socketcall) in memory, where a filter cannot read them */
#if defined(__i386__) || defined(__s390x__)
#define SB_ARGS_IN_MEMORY 1
#endif

/* Offsets into struct seccomp_data; an argument is 64 bits wide, and its
 * low half comes first on a little-endian machine, second on s390x. */
#define SB_NR offsetof(struct seccomp_data, nr)
#define SB_ARCH offsetof(struct seccomp_data, arch)
#define SB_ARG(n) (offsetof(struct seccomp_data, args) + (n) * sizeof(uint64_t))
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SB_ARG_LO(n) SB_ARG(n)
#define SB_ARG_HI(n) (SB_ARG(n) + 4)
#else
#define SB_ARG_LO(n) (SB_ARG(n) + 4)
#define SB_ARG_HI(n) SB_ARG(n)
#endif

#define SB_KILL SECCOMP_RET_KILL_PROCESS
#define SB_LD(off) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (off))
#define SB_RET(action) BPF_STMT(BPF_RET | BPF_K, (action))
/* jt/jf count the instructions skipped after this one */
#define SB_JEQ(k, jt, jf) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (k), (jt), (jf))

/* Every block below starts with the system call number in A and either
 * returns or falls through (not its call) with A unchanged. */

/* 2 instructions: nr is allowed */
#define SB_ALLOW(nr) \
	SB_JEQ((nr), 0, 1),                     /* not nr: over the allow */ \
	SB_RET(SECCOMP_RET_ALLOW)

/* 5 instructions: nr is allowed unless argument 2 (prot) asks for
 * PROT_EXEC. Only the low half is looked at: the kernel reads PROT_EXEC
 * there (mprotect refuses high bits with EINVAL, mmap ignores them). */
#define SB_ALLOW_NO_EXEC(nr) \
	SB_JEQ((nr), 0, 4),                     /* not nr: past the 4 below */ \
	SB_LD(SB_ARG_LO(2)), \
	BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, PROT_EXEC, 0, 1), /* exec: kill */ \
	SB_RET(SB_KILL), \
	SB_RET(SECCOMP_RET_ALLOW)

/* 2 instructions: nr fails with errno e (its arguments are out of sight) */
#define SB_FAIL(nr, e) \
	SB_JEQ((nr), 0, 1), \
	SB_RET(SECCOMP_RET_ERRNO | (e))

/* What the child does: read and write its two sockets, poll, keep time,
 * sleep (the failure delay), allocate (no executable memory), take random
 * bytes, re-arm TCP_QUICKACK, exit. Everything else kills it. A call this
 * architecture does not have is left out; on 32-bit ones glibc keeps time
 * through the *_time64 calls and maps with mmap2. */
static const struct sock_filter filter[] = {
	SB_LD(SB_ARCH),
	SB_JEQ(SB_AUDIT_ARCH, 1, 0),            /* this build's arch: over the kill */
	SB_RET(SB_KILL),
	SB_LD(SB_NR),
#ifdef __x86_64__
	/* the x32 ABI's calls (same arch, numbers with this bit) */
	BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, __X32_SYSCALL_BIT, 0, 1), /* x32: kill */
	SB_RET(SB_KILL),
#endif
	SB_ALLOW(__NR_read), SB_ALLOW(__NR_write), SB_ALLOW(__NR_close),
#ifdef __NR_poll
	SB_ALLOW(__NR_poll),
#endif
	SB_ALLOW(__NR_ppoll),
#ifdef __NR_ppoll_time64
	SB_ALLOW(__NR_ppoll_time64),
#endif
	SB_ALLOW(__NR_clock_gettime), SB_ALLOW(__NR_gettimeofday),
#ifdef __NR_clock_gettime64
	SB_ALLOW(__NR_clock_gettime64),
#endif
#ifdef __NR_time
	SB_ALLOW(__NR_time),
#endif
	SB_ALLOW(__NR_nanosleep), SB_ALLOW(__NR_clock_nanosleep),
#ifdef __NR_clock_nanosleep_time64
	SB_ALLOW(__NR_clock_nanosleep_time64),
#endif
	SB_ALLOW(__NR_getrandom), SB_ALLOW(__NR_getpid),
	SB_ALLOW(__NR_brk), SB_ALLOW(__NR_munmap), SB_ALLOW(__NR_mremap),
	SB_ALLOW(__NR_madvise), SB_ALLOW(__NR_futex),
#ifdef __NR_futex_time64
	SB_ALLOW(__NR_futex_time64),
#endif
	SB_ALLOW(__NR_rt_sigreturn), SB_ALLOW(__NR_rt_sigprocmask),
	SB_ALLOW(__NR_exit), SB_ALLOW(__NR_exit_group),
	/* The sanitizer runtime (make check-asan) maps shadow memory, reads
	 * /proc/self/maps through readlink-like calls and switches stacks;
	 * allowed only in that build. A report it cannot write (open is not
	 * allowed) ends the child by SIGSYS, which the tests see. */
#if defined(__SANITIZE_ADDRESS__) || defined(WOMBAT_LEAK_CHECK)
	SB_ALLOW(__NR_sigaltstack),
#ifdef __NR_readlink
	SB_ALLOW(__NR_readlink),
#endif
	SB_ALLOW(__NR_readlinkat), SB_ALLOW(__NR_sched_yield),
	SB_ALLOW(__NR_gettid), SB_ALLOW(__NR_prctl),
#endif
	/* memory, but never executable */
	SB_ALLOW_NO_EXEC(__NR_mprotect),
#ifdef __NR_mmap2
	SB_ALLOW_NO_EXEC(__NR_mmap2),
#endif
#ifdef SB_ARGS_IN_MEMORY
	/* old_mmap: prot unreadable; malloc falls back to brk */
	SB_FAIL(__NR_mmap, ENOMEM),
	/* socketcall: only conn.c's quick-ACK setsockopt, which ignores the
	 * failure; any other socket call kills */
	SB_JEQ(__NR_socketcall, 0, 3),          /* not socketcall: past the 3 below */
	SB_LD(SB_ARG_LO(0)),
	SB_JEQ(SYS_SETSOCKOPT, 0, 1),           /* not setsockopt: kill */
	SB_RET(SECCOMP_RET_ERRNO | EPERM),
	SB_RET(SB_KILL),
#elif defined(__NR_mmap)                 /* arm EABI has mmap2 only */
	SB_ALLOW_NO_EXEC(__NR_mmap),
#endif
	/* conn.c re-arms quick ACKs after every read before authentication:
	 * setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK), both 64-bit halves of
	 * arguments 1 and 2 compared */
	SB_JEQ(__NR_setsockopt, 0, 10),         /* not setsockopt: past the 10 below */
	SB_LD(SB_ARG_HI(1)),
	SB_JEQ(0, 0, 7),                        /* level high half != 0: kill */
	SB_LD(SB_ARG_LO(1)),
	SB_JEQ(IPPROTO_TCP, 0, 5),              /* level != IPPROTO_TCP: kill */
	SB_LD(SB_ARG_HI(2)),
	SB_JEQ(0, 0, 3),                        /* optname high half != 0: kill */
	SB_LD(SB_ARG_LO(2)),
	SB_JEQ(TCP_QUICKACK, 0, 1),             /* optname != TCP_QUICKACK: kill */
	SB_RET(SECCOMP_RET_ALLOW),
	SB_RET(SB_KILL),
	/* everything else */
	SB_RET(SB_KILL),
};

int sandbox_seccomp_load(void)
{
	struct sock_fprog prog = {
		.len = (unsigned short)(sizeof(filter) / sizeof(filter[0])),
		.filter = (struct sock_filter *)filter,
	};
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0) {
		error("sandbox: cannot load the seccomp filter: %m");
		return -1;
	}
	return 0;
}
#endif

int sandbox_enter(const int *keep, int n)
{
	if (!sb_ready) {
		error("sandbox: not prepared");
		return -1;
	}
	/* ECDH, DH and ML-KEM's SHA-3 run in here: libtomcrypt must be
	 * mapped before the file system and mmap's PROT_EXEC go away */
	if (ltc_load() < 0)
		return -1;
	int high = close_others(keep, n);
	if (sb_root && drop_root() < 0)
		return -1;
	/* NOFILE bounds poll()'s nfds as well as new descriptors: what is open */
	if (limit(RLIMIT_NOFILE, (rlim_t)high + 1, "NOFILE") < 0 ||
	    limit(RLIMIT_NPROC, 0, "NPROC") < 0 || limit(RLIMIT_FSIZE, 0, "FSIZE") < 0)
		return -1;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		error("sandbox: no_new_privs: %m");
		return -1;
	}
#ifdef HAVE_SECCOMP
	if (sandbox_has_seccomp() && sandbox_seccomp_load() < 0)
		return -1;
#endif
	/* The check-valgrind build (WOMBAT_VALGRIND, never installed) has no
	 * seccomp filter: valgrind runs the child's code from translations it
	 * maps executable, and makes calls of its own, which the filter kills
	 * (README, Security). The rest of the sandbox stays. */
	return 0;
}
