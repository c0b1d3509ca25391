/* dropbear(8)'s server command line translated into wombatd's (dropbear.h).
 * The meanings are those of `dropbear -h` and dropbear(8) (2022.83). */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dropbear.h"
#include "hostkey.h"
#include "log.h"

#define DROPBEAR_MAX_PORTS 10      /* "up to 10 can be specified" */
#define DROPBEAR_MAX_TRIES "10"    /* dropbear's MAX_AUTH_TRIES */
#define DROPBEAR_MAX_WINDOW 10485760L /* dropbear lowers a larger -W to this */

/* What the dropbear flags said, before translation. */
struct db_flags {
	int foreground, to_stderr, inetd, create;
	int no_password, no_root_password, no_root, blank_password;
	int no_local_fwd, no_remote_fwd, gateway, no_motd;
	const char *keepalive, *idle, *max_tries, *banner, *pid_file, *command, *group;
	unsigned long long window;   /* -W, 0 = not given */
	const char *ports[DROPBEAR_MAX_PORTS];
	int n_ports;
	const char *keys[CFG_MAX_LIST];
	int n_keys;
	int tail;                    /* index of the first arg after --wombat, or 0 */
};


int dropbear_invoked(const char *argv0)
{
	if (!argv0)
		return 0;
	const char *base = strrchr(argv0, '/');
	return strcmp(base ? base + 1 : argv0, "dropbear") == 0;
}

static void usage(void)
{
	fprintf(stderr,
		"wombatd with dropbear's command line: dropbear [-FEmwsgjkaBRiz] [-b bannerfile]\n"
		"  [-r keyfile]... [-p [address:]port]... [-P pidfile] [-T max_auth_tries]\n"
		"  [-K keepalive] [-I idle_timeout] [-G group] [-c command] [-W windowsize]\n"
		"  [--wombat wombatd-flags]\n"
		"-e and -t have no meaning in wombat and are refused; see the README,\n"
		"\"Replacing dropbear\".\n");
}

/* Seconds or a count: decimal digits only, at most 7 of them. */
static int check_number(char flag, const char *v, char *err, size_t errsz)
{
	size_t n = strlen(v);
	if (n == 0 || n > 7 || strspn(v, "0123456789") != n)
		return err_fmt(err, errsz, "-%c %s: expected a number", flag, v);
	return 0;
}

/* "port", "address:port" or "[v6 address]:port": is the port 1..65535? */
static int check_listen(const char *v, char *err, size_t errsz)
{
	const char *port = strrchr(v, ':');
	port = port ? port + 1 : v;
	size_t n = strlen(port);
	long p = n && n <= 5 && strspn(port, "0123456789") == n ? strtol(port, NULL, 10) : 0;
	if (p < 1 || p > 65535)
		return err_fmt(err, errsz, "-p %s: bad port (expected [address:]port)", v);
	if (port != v && port - 1 == v)
		return err_fmt(err, errsz, "-p %s: empty address", v);
	return 0;
}

/* Flags that wombat has no meaning for: refused, never ignored. */
static int refuse(char flag, char *err, size_t errsz)
{
	switch (flag) {
	case 'e':
		return err_fmt(err, errsz, "-e (pass the server's environment on to sessions) "
			       "is not supported: wombat gives sessions a clean environment");
	case 't':
		return err_fmt(err, errsz, "-t (password and public key both required) is not "
			       "supported: wombat has no AuthenticationMethods");
	default:
		return err_fmt(err, errsz, "unknown option -%c (see dropbear -h)", flag);
	}
}

/* -W bytes: dropbear's per-channel receive window, a plain number (as
 * OpenWrt's init script passes it). */
static int take_window(struct db_flags *f, const char *v, char *err, size_t errsz)
{
	size_t n = strlen(v);
	if (n == 0 || n > 10 || strspn(v, "0123456789") != n || strtoull(v, NULL, 10) == 0)
		return err_fmt(err, errsz, "-W %s: expected a window size in bytes", v);
	f->window = strtoull(v, NULL, 10);
	return 0;
}

