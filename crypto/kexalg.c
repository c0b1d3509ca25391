/* kexalg: the math of each key exchange, server and (for tests) client side.
 *  curve25519-sha256            RFC 8731 (X25519, RFC 7748)
 *  ecdh-sha2-nistp256/384/521   RFC 5656 (libtomcrypt ECC)
 *  diffie-hellman-group14/16    RFC 8268, groups from RFC 3526, g = 2
 *  sntrup761x25519-sha512       OpenSSH PROTOCOL, draft-josefsson-ntruprime-ssh:
 *                               sntrup761 (crypto/sntrup761.c) + X25519
 */
#include <string.h>
#include <tomcrypt.h>
#include <tommath.h>

#include "kexalg.h"
#include "sntrup761.h"
#include "x25519.h"

#define X25519_LEN 32
#define DH_X_BYTES 64          /* 512-bit private exponent */
#define STATE_CLASSIC 1100   /* what the classical kinds use of the state */
/* sntrup761x25519: client sends pk || X25519 value, server ct || X25519 value */
#define SNTRUP_C_LEN (SNTRUP761_PUBLICKEY_BYTES + X25519_LEN)
#define SNTRUP_S_LEN (SNTRUP761_CIPHERTEXT_BYTES + X25519_LEN)
#define SNTRUP_K_LEN 64      /* SHA-512 */

/* RFC 3526 section 3: 2048-bit MODP group (id 14). */
static const char group14_p[] =
	"FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74"
	"020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437"
	"4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
	"EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05"
	"98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB"
	"9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
	"E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718"
	"3995497CEA956AE515D2261898FA051015728E5A8AACAA68FFFFFFFFFFFFFFFF";

/* RFC 3526 section 5: 4096-bit MODP group (id 16). */
static const char group16_p[] =
	"FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74"
	"020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437"
	"4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
	"EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05"
	"98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB"
	"9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
	"E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718"
	"3995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33"
	"A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7"
	"ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864"
	"D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E2"
	"08E24FA074E5AB3143DB5BFCE0FD108E4B82D120A92108011A723C12A787E6D7"
	"88719A10BDBA5B2699C327186AF4E23C1A946834B6150BDA2583E9CA2AD44CE8"
	"DBBBC2DB04DE8EF92E8EFC141FBECAA6287C59474E6BC05D99B2964FA090C3A2"
	"233BA186515BE7ED1F612970CEE2D7AFB81BDD762170481CD0069127D5B05AA9"
	"93B4EA988D8FDDC186FFB7DC90A6C08F4DF435C934063199FFFFFFFFFFFFFFFF";

static const struct {
	const char *name;
	enum kex_kind kind;
	enum hash_alg hash;
} kex_names[] = {
	{ "curve25519-sha256", KEX_X25519, HASH_SHA256 },
	{ "curve25519-sha256@libssh.org", KEX_X25519, HASH_SHA256 },
	{ "ecdh-sha2-nistp256", KEX_ECDH_P256, HASH_SHA256 },
	{ "ecdh-sha2-nistp384", KEX_ECDH_P384, HASH_SHA384 },
	{ "ecdh-sha2-nistp521", KEX_ECDH_P521, HASH_SHA512 },
	{ "diffie-hellman-group14-sha256", KEX_DH14, HASH_SHA256 },
	{ "diffie-hellman-group16-sha512", KEX_DH16, HASH_SHA512 },
	{ "sntrup761x25519-sha512", KEX_SNTRUP761X25519, HASH_SHA512 },
	{ "sntrup761x25519-sha512@openssh.com", KEX_SNTRUP761X25519, HASH_SHA512 },
};

int kexalg_lookup(const char *name, enum kex_kind *kind, enum hash_alg *h)
{
	if (!name)
		return -1;
	for (size_t i = 0; i < sizeof kex_names / sizeof kex_names[0]; i++) {
		if (strcmp(kex_names[i].name, name) == 0) {
			if (kind)
				*kind = kex_names[i].kind;
			if (h)
				*h = kex_names[i].hash;
			return 0;
		}
	}
	return -1;
}

