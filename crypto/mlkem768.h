/* ML-KEM-768 (FIPS 203, August 2024), written here. Constant time in every
 * secret: no secret-dependent branch or table index. SHA3/SHAKE come from
 * libtomcrypt 1.18. */
#ifndef WOMBAT_MLKEM768_H
#define WOMBAT_MLKEM768_H

#include <stddef.h>
#include <stdint.h>

#define MLKEM768_EK_LEN  1184   /* encapsulation key: 384*k + 32 */
#define MLKEM768_DK_LEN  2400   /* decapsulation key: 768*k + 96 */
#define MLKEM768_CT_LEN  1088   /* ciphertext: 32*(du*k + dv) */
#define MLKEM768_SS_LEN  32     /* shared secret */
#define MLKEM768_SEED_LEN 32    /* each of d, z and m */

/* ML-KEM.KeyGen_internal (Algorithm 16) from the seeds d and z. */
void mlkem768_keygen_derand(uint8_t ek[MLKEM768_EK_LEN], uint8_t dk[MLKEM768_DK_LEN],
			    const uint8_t d[32], const uint8_t z[32]);
/* ML-KEM.KeyGen (Algorithm 19): fresh random d and z. */
void mlkem768_keygen(uint8_t ek[MLKEM768_EK_LEN], uint8_t dk[MLKEM768_DK_LEN]);

/* The input check of ML-KEM.Encaps (section 7.2): length, and the modulus
 * check (every 12-bit coefficient of the key below q). 1 if valid. */
int mlkem768_ek_valid(const uint8_t *ek, size_t ek_len);

/* ML-KEM.Encaps_internal (Algorithm 17) with message m, after the input
 * check; -1 (outputs untouched) if ek fails it. */
int mlkem768_encaps_derand(uint8_t ct[MLKEM768_CT_LEN], uint8_t ss[MLKEM768_SS_LEN],
			   const uint8_t *ek, size_t ek_len, const uint8_t m[32]);
/* ML-KEM.Encaps (Algorithm 20): fresh random m. */
int mlkem768_encaps(uint8_t ct[MLKEM768_CT_LEN], uint8_t ss[MLKEM768_SS_LEN],
		    const uint8_t *ek, size_t ek_len);

/* ML-KEM.Decaps (Algorithm 21) with its input checks (ciphertext length,
 * the hash of ek inside dk); -1 if they fail. A ciphertext that does not
 * re-encrypt to itself is not an error: the result is then the implicit
 * rejection key J(z || c), chosen without a branch. */
int mlkem768_decaps(uint8_t ss[MLKEM768_SS_LEN], const uint8_t *ct, size_t ct_len,
		    const uint8_t dk[MLKEM768_DK_LEN]);

/* Internals exposed for the unit tests: Compress_d / Decompress_d
 * (section 4.2.1) on one coefficient x < q, for 1 <= d <= 11. */
uint16_t mlkem768_compress(uint16_t x, unsigned d);
uint16_t mlkem768_decompress(uint16_t y, unsigned d);

#endif
