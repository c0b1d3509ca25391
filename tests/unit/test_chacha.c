/* Unit tests for crypto/chacha.c and crypto/poly1305.c: the RFC 8439
 * Poly1305 vector, edge keys, and random inputs against libtomcrypt's
 * independent ChaCha20 (64-bit counter and nonce) and Poly1305, on the
 * scalar and (x86-64) SSE2 ChaCha20 code, across the 32-bit counter carry.
 *
 *   test_chacha --dump N SEED   pseudo-random cases with our outputs for
 *   test_crypto_crosscheck.py; WOMBAT_CRYPTO=portable picks the scalar code.
 *   The first line names the ChaCha20 and the (long-message) Poly1305 code.
 * (test_poly1305 compares the scalar and AVX2 Poly1305 in depth.) */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <tomcrypt.h>

#include "unit.h"
#include "dump.h"
#include "chacha.h"
#include "cpu.h"
#include "crypto.h"
#include "poly1305.h"

static void test_poly1305_rfc8439(void)
{
	uint8_t key[32], tag[16], want[16];
	const char *msg = "Cryptographic Forum Research Group";
	unit_unhex("85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b", key, 32);
	unit_unhex("a8061dc1305136c6c22b8baf0c0127a9", want, 16);
	poly1305_mac(tag, (const uint8_t *)msg, strlen(msg), key);
	CHECK_MEM(tag, want, 16);
}

static void theirs_poly(const uint8_t key[32], const uint8_t *m, size_t n, uint8_t tag[16])
{
	unsigned long tl = 16;
	CHECK(poly1305_memory(key, 32, m, (unsigned long)n, tag, &tl) == CRYPT_OK);
}

/* Keys and messages at the edges of the arithmetic: r and s all ones,
 * message blocks all ones (h near 2^130), empty and one-byte messages. */
static void test_poly1305_edges(void)
{
	uint8_t key[32], m[160], ours[16], theirs[16];
	static const size_t lens[] = { 0, 1, 15, 16, 17, 64, 159, 160 };
	for (int k = 0; k < 3; k++) {
		memset(key, k == 0 ? 0xff : 0, 32);
		if (k == 2)
			memset(key, 0xff, 16);          /* r all ones, s zero */
		memset(m, 0xff, sizeof m);
		for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
			poly1305_mac(ours, m, lens[i], key);
			theirs_poly(key, m, lens[i], theirs);
			CHECK_MEM(ours, theirs, 16);
		}
	}
}

/* RFC 8439 A.3 #5, #6, #8, #9: h lands on or just past p, where the last
 * reduction has to pick h - p (the carries the random tests rarely hit). */
static void test_poly1305_rfc8439_edges(void)
{
	static const struct { const char *key, *msg, *tag; } tv[] = {
		{ "02000000000000000000000000000000" "00000000000000000000000000000000",
		  "ffffffffffffffffffffffffffffffff", "03000000000000000000000000000000" },
		{ "02000000000000000000000000000000" "ffffffffffffffffffffffffffffffff",
		  "02000000000000000000000000000000", "03000000000000000000000000000000" },
		{ "01000000000000000000000000000000" "00000000000000000000000000000000",
		  "ffffffffffffffffffffffffffffffff" "fbfefefefefefefefefefefefefefefe"
		  "01010101010101010101010101010101", "00000000000000000000000000000000" },
		{ "02000000000000000000000000000000" "00000000000000000000000000000000",
		  "fdffffffffffffffffffffffffffffff", "faffffffffffffffffffffffffffffff" },
	};
	for (size_t i = 0; i < sizeof tv / sizeof tv[0]; i++) {
		uint8_t key[32], m[48], want[16], tag[16];
		unit_unhex(tv[i].key, key, 32);
		size_t n = unit_unhex(tv[i].msg, m, sizeof m);
		unit_unhex(tv[i].tag, want, 16);
		poly1305_mac(tag, m, n, key);
		CHECK_MEM(tag, want, 16);
	}
}

static void test_poly1305_random(void)
{
	uint8_t key[32], m[1100], ours[16], theirs[16];
	for (int r = 0; r < 200; r++) {
		size_t n = (size_t)rand_u32() % sizeof m;
		rand_bytes(key, 32);
		rand_bytes(m, n);
		poly1305_mac(ours, m, n, key);
		theirs_poly(key, m, n, theirs);
		CHECK_MEM(ours, theirs, 16);
	}
}

