/* chacha: ChaCha20 (Bernstein 2008; RFC 8439 describes the same rounds),
 * scalar, SSE2 (four blocks at a time) and AVX2 (eight). */
#include "chacha.h"

#include <string.h>

#include "cpu.h"
#include "crypto.h"

#if defined(__x86_64__) && !defined(WOMBAT_PORTABLE_ONLY)
#include <immintrin.h>
#define HAVE_SSE2_CODE 1
#define AVX2_TARGET __attribute__((target("avx2")))
#endif

static uint32_t load_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void store_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

void chacha_setkey(struct chacha_key *ck, const uint8_t key[CHACHA_KEY])
{
	for (int i = 0; i < 8; i++)
		ck->k[i] = load_le32(key + 4 * i);
}

/* "expand 32-byte k", key, counter (low, high), nonce */
static void init_state(uint32_t s[16], const struct chacha_key *ck, const uint8_t nonce[8],
		       uint64_t counter)
{
	s[0] = 0x61707865;
	s[1] = 0x3320646e;
	s[2] = 0x79622d32;
	s[3] = 0x6b206574;
	memcpy(s + 4, ck->k, sizeof ck->k);
	s[12] = (uint32_t)counter;
	s[13] = (uint32_t)(counter >> 32);
	s[14] = load_le32(nonce);
	s[15] = load_le32(nonce + 4);
}

#define ROTL(v, n) ((v) << (n) | (v) >> (32 - (n)))
#define QR(a, b, c, d) do { \
	a += b; d ^= a; d = ROTL(d, 16); \
	c += d; b ^= c; b = ROTL(b, 12); \
	a += b; d ^= a; d = ROTL(d, 8); \
	c += d; b ^= c; b = ROTL(b, 7); } while (0)

static void block(const uint32_t in[16], uint8_t out[CHACHA_BLOCK])
{
	uint32_t x[16];
	memcpy(x, in, sizeof x);
	for (int i = 0; i < 10; i++) {
		QR(x[0], x[4], x[8], x[12]);
		QR(x[1], x[5], x[9], x[13]);
		QR(x[2], x[6], x[10], x[14]);
		QR(x[3], x[7], x[11], x[15]);
		QR(x[0], x[5], x[10], x[15]);
		QR(x[1], x[6], x[11], x[12]);
		QR(x[2], x[7], x[8], x[13]);
		QR(x[3], x[4], x[9], x[14]);
	}
	for (int i = 0; i < 16; i++)
		store_le32(out + 4 * i, x[i] + in[i]);
	wipe(x, sizeof x);
}

static void next_counter(uint32_t s[16])
{
	s[12]++;
	s[13] += s[12] == 0;    /* the counter is public: a branch is fine */
}

#ifdef HAVE_SSE2_CODE
#define VROTL(v, n) _mm_or_si128(_mm_slli_epi32(v, n), _mm_srli_epi32(v, 32 - (n)))
#define VQR(a, b, c, d) do { \
	a = _mm_add_epi32(a, b); d = _mm_xor_si128(d, a); d = VROTL(d, 16); \
	c = _mm_add_epi32(c, d); b = _mm_xor_si128(b, c); b = VROTL(b, 12); \
	a = _mm_add_epi32(a, b); d = _mm_xor_si128(d, a); d = VROTL(d, 8); \
	c = _mm_add_epi32(c, d); b = _mm_xor_si128(b, c); b = VROTL(b, 7); } while (0)

/* Four consecutive blocks: lane j of x[i] is word i of block j. After the
 * rounds, each group of four words is transposed so that a register holds
 * 16 contiguous output bytes of one block. */
