/* authfile: the files behind ssh-userauth: passwords (shadow + crypt(3)) and
 * authorized_keys (sshd(8) AUTHORIZED_KEYS FILE FORMAT, with options). */
#ifndef WOMBAT_AUTHFILE_H
#define WOMBAT_AUTHFILE_H

#include <pwd.h>
#include <time.h>
#include "hostkey.h"
#include "match.h"  /* callers of match_pattern & co. that include only this */

/* 0 if password matches the user's hash (shadow, else passwd); -1 otherwise
 * (locked/empty/unknown hashes never match). */
int auth_check_password(const struct passwd *pw, const char *password);

/* Expand %h (home), %u (user), %% in an AuthorizedKeysFile entry; a relative
 * result is taken from the user's home. */
int authkeys_expand(const char *spec, const struct passwd *pw, char *out, size_t outsz);

#define AUTHKEY_MAX_LIST 16
struct authkey_opts {
	char *command;                    /* command="..." */
	char *from;                       /* from="pattern-list" */
	char *environment[AUTHKEY_MAX_LIST];
	int n_environment;
	char *permitopen[AUTHKEY_MAX_LIST];
	int n_permitopen;
	char *permitlisten[AUTHKEY_MAX_LIST];  /* "[host:]port" */
	int n_permitlisten;
	time_t expiry;                    /* 0 = none */
	int no_pty, no_port_forwarding, no_agent_forwarding, no_x11_forwarding,
	    no_user_rc;
	int restrict_;                    /* "restrict" seen (implies the no-*) */
	int pty, port_forwarding;         /* explicit re-enables after restrict */
};
void authkey_opts_free(struct authkey_opts *o);

/* Search one authorized_keys file for `key`. Returns 1 and fills *opts when a
 * line matches, 0 if not found, -1 if the file cannot be read or fails
 * StrictModes checks (reason written into why). Malformed lines are skipped
 * (and reported in why for the log). */
int authkeys_find(const char *path, const struct passwd *pw, int strict_modes,
		  const struct sshkey *key, struct authkey_opts *opts,
		  char *why, size_t whysz);

#endif
