/* aesni: AES with AES-NI (eight counter blocks in flight), GHASH with
 * PCLMULQDQ (eight blocks per reduction) and the two stitched into one pass
 * for GCM encryption, for x86-64. Compiled with per-
 * function target attributes, so the rest of the build needs no -maes and
 * runs on CPUs without these instructions (cpu.c decides at run time). */
#include "aesni.h"

#include <stdlib.h>

#if defined(__x86_64__) && !defined(WOMBAT_PORTABLE_ONLY)
#include <immintrin.h>

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
	for (unsigned r = 0; r <= AES_MAX_ROUNDS; r++)
		rk[r] = _mm_setzero_si128();
	__asm__ volatile("" : : "m"(rk) : "memory");   /* keep the wipe */
}

TARGET void aesni_ctr(const struct aes_key *k, uint8_t ctr[16], int inc32, uint8_t *p,
		      size_t nblocks)
{
	__m128i rk[AES_MAX_ROUNDS + 1];
	unsigned rounds = k->rounds;
	uint64_t hi = load_be64(ctr), lo = load_be64(ctr + 8);
	__m128i b[CTR_LANES];

	load_round_keys(k, rk);
	for (; nblocks >= CTR_LANES; nblocks -= CTR_LANES, p += 16 * CTR_LANES) {
		for (int i = 0; i < CTR_LANES; i++) {
			b[i] = _mm_xor_si128(counter_block(hi, lo), rk[0]);
			aes_ctr_step(&hi, &lo, inc32);
		}
		for (unsigned r = 1; r < rounds; r++)
			for (int i = 0; i < CTR_LANES; i++)
				b[i] = _mm_aesenc_si128(b[i], rk[r]);
		for (int i = 0; i < CTR_LANES; i++) {
			__m128i *q = (__m128i *)(p + 16 * i);
			b[i] = _mm_aesenclast_si128(b[i], rk[rounds]);
			_mm_storeu_si128(q, _mm_xor_si128(_mm_loadu_si128(q), b[i]));
		}
	}
	for (; nblocks; nblocks--, p += 16) {
		__m128i *q = (__m128i *)p;
		__m128i ks = encrypt1(rk, rounds, counter_block(hi, lo));
		aes_ctr_step(&hi, &lo, inc32);
		_mm_storeu_si128(q, _mm_xor_si128(_mm_loadu_si128(q), ks));
	}
	store_be64(ctr, hi);
	store_be64(ctr + 8, lo);
	for (int i = 0; i < CTR_LANES; i++)
		b[i] = _mm_setzero_si128();
	for (unsigned r = 0; r <= AES_MAX_ROUNDS; r++)
		rk[r] = _mm_setzero_si128();
	__asm__ volatile("" : : "m"(b), "m"(rk) : "memory");   /* keep the wipe */
}

/* ---- GHASH: same reflected convention as ghash.c ---- */

TARGET static __m128i byte_reverse(__m128i x)
{
	const __m128i rev = _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
	return _mm_shuffle_epi8(x, rev);
}

