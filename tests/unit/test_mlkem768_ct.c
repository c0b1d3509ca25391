/* Constant time, checked by valgrind's memcheck: ML-KEM-768 key generation,
 * encapsulation and decapsulation (of a valid and of an altered ciphertext),
 * and the X25519 of the hybrid, with every secret input marked undefined
 * (ct_secret, crypto/ct.h). Memcheck then reports any branch, table
 * index or address computed from a secret; such a report fails the test.
 *
 * The program re-runs itself under valgrind (--error-exitcode) when started
 * without it. `make check-ct` runs it; `make unit` builds it but leaves the
 * run (about 10 s of valgrind) to check-ct, so CI pays for it once. Values
 * that are public by design are marked defined again before they are
 * branched on: the encapsulation key and ciphertext, the copy of ek inside
 * dk with its hash, and - inside mlkem768.c, through ct_public - rho,
 * which key generation derives from the secret seed but publishes in ek.
 *
 * mlkem768.c is compiled into this test with the markers on rather than
 * linked from libwombat.a. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <valgrind/valgrind.h>

#define WOMBAT_CTGRIND 1                        /* crypto/ct.h's markers on */
#include "mlkem768.c"

#include "unit.h"
#include "x25519.h"

#define DK_EK_OFFSET PKE_SK_LEN                 /* ek and H(ek) inside dk */

static void ct_mlkem(void)
{
	static uint8_t ek[MLKEM768_EK_LEN], dk[MLKEM768_DK_LEN], ct[MLKEM768_CT_LEN];
	uint8_t d[32], z[32], m[32], ss[32], ss_dec[32], ss_rej[32];

	rand_bytes(d, sizeof d);
	rand_bytes(z, sizeof z);
	rand_bytes(m, sizeof m);
	ct_secret(d, sizeof d);
	ct_secret(z, sizeof z);
	ct_secret(m, sizeof m);

	mlkem768_keygen_derand(ek, dk, d, z);
	ct_public(ek, sizeof ek);
	ct_public(dk + DK_EK_OFFSET, MLKEM768_EK_LEN + 32);

	CHECK(mlkem768_encaps_derand(ct, ss, ek, sizeof ek, m) == 0);
	ct_public(ct, sizeof ct);

	CHECK(mlkem768_decaps(ss_dec, ct, sizeof ct, dk) == 0);
	ct[17] ^= 4;                                /* implicit rejection path */
	CHECK(mlkem768_decaps(ss_rej, ct, sizeof ct, dk) == 0);

	/* the results, declassified only to check them */
	ct_public(ss, sizeof ss);
	ct_public(ss_dec, sizeof ss_dec);
	ct_public(ss_rej, sizeof ss_rej);
	CHECK_MEM(ss, ss_dec, sizeof ss);
	CHECK(memcmp(ss, ss_rej, sizeof ss) != 0);
}

static void ct_x25519(void)
{
	uint8_t a[32], b[32], pa[32], pb[32], ka[32], kb[32];
	rand_bytes(a, sizeof a);
	rand_bytes(b, sizeof b);
	ct_secret(a, sizeof a);
	ct_secret(b, sizeof b);
	x25519_base(pa, a);
	x25519_base(pb, b);
	ct_public(pa, sizeof pa);
	ct_public(pb, sizeof pb);
	int ra = x25519(ka, a, pb), rb = x25519(kb, b, pa);
	ct_public(&ra, sizeof ra);
	ct_public(&rb, sizeof rb);
	ct_public(ka, sizeof ka);
	ct_public(kb, sizeof kb);
	CHECK(ra == 0 && rb == 0);
	CHECK_MEM(ka, kb, sizeof ka);
}

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

int main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
#ifdef UNDER_ASAN
	/* valgrind cannot run an ASan binary: the release build's `make
	 * check-ct` carries the check; here the operations run once, unchecked. */
	puts("ASan build: constant-time check left to the release build's make check-ct");
#else
	if (!RUNNING_ON_VALGRIND) {
		char *vg[] = { "valgrind", "-q", "--error-exitcode=99", "--track-origins=yes",
			       argv[0], NULL };
		fflush(stdout);
		execvp(vg[0], vg);
		fprintf(stderr, "test_mlkem768_ct: cannot run valgrind (%s): the constant-time "
			"check needs it (apt-get install valgrind)\n", strerror(errno));
		return 1;
	}
#endif
	CHECK(crypto_init() == 0);
	for (int i = 0; i < 2; i++) {
		ct_mlkem();
		ct_x25519();
	}
	return UNIT_DONE();
}