/* A flag that takes a value. */
static int take_value(struct db_flags *f, char flag, const char *v, char *err, size_t errsz)
{
	switch (flag) {
	case 'b': f->banner = v; return 0;
	case 'c': f->command = v; return 0;
	case 'G': f->group = v; return 0;
	case 'P': f->pid_file = v; return 0;
	case 'r':
		if (f->n_keys >= CFG_MAX_LIST)
			return err_fmt(err, errsz, "-r: too many host keys");
		f->keys[f->n_keys++] = v;
		return 0;
	case 'p':
		if (f->n_ports >= DROPBEAR_MAX_PORTS)
			return err_fmt(err, errsz, "-p: at most %d may be given", DROPBEAR_MAX_PORTS);
		f->ports[f->n_ports++] = v;
		return check_listen(v, err, errsz);
	case 'K': f->keepalive = v; return check_number(flag, v, err, errsz);
	case 'I': f->idle = v; return check_number(flag, v, err, errsz);
	case 'T': f->max_tries = v; return check_number(flag, v, err, errsz);
	case 'W': return take_window(f, v, err, errsz);
	default: return refuse(flag, err, errsz);
	}
}

/* A flag without a value; 1 for -h and -V (print and stop). */
static int take_flag(struct db_flags *f, char flag, char *err, size_t errsz)
{
	/* each of these sets one int of db_flags (a table: one store, not a
	 * case apiece) */
	static const char flags[] = "FEiRmwsgBjka";
	static const unsigned char field[] = {
		offsetof(struct db_flags, foreground), offsetof(struct db_flags, to_stderr),
		offsetof(struct db_flags, inetd), offsetof(struct db_flags, create),
		offsetof(struct db_flags, no_motd), offsetof(struct db_flags, no_root),
		offsetof(struct db_flags, no_password), offsetof(struct db_flags, no_root_password),
		offsetof(struct db_flags, blank_password), offsetof(struct db_flags, no_local_fwd),
		offsetof(struct db_flags, no_remote_fwd), offsetof(struct db_flags, gateway),
	};
	_Static_assert(sizeof field == sizeof flags - 1, "one field per flag");
	const char *at = strchr(flags, flag);
	if (flag && at) {
		*(int *)(void *)((char *)f + field[at - flags]) = 1;
		return 0;
	}
	switch (flag) {
	/* dropbear marks its packets AF21 unless -z; wombat never sets a
	 * traffic class, which is what -z asks for */
	case 'z': return 0;
	case 'h': usage(); return 1;
	case 'V': fprintf(stderr, "wombatd (with dropbear's command line)\n"); return 1;
	default: return refuse(flag, err, errsz);
	}
}

/* dropbear's own parsing: flags may be grouped (-Fs), a value may follow
 * its flag in the same argument (-p22) or in the next one. */
static int parse_flags(int argc, char **argv, struct db_flags *f, char *err, size_t errsz)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--wombat") == 0) {
			f->tail = i + 1;
			return 0;
		}
		if (a[0] != '-' || !a[1])
			return err_fmt(err, errsz, "unexpected argument \"%s\"", a);
		for (int j = 1; a[j]; j++) {
			if (strchr("bcGPrpKITW", a[j])) {
				const char *v = a[j + 1] ? a + j + 1 : (i + 1 < argc ? argv[++i] : NULL);
				if (!v)
					return err_fmt(err, errsz, "-%c needs a value", a[j]);
				if (take_value(f, a[j], v, err, errsz) < 0)
					return -1;
				break;
			}
			int rc = take_flag(f, a[j], err, errsz);
			if (rc != 0)
				return rc;
		}
	}
	return 0;
}

static int push(struct dropbear_cmd *c, const char *s)
{
	if (c->argc >= DROPBEAR_MAX_ARGS || !(c->argv[c->argc] = strdup(s)))
		return -1;
	c->argc++;
	return 0;
}

/* -o "Keyword value" */
static int push_opt(struct dropbear_cmd *c, const char *keyword, const char *value)
{
	char line[1024];
	if ((size_t)snprintf(line, sizeof(line), "%s %s", keyword, value) >= sizeof(line))
		return -1;
	return push(c, "-o") | push(c, line);
}

/* -p: bare ports become Port; once any has an address, every one becomes a
 * ListenAddress (a bare port then on all IPv4 and IPv6 addresses), since a
 * ListenAddress stops wombat listening on the wildcard for Port. */
