/* Minimal unit-test helpers: CHECK records a failure and carries on;
 * UNIT_DONE() prints a summary and is the test's exit status. */
#ifndef WOMBAT_UNIT_H
#define WOMBAT_UNIT_H
#include <stdio.h>
#include <string.h>

static int unit_failures, unit_checks;
#define CHECK(cond) do { unit_checks++; if (!(cond)) { unit_failures++; \
	fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); } } while (0)
#define CHECK_MEM(a, b, n) CHECK(memcmp((a), (b), (n)) == 0)
#define UNIT_DONE() (printf("%d checks, %d failures\n", unit_checks, unit_failures), \
	unit_failures ? 1 : 0)

/* hex string -> bytes; returns byte count */
static inline size_t unit_unhex(const char *hex, unsigned char *out, size_t cap)
{
	size_t n = 0;
	while (hex[0] && hex[1] && n < cap) {
		unsigned v;
		if (sscanf(hex, "%2x", &v) != 1) break;
		out[n++] = (unsigned char)v;
		hex += 2;
	}
	return n;
}
#endif