static void theirs_chacha(const uint8_t key[32], const uint8_t nonce[8], uint64_t ctr,
			  const uint8_t *in, uint8_t *out, size_t n)
{
	chacha_state st;
	CHECK(chacha_setup(&st, key, 32, 20) == CRYPT_OK);
	CHECK(chacha_ivctr64(&st, nonce, 8, ctr) == CRYPT_OK);
	if (n)
		CHECK(chacha_crypt(&st, in, (unsigned long)n, out) == CRYPT_OK);
}

static void test_chacha_random(void)
{
	static const uint64_t counters[] = { 0, 1, 0xfffffffdULL, 0x1234fffffffeULL };
	uint8_t key[32], nonce[8], in[2200], ours[2200], theirs[2200];
	for (int r = 0; r < 120; r++) {
		size_t n = r < 20 ? (size_t)r * 37 : (size_t)rand_u32() % sizeof in;
		uint64_t ctr = counters[r % 4];
		struct chacha_key ck;
		rand_bytes(key, 32);
		rand_bytes(nonce, 8);
		rand_bytes(in, n);
		chacha_setkey(&ck, key);
		chacha_xor(&ck, nonce, ctr, ours, in, n);
		theirs_chacha(key, nonce, ctr, in, theirs, n);
		if (memcmp(ours, theirs, n) != 0)
			fprintf(stderr, "chacha mismatch: %zu bytes, counter %llx (%s)\n",
				n, (unsigned long long)ctr, cpu_chacha_impl());
		CHECK_MEM(ours, theirs, n);
		memcpy(theirs, in, n);                  /* in place */
		chacha_xor(&ck, nonce, ctr, theirs, theirs, n);
		CHECK_MEM(ours, theirs, n);
	}
}

/* ---- dump for the cross-check against python3-cryptography ---- */


static int dump(int count, uint64_t seed)
{
	prng_seed(seed);
	printf("impl %s poly1305 %s\n", cpu_chacha_impl(), cpu_poly1305_impl());
	for (int i = 0; i < count; i++) {
		uint8_t key[32], nonce[8], c8[8], p[2100], len[2];
		struct chacha_key ck;
		prng_bytes(len, 2);
		size_t n = ((size_t)len[0] << 8 | len[1]) % sizeof p;
		prng_bytes(key, 32);
		prng_bytes(nonce, 8);
		prng_bytes(c8, 8);
		prng_bytes(p, n);
		/* counters near the 32-bit carry now and then */
		uint64_t ctr = i % 3 ? c8[0] : 0xffffffffULL - c8[0] % 8;
		if (i % 2 == 0) {
			printf("chacha");
			hex(key, 32); hex(nonce, 8);
			printf(" %llu", (unsigned long long)ctr);
			hex(p, n);
			chacha_setkey(&ck, key);
			chacha_xor(&ck, nonce, ctr, p, p, n);
			hex(p, n);
		} else {
			uint8_t tag[16];
			printf("poly1305");
			hex(key, 32); hex(p, n);
			poly1305_mac(tag, p, n, key);
			hex(tag, 16);
		}
		putchar('\n');
	}
	return 0;
}

static void run_all(void)
{
	test_poly1305_rfc8439();
	test_poly1305_rfc8439_edges();
	test_poly1305_edges();
	test_poly1305_random();
	test_chacha_random();
}

int main(int argc, char **argv)
{
	if (crypto_init() != 0)
		return 1;
	if (argc == 4 && strcmp(argv[1], "--dump") == 0)
		return dump(atoi(argv[2]), strtoull(argv[3], NULL, 10));
	cpu_select_aesni(1);
	int avx512vl = cpu_use_avx512vl(), avx2 = cpu_use_avx2(), sse2 = cpu_use_sse2();
	run_all();                          /* AVX-512VL or AVX2 where the CPU has it */
	if (avx512vl) {
		cpu_select_avx512vl(0);
		run_all();                  /* AVX2 */
	}
	if (avx2) {
		cpu_select_avx2(0);
		run_all();                  /* SSE2 */
	}
	cpu_select_aesni(0);
	run_all();                          /* scalar */
	printf("test_chacha: ChaCha20 code tested: %s%s%s\n", avx512vl ? "avx512vl, " : "",
	       avx2 ? "avx2, " : "",
	       sse2 ? "sse2, scalar" : "scalar");
	return UNIT_DONE();
}
