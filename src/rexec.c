/* rexec: the snapshot the listener hands to each connection process, and
 * the exec itself (rexec.h). */
#include "rexec.h"

#include <errno.h>
#include <spawn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "crypto.h"
#include "lifecycle.h"
#include "log.h"

extern char **environ;

#define SNAP_MAGIC "WOMBATSNAP1\n"
#define SNAP_MAX (16u * 1024u * 1024u)

static int put_config(buf_t *b, const struct config *cfg)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		return -1;
	config_serialize(cfg, f);
	int rc = fclose(f) == 0 ? buf_put_string(b, text, len) : -1;
	free(text);
	return rc;
}

static int put_keys(buf_t *b, struct sshkey **keys, int n)
{
	if (buf_put_u32(b, (uint32_t)n) < 0)
		return -1;
	for (int i = 0; i < n; i++) {
		buf_t blob;
		buf_init(&blob, 4096, 64 * 1024);
		int rc = key_private_blob(keys[i], &blob);
		if (rc == 0)
			rc = buf_put_string(b, buf_data(&blob), buf_used(&blob));
		buf_free(&blob);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int rexec_snapshot(const struct config *cfg, struct sshkey **keys, int n_keys)
{
	buf_t b;
	buf_init(&b, 64 * 1024, SNAP_MAX);
	int fd = -1;
	const char *cg = lifecycle_cgroup_base();
	if (buf_put(&b, SNAP_MAGIC, strlen(SNAP_MAGIC)) < 0 || put_config(&b, cfg) < 0 ||
	    put_keys(&b, keys, n_keys) < 0 || buf_put_cstring(&b, cg ? cg : "") < 0) {
		error("cannot build the configuration snapshot for connection processes");
		goto out;
	}
	fd = memfd_create("wombatd-snapshot", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0 || write_all(fd, buf_data(&b), buf_used(&b)) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0) {
		error("configuration snapshot (memfd): %m");
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
out:
	buf_free(&b);    /* wipes the key bytes */
	return fd;
}

static int read_snapshot(int fd, buf_t *b)
{
	struct stat st;
	if (fstat(fd, &st) < 0 || st.st_size <= 0 || (uint64_t)st.st_size > SNAP_MAX)
		return -1;
	uint8_t *p = buf_reserve(b, (size_t)st.st_size);
	if (!p)
		return -1;
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t r = pread(fd, p + got, (size_t)st.st_size - got, (off_t)got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	buf_commit(b, got);
	return 0;
}

static int load_keys(rd_t *r, struct sshkey **keys, int max)
{
	uint32_t n;
	if (rd_u32(r, &n) < 0 || n > (uint32_t)max)
		return -1;
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *blob;
		size_t len;
		if (rd_string(r, &blob, &len) < 0 || key_from_private_blob(blob, len, &keys[i]) < 0) {
			for (uint32_t j = 0; j < i; j++)
				key_free(keys[j]);
			return -1;
		}
	}
	return (int)n;
}

int rexec_load(int fd, struct config *cfg, struct sshkey **keys, int max, char *err,
	       size_t errsz)
{
	buf_t b;
	rd_t r;
	const uint8_t *text;
	size_t tlen;
	int n = -1;
	config_defaults(cfg);
	buf_init(&b, 0, SNAP_MAX);
	snprintf(err, errsz, "configuration snapshot (fd %d) unreadable or malformed", fd);
	if (read_snapshot(fd, &b) < 0)
		goto out;
	rd_init(&r, buf_data(&b), buf_used(&b));
	if (rd_skip(&r, strlen(SNAP_MAGIC)) < 0 ||
	    memcmp(buf_data(&b), SNAP_MAGIC, strlen(SNAP_MAGIC)) != 0 ||
	    rd_string(&r, &text, &tlen) < 0)
		goto out;
	/* it was read and checked by the listener: warnings were logged then */
	enum log_level lvl = log_get_level();
	log_set_level(LOG_L_QUIET);
	int rc = config_load_text(cfg, "(listener's configuration)", (const char *)text, tlen,
				  err, errsz);
	log_set_level(lvl);
	if (rc < 0)
		goto out;
	n = load_keys(&r, keys, max);
	char cg[4096];
	if (n >= 0 && rd_cstring(&r, cg, sizeof(cg)) == 0 && lifecycle_use_base(cg) < 0) {
		/* sessions must not run outside the cgroup they were meant for */
		snprintf(err, errsz, "out of memory keeping the session cgroup base");
		n = -1;
		goto out;
	}
	if (n < 0 || r.err || rd_end(&r) < 0) {
		snprintf(err, errsz, "host keys in the configuration snapshot malformed");
		n = -1;
	}
out:
	buf_free(&b);
	return n;
}

/* The file a connection process is started from, found on the first call.
 * Natively /proc/self/exe: the running binary's inode, even if its file has
 * been replaced since. Under a user-mode emulator (qemu-user) the kernel's
 * /proc/self/exe is the emulator, and an exec of it would start the
 * emulator with wombatd's arguments; the emulator hides that from open(),
 * which gives the program's own file. So the file open() gives is compared
 * with the one the kernel's link names (stat): when they differ, the
 * connection process is started from the opened file, through
 * /proc/self/fd/N (kept open, close-on-exec, above the fixed slots), and the
 * kernel runs it through binfmt_misc, i.e. the emulator again. */
static const char *exec_path(void)
{
#ifdef WOMBAT_VALGRIND
	/* the check-valgrind build: /proc/self/exe is valgrind's tool, which
	 * --trace-children cannot run as a client; valgrind reports the
	 * client's own path through readlink */
	static char path[4096] = "/proc/self/exe";
	static int resolved;
	if (resolved)
		return path;
	resolved = 1;
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
	if (n <= 0 || (size_t)n >= sizeof(path) - 1)
		snprintf(path, sizeof(path), "/proc/self/exe");
	else
		path[n] = 0;
	return path;
#else
	static char path[32] __attribute__((aligned(4))) = "/proc/self/exe";  /* as log_ident */
	static int resolved;
	if (resolved)
		return path;
	resolved = 1;
	int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return path;
	struct stat opened, linked;
	if (fstat(fd, &opened) == 0 && stat("/proc/self/exe", &linked) == 0 &&
	    (opened.st_dev != linked.st_dev || opened.st_ino != linked.st_ino)) {
		int kept = fcntl(fd, F_DUPFD_CLOEXEC, 10);
		if (kept >= 0) {
			snprintf(path, sizeof(path), "/proc/self/fd/%d", kept);
			logit("/proc/self/exe is not this program (an emulator's?): connection "
			      "processes start from the program's own file (%s)", path);
		}
	}
	close(fd);
	return path;
#endif
}

/* The connection process's environment: the listener's, with glibc's
 * per-thread cache of freed chunks (tcache) turned off, added to any
 * tunables already set. malloc_trim cannot give back a page that holds a
 * cached chunk (for malloc it is in use): with the cache an idle session
 * keeps 12 KiB more heap (smaps). The process has one thread, and its
 * sessions get a clean environment (session.c), so it goes no further.
 * NULL when out of memory; free the array and its last entry. */
#define TUNABLES "GLIBC_TUNABLES="
#define TCACHE_OFF "glibc.malloc.tcache_count=0"
static char **conn_environ(void)
{
	size_t n = 0, k = 0;
	while (environ[n])
		n++;
	char **env = calloc(n + 2, sizeof(*env));
	if (!env)
		return NULL;
	const char *old = getenv("GLIBC_TUNABLES");
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], TUNABLES, strlen(TUNABLES)) != 0)
			env[k++] = environ[i];
	size_t len = strlen(TUNABLES TCACHE_OFF) + (old ? strlen(old) + 1 : 0) + 1;
	if (!(env[k] = malloc(len))) {
		free(env);
		return NULL;
	}
	snprintf(env[k], len, TUNABLES "%s%s" TCACHE_OFF, old ? old : "", old ? ":" : "");
	return env;
}

