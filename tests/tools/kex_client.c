/* kex_client: the client half of a key exchange, for tests that drive a
 * method no stock client speaks (sntrup761x25519-sha512 under its plain
 * name). Uses kexalg_client_*.
 *   kex_client start NAME              -> "PUBHEX STATEHEX"
 *   kex_client finish NAME STATE SERV  -> "KHEX" (K's bytes), exit 1 if refused */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "kexalg.h"

static void put_hex(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf("%02x", p[i]);
}

static size_t get_hex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = 0;
	while (hex[0] && hex[1] && n < cap) {
		unsigned v;
		if (sscanf(hex, "%2x", &v) != 1)
			break;
		out[n++] = (uint8_t)v;
		hex += 2;
	}
	return n;
}

int main(int argc, char **argv)
{
	static uint8_t state[KEXALG_STATE_MAX], pub[4096], k[1024];
	enum kex_kind kind;
	enum hash_alg h;

	if (argc < 3 || crypto_init() != 0 || kexalg_lookup(argv[2], &kind, &h) < 0) {
		fprintf(stderr, "usage: kex_client start|finish NAME [STATE SERVER]\n");
		return 2;
	}
	if (strcmp(argv[1], "start") == 0) {
		size_t pl = sizeof pub;
		if (kexalg_client_start(kind, state, pub, &pl) < 0)
			return 1;
		put_hex(pub, pl);
		putchar(' ');
		put_hex(state, sizeof state);
		putchar('\n');
		return 0;
	}
	if (strcmp(argv[1], "finish") == 0 && argc == 5) {
		size_t kl = sizeof k;
		get_hex(argv[3], state, sizeof state);
		size_t sl = get_hex(argv[4], pub, sizeof pub);
		if (kexalg_client_finish(kind, state, pub, sl, k, &kl) < 0)
			return 1;
		put_hex(k, kl);
		putchar('\n');
		return 0;
	}
	return 2;
}
