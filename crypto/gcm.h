/* gcm: AES-GCM (NIST SP 800-38D) with 96-bit IVs and 128-bit tags, written
 * here over aes.h and ghash.h; constant time on every path. */
#ifndef WOMBAT_GCM_H
#define WOMBAT_GCM_H

#include <stddef.h>
#include <stdint.h>

#include "aes.h"
#include "ghash.h"

#define GCM_IV_LEN 12
#define GCM_TAG 16

struct gcm_key {
	struct aes_key aes;
	struct ghash_key gh;
};

int gcm_setkey(struct gcm_key *g, const uint8_t *key, size_t key_len);
/* Encrypt p[0..n) in place and write the tag over aad and ciphertext. */
void gcm_seal(const struct gcm_key *g, const uint8_t iv[GCM_IV_LEN],
	      const uint8_t *aad, size_t aad_len, uint8_t *p, size_t n,
	      uint8_t tag[GCM_TAG]);
/* Check the tag first (constant time); only then decrypt p[0..n) in place.
 * -1, with p untouched, if the tag is wrong. */
int gcm_open(const struct gcm_key *g, const uint8_t iv[GCM_IV_LEN],
	     const uint8_t *aad, size_t aad_len, uint8_t *p, size_t n,
	     const uint8_t tag[GCM_TAG]);

#endif
