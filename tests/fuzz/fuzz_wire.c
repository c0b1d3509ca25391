/* fuzz_wire: the rd_* readers and name-list helpers (src/buf.c). The input is
 * both a script and its data: each op byte picks a reader, which then reads
 * from the same cursor. Round trips through the buf_put_* writers must give
 * back what was read. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fuzz_util.h"

static const char *const server_lists[] = {
	"curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256",
	"none,zlib@openssh.com", "a", "",
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_setup();
	return 0;
}

/* A string read back through buf_put_string/rd_string must be unchanged. */
static void check_string_round_trip(const uint8_t *s, size_t n)
{
	buf_t b;
	if (buf_init(&b, 0, BUF_MAX_STRING + 4) < 0)
		abort();
	if (buf_put_string(&b, s, n) == 0) {
		rd_t r;
		const uint8_t *t;
		size_t tn;
		rd_init(&r, buf_data(&b), buf_used(&b));
		if (rd_string(&r, &t, &tn) < 0 || rd_end(&r) < 0 || tn != n ||
		    memcmp(s, t, n) != 0)
			abort();
	}
	buf_free(&b);
}

/* An mpint magnitude re-encoded must read back as the same magnitude. */
static void check_mpint_round_trip(const uint8_t *mag, size_t n)
{
	buf_t b;
	if (buf_init(&b, 0, BUF_MAX_STRING + 8) < 0)
		abort();
	if (buf_put_mpint_be(&b, mag, n) == 0) {
		rd_t r;
		const uint8_t *t;
		size_t tn;
		rd_init(&r, buf_data(&b), buf_used(&b));
		if (rd_mpint_be(&r, &t, &tn) < 0 || rd_end(&r) < 0 || tn != n ||
		    memcmp(mag, t, n) != 0)
			abort();
	}
	buf_free(&b);
}

static void name_lists(const uint8_t *s, size_t n)
{
	char out[64];
	(void)namelist_has(s, n, "zlib@openssh.com");
	(void)namelist_has(s, n, "");
	for (size_t i = 0; i < sizeof(server_lists) / sizeof(server_lists[0]); i++)
		if (namelist_choose(s, n, server_lists[i], out, sizeof(out)) == 0 &&
		    strlen(out) >= sizeof(out))
			abort();
	(void)namelist_choose(s, n, server_lists[0], out, 4);
}

static void run_op(rd_t *r, uint8_t op)
{
	uint8_t v8, tmp[300];
	uint32_t v32;
	uint64_t v64;
	int b;
	const uint8_t *s;
	size_t n;
	char cs[40];

	switch (op % 12) {
	case 0: rd_u8(r, &v8); break;
	case 1: rd_bool(r, &b); break;
	case 2: rd_u32(r, &v32); break;
	case 3: rd_u64(r, &v64); break;
	case 4:
		if (rd_string(r, &s, &n) == 0)
			check_string_round_trip(s, n);
		break;
	case 5: rd_cstring(r, cs, 1 + op / 12 % sizeof(cs)); break;
	case 6:
		if (rd_mpint_be(r, &s, &n) == 0)
			check_mpint_round_trip(s, n);
		break;
	case 7: rd_bytes(r, tmp, op % sizeof(tmp)); break;
	case 8: rd_skip(r, (size_t)op * 7); break;
	case 9: rd_ptr(r, &s, op / 12); break;
	case 10:
		if (rd_string(r, &s, &n) == 0)
			name_lists(s, n);
		break;
	default: (void)rd_end(r); break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy = fuzz_dup(data, size);
	rd_t r;
	rd_init(&r, copy, size);
	uint8_t op;
	/* After an error, reads must keep failing (the flag is sticky). */
	while (rd_u8(&r, &op) == 0) {
		int before = r.err;
		run_op(&r, op);
		if (before && !r.err)
			abort();
		if (r.off > r.len)
			abort();
	}
	free(copy);
	return 0;
}
