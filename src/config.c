/* config: sshd_config(5) syntax and keywords plus wombat's own options.
 *
 * Every keyword is one row of a table (name, how to parse it, where it is
 * stored, how -T prints it); copy, free, compare and dump walk that table.
 * As in OpenSSH the first value obtained for a single-valued option wins;
 * list options accumulate. Match blocks are validated when the file is read
 * and their lines kept; config_match() re-parses the matching ones over the
 * global values. */
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <syslog.h>

#include "cipher.h"
#include "ascii.h"
#include "config.h"
#include "build_opts.h"
#include "log.h"
#include "match.h"
#include "penalty.h"

/* OpenSSH 10's order: the post-quantum hybrids first. A build configured
 * with --disable-pq (WOMBAT_NO_PQ) leaves them out: they are then only
 * "known" names, warned about and skipped like OpenSSH's others. */
#define KEX_PQ "mlkem768x25519-sha256," \
	"sntrup761x25519-sha512,sntrup761x25519-sha512@openssh.com"
#ifdef WOMBAT_NO_PQ
#define KEX_PQ_SUPPORTED ""
#define KEX_PQ_KNOWN "," KEX_PQ
#else
#define KEX_PQ_SUPPORTED KEX_PQ ","
#define KEX_PQ_KNOWN ""
#endif
/* --disable-nist, --disable-dh, --disable-rsa (build_opts.h) move their
 * names from the supported lists to the known ones in the same way. */
#define KEX_SUPPORTED KEX_PQ_SUPPORTED \
	"curve25519-sha256,curve25519-sha256@libssh.org" KEX_NIST_BUILT KEX_DH_BUILT
#define KEYALGS_SUPPORTED KEYALGS_BUILT
/* Names OpenSSH knows that wombat does not implement (for a given list): a
 * configuration naming them is accepted with a warning, as long as something
 * usable remains. A name wombat supports is never looked up here. */
#define KEX_KNOWN "diffie-hellman-group1-sha1,diffie-hellman-group14-sha1," \
	"diffie-hellman-group-exchange-sha1" KEX_PQ_KNOWN KEX_NIST_LEFT_OUT KEX_DH_LEFT_OUT
#define CIPHERS_KNOWN "3des-cbc,aes128-cbc,aes192-cbc,aes256-cbc," \
	"rijndael-cbc@lysator.liu.se,blowfish-cbc,cast128-cbc,arcfour,arcfour128,arcfour256" \
	CIPHERS_AES_LEFT_OUT
#define MACS_KNOWN "hmac-md5,hmac-md5-96,hmac-sha1-96,hmac-ripemd160," \
	"hmac-ripemd160@openssh.com,umac-64@openssh.com,umac-128@openssh.com," \
	"hmac-md5-etm@openssh.com,hmac-md5-96-etm@openssh.com,hmac-sha1-96-etm@openssh.com," \
	"hmac-ripemd160-etm@openssh.com,umac-64-etm@openssh.com,umac-128-etm@openssh.com"
#define KEYALGS_KNOWN "ssh-rsa,ssh-dss,sk-ssh-ed25519@openssh.com," \
	"sk-ecdsa-sha2-nistp256@openssh.com,webauthn-sk-ecdsa-sha2-nistp256@openssh.com," \
	"ssh-ed25519-cert-v01@openssh.com,ecdsa-sha2-nistp256-cert-v01@openssh.com," \
	"ecdsa-sha2-nistp384-cert-v01@openssh.com,ecdsa-sha2-nistp521-cert-v01@openssh.com," \
	"rsa-sha2-512-cert-v01@openssh.com,rsa-sha2-256-cert-v01@openssh.com," \
	"ssh-rsa-cert-v01@openssh.com,ssh-dss-cert-v01@openssh.com," \
	"sk-ssh-ed25519-cert-v01@openssh.com,sk-ecdsa-sha2-nistp256-cert-v01@openssh.com" \
	KEYALGS_LEFT_OUT
#define DEFAULT_PID_FILE "/run/wombatd.pid"
#define DEFAULT_MODULI_FILE "/etc/ssh/moduli"

#define MAX_INCLUDE_DEPTH 16
#define MAX_WORDS 256
#define MAX_LINE 65536
#define MAX_CRITERIA 8
#define MAX_ALGS 64

/* One line of a Match block, kept verbatim with where it came from. */
struct cfg_line {
	char *file;
	int line;
	char *text;
};

struct cfg_match {
	char *file;
	int line;
	int all;                          /* "Match all" */
	int n_crit;
	char *crit_kw[MAX_CRITERIA];      /* lowercase criterion name (match_criterion) */
	char *crit_val[MAX_CRITERIA];     /* pattern lists */
	struct cfg_line *lines;
	int n_lines;
};

enum pmode {
	PM_LOAD,      /* reading files: first value wins */
	PM_CMDLINE,   /* -o: overrides the file's value */
	PM_MATCH,     /* config_match: matching blocks over the global values */
	PM_CHECK,     /* validating a Match line into a scratch config */
};

struct pctx {
	struct config *c;                 /* where values go */
	struct config *scratch;           /* Match lines are validated here */
	const char *file;                 /* NULL for the command line */
	int line;
	const char *opt;                  /* option name for messages */
	enum pmode mode;
	int depth;                        /* Include nesting */
	char *err;
	size_t errsz;
};

/* The names of one algorithm keyword: its default list, names supported
 * but only on request (not in the default), and names known but not
 * implemented. */
struct alg_names {
	const char *dflt, *optin, *known;
};

struct keyword;
typedef int (*parse_fn)(struct pctx *p, const struct keyword *k, char **av, int ac);
typedef void (*dump_fn)(const struct config *c, const struct keyword *k, FILE *out);
/* NULL when arg is good (*out: a converted copy, or left NULL for arg as
 * written), else why not, the start of the message about it */
typedef const char *(*conv_fn)(const char *arg, char **out);

enum storage { ST_NONE, ST_INT, ST_STR, ST_LIST, ST_PORTS };

/* keyword flags */
#define KW_MATCH   0x01   /* allowed inside Match */
#define KW_ALIAS   0x02   /* another name for the keyword in `word` */
#define KW_WARNYES 0x04   /* "yes" accepted but unsupported: log it */
#define KW_REJECT  0x08   /* ignored keyword: a non-harmless value is an error */
#define KW_INCLUDE 0x10
#define KW_MATCHKW 0x20
#define KW_SIGNAL  0x40   /* enum of signal names, "SIG" prefix optional */
#define KW_NONE    0x80   /* time value: "none" means 0 */
#define KW_ONE     0x100  /* list option taking one value per line */
#define KW_FROM1   0x200  /* integer: 1 to INT_MAX (else 0 to INT_MAX) */

struct name_val {
	const char *name;
	int val;
};

/* One keyword in 16 bytes (it was 112 with a pointer per property, then
 * 24): the parse/dump pair, the enum names, the list element check and the
 * algorithm set are small indexes into tables next to the keyword table
 * (kw_parse(), kw_dump(), kw_names(), kw_conv(), kw_algs()); the bounds of
 * an integer are 0 or 1 (KW_FROM1) to INT_MAX, ChannelWindowSize's (the one
 * K_BYTES keyword) CFG_CHANNEL_WINDOW_MIN to _MAX. */
struct keyword {
	const char *name;
	uint16_t off, count_off;          /* in struct config */
	unsigned flags : 10;              /* KW_* */
	unsigned st : 3;                  /* enum storage */
	unsigned word : 3;                /* enum kw_word, kw_word(): line lists:
	                                   * the word meaning empty; ignored:
	                                   * harmless values ("a|b", "*" any);
	                                   * alias target */
	uint8_t kind;                     /* enum kw_kind: parse and dump */
	uint8_t aux;                      /* by kind: enum names, conv or algs */
};
_Static_assert(sizeof(struct keyword) <= 16, "struct keyword grew");

/* The keywords' words, by index (3 bits in the entry, not a pointer). */
enum kw_word { W_, W_none, W_any, W_no, W_yes, W_star, W_kbdint, W_pubkeyalgs };
static const char *const kw_words[] = {
	[W_] = "", [W_none] = "none", [W_any] = "any", [W_no] = "no", [W_yes] = "yes",
	[W_star] = "*", [W_kbdint] = "KbdInteractiveAuthentication",
	[W_pubkeyalgs] = "PubkeyAcceptedAlgorithms",
};
static const char *kw_word(const struct keyword *k) { return kw_words[k->word]; }

static parse_fn kw_parse(const struct keyword *k);
static dump_fn kw_dump(const struct keyword *k);   /* NULL: not printed by -T */
static const struct name_val *kw_names(const struct keyword *k);
static conv_fn kw_conv(const struct keyword *k);   /* NULL: taken as written */
static const struct alg_names *kw_algs(const struct keyword *k);

/* ------------------------------------------------------------ small helpers */

/* Out of memory while configuring: nothing sensible can go on. */
static char *xstrdup(const char *s)
{
	char *r = strdup(s);
	if (!r)
		abort();
	return r;
}

static void *xrealloc(void *p, size_t n)
{
	void *r = realloc(p, n ? n : 1);
	if (!r)
		abort();
	return r;
}

/* Where a line came from, for messages: "FILE:LINE" or "command line",
 * printed by WHERE_FMT from WHERE_ARGS(p) with no buffer (a line number
 * is at least 1, and "%.0d" prints 0 as nothing). */
#define WHERE_FMT "%s%s%.0d"
#define WHERE_ARGS(p) (p)->file ? (p)->file : "command line", (p)->file ? ":" : "", \
	(p)->file ? (p)->line : 0

static int perr(struct pctx *p, const char *opt, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int perr(struct pctx *p, const char *opt, const char *fmt, ...)
{
	char reason[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof reason, fmt, ap);
	va_end(ap);
	if (p->err && p->errsz)
		snprintf(p->err, p->errsz, WHERE_FMT ": %s: %s", WHERE_ARGS(p), opt, reason);
	return -1;
}

/* A recognised value wombat does not act on: say so when the config is read. */
static void pwarn(struct pctx *p, const char *value)
{
	if (p->mode != PM_MATCH)
		logit(WHERE_FMT ": %s: '%s' is not supported by wombat, ignored",
		      WHERE_ARGS(p), p->opt, value);
}

/* (every keyword has at least one argument: handle_words checks that) */
static int one_arg(struct pctx *p, int ac)
{
	if (ac > 1)
		return perr(p, p->opt, "too many arguments");
	return 0;
}

static char *join_words(char **av, int ac)
{
	size_t n = 1;
	for (int i = 0; i < ac; i++)
		n += strlen(av[i]) + 1;
	char *s = xrealloc(NULL, n), *o = s;
	for (int i = 0; i < ac; i++) {
		if (i)
			*o++ = ' ';
		size_t l = strlen(av[i]);
		memcpy(o, av[i], l);
		o += l;
	}
	*o = 0;
	return s;
}

/* parse_long's answer for a string that is not a number in range (no
 * range here starts that low) */
#define NOT_IN_RANGE LONG_MIN

/* Decimal integer in [min, max], whole string; else NOT_IN_RANGE. */
static long parse_long(const char *s, long min, long max)
{
	char *end;
	if (!a_digit((unsigned char)s[0]) && !(s[0] == '-' && a_digit((unsigned char)s[1])))
		return NOT_IN_RANGE;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return NOT_IN_RANGE;
	return v;
}

/* sshd_config(5) TIME FORMATS: a sequence of NUMBER[smhdw], e.g. "1h30m":
 * the seconds (0 to INT_MAX), or -1. */
static int parse_time(const char *s)
{
	long long total = 0;
	if (!*s)
		return -1;
	while (*s) {
		if (!a_digit((unsigned char)*s))
			return -1;
		long long v = 0;
		while (a_digit((unsigned char)*s)) {
			v = v * 10 + (*s++ - '0');
			if (v > INT_MAX)
				return -1;
		}
		long long mul = 1;
		switch (a_lower((unsigned char)*s)) {
		case 0: break;
		case 's': mul = 1; s++; break;
		case 'm': mul = 60; s++; break;
		case 'h': mul = 3600; s++; break;
		case 'd': mul = 86400; s++; break;
		case 'w': mul = 604800; s++; break;
		default: return -1;
		}
		total += v * mul;
		if (total > INT_MAX)
			return -1;
	}
	return (int)total;
}

/* RekeyLimit size: NUMBER with an optional K, M, G or T suffix. */
static int parse_size(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	if (!a_digit((unsigned char)*s))
		return -1;
	while (a_digit((unsigned char)*s)) {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s++ - '0');
	}
	int shift = 0;
	/* upper case by clearing bit 5: only k/K, m/M, g/G, t/T land on
	 * the letters below; NUL and ' ' land on 0, and *s then refuses ' ' */
	switch (*s & ~0x20) {
	case 0: break;
	case 'K': shift = 10; s++; break;
	case 'M': shift = 20; s++; break;
	case 'G': shift = 30; s++; break;
	case 'T': shift = 40; s++; break;
	default: return -1;
	}
	if (*s || (shift && v > (UINT64_MAX >> shift)))
		return -1;
	*out = v << shift;
	return 0;
}

