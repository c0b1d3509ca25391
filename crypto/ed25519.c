/* Ed25519 (RFC 8032 section 5.1, PureEdDSA).
 *
 * Points on -x^2 + y^2 = 1 + d x^2 y^2 are kept in extended coordinates
 * (X:Y:Z:T) with x = X/Z, y = Y/Z, x*y = T/Z, and added with the complete
 * formulas of Hisil-Wong-Carter-Dawson 2008 (valid for every pair of points
 * since d is not a square), so no special cases and no branches.
 * Scalars mod L are plain 8x32-bit limb numbers reduced bit by bit: slow as
 * such things go, but a few microseconds and obviously constant time. */
#include "ed25519.h"

#include "crypto.h"
#include "fe25519.h"
#include "sha512.h"

#include <string.h>

typedef struct { fe X, Y, Z, T; } ge;

/* d = -121665/121666 mod p, little-endian */
static const uint8_t D_BYTES[32] = {
	0xa3, 0x78, 0x59, 0x13, 0xca, 0x4d, 0xeb, 0x75, 0xab, 0xd8, 0x41, 0x41,
	0x4d, 0x0a, 0x70, 0x00, 0x98, 0xe8, 0x79, 0x77, 0x79, 0x40, 0xc7, 0x8c,
	0x73, 0xfe, 0x6f, 0x2b, 0xee, 0x6c, 0x03, 0x52
};
/* sqrt(-1) = 2^((p-1)/4) mod p, little-endian */
static const uint8_t SQRTM1_BYTES[32] = {
	0xb0, 0xa0, 0x0e, 0x4a, 0x27, 0x1b, 0xee, 0xc4, 0x78, 0xe4, 0x2f, 0xad,
	0x06, 0x18, 0x43, 0x2f, 0xa7, 0xd7, 0xfb, 0x3d, 0x99, 0x00, 0x4d, 0x2b,
	0x0b, 0xdf, 0xc1, 0x4f, 0x80, 0x24, 0x83, 0x2b
};
/* Encoding of the base point B: y = 4/5, x even. */
static const uint8_t B_BYTES[32] = {
	0x58, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
	0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
	0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66
};
/* L = 2^252 + 27742317777372353535851937790883648493, 32-bit limbs LE */
static const uint32_t L_LIMBS[8] = {
	0x5cf5d3ed, 0x5812631a, 0xa2f79cd6, 0x14def9de, 0, 0, 0, 0x10000000
};

/* ---- points ---- */

static void ge_identity(ge *p)
{
	fe_zero(&p->X);
	fe_one(&p->Y);
	fe_one(&p->Z);
	fe_zero(&p->T);
}

/* r = p + q (add-2008-hwcd-3 with a = -1, k = 2d) */
static void ge_add(ge *r, const ge *p, const ge *q)
{
	fe a, b, c, d, e, f, g, h, t, d2;

	fe_frombytes(&d2, D_BYTES);
	fe_add(&d2, &d2, &d2);

	fe_sub(&a, &p->Y, &p->X);
	fe_sub(&t, &q->Y, &q->X);
	fe_mul(&a, &a, &t);
	fe_add(&b, &p->Y, &p->X);
	fe_add(&t, &q->Y, &q->X);
	fe_mul(&b, &b, &t);
	fe_mul(&c, &p->T, &q->T);
	fe_mul(&c, &c, &d2);
	fe_mul(&d, &p->Z, &q->Z);
	fe_add(&d, &d, &d);
	fe_sub(&e, &b, &a);
	fe_sub(&f, &d, &c);
	fe_add(&g, &d, &c);
	fe_add(&h, &b, &a);

	fe_mul(&r->X, &e, &f);
	fe_mul(&r->Y, &g, &h);
	fe_mul(&r->T, &e, &h);
	fe_mul(&r->Z, &f, &g);
}

