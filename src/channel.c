/* channel: channel table, windows, fd pumping and the close protocol
 * (RFC 4254 s5). The state machine is described in channel.h. */
#include "channel.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "alive.h"
#include "conn.h"
#include "log.h"

/* DATA payloads a channel may leave in the packet input buffer during one
 * batch (a socket read holds at most 8 full packets). */
#define CHAN_LENT_MAX 16

enum chan_state { CH_OPENING_IN, CH_OPENING_OUT, CH_OPEN, CH_CLOSE_SENT };

struct channel {
	struct chanset *cs;
	const struct chan_type *type;
	void *priv;                /* the type's */
	uint32_t id, rid;          /* ours, the client's */
	enum chan_state state;
	int was_open;              /* reached OPEN (else: no close line in the log) */
	uint32_t lwin_size;        /* the window we announce and refill to
	                            * (ChannelWindowSize, when it opened) */
	uint32_t lwin;             /* window the client has left to send us */
	uint32_t lconsumed;        /* bytes consumed since our last adjust */
	uint32_t rwin, rmaxpkt;    /* client's window and max packet */
	int wfd, rfd, efd;         /* -1 when closed */
	buf_t in;                  /* client data waiting for the child's stdin */
	struct iovec lent[CHAN_LENT_MAX];  /* more of it, after in, still in the
	                            * packet input buffer (take_input) */
	int n_lent;
	int attached;              /* fds were handed over by the session */
	int eof_rcvd, eof_sent;
	int source_ended;          /* the child has exited */
	int drain_on_end;          /* CloseOnChildExit yes */
	int exit_pending;          /* yes: exit reported once drained */
	int exit_wstatus;          /* the child's wait status, for that */
	int wait_fd;               /* polled for the type (chan_wait), -1 none */
	short wait_events;
	int64_t wait_due;          /* its deadline, 0 = none */
	char kind[80];             /* ChannelTimeout type */
	char label[160];           /* for the log, may be empty */
	uint64_t bytes_in, bytes_out;
	int64_t start;             /* opened (alive_now_ms) */
	int64_t last_active;       /* last DATA either way (alive_now_ms) */
	int idle_timeout;          /* ChannelTimeout for its kind, s; 0 = none */
	char timeout_name[80];     /* the name that matched, for the log */
	const char *end_why;       /* why it closed, for the log */
};

struct chanset {
	struct conn *c;
	struct channel *chans[CHAN_MAX_CHANNELS];  /* index = our channel id */
	int top;                  /* 1 + the highest id in use: where scans stop */
	uint8_t *rbuf;                             /* CHAN_READ_MAX scratch */
	int64_t last_active;       /* last DATA on any channel */
	int global_timeout;        /* ChannelTimeout global=, s; 0 = none */
};

/* ---------- helpers ---------- */

static void close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

static struct channel *chan_lookup(struct chanset *cs, uint32_t id)
{
	if (id >= CHAN_MAX_CHANNELS)
		return NULL;
	return cs->chans[id];
}

static int back_pressure(const struct chanset *cs)
{
	return conn_out_queued(cs->c) > CONN_OUT_HIGH;
}

/* Traffic on the channel: ChannelTimeout starts over (OpenSSH counts
 * data, not requests or window adjusts). */
static __attribute__((noinline)) void note_activity(struct channel *ch)
{
	ch->last_active = ch->cs->last_active = alive_now_ms();
}

static void send_simple(struct channel *ch, uint8_t msg)
{
	buf_t *b = conn_pkt_start(ch->cs->c, msg);
	if (!b)
		return;
	buf_put_u32(b, ch->rid);
	conn_pkt_send(ch->cs->c);
}

static void send_open_failure(struct chanset *cs, uint32_t rid, uint32_t code,
			      const char *why)
{
	buf_t *b = conn_pkt_start(cs->c, SSH_MSG_CHANNEL_OPEN_FAILURE);
	if (!b)
		return;
	buf_put_u32(b, rid);
	buf_put_u32(b, code);
	buf_put_cstring(b, why);
	buf_put_cstring(b, "");
	conn_pkt_send(cs->c);
}

/* ---------- lifetime ---------- */

struct chanset *chan_init(struct conn *c)
{
	struct chanset *cs = calloc(1, sizeof(*cs));
	if (!cs)
		return NULL;
	cs->c = c;
	cs->last_active = alive_now_ms();
	cs->global_timeout = alive_channel_timeout(conn_config(c), "global");
	/* A child that closed its stdin must give us EPIPE, not kill us. */
	signal(SIGPIPE, SIG_IGN);
	return cs;
}

static void chan_close_fds(struct channel *ch)
{
	close_fd(&ch->wfd);
	close_fd(&ch->rfd);
	close_fd(&ch->efd);
}

/* Send the exit-status/exit-signal held back while draining (or, once
 * the channel is closing, just let the session forget its child). */
static void report_exit(struct channel *ch)
{
	if (!ch->exit_pending)
		return;
	ch->exit_pending = 0;
	if (ch->type->child_exited)
		ch->type->child_exited(ch, ch->exit_wstatus);
}

/* the input side (below) */
static size_t input_pending(const struct channel *ch);
static void keep_lent(struct channel *ch);
static void drop_input(struct channel *ch);

