/* Unit tests for crypto/dhgroup.c: moduli(5) lines good and bad, the
 * choice of size (RFC 4419 s3), the random pick among groups of one size,
 * the built-in set, and a moduli file that is missing, unsafe or full of
 * junk. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"
#include "crypto.h"
#include "dhgroup.h"
#include "dhgroup_builtin.h"

static char tmpdir[64];

#define N_BUILTIN (sizeof builtin_groups / sizeof builtin_groups[0])

/* Hex of a built-in group of `bits` bits (the tests need real-looking
 * primes; the table holds bytes), one buffer per group. */
static const char *builtin_hex(unsigned bits)
{
	static char hex[N_BUILTIN][2 * DH_GROUP_MAX_BYTES + 1];
	for (size_t i = 0; i < N_BUILTIN; i++) {
		if (builtin_groups[i].bits != bits)
			continue;
		const uint8_t *p = (const uint8_t *)builtin_groups[i].p;
		for (size_t j = 0; j < bits / 8; j++)
			snprintf(hex[i] + 2 * j, 3, "%02X", p[j]);
		return hex[i];
	}
	return NULL;
}

/* A moduli line: "stamp type tests trials size gen modulus". */
static char *line_for(char *buf, size_t n, int type, int tests, int trials, unsigned size,
		      const char *gen, const char *hex)
{
	snprintf(buf, n, "20240101000000 %d %d %d %u %s %s\n", type, tests, trials, size, gen, hex);
	return buf;
}

