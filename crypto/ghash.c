/* ghash: portable constant-time GHASH and the dispatch to PCLMULQDQ.
 *
 * A block is read as a big-endian 128-bit number, so the coefficient of x^i
 * is bit 127 - i ("reflected"). The carry-less product of two such numbers
 * then holds x^k at bit 254 - k; shifted left once, at bit 255 - k. The
 * high 128 bits are the product's terms below x^128; the low 128 bits are
 * folded back with x^128 = x^7 + x^2 + x + 1, the lowest word first so its
 * overflow lands in the word above before that is folded. */
#include "ghash.h"

#include "aesni.h"
#include "cpu.h"
#include "crypto.h"

/* Low 64 bits of the carry-less product of x and y. Each operand is split
 * into four parts holding every fourth bit. An integer product of two parts
 * adds at most 15 ones into a bit of its residue class (16 only at bits 60
 * to 63, whose carries leave the word), so the carries stay in the three
 * bits between, which the masks drop. */
static uint64_t bmul64(uint64_t x, uint64_t y)
{
	const uint64_t m0 = 0x1111111111111111ULL, m1 = m0 << 1, m2 = m0 << 2, m3 = m0 << 3;
	uint64_t x0 = x & m0, x1 = x & m1, x2 = x & m2, x3 = x & m3;
	uint64_t y0 = y & m0, y1 = y & m1, y2 = y & m2, y3 = y & m3;
	uint64_t z0 = (x0 * y0) ^ (x1 * y3) ^ (x2 * y2) ^ (x3 * y1);
	uint64_t z1 = (x0 * y1) ^ (x1 * y0) ^ (x2 * y3) ^ (x3 * y2);
	uint64_t z2 = (x0 * y2) ^ (x1 * y1) ^ (x2 * y0) ^ (x3 * y3);
	uint64_t z3 = (x0 * y3) ^ (x1 * y2) ^ (x2 * y1) ^ (x3 * y0);
	return (z0 & m0) | (z1 & m1) | (z2 & m2) | (z3 & m3);
}

static uint64_t rev64(uint64_t x)
{
	x = ((x >> 1) & 0x5555555555555555ULL) | ((x & 0x5555555555555555ULL) << 1);
	x = ((x >> 2) & 0x3333333333333333ULL) | ((x & 0x3333333333333333ULL) << 2);
	x = ((x >> 4) & 0x0f0f0f0f0f0f0f0fULL) | ((x & 0x0f0f0f0f0f0f0f0fULL) << 4);
	return __builtin_bswap64(x);
}

/* Full 128-bit carry-less product: the high half is the low half of the
 * product of the bit-reversed operands, reversed back. */
static void clmul64(uint64_t x, uint64_t y, uint64_t *hi, uint64_t *lo)
{
	*lo = bmul64(x, y);
	*hi = rev64(bmul64(rev64(x), rev64(y))) >> 1;
}

/* (yh:yl) = (yh:yl) * (hh:hl) in GF(2^128), reflected form */
static void gf_mul(uint64_t *yh, uint64_t *yl, uint64_t hh, uint64_t hl)
{
	uint64_t a1, a0, b1, b0, c1, c0;
	clmul64(*yh, hh, &a1, &a0);
	clmul64(*yl, hl, &b1, &b0);
	clmul64(*yh ^ *yl, hh ^ hl, &c1, &c0);       /* Karatsuba middle */
	c1 ^= a1 ^ b1;
	c0 ^= a0 ^ b0;
	uint64_t z3 = a1, z2 = a0 ^ c1, z1 = b1 ^ c0, z0 = b0;

	z3 = z3 << 1 | z2 >> 63;
	z2 = z2 << 1 | z1 >> 63;
	z1 = z1 << 1 | z0 >> 63;
	z0 <<= 1;

	z1 ^= (z0 << 63) ^ (z0 << 62) ^ (z0 << 57);
	z2 ^= z0 ^ (z0 >> 1) ^ (z0 >> 2) ^ (z0 >> 7);
	z2 ^= (z1 << 63) ^ (z1 << 62) ^ (z1 << 57);
	z3 ^= z1 ^ (z1 >> 1) ^ (z1 >> 2) ^ (z1 >> 7);
	*yh = z3;
	*yl = z2;
}

static uint64_t load_be64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static void store_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

void ghash_setkey(struct ghash_key *g, const uint8_t h[16])
{
	uint64_t hh = load_be64(h), hl = load_be64(h + 8), yh = hh, yl = hl;
	for (int i = 0; i < GHASH_POWERS; i++) {
		g->pow[i][1] = yh;
		g->pow[i][0] = yl;
		gf_mul(&yh, &yl, hh, hl);
	}
	wipe(&hh, sizeof hh);
	wipe(&hl, sizeof hl);
}

static void ghash_portable(const struct ghash_key *g, uint8_t y[16], const uint8_t *p,
			   size_t nblocks)
{
	uint64_t yh = load_be64(y), yl = load_be64(y + 8);
	for (; nblocks; nblocks--, p += 16) {
		yh ^= load_be64(p);
		yl ^= load_be64(p + 8);
		gf_mul(&yh, &yl, g->pow[0][1], g->pow[0][0]);
	}
	store_be64(y, yh);
	store_be64(y + 8, yl);
}

void ghash_blocks(const struct ghash_key *g, uint8_t y[16], const uint8_t *p,
		  size_t nblocks)
{
	if (cpu_use_aesni())
		clmul_ghash(g, y, p, nblocks);
	else
		ghash_portable(g, y, p, nblocks);
}
