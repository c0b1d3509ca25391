/* authfile: password hashes (shadow + crypt(3)) and authorized_keys files
 * (sshd(8) AUTHORIZED_KEYS FILE FORMAT). Pattern matching is in match.c. */
#include "authfile.h"
#include "ascii.h"

#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <shadow.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "account.h"
#include "crypto.h"
#include "log.h"

/* Longest authorized_keys line we accept (OpenSSH's limit is similar). */
#define AUTHKEYS_MAX_LINE (16 * 1024)

/* ------------------------------------------------------------------ */
/* passwords                                                           */

/* Is this stored hash one that can never be matched? */
static int hash_is_unusable(const char *hash)
{
	return hash == NULL || hash[0] == '\0' || hash[0] == '!' || hash[0] == '*';
}

/* Compare crypt(password, hash) with hash in constant time. 0 = match.
 * Not static: the unit test calls it directly (no header declaration). */
int authfile_check_hash(const char *hash, const char *password);
int authfile_check_hash(const char *hash, const char *password)
{
	struct crypt_data *cd;
	const char *res;
	size_t hlen, rlen;
	int rc = -1;

	if (password == NULL)
		return -1;
	/* an empty password field takes the empty password (as OpenSSH
	 * without PAM); the caller lets it through only with
	 * PermitEmptyPasswords yes. The dummy crypt keeps the cost equal. */
	if (hash != NULL && hash[0] == '\0') {
		account_burn_password(password);
		return password[0] == '\0' ? 0 : -1;
	}
	if (hash_is_unusable(hash)) {
		/* a key-only or locked account costs what a real check costs */
		account_burn_password(password);
		return -1;
	}
	cd = calloc(1, sizeof(*cd));
	if (cd == NULL)
		return -1;
	res = account_crypt_r(password, hash, cd);
	/* libxcrypt reports failure as NULL or a "*0"/"*1" token */
	if (res != NULL && res[0] != '*') {
		hlen = strlen(hash);
		rlen = strlen(res);
		/* the length is a property of the public hash format, not secret */
		if (hlen == rlen && ct_memcmp(res, hash, hlen) == 0)
			rc = 0;
	}
	wipe(cd, sizeof(*cd));
	free(cd);
	return rc;
}

/* Copy the user's hash: shadow when we can read it, else pw_passwd. */
static char *user_hash_copy(const struct passwd *pw)
{
	struct shadow_entry e;
	if (account_shadow_lookup(pw->pw_name, &e)) {
		char *h = strdup(e.hash);
		wipe(&e, sizeof(e));
		return h;
	}
	return pw->pw_passwd ? strdup(pw->pw_passwd) : NULL;
}

int auth_check_password(const struct passwd *pw, const char *password)
{
	char *hash;
	int rc;

	if (pw == NULL || pw->pw_name == NULL || password == NULL)
		return -1;
	hash = user_hash_copy(pw);
	if (hash == NULL)
		return -1;
	rc = authfile_check_hash(hash, password);
	wipe(hash, strlen(hash));
	free(hash);
	return rc;
}

/* ------------------------------------------------------------------ */
/* AuthorizedKeysFile tokens                                           */

/* Append s to out at *pos; -1 if it does not fit (with the NUL). */
static int append_str(char *out, size_t outsz, size_t *pos, const char *s)
{
	size_t n = strlen(s);

	if (n >= outsz - *pos)
		return -1;
	memcpy(out + *pos, s, n + 1);
	*pos += n;
	return 0;
}

/* Expand the tokens of spec into out (no home prefixing). */
static int expand_tokens(const char *spec, const struct passwd *pw, char *out,
			 size_t outsz)
{
	size_t pos = 0;
	char one[2] = { 0, 0 };

	out[0] = '\0';
	for (const char *p = spec; *p; p++) {
		const char *piece;

		if (*p != '%') {
			one[0] = *p;
			piece = one;
		} else if (p[1] == 'h') {
			piece = pw->pw_dir;
		} else if (p[1] == 'u') {
			piece = pw->pw_name;
		} else if (p[1] == '%') {
			piece = "%";
		} else {
			return -1;   /* unknown token or trailing '%' */
		}
		if (*p == '%')
			p++;
		if (piece == NULL || append_str(out, outsz, &pos, piece) < 0)
			return -1;
	}
	return 0;
}

