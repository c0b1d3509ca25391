/* Unit tests for crypto/mlkem768.c (FIPS 203 final, ML-KEM-768).
 *
 * Known answers from outside:
 *  - the C2SP/CCTV "accumulated" test: 10000 key generations,
 *    encapsulations and decapsulations (one of a random ciphertext) driven by
 *    SHAKE-128(""), everything hashed; f959d18d... is the value published for
 *    FIPS 203 final (BoringSSL's and LibreSSL's tests carry it);
 *  - mlkem768_vectors.h, made by @noble/post-quantum (tests/unit/vectors).
 * Plus the input checks (modulus check, lengths, dk hash), implicit
 * rejection = J(z || c), and Compress/Decompress against exact arithmetic.
 *
 *   test_mlkem768 --dump N SEED   N lines "ours D Z M EK DK CT SS POS BIT
 *                                 SS_ALT BADRC" for the noble cross-check
 *   test_mlkem768 --decaps        reads "noble DK CT SS" lines; exit 1 if
 *                                 our decapsulation disagrees on any
 *   test_mlkem768 --keygen        prints "EK DK" (a fresh key pair)
 *   test_mlkem768 --decaps1 DK CT prints SS
 * The last two are the client-side ML-KEM of test_mlkem.py's paramiko. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tomcrypt.h>

#include "unit.h"
#include "crypto.h"
#include "mlkem768.h"
#include "mlkem768_vectors.h"

#define Q 3329

static const char cctv_final_10000[] =
	"f959d18d3d1180121433bf0e05f11e7908cf9d03edc150b2b07cb90bef5bc1c1";

static void sha256_of(uint8_t out[32], const uint8_t *p, size_t n)
{
	hash_mem(HASH_SHA256, p, n, out);
}

/* libtomcrypt's SHA-3 and SHAKE (FIPS 202), which ML-KEM's H, G, J, PRF and
 * XOF are, on the empty input; SHAKE squeezed in pieces (as SampleNTT does)
 * must continue the same stream. */
static void test_sha3(void)
{
	static const char sha3_256_empty[] =
		"a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a";
	static const char sha3_512_empty[] =
		"a69f73cca23a9ac5c8b567dc185a756e97c982164fe25859e0d1dcc1475c80a6"
		"15b2123af1f5f94c11e3e9402c3ac558f500199d95b6d3e301758586281dcd26";
	static const char shake128_empty[] = "7f9c2ba4e88f827d616045507605853e";
	static const char shake256_empty[] =
		"46b9dd2b0ba88d13233b3feb743eeb243fcd52ea62b81b82b50c27646ed5762f";
	uint8_t out[64], want[64], whole[400], pieces[400];
	hash_state s;

	sha3_256_init(&s);
	sha3_done(&s, out);
	CHECK_MEM(out, want, unit_unhex(sha3_256_empty, want, sizeof want));
	sha3_512_init(&s);
	sha3_done(&s, out);
	CHECK_MEM(out, want, unit_unhex(sha3_512_empty, want, sizeof want));
	sha3_shake_init(&s, 128);
	sha3_shake_done(&s, out, 16);
	CHECK_MEM(out, want, unit_unhex(shake128_empty, want, sizeof want));
	sha3_shake_init(&s, 256);
	sha3_shake_done(&s, out, 32);
	CHECK_MEM(out, want, unit_unhex(shake256_empty, want, sizeof want));

	sha3_shake_init(&s, 128);
	sha3_shake_process(&s, (const unsigned char *)"abc", 3);
	sha3_shake_done(&s, whole, sizeof whole);
	sha3_shake_init(&s, 128);
	sha3_shake_process(&s, (const unsigned char *)"abc", 3);
	for (size_t off = 0; off < sizeof pieces; off += 100)   /* crosses the 168-byte rate */
		sha3_shake_done(&s, pieces + off, 100);
	CHECK_MEM(whole, pieces, sizeof whole);
}

