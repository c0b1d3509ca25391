/* hostkey: SSH public keys, signatures and openssh-key-v1 private key files.
 *
 * Wire formats: RFC 4253 s6.6 (blobs), RFC 8709 (ssh-ed25519), RFC 5656 s3
 * (ecdsa-sha2-nistp*), RFC 8332 (rsa-sha2-256/512); private key files per
 * OpenSSH PROTOCOL.key. ECDSA and RSA arithmetic is libtomcrypt's, with
 * libtommath (LTM_DESC) for the checks done here; Ed25519 is crypto/ed25519.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ltc_dyn.h"

#include "hostkey.h"
#include "crypto.h"
#include "ed25519.h"
#include "build_opts.h"
#include "log.h"

#define RSA_MIN_BITS 1024
#define RSA_MAX_BITS 16384
#define RSA_DEFAULT_BITS 3072
#define RSA_MAX_BYTES (RSA_MAX_BITS / 8)
#define KEY_BLOB_MAX 8192          /* largest public key blob we accept */
#define KEY_FILE_MAX (64 * 1024)   /* largest private key file we read */
#define KEY_COMMENT_MAX 1024
#define ECC_MAX_SIZE 66            /* P-521 coordinate bytes */

static const char PEM_BEGIN[] = "-----BEGIN OPENSSH PRIVATE KEY-----";
static const char PEM_END[] = "-----END OPENSSH PRIVATE KEY-----";
static const uint8_t AUTH_MAGIC[] = "openssh-key-v1";  /* NUL included */
#define PRIV_BLOCK 8               /* padding block for cipher "none" */

struct sshkey {
	enum key_type type;
	int has_private;
	uint8_t ed_pk[32];
	uint8_t ed_seed[32];
	int ecc_ready;
	ecc_key ecc;
	int rsa_ready;
	rsa_key rsa;
	/* A connection process's RSA or ECDSA host key stays the listener's
	 * openssh-key-v1 blob (key_from_private_blob) until a signature needs
	 * its numbers (key_numbers): a session that signs with its Ed25519
	 * key never loads libtomcrypt (crypto/ltc_dyn.h). v1_pub is the public
	 * blob inside it. */
	uint8_t *v1;
	size_t v1_len;
	const uint8_t *v1_pub;
	size_t v1_pub_len;
};

static int key_numbers(const struct sshkey *k);

struct curve_info {
	enum key_type type;
	const char *keyname;   /* key and signature algorithm name */
	const char *curve;     /* curve identifier inside the blob */
	int size;              /* coordinate bytes (ltc_ecc_sets[].size) */
	enum hash_alg hash;
};

static const struct curve_info curves[] = {
	{ KEY_ECDSA_P256, "ecdsa-sha2-nistp256", "nistp256", 32, HASH_SHA256 },
	{ KEY_ECDSA_P384, "ecdsa-sha2-nistp384", "nistp384", 48, HASH_SHA384 },
	{ KEY_ECDSA_P521, "ecdsa-sha2-nistp521", "nistp521", 66, HASH_SHA512 },
};

static const struct curve_info *curve_of(enum key_type t)
{
	for (size_t i = 0; i < sizeof(curves) / sizeof(curves[0]); i++)
		if (curves[i].type == t)
			return &curves[i];
	return NULL;
}

/* ---------------------------------------------------------------- base64 */

static const char B64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Returns the number of characters written (NUL not counted), -1 if out is
 * too small. */
int b64_encode(const uint8_t *in, size_t n, char *out, size_t outsz, int pad)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i += 3) {
		size_t left = n - i;
		uint32_t v = (uint32_t)in[i] << 16;
		if (left > 1)
			v |= (uint32_t)in[i + 1] << 8;
		if (left > 2)
			v |= in[i + 2];
		size_t chars = left >= 3 ? 4 : left + 1;
		size_t total = pad ? 4 : chars;
		if (o + total + 1 > outsz)
			return -1;
		for (size_t c = 0; c < 4; c++) {
			if (c < chars)
				out[o++] = B64[(v >> (18 - 6 * c)) & 63];
			else if (pad)
				out[o++] = '=';
		}
	}
	if (o + 1 > outsz)
		return -1;
	out[o] = 0;
	return (int)o;
}

static int b64_value(char c)
{
	const char *p = c ? strchr(B64, c) : NULL;
	return p ? (int)(p - B64) : -1;
}

/* Decode n characters. *outlen is the capacity of out on entry and the
 * decoded length on return. '=' padding is optional but must be correct if
 * present; any other character is an error. */
