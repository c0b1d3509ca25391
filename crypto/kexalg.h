/* kexalg: the server's half of each key-exchange method's math.
 * RFC 8731 (curve25519-sha256), RFC 5656 (ecdh-sha2-nistp*), RFC 8268 and
 * RFC 3526 (diffie-hellman-group14/16 MODP groups), sntrup761x25519-sha512
 * (OpenSSH's PROTOCOL; draft-josefsson-ntruprime-ssh). */
#ifndef WOMBAT_KEXALG_H
#define WOMBAT_KEXALG_H

#include <stddef.h>
#include <stdint.h>
#include "crypto.h"

enum kex_kind { KEX_X25519, KEX_ECDH_P256, KEX_ECDH_P384, KEX_ECDH_P521,
		KEX_DH14, KEX_DH16,
		KEX_SNTRUP761X25519 };

/* Name -> kind and exchange-hash algorithm; -1 if unknown. Names:
 * curve25519-sha256, curve25519-sha256@libssh.org, ecdh-sha2-nistp256/384/521,
 * diffie-hellman-group14-sha256, diffie-hellman-group16-sha512. */
int kexalg_lookup(const char *name, enum kex_kind *kind, enum hash_alg *h);
/* Is the client's value carried as an mpint (DH: e/f) rather than a string? */
int kexalg_is_dh(enum kex_kind k);
/* Does K enter the exchange hash and key derivation as an SSH string (the
 * hybrid KEMs hash their shared secrets into a fixed-length K) rather than
 * as an mpint? */
int kexalg_k_is_string(enum kex_kind k);

/* One exchange, server side, ephemeral key made and wiped inside.
 *  client_pub: Q_C string contents (ECDH/X25519) or e's magnitude (DH).
 *  server_pub: out, Q_S (or f's magnitude); *server_len in: capacity (>= 2048
 *              suffices for all), out: length.
 *  shared:     out, K as an unsigned big-endian magnitude (caller encodes as
 *              mpint), or K's bytes for an SSH string when
 *              kexalg_k_is_string(k); *shared_len in: capacity (>= 512), out:
 *              length.
 * Returns -1 for an invalid peer value: wrong length, point not on the curve,
 * e outside [2, p-2], X25519 all-zero result, a non-canonical sntrup761 key. */
int kexalg_server(enum kex_kind k, const uint8_t *client_pub, size_t client_len,
		  uint8_t *server_pub, size_t *server_len,
		  uint8_t *shared, size_t *shared_len);

/* Client half, for tests: make a keypair (opaque state kept by the caller in
 * `state`: 1100 bytes suffice for the classical kinds, KEXALG_STATE_MAX for
 * all), output the public value; then finish with the server's value to get K. */
#define KEXALG_STATE_MAX 4096
int kexalg_client_start(enum kex_kind k, uint8_t *state, uint8_t *pub, size_t *pub_len);
int kexalg_client_finish(enum kex_kind k, uint8_t *state, const uint8_t *server_pub,
			 size_t server_len, uint8_t *shared, size_t *shared_len);

#endif
