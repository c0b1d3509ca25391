/* crypto: the thin layer over libtomcrypt/libtommath that the rest uses. */
#ifndef WOMBAT_CRYPTO_H
#define WOMBAT_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

/* Register ciphers, hashes, the libtommath math descriptor; later calls do
 * nothing. Every path into libtomcrypt's RSA/ECC code calls it first (key
 * loads, crypto_prng_idx, hash_idx), so a connection process that never
 * meets an RSA or NIST key leaves libtomcrypt's tables untouched: their
 * pages stay shared instead of private (12 KiB an idle session). */
int crypto_init(void);
/* Load libtomcrypt and libtommath now, in a build that reaches them by
 * dlopen (ltc_dyn.h); 0, or -1 with the reason logged. The pre-auth child
 * calls it before its sandbox takes the file system away. */
int ltc_load(void);
/* Fill from the kernel's RNG (getrandom); aborts the process on failure. */
void rand_bytes(void *p, size_t n);
uint32_t rand_u32(void);
/* mkostemp's job (without that libc import): the "XXXXXX" that ends tmpl
 * replaced by random letters and digits until open(O_CREAT | O_EXCL) makes
 * a new file, mode 0600, opened read-write with the extra flags. The fd, or
 * -1 with errno set (EINVAL: tmpl does not end in XXXXXX). */
int rand_temp_file(char *tmpl, int flags);
/* Zero memory in a way the compiler will not remove. */
void wipe(void *p, size_t n);
/* Zero the stack below the caller's frame, where the functions it has
 * just called kept their spilled registers (the vector ciphers hold key
 * stream and state there); WIPE_STACK_BYTES covers the largest such frame. */
#define WIPE_STACK_BYTES 4096
void wipe_stack(void);
/* Constant-time compare; 0 when equal. */
int ct_memcmp(const void *a, const void *b, size_t n);

enum hash_alg { HASH_SHA1, HASH_SHA256, HASH_SHA384, HASH_SHA512 };
size_t hash_len(enum hash_alg a);
size_t hash_block(enum hash_alg a);         /* input block size (HMAC) */
int hash_idx(enum hash_alg a);              /* libtomcrypt index */
void hash_mem(enum hash_alg a, const void *d, size_t n, uint8_t *out);
/* incremental, for large inputs; a hash_ctx may be copied (HMAC keeps
 * keyed states and starts each message from a copy) */
typedef struct { enum hash_alg alg; unsigned char st[512] __attribute__((aligned(16))); } hash_ctx;
void hash_init(hash_ctx *c, enum hash_alg a);
void hash_update(hash_ctx *c, const void *d, size_t n);
void hash_final(hash_ctx *c, uint8_t *out);

/* NIST curves (libtomcrypt's ltc_ecc_sets; host keys and ECDH share
 * them): the index of the curve whose coordinates are size bytes, -1 if
 * none; and whether pt is an uncompressed point 0x04||X||Y, X and Y below
 * p, on y^2 = x^3 - 3x + b (mod p) of curve idx. The curves have
 * cofactor 1, so such a point is in the prime-order group; libtomcrypt
 * 1.18's import does not check this itself. */
int nist_curve_idx(int size);
int nist_point_valid(int idx, const uint8_t *pt, size_t len);

/* The libtomcrypt PRNG index to pass where it wants one (a "sprng"-style
 * wrapper over getrandom). */
int crypto_prng_idx(void);

#endif
