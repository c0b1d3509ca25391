/* cpu: run-time choice between the portable and the AES-NI code. */
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
#else
static int detect_aesni(void)
{
	return 0;
}
#endif

static int decided = -1;

int cpu_use_aesni(void)
{
	if (decided < 0) {
		const char *force = getenv("WOMBAT_CRYPTO");
		decided = force && strcmp(force, "portable") == 0 ? 0 : detect_aesni();
	}
	return decided;
}

const char *cpu_aes_impl(void)
{
	return cpu_use_aesni() ? "aesni" : "portable";
}

/* SSE2 is part of x86-64 itself: no CPUID, only the portable switch. */
static int simd = -1;

int cpu_use_sse2(void)
{
#if defined(__x86_64__) && !defined(WOMBAT_PORTABLE_ONLY)
	if (simd < 0) {
		const char *force = getenv("WOMBAT_CRYPTO");
		simd = !(force && strcmp(force, "portable") == 0);
	}
	return simd;
#else
	return 0;
#endif
}

int cpu_select_aesni(int on)
{
	decided = on && detect_aesni();
	simd = on;
	return decided;
}
