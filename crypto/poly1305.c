/* poly1305: h = (h + block) * r mod 2^130 - 5 over the message, then
 * tag = (h + s) mod 2^128.
 *
 * Where the compiler has a 128-bit integer type (64-bit CPUs): two 64-bit
 * limbs and a few bits above them, h = h0 + h1 2^64 + h2 2^128; the
 * product's part at 2^130 and above comes back multiplied by 5. Elsewhere (32-bit
 * routers): five 26-bit limbs and 32x32->64-bit products, terms at 2^130
 * and above come back multiplied by 5. -DWOMBAT_POLY1305_32 forces the
 * second form (the tests build it that way too).
 *
 * On x86-64 with AVX2 (cpu_use_avx2()), messages of 512 bytes and more run
 * four blocks at a time in 26-bit limbs first (below, poly_blocks_avx2);
 * the last 0..3 whole blocks and a partial one go through the 64-bit code. */
#include "poly1305.h"

#include <string.h>

#include "crypto.h"

#if defined(__SIZEOF_INT128__) && !defined(WOMBAT_POLY1305_32)
#define POLY_LIMBS64 1
#endif

#ifdef POLY_LIMBS64

typedef unsigned __int128 u128;


/* one load (and a byte swap on big-endian CPUs); inline, so that the
 * block loop keeps its state in registers */
