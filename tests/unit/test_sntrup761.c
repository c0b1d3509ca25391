/* Unit tests for crypto/sntrup761.c and the sntrup761x25519-sha512 method in
 * crypto/kexalg.c: the fixed sizes, round trips, implicit rejection (an
 * altered ciphertext gives the key the specification prescribes for a
 * rejection: Hash(0, Hash(3, rho) || C)), refusal of a non-canonical public
 * key, and both halves of the hybrid agreeing. The cross-checks against
 * independent implementations are integration tests: OpenSSH's ssh (its
 * decapsulation of our encapsulation) and tinysshd (our decapsulation of its
 * encapsulation), see tests/integration/test_sntrup.py. */
#include <stdint.h>
#include <string.h>

#include "unit.h"
#include "crypto.h"
#include "kexalg.h"
#include "sntrup761.h"

#define PK SNTRUP761_PUBLICKEY_BYTES
#define SK SNTRUP761_SECRETKEY_BYTES
#define CT SNTRUP761_CIPHERTEXT_BYTES
#define SS SNTRUP761_SHARED_BYTES
#define SMALL_BYTES 191

static uint8_t pk[PK], sk[SK], ct[CT];

static void test_sizes(void)
{
	CHECK(PK == 1158 && SK == 1763 && CT == 1039 && SS == 32);
}

/* the secret key carries the public key and Hash(4, pk) */
static void test_secret_key_layout(void)
{
	uint8_t h[64];
	uint8_t pre[1 + PK];
	sntrup761_keypair(pk, sk);
	CHECK_MEM(sk + 2 * SMALL_BYTES, pk, PK);
	pre[0] = 4;
	memcpy(pre + 1, pk, PK);
	hash_mem(HASH_SHA512, pre, sizeof pre, h);
	CHECK_MEM(sk + 2 * SMALL_BYTES + PK + SMALL_BYTES, h, 32);
	/* f and 1/g: every 2-bit field is 0, 1 or 2 (never 3) */
	int bad = 0, weight = 0;
	for (int i = 0; i < 761; i++) {
		int fv = (sk[i / 4] >> (2 * (i % 4))) & 3;
		int gv = (sk[SMALL_BYTES + i / 4] >> (2 * (i % 4))) & 3;
		bad |= fv == 3 || gv == 3;
		weight += fv != 1;
	}
	CHECK(!bad);
	CHECK(weight == 286);                  /* f is Short: weight w */
}

static void test_round_trips(void)
{
	for (int i = 0; i < 12; i++) {
		uint8_t k1[SS], k2[SS], k3[SS];
		sntrup761_keypair(pk, sk);
		CHECK(sntrup761_enc(ct, k1, pk) == 0);
		sntrup761_dec(k2, ct, sk);
		CHECK_MEM(k1, k2, SS);
		/* a second encapsulation to the same key: new ciphertext, new key */
		uint8_t ct2[CT];
		CHECK(sntrup761_enc(ct2, k3, pk) == 0);
		CHECK(memcmp(ct, ct2, CT) != 0 && memcmp(k1, k3, SS) != 0);
	}
}

/* K for a rejected ciphertext: Hash_prefix(0, Hash_prefix(3, rho) || C) */
static void rejection_key(const uint8_t *c, uint8_t out[SS])
{
	uint8_t buf[1 + 32 + CT], h[64];
	buf[0] = 3;
	memcpy(buf + 1, sk + 2 * SMALL_BYTES + PK, SMALL_BYTES);
	hash_mem(HASH_SHA512, buf, 1 + SMALL_BYTES, h);
	buf[0] = 0;
	memcpy(buf + 1, h, 32);
	memcpy(buf + 33, c, CT);
	hash_mem(HASH_SHA512, buf, 1 + 32 + CT, h);
	memcpy(out, h, SS);
}

static void test_implicit_rejection(void)
{
	uint8_t k[SS], got[SS], want[SS], bad[CT];
	sntrup761_keypair(pk, sk);
	CHECK(sntrup761_enc(ct, k, pk) == 0);
	/* a bit flipped in the rounded part, in the confirmation hash, at the
	 * ends: the key is the rejection key, not the encapsulated one */
	static const int where[] = { 0, 1, 500, 1006, 1007, 1020, CT - 1 };
	for (size_t i = 0; i < sizeof where / sizeof where[0]; i++) {
		memcpy(bad, ct, CT);
		bad[where[i]] ^= 0x04;
		sntrup761_dec(got, bad, sk);
		rejection_key(bad, want);
		CHECK(memcmp(got, k, SS) != 0);
		CHECK_MEM(got, want, SS);
	}
	/* the valid one is not rejected */
	sntrup761_dec(got, ct, sk);
	CHECK_MEM(got, k, SS);
	rejection_key(ct, want);
	CHECK(memcmp(got, want, SS) != 0);
	/* all-zero and all-ones ciphertexts: rejected, deterministic */
	uint8_t again[SS];
	memset(bad, 0, CT);
	sntrup761_dec(got, bad, sk);
	sntrup761_dec(again, bad, sk);
	rejection_key(bad, want);
	CHECK_MEM(got, want, SS);
	CHECK_MEM(got, again, SS);
	memset(bad, 0xff, CT);
	sntrup761_dec(got, bad, sk);
	rejection_key(bad, want);
	CHECK_MEM(got, want, SS);
	/* another key pair's ciphertext */
	uint8_t pk2[PK], sk2[SK], ct2[CT], k2[SS];
	sntrup761_keypair(pk2, sk2);
	CHECK(sntrup761_enc(ct2, k2, pk2) == 0);
	sntrup761_dec(got, ct2, sk);
	rejection_key(ct2, want);
	CHECK_MEM(got, want, SS);
}

