/* aesni: AES with AES-NI (eight counter blocks in flight), GHASH with
 * PCLMULQDQ (eight blocks per reduction) and the two stitched into one pass
 * for GCM encryption, for x86-64. Compiled with per-
 * function target attributes, so the rest of the build needs no -maes and
 * runs on CPUs without these instructions (cpu.c decides at run time). */
#include "aesni.h"

#include <stdlib.h>

#if defined(__x86_64__) && !defined(WOMBAT_PORTABLE_ONLY)
#include <immintrin.h>

#include "crypto.h"
#include "x86_clear.h"

#define TARGET __attribute__((target("aes,pclmul,ssse3,sse4.1")))
#define CTR_LANES 8

static uint64_t load_be64(const uint8_t *p)
{
	uint64_t v;
	__builtin_memcpy(&v, p, 8);
	return __builtin_bswap64(v);
}

static void store_be64(uint8_t *p, uint64_t v)
{
	v = __builtin_bswap64(v);
	__builtin_memcpy(p, &v, 8);
}

TARGET static __m128i counter_block(uint64_t hi, uint64_t lo)
{
	return _mm_set_epi64x((long long)__builtin_bswap64(lo), (long long)__builtin_bswap64(hi));
}

TARGET static __m128i encrypt1(const __m128i *rk, unsigned rounds, __m128i b)
{
	b = _mm_xor_si128(b, rk[0]);
	for (unsigned r = 1; r < rounds; r++)
		b = _mm_aesenc_si128(b, rk[r]);
	return _mm_aesenclast_si128(b, rk[rounds]);
}

/* Round keys into registers (unaligned loads: no assumption about where
 * the key lives). */
TARGET static void load_round_keys(const struct aes_key *k, __m128i rk[AES_MAX_ROUNDS + 1])
{
	for (unsigned r = 0; r <= k->rounds; r++)
		rk[r] = _mm_loadu_si128((const __m128i *)k->rk[r]);
}

TARGET void aesni_encrypt_block(const struct aes_key *k, const uint8_t in[16], uint8_t out[16])
{
	__m128i rk[AES_MAX_ROUNDS + 1];
	load_round_keys(k, rk);
	__m128i b = encrypt1(rk, k->rounds, _mm_loadu_si128((const __m128i *)in));
	_mm_storeu_si128((__m128i *)out, b);
	wipe(rk, sizeof rk);
	clear_xmm();
}

/* Eight counter blocks through the cipher, XORed into the 128 bytes at p.
 * The lane loops are unrolled so that the blocks stay in registers (a
 * loop over an array in memory costs a store and a reload per round). */
TARGET static inline void ctr8(const __m128i *rk, unsigned rounds, uint64_t *hi, uint64_t *lo,
			       int inc32, uint8_t *p)
{
	__m128i b[CTR_LANES];
#pragma GCC unroll 8
	for (int i = 0; i < CTR_LANES; i++) {
		b[i] = _mm_xor_si128(counter_block(*hi, *lo), rk[0]);
		aes_ctr_step(hi, lo, inc32);
	}
	for (unsigned r = 1; r < rounds; r++) {
		__m128i key = rk[r];
#pragma GCC unroll 8
		for (int i = 0; i < CTR_LANES; i++)
			b[i] = _mm_aesenc_si128(b[i], key);
	}
#pragma GCC unroll 8
	for (int i = 0; i < CTR_LANES; i++) {
		__m128i *q = (__m128i *)(p + 16 * i);
		b[i] = _mm_aesenclast_si128(b[i], rk[rounds]);
		_mm_storeu_si128(q, _mm_xor_si128(_mm_loadu_si128(q), b[i]));
	}
}

TARGET void aesni_ctr(const struct aes_key *k, uint8_t ctr[16], int inc32, uint8_t *p,
		      size_t nblocks)
{
	__m128i rk[AES_MAX_ROUNDS + 1];
	unsigned rounds = k->rounds;
	uint64_t hi = load_be64(ctr), lo = load_be64(ctr + 8);

	load_round_keys(k, rk);
	for (; nblocks >= CTR_LANES; nblocks -= CTR_LANES, p += 16 * CTR_LANES)
		ctr8(rk, rounds, &hi, &lo, inc32, p);
	for (; nblocks; nblocks--, p += 16) {
		__m128i *q = (__m128i *)p;
		__m128i ks = encrypt1(rk, rounds, counter_block(hi, lo));
		aes_ctr_step(&hi, &lo, inc32);
		_mm_storeu_si128(q, _mm_xor_si128(_mm_loadu_si128(q), ks));
	}
	store_be64(ctr, hi);
	store_be64(ctr + 8, lo);
	wipe(rk, sizeof rk);
	clear_xmm();
}

/* ---- GHASH: same reflected convention as ghash.c ---- */

TARGET static __m128i byte_reverse(__m128i x)
{
	const __m128i rev = _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
	return _mm_shuffle_epi8(x, rev);
}

