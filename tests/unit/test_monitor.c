/* monitor: the dispatch of the pre-auth child's requests — each valid only
 * in its state, each length-checked — and the hand-over of a direction's
 * cipher state (tcrypt_export/import) mid-stream. */
#include <stdlib.h>
#include <string.h>

#include "build_opts.h"
#include "buf.h"
#include "cipher.h"
#include "crypto.h"
#include "hostkey.h"
#include "log.h"
#include "monitor.h"
#include "unit_cipher.h"

static struct sshkey *hk[1];

/* Dispatch one request built from type + body; returns the result. */
static int send_req(struct monitor *m, uint8_t type, const buf_t *body, buf_t *reply)
{
	buf_t msg;
	buf_init(&msg, 64, MON_MSG_MAX);
	buf_put_u8(&msg, type);
	if (body)
		buf_put(&msg, buf_data(body), buf_used(body));
	int rc = monitor_dispatch(m, buf_data(&msg), buf_used(&msg), reply);
	buf_free(&msg);
	return rc;
}

static int sign_req(struct monitor *m, uint32_t idx, const char *alg, size_t hl, buf_t *reply)
{
	buf_t b;
	uint8_t h[64];
	memset(h, 0x5a, sizeof(h));
	buf_init(&b, 64, 4096);
	buf_put_u32(&b, idx);
	buf_put_cstring(&b, alg);
	buf_put_string(&b, h, hl);
	int rc = send_req(m, MON_SIGN, &b, reply);
	buf_free(&b);
	return rc;
}

static void test_sign(void)
{
	struct monitor m;
	buf_t reply;
	buf_init(&reply, 64, MON_MSG_MAX);
	monitor_init(&m, NULL, hk, 1);
	CHECK(sign_req(&m, 0, "ssh-ed25519", 32, &reply) == 0);
	CHECK(buf_used(&reply) > 1 && buf_data(&reply)[0] == MON_SIGN_REPLY);
	CHECK(m.session_id_len == 32 && m.session_id[0] == 0x5a);
	/* not an exchange hash, a key that is not there, an algorithm the key
	 * does not serve: each ends the connection */
	monitor_init(&m, NULL, hk, 1);
	CHECK(sign_req(&m, 0, "ssh-ed25519", 31, &reply) < 0);
	monitor_init(&m, NULL, hk, 1);
	CHECK(sign_req(&m, 1, "ssh-ed25519", 32, &reply) < 0);
	monitor_init(&m, NULL, hk, 1);
	CHECK(sign_req(&m, 0, "rsa-sha2-256", 32, &reply) < 0);
	/* at most MON_MAX_PREAUTH_KEX key exchanges before a login */
	monitor_init(&m, NULL, hk, 1);
	for (int i = 0; i < MON_MAX_PREAUTH_KEX; i++)
		CHECK(sign_req(&m, 0, "ssh-ed25519", 32, &reply) == 0);
	CHECK(sign_req(&m, 0, "ssh-ed25519", 32, &reply) < 0);
	/* after the login: no more signatures from the child */
	monitor_init(&m, NULL, hk, 1);
	m.state = MS_AUTHED;
	CHECK(sign_req(&m, 0, "ssh-ed25519", 32, &reply) < 0);
	CHECK(strstr(m.err, "sign request") && strstr(m.err, "not valid authenticated"));
	buf_free(&reply);
}

/* The group exchange's group: only before the login, three u32s exactly
 * (the choice itself is tested through logins in test_algorithms.py). */
static void test_moduli(void)
{
	struct monitor m;
	buf_t reply, b;
	buf_init(&reply, 64, MON_MSG_MAX);
	buf_init(&b, 16, 64);
	buf_put_u32(&b, 2048);
	buf_put_u32(&b, 3072);
	monitor_init(&m, NULL, hk, 1);
	CHECK(send_req(&m, MON_MODULI, &b, &reply) < 0);       /* max missing */
	if (HAVE_DH) {
		CHECK(strstr(m.err, "malformed moduli request") != NULL);
	} else {        /* --disable-dh: refused in every state */
		printf("SKIPPED: moduli request parsing (built with --disable-dh); "
		       "checking it is refused\n");
		CHECK(strstr(m.err, "moduli request") && strstr(m.err, "not valid"));
	}
	buf_put_u32(&b, 8192);
	monitor_init(&m, NULL, hk, 1);
	m.state = MS_AUTHED;
	CHECK(send_req(&m, MON_MODULI, &b, &reply) < 0);
	CHECK(strstr(m.err, "moduli request") && strstr(m.err, "not valid authenticated"));
	buf_free(&b);
	buf_free(&reply);
}

static void test_states(void)
{
	struct monitor m;
	buf_t reply, body;
	buf_init(&reply, 64, MON_MSG_MAX);
	buf_init(&body, 64, 4096);
	buf_put_u8(&body, 0);
	buf_put_cstring(&body, "secret");
	/* a password check before the user is named, or after success */
	monitor_init(&m, NULL, hk, 1);
	CHECK(send_req(&m, MON_PASSWORD, &body, &reply) < 0);
	monitor_init(&m, NULL, hk, 1);
	m.state = MS_AUTHED;
	CHECK(send_req(&m, MON_PASSWORD, &body, &reply) < 0);
	CHECK(strstr(m.err, "password request (type 5) not valid authenticated") != NULL);
	/* publickey likewise */
	monitor_init(&m, NULL, hk, 1);
	m.state = MS_AUTHED;
	CHECK(send_req(&m, MON_PUBKEY, &body, &reply) < 0);
	/* a second user request */
	monitor_init(&m, NULL, hk, 1);
	m.state = MS_USER;
	CHECK(send_req(&m, MON_USER, &body, &reply) < 0);
	/* the transport state before a login */
	monitor_init(&m, NULL, hk, 1);
	CHECK(send_req(&m, MON_TRANSPORT, &body, &reply) < 0);
	CHECK(strstr(m.err, "transport request") != NULL);
	/* nothing at all after the hand-over, not even a log line */
	monitor_init(&m, NULL, hk, 1);
	m.state = MS_DONE;
	CHECK(send_req(&m, MON_LOG, NULL, &reply) < 0);
	/* a reply type or an unknown type as a request */
	monitor_init(&m, NULL, hk, 1);
	CHECK(send_req(&m, MON_SIGN_REPLY, &body, &reply) < 0);
	CHECK(send_req(&m, 200, &body, &reply) < 0);
	/* an empty message */
	CHECK(monitor_dispatch(&m, (const uint8_t *)"", 0, &reply) < 0);
	buf_free(&body);
	buf_free(&reply);
}