int b64_decode(const char *in, size_t n, uint8_t *out, size_t *outlen)
{
	size_t cap = *outlen, o = 0;
	size_t pads = 0;
	while (pads < 2 && n > 0 && in[n - 1] == '=') {
		n--;
		pads++;
	}
	if (pads && (n + pads) % 4 != 0)
		return -1;
	if (n % 4 == 1)
		return -1;
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < n; i++) {
		int v = b64_value(in[i]);
		if (v < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= cap)
				return -1;
			out[o++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	*outlen = o;
	return 0;
}

/* ------------------------------------------------------------- basics */

static struct sshkey *key_new(enum key_type t)
{
	struct sshkey *k = calloc(1, sizeof(*k));
	if (k)
		k->type = t;
	return k;
}

void key_free(struct sshkey *k)
{
	if (!k)
		return;
	if (HAVE_NIST && k->ecc_ready)
		ecc_free(&k->ecc);      /* mp_clear zeroes the digits */
	if (HAVE_RSA && k->rsa_ready)
		rsa_free(&k->rsa);
	if (k->v1) {
		wipe(k->v1, k->v1_len);
		free(k->v1);
	}
	wipe(k, sizeof(*k));
	free(k);
}

enum key_type key_get_type(const struct sshkey *k) { return k->type; }
int key_has_private(const struct sshkey *k) { return k->has_private; }

const char *key_type_name(const struct sshkey *k)
{
	if (k->type == KEY_ED25519)
		return "ssh-ed25519";
	if (k->type == KEY_RSA)
		return "ssh-rsa";
	const struct curve_info *c = curve_of(k->type);
	return c ? c->keyname : "unknown";
}

/* Any key type wombat has code for, built into this binary or not. */
static int type_from_name(const char *name, enum key_type *t)
{
	if (strcmp(name, "ssh-ed25519") == 0) {
		*t = KEY_ED25519;
		return 0;
	}
	if (strcmp(name, "ssh-rsa") == 0) {
		*t = KEY_RSA;
		return 0;
	}
	for (size_t i = 0; i < sizeof(curves) / sizeof(curves[0]); i++) {
		if (strcmp(name, curves[i].keyname) == 0) {
			*t = curves[i].type;
			return 0;
		}
	}
	return -1;
}

/* Why key type t is not in this build, or NULL if it is (build_opts.h). */
const char *key_kind_left_out(enum key_type t)
{
	if (t == KEY_RSA)
		return HAVE_RSA ? NULL :
		       "RSA keys are left out of this build (configured with --disable-rsa)";
	if (t != KEY_ED25519)
		return HAVE_NIST ? NULL :
		       "ECDSA keys are left out of this build (configured with --disable-nist)";
	return NULL;
}

int key_type_from_name(const char *name, enum key_type *t)
{
	return type_from_name(name, t) == 0 && !key_kind_left_out(*t) ? 0 : -1;
}

const char *key_type_left_out(const char *name)
{
	enum key_type t;
	return type_from_name(name, &t) == 0 ? key_kind_left_out(t) : NULL;
}

/* Append an mpint from a libtommath value. */
static int put_mp(buf_t *b, void *mp)
{
	size_t n = mp_ubin_size(mp);
	uint8_t *tmp = malloc(n ? n : 1);
	size_t w = 0;
	int rc = -1;
	if (tmp && mp_to_ubin(mp, tmp, n, &w) == MP_OKAY)
		rc = buf_put_mpint_be(b, tmp, w);
	if (tmp) {
		wipe(tmp, n);
		free(tmp);
	}
	return rc;
}

/* Big-endian value left-padded to exactly n bytes. */
static int mp_to_fixed(void *mp, uint8_t *out, size_t n)
{
	size_t len = mp_ubin_size(mp), w = 0;
	if (len > n)
		return -1;
	memset(out, 0, n);
	return mp_to_ubin(mp, out + (n - len), len, &w) == MP_OKAY ? 0 : -1;
}

static int mp_from_hex(mp_int *m, const char *hex)
{
	return mp_read_radix(m, hex, 16) == MP_OKAY ? 0 : -1;
}

/* ----------------------------------------------------------------- ECDSA */

/* Fill k->ecc from an uncompressed point Q (0x04 || X || Y), checked to lie
 * on the curve. */
static int ecc_load_public(struct sshkey *k, const uint8_t *q, size_t qn)
{
	const struct curve_info *c = curve_of(k->type);
	int idx = nist_curve_idx(c->size);
	if (idx < 0 || !nist_point_valid(idx, q, qn) || crypto_init() < 0)
		return -1;
	ecc_key *e = &k->ecc;
	memset(e, 0, sizeof(*e));
	if (ltc_init_multi(&e->pubkey.x, &e->pubkey.y, &e->pubkey.z, &e->k,
			   NULL) != CRYPT_OK)
		return -1;
	k->ecc_ready = 1;
	e->type = PK_PUBLIC;
	e->idx = idx;
	e->dp = &ltc_ecc_sets[idx];
	if (mp_from_ubin(e->pubkey.x, q + 1, (size_t)c->size) != MP_OKAY ||
	    mp_from_ubin(e->pubkey.y, q + 1 + c->size, (size_t)c->size) != MP_OKAY)
		return -1;
	mp_set(e->pubkey.z, 1);
	return 0;
}

/* Set the private scalar d, checking 0 < d < order and d*G == Q. */
/* checked: d*G must be the public point (a key file); 0 for a key the
 * listener already checked (the configuration snapshot), which skips the
 * scalar multiplication every connection would otherwise repeat. */
static int ecc_load_private(struct sshkey *k, const uint8_t *d, size_t dn, int checked)
{
	ecc_key *e = &k->ecc;
	const ltc_ecc_set_type *dp = e->dp;
	mp_int order, prime;
	ecc_point *g = NULL, *r = NULL;
	int ok = 0;
	if (mp_init_multi(&order, &prime, NULL) != MP_OKAY)
		return -1;
	g = ltc_ecc_new_point();
	r = ltc_ecc_new_point();
	if (!g || !r || mp_from_ubin(e->k, d, dn) != MP_OKAY ||
	    mp_from_hex(&order, dp->order) < 0 || mp_from_hex(&prime, dp->prime) < 0 ||
	    mp_from_hex(g->x, dp->Gx) < 0 || mp_from_hex(g->y, dp->Gy) < 0)
		goto out;
	mp_set(g->z, 1);
	if (mp_iszero((mp_int *)e->k) || mp_cmp(e->k, &order) != MP_LT)
		goto out;
	if (!checked) {
		ok = 1;
		goto out;
	}
	if (ltc_ecc_mulmod(e->k, g, r, &prime, 1) != CRYPT_OK)
		goto out;
	ok = mp_cmp(r->x, e->pubkey.x) == MP_EQ && mp_cmp(r->y, e->pubkey.y) == MP_EQ;
out:
	if (g)
		ltc_ecc_del_point(g);
	if (r)
		ltc_ecc_del_point(r);
	mp_clear_multi(&order, &prime, NULL);
	if (!ok)
		return -1;
	e->type = PK_PRIVATE;
	k->has_private = 1;
	return 0;
}

static int ecc_put_point(const struct sshkey *k, buf_t *b)
{
	const struct curve_info *c = curve_of(k->type);
	uint8_t q[1 + 2 * ECC_MAX_SIZE];
	q[0] = 0x04;
	if (mp_to_fixed(k->ecc.pubkey.x, q + 1, (size_t)c->size) < 0 ||
	    mp_to_fixed(k->ecc.pubkey.y, q + 1 + c->size, (size_t)c->size) < 0)
		return -1;
	return buf_put_string(b, q, 1 + 2 * (size_t)c->size);
}

/* ------------------------------------------------------------------- RSA */

static int rsa_bits_ok(const uint8_t *n, size_t nn)
{
	if (nn == 0 || nn > RSA_MAX_BYTES)
		return 0;
	int bits = (int)(nn - 1) * 8;
	for (uint8_t top = n[0]; top; top >>= 1)
		bits++;
	return bits >= RSA_MIN_BITS;
}

static int rsa_load_public(struct sshkey *k, const uint8_t *e, size_t en,
			   const uint8_t *n, size_t nn)
{
	/* e odd and >= 3, and not wider than 64 bits (OpenSSH keeps it small) */
	if (crypto_init() < 0 || !rsa_bits_ok(n, nn) || en == 0 || en > 8 || !(e[en - 1] & 1) ||
	    (en == 1 && e[0] < 3) || !(n[nn - 1] & 1))
		return -1;
	if (rsa_set_key(n, nn, e, en, NULL, 0, &k->rsa) != CRYPT_OK)
		return -1;
	k->rsa_ready = 1;
	return 0;
}

/* An RSA private key's numbers, indexed in an OpenSSH file's order
 * (PROTOCOL.key); each file format reads them in its own order. */
enum { RSA_N, RSA_E, RSA_D, RSA_IQMP, RSA_P, RSA_Q, RSA_NFIELDS };
struct rsa_fields {
	const uint8_t *v[RSA_NFIELDS];
	size_t n[RSA_NFIELDS];
};

static int read_rsa_fields(rd_t *r, struct rsa_fields *f, const uint8_t *order,
			   size_t count)
{
	memset(f, 0, sizeof(*f));
	for (size_t i = 0; i < count; i++)
		if (rd_mpint_be(r, &f->v[order[i]], &f->n[order[i]]) < 0)
			return -1;
	return 0;
}

/* Private part from its numbers. libtomcrypt also wants d mod (p-1) and
 * d mod (q-1), which the files do not carry, so compute them (and q^-1 mod p
 * when the file lacks it too: dropbear's, f->v[RSA_IQMP] NULL); and check
 * that the numbers fit together before trusting them for signing. */
static int rsa_load_private(struct sshkey *k, const struct rsa_fields *f)
{
	/* the fields, then scratch: t, p-1, q-1, and the CRT exponents */
	enum { T = RSA_NFIELDS, PM1, QM1, DP, DQ, NUMS };
	mp_int m[NUMS];
	uint8_t crt[3][RSA_MAX_BYTES];
	size_t crtn[3];
	const int crt_of[3] = { DP, DQ, RSA_IQMP };
	int derive_iqmp = f->v[RSA_IQMP] == NULL, ok = 0, i;
	if (crypto_init() < 0)
		return -1;
	if (!rsa_bits_ok(f->v[RSA_N], f->n[RSA_N]) || f->n[RSA_E] == 0 || f->n[RSA_E] > 8)
		return -1;
	for (i = RSA_D; i < RSA_NFIELDS; i++)
		if (f->n[i] == 0 && !(i == RSA_IQMP && derive_iqmp))
			return -1;
	for (i = 0; i < NUMS; i++)
		if (mp_init(&m[i]) != MP_OKAY)
			goto clear;
	for (int j = 0; j < RSA_NFIELDS; j++)
		if (f->v[j] && mp_from_ubin(&m[j], f->v[j], f->n[j]) != MP_OKAY)
			goto clear;
	/* n == p*q */
	if (mp_mul(&m[RSA_P], &m[RSA_Q], &m[T]) || mp_cmp(&m[T], &m[RSA_N]) != MP_EQ)
		goto clear;
	if (derive_iqmp && mp_invmod(&m[RSA_Q], &m[RSA_P], &m[RSA_IQMP]))
		goto clear;
	/* iqmp * q == 1 (mod p) */
	if (mp_mulmod(&m[RSA_IQMP], &m[RSA_Q], &m[RSA_P], &m[T]) || mp_cmp_d(&m[T], 1) != MP_EQ)
		goto clear;
	if (mp_sub_d(&m[RSA_P], 1, &m[PM1]) || mp_sub_d(&m[RSA_Q], 1, &m[QM1]) ||
	    mp_mod(&m[RSA_D], &m[PM1], &m[DP]) || mp_mod(&m[RSA_D], &m[QM1], &m[DQ]))
		goto clear;
	/* e*d == 1 modulo p-1 and q-1 */
	if (mp_mulmod(&m[RSA_E], &m[DP], &m[PM1], &m[T]) || mp_cmp_d(&m[T], 1) != MP_EQ ||
	    mp_mulmod(&m[RSA_E], &m[DQ], &m[QM1], &m[T]) || mp_cmp_d(&m[T], 1) != MP_EQ)
		goto clear;
	for (int j = 0; j < 3; j++)
		if (mp_to_ubin(&m[crt_of[j]], crt[j], RSA_MAX_BYTES, &crtn[j]) != MP_OKAY)
			goto clear;
	if (rsa_set_key(f->v[RSA_N], f->n[RSA_N], f->v[RSA_E], f->n[RSA_E],
			f->v[RSA_D], f->n[RSA_D], &k->rsa) != CRYPT_OK)
		goto clear;
	k->rsa_ready = 1;
	if (rsa_set_factors(f->v[RSA_P], f->n[RSA_P], f->v[RSA_Q], f->n[RSA_Q],
			    &k->rsa) != CRYPT_OK ||
	    rsa_set_crt_params(crt[0], crtn[0], crt[1], crtn[1], crt[2], crtn[2],
			       &k->rsa) != CRYPT_OK)
		goto clear;
	k->has_private = 1;
	ok = 1;
clear:
	wipe(crt, sizeof(crt));
	while (i-- > 0)
		mp_clear(&m[i]);    /* zeroes the digits */
	return ok ? 0 : -1;
}

static size_t rsa_modulus_bytes(const struct sshkey *k)
{
	return mp_ubin_size(k->rsa.N);
}

/* ---------------------------------------------------------- public blobs */

int key_public_blob(const struct sshkey *k, buf_t *out)
{
	if (k->v1)
		return buf_put(out, k->v1_pub, k->v1_pub_len);
	size_t mark = out->len;
	int rc = buf_put_cstring(out, key_type_name(k));
	if (rc == 0 && k->type == KEY_ED25519) {
		rc = buf_put_string(out, k->ed_pk, 32);
	} else if (rc == 0 && HAVE_RSA && k->type == KEY_RSA) {
		rc = put_mp(out, k->rsa.e);
		if (rc == 0)
			rc = put_mp(out, k->rsa.N);
	} else if (rc == 0 && HAVE_NIST) {
		rc = buf_put_cstring(out, curve_of(k->type)->curve);
		if (rc == 0)
			rc = ecc_put_point(k, out);
	} else if (rc == 0) {
		rc = -1;
	}
	if (rc < 0)
		out->len = mark;
	return rc;
}

/* Read the type-specific public fields of a blob (after the type name). */
static int read_public_fields(struct sshkey *k, rd_t *r)
{
	const uint8_t *a, *b;
	size_t an, bn;
	if (k->type == KEY_ED25519) {
		if (rd_string(r, &a, &an) < 0 || an != 32)
			return -1;
		memcpy(k->ed_pk, a, 32);
		return 0;
	}
	if (HAVE_RSA && k->type == KEY_RSA) {
		if (rd_mpint_be(r, &a, &an) < 0 || rd_mpint_be(r, &b, &bn) < 0)
			return -1;
		return rsa_load_public(k, a, an, b, bn);
	}
	char curve[16];
	if (!HAVE_NIST)
		return -1;
	if (rd_cstring(r, curve, sizeof(curve)) < 0 ||
	    strcmp(curve, curve_of(k->type)->curve) != 0 ||
	    rd_string(r, &a, &an) < 0)
		return -1;
	return ecc_load_public(k, a, an);
}

/* Parse a blob from a reader positioned at it; consumes exactly the blob. */
static int read_blob(rd_t *r, struct sshkey **out)
{
	char name[32];
	enum key_type t;
	if (rd_cstring(r, name, sizeof(name)) < 0 || key_type_from_name(name, &t) < 0)
		return -1;
	struct sshkey *k = key_new(t);
	if (!k)
		return -1;
	if (read_public_fields(k, r) < 0) {
		key_free(k);
		return -1;
	}
	*out = k;
	return 0;
}

int key_from_blob(const uint8_t *blob, size_t n, struct sshkey **out)
{
	rd_t r;
	struct sshkey *k;
	if (n > KEY_BLOB_MAX)
		return -1;
	rd_init(&r, blob, n);
	if (read_blob(&r, &k) < 0)
		return -1;
	if (rd_end(&r) < 0) {
		key_free(k);
		return -1;
	}
	*out = k;
	return 0;
}

int key_equal_public(const struct sshkey *a, const struct sshkey *b)
{
	buf_t ba, bb;
	int eq = 0;
	if (a->type != b->type)
		return 0;
	buf_init(&ba, 256, KEY_BLOB_MAX);
	buf_init(&bb, 256, KEY_BLOB_MAX);
	if (key_public_blob(a, &ba) == 0 && key_public_blob(b, &bb) == 0)
		eq = buf_used(&ba) == buf_used(&bb) &&
		     memcmp(buf_data(&ba), buf_data(&bb), buf_used(&ba)) == 0;
	buf_free(&ba);
	buf_free(&bb);
	return eq;
}

/* ------------------------------------------------------------ generation */

static int generate_ed25519(struct sshkey *k)
{
	rand_bytes(k->ed_seed, 32);
	ed25519_pubkey(k->ed_pk, k->ed_seed);
	return 0;
}

static int generate_ecdsa(struct sshkey *k)
{
	int idx = nist_curve_idx(curve_of(k->type)->size);
	if (idx < 0 || ecc_make_key_ex(NULL, crypto_prng_idx(), &k->ecc,
				       &ltc_ecc_sets[idx]) != CRYPT_OK)
		return -1;
	k->ecc_ready = 1;
	return 0;
}

static int generate_rsa(struct sshkey *k, int bits)
{
	if (bits == 0)
		bits = RSA_DEFAULT_BITS;
	if (bits < RSA_MIN_BITS || bits > RSA_MAX_BITS || bits % 8)
		return -1;
	if (rsa_make_key(NULL, crypto_prng_idx(), bits / 8, 65537, &k->rsa) != CRYPT_OK)
		return -1;
	k->rsa_ready = 1;
	return 0;
}

int key_generate(enum key_type t, int bits, struct sshkey **out)
{
	struct sshkey *k = key_new(t);
	int rc;
	if (!k)
		return -1;
	if (t == KEY_ED25519)
		rc = generate_ed25519(k);
	else if (HAVE_RSA && t == KEY_RSA)
		rc = generate_rsa(k, bits);
	else if (HAVE_NIST && curve_of(t))
		rc = generate_ecdsa(k);
	else
		rc = -1;
	if (rc < 0) {
		key_free(k);
		return -1;
	}
	k->has_private = 1;
	*out = k;
	return 0;
}

/* ----------------------------------------------------------- signatures */

int key_sigalg_ok(const struct sshkey *k, const char *sigalg)
{
	if (!sigalg)
		return 0;
	if (k->type == KEY_RSA)
		return strcmp(sigalg, "rsa-sha2-256") == 0 ||
		       strcmp(sigalg, "rsa-sha2-512") == 0;
	return strcmp(sigalg, key_type_name(k)) == 0;
}

int key_verify_alg_ok(const struct sshkey *k, const char *sigalg)
{
	if (k->type == KEY_RSA && sigalg && strcmp(sigalg, "ssh-rsa") == 0)
		return 1;
	return key_sigalg_ok(k, sigalg);
}

static enum hash_alg rsa_sig_hash(const char *sigalg)
{
	if (strcmp(sigalg, "ssh-rsa") == 0)
		return HASH_SHA1;
	return strcmp(sigalg, "rsa-sha2-512") == 0 ? HASH_SHA512 : HASH_SHA256;
}

/* Raw signature bytes (the inner string of the signature blob) into sig. */
static int sign_raw(const struct sshkey *k, const char *sigalg, const uint8_t *data,
		    size_t n, buf_t *sig)
{
	uint8_t h[64], raw[RSA_MAX_BYTES];
	unsigned long rl = sizeof(raw);
	int rc = -1;
	if (k->type == KEY_ED25519) {
		ed25519_sign(raw, data, n, k->ed_seed, k->ed_pk);
		return buf_put(sig, raw, 64);
	}
	if (HAVE_RSA && k->type == KEY_RSA) {
		enum hash_alg ha = rsa_sig_hash(sigalg);
		hash_mem(ha, data, n, h);
		if (rsa_sign_hash_ex(h, hash_len(ha), raw, &rl, LTC_PKCS_1_V1_5, NULL,
				     crypto_prng_idx(), hash_idx(ha), 0,
				     (rsa_key *)&k->rsa) == CRYPT_OK)
			rc = buf_put(sig, raw, rl);
		return rc;
	}
	/* ECDSA: r || s from libtomcrypt, re-encoded as two mpints */
	if (!HAVE_NIST)
		return -1;
	const struct curve_info *c = curve_of(k->type);
	size_t half = (size_t)c->size;
	hash_mem(c->hash, data, n, h);
	if (ecc_sign_hash_rfc7518(h, hash_len(c->hash), raw, &rl, NULL,
				  crypto_prng_idx(), (ecc_key *)&k->ecc) != CRYPT_OK ||
	    rl != 2 * half)
		return -1;
	if (buf_put_mpint_be(sig, raw, half) < 0 ||
	    buf_put_mpint_be(sig, raw + half, half) < 0)
		return -1;
	return 0;
}

int key_sign(const struct sshkey *k, const char *sigalg, const uint8_t *data,
	     size_t n, buf_t *out)
{
	buf_t sig;
	int rc = -1;
	if (!k->has_private || !key_sigalg_ok(k, sigalg) || key_numbers(k) < 0)
		return -1;
	if (buf_init(&sig, 256, 2 * RSA_MAX_BYTES) < 0)
		return -1;
	if (sign_raw(k, sigalg, data, n, &sig) == 0) {
		size_t mark = out->len;
		rc = buf_put_cstring(out, sigalg);
		if (rc == 0)
			rc = buf_put_string(out, buf_data(&sig), buf_used(&sig));
		if (rc < 0)
			out->len = mark;
	}
	buf_free(&sig);
	return rc;
}

/* EMSA-PKCS1-v1_5 DigestInfo prefixes (RFC 8017 s9.2, note 1). */
static const uint8_t DI_SHA1[] = {
	0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05,
	0x00, 0x04, 0x14 };
static const uint8_t DI_SHA256[] = {
	0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03,
	0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20 };
static const uint8_t DI_SHA512[] = {
	0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03,
	0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40 };

/* Build the expected encoded message of k bytes; -1 if k is too small. */
static int pkcs1_encode(enum hash_alg ha, const uint8_t *h, uint8_t *em, size_t k)
{
	const uint8_t *di = ha == HASH_SHA512 ? DI_SHA512 : ha == HASH_SHA1 ? DI_SHA1 : DI_SHA256;
	size_t dil = ha == HASH_SHA1 ? sizeof(DI_SHA1) : sizeof(DI_SHA256);
	size_t hl = hash_len(ha), tl = dil + hl;
	if (k < tl + 11)
		return -1;
	em[0] = 0x00;
	em[1] = 0x01;
	memset(em + 2, 0xff, k - tl - 3);
	em[k - tl - 1] = 0x00;
	memcpy(em + k - tl, di, dil);
	memcpy(em + k - hl, h, hl);
	return 0;
}

/* RSA verification by re-encoding: s^e mod n must equal exactly the
 * PKCS#1 v1.5 encoding we would have produced (no DER parsing of the
 * attacker's bytes). Signatures shorter than the modulus are left-padded,
 * as OpenSSH accepts them. */
static int verify_rsa(const struct sshkey *k, const char *sigalg, const uint8_t *s,
		      size_t sn, const uint8_t *data, size_t n)
{
	uint8_t sig[RSA_MAX_BYTES], nb[RSA_MAX_BYTES], em[RSA_MAX_BYTES],
		want[RSA_MAX_BYTES], h[64];
	size_t mlen = rsa_modulus_bytes(k);
	unsigned long el = sizeof(em);
	enum hash_alg ha = rsa_sig_hash(sigalg);
	if (mlen > RSA_MAX_BYTES || sn == 0 || sn > mlen)
		return -1;
	memset(sig, 0, mlen - sn);
	memcpy(sig + (mlen - sn), s, sn);
	if (mp_to_fixed(k->rsa.N, nb, mlen) < 0 || memcmp(sig, nb, mlen) >= 0)
		return -1;
	if (rsa_exptmod(sig, mlen, em, &el, PK_PUBLIC, (rsa_key *)&k->rsa) != CRYPT_OK ||
	    el != mlen)
		return -1;
	hash_mem(ha, data, n, h);
	if (pkcs1_encode(ha, h, want, mlen) < 0)
		return -1;
	return ct_memcmp(em, want, mlen) == 0 ? 0 : -1;
}

static int verify_ecdsa(const struct sshkey *k, const uint8_t *s, size_t sn,
			const uint8_t *data, size_t n)
{
	const struct curve_info *c = curve_of(k->type);
	size_t half = (size_t)c->size;
	const uint8_t *rm, *sm;
	size_t rn, smn;
	uint8_t rs[2 * ECC_MAX_SIZE], h[64];
	int stat = 0;
	rd_t r;
	rd_init(&r, s, sn);
	if (rd_mpint_be(&r, &rm, &rn) < 0 || rd_mpint_be(&r, &sm, &smn) < 0 ||
	    rd_end(&r) < 0)
		return -1;
	if (rn == 0 || smn == 0 || rn > half || smn > half)
		return -1;
	memset(rs, 0, 2 * half);
	memcpy(rs + half - rn, rm, rn);
	memcpy(rs + 2 * half - smn, sm, smn);
	hash_mem(c->hash, data, n, h);
	if (ecc_verify_hash_rfc7518(rs, 2 * half, h, hash_len(c->hash), &stat,
				    (ecc_key *)&k->ecc) != CRYPT_OK)
		return -1;
	return stat == 1 ? 0 : -1;
}

int key_verify(const struct sshkey *k, const char *sigalg, const uint8_t *sig,
	       size_t sign, const uint8_t *data, size_t n)
{
	char name[32];
	const uint8_t *s;
	size_t sn;
	rd_t r;
	if (!key_verify_alg_ok(k, sigalg) || key_numbers(k) < 0)
		return -1;
	rd_init(&r, sig, sign);
	if (rd_cstring(&r, name, sizeof(name)) < 0 || rd_string(&r, &s, &sn) < 0 ||
	    rd_end(&r) < 0 || strcmp(name, sigalg) != 0)
		return -1;
	if (k->type == KEY_ED25519)
		return sn == 64 ? ed25519_verify(s, data, n, k->ed_pk) : -1;
	if (HAVE_RSA && k->type == KEY_RSA)
		return verify_rsa(k, sigalg, s, sn, data, n);
	return HAVE_NIST ? verify_ecdsa(k, s, sn, data, n) : -1;
}

/* ------------------------------------------------- fingerprints and lines */

void key_fingerprint(const struct sshkey *k, char *out, size_t outsz)
{
	buf_t b;
	uint8_t h[32];
	char enc[64];
	if (!outsz)
		return;
	out[0] = 0;
	if (buf_init(&b, 512, KEY_BLOB_MAX) < 0)
		return;
	if (key_public_blob(k, &b) == 0) {
		hash_mem(HASH_SHA256, buf_data(&b), buf_used(&b), h);
		if (b64_encode(h, sizeof(h), enc, sizeof(enc), 0) > 0)
			snprintf(out, outsz, "SHA256:%s", enc);
	}
	buf_free(&b);
}

int key_public_line(const struct sshkey *k, const char *comment, char *out, size_t outsz)
{
	buf_t b;
	int rc = -1;
	if (buf_init(&b, 512, KEY_BLOB_MAX) < 0)
		return -1;
	if (key_public_blob(k, &b) == 0) {
		const char *name = key_type_name(k);
		size_t nl = strlen(name);
		if (nl + 1 < outsz) {
			memcpy(out, name, nl);
			out[nl] = ' ';
			int e = b64_encode(buf_data(&b), buf_used(&b), out + nl + 1,
					   outsz - nl - 1, 1);
			if (e > 0) {
				size_t used = nl + 1 + (size_t)e;
				rc = 0;
				if (comment && *comment) {
					int w = snprintf(out + used, outsz - used, " %s", comment);
					if (w < 0 || (size_t)w >= outsz - used)
						rc = -1;
				}
			}
		}
	}
	buf_free(&b);
	return rc;
}

int key_from_public_line(const char *s, struct sshkey **out)
{
	static const char *WS = " \t\r\n";
	char type[32];
	uint8_t *blob;
	size_t tl, bl, cap = KEY_BLOB_MAX;
	struct sshkey *k = NULL;
	s += strspn(s, WS);
	tl = strcspn(s, WS);
	if (tl == 0 || tl >= sizeof(type))
		return -1;
	memcpy(type, s, tl);
	type[tl] = 0;
	s += tl;
	if (!*s || !strchr(WS, *s))
		return -1;
	s += strspn(s, WS);
	bl = strcspn(s, WS);
	if (bl == 0 || bl > (KEY_BLOB_MAX / 3 + 1) * 4)
		return -1;
	blob = malloc(cap);
	if (!blob)
		return -1;
	if (b64_decode(s, bl, blob, &cap) == 0 && key_from_blob(blob, cap, &k) == 0 &&
	    strcmp(key_type_name(k), type) != 0) {
		key_free(k);
		k = NULL;
	}
	free(blob);
	if (!k)
		return -1;
	*out = k;
	return 0;
}

/* ------------------------------------------------- private key: parsing */

/* Record why parsing failed; returns -1 for the caller to pass on. */
static int fail(const char **why, const char *msg)
{
	*why = msg;
	return -1;
}

/* Type-specific private fields (PROTOCOL.key), into k, which already holds
 * the public key from the file's public section. checked: prove that the
 * private half makes the public one (ed25519, ECDSA: a scalar
 * multiplication); 0 only for keys the listener proved so itself. */
static int read_private_fields(struct sshkey *k, rd_t *r, int checked, const char **why)
{
	const uint8_t *a, *b;
	size_t an, bn;
	if (k->type == KEY_ED25519) {
		uint8_t pk[32];
		if (rd_string(r, &a, &an) < 0 || an != 32 || rd_string(r, &b, &bn) < 0 ||
		    bn != 64)
			return fail(why, "bad ed25519 private key fields");
		if (memcmp(a, k->ed_pk, 32) != 0 || memcmp(b + 32, k->ed_pk, 32) != 0)
			return fail(why, "ed25519 public key mismatch");
		memcpy(k->ed_seed, b, 32);
		if (checked) {
			ed25519_pubkey(pk, k->ed_seed);
			if (memcmp(pk, k->ed_pk, 32) != 0)
				return fail(why, "ed25519 private key does not match public key");
		}
		k->has_private = 1;
		return 0;
	}
	if (HAVE_RSA && k->type == KEY_RSA) {
		static const uint8_t order[] = { RSA_N, RSA_E, RSA_D, RSA_IQMP, RSA_P, RSA_Q };
		struct rsa_fields f;
		if (read_rsa_fields(r, &f, order, sizeof(order)) < 0)
			return fail(why, "bad RSA private key fields");
		struct sshkey *priv = key_new(KEY_RSA);
		int rc = priv ? rsa_load_private(priv, &f) : -1;
		if (rc == 0 && !key_equal_public(priv, k))
			rc = -1;
		if (rc == 0) {
			/* swap the private rsa_key into k */
			rsa_key tmp = k->rsa;
			k->rsa = priv->rsa;
			priv->rsa = tmp;
			k->has_private = 1;
		}
		key_free(priv);
		return rc == 0 ? 0 : fail(why, "inconsistent RSA private key");
	}
	char curve[16];
	if (!HAVE_NIST)
		return fail(why, "key type left out of this build");
	if (rd_cstring(r, curve, sizeof(curve)) < 0 || rd_string(r, &a, &an) < 0 ||
	    rd_mpint_be(r, &b, &bn) < 0)
		return fail(why, "bad ECDSA private key fields");
	if (strcmp(curve, curve_of(k->type)->curve) != 0)
		return fail(why, "ECDSA curve mismatch");
	/* the point must repeat the public section's */
	const struct curve_info *c = curve_of(k->type);
	buf_t pb;
	int same = 0;
	buf_init(&pb, 256, 256);
	if (ecc_put_point(k, &pb) == 0 && buf_used(&pb) == 4 + an)
		same = memcmp(buf_data(&pb) + 4, a, an) == 0;
	buf_free(&pb);
	if (!same)
		return fail(why, "ECDSA public key mismatch");
	if (bn > (size_t)c->size || ecc_load_private(k, b, bn, checked) < 0)
		return fail(why, "ECDSA private key does not match public key");
	return 0;
}

/* The private section: check ints, one key, comment, padding 1, 2, 3... */
static int read_private_section(struct sshkey *k, const uint8_t *p, size_t n,
				char *comment, size_t csz, int checked, const char **why)
{
	rd_t r;
	uint32_t c1, c2;
	char name[32];
	enum key_type t;
	if (n % PRIV_BLOCK != 0)
		return fail(why, "private section is not a multiple of the block size");
	rd_init(&r, p, n);
	if (rd_u32(&r, &c1) < 0 || rd_u32(&r, &c2) < 0)
		return fail(why, "truncated private section");
	if (c1 != c2)
		return fail(why, "check ints differ (corrupt file)");
	if (rd_cstring(&r, name, sizeof(name)) < 0 || key_type_from_name(name, &t) < 0)
		return fail(why, "unknown private key type");
	if (t != k->type)
		return fail(why, "private key type differs from public key");
	if (read_private_fields(k, &r, checked, why) < 0)
		return -1;
	char cbuf[KEY_COMMENT_MAX];
	if (rd_cstring(&r, cbuf, sizeof(cbuf)) < 0)
		return fail(why, "bad comment");
	size_t pad = rd_left(&r);
	if (pad >= PRIV_BLOCK)
		return fail(why, "bad padding");
	for (size_t i = 0; i < pad; i++) {
		uint8_t v;
		if (rd_u8(&r, &v) < 0 || v != (uint8_t)(i + 1))
			return fail(why, "bad padding");
	}
	if (rd_end(&r) < 0)
		return fail(why, "trailing data in private section");
	if (comment && csz)
		str_copy(comment, csz, cbuf);
	return 0;
}

/* Why a public key blob that key_from_blob refused is no use: its type is
 * one this build has (the key itself is bad), one it was configured
 * without, or one wombat does not know (ssh-dss, say). */
static const char *blob_refused_why(const uint8_t *blob, size_t n)
{
	rd_t r;
	char name[32];
	enum key_type t;
	const char *left_out = NULL;
	rd_init(&r, blob, n);
	if (rd_cstring(&r, name, sizeof(name)) == 0) {
		if (key_type_from_name(name, &t) == 0)
			return "bad public key";
		left_out = key_type_left_out(name);
	}
	return left_out ? left_out :
	       "unsupported key type (wombat has ed25519, ecdsa and rsa keys)";
}

/* The decoded binary openssh-key-v1 container. */
/* The public blob and private section of an unencrypted openssh-key-v1
 * container holding one key. */
static int split_key_v1(const uint8_t *bin, size_t n, const uint8_t **pub, size_t *pn,
			const uint8_t **priv, size_t *privn, const char **why)
{
	rd_t r;
	char cipher[64], kdf[64];
	const uint8_t *kdfopts;
	size_t kn;
	uint32_t nkeys;
	rd_init(&r, bin, n);
	if (rd_skip(&r, sizeof(AUTH_MAGIC)) < 0 ||
	    memcmp(bin, AUTH_MAGIC, sizeof(AUTH_MAGIC)) != 0)
		return fail(why, "bad magic (not openssh-key-v1)");
	if (rd_cstring(&r, cipher, sizeof(cipher)) < 0 ||
	    rd_cstring(&r, kdf, sizeof(kdf)) < 0 || rd_string(&r, &kdfopts, &kn) < 0)
		return fail(why, "truncated header");
	if (strcmp(cipher, "none") != 0 || strcmp(kdf, "none") != 0)
		return fail(why, "encrypted keys are not supported; decrypt with ssh-keygen -p");
	if (kn != 0)
		return fail(why, "unexpected KDF options");
	if (rd_u32(&r, &nkeys) < 0 || nkeys != 1)
		return fail(why, "file must hold exactly one key");
	if (rd_string(&r, pub, pn) < 0 || rd_string(&r, priv, privn) < 0 ||
	    rd_end(&r) < 0)
		return fail(why, "truncated or oversized key file");
	return 0;
}

static int parse_key_v1(const uint8_t *bin, size_t n, struct sshkey **out,
			char *comment, size_t csz, int checked, const char **why)
{
	const uint8_t *pub, *priv;
	size_t pn, privn;
	struct sshkey *k = NULL;
	if (split_key_v1(bin, n, &pub, &pn, &priv, &privn, why) < 0)
		return -1;
	if (key_from_blob(pub, pn, &k) < 0)
		return fail(why, blob_refused_why(pub, pn));
	if (read_private_section(k, priv, privn, comment, csz, checked, why) < 0) {
		key_free(k);
		return -1;
	}
	*out = k;
	return 0;
}

/* A host key file must be private to its owner, and the owner root or the
 * user the daemon runs as: anyone else who can read it can impersonate the
 * server, anyone who can write it can substitute their own key. */
static int private_file_ok(const char *path, const struct stat *st, char *err,
			   size_t errsz)
{
	if ((st->st_mode & 077) != 0) {
		err_fmt(err, errsz, "%s: bad permissions: mode %04o, group or others may "
			"access it (it must be 0600 or stricter: chmod 600 %s)", path,
			(unsigned)(st->st_mode & 07777), path);
		return 0;
	}
	if (st->st_uid != 0 && st->st_uid != geteuid()) {
		err_fmt(err, errsz, "%s: bad ownership: owned by uid %u, not by root or "
			"by the daemon's user (uid %u)", path, (unsigned)st->st_uid,
			(unsigned)geteuid());
		return 0;
	}
	return 1;
}

/* Read the whole file; with check_private, refuse it unless private_file_ok
 * (checked on the descriptor that is read, not on the name). */
static int read_file(const char *path, int check_private, char **data, size_t *len,
		     char *err, size_t errsz)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0) {
		err_fmt(err, errsz, "%s: %m", path);
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > KEY_FILE_MAX) {
		err_fmt(err, errsz, "%s: not a regular file of sane size", path);
		close(fd);
		return -1;
	}
	if (check_private && !private_file_ok(path, &st, err, errsz)) {
		close(fd);
		return -1;
	}
	char *buf = malloc((size_t)st.st_size + 1);
	size_t got = 0;
	while (buf && got < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	if (!buf || got != (size_t)st.st_size) {
		err_fmt(err, errsz, "%s: read failed", path);
		free(buf);
		return -1;
	}
	buf[got] = 0;
	*data = buf;
	*len = got;
	return 0;
}

