/* kex: KEXINIT negotiation, the exchange (RFC 4253 s7-8 with RFC 8731,
 * 5656, 8268, 4419), key derivation (s7.2), strict KEX (OpenSSH PROTOCOL 1.9),
 * ext-info / server-sig-algs (RFC 8308) and rekeying (s9). */
#ifndef WOMBAT_KEX_H
#define WOMBAT_KEX_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "buf.h"
#include "config.h"
#include "hostkey.h"
#include "kexalg.h"
#include "packet.h"

#define KEX_NAME_MAX 64

struct kex {
	const struct config *cfg;
	struct sshkey **hostkeys;
	int n_hostkeys;
	char v_c[256], v_s[256];    /* version lines without CR LF */
	buf_t i_c, i_s;             /* KEXINIT payloads of this exchange */
	uint8_t session_id[64];
	size_t session_id_len;
	int done_first;             /* the initial exchange has completed */
	int sent_kexinit;           /* our KEXINIT for this round is out */
	int got_kexinit;            /* the client's KEXINIT for this round */
	int sent_newkeys;
	int strict;                 /* kex-strict-c-v00 seen in the first KEXINIT */
	int ext_info_c;             /* client wants EXT_INFO */
	int skip_guess;             /* ignore the next kex packet (wrong guess) */
	int rekeys;                 /* completed re-exchanges */
	time_t last_kex_time;
	char alg_kex[KEX_NAME_MAX], alg_hostkey[KEX_NAME_MAX];
	char enc_c2s[KEX_NAME_MAX], enc_s2c[KEX_NAME_MAX];
	char mac_c2s[KEX_NAME_MAX], mac_s2c[KEX_NAME_MAX];
	char comp_c2s[KEX_NAME_MAX], comp_s2c[KEX_NAME_MAX];
	tcrypt_t *pending_rx;       /* installed at the client's NEWKEYS */
	tcrypt_t *pending_tx;       /* installed right after our NEWKEYS */
	int newkeys_sent_once;      /* for EXT_INFO after the first NEWKEYS */
	/* diffie-hellman-group-exchange: the client's request and our group */
	int gex_have_group;         /* GEX_GROUP sent in this exchange */
	int gex_old;                /* the request was the n-only old form */
	uint32_t gex_min, gex_n, gex_max;
	struct dh_group gex_group;
	char err[200];
};

int kex_init(struct kex *k, const struct config *cfg, struct sshkey **hostkeys,
	     int n_hostkeys);
void kex_free(struct kex *k);
/* A key exchange is under way: only transport messages may be sent. */
static inline int kex_in_progress(const struct kex *k)
{
	return k->sent_kexinit || k->got_kexinit;
}
/* Send our KEXINIT (starts a server-initiated rekey if none is running). */
int kex_send_kexinit(struct kex *k, struct packet *p);
/* Handle one transport message of type 20..49. 0 ok, -1 fatal (k->err). */
int kex_handle(struct kex *k, struct packet *p, uint8_t msg,
	       const uint8_t *payload, size_t len);
/* Should the server start a rekey now (byte or time limit)? */
int kex_rekey_due(const struct kex *k, const struct packet *p, time_t now);
/* Comma list of host key algorithms the loaded keys can serve. */
void kex_hostkey_algs(const struct kex *k, char *out, size_t outsz);

#endif
