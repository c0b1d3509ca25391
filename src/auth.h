/* auth: ssh-userauth (RFC 4252): none, publickey (with the PK_OK query),
 * password; MaxAuthTries; who may log in at all. */
#ifndef WOMBAT_AUTH_H
#define WOMBAT_AUTH_H

#include <pwd.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "authfile.h"

struct conn;

struct auth {
	int success;
	int failures;                 /* counted against MaxAuthTries */
	int attempts;                 /* userauth requests seen */
	int none_requests;            /* "none" requests (only the first is free) */
	int pk_ok_answers;            /* key queries answered with PK_OK */
	char user[64];                /* the user name of the first request */
	char service[64];             /* and its service */
	int user_known;               /* the account exists */
	int user_usable;              /* exists and no rule refuses it */
	struct passwd pw;             /* the account, valid once user_known */
	char pw_name[64], pw_dir[512], pw_shell[256];
	struct authkey_opts opts;     /* from the matching authorized_keys line */
	int have_opts;
	char method[32];              /* what let the user in */
	char key_desc[160];           /* "ED25519 SHA256:..." */
	unsigned char delay_secret[32]; /* keys the per-user failure delay */
};

void auth_init(struct auth *a);
void auth_free(struct auth *a);
/* One SSH_MSG_USERAUTH_REQUEST (payload after the type byte). Replies are
 * sent here. The first request names the user: the account is looked up
 * and the connection's Match blocks applied (conn_apply_match) before
 * anything is decided, so every option decides with its Match value.
 * Returns 0, or -1 when the connection must end (already asked to
 * disconnect). */
int auth_handle(struct auth *a, struct conn *c, const uint8_t *payload, size_t len,
		const uint8_t *session_id, size_t sid_len);

/* The failure delay for a user, in microseconds: 5 to 9 ms, fixed per user
 * name for this connection (keyed with delay_secret), so an unknown user
 * is answered no faster than a real one. Exposed for the unit test. */
long auth_failure_delay_us(const struct auth *a, const char *user);

/* The names of the user's groups (primary and supplementary), malloc'd,
 * NULL-terminated in out[max + 1]; returns the count. */
int user_group_names(const struct passwd *pw, const char **out, int max);
void user_group_names_free(const char **names, int n);

#endif