/* A register's two 64-bit halves XORed together, in its low half. */
TARGET static __m128i fold_halves(__m128i x)
{
	return _mm_xor_si128(x, _mm_shuffle_epi32(x, 0x4e));
}

/* H^1..H^8, and each with its halves folded (for Karatsuba). */
struct ghash_regs {
	__m128i pow[GHASH_POWERS], kar[GHASH_POWERS];
};

TARGET static void load_powers(const struct ghash_key *g, struct ghash_regs *h)
{
	for (int i = 0; i < GHASH_POWERS; i++) {
		h->pow[i] = _mm_loadu_si128((const __m128i *)g->pow[i]);
		h->kar[i] = fold_halves(h->pow[i]);
	}
}

/* Karatsuba: a*b = a1b1 2^128 + ((a1+a0)(b1+b0) - a1b1 - a0b0) 2^64 + a0b0,
 * three carry-less multiplications for four. The sums of a1b1, a0b0 and
 * (a1+a0)(b1+b0) are kept apart over a run of blocks; reduce_sums takes
 * the middle's correction once for all of them. */
TARGET static void clmul_acc(__m128i a, __m128i b, __m128i bk, __m128i *hi, __m128i *mid,
			     __m128i *lo)
{
	*lo = _mm_xor_si128(*lo, _mm_clmulepi64_si128(a, b, 0x00));
	*hi = _mm_xor_si128(*hi, _mm_clmulepi64_si128(a, b, 0x11));
	*mid = _mm_xor_si128(*mid, _mm_clmulepi64_si128(fold_halves(a), bk, 0x00));
}

/* Shift the 256-bit hi:mid:lo sum left once and reduce it (see ghash.c). */
TARGET static __m128i reduce(__m128i hi, __m128i mid, __m128i lo)
{
	hi = _mm_xor_si128(hi, _mm_srli_si128(mid, 8));
	lo = _mm_xor_si128(lo, _mm_slli_si128(mid, 8));

	__m128i chi = _mm_srli_epi64(hi, 63), clo = _mm_srli_epi64(lo, 63);
	hi = _mm_or_si128(_mm_slli_epi64(hi, 1), _mm_slli_si128(chi, 8));
	hi = _mm_or_si128(hi, _mm_srli_si128(clo, 8));
	lo = _mm_or_si128(_mm_slli_epi64(lo, 1), _mm_slli_si128(clo, 8));

	/* the low word's spill into the word above it, then both folds */
	__m128i s = _mm_xor_si128(_mm_xor_si128(_mm_slli_epi64(lo, 63), _mm_slli_epi64(lo, 62)),
				  _mm_slli_epi64(lo, 57));
	lo = _mm_xor_si128(lo, _mm_slli_si128(s, 8));
	s = _mm_xor_si128(_mm_xor_si128(_mm_slli_epi64(lo, 63), _mm_slli_epi64(lo, 62)),
			  _mm_slli_epi64(lo, 57));
	__m128i f = _mm_xor_si128(_mm_xor_si128(lo, _mm_srli_epi64(lo, 1)),
				  _mm_xor_si128(_mm_srli_epi64(lo, 2), _mm_srli_epi64(lo, 7)));
	return _mm_xor_si128(_mm_xor_si128(hi, f), _mm_srli_si128(s, 8));
}

/* Reduce the three Karatsuba sums of clmul_acc. */
TARGET static __m128i reduce_sums(__m128i hi, __m128i mid, __m128i lo)
{
	return reduce(hi, _mm_xor_si128(mid, _mm_xor_si128(hi, lo)), lo);
}

TARGET static __m128i load_reversed(const uint8_t *p)
{
	return byte_reverse(_mm_loadu_si128((const __m128i *)p));
}

/* acc = (acc + x[0]) H^k + x[1] H^(k-1) + ... + x[k-1] H for the k <= 8
 * blocks x at p, one reduction for all of them. Inlined, so that with
 * k = 8 the loop unrolls and its products stay in registers. */
TARGET static inline __attribute__((always_inline)) __m128i
ghash_fold(__m128i acc, const uint8_t *p, int k, const struct ghash_regs *h)
{
	__m128i hi = _mm_setzero_si128(), mid = hi, lo = hi;
	clmul_acc(_mm_xor_si128(load_reversed(p), acc), h->pow[k - 1], h->kar[k - 1],
		  &hi, &mid, &lo);
	for (int i = 1; i < k; i++)
		clmul_acc(load_reversed(p + 16 * i), h->pow[k - 1 - i], h->kar[k - 1 - i],
			  &hi, &mid, &lo);
	return reduce_sums(hi, mid, lo);
}

TARGET void clmul_ghash(const struct ghash_key *g, uint8_t y[16], const uint8_t *p,
			size_t nblocks)
{
	struct ghash_regs h;
	__m128i acc = load_reversed(y);

	load_powers(g, &h);
	for (; nblocks >= GHASH_POWERS; nblocks -= GHASH_POWERS, p += 16 * GHASH_POWERS)
		acc = ghash_fold(acc, p, GHASH_POWERS, &h);
	if (nblocks)
		acc = ghash_fold(acc, p, (int)nblocks, &h);
	_mm_storeu_si128((__m128i *)y, byte_reverse(acc));
	wipe(&h, sizeof h);
	clear_xmm();
}

