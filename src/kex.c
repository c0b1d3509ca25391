/* kex: key exchange and key derivation for the server side. */
#include "kex.h"

#include <stdio.h>
#include <string.h>

#include "conn.h"
#include "crypto.h"
#include "dhgroup.h"
#include "build_opts.h"
#include "kexalg.h"
#include "log.h"
#include "monitor.h"

#define SERVER_SIG_ALGS KEYALGS_BUILT
#define STRICT_C "kex-strict-c-v00@openssh.com"
#define STRICT_S "kex-strict-s-v00@openssh.com"
#define DEFAULT_REKEY_BYTES (1ull << 30)
/* RFC 4419 s5 */
#define SSH_MSG_KEX_DH_GEX_REQUEST_OLD 30
#define SSH_MSG_KEX_DH_GEX_GROUP 31
#define SSH_MSG_KEX_DH_GEX_INIT 32
#define SSH_MSG_KEX_DH_GEX_REPLY 33
#define SSH_MSG_KEX_DH_GEX_REQUEST 34

static int kex_fail(struct kex *k, const char *fmt, const char *arg)
{
	snprintf(k->err, sizeof(k->err), fmt, arg ? arg : "");
	return -1;
}

int kex_init(struct kex *k, const struct config *cfg, struct sshkey **hostkeys,
	     int n_hostkeys)
{
	memset(k, 0, sizeof(*k));
	k->cfg = cfg;
	k->hostkeys = hostkeys;
	k->n_hostkeys = n_hostkeys;
	k->last_kex_time = time(NULL);
	if (buf_init(&k->i_c, 0, BUF_MAX_STRING) < 0 ||
	    buf_init(&k->i_s, 0, BUF_MAX_STRING) < 0)
		return -1;
	return 0;
}

void kex_free(struct kex *k)
{
	buf_free(&k->i_c);
	buf_free(&k->i_s);
	tcrypt_free(k->pending_rx);
	tcrypt_free(k->pending_tx);
	wipe(k->session_id, sizeof(k->session_id));
}

/* The loaded host key that serves a host key algorithm name. */
static struct sshkey *hostkey_for_alg(const struct kex *k, const char *alg)
{
	for (int i = 0; i < k->n_hostkeys; i++)
		if (key_sigalg_ok(k->hostkeys[i], alg))
			return k->hostkeys[i];
	return NULL;
}

void kex_hostkey_algs(const struct kex *k, char *out, size_t outsz)
{
	char list[512];
	str_copy(list, sizeof(list), k->cfg->host_key_algorithms);
	out[0] = 0;
	char *rest = list;
	for (char *alg = str_token(&rest, ","); alg; alg = str_token(&rest, ",")) {
		if (!hostkey_for_alg(k, alg))
			continue;
		size_t used = strlen(out);
		snprintf(out + used, outsz - used, "%s%s", used ? "," : "", alg);
	}
}

int kex_send_kexinit(struct kex *k, struct packet *p)
{
	if (k->sent_kexinit)
		return 0;
	char kexalgs[1024], hostalgs[512];
	snprintf(kexalgs, sizeof(kexalgs), "%s%s", k->cfg->kex_algorithms,
		 k->done_first ? "" : "," STRICT_S);
	kex_hostkey_algs(k, hostalgs, sizeof(hostalgs));
	const char *comp = k->cfg->compression ? "none,zlib@openssh.com" : "none";
	uint8_t cookie[16];
	rand_bytes(cookie, sizeof(cookie));

	buf_t *b = &k->i_s;
	buf_reset(b);
	int rc = buf_put_u8(b, SSH_MSG_KEXINIT) | buf_put(b, cookie, 16) |
		buf_put_cstring(b, kexalgs) | buf_put_cstring(b, hostalgs) |
		buf_put_cstring(b, k->cfg->ciphers) | buf_put_cstring(b, k->cfg->ciphers) |
		buf_put_cstring(b, k->cfg->macs) | buf_put_cstring(b, k->cfg->macs) |
		buf_put_cstring(b, comp) | buf_put_cstring(b, comp) |
		buf_put_cstring(b, "") | buf_put_cstring(b, "") |
		buf_put_bool(b, 0) | buf_put_u32(b, 0);
	if (rc < 0)
		return kex_fail(k, "cannot build KEXINIT%s", NULL);
	k->sent_kexinit = 1;
	debug("sent KEXINIT");
	return pkt_send(p, buf_data(b), buf_used(b));
}