static inline uint64_t load_le64(const uint8_t *p)
{
	uint64_t v;
	__builtin_memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

static void store_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

struct poly {
	uint64_t r0, r1, s1;           /* s1 = 5 (r1 / 4): r1 is a multiple of 4 */
	uint64_t h0, h1, h2;           /* h = h0 + h1 2^64 + h2 2^128, h2 small */
};

/* For each 16-byte block: add it (with 2^128 set when hibit is 1, i.e. a
 * whole block; a padded last block carries its 0x01 byte itself) and
 * multiply by r. With r's clamped bits, r1 2^128 = (r1 / 4) 2^130, which is
 * s1 mod p; so h r needs four 64x64 products and two small ones, and the
 * part at 2^130 and above comes back as 5 times itself. The state stays in
 * registers for the whole run. */
/* *a += b; the carry out (0 or 1), computed without a branch. Carries are
 * spelled out in 64 bits: gcc spills 128-bit sums of 64-bit values. */
static inline uint64_t add_c(uint64_t *a, uint64_t b)
{
	*a += b;
	return *a < b;
}

static void poly_blocks(struct poly *st, const uint8_t *m, size_t nblocks, uint64_t hibit)
{
	const uint64_t r0 = st->r0, r1 = st->r1, s1 = st->s1;
	uint64_t h0 = st->h0, h1 = st->h1, h2 = st->h2;

	for (; nblocks; nblocks--, m += 16) {
		uint64_t c = add_c(&h0, load_le64(m));
		c = add_c(&h1, c) + add_c(&h1, load_le64(m + 8));
		h2 += c + hibit;

		u128 d0 = (u128)h0 * r0 + (u128)h1 * s1;
		u128 d1 = (u128)h0 * r1 + (u128)h1 * r0;
		uint64_t lo0 = (uint64_t)d0, lo1 = (uint64_t)d1, hi1 = (uint64_t)(d1 >> 64);
		hi1 += add_c(&lo1, h2 * s1) + add_c(&lo1, (uint64_t)(d0 >> 64));
		uint64_t d2 = h2 * r0 + hi1;                       /* at 2^128 */

		/* keep two bits at 2^128; 5 times the rest (c = 4k: c + c/4 = 5k) */
		c = d2 & ~3ULL;
		h2 = d2 & 3;
		h0 = lo0;
		uint64_t carry = add_c(&h0, c) + add_c(&h0, c >> 2);
		h1 = lo1;
		h2 += add_c(&h1, carry);
	}
	st->h0 = h0;
	st->h1 = h1;
	st->h2 = h2;
}

static void poly_init(struct poly *st, const uint8_t r[16])
{
	st->r0 = load_le64(r) & 0x0ffffffc0fffffffULL;
	st->r1 = load_le64(r + 8) & 0x0ffffffc0ffffffcULL;
	st->s1 = st->r1 + (st->r1 >> 2);
	st->h0 = st->h1 = st->h2 = 0;
}

/* Fully reduce h mod p (constant time) and add s mod 2^128. */
static void poly_finish(struct poly *st, const uint8_t s[16], uint8_t tag[16])
{
	uint64_t h0 = st->h0, h1 = st->h1, h2 = st->h2;

	/* h < 2^130 + small after this */
	uint64_t c = h2 & ~3ULL;
	h2 &= 3;
	u128 t = (u128)h0 + c + (c >> 2);
	h0 = (uint64_t)t;
	t = (u128)h1 + (uint64_t)(t >> 64);
	h1 = (uint64_t)t;
	h2 += (uint64_t)(t >> 64);

	/* g = h + 5; if g reaches 2^130, h >= p and g - 2^130 is h mod p */
	t = (u128)h0 + 5;
	uint64_t g0 = (uint64_t)t;
	t = (u128)h1 + (uint64_t)(t >> 64);
	uint64_t g1 = (uint64_t)t;
	uint64_t g2 = h2 + (uint64_t)(t >> 64);
	uint64_t use_g = 0 - (g2 >> 2);           /* all ones when g >= 2^130 */
	h0 = (h0 & ~use_g) | (g0 & use_g);
	h1 = (h1 & ~use_g) | (g1 & use_g);

	t = (u128)h0 + load_le64(s);
	store_le64(tag, (uint64_t)t);
	store_le64(tag + 8, h1 + load_le64(s + 8) + (uint64_t)(t >> 64));
}

#if defined(__x86_64__) && !defined(WOMBAT_PORTABLE_ONLY)
/* AVX2: four blocks at a time (cpu_use_avx2). The blocks are dealt into
 * four lanes, lane j taking blocks j, j+4, j+8, ...; each lane runs its own
 * Horner evaluation with r^4, and the last step multiplies the lanes by
 * r^4, r^3, r^2, r^1 instead, so their sum is h over all the blocks. A lane
 * keeps h as five 26-bit limbs, each in a 64-bit element, so that
 * vpmuludq (32x32->64) forms the 25 partial products of h r^4: limbs stay
 * below 2^28 between carries (2^26 + 2^10 after a step's partial carry,
 * plus a block), 5 r's below 2^29, so each limb's sum of five products is
 * below 2^59. The loop's length is the only thing it branches on. */
#include <immintrin.h>

#include "cpu.h"

#define HAVE_AVX2_POLY 1
#define AVX2_TARGET __attribute__((target("avx2")))
#define L26 0x3ffffffULL

/* From this length on the vector code pays for its set-up (r^2..r^4, two
 * dependent vector products) and its final sum; shorter messages, e.g.
 * SSH's small packets, stay scalar. Measured (EPYC, minimum TSC ticks,
 * scalar/vector): 384 bytes 472/540, 512 bytes 607/607, 768 bytes
 * 855/742, 1 KiB 1125/877; in instructions the vector code wins from
 * about 300 bytes.
 * (A unit test that includes this file sets 64, to test the vector code on
 * short messages too.) */
#ifndef POLY1305_AVX2_MIN
#define POLY1305_AVX2_MIN 512
#endif

/* h0 + h1 2^64 + h2 2^128 as five 26-bit limbs; the top one keeps the rest */
static void to_limbs26(uint64_t l[5], uint64_t h0, uint64_t h1, uint64_t h2)
{
	l[0] = h0 & L26;
	l[1] = (h0 >> 26) & L26;
	l[2] = (h0 >> 52 | h1 << 12) & L26;
	l[3] = (h1 >> 14) & L26;
	l[4] = h1 >> 40 | h2 << 24;
}

/* back to h0, h1, h2, which poly_blocks wants with h2 at most 4: limbs
 * below 2^29, carried once round with 2^130 = 5 mod p, leave l4 < 2^26 */
static void from_limbs26(struct poly *st, uint64_t l[5])
{
	uint64_t c = 0;
	for (int i = 0; i < 5; i++) {
		l[i] += c;
		c = l[i] >> 26;
		l[i] &= L26;
	}
	l[0] += c * 5;
	u128 lo = (u128)l[0] + ((u128)l[1] << 26) + ((u128)l[2] << 52);
	u128 hi = (lo >> 64) + ((u128)l[3] << 14) + ((u128)l[4] << 40);
	st->h0 = (uint64_t)lo;
	st->h1 = (uint64_t)hi;
	st->h2 = (uint64_t)(hi >> 64);
}

/* a lane vector of five 26-bit limbs */
struct v5 {
	__m256i l0, l1, l2, l3, l4;
};

/* the multiplier of a step and 5 times it (2^130 = 5 mod p) */
struct vkey {
	struct v5 r, s;
};

#define AVX2_INLINE __attribute__((target("avx2"), always_inline)) static inline
#define VMUL _mm256_mul_epu32
#define VADD _mm256_add_epi64

/* h + four blocks, with 2^128 set (whole blocks). The unpacks put blocks
 * 0, 2, 1, 3 in lanes 0..3: the lanes' final powers follow that order
 * rather than spend a permute per step. */
AVX2_INLINE struct v5 add4(struct v5 h, const uint8_t *m)
{
	const __m256i mask = _mm256_set1_epi64x(L26);
	__m256i a = _mm256_loadu_si256((const __m256i *)m);
	__m256i b = _mm256_loadu_si256((const __m256i *)(m + 32));
	__m256i lo = _mm256_unpacklo_epi64(a, b), hi = _mm256_unpackhi_epi64(a, b);
	__m256i mid = _mm256_or_si256(_mm256_srli_epi64(lo, 52), _mm256_slli_epi64(hi, 12));
	h.l0 = VADD(h.l0, _mm256_and_si256(lo, mask));
	h.l1 = VADD(h.l1, _mm256_and_si256(_mm256_srli_epi64(lo, 26), mask));
	h.l2 = VADD(h.l2, _mm256_and_si256(mid, mask));
	h.l3 = VADD(h.l3, _mm256_and_si256(_mm256_srli_epi64(hi, 14), mask));
	h.l4 = VADD(h.l4, _mm256_or_si256(_mm256_srli_epi64(hi, 40),
					  _mm256_set1_epi64x(1 << 24)));
	return h;
}

/* c = d >> 26 moves up to the next limb */
#define VCARRY(from, to) do { \
	__m256i c_ = _mm256_srli_epi64(from, 26); \
	from = _mm256_and_si256(from, mask); \
	to = VADD(to, c_); } while (0)

