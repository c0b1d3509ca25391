/* penalty: per-source penalties, kept by the listener.
 *
 * One entry per penalised address block, holding the time its penalty runs
 * out. A penalty adds its duration to whatever is left (so penalties decay
 * as time passes), never beyond now + max. The block starts being refused
 * once what is left reaches min, and stays refused until it runs out. The
 * table is a plain array searched linearly: it is bounded by max-sources,
 * and the listener touches it once per accept and per reaped child. */
#include "penalty.h"
#include "ascii.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "match.h"
#include "conn.h"
#include "log.h"

struct block {
	int v6;                      /* 0: IPv4 (4 bytes used), 1: IPv6 */
	unsigned char b[16];         /* masked to the configured block size */
};

struct entry {
	struct block blk;
	long until;                  /* the penalty runs out at this time */
	int refusing;                /* reached min: new connections refused */
	unsigned long refused;       /* connections refused this period */
};

static struct penalty_cfg pcfg;
static char *exempt;             /* normalised PerSourcePenaltyExemptList */
static struct entry *tab;
static int n_tab, cap_tab;
static int n_family[2];          /* entries per family (IPv4, IPv6) */
static int full_logged[2];       /* "table full" said since it last had room */

/* ------------------------------------------------------------- addresses */

/* The address bytes of a socket address; IPv4-mapped IPv6 counts as IPv4. */
static int block_of(const struct sockaddr *sa, struct block *out)
{
	memset(out, 0, sizeof *out);
	if (sa->sa_family == AF_INET) {
		memcpy(out->b, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family != AF_INET6)
		return -1;
	const struct in6_addr *a6 = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	if (IN6_IS_ADDR_V4MAPPED(a6)) {
		memcpy(out->b, a6->s6_addr + 12, 4);
		return 0;
	}
	out->v6 = 1;
	memcpy(out->b, a6->s6_addr, 16);
	return 0;
}

static int block_bits(const struct block *blk)
{
	return blk->v6 ? pcfg.netblock6 : pcfg.netblock4;
}

static void block_mask(struct block *blk)
{
	int bits = block_bits(blk), len = blk->v6 ? 16 : 4;
	for (int i = 0; i < len; i++, bits -= 8) {
		if (bits <= 0)
			blk->b[i] = 0;
		else if (bits < 8)
			blk->b[i] &= (unsigned char)(0xff << (8 - bits));
	}
}

static void addr_text(const struct block *blk, char *out, size_t outsz)
{
	if (!inet_ntop(blk->v6 ? AF_INET6 : AF_INET, blk->b, out, (socklen_t)outsz))
		snprintf(out, outsz, "?");
}

/* "ADDRESS/BITS"; out has room for INET6_ADDRSTRLEN + 8 bytes */
static void block_text(const struct block *blk, char *out, size_t outsz)
{
	addr_text(blk, out, outsz);
	size_t n = strlen(out);
	snprintf(out + n, outsz - n, "/%d", block_bits(blk));
}

/* The exempt list is matched against the client's own address. */
static int is_exempt(const struct block *addr)
{
	char a[INET6_ADDRSTRLEN];
	if (!exempt)
		return 0;
	addr_text(addr, a, sizeof a);
	return match_addr_list(a, exempt) == 1;
}

/* ------------------------------------------------------------------ causes */

/* Fault signals only: an administrator's TERM/KILL/HUP is not the client's
 * doing. */
static int is_fault_signal(int sig)
{
	return sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE ||
	       sig == SIGABRT || sig == SIGSYS || sig == SIGTRAP;
}

enum penalty_cause penalty_cause_of(int wait_status)
{
	if (WIFSIGNALED(wait_status))
		return is_fault_signal(WTERMSIG(wait_status)) ? PENALTY_CRASH : PENALTY_NONE;
	if (!WIFEXITED(wait_status))
		return PENALTY_NONE;
	switch (WEXITSTATUS(wait_status)) {
	case CONN_END_OK:       return PENALTY_NONE;
	case CONN_END_AUTHFAIL: return PENALTY_AUTHFAIL;
	case CONN_END_NOAUTH:   return PENALTY_NOAUTH;
	case CONN_END_GRACE:    return PENALTY_GRACE;
	case CONN_END_PROTOCOL: return PENALTY_PROTOCOL;
	case CONN_END_CRASH:    return PENALTY_CRASH;  /* the pre-auth child died */
	default:                return PENALTY_NOAUTH;  /* any other failure (fatal) */
	}
}

const char *penalty_cause_name(enum penalty_cause cause)
{
	switch (cause) {
	case PENALTY_CRASH:    return "crash";
	case PENALTY_AUTHFAIL: return "authfail";
	case PENALTY_NOAUTH:   return "noauth";
	case PENALTY_GRACE:    return "grace-exceeded";
	case PENALTY_PROTOCOL: return "protocol error";
	case PENALTY_NONE:     break;
	}
	return "none";
}

static int duration_of(enum penalty_cause cause)
{
	switch (cause) {
	case PENALTY_CRASH:    return pcfg.crash;
	case PENALTY_AUTHFAIL: return pcfg.authfail;
	case PENALTY_NOAUTH:
	case PENALTY_PROTOCOL: return pcfg.noauth;
	case PENALTY_GRACE:    return pcfg.grace_exceeded;
	case PENALTY_NONE:     break;
	}
	return 0;
}

/* ------------------------------------------------------------------ table */

static struct entry *find(const struct block *blk)
{
	for (int i = 0; i < n_tab; i++)
		if (tab[i].blk.v6 == blk->v6 && memcmp(tab[i].blk.b, blk->b, 16) == 0)
			return &tab[i];
	return NULL;
}

static int family_full(int v6)
{
	return n_family[v6] >= (v6 ? pcfg.max_sources6 : pcfg.max_sources4);
}

static void say_full(int v6)
{
	if (full_logged[v6])
		return;
	full_logged[v6] = 1;
	int deny = v6 ? pcfg.overflow_deny6 : pcfg.overflow_deny4;
	logit("penalty: table of %s sources full (%d); %s", v6 ? "IPv6" : "IPv4",
	      n_family[v6], deny ? "refusing every client not exempt (deny-all)"
				 : "not penalising new sources (permissive)");
}

static struct entry *add(const struct block *blk, long now)
{
	if (family_full(blk->v6)) {
		say_full(blk->v6);
		return NULL;
	}
	if (n_tab == cap_tab) {
		int cap = cap_tab ? cap_tab * 2 : 64;
		struct entry *t = realloc(tab, sizeof *t * (size_t)cap);
		if (!t) {
			error("penalty: out of memory; source not penalised");
			return NULL;
		}
		tab = t;
		cap_tab = cap;
	}
	struct entry *e = &tab[n_tab++];
	memset(e, 0, sizeof *e);
	e->blk = *blk;
	e->until = now;
	n_family[blk->v6]++;
	return e;
}

static void lifted(const struct entry *e)
{
	char bt[INET6_ADDRSTRLEN + 8];
	if (!e->refusing)
		return;
	block_text(&e->blk, bt, sizeof bt);
	logit("penalty: %s no longer refused (%lu connection%s refused)", bt,
	      e->refused, e->refused == 1 ? "" : "s");
}

void penalty_expire(long now)
{
	for (int i = n_tab - 1; i >= 0; i--) {
		if (tab[i].until > now)
			continue;
		lifted(&tab[i]);
		n_family[tab[i].blk.v6]--;
		full_logged[tab[i].blk.v6] = 0;
		tab[i] = tab[--n_tab];
	}
}

void penalty_reset(void)
{
	free(tab);
	tab = NULL;
	n_tab = cap_tab = 0;
	n_family[0] = n_family[1] = 0;
	full_logged[0] = full_logged[1] = 0;
}

void penalty_configure(const struct config *cfg)
{
	const struct penalty_cfg *nc = &cfg->penalties;
	if (!nc->enabled || nc->netblock4 != pcfg.netblock4 || nc->netblock6 != pcfg.netblock6)
		penalty_reset();  /* entries are keyed by the old block size */
	pcfg = *nc;
	free(exempt);
	exempt = cfg->penalty_exempt ? strdup(cfg->penalty_exempt) : NULL;
	if (cfg->penalty_exempt && !exempt)
		error("penalty: out of memory; exempt list not in effect");
}

void penalty_record(const struct sockaddr *addr, enum penalty_cause cause, long now)
{
	struct block blk;
	int secs = duration_of(cause);
	if (!pcfg.enabled || secs <= 0 || block_of(addr, &blk) < 0 || is_exempt(&blk))
		return;
	block_mask(&blk);
	penalty_expire(now);
	struct entry *e = find(&blk);
	if (!e && !(e = add(&blk, now)))
		return;
	long left = e->until - now + secs;
	e->until = now + (left < pcfg.max ? left : pcfg.max);
	char bt[INET6_ADDRSTRLEN + 8];
	block_text(&blk, bt, sizeof bt);
	debug("penalty: %s +%d s for %s, %ld s accumulated", bt, secs,
	      penalty_cause_name(cause), e->until - now);
	if (!e->refusing && e->until - now >= pcfg.min) {
		e->refusing = 1;
		logit("penalty: %s refused for %ld s: %s", bt, e->until - now,
		      penalty_cause_name(cause));
	}
}

int penalty_refuse(const struct sockaddr *addr, long now)
{
	struct block blk;
	if (!pcfg.enabled || block_of(addr, &blk) < 0 || is_exempt(&blk))
		return 0;
	block_mask(&blk);
	struct entry *e = find(&blk);
	if (e && e->refusing && e->until > now) {
		e->refused++;
		return 1;
	}
	if (family_full(blk.v6) && (blk.v6 ? pcfg.overflow_deny6 : pcfg.overflow_deny4)) {
		say_full(blk.v6);
		return 1;
	}
	return 0;
}

/* ------------------------------------------------------------ config check */

/* One exempt entry: address or address/bits, written back canonically. */
static int exempt_entry(const char *s, size_t n, char *out, size_t outsz)
{
	char buf[INET6_ADDRSTRLEN + 8], canon[INET6_ADDRSTRLEN];
	unsigned char bytes[16];
	if (n == 0 || n >= sizeof buf)
		return -1;
	memcpy(buf, s, n);
	buf[n] = 0;
	char *slash = strchr(buf, '/');
	if (slash)
		*slash++ = 0;
	int af = strchr(buf, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(af, buf, bytes) != 1 || !inet_ntop(af, bytes, canon, sizeof canon))
		return -1;
	if (!slash)
		return snprintf(out, outsz, "%s", canon) < (int)outsz ? 0 : -1;
	int maxbits = af == AF_INET ? 32 : 128;
	char *end;
	long bits = strtol(slash, &end, 10);
	if (!a_digit((unsigned char)*slash) || *end || bits < 0 || bits > maxbits)
		return -1;
	return snprintf(out, outsz, "%s/%ld", canon, bits) < (int)outsz ? 0 : -1;
}

char *penalty_exempt_normalise(const char *list, const char **why)
{
	size_t cap = strlen(list) * 2 + 64, used = 0;
	char *out = malloc(cap);
	if (!out) {
		*why = "out of memory for";
		return NULL;
	}
	out[0] = 0;
	for (const char *p = list;;) {
		size_t n = strcspn(p, ",");
		char one[INET6_ADDRSTRLEN + 8];
		if (exempt_entry(p, n, one, sizeof one) < 0 ||
		    used + strlen(one) + 2 > cap) {
			free(out);
			*why = "bad address or address/bits in";
			return NULL;
		}
		used += (size_t)snprintf(out + used, cap - used, "%s%s", used ? "," : "", one);
		if (!p[n])
			break;
		p += n + 1;
	}
	return out;
}
