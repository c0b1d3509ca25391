/* ML-KEM-768 per FIPS 203 (final, August 2024). Algorithm numbers in the
 * comments are FIPS 203's.
 *
 * Coefficients are kept fully reduced in [0, q) as uint16_t; every
 * reduction is a multiply-shift (Barrett) and a masked subtraction, so no
 * secret value reaches a branch, a table index or a division instruction.
 * Only public data branches: the rejection sampling of the matrix from rho
 * (rho is part of the encapsulation key) and the input checks. */
#include "mlkem768.h"

#include <string.h>
#include "ltc_dyn.h"

#include "crypto.h"

/* ct_public: for the constant-time test (tests/unit/test_mlkem768_ct.c
 * compiles this file in with WOMBAT_CTGRIND), rho derives from the secret
 * seed d but is published in the encapsulation key. */
#include "ct.h"

#define Q 3329
#define N 256
#define K 3
#define ETA 2                   /* eta1 = eta2 = 2 for ML-KEM-768 */
#define DU 10
#define DV 4
#define POLY_BYTES 384          /* ByteEncode_12 of one polynomial */
#define CBD_BYTES (64 * ETA)
#define INV128 3303             /* 128^-1 mod q */
#define SHAKE128_RATE 168

#define PKE_SK_LEN (K * POLY_BYTES)                       /* 1152 */
#define CT_U_LEN (K * N * DU / 8)                         /* 960 */

typedef struct { uint16_t c[N]; } poly;
typedef struct { poly p[K]; } polyvec;

/* ---- arithmetic mod q ---- */

/* a mod q for a < 2q */
static uint16_t csubq(uint32_t a)
{
	uint32_t r = a - Q;
	r += Q & (0u - (r >> 31));
	return (uint16_t)r;
}

/* a mod q for any 32-bit a: t = floor(a * floor(2^43/q) / 2^43) is
 * floor(a/q) or one less (the error is below a/2^43 < 1), so a - t*q < 2q. */
static uint16_t reduce(uint32_t a)
{
	const uint64_t m = (1ull << 43) / Q;
	uint32_t t = (uint32_t)(((uint64_t)a * m) >> 43);
	return csubq(a - t * Q);
}

static uint16_t fadd(uint16_t a, uint16_t b) { return csubq((uint32_t)a + b); }
static uint16_t fsub(uint16_t a, uint16_t b) { return csubq((uint32_t)a + Q - b); }
static uint16_t fmul(uint16_t a, uint16_t b) { return reduce((uint32_t)a * b); }

/* ---- NTT (Algorithms 9-12) ---- */

/* zetas[i] = 17^BitRev7(i), gammas[i] = 17^(2*BitRev7(i)+1), mod q: public
 * constants, computed once per process. */
static uint16_t zetas[128], gammas[128];

static unsigned bitrev7(unsigned i)
{
	unsigned r = 0;
	for (int b = 0; b < 7; b++)
		r |= ((i >> b) & 1) << (6 - b);
	return r;
}

static uint16_t pow17(unsigned e)
{
	uint16_t r = 1;
	while (e--)
		r = fmul(r, 17);
	return r;
}

static void tables_init(void)
{
	if (zetas[0])
		return;
	for (unsigned i = 0; i < 128; i++) {
		zetas[i] = pow17(bitrev7(i));
		gammas[i] = pow17(2 * bitrev7(i) + 1);
	}
}

static void ntt(poly *f)
{
	unsigned i = 1;
	for (unsigned len = 128; len >= 2; len >>= 1)
		for (unsigned start = 0; start < N; start += 2 * len) {
			uint16_t z = zetas[i++];
			for (unsigned j = start; j < start + len; j++) {
				uint16_t t = fmul(z, f->c[j + len]);
				f->c[j + len] = fsub(f->c[j], t);
				f->c[j] = fadd(f->c[j], t);
			}
		}
}

static void ntt_inverse(poly *f)
{
	unsigned i = 127;
	for (unsigned len = 2; len <= 128; len <<= 1)
		for (unsigned start = 0; start < N; start += 2 * len) {
			uint16_t z = zetas[i--];
			for (unsigned j = start; j < start + len; j++) {
				uint16_t t = f->c[j];
				f->c[j] = fadd(t, f->c[j + len]);
				f->c[j + len] = fmul(z, fsub(f->c[j + len], t));
			}
		}
	for (unsigned j = 0; j < N; j++)
		f->c[j] = fmul(f->c[j], INV128);
}

