/* conn: one client connection — the poll loop, the transport (packet + kex),
 * userauth, global requests — and the services it offers the channel layer.
 * One connection per process; no threads. */
#ifndef WOMBAT_CONN_H
#define WOMBAT_CONN_H

#include <pwd.h>
#include <stddef.h>
#include <stdint.h>
#include "buf.h"
#include "config.h"
#include "authfile.h"

struct conn;

/* Outgoing packets: start one (message type byte written for you), append
 * the payload to the returned buffer, then send. One at a time. */
buf_t *conn_pkt_start(struct conn *c, uint8_t msg);
/* Frame, compress, encrypt and queue. -1 if the connection is closing. */
int conn_pkt_send(struct conn *c);
/* The same without copying the payload (bulk channel data): room for n
 * payloads of at most len bytes straight in the output queue (packet.h's
 * pkt_room: the payloads go *stride bytes apart, each sealed in turn with
 * conn_pkt_seal), or NULL when they must go through conn_pkt_start (a key
 * exchange holds output back, compression is on, the connection closes). */
uint8_t *conn_pkt_room(struct conn *c, size_t n, size_t len, size_t *stride);
int conn_pkt_seal(struct conn *c, size_t len);
/* Bytes queued for the socket and not yet written. The channel layer stops
 * reading child fds while this is above CONN_OUT_HIGH (back-pressure). */
size_t conn_out_queued(const struct conn *c);
#define CONN_OUT_HIGH (2u * 1024 * 1024)

const struct config *conn_config(const struct conn *c);
/* 1 when a payload being dispatched stays where it is, in the packet input
 * buffer, until the next socket read (after chan_flush_input); 0 when it
 * is in a scratch buffer the next packet reuses (decompression). */
int conn_payload_lendable(const struct conn *c);
/* The authenticated user (NULL before auth). */
const struct passwd *conn_user(const struct conn *c);
/* Options from the authorized_keys line that let the user in (NULL if the
 * user came in another way). */
const struct authkey_opts *conn_authkey_opts(const struct conn *c);
const char *conn_peer_addr(const struct conn *c);
int conn_peer_port(const struct conn *c);
const char *conn_local_addr(const struct conn *c);
int conn_local_port(const struct conn *c);

/* Send SSH_MSG_DISCONNECT with reason code, log the cause once, and make the
 * loop end. */
void conn_disconnect(struct conn *c, uint32_t reason, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Apply the configuration's Match blocks for this user (groups NULL-
 * terminated, NULL for an unknown user) and this connection's addresses
 * and ports. Called once, at the first userauth request, so that every
 * access decision uses the Match values. -1: a block could not be applied
 * (logged); the caller refuses the connection. */
int conn_apply_match(struct conn *c, const char *user, const char *const *groups);

/* How a connection ended, as its process's exit status, for the listener's
 * per-source penalties. */
enum conn_end {
	CONN_END_OK = 0,          /* authenticated, or a clean close after no failure */
	CONN_END_AUTHFAIL = 10,   /* ended unauthenticated after failed auth attempts */
	CONN_END_NOAUTH = 11,     /* ended without attempting authentication at all */
	CONN_END_GRACE = 12,      /* LoginGraceTime expired */
	CONN_END_PROTOCOL = 13,   /* pre-auth protocol error / bad packet / kex failure */
	CONN_END_CRASH = 14,      /* the pre-auth child died by a signal */
};

/* After a disconnect is decided, the process waits at most this long for
 * the client to take what is queued, then ends anyway. */
#define CONN_CLOSE_LINGER_MS 3000
/* Output an unauthenticated client may leave unread before it is cut. */
#define CONN_PREAUTH_OUT_MAX (512u * 1024)

/* Run one connection on fd (a TCP socket, or stdin/stdout for inetd mode:
 * in_fd may differ from out_fd). Returns when it ends, with how it ended
 * (enum conn_end); everything else is logged here. */
int conn_run(int in_fd, int out_fd, const struct config *cfg,
	     struct sshkey **hostkeys, int n_hostkeys);

/* Privilege separation (monitor.h): conn_run forks a sandboxed pre-auth
 * child and acts as its monitor. Off in processes that run conn_run
 * in-process (fuzz harnesses). */
void conn_set_privsep(int on);
/* The connection's auth state (the monitor decides with it). */
struct auth *conn_auth(struct conn *c);
/* The monitor: take the transport state the child handed over (r at the
 * body of MON_TRANSPORT); sid is the session id the monitor signed. -1
 * with err filled when it is malformed or does not match. */
int conn_import_transport(struct conn *c, rd_t *r, const uint8_t *sid, size_t sidl,
			  char *err, size_t errsz);
/* Test-only hook, never set by wombatd itself: called in the pre-auth
 * child after the version exchange (tests/tools/wombatd_sbtest.c). */
extern void (*conn_test_after_version)(const char *client_version);

/* The listener's MaxStartups accounting: fd is closed once the user has
 * authenticated (the connection process exiting closes it too). */
void conn_set_auth_notify(int fd);

/* SSH message numbers (RFC 4250 s4.1) */
enum {
	SSH_MSG_DISCONNECT = 1, SSH_MSG_IGNORE = 2, SSH_MSG_UNIMPLEMENTED = 3,
	SSH_MSG_DEBUG = 4, SSH_MSG_SERVICE_REQUEST = 5, SSH_MSG_SERVICE_ACCEPT = 6,
	SSH_MSG_EXT_INFO = 7,
	SSH_MSG_KEXINIT = 20, SSH_MSG_NEWKEYS = 21,
	SSH_MSG_KEX_ECDH_INIT = 30, SSH_MSG_KEX_ECDH_REPLY = 31,
	SSH_MSG_USERAUTH_REQUEST = 50, SSH_MSG_USERAUTH_FAILURE = 51,
	SSH_MSG_USERAUTH_SUCCESS = 52, SSH_MSG_USERAUTH_BANNER = 53,
	SSH_MSG_USERAUTH_PK_OK = 60,
	SSH_MSG_GLOBAL_REQUEST = 80, SSH_MSG_REQUEST_SUCCESS = 81,
	SSH_MSG_REQUEST_FAILURE = 82,
	SSH_MSG_CHANNEL_OPEN = 90, SSH_MSG_CHANNEL_OPEN_CONFIRMATION = 91,
	SSH_MSG_CHANNEL_OPEN_FAILURE = 92, SSH_MSG_CHANNEL_WINDOW_ADJUST = 93,
	SSH_MSG_CHANNEL_DATA = 94, SSH_MSG_CHANNEL_EXTENDED_DATA = 95,
	SSH_MSG_CHANNEL_EOF = 96, SSH_MSG_CHANNEL_CLOSE = 97,
	SSH_MSG_CHANNEL_REQUEST = 98, SSH_MSG_CHANNEL_SUCCESS = 99,
	SSH_MSG_CHANNEL_FAILURE = 100,
};
enum {
	SSH_DISCONNECT_PROTOCOL_ERROR = 2, SSH_DISCONNECT_KEY_EXCHANGE_FAILED = 3,
	SSH_DISCONNECT_MAC_ERROR = 5, SSH_DISCONNECT_SERVICE_NOT_AVAILABLE = 7,
	SSH_DISCONNECT_BY_APPLICATION = 11, SSH_DISCONNECT_TOO_MANY_CONNECTIONS = 12,
	SSH_DISCONNECT_NO_MORE_AUTH_METHODS_AVAILABLE = 14,
};

#endif