/* r = 2p (dbl-2008-hwcd with a = -1) */
static void ge_double(ge *r, const ge *p)
{
	fe a, b, c, e, f, g, h, t;

	fe_sq(&a, &p->X);
	fe_sq(&b, &p->Y);
	fe_sq(&c, &p->Z);
	fe_add(&c, &c, &c);
	fe_add(&t, &p->X, &p->Y);
	fe_sq(&e, &t);
	fe_sub(&e, &e, &a);
	fe_sub(&e, &e, &b);       /* E = 2XY */
	fe_sub(&g, &b, &a);       /* G = -A + B */
	fe_sub(&f, &g, &c);       /* F = G - C */
	fe_neg(&h, &a);
	fe_sub(&h, &h, &b);       /* H = -A - B */

	fe_mul(&r->X, &e, &f);
	fe_mul(&r->Y, &g, &h);
	fe_mul(&r->T, &e, &h);
	fe_mul(&r->Z, &f, &g);
}

static void ge_neg(ge *r, const ge *p)
{
	fe_neg(&r->X, &p->X);
	r->Y = p->Y;
	r->Z = p->Z;
	fe_neg(&r->T, &p->T);
}

static void ge_cmov(ge *r, const ge *p, unsigned b)
{
	fe_cmov(&r->X, &p->X, b);
	fe_cmov(&r->Y, &p->Y, b);
	fe_cmov(&r->Z, &p->Z, b);
	fe_cmov(&r->T, &p->T, b);
}

static void ge_encode(uint8_t s[32], const ge *p)
{
	fe zi, x, y;

	fe_invert(&zi, &p->Z);
	fe_mul(&x, &p->X, &zi);
	fe_mul(&y, &p->Y, &zi);
	fe_tobytes(s, &y);
	s[31] |= (uint8_t)(fe_isodd(&x) << 7);
}

/* RFC 8032 5.1.3. Only used on public data, so it may branch.
 * Returns 0, or -1 if s is not the encoding of a curve point. */
static int ge_decode(ge *p, const uint8_t s[32])
{
	fe y, u, v, v3, x, vx2, t, d;
	uint8_t canon[32];
	unsigned sign = s[31] >> 7;

	fe_frombytes(&y, s);
	fe_tobytes(canon, &y);
	canon[31] |= (uint8_t)(sign << 7);
	if (memcmp(canon, s, 32) != 0)
		return -1; /* y >= p */

	/* x^2 = u / v with u = y^2 - 1, v = d y^2 + 1 */
	fe_frombytes(&d, D_BYTES);
	fe_sq(&u, &y);
	fe_mul(&v, &u, &d);
	fe_one(&t);
	fe_sub(&u, &u, &t);
	fe_add(&v, &v, &t);

	/* candidate root x = u v^3 (u v^7)^((p-5)/8) */
	fe_sq(&v3, &v);
	fe_mul(&v3, &v3, &v);
	fe_sq(&x, &v3);
	fe_mul(&x, &x, &v);
	fe_mul(&x, &x, &u);
	fe_pow22523(&x, &x);
	fe_mul(&x, &x, &v3);
	fe_mul(&x, &x, &u);

	fe_sq(&vx2, &x);
	fe_mul(&vx2, &vx2, &v);
	if (!fe_equal(&vx2, &u)) {
		fe_neg(&t, &u);
		if (!fe_equal(&vx2, &t))
			return -1; /* u/v is not a square */
		fe_frombytes(&t, SQRTM1_BYTES);
		fe_mul(&x, &x, &t);
	}
	if (fe_iszero(&x) && sign)
		return -1;
	if ((unsigned)fe_isodd(&x) != sign)
		fe_neg(&x, &x);

	p->X = x;
	p->Y = y;
	fe_one(&p->Z);
	fe_mul(&p->T, &x, &y);
	return 0;
}

static void ge_base(ge *b)
{
	(void)ge_decode(b, B_BYTES); /* a constant that decodes */
}

/* r = [k]P for a 256-bit little-endian k, constant time in k: 4-bit fixed
 * windows, the table entry picked by scanning the whole table. */
static void ge_scalarmult(ge *r, const uint8_t k[32], const ge *p)
{
	ge table[16], sel;

	ge_identity(&table[0]);
	table[1] = *p;
	for (int i = 2; i < 16; i++)
		ge_add(&table[i], &table[i - 1], p);

	ge_identity(r);
	for (int i = 63; i >= 0; i--) {
		unsigned nib = (k[i >> 1] >> ((i & 1) * 4)) & 15;
		for (int j = 0; j < 4; j++)
			ge_double(r, r);
		ge_identity(&sel);
		for (unsigned j = 0; j < 16; j++)
			ge_cmov(&sel, &table[j], (((j ^ nib) - 1) >> 31) & 1);
		ge_add(r, r, &sel);
	}
	wipe(table, sizeof(table));
	wipe(&sel, sizeof(sel));
}

