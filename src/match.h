/* TEMPORARY until the match branch lands: the pattern API lead code uses. */
#ifndef WOMBAT_MATCH_H
#define WOMBAT_MATCH_H
#include "authfile.h"
int match_user_entry(const char *user, const char *addr, const char *host, const char *entry);
#endif
