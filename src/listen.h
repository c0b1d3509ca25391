/* listen: listening sockets (config or systemd LISTEN_FDS), the accept +
 * fork loop, sd_notify readiness. */
#ifndef WOMBAT_LISTEN_H
#define WOMBAT_LISTEN_H

#include "config.h"
#include "hostkey.h"

#define LISTEN_MAX 32

/* Sockets passed by systemd (LISTEN_PID/LISTEN_FDS, Accept=no); 0 if none. */
int listen_from_systemd(int *fds, int max);
/* Bind every Port x ListenAddress; -1 with a logged reason on failure. */
int listen_open(const struct config *cfg, int *fds, int max);
/* Send a datagram to $NOTIFY_SOCKET if set (sd_notify(3) protocol). */
void listen_notify(const char *state);
/* SIGHUP: fill *fresh with a newly read configuration; 0 = use it, -1 =
 * keep the current one (the reason already logged). */
typedef int (*listen_reload_fn)(struct config *fresh);
void listen_set_reload(listen_reload_fn fn);
/* Start each connection process by fork + exec of argv (the running
 * binary in the connection role, rexec.h) instead of a plain fork. */
void listen_set_exec(char *const *argv);
/* Accept and fork forever (returns on SIGTERM). SIGHUP re-reads the
 * configuration through the reload function, for new connections only;
 * sockets and host keys stay as they are. */
void listen_loop(int *fds, int n, struct config *cfg, struct sshkey **hostkeys,
		 int n_hostkeys);

#endif