/* Strip the armour and whitespace; decode into a fresh buffer. */
static int dearmour(const char *text, uint8_t **bin, size_t *binlen, const char **why)
{
	const char *b = strstr(text, PEM_BEGIN);
	if (!b) {
		if (strstr(text, "-----BEGIN ") && strstr(text, "PRIVATE KEY-----"))
			*why = "not an OpenSSH-format private key (PEM/PKCS#8); "
			       "convert it with ssh-keygen -p -f FILE";
		else
			*why = "no OpenSSH private key found";
		return -1;
	}
	b += strlen(PEM_BEGIN);
	const char *e = strstr(b, PEM_END);
	if (!e)
		return fail(why, "missing END line");
	size_t n = (size_t)(e - b), m = 0;
	char *clean = malloc(n + 1);
	if (!clean)
		return fail(why, "out of memory");
	for (size_t i = 0; i < n; i++)
		if (!strchr(" \t\r\n", b[i]))
			clean[m++] = b[i];
	size_t cap = m / 4 * 3 + 3;
	*bin = malloc(cap);
	int rc = -1;
	if (*bin && b64_decode(clean, m, *bin, &cap) == 0) {
		*binlen = cap;
		rc = 0;
	} else {
		free(*bin);
		*bin = NULL;
		*why = "bad base64";
	}
	wipe(clean, n + 1);
	free(clean);
	return rc;
}