/* h += f * g in the NTT domain (MultiplyNTTs with BaseCaseMultiply). */
static void ntt_mul_acc(poly *h, const poly *f, const poly *g)
{
	for (unsigned i = 0; i < 128; i++) {
		uint16_t a0 = f->c[2 * i], a1 = f->c[2 * i + 1];
		uint16_t b0 = g->c[2 * i], b1 = g->c[2 * i + 1];
		uint16_t c0 = fadd(fmul(a0, b0), fmul(fmul(a1, b1), gammas[i]));
		uint16_t c1 = fadd(fmul(a0, b1), fmul(a1, b0));
		h->c[2 * i] = fadd(h->c[2 * i], c0);
		h->c[2 * i + 1] = fadd(h->c[2 * i + 1], c1);
	}
}

static void poly_add(poly *r, const poly *a)
{
	for (unsigned j = 0; j < N; j++)
		r->c[j] = fadd(r->c[j], a->c[j]);
}

/* ---- hashing: H, G, J, PRF, XOF (section 4.1) ---- */

static void sha3_256_of(uint8_t out[32], const uint8_t *a, size_t al)
{
	hash_state s;
	sha3_256_init(&s);
	sha3_process(&s, a, (unsigned long)al);
	sha3_done(&s, out);
	wipe(&s, sizeof s);
}

/* G(a || b) -> out[64] */
static void sha3_512_of(uint8_t out[64], const uint8_t *a, size_t al,
			const uint8_t *b, size_t bl)
{
	hash_state s;
	sha3_512_init(&s);
	sha3_process(&s, a, (unsigned long)al);
	sha3_process(&s, b, (unsigned long)bl);
	sha3_done(&s, out);
	wipe(&s, sizeof s);
}

/* SHAKE256(a || b) -> out[outlen]: J and PRF */
static void shake256_of(uint8_t *out, size_t outlen, const uint8_t *a, size_t al,
			const uint8_t *b, size_t bl)
{
	hash_state s;
	sha3_shake_init(&s, 256);
	sha3_shake_process(&s, a, (unsigned long)al);
	sha3_shake_process(&s, b, (unsigned long)bl);
	sha3_shake_done(&s, out, (unsigned long)outlen);
	wipe(&s, sizeof s);
}

/* ---- sampling (Algorithms 7, 8) ---- */

/* SampleNTT(rho || j || i): the matrix entry A_hat[i][j], by rejection
 * from SHAKE128. Branches on public data only. */
static void sample_ntt(poly *a, const uint8_t rho[32], uint8_t i, uint8_t j)
{
	hash_state s;
	uint8_t idx[2] = { j, i }, blk[SHAKE128_RATE];
	unsigned n = 0;

	sha3_shake_init(&s, 128);
	sha3_shake_process(&s, rho, 32);
	sha3_shake_process(&s, idx, 2);
	while (n < N) {
		sha3_shake_done(&s, blk, sizeof blk);   /* squeezes on */
		for (unsigned p = 0; p + 3 <= sizeof blk && n < N; p += 3) {
			uint16_t d1 = (uint16_t)(blk[p] | ((blk[p + 1] & 0x0f) << 8));
			uint16_t d2 = (uint16_t)((blk[p + 1] >> 4) | (blk[p + 2] << 4));
			if (d1 < Q)
				a->c[n++] = d1;
			if (d2 < Q && n < N)
				a->c[n++] = d2;
		}
	}
}

/* SamplePolyCBD_2(PRF_2(sigma, nonce)): each coefficient is
 * (b0 + b1) - (b2 + b3) over four fresh bits. */
static void sample_cbd(poly *f, const uint8_t sigma[32], uint8_t nonce)
{
	uint8_t buf[CBD_BYTES];
	shake256_of(buf, sizeof buf, sigma, 32, &nonce, 1);
	for (unsigned i = 0; i < N / 2; i++) {
		unsigned byte = buf[i];
		for (unsigned h = 0; h < 2; h++) {
			unsigned bits = byte >> (4 * h);
			uint32_t x = (bits & 1) + ((bits >> 1) & 1);
			uint32_t y = ((bits >> 2) & 1) + ((bits >> 3) & 1);
			f->c[2 * i + h] = csubq(x + Q - y);
		}
	}
	wipe(buf, sizeof buf);
}

