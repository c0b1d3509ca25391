/* utmp_log: utmp/wtmp/lastlog records for pty sessions. */
#include "utmp_log.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <lastlog.h>
#include <paths.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <utmp.h>
#include <utmpx.h>

#include "log.h"

/* "/dev/pts/3" -> "pts/3" (ut_line) */
static const char *tty_line(const char *tty)
{
	return strncmp(tty, "/dev/", 5) == 0 ? tty + 5 : tty;
}

/* Fixed-width record fields need no terminating NUL when full. */
static void copy_field(char *dst, size_t dstsz, const char *src)
{
	for (size_t i = 0; i < dstsz; i++) {      /* NUL-padded */
		dst[i] = *src;
		if (*src)
			src++;
	}
}

/* ut_id: the tail of the line, as login(1) uses ("pts/3" -> "ts/3"). */
static void fill_id(struct utmpx *ut, const char *line)
{
	size_t n = strlen(line);
	size_t k = sizeof(ut->ut_id);
	const char *tail = n > k ? line + n - k : line;
	copy_field(ut->ut_id, sizeof(ut->ut_id), tail);
}

/* ut_addr_v6: an IPv4 address in the first word, IPv6 in all four. */
static void fill_addr(struct utmpx *ut, const char *host)
{
	struct in6_addr a6;
	struct in_addr a4;
	if (inet_pton(AF_INET, host, &a4) == 1)
		memcpy(ut->ut_addr_v6, &a4, sizeof(a4));
	else if (inet_pton(AF_INET6, host, &a6) == 1)
		memcpy(ut->ut_addr_v6, &a6, sizeof(a6));
}

static void fill_record(struct utmpx *ut, short type, const char *tty,
			const char *user, const char *host, pid_t pid)
{
	struct timespec ts;
	const char *line = tty_line(tty);
	memset(ut, 0, sizeof(*ut));
	ut->ut_type = type;
	ut->ut_pid = pid;
	copy_field(ut->ut_line, sizeof(ut->ut_line), line);
	fill_id(ut, line);
	if (user)
		copy_field(ut->ut_user, sizeof(ut->ut_user), user);
	if (host) {
		copy_field(ut->ut_host, sizeof(ut->ut_host), host);
		fill_addr(ut, host);
	}
	clock_gettime(CLOCK_REALTIME, &ts);   /* gettimeofday's clock */
	ut->ut_tv.tv_sec = (int32_t)ts.tv_sec;
	ut->ut_tv.tv_usec = (int32_t)(ts.tv_nsec / 1000);
}

static void write_record(const struct utmpx *ut)
{
	setutxent();
	if (!pututxline(ut))
		debug("utmp: cannot write record for %s", ut->ut_line);
	endutxent();
	updwtmpx(_PATH_WTMP, ut);
}

void utmp_record(const char *tty, const char *user, const char *host, pid_t pid)
{
	struct utmpx ut;
	fill_record(&ut, user ? USER_PROCESS : DEAD_PROCESS, tty, user, host, pid);
	write_record(&ut);
}

void lastlog_update(uid_t uid, const char *tty, const char *host,
		    char *previous, size_t prevsz)
{
	struct lastlog ll;
	off_t off = (off_t)uid * (off_t)sizeof(ll);
	previous[0] = '\0';
	int fd = open(_PATH_LASTLOG, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return;    /* no lastlog on this system: nothing to do */
	memset(&ll, 0, sizeof(ll));
	if (pread(fd, &ll, sizeof(ll), off) == (ssize_t)sizeof(ll) && ll.ll_time) {
		time_t t = (time_t)ll.ll_time;
		char when[64];
		struct tm tm;
		strftime(when, sizeof(when), "%a %b %e %H:%M:%S %Y", localtime_r(&t, &tm));
		snprintf(previous, prevsz, "Last login: %s from %.*s", when,
			 (int)sizeof(ll.ll_host), ll.ll_host);   /* %.*s stops at a NUL */
	}
	memset(&ll, 0, sizeof(ll));
	ll.ll_time = (int32_t)time(NULL);
	copy_field(ll.ll_line, sizeof(ll.ll_line), tty_line(tty));
	copy_field(ll.ll_host, sizeof(ll.ll_host), host);
	if (pwrite(fd, &ll, sizeof(ll), off) != (ssize_t)sizeof(ll))
		debug("lastlog: cannot write the record of uid %u", (unsigned)uid);
	close(fd);
}
