/* lifecycle: what survives a session. One cgroup v2 per session (under the
 * daemon's own cgroup or SessionCgroupRoot) and SessionKillMode
 * control-group|mixed|process|none applied when the session ends — its
 * channel closes or its connection drops. */
#ifndef WOMBAT_LIFECYCLE_H
#define WOMBAT_LIFECYCLE_H

#include <stddef.h>
#include <sys/types.h>

struct config;
struct lc_session;

/* Start-up (listener, -i, and -t with check_only): find the cgroup v2
 * directory sessions go under and check that every SessionKillMode the
 * configuration can produce (globally or in a Match block) can be honoured.
 * Unless check_only, report leftovers of a previous run and remove empty
 * ones. -1 with the reason in err: refuse to start. */
int lifecycle_init(const struct config *cfg, int check_only, char *err, size_t errsz);
/* The directory session cgroups are made in, or NULL without cgroup v2. */
const char *lifecycle_cgroup_base(void);
/* The base the listener's lifecycle_init found (NULL or "": none), for a
 * connection process it starts (rexec.h): no probing per connection.
 * -1 if it could not be kept (out of memory). */
int lifecycle_use_base(const char *base);
/* Remove empty session cgroups whose connection process is gone (the
 * listener calls this after reaping connections). */
void lifecycle_sweep(void);
/* The listener reaped connection process conn, which died by a signal
 * (SIGKILL, a crash) and so ended none of its sessions: apply to each
 * session cgroup it left the SessionKillMode recorded on it (the policy its
 * Match blocks gave it), or cfg's when none was recorded. */
void lifecycle_connection_killed(pid_t conn, const struct config *cfg);

/* Before forking a session's child: the session's policy (from the
 * connection's config, Match applied) and its cgroup. NULL when a cgroup
 * is required (control-group/mixed without fallback) but cannot be made;
 * the reason is logged. */
struct lc_session *lifecycle_session_new(const struct config *cfg, const char *user,
					 unsigned chan_id);
/* In the forked child, before exec: move this process into the session's
 * cgroup. -1 (errno set) if it is required and failed. */
int lifecycle_child_enter(const struct lc_session *ls);
/* In the parent after fork: the main process (its pid is its process
 * group, through setsid), used when it has been reaped by the session end. */
void lifecycle_session_started(struct lc_session *ls, pid_t pid);
/* The session is over (main_pid: its child if still running, else -1):
 * apply SessionKillMode, log what was left and what was signalled, remove
 * the cgroup when empty, and free ls. Waiting out SessionKillTimeout is done
 * by a forked reaper process; the only wait here is `process` mode giving a
 * hung-up main process time to exit (longer with a pty, see lifecycle.c). */
void lifecycle_session_end(struct lc_session *ls, pid_t main_pid, int has_pty);

#endif