static void test_cctv_accumulated(void)
{
	static uint8_t ek[MLKEM768_EK_LEN], dk[MLKEM768_DK_LEN], ct[MLKEM768_CT_LEN],
		ct_random[MLKEM768_CT_LEN];
	uint8_t d[32], z[32], m[32], k[32], k2[32], k_random[32], out[32], want[32];
	hash_state rng, acc;
	int errors = 0, mismatches = 0;

	sha3_shake_init(&rng, 128);
	sha3_shake_init(&acc, 128);
	for (int i = 0; i < 10000; i++) {
		sha3_shake_done(&rng, d, 32);
		sha3_shake_done(&rng, z, 32);
		mlkem768_keygen_derand(ek, dk, d, z);
		sha3_process(&acc, ek, sizeof ek);
		sha3_process(&acc, dk, sizeof dk);
		sha3_shake_done(&rng, m, 32);
		errors += mlkem768_encaps_derand(ct, k, ek, sizeof ek, m) != 0;
		sha3_process(&acc, ct, sizeof ct);
		sha3_process(&acc, k, sizeof k);
		errors += mlkem768_decaps(k2, ct, sizeof ct, dk) != 0;
		mismatches += memcmp(k, k2, 32) != 0;
		sha3_shake_done(&rng, ct_random, sizeof ct_random);
		errors += mlkem768_decaps(k_random, ct_random, sizeof ct_random, dk) != 0;
		sha3_process(&acc, k_random, sizeof k_random);
	}
	sha3_shake_done(&acc, out, sizeof out);
	unit_unhex(cctv_final_10000, want, sizeof want);
	CHECK(errors == 0);
	CHECK(mismatches == 0);
	CHECK_MEM(out, want, 32);
}

static void test_noble_vectors(void)
{
	static uint8_t ek[MLKEM768_EK_LEN], dk[MLKEM768_DK_LEN], ct[MLKEM768_CT_LEN];
	for (size_t i = 0; i < sizeof mlkem_kats / sizeof mlkem_kats[0]; i++) {
		const struct mlkem_kat *v = &mlkem_kats[i];
		uint8_t d[32], z[32], m[32], h[32], want[32], ss[32], ss2[32];
		unit_unhex(v->d, d, 32);
		unit_unhex(v->z, z, 32);
		unit_unhex(v->m, m, 32);
		mlkem768_keygen_derand(ek, dk, d, z);
		sha256_of(h, ek, sizeof ek);
		unit_unhex(v->ek_sha256, want, 32);
		CHECK_MEM(h, want, 32);
		sha256_of(h, dk, sizeof dk);
		unit_unhex(v->dk_sha256, want, 32);
		CHECK_MEM(h, want, 32);
		CHECK(mlkem768_encaps_derand(ct, ss, ek, sizeof ek, m) == 0);
		sha256_of(h, ct, sizeof ct);
		unit_unhex(v->ct_sha256, want, 32);
		CHECK_MEM(h, want, 32);
		unit_unhex(v->ss, want, 32);
		CHECK_MEM(ss, want, 32);
		CHECK(mlkem768_decaps(ss2, ct, sizeof ct, dk) == 0);
		CHECK_MEM(ss2, want, 32);
		/* an altered ciphertext: noble's implicit-rejection secret */
		ct[v->alt_pos] ^= (uint8_t)(1u << v->alt_bit);
		CHECK(mlkem768_decaps(ss2, ct, sizeof ct, dk) == 0);
		unit_unhex(v->ss_alt, want, 32);
		CHECK_MEM(ss2, want, 32);
		CHECK(memcmp(ss2, ss, 32) != 0);
	}
}

/* Set coefficient j of polynomial p of an encapsulation key to v. */
static void set_coeff(uint8_t *ek, unsigned p, unsigned j, unsigned v)
{
	uint8_t *b = ek + p * 384 + (j / 2) * 3;
	if (j % 2 == 0) {
		b[0] = (uint8_t)v;
		b[1] = (uint8_t)((b[1] & 0xf0) | (v >> 8));
	} else {
		b[1] = (uint8_t)((b[1] & 0x0f) | ((v & 0x0f) << 4));
		b[2] = (uint8_t)(v >> 4);
	}
}

