/* crypto: the thin layer over libtomcrypt/libtommath that the rest uses. */
#ifndef WOMBAT_CRYPTO_H
#define WOMBAT_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

/* Register ciphers, hashes, the libtommath math descriptor. Call once. */
int crypto_init(void);
/* Fill from the kernel's RNG (getrandom); aborts the process on failure. */
void rand_bytes(void *p, size_t n);
uint32_t rand_u32(void);
/* Zero memory in a way the compiler will not remove. */
void wipe(void *p, size_t n);
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

/* The libtomcrypt PRNG index to pass where it wants one (a "sprng"-style
 * wrapper over getrandom). */
int crypto_prng_idx(void);

#endif
