/* kexalg: the math of each key exchange, server and (for tests) client side.
 *  curve25519-sha256            RFC 8731 (X25519, RFC 7748)
 *  ecdh-sha2-nistp256/384/521   RFC 5656 (libtomcrypt ECC)
 *  diffie-hellman-group14/16/18 RFC 8268, groups from RFC 3526, g = 2
 *  diffie-hellman-group-exchange-sha256  RFC 4419 (the group is chosen in
 *                               dhgroup.c; the math here takes it as given)
 *  mlkem768x25519-sha256        IETF draft "mlkem-hybrid-kex" (ML-KEM-768,
 *                               FIPS 203, written in mlkem768.c) + X25519
 *  sntrup761x25519-sha512       OpenSSH PROTOCOL, draft-josefsson-ntruprime-ssh:
 *                               sntrup761 (crypto/sntrup761.c) + X25519
 */
#include <string.h>
#include "ltc_dyn.h"

#include "build_opts.h"
#include "kexalg.h"
#ifndef WOMBAT_NO_PQ
#include "mlkem768.h"
#include "sntrup761.h"
#endif
#include "x25519.h"
#include "modp.h"

#define X25519_LEN 32
#define DH_X_BYTES 64          /* 512-bit private exponent */
#define STATE_MAX KEXALG_STATE_MAX

/* modp.h: defined here for dhgroup.c's built-in groups too */
const char rfc3526_modp_2048[] = RFC3526_MODP_2048;
const char rfc3526_modp_4096[] = RFC3526_MODP_4096;
const char rfc3526_modp_6144[] = RFC3526_MODP_6144;
const char rfc3526_modp_8192[] = RFC3526_MODP_8192;

static const struct {
	const char *name;
	enum kex_kind kind;
	enum hash_alg hash;
} kex_names[] = {
	{ "curve25519-sha256", KEX_X25519, HASH_SHA256 },
	{ "curve25519-sha256@libssh.org", KEX_X25519, HASH_SHA256 },
#if HAVE_NIST
	{ "ecdh-sha2-nistp256", KEX_ECDH_P256, HASH_SHA256 },
	{ "ecdh-sha2-nistp384", KEX_ECDH_P384, HASH_SHA384 },
	{ "ecdh-sha2-nistp521", KEX_ECDH_P521, HASH_SHA512 },
#endif
#if HAVE_DH
	{ "diffie-hellman-group14-sha256", KEX_DH14, HASH_SHA256 },
	{ "diffie-hellman-group16-sha512", KEX_DH16, HASH_SHA512 },
	{ "diffie-hellman-group18-sha512", KEX_DH18, HASH_SHA512 },
	{ "diffie-hellman-group-exchange-sha256", KEX_DH_GEX, HASH_SHA256 },
#endif
#ifndef WOMBAT_NO_PQ
	{ "mlkem768x25519-sha256", KEX_MLKEM768X25519, HASH_SHA256 },
	{ "sntrup761x25519-sha512", KEX_SNTRUP761X25519, HASH_SHA512 },
	{ "sntrup761x25519-sha512@openssh.com", KEX_SNTRUP761X25519, HASH_SHA512 },
#endif
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
	return k == KEX_DH14 || k == KEX_DH16 || k == KEX_DH18 || k == KEX_DH_GEX;
}

int kexalg_k_is_string(enum kex_kind k)
{
	return k == KEX_MLKEM768X25519 || k == KEX_SNTRUP761X25519;
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
	int idx = nist_curve_idx(size);
	return idx < 0 ? NULL : &ltc_ecc_sets[idx];
}

#define MP_OK(call) ((call) == MP_OKAY)

/* K = x-coordinate of priv * peer, fixed length, after validating peer. */
static int ecdh_shared(ecc_key *priv, const ltc_ecc_set_type *dp,
		       const uint8_t *peer, size_t peer_len,
		       uint8_t *shared, size_t *shared_len)
{
	ecc_key pub;
	unsigned long kl = (unsigned long)*shared_len;
	int err;

	if (!nist_point_valid((int)(dp - ltc_ecc_sets), peer, peer_len))
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

	if (!dp || !nist_point_valid((int)(dp - ltc_ecc_sets), client, client_len))
		return -1;
	if (ecdh_make_key(dp, &priv, server_pub, server_len) != 0)
		return -1;
	r = ecdh_shared(&priv, dp, client, client_len, shared, shared_len);
	ecc_free(&priv);
	return r;
}