static void chan_destroy(struct channel *ch)
{
	struct chanset *cs = ch->cs;

	/* DATA queued in this batch (chan_flush_input) goes out if the
	 * consumer has room, as it would have before the CLOSE arrived */
	if (ch->wfd >= 0 && input_pending(ch) > 0) {
		keep_lent(ch);
		if (write(ch->wfd, buf_data(&ch->in), buf_used(&ch->in)) < 0)
			debug("channel %u: input left unwritten at close", ch->id);
	}
	chan_close_fds(ch);
	if (ch->exit_pending) {
		ch->state = CH_CLOSE_SENT;   /* too late to report: no requests */
		report_exit(ch);
	}
	if (ch->type->free)
		ch->type->free(ch);
	/* an open that never succeeded was logged where it was refused */
	if (ch->was_open)
		logit("%s channel %u%s%s closed (%s): %.1fs, %llu bytes in, %llu bytes out",
		      ch->type->name, ch->id, ch->label[0] ? " " : "", ch->label,
		      ch->end_why ? ch->end_why : "connection ended",
		      (double)(alive_now_ms() - ch->start) / 1000,
		      (unsigned long long)ch->bytes_in, (unsigned long long)ch->bytes_out);
	buf_free(&ch->in);
	cs->chans[ch->id] = NULL;
	while (cs->top > 0 && !cs->chans[cs->top - 1])
		cs->top--;
	free(ch);
}

void chan_free(struct chanset *cs)
{
	if (!cs)
		return;
	for (int i = 0; i < cs->top; i++)
		if (cs->chans[i])
			chan_destroy(cs->chans[i]);
	free(cs->rbuf);
	free(cs);
}

void chan_trim(struct chanset *cs)
{
	free(cs->rbuf);
	cs->rbuf = NULL;
	for (int i = 0; i < cs->top; i++)
		if (cs->chans[i] && buf_used(&cs->chans[i]->in) == 0)
			buf_release(&cs->chans[i]->in);
}

int chan_count(const struct chanset *cs)
{
	int n = 0;
	for (int i = 0; i < cs->top; i++)
		n += cs->chans[i] != NULL;
	return n;
}

/* ---------- for the channel types ---------- */

struct conn *chan_conn(const struct channel *ch) { return ch->cs->c; }
struct chanset *chan_set(const struct channel *ch) { return ch->cs; }
uint32_t chan_id(const struct channel *ch) { return ch->id; }
void chan_set_priv(struct channel *ch, void *priv) { ch->priv = priv; }
void *chan_priv(const struct channel *ch) { return ch->priv; }

void chan_set_label(struct channel *ch, const char *label)
{
	str_copy(ch->label, sizeof(ch->label), label);
}

/* ChannelTimeout by kind; "session:command" falls back to "session" (the
 * type's name covers all its kinds). */
void chan_set_kind(struct channel *ch, const char *kind)
{
	const struct config *cfg = conn_config(ch->cs->c);
	str_copy(ch->kind, sizeof(ch->kind), kind);
	str_copy(ch->timeout_name, sizeof(ch->timeout_name), kind);
	ch->idle_timeout = alive_channel_timeout(cfg, ch->kind);
	char *colon = strchr(ch->timeout_name, ':');
	if (ch->idle_timeout == 0 && colon) {
		*colon = '\0';
		ch->idle_timeout = alive_channel_timeout(cfg, ch->timeout_name);
	}
}

int chan_count_type(const struct chanset *cs, const struct chan_type *t)
{
	int n = 0;
	for (int i = 0; i < cs->top; i++)
		n += cs->chans[i] && cs->chans[i]->type == t;
	return n;
}

__attribute__((noinline)) void chan_wait(struct channel *ch, int fd, short events, int64_t due)
{
	ch->wait_fd = fd;
	ch->wait_events = events;
	ch->wait_due = fd >= 0 ? due : 0;
}

void set_nonblock(int fd)
{
	int fl = fd >= 0 ? fcntl(fd, F_GETFL) : -1;
	if (fl >= 0)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

__attribute__((noinline)) void chan_attach_fds(struct channel *ch, int wfd, int rfd, int efd)
{
	ch->attached = 1;
	ch->wfd = wfd;
	ch->rfd = rfd;
	ch->efd = efd;
	set_nonblock(wfd);
	set_nonblock(rfd);
	set_nonblock(efd);
}

buf_t *chan_request_start(struct channel *ch, const char *type, int want_reply)
{
	if (ch->state != CH_OPEN)
		return NULL;
	buf_t *b = conn_pkt_start(ch->cs->c, SSH_MSG_CHANNEL_REQUEST);
	if (!b)
		return NULL;
	buf_put_u32(b, ch->rid);
	buf_put_cstring(b, type);
	buf_put_bool(b, want_reply);
	return b;
}

int chan_send_keepalive(struct chanset *cs)
{
	for (int i = 0; i < cs->top; i++) {
		struct channel *ch = cs->chans[i];
		if (!ch || ch->state != CH_OPEN)
			continue;
		if (!chan_request_start(ch, "keepalive@openssh.com", 1))
			continue;
		conn_pkt_send(cs->c);
		return 1;
	}
	return 0;
}

/* ---------- output side: child fds -> client ---------- */

/* Data bytes in one CHANNEL_DATA: the client's maximum packet, and ours. */
static __attribute__((noinline)) size_t chunk_max(const struct channel *ch)
{
	return ch->rmaxpkt < CHAN_MAX_PACKET ? ch->rmaxpkt : CHAN_MAX_PACKET;
}

static void send_data(struct channel *ch, int ext, const uint8_t *p, size_t n)
{
	size_t chunk = chunk_max(ch);

	while (n > 0) {
		size_t k = n < chunk ? n : chunk;
		buf_t *b = conn_pkt_start(ch->cs->c, ext ? SSH_MSG_CHANNEL_EXTENDED_DATA
							 : SSH_MSG_CHANNEL_DATA);
		if (!b)
			return;
		buf_put_u32(b, ch->rid);
		if (ext)
			buf_put_u32(b, 1);   /* SSH_EXTENDED_DATA_STDERR */
		buf_put_string(b, p, k);
		conn_pkt_send(ch->cs->c);
		ch->rwin -= (uint32_t)k;
		ch->bytes_out += k;
		note_activity(ch);
		p += k;
		n -= k;
	}
}

/* Packets one read_direct fills at most (CHAN_READ_MAX of 32 KiB packets
 * is 2; of a 4 KiB max packet, 16). */
#define DIRECT_MAX_PACKETS 16

static uint8_t *put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
	return p + 4;
}

