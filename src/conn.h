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
/* Bytes queued for the socket and not yet written. The channel layer stops
 * reading child fds while this is above CONN_OUT_HIGH (back-pressure). */
size_t conn_out_queued(const struct conn *c);
#define CONN_OUT_HIGH (2u * 1024 * 1024)

const struct config *conn_config(const struct conn *c);
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

/* How a connection ended, as its process's exit status, for the listener's
 * per-source penalties. */
enum conn_end {
	CONN_END_OK = 0,          /* authenticated, or a clean close after no failure */
	CONN_END_AUTHFAIL = 10,   /* ended unauthenticated after failed auth attempts */
	CONN_END_NOAUTH = 11,     /* ended without attempting authentication at all */
	CONN_END_GRACE = 12,      /* LoginGraceTime expired */
	CONN_END_PROTOCOL = 13,   /* pre-auth protocol error / bad packet / kex failure */
};

/* Run one connection on fd (a TCP socket, or stdin/stdout for inetd mode:
 * in_fd may differ from out_fd). Returns when it ends, with how it ended
 * (enum conn_end); everything else is logged here. */
int conn_run(int in_fd, int out_fd, const struct config *cfg,
	      struct sshkey **hostkeys, int n_hostkeys);

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