/* ---- finite-field Diffie-Hellman ---- */

/* The fixed group of a DH kind as a struct dh_group; -1 for other kinds. */
static int fixed_group(enum kex_kind k, struct dh_group *grp)
{
	/* big-endian bytes, top byte 0xFF (crypto/modp.h): 8 bits a byte */
	const char *p = k == KEX_DH14 ? rfc3526_modp_2048 : k == KEX_DH16 ?
			rfc3526_modp_4096 : k == KEX_DH18 ? rfc3526_modp_8192 : NULL;
	size_t len = k == KEX_DH14 ? sizeof rfc3526_modp_2048 - 1 : k == KEX_DH16 ?
		     sizeof rfc3526_modp_4096 - 1 : sizeof rfc3526_modp_8192 - 1;

	if (!p || len > sizeof grp->p)
		return -1;
	memcpy(grp->p, p, len);
	grp->p_len = len;
	grp->bits = (unsigned)(8 * len);
	grp->g = 2;
	return 0;
}

/* Is grp usable: p odd, no leading zero byte, `bits` right and within
 * 2048..8192, g >= 2 (and so, p being that large, g < p-1)? */
static int group_sane(const struct dh_group *grp)
{
	if (grp->p_len == 0 || grp->p_len > DH_GROUP_MAX_BYTES || grp->p[0] == 0 ||
	    !(grp->p[grp->p_len - 1] & 1) || grp->g < 2)
		return 0;
	unsigned bits = (unsigned)(8 * (grp->p_len - 1));
	for (unsigned top = grp->p[0]; top; top >>= 1)
		bits++;
	return bits == grp->bits && bits >= DH_GROUP_MIN_BITS && bits <= DH_GROUP_MAX_BITS;
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
static int dh_load(const struct dh_group *grp, mp_int *p, mp_int *v,
		   const uint8_t *peer, size_t peer_len)
{
	mp_int pm1;
	int ok;

	if (peer_len == 0 || peer_len > grp->p_len + 1)   /* a leading zero byte is fine */
		return -1;
	if (mp_init(&pm1) != MP_OKAY)
		return -1;
	ok = MP_OK(mp_from_ubin(p, grp->p, grp->p_len)) &&
	     MP_OK(mp_from_ubin(v, peer, peer_len)) &&
	     MP_OK(mp_sub_d(p, 1, &pm1)) &&
	     mp_cmp_d(v, 1) == MP_GT && mp_cmp(v, &pm1) == MP_LT;
	mp_clear(&pm1);
	return ok ? 0 : -1;
}

/* K = peer^x mod p, after validating peer. x is the exponent's bytes. */
static int dh_shared(const struct dh_group *grp, const uint8_t x_bytes[DH_X_BYTES],
		     const uint8_t *peer, size_t peer_len,
		     uint8_t *shared, size_t *shared_len)
{
	mp_int p, v, x, K;
	int r = -1;

	if (mp_init_multi(&p, &v, &x, &K, NULL) != MP_OKAY)
		return -1;
	if (dh_load(grp, &p, &v, peer, peer_len) == 0 &&
	    MP_OK(mp_from_ubin(&x, x_bytes, DH_X_BYTES)) &&
	    MP_OK(mp_exptmod(&v, &x, &p, &K)))
		r = mp_out(&K, shared, shared_len);
	mp_clear_multi(&p, &v, &x, &K, NULL);   /* libtommath zeroes digits */
	return r;
}

/* New private exponent x (bytes) and public value g^x mod p. */
static int dh_keypair(const struct dh_group *grp, uint8_t x_bytes[DH_X_BYTES],
		      uint8_t *pub, size_t *pub_len)
{
	mp_int p, g, x, f;
	int r = -1;

	if (mp_init_multi(&p, &g, &x, &f, NULL) != MP_OKAY)
		return -1;
	rand_bytes(x_bytes, DH_X_BYTES);
	x_bytes[0] |= 0x80;     /* exactly 512 bits: never tiny */
	mp_set_u32(&g, grp->g);
	if (MP_OK(mp_from_ubin(&p, grp->p, grp->p_len)) &&
	    MP_OK(mp_from_ubin(&x, x_bytes, DH_X_BYTES)) &&
	    MP_OK(mp_exptmod(&g, &x, &p, &f)))
		r = mp_out(&f, pub, pub_len);
	mp_clear_multi(&p, &g, &x, &f, NULL);
	return r;
}

static int dh_server(const struct dh_group *grp, const uint8_t *client, size_t client_len,
		     uint8_t *server_pub, size_t *server_len,
		     uint8_t *shared, size_t *shared_len)
{
	uint8_t x[DH_X_BYTES];
	int r = -1;

	/* Validate e before spending an exponentiation on f. */
	mp_int p, e;
	if (mp_init_multi(&p, &e, NULL) != MP_OKAY)
		return -1;
	int valid = dh_load(grp, &p, &e, client, client_len) == 0;
	mp_clear_multi(&p, &e, NULL);
	if (!valid)
		return -1;

	if (dh_keypair(grp, x, server_pub, server_len) == 0)
		r = dh_shared(grp, x, client, client_len, shared, shared_len);
	wipe(x, sizeof x);
	return r;
}

#ifndef WOMBAT_NO_PQ
/* ---- post-quantum hybrids: a KEM + X25519 ----
 *
 * One shape for every hybrid (draft "mlkem-hybrid-kex" s2; OpenSSH's
 * sntrup761x25519 has the same one):
 *   C_INIT  = KEM public key || X25519 public value        (client)
 *   S_REPLY = KEM ciphertext || X25519 public value        (server)
 *   K       = HASH(K_PQ || K_CL), K_CL the raw 32-byte X25519 result,
 *             HASH the method's exchange-hash function; K goes into the
 *             exchange hash and the key derivation as a string.
 * A new hybrid is one row of hybrid_kems. */
struct hybrid_kem {
	enum kex_kind kind;
	enum hash_alg hash;
	size_t pk_len, sk_len, ct_len, ss_len;
	/* -1 if pk is invalid (length, FIPS 203 modulus check ...) */
	int (*encaps)(uint8_t *ct, uint8_t *ss, const uint8_t *pk, size_t pk_len);
	/* The client's halves (key generation, decapsulation) are not in the
	 * table: hybrid_keygen() and hybrid_decaps() call them, so that the
	 * server, which never calls kexalg_client_*, leaves them out at link
	 * time (--gc-sections; 7 kB). */
};

/* sntrup761 in the table's shape: the lengths checked here, the KEM
 * itself takes fixed-size arrays. */
static int sntrup_encaps(uint8_t *ct, uint8_t *ss, const uint8_t *pk, size_t pk_len)
{
	if (pk_len != SNTRUP761_PUBLICKEY_BYTES)
		return -1;
	return sntrup761_enc(ct, ss, pk) == 0 ? 0 : -1;
}

static int sntrup_decaps(uint8_t *ss, const uint8_t *ct, size_t ct_len, const uint8_t *sk)
{
	if (ct_len != SNTRUP761_CIPHERTEXT_BYTES)
		return -1;
	sntrup761_dec(ss, ct, sk);     /* implicit rejection: always a secret */
	return 0;
}

static const struct hybrid_kem hybrid_kems[] = {
	{ KEX_MLKEM768X25519, HASH_SHA256, MLKEM768_EK_LEN, MLKEM768_DK_LEN,
	  MLKEM768_CT_LEN, MLKEM768_SS_LEN, mlkem768_encaps },
	{ KEX_SNTRUP761X25519, HASH_SHA512, SNTRUP761_PUBLICKEY_BYTES,
	  SNTRUP761_SECRETKEY_BYTES, SNTRUP761_CIPHERTEXT_BYTES, SNTRUP761_SHARED_BYTES,
	  sntrup_encaps },
};

static void hybrid_keygen(const struct hybrid_kem *h, uint8_t *pk, uint8_t *sk)
{
	if (h->kind == KEX_MLKEM768X25519)
		mlkem768_keygen(pk, sk);
	else
		sntrup761_keypair(pk, sk);
}

static int hybrid_decaps(const struct hybrid_kem *h, uint8_t *ss, const uint8_t *ct,
			 const uint8_t *sk)
{
	if (h->kind == KEX_MLKEM768X25519)
		return mlkem768_decaps(ss, ct, h->ct_len, sk);
	return sntrup_decaps(ss, ct, h->ct_len, sk);
}

#define HYBRID_SS_MAX 64        /* K_PQ || K_CL, both 32 bytes */

static const struct hybrid_kem *hybrid_of(enum kex_kind k)
{
	for (size_t i = 0; i < sizeof hybrid_kems / sizeof hybrid_kems[0]; i++)
		if (hybrid_kems[i].kind == k)
			return &hybrid_kems[i];
	return NULL;
}

/* K = HASH(secrets), the secrets wiped. */
static int hybrid_combine(const struct hybrid_kem *h, uint8_t *secrets,
			  uint8_t *shared, size_t *shared_len)
{
	size_t kl = hash_len(h->hash);
	int r = -1;
	if (*shared_len >= kl) {
		hash_mem(h->hash, secrets, h->ss_len + X25519_LEN, shared);
		*shared_len = kl;
		r = 0;
	}
	wipe(secrets, HYBRID_SS_MAX);
	return r;
}

static int hybrid_server(const struct hybrid_kem *h, const uint8_t *client,
			 size_t client_len, uint8_t *server_pub, size_t *server_len,
			 uint8_t *shared, size_t *shared_len)
{
	uint8_t secrets[HYBRID_SS_MAX], sk[X25519_LEN];
	const uint8_t *client_x = client + h->pk_len;
	int ok;

	if (client_len != h->pk_len + X25519_LEN ||
	    *server_len < h->ct_len + X25519_LEN ||
	    h->ss_len + X25519_LEN > sizeof secrets)
		return -1;
	if (h->encaps(server_pub, secrets, client, h->pk_len) != 0)
		return -1;
	rand_bytes(sk, sizeof sk);
	ok = x25519(secrets + h->ss_len, sk, client_x) == 0;  /* not all-zero */
	x25519_base(server_pub + h->ct_len, sk);
	wipe(sk, sizeof sk);
	if (!ok) {
		wipe(secrets, sizeof secrets);
		return -1;
	}
	*server_len = h->ct_len + X25519_LEN;
	return hybrid_combine(h, secrets, shared, shared_len);
}

/* Client state: [kind][KEM secret key][X25519 scalar] */
static int hybrid_client_start(const struct hybrid_kem *h, uint8_t *priv,
			       uint8_t *pub, size_t *pub_len)
{
	if (*pub_len < h->pk_len + X25519_LEN ||
	    1 + h->sk_len + X25519_LEN > STATE_MAX)
		return -1;
	hybrid_keygen(h, pub, priv);
	rand_bytes(priv + h->sk_len, X25519_LEN);
	x25519_base(pub + h->pk_len, priv + h->sk_len);
	*pub_len = h->pk_len + X25519_LEN;
	return 0;
}

static int hybrid_client_finish(const struct hybrid_kem *h, const uint8_t *priv,
				const uint8_t *server, size_t server_len,
				uint8_t *shared, size_t *shared_len)
{
	uint8_t secrets[HYBRID_SS_MAX];

	if (server_len != h->ct_len + X25519_LEN)
		return -1;
	if (hybrid_decaps(h, secrets, server, priv) != 0)
		return -1;
	if (x25519(secrets + h->ss_len, priv + h->sk_len, server + h->ct_len) != 0) {
		wipe(secrets, sizeof secrets);
		return -1;
	}
	return hybrid_combine(h, secrets, shared, shared_len);
}

#else /* WOMBAT_NO_PQ: built with --disable-pq, no hybrid is in kex_names,
       * so these are never reached through a negotiated name */
struct hybrid_kem;

static const struct hybrid_kem *hybrid_of(enum kex_kind k)
{
	(void)k;
	return NULL;
}

static int hybrid_server(const struct hybrid_kem *h, const uint8_t *client,
			 size_t client_len, uint8_t *server_pub, size_t *server_len,
			 uint8_t *shared, size_t *shared_len)
{
	(void)h; (void)client; (void)client_len; (void)server_pub;
	(void)server_len; (void)shared; (void)shared_len;
	return -1;
}

static int hybrid_client_start(const struct hybrid_kem *h, uint8_t *priv,
			       uint8_t *pub, size_t *pub_len)
{
	(void)h; (void)priv; (void)pub; (void)pub_len;
	return -1;
}

static int hybrid_client_finish(const struct hybrid_kem *h, const uint8_t *priv,
				const uint8_t *server, size_t server_len,
				uint8_t *shared, size_t *shared_len)
{
	(void)h; (void)priv; (void)server; (void)server_len;
	(void)shared; (void)shared_len;
	return -1;
}
#endif /* WOMBAT_NO_PQ */

static int fixed_dh_server(enum kex_kind k, const uint8_t *client, size_t client_len,
			   uint8_t *server_pub, size_t *server_len,
			   uint8_t *shared, size_t *shared_len)
{
	struct dh_group grp;
	if (fixed_group(k, &grp) != 0)
		return -1;
	return dh_server(&grp, client, client_len, server_pub, server_len, shared,
			 shared_len);
}

int kexalg_group_server(const struct dh_group *grp, const uint8_t *client_pub,
			size_t client_len, uint8_t *server_pub, size_t *server_len,
			uint8_t *shared, size_t *shared_len)
{
	if (!HAVE_DH || !grp || !group_sane(grp) || !client_pub || !server_pub || !server_len ||
	    !shared || !shared_len)
		return -1;
	return dh_server(grp, client_pub, client_len, server_pub, server_len, shared,
			 shared_len);
}

int kexalg_group_client_start(const struct dh_group *grp, uint8_t state[KEXALG_STATE_MAX],
			      uint8_t *pub, size_t *pub_len)
{
	if (!HAVE_DH || !group_sane(grp))
		return -1;
	state[0] = (uint8_t)KEX_DH_GEX;
	return dh_keypair(grp, state + 1, pub, pub_len);
}

int kexalg_group_client_finish(const struct dh_group *grp, uint8_t state[KEXALG_STATE_MAX],
			       const uint8_t *server_pub, size_t server_len,
			       uint8_t *shared, size_t *shared_len)
{
	int r = -1;
	if (HAVE_DH && state[0] == (uint8_t)KEX_DH_GEX && group_sane(grp))
		r = dh_shared(grp, state + 1, server_pub, server_len, shared, shared_len);
	wipe(state, STATE_MAX);
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
		if (!HAVE_NIST)
			return -1;
		return ecdh_server(k, client_pub, client_len, server_pub,
				   server_len, shared, shared_len);
	case KEX_DH14:
	case KEX_DH16:
	case KEX_DH18:
		if (!HAVE_DH)
			return -1;
		return fixed_dh_server(k, client_pub, client_len, server_pub,
				       server_len, shared, shared_len);
	case KEX_DH_GEX:
		return -1;      /* needs its group: kexalg_group_server */
	case KEX_MLKEM768X25519:
	case KEX_SNTRUP761X25519:
		return hybrid_server(hybrid_of(k), client_pub, client_len, server_pub,
				     server_len, shared, shared_len);
	}
	return -1;
}

