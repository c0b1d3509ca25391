/* channel: the connection protocol's channels (RFC 4254 s5). The connection
 * hands over every message 90..100; the channel layer answers through
 * conn_pkt_start/conn_pkt_send.
 *
 * Channel types are a table (chan_types[], src/chantypes.c): each type
 * (session in session.c; direct-tcpip, forwarded-tcpip and the streamlocal
 * kinds in forward.c) supplies its open, requests, child and free hooks.
 * This file knows no type by name.
 *
 * A channel owns up to three non-blocking fds: wfd (client data -> the
 * consumer: a child's stdin, or a socket), rfd (producer -> DATA) and efd
 * (stderr -> EXTENDED_DATA 1). A session attaches its child's pipes; a
 * socket type attaches one socket as wfd and a dup of it as rfd, so each
 * direction ends on its own (half-close). The channel does the pumping,
 * the windows and the close protocol; of processes it knows only "the
 * producer has ended" (chan_source_ended).
 *
 * Flow control.
 *   in:  we advertise ChannelWindowSize (the connection's configuration
 *        when the channel opens); the client's DATA must fit in what is
 *        left of it and in CHAN_MAX_PACKET (else protocol error). Data is
 *        buffered for the consumer; the buffer is bounded by the window because
 *        the window is only re-opened (WINDOW_ADJUST) for bytes that were
 *        written (or discarded because the consumer is gone), once
 *        more than half the window has been consumed.
 *   out: reads of up to CHAN_READ_MAX, never more than the client's window;
 *        sent in pieces no larger than its max packet; no reads while
 *        conn_out_queued() > CONN_OUT_HIGH (chan_kick resumes).
 *
 * Close state machine. "out done" = rfd and efd both finished (closed).
 * With CloseOnChildExit no a fd is finished when read() returns 0 (EOF);
 * with yes, after the child has exited, also when read() returns EAGAIN
 * (the pipe is empty: everything the child wrote has been forwarded).
 * Rows marked [proc] are for types with a child (sessions), [sock] for
 * socket types (the forwarding kinds); unmarked rows are for all.
 *
 *  state       | event                        | action -> next state
 *  ------------+------------------------------+------------------------------
 *  OPENING_IN  | client CHANNEL_OPEN, type's  | OPEN_CONFIRMATION -> OPEN
 *              |   open says OK               |
 *  OPENING_IN  | type's open refuses          | OPEN_FAILURE (code, text), free
 *  OPENING_IN  | [sock] open pending (name    | wait (no reply yet; other
 *              |   lookup, connect)           |   channels go on)
 *  OPENING_IN  | [sock] connected             | OPEN_CONFIRMATION -> OPEN
 *  OPENING_IN  | [sock] lookup/connect fails, | OPEN_FAILURE CONNECT_FAILED
 *              |   or its deadline passes     |   (target and cause logged),
 *              |                              |   free
 *  OPENING_OUT | we sent CHANNEL_OPEN (an     | wait; nothing is read from the
 *              |   accepted forwarded socket) |   socket
 *  OPENING_OUT | client OPEN_CONFIRMATION     | -> OPEN
 *  OPENING_OUT | client OPEN_FAILURE          | close the socket, free
 *  OPEN        | [proc] rfd/efd read 0 (EOF)  | close that fd; if out done
 *              |                              |   and child exited: send EOF
 *              |                              |   + CLOSE -> CLOSE_SENT
 *  OPEN        | [sock] rfd read 0 or error   | close rfd, send EOF; if wfd
 *              |                              |   is finished too: CLOSE
 *              |                              |   -> CLOSE_SENT
 *  OPEN        | read EAGAIN, child running   | wait for poll
 *  OPEN        | [proc] child exits           | no: send exit-status/exit-
 *              |                              |   signal now;
 *              |                              |   yes: drain fds until EAGAIN
 *              |                              |   (within window; stalls on
 *              |                              |   window/back-pressure resume
 *              |                              |   on adjust/kick), the exit
 *              |                              |   report held back;
 *              |                              |   if out done: exit report (if
 *              |                              |   held), EOF (once) + CLOSE,
 *              |                              |   close all our fds
 *              |                              |   -> CLOSE_SENT
 *  OPEN        | remote window 0/back-pressure| stop reading; WINDOW_ADJUST or
 *              |                              |   chan_kick resume
 *  OPEN        | client eow@openssh.com       | close rfd and efd (the child
 *              |                              |   gets SIGPIPE on its next
 *              |                              |   write); as "out done" above
 *  OPEN        | [proc] client EOF            | close wfd once the stdin
 *              |                              |   buffer has drained
 *  OPEN        | [sock] client EOF            | once the buffer has drained:
 *              |                              |   shutdown(SHUT_WR), close
 *              |                              |   wfd; if rfd is finished too:
 *              |                              |   CLOSE -> CLOSE_SENT
 *  OPEN        | wfd write EPIPE/ECONNRESET   | close wfd, discard buffered and
 *              |                              |   later input (still counted
 *              |                              |   for window adjusts); [sock]
 *              |                              |   as client EOF for the close
 *  OPEN        | client CLOSE                 | close all fds, send CLOSE,
 *              |                              |   free (session end policy:
 *              |                              |   SIGHUP if child alive)
 *  OPEN        | ChannelTimeout: no DATA      | EOF (once) + CLOSE, close all
 *              |   either way for the interval|   our fds -> CLOSE_SENT (the
 *              |   (or global= on all chans)  |   child, if any, is left to
 *              |                              |   the session end policy)
 *  CLOSE_SENT  | client DATA/EOF/REQUEST      | ignored (no replies)
 *  CLOSE_SENT  | client CLOSE                 | free
 *  any         | connection gone (chan_free)  | close fds, the type's free
 *              |                              |   (session end policy), free
 */
