/* session: session channels (RFC 4254 s6): env, exec, shell, subsystem,
 * signal; the child process, exit-status/exit-signal, and the end policy
 * (what happens to a still-running child when the session ends). */
#ifndef WOMBAT_SESSION_H
#define WOMBAT_SESSION_H


struct chan_type;

/* The "session" channel type (chan_types[] in chantypes.c). A session's
 * child is a process with its pipes or pty; the end policy (what happens to
 * a still-running child when the session ends) is applied when the channel
 * is freed. MaxSessions is checked at open. */
extern const struct chan_type session_chan_type;

/* Signal names as RFC 4254 s6.10 spells them ("PIPE", no "SIG"). NULL for
 * a signal without a name. */
const char *session_signame(int sig);
/* Inverse; 0 if unknown. */
int session_signum(const char *name);

#endif
