/* crypto: libtomcrypt set-up, the kernel RNG, hashing helpers. */
#include "crypto.h"
#include "ct.h"
#include "sha256.h"
#include "sha512.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include "ltc_dyn.h"

static int prng_index = -1;

/* A libtomcrypt PRNG descriptor whose read() is getrandom(): libtomcrypt's
 * key generation and signing take their randomness from the kernel. */
static int kprng_start(prng_state *s) { (void)s; return CRYPT_OK; }
static int kprng_add(const unsigned char *in, unsigned long n, prng_state *s)
{ (void)in; (void)n; (void)s; return CRYPT_OK; }
static int kprng_ready(prng_state *s) { (void)s; return CRYPT_OK; }
static unsigned long kprng_read(unsigned char *out, unsigned long n, prng_state *s)
{
	(void)s;
	rand_bytes(out, n);
	return n;
}
static int kprng_done(prng_state *s) { (void)s; return CRYPT_OK; }
static int kprng_export(unsigned char *out, unsigned long *n, prng_state *s)
{ (void)out; (void)s; *n = 0; return CRYPT_OK; }
static int kprng_import(const unsigned char *in, unsigned long n, prng_state *s)
{ (void)in; (void)n; (void)s; return CRYPT_OK; }
static int kprng_test(void) { return CRYPT_OK; }

static const struct ltc_prng_descriptor kernel_prng = {
	"wombat-getrandom", 0, kprng_start, kprng_add, kprng_ready, kprng_read,
	kprng_done, kprng_export, kprng_import, kprng_test,
};

int crypto_init(void)
{
	static int done;
	if (done)
		return 0;
	if (ltc_load() < 0)
		return -1;
	ltc_mp = ltm_desc;
	if (register_cipher(&aes_desc) < 0 || register_hash(&sha1_desc) < 0 ||
	    register_hash(&sha256_desc) < 0 || register_hash(&sha384_desc) < 0 ||
	    register_hash(&sha512_desc) < 0)
		return -1;
	prng_index = register_prng(&kernel_prng);
	if (prng_index < 0)
		return -1;
	done = 1;
	return 0;
}

int nist_curve_idx(int size)
{
	for (int i = 0; ltc_ecc_sets[i].size; i++)
		if (ltc_ecc_sets[i].size == size)
			return i;
	return -1;
}

#define MP_OK(call) ((call) == MP_OKAY)

int nist_point_valid(int idx, const uint8_t *pt, size_t len)
{
	const ltc_ecc_set_type *dp = &ltc_ecc_sets[idx];
	size_t sz = (size_t)dp->size;
	mp_int p, b, x, y, lhs, rhs, t;
	int ok;

	if (len != 1 + 2 * sz || pt[0] != 0x04)
		return 0;
	if (mp_init_multi(&p, &b, &x, &y, &lhs, &rhs, &t, NULL) != MP_OKAY)
		return 0;
	ok = MP_OK(mp_read_radix(&p, dp->prime, 16)) &&
	     MP_OK(mp_read_radix(&b, dp->B, 16)) &&
	     MP_OK(mp_from_ubin(&x, pt + 1, sz)) &&
	     MP_OK(mp_from_ubin(&y, pt + 1 + sz, sz)) &&
	     mp_cmp(&x, &p) == MP_LT && mp_cmp(&y, &p) == MP_LT &&
	     MP_OK(mp_sqrmod(&y, &p, &lhs)) &&              /* y^2 */
	     MP_OK(mp_sqrmod(&x, &p, &rhs)) &&
	     MP_OK(mp_mulmod(&rhs, &x, &p, &rhs)) &&        /* x^3 */
	     MP_OK(mp_mul_d(&x, 3, &t)) &&
	     MP_OK(mp_sub(&rhs, &t, &rhs)) &&
	     MP_OK(mp_add(&rhs, &b, &rhs)) &&
	     MP_OK(mp_mod(&rhs, &p, &rhs)) &&               /* x^3 - 3x + b */
	     mp_cmp(&lhs, &rhs) == MP_EQ;
	mp_clear_multi(&p, &b, &x, &y, &lhs, &rhs, &t, NULL);
	return ok;
}

int crypto_prng_idx(void)
{
	crypto_init();          /* -1 stays -1 if that fails */
	return prng_index;
}

void rand_bytes(void *p, size_t n)
{
	uint8_t *out = p;
	while (n) {
		ssize_t r = getrandom(out, n, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			abort();   /* no randomness: nothing safe to do */
		}
		out += r;
		n -= (size_t)r;
	}
}

uint32_t rand_u32(void)
{
	uint32_t v;
	rand_bytes(&v, sizeof(v));
	return v;
}