/* r = [a]P + [b]Q, for verification only: the scalars and points are
 * public, so this may branch and index on them. The two 4-bit window
 * walks share their doublings (Straus), and no table is scanned whole:
 * about half the work of two ge_scalarmult calls. */
static void ge_double_scalarmult_vartime(ge *r, const uint8_t a[32], const ge *p,
					 const uint8_t b[32], const ge *q)
{
	ge tp[16], tq[16];

	tp[1] = *p;
	tq[1] = *q;
	for (int i = 2; i < 16; i++) {
		ge_add(&tp[i], &tp[i - 1], p);
		ge_add(&tq[i], &tq[i - 1], q);
	}
	ge_identity(r);
	int started = 0;
	for (int i = 63; i >= 0; i--) {
		unsigned na = (a[i >> 1] >> ((i & 1) * 4)) & 15;
		unsigned nb = (b[i >> 1] >> ((i & 1) * 4)) & 15;
		if (started)
			for (int j = 0; j < 4; j++)
				ge_double(r, r);
		if (na) {
			ge_add(r, r, &tp[na]);
			started = 1;
		}
		if (nb) {
			ge_add(r, r, &tq[nb]);
			started = 1;
		}
	}
}

/* ---- scalars mod L ---- */

/* r = (x as little-endian number of n bytes) mod L, shifting in one bit at
 * a time and subtracting L when the running value reaches it. */
static void sc_reduce(uint32_t r[8], const uint8_t *x, size_t n)
{
	memset(r, 0, 8 * sizeof(r[0]));
	for (size_t bit = 8 * n; bit-- > 0;) {
		uint32_t in = (x[bit >> 3] >> (bit & 7)) & 1;
		uint32_t t[8], borrow = 0, keep;
		/* r = 2r + in; r < L < 2^253 so this cannot overflow */
		for (int i = 7; i > 0; i--)
			r[i] = (r[i] << 1) | (r[i - 1] >> 31);
		r[0] = (r[0] << 1) | in;
		for (int i = 0; i < 8; i++) {
			uint64_t d = (uint64_t)r[i] - L_LIMBS[i] - borrow;
			t[i] = (uint32_t)d;
			borrow = (uint32_t)(d >> 63);
		}
		keep = borrow - 1; /* all ones when r >= L: take r - L */
		for (int i = 0; i < 8; i++)
			r[i] = (t[i] & keep) | (r[i] & ~keep);
	}
}

static void sc_tobytes(uint8_t s[32], const uint32_t r[8])
{
	for (int i = 0; i < 32; i++)
		s[i] = (uint8_t)(r[i >> 2] >> (8 * (i & 3)));
}

/* out = (a*b + c) mod L for 32-byte little-endian a, b, c. */
static void sc_muladd(uint8_t out[32], const uint8_t a[32],
		      const uint8_t b[32], const uint8_t c[32])
{
	uint32_t ar[8], br[8], cr[8], w[16] = {0}, r[8];
	uint8_t wide[64];
	uint64_t carry;

	sc_reduce(ar, a, 32);
	sc_reduce(br, b, 32);
	sc_reduce(cr, c, 32);
	for (int i = 0; i < 8; i++) {
		carry = 0;
		for (int j = 0; j < 8; j++) {
			uint64_t t = (uint64_t)ar[i] * br[j] + w[i + j] + carry;
			w[i + j] = (uint32_t)t;
			carry = t >> 32;
		}
		w[i + 8] = (uint32_t)carry;
	}
	/* a*b < L^2 < 2^506, so adding c < L cannot overflow 512 bits */
	carry = 0;
	for (int i = 0; i < 16; i++) {
		uint64_t t = (uint64_t)w[i] + (i < 8 ? cr[i] : 0) + carry;
		w[i] = (uint32_t)t;
		carry = t >> 32;
	}
	for (int i = 0; i < 64; i++)
		wide[i] = (uint8_t)(w[i >> 2] >> (8 * (i & 3)));
	sc_reduce(r, wide, 64);
	sc_tobytes(out, r);

	wipe(ar, sizeof(ar));
	wipe(br, sizeof(br));
	wipe(cr, sizeof(cr));
	wipe(w, sizeof(w));
	wipe(r, sizeof(r));
	wipe(wide, sizeof(wide));
}