#ifndef WOMBAT_CHANNEL_H
#define WOMBAT_CHANNEL_H

#include <poll.h>
#include <stdint.h>
#include <sys/types.h>
#include "buf.h"

#define CHAN_MAX_PACKET  32768u              /* max DATA we accept */
#define CHAN_READ_MAX    (64u * 1024)        /* one read() from a child fd */
#define CHAN_MAX_CHANNELS 256                /* per connection */

struct conn;
struct chanset;
struct channel;

struct chanset *chan_init(struct conn *c);
/* The connection is gone (or ending): close every channel, apply the
 * session end policy, free. */
void chan_free(struct chanset *cs);
/* Handle one message 90..100 (payload after the type byte). -1 = protocol
 * error: the connection disconnects. */
int chan_dispatch(struct chanset *cs, uint8_t msg, rd_t *payload);
/* Add pollfds for channel I/O; returns how many were added (<= max). */
int chan_pollfds(struct chanset *cs, struct pollfd *pfds, int max);
/* After poll(): pfds/n exactly as filled by chan_pollfds. Does the I/O and
 * sends what is ready (respecting windows and conn_out_queued). */
void chan_poll_done(struct chanset *cs, struct pollfd *pfds, int n);
/* After a batch of incoming packets: write the DATA they queued for each
 * channel's consumer (one write per channel and batch). */
void chan_flush_input(struct chanset *cs);
/* Called by the connection's SIGCHLD handling for each reaped child. */
void chan_child_exited(struct chanset *cs, pid_t pid, int status);
/* Called after the output queue drains below CONN_OUT_HIGH, and after any
 * window change, so that held-back data can flow. */
void chan_kick(struct chanset *cs);
int chan_count(const struct chanset *cs);
/* Idle: frees the read scratch and the empty per-channel buffers. */
void chan_trim(struct chanset *cs);
/* ChannelTimeout: close (EOF + CLOSE) every open channel that has seen no
 * DATA either way for its type's interval, or all of them when the global
 * interval has passed without DATA on any. now = alive_now_ms(). */
void chan_expire_idle(struct chanset *cs, int64_t now);
/* Milliseconds until chan_expire_idle may close something, -1 if never. */
int64_t chan_next_timeout_ms(const struct chanset *cs, int64_t now);
/* Send "keepalive@openssh.com" (want-reply) on the first open channel, as
 * OpenSSH's ClientAlive does. 1 = sent, 0 = no open channel (use a global
 * request instead). The client's CHANNEL_SUCCESS/FAILURE is accepted. */
int chan_send_keepalive(struct chanset *cs);

/* ---- channel types ---- */