/* Choose the first client algorithm the server also offers. */
static int choose(struct kex *k, const char *what, const uint8_t *client, size_t cn,
		  const char *server, char *out)
{
	if (namelist_choose(client, cn, server, out, KEX_NAME_MAX) == 0)
		return 0;
	return kex_fail(k, "no matching %s algorithm (KEXINIT negotiation failed)", what);
}

/* Is name the first entry of the list? */
static int first_is(const uint8_t *list, size_t n, const char *name)
{
	size_t nl = strlen(name);
	return n >= nl && memcmp(list, name, nl) == 0 && (n == nl || list[nl] == ',');
}

static int parse_kexinit(struct kex *k, const uint8_t *payload, size_t len)
{
	rd_t r;
	const uint8_t *lists[10];
	size_t lens[10];
	rd_init(&r, payload + 1, len - 1);
	rd_skip(&r, 16);
	for (int i = 0; i < 10; i++)
		rd_string(&r, &lists[i], &lens[i]);
	int follows = rd_bool_value(&r);
	rd_u32_value(&r);                    /* reserved */
	if (r.err)
		return kex_fail(k, "truncated or malformed KEXINIT%s", NULL);

	if (!k->done_first) {
		k->strict = namelist_has(lists[0], lens[0], STRICT_C);
		k->ext_info_c = namelist_has(lists[0], lens[0], "ext-info-c");
	}
	char hostalgs[512];
	kex_hostkey_algs(k, hostalgs, sizeof(hostalgs));
	const char *comp = k->cfg->compression ? "none,zlib@openssh.com" : "none";
	if (choose(k, "key exchange", lists[0], lens[0], k->cfg->kex_algorithms, k->alg_kex) < 0 ||
	    choose(k, "host key", lists[1], lens[1], hostalgs, k->alg_hostkey) < 0 ||
	    choose(k, "cipher (client to server)", lists[2], lens[2], k->cfg->ciphers, k->enc_c2s) < 0 ||
	    choose(k, "cipher (server to client)", lists[3], lens[3], k->cfg->ciphers, k->enc_s2c) < 0 ||
	    choose(k, "compression (client to server)", lists[6], lens[6], comp, k->comp_c2s) < 0 ||
	    choose(k, "compression (server to client)", lists[7], lens[7], comp, k->comp_s2c) < 0)
		return -1;
	size_t kl, il;
	int aead;
	memcpy(k->mac_c2s, "none", sizeof "none");
	memcpy(k->mac_s2c, "none", sizeof "none");
	if (cipher_info(k->enc_c2s, &kl, &il, &aead) == 0 && !aead &&
	    choose(k, "MAC (client to server)", lists[4], lens[4], k->cfg->macs, k->mac_c2s) < 0)
		return -1;
	if (cipher_info(k->enc_s2c, &kl, &il, &aead) == 0 && !aead &&
	    choose(k, "MAC (server to client)", lists[5], lens[5], k->cfg->macs, k->mac_s2c) < 0)
		return -1;
	/* A wrong guess means the client's next kex packet must be ignored. */
	if (follows)
		k->skip_guess = !(first_is(lists[0], lens[0], k->alg_kex) &&
				  first_is(lists[1], lens[1], k->alg_hostkey));
	debug("kex: %s host key %s cipher %s/%s mac %s/%s compression %s/%s%s",
	      k->alg_kex, k->alg_hostkey, k->enc_c2s, k->enc_s2c, k->mac_c2s,
	      k->mac_s2c, k->comp_c2s, k->comp_s2c, k->strict ? " strict" : "");
	return 0;
}