/* --------------------------------------- dropbear-format private keys */

/* dropbearkey(1) writes no armour: the key type as an SSH string, then
 * ed25519: string(seed || public key, 64 bytes);
 * rsa:     mpint e, n, d, p, q;
 * ecdsa:   string curve, string Q (uncompressed point), mpint d. */

/* Does the file start like one (a big-endian length below 64 KiB, where an
 * OpenSSH file starts with its armour)? */
static int looks_dropbear(const char *text, size_t len)
{
	return len >= 4 && text[0] == 0 && text[1] == 0;
}

static int dropbear_ed25519(struct sshkey *k, rd_t *r, const char **why)
{
	const uint8_t *sk;
	size_t n;
	if (rd_string(r, &sk, &n) < 0 || n != 64)
		return fail(why, "dropbear-format key: bad ed25519 key field (64 bytes expected)");
	memcpy(k->ed_seed, sk, 32);
	ed25519_pubkey(k->ed_pk, k->ed_seed);
	if (memcmp(k->ed_pk, sk + 32, 32) != 0)
		return fail(why, "dropbear-format key: ed25519 private key does not match its public key");
	k->has_private = 1;
	return 0;
}

static int dropbear_rsa(struct sshkey *k, rd_t *r, const char **why)
{
	static const uint8_t order[] = { RSA_E, RSA_N, RSA_D, RSA_P, RSA_Q };
	struct rsa_fields f;
	if (read_rsa_fields(r, &f, order, sizeof(order)) < 0)
		return fail(why, "dropbear-format key: bad RSA key fields");
	/* q^-1 mod p, which OpenSSH files carry, rsa_load_private computes */
	return rsa_load_private(k, &f) == 0 ? 0 :
	       fail(why, "dropbear-format key: inconsistent RSA private key");
}