static void test_ek_checks(void)
{
	static uint8_t ek[MLKEM768_EK_LEN + 1], bad[MLKEM768_EK_LEN + 1], dk[MLKEM768_DK_LEN],
		ct[MLKEM768_CT_LEN];
	uint8_t ss[32], m[32] = { 1 };
	mlkem768_keygen(ek, dk);
	CHECK(mlkem768_ek_valid(ek, MLKEM768_EK_LEN));
	CHECK(!mlkem768_ek_valid(ek, MLKEM768_EK_LEN - 1));
	CHECK(!mlkem768_ek_valid(ek, MLKEM768_EK_LEN + 1));
	CHECK(!mlkem768_ek_valid(NULL, MLKEM768_EK_LEN));
	CHECK(mlkem768_encaps(ct, ss, ek, MLKEM768_EK_LEN - 1) == -1);
	static const unsigned where[][2] = { { 0, 0 }, { 0, 1 }, { 1, 128 }, { 2, 254 }, { 2, 255 } };
	for (size_t i = 0; i < sizeof where / sizeof where[0]; i++) {
		memcpy(bad, ek, sizeof ek);
		set_coeff(bad, where[i][0], where[i][1], Q - 1);
		CHECK(mlkem768_ek_valid(bad, MLKEM768_EK_LEN));          /* q-1 is fine */
		set_coeff(bad, where[i][0], where[i][1], Q);
		CHECK(!mlkem768_ek_valid(bad, MLKEM768_EK_LEN));         /* q is not */
		memset(ss, 0xaa, sizeof ss);
		CHECK(mlkem768_encaps_derand(ct, ss, bad, MLKEM768_EK_LEN, m) == -1);
		CHECK(ss[0] == 0xaa && ss[31] == 0xaa);                  /* untouched */
		set_coeff(bad, where[i][0], where[i][1], 4095);
		CHECK(!mlkem768_ek_valid(bad, MLKEM768_EK_LEN));
	}
	/* rho (the last 32 bytes) is not range-checked: any value is valid */
	memcpy(bad, ek, sizeof ek);
	memset(bad + MLKEM768_EK_LEN - 32, 0xff, 32);
	CHECK(mlkem768_ek_valid(bad, MLKEM768_EK_LEN));
}

static void test_decaps_checks(void)
{
	static uint8_t ek[MLKEM768_EK_LEN], dk[MLKEM768_DK_LEN], ct[MLKEM768_CT_LEN + 1];
	uint8_t ss[32], ss2[32], j[32];
	hash_state s;
	unsigned long jl = sizeof j;

	mlkem768_keygen(ek, dk);
	CHECK(mlkem768_encaps(ct, ss, ek, sizeof ek) == 0);
	CHECK(mlkem768_decaps(ss2, ct, MLKEM768_CT_LEN, dk) == 0 && memcmp(ss, ss2, 32) == 0);
	CHECK(mlkem768_decaps(ss2, ct, MLKEM768_CT_LEN - 1, dk) == -1);
	CHECK(mlkem768_decaps(ss2, ct, MLKEM768_CT_LEN + 1, dk) == -1);
	/* implicit rejection: J(z || c) for every altered ciphertext */
	for (unsigned pos = 0; pos < MLKEM768_CT_LEN; pos += 97) {
		ct[pos] ^= 0x40;
		CHECK(mlkem768_decaps(ss2, ct, MLKEM768_CT_LEN, dk) == 0);
		sha3_shake_init(&s, 256);
		sha3_shake_process(&s, dk + MLKEM768_DK_LEN - 32, 32);
		sha3_shake_process(&s, ct, MLKEM768_CT_LEN);
		sha3_shake_done(&s, j, jl);
		CHECK_MEM(ss2, j, 32);
		ct[pos] ^= 0x40;
	}
	/* the hash check over the ek inside dk */
	dk[1152 + 10] ^= 1;
	CHECK(mlkem768_decaps(ss2, ct, MLKEM768_CT_LEN, dk) == -1);
	dk[1152 + 10] ^= 1;
	dk[1152 + 1184] ^= 1;                    /* H(ek) itself */
	CHECK(mlkem768_decaps(ss2, ct, MLKEM768_CT_LEN, dk) == -1);
}

