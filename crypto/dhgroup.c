/* dhgroup: choosing the group-exchange group, from a moduli(5) file or the
 * built-in set. The file is read line by line with a fixed buffer and the
 * choice made in the same pass (reservoir sampling), so a large or hostile
 * file costs no memory and a bad line only itself. */
#include "dhgroup.h"
#include "ascii.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto.h"
#include "log.h"        /* str_token */
#include "dhgroup_builtin.h"

/* moduli(5) fields */
#define MODULI_TYPE_SAFE 2
#define MODULI_TEST_COMPOSITE 0x01
#define MODULI_TEST_MILLER_RABIN 0x04
#define MODULI_FIELDS 7
/* 8192 bits of hex plus the six short fields, with room to spare */
#define MODULI_LINE_MAX 4096

/* ---- parsing one line ---- */

/* Whole token as an unsigned decimal (base 10) or hex (base 16) number. */
/* unsigned long long: the time stamp field (YYYYMMDDHHMMSS) does not fit a
 * 32-bit unsigned long */
static int parse_num(const char *tok, int base, unsigned long long max,
		     unsigned long long *out)
{
	char *end;
	if (!a_xdigit((unsigned char)tok[0]))
		return -1;
	errno = 0;
	unsigned long long v = strtoull(tok, &end, base);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

/* Hex digit values plus one (0: not a hex digit): a moduli file is some
 * 1.1 million hex digits, and this lookup is most of what reading it costs. */
static const uint8_t hex_plus1[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6, ['6'] = 7,
	['7'] = 8, ['8'] = 9, ['9'] = 10,
	['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
	['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

static int hex_nibble(char c)
{
	return hex_plus1[(unsigned char)c] - 1;
}

static int all_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!hex_plus1[(unsigned char)s[i]])
			return 0;
	return 1;
}

/* Hex digits -> big-endian magnitude without leading zero bytes, checked
 * and converted in one pass. 0 ok, 1 well-formed but longer than
 * DH_GROUP_MAX_BYTES, -1 not hex. */
static int parse_modulus(const char *hex, struct dh_group *g)
{
	size_t n = strlen(hex);
	while (n > 1 && *hex == '0') {
		hex++;
		n--;
	}
	if (n == 0)
		return -1;
	if ((n + 1) / 2 > DH_GROUP_MAX_BYTES)
		return all_hex(hex, n) ? 1 : -1;
	g->p_len = (n + 1) / 2;
	size_t o = 0, i = 0;
	if (n % 2) {
		int v = hex_nibble(hex[i++]);
		if (v < 0)
			return -1;
		g->p[o++] = (uint8_t)v;
	}
	for (; i < n; i += 2) {
		int hi = hex_nibble(hex[i]), lo = hex_nibble(hex[i + 1]);
		if ((hi | lo) < 0)
			return -1;
		g->p[o++] = (uint8_t)(hi << 4 | lo);
	}
	unsigned top = g->p[0], topbits = 0;
	while (top) {
		topbits++;
		top >>= 1;
	}
	g->bits = (unsigned)(8 * (g->p_len - 1)) + topbits;
	return 0;
}

/* Split a line into at most max whitespace-separated tokens (in place). */
static int split_fields(char *line, char **tok, int max)
{
	int n = 0;
	for (char *t = str_token(&line, " \t\r\n"); t; t = str_token(&line, " \t\r\n")) {
		if (n == max)
			return -1;
		tok[n++] = t;
	}
	return n;
}

int dhgroup_parse_line(const char *line, struct dh_group *out)
{
	char buf[MODULI_LINE_MAX + 2];
	char *f[MODULI_FIELDS];
	unsigned long long stamp, type, tests, trials, size, gen;

	size_t len = strlen(line);
	if (len > MODULI_LINE_MAX)
		return -1;
	memcpy(buf, line, len + 1);
	int n = split_fields(buf, f, MODULI_FIELDS);
	if (n == 0 || f[0][0] == '#')
		return 0;
	if (n != MODULI_FIELDS ||
	    parse_num(f[0], 10, 99999999999999ull, &stamp) < 0 ||
	    parse_num(f[1], 10, 255, &type) < 0 ||
	    parse_num(f[2], 10, 255, &tests) < 0 ||
	    parse_num(f[3], 10, 100000, &trials) < 0 ||
	    parse_num(f[4], 10, 100000, &size) < 0 ||
	    parse_num(f[5], 16, 0xfffffffful, &gen) < 0)
		return -1;
	int m = parse_modulus(f[6], out);
	if (m < 0)
		return -1;
	if (m > 0)
		return 0;                       /* larger than wombat uses */
	/* ssh-keygen writes the size as bits - 1; accept the exact size too */
	if (size + 1 != out->bits && size != out->bits)
		return -1;
	if ((out->p[out->p_len - 1] & 3) != 3 || gen < 2)
		return -1;                      /* a safe prime > 5 is 3 mod 4 */
	if (type != MODULI_TYPE_SAFE || (tests & MODULI_TEST_COMPOSITE) ||
	    !(tests & MODULI_TEST_MILLER_RABIN) || trials == 0)
		return 0;                       /* not (yet) a tested safe prime */
	if (out->bits < DH_GROUP_MIN_BITS || out->bits > DH_GROUP_MAX_BITS)
		return 0;
	out->g = (uint32_t)gen;
	return 1;
}

/* ---- choosing ---- */

struct pick {
	uint32_t lo, want, hi;
	unsigned best_bits;      /* 0: nothing yet */
	uint32_t seen;           /* candidates of best_bits so far */
	struct dh_group *out;
};

/* Is a size a better fit than b for the request? At or above `want` beats
 * below it; above, smaller is better; below, larger is better. */
static int better_size(const struct pick *pk, unsigned a, unsigned b)
{
	int a_up = a >= pk->want, b_up = b >= pk->want;
	if (a_up != b_up)
		return a_up;
	return a_up ? a < b : a > b;
}

static uint32_t uniform_below(uint32_t n)
{
	uint32_t r, limit = UINT32_MAX - UINT32_MAX % n;
	do
		rand_bytes(&r, sizeof r);
	while (r >= limit);
	return r % n;
}

/* Offer one candidate: kept if its size fits best so far, and then with
 * probability 1/k among the k of that size (each ends up equally likely). */
static void offer(struct pick *pk, const struct dh_group *g)
{
	if (g->bits < pk->lo || g->bits > pk->hi)
		return;
	if (pk->best_bits == 0 || better_size(pk, g->bits, pk->best_bits)) {
		pk->best_bits = g->bits;
		pk->seen = 0;
	} else if (g->bits != pk->best_bits) {
		return;
	}
	pk->seen++;
	if (uniform_below(pk->seen) == 0)
		*pk->out = *g;
}

/* A moduli file root (or we) own and no one else can write, as sshd's. */
static int file_trusted(FILE *fp)
{
	struct stat st;
	return fstat(fileno(fp), &st) == 0 && S_ISREG(st.st_mode) &&
	       (st.st_uid == 0 || st.st_uid == geteuid()) &&
	       !(st.st_mode & (S_IWGRP | S_IWOTH));
}

/* Skip the rest of an overlong line. */
static void skip_line(FILE *fp)
{
	int c;
	while ((c = fgetc(fp)) != EOF && c != '\n')
		;
}

static void scan_file(FILE *fp, struct pick *pk, struct dhgroup_scan *scan)
{
	char line[MODULI_LINE_MAX + 2];
	struct dh_group g;
	int lineno = 0;

	while (fgets(line, sizeof line, fp)) {
		lineno++;
		size_t len = strlen(line);
		int r;
		if (len == sizeof line - 1 && line[len - 1] != '\n') {
			skip_line(fp);
			r = -1;
		} else {
			r = dhgroup_parse_line(line, &g);
		}
		if (r < 0) {
			if (!scan->bad_lines++)
				scan->first_bad_line = lineno;
		} else if (r > 0) {
			offer(pk, &g);
		}
	}
	wipe(&g, sizeof g);
}

static void scan_builtin(struct pick *pk)
{
	struct dh_group g;
	for (size_t i = 0; i < sizeof builtin_groups / sizeof builtin_groups[0]; i++) {
		const uint8_t *p = (const uint8_t *)builtin_groups[i].p;
		size_t len = builtin_groups[i].bits / 8;
		if (len > sizeof g.p || !(p[0] & 0x80))
			continue;       /* cannot happen: the table is generated */
		memcpy(g.p, p, len);
		g.p_len = len;
		g.bits = builtin_groups[i].bits;
		g.g = 2;
		offer(pk, &g);
	}
}

int dhgroup_choose(const char *moduli_path, uint32_t min, uint32_t want, uint32_t max,
		   struct dh_group *out, struct dhgroup_scan *scan)
{
	struct pick pk = { 0 };
	memset(scan, 0, sizeof *scan);
	pk.lo = min > DH_GROUP_MIN_BITS ? min : DH_GROUP_MIN_BITS;
	pk.hi = max < DH_GROUP_MAX_BITS ? max : DH_GROUP_MAX_BITS;
	pk.want = want < pk.lo ? pk.lo : want > pk.hi ? pk.hi : want;
	pk.out = out;
	if (min > want || want > max || pk.lo > pk.hi)
		return -1;

	FILE *fp = moduli_path && *moduli_path ? fopen(moduli_path, "re") : NULL;
	if (!fp) {
		scan->file_missing = 1;
	} else if (!file_trusted(fp)) {
		scan->file_unsafe = 1;
	} else {
		scan_file(fp, &pk, scan);
		scan->from_file = pk.best_bits != 0;
	}
	if (fp)
		fclose(fp);
	if (pk.best_bits == 0)
		scan_builtin(&pk);
	return pk.best_bits ? 0 : -1;
}
