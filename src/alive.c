/* alive: connection timers (see alive.h). */
#include "alive.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "authfile.h"
#include "config.h"

int64_t alive_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t alive_now_ms(void)
{
	return alive_now_us() / 1000;
}

void alive_sleep_us(int64_t us)
{
	struct timespec ts = { .tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000 };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

void alive_init(struct alive *a, int64_t now)
{
	memset(a, 0, sizeof(*a));
	a->start = a->last_recv = now;
}

void alive_received(struct alive *a, int64_t now)
{
	a->last_recv = now;
	a->probes = 0;
}

void alive_authenticated(struct alive *a, int64_t now)
{
	a->authenticated = 1;
	a->unused_since = now;
}

void alive_channels(struct alive *a, int n_open, int64_t now)
{
	if (!a->authenticated)
		return;
	if (n_open > 0)
		a->unused_since = 0;
	else if (a->unused_since == 0)
		a->unused_since = now;
}

/* When the next ClientAlive event (probe or giving up) is due: interval
 * after the later of the client's last packet and our last probe. */
static int64_t probe_due(const struct alive *a, const struct config *cfg)
{
	int64_t base = a->last_recv > a->last_probe ? a->last_recv : a->last_probe;
	return base + (int64_t)cfg->client_alive_interval * 1000;
}

enum alive_due alive_check(struct alive *a, const struct config *cfg, int64_t now)
{
	if (!a->authenticated) {
		if (cfg->login_grace_time > 0 &&
		    now - a->start >= (int64_t)cfg->login_grace_time * 1000)
			return ALIVE_LOGIN_GRACE;
		return ALIVE_NOTHING;
	}
	if (cfg->unused_connection_timeout > 0 && a->unused_since &&
	    now - a->unused_since >= (int64_t)cfg->unused_connection_timeout * 1000)
		return ALIVE_UNUSED_TIMEOUT;
	if (cfg->client_alive_interval > 0 && now >= probe_due(a, cfg)) {
		/* OpenSSH's count: CountMax probes go out; when the next one
		 * would be due and none was answered, the client is gone. */
		if (a->probes >= cfg->client_alive_count_max)
			return ALIVE_KEEPALIVE_TIMEOUT;
		a->probes++;
		a->last_probe = now;
		return ALIVE_SEND_PROBE;
	}
	return ALIVE_NOTHING;
}

static __attribute__((noinline)) void earliest(int64_t *best, int64_t due, int64_t now)
{
	int64_t left = due > now ? due - now : 0;
	if (*best < 0 || left < *best)
		*best = left;
}

int64_t alive_next_ms(const struct alive *a, const struct config *cfg, int64_t now)
{
	int64_t best = -1;
	if (!a->authenticated) {
		if (cfg->login_grace_time > 0)
			earliest(&best, a->start + (int64_t)cfg->login_grace_time * 1000, now);
		return best;
	}
	if (cfg->unused_connection_timeout > 0 && a->unused_since)
		earliest(&best, a->unused_since + (int64_t)cfg->unused_connection_timeout * 1000,
			 now);
	if (cfg->client_alive_interval > 0)
		earliest(&best, probe_due(a, cfg), now);
	return best;
}

int alive_channel_timeout(const struct config *cfg, const char *type)
{
	int global = strcmp(type, "global") == 0;
	for (int i = 0; i < cfg->n_channel_timeout; i++) {
		const char *e = cfg->channel_timeout[i];
		const char *eq = strchr(e, '=');
		if (!eq || eq == e)
			continue;       /* "none" */
		size_t n = (size_t)(eq - e);
		char pat[128];
		if (n >= sizeof(pat))
			continue;
		memcpy(pat, e, n);
		pat[n] = '\0';
		int hit = global ? strcmp(pat, "global") == 0
				 : strcmp(pat, "global") != 0 && match_pattern(type, pat) == 1;
		if (hit)
			return (int)strtol(eq + 1, NULL, 10);
	}
	return 0;
}