static int handle_kexinit(struct kex *k, struct packet *p, const uint8_t *payload, size_t len)
{
	if (k->got_kexinit)
		return kex_fail(k, "unexpected second KEXINIT during key exchange%s", NULL);
	buf_reset(&k->i_c);
	if (buf_put(&k->i_c, payload, len) < 0)
		return kex_fail(k, "KEXINIT too large%s", NULL);
	k->got_kexinit = 1;
	if (parse_kexinit(k, payload, len) < 0)
		return -1;
	if (!k->done_first && k->strict && p->seq_in != 1)
		return kex_fail(k, "strict KEX: KEXINIT was not the first packet%s", NULL);
	return kex_send_kexinit(k, p);
}

/* One key: HASH(K || H || letter || session_id), extended as s7.2 says. */
static int derive_key(struct kex *k, enum hash_alg h, const buf_t *kmp,
		      const uint8_t *H, size_t hl, char letter, uint8_t *out, size_t need)
{
	uint8_t blk[64];
	size_t have = 0, hlen = hash_len(h);
	uint8_t acc[256];
	if (need > sizeof(acc))
		return -1;
	hash_ctx c;
	hash_init(&c, h);
	hash_update(&c, buf_data(kmp), buf_used(kmp));
	hash_update(&c, H, hl);
	hash_update(&c, &letter, 1);
	hash_update(&c, k->session_id, k->session_id_len);
	hash_final(&c, blk);
	memcpy(acc, blk, hlen);
	have = hlen;
	while (have < need) {
		hash_init(&c, h);
		hash_update(&c, buf_data(kmp), buf_used(kmp));
		hash_update(&c, H, hl);
		hash_update(&c, acc, have);
		hash_final(&c, blk);
		size_t take = hlen;
		if (have + take > sizeof(acc))
			take = sizeof(acc) - have;
		memcpy(acc + have, blk, take);
		have += take;
	}
	memcpy(out, acc, need);
	wipe(acc, sizeof(acc));
	wipe(blk, sizeof(blk));
	return 0;
}

/* Build both directions' protection from K and H. */
static int make_keys(struct kex *k, enum hash_alg h,
		     const buf_t *kmp, const uint8_t *H, size_t hl)
{
	uint8_t iv[2][64], key[2][64], mac[2][64];
	size_t kl[2], il[2], ml[2];
	int aead;
	const char *enc[2] = { k->enc_c2s, k->enc_s2c };
	const char *macn[2] = { k->mac_c2s, k->mac_s2c };
	for (int d = 0; d < 2; d++) {
		ml[d] = 0;
		if (cipher_info(enc[d], &kl[d], &il[d], &aead) < 0 ||
		    (strcmp(macn[d], "none") != 0 && mac_info(macn[d], &ml[d]) < 0) ||
		    kl[d] > 64 || il[d] > 64 || ml[d] > 64)
			return kex_fail(k, "unsupported cipher %s", enc[d]);
		if (derive_key(k, h, kmp, H, hl, (char)('A' + d), iv[d], il[d] ? il[d] : 1) < 0 ||
		    derive_key(k, h, kmp, H, hl, (char)('C' + d), key[d], kl[d] ? kl[d] : 1) < 0 ||
		    derive_key(k, h, kmp, H, hl, (char)('E' + d), mac[d], ml[d] ? ml[d] : 1) < 0)
			return kex_fail(k, "key derivation failed%s", NULL);
	}
	tcrypt_free(k->pending_rx);
	k->pending_rx = tcrypt_new(enc[0], ml[0] ? macn[0] : NULL, key[0], iv[0], mac[0], 0);
	tcrypt_t *tx = tcrypt_new(enc[1], ml[1] ? macn[1] : NULL, key[1], iv[1], mac[1], 1);
	wipe(iv, sizeof(iv));
	wipe(key, sizeof(key));
	wipe(mac, sizeof(mac));
	if (!k->pending_rx || !tx) {
		tcrypt_free(tx);
		return kex_fail(k, "cannot set up cipher%s", NULL);
	}
	/* tx goes live right after our NEWKEYS; keep it until then */
	tcrypt_free(k->pending_tx);
	k->pending_tx = tx;
	return 0;
}

