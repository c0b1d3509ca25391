/* poly1305: h = (h + block) * r mod 2^130 - 5 over the message, then
 * tag = (h + s) mod 2^128. Numbers are kept as h0 + h1 2^44 + h2 2^88.
 * A product's terms at 2^132 and above come back multiplied by 20
 * (2^132 = 4 * 2^130 = 4 * 5 mod p). */
#include "poly1305.h"

#include <string.h>

#include "crypto.h"

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

void poly1305_mac(uint8_t tag[POLY1305_TAG], const uint8_t *m, size_t n,
		  const uint8_t key[POLY1305_KEY])
{
	struct poly st;
	uint8_t r[16], last[16];

	memcpy(r, key, 16);                   /* clamp r (RFC 8439 2.5) */
	r[3] &= 15; r[7] &= 15; r[11] &= 15; r[15] &= 15;
	r[4] &= 252; r[8] &= 252; r[12] &= 252;
	uint64_t t0 = load_le64(r), t1 = load_le64(r + 8);
	st.r0 = t0 & M44;
	st.r1 = ((t0 >> 44) | (t1 << 20)) & M44;
	st.r2 = (t1 >> 24) & M42;
	st.s1 = st.r1 * 20;
	st.s2 = st.r2 * 20;
	st.h0 = st.h1 = st.h2 = 0;

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
	wipe(&t0, sizeof t0);
	wipe(&t1, sizeof t1);
}