/* GCM encryption of whole blocks in one pass: eight counter blocks go
 * through the AES rounds while the GHASH products of the eight ciphertext
 * blocks before them (still in the cache, at p - 128) are computed between
 * the rounds (no dependency between the two, so the CPU overlaps them), one
 * reduction per eight blocks. ctr (the next counter block, 32-bit
 * increment) and y (the GHASH value) advance. */
TARGET void aesni_gcm_seal(const struct aes_key *k, const struct ghash_key *g, uint8_t ctr[16],
			   uint8_t y[16], uint8_t *p, size_t nblocks)
{
	__m128i rk[AES_MAX_ROUNDS + 1];
	struct ghash_regs h;
	unsigned rounds = k->rounds;
	uint64_t hi = load_be64(ctr), lo = load_be64(ctr + 8);
	__m128i acc = load_reversed(y);
	int pending = 0;     /* the eight blocks before p are not hashed yet */

	load_round_keys(k, rk);
	load_powers(g, &h);
	for (; nblocks >= CTR_LANES; nblocks -= CTR_LANES, p += 16 * CTR_LANES) {
		__m128i b[CTR_LANES], ghi = _mm_setzero_si128(), gmid = ghi, glo = ghi;
		const uint8_t *c = p - 16 * CTR_LANES;
#pragma GCC unroll 8
		for (int i = 0; i < CTR_LANES; i++) {
			b[i] = _mm_xor_si128(counter_block(hi, lo), rk[0]);
			aes_ctr_step(&hi, &lo, 1);
		}
		/* rounds 1..8 (AES has at least 10), a block's product each */
		for (int r = 1; r <= CTR_LANES; r++) {
#pragma GCC unroll 8
			for (int i = 0; i < CTR_LANES; i++)
				b[i] = _mm_aesenc_si128(b[i], rk[r]);
			if (pending) {
				__m128i x = load_reversed(c + 16 * (r - 1));
				if (r == 1)
					x = _mm_xor_si128(x, acc);
				clmul_acc(x, h.pow[CTR_LANES - r], h.kar[CTR_LANES - r],
					  &ghi, &gmid, &glo);
			}
		}
		for (unsigned r = CTR_LANES + 1; r < rounds; r++) {
#pragma GCC unroll 8
			for (int i = 0; i < CTR_LANES; i++)
				b[i] = _mm_aesenc_si128(b[i], rk[r]);
		}
		if (pending)
			acc = reduce_sums(ghi, gmid, glo);
#pragma GCC unroll 8
		for (int i = 0; i < CTR_LANES; i++) {
			__m128i *q = (__m128i *)(p + 16 * i);
			_mm_storeu_si128(q, _mm_xor_si128(_mm_loadu_si128(q),
							  _mm_aesenclast_si128(b[i], rk[rounds])));
		}
		pending = 1;
	}
	if (pending)
		acc = ghash_fold(acc, p - 16 * CTR_LANES, CTR_LANES, &h);
	for (size_t i = 0; i < nblocks; i++) {
		__m128i *q = (__m128i *)(p + 16 * i);
		__m128i ks = encrypt1(rk, rounds, counter_block(hi, lo));
		aes_ctr_step(&hi, &lo, 1);
		_mm_storeu_si128(q, _mm_xor_si128(_mm_loadu_si128(q), ks));
	}
	if (nblocks)
		acc = ghash_fold(acc, p, (int)nblocks, &h);
	store_be64(ctr, hi);
	store_be64(ctr + 8, lo);
	_mm_storeu_si128((__m128i *)y, byte_reverse(acc));
	wipe(rk, sizeof rk);
	wipe(&h, sizeof h);
	clear_xmm();
}

#else /* no AES-NI code in this build: cpu_use_aesni() is always 0 */

void aesni_encrypt_block(const struct aes_key *k, const uint8_t in[16], uint8_t out[16])
{
	(void)k; (void)in; (void)out;
	abort();
}

void aesni_ctr(const struct aes_key *k, uint8_t ctr[16], int inc32, uint8_t *p,
	       size_t nblocks)
{
	(void)k; (void)ctr; (void)inc32; (void)p; (void)nblocks;
	abort();
}

void clmul_ghash(const struct ghash_key *g, uint8_t y[16], const uint8_t *p,
		 size_t nblocks)
{
	(void)g; (void)y; (void)p; (void)nblocks;
	abort();
}

void aesni_gcm_seal(const struct aes_key *k, const struct ghash_key *g, uint8_t ctr[16],
		    uint8_t y[16], uint8_t *p, size_t nblocks)
{
	(void)k; (void)g; (void)ctr; (void)y; (void)p; (void)nblocks;
	abort();
}

#endif
