/* cipher: per-direction SSH packet protection, in place.
 *
 * Modes:
 *  - "none"                              no encryption (optionally a MAC)
 *  - aes128/192/256-ctr + HMAC          RFC 4344, RFC 6668 (encrypt-and-MAC),
 *                                        hmac-sha1 from RFC 4253
 *    ... with hmac-*-etm@openssh.com     OpenSSH PROTOCOL 1.5 (encrypt-then-MAC)
 *  - aes{128,256}-gcm@openssh.com        RFC 5647 as changed by PROTOCOL 1.6
 *  - chacha20-poly1305@openssh.com       PROTOCOL.chacha20poly1305
 *
 * AES, GHASH, ChaCha20 and Poly1305 are this project's own (aes.c, ghash.c,
 * gcm.c, chacha.c, poly1305.c: constant time, AES-NI/PCLMULQDQ/SSE2 when the
 * CPU has them); SHA-256 for HMAC is ours too (sha256.c, the SHA extensions
 * where the CPU has them), SHA-1 and SHA-512 come from libtomcrypt.
 * With --disable-aes (HAVE_AES 0) the CTR and GCM rows are unknown names
 * and their code is unreachable, so the link leaves AES and GHASH out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ltc_dyn.h"

#include "aes.h"
#include "chacha.h"
#include "cipher.h"
#include "crypto.h"
#include "gcm.h"
#include "poly1305.h"

enum cmode { CM_NONE, CM_CTR, CM_GCM, CM_CHACHA };

struct cipher_def {
	const char *name;
	enum cmode mode;
	size_t key_len, iv_len, block;
};

struct mac_def {
	const char *name;
	enum hash_alg hash;
	size_t key_len;      /* = digest length (RFC 6668) */
	int etm;
};

static const struct cipher_def ciphers[] = {
	{ "none", CM_NONE, 0, 0, 8 },
	{ "aes128-ctr", CM_CTR, 16, 16, 16 },
	{ "aes192-ctr", CM_CTR, 24, 16, 16 },
	{ "aes256-ctr", CM_CTR, 32, 16, 16 },
	{ "aes128-gcm@openssh.com", CM_GCM, 16, 12, 16 },
	{ "aes256-gcm@openssh.com", CM_GCM, 32, 12, 16 },
	{ "chacha20-poly1305@openssh.com", CM_CHACHA, 64, 0, 8 },
};

static const struct mac_def macs[] = {
	{ "hmac-sha2-256", HASH_SHA256, 32, 0 },
	{ "hmac-sha2-512", HASH_SHA512, 64, 0 },
	{ "hmac-sha2-256-etm@openssh.com", HASH_SHA256, 32, 1 },
	{ "hmac-sha2-512-etm@openssh.com", HASH_SHA512, 64, 1 },
	{ "hmac-sha1", HASH_SHA1, 20, 0 },                    /* RFC 4253 s6.4 */
	{ "hmac-sha1-etm@openssh.com", HASH_SHA1, 20, 1 },
};

#define POLY_TAG_LEN 16
#define CHACHA_HALF 32
#define HMAC_MAX_BLOCK 128   /* SHA-512 */
#define HMAC_MAX_OUT 64

/* HMAC with the keyed inner/outer hash states computed once per key. */
struct hmac_pre {
	enum hash_alg alg;
	size_t len;
	hash_ctx inner, outer;
};

struct tcrypt {
	const struct cipher_def *c;
	const struct mac_def *m;      /* NULL: no separate MAC */
	int encrypt;
	int first_done;               /* CTR non-etm: first block already decrypted */
	struct hmac_pre hmac;
	union {
		struct { struct aes_key key; uint8_t ctr[AES_BLOCK]; } ctr;
		struct gcm_key gcm;
		struct { struct chacha_key main, hdr; } cc;
	} u;
	uint8_t gcm_iv[12];           /* fixed(4) || invocation counter(8) */
	/* what tcrypt_export needs to rebuild this state elsewhere */
	uint8_t raw_key[64], raw_mackey[64];
};

