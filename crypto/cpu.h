/* cpu: which implementation of AES/GHASH this process uses, chosen once.
 *
 * The portable code (bitsliced AES, GHASH by integer multiplication) is
 * constant time everywhere. On x86-64 with AES-NI and PCLMULQDQ (CPUID) the
 * hardware instructions are used instead. WOMBAT_CRYPTO=portable in the
 * environment forces the portable code (tests and make check-ct run both),
 * for ChaCha20 too (which otherwise uses SSE2 on every x86-64);
 * building with -DWOMBAT_PORTABLE_ONLY leaves the hardware code out. */
#ifndef WOMBAT_CPU_H
#define WOMBAT_CPU_H

/* 1 if AES-NI + PCLMULQDQ (+ SSSE3) are present and not switched off. */
int cpu_use_aesni(void);
/* "aesni" or "portable": what cpu_use_aesni() decided, for logs and tests. */
const char *cpu_aes_impl(void);
/* 1 on x86-64 unless switched off: ChaCha20 four blocks at a time in SSE2. */
int cpu_use_sse2(void);
/* Tests: switch to AES-NI (if the CPU has it) and SSE2, or to the portable
 * code, for what follows; returns whether AES-NI is now in use. */
int cpu_select_aesni(int on);

#endif
