/* forward: TCP and Unix-socket forwarding (RFC 4254 s7; OpenSSH's
 * PROTOCOL s2.4 for the streamlocal kinds).
 *
 * Four channel types for the channel layer's table (chantypes.c):
 *   direct-tcpip                      ssh -L, -W, -J, -D: we connect out
 *   direct-streamlocal@openssh.com    ssh -L ...:/path: we connect to a Unix socket
 *   forwarded-tcpip                   ssh -R: a connection to our listener
 *   forwarded-streamlocal@openssh.com ssh -R /path:...: the same, Unix socket
 * and the connection's listeners (tcpip-forward, streamlocal-forward@openssh.com
 * global requests and their cancels), closed when the connection ends.
 *
 * A direct-tcpip open is answered only once the connect has succeeded: the
 * name is looked up in a child process (numeric addresses need none) and
 * the connect is non-blocking, both bounded by ForwardConnectTimeout, so
 * a target that never answers holds up nothing but its own channel.
 *
 * Every request passes the restrictions first (DisableForwarding,
 * AllowTcpForwarding, AllowStreamLocalForwarding, PermitOpen, PermitListen,
 * the key's no-port-forwarding / restrict / permitopen= / permitlisten=);
 * a refusal is logged naming the user, the request and the rule. Unix
 * sockets are bound and connected with the user's identity. */
#ifndef WOMBAT_FORWARD_H
#define WOMBAT_FORWARD_H

#include <poll.h>
#include <sys/socket.h>
#include "buf.h"

#define FWD_MAX_LISTENERS 32   /* remote forwards per connection */
#define FWD_MAX_PENDING   32   /* direct opens still looking up/connecting */
#define FWD_MAX_ADDRS     8    /* addresses tried for one name */

struct conn;
struct chanset;
struct chan_type;
struct fwdset;

extern const struct chan_type direct_tcpip_chan_type;
extern const struct chan_type direct_streamlocal_chan_type;
extern const struct chan_type forwarded_tcpip_chan_type;
extern const struct chan_type forwarded_streamlocal_chan_type;

struct fwdset *fwd_init(struct conn *c, struct chanset *cs);
/* Close every listener (Unix socket files are removed). */
void fwd_free(struct fwdset *fs);
/* A global request named `name` (r after want-reply): 1 = handled and
 * answered, 0 = not a forwarding request, -1 = malformed. */
int fwd_global_request(struct fwdset *fs, const char *name, int want_reply, rd_t *r);
/* The listeners' pollfds (<= max), and accepting after poll(). */
int fwd_pollfds(struct fwdset *fs, struct pollfd *pfds, int max);
void fwd_poll_done(struct fwdset *fs, struct pollfd *pfds, int n);

/* The restrictions, for forward.c and its unit test: NULL when allowed,
 * else the rule that refuses (for the log). */
struct config;
struct authkey_opts;
const char *fwd_open_refusal(const struct config *cfg, const struct authkey_opts *ko,
			     int unix_socket, const char *host, int port);
const char *fwd_listen_refusal(const struct config *cfg, const struct authkey_opts *ko,
			       int unix_socket, const char *host, int port, int user_is_root);

/* The resolver child's answer ([u32 getaddrinfo status][u32 n] n x
 * [string sockaddr]): the usable addresses (IPv4 and IPv6 only, at most
 * FWD_MAX_ADDRS) into addrs/lens. 0 ok (n_addrs may be 0), the lookup's
 * error status (> 0), or -1 when the answer is malformed. */
int fwd_parse_lookup(const uint8_t *p, size_t n, struct sockaddr_storage *addrs,
		     socklen_t *lens, int *n_addrs);

#endif