/* The CHANNEL_DATA (ext: EXTENDED_DATA, stderr) header in front of k data
 * bytes; returns its length. */
static size_t data_header(const struct channel *ch, int ext, uint8_t *payload, size_t k)
{
	uint8_t *h = payload;
	*h++ = ext ? SSH_MSG_CHANNEL_EXTENDED_DATA : SSH_MSG_CHANNEL_DATA;
	h = put_be32(h, ch->rid);
	if (ext)
		h = put_be32(h, 1);   /* SSH_EXTENDED_DATA_STDERR */
	h = put_be32(h, (uint32_t)k);
	return (size_t)(h - payload);
}

/* One readv from fd straight into the payloads of packets laid out in the
 * output queue (one iovec per packet, after each one's header), each then
 * sealed where it lies: no copy between the child's pipe and the socket
 * write. Returns readv's result, or -2 when the queue cannot take them
 * now (the caller reads through rbuf and conn_pkt_send instead). */
static ssize_t read_direct(struct channel *ch, int fd, int ext, size_t want)
{
	size_t chunk = chunk_max(ch);
	size_t hdr = ext ? 13 : 9;     /* data_header's length */
	size_t n = (want + chunk - 1) / chunk, stride;
	if (n > DIRECT_MAX_PACKETS) {
		n = DIRECT_MAX_PACKETS;
		want = n * chunk;
	}
	uint8_t *room = conn_pkt_room(ch->cs->c, n, hdr + chunk, &stride);
	if (!room)
		return -2;
	struct iovec iov[DIRECT_MAX_PACKETS];
	for (size_t i = 0; i < n; i++) {
		iov[i].iov_base = room + i * stride + hdr;
		iov[i].iov_len = want - i * chunk < chunk ? want - i * chunk : chunk;
	}
	ssize_t r = readv(fd, iov, (int)n);
	size_t left = r > 0 ? (size_t)r : 0;
	for (size_t i = 0; left > 0; i++) {
		size_t k = left < chunk ? left : chunk;
		data_header(ch, ext, room + i * stride, k);
		if (conn_pkt_seal(ch->cs->c, hdr + k) < 0)
			break;      /* the connection is closing */
		ch->rwin -= (uint32_t)k;
		ch->bytes_out += k;
		left -= k;
	}
	if (r > 0)
		note_activity(ch);
	return r;
}

/* One read from fd through the scratch buffer, forwarded by send_data;
 * -3 when there is no memory for the buffer (try again later). */
static ssize_t read_copied(struct channel *ch, int fd, int ext, size_t want)
{
	/* the scratch buffer is allocated when needed and freed when idle */
	if (!ch->cs->rbuf && !(ch->cs->rbuf = malloc(CHAN_READ_MAX)))
		return -3;
	ssize_t r = read(fd, ch->cs->rbuf, want);
	if (r > 0)
		send_data(ch, ext, ch->cs->rbuf, (size_t)r);
	return r;
}

static void stdin_gone(struct channel *ch);

static int can_read_out(const struct channel *ch)
{
	return ch->state == CH_OPEN && ch->rwin > 0 && ch->rmaxpkt > 0 &&
	       !back_pressure(ch->cs);
}

/* Read from rfd (ext=0) or efd (ext=1) and forward. With drain set, keep
 * reading until EAGAIN. A fd that is finished gets closed. */
static void pump_out(struct channel *ch, int ext)
{
	int *fd = ext ? &ch->efd : &ch->rfd;
	int drain = ch->drain_on_end && ch->source_ended;

	while (*fd >= 0 && can_read_out(ch)) {
		size_t want = ch->rwin < CHAN_READ_MAX ? ch->rwin : CHAN_READ_MAX;
		ssize_t r = read_direct(ch, *fd, ext, want);
		if (r == -2)
			r = read_copied(ch, *fd, ext, want);
		if (r == -3)
			return;
		if (r > 0) {
			if (!drain)
				return;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (drain)
				close_fd(fd);   /* pipe empty after exit: done */
			return;
		}
		/* EOF or error; a socket that fails to read is broken both
		 * ways: what the client still sends is discarded */
		int failed = r < 0;
		close_fd(fd);
		if (failed && ch->type->socket)
			stdin_gone(ch);
		return;
	}
}

