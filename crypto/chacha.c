/* chacha: ChaCha20 (Bernstein 2008; RFC 8439 describes the same rounds),
 * scalar, SSE2 (four blocks at a time), AVX2 and AVX-512VL (eight). */
#include "chacha.h"

#include <string.h>

#include "cpu.h"
#include "crypto.h"

#if defined(__x86_64__) && !defined(WOMBAT_PORTABLE_ONLY)
#include <immintrin.h>

#include "x86_clear.h"
#define HAVE_SSE2_CODE 1
#define AVX2_TARGET __attribute__((target("avx2")))
#define AVX512VL_TARGET __attribute__((target("avx2,avx512f,avx512vl")))
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
	clear_xmm();      /* the state and key stream, held in registers */
}
#endif

#ifdef HAVE_SSE2_CODE
/* Eight blocks with AVX2 (cpu_use_avx2: the CPU has it and the OS saves the
 * YMM registers). Rotations by 16 and 8 are byte shuffles, by 12 and 7 two
 * shifts and an OR; x[] and o[] are 32 registers' worth, so some live on
 * the stack. */
#define YROTL(v, n) _mm256_or_si256(_mm256_slli_epi32(v, n), _mm256_srli_epi32(v, 32 - (n)))
#define YQR(a, b, c, d) do { \
	a = _mm256_add_epi32(a, b); d = _mm256_shuffle_epi8(_mm256_xor_si256(d, a), rot16); \
	c = _mm256_add_epi32(c, d); b = _mm256_xor_si256(b, c); b = YROTL(b, 12); \
	a = _mm256_add_epi32(a, b); d = _mm256_shuffle_epi8(_mm256_xor_si256(d, a), rot8); \
	c = _mm256_add_epi32(c, d); b = _mm256_xor_si256(b, c); b = YROTL(b, 7); } while (0)
#define X8_NAME xor8_avx2
#define X8_TARGET AVX2_TARGET
#define X8_CLEAR() _mm256_zeroall()
#define X8_QR YQR
#define X8_CONSTANTS \
	const __m256i rot16 = _mm256_set_epi8(13, 12, 15, 14, 9, 8, 11, 10, 5, 4, 7, 6, 1, 0, 3, 2, \
					      13, 12, 15, 14, 9, 8, 11, 10, 5, 4, 7, 6, 1, 0, 3, 2); \
	const __m256i rot8 = _mm256_set_epi8(14, 13, 12, 15, 10, 9, 8, 11, 6, 5, 4, 7, 2, 1, 0, 3, \
					     14, 13, 12, 15, 10, 9, 8, 11, 6, 5, 4, 7, 2, 1, 0, 3);
#include "chacha_x8.h"

/* vzeroall, and the sixteen registers AVX-512 adds, which it leaves. */
AVX512VL_TARGET static void clear_upper_ymm(void)
{
	_mm256_zeroall();
	__asm__ volatile(
		"vpxord %%ymm16, %%ymm16, %%ymm16\n\tvpxord %%ymm17, %%ymm17, %%ymm17\n\t"
		"vpxord %%ymm18, %%ymm18, %%ymm18\n\tvpxord %%ymm19, %%ymm19, %%ymm19\n\t"
		"vpxord %%ymm20, %%ymm20, %%ymm20\n\tvpxord %%ymm21, %%ymm21, %%ymm21\n\t"
		"vpxord %%ymm22, %%ymm22, %%ymm22\n\tvpxord %%ymm23, %%ymm23, %%ymm23\n\t"
		"vpxord %%ymm24, %%ymm24, %%ymm24\n\tvpxord %%ymm25, %%ymm25, %%ymm25\n\t"
		"vpxord %%ymm26, %%ymm26, %%ymm26\n\tvpxord %%ymm27, %%ymm27, %%ymm27\n\t"
		"vpxord %%ymm28, %%ymm28, %%ymm28\n\tvpxord %%ymm29, %%ymm29, %%ymm29\n\t"
		"vpxord %%ymm30, %%ymm30, %%ymm30\n\tvpxord %%ymm31, %%ymm31, %%ymm31"
		: : : "xmm16", "xmm17", "xmm18", "xmm19", "xmm20", "xmm21", "xmm22", "xmm23",
		  "xmm24", "xmm25", "xmm26", "xmm27", "xmm28", "xmm29", "xmm30", "xmm31");
}

/* The same eight blocks with AVX-512VL on 256-bit registers
 * (cpu_use_avx512vl): every rotation is one vprold, and with 32 registers
 * the state and its copy stay in registers. 1 GiB: 0.62 -> 0.46 CPU s. */
#define ZQR(a, b, c, d) do { \
	a = _mm256_add_epi32(a, b); d = _mm256_rol_epi32(_mm256_xor_si256(d, a), 16); \
	c = _mm256_add_epi32(c, d); b = _mm256_rol_epi32(_mm256_xor_si256(b, c), 12); \
	a = _mm256_add_epi32(a, b); d = _mm256_rol_epi32(_mm256_xor_si256(d, a), 8); \
	c = _mm256_add_epi32(c, d); b = _mm256_rol_epi32(_mm256_xor_si256(b, c), 7); } while (0)
#define X8_NAME xor8_avx512vl
#define X8_TARGET AVX512VL_TARGET
#define X8_CLEAR() clear_upper_ymm()
#define X8_QR ZQR
#define X8_CONSTANTS
#include "chacha_x8.h"
#endif

void chacha_xor(const struct chacha_key *ck, const uint8_t nonce[8], uint64_t counter,
		uint8_t *out, const uint8_t *in, size_t n)
{
	uint32_t s[16];
	uint8_t ks[CHACHA_BLOCK];
	int spilled = 0;      /* vector code ran: its frame holds key stream */

	init_state(s, ck, nonce, counter);
#ifdef HAVE_SSE2_CODE
	spilled = n >= 4 * CHACHA_BLOCK;
	if (cpu_use_avx512vl())
		for (; n >= 8 * CHACHA_BLOCK; n -= 8 * CHACHA_BLOCK) {
			xor8_avx512vl(s, out, in);
			in += 8 * CHACHA_BLOCK;
			out += 8 * CHACHA_BLOCK;
		}
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
	if (spilled)
		wipe_stack();
}