/* CTR and GCM are AES modes: gone with --disable-aes (build_opts.h).
 * find_cipher_def refuses their names; each call into aes.c and gcm.c
 * below also tests HAVE_AES, which is what lets the optimiser (and then
 * the link) drop that code. */
static int uses_aes(enum cmode mode)
{
	return mode == CM_CTR || mode == CM_GCM;
}

static const struct cipher_def *find_cipher_def(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < sizeof ciphers / sizeof ciphers[0]; i++)
		if (strcmp(ciphers[i].name, name) == 0)
			return HAVE_AES || !uses_aes(ciphers[i].mode) ? &ciphers[i] : NULL;
	return NULL;
}

static const struct mac_def *find_mac_def(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < sizeof macs / sizeof macs[0]; i++)
		if (strcmp(macs[i].name, name) == 0)
			return &macs[i];
	return NULL;
}

static int is_aead(const struct cipher_def *c)
{
	return c->mode == CM_GCM || c->mode == CM_CHACHA;
}

int cipher_info(const char *name, size_t *key_len, size_t *iv_len, int *aead)
{
	const struct cipher_def *c = find_cipher_def(name);
	if (!c)
		return -1;
	if (key_len)
		*key_len = c->key_len;
	if (iv_len)
		*iv_len = c->iv_len;
	if (aead)
		*aead = is_aead(c);
	return 0;
}