/* Advance the close protocol as far as the state allows. */
/* Our side is finished: EOF (once) and CLOSE, and our ends of the fds
 * closed. The channel is freed when the client's CLOSE arrives. */
static void close_now(struct channel *ch, const char *why)
{
	if (!ch->eof_sent) {
		send_simple(ch, SSH_MSG_CHANNEL_EOF);
		ch->eof_sent = 1;
	}
	send_simple(ch, SSH_MSG_CHANNEL_CLOSE);
	ch->state = CH_CLOSE_SENT;
	if (!ch->end_why)
		ch->end_why = why;
	chan_close_fds(ch);
	drop_input(ch);
}

/* A socket's directions end on their own: EOF as soon as the socket has
 * nothing more to read, CLOSE once our writing side is finished too. */
static void check_close_socket(struct channel *ch)
{
	if (ch->rfd >= 0 || ch->efd >= 0)
		return;
	if (!ch->eof_sent) {
		send_simple(ch, SSH_MSG_CHANNEL_EOF);
		ch->eof_sent = 1;
	}
	if (ch->wfd < 0)
		close_now(ch, ch->eof_rcvd ? "both sides at EOF" : "socket closed");
}

static void check_close(struct channel *ch)
{
	if (ch->state != CH_OPEN || !ch->attached)
		return;
	if (ch->type->socket) {
		check_close_socket(ch);
		return;
	}
	if (ch->rfd >= 0 || ch->efd >= 0)
		return;
	/* EOF waits for the child too: exit-status must reach the client
	 * before EOF, or clients that close on EOF (PuTTY) lose it. */
	if (!ch->source_ended)
		return;
	report_exit(ch);
	close_now(ch, ch->drain_on_end ? "command exited, output drained"
				       : "command exited, output at EOF");
}

/* Try to make progress on a channel without waiting for poll: drain after
 * the child's exit, and the close protocol. */
static void chan_progress(struct channel *ch)
{
	if (ch->drain_on_end && ch->source_ended) {
		pump_out(ch, 0);
		pump_out(ch, 1);
	}
	check_close(ch);
}

void chan_source_ended(struct channel *ch)
{
	ch->source_ended = 1;
	chan_progress(ch);
}

void chan_kick(struct chanset *cs)
{
	for (int i = 0; i < cs->top; i++)
		if (cs->chans[i])
			chan_progress(cs->chans[i]);
}

/* ---------- ChannelTimeout ---------- */

static int64_t idle_due(const struct channel *ch)
{
	return ch->last_active + (int64_t)ch->idle_timeout * 1000;
}

static int64_t global_due(const struct chanset *cs)
{
	return cs->last_active + (int64_t)cs->global_timeout * 1000;
}

static void expire(struct channel *ch, const char *type, int secs)
{
	logit("%s channel %u: no traffic for %d s (ChannelTimeout %s=%d): closing it",
	      ch->type->name, ch->id, secs, type, secs);
	close_now(ch, "ChannelTimeout");
}

/* A pending open (lookup, connect) whose deadline passed: the type
 * decides (it may free the channel). */
static void wait_expired(struct chanset *cs, int64_t now)
{
	for (int i = 0; i < cs->top; i++) {
		struct channel *ch = cs->chans[i];
		if (ch && ch->wait_fd >= 0 && ch->wait_due && now >= ch->wait_due &&
		    ch->type->wake)
			ch->type->wake(ch, 0);
	}
}

void chan_expire_idle(struct chanset *cs, int64_t now)
{
	wait_expired(cs, now);
	int all = cs->global_timeout > 0 && now >= global_due(cs);
	for (int i = 0; i < cs->top; i++) {
		struct channel *ch = cs->chans[i];
		if (!ch || ch->state != CH_OPEN)
			continue;
		if (all)
			expire(ch, "global", cs->global_timeout);
		else if (ch->idle_timeout > 0 && now >= idle_due(ch))
			expire(ch, ch->timeout_name, ch->idle_timeout);
	}
}

int64_t chan_next_timeout_ms(const struct chanset *cs, int64_t now)
{
	int64_t best = -1;
	for (int i = 0; i < cs->top; i++) {
		const struct channel *ch = cs->chans[i];
		if (ch && ch->wait_fd >= 0 && ch->wait_due) {
			int64_t left = ch->wait_due > now ? ch->wait_due - now : 0;
			if (best < 0 || left < best)
				best = left;
		}
		if (!ch || ch->state != CH_OPEN)
			continue;
		int64_t due = -1;
		if (ch->idle_timeout > 0)
			due = idle_due(ch);
		if (cs->global_timeout > 0 && (due < 0 || global_due(cs) < due))
			due = global_due(cs);
		if (due < 0)
			continue;
		int64_t left = due > now ? due - now : 0;
		if (best < 0 || left < best)
			best = left;
	}
	return best;
}