static int dropbear_ecdsa(struct sshkey *k, rd_t *r, const char **why)
{
	const struct curve_info *c = curve_of(k->type);
	char curve[16];
	const uint8_t *q, *d;
	size_t qn, dn;
	if (rd_cstring(r, curve, sizeof(curve)) < 0 || rd_string(r, &q, &qn) < 0 ||
	    rd_mpint_be(r, &d, &dn) < 0)
		return fail(why, "dropbear-format key: bad ECDSA key fields");
	if (strcmp(curve, c->curve) != 0)
		return fail(why, "dropbear-format key: ECDSA curve differs from the key type");
	if (ecc_load_public(k, q, qn) < 0)
		return fail(why, "dropbear-format key: bad ECDSA public point");
	if (dn > (size_t)c->size || ecc_load_private(k, d, dn, 1) < 0)
		return fail(why, "dropbear-format key: ECDSA private key does not match its public key");
	return 0;
}

static int parse_dropbear(const uint8_t *bin, size_t n, struct sshkey **out,
			  const char **why)
{
	rd_t r;
	char name[32];
	enum key_type t;
	rd_init(&r, bin, n);
	if (rd_cstring(&r, name, sizeof(name)) < 0)
		return fail(why, "dropbear-format key: truncated or bad key type");
	if (key_type_from_name(name, &t) < 0)
		return fail(why, strcmp(name, "ssh-dss") == 0 ?
			    "dropbear-format key: ssh-dss keys are not supported" :
			    key_type_left_out(name) ? key_type_left_out(name) :
			    "dropbear-format key: unknown key type");
	struct sshkey *k = key_new(t);
	if (!k)
		return fail(why, "out of memory");
	int rc = t == KEY_ED25519 ? dropbear_ed25519(k, &r, why) :
		 HAVE_RSA && t == KEY_RSA ? dropbear_rsa(k, &r, why) :
		 HAVE_NIST && t != KEY_RSA ? dropbear_ecdsa(k, &r, why) :
		 fail(why, "dropbear-format key: key type left out of this build");
	if (rc == 0 && rd_end(&r) < 0)
		rc = fail(why, "dropbear-format key: trailing data after the key");
	if (rc < 0) {
		key_free(k);
		return -1;
	}
	*out = k;
	return 0;
}

