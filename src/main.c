/* wombatd: command line, configuration, host keys, then inetd mode or the
 * listener. Flags are OpenSSH sshd's (sshd(8)). */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "auth.h"
#include "config.h"
#include "build_opts.h"
#include "cpu.h"
#include "conn.h"
#include "crypto.h"
#include "dropbear.h"
#include "hostkey.h"
#include "lifecycle.h"
#include "listen.h"
#include "log.h"
#include "rexec.h"
#include "sandbox.h"

#define DEFAULT_CONFIG "/etc/wombat/sshd_config"
#define MAX_OPTS 64

struct cmdline {
	int foreground, debug, to_stderr, inetd, test, dump;
	int conn_role;               /* -R: started by the listener (rexec.h) */
	const char *log_file, *config_file, *match_spec;
	const char *hostkeys[CFG_MAX_LIST];
	int n_hostkeys;
	const char *opts[MAX_OPTS];
	int n_opts;
	const char *port;
};

static void usage(void)
{
	fprintf(stderr,
		"usage: wombatd [-DdeiTt] [-C connection_spec] [-E log_file] [-f config_file]\n"
		"               [-h host_key_file] [-o option] [-p port]\n");
	exit(1);
}

static void parse_args(int argc, char **argv, struct cmdline *cl)
{
	int ch;
	while ((ch = getopt(argc, argv, "DdeiqRtTC:E:f:h:o:p:")) != -1) {
		switch (ch) {
		case 'D': cl->foreground = 1; break;
		case 'd': cl->debug++; cl->foreground = 1; cl->to_stderr = 1; break;
		case 'e': cl->to_stderr = 1; break;
		case 'i': cl->inetd = 1; break;
		case 'q': break;
		case 'R': cl->conn_role = 1; break;
		case 't': cl->test = 1; break;
		case 'T': cl->dump = 1; break;
		case 'C': cl->match_spec = optarg; break;
		case 'E': cl->log_file = optarg; break;
		case 'f': cl->config_file = optarg; break;
		case 'h':
			if (cl->n_hostkeys >= CFG_MAX_LIST)
				usage();
			cl->hostkeys[cl->n_hostkeys++] = optarg;
			break;
		case 'o':
			if (cl->n_opts >= MAX_OPTS)
				usage();
			cl->opts[cl->n_opts++] = optarg;
			break;
		case 'p': cl->port = optarg; break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
}

/* Command-line options first: with sshd_config's "first value wins" they
 * take precedence over the file, as with sshd. -1 with err filled (cfg is
 * then freed). */
static int read_config(struct config *cfg, const struct cmdline *cl, char *err,
		       size_t errsz)
{
	config_defaults(cfg);
	for (int i = 0; i < cl->n_opts; i++)
		if (config_apply_option(cfg, cl->opts[i], err, errsz) < 0)
			goto fail;
	if (cl->port) {
		char line[64];
		snprintf(line, sizeof(line), "Port %s", cl->port);
		if (config_apply_option(cfg, line, err, errsz) < 0)
			goto fail;
	}
	const char *path = cl->config_file;
	if (!path && access(DEFAULT_CONFIG, F_OK) == 0)
		path = DEFAULT_CONFIG;
	if (path && config_load_file(cfg, path, err, errsz) < 0)
		goto fail;
	return 0;
fail:
	config_free(cfg);
	return -1;
}

static void load_config(struct config *cfg, const struct cmdline *cl)
{
	char err[512];
	if (read_config(cfg, cl, err, sizeof(err)) < 0) {
		fprintf(stderr, "wombatd: %s\n", err);
		exit(1);
	}
}

/* SIGHUP in the listener: the same sources, read again. */
static const struct cmdline *reload_cmdline;
static int reload_config(struct config *fresh)
{
	char err[512];
	if (read_config(fresh, reload_cmdline, err, sizeof(err)) < 0) {
		error("%s", err);
		return -1;
	}
	return 0;
}

/* The default host key path: system-wide for root, per user otherwise. */
static void default_hostkey_path(char *out, size_t outsz)
{
	if (getuid() == 0) {
		snprintf(out, outsz, "/etc/wombat/ssh_host_ed25519_key");
		return;
	}
	const char *home = getenv("HOME");
	struct passwd *pw = getpwuid(getuid());
	if (!home && pw)
		home = pw->pw_dir;
	snprintf(out, outsz, "%s/.config/wombat/ssh_host_ed25519_key", home ? home : ".");
}

static void mkdir_parents(const char *path)
{
	char dir[1024];
	str_copy(dir, sizeof(dir), path);
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		mkdir(dir, 0755);
		*p = '/';
	}
}

/* First start without a host key: make an ed25519 one (dropbear's -R). */
static struct sshkey *generate_default_hostkey(const char *path)
{
	struct sshkey *k = NULL;
	char err[256], fp[128];
	mkdir_parents(path);
	if (key_generate(KEY_ED25519, 0, &k) < 0 ||
	    key_save_private(k, path, "wombatd host key", err, sizeof(err)) < 0) {
		error("cannot create host key %s: %s", path, k ? err : "generation failed");
		key_free(k);
		return NULL;
	}
	key_fingerprint(k, fp, sizeof(fp));
	logit("Generated new host key %s: ED25519 %s", path, fp);
	return k;
}

/* Is the log going to stderr (-e, -d, -t, and no -E file)? If not,
 * start-up problems are also written there, for whoever started wombatd
 * from a terminal. */
static int log_on_stderr;

static void startup_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void startup_error(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	error("%s", msg);
	if (!log_on_stderr)
		fprintf(stderr, "wombatd: %s\n", msg);
}

/* Like sshd, a host key that cannot be used (unsupported type, corrupt,
 * bad permissions or owner) is logged and skipped; only when none is left
 * is it an error, -1. -t behaves the same: the bad keys are reported, and
 * it fails only when no key loads. */
static int load_hostkey_files(const char **paths, int n, struct sshkey **keys)
{
	int loaded = 0;
	for (int i = 0; i < n; i++) {
		char err[512];
		/* err starts with the file's name */
		if (key_load_host(paths[i], &keys[loaded], err, sizeof(err)) < 0) {
			startup_error("host key skipped: %s", err);
			continue;
		}
		char fp[128];
		key_fingerprint(keys[loaded], fp, sizeof(fp));
		debug("host key %s: %s %s", paths[i], key_type_name(keys[loaded]), fp);
		loaded++;
	}
	if (loaded == 0) {
		startup_error("no host key could be loaded; not starting");
		return -1;
	}
	return loaded;
}

static int load_hostkeys(const struct cmdline *cl, const struct config *cfg,
			 struct sshkey **keys, int allow_generate)
{
	const char *paths[CFG_MAX_LIST];
	int n = 0;
	for (int i = 0; i < cl->n_hostkeys; i++)
		paths[n++] = cl->hostkeys[i];
	for (int i = 0; !cl->n_hostkeys && i < cfg->n_host_keys; i++)
		paths[n++] = cfg->host_keys[i];
	char defpath[1024];
	if (n == 0) {
		default_hostkey_path(defpath, sizeof(defpath));
		if (access(defpath, F_OK) != 0) {
			if (!allow_generate) {
				fprintf(stderr, "wombatd: no host key: %s does not exist "
					"(it is generated on first start)\n", defpath);
				return -1;
			}
			keys[0] = generate_default_hostkey(defpath);
			return keys[0] ? 1 : -1;
		}
		paths[n++] = defpath;
	}
	return load_hostkey_files(paths, n, keys);
}

/* What daemon(0, 0) does, without that libc import: the parent exits, the
 * child leads a new session in /, its stdio on /dev/null. 0, or -1 with
 * errno set (the parent never returns). */
static int detach(void)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	if (setsid() < 0 || chdir("/") < 0)
		return -1;
	int fd = open("/dev/null", O_RDWR);
	if (fd < 0)
		return -1;
	for (int i = 0; i < 3; i++)
		if (fd != i && dup2(fd, i) < 0)
			return -1;
	if (fd > 2)
		close(fd);
	return 0;
}

