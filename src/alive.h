/* alive: the connection's timers (DESIGN.md "Keepalive") — LoginGraceTime,
 * ClientAliveInterval/ClientAliveCountMax, UnusedConnectionTimeout — and the
 * lookup of ChannelTimeout intervals for the channel layer.
 *
 * Pure bookkeeping: the connection reports what happened (a packet arrived,
 * authentication finished, how many channels are open) and asks what is due;
 * it does the sending and the disconnecting itself. Times are monotonic
 * milliseconds (alive_now_ms), so a wall-clock jump neither fires nor
 * starves a timer. */
#ifndef WOMBAT_ALIVE_H
#define WOMBAT_ALIVE_H

#include <stdint.h>

struct config;

struct alive {
	int64_t start;           /* connection accepted */
	int64_t last_recv;       /* last packet from the client */
	int64_t last_probe;      /* last ClientAlive probe we sent */
	int64_t unused_since;    /* authenticated with no channel open since; 0 = in use */
	int probes;              /* probes sent since the client last spoke */
	int authenticated;
};

enum alive_due {
	ALIVE_NOTHING,
	ALIVE_LOGIN_GRACE,       /* LoginGraceTime passed before authentication */
	ALIVE_SEND_PROBE,        /* send one keepalive@openssh.com now */
	ALIVE_KEEPALIVE_TIMEOUT, /* ClientAliveCountMax probes went unanswered */
	ALIVE_UNUSED_TIMEOUT,    /* UnusedConnectionTimeout: no channel for too long */
};

int64_t alive_now_ms(void);
/* The same clock in microseconds, and a sleep on it (EINTR resumed): the
 * one monotonic clock of the connection, its sessions and its login delay. */
int64_t alive_now_us(void);
void alive_sleep_us(int64_t us);
void alive_init(struct alive *a, int64_t now);
/* Any packet from the client: it is alive, the probe count starts over. */
void alive_received(struct alive *a, int64_t now);
/* Authentication finished: UnusedConnectionTimeout starts counting. */
void alive_authenticated(struct alive *a, int64_t now);
/* How many channels are open right now (called every loop round). */
void alive_channels(struct alive *a, int n_open, int64_t now);
/* What is due at `now`. ALIVE_SEND_PROBE is counted as sent. */
enum alive_due alive_check(struct alive *a, const struct config *cfg, int64_t now);
/* Milliseconds until alive_check may have something to do (>= 0), or -1
 * when no timer runs. */
int64_t alive_next_ms(const struct alive *a, const struct config *cfg, int64_t now);

/* ChannelTimeout: the idle interval in seconds for channels of `type`
 * ("session", "direct-tcpip", ...; patterns with * and ? match), or for all
 * channels together with type "global" (matched only when named exactly, as
 * in OpenSSH). The first matching entry wins; 0 = no timeout. */
int alive_channel_timeout(const struct config *cfg, const char *type);

#endif