int key_from_dropbear(const uint8_t *bin, size_t n, struct sshkey **out, const char **why)
{
	return parse_dropbear(bin, n, out, why);
}

/* Load and also return the comment; key_load_private drops it. */
static int load_private_comment(const char *path, int check_private, struct sshkey **out,
				char *comment, size_t csz, char *err, size_t errsz)
{
	char *text = NULL;
	uint8_t *bin = NULL;
	size_t tlen, blen = 0;
	const char *why = NULL;
	int rc = -1;
	if (read_file(path, check_private, &text, &tlen, err, errsz) < 0)
		return -1;
	if (looks_dropbear(text, tlen)) {
		rc = parse_dropbear((const uint8_t *)text, tlen, out, &why);
		if (rc == 0 && comment && csz)
			comment[0] = 0;
	} else if (dearmour(text, &bin, &blen, &why) == 0)
		rc = parse_key_v1(bin, blen, out, comment, csz, 1, &why);
	if (rc < 0)
		err_fmt(err, errsz, "%s: %s", path, why ? why : "invalid key file");
	if (bin) {
		wipe(bin, blen);
		free(bin);
	}
	wipe(text, tlen);
	free(text);
	return rc;
}

int key_load_private(const char *path, struct sshkey **out, char *err, size_t errsz)
{
	return load_private_comment(path, 0, out, NULL, 0, err, errsz);
}

