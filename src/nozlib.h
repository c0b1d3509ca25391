/* nozlib: what packet.c uses of zlib's interface, for a build configured
 * with --disable-zlib (no zlib headers or library needed). Nothing offers
 * zlib@openssh.com in such a build (config.c stores Compression no), so
 * these are never reached through negotiation; if they were, every call
 * fails and the connection ends with packet.c's zlib error. */
#ifndef WOMBAT_NOZLIB_H
#define WOMBAT_NOZLIB_H

typedef unsigned char Bytef;
typedef unsigned int uInt;
typedef struct {
	Bytef *next_in, *next_out;
	uInt avail_in, avail_out;
} z_stream;

enum { Z_OK = 0, Z_STREAM_ERROR = -2, Z_BUF_ERROR = -5,
       Z_PARTIAL_FLUSH = 1, Z_SYNC_FLUSH = 2 };

static inline int nozlib_fail(z_stream *z) { (void)z; return Z_STREAM_ERROR; }
#define inflateInit(z) nozlib_fail(z)
#define deflateInit(z, level) ((void)(level), nozlib_fail(z))
#define inflate(z, flush) ((void)(flush), nozlib_fail(z))
#define deflate(z, flush) ((void)(flush), nozlib_fail(z))
#define inflateEnd(z) nozlib_fail(z)
#define deflateEnd(z) nozlib_fail(z)

#endif
