/* cpu: which implementation of AES/GHASH, SHA-256, ChaCha20 and Poly1305
 * this process uses, chosen once.
 *
 * The portable code (bitsliced AES, GHASH by integer multiplication, plain
 * C SHA-256, ChaCha20 and Poly1305) is constant time everywhere. On x86-64
 * the CPU's instructions are used where CPUID reports them: AES-NI with
 * PCLMULQDQ, the SHA extensions (SHA-256), AVX-512VL (ChaCha20 eight blocks
 * at a time in 32 YMM registers with native rotations, when the OS saves
 * the AVX-512 state), else AVX2 (eight blocks, when the OS saves the YMM
 * registers), else SSE2 (ChaCha20 four blocks at a time, every x86-64);
 * AVX2 also runs Poly1305 four blocks at a time over long messages (the
 * 64-bit-limb code otherwise). WOMBAT_CRYPTO=portable in the environment
 * forces the portable code for all of them (tests and make check-ct run
 * both); building with -DWOMBAT_PORTABLE_ONLY leaves the CPU-specific code
 * out. */
#ifndef WOMBAT_CPU_H
#define WOMBAT_CPU_H

/* 1 if AES-NI + PCLMULQDQ (+ SSSE3) are present and not switched off. */
int cpu_use_aesni(void);
/* "aesni" or "portable": what cpu_use_aesni() decided, for logs and tests. */
const char *cpu_aes_impl(void);
/* 1 on x86-64 unless switched off: ChaCha20 four blocks at a time in SSE2. */
int cpu_use_sse2(void);
/* 1 if the SHA extensions (sha256rnds2 ...) are present and not switched off. */
int cpu_use_shani(void);
/* "shani" or "portable" */
const char *cpu_sha256_impl(void);
/* 1 if AVX2 is present, enabled by the OS (XCR0) and not switched off. */
int cpu_use_avx2(void);
/* 1 if AVX-512F and AVX-512VL are present, enabled by the OS (XCR0 opmask
 * and ZMM state besides YMM) and not switched off. */
int cpu_use_avx512vl(void);
/* "avx512vl", "avx2", "sse2" or "portable": the ChaCha20 code in use */
const char *cpu_chacha_impl(void);
/* "avx2" or "portable": the Poly1305 code for long messages (512 bytes and
 * more; shorter ones always run the portable code) */
const char *cpu_poly1305_impl(void);
/* Tests: switch to every CPU-specific path the CPU has (on), or to the
 * portable code for all (off), for what follows; returns whether AES-NI is
 * now in use. */
int cpu_select_aesni(int on);
/* Tests: AVX2 on (if the CPU has it) or off, the rest as it is: with it
 * off (which turns AVX-512VL off too), ChaCha20 runs its SSE2 code and
 * Poly1305 its 64-bit-limb code. Returns whether AVX2 is now in use. */
int cpu_select_avx2(int on);
/* Tests: AVX-512VL on (if the CPU has it) or off, the rest as it is: with
 * it off, ChaCha20 runs its AVX2 code. Returns whether it is now in use. */
int cpu_select_avx512vl(int on);

#endif