/* Client state: [kind byte][X25519 scalar | ecc_key struct | DH exponent |
 * hybrid KEM secret key and X25519 scalar].
 * The ecc_key's big numbers live on the heap until client_finish frees them. */
_Static_assert(1 + sizeof(ecc_key) <= STATE_MAX, "ecc_key does not fit the state");

int kexalg_client_start(enum kex_kind k, uint8_t state[KEXALG_STATE_MAX], uint8_t *pub,
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
		if (!HAVE_NIST || ecdh_make_key(curve_of(k), &key, pub, pub_len) != 0)
			return -1;
		memcpy(priv, &key, sizeof key);
		return 0;
	}
	case KEX_DH14:
	case KEX_DH16:
	case KEX_DH18: {
		struct dh_group grp;
		if (!HAVE_DH || fixed_group(k, &grp) != 0)
			return -1;
		return dh_keypair(&grp, priv, pub, pub_len);
	}
	case KEX_DH_GEX:
		return -1;
	case KEX_MLKEM768X25519:
	case KEX_SNTRUP761X25519:
		return hybrid_client_start(hybrid_of(k), priv, pub, pub_len);
	}
	return -1;
}

int kexalg_client_finish(enum kex_kind k, uint8_t state[KEXALG_STATE_MAX],
			 const uint8_t *server_pub, size_t server_len,
			 uint8_t *shared, size_t *shared_len)
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
		if (!HAVE_NIST)
			break;
		memcpy(&key, priv, sizeof key);
		r = ecdh_shared(&key, curve_of(k), server_pub, server_len,
				shared, shared_len);
		ecc_free(&key);
		break;
	}
	case KEX_DH14:
	case KEX_DH16:
	case KEX_DH18: {
		struct dh_group grp;
		if (HAVE_DH && fixed_group(k, &grp) == 0)
			r = dh_shared(&grp, priv, server_pub, server_len, shared, shared_len);
		break;
	}
	case KEX_DH_GEX:
		break;
	case KEX_MLKEM768X25519:
	case KEX_SNTRUP761X25519:
		r = hybrid_client_finish(hybrid_of(k), priv, server_pub, server_len,
					 shared, shared_len);
		break;
	}
	wipe(state, STATE_MAX);
	return r;
}
