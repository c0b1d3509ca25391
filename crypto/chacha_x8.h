/* chacha_x8.h: the body of ChaCha20 eight blocks at a time in 256-bit
 * registers, included by chacha.c once per instruction set: X8_NAME and
 * X8_TARGET name the function and its target attribute, X8_QR(a, b, c, d)
 * is the quarter round on eight lanes, X8_CONSTANTS declares what X8_QR
 * needs (or nothing). Lane j of x[i] is word i of block j. After the rounds
 * each 128-bit half is transposed as in the SSE2 code, so that a half holds
 * 16 bytes of one block (blocks 0-3 low, 4-7 high); two word groups' halves
 * then make 32 contiguous bytes. No include guard: meant to be included
 * more than once. */

X8_TARGET static void X8_NAME(uint32_t s[16], uint8_t *out, const uint8_t *in)
{
	X8_CONSTANTS
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
		X8_QR(x[0], x[4], x[8], x[12]);
		X8_QR(x[1], x[5], x[9], x[13]);
		X8_QR(x[2], x[6], x[10], x[14]);
		X8_QR(x[3], x[7], x[11], x[15]);
		X8_QR(x[0], x[5], x[10], x[15]);
		X8_QR(x[1], x[6], x[11], x[12]);
		X8_QR(x[2], x[7], x[8], x[13]);
		X8_QR(x[3], x[4], x[9], x[14]);
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
	X8_CLEAR();
}

#undef X8_NAME
#undef X8_TARGET
#undef X8_QR
#undef X8_CONSTANTS
#undef X8_CLEAR
