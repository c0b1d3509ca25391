/* sha512: SHA-512 and SHA-384 (FIPS 180-4), written here: portable 64-bit
 * C, straight-line code (no branch or index depends on the data), the
 * rounds unrolled eight at a time. SHA-384 is the same compression with
 * its own initial value and a 48-byte digest. */
#ifndef WOMBAT_SHA512_H
#define WOMBAT_SHA512_H

#include <stddef.h>
#include <stdint.h>

#define SHA512_LEN 64
#define SHA384_LEN 48
#define SHA512_BLOCK 128

struct sha512_ctx {
	uint64_t h[8];
	uint64_t total;                 /* bytes absorbed */
	uint8_t buf[SHA512_BLOCK];      /* a partial block: total % 128 bytes */
};

void sha512_start(struct sha512_ctx *c);
void sha384_start(struct sha512_ctx *c);
void sha512_absorb(struct sha512_ctx *c, const void *data, size_t n);
/* Write the digest (64 or 48 bytes) and wipe the context. */
void sha512_finish(struct sha512_ctx *c, uint8_t out[SHA512_LEN]);
void sha384_finish(struct sha512_ctx *c, uint8_t out[SHA384_LEN]);
/* One call: SHA-512 of n bytes. */
void sha512(const void *data, size_t n, uint8_t out[SHA512_LEN]);

/* internal: the compression function over nblocks whole blocks */
void sha512_blocks(uint64_t h[8], const uint8_t *p, size_t nblocks);

#endif
