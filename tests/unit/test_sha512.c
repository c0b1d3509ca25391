/* test_sha512: crypto/sha512.c (SHA-512 and SHA-384, portable C): the FIPS
 * 180-4 examples (NIST's "Examples with intermediate values"), the same
 * digest however the input is split across updates, equal to libtomcrypt's
 * for every length up to three blocks and for random long ones, and
 * hash_mem()/hash_ctx (what HMAC, the key exchange and the key derivation
 * use) and Ed25519's own calls on the same code.
 *
 *   test_sha512 --dump N SEED   pseudo-random messages and our SHA-512 and
 *                               SHA-384 digests, for
 *                               tests/integration/test_crypto_crosscheck.py
 *                               (python3 hashlib) */
#include <stdlib.h>
#include <tomcrypt.h>

#include "crypto.h"
#include "sha512.h"
#include "unit.h"
#include "dump.h"

static void check_hex(enum hash_alg a, const void *m, size_t n, const char *want_hex)
{
	uint8_t want[64], got[64];
	size_t len = hash_len(a);
	unit_unhex(want_hex, want, len);
	struct sha512_ctx c;
	if (a == HASH_SHA512) {
		sha512(m, n, got);
		CHECK_MEM(got, want, len);
		sha512_start(&c);
		sha512_absorb(&c, m, n);
		sha512_finish(&c, got);
	} else {
		sha384_start(&c);
		sha512_absorb(&c, m, n);
		sha384_finish(&c, got);
	}
	CHECK_MEM(got, want, len);
	memset(got, 0, sizeof got);
	hash_mem(a, m, n, got);
	CHECK_MEM(got, want, len);
}

static const char TWO_BLOCK_MSG[] =
	"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";

static void test_fips180_examples(void)
{
	check_hex(HASH_SHA512, "abc", 3,
		  "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
		  "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
	check_hex(HASH_SHA512, "", 0,
		  "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
		  "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e");
	check_hex(HASH_SHA512, TWO_BLOCK_MSG, 112,
		  "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018"
		  "501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909");
	check_hex(HASH_SHA384, "abc", 3,
		  "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
		  "8086072ba1e7cc2358baeca134c825a7");
	check_hex(HASH_SHA384, TWO_BLOCK_MSG, 112,
		  "09330c33f71147e83d192fc782cd1b4753111b173b3b05d22fa08086e3b0f712"
		  "fcc7c71a557e2db966c3e9fa91746039");

	/* one million 'a', fed in uneven pieces */
	static uint8_t a[1000];
	memset(a, 'a', sizeof a);
	struct sha512_ctx c;
	uint8_t got[64], want[64];
	sha512_start(&c);
	for (size_t done = 0, step = 1; done < 1000000; done += step, step = step % 997 + 1) {
		if (step > 1000000 - done)
			step = 1000000 - done;
		sha512_absorb(&c, a, step);
	}
	sha512_finish(&c, got);
	unit_unhex("e718483d0ce769644e2e42c7bc15b4638e1f98b13b2044285632a803afa973eb"
		   "de0ff244877ea60a4cb0432ce577c31beb009c5c2c49aa2e4eadb217ad8cc09b", want, 64);
	CHECK_MEM(got, want, 64);
}

static void theirs(enum hash_alg a, const uint8_t *m, size_t n, uint8_t out[64])
{
	hash_state st;
	if (a == HASH_SHA512) {
		CHECK(sha512_init(&st) == CRYPT_OK);
		CHECK(sha512_process(&st, m, (unsigned long)n) == CRYPT_OK);
		CHECK(sha512_done(&st, out) == CRYPT_OK);
	} else {
		CHECK(sha384_init(&st) == CRYPT_OK);
		CHECK(sha384_process(&st, m, (unsigned long)n) == CRYPT_OK);
		CHECK(sha384_done(&st, out) == CRYPT_OK);
	}
}

/* every length to 400 bytes (three blocks and the padding edges 111/112),
 * then random lengths; each also in two pieces through a hash_ctx, and
 * from a copied hash_ctx (as HMAC starts each message) */
static void test_against_libtomcrypt(enum hash_alg a)
{
	static uint8_t m[9000];
	uint8_t ours[64], ref[64], split[64], copied[64];
	size_t len = hash_len(a);
	for (int r = 0; r < 600; r++) {
		size_t n = r <= 400 ? (size_t)r : rand_u32() % sizeof m;
		rand_bytes(m, n);
		hash_mem(a, m, n, ours);
		theirs(a, m, n, ref);
		CHECK_MEM(ours, ref, len);
		size_t cut = n ? rand_u32() % n : 0;
		hash_ctx c, d;
		hash_init(&c, a);
		hash_update(&c, m, cut);
		d = c;
		hash_update(&c, m + cut, n - cut);
		hash_final(&c, split);
		CHECK_MEM(split, ref, len);
		hash_update(&d, m + cut, n - cut);
		hash_final(&d, copied);
		CHECK_MEM(copied, ref, len);
	}
}

/* ---- dump for the cross-check against python3 hashlib ---- */

static int dump(int count, uint64_t seed)
{
	prng_seed(seed);
	printf("impl portable\n");
	for (int i = 0; i < count; i++) {
		uint8_t m[3000], len[2], d[64];
		prng_bytes(len, 2);
		size_t n = i < 260 ? (size_t)i : ((size_t)len[0] << 8 | len[1]) % sizeof m;
		prng_bytes(m, n);
		enum hash_alg a = i % 3 == 2 ? HASH_SHA384 : HASH_SHA512;
		hash_mem(a, m, n, d);
		printf(a == HASH_SHA384 ? "sha384" : "sha512");
		hex(m, n);
		hex(d, hash_len(a));
		putchar('\n');
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (crypto_init() != 0)
		return 1;
	if (argc == 4 && strcmp(argv[1], "--dump") == 0)
		return dump(atoi(argv[2]), strtoull(argv[3], NULL, 10));
	test_fips180_examples();
	test_against_libtomcrypt(HASH_SHA512);
	test_against_libtomcrypt(HASH_SHA384);
	return UNIT_DONE();
}
