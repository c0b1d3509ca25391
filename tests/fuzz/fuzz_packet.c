/* fuzz_packet: incoming binary packets (src/packet.c pkt_next) under the
 * "none" cipher and under real keys, with and without zlib@openssh.com.
 *
 * Input: [flags][chunk][rest]. flags bit 0: seal mode, bit 1: zlib on the
 * receiving side, bits 2..4: cipher/MAC pair (0 = none).
 *  - raw mode: rest goes straight onto the wire (so with keys on, this
 *    exercises length checks and MAC/tag rejection);
 *  - seal mode: rest is a list of [u16 len][payload] that a sender with the
 *    same keys seals (uncompressed) first, so the receiver authenticates and
 *    then inflates fuzzed bytes; chunk's top bit flips one wire byte.
 * The wire bytes are fed to the receiver `chunk` bytes at a time (0 = all),
 * calling pkt_next until it wants more, as the connection loop does. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "packet.h"

static const char *const combos[][2] = {
	{ "none", NULL },
	{ "chacha20-poly1305@openssh.com", NULL },
	{ "aes128-gcm@openssh.com", NULL },
	{ "aes256-gcm@openssh.com", NULL },
	{ "aes128-ctr", "hmac-sha2-256" },
	{ "aes256-ctr", "hmac-sha2-512" },
	{ "aes128-ctr", "hmac-sha2-256-etm@openssh.com" },
	{ "aes256-ctr", "hmac-sha2-512-etm@openssh.com" },
};

static void set_keys(struct packet *p, int combo, int encrypt)
{
	uint8_t key[64], iv[16], mkey[64];
	if (combo == 0)
		return;
	for (int i = 0; i < 64; i++)
		key[i] = (uint8_t)i, mkey[i] = (uint8_t)(200 - i);
	memset(iv, 7, sizeof(iv));
	tcrypt_t *t = tcrypt_new(combos[combo][0], combos[combo][1], key, iv, mkey,
				 encrypt);
	if (!t)
		abort();
	if (encrypt)
		pkt_set_tx(p, t);
	else
		pkt_set_rx(p, t);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_setup();
	return 0;
}

/* Drain every complete packet; -1 once the receiver has failed. */
static int drain(struct packet *rx)
{
	const uint8_t *pl;
	size_t len;
	int rc;
	while ((rc = pkt_next(rx, &pl, &len)) == 1) {
		if (len == 0 || len > PACKET_MAX_PAYLOAD)
			abort();   /* pkt_next promises a message number */
		volatile uint8_t sink = pl[0] ^ pl[len - 1];
		(void)sink;
	}
	return rc;
}

/* Hand wire bytes to the receiver as pkt_fill would. */
static int feed(struct packet *rx, const uint8_t *wire, size_t n, size_t chunk)
{
	if (chunk == 0)
		chunk = n;
	while (n > 0) {
		size_t step = n < chunk ? n : chunk;
		if (rx->consume_pending) {
			buf_consume(&rx->in, rx->consume_pending);
			rx->consume_pending = 0;
		}
		if (buf_put(&rx->in, wire, step) < 0)
			return 0;     /* input buffer full: pkt_fill would stop reading */
		wire += step;
		n -= step;
		if (drain(rx) < 0)
			return -1;
	}
	return 0;
}

/* Seal each [u16 len][payload] part with the sender's keys. */
static void seal_parts(struct packet *tx, const uint8_t *data, size_t size)
{
	const uint8_t *part;
	size_t plen;
	while (fuzz_next_part(&data, &size, &part, &plen))
		if (plen > 0 && pkt_send(tx, part, plen) < 0)
			break;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	int seal = data[0] & 1, zlib = data[0] & 2;
	int combo = (data[0] >> 2) % (int)(sizeof(combos) / sizeof(combos[0]));
	size_t chunk = data[1] & 0x7f;
	int flip = data[1] & 0x80;
	data += 2;
	size -= 2;

	struct packet rx;
	if (pkt_init(&rx, -1, -1) < 0)
		abort();
	set_keys(&rx, combo, 0);
	if (zlib && pkt_start_compression(&rx, 1, 0) < 0)
		abort();

	if (seal) {
		struct packet tx;
		if (pkt_init(&tx, -1, -1) < 0)
			abort();
		set_keys(&tx, combo, 1);
		seal_parts(&tx, data, size);
		size_t n = buf_used(&tx.out);
		uint8_t *wire = fuzz_dup(buf_data(&tx.out), n);
		if (flip && n > 0)
			wire[(size ? data[0] : 0) * 131u % n] ^= 0x01;
		feed(&rx, wire, n, chunk);
		free(wire);
		pkt_free(&tx);
	} else {
		feed(&rx, data, size, chunk);
	}
	if (getenv("FUZZ_VERBOSE"))
		fprintf(stderr, "%s%s: %llu packets in; %s\n", combos[combo][0],
			zlib ? "+zlib" : "", (unsigned long long)rx.packets_in, rx.err);
	pkt_free(&rx);
	return 0;
}