static void xor4_sse2(uint32_t s[16], uint8_t *out, const uint8_t *in)
{
	__m128i x[16], o[16];
	for (int i = 0; i < 16; i++)
		o[i] = x[i] = _mm_set1_epi32((int)s[i]);
	/* counters +0..+3 with carry into word 13 */
	__m128i lo = _mm_add_epi32(x[12], _mm_set_epi32(3, 2, 1, 0));
	__m128i wrapped = _mm_cmplt_epi32(_mm_xor_si128(lo, _mm_set1_epi32((int)0x80000000)),
					  _mm_xor_si128(x[12], _mm_set1_epi32((int)0x80000000)));
	o[12] = x[12] = lo;
	o[13] = x[13] = _mm_sub_epi32(x[13], wrapped);     /* wrapped is -1 */
	for (int i = 0; i < 10; i++) {
		VQR(x[0], x[4], x[8], x[12]);
		VQR(x[1], x[5], x[9], x[13]);
		VQR(x[2], x[6], x[10], x[14]);
		VQR(x[3], x[7], x[11], x[15]);
		VQR(x[0], x[5], x[10], x[15]);
		VQR(x[1], x[6], x[11], x[12]);
		VQR(x[2], x[7], x[8], x[13]);
		VQR(x[3], x[4], x[9], x[14]);
	}
	for (int i = 0; i < 16; i++)
		x[i] = _mm_add_epi32(x[i], o[i]);
	for (int g = 0; g < 4; g++) {
		__m128i a = x[4 * g], b = x[4 * g + 1], c = x[4 * g + 2], d = x[4 * g + 3];
		__m128i ab0 = _mm_unpacklo_epi32(a, b), ab1 = _mm_unpackhi_epi32(a, b);
		__m128i cd0 = _mm_unpacklo_epi32(c, d), cd1 = _mm_unpackhi_epi32(c, d);
		__m128i blk[4] = {
			_mm_unpacklo_epi64(ab0, cd0), _mm_unpackhi_epi64(ab0, cd0),
			_mm_unpacklo_epi64(ab1, cd1), _mm_unpackhi_epi64(ab1, cd1),
		};
		for (int j = 0; j < 4; j++) {
			size_t at = (size_t)CHACHA_BLOCK * j + 16 * g;
			__m128i v = _mm_loadu_si128((const __m128i *)(in + at));
			_mm_storeu_si128((__m128i *)(out + at), _mm_xor_si128(v, blk[j]));
		}
	}
	for (int j = 0; j < 4; j++)
		next_counter(s);
	for (int i = 0; i < 16; i++)
		x[i] = o[i] = _mm_setzero_si128();
	__asm__ volatile("" : : "m"(x), "m"(o) : "memory");   /* keep the wipe */
}
#endif

#ifdef HAVE_SSE2_CODE
/* Eight blocks with AVX2 (cpu_use_avx2: the CPU has it and the OS saves the
 * YMM registers): lane j of x[i] is word i of block j. Rotations by 16 and 8
 * are byte shuffles. After the rounds each 128-bit half is transposed as in
 * the SSE2 code, so that a half holds 16 bytes of one block (blocks 0-3 low,
 * 4-7 high); two word groups' halves then make 32 contiguous bytes. */
#define YROTL(v, n) _mm256_or_si256(_mm256_slli_epi32(v, n), _mm256_srli_epi32(v, 32 - (n)))
#define YQR(a, b, c, d) do { \
	a = _mm256_add_epi32(a, b); d = _mm256_shuffle_epi8(_mm256_xor_si256(d, a), rot16); \
	c = _mm256_add_epi32(c, d); b = _mm256_xor_si256(b, c); b = YROTL(b, 12); \
	a = _mm256_add_epi32(a, b); d = _mm256_shuffle_epi8(_mm256_xor_si256(d, a), rot8); \
	c = _mm256_add_epi32(c, d); b = _mm256_xor_si256(b, c); b = YROTL(b, 7); } while (0)

