/* buf: the wire-type API fed good, truncated and oversized input. */
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "crypto.h"
#include "unit.h"

static void test_writers_and_readers_round_trip(void)
{
	buf_t b;
	CHECK(buf_init(&b, 0, 4096) == 0);
	CHECK(buf_put_u8(&b, 0xab) == 0);
	CHECK(buf_put_bool(&b, 7) == 0);
	CHECK(buf_put_u32(&b, 0x01020304) == 0);
	CHECK(buf_put_u64(&b, 0x1122334455667788ull) == 0);
	CHECK(buf_put_cstring(&b, "ssh-connection") == 0);
	CHECK(buf_put_string(&b, "", 0) == 0);
	static const uint8_t mag[] = { 0x00, 0x00, 0x80, 0x01 };
	CHECK(buf_put_mpint_be(&b, mag, sizeof(mag)) == 0);

	rd_t r;
	uint8_t u8;
	int bl;
	uint32_t u32;
	uint64_t u64;
	char s[32];
	const uint8_t *p;
	size_t n;
	rd_init(&r, buf_data(&b), buf_used(&b));
	CHECK(rd_u8(&r, &u8) == 0 && u8 == 0xab);
	CHECK(rd_bool(&r, &bl) == 0 && bl == 1);
	CHECK(rd_u32(&r, &u32) == 0 && u32 == 0x01020304);
	CHECK(rd_u64(&r, &u64) == 0 && u64 == 0x1122334455667788ull);
	CHECK(rd_cstring(&r, s, sizeof(s)) == 0 && strcmp(s, "ssh-connection") == 0);
	CHECK(rd_string(&r, &p, &n) == 0 && n == 0);
	/* mpint: leading zeros stripped, 0x00 added for the top bit */
	CHECK(rd_mpint_be(&r, &p, &n) == 0 && n == 2 && p[0] == 0x80 && p[1] == 0x01);
	CHECK(rd_end(&r) == 0);
	buf_free(&b);
}

static void test_mpint_wire_encoding(void)
{
	buf_t b;
	buf_init(&b, 0, 64);
	static const uint8_t v[] = { 0x80 };
	buf_put_mpint_be(&b, v, 1);
	static const uint8_t want[] = { 0, 0, 0, 2, 0x00, 0x80 };
	CHECK(buf_used(&b) == sizeof(want) && memcmp(buf_data(&b), want, sizeof(want)) == 0);
	buf_reset(&b);
	buf_put_mpint_be(&b, NULL, 0);       /* zero: empty string */
	static const uint8_t zero[] = { 0, 0, 0, 0 };
	CHECK(buf_used(&b) == 4 && memcmp(buf_data(&b), zero, 4) == 0);
	buf_free(&b);
}

static void test_truncated_input_fails_at_every_length(void)
{
	buf_t b;
	buf_init(&b, 0, 1024);
	buf_put_u32(&b, 42);
	buf_put_cstring(&b, "hello");
	buf_put_u64(&b, 9);
	size_t full = buf_used(&b);
	for (size_t cut = 0; cut < full; cut++) {
		rd_t r;
		uint32_t u32;
		uint64_t u64;
		char s[16];
		rd_init(&r, buf_data(&b), cut);
		rd_u32(&r, &u32);
		rd_cstring(&r, s, sizeof(s));
		rd_u64(&r, &u64);
		CHECK(r.err == 1);           /* sticky error */
		CHECK(rd_end(&r) < 0);
		CHECK(r.off <= cut);         /* never read past the end */
	}
	buf_free(&b);
}