static void test_non_canonical_key_refused(void)
{
	uint8_t bad[PK], k[SS];
	sntrup761_keypair(pk, sk);
	memset(bad, 0xff, PK);
	CHECK(sntrup761_enc(ct, k, bad) == -1);
	memcpy(bad, pk, PK);
	bad[PK - 1] = 0xff;         /* the top digit out of range */
	CHECK(sntrup761_enc(ct, k, bad) == -1);
	CHECK(sntrup761_enc(ct, k, pk) == 0);
	/* the all-zero encoding is canonical (every coefficient -q12): accepted */
	memset(bad, 0, PK);
	CHECK(sntrup761_enc(ct, k, bad) == 0);
}

static void test_hybrid(void)
{
	enum kex_kind kind;
	enum hash_alg h;
	CHECK(kexalg_lookup("sntrup761x25519-sha512", &kind, &h) == 0 &&
	      kind == KEX_SNTRUP761X25519 && h == HASH_SHA512);
	CHECK(kexalg_lookup("sntrup761x25519-sha512@openssh.com", &kind, &h) == 0 &&
	      kind == KEX_SNTRUP761X25519 && h == HASH_SHA512);
	CHECK(kexalg_k_is_string(KEX_SNTRUP761X25519));
	CHECK(!kexalg_k_is_string(KEX_X25519) && !kexalg_k_is_string(KEX_DH14));
	CHECK(!kexalg_is_dh(KEX_SNTRUP761X25519));

	static uint8_t state[KEXALG_STATE_MAX];
	uint8_t cpub[2048], spub[2048], ks[512], kc[512];
	for (int round = 0; round < 3; round++) {
		size_t cl = sizeof cpub, sl = sizeof spub, ksl = sizeof ks, kcl = sizeof kc;
		CHECK(kexalg_client_start(KEX_SNTRUP761X25519, state, cpub, &cl) == 0);
		CHECK(cl == PK + 32);
		CHECK(kexalg_server(KEX_SNTRUP761X25519, cpub, cl, spub, &sl, ks, &ksl) == 0);
		CHECK(sl == CT + 32 && ksl == 64);
		CHECK(kexalg_client_finish(KEX_SNTRUP761X25519, state, spub, sl, kc, &kcl) == 0);
		CHECK(kcl == 64 && memcmp(ks, kc, 64) == 0);
	}
	/* refusals: lengths, a low-order X25519 value, a bad key, capacities */
	size_t cl = sizeof cpub, sl, ksl;
	CHECK(kexalg_client_start(KEX_SNTRUP761X25519, state, cpub, &cl) == 0);
	sl = sizeof spub, ksl = sizeof ks;
	CHECK(kexalg_server(KEX_SNTRUP761X25519, cpub, cl - 1, spub, &sl, ks, &ksl) == -1);
	sl = sizeof spub, ksl = sizeof ks;
	CHECK(kexalg_server(KEX_SNTRUP761X25519, cpub, 32, spub, &sl, ks, &ksl) == -1);
	sl = CT + 31, ksl = sizeof ks;
	CHECK(kexalg_server(KEX_SNTRUP761X25519, cpub, cl, spub, &sl, ks, &ksl) == -1);
	sl = sizeof spub, ksl = 63;
	CHECK(kexalg_server(KEX_SNTRUP761X25519, cpub, cl, spub, &sl, ks, &ksl) == -1);
	uint8_t bad[2048];
	memcpy(bad, cpub, cl);
	memset(bad + PK, 0, 32);
	sl = sizeof spub, ksl = sizeof ks;
	CHECK(kexalg_server(KEX_SNTRUP761X25519, bad, cl, spub, &sl, ks, &ksl) == -1);
	memcpy(bad, cpub, cl);
	memset(bad, 0xff, PK);
	sl = sizeof spub, ksl = sizeof ks;
	CHECK(kexalg_server(KEX_SNTRUP761X25519, bad, cl, spub, &sl, ks, &ksl) == -1);
	sl = sizeof spub, ksl = sizeof ks;
	CHECK(kexalg_server(KEX_SNTRUP761X25519, cpub, cl, spub, &sl, ks, &ksl) == 0);
	/* the client refuses a short reply and a low-order server X25519 value */
	size_t kcl = sizeof kc;
	CHECK(kexalg_client_finish(KEX_SNTRUP761X25519, state, spub, sl - 1, kc, &kcl) == -1);
	cl = sizeof cpub;
	CHECK(kexalg_client_start(KEX_SNTRUP761X25519, state, cpub, &cl) == 0);
	memset(spub + CT, 0, 32);
	kcl = sizeof kc;
	CHECK(kexalg_client_finish(KEX_SNTRUP761X25519, state, spub, sl, kc, &kcl) == -1);
}

int main(void)
{
	CHECK(crypto_init() == 0);
	test_sizes();
	test_secret_key_layout();
	test_round_trips();
	test_implicit_rejection();
	test_non_canonical_key_refused();
	test_hybrid();
	return UNIT_DONE();
}