/* What a type's open hook decided. */
enum chan_open_rc {
	CHAN_OPEN_OK,       /* confirm now */
	CHAN_OPEN_PENDING,  /* the type calls chan_open_done later */
	CHAN_OPEN_REFUSED,  /* the type called chan_refuse */
	CHAN_OPEN_BAD,      /* malformed: protocol error */
};
/* SSH_MSG_CHANNEL_OPEN_FAILURE reason codes (RFC 4254 s5.1) */
enum {
	SSH_OPEN_ADMINISTRATIVELY_PROHIBITED = 1, SSH_OPEN_CONNECT_FAILED = 2,
	SSH_OPEN_UNKNOWN_CHANNEL_TYPE = 3, SSH_OPEN_RESOURCE_SHORTAGE = 4,
};

struct chan_type {
	const char *name;       /* the channel type on the wire */
	/* The client opens one: the rest of CHANNEL_OPEN after the window and
	 * max packet is in r. NULL: only we open this type (forwarded-*). */
	enum chan_open_rc (*open)(struct channel *ch, rd_t *r);
	/* One CHANNEL_REQUEST (after want-reply): 1 success, 0 failure, -1
	 * malformed. NULL: every request fails. */
	int (*request)(struct channel *ch, const char *type, rd_t *r);
	/* The pid of the channel's child, -1 for none. NULL: never a child. */
	pid_t (*child)(const struct channel *ch);
	/* The child was reaped: report it (exit-status/exit-signal). */
	void (*child_exited)(struct channel *ch, int status);
	/* The fd given to chan_wait is ready (revents), or its deadline
	 * passed (revents 0). May call chan_open_done. */
	void (*wake)(struct channel *ch, short revents);
	/* The channel is being freed: release what the type holds (priv, and
	 * the fd it gave chan_wait). */
	void (*free)(struct channel *ch);
	/* 1: the fds are one socket; each direction's EOF is its own
	 * (half-close rows of the close machine). */
	int socket;
};
/* Every type, NULL-terminated (src/chantypes.c). */
extern const struct chan_type *const chan_types[];

struct conn *chan_conn(const struct channel *ch);
struct chanset *chan_set(const struct channel *ch);
uint32_t chan_id(const struct channel *ch);
void chan_set_priv(struct channel *ch, void *priv);
void *chan_priv(const struct channel *ch);
/* What the channel is for the log ("to 127.0.0.1:80"); copied. */
void chan_set_label(struct channel *ch, const char *label);
/* The ChannelTimeout type this channel is matched as ("session:command");
 * a kind with no entry of its own falls back to the part before ':'. */
void chan_set_kind(struct channel *ch, const char *kind);
/* Open channels of type t on the connection (MaxSessions). */
int chan_count_type(const struct chanset *cs, const struct chan_type *t);
/* Hand over the fds (made non-blocking here; any may be -1). The channel
 * closes them. */
void chan_attach_fds(struct channel *ch, int wfd, int rfd, int efd);
/* O_NONBLOCK on fd (nothing for -1); also for the connection's socket. */
void set_nonblock(int fd);
/* Refuse an open (from the type's open hook, then return REFUSED). */
void chan_refuse(struct channel *ch, uint32_t code, const char *why);
/* A pending open is decided: code 0 confirms (-> OPEN), else OPEN_FAILURE
 * with code and why, and the channel is freed (do not touch ch after). */
void chan_open_done(struct channel *ch, uint32_t code, const char *why);
/* Poll fd for events on the type's behalf, with a deadline (alive_now_ms
 * time, 0 = none): the type's wake hook is called. fd -1 stops. */
void chan_wait(struct channel *ch, int fd, short events, int64_t due);
/* Open a channel of type t towards the client (forwarded-tcpip, ...):
 * CHANNEL_OPEN with `extra` after the max packet; fd is a connected
 * socket the channel takes over (closed on failure too). NULL when the
 * table is full (logged; priv is still the caller's to free). */
struct channel *chan_open_out(struct chanset *cs, const struct chan_type *t, void *priv,
			      const buf_t *extra, int fd, const char *label);
/* Start a CHANNEL_REQUEST to the client: returns the packet buffer with
 * recipient, type and want-reply written (append the rest, then
 * conn_pkt_send), or NULL when the channel is already closing. */
buf_t *chan_request_start(struct channel *ch, const char *type, int want_reply);
/* The producer (child) has exited: the close policy may now proceed. */
void chan_source_ended(struct channel *ch);

#endif
