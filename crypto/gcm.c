/* gcm: AES-GCM from the CTR and GHASH primitives. Sealing is one pass with
 * AES-NI (aesni_gcm_seal: counter mode and GHASH stitched), else counter
 * mode then GHASH; opening is GHASH then counter mode, so nothing is
 * decrypted before the tag has been checked. */
#include "gcm.h"

#include <string.h>

#include "aesni.h"
#include "cpu.h"
#include "crypto.h"

int gcm_setkey(struct gcm_key *g, const uint8_t *key, size_t key_len)
{
	uint8_t h[16] = { 0 };
	if (aes_setkey(&g->aes, key, key_len) != 0)
		return -1;
	aes_encrypt_block(&g->aes, h, h);           /* H = E(K, 0^128) */
	ghash_setkey(&g->gh, h);
	wipe(h, sizeof h);
	return 0;
}

/* GHASH of data zero-padded to whole blocks. */
static void ghash_padded(const struct gcm_key *g, uint8_t y[16], const uint8_t *d, size_t n)
{
	uint8_t last[16] = { 0 };
	ghash_blocks(&g->gh, y, d, n / 16);
	if (n % 16) {
		memcpy(last, d + n - n % 16, n % 16);
		ghash_blocks(&g->gh, y, last, 1);
		wipe(last, sizeof last);
	}
}

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

/* tag = GHASH(aad, ct, lengths) xor E(K, J0), J0 = IV || 0^31 || 1; y holds
 * GHASH(aad, ct) so far */
static void finish_tag(const struct gcm_key *g, const uint8_t iv[GCM_IV_LEN], uint8_t y[16],
		       size_t aad_len, size_t n, uint8_t tag[GCM_TAG])
{
	uint8_t lens[16], j0[16] = { 0 };
	put_be64(lens, (uint64_t)aad_len * 8);
	put_be64(lens + 8, (uint64_t)n * 8);
	ghash_blocks(&g->gh, y, lens, 1);
	memcpy(j0, iv, GCM_IV_LEN);
	j0[15] = 1;
	aes_encrypt_block(&g->aes, j0, j0);
	for (int i = 0; i < GCM_TAG; i++)
		tag[i] = y[i] ^ j0[i];
	wipe(j0, sizeof j0);
}

static void first_counter(const uint8_t iv[GCM_IV_LEN], uint8_t ctr[16])
{
	memset(ctr, 0, 16);
	memcpy(ctr, iv, GCM_IV_LEN);
	ctr[15] = 2;                               /* J0 + 1 */
}

/* Counter mode over a partial last block through a copy. */
static void ctr_tail(const struct gcm_key *g, uint8_t ctr[16], uint8_t *p, size_t r)
{
	uint8_t last[16] = { 0 };
	memcpy(last, p, r);
	aes_ctr(&g->aes, ctr, 1, last, 1);
	memcpy(p, last, r);
	wipe(last, sizeof last);
}

/* Encrypt, then hash the ciphertext: in one pass over each eight blocks
 * with AES-NI (aesni_gcm_seal), else counter mode then GHASH. */
void gcm_seal(const struct gcm_key *g, const uint8_t iv[GCM_IV_LEN],
	      const uint8_t *aad, size_t aad_len, uint8_t *p, size_t n,
	      uint8_t tag[GCM_TAG])
{
	uint8_t y[16] = { 0 }, ctr[16];
	size_t whole = n / 16, r = n % 16;

	ghash_padded(g, y, aad, aad_len);
	first_counter(iv, ctr);
	if (cpu_use_aesni()) {
		aesni_gcm_seal(&g->aes, &g->gh, ctr, y, p, whole);
		wipe_stack();              /* its spilled key stream */
	} else {
		aes_ctr(&g->aes, ctr, 1, p, whole);
		ghash_blocks(&g->gh, y, p, whole);
	}
	if (r) {
		ctr_tail(g, ctr, p + 16 * whole, r);
		ghash_padded(g, y, p + 16 * whole, r);
	}
	finish_tag(g, iv, y, aad_len, n, tag);
	wipe(y, sizeof y);
	wipe(ctr, sizeof ctr);
}

/* Nothing is decrypted before the tag over the ciphertext has been checked. */
int gcm_open(const struct gcm_key *g, const uint8_t iv[GCM_IV_LEN],
	     const uint8_t *aad, size_t aad_len, uint8_t *p, size_t n,
	     const uint8_t tag[GCM_TAG])
{
	uint8_t y[16] = { 0 }, want[GCM_TAG], ctr[16];
	ghash_padded(g, y, aad, aad_len);
	ghash_padded(g, y, p, n);
	finish_tag(g, iv, y, aad_len, n, want);
	int bad = ct_memcmp(want, tag, GCM_TAG);
	wipe(want, sizeof want);
	wipe(y, sizeof y);
	if (bad)
		return -1;
	first_counter(iv, ctr);
	aes_ctr(&g->aes, ctr, 1, p, n / 16);
	if (n % 16)
		ctr_tail(g, ctr, p + n - n % 16, n % 16);
	wipe(ctr, sizeof ctr);
	return 0;
}
