/* sntrup761: Streamlined NTRU Prime with p = 761, q = 4591, w = 286, as the
 * NTRU Prime round-3 specification defines it (the KEM with implicit
 * rejection, the Encode/Decode byte formats and the SHA-512 based hashes).
 *
 * Rings: R/q = (Z/q)[x]/(x^p - x - 1) holds public keys and ciphertexts
 * ("fq" values kept centred in [-(q-1)/2, (q-1)/2]); R/3 holds the secret
 * small polynomials ("small" values in {-1, 0, 1}).
 *
 * Constant time: every loop bound and array index is public; a secret only
 * ever reaches arithmetic and masks. Reductions mod q and mod 3 are done by
 * multiplication (no division instruction on secrets), selections by masks,
 * Short_random sorts with a fixed comparison network, and the inverses in
 * R/3 and R/q come from Bernstein-Yang divsteps with a fixed step count.
 * tests/ct/ct_sntrup761.c checks this under valgrind (with WOMBAT_CTGRIND,
 * crypto/ct.h, the random bytes are marked undefined). */
#include "sntrup761.h"

#include <string.h>

#include "crypto.h"

#include "ct.h"

#define P 761
#define Q 4591
#define W 286
#define Q12 ((Q - 1) / 2)
#define SMALL_BYTES 191                 /* ceil(p / 4) */
#define RQ_BYTES SNTRUP761_PUBLICKEY_BYTES
#define ROUNDED_BYTES 1007
#define HASH_BYTES 32
#define ROUNDED_M ((Q + 2) / 3)         /* 1531 values: multiples of 3 */
#define SORT_N 1024                     /* p padded to a power of two */

/* secret key layout: f, 1/g in R/3, the public key, rho, Hash(4, pk) */
#define SK_F 0
#define SK_V (SK_F + SMALL_BYTES)
#define SK_PK (SK_V + SMALL_BYTES)
#define SK_RHO (SK_PK + RQ_BYTES)
#define SK_CACHE (SK_RHO + SMALL_BYTES)

_Static_assert(SK_CACHE + HASH_BYTES == SNTRUP761_SECRETKEY_BYTES, "secret key size");
_Static_assert(ROUNDED_BYTES + HASH_BYTES == SNTRUP761_CIPHERTEXT_BYTES, "ciphertext size");

typedef int8_t small;
typedef int16_t fq;

/* ---- masks and reductions ---- */

/* Returns x, but the optimizer no longer knows that a mask can only be 0
 * or -1: knowing it, clang -O2 turned decrypt's masked selection back into
 * a branch on the secret (caught by tests/ct/ct_sntrup761.c). */
static int barrier(int x)
{
#if defined(__GNUC__) || defined(__clang__)
	__asm__("" : "+r"(x));
#else
	volatile int v = x;
	x = v;
#endif
	return x;
}

/* -1 if x != 0 else 0, for |x| < 2^31 */
static int nonzero_mask(int32_t x)
{
	uint32_t u = (uint32_t)x | (0u - (uint32_t)x);
	return barrier(-(int)(u >> 31));
}

/* -1 if x < 0 else 0 */
static int negative_mask(int32_t x)
{
	return barrier(-(int)((uint32_t)x >> 31));
}

/* x mod q, centred, for |x| < 2^25: a Barrett quotient (one too small at
 * worst) and one masked correction. */
#define FQ_OFFSET (7310 * Q)            /* a multiple of q above 2^25 */
#define FQ_BARRETT ((uint64_t)(((uint64_t)1 << 40) / Q))
static fq fq_freeze(int32_t x)
{
	uint32_t y = (uint32_t)(x + FQ_OFFSET + Q12);
	uint32_t quot = (uint32_t)(((uint64_t)y * FQ_BARRETT) >> 40);
	uint32_t r = y - quot * Q;                          /* [0, 2q) */
	r -= Q & ~(uint32_t)negative_mask((int32_t)r - Q);
	return (fq)((int32_t)r - Q12);
}

/* x mod 3 in {-1, 0, 1}, for |x| < 12288: 21846 = ceil(2^16 / 3) gives the
 * exact quotient for operands below 2^15. */
static small f3_freeze(int32_t x)
{
	uint32_t y = (uint32_t)(x + 12289);
	uint32_t quot = (y * 21846u) >> 16;
	return (small)((int32_t)(y - 3 * quot) - 1);
}

