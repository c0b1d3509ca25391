/* packet: binary packet protocol framing, protection and compression. */
#include "packet.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto.h"
#include "log.h"

#ifdef WOMBAT_Z_SONAME
#include <dlfcn.h>
/* zlib is loaded by its SONAME (configure) when a connection first
 * compresses: only after authentication (zlib@openssh.com), in the process
 * that runs the authenticated connection, which may open files. An idle
 * session that does not compress never maps it (about 10 KiB). Into the
 * global scope, the functions looked up there as a linked call finds them;
 * the zlib calls below go through these pointers. */
static union {
	struct {
		__typeof__(&inflateInit_) inflate_init;
		__typeof__(&deflateInit_) deflate_init;
		__typeof__(&inflate) inflate;
		__typeof__(&deflate) deflate;
		__typeof__(&inflateEnd) inflate_end;
		__typeof__(&deflateEnd) deflate_end;   /* set last: zlib is loaded */
	} f;
	void *raw[6];                 /* the same, as dlsym fills them */
} zl;
_Static_assert(sizeof zl.f == sizeof zl.raw, "zl holds exactly one pointer per name");

/* zl.f's functions, in its order */
static const char zlib_names[] =
	"inflateInit_\0deflateInit_\0inflate\0deflate\0inflateEnd\0deflateEnd";

static int zlib_load(void)
{
	if (zl.f.deflate_end)
		return 0;
	if (!dlopen(WOMBAT_Z_SONAME, RTLD_NOW | RTLD_GLOBAL)) {
		error("compression impossible: cannot load %s: %s", WOMBAT_Z_SONAME, dlerror());
		return -1;
	}
	const char *name = zlib_names;
	for (size_t i = 0; i < sizeof zl.raw / sizeof zl.raw[0]; i++, name += strlen(name) + 1) {
		if (!(zl.raw[i] = dlsym(RTLD_DEFAULT, name))) {
			error("compression impossible: %s lacks a zlib function", WOMBAT_Z_SONAME);
			memset(&zl, 0, sizeof(zl));
			return -1;
		}
	}
	return 0;
}
#undef inflateInit
#undef deflateInit
#define inflateInit(s) zl.f.inflate_init((s), ZLIB_VERSION, (int)sizeof(z_stream))
#define deflateInit(s, level) zl.f.deflate_init((s), (level), ZLIB_VERSION, (int)sizeof(z_stream))
#define inflate(s, flush) zl.f.inflate((s), (flush))
#define deflate(s, flush) zl.f.deflate((s), (flush))
#define inflateEnd(s) zl.f.inflate_end(s)
#define deflateEnd(s) zl.f.deflate_end(s)
#else
static int zlib_load(void)
{
	return 0;
}
#endif

/* One socket read: OpenSSH's ssh sends a 32 KiB packet per write, and a
 * read of 8 of them lets the channel layer write them to the consumer at
 * once (chan_flush_input): a quarter of the loops, writes and wake-ups of
 * 64 KiB reads. */
#define READ_CHUNK (256u * 1024u)
/* Input holds at most one partial packet plus one read. */
#define IN_MAX (PACKET_MAX_LEN + 256u + 2u * READ_CHUNK)
#define OUT_MAX (64u * 1024u * 1024u)

/* Padding bytes come from a small pool refilled from the kernel, so that
 * small packets do not cost a getrandom() each. The pool lives on the heap
 * and goes back with the buffers when the connection is idle (pkt_trim): in
 * .bss it would keep a page resident for the whole session. */
#define PAD_POOL_SIZE 4096u
static uint8_t *pad_pool;
static size_t pad_left;

static void padding_bytes(uint8_t *out, size_t n)
{
	if (!pad_pool && !(pad_pool = malloc(PAD_POOL_SIZE))) {
		rand_bytes(out, n);     /* no pool: straight from the kernel */
		return;
	}
	if (pad_left < n) {
		rand_bytes(pad_pool, PAD_POOL_SIZE);
		pad_left = PAD_POOL_SIZE;
	}
	memcpy(out, pad_pool + PAD_POOL_SIZE - pad_left, n);
	pad_left -= n;
}