int rand_temp_file(char *tmpl, int flags)
{
	static const char letters[] =
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	size_t n = strlen(tmpl);
	if (n < 6 || memcmp(tmpl + n - 6, "XXXXXX", 6) != 0) {
		errno = EINVAL;
		return -1;
	}
	for (int tries = 0; tries < 100; tries++) {
		uint8_t r[6];
		rand_bytes(r, sizeof r);
		for (int i = 0; i < 6; i++)
			tmpl[n - 6 + i] = letters[r[i] % (sizeof letters - 1)];
		int fd = open(tmpl, O_RDWR | O_CREAT | O_EXCL | flags, 0600);
		if (fd >= 0 || errno != EEXIST)
			return fd;
	}
	return -1;                  /* errno is EEXIST */
}

/* memset, then an empty asm that is told it reads the bytes: the compiler
 * cannot drop the stores as dead (what explicit_bzero guarantees, without
 * one more versioned libc import). */
void wipe(void *p, size_t n)
{
	if (p && n) {
		memset(p, 0, n);
		__asm__ __volatile__("" : : "r"(p) : "memory");
	}
}

/* noinline: its frame must lie where the callee frames were */
__attribute__((noinline)) void wipe_stack(void)
{
	uint8_t area[WIPE_STACK_BYTES];
	wipe(area, sizeof area);
}

int ct_memcmp(const void *a, const void *b, size_t n)
{
	const volatile uint8_t *x = a, *y = b;
	uint8_t acc = 0;
	for (size_t i = 0; i < n; i++)
		acc |= x[i] ^ y[i];
	ct_public(&acc, sizeof acc);    /* the verdict is public */
	return acc != 0;
}

static const char *const hash_names[] = { "sha1", "sha256", "sha384", "sha512" };

int hash_idx(enum hash_alg a)
{
	crypto_init();
	return find_hash(hash_names[a]);
}

size_t hash_len(enum hash_alg a)
{
	static const size_t lens[] = { 20, 32, 48, 64 };
	return lens[a];
}

size_t hash_block(enum hash_alg a)
{
	return a == HASH_SHA384 || a == HASH_SHA512 ? 128 : 64;
}

/* SHA-256 (sha256.c: the SHA extensions where the CPU has them) and
 * SHA-384/SHA-512 (sha512.c) are this project's own; SHA-1 is libtomcrypt's.
 * libtomcrypt keeps its SHA-2 descriptors registered for their OIDs only
 * (rsa_sign_hash_ex's DigestInfo). */
void hash_init(hash_ctx *c, enum hash_alg a)
{
	_Static_assert(sizeof(c->st) >= sizeof(hash_state), "hash_ctx too small");
	_Static_assert(sizeof(c->st) >= sizeof(struct sha256_ctx), "hash_ctx too small");
	_Static_assert(sizeof(c->st) >= sizeof(struct sha512_ctx), "hash_ctx too small");
	c->alg = a;
	if (a == HASH_SHA256)
		sha256_start((struct sha256_ctx *)c->st);
	else if (a == HASH_SHA512)
		sha512_start((struct sha512_ctx *)c->st);
	else if (a == HASH_SHA384)
		sha384_start((struct sha512_ctx *)c->st);
	else
		hash_descriptor[hash_idx(a)].init((hash_state *)c->st);
}

void hash_update(hash_ctx *c, const void *d, size_t n)
{
	if (c->alg == HASH_SHA256)
		sha256_absorb((struct sha256_ctx *)c->st, d, n);
	else if (c->alg == HASH_SHA512 || c->alg == HASH_SHA384)
		sha512_absorb((struct sha512_ctx *)c->st, d, n);
	else
		hash_descriptor[hash_idx(c->alg)].process((hash_state *)c->st, d, n);
}

void hash_final(hash_ctx *c, uint8_t *out)
{
	switch (c->alg) {       /* ours wipe their state */
	case HASH_SHA256:
		sha256_finish((struct sha256_ctx *)c->st, out);
		return;
	case HASH_SHA512:
		sha512_finish((struct sha512_ctx *)c->st, out);
		return;
	case HASH_SHA384:
		sha384_finish((struct sha512_ctx *)c->st, out);
		return;
	default:
		hash_descriptor[hash_idx(c->alg)].done((hash_state *)c->st, out);
		wipe(c->st, sizeof(hash_state));
	}
}

void hash_mem(enum hash_alg a, const void *d, size_t n, uint8_t *out)
{
	hash_ctx c;
	hash_init(&c, a);
	hash_update(&c, d, n);
	hash_final(&c, out);
}
