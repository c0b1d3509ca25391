/* fe25519: GF(2^255 - 19) with 5x51-bit limbs and 128-bit products.
 * See fe25519.h for the representation and its bounds. */
#include "fe25519.h"

#include <string.h>

#define MASK51 ((uint64_t)0x7ffffffffffff)

/* Products of 51-bit limbs need 128 bits. Compilers for 64-bit CPUs have a
 * 128-bit integer; 32-bit ones (armhf ...) do not, and build the same
 * arithmetic on pairs of 64-bit words further down (WOMBAT_FE25519_32
 * forces that on any host, for its unit test). */
#if defined(__SIZEOF_INT128__) && !defined(WOMBAT_FE25519_32)
#define FE_INT128 1
typedef unsigned __int128 u128;
#endif

void fe_zero(fe *h)
{
	memset(h, 0, sizeof(*h));
}

void fe_one(fe *h)
{
	fe_zero(h);
	h->v[0] = 1;
}

static uint64_t load64_le(const uint8_t *s)
{
	uint64_t r = 0;
	for (int i = 7; i >= 0; i--)
		r = (r << 8) | s[i];
	return r;
}

static void store64_le(uint8_t *s, uint64_t x)
{
	for (int i = 0; i < 8; i++, x >>= 8)
		s[i] = (uint8_t)x;
}

void fe_frombytes(fe *h, const uint8_t s[32])
{
	/* limb i starts at bit 51*i: bytes 0, 6 (+3), 12 (+6), 19 (+1), 24 (+12) */
	h->v[0] = load64_le(s) & MASK51;
	h->v[1] = (load64_le(s + 6) >> 3) & MASK51;
	h->v[2] = (load64_le(s + 12) >> 6) & MASK51;
	h->v[3] = (load64_le(s + 19) >> 1) & MASK51;
	h->v[4] = (load64_le(s + 24) >> 12) & MASK51; /* drops bit 255 */
}

/* One carry pass: limbs 1..4 end < 2^51, limb 0 < 2^51 + 19 * (small). */
static void fe_carry(fe *h)
{
	uint64_t c;
	for (int i = 0; i < 4; i++) {
		c = h->v[i] >> 51;
		h->v[i] &= MASK51;
		h->v[i + 1] += c;
	}
	c = h->v[4] >> 51;
	h->v[4] &= MASK51;
	h->v[0] += 19 * c;
}

void fe_tobytes(uint8_t s[32], const fe *f)
{
	fe h = *f;
	uint64_t q;

	fe_carry(&h); /* now h < 2^255 + small < 2p */
	/* q = 1 iff h >= p, i.e. iff h + 19 carries into bit 255 */
	q = (h.v[0] + 19) >> 51;
	for (int i = 1; i < 5; i++)
		q = (h.v[i] + q) >> 51;
	/* h - q*p = h + 19q - q*2^255: add, carry, drop bit 255 */
	h.v[0] += 19 * q;
	for (int i = 0; i < 4; i++) {
		h.v[i + 1] += h.v[i] >> 51;
		h.v[i] &= MASK51;
	}
	h.v[4] &= MASK51;

	store64_le(s, h.v[0] | h.v[1] << 51);
	store64_le(s + 8, h.v[1] >> 13 | h.v[2] << 38);
	store64_le(s + 16, h.v[2] >> 26 | h.v[3] << 25);
	store64_le(s + 24, h.v[3] >> 39 | h.v[4] << 12);
}

void fe_add(fe *h, const fe *f, const fe *g)
{
	for (int i = 0; i < 5; i++)
		h->v[i] = f->v[i] + g->v[i];
	fe_carry(h);
}

void fe_sub(fe *h, const fe *f, const fe *g)
{
	/* add 4p first so no limb goes negative (g's limbs are < 2^52) */
	static const uint64_t four_p[5] = {
		0x1fffffffffffb4, 0x1ffffffffffffc, 0x1ffffffffffffc,
		0x1ffffffffffffc, 0x1ffffffffffffc
	};
	for (int i = 0; i < 5; i++)
		h->v[i] = f->v[i] + four_p[i] - g->v[i];
	fe_carry(h);
}

void fe_neg(fe *h, const fe *f)
{
	fe z;
	fe_zero(&z);
	fe_sub(h, &z, f);
}

#ifdef FE_INT128
/* Reduce five 128-bit column sums (each < 2^115) to a loose element. */
static void fe_reduce_wide(fe *h, u128 r[5])
{
	u128 c;
	for (int i = 0; i < 4; i++) {
		r[i + 1] += r[i] >> 51;
		r[i] &= MASK51;
	}
	c = r[4] >> 51;
	r[4] &= MASK51;
	r[0] += c * 19; /* < 2^66: still needs 128 bits */
	r[1] += r[0] >> 51;
	r[0] &= MASK51;
	for (int i = 0; i < 5; i++)
		h->v[i] = (uint64_t)r[i];
}