/* 1 if the 32-byte little-endian s is < L (public data: may branch). */
static int sc_is_canonical(const uint8_t s[32])
{
	for (int i = 7; i >= 0; i--) {
		uint32_t v = (uint32_t)s[4 * i] | (uint32_t)s[4 * i + 1] << 8 |
			     (uint32_t)s[4 * i + 2] << 16 | (uint32_t)s[4 * i + 3] << 24;
		if (v != L_LIMBS[i])
			return v < L_LIMBS[i];
	}
	return 0; /* s == L */
}

/* ---- hashing ---- */

/* out = SHA-512(a || b || c) reduced mod L, as 32 bytes; any part may be
 * empty (NULL with length 0). */
static void hash_to_scalar(uint8_t out[32], const uint8_t *a, size_t alen,
			   const uint8_t *b, size_t blen,
			   const uint8_t *c, size_t clen)
{
	struct sha512_ctx md;
	uint8_t h[64];
	uint32_t r[8];

	sha512_start(&md);
	sha512_absorb(&md, a, alen);
	sha512_absorb(&md, b, blen);
	sha512_absorb(&md, c, clen);
	sha512_finish(&md, h);     /* wipes md */
	sc_reduce(r, h, 64);
	sc_tobytes(out, r);
	wipe(h, sizeof(h));
	wipe(r, sizeof(r));
}

/* RFC 8032 5.1.5: h = SHA-512(seed); the secret scalar is the clamped
 * first half, the nonce prefix the second half. */
static void expand_seed(uint8_t scalar[32], uint8_t prefix[32],
			const uint8_t seed[32])
{
	uint8_t h[64];

	sha512(seed, 32, h);
	memcpy(scalar, h, 32);
	scalar[0] &= 248;
	scalar[31] &= 127;
	scalar[31] |= 64;
	if (prefix)
		memcpy(prefix, h + 32, 32);
	wipe(h, sizeof(h));
}

/* ---- the interface ---- */

static void base_mul_encode(uint8_t out[32], const uint8_t k[32])
{
	ge b, p;
	ge_base(&b);
	ge_scalarmult(&p, k, &b);
	ge_encode(out, &p);
	wipe(&p, sizeof(p));
}

void ed25519_pubkey(uint8_t pk[32], const uint8_t seed[32])
{
	uint8_t a[32];
	expand_seed(a, NULL, seed);
	base_mul_encode(pk, a);
	wipe(a, sizeof(a));
}

void ed25519_sign(uint8_t sig[64], const uint8_t *msg, size_t len,
		  const uint8_t seed[32], const uint8_t pk[32])
{
	uint8_t a[32], prefix[32], r[32], k[32];

	expand_seed(a, prefix, seed);
	hash_to_scalar(r, prefix, 32, msg, len, NULL, 0);
	base_mul_encode(sig, r);                       /* R = [r]B */
	hash_to_scalar(k, sig, 32, pk, 32, msg, len);  /* k = H(R || A || M) */
	sc_muladd(sig + 32, k, a, r);                  /* S = r + k*a mod L */

	wipe(a, sizeof(a));
	wipe(prefix, sizeof(prefix));
	wipe(r, sizeof(r));
}

int ed25519_verify(const uint8_t sig[64], const uint8_t *msg, size_t len,
		   const uint8_t pk[32])
{
	ge a, b, r;
	uint8_t k[32], check[32];

	if (!sc_is_canonical(sig + 32))
		return -1;
	if (ge_decode(&a, pk) != 0)
		return -1;
	hash_to_scalar(k, sig, 32, pk, 32, msg, len);

	/* R' = [S]B - [k]A must encode to exactly R (so a non-canonical R
	 * never matches) */
	ge_base(&b);
	ge_neg(&a, &a);
	ge_double_scalarmult_vartime(&r, sig + 32, &b, k, &a);
	ge_encode(check, &r);
	return memcmp(check, sig, 32) == 0 ? 0 : -1;
}
