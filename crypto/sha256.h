/* sha256: SHA-256 (FIPS 180-4), written here. Portable C everywhere; on
 * x86-64 CPUs with the SHA extensions (CPUID leaf 7 EBX bit 29: sha256rnds2,
 * sha256msg1, sha256msg2) the compression function uses them (cpu.h). Both
 * are straight-line code: no branch or index depends on the data. */
#ifndef WOMBAT_SHA256_H
#define WOMBAT_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32
#define SHA256_BLOCK 64

struct sha256_ctx {
	uint32_t h[8];
	uint64_t total;                 /* bytes absorbed */
	uint8_t buf[SHA256_BLOCK];      /* a partial block: total % 64 bytes */
};

void sha256_start(struct sha256_ctx *c);
void sha256_absorb(struct sha256_ctx *c, const void *data, size_t n);
/* Writes the digest and wipes the context. */
void sha256_finish(struct sha256_ctx *c, uint8_t out[SHA256_LEN]);

/* internal: the compression function over nblocks whole blocks, and the
 * two implementations behind it (sha256_shani aborts in builds without it) */
void sha256_blocks(uint32_t h[8], const uint8_t *p, size_t nblocks);
void sha256_blocks_portable(uint32_t h[8], const uint8_t *p, size_t nblocks);
void sha256_blocks_shani(uint32_t h[8], const uint8_t *p, size_t nblocks);

#endif
