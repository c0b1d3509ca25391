/* Unit tests for crypto/poly1305.c's code for long messages: the scalar
 * (64-bit limbs) and the AVX2 code (four blocks at a time, x86-64), which
 * cpu_select_avx2() switches between in this one process. Every case runs
 * on three paths:
 *   scalar    cpu_select_avx2(0), the library's poly1305_mac
 *   avx2      cpu_select_avx2(1), the library's poly1305_mac (vector code
 *             from 512 bytes)
 *   avx2-64   cpu_select_avx2(1), this file's copy of poly1305.c built with
 *             the vector code from 64 bytes, so that it also meets the
 *             short RFC vectors and every length from 64 on
 * The cases: RFC 8439 2.5.2 and A.3's eleven vectors; random keys and
 * messages of every length 0..2100 and a few of 32 KiB + 5, against
 * libtomcrypt as well; all-0xff messages with every clamp-allowed bit of r
 * set (the largest limbs and products the lazy carries must hold). */
#define POLY1305_AVX2_MIN 64
#define poly1305_mac poly1305_mac_from64
#include "../../crypto/poly1305.c"
#undef poly1305_mac

#include <stdlib.h>
#include <tomcrypt.h>

#include "cpu.h"
#include "unit.h"

/* the library's, which the included header declared under the other name */
void poly1305_mac(uint8_t tag[POLY1305_TAG], const uint8_t *m, size_t n,
		  const uint8_t key[POLY1305_KEY]);

enum { SCALAR, AVX2, AVX2_64, NPATHS };
static const char *const path_name[NPATHS] = { "scalar", "avx2", "avx2-64" };
static int have_avx2;

static void mac_on(int path, uint8_t tag[16], const uint8_t *m, size_t n, const uint8_t key[32])
{
	cpu_select_avx2(path != SCALAR);
	if (path == AVX2_64)
		poly1305_mac_from64(tag, m, n, key);
	else
		poly1305_mac(tag, m, n, key);
}

static void theirs(uint8_t tag[16], const uint8_t *m, size_t n, const uint8_t key[32])
{
	unsigned long tl = 16;
	CHECK(poly1305_memory(key, 32, m, (unsigned long)n, tag, &tl) == CRYPT_OK);
}

/* every path's tag against want; says which path and length differ */
static void check_paths(const uint8_t *m, size_t n, const uint8_t key[32],
			const uint8_t want[16], const char *what)
{
	for (int p = 0; p < NPATHS; p++) {
		uint8_t tag[16];
		if (p != SCALAR && !have_avx2)
			continue;
		mac_on(p, tag, m, n, key);
		if (memcmp(tag, want, 16) != 0)
			fprintf(stderr, "poly1305 %s: %s, %zu bytes: wrong tag\n", path_name[p], what, n);
		CHECK_MEM(tag, want, 16);
	}
}

static const char ietf[] =
	"Any submission to the IETF intended by the Contributor for publication as all or "
	"part of an IETF Internet-Draft or RFC and any statement made within the context of "
	"an IETF activity is considered an \"IETF Contribution\". Such statements include "
	"oral statements in IETF sessions, as well as written and electronic communications "
	"made at any time or place, which are addressed to";
static const char jabberwock[] =
	"'Twas brillig, and the slithy toves\nDid gyre and gimble in the wabe:\n"
	"All mimsy were the borogoves,\nAnd the mome raths outgrabe.";

