/* ct_check: runs every primitive that touches a secret with the secrets
 * marked undefined for valgrind's memcheck (make check-ct; see crypto/ct.h).
 * Any branch or table index that depends on a key, a private scalar or
 * plaintext is then an error report, and valgrind's exit status fails the
 * check. Outputs that go on the wire (ciphertext, tags, public keys,
 * signatures) are declared public after each call, as the protocol does.
 *
 *   ct_check [--expect aesni|portable [avx2|portable]]
 *                       all cases (under valgrind: the real check); with
 *                       --expect, fails unless that AES code (and that
 *                       Poly1305 code for long messages) is selected
 *   ct_check canary     one deliberate secret-dependent branch: check-ct
 *                       requires valgrind to report it, so a build in which
 *                       the marking silently does nothing cannot pass.
 *
 * Outside valgrind the program still runs every case and checks that each
 * packet opens to what was sealed, so it doubles as a smoke test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cipher.h"
#include "cpu.h"
#include "crypto.h"
#include "ct.h"
#include "ed25519.h"
#include "sha512.h"
#include "x25519.h"

/* The 26-bit-limb Poly1305 of 32-bit targets, built here too so that its
 * constant time is checked on this host as well. */
#define WOMBAT_POLY1305_32 1
#define poly1305_mac poly1305_mac_32
#include "../../crypto/poly1305.c"
#undef poly1305_mac
/* the library's own (64-bit limbs, and AVX2 for long messages where the
 * CPU has it), which the header above declared under the other name */
void poly1305_mac(uint8_t tag[POLY1305_TAG], const uint8_t *m, size_t n,
		  const uint8_t key[POLY1305_KEY]);

static int failures;

static void fail(const char *what)
{
	fprintf(stderr, "ct_check: FAILED: %s\n", what);
	failures++;
}

static void secret_random(void *p, size_t n)
{
	rand_bytes(p, n);
	ct_secret(p, n);
}

static void case_x25519(void)
{
	uint8_t sk[32], peer_sk[32], peer[32], shared[32];
	rand_bytes(peer_sk, sizeof peer_sk);
	x25519_base(peer, peer_sk);
	secret_random(sk, sizeof sk);
	int rc = x25519(shared, sk, peer);
	ct_public(&rc, sizeof rc);
	if (rc != 0)
		fail("x25519 returned a zero secret");
	x25519_base(peer, sk);          /* our public value: goes on the wire */
	ct_public(peer, sizeof peer);
}

static void case_ed25519(void)
{
	uint8_t seed[32], pk[32], sig[64], msg[100];
	rand_bytes(msg, sizeof msg);
	secret_random(seed, sizeof seed);
	ed25519_pubkey(pk, seed);
	ct_public(pk, sizeof pk);
	ed25519_sign(sig, msg, sizeof msg, seed, pk);
	ct_public(sig, sizeof sig);
	if (ed25519_verify(sig, msg, sizeof msg, pk) != 0)
		fail("ed25519 signature does not verify");
}

/* Key derivation hashes the shared secret (RFC 4253 s7.2); Ed25519 hashes
 * the seed and the nonce prefix with SHA-512 (sha512.c, also in the
 * signing case). Lengths: a short one, both sides of the padding edge of
 * a 64- and a 128-byte block, several blocks. */
static void case_hashes(void)
{
	static const enum hash_alg algs[] = { HASH_SHA1, HASH_SHA256, HASH_SHA384, HASH_SHA512 };
	static const size_t lens[] = { 32, 55, 56, 111, 112, 200, 700 };
	uint8_t secret[700], out[64];
	for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++)
		for (size_t j = 0; j < sizeof lens / sizeof lens[0]; j++) {
			secret_random(secret, lens[j]);
			hash_mem(algs[i], secret, lens[j], out);
			ct_public(out, sizeof out);
		}
	secret_random(secret, 32);
	sha512(secret, 32, out);
	ct_public(out, sizeof out);
}

/* Packet sizes covered: short, a few blocks, and long enough for every
 * multi-block (several blocks in flight) path and its tail. */
static const size_t blocks_list[] = { 2, 5, 37, 300 };

static size_t packet_size(const tcrypt_t *t, size_t blocks)
{
	size_t bs = tcrypt_blocksize(t);
	return tcrypt_len_excluded(t) ? 4 + blocks * bs : blocks * bs;
}

static void seal_open(const char *cipher, const char *mac, tcrypt_t *enc,
		      tcrypt_t *dec, uint32_t seq, size_t blocks)
{
	size_t n = packet_size(enc, blocks), tl = tcrypt_taglen(enc);
	uint8_t *pkt = malloc(n + tl), *orig = malloc(n);
	char what[160];
	uint32_t plen = 0;

	snprintf(what, sizeof what, "%s/%s, %zu bytes", cipher, mac ? mac : "-", n);
	if (!pkt || !orig)
		abort();
	rand_bytes(orig, n);
	orig[0] = (uint8_t)((n - 4) >> 24);
	orig[1] = (uint8_t)((n - 4) >> 16);
	orig[2] = (uint8_t)((n - 4) >> 8);
	orig[3] = (uint8_t)(n - 4);
	memcpy(pkt, orig, n);
	ct_secret(pkt, n);                /* the whole plaintext packet */
	if (tcrypt_seal(enc, seq, pkt, n) != 0)
		fail(what);
	ct_public(pkt, n + tl);           /* what goes on the wire */

	int r = tcrypt_open_len(dec, seq, pkt, &plen);
	ct_public(&plen, sizeof plen);   /* the framing layer acts on it */
	if (r != 0 || plen != n - 4)
		fail(what);
	r = tcrypt_open(dec, seq, pkt, n);
	ct_public(pkt, n);                /* compare with what was sealed */
	if (r != 0 || memcmp(pkt, orig, n) != 0)
		fail(what);
	free(pkt);
	free(orig);
}

