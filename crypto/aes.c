/* aes: portable bitsliced AES, the key schedule, and the dispatch to the
 * AES-NI code (aesni.c).
 *
 * Bitsliced layout: four blocks (64 bytes) live in q[0..7]; bit B of q[i]
 * is bit i of byte B, where B = 16 * block + (row + 4 * column), the byte's
 * index in its block. So each block is a 16-bit lane, each column a nibble
 * of it, and ShiftRows and MixColumns are shifts and masks within lanes and
 * nibbles. SubBytes is the Boyar-Peralta S-box circuit (113 gates, from
 * their paper, in the public domain) applied to all 64 bytes at once. */
#include "aes.h"

#include <string.h>

#include "aesni.h"
#include "cpu.h"
#include "crypto.h"

/* ---- bitslicing: 64 bytes <-> eight bit planes ---- */

/* Exchange the bits of b selected by m with those of a selected by m << n. */
static void swapmove(uint64_t *a, uint64_t *b, uint64_t m, unsigned n)
{
	uint64_t t = ((*a >> n) ^ *b) & m;
	*b ^= t;
	*a ^= t << n;
}

/* Transpose the 8x8 bit matrix formed by byte k of q[0..7], for each k:
 * afterwards bit j of byte k of q[i] is what bit i of byte k of q[j] was. */
static void transpose(uint64_t q[8])
{
	for (int i = 0; i < 8; i += 2)
		swapmove(&q[i], &q[i + 1], 0x5555555555555555ULL, 1);
	for (int i = 0; i < 8; i += 4) {
		swapmove(&q[i], &q[i + 2], 0x3333333333333333ULL, 2);
		swapmove(&q[i + 1], &q[i + 3], 0x3333333333333333ULL, 2);
	}
	for (int i = 0; i < 4; i++)
		swapmove(&q[i], &q[i + 4], 0x0f0f0f0f0f0f0f0fULL, 4);
}

/* The same transposition one level up: 8x8 matrices of bytes. */
static void transpose_bytes(uint64_t q[8])
{
	for (int i = 0; i < 8; i += 2)
		swapmove(&q[i], &q[i + 1], 0x00ff00ff00ff00ffULL, 8);
	for (int i = 0; i < 8; i += 4) {
		swapmove(&q[i], &q[i + 2], 0x0000ffff0000ffffULL, 16);
		swapmove(&q[i + 1], &q[i + 3], 0x0000ffff0000ffffULL, 16);
	}
	for (int i = 0; i < 4; i++)
		swapmove(&q[i], &q[i + 4], 0x00000000ffffffffULL, 32);
}