AVX2_TARGET static void xor8_avx2(uint32_t s[16], uint8_t *out, const uint8_t *in)
{
	const __m256i rot16 = _mm256_set_epi8(13, 12, 15, 14, 9, 8, 11, 10, 5, 4, 7, 6, 1, 0, 3, 2,
					      13, 12, 15, 14, 9, 8, 11, 10, 5, 4, 7, 6, 1, 0, 3, 2);
	const __m256i rot8 = _mm256_set_epi8(14, 13, 12, 15, 10, 9, 8, 11, 6, 5, 4, 7, 2, 1, 0, 3,
					     14, 13, 12, 15, 10, 9, 8, 11, 6, 5, 4, 7, 2, 1, 0, 3);
	const __m256i sign = _mm256_set1_epi32((int)0x80000000);
	__m256i x[16], o[16], t[4][4];
	for (int i = 0; i < 16; i++)
		o[i] = x[i] = _mm256_set1_epi32((int)s[i]);
	/* counters +0..+7 with carry into word 13 (unsigned compare via the
	 * sign flip: a lane wrapped if it is now below the start) */
	__m256i lo = _mm256_add_epi32(x[12], _mm256_set_epi32(7, 6, 5, 4, 3, 2, 1, 0));
	__m256i wrapped = _mm256_cmpgt_epi32(_mm256_xor_si256(x[12], sign),
					     _mm256_xor_si256(lo, sign));
	o[12] = x[12] = lo;
	o[13] = x[13] = _mm256_sub_epi32(x[13], wrapped);     /* wrapped is -1 */
	for (int i = 0; i < 10; i++) {
		YQR(x[0], x[4], x[8], x[12]);
		YQR(x[1], x[5], x[9], x[13]);
		YQR(x[2], x[6], x[10], x[14]);
		YQR(x[3], x[7], x[11], x[15]);
		YQR(x[0], x[5], x[10], x[15]);
		YQR(x[1], x[6], x[11], x[12]);
		YQR(x[2], x[7], x[8], x[13]);
		YQR(x[3], x[4], x[9], x[14]);
	}
	for (int i = 0; i < 16; i++)
		x[i] = _mm256_add_epi32(x[i], o[i]);
	for (int g = 0; g < 4; g++) {
		__m256i a = x[4 * g], b = x[4 * g + 1], c = x[4 * g + 2], d = x[4 * g + 3];
		__m256i ab0 = _mm256_unpacklo_epi32(a, b), ab1 = _mm256_unpackhi_epi32(a, b);
		__m256i cd0 = _mm256_unpacklo_epi32(c, d), cd1 = _mm256_unpackhi_epi32(c, d);
		t[g][0] = _mm256_unpacklo_epi64(ab0, cd0);   /* blocks 0 | 4 */
		t[g][1] = _mm256_unpackhi_epi64(ab0, cd0);   /* blocks 1 | 5 */
		t[g][2] = _mm256_unpacklo_epi64(ab1, cd1);   /* blocks 2 | 6 */
		t[g][3] = _mm256_unpackhi_epi64(ab1, cd1);   /* blocks 3 | 7 */
	}
	for (int g = 0; g < 4; g += 2)
		for (int j = 0; j < 4; j++) {
			size_t at = (size_t)CHACHA_BLOCK * j + 16 * g;
			__m256i first = _mm256_permute2x128_si256(t[g][j], t[g + 1][j], 0x20);
			__m256i second = _mm256_permute2x128_si256(t[g][j], t[g + 1][j], 0x31);
			__m256i v = _mm256_loadu_si256((const __m256i *)(in + at));
			_mm256_storeu_si256((__m256i *)(out + at), _mm256_xor_si256(v, first));
			at += 4 * CHACHA_BLOCK;
			v = _mm256_loadu_si256((const __m256i *)(in + at));
			_mm256_storeu_si256((__m256i *)(out + at), _mm256_xor_si256(v, second));
		}
	for (int j = 0; j < 8; j++)
		next_counter(s);
	for (int i = 0; i < 16; i++)
		x[i] = o[i] = _mm256_setzero_si256();
	for (int g = 0; g < 4; g++)
		for (int j = 0; j < 4; j++)
			t[g][j] = _mm256_setzero_si256();
	__asm__ volatile("" : : "m"(x), "m"(o), "m"(t) : "memory");   /* keep the wipe */
}
#endif

void chacha_xor(const struct chacha_key *ck, const uint8_t nonce[8], uint64_t counter,
		uint8_t *out, const uint8_t *in, size_t n)
{
	uint32_t s[16];
	uint8_t ks[CHACHA_BLOCK];

	init_state(s, ck, nonce, counter);
#ifdef HAVE_SSE2_CODE
	if (cpu_use_avx2())
		for (; n >= 8 * CHACHA_BLOCK; n -= 8 * CHACHA_BLOCK) {
			xor8_avx2(s, out, in);
			in += 8 * CHACHA_BLOCK;
			out += 8 * CHACHA_BLOCK;
		}
	if (cpu_use_sse2())
		for (; n >= 4 * CHACHA_BLOCK; n -= 4 * CHACHA_BLOCK) {
			xor4_sse2(s, out, in);
			in += 4 * CHACHA_BLOCK;
			out += 4 * CHACHA_BLOCK;
		}
#endif
	while (n) {
		size_t now = n < CHACHA_BLOCK ? n : CHACHA_BLOCK;
		block(s, ks);
		next_counter(s);
		for (size_t i = 0; i < now; i++)
			out[i] = in[i] ^ ks[i];
		in += now;
		out += now;
		n -= now;
	}
	wipe(s, sizeof s);
	wipe(ks, sizeof ks);
}