static void cipher_case(const char *cipher, const char *mac)
{
	uint8_t key[64], iv[16], mackey[128];
	secret_random(key, sizeof key);
	secret_random(iv, sizeof iv);
	secret_random(mackey, sizeof mackey);
	tcrypt_t *enc = tcrypt_new(cipher, mac, key, iv, mackey, 1);
	tcrypt_t *dec = tcrypt_new(cipher, mac, key, iv, mackey, 0);
	if (!enc || !dec) {
		fail(cipher);
	} else {
		for (size_t i = 0; i < sizeof blocks_list / sizeof blocks_list[0]; i++)
			seal_open(cipher, mac, enc, dec, (uint32_t)(7 + i), blocks_list[i]);
	}
	tcrypt_free(enc);
	tcrypt_free(dec);
}

/* The default lists plus names other branches may add, when this build
 * knows them: every cipher with every MAC it can be paired with. */
static const char *const extra_ciphers[] = { "aes192-ctr" };
static const char *const extra_macs[] = { "hmac-sha1", "hmac-sha1-etm@openssh.com" };

static size_t split(const char *list, const char *const *extra, size_t nextra,
		    char names[][64], size_t cap)
{
	size_t k = 0;
	const char *p = list;
	while (*p && k < cap) {
		size_t len = strcspn(p, ",");
		snprintf(names[k++], 64, "%.*s", (int)len, p);
		p += len + (p[len] == ',');
	}
	for (size_t i = 0; i < nextra && k < cap; i++)
		snprintf(names[k++], 64, "%s", extra[i]);
	return k;
}

static void case_ciphers(void)
{
	char cnames[16][64], mnames[16][64];
	size_t nc = split(CIPHERS_DEFAULT, extra_ciphers, 1, cnames, 16);
	size_t nm = split(MACS_DEFAULT, extra_macs, 2, mnames, 16);

	for (size_t c = 0; c < nc; c++) {
		int aead = 0;
		if (cipher_info(cnames[c], NULL, NULL, &aead) != 0)
			continue;             /* not in this build */
		fprintf(stderr, "ct_check: %s\n", cnames[c]);
		if (aead) {
			cipher_case(cnames[c], NULL);
			continue;
		}
		for (size_t m = 0; m < nm; m++)
			if (mac_info(mnames[m], NULL) == 0)
				cipher_case(cnames[c], mnames[m]);
	}
	for (size_t m = 0; m < nm; m++)       /* MAC alone (none cipher) */
		if (mac_info(mnames[m], NULL) == 0)
			cipher_case("none", mnames[m]);
}

static void case_poly1305_32(void)
{
	uint8_t key[32], msg[300], tag[16];
	for (size_t n = 0; n <= sizeof msg; n += 37) {
		secret_random(key, sizeof key);
		secret_random(msg, n);
		poly1305_mac_32(tag, msg, n, key);
		ct_public(tag, sizeof tag);
	}
}

/* Poly1305 alone on the code selected (make check-ct runs the portable
 * and the AVX2 code): lengths below and above the vector code's 512 bytes,
 * with tails of 0..3 whole blocks and a partial one, and an SSH packet's
 * 32 KiB + 5. */
static void case_poly1305(void)
{
	static const size_t lens[] = { 0, 15, 100, 511, 512, 560, 589, 1000, 32768 + 5 };
	static uint8_t msg[32768 + 5];
	uint8_t key[32], tag[16];
	for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
		secret_random(key, sizeof key);
		secret_random(msg, lens[i]);
		poly1305_mac(tag, msg, lens[i], key);
		ct_public(tag, sizeof tag);
	}
}

static void case_canary(void)
{
	uint8_t s[1];
	secret_random(s, 1);
	if (s[0] & 1)                   /* the leak check must see this */
		fprintf(stderr, "ct_check: canary odd\n");
}

int main(int argc, char **argv)
{
	if (crypto_init() != 0) {
		fprintf(stderr, "ct_check: crypto_init failed\n");
		return 2;
	}
	if (argc > 1 && strcmp(argv[1], "canary") == 0) {
		case_canary();
		return 0;
	}
	fprintf(stderr, "ct_check: AES/GHASH implementation: %s, SHA-256: %s, ChaCha20: %s, "
		"Poly1305: %s\n", cpu_aes_impl(), cpu_sha256_impl(), cpu_chacha_impl(),
		cpu_poly1305_impl());
	if (argc > 2 && strcmp(argv[1], "--expect") == 0 &&
	    strcmp(argv[2], cpu_aes_impl()) != 0) {
		fprintf(stderr, "ct_check: expected the %s code\n", argv[2]);
		return 2;
	}
	if (argc > 3 && strcmp(argv[1], "--expect") == 0 &&
	    strcmp(argv[3], cpu_poly1305_impl()) != 0) {
		fprintf(stderr, "ct_check: expected the %s Poly1305 code\n", argv[3]);
		return 2;
	}
	fprintf(stderr, "ct_check: x25519\n");
	case_x25519();
	fprintf(stderr, "ct_check: ed25519\n");
	case_ed25519();
	fprintf(stderr, "ct_check: hashes\n");
	case_hashes();
	case_ciphers();
	fprintf(stderr, "ct_check: poly1305 (%s)\n", cpu_poly1305_impl());
	case_poly1305();
	fprintf(stderr, "ct_check: poly1305 with 26-bit limbs (32-bit targets)\n");
	case_poly1305_32();
	fprintf(stderr, "ct_check: %s\n", failures ? "wrong results" : "done");
	return failures ? 2 : 0;
}
