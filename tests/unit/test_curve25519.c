/* X25519 (RFC 7748) and Ed25519 (RFC 8032) known answers, rejection of bad
 * signatures, field edge cases.
 *
 *   test_curve25519                 run the tests
 *   test_curve25519 --dump N SEED   print N x25519 lines and N ed25519 lines
 *                                   of pseudo-random inputs and our outputs,
 *                                   for tests/integration/test_crypto_crosscheck.py:
 *     x25519 <scalar> <point> <result> <rc>
 *     ed25519 <seed> <msg, or "-" if empty> <pubkey> <signature>
 */
#include "crypto.h"
#include "ed25519.h"
#include "fe25519.h"
#include "unit.h"
#include "x25519.h"

#include <stdint.h>
#include <stdlib.h>
#include <time.h>

/* ---- helpers ---- */

static void unhex32(const char *hex, uint8_t out[32])
{
	CHECK(unit_unhex(hex, out, 32) == 32);
}

static void print_hex(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf("%02x", p[i]);
}

/* Deterministic generator for tests and dumps (splitmix64). */
static uint64_t prng_state;

static uint64_t prng_next(void)
{
	uint64_t z = (prng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void prng_fill(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)prng_next();
}

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* ---- field edge cases ---- */

static void fe_roundtrip(const char *in_hex, const char *want_hex)
{
	uint8_t in[32], want[32], out[32];
	fe f;
	unhex32(in_hex, in);
	unhex32(want_hex, want);
	fe_frombytes(&f, in);
	fe_tobytes(out, &f);
	CHECK_MEM(out, want, 32);
}

static void test_field(void)
{
	/* p - 1 stays, p -> 0, p + 1 -> 1, 2^255 - 1 -> 18, bit 255 ignored */
	fe_roundtrip("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
		     "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
	fe_roundtrip("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
		     "0000000000000000000000000000000000000000000000000000000000000000");
	fe_roundtrip("eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
		     "0100000000000000000000000000000000000000000000000000000000000000");
	fe_roundtrip("ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
		     "1200000000000000000000000000000000000000000000000000000000000000");

	/* (p-1)^2 = 1; f * 1/f = 1; f - f = 0; -(p-1) = 1 */
	uint8_t b[32], out[32], one[32] = {1};
	fe f, g, h;
	unhex32("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", b);
	fe_frombytes(&f, b);
	fe_sq(&g, &f);
	fe_tobytes(out, &g);
	CHECK_MEM(out, one, 32);
	fe_neg(&g, &f);
	fe_tobytes(out, &g);
	CHECK_MEM(out, one, 32);

	prng_state = 42;
	for (int i = 0; i < 50; i++) {
		prng_fill(b, 32);
		fe_frombytes(&f, b);
		fe_invert(&g, &f);
		fe_mul(&h, &f, &g);
		fe_tobytes(out, &h);
		CHECK_MEM(out, one, 32);
		fe_sq(&g, &f);
		fe_mul(&h, &f, &f);
		CHECK(fe_equal(&g, &h));
		fe_sub(&h, &f, &f);
		CHECK(fe_iszero(&h));
	}
	fe_zero(&f);
	fe_invert(&g, &f);
	CHECK(fe_iszero(&g));
}

/* ---- X25519 ---- */

static void x25519_vector(const char *k_hex, const char *u_hex, const char *want_hex)
{
	uint8_t k[32], u[32], want[32], out[32];
	unhex32(k_hex, k);
	unhex32(u_hex, u);
	unhex32(want_hex, want);
	CHECK(x25519(out, k, u) == 0);
	CHECK_MEM(out, want, 32);
}

static void test_x25519_rfc7748_5_2(void)
{
	x25519_vector("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
		      "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
		      "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552");
	x25519_vector("4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
		      "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
		      "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957");
}

static void test_x25519_iterated(void)
{
	uint8_t k[32] = {9}, u[32] = {9}, r[32], want1[32], want1000[32];
	unhex32("422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079", want1);
	unhex32("684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51", want1000);
	for (int i = 1; i <= 1000; i++) {
		x25519(r, k, u);
		memcpy(u, k, 32);
		memcpy(k, r, 32);
		if (i == 1)
			CHECK_MEM(k, want1, 32);
	}
	CHECK_MEM(k, want1000, 32);
}

static void test_x25519_dh_6_1(void)
{
	uint8_t a[32], b[32], apub[32], bpub[32], want_a[32], want_b[32];
	uint8_t want_k[32], k1[32], k2[32];
	unhex32("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", a);
	unhex32("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a", want_a);
	unhex32("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb", b);
	unhex32("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f", want_b);
	unhex32("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742", want_k);
	x25519_base(apub, a);
	x25519_base(bpub, b);
	CHECK_MEM(apub, want_a, 32);
	CHECK_MEM(bpub, want_b, 32);
	CHECK(x25519(k1, a, bpub) == 0);
	CHECK(x25519(k2, b, apub) == 0);
	CHECK_MEM(k1, want_k, 32);
	CHECK_MEM(k2, want_k, 32);
}

static void test_x25519_edge_points(void)
{
	uint8_t k[32], u[32], r1[32], r2[32], zero[32] = {0};
	unhex32("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4", k);

	/* low-order points give an all-zero result and -1 */
	memset(u, 0, 32);
	CHECK(x25519(r1, k, u) == -1);
	CHECK_MEM(r1, zero, 32);
	u[0] = 1;
	CHECK(x25519(r1, k, u) == -1);
	unhex32("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", u); /* -1 */
	CHECK(x25519(r1, k, u) == -1);

	/* bit 255 of u is ignored; u >= p is taken mod p */
	unhex32("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c", u);
	CHECK(x25519(r1, k, u) == 0);
	u[31] |= 0x80;
	CHECK(x25519(r2, k, u) == 0);
	CHECK_MEM(r1, r2, 32);
	memset(u, 0, 32);
	u[0] = 9;
	x25519(r1, k, u);
	unhex32("f6ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", u); /* p + 9 */
	CHECK(x25519(r2, k, u) == 0);
	CHECK_MEM(r1, r2, 32);
}

/* ---- Ed25519 ---- */

struct ed_vector {
	const char *name, *seed, *pk, *msg, *sig;
};

static const struct ed_vector ed_vectors[] = {
	{ "TEST 1",
	  "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
	  "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
	  "",
	  "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
	  "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b" },
	{ "TEST 2",
	  "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
	  "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
	  "72",
	  "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
	  "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00" },
	{ "TEST 3",
	  "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
	  "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
	  "af82",
	  "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac"
	  "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a" },
	{ "TEST 1024",
	  "f5e5767cf153319517630f226876b86c8160cc583bc013744c6bf255f5cc0ee5",
	  "278117fc144c72340f67d0f2316e8386ceffbf2b2428c9c51fef7c597f1d426e",
	  "08b8b2b733424243760fe426a4b54908632110a66c2f6591eabd3345e3e4eb98fa6e264bf09efe12ee50f8f54e9f77b1"
	  "e355f6c50544e23fb1433ddf73be84d879de7c0046dc4996d9e773f4bc9efe5738829adb26c81b37c93a1b270b20329d"
	  "658675fc6ea534e0810a4432826bf58c941efb65d57a338bbd2e26640f89ffbc1a858efcb8550ee3a5e1998bd177e93a"
	  "7363c344fe6b199ee5d02e82d522c4feba15452f80288a821a579116ec6dad2b3b310da903401aa62100ab5d1a36553e"
	  "06203b33890cc9b832f79ef80560ccb9a39ce767967ed628c6ad573cb116dbefefd75499da96bd68a8a97b928a8bbc10"
	  "3b6621fcde2beca1231d206be6cd9ec7aff6f6c94fcd7204ed3455c68c83f4a41da4af2b74ef5c53f1d8ac70bdcb7ed1"
	  "85ce81bd84359d44254d95629e9855a94a7c1958d1f8ada5d0532ed8a5aa3fb2d17ba70eb6248e594e1a2297acbbb39d"
	  "502f1a8c6eb6f1ce22b3de1a1f40cc24554119a831a9aad6079cad88425de6bde1a9187ebb6092cf67bf2b13fd65f270"
	  "88d78b7e883c8759d2c4f5c65adb7553878ad575f9fad878e80a0c9ba63bcbcc2732e69485bbc9c90bfbd62481d9089b"
	  "eccf80cfe2df16a2cf65bd92dd597b0707e0917af48bbb75fed413d238f5555a7a569d80c3414a8d0859dc65a46128ba"
	  "b27af87a71314f318c782b23ebfe808b82b0ce26401d2e22f04d83d1255dc51addd3b75a2b1ae0784504df543af8969b"
	  "e3ea7082ff7fc9888c144da2af58429ec96031dbcad3dad9af0dcbaaaf268cb8fcffead94f3c7ca495e056a9b47acdb7"
	  "51fb73e666c6c655ade8297297d07ad1ba5e43f1bca32301651339e22904cc8c42f58c30c04aafdb038dda0847dd988d"
	  "cda6f3bfd15c4b4c4525004aa06eeff8ca61783aacec57fb3d1f92b0fe2fd1a85f6724517b65e614ad6808d6f6ee34df"
	  "f7310fdc82aebfd904b01e1dc54b2927094b2db68d6f903b68401adebf5a7e08d78ff4ef5d63653a65040cf9bfd4aca7"
	  "984a74d37145986780fc0b16ac451649de6188a7dbdf191f64b5fc5e2ab47b57f7f7276cd419c17a3ca8e1b939ae49e4"
	  "88acba6b965610b5480109c8b17b80e1b7b750dfc7598d5d5011fd2dcc5600a32ef5b52a1ecc820e308aa342721aac09"
	  "43bf6686b64b2579376504ccc493d97e6aed3fb0f9cd71a43dd497f01f17c0e2cb3797aa2a2f256656168e6c496afc5f"
	  "b93246f6b1116398a346f1a641f3b041e989f7914f90cc2c7fff357876e506b50d334ba77c225bc307ba537152f3f161"
	  "0e4eafe595f6d9d90d11faa933a15ef1369546868a7f3a45a96768d40fd9d03412c091c6315cf4fde7cb68606937380d"
	  "b2eaaa707b4c4185c32eddcdd306705e4dc1ffc872eeee475a64dfac86aba41c0618983f8741c5ef68d3a101e8a3b8ca"
	  "c60c905c15fc910840b94c00a0b9d0",
	  "0aab4c900501b3e24d7cdf4663326a3a87df5e4843b2cbdb67cbf6e460fec350"
	  "aa5371b1508f9f4528ecea23c436d94b5e8fcd4f681e30a6ac00a9704a188a03" },
	{ "TEST SHA(abc)",
	  "833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
	  "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
	  "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
	  "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
	  "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b589"
	  "09351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704" },
};

static uint8_t msg_buf[1024];

static void test_ed25519_vector(const struct ed_vector *v)
{
	uint8_t seed[32], pk_want[32], pk[32], sig_want[64], sig[64];
	size_t mlen = strlen(v->msg) / 2;

	unhex32(v->seed, seed);
	unhex32(v->pk, pk_want);
	CHECK(unit_unhex(v->sig, sig_want, 64) == 64);
	CHECK(unit_unhex(v->msg, msg_buf, sizeof(msg_buf)) == mlen);

	ed25519_pubkey(pk, seed);
	CHECK_MEM(pk, pk_want, 32);
	ed25519_sign(sig, msg_buf, mlen, seed, pk);
	CHECK_MEM(sig, sig_want, 64);
	CHECK(ed25519_verify(sig_want, msg_buf, mlen, pk_want) == 0);
	if (memcmp(sig, sig_want, 64) != 0)
		fprintf(stderr, "  (in %s)\n", v->name);
}

/* s += L, little-endian 32 bytes (S < L < 2^253, so no overflow) */
static void add_l(uint8_t s[32])
{
	static const uint8_t l[32] = {
		0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
		0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0x10
	};
	unsigned carry = 0;
	for (int i = 0; i < 32; i++) {
		carry += s[i] + l[i];
		s[i] = (uint8_t)carry;
		carry >>= 8;
	}
}

static void test_ed25519_rejects(void)
{
	const struct ed_vector *v = &ed_vectors[2]; /* TEST 3: 2-byte message */
	uint8_t pk[32], sig[64], bad[64], badpk[32], msg[2];

	unhex32(v->pk, pk);
	CHECK(unit_unhex(v->sig, sig, 64) == 64);
	CHECK(unit_unhex(v->msg, msg, 2) == 2);
	CHECK(ed25519_verify(sig, msg, 2, pk) == 0);

	/* every flipped bit of the message, signature or key is rejected */
	int bad_ok = 0;
	for (int bit = 0; bit < 16; bit++) {
		msg[bit / 8] ^= (uint8_t)(1 << (bit % 8));
		bad_ok += ed25519_verify(sig, msg, 2, pk) == 0;
		msg[bit / 8] ^= (uint8_t)(1 << (bit % 8));
	}
	for (int bit = 0; bit < 512; bit++) {
		memcpy(bad, sig, 64);
		bad[bit / 8] ^= (uint8_t)(1 << (bit % 8));
		bad_ok += ed25519_verify(bad, msg, 2, pk) == 0;
	}
	for (int bit = 0; bit < 256; bit++) {
		memcpy(badpk, pk, 32);
		badpk[bit / 8] ^= (uint8_t)(1 << (bit % 8));
		bad_ok += ed25519_verify(sig, msg, 2, badpk) == 0;
	}
	CHECK(bad_ok == 0);
	CHECK(ed25519_verify(sig, msg, 1, pk) == -1); /* truncated message */

	/* S + L: same value mod L, but non-canonical */
	memcpy(bad, sig, 64);
	add_l(bad + 32);
	CHECK(ed25519_verify(bad, msg, 2, pk) == -1);

	/* a key that is not a point (y = 2: x^2 is not a square) */
	memset(badpk, 0, 32);
	badpk[0] = 2;
	CHECK(ed25519_verify(sig, msg, 2, badpk) == -1);
	/* non-canonical y (y = p + 1) */
	unhex32("eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", badpk);
	CHECK(ed25519_verify(sig, msg, 2, badpk) == -1);
	/* x = 0 with the sign bit set (y = 1 with sign: "-0") */
	memset(badpk, 0, 32);
	badpk[0] = 1;
	badpk[31] = 0x80;
	CHECK(ed25519_verify(sig, msg, 2, badpk) == -1);
}

static void test_ed25519_roundtrips(void)
{
	uint8_t seed[32], pk[32], sig[64], msg[100];
	int failures = 0;
	prng_state = 7;
	for (int i = 0; i < 20; i++) {
		prng_fill(seed, 32);
		prng_fill(msg, sizeof(msg));
		ed25519_pubkey(pk, seed);
		ed25519_sign(sig, msg, (size_t)i * 5, seed, pk);
		failures += ed25519_verify(sig, msg, (size_t)i * 5, pk) != 0;
	}
	CHECK(failures == 0);
}

/* Not asserted (machines vary); the brief wants each well under 1 ms. */
static void report_timing(void)
{
	uint8_t k[32] = {1, 2, 3}, pub[32], sh[32], sig[64], seed[32] = {4};
	const int n = 200;
	double t0 = now_us();
	for (int i = 0; i < n; i++) {
		x25519_base(pub, k);
		x25519(sh, k, pub);
	}
	double t1 = now_us();
	ed25519_pubkey(pub, seed);
	for (int i = 0; i < n; i++)
		ed25519_sign(sig, k, 32, seed, pub);
	double t2 = now_us();
	for (int i = 0; i < n; i++)
		ed25519_verify(sig, k, 32, pub);
	double t3 = now_us();
	printf("x25519 keypair+shared %.1f us, ed25519 sign %.1f us, verify %.1f us\n",
	       (t1 - t0) / n, (t2 - t1) / n, (t3 - t2) / n);
}

/* ---- --dump ---- */

static void dump_x25519_line(int i)
{
	uint8_t k[32], u[32], r[32];
	int rc;
	prng_fill(k, 32);
	prng_fill(u, 32);
	if (i % 10 == 3)
		u[31] |= 0x80; /* high bit set: must be ignored */
	if (i % 10 == 7) { /* non-canonical u = p + small */
		memset(u, 0xff, 32);
		u[0] = (uint8_t)(0xed + i % 16);
		u[31] = 0x7f;
	}
	if (i % 50 == 9)
		memset(u, 0, 32); /* low order: rc -1 */
	rc = x25519(r, k, u);
	printf("x25519 ");
	print_hex(k, 32);
	printf(" ");
	print_hex(u, 32);
	printf(" ");
	print_hex(r, 32);
	printf(" %d\n", rc);
}

static void dump_ed25519_line(int i)
{
	uint8_t seed[32], pk[32], sig[64], msg[300];
	size_t mlen = i == 0 ? 0 : prng_next() % sizeof(msg);
	prng_fill(seed, 32);
	prng_fill(msg, mlen);
	ed25519_pubkey(pk, seed);
	ed25519_sign(sig, msg, mlen, seed, pk);
	printf("ed25519 ");
	print_hex(seed, 32);
	printf(" ");
	if (mlen)
		print_hex(msg, mlen);
	else
		printf("-");
	printf(" ");
	print_hex(pk, 32);
	printf(" ");
	print_hex(sig, 64);
	printf("\n");
}

static int dump(int n, uint64_t seed)
{
	prng_state = seed;
	for (int i = 0; i < n; i++)
		dump_x25519_line(i);
	for (int i = 0; i < n; i++)
		dump_ed25519_line(i);
	return 0;
}

int main(int argc, char **argv)
{
	crypto_init();
	if (argc == 4 && strcmp(argv[1], "--dump") == 0)
		return dump(atoi(argv[2]), strtoull(argv[3], NULL, 0));
	if (argc != 1) {
		fprintf(stderr, "usage: %s [--dump N SEED]\n", argv[0]);
		return 2;
	}

	test_field();
	test_x25519_rfc7748_5_2();
	test_x25519_iterated();
	test_x25519_dh_6_1();
	test_x25519_edge_points();
	for (size_t i = 0; i < sizeof(ed_vectors) / sizeof(ed_vectors[0]); i++)
		test_ed25519_vector(&ed_vectors[i]);
	test_ed25519_rejects();
	test_ed25519_roundtrips();
	report_timing();
	return UNIT_DONE();
}
