/* Unit tests for crypto/aes.c, ghash.c, gcm.c and aesni.c: published
 * vectors (FIPS-197, SP 800-38A, the GCM spec's test cases) on every
 * implementation this CPU has, the S-box circuit against the S-box's
 * definition for all 256 bytes, counter carries, and random inputs against
 * libtomcrypt's independent CTR and GCM and across implementations.
 *
 *   test_aes --dump N SEED   prints N pseudo-random AES-CTR and AES-GCM
 *   cases with our outputs for test_crypto_crosscheck.py (python3-
 *   cryptography); WOMBAT_CRYPTO=portable picks the implementation. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <tomcrypt.h>

#include "unit.h"
#include "dump.h"
#include "aes.h"
#include "cpu.h"
#include "crypto.h"
#include "gcm.h"

static const char *impl_name(void) { return cpu_aes_impl(); }

/* ---- the S-box from its definition: inverse in GF(2^8), then affine ---- */

static uint8_t gf_mul8(uint8_t a, uint8_t b)
{
	uint8_t r = 0;
	for (int i = 0; i < 8; i++) {
		if (b & 1)
			r ^= a;
		a = (uint8_t)((a << 1) ^ ((a & 0x80) ? 0x1b : 0));
		b >>= 1;
	}
	return r;
}

static uint8_t sbox_ref(uint8_t v)
{
	uint8_t inv = 0, r = 0x63;
	for (int c = 1; c < 256; c++)
		if (gf_mul8(v, (uint8_t)c) == 1)
			inv = (uint8_t)c;
	for (int i = 0; i < 8; i++) {
		int bit = (inv >> i) ^ (inv >> ((i + 4) % 8)) ^ (inv >> ((i + 5) % 8)) ^
			  (inv >> ((i + 6) % 8)) ^ (inv >> ((i + 7) % 8));
		r ^= (uint8_t)((bit & 1) << i);
	}
	return r;
}

/* The circuit through the public API: for a 128-bit key whose only
 * non-zero byte is the last, v, the schedule's first SubWord(RotWord(w3))
 * sees {0, 0, v, 0}, so byte 2 of round key 1 is S(v) (w0 and rcon are
 * zero there). All 256 values. */
static void test_sbox_all(void)
{
	int bad = 0;
	for (int v = 0; v < 256; v++) {
		uint8_t key[16] = { 0 };
		struct aes_key k;
		key[15] = (uint8_t)v;
		CHECK(aes_setkey(&k, key, 16) == 0);
		/* RotWord(w3) = {0, 0, v, 0}: byte 2 of w4 is S(v) */
		if (k.rk[1][2] != sbox_ref((uint8_t)v))
			bad++;
	}
	CHECK(bad == 0);
}

/* ---- published vectors ---- */

static void test_fips197(void)
{
	static const char *const keys[] = {
		"000102030405060708090a0b0c0d0e0f",
		"000102030405060708090a0b0c0d0e0f1011121314151617",
		"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
	};
	static const char *const cts[] = {
		"69c4e0d86a7b0430d8cdb78070b4c55a",
		"dda97ca4864cdfe06eaf70a0ec0d7191",
		"8ea2b7ca516745bfeafc49904b496089",
	};
	for (int i = 0; i < 3; i++) {
		uint8_t key[32], pt[16], want[16], out[16];
		size_t kl = unit_unhex(keys[i], key, sizeof key);
		struct aes_key k;
		unit_unhex("00112233445566778899aabbccddeeff", pt, 16);
		unit_unhex(cts[i], want, 16);
		CHECK(aes_setkey(&k, key, kl) == 0);
		CHECK(k.rounds == 10 + 2 * (unsigned)i);
		aes_encrypt_block(&k, pt, out);
		if (memcmp(out, want, 16) != 0)
			fprintf(stderr, "FIPS-197 AES-%zu mismatch (%s)\n", kl * 8, impl_name());
		CHECK_MEM(out, want, 16);
	}
	struct aes_key k;
	CHECK(aes_setkey(&k, (const uint8_t *)"0123456789abcdef", 15) == -1);
}

