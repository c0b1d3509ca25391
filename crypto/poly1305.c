/* poly1305: h = (h + block) * r mod 2^130 - 5 over the message, then
 * tag = (h + s) mod 2^128.
 *
 * Where the compiler has a 128-bit integer type (64-bit CPUs): two 64-bit
 * limbs and a few bits above them, h = h0 + h1 2^64 + h2 2^128; the
 * product's part at 2^130 and above comes back multiplied by 5. Elsewhere (32-bit
 * routers): five 26-bit limbs and 32x32->64-bit products, terms at 2^130
 * and above come back multiplied by 5. -DWOMBAT_POLY1305_32 forces the
 * second form (the tests build it that way too). */
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
