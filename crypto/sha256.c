/* sha256: SHA-256 (FIPS 180-4 section 6.2), portable and with the x86 SHA
 * extensions, chosen once per process (cpu.h). */
#include "sha256.h"

#include <stdlib.h>
#include <string.h>

#include "cpu.h"
#include "crypto.h"

/* FIPS 180-4 4.2.2: the first 32 bits of the fractional parts of the cube
 * roots of the first 64 primes */
static const uint32_t K[64] __attribute__((aligned(16))) = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t load_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void store_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

#define ROR(x, n) ((x) >> (n) | (x) << (32 - (n)))

/* One round with the eight working variables named by the caller, so that
 * eight rounds in a row rotate the names instead of moving values. */
#define ROUND(a, b, c, d, e, f, g, h, t) do { \
	uint32_t t1 = h + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + (g ^ (e & (f ^ g))) + \
		      K[t] + w[t]; \
	uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) | (c & (a | b))); \
	d += t1; \
	h = t1 + t2; } while (0)

void sha256_blocks_portable(uint32_t h[8], const uint8_t *p, size_t nblocks)
{
	uint32_t w[64];
	for (; nblocks; nblocks--, p += SHA256_BLOCK) {
		for (int t = 0; t < 16; t++)
			w[t] = load_be32(p + 4 * t);
		for (int t = 16; t < 64; t++) {
			uint32_t s0 = ROR(w[t - 15], 7) ^ ROR(w[t - 15], 18) ^ (w[t - 15] >> 3);
			uint32_t s1 = ROR(w[t - 2], 17) ^ ROR(w[t - 2], 19) ^ (w[t - 2] >> 10);
			w[t] = w[t - 16] + s0 + w[t - 7] + s1;
		}
		uint32_t a = h[0], b = h[1], c = h[2], d = h[3];
		uint32_t e = h[4], f = h[5], g = h[6], hh = h[7];
		for (int t = 0; t < 64; t += 8) {
			ROUND(a, b, c, d, e, f, g, hh, t);
			ROUND(hh, a, b, c, d, e, f, g, t + 1);
			ROUND(g, hh, a, b, c, d, e, f, t + 2);
			ROUND(f, g, hh, a, b, c, d, e, t + 3);
			ROUND(e, f, g, hh, a, b, c, d, t + 4);
			ROUND(d, e, f, g, hh, a, b, c, t + 5);
			ROUND(c, d, e, f, g, hh, a, b, t + 6);
			ROUND(b, c, d, e, f, g, hh, a, t + 7);
		}
		h[0] += a; h[1] += b; h[2] += c; h[3] += d;
		h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
	}
	wipe(w, sizeof w);
}

#if defined(__x86_64__) && !defined(WOMBAT_PORTABLE_ONLY)
#include <immintrin.h>

#define SHA_TARGET __attribute__((target("sha,sse4.1,ssse3")))

/* Two rounds per sha256rnds2: it takes C,D,G,H and A,B,E,F (the state split
 * as the instruction wants it) and the two W+K words in the low half of wk,
 * and returns the new A,B,E,F; the old A,B,E,F are then C,D,G,H. */
SHA_TARGET static inline void four_rounds(__m128i *abef, __m128i *cdgh, __m128i wk)
{
	__m128i t = _mm_sha256rnds2_epu32(*cdgh, *abef, wk);
	*cdgh = *abef;
	*abef = t;
	t = _mm_sha256rnds2_epu32(*cdgh, *abef, _mm_shuffle_epi32(wk, 0x0e));
	*cdgh = *abef;
	*abef = t;
}

/* W[t..t+3] from the four groups before it: w0 = W[t-16..t-13] ... w3 =
 * W[t-4..t-1]. msg1 adds sigma0 of the next word to each of w0; the
 * alignr supplies W[t-7..t-4]; msg2 adds sigma1 of W[t-2], W[t-1] (the
 * last two from its own first results). */
SHA_TARGET static inline __m128i schedule(__m128i w0, __m128i w1, __m128i w2, __m128i w3)
{
	__m128i x = _mm_add_epi32(_mm_sha256msg1_epu32(w0, w1), _mm_alignr_epi8(w3, w2, 4));
	return _mm_sha256msg2_epu32(x, w3);
}

