/* gcm: AES-GCM from the CTR and GHASH primitives. Two passes over the data
 * (counter mode, then GHASH, or GHASH then counter mode when opening), so
 * nothing is decrypted before the tag has been checked. */
#include "gcm.h"

#include <string.h>

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

/* tag = GHASH(aad, ct, lengths) xor E(K, J0), J0 = IV || 0^31 || 1 */
static void make_tag(const struct gcm_key *g, const uint8_t iv[GCM_IV_LEN],
		     const uint8_t *aad, size_t aad_len, const uint8_t *ct, size_t n,
		     uint8_t tag[GCM_TAG])
{
	uint8_t y[16] = { 0 }, lens[16], j0[16] = { 0 };
	ghash_padded(g, y, aad, aad_len);
	ghash_padded(g, y, ct, n);
	put_be64(lens, (uint64_t)aad_len * 8);
	put_be64(lens + 8, (uint64_t)n * 8);
	ghash_blocks(&g->gh, y, lens, 1);
	memcpy(j0, iv, GCM_IV_LEN);
	j0[15] = 1;
	aes_encrypt_block(&g->aes, j0, j0);
	for (int i = 0; i < GCM_TAG; i++)
		tag[i] = y[i] ^ j0[i];
	wipe(y, sizeof y);
	wipe(j0, sizeof j0);
}

/* Counter mode from J0 + 1, a partial last block through a copy. */
static void gcm_ctr(const struct gcm_key *g, const uint8_t iv[GCM_IV_LEN], uint8_t *p, size_t n)
{
	uint8_t ctr[16] = { 0 }, last[16] = { 0 };
	memcpy(ctr, iv, GCM_IV_LEN);
	ctr[15] = 2;
	aes_ctr(&g->aes, ctr, 1, p, n / 16);
	if (n % 16) {
		memcpy(last, p + n - n % 16, n % 16);
		aes_ctr(&g->aes, ctr, 1, last, 1);
		memcpy(p + n - n % 16, last, n % 16);
		wipe(last, sizeof last);
	}
	wipe(ctr, sizeof ctr);
}

void gcm_seal(const struct gcm_key *g, const uint8_t iv[GCM_IV_LEN],
	      const uint8_t *aad, size_t aad_len, uint8_t *p, size_t n,
	      uint8_t tag[GCM_TAG])
{
	gcm_ctr(g, iv, p, n);
	make_tag(g, iv, aad, aad_len, p, n, tag);
}

int gcm_open(const struct gcm_key *g, const uint8_t iv[GCM_IV_LEN],
	     const uint8_t *aad, size_t aad_len, uint8_t *p, size_t n,
	     const uint8_t tag[GCM_TAG])
{
	uint8_t want[GCM_TAG];
	make_tag(g, iv, aad, aad_len, p, n, want);
	int bad = ct_memcmp(want, tag, GCM_TAG);
	wipe(want, sizeof want);
	if (bad)
		return -1;
	gcm_ctr(g, iv, p, n);
	return 0;
}