/* h r mod p in every lane, then a partial carry: two chains side by side
 * (d0 -> d1 -> d2 -> d3 -> d4 and d3 -> d4 -> 5 d0 -> d1), which leaves
 * every limb below 2^26 + 2^10. */
AVX2_INLINE struct v5 vmul(struct v5 h, const struct vkey *k)
{
	const __m256i mask = _mm256_set1_epi64x(L26);
	const struct v5 *r = &k->r, *s = &k->s;
	struct v5 d;
	d.l0 = VADD(VADD(VADD(VADD(VMUL(h.l0, r->l0), VMUL(h.l1, s->l4)),
			      VMUL(h.l2, s->l3)), VMUL(h.l3, s->l2)), VMUL(h.l4, s->l1));
	d.l1 = VADD(VADD(VADD(VADD(VMUL(h.l0, r->l1), VMUL(h.l1, r->l0)),
			      VMUL(h.l2, s->l4)), VMUL(h.l3, s->l3)), VMUL(h.l4, s->l2));
	d.l2 = VADD(VADD(VADD(VADD(VMUL(h.l0, r->l2), VMUL(h.l1, r->l1)),
			      VMUL(h.l2, r->l0)), VMUL(h.l3, s->l4)), VMUL(h.l4, s->l3));
	d.l3 = VADD(VADD(VADD(VADD(VMUL(h.l0, r->l3), VMUL(h.l1, r->l2)),
			      VMUL(h.l2, r->l1)), VMUL(h.l3, r->l0)), VMUL(h.l4, s->l4));
	d.l4 = VADD(VADD(VADD(VADD(VMUL(h.l0, r->l4), VMUL(h.l1, r->l3)),
			      VMUL(h.l2, r->l2)), VMUL(h.l3, r->l1)), VMUL(h.l4, r->l0));
	VCARRY(d.l0, d.l1);
	VCARRY(d.l3, d.l4);
	VCARRY(d.l1, d.l2);
	__m256i c = _mm256_srli_epi64(d.l4, 26);
	d.l4 = _mm256_and_si256(d.l4, mask);
	d.l0 = VADD(d.l0, VADD(c, _mm256_slli_epi64(c, 2)));
	VCARRY(d.l2, d.l3);
	VCARRY(d.l0, d.l1);
	VCARRY(d.l3, d.l4);
	return d;
}