/* 1/a in Z/q as a^(q-2); the exponent is public. */
static fq fq_recip(fq a)
{
	int32_t r = 1;
	for (int bit = 12; bit >= 0; bit--) {
		r = fq_freeze(r * r);
		if (((Q - 2) >> bit) & 1)
			r = fq_freeze(r * a);
	}
	return (fq)r;
}

/* ---- polynomial arithmetic mod x^p - x - 1 ---- */

/* acc[0..p) = f * g mod x^p - x - 1 over the integers, g small.
 * Schoolbook, shaped for the compiler's vectorizer: g widened and
 * zero-padded to P_PAD entries, so the inner loop has a fixed trip count
 * that is a multiple of any vector width (this multiplication is most of an
 * encapsulation). |f| <= 2295 keeps every sum below 2^23. */
#define P_PAD 768
static void mult_small(int32_t acc[P + P_PAD], const int32_t f[P], const small g[P])
{
	int32_t gw[P_PAD];

	memset(acc, 0, sizeof(int32_t) * (P + P_PAD));
	for (int j = 0; j < P_PAD; j++)
		gw[j] = j < P ? g[j] : 0;
	for (int i = 0; i < P; i++) {
		int32_t fi = f[i];
		int32_t *row = acc + i;
		for (int j = 0; j < P_PAD; j++)
			row[j] += fi * gw[j];
	}
	/* x^(p+k) = x^(k+1) + x^k */
	for (int i = 2 * P - 2; i >= P; i--) {
		acc[i - P + 1] += acc[i];
		acc[i - P] += acc[i];
	}
	wipe(gw, sizeof gw);
}

/* h = f * g in R/q, f in R/q, g small */
static void rq_mult_small(fq h[P], const fq f[P], const small g[P])
{
	int32_t acc[P + P_PAD], fw[P];

	for (int i = 0; i < P; i++)
		fw[i] = f[i];
	mult_small(acc, fw, g);
	for (int i = 0; i < P; i++)
		h[i] = fq_freeze(acc[i]);
	wipe(acc, sizeof acc);
	wipe(fw, sizeof fw);
}

/* h = f * g in R/3 */
static void r3_mult(small h[P], const small f[P], const small g[P])
{
	int32_t acc[P + P_PAD], fw[P];

	for (int i = 0; i < P; i++)
		fw[i] = f[i];
	mult_small(acc, fw, g);
	for (int i = 0; i < P; i++)
		h[i] = f3_freeze(acc[i]);
	wipe(acc, sizeof acc);
	wipe(fw, sizeof fw);
}

static void cswap_small(small *a, small *b, int n, int mask)
{
	for (int i = 0; i < n; i++) {
		small t = (small)(mask & (a[i] ^ b[i]));
		a[i] ^= t;
		b[i] ^= t;
	}
}

static void cswap_fq(fq *a, fq *b, int n, int mask)
{
	for (int i = 0; i < n; i++) {
		fq t = (fq)(mask & (a[i] ^ b[i]));
		a[i] ^= t;
		b[i] ^= t;
	}
}

/* The divstep state shared by both inversions: f starts as the reversal of
 * x^p - x - 1, g as the reversal of the input; 2p - 1 steps later f is the
 * (constant) gcd and v, reversed and divided by it, is the inverse.
 * delta == 0 at the end exactly when the input was invertible. */
static void divstep_start_f(int32_t f0[P + 1])
{
	memset(f0, 0, sizeof(int32_t) * (P + 1));
	f0[0] = 1;
	f0[P - 1] = -1;
	f0[P] = -1;
}

/* out = 1/in in R/3; returns 0 if in is invertible, else -1. */
static int r3_recip(small out[P], const small in[P])
{
	small f[P + 1], g[P + 1], v[P + 1], r[P + 1];
	int32_t f_init[P + 1];
	int delta = 1;

	divstep_start_f(f_init);
	for (int i = 0; i <= P; i++) {
		f[i] = (small)f_init[i];
		v[i] = r[i] = 0;
	}
	r[0] = 1;
	for (int i = 0; i < P; i++)
		g[P - 1 - i] = in[i];
	g[P] = 0;

	for (int step = 0; step < 2 * P - 1; step++) {
		memmove(v + 1, v, P);                           /* v *= x */
		v[0] = 0;
		int sign = -g[0] * f[0];                        /* -g0/f0: f0 is +-1 */
		int swap = negative_mask(-delta) & nonzero_mask(g[0]);
		delta ^= swap & (delta ^ -delta);
		delta += 1;
		cswap_small(f, g, P + 1, swap);
		cswap_small(v, r, P + 1, swap);
		for (int i = 0; i <= P; i++)
			g[i] = f3_freeze(g[i] + sign * f[i]);
		for (int i = 0; i <= P; i++)
			r[i] = f3_freeze(r[i] + sign * v[i]);
		memmove(g, g + 1, P);                           /* g /= x */
		g[P] = 0;
	}
	int scale = f[0];
	for (int i = 0; i < P; i++)
		out[i] = (small)(scale * v[P - 1 - i]);
	wipe(f, sizeof f);
	wipe(g, sizeof g);
	wipe(v, sizeof v);
	wipe(r, sizeof r);
	return nonzero_mask(delta);
}