static void test_oversized_and_bad_fields(void)
{
	rd_t r;
	const uint8_t *p;
	size_t n;
	/* a string length far beyond the data */
	static const uint8_t huge[] = { 0xff, 0xff, 0xff, 0xff, 'a' };
	rd_init(&r, huge, sizeof(huge));
	CHECK(rd_string(&r, &p, &n) < 0 && r.err);
	/* a length above BUF_MAX_STRING even if the data were there */
	static uint8_t big[8 + BUF_MAX_STRING + 1];
	uint32_t len = BUF_MAX_STRING + 1;
	big[0] = (uint8_t)(len >> 24); big[1] = (uint8_t)(len >> 16);
	big[2] = (uint8_t)(len >> 8); big[3] = (uint8_t)len;
	rd_init(&r, big, sizeof(big));
	CHECK(rd_string(&r, &p, &n) < 0);
	/* cstring: embedded NUL, and too long for the caller's buffer */
	static const uint8_t nul[] = { 0, 0, 0, 3, 'a', 0, 'b' };
	char s[8];
	rd_init(&r, nul, sizeof(nul));
	CHECK(rd_cstring(&r, s, sizeof(s)) < 0);
	static const uint8_t longs[] = { 0, 0, 0, 8, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h' };
	rd_init(&r, longs, sizeof(longs));
	CHECK(rd_cstring(&r, s, sizeof(s)) < 0);      /* needs 9 bytes with NUL */
	/* mpint: negative, and a needless leading zero */
	static const uint8_t neg[] = { 0, 0, 0, 1, 0x80 };
	rd_init(&r, neg, sizeof(neg));
	CHECK(rd_mpint_be(&r, &p, &n) < 0);
	static const uint8_t pad[] = { 0, 0, 0, 2, 0x00, 0x01 };
	rd_init(&r, pad, sizeof(pad));
	CHECK(rd_mpint_be(&r, &p, &n) < 0);
	/* leftover bytes are not "the end" */
	static const uint8_t extra[] = { 0, 0, 0, 1, 9 };
	uint32_t u32;
	rd_init(&r, extra, sizeof(extra));
	CHECK(rd_u32(&r, &u32) == 0 && rd_end(&r) < 0);
}

static void test_buffer_bound_is_hard(void)
{
	buf_t b;
	buf_init(&b, 0, 16);
	uint8_t x[16] = { 0 };
	CHECK(buf_put(&b, x, 16) == 0);
	CHECK(buf_put_u8(&b, 1) < 0);                /* over max: refused */
	CHECK(buf_used(&b) == 16);                   /* and nothing changed */
	CHECK(buf_put_string(&b, x, 0xffffffffu) < 0);
	buf_consume(&b, 10);
	CHECK(buf_put(&b, x, 10) == 0);              /* consumed space reused */
	CHECK(buf_used(&b) == 16);
	buf_free(&b);
}

static void test_namelists(void)
{
	static const char list[] = "curve25519-sha256,ext-info-c,kex-strict-c-v00@openssh.com";
	CHECK(namelist_has((const uint8_t *)list, strlen(list), "ext-info-c"));
	CHECK(!namelist_has((const uint8_t *)list, strlen(list), "ext-info"));
	CHECK(!namelist_has((const uint8_t *)list, strlen(list), ""));
	char out[64];
	static const char client[] = "aes256-ctr,foo,aes128-ctr";
	CHECK(namelist_choose((const uint8_t *)client, strlen(client), "aes128-ctr,aes256-ctr",
			      out, sizeof(out)) == 0 && strcmp(out, "aes256-ctr") == 0);
	CHECK(namelist_choose((const uint8_t *)client, strlen(client), "none", out,
			      sizeof(out)) < 0);
	/* a name with a NUL inside never matches */
	static const uint8_t evil[] = { 'n', 'o', 0, 'n', 'e' };
	CHECK(namelist_choose(evil, sizeof(evil), "no", out, sizeof(out)) < 0);
}

int main(void)
{
	crypto_init();
	test_writers_and_readers_round_trip();
	test_mpint_wire_encoding();
	test_truncated_input_fails_at_every_length();
	test_oversized_and_bad_fields();
	test_buffer_bound_is_hard();
	test_namelists();
	return UNIT_DONE();
}