/* PidFile as an absolute path (detach() changes to /), or NULL for none. */
static char *pid_file_path(const struct config *cfg)
{
	const char *p = cfg->pid_file;
	char cwd[4096];
	if (!p || !*p)
		return NULL;
	if (p[0] == '/' || !getcwd(cwd, sizeof(cwd)))
		return strdup(p);
	size_t n = strlen(cwd) + strlen(p) + 2;
	char *abs = malloc(n);
	if (abs)
		snprintf(abs, n, "%s/%s", cwd, p);
	return abs;
}

/* The listener's pid, "%d\n", through a temporary file and rename, so
 * that a reader never sees it empty or half written. A failure is logged,
 * not fatal (as sshd). */
static void write_pid_file(const char *path)
{
	char line[32];
	int len = snprintf(line, sizeof(line), "%d\n", (int)getpid());
	size_t tn = strlen(path) + 8;
	char *tmp = malloc(tn);
	if (!tmp) {
		error("cannot write PidFile %s: out of memory", path);
		return;
	}
	snprintf(tmp, tn, "%s.XXXXXX", path);
	int fd = rand_temp_file(tmp, O_CLOEXEC);
	int ok = fd >= 0 && write(fd, line, (size_t)len) == len && fchmod(fd, 0644) == 0;
	if (fd >= 0 && close(fd) < 0)
		ok = 0;
	if (ok && rename(tmp, path) < 0)
		ok = 0;
	if (!ok) {
		error("cannot write PidFile %s: %m", path);
		if (fd >= 0)
			unlink(tmp);
	}
	free(tmp);
}