void chan_child_exited(struct chanset *cs, pid_t pid, int status)
{
	for (int i = 0; i < cs->top; i++) {
		struct channel *ch = cs->chans[i];
		if (!ch || !ch->type->child || ch->type->child(ch) != pid)
			continue;
		if (ch->drain_on_end) {
			/* CloseOnChildExit yes: the output still in the pipes
			 * goes first, then exit-status, EOF, CLOSE */
			ch->exit_pending = 1;
			ch->exit_wstatus = status;
		} else if (ch->type->child_exited) {
			ch->type->child_exited(ch, status);
		}
		chan_source_ended(ch);
		return;
	}
}

/* ---------- input side: client -> child's stdin ---------- */

/* Re-open the client's window for consumed bytes, once more than half of
 * it is used up: big steps, early enough that the client never stalls. */
static void maybe_adjust(struct channel *ch)
{
	if (ch->state != CH_OPEN || ch->eof_rcvd || ch->lconsumed < ch->lwin_size / 2)
		return;
	buf_t *b = conn_pkt_start(ch->cs->c, SSH_MSG_CHANNEL_WINDOW_ADJUST);
	if (!b)
		return;
	buf_put_u32(b, ch->rid);
	buf_put_u32(b, ch->lconsumed);
	conn_pkt_send(ch->cs->c);
	ch->lwin += ch->lconsumed;
	ch->lconsumed = 0;
}

static void consumed(struct channel *ch, size_t n)
{
	ch->lconsumed += (uint32_t)n;
	maybe_adjust(ch);
}

/* Client data not yet written to the consumer: buffered and lent. */
static size_t input_pending(const struct channel *ch)
{
	size_t n = buf_used(&ch->in);
	for (int i = 0; i < ch->n_lent; i++)
		n += ch->lent[i].iov_len;
	return n;
}

static void drop_input(struct channel *ch)
{
	buf_reset(&ch->in);
	ch->n_lent = 0;
}

/* Copy the lent payloads into ch->in: before anything is queued behind
 * them, and before the packet buffer they point into is read into again.
 * ch->in has room: its bound is the window, which covers both. */
static void keep_lent(struct channel *ch)
{
	for (int i = 0; i < ch->n_lent; i++)
		if (buf_put(&ch->in, ch->lent[i].iov_base, ch->lent[i].iov_len) < 0)
			consumed(ch, ch->lent[i].iov_len);   /* cannot happen (bound) */
	ch->n_lent = 0;
}

static void stdin_gone(struct channel *ch)
{
	close_fd(&ch->wfd);
	consumed(ch, input_pending(ch));
	drop_input(ch);
}

/* Write the lent payloads with one writev; what the consumer did not take
 * is copied into ch->in. 0, or -1 when the consumer is gone. */
static int write_lent(struct channel *ch)
{
	ssize_t w;
	do
		w = writev(ch->wfd, ch->lent, ch->n_lent);
	while (w < 0 && errno == EINTR);
	if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
		return -1;
	size_t done = w > 0 ? (size_t)w : 0;
	consumed(ch, done);
	int i = 0;
	for (; i < ch->n_lent && done >= ch->lent[i].iov_len; i++)
		done -= ch->lent[i].iov_len;
	if (i < ch->n_lent) {
		ch->lent[i].iov_base = (uint8_t *)ch->lent[i].iov_base + done;
		ch->lent[i].iov_len -= done;
	}
	memmove(ch->lent, ch->lent + i, (size_t)(ch->n_lent - i) * sizeof ch->lent[0]);
	ch->n_lent -= i;
	keep_lent(ch);
	return 0;
}

/* Write buffered input to the child; close its stdin after the client's
 * EOF once everything is written. */
