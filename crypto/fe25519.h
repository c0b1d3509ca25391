/* fe25519: arithmetic in GF(2^255 - 19), shared by x25519.c and ed25519.c.
 * Internal header (not part of the crypto layer's public interface).
 *
 * An element is five 51-bit limbs, little-endian: v[0] + v[1]*2^51 + ...
 * Outputs of every operation are "loosely reduced" (each limb < 2^52), which
 * is what every input may be. Only fe_tobytes produces the canonical value.
 * Nothing here branches on or indexes memory by the values handled. */
#ifndef WOMBAT_FE25519_H
#define WOMBAT_FE25519_H
#include <stdint.h>

typedef struct { uint64_t v[5]; } fe;

void fe_zero(fe *h);
void fe_one(fe *h);
/* Reads 32 little-endian bytes, ignoring the top bit (values >= p are fine). */
void fe_frombytes(fe *h, const uint8_t s[32]);
/* Writes the canonical (fully reduced) 32-byte encoding. */
void fe_tobytes(uint8_t s[32], const fe *f);

void fe_add(fe *h, const fe *f, const fe *g);
void fe_sub(fe *h, const fe *f, const fe *g);
void fe_neg(fe *h, const fe *f);
void fe_mul(fe *h, const fe *f, const fe *g);
void fe_sq(fe *h, const fe *f);
/* h = f * n for a small constant n < 2^20. */
void fe_mul_small(fe *h, const fe *f, uint32_t n);
/* h = 1/f (f^(p-2)); 1/0 gives 0. */
void fe_invert(fe *h, const fe *f);
/* h = f^((p-5)/8), the exponent used for square roots. */
void fe_pow22523(fe *h, const fe *f);

/* If b (0 or 1) is 1, swap f and g / copy g into f; constant time. */
void fe_cswap(fe *f, fe *g, unsigned b);
void fe_cmov(fe *f, const fe *g, unsigned b);

/* 1 if the canonical value is zero / odd ("negative" in RFC 8032 terms). */
int fe_iszero(const fe *f);
int fe_isodd(const fe *f);
/* 1 if f == g as field elements (constant time). */
int fe_equal(const fe *f, const fe *g);

#endif