int kexalg_is_dh(enum kex_kind k)
{
	return k == KEX_DH14 || k == KEX_DH16;
}

int kexalg_k_is_string(enum kex_kind k)
{
	return k == KEX_SNTRUP761X25519;
}

/* ---- X25519 ---- */

static int x25519_shared(const uint8_t sk[X25519_LEN], const uint8_t *peer,
			 size_t peer_len, uint8_t *shared, size_t *shared_len)
{
	if (peer_len != X25519_LEN || *shared_len < X25519_LEN)
		return -1;
	if (x25519(shared, sk, peer) != 0) {
		wipe(shared, X25519_LEN);
		return -1;              /* low-order point: all-zero result */
	}
	*shared_len = X25519_LEN;   /* RFC 8731: the caller mpint-encodes it */
	return 0;
}

static int x25519_server(const uint8_t *client, size_t client_len,
			 uint8_t *server_pub, size_t *server_len,
			 uint8_t *shared, size_t *shared_len)
{
	uint8_t sk[X25519_LEN];
	int r = -1;

	if (client_len != X25519_LEN || *server_len < X25519_LEN)
		return -1;
	rand_bytes(sk, sizeof sk);
	if (x25519_shared(sk, client, client_len, shared, shared_len) == 0) {
		x25519_base(server_pub, sk);
		*server_len = X25519_LEN;
		r = 0;
	}
	wipe(sk, sizeof sk);
	return r;
}

/* ---- ECDH over the NIST curves ---- */

static const ltc_ecc_set_type *curve_of(enum kex_kind k)
{
	int size;
	switch (k) {
	case KEX_ECDH_P256: size = 32; break;
	case KEX_ECDH_P384: size = 48; break;
	case KEX_ECDH_P521: size = 66; break;
	default: return NULL;
	}
	for (int i = 0; ltc_ecc_sets[i].size != 0; i++)
		if (ltc_ecc_sets[i].size == size)
			return &ltc_ecc_sets[i];
	return NULL;
}

#define MP_OK(call) ((call) == MP_OKAY)

/* Is pt an uncompressed point 0x04||X||Y with X, Y < p on
 * y^2 = x^3 - 3x + b (mod p)? The NIST curves have cofactor 1, so a point
 * on the curve is in the prime-order group; libtomcrypt 1.18's import does
 * not check this itself. */
