/* channel: the connection protocol's channels (RFC 4254 s5) and, through
 * session.c, session channels (s6). The connection hands over every message
 * 90..100; the channel layer answers through conn_pkt_start/conn_pkt_send.
 *
 * A channel owns up to three non-blocking fds: wfd (client data -> child's
 * stdin), rfd (stdout -> DATA) and efd (stderr -> EXTENDED_DATA 1). The
 * session layer creates the process and attaches the fds; the channel does
 * the pumping, the windows and the close protocol, and knows nothing of
 * processes beyond "the producer has ended" (chan_source_ended).
 *
 * Flow control.
 *   in:  we advertise CHAN_WINDOW; the client's DATA must fit in what is left
 *        of it and in CHAN_MAX_PACKET (else protocol error). Data is buffered
 *        for the child's stdin; the buffer is bounded by the window because
 *        the window is only re-opened (WINDOW_ADJUST) for bytes that were
 *        written to the child (or discarded because stdin is gone), once
 *        more than half the window has been consumed.
 *   out: reads of up to CHAN_READ_MAX, never more than the client's window;
 *        sent in pieces no larger than its max packet; no reads while
 *        conn_out_queued() > CONN_OUT_HIGH (chan_kick resumes).
 *
 * Close state machine. "out done" = rfd and efd both finished (closed).
 * With CloseOnChildExit no a fd is finished when read() returns 0 (EOF);
 * with yes, after the child has exited, also when read() returns EAGAIN
 * (the pipe is empty: everything the child wrote has been forwarded).
 *
 *  state       | event                        | action -> next state
 *  ------------+------------------------------+------------------------------
 *  OPEN        | rfd/efd read 0 (EOF)         | close that fd; if out done
 *              |                              |   and child exited: send EOF
 *              |                              |   + CLOSE -> CLOSE_SENT
 *  OPEN        | read EAGAIN, child running   | wait for poll
 *  OPEN        | child exits                  | no: send exit-status/exit-
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
 *  OPEN        | client EOF                   | close wfd once the stdin
 *              |                              |   buffer has drained
 *  OPEN        | wfd write EPIPE              | close wfd, discard buffered and
 *              |                              |   later input (still counted
 *              |                              |   for window adjusts)
 *  OPEN        | client CLOSE                 | close all fds, send CLOSE,
 *              |                              |   free (session end policy:
 *              |                              |   SIGHUP if child alive)
 *  OPEN        | ChannelTimeout: no DATA      | EOF (once) + CLOSE, close all
 *              |   either way for the interval|   our fds -> CLOSE_SENT (the
 *              |   (or global= on all chans)  |   child, if any, is left to
 *              |                              |   the session end policy)
 *  CLOSE_SENT  | client DATA/EOF/REQUEST      | ignored (no replies)
 *  CLOSE_SENT  | client CLOSE                 | free
 *  any         | connection gone (chan_free)  | close fds, session end
 *              |                              |   policy, free
 */
#ifndef WOMBAT_CHANNEL_H
#define WOMBAT_CHANNEL_H

#include <poll.h>
#include <stdint.h>
#include <sys/types.h>
#include "buf.h"

#define CHAN_WINDOW      (2u * 1024 * 1024)  /* initial window we advertise */
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
/* Called by the connection's SIGCHLD handling for each reaped child. */
void chan_child_exited(struct chanset *cs, pid_t pid, int status);
/* Called after the output queue drains below CONN_OUT_HIGH, and after any
 * window change, so that held-back data can flow. */
void chan_kick(struct chanset *cs);
int chan_count(const struct chanset *cs);
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

/* ---- for session.c ---- */
struct conn *chan_conn(const struct channel *ch);
uint32_t chan_id(const struct channel *ch);
/* Hand the child's pipe ends to the channel (made non-blocking here; any
 * may be -1). The channel closes them. */
void chan_attach_fds(struct channel *ch, int wfd, int rfd, int efd);
/* Start a CHANNEL_REQUEST to the client: returns the packet buffer with
 * recipient, type and want-reply written (append the rest, then
 * conn_pkt_send), or NULL when the channel is already closing. */
buf_t *chan_request_start(struct channel *ch, const char *type, int want_reply);
/* The producer (child) has exited: the close policy may now proceed. */
void chan_source_ended(struct channel *ch);

#endif
