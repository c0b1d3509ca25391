/* ct: what the constant-time check (make check-ct) may treat as public.
 *
 * make check-ct builds the library with WOMBAT_CTGRIND and runs
 * tests/ct/ct_check under valgrind's memcheck with every secret marked as
 * undefined memory: a branch or a memory index that depends on a secret is
 * then reported as a use of an uninitialised value. A result that the
 * protocol makes public anyway (a tag comparison's verdict, "is the shared
 * secret zero") is declared so with ct_public() where it is computed. In
 * every other build ct_public() is nothing. */
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
