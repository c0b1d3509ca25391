/* match: glob patterns, pattern lists, address lists with CIDR (see match.h). */
#include "match.h"
#include "ascii.h"

#include <arpa/inet.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

/* ------------------------------------------------------------------ globs */

static int chr_eq(char a, char b, int nocase)
{
	if (nocase)
		return a_lower((unsigned char)a) == a_lower((unsigned char)b);
	return a == b;
}

/* Glob match of s against pat[0..plen). Iterative, remembering only the
 * latest '*': a later star can always absorb what an earlier one would, so
 * one backtrack point suffices and the cost is at most strlen(s) * plen,
 * never exponential whatever the number of stars. */
static int glob_match_n(const char *s, const char *pat, size_t plen, int nocase)
{
	size_t pi = 0, star_pi = 0;
	const char *star_s = NULL;

	while (*s) {
		if (pi < plen && pat[pi] == '*') {
			star_pi = pi++;
			star_s = s;
		} else if (pi < plen && (pat[pi] == '?' || chr_eq(pat[pi], *s, nocase))) {
			pi++;
			s++;
		} else if (star_s != NULL) {
			pi = star_pi + 1;       /* let the last star take one more char */
			s = ++star_s;
		} else {
			return 0;
		}
	}
	while (pi < plen && pat[pi] == '*')
		pi++;
	return pi == plen;
}

int match_pattern(const char *s, const char *pattern)
{
	if (s == NULL || pattern == NULL)
		return 0;
	return glob_match_n(s, pattern, strlen(pattern), 0);
}

/* ------------------------------------------------------------------ lists */

/* One list entry [p, p+n), blanks trimmed, '!' removed into negated. */
struct list_entry {
	const char *p;
	size_t n;
	int negated;
};

static void trim(const char **p, const char **end)
{
	while (*p < *end && a_space((unsigned char)**p))
		(*p)++;
	while (*end > *p && a_space((unsigned char)(*end)[-1]))
		(*end)--;
}

/* Next comma-separated entry from *list; 0 at the end of the list. */
static int list_next(const char **list, struct list_entry *e)
{
	const char *p = *list, *end;

	if (*p == '\0')
		return 0;
	end = strchr(p, ',');
	if (end == NULL)
		end = p + strlen(p);
	*list = *end ? end + 1 : end;
	trim(&p, &end);
	e->negated = p < end && *p == '!';
	if (e->negated) {
		p++;
		trim(&p, &end);
	}
	e->p = p;
	e->n = (size_t)(end - p);
	return 1;
}

static int glob_list(const char *s, const char *list, int nocase)
{
	struct list_entry e;
	int found = 0;

	if (s == NULL || list == NULL)
		return 0;
	while (list_next(&list, &e)) {
		if (e.n == 0 || !glob_match_n(s, e.p, e.n, nocase))
			continue;
		if (e.negated)
			return -1;
		found = 1;
	}
	return found;
}

int match_pattern_list(const char *s, const char *list)
{
	return glob_list(s, list, 0);
}

int match_hostname_list(const char *s, const char *list)
{
	return glob_list(s, list, 1);
}

int match_list_only_negated(const char *list)
{
	struct list_entry e;
	int any = 0;
	while (list && list_next(&list, &e)) {
		if (e.n == 0)
			continue;
		if (!e.negated)
			return 0;
		any = 1;
	}
	return any;
}

int match_group_list(const char *const *groups, const char *list)
{
	int found = 0;

	if (groups == NULL)
		return 0;
	for (; *groups; groups++) {
		int r = match_pattern_list(*groups, list);
		if (r < 0)
			return 0;
		if (r > 0)
			found = 1;
	}
	return found;
}

/* -------------------------------------------------------------- addresses */

/* An address as family + 16 bytes (IPv4 in the first 4). */
struct net_addr {
	int af;
	unsigned char b[16];
};

static const unsigned char v4mapped_prefix[12] =
	{ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

static int is_v4mapped(const struct net_addr *a)
{
	return a->af == AF_INET6 && memcmp(a->b, v4mapped_prefix, 12) == 0;
}

static void unmap_v4(struct net_addr *a)
{
	memmove(a->b, a->b + 12, 4);
	memset(a->b + 4, 0, 12);
	a->af = AF_INET;
}

/* Numeric address text; a v4-mapped IPv6 address becomes its IPv4 one. */
static int parse_addr(const char *s, struct net_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, a->b) == 1)
		a->af = AF_INET;
	else if (inet_pton(AF_INET6, s, a->b) == 1)
		a->af = AF_INET6;
	else
		return -1;
	if (is_v4mapped(a))
		unmap_v4(a);
	return 0;
}

