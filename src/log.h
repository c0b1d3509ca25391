/* log: syslog or stderr/file logging with OpenSSH's LogLevel names. */
#ifndef WOMBAT_LOG_H
#define WOMBAT_LOG_H

#include <stddef.h>

enum log_level { LOG_L_QUIET, LOG_L_FATAL, LOG_L_ERROR, LOG_L_INFO,
		 LOG_L_VERBOSE, LOG_L_DEBUG1, LOG_L_DEBUG2, LOG_L_DEBUG3 };

/* to_stderr: -e/-D; file: -E path or NULL; facility: syslog facility. */
void log_init(const char *ident, enum log_level lvl, int to_stderr,
	      const char *file, int facility);
void log_set_level(enum log_level lvl);
/* The -E log file's descriptor, or -1 (kept open by forked helpers). */
int log_fileno(void);
enum log_level log_get_level(void);
/* Prefix added to every line of this process, e.g. "[1234 127.0.0.1:5555]". */
void log_set_prefix(const char *prefix);
/* Hand every line (already filtered by level, control characters
 * replaced, without the prefix) to fn instead of writing it: the pre-auth
 * child sends its lines to the monitor. NULL: write them again. */
typedef void (*log_sink_fn)(int level, const char *line);
void log_set_sink(log_sink_fn fn);
int log_level_from_name(const char *name, enum log_level *out);
const char *log_level_name(enum log_level l);
int log_facility_from_name(const char *name, int *out);

/* The level rides in the format's first byte (enum log_level's value, the
 * macros below put it there), so a call passes no level argument: 5 bytes
 * fewer at each of ~150 call sites. */
void log_msg(const char *level_fmt, ...)
	__attribute__((format(printf, 1, 2)));
/* An error text into err (errsz bytes; nothing when err is NULL or errsz
 * 0): one formatter for the files that report errors in a caller's buffer.
 * Returns -1. */
int err_fmt(char *err, size_t errsz, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* snprintf(dst, dstsz, "%s", src) without the formatter: src copied, cut
 * to dstsz - 1 bytes, NUL-terminated (nothing written when dstsz is 0). */
void str_copy(char *dst, size_t dstsz, const char *src);
/* strtok_r's job (without the libc import): the next token of *rest, ended
 * by any byte of delims and NUL-terminated in place, *rest moved past it;
 * NULL when only delimiters are left. */
char *str_token(char **rest, const char *delims);
/* the first argument is the format, a string literal */
#define fatal(...)   do { log_msg("\1" __VA_ARGS__); _exit(255); } while (0)
#define error(...)   log_msg("\2" __VA_ARGS__)
#define logit(...)   log_msg("\3" __VA_ARGS__)
#define verbose(...) log_msg("\4" __VA_ARGS__)
#define debug(...)   log_msg("\5" __VA_ARGS__)
#define debug2(...)  log_msg("\6" __VA_ARGS__)
#define debug3(...)  log_msg("\7" __VA_ARGS__)

#include <unistd.h>
#endif