SHA_TARGET void sha256_blocks_shani(uint32_t h[8], const uint8_t *p, size_t nblocks)
{
	/* big-endian words into 32-bit lanes */
	const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
	__m128i dcba = _mm_loadu_si128((const __m128i *)h);        /* lanes A B C D */
	__m128i hgfe = _mm_loadu_si128((const __m128i *)(h + 4));  /* lanes E F G H */
	__m128i badc = _mm_shuffle_epi32(dcba, 0xb1);              /* B A D C */
	__m128i efgh = _mm_shuffle_epi32(hgfe, 0x1b);              /* H G F E */
	__m128i abef = _mm_alignr_epi8(badc, efgh, 8);             /* F E B A */
	__m128i cdgh = _mm_blend_epi16(efgh, badc, 0xf0);          /* H G D C */

	for (; nblocks; nblocks--, p += SHA256_BLOCK) {
		__m128i save_abef = abef, save_cdgh = cdgh, w[4];
		for (int i = 0; i < 4; i++)
			w[i] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16 * i)), bswap);
#pragma GCC unroll 16
		for (int g = 0; g < 16; g++) {
			__m128i k = _mm_load_si128((const __m128i *)(K + 4 * g));
			four_rounds(&abef, &cdgh, _mm_add_epi32(w[g & 3], k));
			if (g < 12)
				w[g & 3] = schedule(w[g & 3], w[(g + 1) & 3], w[(g + 2) & 3],
						    w[(g + 3) & 3]);
		}
		abef = _mm_add_epi32(abef, save_abef);
		cdgh = _mm_add_epi32(cdgh, save_cdgh);
	}
	__m128i feba = _mm_shuffle_epi32(abef, 0x1b);              /* A B E F */
	__m128i dchg = _mm_shuffle_epi32(cdgh, 0xb1);              /* G H C D */
	_mm_storeu_si128((__m128i *)h, _mm_blend_epi16(feba, dchg, 0xf0));
	_mm_storeu_si128((__m128i *)(h + 4), _mm_alignr_epi8(dchg, feba, 8));
}
#else
void sha256_blocks_shani(uint32_t h[8], const uint8_t *p, size_t nblocks)
{
	(void)h; (void)p; (void)nblocks;
	abort();
}
#endif

void sha256_blocks(uint32_t h[8], const uint8_t *p, size_t nblocks)
{
	if (cpu_use_shani())
		sha256_blocks_shani(h, p, nblocks);
	else
		sha256_blocks_portable(h, p, nblocks);
}

void sha256_start(struct sha256_ctx *c)
{
	static const uint32_t iv[8] = {   /* FIPS 180-4 5.3.3 */
		0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
		0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
	};
	memcpy(c->h, iv, sizeof iv);
	c->total = 0;
}

void sha256_absorb(struct sha256_ctx *c, const void *data, size_t n)
{
	const uint8_t *p = data;
	size_t fill = (size_t)(c->total % SHA256_BLOCK);
	c->total += n;
	if (fill) {
		size_t take = SHA256_BLOCK - fill < n ? SHA256_BLOCK - fill : n;
		memcpy(c->buf + fill, p, take);
		p += take;
		n -= take;
		if (fill + take < SHA256_BLOCK)
			return;
		sha256_blocks(c->h, c->buf, 1);
	}
	if (n >= SHA256_BLOCK) {
		sha256_blocks(c->h, p, n / SHA256_BLOCK);
		p += n - n % SHA256_BLOCK;
		n %= SHA256_BLOCK;
	}
	memcpy(c->buf, p, n);
}

/* Padding (5.1.1): 0x80, zeros, the length in bits as 64 bits big-endian. */
void sha256_finish(struct sha256_ctx *c, uint8_t out[SHA256_LEN])
{
	size_t fill = (size_t)(c->total % SHA256_BLOCK);
	uint64_t bits = c->total * 8;
	c->buf[fill++] = 0x80;
	if (fill > SHA256_BLOCK - 8) {
		memset(c->buf + fill, 0, SHA256_BLOCK - fill);
		sha256_blocks(c->h, c->buf, 1);
		fill = 0;
	}
	memset(c->buf + fill, 0, SHA256_BLOCK - 8 - fill);
	store_be32(c->buf + 56, (uint32_t)(bits >> 32));
	store_be32(c->buf + 60, (uint32_t)bits);
	sha256_blocks(c->h, c->buf, 1);
	for (int i = 0; i < 8; i++)
		store_be32(out + 4 * i, c->h[i]);
	wipe(c, sizeof *c);
}
