/* Streamlined NTRU Prime sntrup761 (p = 761, q = 4591, w = 286): the KEM of
 * the NTRU Prime round-3 specification, written here. Constant time: no
 * branch or memory index depends on a secret; secrets are wiped. */
#ifndef WOMBAT_SNTRUP761_H
#define WOMBAT_SNTRUP761_H

#include <stdint.h>

#define SNTRUP761_PUBLICKEY_BYTES 1158
#define SNTRUP761_SECRETKEY_BYTES 1763
#define SNTRUP761_CIPHERTEXT_BYTES 1039
#define SNTRUP761_SHARED_BYTES 32

/* A new key pair (tests and the test client; the server only encapsulates). */
void sntrup761_keypair(uint8_t pk[SNTRUP761_PUBLICKEY_BYTES],
		       uint8_t sk[SNTRUP761_SECRETKEY_BYTES]);

/* Encapsulate to pk: ciphertext ct and shared secret ss. Returns -1 (and
 * writes nothing) when pk is not the canonical encoding of a public key. */
int sntrup761_enc(uint8_t ct[SNTRUP761_CIPHERTEXT_BYTES],
		  uint8_t ss[SNTRUP761_SHARED_BYTES],
		  const uint8_t pk[SNTRUP761_PUBLICKEY_BYTES]);

/* Decapsulate ct with sk. An altered ciphertext yields a pseudorandom ss
 * (implicit rejection), never an error. */
void sntrup761_dec(uint8_t ss[SNTRUP761_SHARED_BYTES],
		   const uint8_t ct[SNTRUP761_CIPHERTEXT_BYTES],
		   const uint8_t sk[SNTRUP761_SECRETKEY_BYTES]);

#endif
