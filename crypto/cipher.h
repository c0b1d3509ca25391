/* cipher: the transport's per-direction packet protection (RFC 4253 s6,
 * RFC 4344 CTR, OpenSSH PROTOCOL 1.5 -etm, 1.6 aes-gcm, and
 * PROTOCOL.chacha20poly1305). The packet layer frames; this seals/opens.
 *
 * A packet in memory is [u32 packet_length][byte padlen][payload][padding]
 * followed by the tag/MAC (tcrypt_taglen bytes). Everything works in place.
 */
#ifndef WOMBAT_CIPHER_H
#define WOMBAT_CIPHER_H

#include <stddef.h>
#include <stdint.h>

#include "build_opts.h"

/* Supported names, in preference order (comma lists). A build configured
 * with --disable-aes (HAVE_AES 0) has chacha20-poly1305 alone; the AES
 * names are then only known ones (CIPHERS_AES_LEFT_OUT, for config.c). */
#define CIPHERS_AES "aes128-gcm@openssh.com,aes256-gcm@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr"
#if HAVE_AES
#define CIPHERS_DEFAULT "chacha20-poly1305@openssh.com," CIPHERS_AES
#define CIPHERS_AES_LEFT_OUT ""
#else
#define CIPHERS_DEFAULT "chacha20-poly1305@openssh.com"
#define CIPHERS_AES_LEFT_OUT "," CIPHERS_AES
#endif
#define MACS_DEFAULT "hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,hmac-sha2-256,hmac-sha2-512,hmac-sha1-etm@openssh.com,hmac-sha1"

/* Key material needed for a cipher / MAC. Returns -1 for unknown names.
 * "none" is known (initial state). aead=1 for chacha/gcm (MAC ignored). */
int cipher_info(const char *name, size_t *key_len, size_t *iv_len, int *aead);
int mac_info(const char *name, size_t *key_len);

typedef struct tcrypt tcrypt_t;

/* mac may be NULL or "none" for AEAD ciphers and for the none cipher.
 * Keys are copied; the caller wipes its copies. encrypt: 1 seal, 0 open. */
tcrypt_t *tcrypt_new(const char *cipher, const char *mac, const uint8_t *key,
		     const uint8_t *iv, const uint8_t *mackey, int encrypt);
void tcrypt_free(tcrypt_t *t);           /* wipes */

size_t tcrypt_blocksize(const tcrypt_t *t); /* padding multiple (>= 8) */
size_t tcrypt_taglen(const tcrypt_t *t);    /* MAC/tag bytes after packet */
/* 1 if packet_length is excluded from the padding multiple (AEAD, -etm). */
int tcrypt_len_excluded(const tcrypt_t *t);
/* Bytes that must be present before tcrypt_open_len can run (4 or a block). */
size_t tcrypt_first_len(const tcrypt_t *t);

/* Seal: pkt holds n = 4 + packet_length plaintext bytes, with room for
 * tcrypt_taglen() more after. Encrypts in place and writes the tag. */
int tcrypt_seal(tcrypt_t *t, uint32_t seq, uint8_t *pkt, size_t n);

/* Open, step 1: from the first tcrypt_first_len() bytes, get packet_length.
 * For CTR without -etm this decrypts those bytes in place (step 2 knows).
 * Not authenticated yet: the caller bounds-checks the length. */
int tcrypt_open_len(tcrypt_t *t, uint32_t seq, uint8_t *first, uint32_t *plen);
/* Open, step 2: pkt holds n = 4 + packet_length bytes and then the tag.
 * Verifies (constant time) and decrypts in place; afterwards pkt[0..n) is
 * plaintext. -1 on authentication failure (nothing is trusted then). */
int tcrypt_open(tcrypt_t *t, uint32_t seq, uint8_t *pkt, size_t n);

/* Hand-over of one direction to another process (privilege separation):
 * the names and the key material that rebuild the state as it stands now
 * (CTR: the current counter block; GCM: the current nonce). Only between
 * packets; -1 otherwise. The caller wipes st. */
struct tcrypt_state {
	char cipher[48], mac[48];
	uint8_t key[64], iv[64], mackey[64];
};
int tcrypt_export(const tcrypt_t *t, struct tcrypt_state *st);
tcrypt_t *tcrypt_import(const struct tcrypt_state *st, int encrypt);

#endif