/* r and 5 r */
AVX2_INLINE struct vkey times5(struct v5 r)
{
	struct vkey k = { r, {
		VADD(r.l0, _mm256_slli_epi64(r.l0, 2)), VADD(r.l1, _mm256_slli_epi64(r.l1, 2)),
		VADD(r.l2, _mm256_slli_epi64(r.l2, 2)), VADD(r.l3, _mm256_slli_epi64(r.l3, 2)),
		VADD(r.l4, _mm256_slli_epi64(r.l4, 2)) } };
	return k;
}

/* per limb: lanes 0, 2 from a's lanes 1, 0; lanes 1, 3 from b's lanes 1, 3 */
AVX2_INLINE __m256i pick_last(__m256i a, __m256i b)
{
	return _mm256_blend_epi32(_mm256_permute4x64_epi64(a, 0x01), b, 0xcc);
}

/* The multipliers from r's limbs, with two vector products: r^2 in every
 * lane, then r^2 (r, r^2, r, r^2) = (r^3, r^4, r^3, r^4). The step key is
 * r^4 in every lane; the last one (r^4, r^2, r^3, r), the powers that
 * lanes 0..3 (blocks 0, 2, 1, 3 of the last four: add4) want. */
AVX2_TARGET static void set_keys(struct vkey *step, struct vkey *last, const uint64_t r[5])
{
	struct v5 r1 = {
		_mm256_set1_epi64x((long long)r[0]), _mm256_set1_epi64x((long long)r[1]),
		_mm256_set1_epi64x((long long)r[2]), _mm256_set1_epi64x((long long)r[3]),
		_mm256_set1_epi64x((long long)r[4]),
	};
	struct vkey k = times5(r1);
	struct v5 r2 = vmul(r1, &k);
	struct v5 mix = {                      /* r, r^2, r, r^2 */
		_mm256_blend_epi32(r1.l0, r2.l0, 0xcc), _mm256_blend_epi32(r1.l1, r2.l1, 0xcc),
		_mm256_blend_epi32(r1.l2, r2.l2, 0xcc), _mm256_blend_epi32(r1.l3, r2.l3, 0xcc),
		_mm256_blend_epi32(r1.l4, r2.l4, 0xcc),
	};
	k = times5(mix);
	struct v5 r34 = vmul(r2, &k);          /* r^3, r^4, r^3, r^4 */
	struct v5 r4 = {
		_mm256_permute4x64_epi64(r34.l0, 0x55), _mm256_permute4x64_epi64(r34.l1, 0x55),
		_mm256_permute4x64_epi64(r34.l2, 0x55), _mm256_permute4x64_epi64(r34.l3, 0x55),
		_mm256_permute4x64_epi64(r34.l4, 0x55),
	};
	*step = times5(r4);
	struct v5 r21 = {                      /* r^2, r^2, r^2, r */
		_mm256_blend_epi32(r2.l0, r1.l0, 0xc0), _mm256_blend_epi32(r2.l1, r1.l1, 0xc0),
		_mm256_blend_epi32(r2.l2, r1.l2, 0xc0), _mm256_blend_epi32(r2.l3, r1.l3, 0xc0),
		_mm256_blend_epi32(r2.l4, r1.l4, 0xc0),
	};
	struct v5 fin = {
		pick_last(r34.l0, r21.l0), pick_last(r34.l1, r21.l1), pick_last(r34.l2, r21.l2),
		pick_last(r34.l3, r21.l3), pick_last(r34.l4, r21.l4),
	};
	*last = times5(fin);
}

