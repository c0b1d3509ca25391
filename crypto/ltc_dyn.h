/* ltc_dyn: libtomcrypt and libtommath, loaded at their first use.
 *
 * In a dynamic build configure finds libtomcrypt's SONAME
 * (WOMBAT_LTC_SONAME) and wombatd is not linked against it: every name
 * below becomes an entry of a table that ltc_load() fills by dlopen and
 * dlsym (libtommath and libgmp come in as libtomcrypt's own dependencies).
 * An idle session whose keys and key exchange are this project's own code
 * (Ed25519, curve25519, the hybrids' connection process after the login)
 * then never maps the three libraries: their relocated descriptor tables
 * alone are about 40 KiB private to every process that maps them. The
 * pre-auth child loads them before its sandbox (sandbox_enter), where
 * ECDH, DH and ML-KEM's SHA-3 run.
 *
 * Include this instead of <tomcrypt.h> and <tommath.h>. A static build
 * links the libraries and the names stay what they are. */
#ifndef WOMBAT_LTC_DYN_H
#define WOMBAT_LTC_DYN_H

#include "crypto.h"            /* ltc_load() */
#include <tomcrypt.h>
#include <tommath.h>

#ifdef WOMBAT_LTC_SONAME
/* every libtomcrypt/libtommath name wombat uses: data and functions */
#define LTC_SYMBOLS(X) \
	X(aes_desc) X(sha1_desc) X(sha256_desc) X(sha384_desc) X(sha512_desc) \
	X(hash_descriptor) X(ltc_ecc_sets) X(ltc_mp) X(ltm_desc) \
	X(register_cipher) X(register_hash) X(register_prng) X(find_hash) \
	X(ecc_ansi_x963_export) X(ecc_ansi_x963_import_ex) X(ecc_free) \
	X(ecc_make_key_ex) X(ecc_shared_secret) X(ecc_sign_hash_rfc7518) \
	X(ecc_verify_hash_rfc7518) X(ltc_ecc_del_point) X(ltc_ecc_mulmod) \
	X(ltc_ecc_new_point) X(ltc_init_multi) \
	X(rsa_exptmod) X(rsa_free) X(rsa_make_key) X(rsa_set_crt_params) \
	X(rsa_set_factors) X(rsa_set_key) X(rsa_sign_hash_ex) \
	X(sha3_256_init) X(sha3_512_init) X(sha3_done) X(sha3_process) \
	X(sha3_shake_done) X(sha3_shake_init) \
	X(mp_add) X(mp_clear) X(mp_clear_multi) X(mp_cmp) X(mp_cmp_d) \
	X(mp_exptmod) X(mp_from_ubin) X(mp_init) X(mp_init_multi) X(mp_invmod) \
	X(mp_mod) X(mp_mul) X(mp_mul_d) X(mp_mulmod) X(mp_read_radix) X(mp_set) \
	X(mp_set_u32) X(mp_sqrmod) X(mp_sub) X(mp_sub_d) X(mp_to_ubin) \
	X(mp_ubin_size)

/* one pointer per name, typed from the library's own declaration */
struct ltc_table {
#define LTC_ENTRY(name) __typeof__(name) *p_##name;
	LTC_SYMBOLS(LTC_ENTRY)
#undef LTC_ENTRY
};

/* The filled table; the first call loads the libraries, and a process
 * that cannot load them ends there (logged): it has no other way to go
 * on with the RSA, ECC or DH operation it is in. Declared const (every
 * call returns the same table, and the load is invisible to the caller)
 * so that the calls in one function are merged: 690 bytes less code. */
const struct ltc_table *ltc_table(void)
	__attribute__((returns_nonnull, const, noinline));

/* From here on each name is its table entry (an lvalue for data, a
 * function designator for functions). LTC_SYMBOLS lists the same names. */