/* SP 800-38A F.5.1 CTR-AES128.Encrypt */
static void test_sp800_38a_ctr(void)
{
	uint8_t key[16], ctr[16], p[64], want[64];
	struct aes_key k;
	unit_unhex("2b7e151628aed2a6abf7158809cf4f3c", key, 16);
	unit_unhex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff", ctr, 16);
	unit_unhex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
		   "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710", p, 64);
	unit_unhex("874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff"
		   "5ae4df3edbd5d35e5b4f09020db03eab1e031dda2fbe03d1792170a0f3009cee", want, 64);
	CHECK(aes_setkey(&k, key, 16) == 0);
	aes_ctr(&k, ctr, 0, p, 1);               /* one block, then three */
	aes_ctr(&k, ctr, 0, p + 16, 3);
	CHECK_MEM(p, want, 64);
}

struct gcm_tv { const char *key, *iv, *aad, *pt, *ct, *tag; };

/* The GCM specification's (McGrew & Viega) test cases 1-4 and 13-16 */
static const struct gcm_tv gcm_tvs[] = {
	{ "00000000000000000000000000000000", "000000000000000000000000", "", "", "",
	  "58e2fccefa7e3061367f1d57a4e7455a" },
	{ "00000000000000000000000000000000", "000000000000000000000000", "",
	  "00000000000000000000000000000000", "0388dace60b6a392f328c2b971b2fe78",
	  "ab6e47d42cec13bdf53a67b21257bddf" },
	{ "feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888", "",
	  "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
	  "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
	  "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
	  "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985",
	  "4d5c2af327cd64a62cf35abd2ba6fab4" },
	{ "feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888",
	  "feedfacedeadbeeffeedfacedeadbeefabaddad2",
	  "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
	  "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
	  "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
	  "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
	  "5bc94fbc3221a5db94fae95ae7121a47" },
	{ "0000000000000000000000000000000000000000000000000000000000000000",
	  "000000000000000000000000", "", "", "", "530f8afbc74536b9a963b4f1c4cb738b" },
	{ "0000000000000000000000000000000000000000000000000000000000000000",
	  "000000000000000000000000", "", "00000000000000000000000000000000",
	  "cea7403d4d606b6e074ec5d3baf39d18", "d0d1c8a799996bf0265b98b5d48ab919" },
};

static void test_gcm_vectors(void)
{
	for (size_t i = 0; i < sizeof gcm_tvs / sizeof gcm_tvs[0]; i++) {
		const struct gcm_tv *v = &gcm_tvs[i];
		uint8_t key[32], iv[12], aad[32], pt[64], ct[64], tag[16], buf[64], out[16];
		size_t kl = unit_unhex(v->key, key, sizeof key);
		size_t al = unit_unhex(v->aad, aad, sizeof aad);
		size_t n = unit_unhex(v->pt, pt, sizeof pt);
		struct gcm_key g;
		unit_unhex(v->iv, iv, 12);
		unit_unhex(v->ct, ct, sizeof ct);
		unit_unhex(v->tag, tag, 16);
		CHECK(gcm_setkey(&g, key, kl) == 0);
		memcpy(buf, pt, n);
		gcm_seal(&g, iv, aad, al, buf, n, out);
		if (memcmp(buf, ct, n) != 0 || memcmp(out, tag, 16) != 0)
			fprintf(stderr, "GCM test vector %zu mismatch (%s)\n", i, impl_name());
		CHECK_MEM(buf, ct, n);
		CHECK_MEM(out, tag, 16);
		CHECK(gcm_open(&g, iv, aad, al, buf, n, tag) == 0);
		CHECK_MEM(buf, pt, n);
		/* a wrong tag leaves the ciphertext as it was */
		memcpy(buf, ct, n);
		out[0] ^= 1;
		CHECK(gcm_open(&g, iv, aad, al, buf, n, out) == -1);
		CHECK_MEM(buf, ct, n);
	}
}

/* ---- counters ---- */