/* Compress_d / Decompress_d against exact rational rounding (half up), every
 * input. */
static void test_compress(void)
{
	static const unsigned ds[] = { 1, 4, 5, 10, 11 };
	int bad = 0;
	for (size_t i = 0; i < sizeof ds / sizeof ds[0]; i++) {
		unsigned d = ds[i];
		for (uint32_t x = 0; x < Q; x++) {
			/* round(2^d x / q) = floor((2^(d+1) x + q) / 2q) */
			uint32_t want = (((x << (d + 1)) + Q) / (2 * Q)) & ((1u << d) - 1);
			bad += mlkem768_compress((uint16_t)x, d) != want;
		}
		for (uint32_t y = 0; y < (1u << d); y++) {
			uint32_t want = (2 * Q * y + (1u << d)) / (2u << d);
			bad += mlkem768_decompress((uint16_t)y, d) != want;
		}
	}
	CHECK(bad == 0);
	/* Compress_1 is 1 on [833, 2496], the values nearer q/2 than 0 or q */
	CHECK(mlkem768_compress(832, 1) == 0 && mlkem768_compress(833, 1) == 1);
	CHECK(mlkem768_compress(2496, 1) == 1 && mlkem768_compress(2497, 1) == 0);
	CHECK(mlkem768_decompress(1, 1) == 1665);
}

static void test_round_trips(void)
{
	static uint8_t ek[MLKEM768_EK_LEN], dk[MLKEM768_DK_LEN], ct[MLKEM768_CT_LEN];
	uint8_t ss[32], ss2[32];
	int bad = 0;
	for (int i = 0; i < 50; i++) {
		mlkem768_keygen(ek, dk);
		bad += mlkem768_encaps(ct, ss, ek, sizeof ek) != 0;
		bad += mlkem768_decaps(ss2, ct, sizeof ct, dk) != 0;
		bad += memcmp(ss, ss2, 32) != 0;
	}
	CHECK(bad == 0);
}

static void print_hex(const uint8_t *p, size_t n)
{
	putchar(' ');
	for (size_t i = 0; i < n; i++)
		printf("%02x", p[i]);
}

/* Inputs from SHAKE-128(SEED): our keys, ciphertexts and secrets. */
static int dump(int n, const char *seed)
{
	static uint8_t ek[MLKEM768_EK_LEN], dk[MLKEM768_DK_LEN], ct[MLKEM768_CT_LEN],
		bad[MLKEM768_EK_LEN];
	uint8_t dzm[96], ss[32], ss_alt[32], pos_bytes[3];
	hash_state rng;

	sha3_shake_init(&rng, 128);
	sha3_shake_process(&rng, (const unsigned char *)seed, strlen(seed));
	for (int i = 0; i < n; i++) {
		sha3_shake_done(&rng, dzm, sizeof dzm);
		sha3_shake_done(&rng, pos_bytes, sizeof pos_bytes);
		unsigned pos = (unsigned)(pos_bytes[0] | pos_bytes[1] << 8) % MLKEM768_CT_LEN;
		unsigned bit = pos_bytes[2] % 8;
		mlkem768_keygen_derand(ek, dk, dzm, dzm + 32);
		if (mlkem768_encaps_derand(ct, ss, ek, sizeof ek, dzm + 64) != 0)
			return 1;
		ct[pos] ^= (uint8_t)(1u << bit);
		if (mlkem768_decaps(ss_alt, ct, sizeof ct, dk) != 0)
			return 1;
		ct[pos] ^= (uint8_t)(1u << bit);
		memcpy(bad, ek, sizeof ek);
		set_coeff(bad, 0, 0, Q);
		uint8_t tmp_ct[MLKEM768_CT_LEN], tmp_ss[32];
		int badrc = mlkem768_encaps_derand(tmp_ct, tmp_ss, bad, sizeof bad, dzm + 64);
		printf("ours");
		print_hex(dzm, 32);
		print_hex(dzm + 32, 32);
		print_hex(dzm + 64, 32);
		print_hex(ek, sizeof ek);
		print_hex(dk, sizeof dk);
		print_hex(ct, sizeof ct);
		print_hex(ss, 32);
		printf(" %u %u", pos, bit);
		print_hex(ss_alt, 32);
		printf(" %d\n", badrc);
	}
	return 0;
}