#define aes_desc                (*ltc_table()->p_aes_desc)
#define sha1_desc               (*ltc_table()->p_sha1_desc)
#define sha256_desc             (*ltc_table()->p_sha256_desc)
#define sha384_desc             (*ltc_table()->p_sha384_desc)
#define sha512_desc             (*ltc_table()->p_sha512_desc)
#define hash_descriptor         (*ltc_table()->p_hash_descriptor)
#define ltc_ecc_sets            (*ltc_table()->p_ltc_ecc_sets)
#define ltc_mp                  (*ltc_table()->p_ltc_mp)
#define ltm_desc                (*ltc_table()->p_ltm_desc)
#define register_cipher         (*ltc_table()->p_register_cipher)
#define register_hash           (*ltc_table()->p_register_hash)
#define register_prng           (*ltc_table()->p_register_prng)
#define find_hash               (*ltc_table()->p_find_hash)
#define ecc_ansi_x963_export    (*ltc_table()->p_ecc_ansi_x963_export)
#define ecc_ansi_x963_import_ex (*ltc_table()->p_ecc_ansi_x963_import_ex)
#define ecc_free                (*ltc_table()->p_ecc_free)
#define ecc_make_key_ex         (*ltc_table()->p_ecc_make_key_ex)
#define ecc_shared_secret       (*ltc_table()->p_ecc_shared_secret)
#define ecc_sign_hash_rfc7518   (*ltc_table()->p_ecc_sign_hash_rfc7518)
#define ecc_verify_hash_rfc7518 (*ltc_table()->p_ecc_verify_hash_rfc7518)
#define ltc_ecc_del_point       (*ltc_table()->p_ltc_ecc_del_point)
#define ltc_ecc_mulmod          (*ltc_table()->p_ltc_ecc_mulmod)
#define ltc_ecc_new_point       (*ltc_table()->p_ltc_ecc_new_point)
#define ltc_init_multi          (*ltc_table()->p_ltc_init_multi)
#define rsa_exptmod             (*ltc_table()->p_rsa_exptmod)
#define rsa_free                (*ltc_table()->p_rsa_free)
#define rsa_make_key            (*ltc_table()->p_rsa_make_key)
#define rsa_set_crt_params      (*ltc_table()->p_rsa_set_crt_params)
#define rsa_set_factors         (*ltc_table()->p_rsa_set_factors)
#define rsa_set_key             (*ltc_table()->p_rsa_set_key)
#define rsa_sign_hash_ex        (*ltc_table()->p_rsa_sign_hash_ex)
#define sha3_256_init           (*ltc_table()->p_sha3_256_init)
#define sha3_512_init           (*ltc_table()->p_sha3_512_init)
#define sha3_done               (*ltc_table()->p_sha3_done)
#define sha3_process            (*ltc_table()->p_sha3_process)
#define sha3_shake_done         (*ltc_table()->p_sha3_shake_done)
#define sha3_shake_init         (*ltc_table()->p_sha3_shake_init)
#define mp_add                  (*ltc_table()->p_mp_add)
#define mp_clear                (*ltc_table()->p_mp_clear)
#define mp_clear_multi          (*ltc_table()->p_mp_clear_multi)
#define mp_cmp                  (*ltc_table()->p_mp_cmp)
#define mp_cmp_d                (*ltc_table()->p_mp_cmp_d)
#define mp_exptmod              (*ltc_table()->p_mp_exptmod)
#define mp_from_ubin            (*ltc_table()->p_mp_from_ubin)
#define mp_init                 (*ltc_table()->p_mp_init)
#define mp_init_multi           (*ltc_table()->p_mp_init_multi)
#define mp_invmod               (*ltc_table()->p_mp_invmod)
#define mp_mod                  (*ltc_table()->p_mp_mod)
#define mp_mul                  (*ltc_table()->p_mp_mul)
#define mp_mul_d                (*ltc_table()->p_mp_mul_d)
#define mp_mulmod               (*ltc_table()->p_mp_mulmod)
#define mp_read_radix           (*ltc_table()->p_mp_read_radix)
#define mp_set                  (*ltc_table()->p_mp_set)
#define mp_set_u32              (*ltc_table()->p_mp_set_u32)
#define mp_sqrmod               (*ltc_table()->p_mp_sqrmod)
#define mp_sub                  (*ltc_table()->p_mp_sub)
#define mp_sub_d                (*ltc_table()->p_mp_sub_d)
#define mp_to_ubin              (*ltc_table()->p_mp_to_ubin)
#define mp_ubin_size            (*ltc_table()->p_mp_ubin_size)
#endif

#endif
