/* The GF(2^255-19) multiply that 32-bit targets build (no 128-bit integers:
 * products in pairs of 64-bit words), compiled here on any host and checked
 * against the 128-bit one in libwombat.a on loose inputs, the largest limbs
 * the representation allows (each < 2^52), and inversion. */
#define WOMBAT_FE25519_32 1
#define fe_zero fe32_zero
#define fe_one fe32_one
#define fe_frombytes fe32_frombytes
#define fe_tobytes fe32_tobytes
#define fe_add fe32_add
#define fe_sub fe32_sub
#define fe_neg fe32_neg
#define fe_mul fe32_mul
#define fe_sq fe32_sq
#define fe_mul_small fe32_mul_small
#define fe_invert fe32_invert
#define fe_pow22523 fe32_pow22523
#define fe_cswap fe32_cswap
#define fe_cmov fe32_cmov
#define fe_iszero fe32_iszero
#define fe_isodd fe32_isodd
#define fe_equal fe32_equal
#include "../../crypto/fe25519.c"
#undef fe_zero
#undef fe_one
#undef fe_frombytes
#undef fe_tobytes
#undef fe_add
#undef fe_sub
#undef fe_neg
#undef fe_mul
#undef fe_sq
#undef fe_mul_small
#undef fe_invert
#undef fe_pow22523
#undef fe_cswap
#undef fe_cmov
#undef fe_iszero
#undef fe_isodd
#undef fe_equal

/* the 128-bit build's functions, from libwombat.a (fe25519.h's guard is
 * already taken by the renamed copy above) */
void fe_zero(fe *h);
void fe_one(fe *h);
void fe_tobytes(uint8_t s[32], const fe *f);
void fe_mul(fe *h, const fe *f, const fe *g);
void fe_sq(fe *h, const fe *f);
void fe_mul_small(fe *h, const fe *f, uint32_t n);

#include <stdlib.h>

#include "unit.h"

/* every operation of both builds on f and g must give the same bytes */
static void check_same(const fe *f, const fe *g)
{
	fe a, b;
	uint8_t x[32], y[32];

	fe_mul(&a, f, g);
	fe32_mul(&b, f, g);
	fe_tobytes(x, &a);
	fe32_tobytes(y, &b);
	CHECK_MEM(x, y, 32);
	for (int i = 0; i < 5; i++)
		CHECK(b.v[i] < ((uint64_t)1 << 52));     /* loose output */
	fe_sq(&a, f);
	fe32_sq(&b, f);
	fe_tobytes(x, &a);
	fe32_tobytes(y, &b);
	CHECK_MEM(x, y, 32);
	fe_mul_small(&a, g, 121666);
	fe32_mul_small(&b, g, 121666);
	fe_tobytes(x, &a);
	fe32_tobytes(y, &b);
	CHECK_MEM(x, y, 32);
}

static void random_loose(fe *f)
{
	for (int i = 0; i < 5; i++)
		f->v[i] = (((uint64_t)rand() << 31) ^ ((uint64_t)rand() << 10) ^ (uint64_t)rand()) &
			  (((uint64_t)1 << 52) - 1);
}

int main(void)
{
	fe f, g, inv, one;
	uint8_t x[32], y[32];

	srand(25519);
	/* the largest loose limbs */
	for (int i = 0; i < 5; i++)
		f.v[i] = g.v[i] = ((uint64_t)1 << 52) - 1;
	check_same(&f, &g);
	fe_zero(&g);
	check_same(&f, &g);
	for (int n = 0; n < 2000; n++) {
		random_loose(&f);
		random_loose(&g);
		check_same(&f, &g);
	}
	/* f * 1/f == 1 through the 32-bit path alone */
	random_loose(&f);
	fe32_invert(&inv, &f);
	fe32_mul(&g, &f, &inv);
	fe32_tobytes(x, &g);
	fe_one(&one);
	fe_tobytes(y, &one);
	CHECK_MEM(x, y, 32);
	return UNIT_DONE();
}