/* "noble DK CT SS" lines: our decapsulation must give SS. */
static int decaps_lines(void)
{
	static char line[16384];
	static uint8_t dk[MLKEM768_DK_LEN], ct[MLKEM768_CT_LEN];
	uint8_t ss[32], ours[32];
	int n = 0, bad = 0;
	while (fgets(line, sizeof line, stdin)) {
		char *tag = strtok(line, " \n"), *h_dk = strtok(NULL, " \n"),
			*h_ct = strtok(NULL, " \n"), *h_ss = strtok(NULL, " \n");
		if (!tag || strcmp(tag, "noble") != 0 || !h_ss ||
		    unit_unhex(h_dk, dk, sizeof dk) != sizeof dk ||
		    unit_unhex(h_ct, ct, sizeof ct) != sizeof ct ||
		    unit_unhex(h_ss, ss, sizeof ss) != sizeof ss) {
			fprintf(stderr, "bad input line %d\n", n + 1);
			return 1;
		}
		n++;
		if (mlkem768_decaps(ours, ct, sizeof ct, dk) != 0 || memcmp(ours, ss, 32) != 0) {
			fprintf(stderr, "line %d: our decapsulation of noble's ciphertext differs\n", n);
			bad++;
		}
	}
	printf("decapsulated %d of noble's ciphertexts, %d wrong\n", n, bad);
	return bad || n == 0;
}

static int keygen_line(void)
{
	static uint8_t ek[MLKEM768_EK_LEN], dk[MLKEM768_DK_LEN];
	mlkem768_keygen(ek, dk);
	print_hex(ek, sizeof ek);
	print_hex(dk, sizeof dk);
	putchar('\n');
	return 0;
}

static int decaps_one(const char *h_dk, const char *h_ct)
{
	static uint8_t dk[MLKEM768_DK_LEN], ct[MLKEM768_CT_LEN];
	uint8_t ss[32];
	if (strlen(h_dk) != 2 * sizeof dk || unit_unhex(h_dk, dk, sizeof dk) != sizeof dk ||
	    strlen(h_ct) != 2 * sizeof ct || unit_unhex(h_ct, ct, sizeof ct) != sizeof ct ||
	    mlkem768_decaps(ss, ct, sizeof ct, dk) != 0)
		return 1;
	print_hex(ss, sizeof ss);
	putchar('\n');
	return 0;
}

int main(int argc, char **argv)
{
	CHECK(crypto_init() == 0);
	if (argc == 4 && strcmp(argv[1], "--dump") == 0)
		return dump(atoi(argv[2]), argv[3]);
	if (argc == 2 && strcmp(argv[1], "--decaps") == 0)
		return decaps_lines();
	if (argc == 2 && strcmp(argv[1], "--keygen") == 0)
		return keygen_line();
	if (argc == 4 && strcmp(argv[1], "--decaps1") == 0)
		return decaps_one(argv[2], argv[3]);
	test_sha3();
	test_compress();
	test_noble_vectors();
	test_ek_checks();
	test_decaps_checks();
	test_round_trips();
	test_cctv_accumulated();
	return UNIT_DONE();
}
