/* auth: ssh-userauth (RFC 4252): none, publickey (with the PK_OK query),
 * password; MaxAuthTries; who may log in at all. */
#ifndef WOMBAT_AUTH_H
#define WOMBAT_AUTH_H

#include <pwd.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "authfile.h"
#include "config.h"

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

/* ---- the privileged decisions: the monitor's side of privilege
 * separation (monitor.h), or called in-process when there is no monitor.
 * They log what they decide. ---- */

/* The first request's user: look it up, apply Match to c's configuration,
 * decide whether it may log in at all (a->user_known, a->user_usable).
 * groups[65] receives the group names (malloc'd, *n_groups of them). -1: a
 * Match block could not be applied. */
int auth_priv_user(struct auth *a, struct conn *c, const char *user, const char *service,
		   const char **groups, int *n_groups);
/* publickey: without a signature, 1 if the key would be accepted; with
 * one, 1 if it verifies over sid (the session id) and the key's line lets
 * the user in (a->opts kept). 0 otherwise. */
int auth_priv_pubkey(struct auth *a, struct conn *c, const char *alg, const uint8_t *blob,
		     size_t blobl, int has_sig, const uint8_t *sig, size_t sigl,
		     const uint8_t *sid, size_t sidl);
/* password: 1 if it is the user's and the configuration allows it. */
int auth_priv_password(struct auth *a, struct conn *c, int change, const char *password);
/* The Banner file's text (malloc'd, NULL for none or unreadable; logged). */
int auth_banner_text(const struct config *cfg, char **text, size_t *len);

/* The failure delay for a user, in microseconds: 5 to 9 ms, fixed per user
 * name for this connection (keyed with delay_secret), so an unknown user
 * is answered no faster than a real one. Exposed for the unit test. */
long auth_failure_delay_us(const struct auth *a, const char *user);

/* The names of the user's groups (primary and supplementary), malloc'd,
 * NULL-terminated in out[max + 1]; returns the count. */
int user_group_names(const struct passwd *pw, const char **out, int max);
void user_group_names_free(const char **names, int n);

#endif
