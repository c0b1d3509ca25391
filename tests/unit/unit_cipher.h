/* For the unit tests that run ciphers: --disable-aes leaves the aes*
 * ciphers out of the build. A test of one calls this first: in such a
 * build it says SKIPPED, checks that the name is refused (unknown to
 * cipher_info, no context from tcrypt_new) and returns 1. */
#ifndef WOMBAT_UNIT_CIPHER_H
#define WOMBAT_UNIT_CIPHER_H
#include "cipher.h"
#include "unit.h"

static inline int unit_cipher_left_out(const char *cipher, const char *mac)
{
	if (HAVE_AES || strncmp(cipher, "aes", 3) != 0)
		return 0;
	printf("SKIPPED: %s (built with --disable-aes); checking it is refused\n", cipher);
	uint8_t key[64] = { 0 }, iv[16] = { 0 };
	CHECK(cipher_info(cipher, NULL, NULL, NULL) == -1);
	CHECK(tcrypt_new(cipher, mac, key, iv, key, 1) == NULL);
	return 1;
}
#endif