static void padding_release(void)
{
	if (pad_pool) {
		wipe(pad_pool, PAD_POOL_SIZE);
		free(pad_pool);
	}
	pad_pool = NULL;
	pad_left = 0;
}

static int fail(struct packet *p, const char *why)
{
	str_copy(p->err, sizeof(p->err), why);
	return -1;
}

int pkt_init(struct packet *p, int in_fd, int out_fd)
{
	memset(p, 0, sizeof(*p));
	p->in_fd = in_fd;
	p->out_fd = out_fd;
	if (buf_init(&p->in, READ_CHUNK, IN_MAX) < 0 ||
	    buf_init(&p->out, READ_CHUNK, OUT_MAX) < 0 ||
	    buf_init(&p->payload, 0, PACKET_MAX_PAYLOAD) < 0 ||
	    buf_init(&p->zbuf, 0, PACKET_MAX_LEN) < 0)
		return -1;
	p->rx = tcrypt_new("none", NULL, NULL, NULL, NULL, 0);
	p->tx = tcrypt_new("none", NULL, NULL, NULL, NULL, 1);
	return (p->rx && p->tx) ? 0 : -1;
}

void pkt_free(struct packet *p)
{
	tcrypt_free(p->rx);
	tcrypt_free(p->tx);
	if (p->zin_on)
		inflateEnd(&p->zin);
	if (p->zout_on)
		deflateEnd(&p->zout);
	buf_free(&p->in);
	buf_free(&p->out);
	buf_free(&p->payload);
	buf_free(&p->zbuf);
}

void pkt_trim(struct packet *p)
{
	if (p->consume_pending) {
		buf_consume(&p->in, p->consume_pending);
		p->consume_pending = 0;
	}
	if (buf_used(&p->in) == 0)
		buf_release(&p->in);
	if (buf_used(&p->out) == 0)
		buf_release(&p->out);
	buf_release(&p->payload);   /* pkt_next's answer: consumed by now */
	buf_release(&p->zbuf);      /* scratch */
	padding_release();
}

void pkt_set_rx(struct packet *p, tcrypt_t *t)
{
	tcrypt_free(p->rx);
	p->rx = t;
	p->rekey_in = 0;
}

void pkt_set_tx(struct packet *p, tcrypt_t *t)
{
	tcrypt_free(p->tx);
	p->tx = t;
	p->rekey_out = 0;
}

int pkt_start_compression(struct packet *p, int in, int out)
{
	if ((in || out) && zlib_load() < 0)
		return fail(p, "zlib cannot be loaded");
	if (in && !p->zin_on) {
		memset(&p->zin, 0, sizeof(p->zin));
		if (inflateInit(&p->zin) != Z_OK)
			return fail(p, "zlib inflateInit failed");
		p->zin_on = 1;
	}
	if (out && !p->zout_on) {
		memset(&p->zout, 0, sizeof(p->zout));
		if (deflateInit(&p->zout, 6) != Z_OK)
			return fail(p, "zlib deflateInit failed");
		p->zout_on = 1;
	}
	return 0;
}

