/* aesni: the x86-64 AES-NI / PCLMULQDQ code behind aes.h and ghash.h.
 * Only called when cpu_use_aesni() says the CPU has the instructions; in
 * builds without them (other CPUs, -DWOMBAT_PORTABLE_ONLY) these abort. */
#ifndef WOMBAT_AESNI_H
#define WOMBAT_AESNI_H

#include <stddef.h>
#include <stdint.h>

#include "aes.h"
#include "ghash.h"

void aesni_encrypt_block(const struct aes_key *k, const uint8_t in[16], uint8_t out[16]);
void aesni_ctr(const struct aes_key *k, uint8_t ctr[16], int inc32, uint8_t *p,
	       size_t nblocks);
void clmul_ghash(const struct ghash_key *g, uint8_t y[16], const uint8_t *p,
		 size_t nblocks);
/* GCM encryption of nblocks whole blocks in place, counter mode (32-bit
 * increment of ctr) and GHASH of the ciphertext into y in one pass. */
void aesni_gcm_seal(const struct aes_key *k, const struct ghash_key *g, uint8_t ctr[16],
		    uint8_t y[16], uint8_t *p, size_t nblocks);

#endif
