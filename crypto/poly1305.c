/* poly1305: h = (h + block) * r mod 2^130 - 5 over the message, then
 * tag = (h + s) mod 2^128.
 *
 * Where the compiler has a 128-bit integer type (64-bit CPUs): three limbs,
 * h = h0 + h1 2^44 + h2 2^88; a product's terms at 2^132 and above come
 * back multiplied by 20 (2^132 = 4 * 2^130 = 4 * 5 mod p). Elsewhere (32-bit
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

#define M44 0xfffffffffffULL
#define M42 0x3ffffffffffULL

/* written out so that compilers make it one load on little-endian CPUs */
static uint64_t load_le64(const uint8_t *p)
{
	return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
	       (uint64_t)p[3] << 24 | (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 |
	       (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
}

static void store_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

struct poly {
	uint64_t r0, r1, r2, s1, s2;   /* s = 20 r */
	uint64_t h0, h1, h2;
};

/* For each 16-byte block: add it (with 2^128 set when hibit is 1, i.e. a
 * whole block; a padded last block carries its 0x01 byte itself) and
 * multiply by r. The state stays in registers for the whole run. */
static void poly_blocks(struct poly *st, const uint8_t *m, size_t nblocks, uint64_t hibit)
{
	const uint64_t r0 = st->r0, r1 = st->r1, r2 = st->r2, s1 = st->s1, s2 = st->s2;
	uint64_t h0 = st->h0, h1 = st->h1, h2 = st->h2;

	for (; nblocks; nblocks--, m += 16) {
		uint64_t t0 = load_le64(m), t1 = load_le64(m + 8);
		h0 += t0 & M44;
		h1 += ((t0 >> 44) | (t1 << 20)) & M44;
		h2 += ((t1 >> 24) & M42) | (hibit << 40);

		u128 d0 = (u128)h0 * r0 + (u128)h1 * s2 + (u128)h2 * s1;
		u128 d1 = (u128)h0 * r1 + (u128)h1 * r0 + (u128)h2 * s2;
		u128 d2 = (u128)h0 * r2 + (u128)h1 * r1 + (u128)h2 * r0;

		uint64_t c = (uint64_t)(d0 >> 44);
		h0 = (uint64_t)d0 & M44;
		d1 += c;
		c = (uint64_t)(d1 >> 44);
		h1 = (uint64_t)d1 & M44;
		d2 += c;
		c = (uint64_t)(d2 >> 42);
		h2 = (uint64_t)d2 & M42;
		h0 += c * 5;
		c = h0 >> 44;
		h0 &= M44;
		h1 += c;
	}
	st->h0 = h0;
	st->h1 = h1;
	st->h2 = h2;
}

static void poly_init(struct poly *st, const uint8_t r[16])
{
	uint64_t t0 = load_le64(r), t1 = load_le64(r + 8);
	st->r0 = t0 & M44;
	st->r1 = ((t0 >> 44) | (t1 << 20)) & M44;
	st->r2 = (t1 >> 24) & M42;
	st->s1 = st->r1 * 20;
	st->s2 = st->r2 * 20;
	st->h0 = st->h1 = st->h2 = 0;
	wipe(&t0, sizeof t0);
	wipe(&t1, sizeof t1);
}

/* Fully reduce h mod p (constant time) and add s mod 2^128. */
static void poly_finish(struct poly *st, const uint8_t s[16], uint8_t tag[16])
{
	uint64_t h0 = st->h0, h1 = st->h1, h2 = st->h2, c;

	c = h1 >> 44; h1 &= M44; h2 += c;
	c = h2 >> 42; h2 &= M42; h0 += c * 5;
	c = h0 >> 44; h0 &= M44; h1 += c;
	c = h1 >> 44; h1 &= M44; h2 += c;
	c = h2 >> 42; h2 &= M42; h0 += c * 5;
	c = h0 >> 44; h0 &= M44; h1 += c;

	/* g = h + 5 - 2^130; if that is not negative, h >= p and g is h mod p */
	uint64_t g0 = h0 + 5;
	c = g0 >> 44; g0 &= M44;
	uint64_t g1 = h1 + c;
	c = g1 >> 44; g1 &= M44;
	uint64_t g2 = h2 + c - (1ULL << 42);
	uint64_t use_g = (g2 >> 63) - 1;          /* all ones when g2 >= 0 */
	h0 = (h0 & ~use_g) | (g0 & use_g);
	h1 = (h1 & ~use_g) | (g1 & use_g);
	h2 = (h2 & ~use_g) | (g2 & use_g);

	u128 lo = (u128)(h0 | h1 << 44) + load_le64(s);
	u128 hi = (u128)((h1 >> 20) | h2 << 24) + load_le64(s + 8) + (uint64_t)(lo >> 64);
	store_le64(tag, (uint64_t)lo);
	store_le64(tag + 8, (uint64_t)hi);
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
