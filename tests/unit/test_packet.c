/* packet: encode/decode round trips over a socket pair, for every cipher
 * and MAC and with compression; bad lengths and tampering are refused. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "build_opts.h"
#include "crypto.h"
#include "packet.h"
#include "unit_cipher.h"

struct pair {
	struct packet tx, rx;
	int fds[2];
};

static void pair_open(struct pair *p)
{
	socketpair(AF_UNIX, SOCK_STREAM, 0, p->fds);
	fcntl(p->fds[0], F_SETFL, O_NONBLOCK);
	fcntl(p->fds[1], F_SETFL, O_NONBLOCK);
	pkt_init(&p->tx, p->fds[0], p->fds[0]);
	pkt_init(&p->rx, p->fds[1], p->fds[1]);
}

static void pair_close(struct pair *p)
{
	pkt_free(&p->tx);
	pkt_free(&p->rx);
	close(p->fds[0]);
	close(p->fds[1]);
}

/* Same keys on both ends of one direction. */
static void pair_keys(struct pair *p, const char *cipher, const char *mac)
{
	uint8_t key[64], iv[16], mkey[64];
	for (int i = 0; i < 64; i++)
		key[i] = (uint8_t)i, mkey[i] = (uint8_t)(200 - i);
	memset(iv, 7, sizeof(iv));
	pkt_set_tx(&p->tx, tcrypt_new(cipher, mac, key, iv, mkey, 1));
	pkt_set_rx(&p->rx, tcrypt_new(cipher, mac, key, iv, mkey, 0));
}

/* Move bytes until the receiver has a packet (or fails); returns
 * pkt_next's result. */
static int pump(struct pair *p, const uint8_t **pl, size_t *len)
{
	for (int spins = 0; spins < 100000; spins++) {
		int rc = pkt_next(&p->rx, pl, len);
		if (rc != 0)
			return rc;
		pkt_flush(&p->tx);
		pkt_fill(&p->rx);
	}
	return 0;
}

static void fill_payload(uint8_t *b, size_t n, int compressible)
{
	b[0] = 94;     /* any message number */
	for (size_t i = 1; i < n; i++)
		b[i] = compressible ? (uint8_t)('a' + i % 7) : (uint8_t)rand();
}

static void round_trip(struct pair *p, const char *what, int compressible)
{
	static const size_t sizes[] = { 1, 2, 15, 16, 17, 100, 4096, 32768, 200000 };
	static uint8_t buf[200000];
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n = sizes[i];
		fill_payload(buf, n, compressible);
		CHECK(pkt_send(&p->tx, buf, n) == 0);
		const uint8_t *pl = NULL;
		size_t len = 0;
		int rc = pump(p, &pl, &len);
		CHECK(rc == 1);
		if (rc != 1 || len != n || memcmp(pl, buf, n) != 0) {
			fprintf(stderr, "%s: round trip of %zu bytes failed (%s)\n", what, n,
				p->rx.err);
			unit_failures++;
		}
	}
	CHECK(p->tx.seq_out == p->rx.seq_in);
}

/* The cipher for a test about something else: an AES one where built. */
static const char *some_cipher(const char *aes_name)
{
	return HAVE_AES ? aes_name : "chacha20-poly1305@openssh.com";
}

static void test_every_cipher_and_mac(void)
{
	static const char *const combos[][2] = {
		{ "none", NULL },
		{ "chacha20-poly1305@openssh.com", NULL },
		{ "aes128-gcm@openssh.com", NULL }, { "aes256-gcm@openssh.com", NULL },
		{ "aes128-ctr", "hmac-sha2-256" }, { "aes256-ctr", "hmac-sha2-512" },
		{ "aes128-ctr", "hmac-sha2-256-etm@openssh.com" },
		{ "aes256-ctr", "hmac-sha2-512-etm@openssh.com" },
	};
	for (size_t i = 0; i < sizeof(combos) / sizeof(combos[0]); i++) {
		struct pair p;
		if (unit_cipher_left_out(combos[i][0], combos[i][1]))
			continue;
		pair_open(&p);
		if (strcmp(combos[i][0], "none") != 0)
			pair_keys(&p, combos[i][0], combos[i][1]);
		round_trip(&p, combos[i][0], 0);
		pair_close(&p);
	}
}

static void test_compression(void)
{
	struct pair p;
	pair_open(&p);
	pair_keys(&p, some_cipher("aes128-gcm@openssh.com"), NULL);
	CHECK(pkt_start_compression(&p.tx, 0, 1) == 0);
	CHECK(pkt_start_compression(&p.rx, 1, 0) == 0);
	round_trip(&p, "zlib", 1);
	/* compressible data really shrank on the wire */
	CHECK(p.tx.total_out < 100000);
	round_trip(&p, "zlib random", 0);
	pair_close(&p);
}

