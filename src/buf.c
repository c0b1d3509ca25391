/* buf: bounded buffers and checked SSH wire-type readers. */
#include "buf.h"

#include <stdlib.h>
#include <string.h>

#include "crypto.h"

int buf_init(buf_t *b, size_t initial, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
	if (initial > max)
		initial = max;
	if (initial) {
		b->p = malloc(initial);
		if (!b->p)
			return -1;
		b->cap = initial;
	}
	return 0;
}

void buf_free(buf_t *b)
{
	if (b->p) {
		wipe(b->p, b->cap);
		free(b->p);
	}
	memset(b, 0, sizeof(*b));
}

__attribute__((noinline)) void buf_release(buf_t *b)
{
	size_t max = b->max;
	buf_free(b);
	b->max = max;
}

void buf_reset(buf_t *b)
{
	b->off = b->len = 0;
}

void buf_compact(buf_t *b)
{
	if (b->off == 0)
		return;
	memmove(b->p, b->p + b->off, b->len - b->off);
	b->len -= b->off;
	b->off = 0;
}

uint8_t *buf_reserve(buf_t *b, size_t extra)
{
	if (extra > b->max || buf_used(b) > b->max - extra)
		return NULL;
	if (b->cap - b->len >= extra)
		return b->p + b->len;
	/* Reclaim consumed space before growing. */
	if (b->off && b->cap - buf_used(b) >= extra) {
		buf_compact(b);
		return b->p + b->len;
	}
	buf_compact(b);
	size_t need = b->len + extra;
	size_t ncap = b->cap ? b->cap : 256;
	while (ncap < need)
		ncap *= 2;
	if (ncap > b->max && need <= b->max)
		ncap = b->max;
	uint8_t *np = malloc(ncap);
	if (!np)
		return NULL;
	if (b->p) {
		memcpy(np, b->p, b->len);
		wipe(b->p, b->cap);
		free(b->p);
	}
	b->p = np;
	b->cap = ncap;
	return b->p + b->len;
}

void buf_commit(buf_t *b, size_t n)
{
	b->len += n;
}

void buf_consume(buf_t *b, size_t n)
{
	if (n > buf_used(b))
		n = buf_used(b);
	b->off += n;
	if (b->off == b->len)
		b->off = b->len = 0;
}

int buf_put(buf_t *b, const void *data, size_t n)
{
	uint8_t *dst = buf_reserve(b, n);
	if (!dst)
		return -1;
	if (n)
		memcpy(dst, data, n);
	b->len += n;
	return 0;
}

/* The fixed-size writers and readers below fill or read the bytes in
 * place, with no local copy whose address is taken: such a local would
 * give each of these small, frequently called functions a stack canary. */
int buf_put_u8(buf_t *b, uint8_t v)
{
	uint8_t *d = buf_reserve(b, 1);
	if (!d)
		return -1;
	d[0] = v;
	b->len++;
	return 0;
}

int buf_put_bool(buf_t *b, int v)
{
	return buf_put_u8(b, v ? 1 : 0);
}

int buf_put_u32(buf_t *b, uint32_t v)
{
	uint8_t *d = buf_reserve(b, 4);
	if (!d)
		return -1;
	d[0] = (uint8_t)(v >> 24);
	d[1] = (uint8_t)(v >> 16);
	d[2] = (uint8_t)(v >> 8);
	d[3] = (uint8_t)v;
	b->len += 4;
	return 0;
}

int buf_put_u64(buf_t *b, uint64_t v)
{
	if (buf_put_u32(b, (uint32_t)(v >> 32)) < 0)
		return -1;
	return buf_put_u32(b, (uint32_t)v);
}

int buf_put_string(buf_t *b, const void *data, size_t n)
{
	if (n > 0xffffffffu || !buf_reserve(b, n + 4))
		return -1;
	buf_put_u32(b, (uint32_t)n);
	return buf_put(b, data, n);
}

int buf_put_cstring(buf_t *b, const char *s)
{
	return buf_put_string(b, s, strlen(s));
}

int buf_put_mpint_be(buf_t *b, const uint8_t *mag, size_t n)
{
	while (n && mag[0] == 0) {
		mag++;
		n--;
	}
	int pad = n && (mag[0] & 0x80);
	if (!buf_reserve(b, 4 + pad + n))
		return -1;
	buf_put_u32(b, (uint32_t)(n + pad));
	if (pad)
		buf_put_u8(b, 0);
	return buf_put(b, mag, n);
}

void rd_init(rd_t *r, const void *data, size_t len)
{
	r->p = data;
	r->len = len;
	r->off = 0;
	r->err = 0;
}

static int rd_fail(rd_t *r)
{
	r->err = 1;
	return -1;
}