static void add_be(uint8_t c[16], int from, unsigned v)
{
	for (int i = 15; i >= from && v; i--) {
		v += c[i];
		c[i] = (uint8_t)v;
		v >>= 8;
	}
}

/* aes_ctr's key stream against single blocks of counters counted here,
 * across the 64-bit carry, the 128-bit wrap, and the 32-bit wrap of inc32. */
static void test_counter_carries(void)
{
	static const char *const starts[] = {
		"000102030405060708090a0b0c0d0e0f",
		"0001020304050607fffffffffffffffa",
		"fffffffffffffffffffffffffffffffd",
		"00010203040506070809aabbfffffffc",
	};
	uint8_t key[16];
	struct aes_key k;
	rand_bytes(key, sizeof key);
	CHECK(aes_setkey(&k, key, 16) == 0);
	for (int inc32 = 0; inc32 < 2; inc32++)
		for (size_t s = 0; s < sizeof starts / sizeof starts[0]; s++) {
			uint8_t ctr[16], c2[16], ks[21 * 16] = { 0 }, want[21 * 16];
			unit_unhex(starts[s], ctr, 16);
			memcpy(c2, ctr, 16);
			for (int b = 0; b < 21; b++) {
				aes_encrypt_block(&k, c2, want + 16 * b);
				add_be(c2, inc32 ? 12 : 0, 1);
			}
			aes_ctr(&k, ctr, inc32, ks, 21);
			CHECK_MEM(ks, want, sizeof want);
			CHECK_MEM(ctr, c2, 16);
		}
}

/* ---- random inputs against libtomcrypt ---- */

static void test_against_libtomcrypt(void)
{
	int aes = find_cipher("aes");
	CHECK(aes >= 0);
	for (int r = 0; r < 60; r++) {
		size_t kl = 16 + 8 * (size_t)(r % 3), blocks = 1 + (size_t)r * 7 % 70;
		size_t n = 16 * blocks - (size_t)(r % 4 ? 0 : r % 16);    /* some partial */
		size_t al = (size_t)r % 21;
		uint8_t key[32], iv[16], aad[32], p[1200], ours[1200], theirs[1200];
		uint8_t tag1[16], tag2[16], ctr[16];
		unsigned long tl = 16;
		symmetric_CTR c;
		struct aes_key k;
		struct gcm_key g;

		rand_bytes(key, kl);
		rand_bytes(iv, 16);
		rand_bytes(aad, al);
		rand_bytes(p, n);

		/* CTR, big-endian 128-bit counter, whole blocks */
		memcpy(ours, p, n / 16 * 16);
		memcpy(ctr, iv, 16);
		CHECK(aes_setkey(&k, key, kl) == 0);
		aes_ctr(&k, ctr, 0, ours, n / 16);
		CHECK(ctr_start(aes, iv, key, (int)kl, 0, CTR_COUNTER_BIG_ENDIAN, &c) == CRYPT_OK);
		CHECK(ctr_encrypt(p, theirs, (unsigned long)(n / 16 * 16), &c) == CRYPT_OK);
		ctr_done(&c);
		CHECK_MEM(ours, theirs, n / 16 * 16);

		/* GCM with AAD and any length */
		memcpy(ours, p, n);
		CHECK(gcm_setkey(&g, key, kl) == 0);
		gcm_seal(&g, iv, aad, al, ours, n, tag1);
		CHECK(gcm_memory(aes, key, (unsigned long)kl, iv, 12, aad, (unsigned long)al,
				 p, (unsigned long)n, theirs, tag2, &tl, GCM_ENCRYPT) == CRYPT_OK);
		if (memcmp(ours, theirs, n) != 0 || memcmp(tag1, tag2, 16) != 0)
			fprintf(stderr, "GCM vs libtomcrypt: key %zu, aad %zu, %zu bytes (%s)\n",
				kl, al, n, impl_name());
		CHECK_MEM(ours, theirs, n);
		CHECK_MEM(tag1, tag2, 16);
		CHECK(gcm_open(&g, iv, aad, al, ours, n, tag1) == 0);
		CHECK_MEM(ours, p, n);
	}
}