static uint64_t load_le64(const uint8_t *p)
{
	return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
	       (uint64_t)p[3] << 24 | (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 |
	       (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
}

static void store_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Word j = bytes 8j..8j+7; the byte transposition makes byte k of q[j] =
 * in[8k + j], the bit transposition then bit B of q[i] = bit i of in[B]. */
static void bitslice(uint64_t q[8], const uint8_t in[64])
{
	for (int j = 0; j < 8; j++)
		q[j] = load_le64(in + 8 * j);
	transpose_bytes(q);
	transpose(q);
}

static void unbitslice(uint8_t out[64], uint64_t q[8])
{
	transpose(q);
	transpose_bytes(q);
	for (int j = 0; j < 8; j++)
		store_le64(out + 8 * j, q[j]);
}

/* ---- the round functions on bit planes ---- */

/* Boyar & Peralta's depth-16 S-box circuit; x0 is the most significant
 * bit. Checked against the S-box computed from its definition for all 256
 * inputs (tests/unit/test_aes.c). */
static void sub_bytes(uint64_t q[8])
{
	uint64_t x0 = q[7], x1 = q[6], x2 = q[5], x3 = q[4];
	uint64_t x4 = q[3], x5 = q[2], x6 = q[1], x7 = q[0];

	/* top linear layer */
	uint64_t y14 = x3 ^ x5, y13 = x0 ^ x6, y9 = x0 ^ x3, y8 = x0 ^ x5;
	uint64_t t0 = x1 ^ x2, y1 = t0 ^ x7, y4 = y1 ^ x3, y12 = y13 ^ y14;
	uint64_t y2 = y1 ^ x0, y5 = y1 ^ x6, y3 = y5 ^ y8, t1 = x4 ^ y12;
	uint64_t y15 = t1 ^ x5, y20 = t1 ^ x1, y6 = y15 ^ x7, y10 = y15 ^ t0;
	uint64_t y11 = y20 ^ y9, y7 = x7 ^ y11, y17 = y10 ^ y11, y19 = y10 ^ y8;
	uint64_t y16 = t0 ^ y11, y21 = y13 ^ y16, y18 = x0 ^ y16;

	/* non-linear middle: inversion in GF(2^4)^2 */
	uint64_t t2 = y12 & y15, t3 = y3 & y6, t4 = t3 ^ t2, t5 = y4 & x7;
	uint64_t t6 = t5 ^ t2, t7 = y13 & y16, t8 = y5 & y1, t9 = t8 ^ t7;
	uint64_t t10 = y2 & y7, t11 = t10 ^ t7, t12 = y9 & y11, t13 = y14 & y17;
	uint64_t t14 = t13 ^ t12, t15 = y8 & y10, t16 = t15 ^ t12;
	uint64_t t17 = t4 ^ t14, t18 = t6 ^ t16, t19 = t9 ^ t14, t20 = t11 ^ t16;
	uint64_t t21 = t17 ^ y20, t22 = t18 ^ y19, t23 = t19 ^ y21, t24 = t20 ^ y18;
	uint64_t t25 = t21 ^ t22, t26 = t21 & t23, t27 = t24 ^ t26, t28 = t25 & t27;
	uint64_t t29 = t28 ^ t22, t30 = t23 ^ t24, t31 = t22 ^ t26, t32 = t31 & t30;
	uint64_t t33 = t32 ^ t24, t34 = t23 ^ t33, t35 = t27 ^ t33, t36 = t24 & t35;
	uint64_t t37 = t36 ^ t34, t38 = t27 ^ t36, t39 = t29 & t38, t40 = t25 ^ t39;
	uint64_t t41 = t40 ^ t37, t42 = t29 ^ t33, t43 = t29 ^ t40, t44 = t33 ^ t37;
	uint64_t t45 = t42 ^ t41;
	uint64_t z0 = t44 & y15, z1 = t37 & y6, z2 = t33 & x7, z3 = t43 & y16;
	uint64_t z4 = t40 & y1, z5 = t29 & y7, z6 = t42 & y11, z7 = t45 & y17;
	uint64_t z8 = t41 & y10, z9 = t44 & y12, z10 = t37 & y3, z11 = t33 & y4;
	uint64_t z12 = t43 & y13, z13 = t40 & y5, z14 = t29 & y2, z15 = t42 & y9;
	uint64_t z16 = t45 & y14, z17 = t41 & y8;

	/* bottom linear layer, with the affine constant 0x63 as NOTs */
	uint64_t t46 = z15 ^ z16, t47 = z10 ^ z11, t48 = z5 ^ z13, t49 = z9 ^ z10;
	uint64_t t50 = z2 ^ z12, t51 = z2 ^ z5, t52 = z7 ^ z8, t53 = z0 ^ z3;
	uint64_t t54 = z6 ^ z7, t55 = z16 ^ z17, t56 = z12 ^ t48, t57 = t50 ^ t53;
	uint64_t t58 = z4 ^ t46, t59 = z3 ^ t54, t60 = t46 ^ t57, t61 = z14 ^ t57;
	uint64_t t62 = t52 ^ t58, t63 = t49 ^ t58, t64 = z4 ^ t59, t65 = t61 ^ t62;
	uint64_t t66 = z1 ^ t63, t67 = t64 ^ t65;
	uint64_t s0 = t59 ^ t63, s6 = t56 ^ ~t62, s7 = t48 ^ ~t60;
	uint64_t s3 = t53 ^ t66, s4 = t51 ^ t66, s5 = t47 ^ t65;
	uint64_t s1 = t64 ^ ~s3, s2 = t55 ^ ~t67;

	q[7] = s0; q[6] = s1; q[5] = s2; q[4] = s3;
	q[3] = s4; q[2] = s5; q[1] = s6; q[0] = s7;
}

#define ROW0 0x1111111111111111ULL

/* Row r of each block rotates left by r columns: in a 16-bit lane, the
 * row-r bits move down by 4r places, wrapping round. */
static uint64_t shift_rows_plane(uint64_t x)
{
	uint64_t r1 = x & (ROW0 << 1), r2 = x & (ROW0 << 2), r3 = x & (ROW0 << 3);
	r1 = ((r1 >> 4) & 0x0fff0fff0fff0fffULL) | ((r1 << 12) & 0xf000f000f000f000ULL);
	r2 = ((r2 >> 8) & 0x00ff00ff00ff00ffULL) | ((r2 << 8) & 0xff00ff00ff00ff00ULL);
	r3 = ((r3 >> 12) & 0x000f000f000f000fULL) | ((r3 << 4) & 0xfff0fff0fff0fff0ULL);
	return (x & ROW0) | r1 | r2 | r3;
}

static void shift_rows(uint64_t q[8])
{
	for (int i = 0; i < 8; i++)
		q[i] = shift_rows_plane(q[i]);
}

/* Within each column (nibble), row r takes the value of row r+1 / r+2. */
static uint64_t rot1(uint64_t x)
{
	return ((x >> 1) & 0x7777777777777777ULL) | ((x << 3) & 0x8888888888888888ULL);
}

static uint64_t rot2(uint64_t x)
{
	return ((x >> 2) & 0x3333333333333333ULL) | ((x << 2) & 0xccccccccccccccccULL);
}

/* out_r = 2(a_r + a_r+1) + a_r+1 + (a_r+2 + a_r+3), in GF(2^8) */
static void mix_columns(uint64_t q[8])
{
	uint64_t a1[8], t[8];
	for (int i = 0; i < 8; i++) {
		a1[i] = rot1(q[i]);
		t[i] = q[i] ^ a1[i];
	}
	/* times x modulo x^8 + x^4 + x^3 + x + 1, on planes */
	uint64_t xt[8] = { t[7], t[0] ^ t[7], t[1], t[2] ^ t[7], t[3] ^ t[7], t[4], t[5], t[6] };
	for (int i = 0; i < 8; i++)
		q[i] = xt[i] ^ a1[i] ^ rot2(t[i]);
}

static void add_round_key(uint64_t q[8], const uint64_t rk[8])
{
	for (int i = 0; i < 8; i++)
		q[i] ^= rk[i];
}

static void encrypt4(const struct aes_key *k, uint64_t q[8])
{
	add_round_key(q, k->bs[0]);
	for (unsigned r = 1; r < k->rounds; r++) {
		sub_bytes(q);
		shift_rows(q);
		mix_columns(q);
		add_round_key(q, k->bs[r]);
	}
	sub_bytes(q);
	shift_rows(q);
	add_round_key(q, k->bs[k->rounds]);
}

/* ---- key schedule (FIPS-197 5.2), S-box through the same circuit ---- */

static void sub_word(uint8_t w[4])
{
	uint64_t q[8];
	for (int i = 0; i < 8; i++) {
		q[i] = 0;
		for (int k = 0; k < 4; k++)
			q[i] |= (uint64_t)((w[k] >> i) & 1) << k;
	}
	sub_bytes(q);
	for (int k = 0; k < 4; k++) {
		unsigned v = 0;
		for (int i = 0; i < 8; i++)
			v |= (unsigned)((q[i] >> k) & 1) << i;
		w[k] = (uint8_t)v;
	}
	wipe(q, sizeof q);
}

int aes_setkey(struct aes_key *k, const uint8_t *key, size_t key_len)
{
	static const uint8_t rcon[10] = { 0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0x1b, 0x36 };
	uint8_t w[4 * (AES_MAX_ROUNDS + 1)][4], tmp[4], wide[64];
	unsigned nk = (unsigned)key_len / 4;

	if (key_len != 16 && key_len != 24 && key_len != 32)
		return -1;
	k->rounds = nk + 6;
	unsigned nwords = 4 * (k->rounds + 1);
	memcpy(w, key, key_len);
	for (unsigned i = nk; i < nwords; i++) {
		memcpy(tmp, w[i - 1], 4);
		if (i % nk == 0) {
			uint8_t t0 = tmp[0];
			tmp[0] = tmp[1]; tmp[1] = tmp[2]; tmp[2] = tmp[3]; tmp[3] = t0;
			sub_word(tmp);
			tmp[0] ^= rcon[i / nk - 1];
		} else if (nk > 6 && i % nk == 4) {
			sub_word(tmp);
		}
		for (int b = 0; b < 4; b++)
			w[i][b] = w[i - nk][b] ^ tmp[b];
	}
	for (unsigned r = 0; r <= k->rounds; r++) {
		memcpy(k->rk[r], w[4 * r], AES_BLOCK);
		for (int b = 0; b < 4; b++)
			memcpy(wide + AES_BLOCK * b, k->rk[r], AES_BLOCK);
		bitslice(k->bs[r], wide);
	}
	wipe(w, sizeof w);
	wipe(tmp, sizeof tmp);
	wipe(wide, sizeof wide);
	return 0;
}

/* ---- block and counter mode ---- */

static uint64_t load_be64(const uint8_t *p)
{
	return (uint64_t)p[0] << 56 | (uint64_t)p[1] << 48 | (uint64_t)p[2] << 40 |
	       (uint64_t)p[3] << 32 | (uint64_t)p[4] << 24 | (uint64_t)p[5] << 16 |
	       (uint64_t)p[6] << 8 | (uint64_t)p[7];
}

static void store_be64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
}

/* p ^= ks, whole blocks, a word at a time (byte order does not matter) */
static void xor_blocks(uint8_t *p, const uint8_t *ks, size_t nblocks)
{
	for (size_t i = 0; i < 2 * nblocks; i++) {
		uint64_t a, b;
		memcpy(&a, p + 8 * i, 8);
		memcpy(&b, ks + 8 * i, 8);
		a ^= b;
		memcpy(p + 8 * i, &a, 8);
	}
}

void aes_encrypt_block(const struct aes_key *k, const uint8_t in[AES_BLOCK],
		       uint8_t out[AES_BLOCK])
{
	if (cpu_use_aesni()) {
		aesni_encrypt_block(k, in, out);
		return;
	}
	uint8_t buf[64] = { 0 };
	uint64_t q[8];
	memcpy(buf, in, AES_BLOCK);
	bitslice(q, buf);
	encrypt4(k, q);
	unbitslice(buf, q);
	memcpy(out, buf, AES_BLOCK);
	wipe(buf, sizeof buf);
	wipe(q, sizeof q);
}

static void ctr_portable(const struct aes_key *k, uint8_t ctr[AES_BLOCK], int inc32,
			 uint8_t *p, size_t nblocks)
{
	uint64_t hi = load_be64(ctr), lo = load_be64(ctr + 8), q[8];
	uint8_t ks[64];

	while (nblocks) {
		size_t now = nblocks < 4 ? nblocks : 4;
		for (size_t b = 0; b < 4; b++) {
			/* a short last batch encrypts spare counters it never uses */
			store_be64(ks + AES_BLOCK * b, hi);
			store_be64(ks + AES_BLOCK * b + 8, lo);
			if (b < now)
				aes_ctr_step(&hi, &lo, inc32);
		}
		bitslice(q, ks);
		encrypt4(k, q);
		unbitslice(ks, q);
		xor_blocks(p, ks, now);
		p += AES_BLOCK * now;
		nblocks -= now;
	}
	store_be64(ctr, hi);
	store_be64(ctr + 8, lo);
	wipe(ks, sizeof ks);
	wipe(q, sizeof q);
}

void aes_ctr(const struct aes_key *k, uint8_t ctr[AES_BLOCK], int inc32,
	     uint8_t *p, size_t nblocks)
{
	if (cpu_use_aesni())
		aesni_ctr(k, ctr, inc32, p, nblocks);
	else
		ctr_portable(k, ctr, inc32, p, nblocks);
}