int authkeys_expand(const char *spec, const struct passwd *pw, char *out, size_t outsz)
{
	char *tmp;
	size_t pos = 0;
	int rc;

	if (spec == NULL || pw == NULL || pw->pw_dir == NULL || out == NULL ||
	    outsz == 0)
		return -1;
	if (expand_tokens(spec, pw, out, outsz) < 0) {
		out[0] = '\0';
		return -1;
	}
	if (out[0] == '/')
		return 0;
	/* relative: from the user's home */
	tmp = strdup(out);
	if (tmp == NULL)
		return -1;
	out[0] = '\0';
	rc = (append_str(out, outsz, &pos, pw->pw_dir) < 0 ||
	      append_str(out, outsz, &pos, "/") < 0 ||
	      append_str(out, outsz, &pos, tmp) < 0) ? -1 : 0;
	free(tmp);
	if (rc < 0)
		out[0] = '\0';
	return rc;
}

/* ------------------------------------------------------------------ */
/* authorized_keys options                                             */

void authkey_opts_free(struct authkey_opts *o)
{
	if (o == NULL)
		return;
	free(o->command);
	free(o->from);
	for (int i = 0; i < o->n_environment && i < AUTHKEY_MAX_LIST; i++)
		free(o->environment[i]);
	for (int i = 0; i < o->n_permitopen && i < AUTHKEY_MAX_LIST; i++)
		free(o->permitopen[i]);
	for (int i = 0; i < o->n_permitlisten && i < AUTHKEY_MAX_LIST; i++)
		free(o->permitlisten[i]);
	memset(o, 0, sizeof(*o));
}

/* Per-line state beyond what struct authkey_opts carries. */
struct line_opts {
	struct authkey_opts o;
	int cert_authority;
	int have_principals, have_tunnel;
};


/* Read a quoted value starting at the opening quote *pp; \" is an escaped
 * quote, any other backslash is kept. Returns a malloc'd string. */
static char *read_quoted(const char **pp)
{
	const char *p = *pp + 1;
	char *out = malloc(strlen(p) + 1), *w = out;

	if (out == NULL)
		return NULL;
	for (; *p && *p != '"'; p++) {
		if (p[0] == '\\' && p[1] == '"')
			p++;
		*w++ = *p;
	}
	if (*p != '"') {
		free(out);
		return NULL;
	}
	*w = '\0';
	*pp = p + 1;
	return out;
}

/* "YYYYMMDD[HHMM[SS]]" in local time -> time_t; -1 if malformed. */
static time_t parse_expiry(const char *s)
{
	struct tm tm;
	size_t n = strlen(s);
	int v[7] = { 0 };
	time_t t;

	if (n != 8 && n != 12 && n != 14)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!a_digit((unsigned char)s[i]))
			return -1;
	/* year(4) month day [hour min [sec]] */
	v[0] = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	for (size_t i = 4, k = 1; i < n; i += 2, k++)
		v[k] = (s[i] - '0') * 10 + (s[i + 1] - '0');
	if (v[0] < 1970 || v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 ||
	    v[3] > 23 || v[4] > 59 || v[5] > 60)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = v[0] - 1900;
	tm.tm_mon = v[1] - 1;
	tm.tm_mday = v[2];
	tm.tm_hour = v[3];
	tm.tm_min = v[4];
	tm.tm_sec = v[5];
	tm.tm_isdst = -1;
	t = mktime(&tm);
	/* mktime normalises 20230231 into March: refuse such dates */
	if (t == (time_t)-1 || tm.tm_mday != v[2] || tm.tm_mon != v[1] - 1)
		return -1;
	return t;
}

/* environment="NAME=value": NAME non-empty, [A-Za-z0-9_] only. */
static int valid_environment(const char *v)
{
	const char *eq = strchr(v, '=');

	if (eq == NULL || eq == v)
		return 0;
	for (const char *p = v; p < eq; p++)
		if (!a_alnum((unsigned char)*p) && *p != '_')
			return 0;
	return 1;
}