/* out = 1/in in R/q (every nonzero input is invertible: x^p - x - 1 is
 * irreducible mod q). The steps are scaled by f0 instead of dividing. */
static void rq_recip(fq out[P], const fq in[P])
{
	fq f[P + 1], g[P + 1], v[P + 1], r[P + 1];
	int32_t f_init[P + 1];
	int delta = 1;

	divstep_start_f(f_init);
	for (int i = 0; i <= P; i++) {
		f[i] = (fq)f_init[i];
		v[i] = r[i] = 0;
	}
	r[0] = 1;
	for (int i = 0; i < P; i++)
		g[P - 1 - i] = in[i];
	g[P] = 0;

	for (int step = 0; step < 2 * P - 1; step++) {
		memmove(v + 1, v, P * sizeof(fq));
		v[0] = 0;
		int swap = negative_mask(-delta) & nonzero_mask(g[0]);
		delta ^= swap & (delta ^ -delta);
		delta += 1;
		cswap_fq(f, g, P + 1, swap);
		cswap_fq(v, r, P + 1, swap);
		int32_t f0 = f[0], g0 = g[0];
		for (int i = 0; i <= P; i++)
			g[i] = fq_freeze(f0 * g[i] - g0 * f[i]);
		for (int i = 0; i <= P; i++)
			r[i] = fq_freeze(f0 * r[i] - g0 * v[i]);
		memmove(g, g + 1, P * sizeof(fq));
		g[P] = 0;
	}
	int32_t scale = fq_recip(f[0]);
	for (int i = 0; i < P; i++)
		out[i] = fq_freeze(scale * v[P - 1 - i]);
	wipe(f, sizeof f);
	wipe(g, sizeof g);
	wipe(v, sizeof v);
	wipe(r, sizeof r);
}

/* ---- randomness: Small_random and Short_random ---- */

/* n little-endian 32-bit words from the system RNG, marked secret for the
 * constant-time check. */
static void random_words(uint32_t *L, int n)
{
	uint8_t b[4 * P];
	rand_bytes(b, 4 * (size_t)n);
	ct_secret(b, 4 * (size_t)n);
	for (int i = 0; i < n; i++)
		L[i] = (uint32_t)b[4 * i] | (uint32_t)b[4 * i + 1] << 8 |
		       (uint32_t)b[4 * i + 2] << 16 | (uint32_t)b[4 * i + 3] << 24;
	wipe(b, sizeof b);
}

static void small_random(small out[P])
{
	uint32_t L[P];
	random_words(L, P);
	for (int i = 0; i < P; i++)
		out[i] = (small)((((L[i] & 0x3fffffff) * 3) >> 30) - 1);
	wipe(L, sizeof L);
}

/* Bitonic sort of SORT_N words: the comparisons made depend on n only.
 * Each pass compares lo[i] with hi[i] over a run of j words that all sort
 * the same way, so the inner loop is straight-line and vectorizes. */
static void sort_words(uint32_t x[SORT_N])
{
	for (int k = 2; k <= SORT_N; k <<= 1)
		for (int j = k >> 1; j > 0; j >>= 1)
			for (int base = 0; base < SORT_N; base += 2 * j) {
				uint32_t *lo = x + base, *hi = x + base + j;
				if (base & k) {                 /* a descending run */
					uint32_t *t = lo;
					lo = hi;
					hi = t;
				}
				for (int i = 0; i < j; i++) {
					uint32_t a = lo[i], b = hi[i];
					uint64_t d = (uint64_t)b - (uint64_t)a;   /* wraps if b < a */
					uint32_t mask = 0u - (uint32_t)(d >> 63);
					uint32_t t = (a ^ b) & mask;
					lo[i] = a ^ t;
					hi[i] = b ^ t;
				}
			}
}

