/* aes: AES-128/192/256 (FIPS-197) encryption and counter mode, written here.
 *
 * Two implementations behind one interface, chosen once per process
 * (cpu.h): a portable one, bitsliced (four blocks at a time in eight 64-bit
 * words, the S-box as a Boolean circuit, no table and no branch on data), and
 * an AES-NI one on x86-64 (eight blocks in flight). Both are constant time. */
#ifndef WOMBAT_AES_H
#define WOMBAT_AES_H

#include <stddef.h>
#include <stdint.h>

#define AES_BLOCK 16
#define AES_MAX_ROUNDS 14

struct aes_key {
	unsigned rounds;                                   /* 10, 12 or 14 */
	/* round keys in FIPS-197 byte order (what AES-NI takes) */
	uint8_t rk[AES_MAX_ROUNDS + 1][AES_BLOCK] __attribute__((aligned(16)));
	/* the same round keys bitsliced for four blocks (portable code) */
	uint64_t bs[AES_MAX_ROUNDS + 1][8];
};

/* key_len 16, 24 or 32; -1 otherwise. */
int aes_setkey(struct aes_key *k, const uint8_t *key, size_t key_len);
void aes_encrypt_block(const struct aes_key *k, const uint8_t in[AES_BLOCK],
		       uint8_t out[AES_BLOCK]);

/* Counter mode over nblocks whole blocks of p, in place. ctr is the next
 * counter block (big-endian) and is advanced by nblocks: as one 128-bit
 * number (RFC 4344), or with inc32 only in its last 32 bits (GCM). */
void aes_ctr(const struct aes_key *k, uint8_t ctr[AES_BLOCK], int inc32,
	     uint8_t *p, size_t nblocks);

/* internal: the counter step both implementations share; branch-free */
static inline void aes_ctr_step(uint64_t *hi, uint64_t *lo, int inc32)
{
	if (inc32) {
		*lo = (*lo & 0xffffffff00000000ULL) | (uint32_t)(*lo + 1);
	} else {
		*lo += 1;
		*hi += 1 ^ ((*lo | (0 - *lo)) >> 63);   /* carry when lo wrapped */
	}
}

#endif
