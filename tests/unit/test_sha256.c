/* test_sha256: crypto/sha256.c on both paths (the SHA extensions where the
 * CPU has them, and the portable code): the FIPS 180-4 examples (NIST's
 * "Examples with intermediate values"), the same digest however the input is
 * split across updates, both paths equal to libtomcrypt's SHA-256 for every
 * length up to three blocks and for random long ones, and hash_mem() (what
 * the key exchange, signatures and HMAC use) on the same code.
 *
 *   test_sha256 --dump N SEED   pseudo-random messages and our digests, for
 *                               tests/integration/test_crypto_crosscheck.py
 *                               (python3 hashlib) */
#include <stdlib.h>
#include <tomcrypt.h>

#include "cpu.h"
#include "crypto.h"
#include "sha256.h"
#include "unit.h"
#include "dump.h"

static void digest_of(const void *m, size_t n, uint8_t out[32])
{
	struct sha256_ctx c;
	sha256_start(&c);
	sha256_absorb(&c, m, n);
	sha256_finish(&c, out);
}

static void check_hex(const void *m, size_t n, const char *want_hex)
{
	uint8_t want[32], got[32];
	unit_unhex(want_hex, want, sizeof want);
	digest_of(m, n, got);
	CHECK_MEM(got, want, 32);
	hash_mem(HASH_SHA256, m, n, got);
	CHECK_MEM(got, want, 32);
}

static void test_fips180_examples(void)
{
	check_hex("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	check_hex("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	check_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
		  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	check_hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
		  112, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");

	/* one million 'a', fed in uneven pieces */
	static uint8_t a[1000];
	memset(a, 'a', sizeof a);
	struct sha256_ctx c;
	uint8_t got[32], want[32];
	sha256_start(&c);
	for (size_t done = 0, step = 1; done < 1000000; done += step, step = step % 997 + 1) {
		if (step > 1000000 - done)
			step = 1000000 - done;
		sha256_absorb(&c, a, step);
	}
	sha256_finish(&c, got);
	unit_unhex("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0", want, 32);
	CHECK_MEM(got, want, 32);
}

static void theirs(const uint8_t *m, size_t n, uint8_t out[32])
{
	hash_state st;
	CHECK(sha256_init(&st) == CRYPT_OK);
	CHECK(sha256_process(&st, m, (unsigned long)n) == CRYPT_OK);
	CHECK(sha256_done(&st, out) == CRYPT_OK);
}

/* every length to 200 bytes, then random lengths; each also in two pieces */
static void test_against_libtomcrypt(void)
{
	static uint8_t m[5000];
	uint8_t ours[32], ref[32], split[32];
	for (int r = 0; r < 400; r++) {
		size_t n = r <= 200 ? (size_t)r : rand_u32() % sizeof m;
		rand_bytes(m, n);
		digest_of(m, n, ours);
		theirs(m, n, ref);
		CHECK_MEM(ours, ref, 32);
		size_t cut = n ? rand_u32() % n : 0;
		struct sha256_ctx c;
		sha256_start(&c);
		sha256_absorb(&c, m, cut);
		sha256_absorb(&c, m + cut, n - cut);
		sha256_finish(&c, split);
		CHECK_MEM(split, ref, 32);
	}
}

/* The two compression functions agree block for block. */
static void test_paths_agree(void)
{
	if (!cpu_use_shani()) {
		printf("test_sha256: no SHA extensions on this CPU: portable only\n");
		return;
	}
	uint8_t blocks[64 * 9];
	for (int r = 0; r < 50; r++) {
		uint32_t a[8], b[8];
		rand_bytes(a, sizeof a);
		memcpy(b, a, sizeof a);
		rand_bytes(blocks, sizeof blocks);
		size_t nb = 1 + rand_u32() % 9;
		sha256_blocks_shani(a, blocks, nb);
		sha256_blocks_portable(b, blocks, nb);
		CHECK_MEM(a, b, sizeof a);
	}
}

/* ---- dump for the cross-check against python3 hashlib ---- */


static int dump(int count, uint64_t seed)
{
	prng_seed(seed);
	printf("impl %s\n", cpu_sha256_impl());
	for (int i = 0; i < count; i++) {
		uint8_t m[3000], len[2], d[32];
		prng_bytes(len, 2);
		size_t n = i < 130 ? (size_t)i : ((size_t)len[0] << 8 | len[1]) % sizeof m;
		prng_bytes(m, n);
		hash_mem(HASH_SHA256, m, n, d);
		printf("sha256");
		hex(m, n);
		hex(d, 32);
		putchar('\n');
	}
	return 0;
}

static void run_all(void)
{
	test_fips180_examples();
	test_against_libtomcrypt();
}

int main(int argc, char **argv)
{
	if (crypto_init() != 0)
		return 1;
	if (argc == 4 && strcmp(argv[1], "--dump") == 0)
		return dump(atoi(argv[2]), strtoull(argv[3], NULL, 10));
	cpu_select_aesni(1);
	int shani = cpu_use_shani();
	run_all();
	test_paths_agree();
	cpu_select_aesni(0);
	run_all();
	printf("test_sha256: SHA-256 code tested: %s\n", shani ? "shani, portable" : "portable");
	return UNIT_DONE();
}