static void hash_put_u32(hash_ctx *c, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
	hash_update(c, b, 4);
}

/* Feed one SSH string (uint32 length, bytes) to a running hash. */
static void hash_put_string(hash_ctx *c, const void *data, size_t n)
{
	hash_put_u32(c, (uint32_t)n);
	hash_update(c, data, n);
}

/* Feed an mpint given as a magnitude, encoded as buf_put_mpint_be does:
 * no leading zeros, a zero byte first when the top bit is set. */
static void hash_put_mpint(hash_ctx *c, const uint8_t *mag, size_t n)
{
	while (n && mag[0] == 0) {
		mag++;
		n--;
	}
	int pad = n && (mag[0] & 0x80);
	hash_put_u32(c, (uint32_t)(n + (size_t)pad));
	if (pad)
		hash_update(c, "", 1);      /* the string's NUL: one zero byte */
	hash_update(c, mag, n);
}

/* The group exchange generator as a big-endian magnitude (for mpints). */
static void gex_generator(const struct kex *k, uint8_t g[4])
{
	uint32_t v = k->gex_group.g;
	g[0] = (uint8_t)(v >> 24);
	g[1] = (uint8_t)(v >> 16);
	g[2] = (uint8_t)(v >> 8);
	g[3] = (uint8_t)v;
}

/* RFC 4419 s3: the request as the client sent it (only n for the old
 * form), then p and g, between K_S and e. */
static void hash_put_gex(hash_ctx *c, const struct kex *k)
{
	uint8_t g[4];
	if (!k->gex_old)
		hash_put_u32(c, k->gex_min);
	hash_put_u32(c, k->gex_n);
	if (!k->gex_old)
		hash_put_u32(c, k->gex_max);
	hash_put_mpint(c, k->gex_group.p, k->gex_group.p_len);
	gex_generator(k, g);
	hash_put_mpint(c, g, sizeof g);
}

/* The exchange hash H over everything both sides said (s8, RFC 5656 s4),
 * hashed as it goes: nothing is copied and no size bound can cut it short. */
static void exchange_hash(struct kex *k, enum hash_alg h, int is_dh,
			  const buf_t *hostblob, const uint8_t *qc, size_t qcl,
			  const uint8_t *qs, size_t qsl, const buf_t *kmp, uint8_t *H)
{
	hash_ctx c;
	hash_init(&c, h);
	hash_put_string(&c, k->v_c, strlen(k->v_c));
	hash_put_string(&c, k->v_s, strlen(k->v_s));
	hash_put_string(&c, buf_data(&k->i_c), buf_used(&k->i_c));
	hash_put_string(&c, buf_data(&k->i_s), buf_used(&k->i_s));
	hash_put_string(&c, buf_data(hostblob), buf_used(hostblob));
	if (k->gex_have_group)
		hash_put_gex(&c, k);
	if (is_dh) {
		hash_put_mpint(&c, qc, qcl);
		hash_put_mpint(&c, qs, qsl);
	} else {
		hash_put_string(&c, qc, qcl);
		hash_put_string(&c, qs, qsl);
	}
	hash_update(&c, buf_data(kmp), buf_used(kmp));    /* K, already encoded */
	hash_final(&c, H);
}

/* server-sig-algs names ssh-rsa only when the (global: EXT_INFO precedes
 * Match) PubkeyAcceptedAlgorithms has it; clients then offer it. */
