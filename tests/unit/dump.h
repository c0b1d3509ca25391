/* Shared by the unit tests' --dump modes (test_aes, test_chacha,
 * test_sha256), whose output test_crypto_crosscheck.py checks against an
 * independent implementation: a seeded xorshift byte stream, and hex
 * fields ("-" for an empty one). */
#ifndef WOMBAT_UNIT_DUMP_H
#define WOMBAT_UNIT_DUMP_H

#include <stdint.h>
#include <stdio.h>

static uint64_t xs;

static inline void prng_seed(uint64_t seed)
{
	xs = seed * 0x9e3779b97f4a7c15ULL | 1;
}

static inline void prng_bytes(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		xs ^= xs << 13; xs ^= xs >> 7; xs ^= xs << 17;
		p[i] = (uint8_t)(xs >> 24);
	}
}

static inline void hex(const uint8_t *p, size_t n)
{
	putchar(' ');
	if (!n)
		putchar('-');
	for (size_t i = 0; i < n; i++)
		printf("%02x", p[i]);
}

#endif
