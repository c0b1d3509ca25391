/* The 26-bit-limb Poly1305 that 32-bit targets (no 128-bit integers) build,
 * compiled here on any host and checked like the 64-bit one: the RFC 8439
 * vector, edge keys and messages, random inputs against libtomcrypt. */
#define WOMBAT_POLY1305_32 1
#define poly1305_mac poly1305_mac_32
#include "../../crypto/poly1305.c"
#undef poly1305_mac

#include <stdlib.h>
#include <tomcrypt.h>

#include "unit.h"

static void check_against_libtomcrypt(const uint8_t key[32], const uint8_t *m, size_t n)
{
	uint8_t ours[16], theirs[16];
	unsigned long tl = 16;
	poly1305_mac_32(ours, m, n, key);
	CHECK(poly1305_memory(key, 32, m, (unsigned long)n, theirs, &tl) == CRYPT_OK);
	CHECK_MEM(ours, theirs, 16);
}

int main(void)
{
	uint8_t key[32], tag[16], want[16], m[1100];
	const char *msg = "Cryptographic Forum Research Group";

	if (crypto_init() != 0)
		return 1;
	unit_unhex("85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b", key, 32);
	unit_unhex("a8061dc1305136c6c22b8baf0c0127a9", want, 16);
	poly1305_mac_32(tag, (const uint8_t *)msg, strlen(msg), key);
	CHECK_MEM(tag, want, 16);

	memset(m, 0xff, sizeof m);
	for (int k = 0; k < 3; k++) {
		memset(key, k == 0 ? 0xff : 0, 32);
		if (k == 2)
			memset(key, 0xff, 16);
		for (size_t n = 0; n <= 160; n += 1 + n / 4)
			check_against_libtomcrypt(key, m, n);
	}
	for (int r = 0; r < 300; r++) {
		size_t n = (size_t)rand_u32() % sizeof m;
		rand_bytes(key, 32);
		rand_bytes(m, n);
		check_against_libtomcrypt(key, m, n);
	}
	return UNIT_DONE();
}