/* permitopen="host:port": host may be [v6]; port 1-65535 or '*'. */
static int valid_permitopen(const char *v)
{
	const char *colon, *port;
	char *endp;
	long n;

	if (v[0] == '[') {
		const char *rb = strchr(v, ']');
		if (rb == NULL || rb == v + 1 || rb[1] != ':')
			return 0;
		colon = rb + 1;
	} else {
		colon = strrchr(v, ':');
		if (colon == NULL || colon == v || memchr(v, ':', (size_t)(colon - v)))
			return 0;
	}
	port = colon + 1;
	if (strcmp(port, "*") == 0)
		return 1;
	if (!a_digit((unsigned char)port[0]))
		return 0;
	errno = 0;
	n = strtol(port, &endp, 10);
	return errno == 0 && *endp == '\0' && n >= 1 && n <= 65535;
}

/* permitlisten="[host:]port": a port alone, or as permitopen. */
static int valid_permitlisten(const char *v)
{
	if (strchr(v, ':') || v[0] == '[')
		return valid_permitopen(v);
	if (strcmp(v, "*") == 0)
		return 1;
	char buf[300];
	snprintf(buf, sizeof(buf), "x:%s", v);
	return strlen(v) < 10 && valid_permitopen(buf);
}

/* tunnel="n": a device number or "any". */
static int valid_tunnel(const char *v)
{
	if (strcmp(v, "any") == 0)
		return 1;
	if (*v == '\0' || strlen(v) > 9)
		return 0;
	for (; *v; v++)
		if (!a_digit((unsigned char)*v))
			return 0;
	return 1;
}

/* The options without a value: each sets one int of struct line_opts to 1
 * and/or another to 0 (offsets; 0, the offset of o.command, a pointer, for
 * none). restrict also turns everything else off (apply_flag); later
 * re-enables turn single items back on. */
#define LO(field) (unsigned short)offsetof(struct line_opts, field)
static const struct flag_opt {
	const char *name;
	unsigned short set, clear;
} flag_opts[] = {
	{ "no-agent-forwarding", LO(o.no_agent_forwarding), 0 },
	{ "no-port-forwarding", LO(o.no_port_forwarding), LO(o.port_forwarding) },
	{ "no-pty", LO(o.no_pty), LO(o.pty) },
	{ "no-user-rc", LO(o.no_user_rc), 0 },
	{ "no-X11-forwarding", LO(o.no_x11_forwarding), 0 },
	{ "restrict", LO(o.restrict_), 0 },
	{ "pty", LO(o.pty), LO(o.no_pty) },
	{ "port-forwarding", LO(o.port_forwarding), LO(o.no_port_forwarding) },
	{ "agent-forwarding", 0, LO(o.no_agent_forwarding) },
	{ "X11-forwarding", 0, LO(o.no_x11_forwarding) },
	{ "user-rc", 0, LO(o.no_user_rc) },
	{ "cert-authority", LO(cert_authority), 0 },
};

static const struct flag_opt *flag_named(const char *name)
{
	for (size_t i = 0; i < sizeof(flag_opts) / sizeof(flag_opts[0]); i++)
		if (!strcasecmp(name, flag_opts[i].name))
			return &flag_opts[i];
	return NULL;
}

/* Apply a flag option (no value). 0 ok, -1 unknown name. */
static int apply_flag(struct line_opts *lo, const char *name)
{
	const struct flag_opt *f = flag_named(name);
	struct authkey_opts *o = &lo->o;

	if (f == NULL)
		return -1;
	if (f->set == LO(o.restrict_)) {
		o->no_pty = o->no_port_forwarding = o->no_agent_forwarding = 1;
		o->no_x11_forwarding = o->no_user_rc = 1;
		o->pty = o->port_forwarding = 0;
	}
	if (f->set)
		*(int *)((char *)lo + f->set) = 1;
	if (f->clear)
		*(int *)((char *)lo + f->clear) = 0;
	return 0;
}