/* Short_fromlist: w entries become +-1 and p - w become 0 (low two bits),
 * the rest of each word places them; sorting shuffles. The padding words
 * (all ones) sort last: no real word has both low bits set. */
static void short_random(small out[P])
{
	uint32_t L[SORT_N];
	random_words(L, P);
	for (int i = 0; i < W; i++)
		L[i] &= ~1u;
	for (int i = W; i < P; i++)
		L[i] = (L[i] & ~3u) | 1u;
	for (int i = P; i < SORT_N; i++)
		L[i] = 0xffffffffu;
	sort_words(L);
	for (int i = 0; i < P; i++)
		out[i] = (small)((int)(L[i] & 3) - 1);
	wipe(L, sizeof L);
}

/* ---- encodings ---- */

/* The specification's Encode(R, M): pairs are merged into one mixed-radix
 * digit, bytes are emitted while the radix stays >= 2^14, then recurse. */
static uint8_t *encode(uint8_t *out, const uint16_t *R, const uint16_t *M, int n)
{
	uint16_t R2[(P + 1) / 2], M2[(P + 1) / 2];
	int i;

	if (n == 0)
		return out;
	if (n == 1) {
		uint32_t r = R[0], m = M[0];
		while (m > 1) {
			*out++ = (uint8_t)r;
			r >>= 8;
			m = (m + 255) >> 8;
		}
		return out;
	}
	for (i = 0; i + 1 < n; i += 2) {
		uint32_t m = (uint32_t)M[i] * M[i + 1];
		uint32_t r = R[i] + (uint32_t)M[i] * R[i + 1];
		while (m >= 16384) {
			*out++ = (uint8_t)r;
			r >>= 8;
			m = (m + 255) >> 8;
		}
		R2[i / 2] = (uint16_t)r;
		M2[i / 2] = (uint16_t)m;
	}
	if (n & 1) {
		R2[i / 2] = R[n - 1];
		M2[i / 2] = M[n - 1];
	}
	return encode(out, R2, M2, (n + 1) / 2);
}

/* Decode(S, M), the inverse; out-of-range digits are reduced mod M, as the
 * specification does. Only public data (keys, ciphertexts) is decoded. */
static void decode(uint16_t *out, const uint8_t *S, const uint16_t *M, int n)
{
	uint32_t low[(P + 1) / 2], scale[(P + 1) / 2];
	uint16_t R2[(P + 1) / 2], M2[(P + 1) / 2];
	int i;

	if (n == 0)
		return;
	if (n == 1) {
		uint32_t r = 0, t = 1, m = M[0];
		while (m > 1) {
			r += (uint32_t)*S++ * t;
			t <<= 8;
			m = (m + 255) >> 8;
		}
		out[0] = (uint16_t)(r % M[0]);
		return;
	}
	for (i = 0; i + 1 < n; i += 2) {
		uint32_t m = (uint32_t)M[i] * M[i + 1], r = 0, t = 1;
		while (m >= 16384) {
			r += (uint32_t)*S++ * t;
			t <<= 8;
			m = (m + 255) >> 8;
		}
		low[i / 2] = r;
		scale[i / 2] = t;
		M2[i / 2] = (uint16_t)m;
	}
	if (n & 1)
		M2[i / 2] = M[n - 1];
	decode(R2, S, M2, (n + 1) / 2);
	for (i = 0; i + 1 < n; i += 2) {
		uint32_t r = low[i / 2] + scale[i / 2] * R2[i / 2];
		out[i] = (uint16_t)(r % M[i]);
		out[i + 1] = (uint16_t)((r / M[i]) % M[i + 1]);
	}
	if (n & 1)
		out[n - 1] = R2[i / 2];
}

static void rq_encode(uint8_t out[RQ_BYTES], const fq h[P])
{
	uint16_t R[P], M[P];
	for (int i = 0; i < P; i++) {
		R[i] = (uint16_t)(h[i] + Q12);
		M[i] = Q;
	}
	encode(out, R, M, P);
}

static void rq_decode(fq h[P], const uint8_t in[RQ_BYTES])
{
	uint16_t R[P], M[P];
	for (int i = 0; i < P; i++)
		M[i] = Q;
	decode(R, in, M, P);
	for (int i = 0; i < P; i++)
		h[i] = (fq)(R[i] - Q12);
}

