/* cpu: run-time choice between the portable and the CPU-specific code. */
#include "cpu.h"

#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && !defined(WOMBAT_PORTABLE_ONLY)
#include <cpuid.h>

static int detect_aesni(void)
{
	unsigned a, b, c, d;
	if (!__get_cpuid(1, &a, &b, &c, &d))
		return 0;
	/* ECX: bit 1 PCLMULQDQ, bit 9 SSSE3, bit 19 SSE4.1, bit 25 AES */
	return (c & bit_PCLMUL) && (c & bit_SSSE3) && (c & bit_SSE4_1) && (c & bit_AES);
}

/* CPUID leaf 7 (subleaf 0) EBX, 0 where the leaf does not exist */
static unsigned leaf7_ebx(void)
{
	unsigned a, b, c, d;
	if (__get_cpuid_max(0, NULL) < 7)
		return 0;
	__cpuid_count(7, 0, a, b, c, d);
	return b;
}

/* SHA extensions: leaf 7 EBX bit 29; the code also uses SSSE3/SSE4.1 */
static int detect_shani(void)
{
	unsigned a, b, c, d;
	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_SSSE3) || !(c & bit_SSE4_1))
		return 0;
	return (leaf7_ebx() & bit_SHA) != 0;
}

/* AVX2: leaf 7 EBX bit 5, and the OS must save the YMM registers: CPUID.1
 * ECX OSXSAVE (bit 27) and AVX (bit 28), then XCR0 bits 1 (SSE) and 2 (AVX). */
static int detect_avx2(void)
{
	unsigned a, b, c, d, xcr0_lo, xcr0_hi;
	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE) || !(c & bit_AVX))
		return 0;
	__asm__ volatile("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
	(void)xcr0_hi;
	if ((xcr0_lo & 6) != 6)
		return 0;
	return (leaf7_ebx() & bit_AVX2) != 0;
}

/* AVX-512VL (for 256-bit registers 16-31 and vprold): AVX2 as above, leaf 7
 * EBX bits 16 (AVX512F) and 31 (AVX512VL), and XCR0 bits 5-7 (the opmask
 * and upper ZMM state the OS must save). */
static int detect_avx512vl(void)
{
	unsigned xcr0_lo, xcr0_hi;
	if (!detect_avx2())
		return 0;
	__asm__ volatile("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
	(void)xcr0_hi;
	if ((xcr0_lo & 0xe6) != 0xe6)
		return 0;
	unsigned b = leaf7_ebx();
	return (b & bit_AVX512F) && (b & bit_AVX512VL);
}
#else
static int detect_aesni(void) { return 0; }
static int detect_shani(void) { return 0; }
static int detect_avx2(void) { return 0; }
static int detect_avx512vl(void) { return 0; }
#endif

/* -1 until decided; then 0 or 1 each */
static int use_aesni = -1, use_sse2 = -1, use_shani = -1, use_avx2 = -1, use_avx512vl = -1;

static int forced_portable(void)
{
	const char *force = getenv("WOMBAT_CRYPTO");
	return force && strcmp(force, "portable") == 0;
}

static void decide(void)
{
	int portable = forced_portable();
	use_aesni = !portable && detect_aesni();
	use_shani = !portable && detect_shani();
	use_avx2 = !portable && detect_avx2();
	use_avx512vl = !portable && detect_avx512vl();
#if defined(__x86_64__) && !defined(WOMBAT_PORTABLE_ONLY)
	use_sse2 = !portable;    /* SSE2 is part of x86-64 itself */
#else
	use_sse2 = 0;
#endif
}

int cpu_use_aesni(void)
{
	if (use_aesni < 0)
		decide();
	return use_aesni;
}

const char *cpu_aes_impl(void)
{
	return cpu_use_aesni() ? "aesni" : "portable";
}

int cpu_use_sse2(void)
{
	if (use_sse2 < 0)
		decide();
	return use_sse2;
}

int cpu_use_shani(void)
{
	if (use_shani < 0)
		decide();
	return use_shani;
}

const char *cpu_sha256_impl(void)
{
	return cpu_use_shani() ? "shani" : "portable";
}

int cpu_use_avx2(void)
{
	if (use_avx2 < 0)
		decide();
	return use_avx2;
}

int cpu_use_avx512vl(void)
{
	if (use_avx512vl < 0)
		decide();
	return use_avx512vl;
}

const char *cpu_chacha_impl(void)
{
	return cpu_use_avx512vl() ? "avx512vl" : cpu_use_avx2() ? "avx2" :
	       cpu_use_sse2() ? "sse2" : "portable";
}

const char *cpu_poly1305_impl(void)
{
	return cpu_use_avx2() ? "avx2" : "portable";
}

/* the test switches ignore WOMBAT_CRYPTO, as they always have */
int cpu_select_aesni(int on)
{
	decide();
	use_aesni = on && detect_aesni();
	use_shani = on && detect_shani();
	use_avx2 = on && detect_avx2();
	use_avx512vl = on && detect_avx512vl();
#if defined(__x86_64__) && !defined(WOMBAT_PORTABLE_ONLY)
	use_sse2 = on;
#endif
	return use_aesni;
}

int cpu_select_avx2(int on)
{
	cpu_use_avx2();
	use_avx2 = on && detect_avx2();
	if (!on)
		use_avx512vl = 0;
	return use_avx2;
}

int cpu_select_avx512vl(int on)
{
	cpu_use_avx512vl();
	use_avx512vl = on && detect_avx512vl();
	return use_avx512vl;
}
