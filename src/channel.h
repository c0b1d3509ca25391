/* channel: the connection protocol's channels (RFC 4254 s5) and, through
 * session.c, session channels (s6). The connection hands over every message
 * 90..100; the channel layer answers through conn_pkt_start/conn_pkt_send.
 *
 * (The close state machine table lives here once written — see DESIGN.md
 * "Session semantics".)
 */
#ifndef WOMBAT_CHANNEL_H
#define WOMBAT_CHANNEL_H

#include <poll.h>
#include <sys/types.h>
#include "buf.h"

struct conn;
struct chanset;

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

#endif