/* Remove the PidFile at exit if it is still ours (another wombatd started
 * with the same PidFile since then keeps its own). */
static void remove_pid_file(const char *path)
{
	char line[32];
	FILE *f = fopen(path, "re");
	if (!f)
		return;
	int ours = fgets(line, sizeof(line), f) && strtol(line, NULL, 10) == (long)getpid();
	fclose(f);
	if (ours && unlink(path) < 0)
		error("cannot remove PidFile %s: %m", path);
}

static void spec_error(const char *fmt, const char *arg) __attribute__((noreturn));
static void spec_error(const char *fmt, const char *arg)
{
	fputs("wombatd: -C: ", stderr);
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	exit(1);
}

/* One "key=value" of -C into mc (values point into kv). */
static void spec_item(char *kv, struct match_conn *mc)
{
	char *eq = strchr(kv, '=');
	if (!eq)
		spec_error("expected key=value, got \"%s\"", kv);
	*eq = 0;
	const char *val = eq + 1;
	if (strcmp(kv, "user") == 0) {
		mc->user = val;
	} else if (strcmp(kv, "addr") == 0) {
		mc->addr = val;
	} else if (strcmp(kv, "host") == 0) {
		mc->host = val;
	} else if (strcmp(kv, "laddr") == 0) {
		mc->laddr = val;
	} else if (strcmp(kv, "lport") == 0) {
		char *end;
		long port = strtol(val, &end, 10);
		if (!*val || *end || port < 1 || port > 65535)
			spec_error("bad lport \"%s\" (expected 1 to 65535)", val);
		mc->lport = (int)port;
	} else {
		spec_error("unknown key \"%s\"", kv);
	}
}