void fe_mul(fe *h, const fe *f, const fe *g)
{
	const uint64_t *a = f->v, *b = g->v;
	/* limbs above 2^255 wrap around multiplied by 19 */
	uint64_t b1 = 19 * b[1], b2 = 19 * b[2], b3 = 19 * b[3], b4 = 19 * b[4];
	u128 r[5];

	r[0] = (u128)a[0] * b[0] + (u128)a[1] * b4 + (u128)a[2] * b3 +
	       (u128)a[3] * b2 + (u128)a[4] * b1;
	r[1] = (u128)a[0] * b[1] + (u128)a[1] * b[0] + (u128)a[2] * b4 +
	       (u128)a[3] * b3 + (u128)a[4] * b2;
	r[2] = (u128)a[0] * b[2] + (u128)a[1] * b[1] + (u128)a[2] * b[0] +
	       (u128)a[3] * b4 + (u128)a[4] * b3;
	r[3] = (u128)a[0] * b[3] + (u128)a[1] * b[2] + (u128)a[2] * b[1] +
	       (u128)a[3] * b[0] + (u128)a[4] * b4;
	r[4] = (u128)a[0] * b[4] + (u128)a[1] * b[3] + (u128)a[2] * b[2] +
	       (u128)a[3] * b[1] + (u128)a[4] * b[0];
	fe_reduce_wide(h, r);
}

void fe_sq(fe *h, const fe *f)
{
	const uint64_t *a = f->v;
	uint64_t d0 = 2 * a[0], d1 = 2 * a[1];
	uint64_t a3_19 = 19 * a[3], a4_19 = 19 * a[4];
	u128 r[5];

	r[0] = (u128)a[0] * a[0] + (u128)d1 * a4_19 + (u128)(2 * a[2]) * a3_19;
	r[1] = (u128)d0 * a[1] + (u128)(2 * a[2]) * a4_19 + (u128)a[3] * a3_19;
	r[2] = (u128)d0 * a[2] + (u128)a[1] * a[1] + (u128)(2 * a[3]) * a4_19;
	r[3] = (u128)d0 * a[3] + (u128)d1 * a[2] + (u128)a[4] * a4_19;
	r[4] = (u128)d0 * a[4] + (u128)d1 * a[3] + (u128)a[2] * a[2];
	fe_reduce_wide(h, r);
}

void fe_mul_small(fe *h, const fe *f, uint32_t n)
{
	u128 r[5];
	for (int i = 0; i < 5; i++)
		r[i] = (u128)f->v[i] * n;
	fe_reduce_wide(h, r);
}

#else /* no 128-bit integers */

/* A 128-bit column sum as two 64-bit words. The products come from
 * 32x32->64-bit multiplies and the carries from comparisons, which
 * compilers turn into add-with-carry: no branch, no table, constant time. */
typedef struct { uint64_t lo, hi; } u128;

static u128 mul64(uint64_t a, uint64_t b)
{
	uint64_t al = (uint32_t)a, ah = a >> 32, bl = (uint32_t)b, bh = b >> 32;
	uint64_t ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
	uint64_t mid = (ll >> 32) + (uint32_t)lh + (uint32_t)hl;
	u128 r = { (mid << 32) | (uint32_t)ll, hh + (lh >> 32) + (hl >> 32) + (mid >> 32) };
	return r;
}

static void add128(u128 *r, u128 x)
{
	r->lo += x.lo;
	r->hi += x.hi + (r->lo < x.lo);
}

static void add64(u128 *r, uint64_t x)
{
	u128 w = { x, 0 };
	add128(r, w);
}

/* r += a * b */
static void mac(u128 *r, uint64_t a, uint64_t b)
{
	add128(r, mul64(a, b));
}

/* x >> 51, for x < 2^115 (fits 64 bits) */
static uint64_t shr51(u128 x)
{
	return (x.lo >> 51) | (x.hi << 13);
}

/* Reduce five 128-bit column sums (each < 2^115) to a loose element. */
static void fe_reduce_wide(fe *h, u128 r[5])
{
	for (int i = 0; i < 4; i++) {
		add64(&r[i + 1], shr51(r[i]));
		r[i].lo &= MASK51;
		r[i].hi = 0;
	}
	uint64_t c = shr51(r[4]);
	r[4].lo &= MASK51;
	add128(&r[0], mul64(c, 19));    /* < 2^66 */
	add64(&r[1], shr51(r[0]));
	r[0].lo &= MASK51;
	for (int i = 0; i < 5; i++)
		h->v[i] = r[i].lo;
}