static int send_ext_info(struct kex *k, struct packet *p)
{
	const char *accepted = k->cfg->pubkey_accepted_algorithms;
	int rsa_sha1 = namelist_has((const uint8_t *)accepted, strlen(accepted), "ssh-rsa");
	buf_t b;
	buf_init(&b, 256, 4096);
	buf_put_u8(&b, SSH_MSG_EXT_INFO);
	buf_put_u32(&b, 1);
	buf_put_cstring(&b, "server-sig-algs");
	/* the list as a string written in two parts: SERVER_SIG_ALGS is
	 * the default PubkeyAcceptedAlgorithms, whose text is then held once */
	static const char rsa_sha1_name[] = ",ssh-rsa";
	size_t extra = rsa_sha1 ? sizeof rsa_sha1_name - 1 : 0;
	buf_put_u32(&b, (uint32_t)(sizeof SERVER_SIG_ALGS - 1 + extra));
	buf_put(&b, SERVER_SIG_ALGS, sizeof SERVER_SIG_ALGS - 1);
	buf_put(&b, rsa_sha1_name, extra);
	int rc = pkt_send(p, buf_data(&b), buf_used(&b));
	buf_free(&b);
	return rc;
}

/* Our NEWKEYS, then the new keys go live for output at once. */
static int send_newkeys(struct kex *k, struct packet *p)
{
	uint8_t m = SSH_MSG_NEWKEYS;
	if (pkt_send(p, &m, 1) < 0)
		return kex_fail(k, "%s", p->err);
	pkt_set_tx(p, k->pending_tx);
	k->pending_tx = NULL;
	if (k->strict)
		p->seq_out = 0;
	k->sent_newkeys = 1;
	if (!k->newkeys_sent_once && k->ext_info_c && send_ext_info(k, p) < 0)
		return kex_fail(k, "%s", p->err);
	k->newkeys_sent_once = 1;
	return 0;
}

/* The host key's signature over H: by the monitor when this is the
 * pre-auth child (which holds public keys only). */
static int sign_exchange_hash(const struct kex *k, const struct sshkey *hk, const uint8_t *H,
			      size_t hl, buf_t *sig)
{
	if (!mon_active())
		return key_sign(hk, k->alg_hostkey, H, hl, sig);
	for (int i = 0; i < k->n_hostkeys; i++)
		if (k->hostkeys[i] == hk)
			return mon_sign(i, k->alg_hostkey, H, hl, sig);
	return -1;
}

static int handle_exchange_init(struct kex *k, struct packet *p, const uint8_t *payload,
				size_t len)
{
	enum kex_kind kind;
	enum hash_alg h;
	if (!k->got_kexinit || k->sent_newkeys)
		return kex_fail(k, "key exchange message out of order%s", NULL);
	if (kexalg_lookup(k->alg_kex, &kind, &h) < 0)
		return kex_fail(k, "unsupported kex %s", k->alg_kex);
	int is_dh = kexalg_is_dh(kind);
	rd_t r;
	const uint8_t *qc;
	size_t qcl;
	rd_init(&r, payload + 1, len - 1);
	if (is_dh)
		rd_mpint_be(&r, &qc, &qcl);
	else
		rd_string(&r, &qc, &qcl);
	if (rd_end(&r) < 0)
		return kex_fail(k, "malformed key exchange init (%s)", k->alg_kex);

	uint8_t qs[2048], kraw[1100], H[64];
	size_t qsl = sizeof(qs), kl = sizeof(kraw);
	int bad = HAVE_DH && kind == KEX_DH_GEX
		? kexalg_group_server(&k->gex_group, qc, qcl, qs, &qsl, kraw, &kl) < 0
		: kexalg_server(kind, qc, qcl, qs, &qsl, kraw, &kl) < 0;
	if (bad)
		return kex_fail(k, "invalid client public value in %s", k->alg_kex);
	buf_t kmp, hostblob, reply;
	buf_init(&kmp, 600, 2048);
	buf_init(&hostblob, 512, 4096);
	buf_init(&reply, 2048, 16384);
	/* K as it enters H and the key derivation: an mpint, or for the
	 * post-quantum hybrids a string */
	if (kexalg_k_is_string(kind))
		buf_put_string(&kmp, kraw, kl);
	else
		buf_put_mpint_be(&kmp, kraw, kl);
	wipe(kraw, sizeof(kraw));
	struct sshkey *hk = hostkey_for_alg(k, k->alg_hostkey);
	int rc = -1;
	if (!hk || key_public_blob(hk, &hostblob) < 0) {
		kex_fail(k, "no host key for %s", k->alg_hostkey);
		goto out;
	}
	exchange_hash(k, h, is_dh, &hostblob, qc, qcl, qs, qsl, &kmp, H);
	size_t hl = hash_len(h);
	if (!k->done_first) {
		memcpy(k->session_id, H, hl);
		k->session_id_len = hl;
	}
	buf_put_u8(&reply, kind == KEX_DH_GEX ? SSH_MSG_KEX_DH_GEX_REPLY : SSH_MSG_KEX_ECDH_REPLY);
	buf_put_string(&reply, buf_data(&hostblob), buf_used(&hostblob));
	if (is_dh)
		buf_put_mpint_be(&reply, qs, qsl);
	else
		buf_put_string(&reply, qs, qsl);
	buf_t sig;
	buf_init(&sig, 512, 8192);
	if (sign_exchange_hash(k, hk, H, hl, &sig) < 0) {
		buf_free(&sig);
		kex_fail(k, "host key signature (%s) failed", k->alg_hostkey);
		goto out;
	}
	buf_put_string(&reply, buf_data(&sig), buf_used(&sig));
	buf_free(&sig);
	if (make_keys(k, h, &kmp, H, hl) < 0)
		goto out;
	if (pkt_send(p, buf_data(&reply), buf_used(&reply)) < 0) {
		kex_fail(k, "%s", p->err);
		goto out;
	}
	rc = send_newkeys(k, p);
out:
	wipe(H, sizeof(H));
	buf_free(&kmp);
	buf_free(&hostblob);
	buf_free(&reply);
	return rc;
}