static int parse_port(const char *s)
{
	long v = parse_long(s, 1, 65535);
	return v == NOT_IN_RANGE ? -1 : (int)v;
}

/* s into buf of bufsz bytes; -1 (buf untouched) if it does not fit. */
static int copy_in(char *buf, size_t bufsz, const char *s)
{
	size_t l = strlen(s) + 1;
	if (l > bufsz)
		return -1;
	memcpy(buf, s, l);
	return 0;
}

/* hostport_port's answer for a malformed address */
static const char hostport_bad[] = "";

/* The port of "host", "host:port", "[host]:port", "[host]" or a bare IPv6
 * address, all under 512 bytes: a pointer into arg, NULL when there is
 * none, hostport_bad when the address is malformed or its host empty. */
static const char *hostport_port(const char *arg)
{
	const char *port = NULL, *host_end;
	if (strlen(arg) >= 512)
		return hostport_bad;
	if (arg[0] == '[') {
		host_end = strchr(arg, ']');
		if (!host_end)
			return hostport_bad;
		if (host_end[1] == ':')
			port = host_end + 2;
		else if (host_end[1])
			return hostport_bad;
		arg++;
	} else {
		host_end = strchr(arg, ':');
		if (host_end && !strchr(host_end + 1, ':'))
			port = host_end + 1;
		else
			host_end = arg + strlen(arg);
	}
	return host_end > arg ? port : hostport_bad;
}

/* ---------------------------------------------------------------- tokenizer */

static void free_words(char **av, int n)
{
	for (int i = 0; i < n; i++)
		free(av[i]);
}

/* Split a line into words: the keyword (ended by a blank or '='), then
 * blank-separated arguments. Double quotes group, with \" and \\ escapes
 * inside; an unquoted '#' starting a word begins a comment. Returns the
 * word count (0 for a blank or comment line) or -1 with *why set. */
static int split_line(const char *q, char **av, int max, const char **why)
{
	int n = 0;
	for (;;) {
		while (a_space((unsigned char)*q))
			q++;
		if (!*q || *q == '#')
			return n;
		if (n == max) {
			*why = "too many arguments";
			goto fail;
		}
		char *w = xrealloc(NULL, strlen(q) + 1), *o = w;
		int quoted = 0;
		while (*q) {
			if (quoted) {
				if (*q == '\\' && (q[1] == '"' || q[1] == '\\')) {
					*o++ = q[1];
					q += 2;
				} else if (*q == '"') {
					quoted = 0;
					q++;
				} else {
					*o++ = *q++;
				}
				continue;
			}
			if (a_space((unsigned char)*q) || (n == 0 && *q == '='))
				break;
			if (*q == '"') {
				quoted = 1;
				q++;
			} else {
				*o++ = *q++;
			}
		}
		*o = 0;
		av[n++] = w;
		if (quoted) {
			*why = "unterminated quote";
			goto fail;
		}
		if (n == 1) {          /* "Keyword = value" / "Keyword=value" */
			while (a_space((unsigned char)*q))
				q++;
			if (*q == '=')
				q++;
		}
	}
fail:
	free_words(av, n);
	return -1;
}

/* The keyword of a line that did not split, for the error message. */
static void first_word(const char *s, char *out, size_t outsz)
{
	while (a_space((unsigned char)*s))
		s++;
	size_t n = strcspn(s, " \t\r\n=");
	snprintf(out, outsz, "%.*s", (int)n, s);
}

/* ------------------------------------------------------- field access */

#define FIELD(c, k, type) ((type *)(void *)((char *)(c) + (k)->off))
#define CFIELD(c, k, type) ((type const *)(const void *)((const char *)(c) + (k)->off))
#define COUNT(c, k) ((int *)(void *)((char *)(c) + (k)->count_off))
#define CCOUNT(c, k) ((const int *)(const void *)((const char *)(c) + (k)->count_off))

static const struct keyword *kw_table(void);
static int kw_index(const struct keyword *k)
{
	return (int)(k - kw_table());
}

/* seen[] levels: set by a file (or Match block), or from the command line */
#define SEEN_FILE 1
#define SEEN_CMDLINE 2

/* Should a single-valued option be written? First value wins, except that
 * the command line overrides whatever a file said. Marks the keyword set. */
static int take(struct pctx *p, const struct keyword *k)
{
	unsigned char *seen = &p->c->seen[kw_index(k)];
	if (p->mode == PM_CMDLINE) {
		*seen = SEEN_CMDLINE;
		return 1;
	}
	if (*seen)
		return 0;
	*seen = SEEN_FILE;
	return 1;
}

static void list_clear(char **v, int *n)
{
	for (int i = 0; i < *n; i++) {
		free(v[i]);
		v[i] = NULL;
	}
	*n = 0;
}

static void acc_clear(struct config *c, const struct keyword *k)
{
	if (k->st == ST_PORTS)
		*COUNT(c, k) = 0;
	else
		list_clear(FIELD(c, k, char *), COUNT(c, k));
}

/* Accumulating lists: the first value of a pass replaces the default (or,
 * inside Match, the global value); later ones append. A list given on the
 * command line replaces the file's entirely. Returns 1 if values are to be
 * appended, 0 if this line is to be ignored (after validation). */
static int acc_begin(struct pctx *p, const struct keyword *k)
{
	unsigned char *seen = &p->c->seen[kw_index(k)];
	if (p->mode == PM_CMDLINE) {
		if (*seen != SEEN_CMDLINE)
			acc_clear(p->c, k);
		*seen = SEEN_CMDLINE;
		return 1;
	}
	if (*seen == SEEN_CMDLINE)
		return 0;
	if (!*seen)
		acc_clear(p->c, k);
	*seen = SEEN_FILE;
	return 1;
}

static int list_add(struct pctx *p, char **v, int *n, char *s)
{
	if (*n >= CFG_MAX_LIST) {
		free(s);
		return perr(p, p->opt, "too many values (at most %d)", CFG_MAX_LIST);
	}
	v[(*n)++] = s;
	return 0;
}

/* ------------------------------------------------------------ value parsers */

static int lookup_name(const struct name_val *t, const char *s, int *out)
{
	for (; t->name; t++) {
		if (strcasecmp(t->name, s) == 0) {
			*out = t->val;
			return 0;
		}
	}
	return -1;
}

static __attribute__((noinline)) const char *name_of(const struct name_val *t, int v)
{
	for (; t->name; t++)
		if (t->val == v)
			return t->name;
	return "?";
}

static int p_flag(struct pctx *p, const struct keyword *k, char **av, int ac)
{
	int v;
	if (one_arg(p, ac) < 0)
		return -1;
	if (strcasecmp(av[0], "yes") == 0)
		v = 1;
	else if (strcasecmp(av[0], "no") == 0)
		v = 0;
	else
		return perr(p, p->opt, "bad value '%s' (expected yes or no)", av[0]);
	if (v && (k->flags & KW_WARNYES))
		pwarn(p, av[0]);
	if (take(p, k))
		*FIELD(p->c, k, int) = v;
	return 0;
}

static int p_int(struct pctx *p, const struct keyword *k, char **av, int ac)
{
	if (one_arg(p, ac) < 0)
		return -1;
	int min = (k->flags & KW_FROM1) ? 1 : 0;
	long v = parse_long(av[0], min, INT_MAX);
	if (v == NOT_IN_RANGE)
		return perr(p, p->opt, "bad number '%s' (expected %d to %d)", av[0],
			    min, INT_MAX);
	if (take(p, k))
		*FIELD(p->c, k, int) = (int)v;
	return 0;
}

/* A file mode mask in octal (StreamLocalBindMask). */
static int p_octal(struct pctx *p, const struct keyword *k, char **av, int ac)
{
	char *end;
	if (one_arg(p, ac) < 0)
		return -1;
	errno = 0;
	long v = strtol(av[0], &end, 8);
	if (!*av[0] || *end || errno || v < 0 || v > 0777)
		return perr(p, p->opt, "bad mode mask '%s' (expected octal 0 to 0777)", av[0]);
	if (take(p, k))
		*FIELD(p->c, k, int) = (int)v;
	return 0;
}

/* A byte count with an optional K or M suffix, within the keyword's
 * bounds: min in KiB (the table's min is 8 bits), max in bytes
 * (ChannelWindowSize). */
static int p_bytes(struct pctx *p, const struct keyword *k, char **av, int ac)
{
	uint64_t v;
	if (one_arg(p, ac) < 0)
		return -1;
	if (parse_size(av[0], &v) < 0)
		return perr(p, p->opt, "bad size '%s' (expected bytes, or a number with a "
			    "K or M suffix)", av[0]);
	if (v < CFG_CHANNEL_WINDOW_MIN || v > CFG_CHANNEL_WINDOW_MAX)
		return perr(p, p->opt, "size '%s' out of range (%dK to %dM)", av[0],
			    (int)(CFG_CHANNEL_WINDOW_MIN >> 10), (int)(CFG_CHANNEL_WINDOW_MAX >> 20));
	if (take(p, k))
		*FIELD(p->c, k, int) = (int)v;
	return 0;
}

static int p_time(struct pctx *p, const struct keyword *k, char **av, int ac)
{
	int v;
	if (one_arg(p, ac) < 0)
		return -1;
	if ((k->flags & KW_NONE) && strcasecmp(av[0], "none") == 0)
		v = 0;
	else if ((v = parse_time(av[0])) < 0)
		return perr(p, p->opt, "bad time value '%s'", av[0]);
	if (take(p, k))
		*FIELD(p->c, k, int) = v;
	return 0;
}

