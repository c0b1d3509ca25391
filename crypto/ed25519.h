/* Ed25519 (RFC 8032, PureEdDSA), written here; SHA-512 from libtomcrypt. */
#ifndef WOMBAT_ED25519_H
#define WOMBAT_ED25519_H
#include <stddef.h>
#include <stdint.h>
void ed25519_pubkey(uint8_t pk[32], const uint8_t seed[32]);
void ed25519_sign(uint8_t sig[64], const uint8_t *msg, size_t len,
		  const uint8_t seed[32], const uint8_t pk[32]);
/* 0 if valid, -1 otherwise (including non-canonical S or bad point). */
int ed25519_verify(const uint8_t sig[64], const uint8_t *msg, size_t len,
		   const uint8_t pk[32]);
#endif