static int ecc_point_valid(const ltc_ecc_set_type *dp, const uint8_t *pt,
			   size_t len)
{
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

/* K = x-coordinate of priv * peer, fixed length, after validating peer. */
static int ecdh_shared(ecc_key *priv, const ltc_ecc_set_type *dp,
		       const uint8_t *peer, size_t peer_len,
		       uint8_t *shared, size_t *shared_len)
{
	ecc_key pub;
	unsigned long kl = (unsigned long)*shared_len;
	int err;

	if (!ecc_point_valid(dp, peer, peer_len))
		return -1;
	if (ecc_ansi_x963_import_ex(peer, (unsigned long)peer_len, &pub,
				    (ltc_ecc_set_type *)dp) != CRYPT_OK)
		return -1;
	err = ecc_shared_secret(priv, &pub, shared, &kl);
	ecc_free(&pub);
	if (err != CRYPT_OK || kl != (unsigned long)dp->size)
		return -1;
	*shared_len = kl;
	return 0;
}

static int ecdh_make_key(const ltc_ecc_set_type *dp, ecc_key *key,
			 uint8_t *pub, size_t *pub_len)
{
	unsigned long ol = (unsigned long)*pub_len;
	if (ecc_make_key_ex(NULL, crypto_prng_idx(), key, dp) != CRYPT_OK)
		return -1;
	if (ecc_ansi_x963_export(key, pub, &ol) != CRYPT_OK) {
		ecc_free(key);
		return -1;
	}
	*pub_len = ol;
	return 0;
}

static int ecdh_server(enum kex_kind k, const uint8_t *client, size_t client_len,
		       uint8_t *server_pub, size_t *server_len,
		       uint8_t *shared, size_t *shared_len)
{
	const ltc_ecc_set_type *dp = curve_of(k);
	ecc_key priv;
	int r;

	if (!dp || !ecc_point_valid(dp, client, client_len))
		return -1;
	if (ecdh_make_key(dp, &priv, server_pub, server_len) != 0)
		return -1;
	r = ecdh_shared(&priv, dp, client, client_len, shared, shared_len);
	ecc_free(&priv);
	return r;
}

/* ---- finite-field Diffie-Hellman ---- */

static const char *dh_prime(enum kex_kind k)
{
	return k == KEX_DH14 ? group14_p : k == KEX_DH16 ? group16_p : NULL;
}

/* out = magnitude of a, at most *len bytes */
static int mp_out(const mp_int *a, uint8_t *out, size_t *len)
{
	size_t need = mp_ubin_size(a), written = 0;
	if (need > *len || !MP_OK(mp_to_ubin(a, out, *len, &written)))
		return -1;
	*len = written;
	return 0;
}

/* Load p; read the peer value into v and require 1 < v < p-1. */
static int dh_load(enum kex_kind k, mp_int *p, mp_int *v, const uint8_t *peer,
		   size_t peer_len)
{
	mp_int pm1;
	int ok;
	const char *hex = dh_prime(k);

	if (!hex || peer_len == 0 || peer_len > strlen(hex) / 2 + 1)
		return -1;
	if (mp_init(&pm1) != MP_OKAY)
		return -1;
	ok = MP_OK(mp_read_radix(p, hex, 16)) &&
	     MP_OK(mp_from_ubin(v, peer, peer_len)) &&
	     MP_OK(mp_sub_d(p, 1, &pm1)) &&
	     mp_cmp_d(v, 1) == MP_GT && mp_cmp(v, &pm1) == MP_LT;
	mp_clear(&pm1);
	return ok ? 0 : -1;
}

/* K = peer^x mod p, after validating peer. x is the exponent's bytes. */
static int dh_shared(enum kex_kind k, const uint8_t x_bytes[DH_X_BYTES],
		     const uint8_t *peer, size_t peer_len,
		     uint8_t *shared, size_t *shared_len)
{
	mp_int p, v, x, K;
	int r = -1;

	if (mp_init_multi(&p, &v, &x, &K, NULL) != MP_OKAY)
		return -1;
	if (dh_load(k, &p, &v, peer, peer_len) == 0 &&
	    MP_OK(mp_from_ubin(&x, x_bytes, DH_X_BYTES)) &&
	    MP_OK(mp_exptmod(&v, &x, &p, &K)))
		r = mp_out(&K, shared, shared_len);
	mp_clear_multi(&p, &v, &x, &K, NULL);   /* libtommath zeroes digits */
	return r;
}

/* New private exponent x (bytes) and public value g^x mod p. */
static int dh_keypair(enum kex_kind k, uint8_t x_bytes[DH_X_BYTES],
		      uint8_t *pub, size_t *pub_len)
{
	mp_int p, g, x, f;
	int r = -1;
	const char *hex = dh_prime(k);

	if (!hex || mp_init_multi(&p, &g, &x, &f, NULL) != MP_OKAY)
		return -1;
	rand_bytes(x_bytes, DH_X_BYTES);
	x_bytes[0] |= 0x80;     /* exactly 512 bits: never tiny */
	mp_set(&g, 2);
	if (MP_OK(mp_read_radix(&p, hex, 16)) &&
	    MP_OK(mp_from_ubin(&x, x_bytes, DH_X_BYTES)) &&
	    MP_OK(mp_exptmod(&g, &x, &p, &f)))
		r = mp_out(&f, pub, pub_len);
	mp_clear_multi(&p, &g, &x, &f, NULL);
	return r;
}

static int dh_server(enum kex_kind k, const uint8_t *client, size_t client_len,
		     uint8_t *server_pub, size_t *server_len,
		     uint8_t *shared, size_t *shared_len)
{
	uint8_t x[DH_X_BYTES];
	int r = -1;

	/* Validate e before spending an exponentiation on f. */
	mp_int p, e;
	if (mp_init_multi(&p, &e, NULL) != MP_OKAY)
		return -1;
	int valid = dh_load(k, &p, &e, client, client_len) == 0;
	mp_clear_multi(&p, &e, NULL);
	if (!valid)
		return -1;

	if (dh_keypair(k, x, server_pub, server_len) == 0)
		r = dh_shared(k, x, client, client_len, shared, shared_len);
	wipe(x, sizeof x);
	return r;
}

/* ---- sntrup761x25519-sha512 ---- */

/* K = SHA-512(KEM shared secret || X25519 shared secret), sent as a string. */
static void hybrid_k(const uint8_t kem_ss[SNTRUP761_SHARED_BYTES],
		     const uint8_t x_ss[X25519_LEN], uint8_t k[SNTRUP_K_LEN])
{
	hash_ctx c;
	hash_init(&c, HASH_SHA512);
	hash_update(&c, kem_ss, SNTRUP761_SHARED_BYTES);
	hash_update(&c, x_ss, X25519_LEN);
	hash_final(&c, k);
}

static int sntrup_server(const uint8_t *client, size_t client_len,
			 uint8_t *server_pub, size_t *server_len,
			 uint8_t *shared, size_t *shared_len)
{
	uint8_t sk[X25519_LEN], x_ss[X25519_LEN], kem_ss[SNTRUP761_SHARED_BYTES];
	size_t xl = sizeof x_ss;
	int r = -1;

	if (client_len != SNTRUP_C_LEN || *server_len < SNTRUP_S_LEN ||
	    *shared_len < SNTRUP_K_LEN)
		return -1;
	rand_bytes(sk, sizeof sk);
	if (x25519_shared(sk, client + SNTRUP761_PUBLICKEY_BYTES, X25519_LEN,
			  x_ss, &xl) == 0 &&
	    sntrup761_enc(server_pub, kem_ss, client) == 0) {
		x25519_base(server_pub + SNTRUP761_CIPHERTEXT_BYTES, sk);
		*server_len = SNTRUP_S_LEN;
		hybrid_k(kem_ss, x_ss, shared);
		*shared_len = SNTRUP_K_LEN;
		r = 0;
	}
	wipe(sk, sizeof sk);
	wipe(x_ss, sizeof x_ss);
	wipe(kem_ss, sizeof kem_ss);
	return r;
}

/* Client state after the kind byte: the sntrup761 secret key, then the
 * X25519 scalar. */
_Static_assert(1 + SNTRUP761_SECRETKEY_BYTES + X25519_LEN <= KEXALG_STATE_MAX,
	       "sntrup761 client state does not fit");

static int sntrup_client_start(uint8_t *priv, uint8_t *pub, size_t *pub_len)
{
	if (*pub_len < SNTRUP_C_LEN)
		return -1;
	sntrup761_keypair(pub, priv);
	rand_bytes(priv + SNTRUP761_SECRETKEY_BYTES, X25519_LEN);
	x25519_base(pub + SNTRUP761_PUBLICKEY_BYTES, priv + SNTRUP761_SECRETKEY_BYTES);
	*pub_len = SNTRUP_C_LEN;
	return 0;
}

static int sntrup_client_finish(const uint8_t *priv, const uint8_t *server,
				size_t server_len, uint8_t *shared, size_t *shared_len)
{
	uint8_t x_ss[X25519_LEN], kem_ss[SNTRUP761_SHARED_BYTES];
	size_t xl = sizeof x_ss;
	int r = -1;

	if (server_len != SNTRUP_S_LEN || *shared_len < SNTRUP_K_LEN)
		return -1;
	if (x25519_shared(priv + SNTRUP761_SECRETKEY_BYTES,
			  server + SNTRUP761_CIPHERTEXT_BYTES, X25519_LEN, x_ss, &xl) == 0) {
		sntrup761_dec(kem_ss, server, priv);
		hybrid_k(kem_ss, x_ss, shared);
		*shared_len = SNTRUP_K_LEN;
		r = 0;
	}
	wipe(x_ss, sizeof x_ss);
	wipe(kem_ss, sizeof kem_ss);
	return r;
}

/* ---- public entry points ---- */

int kexalg_server(enum kex_kind k, const uint8_t *client_pub, size_t client_len,
		  uint8_t *server_pub, size_t *server_len,
		  uint8_t *shared, size_t *shared_len)
{
	if (!client_pub || !server_pub || !server_len || !shared || !shared_len)
		return -1;
	switch (k) {
	case KEX_X25519:
		return x25519_server(client_pub, client_len, server_pub,
				     server_len, shared, shared_len);
	case KEX_ECDH_P256:
	case KEX_ECDH_P384:
	case KEX_ECDH_P521:
		return ecdh_server(k, client_pub, client_len, server_pub,
				   server_len, shared, shared_len);
	case KEX_DH14:
	case KEX_DH16:
		return dh_server(k, client_pub, client_len, server_pub,
				 server_len, shared, shared_len);
	case KEX_SNTRUP761X25519:
		return sntrup_server(client_pub, client_len, server_pub,
				     server_len, shared, shared_len);
	}
	return -1;
}

/* Client state: [kind byte][X25519 scalar | ecc_key struct | DH exponent].
 * The ecc_key's big numbers live on the heap until client_finish frees them. */
_Static_assert(1 + sizeof(ecc_key) <= STATE_CLASSIC, "ecc_key does not fit the state");

/* How much of the state a kind uses (and finish wipes). */
static size_t state_size(enum kex_kind k)
{
	return k == KEX_SNTRUP761X25519 ? KEXALG_STATE_MAX : STATE_CLASSIC;
}

int kexalg_client_start(enum kex_kind k, uint8_t *state, uint8_t *pub,
			size_t *pub_len)
{
	uint8_t *priv = state + 1;
	state[0] = (uint8_t)k;
	switch (k) {
	case KEX_X25519:
		if (*pub_len < X25519_LEN)
			return -1;
		rand_bytes(priv, X25519_LEN);
		x25519_base(pub, priv);
		*pub_len = X25519_LEN;
		return 0;
	case KEX_ECDH_P256:
	case KEX_ECDH_P384:
	case KEX_ECDH_P521: {
		ecc_key key;
		if (ecdh_make_key(curve_of(k), &key, pub, pub_len) != 0)
			return -1;
		memcpy(priv, &key, sizeof key);
		return 0;
	}
	case KEX_DH14:
	case KEX_DH16:
		return dh_keypair(k, priv, pub, pub_len);
	case KEX_SNTRUP761X25519:
		return sntrup_client_start(priv, pub, pub_len);
	}
	return -1;
}

int kexalg_client_finish(enum kex_kind k, uint8_t *state, const uint8_t *server_pub,
			 size_t server_len, uint8_t *shared, size_t *shared_len)
{
	uint8_t *priv = state + 1;
	int r = -1;

	if (state[0] != (uint8_t)k)
		return -1;
	switch (k) {
	case KEX_X25519:
		r = x25519_shared(priv, server_pub, server_len, shared, shared_len);
		break;
	case KEX_ECDH_P256:
	case KEX_ECDH_P384:
	case KEX_ECDH_P521: {
		ecc_key key;
		memcpy(&key, priv, sizeof key);
		r = ecdh_shared(&key, curve_of(k), server_pub, server_len,
				shared, shared_len);
		ecc_free(&key);
		break;
	}
	case KEX_DH14:
	case KEX_DH16:
		r = dh_shared(k, priv, server_pub, server_len, shared, shared_len);
		break;
	case KEX_SNTRUP761X25519:
		r = sntrup_client_finish(priv, server_pub, server_len, shared, shared_len);
		break;
	}
	wipe(state, state_size(k));
	return r;
}
