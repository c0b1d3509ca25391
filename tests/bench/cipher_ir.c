/* cipher_ir: seal (and optionally open) packets the size of a bulk
 * download's, for instruction counts under callgrind per cipher without a
 * server (callgrind_download.py cannot follow the privilege-separated
 * connection process). Built by `make tests/bench/cipher_ir`.
 *
 *   valgrind --tool=callgrind tests/bench/cipher_ir CIPHER [MAC] [MiB] [open]
 *
 * Prints the bytes processed; divide the Ir callgrind reports by them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cipher.h"
#include "crypto.h"

#define PAYLOAD 32768   /* a full channel data packet */

int main(int argc, char **argv)
{
	if (argc < 2 || crypto_init() != 0) {
		fprintf(stderr, "usage: cipher_ir CIPHER [MAC|none] [MiB] [open]\n");
		return 2;
	}
	const char *mac = argc > 2 ? argv[2] : "none";
	size_t mib = argc > 3 ? strtoul(argv[3], NULL, 10) : 32;
	int open_too = argc > 4 && strcmp(argv[4], "open") == 0;
	uint8_t key[64], iv[16], mackey[64];
	rand_bytes(key, sizeof key);
	rand_bytes(iv, sizeof iv);
	rand_bytes(mackey, sizeof mackey);
	tcrypt_t *enc = tcrypt_new(argv[1], mac, key, iv, mackey, 1);
	tcrypt_t *dec = tcrypt_new(argv[1], mac, key, iv, mackey, 0);
	if (!enc || !dec) {
		fprintf(stderr, "cipher_ir: unknown cipher/MAC %s/%s\n", argv[1], mac);
		return 2;
	}
	size_t bs = tcrypt_blocksize(enc);
	size_t body = 1 + PAYLOAD + 9 + 4;           /* padlen, data, header, padding */
	body += bs - (body + (tcrypt_len_excluded(enc) ? 0 : 4)) % bs;
	size_t n = 4 + body;
	uint8_t *pkt = calloc(1, n + tcrypt_taglen(enc));
	if (!pkt)
		return 2;
	size_t packets = (mib << 20) / PAYLOAD;
	for (uint32_t seq = 0; seq < packets; seq++) {
		uint32_t plen;
		pkt[0] = (uint8_t)(body >> 24);
		pkt[1] = (uint8_t)(body >> 16);
		pkt[2] = (uint8_t)(body >> 8);
		pkt[3] = (uint8_t)body;
		if (tcrypt_seal(enc, seq, pkt, n) != 0)
			return 1;
		if (open_too && (tcrypt_open_len(dec, seq, pkt, &plen) != 0 ||
				 tcrypt_open(dec, seq, pkt, n) != 0))
			return 1;
	}
	printf("%zu bytes of payload\n", packets * PAYLOAD);
	tcrypt_free(enc);
	tcrypt_free(dec);
	free(pkt);
	return 0;
}
