/* X25519 (RFC 7748), constant time, written here. */
#ifndef WOMBAT_X25519_H
#define WOMBAT_X25519_H
#include <stdint.h>
/* out = X25519(scalar, point). Returns -1 if the result is all zero
 * (low-order point), else 0. */
int x25519(uint8_t out[32], const uint8_t scalar[32], const uint8_t point[32]);
/* out = X25519(scalar, 9) */
void x25519_base(uint8_t out[32], const uint8_t scalar[32]);
#endif