/* -T with -C user=...,addr=...,host=...,laddr=...,lport=... */
static void dump_config(struct config *cfg, const char *spec)
{
	if (spec) {
		char buf[512], *rest = buf;
		struct match_conn mc = { 0 };
		str_copy(buf, sizeof(buf), spec);
		for (char *kv = str_token(&rest, ","); kv; kv = str_token(&rest, ","))
			spec_item(kv, &mc);
		struct passwd *pw = mc.user ? getpwnam(mc.user) : NULL;
		const char *groups[65] = { NULL };
		int ng = pw ? user_group_names(pw, groups, 64) : 0;
		mc.groups = groups;
		config_match(cfg, &mc);
		user_group_names_free(groups, ng);
	}
	config_dump(cfg, stdout);
	/* not an option: how this wombatd was built (a comment reads back) */
	fprintf(stdout, "# seccomp: %s\n", sandbox_has_seccomp() ? "yes" : "no (built --without-seccomp)");
	/* the parts ./configure left out (--disable-rsa, --disable-nist, ...) */
	fprintf(stdout, "# left out of this build:%s\n", FEATURES_LEFT_OUT[0] ? FEATURES_LEFT_OUT : " nothing");
}

/* SessionKillMode control-group/mixed without a writable cgroup v2 is a
 * start-up error (unless SessionKillFallback process-group). */
static int check_session_lifecycle(const struct config *cfg, int check_only)
{
	char err[5000];
	if (lifecycle_init(cfg, check_only, err, sizeof(err)) == 0)
		return 0;
	fprintf(stderr, "wombatd: %s\n", err);
	error("%s", err);
	return -1;
}

/* The listener's command line with -R added: how it starts each
 * connection process. */
static char **role_argv(int argc, char **argv)
{
	char **v = calloc((size_t)argc + 2, sizeof(*v));
	if (!v)
		return NULL;
	for (int i = 0; i < argc; i++)
		v[i] = argv[i];
	v[argc] = (char *)"-R";
	return v;
}

/* LogLevel, or DEBUG1..DEBUG3 for -d, -dd, -ddd (and more) */
static enum log_level log_level_of(const struct cmdline *cl, const struct config *cfg)
{
	if (cl->debug)
		return (enum log_level)(LOG_L_DEBUG1 + (cl->debug > 3 ? 2 : cl->debug - 1));
	return (enum log_level)cfg->log_level;
}

/* -R: one connection on fds 0/1, configuration and host keys from the
 * listener's snapshot (rexec.h); exits with how it ended (enum conn_end),
 * which the listener turns into penalties. */
/* noinline: inlined into main, larger than apart (-R exits from here) */
static __attribute__((noinline)) int
run_connection_role(const struct cmdline *cl, struct config *cfg, struct sshkey **hostkeys)
{
	char err[512];
	log_init("wombatd", LOG_L_INFO, cl->to_stderr, cl->log_file, LOG_AUTH);
	int n = rexec_load(REXEC_SNAPSHOT_FD, cfg, hostkeys, CFG_MAX_LIST, err, sizeof(err));
	close(REXEC_SNAPSHOT_FD);
	if (n <= 0) {
		error("connection process: %s", err);
		return 255;
	}
	log_init("wombatd", log_level_of(cl, cfg), cl->to_stderr || cl->test, NULL,
		 cfg->syslog_facility);
	/* the session cgroup base came with the snapshot; the notify pipe must
	 * not reach the sessions */
	fcntl(REXEC_NOTIFY_FD, F_SETFD, FD_CLOEXEC);
	if (sandbox_prepare(1) < 0)
		return 255;
	conn_set_privsep(1);
	conn_set_auth_notify(REXEC_NOTIFY_FD);
	return conn_run(0, 1, cfg, hostkeys, n);
}