static void test_parse_line(void)
{
	static char buf[4200];
	struct dh_group g;
	const char *h2048 = builtin_hex(2048), *h8192 = builtin_hex(8192);
	CHECK(h2048 && h8192);
	if (!h2048 || !h8192)
		return;

	CHECK(dhgroup_parse_line(line_for(buf, sizeof buf, 2, 6, 100, 2047, "2", h2048), &g) == 1);
	CHECK(g.bits == 2048 && g.p_len == 256 && g.g == 2);
	CHECK(dhgroup_parse_line(line_for(buf, sizeof buf, 2, 6, 100, 2048, "5", h2048), &g) == 1);
	CHECK(g.g == 5);
	CHECK(dhgroup_parse_line(line_for(buf, sizeof buf, 2, 6, 100, 8191, "2", h8192), &g) == 1);
	CHECK(g.bits == 8192 && g.p_len == 1024);
	/* no trailing newline, tabs */
	snprintf(buf, sizeof buf, "20240101000000\t2\t6\t100\t2047\t2\t%s", h2048);
	CHECK(dhgroup_parse_line(buf, &g) == 1);

	/* skipped quietly: comments, blanks, untested / unsafe / composite */
	CHECK(dhgroup_parse_line("# Time Type Tests Tries Size Generator Modulus\n", &g) == 0);
	CHECK(dhgroup_parse_line("   \n", &g) == 0);
	CHECK(dhgroup_parse_line("", &g) == 0);
	CHECK(dhgroup_parse_line(line_for(buf, sizeof buf, 4, 6, 100, 2047, "2", h2048), &g) == 0);
	CHECK(dhgroup_parse_line(line_for(buf, sizeof buf, 2, 2, 100, 2047, "2", h2048), &g) == 0);
	CHECK(dhgroup_parse_line(line_for(buf, sizeof buf, 2, 7, 100, 2047, "2", h2048), &g) == 0);
	CHECK(dhgroup_parse_line(line_for(buf, sizeof buf, 2, 6, 0, 2047, "2", h2048), &g) == 0);
	/* well-formed but outside 2048..8192 bits (2^1024 - 1, 2^8400 - 1) */
	static char ones[2101];
	memset(ones, 'F', 256);
	ones[256] = 0;
	CHECK(dhgroup_parse_line(line_for(buf, sizeof buf, 2, 6, 100, 1023, "2", ones), &g) == 0);
	memset(ones, 'F', 2100);
	ones[2100] = 0;
	CHECK(dhgroup_parse_line(line_for(buf, sizeof buf, 2, 6, 100, 8399, "2", ones), &g) == 0);

	/* malformed */
	CHECK(dhgroup_parse_line("20240101000000 2 6 100 2047 2\n", &g) == -1);
	CHECK(dhgroup_parse_line(line_for(buf, sizeof buf, 2, 6, 100, 2047, "2 extra", h2048), &g) == -1);
	CHECK(dhgroup_parse_line(line_for(buf, sizeof buf, 2, 6, 100, 3071, "2", h2048), &g) == -1);
	CHECK(dhgroup_parse_line(line_for(buf, sizeof buf, 2, 6, 100, 2047, "1", h2048), &g) == -1);
	CHECK(dhgroup_parse_line(line_for(buf, sizeof buf, 2, 6, 100, 2047, "zz", h2048), &g) == -1);
	CHECK(dhgroup_parse_line(line_for(buf, sizeof buf, 2, 6, 100, 2047, "1ffffffff", h2048), &g) == -1);
	CHECK(dhgroup_parse_line(line_for(buf, sizeof buf, 2, 6, -1, 2047, "2", h2048), &g) == -1);
	snprintf(buf, sizeof buf, "20240101000000 2 6 100 2047 2 %.*sXY\n", 508, h2048);
	CHECK(dhgroup_parse_line(buf, &g) == -1);                 /* not hex */
	line_for(buf, sizeof buf, 2, 6, 100, 2047, "2", h2048);
	buf[strlen(buf) - 2] = 'C';                               /* ...C: even */
	CHECK(dhgroup_parse_line(buf, &g) == -1);
	buf[strlen(buf) - 2] = 'D';                               /* ...D: 1 mod 4 */
	CHECK(dhgroup_parse_line(buf, &g) == -1);
	/* hex digits in either case, with leading zeros: the same group */
	struct dh_group lower, upper;
	char hex[2100];
	for (size_t i = 0; h2048[i]; i++)
		hex[i] = (char)tolower((unsigned char)h2048[i]);
	hex[strlen(h2048)] = 0;
	CHECK(dhgroup_parse_line(line_for(buf, sizeof buf, 2, 6, 100, 2047, "2", hex), &lower) == 1);
	for (size_t i = 0; hex[i]; i++)
		hex[i] = (char)toupper((unsigned char)hex[i]);
	char padded[sizeof hex + 3];
	snprintf(padded, sizeof padded, "000%s", hex);
	CHECK(dhgroup_parse_line(line_for(buf, sizeof buf, 2, 6, 100, 2047, "2", padded), &upper) == 1);
	CHECK(lower.p_len == upper.p_len && memcmp(lower.p, upper.p, lower.p_len) == 0);
	/* an odd digit count: "7" and 256 f's is 1027 bits (too small to use,
	 * but its size field must match); a non-hex digit anywhere is an error */
	memset(hex, 'f', 257);
	hex[0] = '7';
	hex[257] = 0;
	CHECK(dhgroup_parse_line(line_for(buf, sizeof buf, 2, 6, 100, 1026, "2", hex), &g) == 0);
	CHECK(dhgroup_parse_line(line_for(buf, sizeof buf, 2, 6, 100, 1027, "2", hex), &g) == 0);
	CHECK(dhgroup_parse_line(line_for(buf, sizeof buf, 2, 6, 100, 1030, "2", hex), &g) == -1);
	hex[100] = 'g';
	CHECK(dhgroup_parse_line(line_for(buf, sizeof buf, 2, 6, 100, 1026, "2", hex), &g) == -1);
	hex[100] = 'f';
	hex[0] = 'x';
	CHECK(dhgroup_parse_line(line_for(buf, sizeof buf, 2, 6, 100, 1026, "2", hex), &g) == -1);
	/* longer than 8192 bits: well-formed is skipped, not hex is an error */
	memset(hex, 'f', 2051);
	hex[2051] = 0;
	CHECK(dhgroup_parse_line(line_for(buf, sizeof buf, 2, 6, 100, 8203, "2", hex), &g) == 0);
	hex[2049] = 'q';
	CHECK(dhgroup_parse_line(line_for(buf, sizeof buf, 2, 6, 100, 8203, "2", hex), &g) == -1);
	char *longline = malloc(5000);
	memset(longline, '7', 4999);
	longline[4999] = 0;
	CHECK(dhgroup_parse_line(longline, &g) == -1);
	free(longline);
}

static const char *write_file(const char *name, const char *text, mode_t mode)
{
	static char path[128];
	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");
	if (!f)
		return NULL;
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
	return path;
}

