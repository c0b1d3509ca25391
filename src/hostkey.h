/* hostkey: SSH public keys, signatures, and OpenSSH-format private key
 * files (PROTOCOL.key). Host keys sign; user keys verify.
 * RFC 8709 ssh-ed25519, RFC 5656 ecdsa-sha2-*, RFC 8332 rsa-sha2-256/512. */
#ifndef WOMBAT_HOSTKEY_H
#define WOMBAT_HOSTKEY_H

#include <stddef.h>
#include <stdint.h>
#include "buf.h"

enum key_type { KEY_ED25519, KEY_ECDSA_P256, KEY_ECDSA_P384, KEY_ECDSA_P521,
		KEY_RSA };

struct sshkey;   /* opaque */

/* Load an unencrypted openssh-key-v1 (or dropbear-format) private key. On failure returns -1 and
 * writes a human reason into err. */
int key_load_private(const char *path, struct sshkey **out, char *err, size_t errsz);
/* The same for a host key, which is also refused (as sshd does) when group
 * or others may read or write the file (mode & 077), or when it is owned by
 * anyone but root or the effective user; err names the file and its mode or
 * owner. */
int key_load_host(const char *path, struct sshkey **out, char *err, size_t errsz);
/* bits only matters for RSA (0 = 3072). */
int key_generate(enum key_type t, int bits, struct sshkey **out);
/* Write the private key (openssh-key-v1, mode 0600, created exclusively or
 * replaced atomically) and path.pub. */
int key_save_private(const struct sshkey *k, const char *path, const char *comment,
		     char *err, size_t errsz);
/* dropbear's private key format (dropbearkey(1) output: ed25519, ecdsa,
 * rsa), which key_load_private and key_load_host also read. Parsing sets
 * *why on failure; saving writes the file mode 0600 and no .pub. */
int key_from_dropbear(const uint8_t *bin, size_t n, struct sshkey **out, const char **why);
int key_save_dropbear(const struct sshkey *k, const char *path, char *err, size_t errsz);
void key_free(struct sshkey *k);
/* The private key as a binary openssh-key-v1 container (no armour, no
 * comment) and back: how the listener hands host keys to the connection
 * process it executes (listen.c). The caller wipes the bytes. */
int key_private_blob(const struct sshkey *k, buf_t *out);
/* key_from_private_blob trusts that the private half makes the public one
 * (the listener proved it reading the file): no scalar multiplication. */
int key_from_private_blob(const uint8_t *bin, size_t n, struct sshkey **out);

enum key_type key_get_type(const struct sshkey *k);
int key_has_private(const struct sshkey *k);
/* "ssh-ed25519", "ecdsa-sha2-nistp256", ..., "ssh-rsa" */
const char *key_type_name(const struct sshkey *k);
/* Parse "ssh-ed25519" etc.; -1 unknown or left out of this build. */
int key_type_from_name(const char *name, enum key_type *t);
/* For a key type this build was configured without, why ("RSA keys are
 * left out of this build (configured with --disable-rsa)"); NULL for a
 * type it has, or one wombat does not know. */
const char *key_type_left_out(const char *name);
const char *key_kind_left_out(enum key_type t);
/* Wire public key blob (RFC 4253 s6.6), appended to out. */
int key_public_blob(const struct sshkey *k, buf_t *out);
/* Parse a public key blob. */
int key_from_blob(const uint8_t *blob, size_t n, struct sshkey **out);
int key_equal_public(const struct sshkey *a, const struct sshkey *b);

/* Is sigalg a signature algorithm this key can make/verify?
 * ed25519: "ssh-ed25519"; ecdsa: its type name; rsa: "rsa-sha2-256",
 * "rsa-sha2-512" (SHA-1 "ssh-rsa" is refused, as modern OpenSSH does). */
int key_sigalg_ok(const struct sshkey *k, const char *sigalg);
/* Can a signature of this algorithm by k be verified? key_sigalg_ok's
 * names, and for RSA also "ssh-rsa" (SHA-1): user keys, when the admin puts
 * it in PubkeyAcceptedAlgorithms. wombat never signs with ssh-rsa. */
int key_verify_alg_ok(const struct sshkey *k, const char *sigalg);
/* Append the signature blob contents (string sigalg, string sig) to out. */
int key_sign(const struct sshkey *k, const char *sigalg, const uint8_t *data,
	     size_t n, buf_t *out);
/* Verify signature blob `sig` (string sigalg, string sig) over data; the
 * blob's sigalg must equal `sigalg`. 0 = valid. */
int key_verify(const struct sshkey *k, const char *sigalg, const uint8_t *sig,
	       size_t sign, const uint8_t *data, size_t n);

/* "SHA256:<base64 without padding>" */
void key_fingerprint(const struct sshkey *k, char *out, size_t outsz);
/* "ssh-ed25519 AAAA... comment" (one line, no newline) */
int key_public_line(const struct sshkey *k, const char *comment, char *out, size_t outsz);
/* Parse one authorized_keys/known_hosts-style "type base64 [comment]"
 * starting at s (options already skipped). */
int key_from_public_line(const char *s, struct sshkey **out);

/* base64 (RFC 4648) helpers used for key lines. */
int b64_encode(const uint8_t *in, size_t n, char *out, size_t outsz, int pad);
int b64_decode(const char *in, size_t n, uint8_t *out, size_t *outlen);

#endif