int key_load_host(const char *path, struct sshkey **out, char *err, size_t errsz)
{
	return load_private_comment(path, 1, out, NULL, 0, err, errsz);
}

/* ------------------------------------------------- private key: writing */

/* The private key's fields after its type name: as in an OpenSSH file's
 * private section (PROTOCOL.key), or with dropbear as dropbearkey writes
 * them (see key_from_dropbear: no separate ed25519 public key, RSA's e
 * before n and no q^-1 mod p). */
static int put_private_fields(const struct sshkey *k, buf_t *b, int dropbear)
{
	if (key_numbers(k) < 0 || buf_put_cstring(b, key_type_name(k)) < 0)
		return -1;
	if (k->type == KEY_ED25519) {
		uint8_t sk[64];
		int rc = dropbear ? 0 : buf_put_string(b, k->ed_pk, 32);
		memcpy(sk, k->ed_seed, 32);
		memcpy(sk + 32, k->ed_pk, 32);
		if (rc == 0)
			rc = buf_put_string(b, sk, 64);
		wipe(sk, sizeof(sk));
		return rc;
	}
	if (HAVE_RSA && k->type == KEY_RSA) {
		const rsa_key *r = &k->rsa;
		void *const ssh[] = { r->N, r->e, r->d, r->qP, r->p, r->q };
		void *const db[] = { r->e, r->N, r->d, r->p, r->q };
		void *const *v = dropbear ? db : ssh;
		for (size_t i = 0; i < (dropbear ? 5 : 6); i++)
			if (put_mp(b, v[i]))
				return -1;
		return 0;
	}
	if (!HAVE_NIST || buf_put_cstring(b, curve_of(k->type)->curve) ||
	    ecc_put_point(k, b) || put_mp(b, k->ecc.k))
		return -1;
	return 0;
}

/* The binary openssh-key-v1 container for k. */
static int build_key_v1(const struct sshkey *k, const char *comment, buf_t *out)
{
	buf_t pub, priv;
	uint32_t check = rand_u32();
	int rc = -1;
	buf_init(&pub, 1024, KEY_BLOB_MAX);
	buf_init(&priv, 4096, 4 * KEY_BLOB_MAX);
	if (key_public_blob(k, &pub) < 0 || buf_put_u32(&priv, check) ||
	    buf_put_u32(&priv, check) || put_private_fields(k, &priv, 0) ||
	    buf_put_cstring(&priv, comment ? comment : ""))
		goto out;
	for (uint8_t i = 1; buf_used(&priv) % PRIV_BLOCK; i++)
		if (buf_put_u8(&priv, i) < 0)
			goto out;
	if (buf_put(out, AUTH_MAGIC, sizeof(AUTH_MAGIC)) || buf_put_cstring(out, "none") ||
	    buf_put_cstring(out, "none") || buf_put_string(out, NULL, 0) ||
	    buf_put_u32(out, 1) || buf_put_string(out, buf_data(&pub), buf_used(&pub)) ||
	    buf_put_string(out, buf_data(&priv), buf_used(&priv)))
		goto out;
	rc = 0;
out:
	buf_free(&pub);
	buf_free(&priv);
	return rc;
}