/* ---- diffie-hellman-group-exchange-sha256 (RFC 4419) ---- */

static int is_group_exchange(const struct kex *k)
{
	enum kex_kind kind;
	return kexalg_lookup(k->alg_kex, &kind, NULL) == 0 && kind == KEX_DH_GEX;
}

/* Say where the group came from when something about the file is worth
 * an administrator's attention. */
static void log_group_source(const struct kex *k, const struct dhgroup_scan *scan)
{
	const char *path = k->cfg->moduli_file;
	if (scan->file_unsafe)
		logit("%s is not a root-owned file writable only by its owner: ignored, "
		      "built-in groups used", path);
	if (scan->bad_lines)
		logit("%s: %d malformed line(s) skipped (the first is line %d)", path,
		      scan->bad_lines, scan->first_bad_line);
	if (!scan->from_file && !scan->file_missing && !scan->file_unsafe)
		logit("%s has no usable group of %u..%u bits: built-in group used", path,
		      k->gex_min, k->gex_max);
	debug("group exchange: %u..%u (%u) bits asked, %u-bit group from %s", k->gex_min,
	      k->gex_max, k->gex_n, k->gex_group.bits, scan->from_file ? path : "the built-in set");
}

/* GEX_REQUEST (min, n, max) or the old GEX_REQUEST_OLD (n): choose a group
 * and send it. */