/* Prefix length text [p, p+n): 1 to 3 digits, at most maxbits. */
static int parse_bits(const char *p, size_t n, int maxbits)
{
	int bits = 0;

	if (n == 0 || n > 3)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!a_digit((unsigned char)p[i]))
			return -1;
		bits = bits * 10 + (p[i] - '0');
	}
	return bits <= maxbits ? bits : -1;
}

/* "net/bits" in [p, p+n) -> network and prefix length; -1 if malformed.
 * A v4-mapped network with a prefix covering the mapping (::ffff:a.b.c.d/96+)
 * becomes the IPv4 network, matching how addresses are compared. */
static int parse_cidr(const char *p, size_t n, struct net_addr *net, int *bits)
{
	char text[INET6_ADDRSTRLEN];
	const char *slash = memchr(p, '/', n);
	size_t netlen;

	if (slash == NULL)
		return -1;
	netlen = (size_t)(slash - p);
	if (netlen == 0 || netlen >= sizeof(text))
		return -1;
	memcpy(text, p, netlen);
	text[netlen] = '\0';
	memset(net, 0, sizeof(*net));
	if (inet_pton(AF_INET, text, net->b) == 1)
		net->af = AF_INET;
	else if (inet_pton(AF_INET6, text, net->b) == 1)
		net->af = AF_INET6;
	else
		return -1;
	*bits = parse_bits(slash + 1, n - netlen - 1, net->af == AF_INET ? 32 : 128);
	if (*bits < 0)
		return -1;
	if (is_v4mapped(net) && *bits >= 96) {
		unmap_v4(net);
		*bits -= 96;
	}
	return 0;
}

static int cidr_contains(const struct net_addr *net, int bits, const struct net_addr *a)
{
	int whole = bits / 8, rest = bits % 8;

	if (net->af != a->af || memcmp(net->b, a->b, (size_t)whole) != 0)
		return 0;
	if (rest) {
		unsigned char mask = (unsigned char)(0xff << (8 - rest));
		if ((net->b[whole] & mask) != (a->b[whole] & mask))
			return 0;
	}
	return 1;
}

/* An entry is well-formed unless it is a bare '!' or a bad CIDR block. */
static int addr_entry_valid(const struct list_entry *e)
{
	struct net_addr net;
	int bits;

	if (e->n == 0)
		return !e->negated;
	if (memchr(e->p, '/', e->n) == NULL)
		return 1;
	return parse_cidr(e->p, e->n, &net, &bits) == 0;
}

int match_addr_list(const char *addr, const char *list)
{
	struct net_addr a, net;
	struct list_entry e;
	int numeric, found = 0, bits, m;

	if (addr == NULL || list == NULL)
		return 0;
	numeric = parse_addr(addr, &a) == 0;
	while (list_next(&list, &e)) {
		if (e.n == 0)
			continue;
		if (memchr(e.p, '/', e.n) != NULL) {
			if (parse_cidr(e.p, e.n, &net, &bits) < 0)
				return -1;
			m = numeric && cidr_contains(&net, bits, &a);
		} else {
			m = glob_match_n(addr, e.p, e.n, 1);
		}
		if (!m)
			continue;
		if (e.negated)
			return -1;
		found = 1;
	}
	return found;
}

int match_addr_list_valid(const char *list, char *bad, size_t badsz)
{
	struct list_entry e;

	if (list == NULL)
		return -1;
	while (list_next(&list, &e)) {
		if (addr_entry_valid(&e))
			continue;
		if (bad && badsz)
			snprintf(bad, badsz, "%s%.*s", e.negated ? "!" : "", (int)e.n, e.p);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------- user@host */

int match_user_entry(const char *user, const char *addr, const char *host,
		     const char *entry)
{
	const char *at;
	int by_addr, by_host;

	if (user == NULL || entry == NULL)
		return 0;
	at = strchr(entry, '@');
	if (at == NULL)
		return match_pattern(user, entry);
	if (!glob_match_n(user, entry, (size_t)(at - entry), 0))
		return 0;
	by_addr = match_addr_list(addr, at + 1);
	by_host = host ? match_hostname_list(host, at + 1) : 0;
	if (by_addr < 0 || by_host < 0)
		return 0;
	return by_addr == 1 || by_host == 1;
}

/* ---------------------------------------------------- socket addresses */

int sockaddr_text(const struct sockaddr_storage *ss, char *addr, size_t asz)
{
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
	if (ss->ss_family == AF_INET)
		inet_ntop(AF_INET, &s4->sin_addr, addr, (socklen_t)asz);
	else if (ss->ss_family == AF_INET6)
		inet_ntop(AF_INET6, &s6->sin6_addr, addr, (socklen_t)asz);
	else
		return 0;
	return ntohs(s4->sin_port);   /* sin6_port is at the same place */
}
_Static_assert(offsetof(struct sockaddr_in, sin_port) == offsetof(struct sockaddr_in6, sin6_port),
	       "the port of either family is read at one offset");