/* the sum of a limb's four lanes */
AVX2_INLINE uint64_t sum4(__m256i v)
{
	__m128i x = _mm_add_epi64(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
	x = _mm_add_epi64(x, _mm_unpackhi_epi64(x, x));
	return (uint64_t)_mm_cvtsi128_si64(x);
}

/* The vector loop: h (lane 0 limbs l[]) through nblocks, returned in l[]
 * as the sum of the lanes. */
AVX2_TARGET static void lanes_avx2(uint64_t l[5], const uint8_t *m, size_t nblocks,
				   const struct vkey *step, const struct vkey *last)
{
	struct v5 h = {
		_mm256_set_epi64x(0, 0, 0, (long long)l[0]), _mm256_set_epi64x(0, 0, 0, (long long)l[1]),
		_mm256_set_epi64x(0, 0, 0, (long long)l[2]), _mm256_set_epi64x(0, 0, 0, (long long)l[3]),
		_mm256_set_epi64x(0, 0, 0, (long long)l[4]),
	};
	/* one copy of vmul: the last four blocks take their lanes' own powers */
	for (;; nblocks -= 4, m += 64) {
		h = vmul(add4(h, m), nblocks > 4 ? step : last);
		if (nblocks == 4)
			break;
	}
	l[0] = sum4(h.l0);
	l[1] = sum4(h.l1);
	l[2] = sum4(h.l2);
	l[3] = sum4(h.l3);
	l[4] = sum4(h.l4);
}

/* the keys' vectors zeroed by stores the compiler must keep */
AVX2_TARGET static void wipe_keys(struct vkey k[2])
{
	wipe(k, 2 * sizeof *k);
	_mm256_zeroall();       /* the powers and lanes left in registers */
}

/* poly_blocks over nblocks whole blocks, nblocks a multiple of 4 and at
 * least 4. st->h (usually 0) enters lane 0 with the first block, so it is
 * multiplied by r^nblocks as Horner's rule would. */
static void poly_blocks_avx2(struct poly *st, const uint8_t *m, size_t nblocks)
{
	uint64_t l[5];
	struct vkey keys[2];                   /* the step's and the last */

	to_limbs26(l, st->r0, st->r1, 0);
	set_keys(&keys[0], &keys[1], l);
	to_limbs26(l, st->h0, st->h1, st->h2);
	lanes_avx2(l, m, nblocks, &keys[0], &keys[1]);
	from_limbs26(st, l);
	wipe(l, sizeof l);
	wipe_keys(keys);
	wipe_stack();           /* what set_keys and lanes_avx2 spilled */
}
#endif

#else /* 26-bit limbs */

#define M26 0x3ffffffu

static uint32_t load_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void store_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

struct poly {
	uint32_t r[5], s[5];          /* s = 5 r (s[0] unused) */
	uint32_t h[5];
};

/* 16 bytes as five 26-bit limbs: bits 0, 26, 52, 78, 104 onwards */
static void split26(const uint8_t b[16], uint32_t l[5])
{
	l[0] = load_le32(b) & M26;
	l[1] = (load_le32(b + 3) >> 2) & M26;
	l[2] = (load_le32(b + 6) >> 4) & M26;
	l[3] = (load_le32(b + 9) >> 6) & M26;
	l[4] = load_le32(b + 12) >> 8;
}

static void poly_init(struct poly *st, const uint8_t r[16])
{
	split26(r, st->r);
	for (int i = 1; i < 5; i++)
		st->s[i] = st->r[i] * 5;
	st->s[0] = 0;
	memset(st->h, 0, sizeof st->h);
}

static void poly_blocks(struct poly *st, const uint8_t *m, size_t nblocks, uint32_t hibit)
{
	const uint32_t *r = st->r, *s = st->s;
	uint32_t h[5], t[5];
	memcpy(h, st->h, sizeof h);

	for (; nblocks; nblocks--, m += 16) {
		split26(m, t);
		t[4] |= hibit << 24;
		for (int i = 0; i < 5; i++)
			h[i] += t[i];

		uint64_t d[5];
		d[0] = (uint64_t)h[0] * r[0] + (uint64_t)h[1] * s[4] + (uint64_t)h[2] * s[3] +
		       (uint64_t)h[3] * s[2] + (uint64_t)h[4] * s[1];
		d[1] = (uint64_t)h[0] * r[1] + (uint64_t)h[1] * r[0] + (uint64_t)h[2] * s[4] +
		       (uint64_t)h[3] * s[3] + (uint64_t)h[4] * s[2];
		d[2] = (uint64_t)h[0] * r[2] + (uint64_t)h[1] * r[1] + (uint64_t)h[2] * r[0] +
		       (uint64_t)h[3] * s[4] + (uint64_t)h[4] * s[3];
		d[3] = (uint64_t)h[0] * r[3] + (uint64_t)h[1] * r[2] + (uint64_t)h[2] * r[1] +
		       (uint64_t)h[3] * r[0] + (uint64_t)h[4] * s[4];
		d[4] = (uint64_t)h[0] * r[4] + (uint64_t)h[1] * r[3] + (uint64_t)h[2] * r[2] +
		       (uint64_t)h[3] * r[1] + (uint64_t)h[4] * r[0];

		uint32_t c = 0;
		for (int i = 0; i < 5; i++) {
			d[i] += c;
			c = (uint32_t)(d[i] >> 26);
			h[i] = (uint32_t)d[i] & M26;
		}
		h[0] += c * 5;
		c = h[0] >> 26;
		h[0] &= M26;
		h[1] += c;
	}
	memcpy(st->h, h, sizeof h);
	wipe(t, sizeof t);
}

static void poly_finish(struct poly *st, const uint8_t s[16], uint8_t tag[16])
{
	uint32_t h[5], g[5], c;
	memcpy(h, st->h, sizeof h);

	for (int pass = 0; pass < 2; pass++) {
		c = 0;
		for (int i = 1; i < 5; i++) {
			h[i] += c;
			c = h[i] >> 26;
			h[i] &= M26;
		}
		h[0] += c * 5;
		c = h[0] >> 26;
		h[0] &= M26;
		h[1] += c;
	}

	/* g = h + 5 - 2^130; if that is not negative, h >= p and g is h mod p */
	c = 5;
	for (int i = 0; i < 5; i++) {
		g[i] = h[i] + c;
		c = g[i] >> 26;
		g[i] &= M26;
	}
	g[4] = (g[4] | c << 26) - (1u << 26);
	uint32_t use_g = (g[4] >> 31) - 1;       /* all ones when g4 >= 0 */
	for (int i = 0; i < 5; i++)
		h[i] = (h[i] & ~use_g) | (g[i] & use_g);

	uint32_t w[4] = {
		h[0] | h[1] << 26, h[1] >> 6 | h[2] << 20,
		h[2] >> 12 | h[3] << 14, h[3] >> 18 | h[4] << 8,
	};
	uint64_t f = 0;
	for (int i = 0; i < 4; i++) {
		f += (uint64_t)w[i] + load_le32(s + 4 * i);
		store_le32(tag + 4 * i, (uint32_t)f);
		f >>= 32;
	}
	wipe(h, sizeof h);
	wipe(g, sizeof g);
	wipe(w, sizeof w);
}

#endif

void poly1305_mac(uint8_t tag[POLY1305_TAG], const uint8_t *m, size_t n,
		  const uint8_t key[POLY1305_KEY])
{
	struct poly st;
	uint8_t r[16], last[16];

	memcpy(r, key, 16);                   /* clamp r (RFC 8439 2.5) */
	r[3] &= 15; r[7] &= 15; r[11] &= 15; r[15] &= 15;
	r[4] &= 252; r[8] &= 252; r[12] &= 252;
	poly_init(&st, r);

#ifdef HAVE_AVX2_POLY
	if (n >= POLY1305_AVX2_MIN && cpu_use_avx2()) {     /* n is public */
		size_t nb = n / 64 * 4;
		poly_blocks_avx2(&st, m, nb);
		m += nb * 16;
		n -= nb * 16;
	}
#endif
	poly_blocks(&st, m, n / 16, 1);
	m += n / 16 * 16;
	n %= 16;
	if (n) {
		memset(last, 0, sizeof last);
		memcpy(last, m, n);
		last[n] = 1;
		poly_blocks(&st, last, 1, 0);
		wipe(last, sizeof last);
	}
	poly_finish(&st, key + 16, tag);
	wipe(&st, sizeof st);
	wipe(r, sizeof r);
}