int main(int argc, char **argv)
{
	struct cmdline cl;
	/* Static: they live as long as the process, and LeakSanitizer (make
	 * check-asan) looks for them only after main has returned. */
	static struct config cfg;
	static struct sshkey *hostkeys[CFG_MAX_LIST];
	static struct dropbear_cmd db;   /* started as "dropbear": dropbear.h */
	memset(&cl, 0, sizeof(cl));
	if (dropbear_invoked(argv[0]) && !(argc > 1 && strcmp(argv[1], "--wombat") == 0)) {
		char err[512];
		int rc = dropbear_translate(argc, argv, &db, err, sizeof(err));
		if (rc != 0) {
			if (rc < 0)
				fprintf(stderr, "dropbear (wombatd): %s\n", err);
			return rc < 0 ? 1 : 0;
		}
		argc = db.argc;
		argv = db.argv;
	}
	if (dropbear_invoked(argv[0]))
		parse_args(argc - 1, argv + 1, &cl);   /* after "--wombat" */
	else
		parse_args(argc, argv, &cl);
	if (cl.conn_role)
		return run_connection_role(&cl, &cfg, hostkeys);
	/* Warnings while reading the configuration ("'yes' is not supported by
	 * wombat, ignored") must reach the user of -e, -t and -T; the log's own
	 * settings are known only once it is read, and set again below. */
	log_init("wombatd", LOG_L_INFO, cl.to_stderr || cl.test || cl.dump, NULL, LOG_AUTH);
	/* the connection role (and inetd mode, one connection too) sets
	 * libtomcrypt up at its first RSA/ECC use (crypto.h), and in a
	 * dynamic build loads it only then (ltc_dyn.h): most sessions never
	 * need it. The listener loads it at start, where a missing library
	 * is found before the first connection. */
	if (!cl.inetd && crypto_init() < 0) {
		fprintf(stderr, "wombatd: crypto initialisation failed (the log says why)\n");
		return 1;
	}
	load_config(&cfg, &cl);
	if (cl.dump) {
		dump_config(&cfg, cl.match_spec);
		return 0;
	}
	log_init("wombatd", log_level_of(&cl, &cfg), cl.to_stderr || cl.test, cl.log_file,
		 cfg.syslog_facility);
	log_on_stderr = (cl.to_stderr || cl.test) && log_fileno() < 0;
	if (HAVE_AES)
		debug("AES/GHASH implementation: %s", cpu_aes_impl());
	if (db.note[0])
		logit("%s", db.note);
	if (FEATURES_LEFT_OUT[0])
		debug("left out of this build:%s", FEATURES_LEFT_OUT);
	if (!cl.test)
		dropbear_create_keys(&db);
	int n_hostkeys = load_hostkeys(&cl, &cfg, hostkeys, !cl.test);
	if (n_hostkeys < 0)
		return 1;
	if (check_session_lifecycle(&cfg, cl.test) < 0)
		return 1;
	if (cl.test)
		return 0;
	if (sandbox_prepare(0) < 0) {
		startup_error("privilege separation cannot be set up; not starting");
		return 1;
	}
	conn_set_privsep(1);
	if (cl.inetd) {
		/* as sshd: 255 for a connection that did not end well */
		return conn_run(0, 1, &cfg, hostkeys, n_hostkeys) == CONN_END_OK ? 0 : 255;
	}
	int fds[LISTEN_MAX];
	int n = listen_from_systemd(fds, LISTEN_MAX);
	if (n == 0)
		n = listen_open(&cfg, fds, LISTEN_MAX);
	if (n <= 0) {
		fprintf(stderr, "wombatd: cannot listen (see log)\n");
		error("cannot listen on any address");
		return 1;
	}
	/* Written only when detaching: in the foreground (-D, -d, systemd's
	 * Type=notify) whoever started wombatd has its pid already. Fixed at
	 * start; a SIGHUP re-read does not move it. dropbear writes it in the
	 * foreground too, and so does its command line here. */
	char *pid_file = cl.foreground && !db.pid_in_foreground ? NULL : pid_file_path(&cfg);
	if (!cl.foreground && detach() < 0)
		fatal("detaching from the terminal: %m");
	if (pid_file)
		write_pid_file(pid_file);
	reload_cmdline = &cl;
	listen_set_reload(reload_config);
	char **rargv = role_argv(argc, argv);
	if (!rargv)
		fatal("out of memory");
	listen_set_exec(rargv);
	listen_loop(fds, n, &cfg, hostkeys, n_hostkeys);
	if (pid_file)
		remove_pid_file(pid_file);
	free(pid_file);
	free(rargv);
	return 0;
}