static int push_ports(struct dropbear_cmd *c, const struct db_flags *f)
{
	int any_addr = 0, rc = 0;
	for (int i = 0; i < f->n_ports; i++)
		any_addr |= strchr(f->ports[i], ':') != NULL;
	for (int i = 0; i < f->n_ports; i++) {
		const char *p = f->ports[i], *colon = strrchr(p, ':');
		char addr[600];
		if (!any_addr) {
			rc |= push_opt(c, "Port", p);
			continue;
		}
		if (!colon) {
			snprintf(addr, sizeof(addr), "0.0.0.0:%s", p);
			rc |= push_opt(c, "ListenAddress", addr);
			snprintf(addr, sizeof(addr), "[::]:%s", p);
			rc |= push_opt(c, "ListenAddress", addr);
		} else if (p[0] != '[' && memchr(p, ':', (size_t)(colon - p))) {
			/* an IPv6 address without brackets: the last colon is the port's */
			snprintf(addr, sizeof(addr), "[%.*s]%s", (int)(colon - p), p, colon);
			rc |= push_opt(c, "ListenAddress", addr);
		} else {
			rc |= push_opt(c, "ListenAddress", p);
		}
	}
	return rc;
}

static int push_auth(struct dropbear_cmd *c, const struct db_flags *f)
{
	int rc = 0;
	/* dropbear's defaults differ from OpenSSH's: root may log in with a
	 * password, and 10 tries */
	rc |= push_opt(c, "PermitRootLogin", f->no_root ? "no" :
		       f->no_root_password ? "prohibit-password" : "yes");
	rc |= push_opt(c, "PasswordAuthentication", f->no_password ? "no" : "yes");
	if (f->no_password)
		rc |= push_opt(c, "KbdInteractiveAuthentication", "no");
	if (f->blank_password)
		rc |= push_opt(c, "PermitEmptyPasswords", "yes");
	if (f->group)
		rc |= push_opt(c, "AllowGroups", f->group);
	rc |= push_opt(c, "MaxAuthTries", f->max_tries ? f->max_tries : DROPBEAR_MAX_TRIES);
	if (f->banner)
		rc |= push_opt(c, "Banner", f->banner);
	return rc;
}

/* -W: ChannelWindowSize. dropbear takes any size up to 10 MiB and lowers a
 * larger one to that; wombat does the same, and raises one below its
 * 4 KiB minimum to that, saying so in the log (c->note), so that the init
 * script's value never stops the server from starting. */
static int push_window(struct dropbear_cmd *c, unsigned long long asked)
{
	long w = asked > DROPBEAR_MAX_WINDOW ? DROPBEAR_MAX_WINDOW : (long)asked;
	if (w < CFG_CHANNEL_WINDOW_MIN)
		w = CFG_CHANNEL_WINDOW_MIN;
	if ((unsigned long long)w != asked)
		snprintf(c->note, sizeof(c->note), "dropbear -W %llu: using a window of %ld "
			 "bytes (%ld to %ld)", asked, w, (long)CFG_CHANNEL_WINDOW_MIN,
			 DROPBEAR_MAX_WINDOW);
	char num[24];
	snprintf(num, sizeof(num), "%ld", w);
	return push_opt(c, "ChannelWindowSize", num);
}

static int push_session(struct dropbear_cmd *c, const struct db_flags *f)
{
	int rc = 0;
	/* -j: no local (direct) forwarding, -k: no remote (listening) one; the
	 * same for Unix sockets, which dropbear does not forward at all */
	const char *fwd = f->no_local_fwd && f->no_remote_fwd ? "no" :
			  f->no_local_fwd ? "remote" : f->no_remote_fwd ? "local" : NULL;
	if (fwd) {
		rc |= push_opt(c, "AllowTcpForwarding", fwd);
		rc |= push_opt(c, "AllowStreamLocalForwarding", fwd);
	}
	if (f->gateway)
		rc |= push_opt(c, "GatewayPorts", "yes");
	if (f->no_motd)
		rc |= push_opt(c, "PrintMotd", "no");
	if (f->command)
		rc |= push_opt(c, "ForceCommand", f->command);
	if (f->window)
		rc |= push_window(c, f->window);
	/* -K: a keepalive every N s, the connection closed after 3 unanswered */
	if (f->keepalive && (int)strtol(f->keepalive, NULL, 10) > 0) {
		rc |= push_opt(c, "ClientAliveInterval", f->keepalive);
		rc |= push_opt(c, "ClientAliveCountMax", "3");
	}
	/* -I: no traffic for N s ends the connection: channels idle for N s
	 * are closed, and a connection without channels for N s */
	if (f->idle && (int)strtol(f->idle, NULL, 10) > 0) {
		char ct[32];
		snprintf(ct, sizeof(ct), "global=%s", f->idle);
		rc |= push_opt(c, "ChannelTimeout", ct);
		rc |= push_opt(c, "UnusedConnectionTimeout", f->idle);
	}
	return rc;
}

