/* poly1305_ticks: TSC ticks per poly1305_mac() call on the scalar and the
 * AVX2 code (x86-64), the minimum over COUNT calls, which other load on
 * the machine cannot raise. Built by `make tests/bench/poly1305_ticks`.
 *
 *   tests/bench/poly1305_ticks [COUNT [LEN...]]
 *
 * Default: 3000 calls at 64 bytes .. 32 KiB + 5. The TSC counts at the
 * nominal clock, not the core's: compare the two columns, not machines. */
#include <stdio.h>
#include <stdlib.h>
#include <x86intrin.h>

#include "cpu.h"
#include "crypto.h"
#include "poly1305.h"

static unsigned long long best(const uint8_t *m, size_t len, int count)
{
	uint8_t key[32], tag[16] = { 0 };
	unsigned long long b = ~0ULL;
	rand_bytes(key, sizeof key);
	for (int i = 0; i < count; i++) {
		unsigned long long t0 = __rdtsc();
		poly1305_mac(tag, m, len, key);
		unsigned long long t = __rdtsc() - t0;
		b = t < b ? t : b;
		key[0] ^= tag[0];          /* each call depends on the last */
	}
	return b;
}

int main(int argc, char **argv)
{
	static const size_t deflens[] = { 64, 256, 384, 512, 1024, 4096, 32768 + 5 };
	static uint8_t m[1 << 20];
	int count = argc > 1 ? atoi(argv[1]) : 3000;
	if (crypto_init() != 0)
		return 1;
	rand_bytes(m, sizeof m);
	int avx2 = cpu_select_avx2(1);
	printf("%8s %12s %12s   (TSC ticks, minimum of %d; AVX2 %s)\n", "bytes", "scalar",
	       "avx2", count, avx2 ? "present" : "absent: both scalar");
	size_t n = argc > 2 ? (size_t)argc - 2 : sizeof deflens / sizeof deflens[0];
	for (size_t i = 0; i < n; i++) {
		size_t len = argc > 2 ? strtoul(argv[2 + i], NULL, 10) : deflens[i];
		if (len > sizeof m)
			len = sizeof m;
		cpu_select_avx2(0);
		unsigned long long s = best(m, len, count);
		cpu_select_avx2(1);
		unsigned long long v = best(m, len, count);
		printf("%8zu %7llu %4.2f %7llu %4.2f /byte\n", len, s, (double)s / (double)len,
		       v, (double)v / (double)len);
	}
	return 0;
}