static int handle_gex_request(struct kex *k, struct packet *p, uint8_t msg,
			      const uint8_t *payload, size_t len)
{
	rd_t r;
	struct dhgroup_scan scan;
	if (k->gex_have_group || k->sent_newkeys)
		return kex_fail(k, "group exchange request out of order%s", NULL);
	rd_init(&r, payload + 1, len - 1);
	k->gex_old = msg == SSH_MSG_KEX_DH_GEX_REQUEST_OLD;
	if (k->gex_old) {
		rd_u32(&r, &k->gex_n);
		k->gex_min = DH_GROUP_MIN_BITS;
		k->gex_max = DH_GROUP_MAX_BITS;
	} else {
		rd_u32(&r, &k->gex_min);
		rd_u32(&r, &k->gex_n);
		rd_u32(&r, &k->gex_max);
	}
	if (rd_end(&r) < 0)
		return kex_fail(k, "malformed group exchange request%s", NULL);
	/* in the sandboxed child the monitor reads ModuliFile and chooses */
	int chosen = mon_active()
		? mon_moduli(k->gex_min, k->gex_n, k->gex_max, &k->gex_group, &scan)
		: dhgroup_choose(k->cfg->moduli_file, k->gex_min, k->gex_n, k->gex_max,
				 &k->gex_group, &scan);
	if (chosen < 0 && mon_active())
		return kex_fail(k, "the monitor did not answer the group request%s", NULL);
	if (chosen != 0) {
		snprintf(k->err, sizeof(k->err), "no group for the group exchange request "
			 "min/n/max %u/%u/%u bits (wombat has 2048 to 8192)", k->gex_min,
			 k->gex_n, k->gex_max);
		return -1;
	}
	log_group_source(k, &scan);
	k->gex_have_group = 1;

	uint8_t g[4];
	gex_generator(k, g);
	buf_t b;
	buf_init(&b, 1100, 2200);
	int rc = buf_put_u8(&b, SSH_MSG_KEX_DH_GEX_GROUP) |
		 buf_put_mpint_be(&b, k->gex_group.p, k->gex_group.p_len) |
		 buf_put_mpint_be(&b, g, sizeof g);
	if (rc < 0)
		rc = kex_fail(k, "cannot build GEX_GROUP%s", NULL);
	else if (pkt_send(p, buf_data(&b), buf_used(&b)) < 0)
		rc = kex_fail(k, "%s", p->err);
	buf_free(&b);
	return rc;
}

static int handle_newkeys(struct kex *k, struct packet *p)
{
	if (!k->sent_newkeys || !k->pending_rx)
		return kex_fail(k, "NEWKEYS out of order%s", NULL);
	pkt_set_rx(p, k->pending_rx);
	k->pending_rx = NULL;
	if (k->strict)
		p->seq_in = 0;
	if (k->done_first)
		k->rekeys++;
	k->done_first = 1;
	k->sent_kexinit = k->got_kexinit = k->sent_newkeys = 0;
	k->gex_have_group = 0;
	k->last_kex_time = time(NULL);
	debug("key exchange done (%s, %s)", k->alg_kex, k->enc_c2s);
	return 0;
}

int kex_handle(struct kex *k, struct packet *p, uint8_t msg,
	       const uint8_t *payload, size_t len)
{
	if (msg == SSH_MSG_KEXINIT)
		return handle_kexinit(k, p, payload, len);
	if (msg == SSH_MSG_NEWKEYS)
		return handle_newkeys(k, p);
	if (k->skip_guess && msg >= 30 && msg <= 49) {
		k->skip_guess = 0;
		return 0;
	}
	const char *what = "key exchange";
	if (HAVE_DH && k->got_kexinit && is_group_exchange(k)) {
		if (msg == SSH_MSG_KEX_DH_GEX_REQUEST || msg == SSH_MSG_KEX_DH_GEX_REQUEST_OLD)
			return handle_gex_request(k, p, msg, payload, len);
		if (msg == SSH_MSG_KEX_DH_GEX_INIT && k->gex_have_group)
			return handle_exchange_init(k, p, payload, len);
		what = "group exchange";
	} else if (msg == SSH_MSG_KEX_ECDH_INIT) {
		return handle_exchange_init(k, p, payload, len);
	}
	snprintf(k->err, sizeof(k->err), "unexpected %s message %u", what, msg);
	return -1;
}

int kex_rekey_due(const struct kex *k, const struct packet *p, time_t now)
{
	if (!k->done_first || kex_in_progress(k))
		return 0;
	uint64_t limit = k->cfg->rekey_bytes ? k->cfg->rekey_bytes : DEFAULT_REKEY_BYTES;
	if (p->rekey_in >= limit || p->rekey_out >= limit)
		return 1;
	return k->cfg->rekey_seconds > 0 && now - k->last_kex_time >= k->cfg->rekey_seconds;
}