static __attribute__((noinline)) int add_create(struct dropbear_cmd *c, const char *path)
{
	if (c->n_create >= CFG_MAX_LIST || !(c->create[c->n_create] = strdup(path)))
		return -1;
	c->n_create++;
	return 0;
}

/* -r files, or dropbear's default files that exist (with -R the ed25519
 * one is created if missing); with none at all, every default, so that
 * the error names them. */
static int push_hostkeys(struct dropbear_cmd *c, const struct db_flags *f)
{
	static const char *const names[] = { "ed25519", "ecdsa", "rsa", "dss" };
	int rc = 0, n = 0;
	for (int i = 0; i < f->n_keys; i++) {
		rc |= push_opt(c, "HostKey", f->keys[i]);
		if (f->create)
			rc |= add_create(c, f->keys[i]);
	}
	if (f->n_keys)
		return rc;
	for (int pass = 0; pass < 2 && n == 0; pass++) {
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			char path[256];
			snprintf(path, sizeof(path), "%s/dropbear_%s_host_key", DROPBEAR_KEY_DIR,
				 names[i]);
			int wanted = access(path, F_OK) == 0 || (i == 0 && f->create) ||
				     (pass == 1 && i < 3);
			if (!wanted)
				continue;
			rc |= push_opt(c, "HostKey", path);
			n++;
			if (i == 0 && f->create)
				rc |= add_create(c, path);
		}
	}
	return rc;
}

static int build(struct dropbear_cmd *c, const struct db_flags *f, int argc, char **argv)
{
	int rc = push(c, argv[0]) | push(c, "--wombat");
	if (f->foreground)
		rc |= push(c, "-D");
	if (f->to_stderr)
		rc |= push(c, "-e");
	if (f->inetd)
		rc |= push(c, "-i");
	rc |= push_opt(c, "PidFile", f->pid_file ? f->pid_file : DROPBEAR_PID_FILE);
	rc |= push_ports(c, f) | push_hostkeys(c, f) | push_auth(c, f) | push_session(c, f);
	for (int i = f->tail; f->tail && i < argc; i++)
		rc |= push(c, argv[i]);
	c->pid_in_foreground = 1;
	return rc;
}

int dropbear_translate(int argc, char **argv, struct dropbear_cmd *out, char *err,
		       size_t errsz)
{
	struct db_flags f;
	memset(&f, 0, sizeof(f));
	memset(out, 0, sizeof(*out));
	int rc = parse_flags(argc, argv, &f, err, errsz);
	if (rc != 0)
		return rc;
	if (build(out, &f, argc, argv) < 0) {
		dropbear_cmd_free(out);
		return err_fmt(err, errsz, "command line too long");
	}
	return 0;
}

static enum key_type type_from_path(const char *path)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	if (strstr(base, "ecdsa"))
		return KEY_ECDSA_P256;
	if (strstr(base, "rsa"))
		return KEY_RSA;
	return KEY_ED25519;
}

static void create_key(const char *path)
{
	struct sshkey *k = NULL;
	char err[512], fp[128];
	const char *base = strrchr(path, '/');
	if (strstr(base ? base + 1 : path, "dss")) {
		error("cannot create host key %s: wombat has no DSS keys", path);
		return;
	}
	/* the directory, as dropbear's -R makes it */
	char dir[1024];
	str_copy(dir, sizeof(dir), path);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		if (mkdir(dir, 0700) < 0 && errno != EEXIST)
			error("cannot create %s: %m", dir);
	}
	enum key_type t = type_from_path(path);
	if (key_kind_left_out(t)) {
		error("cannot create host key %s: %s", path, key_kind_left_out(t));
		return;
	}
	if (key_generate(t, 0, &k) < 0 ||
	    key_save_dropbear(k, path, err, sizeof(err)) < 0) {
		error("cannot create host key %s: %s", path, k ? err : "generation failed");
		key_free(k);
		return;
	}
	key_fingerprint(k, fp, sizeof(fp));
	logit("Generated new host key %s (dropbear format): %s %s", path, key_type_name(k), fp);
	key_free(k);
}

void dropbear_create_keys(const struct dropbear_cmd *c)
{
	for (int i = 0; i < c->n_create; i++)
		if (access(c->create[i], F_OK) != 0)
			create_key(c->create[i]);
}

void dropbear_cmd_free(struct dropbear_cmd *c)
{
	for (int i = 0; i < c->argc; i++)
		free(c->argv[i]);
	for (int i = 0; i < c->n_create; i++)
		free(c->create[i]);
	memset(c, 0, sizeof(*c));
}
