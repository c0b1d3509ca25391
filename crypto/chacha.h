/* chacha: ChaCha20 with a 64-bit nonce and 64-bit block counter (the
 * original variant, which chacha20-poly1305@openssh.com uses), written
 * here. Scalar code everywhere; on x86-64 eight blocks at a time with AVX2
 * (cpu_use_avx2), else four with SSE2 (cpu_use_sse2). Only additions, XORs
 * and rotations: constant time. */
#ifndef WOMBAT_CHACHA_H
#define WOMBAT_CHACHA_H

#include <stddef.h>
#include <stdint.h>

#define CHACHA_KEY 32
#define CHACHA_BLOCK 64

struct chacha_key {
	uint32_t k[8];
};

void chacha_setkey(struct chacha_key *ck, const uint8_t key[CHACHA_KEY]);
/* out = in XOR the key stream for nonce, starting at block `counter`
 * (in == out allowed). */
void chacha_xor(const struct chacha_key *ck, const uint8_t nonce[8], uint64_t counter,
		uint8_t *out, const uint8_t *in, size_t n);

#endif
