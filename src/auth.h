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
	int attempts;
	char user[64];                /* the user name of the current attempt */
	struct passwd pw;             /* valid once success */
	char pw_name[64], pw_dir[512], pw_shell[256];
	struct authkey_opts opts;     /* from the matching authorized_keys line */
	int have_opts;
	char method[32];              /* what let the user in */
	char key_desc[160];           /* "ED25519 SHA256:..." */
};

void auth_init(struct auth *a);
void auth_free(struct auth *a);
/* One SSH_MSG_USERAUTH_REQUEST (payload after the type byte). Replies are
 * sent here. Returns 0, or -1 when the connection must end (already asked
 * to disconnect). */
int auth_handle(struct auth *a, struct conn *c, const uint8_t *payload, size_t len,
		const uint8_t *session_id, size_t sid_len);

/* The names of the user's groups (primary and supplementary), malloc'd,
 * NULL-terminated in out[max + 1]; returns the count. */
int user_group_names(const struct passwd *pw, const char **out, int max);
void user_group_names_free(const char **names, int n);

#endif