static void test_bad_length_refused(void)
{
	struct pair p;
	pair_open(&p);
	static const uint8_t bad[16] = { 0xff, 0xff, 0xff, 0xff, 4 };
	CHECK(write(p.fds[0], bad, sizeof(bad)) == (ssize_t)sizeof(bad));
	const uint8_t *pl;
	size_t len;
	CHECK(pump(&p, &pl, &len) == -1);
	CHECK(strstr(p.rx.err, "bad packet length") != NULL);
	pair_close(&p);

	/* length not a multiple of the block size */
	pair_open(&p);
	static const uint8_t odd[16] = { 0, 0, 0, 9, 4 };
	CHECK(write(p.fds[0], odd, sizeof(odd)) == (ssize_t)sizeof(odd));
	CHECK(pump(&p, &pl, &len) == -1);
	CHECK(strstr(p.rx.err, "block size") != NULL);
	pair_close(&p);
}

static void test_tampering_refused(void)
{
	struct pair p;
	pair_open(&p);
	pair_keys(&p, some_cipher("aes128-ctr"), "hmac-sha2-256-etm@openssh.com");
	uint8_t msg[64];
	fill_payload(msg, sizeof(msg), 0);
	CHECK(pkt_send(&p.tx, msg, sizeof(msg)) == 0);
	buf_data(&p.tx.out)[20] ^= 0x01;     /* one bit on the wire */
	const uint8_t *pl;
	size_t len;
	CHECK(pump(&p, &pl, &len) == -1);
	CHECK(strstr(p.rx.err, "MAC") != NULL);
	pair_close(&p);
}

/* pkt_room + pkt_seal_queued (the channel layer's copy-free output): three
 * payloads written at the positions pkt_room gives, the last one shorter,
 * sealed in turn, arrive as three packets, between packets sent the usual
 * way; with compression on pkt_room declines. */
static void test_room_in_queue(void)
{
	static const char *const ciphers[][2] = {
		{ "chacha20-poly1305@openssh.com", NULL }, { "aes128-gcm@openssh.com", NULL },
		{ "aes128-ctr", "hmac-sha2-256" }, { "aes256-ctr", "hmac-sha2-512-etm@openssh.com" },
	};
	static const size_t lens[] = { 1, 100, 32768 + 13 };
	for (size_t c = 0; c < sizeof(ciphers) / sizeof(ciphers[0]); c++)
		for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
			struct pair p;
			if (unit_cipher_left_out(ciphers[c][0], ciphers[c][1]))
				break;
			pair_open(&p);
			pair_keys(&p, ciphers[c][0], ciphers[c][1]);
			size_t len = lens[l], sizes[3] = { len, len, len > 1 ? len / 2 : 1 };
			static uint8_t want[3][32768 + 13], first[10];
			fill_payload(first, sizeof first, 0);
			CHECK(pkt_send(&p.tx, first, sizeof first) == 0);
			size_t stride = 0;
			uint8_t *room = pkt_room(&p.tx, 3, len, &stride);
			CHECK(room != NULL && stride > len);
			if (!room) {
				pair_close(&p);
				continue;
			}
			for (int i = 0; i < 3; i++) {
				fill_payload(want[i], sizes[i], 0);
				memcpy(room + (size_t)i * stride, want[i], sizes[i]);
				CHECK(pkt_seal_queued(&p.tx, sizes[i]) == 0);
			}
			CHECK(pkt_send(&p.tx, first, sizeof first) == 0);
			const uint8_t *pl = NULL;
			size_t got = 0;
			CHECK(pump(&p, &pl, &got) == 1 && got == sizeof first);
			for (int i = 0; i < 3; i++) {
				CHECK(pump(&p, &pl, &got) == 1);
				CHECK(got == sizes[i] && memcmp(pl, want[i], sizes[i]) == 0);
			}
			CHECK(pump(&p, &pl, &got) == 1 && got == sizeof first &&
			      memcmp(pl, first, sizeof first) == 0);
			CHECK(p.tx.seq_out == 5 && p.rx.seq_in == 5);
			pair_close(&p);
		}
	/* with compression on, payloads cannot be written in place (in a
	 * --disable-zlib build compression never starts: main checks that) */
	if (HAVE_ZLIB) {
		struct pair p;
		pair_open(&p);
		CHECK(pkt_start_compression(&p.tx, 0, 1) == 0);
		size_t stride;
		CHECK(pkt_room(&p.tx, 1, 100, &stride) == NULL);
		pair_close(&p);
	}
}

int main(void)
{
	crypto_init();
	srand(1);
	test_every_cipher_and_mac();
	if (HAVE_ZLIB) {
		test_compression();
	} else {
		struct pair p;
		printf("SKIPPED: zlib compression (built with --disable-zlib); checking it "
		       "cannot be turned on\n");
		pair_open(&p);
		CHECK(pkt_start_compression(&p.tx, 0, 1) == -1);
		pair_close(&p);
	}
	test_bad_length_refused();
	test_tampering_refused();
	test_room_in_queue();
	return UNIT_DONE();
}