/* n bytes in place and consumed; NULL (err set) when fewer are left. */
static const uint8_t *rd_take(rd_t *r, size_t n)
{
	if (r->err || n > rd_left(r)) {
		r->err = 1;
		return NULL;
	}
	const uint8_t *p = r->p + r->off;
	r->off += n;
	return p;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int rd_ptr(rd_t *r, const uint8_t **out, size_t n)
{
	const uint8_t *p = rd_take(r, n);
	if (!p)
		return -1;
	*out = p;
	return 0;
}

int rd_bytes(rd_t *r, void *out, size_t n)
{
	const uint8_t *p = rd_take(r, n);
	if (!p)
		return -1;
	memcpy(out, p, n);
	return 0;
}

int rd_skip(rd_t *r, size_t n)
{
	return rd_take(r, n) ? 0 : -1;
}

int rd_u8(rd_t *r, uint8_t *v)
{
	const uint8_t *p = rd_take(r, 1);
	if (!p)
		return -1;
	*v = p[0];
	return 0;
}

int rd_bool(rd_t *r, int *v)
{
	const uint8_t *p = rd_take(r, 1);
	if (!p)
		return -1;
	*v = p[0] != 0;
	return 0;
}

int rd_u32(rd_t *r, uint32_t *v)
{
	const uint8_t *p = rd_take(r, 4);
	if (!p)
		return -1;
	*v = be32(p);
	return 0;
}

int rd_bool_value(rd_t *r)
{
	const uint8_t *p = rd_take(r, 1);
	return p && p[0] != 0;
}

uint32_t rd_u32_value(rd_t *r)
{
	const uint8_t *p = rd_take(r, 4);
	return p ? be32(p) : 0;
}

int rd_u64(rd_t *r, uint64_t *v)
{
	const uint8_t *p = rd_take(r, 8);
	if (!p)
		return -1;
	*v = (uint64_t)be32(p) << 32 | be32(p + 4);
	return 0;
}

/* A string's bytes in place, its length in *n; NULL (err set) on error.
 * Inlined into its callers, so that their n needs no stack canary. */
static inline __attribute__((always_inline)) const uint8_t *rd_str(rd_t *r, size_t *n)
{
	const uint8_t *p = rd_take(r, 4);
	if (!p)
		return NULL;
	uint32_t len = be32(p);
	if (len > BUF_MAX_STRING) {
		r->err = 1;
		return NULL;
	}
	p = rd_take(r, len);
	if (p)
		*n = len;       /* left as it was on an error */
	return p;
}

int rd_string(rd_t *r, const uint8_t **s, size_t *n)
{
	const uint8_t *p = rd_str(r, n);
	if (!p)
		return -1;
	*s = p;
	return 0;
}

int rd_cstring(rd_t *r, char *out, size_t outsz)
{
	size_t n;
	const uint8_t *s = rd_str(r, &n);
	if (!s)
		return -1;
	if (n >= outsz || memchr(s, 0, n))
		return rd_fail(r);
	memcpy(out, s, n);
	out[n] = 0;
	return 0;
}

int rd_mpint_be(rd_t *r, const uint8_t **mag, size_t *n)
{
	size_t len;
	const uint8_t *s = rd_str(r, &len);
	if (!s)
		return -1;
	if (len == 0) {
		*mag = s;
		*n = 0;
		return 0;
	}
	if (s[0] & 0x80)
		return rd_fail(r);          /* negative */
	if (s[0] == 0) {
		/* a leading zero is only allowed to keep the top bit clear */
		if (len == 1 || !(s[1] & 0x80))
			return rd_fail(r);
		s++;
		len--;
	}
	*mag = s;
	*n = len;
	return 0;
}

int rd_end(const rd_t *r)
{
	return (!r->err && r->off == r->len) ? 0 : -1;
}

int namelist_has(const uint8_t *list, size_t n, const char *name)
{
	size_t nl = strlen(name), i = 0;
	while (i <= n) {
		size_t j = i;
		while (j < n && list[j] != ',')
			j++;
		if (j - i == nl && memcmp(list + i, name, nl) == 0)
			return 1;
		i = j + 1;
	}
	return 0;
}

int namelist_choose(const uint8_t *client, size_t cn, const char *server,
		    char *out, size_t outsz)
{
	size_t i = 0;
	while (i < cn) {
		size_t j = i;
		while (j < cn && client[j] != ',')
			j++;
		size_t len = j - i;
		if (len && len < outsz) {
			memcpy(out, client + i, len);
			out[len] = 0;
			if (!memchr(out, 0, len) &&
			    namelist_has((const uint8_t *)server, strlen(server), out))
				return 0;
		}
		i = j + 1;
	}
	return -1;
}
