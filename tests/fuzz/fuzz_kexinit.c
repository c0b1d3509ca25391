/* fuzz_kexinit: the server side of key exchange (src/kex.c kex_handle):
 * KEXINIT parsing and negotiation, guessed packets, the ECDH/DH exchange
 * init and NEWKEYS, with a real struct kex and struct packet and host keys
 * generated once at start-up.
 *
 * Input: [flags][u16 len][payload][u16 len][payload]... Each payload is one
 * transport message as the connection loop would hand it over (its first
 * byte is the message number). flags bit 0: the server sends its KEXINIT
 * before the first payload (as at connection start); bit 1: Compression on. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fuzz_util.h"
#include "hostkey.h"
#include "kex.h"
#include "packet.h"

static struct config cfg_plain, cfg_zlib;
static struct sshkey *hostkeys[3];
static int n_hostkeys;
static int verbose;   /* FUZZ_VERBOSE=1: say why each input stopped (seeds) */

static void add_hostkey(enum key_type t, int bits)
{
	struct sshkey *k;
	if (key_generate(t, bits, &k) < 0)
		abort();
	hostkeys[n_hostkeys++] = k;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_setup();
	config_defaults(&cfg_plain);
	config_defaults(&cfg_zlib);
	verbose = getenv("FUZZ_VERBOSE") != NULL;
	cfg_plain.compression = 0;
	cfg_zlib.compression = 1;
	/* RSA is small only to keep signing fast; the parsing is the same. */
	add_hostkey(KEY_ED25519, 0);
	add_hostkey(KEY_ECDSA_P256, 0);
	add_hostkey(KEY_RSA, 1024);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t flags = data[0];
	data++;
	size--;

	struct packet p;
	struct kex k;
	if (pkt_init(&p, -1, -1) < 0 ||
	    kex_init(&k, (flags & 2) ? &cfg_zlib : &cfg_plain, hostkeys, n_hostkeys) < 0)
		abort();
	snprintf(k.v_c, sizeof(k.v_c), "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3");
	snprintf(k.v_s, sizeof(k.v_s), "SSH-2.0-wombat_fuzz");
	if ((flags & 1) && kex_send_kexinit(&k, &p) < 0)
		abort();

	const uint8_t *part;
	size_t plen;
	while (fuzz_next_part(&data, &size, &part, &plen)) {
		if (plen == 0)
			continue;
		p.seq_in++;              /* as pkt_next does before handing it over */
		uint8_t msg = part[0];
		if (msg < 20 || msg > 49)
			continue;            /* not a kex message: conn.c would not call us */
		uint8_t *copy = fuzz_dup(part, plen);
		int rc = kex_handle(&k, &p, msg, copy, plen);
		free(copy);
		if (rc < 0) {
			if (verbose)
				fprintf(stderr, "kex_handle(%u): %s\n", msg, k.err);
			break;               /* the connection would be dropped */
		}
		if (verbose)
			fprintf(stderr, "kex_handle(%u): ok\n", msg);
		/* our replies are never read back; keep the queue small */
		buf_reset(&p.out);
	}
	kex_free(&k);
	pkt_free(&p);
	return 0;
}