/* ---- the implementations against each other ---- */

static void test_paths_agree(void)
{
	if (!cpu_select_aesni(1)) {
		printf("test_aes: no AES-NI/PCLMULQDQ here; cross-path check skipped\n");
		return;
	}
	for (int r = 0; r < 40; r++) {
		size_t kl = 16 + 8 * (size_t)(r % 3), n = 16 * (size_t)(1 + r * 13 % 300);
		uint8_t key[32], iv[12], aad[4], *a = malloc(n), *b = malloc(n);
		uint8_t ta[16], tb[16], ca[16], cb[16];
		struct gcm_key ga, gb;
		struct aes_key ka, kb;
		rand_bytes(key, kl);
		rand_bytes(iv, 12);
		rand_bytes(aad, 4);
		rand_bytes(a, n);
		memcpy(b, a, n);
		rand_bytes(ca, 16);
		memcpy(cb, ca, 16);

		cpu_select_aesni(1);
		CHECK(gcm_setkey(&ga, key, kl) == 0 && aes_setkey(&ka, key, kl) == 0);
		gcm_seal(&ga, iv, aad, 4, a, n, ta);
		aes_ctr(&ka, ca, 0, a, n / 16);
		cpu_select_aesni(0);
		CHECK(gcm_setkey(&gb, key, kl) == 0 && aes_setkey(&kb, key, kl) == 0);
		gcm_seal(&gb, iv, aad, 4, b, n, tb);
		aes_ctr(&kb, cb, 0, b, n / 16);
		CHECK_MEM(a, b, n);
		CHECK_MEM(ta, tb, 16);
		CHECK_MEM(ca, cb, 16);
		free(a);
		free(b);
	}
}

/* ---- dump for the cross-check against python3-cryptography ---- */


static int dump(int count, uint64_t seed)
{
	prng_seed(seed);
	printf("impl %s\n", impl_name());
	for (int i = 0; i < count; i++) {
		uint8_t key[32], iv[16], aad[40], p[2100], tag[16], ctr[16], len[2];
		size_t kl, al, n;
		struct aes_key k;
		struct gcm_key g;
		prng_bytes(len, 2);
		kl = 16 + 8 * (size_t)(len[0] % 3);
		n = (size_t)(len[1] % 128) * 16 + (i % 2 ? 0 : len[0] % 16);
		al = (size_t)len[0] % 40;
		prng_bytes(key, kl);
		prng_bytes(iv, 16);
		prng_bytes(aad, al);
		prng_bytes(p, n);
		if (i % 2 == 0) {
			printf("gcm");
			hex(key, kl); hex(iv, 12); hex(aad, al); hex(p, n);
			if (gcm_setkey(&g, key, kl) != 0)
				return 1;
			gcm_seal(&g, iv, aad, al, p, n, tag);
			hex(p, n); hex(tag, 16);
		} else {
			printf("ctr");
			hex(key, kl); hex(iv, 16); hex(p, n);
			if (aes_setkey(&k, key, kl) != 0)
				return 1;
			memcpy(ctr, iv, 16);
			aes_ctr(&k, ctr, 0, p, n / 16);
			hex(p, n);
		}
		putchar('\n');
	}
	return 0;
}

static void run_all(void)
{
	test_sbox_all();
	test_fips197();
	test_sp800_38a_ctr();
	test_gcm_vectors();
	test_counter_carries();
	test_against_libtomcrypt();
}

int main(int argc, char **argv)
{
	if (crypto_init() != 0)
		return 1;
	if (argc == 4 && strcmp(argv[1], "--dump") == 0)
		return dump(atoi(argv[2]), strtoull(argv[3], NULL, 10));

	int has_ni = cpu_select_aesni(1);
	if (has_ni)
		run_all();                     /* AES-NI + PCLMULQDQ */
	cpu_select_aesni(0);
	run_all();                             /* portable */
	test_paths_agree();
	printf("test_aes: implementations tested: %s\n", has_ni ? "aesni, portable" : "portable");
	return UNIT_DONE();
}
