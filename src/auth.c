/* auth: the ssh-userauth service. */
#include "auth.h"

#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conn.h"
#include "crypto.h"
#include "hostkey.h"
#include "log.h"

void auth_init(struct auth *a)
{
	memset(a, 0, sizeof(*a));
}

void auth_free(struct auth *a)
{
	if (a->have_opts)
		authkey_opts_free(&a->opts);
	a->have_opts = 0;
}

static void send_failure(struct conn *c, const struct config *cfg)
{
	char methods[64] = "";
	if (cfg->pubkey_authentication)
		strcat(methods, "publickey");
	if (cfg->password_authentication)
		strcat(methods, methods[0] ? ",password" : "password");
	buf_t *b = conn_pkt_start(c, SSH_MSG_USERAUTH_FAILURE);
	buf_put_cstring(b, methods);
	buf_put_bool(b, 0);
	conn_pkt_send(c);
}

int user_group_names(const struct passwd *pw, const char **out, int max)
{
	gid_t gids[256];
	int ngids = 256, n = 0;
	if (getgrouplist(pw->pw_name, pw->pw_gid, gids, &ngids) < 0)
		ngids = 0;
	for (int i = 0; i < ngids && n < max; i++) {
		struct group *g = getgrgid(gids[i]);
		if (g && (out[n] = strdup(g->gr_name)) != NULL)
			n++;
	}
	out[n] = NULL;
	return n;
}

void user_group_names_free(const char **names, int n)
{
	for (int i = 0; i < n; i++)
		free((char *)names[i]);
}

static int in_group_list(const struct passwd *pw, char *const *pats, int n)
{
	const char *names[65];
	int ng = user_group_names(pw, names, 64), found = 0;
	for (int g = 0; g < ng && !found; g++)
		for (int i = 0; i < n && !found; i++)
			found = match_pattern_list(names[g], pats[i]) == 1;
	user_group_names_free(names, ng);
	return found;
}

static int in_user_list(const char *user, char *const *pats, int n)
{
	for (int i = 0; i < n; i++)
		if (match_pattern_list(user, pats[i]) == 1)
			return 1;
	return 0;
}

/* May this account log in at all (before any credential is checked)?
 * Writes the reason into why when not. */
static int user_allowed(const struct config *cfg, const struct passwd *pw,
			char *why, size_t whysz)
{
	uid_t me = getuid();
	if (me != 0 && pw->pw_uid != me) {
		snprintf(why, whysz, "server runs as uid %u and only lets that user in",
			 (unsigned)me);
		return 0;
	}
	if (pw->pw_uid == 0 && cfg->permit_root_login == PERMIT_ROOT_NO) {
		snprintf(why, whysz, "root login refused by PermitRootLogin");
		return 0;
	}
	if (cfg->n_deny_users && in_user_list(pw->pw_name, cfg->deny_users, cfg->n_deny_users)) {
		snprintf(why, whysz, "listed in DenyUsers");
		return 0;
	}
	if (cfg->n_allow_users && !in_user_list(pw->pw_name, cfg->allow_users, cfg->n_allow_users)) {
		snprintf(why, whysz, "not listed in AllowUsers");
		return 0;
	}
	if (cfg->n_deny_groups && in_group_list(pw, cfg->deny_groups, cfg->n_deny_groups)) {
		snprintf(why, whysz, "a group is listed in DenyGroups");
		return 0;
	}
	if (cfg->n_allow_groups && !in_group_list(pw, cfg->allow_groups, cfg->n_allow_groups)) {
		snprintf(why, whysz, "no group listed in AllowGroups");
		return 0;
	}
	return 1;
}

/* Look the key up in every AuthorizedKeysFile; 1 found (opts filled). */
static int find_authorized_key(struct auth *a, struct conn *c, const struct passwd *pw,
			       const struct sshkey *key, struct authkey_opts *opts)
{
	const struct config *cfg = conn_config(c);
	for (int i = 0; i < cfg->n_authorized_keys_files; i++) {
		char path[1024], why[256] = "";
		if (strcmp(cfg->authorized_keys_files[i], "none") == 0)
			continue;
		if (authkeys_expand(cfg->authorized_keys_files[i], pw, path, sizeof(path)) < 0)
			continue;
		memset(opts, 0, sizeof(*opts));
		int rc = authkeys_find(path, pw, cfg->strict_modes, key, opts, why, sizeof(why));
		if (why[0])
			logit("%s: %s", path, why);
		if (rc != 1) {
			authkey_opts_free(opts);
			continue;
		}
		if (opts->from && match_addr_list(conn_peer_addr(c), opts->from) != 1) {
			logit("Authentication refused for %s: key's from=\"%s\" does not match %s",
			      a->user, opts->from, conn_peer_addr(c));
			authkey_opts_free(opts);
			continue;
		}
		return 1;
	}
	return 0;
}