/* ---- encodings (Algorithms 5, 6; section 4.2.1) ---- */

/* ByteEncode_d: 256 d-bit values, little-endian bit order. */
static void byte_encode(uint8_t *out, const poly *f, unsigned d)
{
	uint32_t acc = 0;
	unsigned bits = 0, o = 0;
	for (unsigned j = 0; j < N; j++) {
		acc |= (uint32_t)f->c[j] << bits;
		bits += d;
		while (bits >= 8) {
			out[o++] = (uint8_t)acc;
			acc >>= 8;
			bits -= 8;
		}
	}
}

/* ByteDecode_d without the final reduction: raw d-bit values. */
static void byte_decode_raw(poly *f, const uint8_t *in, unsigned d)
{
	uint32_t acc = 0, mask = (1u << d) - 1;
	unsigned bits = 0, i = 0;
	for (unsigned j = 0; j < N; j++) {
		while (bits < d) {
			acc |= (uint32_t)in[i++] << bits;
			bits += 8;
		}
		f->c[j] = (uint16_t)(acc & mask);
		acc >>= d;
		bits -= d;
	}
}

/* ByteDecode_12: values mod q (4095 < 2q, so one masked subtraction). */
static void byte_decode12(poly *f, const uint8_t *in)
{
	byte_decode_raw(f, in, 12);
	for (unsigned j = 0; j < N; j++)
		f->c[j] = csubq(f->c[j]);
}

/* Compress_d(x) = round(2^d * x / q) mod 2^d = floor((2^(d+1) x + q) / 2q).
 * The division is a multiply-shift by m = ceil(2^36 / 2q), no division
 * instruction: exact for every x < q and d <= 11 (ML-KEM-768 uses 1, 4 and
 * 10), which the unit test checks for every input. */
uint16_t mlkem768_compress(uint16_t x, unsigned d)
{
	const uint64_t m = ((1ull << 36) + 2 * Q - 1) / (2 * Q);
	uint64_t n = ((uint64_t)x << (d + 1)) + Q;
	return (uint16_t)(((n * m) >> 36) & ((1u << d) - 1));
}

/* Decompress_d(y) = round(q * y / 2^d) */
uint16_t mlkem768_decompress(uint16_t y, unsigned d)
{
	return (uint16_t)(((uint32_t)y * Q + (1u << (d - 1))) >> d);
}

static void poly_compress(poly *f, unsigned d)
{
	for (unsigned j = 0; j < N; j++)
		f->c[j] = mlkem768_compress(f->c[j], d);
}

static void poly_decompress(poly *f, unsigned d)
{
	for (unsigned j = 0; j < N; j++)
		f->c[j] = mlkem768_decompress(f->c[j], d);
}

/* ---- K-PKE (Algorithms 13-15) ---- */

/* t_hat[i] (keygen) or u before the inverse NTT (encrypt): row i of A_hat
 * times v_hat, or of A_hat's transpose when transposed is set. */
static void matrix_row_mul(poly *out, const uint8_t rho[32], unsigned i,
			   const polyvec *v, int transposed)
{
	poly a;
	memset(out, 0, sizeof *out);
	for (unsigned j = 0; j < K; j++) {
		if (transposed)
			sample_ntt(&a, rho, (uint8_t)j, (uint8_t)i);
		else
			sample_ntt(&a, rho, (uint8_t)i, (uint8_t)j);
		ntt_mul_acc(out, &a, &v->p[j]);
	}
}

/* K-PKE.KeyGen(d): ek_pke (1184 bytes) and dk_pke (1152 bytes). */
static void pke_keygen(uint8_t ek[MLKEM768_EK_LEN], uint8_t dk[PKE_SK_LEN],
		       const uint8_t d[32])
{
	uint8_t g[64];
	const uint8_t kbyte = K;
	polyvec s, e;
	poly t;

	sha3_512_of(g, d, 32, &kbyte, 1);
	const uint8_t *rho = g, *sigma = g + 32;
	ct_public(g, 32);                /* rho: published in ek */
	for (unsigned i = 0; i < K; i++) {
		sample_cbd(&s.p[i], sigma, (uint8_t)i);
		ntt(&s.p[i]);
	}
	for (unsigned i = 0; i < K; i++) {
		sample_cbd(&e.p[i], sigma, (uint8_t)(K + i));
		ntt(&e.p[i]);
	}
	for (unsigned i = 0; i < K; i++) {
		matrix_row_mul(&t, rho, i, &s, 0);
		poly_add(&t, &e.p[i]);
		byte_encode(ek + i * POLY_BYTES, &t, 12);
		byte_encode(dk + i * POLY_BYTES, &s.p[i], 12);
	}
	memcpy(ek + PKE_SK_LEN, rho, 32);
	wipe(g, sizeof g);
	wipe(&s, sizeof s);
	wipe(&e, sizeof e);
	wipe(&t, sizeof t);
}