void fe_mul(fe *h, const fe *f, const fe *g)
{
	const uint64_t *a = f->v, *b = g->v;
	/* limbs above 2^255 wrap around multiplied by 19 */
	uint64_t b19[5] = { 0, 19 * b[1], 19 * b[2], 19 * b[3], 19 * b[4] };
	u128 r[5] = { { 0, 0 } };

	/* column k: a[i] * b[k - i], the wrapped terms (i > k) times 19 */
	for (int k = 0; k < 5; k++)
		for (int i = 0; i < 5; i++)
			mac(&r[k], a[i], i <= k ? b[k - i] : b19[5 + k - i]);
	fe_reduce_wide(h, r);
}

void fe_sq(fe *h, const fe *f)
{
	fe_mul(h, f, f);
}

void fe_mul_small(fe *h, const fe *f, uint32_t n)
{
	u128 r[5];
	for (int i = 0; i < 5; i++)
		r[i] = mul64(f->v[i], n);
	fe_reduce_wide(h, r);
}
#endif /* FE_INT128 */

static void fe_sq_times(fe *h, const fe *f, int n)
{
	fe_sq(h, f);
	while (--n > 0)
		fe_sq(h, h);
}

/* The common prefix of both exponentiations: *t250 = z^(2^250 - 1) and
 * *z11 = z^11. */
static void fe_pow_2_250_1(fe *t250, fe *z11, const fe *z)
{
	fe z2, z9, t5, t10, t20, t40, t50, t100, t200, t;

	fe_sq(&z2, z);                 /* z^2 */
	fe_sq_times(&t, &z2, 2);       /* z^8 */
	fe_mul(&z9, &t, z);            /* z^9 */
	fe_mul(z11, &z9, &z2);         /* z^11 */
	fe_sq(&t, z11);                /* z^22 */
	fe_mul(&t5, &t, &z9);          /* z^(2^5 - 1) = z^31 */
	fe_sq_times(&t, &t5, 5);
	fe_mul(&t10, &t, &t5);         /* 2^10 - 1 */
	fe_sq_times(&t, &t10, 10);
	fe_mul(&t20, &t, &t10);        /* 2^20 - 1 */
	fe_sq_times(&t, &t20, 20);
	fe_mul(&t40, &t, &t20);        /* 2^40 - 1 */
	fe_sq_times(&t, &t40, 10);
	fe_mul(&t50, &t, &t10);        /* 2^50 - 1 */
	fe_sq_times(&t, &t50, 50);
	fe_mul(&t100, &t, &t50);       /* 2^100 - 1 */
	fe_sq_times(&t, &t100, 100);
	fe_mul(&t200, &t, &t100);      /* 2^200 - 1 */
	fe_sq_times(&t, &t200, 50);
	fe_mul(t250, &t, &t50);        /* 2^250 - 1 */
}

void fe_invert(fe *h, const fe *f)
{
	fe t, z11;
	/* p - 2 = 2^255 - 21 = (2^250 - 1) * 2^5 + 11 */
	fe_pow_2_250_1(&t, &z11, f);
	fe_sq_times(&t, &t, 5);
	fe_mul(h, &t, &z11);
}

void fe_pow22523(fe *h, const fe *f)
{
	fe t, z11;
	/* (p - 5) / 8 = 2^252 - 3 = (2^250 - 1) * 4 + 1 */
	fe_pow_2_250_1(&t, &z11, f);
	fe_sq_times(&t, &t, 2);
	fe_mul(h, &t, f);
}

void fe_cswap(fe *f, fe *g, unsigned b)
{
	uint64_t mask = (uint64_t)0 - (uint64_t)(b & 1);
	for (int i = 0; i < 5; i++) {
		uint64_t t = mask & (f->v[i] ^ g->v[i]);
		f->v[i] ^= t;
		g->v[i] ^= t;
	}
}

void fe_cmov(fe *f, const fe *g, unsigned b)
{
	uint64_t mask = (uint64_t)0 - (uint64_t)(b & 1);
	for (int i = 0; i < 5; i++)
		f->v[i] ^= mask & (f->v[i] ^ g->v[i]);
}

int fe_iszero(const fe *f)
{
	uint8_t s[32];
	uint8_t acc = 0;
	fe_tobytes(s, f);
	for (int i = 0; i < 32; i++)
		acc |= s[i];
	return (int)(((unsigned)acc - 1) >> 8) & 1;
}

int fe_isodd(const fe *f)
{
	uint8_t s[32];
	fe_tobytes(s, f);
	return s[0] & 1;
}

int fe_equal(const fe *f, const fe *g)
{
	fe d;
	fe_sub(&d, f, g);
	return fe_iszero(&d);
}