/* RFC 8439 2.5.2 and A.3 #1..#11; msg NULL: text instead of hex */
static void test_rfc8439(void)
{
	static const struct { const char *key, *msg, *text, *tag; } tv[] = {
		{ "85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b", NULL,
		  "Cryptographic Forum Research Group", "a8061dc1305136c6c22b8baf0c0127a9" },
		{ "00000000000000000000000000000000" "00000000000000000000000000000000",
		  "00000000000000000000000000000000" "00000000000000000000000000000000"
		  "00000000000000000000000000000000" "00000000000000000000000000000000",
		  NULL, "00000000000000000000000000000000" },
		{ "00000000000000000000000000000000" "36e5f6b5c5e06070f0efca96227a863e",
		  NULL, ietf, "36e5f6b5c5e06070f0efca96227a863e" },
		{ "36e5f6b5c5e06070f0efca96227a863e" "00000000000000000000000000000000",
		  NULL, ietf, "f3477e7cd95417af89a6b8794c310cf0" },
		{ "1c9240a5eb55d38af333888604f6b5f0" "473917c1402b80099dca5cbc207075c0",
		  NULL, jabberwock, "4541669a7eaaee61e708dc7cbcc5eb62" },
		{ "02000000000000000000000000000000" "00000000000000000000000000000000",
		  "ffffffffffffffffffffffffffffffff", NULL, "03000000000000000000000000000000" },
		{ "02000000000000000000000000000000" "ffffffffffffffffffffffffffffffff",
		  "02000000000000000000000000000000", NULL, "03000000000000000000000000000000" },
		{ "01000000000000000000000000000000" "00000000000000000000000000000000",
		  "ffffffffffffffffffffffffffffffff" "f0ffffffffffffffffffffffffffffff"
		  "11000000000000000000000000000000", NULL, "05000000000000000000000000000000" },
		{ "01000000000000000000000000000000" "00000000000000000000000000000000",
		  "ffffffffffffffffffffffffffffffff" "fbfefefefefefefefefefefefefefefe"
		  "01010101010101010101010101010101", NULL, "00000000000000000000000000000000" },
		{ "02000000000000000000000000000000" "00000000000000000000000000000000",
		  "fdffffffffffffffffffffffffffffff", NULL, "faffffffffffffffffffffffffffffff" },
		{ "01000000000000000400000000000000" "00000000000000000000000000000000",
		  "e33594d7505e43b90000000000000000" "3394d7505e4379cd0100000000000000"
		  "00000000000000000000000000000000" "01000000000000000000000000000000",
		  NULL, "14000000000000005500000000000000" },
		{ "01000000000000000400000000000000" "00000000000000000000000000000000",
		  "e33594d7505e43b90000000000000000" "3394d7505e4379cd0100000000000000"
		  "00000000000000000000000000000000", NULL, "13000000000000000000000000000000" },
	};
	for (size_t i = 0; i < sizeof tv / sizeof tv[0]; i++) {
		uint8_t key[32], m[400], want[16];
		size_t n;
		char what[32];
		unit_unhex(tv[i].key, key, 32);
		unit_unhex(tv[i].tag, want, 16);
		if (tv[i].msg) {
			n = unit_unhex(tv[i].msg, m, sizeof m);
		} else {
			n = strlen(tv[i].text);
			memcpy(m, tv[i].text, n);
		}
		snprintf(what, sizeof what, "RFC 8439 vector %zu", i);
		check_paths(m, n, key, want, what);
	}
}

/* random key and message of every length 0..2100, and 32 KiB + 5 */
static void test_random(void)
{
	static uint8_t m[32768 + 5];
	uint8_t key[32], want[16];
	for (size_t n = 0; n <= 2100; n++) {
		rand_bytes(key, 32);
		rand_bytes(m, n);
		theirs(want, m, n, key);
		check_paths(m, n, key, want, "random");
	}
	for (int r = 0; r < 4; r++) {
		rand_bytes(key, 32);
		rand_bytes(m, sizeof m);
		theirs(want, m, sizeof m, key);
		check_paths(m, sizeof m, key, want, "random");
	}
}

/* The largest numbers the arithmetic meets: every bit of r the clamp
 * allows (key bytes 0..15 all 0xff), message blocks all ones with their
 * 2^128 bit, so every limb of h and of the r powers is at its maximum;
 * s all ones and zero (the final carry out of 2^128, and none). */
static void test_stress(void)
{
	static uint8_t m[32768 + 5];
	uint8_t key[32], want[16];
	memset(m, 0xff, sizeof m);
	for (int k = 0; k < 2; k++) {
		memset(key, 0xff, 16);
		memset(key + 16, k ? 0 : 0xff, 16);
		for (size_t n = 0; n <= 2100; n++) {
			theirs(want, m, n, key);
			check_paths(m, n, key, want, "all ones");
		}
		theirs(want, m, sizeof m, key);
		check_paths(m, sizeof m, key, want, "all ones");
	}
}

int main(void)
{
	if (crypto_init() != 0)
		return 1;
	have_avx2 = cpu_select_avx2(1);
	if (have_avx2)
		CHECK(strcmp(cpu_poly1305_impl(), "avx2") == 0);
	cpu_select_avx2(0);
	CHECK(strcmp(cpu_poly1305_impl(), "portable") == 0);

	test_rfc8439();
	test_random();
	test_stress();
	printf("test_poly1305: paths tested: %s\n",
	       have_avx2 ? "scalar, avx2, avx2-64" : "scalar (no AVX2 in this CPU or build)");
	return UNIT_DONE();
}