/* K-PKE.Encrypt(ek, m, r); ek has passed the modulus check. */
static void pke_encrypt(uint8_t ct[MLKEM768_CT_LEN], const uint8_t ek[MLKEM768_EK_LEN],
			const uint8_t m[32], const uint8_t r[32])
{
	const uint8_t *rho = ek + PKE_SK_LEN;
	polyvec y, t;
	poly u, v, e, mu;

	for (unsigned i = 0; i < K; i++) {
		sample_cbd(&y.p[i], r, (uint8_t)i);
		ntt(&y.p[i]);
	}
	for (unsigned i = 0; i < K; i++) {
		matrix_row_mul(&u, rho, i, &y, 1);
		ntt_inverse(&u);
		sample_cbd(&e, r, (uint8_t)(K + i));          /* e1[i] */
		poly_add(&u, &e);
		poly_compress(&u, DU);
		byte_encode(ct + i * (N * DU / 8), &u, DU);
	}
	for (unsigned i = 0; i < K; i++)
		byte_decode12(&t.p[i], ek + i * POLY_BYTES);
	memset(&v, 0, sizeof v);
	for (unsigned i = 0; i < K; i++)
		ntt_mul_acc(&v, &t.p[i], &y.p[i]);
	ntt_inverse(&v);
	sample_cbd(&e, r, 2 * K);                             /* e2 */
	poly_add(&v, &e);
	for (unsigned j = 0; j < N; j++)       /* Decompress_1: bit -> 0 or 1665 */
		mu.c[j] = (uint16_t)((0u - ((m[j / 8] >> (j % 8)) & 1)) & ((Q + 1) / 2));
	poly_add(&v, &mu);
	poly_compress(&v, DV);
	byte_encode(ct + CT_U_LEN, &v, DV);
	wipe(&y, sizeof y);
	wipe(&u, sizeof u);
	wipe(&v, sizeof v);
	wipe(&e, sizeof e);
	wipe(&mu, sizeof mu);
}

/* K-PKE.Decrypt(dk_pke, c) -> m */
static void pke_decrypt(uint8_t m[32], const uint8_t dk[PKE_SK_LEN],
			const uint8_t ct[MLKEM768_CT_LEN])
{
	poly u, s, w, v;

	memset(&w, 0, sizeof w);
	for (unsigned i = 0; i < K; i++) {
		byte_decode_raw(&u, ct + i * (N * DU / 8), DU);
		poly_decompress(&u, DU);
		ntt(&u);
		byte_decode12(&s, dk + i * POLY_BYTES);
		ntt_mul_acc(&w, &s, &u);
	}
	ntt_inverse(&w);
	byte_decode_raw(&v, ct + CT_U_LEN, DV);
	poly_decompress(&v, DV);
	for (unsigned j = 0; j < N; j++)
		w.c[j] = fsub(v.c[j], w.c[j]);
	poly_compress(&w, 1);
	memset(m, 0, 32);
	for (unsigned j = 0; j < N; j++)
		m[j / 8] |= (uint8_t)(w.c[j] << (j % 8));
	wipe(&s, sizeof s);
	wipe(&w, sizeof w);
}

/* ---- ML-KEM (Algorithms 16-21) ---- */

void mlkem768_keygen_derand(uint8_t ek[MLKEM768_EK_LEN], uint8_t dk[MLKEM768_DK_LEN],
			    const uint8_t d[32], const uint8_t z[32])
{
	tables_init();
	pke_keygen(ek, dk, d);
	memcpy(dk + PKE_SK_LEN, ek, MLKEM768_EK_LEN);
	sha3_256_of(dk + PKE_SK_LEN + MLKEM768_EK_LEN, ek, MLKEM768_EK_LEN);
	memcpy(dk + PKE_SK_LEN + MLKEM768_EK_LEN + 32, z, 32);
}

