/* Constant time, checked by valgrind's memcheck: ML-KEM-768 key generation,
 * encapsulation and decapsulation (of a valid and of an altered ciphertext),
 * and the X25519 of the hybrid, with every secret input marked undefined
 * (VALGRIND_MAKE_MEM_UNDEFINED). Memcheck then reports any branch, table
 * index or address computed from a secret; such a report fails the test.
 *
 * The program re-runs itself under valgrind (--error-exitcode) when started
 * without it, so `make unit` (and so `make check`) runs the check. Values
 * that are public by design are marked defined again before they are
 * branched on: the encapsulation key and ciphertext, the copy of ek inside
 * dk with its hash, and - inside mlkem768.c, through MLKEM_DECLASSIFY - rho,
 * which key generation derives from the secret seed but publishes in ek.
 *
 * mlkem768.c is compiled into this test with that hook rather than linked
 * from libwombat.a. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <valgrind/memcheck.h>

#define MLKEM_DECLASSIFY(p, n) ((void)VALGRIND_MAKE_MEM_DEFINED((p), (n)))
#include "mlkem768.c"

#include "unit.h"
#include "x25519.h"

#define SECRET(p, n) ((void)VALGRIND_MAKE_MEM_UNDEFINED((p), (n)))
#define PUBLIC(p, n) ((void)VALGRIND_MAKE_MEM_DEFINED((p), (n)))

#define DK_EK_OFFSET PKE_SK_LEN                 /* ek and H(ek) inside dk */

static void ct_mlkem(void)
{
	static uint8_t ek[MLKEM768_EK_LEN], dk[MLKEM768_DK_LEN], ct[MLKEM768_CT_LEN];
	uint8_t d[32], z[32], m[32], ss[32], ss_dec[32], ss_rej[32];

	rand_bytes(d, sizeof d);
	rand_bytes(z, sizeof z);
	rand_bytes(m, sizeof m);
	SECRET(d, sizeof d);
	SECRET(z, sizeof z);
	SECRET(m, sizeof m);

	mlkem768_keygen_derand(ek, dk, d, z);
	PUBLIC(ek, sizeof ek);
	PUBLIC(dk + DK_EK_OFFSET, MLKEM768_EK_LEN + 32);

	CHECK(mlkem768_encaps_derand(ct, ss, ek, sizeof ek, m) == 0);
	PUBLIC(ct, sizeof ct);

	CHECK(mlkem768_decaps(ss_dec, ct, sizeof ct, dk) == 0);
	ct[17] ^= 4;                                /* implicit rejection path */
	CHECK(mlkem768_decaps(ss_rej, ct, sizeof ct, dk) == 0);

	/* the results, declassified only to check them */
	PUBLIC(ss, sizeof ss);
	PUBLIC(ss_dec, sizeof ss_dec);
	PUBLIC(ss_rej, sizeof ss_rej);
	CHECK_MEM(ss, ss_dec, sizeof ss);
	CHECK(memcmp(ss, ss_rej, sizeof ss) != 0);
}

static void ct_x25519(void)
{
	uint8_t a[32], b[32], pa[32], pb[32], ka[32], kb[32];
	rand_bytes(a, sizeof a);
	rand_bytes(b, sizeof b);
	SECRET(a, sizeof a);
	SECRET(b, sizeof b);
	x25519_base(pa, a);
	x25519_base(pb, b);
	PUBLIC(pa, sizeof pa);
	PUBLIC(pb, sizeof pb);
	int ra = x25519(ka, a, pb), rb = x25519(kb, b, pa);
	PUBLIC(&ra, sizeof ra);
	PUBLIC(&rb, sizeof rb);
	PUBLIC(ka, sizeof ka);
	PUBLIC(kb, sizeof kb);
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
	/* valgrind cannot run an ASan binary: the release build's `make unit`
	 * carries the check; here the operations run once, unchecked. */
	puts("ASan build: constant-time check left to the release build's make unit");
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
