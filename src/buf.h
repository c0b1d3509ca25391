/* buf: bounded byte buffers and SSH wire types (RFC 4251 section 5).
 *
 * Two types:
 *  - buf_t   an owning, growable byte buffer with a hard upper bound (max).
 *            Writers append; a write that would pass max fails with -1 and
 *            leaves the buffer unchanged.
 *  - rd_t    a read cursor over bytes owned by somebody else. Every read is
 *            bounds-checked; a short or oversized field returns -1 and sets
 *            the sticky `err` flag, so a parser may check once at the end.
 *            Strings returned by rd_string point into the underlying bytes.
 */
#ifndef WOMBAT_BUF_H
#define WOMBAT_BUF_H

#include <stddef.h>
#include <stdint.h>

/* Largest single string we ever accept off the wire (a packet is smaller). */
#define BUF_MAX_STRING (256u * 1024u)

typedef struct {
	uint8_t *p;     /* bytes [off, len) are live */
	size_t off;     /* read offset (consumed bytes at the front) */
	size_t len;     /* end of data */
	size_t cap;     /* allocated */
	size_t max;     /* hard bound on len - off */
} buf_t;

int buf_init(buf_t *b, size_t initial, size_t max);
void buf_free(buf_t *b);                 /* wipes then frees */
void buf_reset(buf_t *b);                /* empty, keeps the allocation */
void buf_release(buf_t *b);              /* empty, allocation wiped and freed; max kept */
static inline size_t buf_used(const buf_t *b) { return b->len - b->off; }
static inline uint8_t *buf_data(const buf_t *b) { return b->p + b->off; }
/* Ensure room for `extra` more bytes; returns pointer to the free space. */
uint8_t *buf_reserve(buf_t *b, size_t extra);
void buf_commit(buf_t *b, size_t n);     /* mark n reserved bytes as written */
void buf_consume(buf_t *b, size_t n);    /* drop n bytes from the front */
void buf_compact(buf_t *b);              /* move live bytes to the start */

int buf_put(buf_t *b, const void *data, size_t n);
int buf_put_u8(buf_t *b, uint8_t v);
int buf_put_bool(buf_t *b, int v);
int buf_put_u32(buf_t *b, uint32_t v);
int buf_put_u64(buf_t *b, uint64_t v);
int buf_put_string(buf_t *b, const void *data, size_t n);
int buf_put_cstring(buf_t *b, const char *s);
/* mpint from an unsigned big-endian magnitude (leading zeros stripped,
 * a 0x00 prepended when the top bit is set). */
int buf_put_mpint_be(buf_t *b, const uint8_t *mag, size_t n);

typedef struct {
	const uint8_t *p;
	size_t len;
	size_t off;
	int err;
} rd_t;

void rd_init(rd_t *r, const void *data, size_t len);
static inline size_t rd_left(const rd_t *r) { return r->len - r->off; }
int rd_bytes(rd_t *r, void *out, size_t n);           /* copy n bytes */
int rd_skip(rd_t *r, size_t n);
int rd_ptr(rd_t *r, const uint8_t **out, size_t n);   /* n bytes in place */
int rd_u8(rd_t *r, uint8_t *v);
int rd_bool(rd_t *r, int *v);
int rd_u32(rd_t *r, uint32_t *v);
/* The next uint32, or 0 with the error set (rd_end then fails): for callers
 * that check r->err once after several reads */
uint32_t rd_u32_value(rd_t *r);
int rd_bool_value(rd_t *r);            /* the same for a boolean: 0 or 1 */
int rd_u64(rd_t *r, uint64_t *v);
/* string: pointer into the data, length <= BUF_MAX_STRING */
int rd_string(rd_t *r, const uint8_t **s, size_t *n);
/* string copied into out[outsz] with a NUL; fails if it contains NUL or
 * does not fit. */
int rd_cstring(rd_t *r, char *out, size_t outsz);
/* mpint: returns the magnitude (no sign byte, no leading zeros); negative
 * values and non-minimal encodings are errors. */
int rd_mpint_be(rd_t *r, const uint8_t **mag, size_t *n);
/* Succeeds only if everything has been consumed and no error occurred. */
int rd_end(const rd_t *r);

/* name-list helpers: does the comma-separated list (not NUL-terminated)
 * contain `name`? */
int namelist_has(const uint8_t *list, size_t n, const char *name);
/* First name in client's list that the server also supports (server list is a
 * NUL-terminated comma list). Writes it into out; returns 0 or -1. */
int namelist_choose(const uint8_t *client, size_t cn, const char *server,
		    char *out, size_t outsz);

#endif
