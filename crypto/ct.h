/* ct: the constant-time check's markers, one set for every harness.
 *
 * With WOMBAT_CTGRIND, ct_secret() marks memory as undefined for valgrind's
 * memcheck, so that a branch or a memory index that depends on it is
 * reported as a use of an uninitialised value, and ct_public() marks it
 * defined again: a result that the protocol makes public anyway (a tag
 * comparison's verdict, "is the shared secret zero", a public key derived
 * from secrets) is declared so where it is computed. WOMBAT_CTGRIND is set
 * for build-ct's library (make check-ct, tests/ct/ct_check) and by the
 * harnesses that compile a primitive's source in (tests/ct/ct_sntrup761.c,
 * tests/unit/test_mlkem768_ct.c). In every other build both are nothing. */
#ifndef WOMBAT_CT_H
#define WOMBAT_CT_H

#ifdef WOMBAT_CTGRIND
#include <valgrind/memcheck.h>
#define ct_public(p, n) ((void)VALGRIND_MAKE_MEM_DEFINED((p), (n)))
#define ct_secret(p, n) ((void)VALGRIND_MAKE_MEM_UNDEFINED((p), (n)))
#else
#define ct_public(p, n) ((void)(p), (void)(n))
#define ct_secret(p, n) ((void)(p), (void)(n))
#endif

#endif
