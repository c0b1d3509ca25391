/* session: session channels (RFC 4254 s6): env, exec, shell, subsystem,
 * signal; the child process, exit-status/exit-signal, and the end policy
 * (what happens to a still-running child when the session ends). */
#ifndef WOMBAT_SESSION_H
#define WOMBAT_SESSION_H

#include <sys/types.h>
#include "buf.h"

struct channel;
struct session;

struct session *session_new(struct channel *ch);
/* One CHANNEL_REQUEST for this session (the rest of the payload after
 * want-reply is in r). 1 = success, 0 = failure, -1 = malformed (protocol
 * error). */
int session_request(struct session *s, const char *type, rd_t *r);
/* The pid of the session's child, or -1 when none is running. */
pid_t session_pid(const struct session *s);
/* The child was reaped: report exit-status/exit-signal on the channel. */
void session_child_exited(struct session *s, int status);
/* The session is ending (channel freed or connection gone): apply the end
 * policy to a still-running child, then free. */
void session_free(struct session *s);

/* Signal names as RFC 4254 s6.10 spells them ("PIPE", no "SIG"). NULL for
 * a signal without a name. */
const char *session_signame(int sig);
/* Inverse; 0 if unknown. */
int session_signum(const char *name);

#endif