static void test_lengths(void)
{
	struct monitor m;
	buf_t reply, b;
	buf_init(&reply, 64, MON_MSG_MAX);
	/* a password request whose string is longer than the message */
	buf_init(&b, 64, 4096);
	buf_put_u8(&b, 0);
	buf_put_u32(&b, 1000);
	buf_put(&b, "short", 5);
	monitor_init(&m, NULL, hk, 1);
	m.state = MS_USER;
	CHECK(send_req(&m, MON_PASSWORD, &b, &reply) < 0);
	CHECK(strstr(m.err, "malformed password request") != NULL);
	/* a sign request with a byte too many */
	buf_reset(&b);
	uint8_t h[32] = { 0 };
	buf_put_u32(&b, 0);
	buf_put_cstring(&b, "ssh-ed25519");
	buf_put_string(&b, h, sizeof(h));
	buf_put_u8(&b, 0);
	monitor_init(&m, NULL, hk, 1);
	CHECK(send_req(&m, MON_SIGN, &b, &reply) < 0);
	/* a truncated log line */
	buf_reset(&b);
	buf_put_u32(&b, 3);
	buf_put_u32(&b, 50);
	monitor_init(&m, NULL, hk, 1);
	CHECK(send_req(&m, MON_LOG, &b, &reply) < 0);
	/* a good log line is fine in any state but DONE */
	buf_reset(&b);
	buf_put_u32(&b, 3);
	buf_put_cstring(&b, "unit test: a log line through the monitor");
	monitor_init(&m, NULL, hk, 1);
	CHECK(send_req(&m, MON_LOG, &b, &reply) == 0 && buf_used(&reply) == 0);
	buf_free(&b);
	buf_free(&reply);
}

/* Seal packets with one state; hand it over after `split` packets; the
 * receiver (one continuous state) must open every packet. */
static void handover_roundtrip(const char *cipher, const char *mac)
{
	size_t kl, il, ml = 0;
	int aead;
	uint8_t key[64], iv[64], mk[64];
	if (unit_cipher_left_out(cipher, mac))
		return;
	CHECK(cipher_info(cipher, &kl, &il, &aead) == 0);
	if (mac)
		CHECK(mac_info(mac, &ml) == 0);
	rand_bytes(key, sizeof(key));
	rand_bytes(iv, sizeof(iv));
	rand_bytes(mk, sizeof(mk));
	tcrypt_t *tx = tcrypt_new(cipher, mac, key, iv, mk, 1);
	tcrypt_t *rx = tcrypt_new(cipher, mac, key, iv, mk, 0);
	CHECK(tx && rx);
	if (!tx || !rx)
		return;
	int ok = 1;
	for (uint32_t seq = 0; seq < 6; seq++) {
		if (seq == 3) {
			struct tcrypt_state st;
			CHECK(tcrypt_export(tx, &st) == 0);
			tcrypt_free(tx);
			tx = tcrypt_import(&st, 1);
			CHECK(tx != NULL);
			if (!tx)
				break;
		}
		uint8_t pkt[4 + 64 + 64];
		size_t bs = tcrypt_blocksize(tx);
		size_t body = tcrypt_len_excluded(tx) ? 48 : 48 - 4;
		body += (bs - (body + (tcrypt_len_excluded(tx) ? 0 : 4)) % bs) % bs;
		size_t n = 4 + body;
		memset(pkt, 0, sizeof(pkt));
		pkt[0] = 0; pkt[1] = 0; pkt[2] = 0; pkt[3] = (uint8_t)body;
		pkt[4] = 4;
		memset(pkt + 5, (int)('a' + seq), body - 1);
		CHECK(tcrypt_seal(tx, seq, pkt, n) == 0);
		uint32_t plen;
		CHECK(tcrypt_open_len(rx, seq, pkt, &plen) == 0 && plen == body);
		if (tcrypt_open(rx, seq, pkt, n) != 0 || pkt[5] != 'a' + seq)
			ok = 0;
	}
	CHECK(ok);
	tcrypt_free(tx);
	tcrypt_free(rx);
}

int main(void)
{
	crypto_init();
	log_init("test_monitor", LOG_L_INFO, 1, NULL, 0);
	CHECK(key_generate(KEY_ED25519, 0, &hk[0]) == 0);
	test_sign();
	test_moduli();
	test_states();
	test_lengths();
	handover_roundtrip("aes128-ctr", "hmac-sha2-256");
	handover_roundtrip("aes256-ctr", "hmac-sha2-512-etm@openssh.com");
	handover_roundtrip("aes128-gcm@openssh.com", NULL);
	handover_roundtrip("aes256-gcm@openssh.com", NULL);
	handover_roundtrip("chacha20-poly1305@openssh.com", NULL);
	key_free(hk[0]);
	return UNIT_DONE();
}