int pkt_fill(struct packet *p)
{
	if (p->consume_pending) {
		buf_consume(&p->in, p->consume_pending);
		p->consume_pending = 0;
	}
	uint8_t *dst = buf_reserve(&p->in, READ_CHUNK);
	if (!dst)
		return 0;      /* full: the caller must consume packets first */
	ssize_t n = read(p->in_fd, dst, READ_CHUNK);
	if (n > 0) {
		buf_commit(&p->in, (size_t)n);
		p->total_in += (uint64_t)n;
		return 0;
	}
	if (n == 0) {
		p->eof = 1;
		return fail(p, "connection closed by client");
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return 0;
	p->eof = 1;
	snprintf(p->err, sizeof(p->err), "read error: %m");
	return -1;
}

/* Inflate one compressed payload into p->payload. */
static int decompress_payload(struct packet *p, const uint8_t *in, size_t n)
{
	buf_reset(&p->payload);
	p->zin.next_in = (Bytef *)in;
	p->zin.avail_in = (uInt)n;
	for (;;) {
		uint8_t *dst = buf_reserve(&p->payload, 16384);
		if (!dst)
			return fail(p, "decompressed packet too large");
		p->zin.next_out = dst;
		p->zin.avail_out = 16384;
		int rc = inflate(&p->zin, Z_SYNC_FLUSH);
		buf_commit(&p->payload, 16384 - p->zin.avail_out);
		if (rc == Z_BUF_ERROR && p->zin.avail_in == 0)
			return 0;
		if (rc != Z_OK)
			return fail(p, "zlib decompression error");
		if (p->zin.avail_in == 0 && p->zin.avail_out != 0)
			return 0;
	}
}

int pkt_next(struct packet *p, const uint8_t **payload, size_t *len)
{
	if (p->consume_pending) {
		buf_consume(&p->in, p->consume_pending);
		p->consume_pending = 0;
	}
	if (!p->len_known) {
		if (buf_used(&p->in) < tcrypt_first_len(p->rx))
			return 0;
		uint32_t plen;
		if (tcrypt_open_len(p->rx, p->seq_in, buf_data(&p->in), &plen) < 0)
			return fail(p, "cannot decode packet length");
		if (plen < 5 || plen > PACKET_MAX_LEN) {
			snprintf(p->err, sizeof(p->err),
				 "bad packet length %u (limit %u)", plen, PACKET_MAX_LEN);
			return -1;
		}
		size_t bs = tcrypt_blocksize(p->rx);
		size_t covered = tcrypt_len_excluded(p->rx) ? plen : plen + 4u;
		if (covered % bs) {
			snprintf(p->err, sizeof(p->err),
				 "bad packet length %u: not a multiple of block size %zu",
				 plen, bs);
			return -1;
		}
		p->cur_len = plen;
		p->len_known = 1;
	}
	size_t total = 4u + p->cur_len + tcrypt_taglen(p->rx);
	if (buf_used(&p->in) < total)
		return 0;
	uint8_t *pkt = buf_data(&p->in);
	if (tcrypt_open(p->rx, p->seq_in, pkt, 4u + p->cur_len) < 0)
		return fail(p, "message authentication code (MAC/integrity) check failed");
	p->len_known = 0;
	uint8_t padlen = pkt[4];
	if (padlen < 4 || (size_t)padlen + 1 > p->cur_len)
		return fail(p, "bad padding length");
	size_t plen = p->cur_len - padlen - 1;
	p->consume_pending = total;
	p->seq_in++;
	p->packets_in++;
	p->rekey_in += total;
	if (p->zin_on && plen) {
		if (decompress_payload(p, pkt + 5, plen) < 0)
			return -1;
		*payload = buf_data(&p->payload);
		*len = buf_used(&p->payload);
	} else {
		*payload = pkt + 5;
		*len = plen;
	}
	if (*len == 0)
		return fail(p, "empty payload");
	return 1;
}

void pkt_wipe_last(struct packet *p)
{
	if (p->consume_pending)
		wipe(buf_data(&p->in), p->consume_pending);
	if (p->payload.p)
		wipe(p->payload.p, p->payload.cap);
}

/* Deflate a payload into p->zbuf (Z_PARTIAL_FLUSH per packet, as OpenSSH). */
static int compress_payload(struct packet *p, const uint8_t *in, size_t n)
{
	buf_reset(&p->zbuf);
	p->zout.next_in = (Bytef *)in;
	p->zout.avail_in = (uInt)n;
	do {
		uint8_t *dst = buf_reserve(&p->zbuf, 16384);
		if (!dst)
			return fail(p, "compressed packet too large");
		p->zout.next_out = dst;
		p->zout.avail_out = 16384;
		if (deflate(&p->zout, Z_PARTIAL_FLUSH) != Z_OK)
			return fail(p, "zlib compression error");
		buf_commit(&p->zbuf, 16384 - p->zout.avail_out);
	} while (p->zout.avail_out == 0);
	return 0;
}

/* packet_length and padding for a payload of len bytes (RFC 4253 s6: the
 * covered bytes a multiple of the block size, at least 4 bytes of padding). */
static size_t padding_for(const struct packet *p, size_t len)
{
	size_t bs = tcrypt_blocksize(p->tx);
	size_t unit = (tcrypt_len_excluded(p->tx) ? 1u : 5u) + len;
	size_t padlen = bs - unit % bs;
	return padlen < 4 ? padlen + bs : padlen;
}

/* Bytes a sealed packet with a len-byte payload takes in the queue. */
static size_t sealed_size(const struct packet *p, size_t len)
{
	return 4u + 1u + len + padding_for(p, len) + tcrypt_taglen(p->tx);
}

uint8_t *pkt_room(struct packet *p, size_t n, size_t len, size_t *stride)
{
	if (p->zout_on || n == 0 || 1u + len + padding_for(p, len) > PACKET_MAX_LEN)
		return NULL;
	*stride = sealed_size(p, len);
	if (n > OUT_MAX / *stride)
		return NULL;
	uint8_t *dst = buf_reserve(&p->out, n * *stride);
	return dst ? dst + 5 : NULL;
}

int pkt_seal_queued(struct packet *p, size_t len)
{
	size_t padlen = padding_for(p, len);
	size_t plen = 1 + len + padlen;
	size_t total = 4 + plen + tcrypt_taglen(p->tx);
	if (plen > PACKET_MAX_LEN)
		return fail(p, "outgoing packet too large");
	/* the room was reserved by pkt_room or pkt_send */
	if (p->out.cap - p->out.len < total)
		return fail(p, "output queue full");
	uint8_t *dst = p->out.p + p->out.len;
	dst[0] = (uint8_t)(plen >> 24);
	dst[1] = (uint8_t)(plen >> 16);
	dst[2] = (uint8_t)(plen >> 8);
	dst[3] = (uint8_t)plen;
	dst[4] = (uint8_t)padlen;
	padding_bytes(dst + 5 + len, padlen);
	if (tcrypt_seal(p->tx, p->seq_out, dst, 4 + plen) < 0)
		return fail(p, "encryption failed");
	buf_commit(&p->out, total);
	p->seq_out++;
	p->packets_out++;
	p->rekey_out += total;
	return 0;
}

int pkt_send(struct packet *p, const uint8_t *payload, size_t len)
{
	if (p->zout_on) {
		if (compress_payload(p, payload, len) < 0)
			return -1;
		payload = buf_data(&p->zbuf);
		len = buf_used(&p->zbuf);
	}
	if (1u + len + padding_for(p, len) > PACKET_MAX_LEN)
		return fail(p, "outgoing packet too large");
	uint8_t *dst = buf_reserve(&p->out, sealed_size(p, len));
	if (!dst)
		return fail(p, "output queue full");
	memcpy(dst + 5, payload, len);
	return pkt_seal_queued(p, len);
}

int pkt_flush(struct packet *p)
{
	while (buf_used(&p->out)) {
		ssize_t n = write(p->out_fd, buf_data(&p->out), buf_used(&p->out));
		if (n > 0) {
			buf_consume(&p->out, (size_t)n);
			p->total_out += (uint64_t)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n < 0 && errno == EINTR)
			continue;
		snprintf(p->err, sizeof(p->err), "write error: %s",
			 n < 0 ? strerror(errno) : "short write");
		return -1;
	}
	return 0;
}
