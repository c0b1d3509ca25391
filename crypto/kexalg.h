/* kexalg: the server's half of each key-exchange method's math.
 * RFC 8731 (curve25519-sha256), RFC 5656 (ecdh-sha2-nistp*), RFC 8268 and
 * RFC 3526 (diffie-hellman-group14/16/18 MODP groups), RFC 4419
 * (diffie-hellman-group-exchange-sha256: the math, given the group), and the
 * post-quantum hybrids: a KEM plus X25519 (mlkem768x25519-sha256, IETF draft
 * "mlkem-hybrid-kex"; sntrup761x25519-sha512, OpenSSH PROTOCOL and
 * draft-josefsson-ntruprime-ssh). */
#ifndef WOMBAT_KEXALG_H
#define WOMBAT_KEXALG_H

#include <stddef.h>
#include <stdint.h>
#include "crypto.h"

enum kex_kind { KEX_X25519, KEX_ECDH_P256, KEX_ECDH_P384, KEX_ECDH_P521,
		KEX_DH14, KEX_DH16, KEX_DH18, KEX_DH_GEX,
		KEX_MLKEM768X25519, KEX_SNTRUP761X25519 };

/* Client state for kexalg_client_start/finish: big enough for the largest
 * private part (ML-KEM-768's 2400-byte decapsulation key + an X25519 scalar). */
#define KEXALG_STATE_MAX 4096

/* A finite-field group for group exchange: p (big-endian magnitude, a safe
 * prime of DH_GROUP_MIN_BITS..DH_GROUP_MAX_BITS bits) and generator g. */
#define DH_GROUP_MIN_BITS 2048
#define DH_GROUP_MAX_BITS 8192
#define DH_GROUP_MAX_BYTES (DH_GROUP_MAX_BITS / 8)
struct dh_group {
	uint8_t p[DH_GROUP_MAX_BYTES];
	size_t p_len;
	unsigned bits;
	uint32_t g;
};

/* Name -> kind and exchange-hash algorithm; -1 if unknown. Names:
 * curve25519-sha256, curve25519-sha256@libssh.org, ecdh-sha2-nistp256/384/521,
 * diffie-hellman-group14-sha256, diffie-hellman-group16-sha512,
 * diffie-hellman-group18-sha512, diffie-hellman-group-exchange-sha256,
 * mlkem768x25519-sha256. */
int kexalg_lookup(const char *name, enum kex_kind *kind, enum hash_alg *h);
/* Is the client's value carried as an mpint (DH: e/f) rather than a string? */
int kexalg_is_dh(enum kex_kind k);
/* Does K enter the exchange hash and the key derivation as an SSH string
 * (the hybrids: K is a hash output) rather than as an mpint? */
int kexalg_k_is_string(enum kex_kind k);

/* One exchange, server side, ephemeral key made and wiped inside.
 *  client_pub: Q_C string contents (ECDH/X25519; the hybrids' C_INIT) or
 *              e's magnitude (DH).
 *  server_pub: out, Q_S (or f's magnitude; the hybrids' S_REPLY);
 *              *server_len in: capacity (>= 2048 suffices for all), out: length.
 *  shared:     out, K: an unsigned big-endian magnitude the caller encodes
 *              as an mpint, or for kexalg_k_is_string kinds the bytes of a
 *              string; *shared_len in: capacity (>= 1024), out: length.
 * Returns -1 for an invalid peer value: wrong length, point not on the curve,
 * e outside [2, p-2], X25519 all-zero result, an ML-KEM encapsulation key
 * failing FIPS 203's modulus check, a non-canonical sntrup761 key. */
int kexalg_server(enum kex_kind k, const uint8_t *client_pub, size_t client_len,
		  uint8_t *server_pub, size_t *server_len,
		  uint8_t *shared, size_t *shared_len);

/* kexalg_server for KEX_DH_GEX, in the group the exchange agreed on; -1
 * also for a group that is not sane (even p, size out of range, g < 2). */
int kexalg_group_server(const struct dh_group *grp, const uint8_t *client_pub,
			size_t client_len, uint8_t *server_pub, size_t *server_len,
			uint8_t *shared, size_t *shared_len);
int kexalg_group_client_start(const struct dh_group *grp, uint8_t state[KEXALG_STATE_MAX],
			      uint8_t *pub, size_t *pub_len);
int kexalg_group_client_finish(const struct dh_group *grp, uint8_t state[KEXALG_STATE_MAX],
			       const uint8_t *server_pub, size_t server_len,
			       uint8_t *shared, size_t *shared_len);

/* Client half, for tests: make a keypair (opaque state kept by the caller
 * in `state`), output the public value (*pub_len in: capacity, >= 2048
 * suffices); then finish with the server's value to get K. */
int kexalg_client_start(enum kex_kind k, uint8_t state[KEXALG_STATE_MAX], uint8_t *pub,
			size_t *pub_len);
int kexalg_client_finish(enum kex_kind k, uint8_t state[KEXALG_STATE_MAX],
			 const uint8_t *server_pub, size_t server_len,
			 uint8_t *shared, size_t *shared_len);

#endif