static int p_enum(struct pctx *p, const struct keyword *k, char **av, int ac)
{
	int v;
	if (one_arg(p, ac) < 0)
		return -1;
	const char *s = av[0];
	if ((k->flags & KW_SIGNAL) && strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	if (lookup_name(kw_names(k), s, &v) < 0) {
		char allowed[256] = "";
		for (const struct name_val *t = kw_names(k); t->name; t++) {
			size_t l = strlen(allowed);
			snprintf(allowed + l, sizeof allowed - l, "%s%s", l ? " " : "", t->name);
		}
		return perr(p, p->opt, "bad value '%s' (expected one of: %s)", av[0], allowed);
	}
	if (take(p, k))
		*FIELD(p->c, k, int) = v;
	return 0;
}

/* An enum option whose every value but "no" needs a part the build left
 * out (option names it): warned about, stored as "no". */
static int p_enum_needs(struct pctx *p, const struct keyword *k, char **av, int ac,
			int built, const char *option)
{
	if (p_enum(p, k, av, ac) < 0)
		return -1;
	if (built)
		return 0;
	if (strcasecmp(av[0], "no") != 0 && p->mode != PM_MATCH)
		logit(WHERE_FMT ": %s: '%s': this wombatd is built with %s, taken as 'no'",
		      WHERE_ARGS(p), p->opt, av[0], option);
	*FIELD(p->c, k, int) = 0;
	return 0;
}

/* Compression without zlib: zlib@openssh.com is never offered. */
static int p_compression(struct pctx *p, const struct keyword *k, char **av, int ac)
{
	return p_enum_needs(p, k, av, ac, HAVE_ZLIB, "--disable-zlib");
}

/* Allow*Forwarding without forwarding: every request is refused. */
static int p_forwarding(struct pctx *p, const struct keyword *k, char **av, int ac)
{
	return p_enum_needs(p, k, av, ac, HAVE_FORWARDING, "--disable-forwarding");
}

/* Store a newly allocated string option if this keyword takes the value
 * (first value wins); otherwise the value is dropped. */
static int store_string(struct pctx *p, const struct keyword *k, char *v)
{
	if (take(p, k)) {
		char **f = FIELD(p->c, k, char *);
		free(*f);
		*f = v;
	} else {
		free(v);
	}
	return 0;
}

static int convert(struct pctx *p, const struct keyword *k, const char *arg, char **out);

/* A path (or other single string); "none" means unset. */
static int p_path(struct pctx *p, const struct keyword *k, char **av, int ac)
{
	char *v = NULL;
	if (one_arg(p, ac) < 0)
		return -1;
	if (strcasecmp(av[0], "none") != 0 && convert(p, k, av[0], &v) < 0)
		return -1;
	return store_string(p, k, v);
}

/* ForceCommand: the rest of the line is the command; "none" unsets. */
static int p_command(struct pctx *p, const struct keyword *k, char **av, int ac)
{
	char *v = (ac == 1 && strcasecmp(av[0], "none") == 0) ? NULL : join_words(av, ac);
	return store_string(p, k, v);
}

static int convert(struct pctx *p, const struct keyword *k, const char *arg, char **out)
{
	const char *why = NULL;
	*out = NULL;
	if (!*arg)
		return perr(p, p->opt, "empty value");
	if (kw_conv(k) && (why = kw_conv(k)(arg, out)) != NULL)
		return perr(p, p->opt, "%s '%s'", why, arg);
	if (!*out)
		*out = xstrdup(arg);
	return 0;
}

/* Accumulating string list (HostKey, AllowUsers, AcceptEnv, ...). */
static int p_acc(struct pctx *p, const struct keyword *k, char **av, int ac)
{
	char *vals[MAX_WORDS];
	int n = 0;
	if ((k->flags & KW_ONE) && ac > 1)
		return perr(p, p->opt, "too many arguments");
	for (; n < ac; n++) {
		if (convert(p, k, av[n], &vals[n]) < 0) {
			free_words(vals, n);
			return -1;
		}
	}
	if (!acc_begin(p, k)) {
		free_words(vals, n);
		return 0;
	}
	for (int i = 0; i < n; i++) {
		if (list_add(p, FIELD(p->c, k, char *), COUNT(p->c, k), vals[i]) < 0) {
			free_words(vals + i + 1, n - i - 1);
			return -1;
		}
	}
	return 0;
}

/* A list given whole on one line, first line wins (AuthorizedKeysFile,
 * PermitOpen, ...). k->word alone means the empty list. */
static int p_line(struct pctx *p, const struct keyword *k, char **av, int ac)
{
	char *vals[CFG_MAX_LIST];
	int n = 0;
	if (ac > CFG_MAX_LIST)
		return perr(p, p->opt, "too many values (at most %d)", CFG_MAX_LIST);
	for (int i = 0; i < ac; i++) {
		int special = strcasecmp(av[i], kw_word(k)) == 0 || strcasecmp(av[i], "none") == 0;
		if (special && ac > 1)
			return perr(p, p->opt, "'%s' must stand alone", av[i]);
	}
	if (!(ac == 1 && strcasecmp(av[0], kw_word(k)) == 0)) {
		for (int i = 0; i < ac; i++) {
			if (convert(p, k, av[i], &vals[n]) < 0) {
				free_words(vals, n);
				return -1;
			}
			n++;
		}
	}
	if (take(p, k)) {
		char **f = FIELD(p->c, k, char *);
		int *cnt = COUNT(p->c, k);
		list_clear(f, cnt);
		for (int i = 0; i < n; i++)
			f[i] = vals[i];
		*cnt = n;
	} else {
		free_words(vals, n);
	}
	return 0;
}

static int p_ports(struct pctx *p, const struct keyword *k, char **av, int ac)
{
	if (one_arg(p, ac) < 0)
		return -1;
	int port = parse_port(av[0]);
	if (port < 0)
		return perr(p, p->opt, "bad port number '%s'", av[0]);
	if (!acc_begin(p, k))
		return 0;
	int *n = COUNT(p->c, k);
	if (*n >= CFG_MAX_LIST)
		return perr(p, p->opt, "too many values (at most %d)", CFG_MAX_LIST);
	FIELD(p->c, k, int)[(*n)++] = port;
	return 0;
}

/* Split a comma list into words (pointers into buf). -1 on an empty entry. */
static int split_commas(char *buf, char **out, int max)
{
	int n = 0;
	char *s = buf;
	for (;;) {
		char *comma = strchr(s, ',');
		if (comma)
			*comma = 0;
		if (!*s || n == max)
			return -1;
		out[n++] = s;
		if (!comma)
			return n;
		s = comma + 1;
	}
}

/* Does any comma-separated name in list match the pattern? */
static int any_name_matches(const char *list, const char *pattern)
{
	char buf[1024], *names[MAX_ALGS];
	if (copy_in(buf, sizeof buf, list) < 0)
		return 0;
	int n = buf[0] ? split_commas(buf, names, MAX_ALGS) : 0;
	for (int i = 0; i < n; i++)
		if (match_pattern(names[i], pattern))
			return 1;
	return 0;
}

/* Append word to a comma list held in out (bounded; cut short if full). */
static void list_append(char *out, size_t outsz, const char *word)
{
	size_t used = strlen(out);
	snprintf(out + used, outsz - used, "%s%s", used ? "," : "", word);
}

/* Resolve an algorithm list: a plain list, or OpenSSH's "+list" (append to
 * the default), "-list" (remove from it) and "^list" (move to the front).
 * Entries may be wildcard patterns. An entry matching nothing wombat
 * supports is an error unless it names an algorithm wombat knows but does
 * not implement: those are dropped and listed in `ignored` for a warning.
 * Returns a malloc'd comma list, or NULL with *why and bad (the offending
 * entry) set; a list with nothing usable left is an error. */
static char *algs_resolve(const char *val, const struct alg_names *a, const char **why,
			  char *bad, size_t badsz, char *ignored, size_t ignsz)
{
	char supbuf[1024], valbuf[1024];
	char *sup[MAX_ALGS], *want[MAX_ALGS];
	int use[MAX_ALGS] = { 0 };
	int order[MAX_ALGS], n_order = 0;
	char mode = (val[0] == '+' || val[0] == '-' || val[0] == '^') ? val[0] : 0;
	const char *list = mode ? val + 1 : val;

	str_copy(bad, badsz, val);
	ignored[0] = 0;
	*why = "bad algorithm list";
	if ((size_t)snprintf(supbuf, sizeof supbuf, "%s%s%s", a->dflt, a->optin[0] ? "," : "",
			     a->optin) >= sizeof supbuf ||
	    copy_in(valbuf, sizeof valbuf, list) < 0)
		return NULL;
	int n_sup = split_commas(supbuf, sup, MAX_ALGS);
	int n_want = split_commas(valbuf, want, MAX_ALGS);
	if (n_sup < 0 || n_want < 0)
		return NULL;
	int n_dflt = 1;         /* sup[0..n_dflt) is the default, the rest opt-in */
	for (const char *c = a->dflt; *c; c++)
		n_dflt += *c == ',';
	for (int w = 0; w < n_want; w++) {
		int hit = 0;
		for (int s = 0; s < n_sup; s++) {
			if (!match_pattern(sup[s], want[w]))
				continue;
			hit = 1;
			if (!use[s] && mode != '-' && mode != '+')
				order[n_order++] = s;
			use[s] = 1;
		}
		if (hit)
			continue;
		if (!any_name_matches(a->known, want[w])) {
			*why = "unsupported algorithm";
			str_copy(bad, badsz, want[w]);
			return NULL;
		}
		if (mode != '-')
			list_append(ignored, ignsz, want[w]);
	}
	if (mode == '+') {
		/* the default, then the opt-in names asked for */
		for (int s = 0; s < n_sup; s++)
			if (s < n_dflt || use[s])
				order[n_order++] = s;
	} else if (mode == '-' || mode == '^') {
		for (int s = 0; s < n_dflt; s++)
			if (!use[s])
				order[n_order++] = s;
	}
	if (n_order == 0) {
		*why = ignored[0] ? "no algorithm wombat implements in" : "no algorithms left in";
		str_copy(bad, badsz, val);
		return NULL;
	}
	char *out = xrealloc(NULL, strlen(a->dflt) + strlen(a->optin) + 2), *o = out;
	for (int i = 0; i < n_order; i++) {
		size_t l = strlen(sup[order[i]]);
		if (i)
			*o++ = ',';
		memcpy(o, sup[order[i]], l);
		o += l;
	}
	*o = 0;
	return out;
}

static int p_algs(struct pctx *p, const struct keyword *k, char **av, int ac)
{
	char bad[256], ignored[1024];
	const char *why;
	if (one_arg(p, ac) < 0)
		return -1;
	char *v = algs_resolve(av[0], kw_algs(k), &why, bad, sizeof bad, ignored, sizeof ignored);
	if (!v)
		return perr(p, p->opt, "%s '%s'", why, bad);
	if (ignored[0])
		pwarn(p, ignored);
	return store_string(p, k, v);
}

/* Keywords wombat recognises but does not implement. A harmless value (one
 * of k->word, "*" for any) is accepted silently; others are logged, or an
 * error for KW_REJECT keywords, where ignoring them would weaken security. */
static int p_ignored(struct pctx *p, const struct keyword *k, char **av, int ac)
{
	(void)ac;              /* at least one: handle_words */
	if (k->word == W_star)
		return 0;
	const char *w = kw_word(k);
	while (*w) {
		size_t l = strcspn(w, "|");
		if (strlen(av[0]) == l && strncasecmp(av[0], w, l) == 0)
			return 0;
		w += l;
		if (*w == '|')
			w++;
	}
	if (k->flags & KW_REJECT)
		return perr(p, p->opt, "'%s' is not supported by wombat", av[0]);
	pwarn(p, av[0]);
	return 0;
}

static int p_subsystem(struct pctx *p, const struct keyword *k, char **av, int ac)
{
	struct config *c = p->c;
	if (ac < 2)
		return perr(p, p->opt, "missing command");
	if (!acc_begin(p, k))
		return 0;
	for (int i = 0; i < c->n_subsystems; i++)
		if (strcmp(c->subsystem_names[i], av[0]) == 0)
			return perr(p, p->opt, "subsystem '%s' already defined", av[0]);
	if (c->n_subsystems >= CFG_MAX_LIST)
		return perr(p, p->opt, "too many values (at most %d)", CFG_MAX_LIST);
	c->subsystem_names[c->n_subsystems] = xstrdup(av[0]);
	c->subsystem_cmds[c->n_subsystems] = join_words(av + 1, ac - 1);
	c->n_subsystems++;
	return 0;
}

static int p_rekey(struct pctx *p, const struct keyword *k, char **av, int ac)
{
	uint64_t bytes = 0;
	/* without a time, the default time limit stays */
	int secs = ac == 2 ? 0 : DEFAULT_REKEY_SECONDS;
	if (ac > 2)
		return perr(p, p->opt, "too many arguments");
	if (strcasecmp(av[0], "default") != 0) {
		if (parse_size(av[0], &bytes) < 0)
			return perr(p, p->opt, "bad size '%s'", av[0]);
		if (bytes != 0 && bytes < 16)
			return perr(p, p->opt, "size '%s' too small (at least 16)", av[0]);
	}
	if (ac == 2 && strcasecmp(av[1], "none") != 0 && (secs = parse_time(av[1])) < 0)
		return perr(p, p->opt, "bad time value '%s'", av[1]);
	if (take(p, k)) {
		p->c->rekey_bytes = bytes;
		p->c->rekey_seconds = secs;
	}
	return 0;
}

/* MaxStartups start[:rate:full]; a single number means full = start. */
static int p_maxstartups(struct pctx *p, const struct keyword *k, char **av, int ac)
{
	long start, rate = 100, full;
	char buf[64];
	if (one_arg(p, ac) < 0)
		return -1;
	char *c1 = strchr(av[0], ':');
	int ok;
	if (!c1) {
		start = parse_long(av[0], 1, INT_MAX);
		ok = start != NOT_IN_RANGE;
		full = start;
	} else {
		char *parts[3];
		ok = copy_in(buf, sizeof buf, av[0]) == 0;
		if (ok) {
			parts[0] = buf;
			parts[1] = strchr(buf, ':');
			*parts[1]++ = 0;
			parts[2] = strchr(parts[1], ':');
			ok = parts[2] != NULL;
			if (ok)
				*parts[2]++ = 0;
		}
		ok = ok && (start = parse_long(parts[0], 1, INT_MAX)) != NOT_IN_RANGE &&
		     (rate = parse_long(parts[1], 1, 100)) != NOT_IN_RANGE &&
		     (full = parse_long(parts[2], start, INT_MAX)) != NOT_IN_RANGE;
	}
	if (!ok)
		return perr(p, p->opt, "bad value '%s' (expected start or start:rate:full)", av[0]);
	if (take(p, k)) {
		p->c->max_startups = (int)start;
		p->c->max_startups_rate = (int)rate;
		p->c->max_startups_full = (int)full;
	}
	return 0;
}

/* PerSourcePenalties: OpenSSH 9.8's defaults, on. */
static __attribute__((noinline)) void penalty_defaults(struct penalty_cfg *pc)
{
	pc->enabled = 1;
	pc->crash = 90;
	pc->authfail = 5;
	pc->noauth = 1;
	pc->grace_exceeded = 10;
	pc->max = 600;
	pc->min = 15;
	pc->max_sources4 = pc->max_sources6 = 65536;
	pc->overflow_deny4 = pc->overflow_deny6 = 0;
}

static const struct name_val overflow_names[] = {
	{ "permissive", 0 }, { "deny-all", 1 }, { NULL, 0 } };

/* One "keyword:value" of PerSourcePenalties into pc. */
static int penalty_word(struct pctx *p, struct penalty_cfg *pc, const char *w)
{
	/* the names in the entries (17 bytes each, no pointers) */
	static const struct { char name[15]; unsigned char off; char kind; } kws[] = {
		{ "crash", offsetof(struct penalty_cfg, crash), 't' },
		{ "authfail", offsetof(struct penalty_cfg, authfail), 't' },
		{ "noauth", offsetof(struct penalty_cfg, noauth), 't' },
		{ "grace-exceeded", offsetof(struct penalty_cfg, grace_exceeded), 't' },
		{ "max", offsetof(struct penalty_cfg, max), 't' },
		{ "min", offsetof(struct penalty_cfg, min), 't' },
		{ "max-sources4", offsetof(struct penalty_cfg, max_sources4), 'n' },
		{ "max-sources6", offsetof(struct penalty_cfg, max_sources6), 'n' },
		{ "overflow", offsetof(struct penalty_cfg, overflow_deny4), 'o' },
		{ "overflow6", offsetof(struct penalty_cfg, overflow_deny6), 'o' },
	};
	const char *colon = strchr(w, ':');
	if (!colon || colon == w || !colon[1])
		return perr(p, p->opt, "bad value '%s' (expected keyword:value, yes or no)", w);
	const char *v = colon + 1;
	size_t klen = (size_t)(colon - w);
	for (size_t i = 0; i < sizeof kws / sizeof kws[0]; i++) {
		if (strlen(kws[i].name) != klen || strncmp(kws[i].name, w, klen) != 0)
			continue;
		int *f = (int *)(void *)((char *)pc + kws[i].off);
		if (kws[i].kind == 't' && (*f = parse_time(v)) < 0)
			return perr(p, p->opt, "bad time value in '%s'", w);
		if (kws[i].kind == 'n') {
			long n = parse_long(v, 1, INT_MAX);
			if (n == NOT_IN_RANGE)
				return perr(p, p->opt, "bad number in '%s' (expected 1 to %d)",
					    w, INT_MAX);
			*f = (int)n;
		}
		if (kws[i].kind == 'o' && lookup_name(overflow_names, v, f) < 0)
			return perr(p, p->opt, "bad value in '%s' (expected permissive or deny-all)", w);
		return 0;
	}
	return perr(p, p->opt, "unknown penalty keyword '%.*s'", (int)klen, w);
}

/* PerSourcePenalties yes | no | keyword:value ...; keywords not given keep
 * their defaults. */
static int p_penalties(struct pctx *p, const struct keyword *k, char **av, int ac)
{
	struct penalty_cfg v;
	penalty_defaults(&v);
	for (int i = 0; i < ac; i++) {
		int yes = strcasecmp(av[i], "yes") == 0, no = strcasecmp(av[i], "no") == 0;
		if ((yes || no) && ac > 1)
			return perr(p, p->opt, "'%s' must stand alone", av[i]);
		if (no)
			v.enabled = 0;
		else if (!yes && penalty_word(p, &v, av[i]) < 0)
			return -1;
	}
	if (take(p, k)) {
		v.netblock4 = p->c->penalties.netblock4;
		v.netblock6 = p->c->penalties.netblock6;
		p->c->penalties = v;
	}
	return 0;
}

/* PerSourceNetBlockSize v4bits[:v6bits] */
static int p_netblock(struct pctx *p, const struct keyword *k, char **av, int ac)
{
	long v4, v6 = 128;
	char buf[32];
	if (one_arg(p, ac) < 0)
		return -1;
	int ok = copy_in(buf, sizeof buf, av[0]) == 0;
	if (ok) {
		char *colon = strchr(buf, ':');
		if (colon)
			*colon++ = 0;
		ok = (v4 = parse_long(buf, 0, 32)) != NOT_IN_RANGE &&
		     (!colon || (v6 = parse_long(colon, 0, 128)) != NOT_IN_RANGE);
	}
	if (!ok)
		return perr(p, p->opt, "bad value '%s' (expected 0-32[:0-128])", av[0]);
	if (take(p, k)) {
		p->c->penalties.netblock4 = (int)v4;
		p->c->penalties.netblock6 = (int)v6;
	}
	return 0;
}

static const char *conv_exempt(const char *arg, char **out)
{
	const char *why = NULL;
	*out = penalty_exempt_normalise(arg, &why);
	return why;
}

/* PermitUserEnvironment yes|no|pattern-list */
static int p_userenv(struct pctx *p, const struct keyword *k, char **av, int ac)
{
	int v = 1;
	char *pat = NULL;
	if (one_arg(p, ac) < 0)
		return -1;
	if (strcasecmp(av[0], "no") == 0)
		v = 0;
	else if (strcasecmp(av[0], "yes") != 0)
		pat = xstrdup(av[0]);
	if (take(p, k)) {
		p->c->permit_user_environment = v;
		free(p->c->permit_user_env_pattern);
		p->c->permit_user_env_pattern = pat;
	} else {
		free(pat);
	}
	return 0;
}

/* ---------------------------------------------------- list element checks */

static const char *conv_listen(const char *arg, char **out)
{
	const char *port = hostport_port(arg);
	(void)out;
	if (port == hostport_bad)
		return "bad address";
	if (port && parse_port(port) < 0)
		return "bad port in";
	return NULL;
}

static const char *conv_permitopen(const char *arg, char **out)
{
	(void)out;
	if (strcasecmp(arg, "none") == 0)
		return NULL;
	const char *port = hostport_port(arg);
	if (port == hostport_bad || !port)
		return "expected host:port, got";
	if (strcmp(port, "*") != 0 && parse_port(port) < 0)
		return "bad port in";
	return NULL;
}

static const char *conv_permitlisten(const char *arg, char **out)
{
	(void)out;
	if (strcasecmp(arg, "none") == 0)
		return NULL;
	const char *port = strchr(arg, ':') ? hostport_port(arg) : arg;
	if (!port || port == hostport_bad || (strcmp(port, "*") != 0 && parse_port(port) < 0))
		return "expected [host:]port, got";
	return NULL;
}

static const char *conv_acceptenv(const char *arg, char **out)
{
	(void)out;
	if (strchr(arg, '='))
		return "'=' not allowed in pattern";
	return NULL;
}

/* AllowUsers/DenyUsers USER@HOST: a malformed CIDR in HOST is refused here,
 * so that a typo in a DenyUsers entry cannot silently stop it matching. */
static const char *conv_user_entry(const char *arg, char **out)
{
	const char *at = strchr(arg, '@');
	(void)out;
	if (at && match_addr_list_valid(at + 1, NULL, 0) < 0)
		return "bad address pattern in";
	return NULL;
}

static const char *conv_setenv(const char *arg, char **out)
{
	(void)out;
	const char *eq = strchr(arg, '=');
	if (!eq || eq == arg)
		return "expected NAME=VALUE, got";
	return NULL;
}

/* "type=interval" -> "type=seconds" */
static const char *conv_chantimeout(const char *arg, char **out)
{
	const char *eq = strchr(arg, '=');
	int secs;
	if (!eq || eq == arg ||
	    (strcasecmp(eq + 1, "none") != 0 && (secs = parse_time(eq + 1)) < 0))
		return "expected type=interval, got";
	if (strcasecmp(eq + 1, "none") == 0)
		secs = 0;
	size_t n = (size_t)(eq - arg) + 16;
	*out = xrealloc(NULL, n);
	snprintf(*out, n, "%.*s=%d", (int)(eq - arg), arg, secs);
	return NULL;
}

static const char *conv_absolute(const char *arg, char **out)
{
	(void)out;
	if (arg[0] != '/')
		return "expected an absolute path, got";
	return NULL;
}

/* ------------------------------------------------------------------- dumps */

static void dump_kw(FILE *out, const char *name)
{
	for (; *name; name++)
		fputc(a_lower((unsigned char)*name), out);
}

/* One argument, quoted if it would not read back as one word. */
static void dump_arg(FILE *out, const char *s)
{
	int plain = *s && *s != '#';
	for (const char *q = s; *q && plain; q++)
		if (a_space((unsigned char)*q) || *q == '"' || *q == '\\')
			plain = 0;
	if (plain) {
		fputs(s, out);
		return;
	}
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

static void dump_line(FILE *out, const struct keyword *k, const char *val, int quote)
{
	dump_kw(out, k->name);
	fputc(' ', out);
	if (quote)
		dump_arg(out, val);
	else
		fputs(val, out);
	fputc('\n', out);
}

static void d_flag(const struct config *c, const struct keyword *k, FILE *out)
{
	dump_line(out, k, *CFIELD(c, k, int) ? "yes" : "no", 0);
}

static void d_int(const struct config *c, const struct keyword *k, FILE *out)
{
	dump_kw(out, k->name);
	fprintf(out, " %d\n", *CFIELD(c, k, int));
}

static void d_octal(const struct config *c, const struct keyword *k, FILE *out)
{
	dump_kw(out, k->name);
	fprintf(out, " %04o\n", (unsigned)*CFIELD(c, k, int));
}

static void d_enum(const struct config *c, const struct keyword *k, FILE *out)
{
	dump_line(out, k, name_of(kw_names(k), *CFIELD(c, k, int)), 0);
}

static void d_str(const struct config *c, const struct keyword *k, FILE *out)
{
	const char *s = *CFIELD(c, k, char *);
	dump_line(out, k, s ? s : "none", s != NULL);
}

static void d_command(const struct config *c, const struct keyword *k, FILE *out)
{
	const char *s = *CFIELD(c, k, char *);
	dump_line(out, k, s ? s : "none", 0);
}

static void d_acc(const struct config *c, const struct keyword *k, FILE *out)
{
	char *const *v = CFIELD(c, k, char *);
	for (int i = 0; i < *CCOUNT(c, k); i++)
		dump_line(out, k, v[i], 1);
}

static void d_line(const struct config *c, const struct keyword *k, FILE *out)
{
	char *const *v = CFIELD(c, k, char *);
	int n = *CCOUNT(c, k);
	dump_kw(out, k->name);
	if (n == 0)
		fprintf(out, " %s", kw_word(k));
	for (int i = 0; i < n; i++) {
		fputc(' ', out);
		dump_arg(out, v[i]);
	}
	fputc('\n', out);
}

static void d_ports(const struct config *c, const struct keyword *k, FILE *out)
{
	const int *v = CFIELD(c, k, int);
	for (int i = 0; i < *CCOUNT(c, k); i++) {
		dump_kw(out, k->name);
		fprintf(out, " %d\n", v[i]);
	}
}

static void d_subsystem(const struct config *c, const struct keyword *k, FILE *out)
{
	for (int i = 0; i < c->n_subsystems; i++) {
		dump_kw(out, k->name);
		fputc(' ', out);
		dump_arg(out, c->subsystem_names[i]);
		fprintf(out, " %s\n", c->subsystem_cmds[i]);
	}
}

static void d_rekey(const struct config *c, const struct keyword *k, FILE *out)
{
	dump_kw(out, k->name);
	fprintf(out, " %llu %d\n", (unsigned long long)c->rekey_bytes, c->rekey_seconds);
}

static void d_maxstartups(const struct config *c, const struct keyword *k, FILE *out)
{
	dump_kw(out, k->name);
	fprintf(out, " %d:%d:%d\n", c->max_startups, c->max_startups_rate,
		c->max_startups_full);
}

static void d_penalties(const struct config *c, const struct keyword *k, FILE *out)
{
	const struct penalty_cfg *pc = &c->penalties;
	dump_kw(out, k->name);
	if (!pc->enabled) {
		fputs(" no\n", out);
		return;
	}
	fprintf(out, " crash:%ds authfail:%ds noauth:%ds grace-exceeded:%ds max:%ds min:%ds"
		" max-sources4:%d max-sources6:%d overflow:%s overflow6:%s\n",
		pc->crash, pc->authfail, pc->noauth, pc->grace_exceeded, pc->max, pc->min,
		pc->max_sources4, pc->max_sources6, name_of(overflow_names, pc->overflow_deny4),
		name_of(overflow_names, pc->overflow_deny6));
}

static void d_netblock(const struct config *c, const struct keyword *k, FILE *out)
{
	dump_kw(out, k->name);
	fprintf(out, " %d:%d\n", c->penalties.netblock4, c->penalties.netblock6);
}

static void d_userenv(const struct config *c, const struct keyword *k, FILE *out)
{
	if (c->permit_user_env_pattern)
		dump_line(out, k, c->permit_user_env_pattern, 1);
	else
		d_flag(c, k, out);
}

/* ------------------------------------------------------------ the keywords */

static const struct name_val permit_root_names[] = {
	{ "prohibit-password", PERMIT_ROOT_PROHIBIT_PASSWORD },
	{ "without-password", PERMIT_ROOT_PROHIBIT_PASSWORD },
	{ "yes", PERMIT_ROOT_YES }, { "no", PERMIT_ROOT_NO },
	{ "forced-commands-only", PERMIT_ROOT_FORCED_COMMANDS_ONLY }, { NULL, 0 } };
static const struct name_val compression_names[] = {
	{ "yes", 1 }, { "delayed", 1 }, { "no", 0 }, { NULL, 0 } };
static const struct name_val tcpfwd_names[] = {
	{ "yes", 1 }, { "all", 1 }, { "no", 0 }, { "local", 2 }, { "remote", 3 }, { NULL, 0 } };
static const struct name_val gateway_names[] = {
	{ "no", 0 }, { "yes", 1 }, { "clientspecified", 2 }, { NULL, 0 } };
static const struct name_val loglevel_names[] = {
	{ "QUIET", LOG_L_QUIET }, { "FATAL", LOG_L_FATAL }, { "ERROR", LOG_L_ERROR },
	{ "INFO", LOG_L_INFO }, { "VERBOSE", LOG_L_VERBOSE }, { "DEBUG1", LOG_L_DEBUG1 },
	{ "DEBUG", LOG_L_DEBUG1 }, { "DEBUG2", LOG_L_DEBUG2 }, { "DEBUG3", LOG_L_DEBUG3 },
	{ NULL, 0 } };
static const struct name_val facility_names[] = {
	{ "DAEMON", LOG_DAEMON }, { "USER", LOG_USER }, { "AUTH", LOG_AUTH },
	{ "AUTHPRIV", LOG_AUTHPRIV }, { "LOCAL0", LOG_LOCAL0 }, { "LOCAL1", LOG_LOCAL1 },
	{ "LOCAL2", LOG_LOCAL2 }, { "LOCAL3", LOG_LOCAL3 }, { "LOCAL4", LOG_LOCAL4 },
	{ "LOCAL5", LOG_LOCAL5 }, { "LOCAL6", LOG_LOCAL6 }, { "LOCAL7", LOG_LOCAL7 },
	{ NULL, 0 } };
static const struct name_val killmode_names[] = {
	{ "process", KILL_PROCESS }, { "control-group", KILL_CONTROL_GROUP },
	{ "mixed", KILL_MIXED }, { "none", KILL_NONE }, { NULL, 0 } };
static const struct name_val fallback_names[] = {
	{ "none", 0 }, { "process-group", 1 }, { NULL, 0 } };
static const struct name_val signal_names[] = {
	{ "TERM", SIGTERM }, { "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT },
	{ "KILL", SIGKILL }, { "USR1", SIGUSR1 }, { "USR2", SIGUSR2 },
	{ "ALRM", SIGALRM }, { "ABRT", SIGABRT }, { "PIPE", SIGPIPE },
	{ "CONT", SIGCONT }, { NULL, 0 } };
static const struct name_val family_names[] = {
	{ "any", AF_UNSPEC }, { "inet", AF_INET }, { "inet6", AF_INET6 }, { NULL, 0 } };

/* What a keyword's kind parses and dumps it with (K_NONE: neither: Include,
 * Match and aliases, handled by handle_words). */
enum kw_kind {
	K_NONE, K_FLAG, K_INT, K_OCTAL, K_TIME, K_ENUM, K_PATH, K_COMMAND, K_ACC,
	K_LINE, K_PORTS, K_ALGS, K_IGNORED, K_SUBSYSTEM, K_REKEY, K_MAXSTARTUPS,
	K_PENALTIES, K_NETBLOCK, K_USERENV, K_BYTES, K_COMPRESSION, K_FORWARDING
};
static const struct {
	parse_fn parse;
	dump_fn dump;
} kw_kinds[] = {
	[K_NONE] = { NULL, NULL },
	[K_FLAG] = { p_flag, d_flag },
	[K_INT] = { p_int, d_int },
	[K_OCTAL] = { p_octal, d_octal },
	[K_TIME] = { p_time, d_int },
	[K_BYTES] = { p_bytes, d_int },
	[K_COMPRESSION] = { p_compression, d_enum },
	[K_FORWARDING] = { p_forwarding, d_enum },
	[K_ENUM] = { p_enum, d_enum },
	[K_PATH] = { p_path, d_str },
	[K_COMMAND] = { p_command, d_command },
	[K_ACC] = { p_acc, d_acc },
	[K_LINE] = { p_line, d_line },
	[K_PORTS] = { p_ports, d_ports },
	[K_ALGS] = { p_algs, d_str },
	[K_IGNORED] = { p_ignored, NULL },
	[K_SUBSYSTEM] = { p_subsystem, d_subsystem },
	[K_REKEY] = { p_rekey, d_rekey },
	[K_MAXSTARTUPS] = { p_maxstartups, d_maxstartups },
	[K_PENALTIES] = { p_penalties, d_penalties },
	[K_NETBLOCK] = { p_netblock, d_netblock },
	[K_USERENV] = { p_userenv, d_userenv },
};

/* The aux index of an enum keyword: its name table. */
enum {
	NT_family_names, NT_loglevel_names, NT_facility_names, NT_permit_root_names,
	NT_compression_names, NT_tcpfwd_names, NT_gateway_names, NT_killmode_names,
	NT_signal_names, NT_fallback_names
};
static const struct name_val *const kw_name_tables[] = {
	[NT_family_names] = family_names, [NT_loglevel_names] = loglevel_names,
	[NT_facility_names] = facility_names, [NT_permit_root_names] = permit_root_names,
	[NT_compression_names] = compression_names, [NT_tcpfwd_names] = tcpfwd_names,
	[NT_gateway_names] = gateway_names, [NT_killmode_names] = killmode_names,
	[NT_signal_names] = signal_names, [NT_fallback_names] = fallback_names,
};

/* The aux index of a list or path keyword: its element check (CV_NULL: none). */
enum {
	CV_NULL, CV_conv_listen, CV_conv_user_entry, CV_conv_acceptenv, CV_conv_setenv,
	CV_conv_chantimeout, CV_conv_permitopen, CV_conv_permitlisten, CV_conv_exempt,
	CV_conv_absolute
};
static const conv_fn kw_convs[] = {
	[CV_NULL] = NULL, [CV_conv_listen] = conv_listen,
	[CV_conv_user_entry] = conv_user_entry, [CV_conv_acceptenv] = conv_acceptenv,
	[CV_conv_setenv] = conv_setenv, [CV_conv_chantimeout] = conv_chantimeout,
	[CV_conv_permitopen] = conv_permitopen, [CV_conv_permitlisten] = conv_permitlisten,
	[CV_conv_exempt] = conv_exempt, [CV_conv_absolute] = conv_absolute,
};

static const struct alg_names cipher_names = { CIPHERS_DEFAULT, "", CIPHERS_KNOWN };
static const struct alg_names mac_names = { MACS_DEFAULT, "", MACS_KNOWN };
static const struct alg_names kex_names = { KEX_SUPPORTED, "", KEX_KNOWN };
static const struct alg_names hostkey_names = { KEYALGS_SUPPORTED, "", KEYALGS_KNOWN };
/* ssh-rsa (RSA with SHA-1) signatures on user keys: only when asked for,
 * as OpenSSH 8.8 and later. */
static const struct alg_names userkey_names = { KEYALGS_SUPPORTED, HAVE_RSA ? "ssh-rsa" : "",
						 KEYALGS_KNOWN };

/* The aux index of an algorithm keyword: its name set. */
enum { AL_cipher_names, AL_mac_names, AL_kex_names, AL_hostkey_names, AL_userkey_names };
static const struct alg_names *const kw_alg_sets[] = {
	[AL_cipher_names] = &cipher_names, [AL_mac_names] = &mac_names,
	[AL_kex_names] = &kex_names, [AL_hostkey_names] = &hostkey_names,
	[AL_userkey_names] = &userkey_names,
};

static parse_fn kw_parse(const struct keyword *k) { return kw_kinds[k->kind].parse; }
static dump_fn kw_dump(const struct keyword *k) { return kw_kinds[k->kind].dump; }
static const struct name_val *kw_names(const struct keyword *k) { return kw_name_tables[k->aux]; }
static conv_fn kw_conv(const struct keyword *k) { return kw_convs[k->aux]; }
static const struct alg_names *kw_algs(const struct keyword *k) { return kw_alg_sets[k->aux]; }

/* Offsets into struct config are kept in 16 bits. */
_Static_assert(sizeof(struct config) <= UINT16_MAX, "struct config too large for uint16_t offsets");

#define OFF(f) offsetof(struct config, f)
#define M KW_MATCH
#define FLAG(n, f, fl) { .name = n, .kind = K_FLAG, .st = ST_INT, .off = OFF(f), .flags = fl }
/* lo: 0 or 1 (the upper bound is INT_MAX) */
#define INT(n, f, lo, fl) { .name = n, .kind = K_INT, .st = ST_INT, .off = OFF(f), .flags = (fl) | ((lo) ? KW_FROM1 : 0) }
#define TIME(n, f, fl) { .name = n, .kind = K_TIME, .st = ST_INT, .off = OFF(f), .flags = fl }
#define ENUM(n, f, t, fl) { .name = n, .kind = K_ENUM, .st = ST_INT, .off = OFF(f), .flags = fl, .aux = NT_##t }
#define PATH(n, f, cv, fl) { .name = n, .kind = K_PATH, .st = ST_STR, .off = OFF(f), .flags = fl, .aux = CV_##cv }
#define ACC(n, f, cv, fl) { .name = n, .kind = K_ACC, .st = ST_LIST, .off = OFF(f), .count_off = OFF(n_##f), .flags = fl, .aux = CV_##cv }
#define LINE(n, f, empty, cv, fl) { .name = n, .kind = K_LINE, .st = ST_LIST, .off = OFF(f), .count_off = OFF(n_##f), .flags = fl, .word = W_##empty, .aux = CV_##cv }
#define ALGS(n, f, set, fl) { .name = n, .kind = K_ALGS, .st = ST_STR, .off = OFF(f), .flags = fl, .aux = AL_##set }
#define IGNORED(n, harmless, fl) { .name = n, .kind = K_IGNORED, .flags = fl, .word = W_##harmless }
#define ALIAS(n, target) { .name = n, .flags = KW_ALIAS, .word = W_##target }

static const struct keyword keywords[] = {
	{ .name = "Port", .kind = K_PORTS, .st = ST_PORTS,
	  .off = OFF(ports), .count_off = OFF(n_ports) },
	ACC("ListenAddress", listen_addrs, conv_listen, KW_ONE),
	ENUM("AddressFamily", address_family, family_names, 0),
	ACC("HostKey", host_keys, NULL, KW_ONE),
	PATH("PidFile", pid_file, NULL, 0),
	{ .name = "MaxStartups", .kind = K_MAXSTARTUPS,
	  .st = ST_INT, .off = OFF(max_startups) },
	{ .name = "PerSourcePenalties", .kind = K_PENALTIES },
	{ .name = "PerSourceNetBlockSize", .kind = K_NETBLOCK },
	PATH("PerSourcePenaltyExemptList", penalty_exempt, conv_exempt, 0),
	ENUM("LogLevel", log_level, loglevel_names, M),
	ENUM("SyslogFacility", syslog_facility, facility_names, 0),
	ENUM("PermitRootLogin", permit_root_login, permit_root_names, M),
	FLAG("PubkeyAuthentication", pubkey_authentication, M),
	FLAG("PasswordAuthentication", password_authentication, M),
	FLAG("PermitEmptyPasswords", permit_empty_passwords, M),
	FLAG("KbdInteractiveAuthentication", kbd_interactive_authentication, M),
	ALIAS("ChallengeResponseAuthentication", kbdint),
	LINE("AuthorizedKeysFile", authorized_keys_files, none, NULL, M),
	FLAG("StrictModes", strict_modes, 0),
	INT("MaxAuthTries", max_auth_tries, 1, M),
	TIME("LoginGraceTime", login_grace_time, 0),
	ACC("AllowUsers", allow_users, conv_user_entry, M),
	ACC("DenyUsers", deny_users, conv_user_entry, M),
	ACC("AllowGroups", allow_groups, NULL, M),
	ACC("DenyGroups", deny_groups, NULL, M),
	PATH("Banner", banner, NULL, M),
	{ .name = "PermitUserEnvironment", .kind = K_USERENV,
	  .st = ST_INT, .off = OFF(permit_user_environment), .flags = M },
	ALGS("Ciphers", ciphers, cipher_names, 0),
	ALGS("MACs", macs, mac_names, 0),
	ALGS("KexAlgorithms", kex_algorithms, kex_names, 0),
	ALGS("HostKeyAlgorithms", host_key_algorithms, hostkey_names, 0),
	ALGS("PubkeyAcceptedAlgorithms", pubkey_accepted_algorithms, userkey_names, M),
	ALIAS("PubkeyAcceptedKeyTypes", pubkeyalgs),
	ALGS("CASignatureAlgorithms", ca_signature_algorithms, hostkey_names, 0),
	PATH("ModuliFile", moduli_file, NULL, 0),
	{ .name = "Compression", .kind = K_COMPRESSION, .st = ST_INT,
	  .off = OFF(compression), .aux = NT_compression_names },
	{ .name = "RekeyLimit", .kind = K_REKEY, .flags = M },
	INT("MaxSessions", max_sessions, 0, M),
	FLAG("PermitTTY", permit_tty, M),
	FLAG("PrintMotd", print_motd, 0),
	FLAG("PrintLastLog", print_last_log, 0),
	ACC("AcceptEnv", accept_env, conv_acceptenv, 0),
	ACC("SetEnv", set_env, conv_setenv, M),
	{ .name = "Subsystem", .kind = K_SUBSYSTEM, .st = ST_LIST,
	  .off = OFF(subsystem_names), .count_off = OFF(n_subsystems) },
	{ .name = "ForceCommand", .kind = K_COMMAND, .st = ST_STR,
	  .off = OFF(force_command), .flags = M },
	TIME("ClientAliveInterval", client_alive_interval, M),
	INT("ClientAliveCountMax", client_alive_count_max, 0, M),
	FLAG("TCPKeepAlive", tcp_keep_alive, 0),
	LINE("ChannelTimeout", channel_timeout, none, conv_chantimeout, M),
	TIME("UnusedConnectionTimeout", unused_connection_timeout, M | KW_NONE),
	{ .name = "AllowTcpForwarding", .kind = K_FORWARDING, .st = ST_INT,
	  .off = OFF(allow_tcp_forwarding), .flags = M, .aux = NT_tcpfwd_names },
	LINE("PermitOpen", permit_open, any, conv_permitopen, M),
	LINE("PermitListen", permit_listen, any, conv_permitlisten, M),
	ENUM("GatewayPorts", gateway_ports, gateway_names, M),
	FLAG("AllowAgentForwarding", allow_agent_forwarding, M),
	{ .name = "AllowStreamLocalForwarding", .kind = K_FORWARDING, .st = ST_INT,
	  .off = OFF(allow_streamlocal_forwarding), .flags = M, .aux = NT_tcpfwd_names },
	FLAG("DisableForwarding", disable_forwarding, M),
	{ .name = "StreamLocalBindMask", .kind = K_OCTAL, .st = ST_INT,
	  .off = OFF(streamlocal_bind_mask), .flags = M },
	FLAG("StreamLocalBindUnlink", streamlocal_bind_unlink, M),
	FLAG("X11Forwarding", x11_forwarding, M | KW_WARNYES),
	FLAG("UsePAM", use_pam, KW_WARNYES),
	FLAG("UseDNS", use_dns, KW_WARNYES),
	/* wombat's own */
	FLAG("CloseOnChildExit", close_on_child_exit, M),
	ENUM("SessionKillMode", session_kill_mode, killmode_names, M),
	ENUM("SessionKillSignal", session_kill_signal, signal_names, M | KW_SIGNAL),
	TIME("SessionKillTimeout", session_kill_timeout, M),
	TIME("ForwardConnectTimeout", forward_connect_timeout, M),
	PATH("SessionCgroupRoot", session_cgroup_root, conv_absolute, 0),
	ENUM("SessionKillFallback", session_kill_fallback_pgrp, fallback_names, 0),
	{ .name = "ChannelWindowSize", .kind = K_BYTES, .st = ST_INT,
	  .off = OFF(channel_window), .flags = M },
	/* structure */
	{ .name = "Include", .flags = KW_INCLUDE | M },
	{ .name = "Match", .flags = KW_MATCHKW | M },
	/* OpenSSH keywords without an effect in wombat */
	IGNORED("HostbasedAuthentication", no, M),
	IGNORED("IgnoreRhosts", yes, M),
	IGNORED("IgnoreUserKnownHosts", star, M),
	IGNORED("GSSAPIAuthentication", no, M),
	IGNORED("GSSAPICleanupCredentials", star, 0),
	IGNORED("KerberosAuthentication", no, M),
	IGNORED("PermitTunnel", no, M),
	IGNORED("X11DisplayOffset", star, M),
	IGNORED("X11UseLocalhost", star, M),
	IGNORED("PermitUserRC", no, M),
	IGNORED("DebianBanner", star, 0),
	IGNORED("UsePrivilegeSeparation", star, 0),
	IGNORED("Protocol", star, 0),
	IGNORED("VersionAddendum", none, 0),
	IGNORED("AuthorizedKeysCommandUser", star, M),
	IGNORED("AuthenticationMethods", any, M | KW_REJECT),
	IGNORED("ChrootDirectory", none, M | KW_REJECT),
	IGNORED("AuthorizedKeysCommand", none, M | KW_REJECT),
	IGNORED("AuthorizedPrincipalsFile", none, M | KW_REJECT),
	IGNORED("TrustedUserCAKeys", none, KW_REJECT),
	IGNORED("RevokedKeys", none, KW_REJECT),
	{ .name = NULL },
};

_Static_assert(sizeof keywords / sizeof keywords[0] <= CFG_N_KEYWORDS,
	       "CFG_N_KEYWORDS too small");

static const struct keyword *kw_table(void)
{
	return keywords;
}

static const struct keyword *kw_lookup(const char *name)
{
	for (const struct keyword *k = keywords; k->name; k++) {
		if (strcasecmp(k->name, name) == 0) {
			if (k->flags & KW_ALIAS)
				return kw_lookup(kw_word(k));
			return k;
		}
	}
	return NULL;
}

/* The spelling to use in messages: the canonical one of what was written. */
static const char *kw_display(const char *written)
{
	for (const struct keyword *k = keywords; k->name; k++)
		if (strcasecmp(k->name, written) == 0)
			return k->name;
	return written;
}

/* -------------------------------------------------------- lines and files */

static int handle_line(struct pctx *p, const char *text, int *block);

static int record_line(struct pctx *p, int block, const char *text)
{
	struct cfg_match *m = &p->c->matches[block];
	m->lines = xrealloc(m->lines, sizeof *m->lines * (size_t)(m->n_lines + 1));
	struct cfg_line *l = &m->lines[m->n_lines++];
	l->file = xstrdup(p->file);
	l->line = p->line;
	l->text = xstrdup(text);
	size_t n = strlen(l->text);
	while (n && (l->text[n - 1] == '\n' || l->text[n - 1] == '\r'))
		l->text[--n] = 0;
	return 0;
}

static void match_free(struct cfg_match *m)
{
	free(m->file);
	for (int i = 0; i < m->n_crit; i++) {
		free(m->crit_kw[i]);
		free(m->crit_val[i]);
	}
	for (int i = 0; i < m->n_lines; i++) {
		free(m->lines[i].file);
		free(m->lines[i].text);
	}
	free(m->lines);
}

/* LocalPort patterns: each entry a port number (1-65535) or a glob of
 * digits, '*' and '?'. Writes the first bad entry into bad. */
static int port_list_valid(const char *list, char *bad, size_t badsz)
{
	while (*list) {
		size_t len = strcspn(list, ",");
		snprintf(bad, badsz, "%.*s", (int)len, list);
		if (len >= badsz)
			return -1;              /* not checked whole: refuse */
		const char *e = bad;
		while (a_space((unsigned char)*e))
			e++;
		if (*e == '!')
			e++;
		while (a_space((unsigned char)*e))
			e++;
		size_t n = strlen(e);
		while (n && a_space((unsigned char)e[n - 1]))
			n--;
		if (n == 0 || strspn(e, "0123456789*?") < n)
			return -1;
		if (strspn(e, "0123456789") == n) {
			/* a number: 1 to 65535 (leading zeros allowed), under 16 digits */
			unsigned long port = 0;
			for (size_t i = 0; i < n && port <= 65535; i++)
				port = port * 10 + (unsigned long)(e[i] - '0');
			if (n >= 16 || port < 1 || port > 65535)
				return -1;
		}
		list += len;
		if (*list == ',')
			list++;
	}
	return 0;
}

/* Canonical (lowercase) name of a Match criterion, NULL if unknown. */
static const char *match_criterion(const char *word)
{
	static const char *const crits[] = {
		"user", "group", "address", "host", "localaddress", "localport"
	};
	for (size_t j = 0; j < sizeof crits / sizeof crits[0]; j++)
		if (strcasecmp(word, crits[j]) == 0)
			return crits[j];
	return NULL;
}

/* One "Criterion pattern" pair into m. */
static int add_criterion(struct pctx *p, struct cfg_match *m, const char *word,
			 const char *val)
{
	const char *kw = match_criterion(word);
	char bad[256];
	if (!kw)
		return perr(p, "Match", "unsupported criterion '%s'", word);
	if (!val || !*val)
		return perr(p, "Match", "criterion '%s' needs a value", word);
	if (strcmp(kw, "address") == 0 && match_addr_list_valid(val, bad, sizeof bad) < 0)
		return perr(p, "Match", "bad address pattern '%s'", bad);
	if (strcmp(kw, "localaddress") == 0 && match_addr_list_valid(val, bad, sizeof bad) < 0)
		return perr(p, "Match", "bad LocalAddress pattern '%s'", bad);
	if (strcmp(kw, "localport") == 0 && port_list_valid(val, bad, sizeof bad) < 0)
		return perr(p, "Match", "bad LocalPort pattern '%s'", bad);
	if (m->n_crit == MAX_CRITERIA)
		return perr(p, "Match", "too many criteria");
	m->crit_kw[m->n_crit] = xstrdup(kw);
	m->crit_val[m->n_crit++] = xstrdup(val);
	return 0;
}

/* "Match all" or criterion/pattern pairs; starts a new block. */
static int start_match(struct pctx *p, char **av, int ac, int *block)
{
	struct cfg_match m = { 0 };
	if (ac < 1)
		return perr(p, "Match", "missing criteria");
	if (strcasecmp(av[0], "all") == 0) {
		if (ac > 1)
			return perr(p, "Match", "'all' cannot be combined with other criteria");
		m.all = 1;
	} else {
		for (int i = 0; i < ac; i += 2) {
			if (add_criterion(p, &m, av[i], i + 1 < ac ? av[i + 1] : NULL) < 0) {
				match_free(&m);
				return -1;
			}
		}
	}
	m.file = xstrdup(p->file);
	m.line = p->line;
	struct config *c = p->c;
	c->matches = xrealloc(c->matches, sizeof *c->matches * (size_t)(c->n_matches + 1));
	c->matches[c->n_matches] = m;
	*block = c->n_matches++;
	return 0;
}

static int parse_file(struct pctx *p, const char *path, int block);

static int has_glob_chars(const char *s)
{
	return s[strcspn(s, "*?[")] != 0;
}

/* Include: each argument is a glob, relative to the including file's
 * directory. A file named without wildcards must exist. */
static int do_include(struct pctx *p, char **av, int ac, int block)
{
	if (ac < 1)
		return perr(p, "Include", "missing value");
	if (p->depth >= MAX_INCLUDE_DEPTH)
		return perr(p, "Include", "nested too deeply");
	for (int i = 0; i < ac; i++) {
		char path[4096];
		const char *slash = strrchr(p->file, '/');
		if (av[i][0] == '/' || !slash)
			str_copy(path, sizeof path, av[i]);
		else
			snprintf(path, sizeof path, "%.*s/%s", (int)(slash - p->file),
				 p->file, av[i]);
		glob_t g;
		int r = glob(path, 0, NULL, &g);
		if (r == GLOB_NOMATCH) {
			globfree(&g);
			if (!has_glob_chars(path))
				return perr(p, "Include", "cannot open %s: %s", path,
					    strerror(ENOENT));
			continue;
		}
		if (r != 0) {
			globfree(&g);
			return perr(p, "Include", "cannot expand %s", path);
		}
		for (size_t j = 0; j < g.gl_pathc; j++) {
			if (parse_file(p, g.gl_pathv[j], block) < 0) {
				globfree(&g);
				return -1;
			}
		}
		globfree(&g);
	}
	return 0;
}

/* Validate a Match block line by parsing it into the scratch config. */
static int check_match_line(struct pctx *p, const struct keyword *k, char **av, int ac)
{
	struct pctx q = *p;
	q.c = p->scratch;
	q.mode = PM_CHECK;
	memset(q.c->seen, 0, sizeof q.c->seen);
	return kw_parse(k)(&q, k, av, ac);
}

static int handle_words(struct pctx *p, char **av, int n, const char *text, int *block)
{
	const struct keyword *k = kw_lookup(av[0]);
	if (!k)
		return perr(p, av[0], "unknown option");
	p->opt = kw_display(av[0]);
	if (k->flags & (KW_INCLUDE | KW_MATCHKW)) {
		if (p->mode == PM_CMDLINE)
			return perr(p, p->opt, "not allowed on the command line");
		if (p->mode != PM_LOAD)
			return perr(p, p->opt, "not allowed here");
		if (k->flags & KW_MATCHKW)
			return start_match(p, av + 1, n - 1, block);
		return do_include(p, av + 1, n - 1, *block);
	}
	if (*block >= 0 && !(k->flags & KW_MATCH))
		return perr(p, p->opt, "not allowed in a Match block");
	/* every keyword takes a value: said here once, not by each parser */
	if (n < 2)
		return perr(p, p->opt, "missing value");
	if (*block >= 0) {
		if (check_match_line(p, k, av + 1, n - 1) < 0)
			return -1;
		return record_line(p, *block, text);
	}
	return kw_parse(k)(p, k, av + 1, n - 1);
}

static int handle_line(struct pctx *p, const char *text, int *block)
{
	char *av[MAX_WORDS];
	const char *why = NULL;
	int n = split_line(text, av, MAX_WORDS, &why);
	if (n < 0) {
		char kw[128];
		first_word(text, kw, sizeof kw);
		return perr(p, kw_display(kw), "%s", why);
	}
	if (n == 0)
		return 0;
	int rc = handle_words(p, av, n, text, block);
	free_words(av, n);
	return rc;
}

/* Read one file. A Match block opened in it ends with it; it starts inside
 * the includer's block (block, -1 for none). */
static int parse_stream(struct pctx *p, FILE *f, const char *path, int block);

static int parse_file(struct pctx *p, const char *path, int block)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		if (p->file)
			return perr(p, "Include", "cannot open %s: %m", path);
		snprintf(p->err, p->errsz, "%s: %m", path);
		return -1;
	}
	return parse_stream(p, f, path, block);
}

/* The lines of f (closed here), as the file path. */
static int parse_stream(struct pctx *p, FILE *f, const char *path, int block)
{
	struct pctx q = *p;
	q.file = path;
	q.line = 0;
	q.depth = p->file ? p->depth + 1 : 0;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int rc = 0;
	/* errno cleared before each getline, which sets it on a read error and
	 * not at EOF (the lines' handling may leave it set) */
	while (rc == 0 && (errno = 0, len = getline(&line, &cap, f)) != -1) {
		q.line++;
		const char *bad = len > MAX_LINE ? "line too long" :
				  strlen(line) != (size_t)len ? "NUL byte in line" : NULL;
		if (bad) {
			char kw[128];
			first_word(line, kw, sizeof kw);
			rc = perr(&q, kw_display(kw), "%s", bad);
		} else {
			rc = handle_line(&q, line, &block);
		}
	}
	if (rc == 0 && errno) {
		if (p->file)
			rc = perr(p, "Include", "cannot read %s: %m", path);
		else {
			snprintf(p->err, p->errsz, "%s: %m", path);
			rc = -1;
		}
	}
	free(line);
	fclose(f);
	return rc;
}

/* ------------------------------------------------------------ public API */

/* The int settings whose default is not 0, as (field, value) pairs: a
 * table of 4-byte entries rather than a 10-byte store apiece. */
#define INT_DEFAULTS(X) \
	X(ports[0], 22) X(n_ports, 1) X(rekey_seconds, DEFAULT_REKEY_SECONDS) \
	X(address_family, AF_UNSPEC) X(max_startups, 10) X(max_startups_rate, 30) \
	X(max_startups_full, 100) X(penalties.netblock4, 32) X(penalties.netblock6, 128) \
	X(log_level, LOG_L_INFO) X(syslog_facility, LOG_AUTH) \
	X(permit_root_login, PERMIT_ROOT_PROHIBIT_PASSWORD) X(pubkey_authentication, 1) \
	X(password_authentication, 1) X(kbd_interactive_authentication, 1) \
	X(n_authorized_keys_files, 2) X(strict_modes, 1) X(max_auth_tries, 6) \
	X(login_grace_time, 120) X(compression, HAVE_ZLIB) X(max_sessions, 10) \
	X(permit_tty, 1) X(print_motd, 1) X(print_last_log, 1) \
	X(client_alive_count_max, 3) X(tcp_keep_alive, 1) \
	X(allow_tcp_forwarding, HAVE_FORWARDING) X(allow_agent_forwarding, 1) \
	X(allow_streamlocal_forwarding, HAVE_FORWARDING) X(streamlocal_bind_mask, 0177) \
	X(forward_connect_timeout, 15) X(session_kill_mode, KILL_PROCESS) \
	X(session_kill_signal, SIGTERM) X(session_kill_timeout, 5)
#define INT_DEFAULT_ENTRY(f, v) { offsetof(struct config, f), v },
#define INT_DEFAULT_CHECK(f, v) \
	_Static_assert(sizeof(((struct config *)0)->f) == sizeof(int) && \
		       (v) >= SHRT_MIN && (v) <= SHRT_MAX && \
		       offsetof(struct config, f) <= USHRT_MAX, "int_defaults: " #f);
INT_DEFAULTS(INT_DEFAULT_CHECK)

void config_defaults(struct config *c)
{
	static const struct { unsigned short off; short val; } ints[] = {
		INT_DEFAULTS(INT_DEFAULT_ENTRY)
	};
	memset(c, 0, sizeof *c);
	for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
		*(int *)(void *)((char *)c + ints[i].off) = ints[i].val;
	penalty_defaults(&c->penalties);
	c->channel_window = (int)CFG_CHANNEL_WINDOW_DEFAULT;
	c->pid_file = xstrdup(DEFAULT_PID_FILE);
	c->moduli_file = xstrdup(DEFAULT_MODULI_FILE);
	c->authorized_keys_files[0] = xstrdup(".ssh/authorized_keys");
	c->authorized_keys_files[1] = xstrdup(".ssh/authorized_keys2");
	c->ciphers = xstrdup(CIPHERS_DEFAULT);
	c->macs = xstrdup(MACS_DEFAULT);
	c->kex_algorithms = xstrdup(KEX_SUPPORTED);
	c->host_key_algorithms = xstrdup(KEYALGS_SUPPORTED);
	c->pubkey_accepted_algorithms = xstrdup(KEYALGS_SUPPORTED);
	c->ca_signature_algorithms = xstrdup(KEYALGS_SUPPORTED);
}

void config_free(struct config *c)
{
	for (const struct keyword *k = keywords; k->name; k++) {
		if (k->st == ST_STR)
			free(*FIELD(c, k, char *));
		else if (k->st == ST_LIST)
			list_clear(FIELD(c, k, char *), COUNT(c, k));
	}
	for (int i = 0; i < CFG_MAX_LIST; i++)
		free(c->subsystem_cmds[i]);
	free(c->permit_user_env_pattern);
	for (int i = 0; i < c->n_matches; i++)
		match_free(&c->matches[i]);
	free(c->matches);
	memset(c, 0, sizeof *c);
}

static __attribute__((noinline)) char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static void match_copy(struct cfg_match *d, const struct cfg_match *s)
{
	*d = *s;
	d->file = dup_or_null(s->file);
	for (int i = 0; i < s->n_crit; i++) {
		d->crit_kw[i] = xstrdup(s->crit_kw[i]);
		d->crit_val[i] = xstrdup(s->crit_val[i]);
	}
	d->lines = xrealloc(NULL, sizeof *d->lines * (size_t)s->n_lines);
	for (int i = 0; i < s->n_lines; i++) {
		d->lines[i].file = xstrdup(s->lines[i].file);
		d->lines[i].line = s->lines[i].line;
		d->lines[i].text = xstrdup(s->lines[i].text);
	}
}

void config_copy(struct config *dst, const struct config *src)
{
	*dst = *src;
	for (const struct keyword *k = keywords; k->name; k++) {
		if (k->st == ST_STR) {
			char **f = FIELD(dst, k, char *);
			*f = dup_or_null(*f);
		} else if (k->st == ST_LIST) {
			char **f = FIELD(dst, k, char *);
			for (int i = 0; i < *COUNT(dst, k); i++)
				f[i] = xstrdup(f[i]);
		}
	}
	for (int i = 0; i < src->n_subsystems; i++)
		dst->subsystem_cmds[i] = xstrdup(src->subsystem_cmds[i]);
	dst->permit_user_env_pattern = dup_or_null(src->permit_user_env_pattern);
	dst->matches = NULL;
	if (src->n_matches) {
		dst->matches = xrealloc(NULL, sizeof *dst->matches * (size_t)src->n_matches);
		for (int i = 0; i < src->n_matches; i++)
			match_copy(&dst->matches[i], &src->matches[i]);
	}
}

static int str_eq(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static int kw_equal(const struct config *a, const struct config *b, const struct keyword *k)
{
	switch (k->st) {
	case ST_NONE:
		return 1;
	case ST_INT:
		return *CFIELD(a, k, int) == *CFIELD(b, k, int);
	case ST_STR:
		return str_eq(*CFIELD(a, k, char *), *CFIELD(b, k, char *));
	case ST_PORTS:
		return *CCOUNT(a, k) == *CCOUNT(b, k) &&
		       memcmp(CFIELD(a, k, int), CFIELD(b, k, int),
			      sizeof(int) * (size_t)*CCOUNT(a, k)) == 0;
	case ST_LIST:
		if (*CCOUNT(a, k) != *CCOUNT(b, k))
			return 0;
		for (int i = 0; i < *CCOUNT(a, k); i++)
			if (!str_eq(CFIELD(a, k, char *)[i], CFIELD(b, k, char *)[i]))
				return 0;
		return 1;
	}
	return 0;
}

int config_equal(const struct config *a, const struct config *b)
{
	for (const struct keyword *k = keywords; k->name; k++)
		if (!kw_equal(a, b, k))
			return 0;
	for (int i = 0; i < a->n_subsystems; i++)
		if (!str_eq(a->subsystem_cmds[i], b->subsystem_cmds[i]))
			return 0;
	return a->rekey_bytes == b->rekey_bytes && a->rekey_seconds == b->rekey_seconds &&
	       a->max_startups_rate == b->max_startups_rate &&
	       a->max_startups_full == b->max_startups_full &&
	       memcmp(&a->penalties, &b->penalties, sizeof a->penalties) == 0 &&
	       str_eq(a->permit_user_env_pattern, b->permit_user_env_pattern);
}

int config_load_file(struct config *c, const char *path, char *err, size_t errsz)
{
	struct config scratch;
	config_defaults(&scratch);
	struct pctx p = { .c = c, .scratch = &scratch, .mode = PM_LOAD,
			  .err = err, .errsz = errsz };
	if (err && errsz)
		err[0] = 0;
	int rc = parse_file(&p, path, -1);
	config_free(&scratch);
	return rc;
}

int config_load_text(struct config *c, const char *name, const char *text, size_t len,
		     char *err, size_t errsz)
{
	struct config scratch;
	FILE *f = fmemopen((void *)text, len, "r");
	if (!f) {
		snprintf(err, errsz, "%s: %m", name);
		return -1;
	}
	config_defaults(&scratch);
	struct pctx p = { .c = c, .scratch = &scratch, .mode = PM_LOAD,
			  .err = err, .errsz = errsz };
	if (err && errsz)
		err[0] = 0;
	int rc = parse_stream(&p, f, name, -1);
	config_free(&scratch);
	return rc;
}

/* A Match criterion's value as one word that splits back the same. */
static void put_word(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

void config_serialize(const struct config *c, FILE *out)
{
	config_dump(c, out);
	for (int i = 0; i < c->n_matches; i++) {
		const struct cfg_match *m = &c->matches[i];
		fputs("Match", out);
		if (m->all)
			fputs(" all", out);
		for (int j = 0; j < m->n_crit; j++) {
			fprintf(out, " %s ", m->crit_kw[j]);
			put_word(out, m->crit_val[j]);
		}
		fputc('\n', out);
		for (int j = 0; j < m->n_lines; j++)
			fprintf(out, "%s\n", m->lines[j].text);
	}
}

int config_apply_option(struct config *c, const char *line, char *err, size_t errsz)
{
	struct pctx p = { .c = c, .mode = PM_CMDLINE, .err = err, .errsz = errsz };
	int block = -1;
	if (err && errsz)
		err[0] = 0;
	if (strchr(line, '\n')) {
		char kw[128];
		first_word(line, kw, sizeof kw);
		return perr(&p, kw_display(kw), "newline in option");
	}
	char *av[MAX_WORDS];
	const char *why = NULL;
	int n = split_line(line, av, MAX_WORDS, &why);
	if (n <= 0) {
		char kw[128];
		first_word(line, kw, sizeof kw);
		return perr(&p, *kw ? kw_display(kw) : "(empty)", "%s", n < 0 ? why : "empty option");
	}
	int rc = handle_words(&p, av, n, line, &block);
	free_words(av, n);
	return rc;
}

/* 1/0/-1 from a list matcher: 1 applies; -1 (excluded or malformed)
 * never; 0 applies too for a list of negations only ("!10.0.0.0/8"):
 * nothing positive can match, so OpenSSH's Match never applies it and the
 * bastion idiom `Match Address !10.0.0.0/8` would silently do nothing.
 * wombat reads it as "everything except". */
static int list_applies(int result, const char *list)
{
	return result == 1 || (result == 0 && match_list_only_negated(list));
}

static int group_excluded(const char *const *groups, const char *list)
{
	for (; *groups; groups++)
		if (match_pattern_list(*groups, list) < 0)
			return 1;
	return 0;
}

static int criterion_matches(const char *kw, const char *pat, const struct match_conn *mc)
{
	char port[16];
	if (strcmp(kw, "user") == 0)
		return mc->user && list_applies(match_pattern_list(mc->user, pat), pat);
	if (strcmp(kw, "group") == 0)
		return mc->groups && (match_group_list(mc->groups, pat) == 1 ||
				      (match_list_only_negated(pat) && !group_excluded(mc->groups, pat)));
	if (strcmp(kw, "address") == 0)
		return mc->addr && list_applies(match_addr_list(mc->addr, pat), pat);
	if (strcmp(kw, "host") == 0)
		return mc->host && list_applies(match_hostname_list(mc->host, pat), pat);
	if (strcmp(kw, "localaddress") == 0)
		return mc->laddr && list_applies(match_addr_list(mc->laddr, pat), pat);
	if (strcmp(kw, "localport") == 0) {
		if (mc->lport <= 0)
			return 0;
		snprintf(port, sizeof port, "%d", mc->lport);
		return list_applies(match_pattern_list(port, pat), pat);
	}
	return 0;   /* unknown criteria are refused at load; never match one */
}

/* Every criterion must match; one the connection does not know (NULL/0)
 * does not match. */
static int block_matches(const struct cfg_match *m, const struct match_conn *mc)
{
	if (m->all)
		return 1;
	for (int i = 0; i < m->n_crit; i++)
		if (!criterion_matches(m->crit_kw[i], m->crit_val[i], mc))
			return 0;
	return 1;
}

int config_match(struct config *c, const struct match_conn *mc)
{
	char err[512];
	struct pctx p = { .c = c, .mode = PM_MATCH, .err = err, .errsz = sizeof err };
	int rc = 0;
	memset(c->seen, 0, sizeof c->seen);
	for (int i = 0; i < c->n_matches; i++) {
		const struct cfg_match *m = &c->matches[i];
		if (!block_matches(m, mc))
			continue;
		debug("config: Match at %s:%d applies", m->file, m->line);
		for (int j = 0; j < m->n_lines; j++) {
			int block = -1;
			p.file = m->lines[j].file;
			p.line = m->lines[j].line;
			if (handle_line(&p, m->lines[j].text, &block) < 0) {
				error("%s", err);
				rc = -1;
			}
		}
	}
	return rc;
}

int config_matches_on_group(const struct config *c)
{
	for (int i = 0; i < c->n_matches; i++)
		for (int j = 0; j < c->matches[i].n_crit; j++)
			if (strcmp(c->matches[i].crit_kw[j], "group") == 0)
				return 1;
	return 0;
}

int config_each_match_block(const struct config *c,
			    void (*fn)(const struct config *applied, void *arg), void *arg)
{
	char err[512];
	for (int i = 0; i < c->n_matches; i++) {
		struct config tmp;
		struct pctx p = { .c = &tmp, .mode = PM_MATCH, .err = err, .errsz = sizeof err };
		int rc = 0;
		config_copy(&tmp, c);
		memset(tmp.seen, 0, sizeof tmp.seen);
		for (int j = 0; j < c->matches[i].n_lines && rc == 0; j++) {
			int block = -1;
			p.file = c->matches[i].lines[j].file;
			p.line = c->matches[i].lines[j].line;
			rc = handle_line(&p, c->matches[i].lines[j].text, &block);
		}
		if (rc == 0)
			fn(&tmp, arg);
		config_free(&tmp);
		if (rc < 0)
			return -1;
	}
	return 0;
}

void config_dump(const struct config *c, FILE *out)
{
	for (const struct keyword *k = keywords; k->name; k++)
		if (kw_dump(k))
			kw_dump(k)(c, k, out);
}

const char *config_match_keyword(int i)
{
	for (const struct keyword *k = keywords; k->name; k++) {
		if (!(k->flags & KW_MATCH) || (k->flags & (KW_ALIAS | KW_INCLUDE | KW_MATCHKW)))
			continue;
		if (i-- == 0)
			return k->name;
	}
	return NULL;
}