/* Size choice over the built-in set (2048, 3072, 4096, 6144, 8192). */
static void test_choose_sizes(void)
{
	struct dh_group g;
	struct dhgroup_scan scan;
	static const struct { uint32_t min, want, max; unsigned bits; } cases[] = {
		{ 2048, 8192, 8192, 8192 },
		{ 2048, 2048, 8192, 2048 },
		{ 1024, 2048, 8192, 2048 },
		{ 1024, 1024, 1024, 0 },      /* all below 2048: refused */
		{ 2048, 3000, 8192, 3072 },   /* smallest at or above want */
		{ 2048, 5000, 5000, 4096 },   /* else the largest below */
		{ 4097, 5000, 6000, 0 },      /* nothing in range */
		{ 2048, 9000, 10000, 8192 },  /* want above 8192: 8192 */
		{ 3000, 2500, 4000, 0 },      /* min > want: a bad request */
		{ 2048, 4096, 3000, 0 },      /* want > max */
		{ 7000, 7680, 8192, 8192 },
		{ 0, 0, 0xffffffffu, 2048 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int r = dhgroup_choose(NULL, cases[i].min, cases[i].want, cases[i].max, &g, &scan);
		if (cases[i].bits == 0) {
			CHECK(r == -1);
		} else {
			CHECK(r == 0 && g.bits == cases[i].bits && g.g == 2);
			CHECK(scan.file_missing && !scan.from_file);
			if (r != 0 || g.bits != cases[i].bits)
				fprintf(stderr, "  case %zu: %u/%u/%u gave %d, %u bits\n", i,
					cases[i].min, cases[i].want, cases[i].max, r, g.bits);
		}
	}
}

/* A file with two 2048-bit groups (g 2 and 5), a 4096-bit one and junk:
 * bad lines are counted, the pick is random among equals, the file wins
 * over the built-in set for sizes it has. */
static void test_choose_file(void)
{
	struct dh_group g;
	struct dhgroup_scan scan;
	static char text[20000], l1[4200], l2[4200], l3[4200];
	const char *h2048 = builtin_hex(2048), *h4096 = builtin_hex(4096);
	snprintf(text, sizeof text,
		 "# moduli\n%s"
		 "garbage line\n"
		 "%s"
		 "20240101000000 2 6 100 2047 2 NOTHEX\n"
		 "%s",
		 line_for(l1, sizeof l1, 2, 6, 100, 2047, "2", h2048),
		 line_for(l2, sizeof l2, 2, 6, 100, 2047, "5", h2048),
		 line_for(l3, sizeof l3, 2, 6, 100, 4095, "3", h4096));
	const char *path = write_file("moduli", text, 0644);
	CHECK(path != NULL);

	int saw2 = 0, saw5 = 0;
	for (int i = 0; i < 64; i++) {
		CHECK(dhgroup_choose(path, 2048, 2048, 8192, &g, &scan) == 0);
		CHECK(g.bits == 2048 && scan.from_file);
		saw2 += g.g == 2;
		saw5 += g.g == 5;
	}
	CHECK(saw2 > 0 && saw5 > 0 && saw2 + saw5 == 64);
	CHECK(scan.bad_lines == 2 && scan.first_bad_line == 3);

	CHECK(dhgroup_choose(path, 2048, 8192, 8192, &g, &scan) == 0);
	CHECK(g.bits == 4096 && g.g == 3 && scan.from_file);  /* largest below want */
	CHECK(dhgroup_choose(path, 6000, 8192, 8192, &g, &scan) == 0);
	CHECK(g.bits == 8192 && !scan.from_file && !scan.file_missing);  /* built-in */

	/* writable by others: not trusted, built-in set */
	path = write_file("moduli", text, 0666);
	CHECK(dhgroup_choose(path, 2048, 2048, 2048, &g, &scan) == 0);
	CHECK(scan.file_unsafe && !scan.from_file && g.g == 2 && scan.bad_lines == 0);

	/* a file of nothing but junk (and an overlong line) */
	static char junk[12000];
	memset(junk, 'a', 9000);
	junk[9000] = 0;
	strcat(junk, "\n1 2 3\n\n#\n");
	path = write_file("moduli", junk, 0644);
	CHECK(dhgroup_choose(path, 2048, 3072, 8192, &g, &scan) == 0);
	CHECK(g.bits == 3072 && !scan.from_file && scan.bad_lines == 2 &&
	      scan.first_bad_line == 1);

	/* missing file, and a directory */
	CHECK(dhgroup_choose("/nonexistent/moduli", 2048, 4096, 8192, &g, &scan) == 0);
	CHECK(g.bits == 4096 && scan.file_missing);
	CHECK(dhgroup_choose(tmpdir, 2048, 4096, 8192, &g, &scan) == 0);
	CHECK(g.bits == 4096 && !scan.from_file);
}

/* Every built-in group: the size it claims, p = 3 mod 4, and it parses as a
 * moduli line (primality is checked with openssl in the integration tests). */
static void test_builtin_set(void)
{
	static char buf[4200];
	struct dh_group g;
	static const unsigned want[] = { 2048, 3072, 4096, 6144, 8192 };
	CHECK(sizeof builtin_groups / sizeof builtin_groups[0] == 5);
	for (size_t i = 0; i < 5; i++) {
		const char *hex = builtin_hex(want[i]);
		CHECK(hex && strlen(hex) == want[i] / 4);
		if (!hex)
			continue;
		CHECK(dhgroup_parse_line(line_for(buf, sizeof buf, 2, 6, 100, want[i] - 1, "2", hex),
					 &g) == 1);
		CHECK(g.bits == want[i]);
	}
}

int main(void)
{
	CHECK(crypto_init() == 0);
	snprintf(tmpdir, sizeof tmpdir, "/tmp/test_dhgroup.XXXXXX");
	if (!mkdtemp(tmpdir))
		return 1;
	test_parse_line();
	test_choose_sizes();
	test_choose_file();
	test_builtin_set();
	char path[128];
	snprintf(path, sizeof path, "%s/moduli", tmpdir);
	unlink(path);
	rmdir(tmpdir);
	return UNIT_DONE();
}