static void free_conn_environ(char **env)
{
	size_t k = 0;
	while (env[k + 1])
		k++;
	free(env[k]);
	free(env);
}

pid_t rexec_spawn(int sock, int snapshot, int notify, char *const *argv)
{
	const char *exe = exec_path();
	/* above the fixed slots first, so that placing one cannot clobber
	 * another's source */
	int s = fcntl(sock, F_DUPFD_CLOEXEC, 10);
	int snap = fcntl(snapshot, F_DUPFD_CLOEXEC, 10);
	int nt = notify >= 0 ? fcntl(notify, F_DUPFD_CLOEXEC, 10) :
			       open("/dev/null", O_RDONLY | O_CLOEXEC);
	pid_t pid = -1;
	char **env = conn_environ();
	posix_spawn_file_actions_t fa;
	if (env && s >= 0 && snap >= 0 && nt >= 0 && posix_spawn_file_actions_init(&fa) == 0) {
		int rc = posix_spawn_file_actions_adddup2(&fa, s, 0) |
			 posix_spawn_file_actions_adddup2(&fa, s, 1) |
			 posix_spawn_file_actions_adddup2(&fa, snap, REXEC_SNAPSHOT_FD) |
			 posix_spawn_file_actions_adddup2(&fa, nt, REXEC_NOTIFY_FD);
		/* vfork-like: the listener's memory is not copied */
		if (rc == 0 && (rc = posix_spawn(&pid, exe, &fa, NULL, argv, env)) != 0) {
			error("cannot start the connection process (%s): %s", exe, strerror(rc));
			pid = -1;
		}
		posix_spawn_file_actions_destroy(&fa);
	} else {
		error("cannot set up the connection process: %m");
	}
	if (env)
		free_conn_environ(env);
	if (s >= 0)
		close(s);
	if (snap >= 0)
		close(snap);
	if (nt >= 0)
		close(nt);
	return pid;
}
