/* fuzz_util: small helpers shared by the libFuzzer harnesses: a private temp
 * file rewritten per input, exact-size copies (so ASan sees over-reads of
 * sub-slices) and a length-prefixed splitter for multi-part inputs. */
#ifndef WOMBAT_FUZZ_UTIL_H
#define WOMBAT_FUZZ_UTIL_H

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "crypto.h"
#include "log.h"

static char fuzz_tmp[128];

static inline void fuzz_tmp_remove(void)
{
	if (fuzz_tmp[0])
		unlink(fuzz_tmp);
}

/* Create the temp file once per process; removed at exit. */
static inline const char *fuzz_tmp_path(void)
{
	if (fuzz_tmp[0])
		return fuzz_tmp;
	const char *dir = getenv("TMPDIR");
	snprintf(fuzz_tmp, sizeof(fuzz_tmp), "%s/wombat-fuzz-XXXXXX", dir ? dir : "/tmp");
	int fd = mkstemp(fuzz_tmp);
	if (fd < 0)
		abort();
	close(fd);
	atexit(fuzz_tmp_remove);
	return fuzz_tmp;
}

/* Replace the temp file's contents with data. */
static inline const char *fuzz_tmp_write(const uint8_t *data, size_t n)
{
	const char *path = fuzz_tmp_path();
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		abort();
	while (n > 0) {
		ssize_t w = write(fd, data, n);
		if (w <= 0)
			abort();
		data += w;
		n -= (size_t)w;
	}
	close(fd);
	return path;
}

/* Exact-size heap copy (n may be 0; never returns NULL). */
static inline uint8_t *fuzz_dup(const uint8_t *data, size_t n)
{
	uint8_t *p = malloc(n ? n : 1);
	if (!p)
		abort();
	if (n)
		memcpy(p, data, n);
	return p;
}

/* NUL-terminated copy of text (stops at an embedded NUL). */
static inline char *fuzz_strdup(const uint8_t *data, size_t n)
{
	size_t len = strnlen((const char *)data, n);
	char *s = malloc(len + 1);
	if (!s)
		abort();
	memcpy(s, data, len);
	s[len] = 0;
	return s;
}

/* Split the next part off a multi-part input: [u16 big-endian len][bytes].
 * A short final part takes what is left. 0 when nothing is left. */
static inline int fuzz_next_part(const uint8_t **data, size_t *size,
			  const uint8_t **part, size_t *plen)
{
	if (*size < 2)
		return 0;
	size_t n = ((size_t)(*data)[0] << 8) | (*data)[1];
	*data += 2;
	*size -= 2;
	if (n > *size)
		n = *size;
	*part = *data;
	*plen = n;
	*data += n;
	*size -= n;
	return 1;
}

/* Log everything to /dev/null: the messages are still formatted, so a bad
 * argument to a log call (an unterminated name) is caught too. */
static inline void fuzz_quiet_logs(void)
{
	log_init("wombat-fuzz", LOG_L_DEBUG3, 0, "/dev/null", LOG_AUTH);
}

/* FUZZ_VERBOSE=1: log to stderr instead (to see where a seed goes). */
static inline void fuzz_logs(void)
{
	if (getenv("FUZZ_VERBOSE"))
		log_init("wombat-fuzz", LOG_L_DEBUG1, 1, NULL, LOG_AUTH);
	else
		fuzz_quiet_logs();
}

/* Once per process, from LLVMFuzzerInitialize: logging and libtomcrypt. */
static inline void fuzz_setup(void)
{
	fuzz_logs();
	if (crypto_init() < 0)
		abort();
}

#endif