/* "ED25519 SHA256:..." / "ECDSA SHA256:..." / "RSA SHA256:...", the way
 * sshd's log lines name keys, so log watchers written for sshd still match. */
static void describe_key(struct auth *a, const struct sshkey *key)
{
	static const char *const names[] = {
		[KEY_ED25519] = "ED25519", [KEY_ECDSA_P256] = "ECDSA",
		[KEY_ECDSA_P384] = "ECDSA", [KEY_ECDSA_P521] = "ECDSA", [KEY_RSA] = "RSA",
	};
	char fp[128];
	key_fingerprint(key, fp, sizeof(fp));
	snprintf(a->key_desc, sizeof(a->key_desc), "%s %s", names[key_get_type(key)], fp);
}

/* publickey: 1 authenticated, 0 failed, 2 answered a query (PK_OK). */
static int try_publickey(struct auth *a, struct conn *c, rd_t *r, const struct passwd *pw,
			 const char *service, const uint8_t *sid, size_t sidl)
{
	const struct config *cfg = conn_config(c);
	int has_sig;
	char alg[64];
	const uint8_t *blob, *sig = NULL;
	size_t blobl, sigl = 0;
	rd_bool(r, &has_sig);
	rd_cstring(r, alg, sizeof(alg));
	rd_string(r, &blob, &blobl);
	if (has_sig)
		rd_string(r, &sig, &sigl);
	if (rd_end(r) < 0)
		return -1;
	if (!cfg->pubkey_authentication || !pw)
		return 0;
	struct sshkey *key = NULL;
	if (key_from_blob(blob, blobl, &key) < 0) {
		logit("publickey for %s: unparseable or unsupported key blob (%s)", a->user, alg);
		return 0;
	}
	int result = 0;
	struct authkey_opts opts;
	memset(&opts, 0, sizeof(opts));
	describe_key(a, key);
	if (!key_sigalg_ok(key, alg)) {
		logit("publickey for %s: signature algorithm %s refused for %s key",
		      a->user, alg, key_type_name(key));
		goto out;
	}
	if (!find_authorized_key(a, c, pw, key, &opts))
		goto out;
	if (!has_sig) {
		buf_t *b = conn_pkt_start(c, SSH_MSG_USERAUTH_PK_OK);
		buf_put_cstring(b, alg);
		buf_put_string(b, blob, blobl);
		conn_pkt_send(c);
		result = 2;
		goto out;
	}
	buf_t signed_data;
	buf_init(&signed_data, 1024, 64 * 1024);
	buf_put_string(&signed_data, sid, sidl);
	buf_put_u8(&signed_data, SSH_MSG_USERAUTH_REQUEST);
	buf_put_cstring(&signed_data, a->user);
	buf_put_cstring(&signed_data, service);
	buf_put_cstring(&signed_data, "publickey");
	buf_put_bool(&signed_data, 1);
	buf_put_cstring(&signed_data, alg);
	buf_put_string(&signed_data, blob, blobl);
	int ok = key_verify(key, alg, sig, sigl, buf_data(&signed_data),
			    buf_used(&signed_data)) == 0;
	buf_free(&signed_data);
	if (!ok) {
		logit("publickey for %s: bad signature (%s)", a->user, a->key_desc);
		goto out;
	}
	if (pw->pw_uid == 0 && cfg->permit_root_login == PERMIT_ROOT_FORCED_COMMANDS_ONLY &&
	    !opts.command) {
		logit("root login refused: PermitRootLogin forced-commands-only and no command=");
		goto out;
	}
	if (opts.expiry && opts.expiry < time(NULL)) {
		logit("publickey for %s: key expired", a->user);
		goto out;
	}
	a->opts = opts;
	a->have_opts = 1;
	result = 1;
out:
	if (result != 1)
		authkey_opts_free(&opts);
	key_free(key);
	return result;
}

static int try_password(struct auth *a, struct conn *c, rd_t *r, const struct passwd *pw)
{
	const struct config *cfg = conn_config(c);
	int change;
	char password[1024];
	rd_bool(r, &change);
	if (rd_cstring(r, password, sizeof(password)) < 0 || rd_end(r) < 0)
		return -1;
	int ok = 0;
	if (cfg->password_authentication && pw && !change &&
	    !(pw->pw_uid == 0 && cfg->permit_root_login != PERMIT_ROOT_YES) &&
	    (password[0] || cfg->permit_empty_passwords))
		ok = auth_check_password(pw, password) == 0;
	wipe(password, sizeof(password));
	snprintf(a->key_desc, sizeof(a->key_desc), "password");
	return ok;
}