int mac_info(const char *name, size_t *key_len)
{
	const struct mac_def *m = find_mac_def(name);
	if (!m)
		return -1;
	if (key_len)
		*key_len = m->key_len;
	return 0;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* ---- HMAC (RFC 2104) with precomputed pads ---- */

static int hmac_setup(struct hmac_pre *h, enum hash_alg alg, const uint8_t *key,
		      size_t keylen)
{
	uint8_t pad[HMAC_MAX_BLOCK];
	size_t bs = hash_block(alg);
	h->alg = alg;
	h->len = hash_len(alg);
	if (bs > sizeof pad || h->len > HMAC_MAX_OUT || keylen > bs)
		return -1;    /* SSH MAC keys are never longer than a block */

	memset(pad, 0, bs);
	memcpy(pad, key, keylen);
	for (size_t i = 0; i < bs; i++)
		pad[i] ^= 0x36;
	hash_init(&h->inner, alg);
	hash_update(&h->inner, pad, bs);
	for (size_t i = 0; i < bs; i++)
		pad[i] ^= 0x36 ^ 0x5c;
	hash_init(&h->outer, alg);
	hash_update(&h->outer, pad, bs);
	wipe(pad, sizeof pad);
	return 0;
}

/* out = HMAC(key, uint32 seq || data) */
static int hmac_seq(const struct hmac_pre *h, uint32_t seq, const uint8_t *data,
		    size_t n, uint8_t *out)
{
	hash_ctx st;
	uint8_t seqb[4], inner[HMAC_MAX_OUT];

	put_be32(seqb, seq);
	st = h->inner;
	hash_update(&st, seqb, 4);
	hash_update(&st, data, n);
	hash_final(&st, inner);           /* wipes st */
	st = h->outer;
	hash_update(&st, inner, h->len);
	hash_final(&st, out);
	wipe(inner, sizeof inner);
	return 0;
}

/* Compute the MAC of pkt[0..n) and compare it with the one at pkt+n. */
static int hmac_verify(const struct hmac_pre *h, uint32_t seq,
		       const uint8_t *pkt, size_t n)
{
	uint8_t mac[HMAC_MAX_OUT];
	int r = hmac_seq(h, seq, pkt, n, mac);
	if (r == 0 && ct_memcmp(mac, pkt + n, h->len) != 0)
		r = -1;
	wipe(mac, sizeof mac);
	return r;
}

/* ---- setup / teardown ---- */

static int setup_cipher(tcrypt_t *t, const uint8_t *key, const uint8_t *iv)
{
	if (!HAVE_AES && uses_aes(t->c->mode))
		return -1;
	switch (t->c->mode) {
	case CM_NONE:
		return 0;
	case CM_CTR:
		memcpy(t->u.ctr.ctr, iv, AES_BLOCK);
		return aes_setkey(&t->u.ctr.key, key, t->c->key_len);
	case CM_GCM:
		memcpy(t->gcm_iv, iv, sizeof t->gcm_iv);
		return gcm_setkey(&t->u.gcm, key, t->c->key_len);
	case CM_CHACHA:
		/* K_2 (payload) is the first half, K_1 (length) the second. */
		chacha_setkey(&t->u.cc.main, key);
		chacha_setkey(&t->u.cc.hdr, key + CHACHA_HALF);
		return 0;
	}
	return -1;
}

tcrypt_t *tcrypt_new(const char *cipher, const char *mac, const uint8_t *key,
		     const uint8_t *iv, const uint8_t *mackey, int encrypt)
{
	const struct cipher_def *c = find_cipher_def(cipher);
	const struct mac_def *m = NULL;
	int no_mac = mac == NULL || strcmp(mac, "none") == 0;

	if (!c)
		return NULL;
	if (!is_aead(c) && !no_mac) {
		m = find_mac_def(mac);
		if (!m || !mackey)
			return NULL;
	}
	if (c->mode == CM_CTR && !m)
		return NULL;    /* unauthenticated CTR is never allowed */
	if ((c->key_len && !key) || (c->iv_len && !iv))
		return NULL;

	tcrypt_t *t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	t->c = c;
	t->m = m;
	t->encrypt = encrypt;
	if (key)
		memcpy(t->raw_key, key, c->key_len);
	if (m)
		memcpy(t->raw_mackey, mackey, m->key_len);
	if ((m && hmac_setup(&t->hmac, m->hash, mackey, m->key_len) != 0) ||
	    setup_cipher(t, key, iv) != 0) {
		tcrypt_free(t);
		return NULL;
	}
	return t;
}

void tcrypt_free(tcrypt_t *t)
{
	if (!t)
		return;
	wipe(t, sizeof *t);
	free(t);
}

size_t tcrypt_blocksize(const tcrypt_t *t)
{
	return t->c->block;
}

size_t tcrypt_taglen(const tcrypt_t *t)
{
	switch (t->c->mode) {
	case CM_GCM:
		return GCM_TAG;
	case CM_CHACHA:
		return POLY_TAG_LEN;
	default:
		return t->m ? t->hmac.len : 0;
	}
}

int tcrypt_len_excluded(const tcrypt_t *t)
{
	return is_aead(t->c) || (t->m && t->m->etm);
}

size_t tcrypt_first_len(const tcrypt_t *t)
{
	return tcrypt_len_excluded(t) ? 4 : t->c->block;
}

/* Is n = 4 + packet_length a whole number of blocks for this mode? */
static int size_ok(const tcrypt_t *t, size_t n)
{
	if (n < 4 || n < tcrypt_first_len(t))
		return 0;
	size_t covered = tcrypt_len_excluded(t) ? n - 4 : n;
	return covered % t->c->block == 0;
}

/* ---- CTR / none with HMAC ---- */

static int stream_crypt(tcrypt_t *t, uint8_t *p, size_t n)
{
	if (t->c->mode == CM_NONE || n == 0)
		return 0;
	if (!HAVE_AES || n % AES_BLOCK)
		return -1;    /* size_ok() makes every call whole blocks */
	aes_ctr(&t->u.ctr.key, t->u.ctr.ctr, 0, p, n / AES_BLOCK);
	return 0;
}

static int mac_seal(tcrypt_t *t, uint32_t seq, uint8_t *pkt, size_t n)
{
	if (!t->m)
		return stream_crypt(t, pkt, n);
	if (t->m->etm) {
		/* length stays clear; MAC covers length || ciphertext */
		if (stream_crypt(t, pkt + 4, n - 4) != 0)
			return -1;
		return hmac_seq(&t->hmac, seq, pkt, n, pkt + n);
	}
	if (hmac_seq(&t->hmac, seq, pkt, n, pkt + n) != 0)
		return -1;
	return stream_crypt(t, pkt, n);
}

static int mac_open(tcrypt_t *t, uint32_t seq, uint8_t *pkt, size_t n)
{
	if (t->m && t->m->etm) {
		if (hmac_verify(&t->hmac, seq, pkt, n) != 0)
			return -1;
		return stream_crypt(t, pkt + 4, n - 4);
	}
	size_t done = t->first_done ? t->c->block : 0;
	t->first_done = 0;
	if (stream_crypt(t, pkt + done, n - done) != 0)
		return -1;
	return t->m ? hmac_verify(&t->hmac, seq, pkt, n) : 0;
}

/* ---- AES-GCM ---- */

static void gcm_next_iv(tcrypt_t *t)
{
	/* 64-bit big-endian invocation counter in bytes 4..11; no branch on
	 * the (secret) IV */
	unsigned carry = 1;
	for (int i = 11; i >= 4; i--) {
		unsigned v = t->gcm_iv[i] + carry;
		t->gcm_iv[i] = (uint8_t)v;
		carry = v >> 8;
	}
}

/* The packet length is the additional data; the tag follows the packet. */
static int gcm_seal_pkt(tcrypt_t *t, uint8_t *pkt, size_t n)
{
	if (!HAVE_AES)
		return -1;
	gcm_seal(&t->u.gcm, t->gcm_iv, pkt, 4, pkt + 4, n - 4, pkt + n);
	gcm_next_iv(t);
	return 0;
}

/* Nothing is decrypted unless the tag is right. */
static int gcm_open_pkt(tcrypt_t *t, uint8_t *pkt, size_t n)
{
	if (!HAVE_AES)
		return -1;
	if (gcm_open(&t->u.gcm, t->gcm_iv, pkt, 4, pkt + 4, n - 4, pkt + n) != 0)
		return -1;
	gcm_next_iv(t);
	return 0;
}

/* ---- chacha20-poly1305@openssh.com ---- */

static void seq_nonce(uint8_t nonce[8], uint32_t seq)
{
	memset(nonce, 0, 4);            /* uint64 seq, big-endian */
	put_be32(nonce + 4, seq);
}

/* XOR the 4 length bytes at in with the K_1 stream for seq into out. */
static int cc_length(tcrypt_t *t, uint32_t seq, const uint8_t *in, uint8_t *out)
{
	uint8_t nonce[8];
	seq_nonce(nonce, seq);
	chacha_xor(&t->u.cc.hdr, nonce, 0, out, in, 4);
	return 0;
}

/* tag = Poly1305(key = K_2 block 0 [0..32), enc length || enc payload) */
static int cc_tag(tcrypt_t *t, uint32_t seq, const uint8_t *pkt, size_t n,
		  uint8_t tag[POLY_TAG_LEN])
{
	uint8_t nonce[8], pkey[POLY1305_KEY] = { 0 };
	seq_nonce(nonce, seq);
	chacha_xor(&t->u.cc.main, nonce, 0, pkey, pkey, sizeof pkey);
	poly1305_mac(tag, pkt, n, pkey);
	wipe(pkey, sizeof pkey);
	return 0;
}

/* Payload bytes with the K_2 stream from block counter 1. */
static int cc_payload(tcrypt_t *t, uint32_t seq, uint8_t *p, size_t n)
{
	uint8_t nonce[8];
	seq_nonce(nonce, seq);
	chacha_xor(&t->u.cc.main, nonce, 1, p, p, n);
	return 0;
}

static int cc_seal(tcrypt_t *t, uint32_t seq, uint8_t *pkt, size_t n)
{
	if (cc_length(t, seq, pkt, pkt) != 0 ||
	    cc_payload(t, seq, pkt + 4, n - 4) != 0)
		return -1;
	return cc_tag(t, seq, pkt, n, pkt + n);
}

static int cc_open(tcrypt_t *t, uint32_t seq, uint8_t *pkt, size_t n)
{
	uint8_t tag[POLY_TAG_LEN];
	int bad = cc_tag(t, seq, pkt, n, tag) != 0 ||
		  ct_memcmp(tag, pkt + n, POLY_TAG_LEN) != 0;
	wipe(tag, sizeof tag);
	if (bad)
		return -1;
	if (cc_length(t, seq, pkt, pkt) != 0)
		return -1;
	return cc_payload(t, seq, pkt + 4, n - 4);
}

/* ---- public entry points ---- */

int tcrypt_seal(tcrypt_t *t, uint32_t seq, uint8_t *pkt, size_t n)
{
	if (!t || !t->encrypt || !size_ok(t, n))
		return -1;
	switch (t->c->mode) {
	case CM_GCM:
		return gcm_seal_pkt(t, pkt, n);
	case CM_CHACHA:
		return cc_seal(t, seq, pkt, n);
	default:
		return mac_seal(t, seq, pkt, n);
	}
}

int tcrypt_open_len(tcrypt_t *t, uint32_t seq, uint8_t *first, uint32_t *plen)
{
	uint8_t len[4];

	if (!t || t->encrypt)
		return -1;
	switch (t->c->mode) {
	case CM_CHACHA:
		/* decrypt a copy: the tag covers the encrypted length */
		if (cc_length(t, seq, first, len) != 0)
			return -1;
		*plen = get_be32(len);
		wipe(len, sizeof len);
		return 0;
	case CM_CTR:
		if (!tcrypt_len_excluded(t)) {
			if (stream_crypt(t, first, t->c->block) != 0)
				return -1;
			t->first_done = 1;
		}
		break;
	default:
		break;
	}
	*plen = get_be32(first);
	return 0;
}

int tcrypt_open(tcrypt_t *t, uint32_t seq, uint8_t *pkt, size_t n)
{
	if (!t || t->encrypt || !size_ok(t, n))
		return -1;
	switch (t->c->mode) {
	case CM_GCM:
		return gcm_open_pkt(t, pkt, n);
	case CM_CHACHA:
		return cc_open(t, seq, pkt, n);
	default:
		return mac_open(t, seq, pkt, n);
	}
}

/* ---- hand-over (privilege separation) ---- */

int tcrypt_export(const tcrypt_t *t, struct tcrypt_state *st)
{
	memset(st, 0, sizeof *st);
	snprintf(st->cipher, sizeof st->cipher, "%s", t->c->name);
	snprintf(st->mac, sizeof st->mac, "%s", t->m ? t->m->name : "none");
	memcpy(st->key, t->raw_key, t->c->key_len);
	if (t->m)
		memcpy(st->mackey, t->raw_mackey, t->m->key_len);
	if (t->c->mode == CM_GCM) {
		memcpy(st->iv, t->gcm_iv, sizeof t->gcm_iv);
	} else if (t->c->mode == CM_CTR) {
		if (t->first_done)
			return -1;     /* only between packets */
		/* the counter block as it stands: aes_ctr advances it */
		memcpy(st->iv, t->u.ctr.ctr, AES_BLOCK);
	}
	return 0;
}

tcrypt_t *tcrypt_import(const struct tcrypt_state *st, int encrypt)
{
	return tcrypt_new(st->cipher, strcmp(st->mac, "none") ? st->mac : NULL, st->key,
			  st->iv, st->mackey, encrypt);
}