/* Unreduced 256-bit product a*b, added into (*hi:*lo). */
TARGET static void clmul_acc(__m128i a, __m128i b, __m128i *hi, __m128i *mid, __m128i *lo)
{
	*lo = _mm_xor_si128(*lo, _mm_clmulepi64_si128(a, b, 0x00));
	*hi = _mm_xor_si128(*hi, _mm_clmulepi64_si128(a, b, 0x11));
	*mid = _mm_xor_si128(*mid, _mm_xor_si128(_mm_clmulepi64_si128(a, b, 0x01),
						 _mm_clmulepi64_si128(a, b, 0x10)));
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

TARGET static void load_powers(const struct ghash_key *g, __m128i pow[GHASH_POWERS])
{
	for (int i = 0; i < GHASH_POWERS; i++)
		pow[i] = _mm_loadu_si128((const __m128i *)g->pow[i]);
}

TARGET static __m128i load_reversed(const uint8_t *p)
{
	return byte_reverse(_mm_loadu_si128((const __m128i *)p));
}

/* acc = (acc + x[0]) H^k + x[1] H^(k-1) + ... + x[k-1] H, k <= 8 blocks
 * (byte-reversed already), one reduction for all of them. */
TARGET static __m128i ghash_fold(__m128i acc, const __m128i *x, int k, const __m128i *pow)
{
	__m128i hi = _mm_setzero_si128(), mid = hi, lo = hi;
	clmul_acc(_mm_xor_si128(x[0], acc), pow[k - 1], &hi, &mid, &lo);
	for (int i = 1; i < k; i++)
		clmul_acc(x[i], pow[k - 1 - i], &hi, &mid, &lo);
	return reduce(hi, mid, lo);
}

TARGET static void wipe_regs(__m128i *r, int n)
{
	for (int i = 0; i < n; i++)
		r[i] = _mm_setzero_si128();
	__asm__ volatile("" : : "r"(r) : "memory");   /* keep the wipe */
}

TARGET void clmul_ghash(const struct ghash_key *g, uint8_t y[16], const uint8_t *p,
			size_t nblocks)
{
	__m128i pow[GHASH_POWERS], x[GHASH_POWERS];
	__m128i acc = load_reversed(y);

	load_powers(g, pow);
	while (nblocks) {
		int k = nblocks < GHASH_POWERS ? (int)nblocks : GHASH_POWERS;
		for (int i = 0; i < k; i++)
			x[i] = load_reversed(p + 16 * i);
		acc = ghash_fold(acc, x, k, pow);
		p += 16 * k;
		nblocks -= (size_t)k;
	}
	_mm_storeu_si128((__m128i *)y, byte_reverse(acc));
	wipe_regs(pow, GHASH_POWERS);
	wipe_regs(x, GHASH_POWERS);
}

/* GCM encryption of whole blocks in one pass: eight counter blocks go
 * through the AES rounds while the GHASH products of the previous eight
 * ciphertext blocks are computed between them (no dependency between the
 * two, so the CPU overlaps them), one reduction per eight blocks. ctr (the
 * next counter block, 32-bit increment) and y (the GHASH value) advance. */
TARGET void aesni_gcm_seal(const struct aes_key *k, const struct ghash_key *g, uint8_t ctr[16],
			   uint8_t y[16], uint8_t *p, size_t nblocks)
{
	__m128i rk[AES_MAX_ROUNDS + 1], pow[GHASH_POWERS], b[CTR_LANES], prev[CTR_LANES];
	unsigned rounds = k->rounds;
	uint64_t hi = load_be64(ctr), lo = load_be64(ctr + 8);
	__m128i acc = load_reversed(y);
	int pending = 0;     /* prev holds eight blocks not yet hashed */

	load_round_keys(k, rk);
	load_powers(g, pow);
	for (; nblocks >= CTR_LANES; nblocks -= CTR_LANES, p += 16 * CTR_LANES) {
		__m128i ghi = _mm_setzero_si128(), gmid = ghi, glo = ghi;
		for (int i = 0; i < CTR_LANES; i++) {
			b[i] = _mm_xor_si128(counter_block(hi, lo), rk[0]);
			aes_ctr_step(&hi, &lo, 1);
		}
		if (pending)
			prev[0] = _mm_xor_si128(prev[0], acc);
		for (unsigned r = 1; r < rounds; r++) {
			for (int i = 0; i < CTR_LANES; i++)
				b[i] = _mm_aesenc_si128(b[i], rk[r]);
			if (pending && r <= CTR_LANES)
				clmul_acc(prev[r - 1], pow[CTR_LANES - r], &ghi, &gmid, &glo);
		}
		if (pending)
			acc = reduce(ghi, gmid, glo);
		for (int i = 0; i < CTR_LANES; i++) {
			__m128i *q = (__m128i *)(p + 16 * i);
			__m128i c = _mm_xor_si128(_mm_loadu_si128(q),
						  _mm_aesenclast_si128(b[i], rk[rounds]));
			_mm_storeu_si128(q, c);
			prev[i] = byte_reverse(c);
		}
		pending = 1;
	}
	if (pending)
		acc = ghash_fold(acc, prev, CTR_LANES, pow);
	for (size_t i = 0; i < nblocks; i++) {
		__m128i *q = (__m128i *)(p + 16 * i);
		__m128i c = _mm_xor_si128(_mm_loadu_si128(q),
					  encrypt1(rk, rounds, counter_block(hi, lo)));
		aes_ctr_step(&hi, &lo, 1);
		_mm_storeu_si128(q, c);
		prev[i] = byte_reverse(c);
	}
	if (nblocks)
		acc = ghash_fold(acc, prev, (int)nblocks, pow);
	store_be64(ctr, hi);
	store_be64(ctr + 8, lo);
	_mm_storeu_si128((__m128i *)y, byte_reverse(acc));
	wipe_regs(rk, AES_MAX_ROUNDS + 1);
	wipe_regs(pow, GHASH_POWERS);
	wipe_regs(b, CTR_LANES);
	wipe_regs(prev, CTR_LANES);
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