void mlkem768_keygen(uint8_t ek[MLKEM768_EK_LEN], uint8_t dk[MLKEM768_DK_LEN])
{
	uint8_t dz[64];
	rand_bytes(dz, sizeof dz);
	mlkem768_keygen_derand(ek, dk, dz, dz + 32);
	wipe(dz, sizeof dz);
}

int mlkem768_ek_valid(const uint8_t *ek, size_t ek_len)
{
	uint8_t again[POLY_BYTES];
	poly t;

	if (!ek || ek_len != MLKEM768_EK_LEN)
		return 0;
	for (unsigned i = 0; i < K; i++) {
		byte_decode12(&t, ek + i * POLY_BYTES);
		byte_encode(again, &t, 12);
		if (memcmp(again, ek + i * POLY_BYTES, POLY_BYTES) != 0)
			return 0;
	}
	return 1;
}

int mlkem768_encaps_derand(uint8_t ct[MLKEM768_CT_LEN], uint8_t ss[MLKEM768_SS_LEN],
			   const uint8_t *ek, size_t ek_len, const uint8_t m[32])
{
	uint8_t h[32], kr[64];

	if (!mlkem768_ek_valid(ek, ek_len))
		return -1;
	tables_init();
	sha3_256_of(h, ek, MLKEM768_EK_LEN);
	sha3_512_of(kr, m, 32, h, 32);                  /* (K, r) = G(m || H(ek)) */
	pke_encrypt(ct, ek, m, kr + 32);
	memcpy(ss, kr, MLKEM768_SS_LEN);
	wipe(kr, sizeof kr);
	return 0;
}

int mlkem768_encaps(uint8_t ct[MLKEM768_CT_LEN], uint8_t ss[MLKEM768_SS_LEN],
		    const uint8_t *ek, size_t ek_len)
{
	uint8_t m[32];
	int r;
	rand_bytes(m, sizeof m);
	r = mlkem768_encaps_derand(ct, ss, ek, ek_len, m);
	wipe(m, sizeof m);
	return r;
}

/* All ones if a and b differ anywhere, else zero; no branch. The empty asm
 * keeps the compiler from turning the mask back into a comparison. */
static uint8_t differ_mask(const uint8_t *a, const uint8_t *b, size_t n)
{
	uint32_t acc = 0;
	for (size_t i = 0; i < n; i++)
		acc |= (uint32_t)(a[i] ^ b[i]);
	__asm__("" : "+r"(acc));
	return (uint8_t)(0u - ((acc + 0xff) >> 8));   /* acc <= 255 */
}

int mlkem768_decaps(uint8_t ss[MLKEM768_SS_LEN], const uint8_t *ct, size_t ct_len,
		    const uint8_t dk[MLKEM768_DK_LEN])
{
	const uint8_t *dk_pke = dk, *ek = dk + PKE_SK_LEN;
	const uint8_t *h = ek + MLKEM768_EK_LEN, *z = h + 32;
	uint8_t hcheck[32], m[32], kr[64], kbar[32], ct2[MLKEM768_CT_LEN];

	if (!ct || ct_len != MLKEM768_CT_LEN || !dk)
		return -1;
	sha3_256_of(hcheck, ek, MLKEM768_EK_LEN);       /* hash check, s7.3 */
	if (memcmp(hcheck, h, 32) != 0)
		return -1;
	tables_init();
	pke_decrypt(m, dk_pke, ct);
	sha3_512_of(kr, m, 32, h, 32);                  /* (K', r') = G(m' || h) */
	shake256_of(kbar, 32, z, 32, ct, MLKEM768_CT_LEN);  /* J(z || c) */
	pke_encrypt(ct2, ek, m, kr + 32);
	uint8_t reject = differ_mask(ct, ct2, MLKEM768_CT_LEN);
	for (unsigned i = 0; i < MLKEM768_SS_LEN; i++)
		ss[i] = (uint8_t)(kr[i] ^ (reject & (kr[i] ^ kbar[i])));
	wipe(m, sizeof m);
	wipe(kr, sizeof kr);
	wipe(kbar, sizeof kbar);
	wipe(ct2, sizeof ct2);
	return 0;
}
