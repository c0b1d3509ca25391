/* utmp_log: login records for pty sessions — utmp (who), wtmp (last) and
 * lastlog — as login(1) and sshd write them. Best effort: a missing or
 * unwritable file is skipped quietly (containers often have none). */
#ifndef WOMBAT_UTMP_LOG_H
#define WOMBAT_UTMP_LOG_H

#include <stddef.h>
#include <sys/types.h>

/* The login of user (tty: "/dev/pts/N"; host: the client's address), or
 * with user and host NULL the logout on tty. */
void utmp_record(const char *tty, const char *user, const char *host, pid_t pid);

/* The user's previous login from lastlog as "Last login: <date> from <host>"
 * (empty string when there is none), then record this one. */
void lastlog_update(uid_t uid, const char *tty, const char *host,
		    char *previous, size_t prevsz);

#endif
