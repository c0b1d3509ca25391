/* log: one line per event, to syslog or to stderr / a file. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>

static enum log_level cur_level = LOG_L_INFO;
static int use_stderr;
static FILE *log_file;
static char log_prefix[128];
/* aligned(8): left to itself GCC puts a 32-byte array on 32 bytes, which
 * padded .data */
static char log_ident[32] __attribute__((aligned(4))) = "wombatd";
static log_sink_fn log_sink;

void log_set_sink(log_sink_fn fn) { log_sink = fn; }

static const char *const level_names[] = {
	"QUIET", "FATAL", "ERROR", "INFO", "VERBOSE", "DEBUG1", "DEBUG2", "DEBUG3",
};

void log_init(const char *ident, enum log_level lvl, int to_stderr,
	      const char *file, int facility)
{
	str_copy(log_ident, sizeof(log_ident), ident);
	cur_level = lvl;
	use_stderr = to_stderr;
	if (file) {
		log_file = fopen(file, "ae");
		if (log_file)
			setvbuf(log_file, NULL, _IOLBF, 0);
	}
	if (!to_stderr && !log_file)
		openlog(log_ident, LOG_PID | LOG_NDELAY, facility);
}

void log_set_level(enum log_level lvl) { cur_level = lvl; }
int log_fileno(void) { return log_file ? fileno(log_file) : -1; }
enum log_level log_get_level(void) { return cur_level; }

void log_set_prefix(const char *prefix)
{
	str_copy(log_prefix, sizeof(log_prefix), prefix ? prefix : "");
}

int log_level_from_name(const char *name, enum log_level *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcasecmp(name, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	if (strcasecmp(name, "DEBUG") == 0) {
		*out = LOG_L_DEBUG1;
		return 0;
	}
	return -1;
}

const char *log_level_name(enum log_level l)
{
	return (unsigned)l < sizeof(level_names) / sizeof(level_names[0]) ?
		level_names[l] : "INFO";
}

int log_facility_from_name(const char *name, int *out)
{
	static const struct { const char *name; int fac; } facs[] = {
		{ "DAEMON", LOG_DAEMON }, { "USER", LOG_USER }, { "AUTH", LOG_AUTH },
		{ "AUTHPRIV", LOG_AUTHPRIV }, { "LOCAL0", LOG_LOCAL0 },
		{ "LOCAL1", LOG_LOCAL1 }, { "LOCAL2", LOG_LOCAL2 },
		{ "LOCAL3", LOG_LOCAL3 }, { "LOCAL4", LOG_LOCAL4 },
		{ "LOCAL5", LOG_LOCAL5 }, { "LOCAL6", LOG_LOCAL6 },
		{ "LOCAL7", LOG_LOCAL7 },
	};
	for (size_t i = 0; i < sizeof(facs) / sizeof(facs[0]); i++) {
		if (strcasecmp(name, facs[i].name) == 0) {
			*out = facs[i].fac;
			return 0;
		}
	}
	return -1;
}

static int syslog_priority(enum log_level lvl)
{
	switch (lvl) {
	case LOG_L_FATAL: return LOG_CRIT;
	case LOG_L_ERROR: return LOG_ERR;
	case LOG_L_INFO: case LOG_L_VERBOSE: return LOG_INFO;
	default: return LOG_DEBUG;
	}
}

void str_copy(char *dst, size_t dstsz, const char *src)
{
	if (!dstsz)
		return;
	size_t n = strlen(src);
	if (n >= dstsz)
		n = dstsz - 1;
	memcpy(dst, src, n);
	dst[n] = 0;
}

char *str_token(char **rest, const char *delims)
{
	char *tok = *rest + strspn(*rest, delims);
	char *end = tok + strcspn(tok, delims);
	*rest = *end ? end + 1 : end;
	if (end == tok)
		return NULL;
	*end = '\0';
	return tok;
}

int err_fmt(char *err, size_t errsz, const char *fmt, ...)
{
	if (err && errsz) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errsz, fmt, ap);
		va_end(ap);
	}
	return -1;
}

_Static_assert(LOG_L_FATAL == 1 && LOG_L_ERROR == 2 && LOG_L_INFO == 3 && LOG_L_VERBOSE == 4 &&
	       LOG_L_DEBUG1 == 5 && LOG_L_DEBUG2 == 6 && LOG_L_DEBUG3 == 7,
	       "the level bytes of log.h's macros");

void log_msg(const char *fmt, ...)
{
	enum log_level lvl = (enum log_level)(unsigned char)*fmt++;
	if (lvl > cur_level || cur_level == LOG_L_QUIET)
		return;
	char line[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* never let control characters from the network reach the log raw */
	for (char *p = line; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	if (log_sink) {
		log_sink((int)lvl, line);
		return;
	}
	const char *sep = log_prefix[0] ? " " : "";
	if (use_stderr || log_file) {
		FILE *f = log_file ? log_file : stderr;
		fprintf(f, "%s[%d]: %s%s%s\n", log_ident, (int)getpid(), log_prefix, sep, line);
		fflush(f);
	} else {
		syslog(syslog_priority(lvl), "%s%s%s", log_prefix, sep, line);
	}
}