static void flush_in(struct channel *ch)
{
	if (ch->wfd >= 0 && ch->n_lent && write_lent(ch) < 0) {
		stdin_gone(ch);     /* EPIPE or other error: the reader is gone */
		return;
	}
	while (ch->wfd >= 0 && buf_used(&ch->in) > 0) {
		ssize_t w = write(ch->wfd, buf_data(&ch->in), buf_used(&ch->in));
		if (w > 0) {
			buf_consume(&ch->in, (size_t)w);
			consumed(ch, (size_t)w);
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		stdin_gone(ch);     /* EPIPE or other error: the reader is gone */
		return;
	}
	if (ch->eof_rcvd && buf_used(&ch->in) == 0 && ch->wfd >= 0) {
		/* rfd is a dup of a socket's wfd: only shutdown sends the FIN */
		if (ch->type->socket)
			shutdown(ch->wfd, SHUT_WR);
		close_fd(&ch->wfd);
	}
}

/* Client data for the consumer is written once per batch of packets
 * (chan_flush_input, after each socket read): one write of up to a read's
 * worth of DATA instead of one per packet, so the consumer wakes once per
 * batch, not once per 32 KiB. Until then the payloads stay where they were
 * decrypted, in the packet input buffer, which nothing reads into before
 * chan_flush_input (conn_payload_lendable: not so with decompression);
 * only what the consumer does not take then, or data behind what waits
 * from an earlier batch, is copied into ch->in. */
static void take_input(struct channel *ch, const uint8_t *p, size_t n)
{
	ch->bytes_in += n;
	if (ch->state != CH_OPEN || ch->wfd < 0 || ch->eof_rcvd) {
		consumed(ch, n);
		return;
	}
	if (buf_used(&ch->in) == 0 && ch->n_lent < CHAN_LENT_MAX &&
	    conn_payload_lendable(ch->cs->c)) {
		ch->lent[ch->n_lent].iov_base = (void *)p;
		ch->lent[ch->n_lent++].iov_len = n;
		return;
	}
	keep_lent(ch);
	if (buf_put(&ch->in, p, n) < 0)
		consumed(ch, n);    /* cannot happen: the buffer bound is the window */
}

void chan_flush_input(struct chanset *cs)
{
	for (int i = 0; i < cs->top; i++) {
		struct channel *ch = cs->chans[i];
		if (ch && ch->wfd >= 0 && input_pending(ch) > 0) {
			flush_in(ch);
			check_close(ch);
		}
	}
}

/* ---------- message handlers ---------- */

/* A free slot in the table (= our channel id), -1 when full. */
static int free_slot(const struct chanset *cs)
{
	for (int i = 0; i < CHAN_MAX_CHANNELS; i++)
		if (!cs->chans[i])
			return i;
	return -1;
}

static struct channel *chan_new(struct chanset *cs, const struct chan_type *t, int id)
{
	const struct config *cfg = conn_config(cs->c);
	struct channel *ch = calloc(1, sizeof(*ch));
	if (!ch)
		return NULL;
	ch->lwin_size = (uint32_t)cfg->channel_window;
	if (buf_init(&ch->in, 0, ch->lwin_size) < 0) {
		free(ch);
		return NULL;
	}
	ch->cs = cs;
	ch->type = t;
	ch->id = (uint32_t)id;
	ch->lwin = ch->lwin_size;
	ch->wfd = ch->rfd = ch->efd = ch->wait_fd = -1;
	ch->drain_on_end = cfg->close_on_child_exit;
	ch->start = alive_now_ms();
	chan_set_kind(ch, t->name);
	note_activity(ch);
	cs->chans[id] = ch;
	if (id >= cs->top)
		cs->top = id + 1;
	return ch;
}

/* Freed before it was ever confirmed: no CLOSE to exchange. */
static void chan_discard(struct channel *ch, const char *why)
{
	ch->state = CH_CLOSE_SENT;
	if (!ch->end_why)
		ch->end_why = why;
	chan_destroy(ch);
}

static void send_confirmation(struct channel *ch)
{
	buf_t *b = conn_pkt_start(ch->cs->c, SSH_MSG_CHANNEL_OPEN_CONFIRMATION);
	if (!b)
		return;
	buf_put_u32(b, ch->rid);
	buf_put_u32(b, ch->id);
	buf_put_u32(b, ch->lwin_size);
	buf_put_u32(b, CHAN_MAX_PACKET);
	conn_pkt_send(ch->cs->c);
}

void chan_refuse(struct channel *ch, uint32_t code, const char *why)
{
	send_open_failure(ch->cs, ch->rid, code, why);
	if (!ch->end_why)
		ch->end_why = "open refused";
}

void chan_open_done(struct channel *ch, uint32_t code, const char *why)
{
	if (ch->state != CH_OPENING_IN)
		return;
	chan_wait(ch, -1, 0, 0);
	if (code) {
		chan_refuse(ch, code, why);
		chan_discard(ch, why);
		return;
	}
	ch->state = CH_OPEN;
	ch->was_open = 1;
	send_confirmation(ch);
	verbose("%s channel %u%s%s opened (client window %u, max packet %u)",
		ch->type->name, ch->id, ch->label[0] ? " " : "", ch->label, ch->rwin,
		ch->rmaxpkt);
}

static const struct chan_type *type_named(const uint8_t *name, size_t n)
{
	for (int i = 0; chan_types[i]; i++)
		if (strlen(chan_types[i]->name) == n && memcmp(chan_types[i]->name, name, n) == 0)
			return chan_types[i];
	return NULL;
}

static int on_open(struct chanset *cs, rd_t *r)
{
	const uint8_t *tname;
	size_t tlen;
	uint32_t rid, win, maxpkt;

	if (rd_string(r, &tname, &tlen) < 0 || rd_u32(r, &rid) < 0 ||
	    rd_u32(r, &win) < 0 || rd_u32(r, &maxpkt) < 0)
		return -1;
	const struct chan_type *t = type_named(tname, tlen);
	if (!t || !t->open) {
		debug("channel open of unknown type \"%.*s\" refused",
		      (int)(tlen > 64 ? 64 : tlen), (const char *)tname);
		send_open_failure(cs, rid, SSH_OPEN_UNKNOWN_CHANNEL_TYPE, "unknown channel type");
		return 0;
	}
	int id = free_slot(cs);
	if (id < 0) {
		logit("%s open refused: %d channels per connection is the most",
		      t->name, CHAN_MAX_CHANNELS);
		send_open_failure(cs, rid, SSH_OPEN_RESOURCE_SHORTAGE, "resource shortage");
		return 0;
	}
	struct channel *ch = chan_new(cs, t, id);
	if (!ch) {
		send_open_failure(cs, rid, SSH_OPEN_RESOURCE_SHORTAGE, "resource shortage");
		return 0;
	}
	ch->rid = rid;
	ch->rwin = win;
	ch->rmaxpkt = maxpkt;
	ch->state = CH_OPENING_IN;
	switch (t->open(ch, r)) {
	case CHAN_OPEN_OK:
		chan_open_done(ch, 0, NULL);
		return 0;
	case CHAN_OPEN_PENDING:
		return 0;
	case CHAN_OPEN_REFUSED:
		chan_discard(ch, "open refused");
		return 0;
	case CHAN_OPEN_BAD:
	default:
		chan_discard(ch, "malformed open");
		return -1;
	}
}

struct channel *chan_open_out(struct chanset *cs, const struct chan_type *t, void *priv,
			      const buf_t *extra, int fd, const char *label)
{
	int id = free_slot(cs);
	/* the socket twice, so that each direction can end on its own */
	int dupfd = id < 0 ? -1 : fcntl(fd, F_DUPFD_CLOEXEC, 0);
	struct channel *ch = dupfd < 0 ? NULL : chan_new(cs, t, id);
	if (!ch) {
		logit("%s channel %s not opened: %s", t->name, label,
		      id < 0 ? "the channel table is full" : "out of resources");
		close(fd);
		if (dupfd >= 0)
			close(dupfd);
		return NULL;
	}
	ch->priv = priv;
	ch->state = CH_OPENING_OUT;
	chan_set_label(ch, label);
	chan_attach_fds(ch, dupfd, fd, -1);
	buf_t *b = conn_pkt_start(cs->c, SSH_MSG_CHANNEL_OPEN);
	if (b) {
		buf_put_cstring(b, t->name);
		buf_put_u32(b, ch->id);
		buf_put_u32(b, ch->lwin_size);
		buf_put_u32(b, CHAN_MAX_PACKET);
		buf_put(b, buf_data(extra), buf_used(extra));
		conn_pkt_send(cs->c);
	}
	return ch;
}

static int on_open_confirmation(struct channel *ch, rd_t *r)
{
	uint32_t rid = rd_u32_value(r), win = rd_u32_value(r), maxpkt = rd_u32_value(r);
	if (r->err)
		return -1;
	if (ch->state != CH_OPENING_OUT) {
		error("channel %u: open confirmation for a channel we did not open", ch->id);
		return -1;
	}
	ch->rid = rid;
	ch->rwin = win;
	ch->rmaxpkt = maxpkt;
	ch->state = CH_OPEN;
	ch->was_open = 1;
	verbose("%s channel %u %s opened (client window %u, max packet %u)", ch->type->name,
		ch->id, ch->label, win, maxpkt);
	return 0;
}

static int on_open_failure(struct channel *ch, rd_t *r)
{
	uint32_t code = rd_u32_value(r);
	char why[128] = "";
	if (r->err)
		return -1;
	if (ch->state != CH_OPENING_OUT) {
		error("channel %u: open failure for a channel we did not open", ch->id);
		return -1;
	}
	if (rd_cstring(r, why, sizeof(why)) < 0)
		snprintf(why, sizeof(why), "(unreadable reason)");
	logit("%s channel %u %s: the client refused it (code %u: %s)", ch->type->name,
	      ch->id, ch->label, code, why);
	chan_discard(ch, "refused by the client");
	return 0;
}

/* Common check for DATA and EXTENDED_DATA: within window and max packet. */
static int check_incoming(struct channel *ch, size_t n)
{
	if (n > CHAN_MAX_PACKET || n > ch->lwin) {
		error("channel %u: client sent %zu bytes, window %u, max packet %u",
		      ch->id, n, ch->lwin, CHAN_MAX_PACKET);
		return -1;
	}
	ch->lwin -= (uint32_t)n;
	return 0;
}

static int on_data(struct channel *ch, rd_t *r, int ext)
{
	const uint8_t *p;
	size_t n;

	if (ext)
		rd_u32_value(r);        /* the data type code: nothing depends on it */
	if (rd_string(r, &p, &n) < 0 || rd_end(r) < 0)
		return -1;
	if (check_incoming(ch, n) < 0)
		return -1;
	note_activity(ch);
	if (ext) {                  /* no stdin-side extended data in sessions */
		consumed(ch, n);
		return 0;
	}
	take_input(ch, p, n);
	return 0;
}

static int on_window_adjust(struct channel *ch, rd_t *r)
{
	uint32_t add = rd_u32_value(r);

	if (rd_end(r) < 0)
		return -1;
	/* RFC 4254 5.2: the window must not grow past 2^32-1; a client
	 * asking for more is broken or hostile: a protocol error. */
	if (add > UINT32_MAX - ch->rwin) {
		error("channel %u: window adjust %u overflows window %u",
		      ch->id, add, ch->rwin);
		return -1;
	}
	ch->rwin += add;
	chan_progress(ch);
	return 0;
}

static int on_eof(struct channel *ch, rd_t *r)
{
	if (rd_end(r) < 0)
		return -1;
	ch->eof_rcvd = 1;
	flush_in(ch);
	check_close(ch);
	return 0;
}

static int on_close(struct channel *ch, rd_t *r)
{
	if (rd_end(r) < 0)
		return -1;
	chan_close_fds(ch);
	if (ch->state == CH_OPEN) {
		send_simple(ch, SSH_MSG_CHANNEL_CLOSE);
		ch->end_why = "closed by the client";
	}
	chan_destroy(ch);
	return 0;
}

/* eow@openssh.com (OpenSSH PROTOCOL s2.1): the client can no longer write
 * what we send (its stdout failed). Close our read ends so that the child
 * gets SIGPIPE (reported as exit-signal PIPE) instead of running forever. */
static void stop_output(struct channel *ch)
{
	close_fd(&ch->rfd);
	close_fd(&ch->efd);
	check_close(ch);
}

static int on_request(struct channel *ch, rd_t *r)
{
	char type[64];
	int ok = 0;
	const uint8_t *t;
	size_t tn;

	if (rd_string(r, &t, &tn) < 0)
		return -1;
	int want_reply = rd_bool_value(r);
	if (r->err)
		return -1;
	/* an over-long or odd name is simply unknown */
	if (tn < sizeof(type) && !memchr(t, 0, tn)) {
		memcpy(type, t, tn);
		type[tn] = '\0';
	} else {
		type[0] = '\0';
	}
	if (ch->state != CH_OPEN)
		return 0;           /* we sent CLOSE: no replies any more */
	if (strcmp(type, "eow@openssh.com") == 0) {
		stop_output(ch);
		ok = 1;
	} else if (type[0] && ch->type->request) {
		ok = ch->type->request(ch, type, r);
		if (ok < 0)
			return -1;
	}
	debug("channel %u: request \"%s\"%s -> %s", ch->id, type,
	      want_reply ? " (want reply)" : "", ok ? "success" : "failure");
	if (want_reply)
		send_simple(ch, ok ? SSH_MSG_CHANNEL_SUCCESS : SSH_MSG_CHANNEL_FAILURE);
	return 0;
}

int chan_dispatch(struct chanset *cs, uint8_t msg, rd_t *r)
{
	if (msg == SSH_MSG_CHANNEL_OPEN)
		return on_open(cs, r);
	uint32_t id = rd_u32_value(r);
	if (r->err)
		return -1;
	struct channel *ch = chan_lookup(cs, id);
	if (!ch) {
		error("message %u for unknown channel %u", msg, id);
		return -1;
	}
	if (msg == SSH_MSG_CHANNEL_OPEN_CONFIRMATION)
		return on_open_confirmation(ch, r);
	if (msg == SSH_MSG_CHANNEL_OPEN_FAILURE)
		return on_open_failure(ch, r);
	if (ch->state == CH_OPENING_IN || ch->state == CH_OPENING_OUT) {
		error("message %u for channel %u before it was open", msg, id);
		return -1;
	}
	switch (msg) {
	case SSH_MSG_CHANNEL_WINDOW_ADJUST: return on_window_adjust(ch, r);
	case SSH_MSG_CHANNEL_DATA:          return on_data(ch, r, 0);
	case SSH_MSG_CHANNEL_EXTENDED_DATA: return on_data(ch, r, 1);
	case SSH_MSG_CHANNEL_EOF:           return on_eof(ch, r);
	case SSH_MSG_CHANNEL_CLOSE:         return on_close(ch, r);
	case SSH_MSG_CHANNEL_REQUEST:       return on_request(ch, r);
	case SSH_MSG_CHANNEL_SUCCESS:
	case SSH_MSG_CHANNEL_FAILURE:
		return 0;           /* replies to our keepalives */
	default:
		error("unexpected channel message %u", msg);
		return -1;
	}
}

/* ---------- poll ---------- */

static int add_pfd(struct pollfd *pfds, int n, int max, int fd, short ev)
{
	if (n >= max)
		return n;
	pfds[n].fd = fd;
	pfds[n].events = ev;
	pfds[n].revents = 0;
	return n + 1;
}

int chan_pollfds(struct chanset *cs, struct pollfd *pfds, int max)
{
	int n = 0;
	for (int i = 0; i < cs->top; i++) {
		struct channel *ch = cs->chans[i];
		if (!ch)
			continue;
		if (can_read_out(ch)) {
			if (ch->rfd >= 0)
				n = add_pfd(pfds, n, max, ch->rfd, POLLIN);
			if (ch->efd >= 0)
				n = add_pfd(pfds, n, max, ch->efd, POLLIN);
		}
		if (ch->wfd >= 0 && buf_used(&ch->in) > 0)
			n = add_pfd(pfds, n, max, ch->wfd, POLLOUT);
		if (ch->wait_fd >= 0)
			n = add_pfd(pfds, n, max, ch->wait_fd, ch->wait_events);
	}
	return n;
}

/* The channel currently owning fd, and which of its fds it is. */
static struct channel *owner_of(struct chanset *cs, int fd, int *which)
{
	for (int i = 0; i < cs->top; i++) {
		struct channel *ch = cs->chans[i];
		if (!ch)
			continue;
		if (ch->rfd == fd) { *which = 0; return ch; }
		if (ch->efd == fd) { *which = 1; return ch; }
		if (ch->wfd == fd) { *which = 2; return ch; }
		if (ch->wait_fd == fd) { *which = 3; return ch; }
	}
	return NULL;
}

void chan_poll_done(struct chanset *cs, struct pollfd *pfds, int n)
{
	for (int i = 0; i < n; i++) {
		int which;
		if (!pfds[i].revents || pfds[i].fd < 0)
			continue;
		struct channel *ch = owner_of(cs, pfds[i].fd, &which);
		if (!ch)
			continue;
		if (which == 3) {
			if (ch->type->wake)
				ch->type->wake(ch, pfds[i].revents);
			continue;   /* it may have freed the channel */
		}
		if (which == 2)
			flush_in(ch);
		else
			pump_out(ch, which);
		check_close(ch);
	}
}
