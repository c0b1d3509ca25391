/* packet: the binary packet protocol (RFC 4253 s6) over a pair of fds —
 * framing, padding, sequence numbers, cipher/MAC through crypto/cipher.h,
 * zlib@openssh.com compression, and the byte counts that drive rekeying.
 * One input and one output buffer; packets are opened and sealed in place. */
#ifndef WOMBAT_PACKET_H
#define WOMBAT_PACKET_H

#include <stddef.h>
#include <stdint.h>
#ifdef WOMBAT_NO_ZLIB
#include "nozlib.h"     /* --disable-zlib */
#else
#include <zlib.h>
#endif
#include "buf.h"
#include "cipher.h"

/* Largest packet_length accepted or produced (OpenSSH uses 256 KiB). */
#define PACKET_MAX_LEN (256u * 1024u)
/* Largest payload after decompression. */
#define PACKET_MAX_PAYLOAD (256u * 1024u)

struct packet {
	int in_fd, out_fd;
	buf_t in;              /* raw bytes from the peer */
	buf_t out;             /* sealed bytes waiting for the socket */
	buf_t payload;         /* the current incoming payload (decompressed) */
	buf_t zbuf;            /* scratch for compression */
	uint32_t seq_in, seq_out;
	tcrypt_t *rx, *tx;
	size_t consume_pending; /* bytes of the packet last returned */
	int len_known;         /* tcrypt_open_len done for the packet at in */
	uint32_t cur_len;
	z_stream zin, zout;
	int zin_on, zout_on;
	uint64_t rekey_in, rekey_out;     /* bytes since the last NEWKEYS */
	uint64_t total_in, total_out;     /* whole connection, on the wire */
	uint64_t packets_in, packets_out;
	int eof;               /* peer closed its side */
	char err[160];         /* why pkt_next, pkt_fill or pkt_flush failed */
};

int pkt_init(struct packet *p, int in_fd, int out_fd);
void pkt_free(struct packet *p);
/* Read what is available (non-blocking). 0 ok (maybe no data), -1 error or
 * EOF (p->eof set, p->err says which). */
int pkt_fill(struct packet *p);
/* Next complete incoming packet: 1 and payload, len set (valid until the
 * next call), 0 when more bytes are needed, -1 on a framing, MAC or
 * decompression error (p->err). */
int pkt_next(struct packet *p, const uint8_t **payload, size_t *len);
/* Idle: frees the buffers that hold nothing; they grow again when used. */
void pkt_trim(struct packet *p);
/* Wipe the packet last returned by pkt_next (raw and decompressed copies):
 * for payloads that carry a secret, such as a password. */
void pkt_wipe_last(struct packet *p);
/* Seal and queue one payload. */
int pkt_send(struct packet *p, const uint8_t *payload, size_t len);
/* Without a copy: room at the end of the output queue for n packets whose
 * payloads are at most len bytes. Returns where the first payload goes;
 * the k-th payload goes *stride bytes after the one before. The caller
 * writes a payload there and seals it with pkt_seal_queued(len), one
 * packet after the other: every packet but the last must be len bytes (the
 * next payload's position assumes it). NULL when compression is on (the
 * payload must go through pkt_send) or the queue cannot take n packets.
 * Valid until the next call into the packet layer other than
 * pkt_seal_queued. */
uint8_t *pkt_room(struct packet *p, size_t n, size_t len, size_t *stride);
/* Frame, pad and seal in place the len-byte payload written at the queue's
 * end + 5 (pkt_room's position), and queue it. */
int pkt_seal_queued(struct packet *p, size_t len);
/* Write queued bytes (non-blocking). -1 on a write error (p->err). */
int pkt_flush(struct packet *p);
static inline size_t pkt_out_queued(const struct packet *p) { return buf_used(&p->out); }
/* Install new protection for one direction (takes ownership). */
void pkt_set_rx(struct packet *p, tcrypt_t *t);
void pkt_set_tx(struct packet *p, tcrypt_t *t);
/* Turn zlib@openssh.com on for a direction (at NEWKEYS, or after auth). */
int pkt_start_compression(struct packet *p, int in, int out);

#endif
