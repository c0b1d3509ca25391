/* X25519 (RFC 7748 section 5): the Montgomery ladder on Curve25519 over
 * the field code in fe25519.c. Constant time: the scalar only ever selects
 * values through fe_cswap masks. */
#include "x25519.h"

#include "crypto.h"
#include "ct.h"
#include "fe25519.h"

#include <string.h>

/* (A - 2) / 4 for A = 486662 */
#define A24 121665

/* RFC 7748 "decodeScalar25519": clear the low 3 bits (cofactor), clear bit
 * 255, set bit 254. */
static void clamp_scalar(uint8_t k[32], const uint8_t scalar[32])
{
	memcpy(k, scalar, 32);
	k[0] &= 248;
	k[31] &= 127;
	k[31] |= 64;
}

/* One ladder step: (x2:z2) <- 2*(x2:z2), (x3:z3) <- (x2:z2) + (x3:z3),
 * given x1 = the difference of the two points. */
static void ladder_step(fe *x2, fe *z2, fe *x3, fe *z3, const fe *x1)
{
	fe a, aa, b, bb, e, c, d, da, cb, t;

	fe_add(&a, x2, z2);
	fe_sq(&aa, &a);
	fe_sub(&b, x2, z2);
	fe_sq(&bb, &b);
	fe_sub(&e, &aa, &bb);
	fe_add(&c, x3, z3);
	fe_sub(&d, x3, z3);
	fe_mul(&da, &d, &a);
	fe_mul(&cb, &c, &b);

	fe_add(&t, &da, &cb);
	fe_sq(x3, &t);
	fe_sub(&t, &da, &cb);
	fe_sq(&t, &t);
	fe_mul(z3, x1, &t);

	fe_mul(x2, &aa, &bb);
	fe_mul_small(&t, &e, A24);
	fe_add(&t, &aa, &t);
	fe_mul(z2, &e, &t);
}

int x25519(uint8_t out[32], const uint8_t scalar[32], const uint8_t point[32])
{
	uint8_t k[32];
	fe x1, x2, z2, x3, z3;
	unsigned swap = 0;
	uint8_t acc = 0;

	clamp_scalar(k, scalar);
	fe_frombytes(&x1, point); /* masks bit 255, accepts u >= p */
	fe_one(&x2);
	fe_zero(&z2);
	x3 = x1;
	fe_one(&z3);

	for (int t = 254; t >= 0; t--) {
		unsigned bit = (k[t >> 3] >> (t & 7)) & 1;
		swap ^= bit;
		fe_cswap(&x2, &x3, swap);
		fe_cswap(&z2, &z3, swap);
		swap = bit;
		ladder_step(&x2, &z2, &x3, &z3, &x1);
	}
	fe_cswap(&x2, &x3, swap);
	fe_cswap(&z2, &z3, swap);

	fe_invert(&z2, &z2);
	fe_mul(&x2, &x2, &z2);
	fe_tobytes(out, &x2);

	wipe(k, sizeof(k));
	wipe(&x2, sizeof(x2));
	wipe(&z2, sizeof(z2));
	wipe(&x3, sizeof(x3));
	wipe(&z3, sizeof(z3));

	for (int i = 0; i < 32; i++)
		acc |= out[i];
	ct_public(&acc, sizeof acc);    /* a zero secret is refused openly */
	return acc == 0 ? -1 : 0;
}

void x25519_base(uint8_t out[32], const uint8_t scalar[32])
{
	static const uint8_t nine[32] = { 9 };
	/* the base point has prime order, so the result is never zero */
	(void)x25519(out, scalar, nine);
}
