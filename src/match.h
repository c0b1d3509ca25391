/* match: the one pattern matcher behind Match, AllowUsers/DenyUsers,
 * AllowGroups/DenyGroups, authorized_keys from=, AcceptEnv and friends, so
 * that they can never disagree about what a pattern means.
 *
 * Patterns: '*' matches any run of characters, '?' any one character.
 * Lists: comma-separated entries, blanks around an entry ignored, empty
 * entries skipped; an entry starting with '!' is negated, and a negated entry
 * that matches decides the whole list (-1). */
#ifndef WOMBAT_MATCH_H
#define WOMBAT_MATCH_H

#include <stddef.h>

/* 1 match, 0 no match. Case-sensitive. */
int match_pattern(const char *s, const char *pattern);

/* 1 a positive entry matched, 0 none, -1 a negated entry matched. */
int match_pattern_list(const char *s, const char *list);   /* case-sensitive */
int match_hostname_list(const char *s, const char *list);  /* case-insensitive */

/* Entries with '/' are CIDR blocks (a.b.c.d/nn or v6/nn); others are
 * case-insensitive globs on the address text. A v4-mapped IPv6 address
 * (::ffff:a.b.c.d) is compared as the IPv4 address it carries. A malformed
 * CIDR entry makes the whole list deny (-1), so a typo never widens access. */
int match_addr_list(const char *addr, const char *list);
/* 0 if every entry of an address list is well-formed; otherwise -1 with the
 * first bad entry copied (trimmed, NUL-terminated) into bad. */
int match_addr_list_valid(const char *list, char *bad, size_t badsz);

/* groups is NULL-terminated. 1 if some group matches a positive entry and no
 * group matches a negated entry; else 0. */
int match_group_list(const char *const *groups, const char *list);
/* 1 if the list has entries and every one is negated ("!a,!b"). */
int match_list_only_negated(const char *list);

/* One AllowUsers/DenyUsers entry: "USER" or "USER@HOST". USER is a glob on
 * the user name; HOST is matched as an address list (CIDR or glob) against
 * addr and, when host is not NULL, as a case-insensitive glob list against
 * the host name; a negated or malformed HOST entry hitting either makes the
 * entry not match. 1 if the entry matches this user from this client. */
int match_user_entry(const char *user, const char *addr, const char *host,
		     const char *entry);

/* The address of an AF_INET/AF_INET6 socket address as text into addr;
 * returns its port (0, addr untouched, for another family). For conn.c
 * and forward.c. */
struct sockaddr_storage;
int sockaddr_text(const struct sockaddr_storage *ss, char *addr, size_t asz);

#endif
