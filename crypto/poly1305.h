/* poly1305: the Poly1305 one-time authenticator (Bernstein 2005; RFC 8439
 * 2.5), written here with 64-bit limbs and 64x64->128-bit multiplications
 * (26-bit limbs on 32-bit CPUs); on x86-64 with AVX2, messages of 512 bytes
 * and more run four blocks at a time in vector registers (cpu_use_avx2(),
 * cpu_poly1305_impl()). No branch or index depends on the key or the
 * message, on either code. */
#ifndef WOMBAT_POLY1305_H
#define WOMBAT_POLY1305_H

#include <stddef.h>
#include <stdint.h>

#define POLY1305_KEY 32
#define POLY1305_TAG 16

void poly1305_mac(uint8_t tag[POLY1305_TAG], const uint8_t *m, size_t n,
		  const uint8_t key[POLY1305_KEY]);

#endif