/* Apply name="value". Takes ownership of value. 0 ok, -1 with err. */
static int apply_value(struct line_opts *lo, const char *name, char *value,
		       char *err, size_t errsz)
{
	struct authkey_opts *o = &lo->o;

	if (!strcasecmp(name, "command")) {
		if (o->command != NULL)
			goto dup;
		o->command = value;
	} else if (!strcasecmp(name, "from")) {
		if (o->from != NULL)
			goto dup;
		if (value[0] == '\0')
			goto bad;
		o->from = value;
	} else if (!strcasecmp(name, "environment")) {
		if (!valid_environment(value))
			goto bad;
		if (o->n_environment >= AUTHKEY_MAX_LIST)
			goto many;
		o->environment[o->n_environment++] = value;
	} else if (!strcasecmp(name, "permitopen")) {
		if (!valid_permitopen(value))
			goto bad;
		if (o->n_permitopen >= AUTHKEY_MAX_LIST)
			goto many;
		o->permitopen[o->n_permitopen++] = value;
	} else if (!strcasecmp(name, "permitlisten")) {
		if (!valid_permitlisten(value))
			goto bad;
		if (o->n_permitlisten >= AUTHKEY_MAX_LIST)
			goto many;
		o->permitlisten[o->n_permitlisten++] = value;
	} else if (!strcasecmp(name, "expiry-time")) {
		time_t t = parse_expiry(value);
		if (o->expiry != 0)
			goto dup;
		if (t == (time_t)-1 || t == 0)
			goto bad;
		o->expiry = t;
		free(value);
	} else if (!strcasecmp(name, "principals")) {
		if (lo->have_principals)
			goto dup;
		if (value[0] == '\0')
			goto bad;
		lo->have_principals = 1;
		free(value);
	} else if (!strcasecmp(name, "tunnel")) {
		if (lo->have_tunnel)
			goto dup;
		if (!valid_tunnel(value))
			goto bad;
		lo->have_tunnel = 1;
		free(value);
	} else {
		free(value);
		err_fmt(err, errsz, "unknown option '%.40s'", name);
		return -1;
	}
	return 0;
dup:
	err_fmt(err, errsz, "option '%s' given twice", name);
	free(value);
	return -1;
bad:
	err_fmt(err, errsz, "bad value for option '%s'", name);
	free(value);
	return -1;
many:
	err_fmt(err, errsz, "too many '%s' options", name);
	free(value);
	return -1;
}

/* Read one option name at *pp (up to '=', ',' or blank). */
static int read_opt_name(const char **pp, char *name, size_t namesz)
{
	const char *p = *pp;
	size_t n = 0;

	while (*p && *p != '=' && *p != ',' && *p != ' ' && *p != '\t') {
		if (n + 1 >= namesz)
			return -1;
		name[n++] = *p++;
	}
	name[n] = '\0';
	*pp = p;
	return n ? 0 : -1;
}

/* Parse the options field at *pp into lo, leaving *pp at the blank after
 * it. 0 ok, -1 with a reason in err. */
static int parse_options(const char **pp, struct line_opts *lo, char *err, size_t errsz)
{
	const char *p = *pp;
	char name[64];

	for (;;) {
		if (read_opt_name(&p, name, sizeof(name)) < 0) {
			err_fmt(err, errsz, "malformed options");
			return -1;
		}
		if (*p == '=') {
			char *value;
			if (p[1] != '"') {
				err_fmt(err, errsz, "option '%s': value must be quoted", name);
				return -1;
			}
			p++;
			value = read_quoted(&p);
			if (value == NULL) {
				err_fmt(err, errsz, "option '%s': missing closing quote", name);
				return -1;
			}
			if (flag_named(name) != NULL) {
				free(value);
				err_fmt(err, errsz, "option '%s' takes no value", name);
				return -1;
			}
			if (apply_value(lo, name, value, err, errsz) < 0)
				return -1;
		} else if (apply_flag(lo, name) < 0) {
			err_fmt(err, errsz, "unknown option or key type '%.40s'", name);
			return -1;
		}
		if (*p == ',') {
			p++;
			continue;
		}
		if (*p == ' ' || *p == '\t')
			break;
		if (*p == '\0') {
			err_fmt(err, errsz, "options but no key");
			return -1;
		}
		err_fmt(err, errsz, "malformed options after '%s'", name);
		return -1;
	}
	*pp = p;
	return 0;
}