/* c has multiples of 3 only: (c + q12) / 3, computed without division */
static void rounded_encode(uint8_t out[ROUNDED_BYTES], const fq c[P])
{
	uint16_t R[P], M[P];
	for (int i = 0; i < P; i++) {
		R[i] = (uint16_t)(((c[i] + Q12) * 10923) >> 15);
		M[i] = ROUNDED_M;
	}
	encode(out, R, M, P);
}

static void rounded_decode(fq c[P], const uint8_t in[ROUNDED_BYTES])
{
	uint16_t R[P], M[P];
	for (int i = 0; i < P; i++)
		M[i] = ROUNDED_M;
	decode(R, in, M, P);
	for (int i = 0; i < P; i++)
		c[i] = (fq)(R[i] * 3 - Q12);
}

/* four coefficients a byte, each stored as value + 1 */
static void small_encode(uint8_t out[SMALL_BYTES], const small f[P])
{
	for (int i = 0; i < P / 4; i++) {
		uint8_t x = 0;
		for (int j = 0; j < 4; j++)
			x |= (uint8_t)((f[4 * i + j] + 1) << (2 * j));
		out[i] = x;
	}
	out[P / 4] = (uint8_t)(f[P - 1] + 1);
}

static void small_decode(small f[P], const uint8_t in[SMALL_BYTES])
{
	for (int i = 0; i < P / 4; i++)
		for (int j = 0; j < 4; j++)
			f[4 * i + j] = (small)(((in[i] >> (2 * j)) & 3) - 1);
	f[P - 1] = (small)((in[P / 4] & 3) - 1);
}

/* ---- hashes: Hash_prefix(b, x) = first 32 bytes of SHA-512(b || x) ---- */

static void hash_prefix(uint8_t out[HASH_BYTES], int b, const uint8_t *x, size_t xl,
			const uint8_t *y, size_t yl)
{
	uint8_t full[64], pre = (uint8_t)b;
	hash_ctx c;
	hash_init(&c, HASH_SHA512);
	hash_update(&c, &pre, 1);
	hash_update(&c, x, xl);
	if (yl)
		hash_update(&c, y, yl);
	hash_final(&c, full);
	memcpy(out, full, HASH_BYTES);
	wipe(full, sizeof full);
}

/* HashConfirm = Hash(2, Hash(3, r) || Hash(4, pk)) */
static void hash_confirm(uint8_t out[HASH_BYTES], const uint8_t r_enc[SMALL_BYTES],
			 const uint8_t cache[HASH_BYTES])
{
	uint8_t hr[HASH_BYTES];
	hash_prefix(hr, 3, r_enc, SMALL_BYTES, NULL, 0);
	hash_prefix(out, 2, hr, HASH_BYTES, cache, HASH_BYTES);
	wipe(hr, sizeof hr);
}

/* HashSession = Hash(b, Hash(3, y) || C); b = 1 for a valid ciphertext */
static void hash_session(uint8_t out[HASH_BYTES], int b, const uint8_t y[SMALL_BYTES],
			 const uint8_t ct[SNTRUP761_CIPHERTEXT_BYTES])
{
	uint8_t hy[HASH_BYTES];
	hash_prefix(hy, 3, y, SMALL_BYTES, NULL, 0);
	hash_prefix(out, b, hy, HASH_BYTES, ct, SNTRUP761_CIPHERTEXT_BYTES);
	wipe(hy, sizeof hy);
}

/* ---- the KEM ---- */

/* Hide: ciphertext Round(h r) || HashConfirm, and r's encoding. */
static void hide(uint8_t ct[SNTRUP761_CIPHERTEXT_BYTES], uint8_t r_enc[SMALL_BYTES],
		 const small r[P], const fq h[P], const uint8_t cache[HASH_BYTES])
{
	fq c[P];
	small_encode(r_enc, r);
	rq_mult_small(c, h, r);
	for (int i = 0; i < P; i++)
		c[i] = (fq)(c[i] - f3_freeze(c[i]));           /* nearest multiple of 3 */
	rounded_encode(ct, c);
	hash_confirm(ct + ROUNDED_BYTES, r_enc, cache);
	wipe(c, sizeof c);
}

/* r = (3 f c) / g in R/3; a result of the wrong weight (an altered
 * ciphertext) becomes the fixed vector 1^w 0^(p-w), selected by mask. */