static void remember_user(struct auth *a, const struct passwd *pw)
{
	snprintf(a->pw_name, sizeof(a->pw_name), "%s", pw->pw_name);
	snprintf(a->pw_dir, sizeof(a->pw_dir), "%s", pw->pw_dir);
	snprintf(a->pw_shell, sizeof(a->pw_shell), "%s",
		 pw->pw_shell && pw->pw_shell[0] ? pw->pw_shell : "/bin/sh");
	a->pw = *pw;
	a->pw.pw_name = a->pw_name;
	a->pw.pw_dir = a->pw_dir;
	a->pw.pw_shell = a->pw_shell;
	a->pw.pw_passwd = (char *)"x";
	a->pw.pw_gecos = (char *)"";
}

/* Banner: the file's text as SSH_MSG_USERAUTH_BANNER (RFC 4252 s5.4),
 * once, in answer to the first userauth request — before any success. */
#define BANNER_MAX (64 * 1024)
static void send_banner(struct conn *c, const struct config *cfg)
{
	if (!cfg->banner)
		return;
	FILE *f = fopen(cfg->banner, "r");
	if (!f) {
		logit("Banner %s: %s", cfg->banner, strerror(errno));
		return;
	}
	char *text = malloc(BANNER_MAX);
	size_t n = text ? fread(text, 1, BANNER_MAX, f) : 0;
	fclose(f);
	if (n > 0) {
		buf_t *b = conn_pkt_start(c, SSH_MSG_USERAUTH_BANNER);
		buf_put_string(b, text, n);
		buf_put_cstring(b, "");
		conn_pkt_send(c);
	}
	free(text);
}

int auth_handle(struct auth *a, struct conn *c, const uint8_t *payload, size_t len,
		const uint8_t *sid, size_t sidl)
{
	const struct config *cfg = conn_config(c);
	rd_t r;
	char user[64], service[64], method[32];
	rd_init(&r, payload, len);
	if (rd_cstring(&r, user, sizeof(user)) < 0 || rd_cstring(&r, service, sizeof(service)) < 0 ||
	    rd_cstring(&r, method, sizeof(method)) < 0) {
		conn_disconnect(c, SSH_DISCONNECT_PROTOCOL_ERROR, "malformed userauth request");
		return -1;
	}
	if (strcmp(service, "ssh-connection") != 0) {
		conn_disconnect(c, SSH_DISCONNECT_SERVICE_NOT_AVAILABLE,
				"userauth for unknown service \"%s\"", service);
		return -1;
	}
	if (a->attempts && strcmp(a->user, user) != 0) {
		conn_disconnect(c, SSH_DISCONNECT_PROTOCOL_ERROR,
				"change of user name during authentication (%s -> %s)", a->user, user);
		return -1;
	}
	a->attempts++;
	snprintf(a->user, sizeof(a->user), "%s", user);
	if (a->attempts == 1)
		send_banner(c, cfg);

	struct passwd *pw = getpwnam(user);
	char why[160] = "";
	if (!pw) {
		if (a->attempts == 1)
			logit("Invalid user %s from %s port %d", user, conn_peer_addr(c), conn_peer_port(c));
	} else if (!user_allowed(cfg, pw, why, sizeof(why))) {
		if (a->attempts == 1)
			logit("User %s from %s not allowed: %s", user, conn_peer_addr(c), why);
		pw = NULL;
	}

	int result = 0;
	if (strcmp(method, "none") == 0) {
		send_failure(c, cfg);
		return 0;
	} else if (strcmp(method, "publickey") == 0) {
		result = try_publickey(a, c, &r, pw, service, sid, sidl);
	} else if (strcmp(method, "password") == 0) {
		result = try_password(a, c, &r, pw);
	}
	if (result < 0) {
		conn_disconnect(c, SSH_DISCONNECT_PROTOCOL_ERROR,
				"malformed %s userauth request", method);
		return -1;
	}
	if (result == 2)
		return 0;
	if (result == 1) {
		remember_user(a, pw);
		snprintf(a->method, sizeof(a->method), "%s", method);
		a->success = 1;
		logit("Accepted %s for %s from %s port %d ssh2%s%s", method, user,
		      conn_peer_addr(c), conn_peer_port(c),
		      strcmp(method, "publickey") == 0 ? ": " : "",
		      strcmp(method, "publickey") == 0 ? a->key_desc : "");
		conn_pkt_start(c, SSH_MSG_USERAUTH_SUCCESS);
		conn_pkt_send(c);
		return 0;
	}
	a->failures++;
	logit("Failed %s for %s%s from %s port %d ssh2%s%s", method, pw ? "" : "invalid user ",
	      user, conn_peer_addr(c), conn_peer_port(c),
	      strcmp(method, "publickey") == 0 && a->key_desc[0] ? ": " : "",
	      strcmp(method, "publickey") == 0 ? a->key_desc : "");
	if (a->failures >= cfg->max_auth_tries) {
		conn_disconnect(c, SSH_DISCONNECT_NO_MORE_AUTH_METHODS_AVAILABLE,
				"Too many authentication failures for %s (MaxAuthTries %d)",
				user, cfg->max_auth_tries);
		return -1;
	}
	send_failure(c, cfg);
	return 0;
}
