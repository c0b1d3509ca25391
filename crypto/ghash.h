/* ghash: the GCM universal hash (NIST SP 800-38D 6.4), written here.
 *
 * Portable: carry-less 64x64 multiplication built from ordinary integer
 * multiplications of bits spread four apart (so carries never reach a bit
 * that is kept), Karatsuba for 128x128, no tables, no branches on data.
 * On x86-64 with PCLMULQDQ (cpu.h): eight blocks per reduction with H..H^8. */
#ifndef WOMBAT_GHASH_H
#define WOMBAT_GHASH_H

#include <stddef.h>
#include <stdint.h>

#define GHASH_POWERS 8

struct ghash_key {
	/* H^(i+1) as a big-endian 128-bit number: pow[i][0] low, [1] high
	 * (in that order a 16-byte load puts it in an SSE register) */
	uint64_t pow[GHASH_POWERS][2] __attribute__((aligned(16)));
};

void ghash_setkey(struct ghash_key *g, const uint8_t h[16]);
/* Absorb nblocks whole 16-byte blocks into the running value y. */
void ghash_blocks(const struct ghash_key *g, uint8_t y[16], const uint8_t *p,
		  size_t nblocks);

#endif