int key_private_blob(const struct sshkey *k, buf_t *out)
{
	if (k->v1)
		return buf_put(out, k->v1, k->v1_len);
	return k->has_private ? build_key_v1(k, "", out) : -1;
}

int key_from_private_blob(const uint8_t *bin, size_t n, struct sshkey **out)
{
	const char *why = NULL;
	const uint8_t *pub, *priv;
	size_t pn, privn;
	char name[32];
	enum key_type t;
	rd_t r;
	if (split_key_v1(bin, n, &pub, &pn, &priv, &privn, &why) < 0)
		return -1;
	rd_init(&r, pub, pn);
	if (rd_cstring(&r, name, sizeof(name)) < 0 || key_type_from_name(name, &t) < 0)
		return -1;
	if (t == KEY_ED25519)   /* the listener's own keys, proved when read */
		return parse_key_v1(bin, n, out, NULL, 0, 0, &why);
	/* RSA, ECDSA: parsed at their first signature (key_numbers) */
	struct sshkey *k = key_new(t);
	if (!k || !(k->v1 = malloc(n))) {
		free(k);
		return -1;
	}
	memcpy(k->v1, bin, n);
	k->v1_len = n;
	k->v1_pub = k->v1 + (pub - bin);
	k->v1_pub_len = pn;
	k->has_private = 1;
	*out = k;
	return 0;
}

/* A deferred key's numbers, parsed now from its blob (which is then
 * wiped). The key is const to its users: what it is does not change,
 * only the form it is held in. */
static int key_numbers(const struct sshkey *ck)
{
	struct sshkey *k = (struct sshkey *)ck, *full = NULL;
	const char *why = NULL;
	if (!k->v1)
		return 0;
	if (parse_key_v1(k->v1, k->v1_len, &full, NULL, 0, 0, &why) < 0)
		return -1;
	if (full->type != k->type) {
		key_free(full);
		return -1;
	}
	k->ecc_ready = full->ecc_ready;
	k->ecc = full->ecc;
	k->rsa_ready = full->rsa_ready;
	k->rsa = full->rsa;
	full->ecc_ready = full->rsa_ready = 0;  /* now k's */
	key_free(full);
	wipe(k->v1, k->v1_len);
	free(k->v1);
	k->v1 = NULL;
	k->v1_pub = NULL;
	return 0;
}

/* PEM-style armour: base64 in 70-column lines. */
static char *armour(const uint8_t *bin, size_t n)
{
	size_t enc = (n + 2) / 3 * 4;
	size_t cap = strlen(PEM_BEGIN) + strlen(PEM_END) + enc + enc / 70 + 8;
	char *b64 = malloc(enc + 1), *text = malloc(cap);
	size_t o = 0;
	if (!b64 || !text || b64_encode(bin, n, b64, enc + 1, 1) < 0) {
		free(b64);
		free(text);
		return NULL;
	}
	memcpy(text, PEM_BEGIN, sizeof PEM_BEGIN - 1);
	o = sizeof PEM_BEGIN - 1;
	text[o++] = '\n';
	for (size_t i = 0; i < enc; i += 70) {
		size_t l = enc - i < 70 ? enc - i : 70;
		memcpy(text + o, b64 + i, l);
		o += l;
		text[o++] = '\n';
	}
	memcpy(text + o, PEM_END, sizeof PEM_END - 1);
	o += sizeof PEM_END - 1;
	text[o++] = '\n';
	text[o] = 0;
	wipe(b64, enc + 1);
	free(b64);
	return text;
}

/* Write data to path via a temporary file in the same directory and an
 * atomic rename, with the given mode. */
static int write_atomic(const char *path, const char *data, size_t n, mode_t mode,
			char *err, size_t errsz)
{
	size_t pl = strlen(path);
	char *tmp = malloc(pl + 8);
	int fd = -1, ok = 0;
	if (!tmp)
		return -1;
	snprintf(tmp, pl + 8, "%s.XXXXXX", path);
	fd = rand_temp_file(tmp, 0);      /* created 0600 */
	if (fd < 0) {
		err_fmt(err, errsz, "%s: %m", tmp);
		free(tmp);
		return -1;
	}
	size_t done = 0;
	while (done < n) {
		ssize_t w = write(fd, data + done, n - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		done += (size_t)w;
	}
	if (done == n && fchmod(fd, mode) == 0 && fsync(fd) == 0)
		ok = 1;
	if (close(fd) < 0)
		ok = 0;
	if (ok && rename(tmp, path) < 0)
		ok = 0;
	if (!ok) {
		err_fmt(err, errsz, "%s: %m", path);
		unlink(tmp);
	}
	free(tmp);
	return ok ? 0 : -1;
}

int key_save_private(const struct sshkey *k, const char *path, const char *comment,
		     char *err, size_t errsz)
{
	buf_t bin;
	char *text = NULL, line[4 * KEY_BLOB_MAX / 3 + KEY_COMMENT_MAX + 64];
	int rc = -1;
	if (!k->has_private) {
		err_fmt(err, errsz, "no private key to save");
		return -1;
	}
	if (comment && (strlen(comment) >= KEY_COMMENT_MAX || strchr(comment, '\n'))) {
		err_fmt(err, errsz, "comment too long or has a newline");
		return -1;
	}
	buf_init(&bin, 8192, 8 * KEY_BLOB_MAX);
	if (build_key_v1(k, comment, &bin) < 0 ||
	    !(text = armour(buf_data(&bin), buf_used(&bin)))) {
		err_fmt(err, errsz, "cannot encode key");
		goto out;
	}
	if (write_atomic(path, text, strlen(text), 0600, err, errsz) < 0)
		goto out;
	if (key_public_line(k, comment, line, sizeof(line) - 1) < 0) {
		err_fmt(err, errsz, "cannot encode public key");
		goto out;
	}
	size_t ll = strlen(line);
	line[ll] = '\n';
	line[ll + 1] = 0;
	size_t pl = strlen(path);
	char *pubpath = malloc(pl + 5);
	if (!pubpath)
		goto out;
	snprintf(pubpath, pl + 5, "%s.pub", path);
	rc = write_atomic(pubpath, line, strlen(line), 0644, err, errsz);
	free(pubpath);
out:
	if (text) {
		wipe(text, strlen(text));
		free(text);
	}
	buf_free(&bin);
	return rc;
}

/* The dropbear format (see key_from_dropbear), mode 0600, no .pub file (as
 * dropbearkey). */
int key_save_dropbear(const struct sshkey *k, const char *path, char *err, size_t errsz)
{
	buf_t b;
	if (!k->has_private) {
		err_fmt(err, errsz, "no private key to save");
		return -1;
	}
	buf_init(&b, 1024, 4 * KEY_BLOB_MAX);
	int rc = put_private_fields(k, &b, 1);
	if (rc < 0)
		err_fmt(err, errsz, "%s: cannot encode key", path);
	else
		rc = write_atomic(path, (const char *)buf_data(&b), buf_used(&b), 0600,
				  err, errsz);
	buf_free(&b);   /* wipes */
	return rc;
}
