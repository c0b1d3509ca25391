/* penalty: per-source penalties (PerSourcePenalties, PerSourceNetBlockSize,
 * PerSourcePenaltyExemptList). The listener records how each connection
 * process ended against the client's address block; a block whose
 * accumulated penalty reaches `min` seconds is refused new connections until
 * the penalty runs out. Times are whole seconds on a clock the caller passes
 * in (the listener's monotonic clock; a fake one in the unit test). */
#ifndef WOMBAT_PENALTY_H
#define WOMBAT_PENALTY_H

#include <sys/socket.h>
#include "config.h"

enum penalty_cause {
	PENALTY_NONE,
	PENALTY_CRASH,          /* the connection process died of a fault signal */
	PENALTY_AUTHFAIL,       /* left after failed authentication attempts */
	PENALTY_NOAUTH,         /* left without trying to authenticate */
	PENALTY_GRACE,          /* LoginGraceTime ran out */
	PENALTY_PROTOCOL,       /* pre-auth protocol error (costs as noauth) */
};

/* The cause for a connection process's wait status (conn.h enum conn_end). */
enum penalty_cause penalty_cause_of(int wait_status);
const char *penalty_cause_name(enum penalty_cause cause);

/* Take the options from cfg (at start and on SIGHUP). Penalties already
 * recorded are kept: a reload does not forgive anyone. */
void penalty_configure(const struct config *cfg);
/* Record that a connection from addr ended with cause at time now. */
void penalty_record(const struct sockaddr *addr, enum penalty_cause cause, long now);
/* 1 if a new connection from addr is to be refused at time now (counted). */
int penalty_refuse(const struct sockaddr *addr, long now);
/* Forget penalties that have run out, logging what each refused. */
void penalty_expire(long now);
/* Forget everything (tests). */
void penalty_reset(void);

/* Config check for PerSourcePenaltyExemptList: a comma list of addresses and
 * address/bits blocks. Returns a newly allocated normalised list, or NULL
 * with *why set. */
char *penalty_exempt_normalise(const char *list, const char **why);

#endif
