/* Constant-time check of sntrup761 under valgrind's memcheck: built with
 * WOMBAT_CTGRIND (crypto/ct.h), the implementation marks every random byte it
 * draws as undefined (ct_secret), and this program marks the secret
 * parts of the secret key (f, 1/g, rho) undefined before decapsulating.
 * memcheck then reports any branch or memory index that depends on them
 * ("Conditional jump or move depends on uninitialised value", "Use of
 * uninitialised value" in an address); `make check-ct-sntrup761` fails on
 * any report. Key generation, encapsulation and decapsulation (of a valid
 * and of an altered ciphertext) all run. The only values declassified are
 * the public key and whether a discarded candidate g was invertible.
 * The X25519 half of the hybrid (crypto/x25519.c, from libwombat.a) runs
 * too, with its scalar undefined.
 *
 * `ct_sntrup761 leak` branches on a secret on purpose: the make target runs
 * it too and requires memcheck to report it, so a harness that sees nothing
 * cannot pass. */
#define WOMBAT_CTGRIND 1
#include "../../crypto/sntrup761.c"

#include <stdio.h>

#include "x25519.h"

#define SECRET_PARTS (2 * SMALL_BYTES)    /* f, 1/g at the start of sk */

static uint8_t pk[SNTRUP761_PUBLICKEY_BYTES], sk[SNTRUP761_SECRETKEY_BYTES];
static uint8_t ct[SNTRUP761_CIPHERTEXT_BYTES];

static void mark_sk_secret(void)
{
	ct_secret(sk, SECRET_PARTS);
	ct_secret(sk + SK_RHO, SMALL_BYTES);
}

int main(int argc, char **argv)
{
	uint8_t k_enc[SNTRUP761_SHARED_BYTES], k_dec[SNTRUP761_SHARED_BYTES];
	int fail = 0;

	if (crypto_init() != 0)
		return 2;
	if (argc > 1 && strcmp(argv[1], "leak") == 0) {
		small f[P];
		short_random(f);
		if (f[0] == 1)               /* a secret-dependent branch */
			puts("leak");
		return 0;
	}
	for (int round = 0; round < 2; round++) {
		sntrup761_keypair(pk, sk);
		if (sntrup761_enc(ct, k_enc, pk) != 0)
			return 2;
		ct_public(ct, sizeof ct);    /* results, to compare below */
		ct_public(k_enc, sizeof k_enc);

		mark_sk_secret();
		sntrup761_dec(k_dec, ct, sk);
		ct_public(k_dec, sizeof k_dec);
		fail |= memcmp(k_enc, k_dec, sizeof k_enc) != 0;

		ct[7] ^= 1;                  /* rejection path */
		mark_sk_secret();
		sntrup761_dec(k_dec, ct, sk);
		ct_public(k_dec, sizeof k_dec);
		fail |= memcmp(k_enc, k_dec, sizeof k_enc) == 0;
	}
	uint8_t scalar[32], peer[32], shared[32];
	rand_bytes(peer, sizeof peer);
	x25519_base(peer, peer);
	rand_bytes(scalar, sizeof scalar);
	ct_secret(scalar, sizeof scalar);
	x25519_base(shared, scalar);
	int zero = x25519(shared, scalar, peer);
	ct_public(&zero, sizeof zero);
	fail |= zero != 0;

	printf("ct_sntrup761: keygen, enc, dec x2, x25519 %s\n", fail ? "WRONG RESULTS" : "ran");
	return fail;
}