/* Does the line start with a key type name (i.e. has no options)? */
static int starts_with_key_type(const char *p)
{
	char tok[64];
	size_t n = strcspn(p, " \t");
	enum key_type t;

	if (n == 0 || n >= sizeof(tok))
		return 0;
	memcpy(tok, p, n);
	tok[n] = '\0';
	return key_type_from_name(tok, &t) == 0;
}

/* ------------------------------------------------------------------ */
/* StrictModes                                                         */

/* Owned by the user or root, not group/world writable. */
static int mode_ok(const struct stat *st, uid_t uid)
{
	return (st->st_uid == 0 || st->st_uid == uid) &&
	       (st->st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

/* The file and each directory up to the user's home (or /) must pass
 * mode_ok. The file's stat comes from the open descriptor. */
static int strict_modes_ok(const char *path, const struct stat *fst,
			   const struct passwd *pw, char *why, size_t whysz)
{
	char real[PATH_MAX], home[PATH_MAX];
	struct stat st;
	int have_home;

	if (!mode_ok(fst, pw->pw_uid)) {
		err_fmt(why, whysz, "bad ownership or modes for file %s", path);
		return -1;
	}
	if (realpath(path, real) == NULL) {
		err_fmt(why, whysz, "realpath %s: %m", path);
		return -1;
	}
	have_home = pw->pw_dir != NULL && realpath(pw->pw_dir, home) != NULL;
	for (;;) {
		char *slash = strrchr(real, '/');

		if (slash == NULL)
			break;
		if (slash == real)
			slash[1] = '\0';   /* reached "/" */
		else
			*slash = '\0';
		if (stat(real, &st) < 0) {
			err_fmt(why, whysz, "stat %s: %m", real);
			return -1;
		}
		if (!S_ISDIR(st.st_mode) || !mode_ok(&st, pw->pw_uid)) {
			err_fmt(why, whysz, "bad ownership or modes for directory %s", real);
			return -1;
		}
		if ((have_home && strcmp(real, home) == 0) || strcmp(real, "/") == 0)
			break;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* authorized_keys search                                              */

/* Open as the user when we are root, so a symlink cannot make us read a
 * file the user could not. */
static FILE *open_as_user(const char *path, const struct passwd *pw)
{
	uid_t euid = geteuid();
	gid_t egid = getegid();
	int switched = 0, fd, saved;
	FILE *f = NULL;

	if (euid == 0 && pw->pw_uid != 0) {
		if (setegid(pw->pw_gid) < 0 || seteuid(pw->pw_uid) < 0) {
			if (setegid(egid) < 0)
				abort();
			return NULL;
		}
		switched = 1;
	}
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	saved = errno;
	if (switched && (seteuid(euid) < 0 || setegid(egid) < 0))
		abort();   /* cannot regain privileges: never carry on */
	if (fd >= 0) {
		f = fdopen(fd, "r");
		if (f == NULL) {
			saved = errno;
			close(fd);
		}
	}
	errno = saved;
	return f;
}

/* Read the next line into buf (without the newline). Returns 1 for a line,
 * 0 at EOF, 2 for a line too long (consumed and dropped). */
static int read_line(FILE *f, char *buf, size_t bufsz)
{
	size_t n;
	int c;

	if (fgets(buf, (int)bufsz, f) == NULL)
		return 0;
	n = strlen(buf);
	if (n > 0 && buf[n - 1] == '\n') {
		buf[--n] = '\0';
		if (n > 0 && buf[n - 1] == '\r')
			buf[--n] = '\0';
		return 1;
	}
	c = fgetc(f);
	if (c == EOF)
		return 1;   /* last line without newline */
	while (c != EOF && c != '\n')
		c = fgetc(f);
	return 2;
}

enum line_result { LINE_SKIP, LINE_BAD, LINE_NOMATCH, LINE_MATCH, LINE_EXPIRED };

/* Parse one line and compare it with key. On LINE_MATCH, lo holds the
 * options (caller owns them); otherwise lo is freed. */
static enum line_result check_line(const char *line, const struct sshkey *key,
				   struct line_opts *lo, char *err, size_t errsz)
{
	const char *p = line;
	struct sshkey *k = NULL;
	enum line_result r;

	memset(lo, 0, sizeof(*lo));
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0' || *p == '#')
		return LINE_SKIP;
	if (!starts_with_key_type(p)) {
		if (parse_options(&p, lo, err, errsz) < 0)
			goto bad;
		while (*p == ' ' || *p == '\t')
			p++;
	}
	if (key_from_public_line(p, &k) != 0 || k == NULL) {
		err_fmt(err, errsz, "unreadable or unsupported public key");
		goto bad;
	}
	if (lo->cert_authority || !key_equal_public(k, key))
		r = LINE_NOMATCH;
	else if (lo->o.expiry != 0 && lo->o.expiry <= time(NULL))
		r = LINE_EXPIRED;
	else
		r = LINE_MATCH;
	key_free(k);
	if (r != LINE_MATCH)
		authkey_opts_free(&lo->o);
	return r;
bad:
	authkey_opts_free(&lo->o);
	return LINE_BAD;
}

/* Open and check the file; NULL with a reason in why. */
static FILE *open_authkeys(const char *path, const struct passwd *pw,
			   int strict_modes, char *why, size_t whysz)
{
	struct stat st;
	FILE *f = open_as_user(path, pw);

	if (f == NULL) {
		err_fmt(why, whysz, "cannot open %s: %m", path);
		return NULL;
	}
	if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode)) {
		err_fmt(why, whysz, "%s is not a regular file", path);
		fclose(f);
		return NULL;
	}
	if (strict_modes && strict_modes_ok(path, &st, pw, why, whysz) < 0) {
		fclose(f);
		return NULL;
	}
	return f;
}

/* noinline: LTO put it into auth_priv_pubkey, which grew more than its size */
__attribute__((noinline))
int authkeys_find(const char *path, const struct passwd *pw, int strict_modes,
		  const struct sshkey *key, struct authkey_opts *opts,
		  char *why, size_t whysz)
{
	char *line, err[160], dummy[1];
	struct line_opts lo;
	FILE *f;
	int lineno = 0, rc = 0, st;

	if (why != NULL && whysz > 0)
		why[0] = '\0';
	else
		why = dummy, whysz = 0;   /* set_err with size 0 writes nothing */
	if (opts != NULL)
		memset(opts, 0, sizeof(*opts));
	if (path == NULL || pw == NULL || key == NULL || opts == NULL)
		return -1;
	f = open_authkeys(path, pw, strict_modes, why, whysz);
	if (f == NULL)
		return -1;
	line = malloc(AUTHKEYS_MAX_LINE + 2);
	if (line == NULL) {
		fclose(f);
		err_fmt(why, whysz, "out of memory");
		return -1;
	}
	while (rc == 0 && (st = read_line(f, line, AUTHKEYS_MAX_LINE + 2)) != 0) {
		lineno++;
		if (st == 2) {
			if (whysz && why[0] == '\0')
				err_fmt(why, whysz, "%s:%d: line too long, skipped", path, lineno);
			continue;
		}
		switch (check_line(line, key, &lo, err, sizeof(err))) {
		case LINE_BAD:
			if (whysz && why[0] == '\0')
				err_fmt(why, whysz, "%s:%d: %s, line skipped", path, lineno, err);
			break;
		case LINE_EXPIRED:
			/* more useful than any earlier parse complaint */
			err_fmt(why, whysz, "%s:%d: key expired", path, lineno);
			break;
		case LINE_MATCH:
			*opts = lo.o;
			rc = 1;
			break;
		default:
			break;
		}
	}
	free(line);
	fclose(f);
	return rc;
}
