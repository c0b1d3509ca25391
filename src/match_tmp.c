/* TEMPORARY until the match branch lands. */
#include <string.h>
#include "match.h"
int match_user_entry(const char *user, const char *addr, const char *host, const char *entry)
{
	(void)host;
	char u[256];
	const char *at = strchr(entry, '@');
	if (!at)
		return match_pattern(user, entry) == 1;
	if ((size_t)(at - entry) >= sizeof u)
		return 0;
	memcpy(u, entry, (size_t)(at - entry));
	u[at - entry] = 0;
	return match_pattern(user, u) == 1 && match_addr_list(addr, at + 1) == 1;
}