static void decrypt(small r[P], const fq c[P], const small f[P], const small v[P])
{
	fq cf[P];
	small e[P], ev[P];
	int32_t weight = 0;

	rq_mult_small(cf, c, f);
	for (int i = 0; i < P; i++)
		e[i] = f3_freeze(fq_freeze(3 * cf[i]));
	r3_mult(ev, e, v);
	for (int i = 0; i < P; i++)
		weight += ev[i] & 1;
	int bad = nonzero_mask(weight - W);
	for (int i = 0; i < W; i++)
		r[i] = (small)(ev[i] ^ (bad & (ev[i] ^ 1)));
	for (int i = W; i < P; i++)
		r[i] = (small)(ev[i] & ~bad);
	wipe(cf, sizeof cf);
	wipe(e, sizeof e);
	wipe(ev, sizeof ev);
}

void sntrup761_keypair(uint8_t pk[SNTRUP761_PUBLICKEY_BYTES],
		       uint8_t sk[SNTRUP761_SECRETKEY_BYTES])
{
	small g[P], v[P], f[P];
	fq f3[P], finv[P], h[P];

	for (;;) {
		small_random(g);
		int not_invertible = r3_recip(v, g);
		/* tells only whether a discarded g was invertible */
		ct_public(&not_invertible, sizeof not_invertible);
		if (!not_invertible)
			break;
	}
	short_random(f);
	for (int i = 0; i < P; i++)
		f3[i] = (fq)(3 * f[i]);
	rq_recip(finv, f3);
	rq_mult_small(h, finv, g);                              /* h = g / (3f) */
	ct_public(h, sizeof h);                                 /* the public key */
	rq_encode(pk, h);

	small_encode(sk + SK_F, f);
	small_encode(sk + SK_V, v);
	memcpy(sk + SK_PK, pk, RQ_BYTES);
	rand_bytes(sk + SK_RHO, SMALL_BYTES);
	ct_secret(sk + SK_RHO, SMALL_BYTES);
	hash_prefix(sk + SK_CACHE, 4, pk, RQ_BYTES, NULL, 0);

	wipe(g, sizeof g);
	wipe(v, sizeof v);
	wipe(f, sizeof f);
	wipe(f3, sizeof f3);
	wipe(finv, sizeof finv);
}

int sntrup761_enc(uint8_t ct[SNTRUP761_CIPHERTEXT_BYTES],
		  uint8_t ss[SNTRUP761_SHARED_BYTES],
		  const uint8_t pk[SNTRUP761_PUBLICKEY_BYTES])
{
	fq h[P];
	small r[P];
	uint8_t r_enc[SMALL_BYTES], cache[HASH_BYTES], again[RQ_BYTES];

	/* only the canonical encoding: Decode reduces stray digits, and a key
	 * that does not re-encode to itself is not one a client made */
	rq_decode(h, pk);
	rq_encode(again, h);
	if (memcmp(again, pk, RQ_BYTES) != 0)
		return -1;
	short_random(r);
	hash_prefix(cache, 4, pk, RQ_BYTES, NULL, 0);
	hide(ct, r_enc, r, h, cache);
	hash_session(ss, 1, r_enc, ct);
	wipe(r, sizeof r);
	wipe(r_enc, sizeof r_enc);
	return 0;
}

void sntrup761_dec(uint8_t ss[SNTRUP761_SHARED_BYTES],
		   const uint8_t ct[SNTRUP761_CIPHERTEXT_BYTES],
		   const uint8_t sk[SNTRUP761_SECRETKEY_BYTES])
{
	small f[P], v[P], r[P];
	fq c[P], h[P];
	uint8_t r_enc[SMALL_BYTES], again[SNTRUP761_CIPHERTEXT_BYTES];
	uint32_t diff = 0;

	small_decode(f, sk + SK_F);
	small_decode(v, sk + SK_V);
	rq_decode(h, sk + SK_PK);
	rounded_decode(c, ct);
	decrypt(r, c, f, v);
	hide(again, r_enc, r, h, sk + SK_CACHE);
	for (int i = 0; i < SNTRUP761_CIPHERTEXT_BYTES; i++)
		diff |= (uint32_t)(again[i] ^ ct[i]);
	int differ = nonzero_mask((int32_t)diff);               /* -1 if any byte differs */
	for (int i = 0; i < SMALL_BYTES; i++)                   /* rho on rejection */
		r_enc[i] = (uint8_t)(r_enc[i] ^ (differ & (r_enc[i] ^ sk[SK_RHO + i])));
	hash_session(ss, 1 + differ, r_enc, ct);

	wipe(f, sizeof f);
	wipe(v, sizeof v);
	wipe(r, sizeof r);
	wipe(r_enc, sizeof r_enc);
	wipe(again, sizeof again);
	wipe(&diff, sizeof diff);
}
