/* rexec: the listener starts each connection process by fork + exec (posix_spawn, so the listener's memory is not copied) of
 * wombatd itself in the connection role (hidden flag -R), so each gets a
 * fresh address-space layout and inherits no memory (monitor.h has the
 * whole process model). What the new process needs reaches it on fixed
 * descriptors:
 *   0, 1   the accepted socket (as in inetd mode)
 *   3      the snapshot: a sealed memfd, "WOMBATSNAP1\n", u32 length + the
 *          configuration as config_serialize text, u32 count + that many
 *          u32 length + host key (key_private_blob), then the session
 *          cgroup base the listener found (string). Written by the
 *          listener at start and after each good SIGHUP.
 *   4      the MaxStartups pipe (conn_set_auth_notify), or /dev/null
 * Everything else is closed or close-on-exec. */
#ifndef WOMBAT_REXEC_H
#define WOMBAT_REXEC_H

#include <sys/types.h>
#include "config.h"
#include "hostkey.h"

#define REXEC_SNAPSHOT_FD 3
#define REXEC_NOTIFY_FD 4

/* Write cfg and the keys into a new sealed memfd; its fd (close-on-exec),
 * or -1 (logged). */
int rexec_snapshot(const struct config *cfg, struct sshkey **keys, int n_keys);
/* The connection role: read the snapshot from fd into cfg (defaults first)
 * and keys[max]; the number of keys, or -1 with err filled. The bytes read
 * are wiped. */
int rexec_load(int fd, struct config *cfg, struct sshkey **keys, int max, char *err,
	       size_t errsz);
/* In the listener: start the connection process with sock, snapshot and
 * notify on their fixed descriptors, executing argv (argv[0] is ignored:
 * the running binary, /proc/self/exe, is executed; under an emulator whose
 * /proc/self/exe is itself, the program's file opened through it, see
 * rexec.c) through posix_spawn, which does not copy the listener's memory.
 * Its pid, or -1 (logged). */
pid_t rexec_spawn(int sock, int snapshot, int notify, char *const *argv);

#endif
