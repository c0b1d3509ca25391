/* auth: the ssh-userauth service. */
#include "auth.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "account.h"
#include "alive.h"
#include "conn.h"
#include "crypto.h"
#include "hostkey.h"
#include "log.h"
#include "match.h"
#include "monitor.h"

/* Failure answers are held to 5..9 ms per user (OpenSSH holds them to a
 * similar per-user minimum), so timing does not tell users apart. */
#define AUTH_MIN_DELAY_US 5000
#define AUTH_DELAY_SPREAD_US 4000

void auth_init(struct auth *a)
{
	memset(a, 0, sizeof(*a));
	rand_bytes(a->delay_secret, sizeof(a->delay_secret));
}

void auth_free(struct auth *a)
{
	if (a->have_opts)
		authkey_opts_free(&a->opts);
	a->have_opts = 0;
	wipe(a->delay_secret, sizeof(a->delay_secret));
}

/* Methods the (Match-applied) configuration offers, for USERAUTH_FAILURE. */
static void send_failure(struct conn *c, const struct config *cfg)
{
	const char *methods = !cfg->pubkey_authentication ?
		(cfg->password_authentication ? "password" : "") :
		cfg->password_authentication ? "publickey,password" : "publickey";
	buf_t *b = conn_pkt_start(c, SSH_MSG_USERAUTH_FAILURE);
	buf_put_cstring(b, methods);
	buf_put_bool(b, 0);
	conn_pkt_send(c);
}

/* ---- timing: every failure answer takes a per-user minimum ------------- */

long auth_failure_delay_us(const struct auth *a, const char *user)
{
	hash_ctx h;
	uint8_t digest[32];
	hash_init(&h, HASH_SHA256);
	hash_update(&h, a->delay_secret, sizeof(a->delay_secret));
	hash_update(&h, user, strlen(user));
	hash_final(&h, digest);
	uint32_t v = (uint32_t)digest[0] << 24 | (uint32_t)digest[1] << 16 |
		     (uint32_t)digest[2] << 8 | digest[3];
	return AUTH_MIN_DELAY_US + (long)(v % AUTH_DELAY_SPREAD_US);
}

/* Hold a failure answer until the user's delay has passed since the
 * request arrived; work that took longer doubles the target, so the
 * answer time says nothing finer than a power of two about the work. */
static void hold_failure(const struct auth *a, const char *user, int64_t start)
{
	int64_t target = auth_failure_delay_us(a, user);
	int64_t elapsed = alive_now_us() - start;
	while (target < elapsed)
		target *= 2;
	alive_sleep_us(target - elapsed);
}

/* Group names longer than this are not matched (none is, in practice). */
#define GROUP_NAME_MAX 256

/* In the child: the names, each NUL-terminated, down the pipe; 0 when
 * all were sent. */
static int write_group_names(int fd, const struct passwd *pw, int max)
{
	gid_t gids[256];
	int ngids = 256, n = 0;
	if (getgrouplist(pw->pw_name, pw->pw_gid, gids, &ngids) < 0)
		ngids = 0;
	for (int i = 0; i < ngids && n < max; i++) {
		struct group *g = getgrgid(gids[i]);
		size_t len = g ? strlen(g->gr_name) : 0;
		if (len == 0 || len >= GROUP_NAME_MAX)
			continue;
		if (write(fd, g->gr_name, len + 1) != (ssize_t)(len + 1))
			return -1;
		n++;
	}
	return 0;
}

/* Everything the child wrote, up to cap bytes; the length read. */
static size_t read_all(int fd, char *into, size_t cap)
{
	size_t got = 0;
	while (got < cap) {
		ssize_t r = read(fd, into + got, cap - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	return got;
}

/* The lookup runs in a short-lived child: walking every group source
 * makes glibc load each NSS module nsswitch.conf names (libnss_systemd with
 * libcap and libm, ~300 kB) into the process, and the monitor carries an
 * authenticated connection for as long as it lasts. -1 when the lookup
 * could not be made (callers refuse the user). */
int user_group_names(const struct passwd *pw, const char **out, int max)
{
	int n = 0, fds[2], status = 0;
	out[0] = NULL;
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		close(fds[0]);
		_exit(write_group_names(fds[1], pw, max) == 0 ? 0 : 1);
	}
	close(fds[1]);
	size_t cap = (size_t)max * GROUP_NAME_MAX;
	char *names = pid > 0 ? malloc(cap) : NULL;
	size_t len = names ? read_all(fds[0], names, cap) : 0;
	close(fds[0]);
	pid_t reaped = -1;
	while (pid > 0 && (reaped = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
		;
	/* only a child seen to exit 0 sent every name: a partial list could
	 * miss a DenyGroups match */
	if (!names || reaped != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		free(names);
		return -1;
	}
	for (size_t at = 0; at < len && n < max;) {
		const char *end = memchr(names + at, '\0', len - at);
		if (!end)
			break;          /* a name cut off by the size bound */
		if ((out[n] = strdup(names + at)) != NULL)
			n++;
		at = (size_t)(end - names) + 1;
	}
	out[n] = NULL;
	free(names);
	return n;
}

void user_group_names_free(const char **names, int n)
{
	for (int i = 0; i < n; i++)
		free((char *)names[i]);
}

/* The user's groups, looked up once per user and only when something
 * asks: a Match Group criterion, AllowGroups or DenyGroups. An ordinary
 * login needs none of them, and each lookup costs a process (above). */
struct user_groups {
	const char *names[65];
	int n;                /* -1: the lookup failed */
	int looked_up;
};

static __attribute__((noinline)) int user_groups_get(struct user_groups *ug, const struct passwd *pw)
{
	if (!ug->looked_up) {
		ug->n = user_group_names(pw, ug->names, 64);
		ug->looked_up = 1;
	}
	return ug->n;
}

static void user_groups_free(struct user_groups *ug)
{
	if (ug->looked_up && ug->n > 0)
		user_group_names_free(ug->names, ug->n);
	ug->n = 0;
	ug->looked_up = 0;
}

/* 1 if a group of the user matches, 0 if none does, -1 if the groups
 * could not be looked up. */
static int in_group_list(struct user_groups *ug, const struct passwd *pw, char *const *pats,
			 int n)
{
	int ng = user_groups_get(ug, pw), found = 0;
	if (ng < 0)
		return -1;
	for (int g = 0; g < ng && !found; g++)
		for (int i = 0; i < n && !found; i++)
			found = match_pattern_list(ug->names[g], pats[i]) == 1;
	return found;
}

/* AllowUsers/DenyUsers: each entry is USER or USER@HOST (HOST an address
 * pattern or CIDR block, matched against the client's address). */
static int in_user_list(struct conn *c, const char *user, char *const *entries, int n)
{
	for (int i = 0; i < n; i++)
		if (match_user_entry(user, conn_peer_addr(c), NULL, entries[i]) == 1)
			return 1;
	return 0;
}

/* May this account log in at all (before any credential is checked)?
 * Decided with the Match-applied configuration. Writes the reason into
 * why when not. */
static int user_allowed(struct conn *c, const struct config *cfg, const struct passwd *pw,
			struct user_groups *ug, char *why, size_t whysz)
{
	uid_t me = getuid();
	if (me != 0 && pw->pw_uid != me) {
		snprintf(why, whysz, "the server runs as uid %u and only lets that user in",
			 (unsigned)me);
		return 0;
	}
	if (!account_usable(pw, time(NULL), why, whysz))
		return 0;
	if (pw->pw_uid == 0 && cfg->permit_root_login == PERMIT_ROOT_NO) {
		snprintf(why, whysz, "root login is refused by PermitRootLogin no");
		return 0;
	}
	if (cfg->n_deny_users && in_user_list(c, pw->pw_name, cfg->deny_users, cfg->n_deny_users)) {
		snprintf(why, whysz, "listed in DenyUsers");
		return 0;
	}
	if (cfg->n_allow_users && !in_user_list(c, pw->pw_name, cfg->allow_users, cfg->n_allow_users)) {
		snprintf(why, whysz, "not listed in AllowUsers");
		return 0;
	}
	if (cfg->n_deny_groups && in_group_list(ug, pw, cfg->deny_groups, cfg->n_deny_groups) != 0) {
		snprintf(why, whysz, "a group is listed in DenyGroups (or the groups are unknown)");
		return 0;
	}
	if (cfg->n_allow_groups &&
	    in_group_list(ug, pw, cfg->allow_groups, cfg->n_allow_groups) != 1) {
		snprintf(why, whysz, "no group is listed in AllowGroups");
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
	/* the type, a space, then the fingerprint written after them */
	size_t n = (size_t)snprintf(a->key_desc, sizeof(a->key_desc), "%s ",
				    names[key_get_type(key)]);
	key_fingerprint(key, a->key_desc + n, sizeof(a->key_desc) - n);
}

static void send_pk_ok(struct conn *c, const char *alg, const uint8_t *blob, size_t blobl)
{
	buf_t *b = conn_pkt_start(c, SSH_MSG_USERAUTH_PK_OK);
	buf_put_cstring(b, alg);
	buf_put_string(b, blob, blobl);
	conn_pkt_send(c);
}

/* The signature of a publickey request (RFC 4252 s7) is over this. */
static int verify_request_signature(struct auth *a, const struct sshkey *key, const char *alg,
				    const uint8_t *blob, size_t blobl, const uint8_t *sig,
				    size_t sigl, const uint8_t *sid, size_t sidl)
{
	buf_t signed_data;
	buf_init(&signed_data, 1024, 64 * 1024);
	buf_put_string(&signed_data, sid, sidl);
	buf_put_u8(&signed_data, SSH_MSG_USERAUTH_REQUEST);
	buf_put_cstring(&signed_data, a->user);
	buf_put_cstring(&signed_data, a->service);
	buf_put_cstring(&signed_data, "publickey");
	buf_put_bool(&signed_data, 1);
	buf_put_cstring(&signed_data, alg);
	buf_put_string(&signed_data, blob, blobl);
	int ok = key_verify(key, alg, sig, sigl, buf_data(&signed_data),
			    buf_used(&signed_data)) == 0;
	buf_free(&signed_data);
	return ok;
}

/* What the configuration and the key's line say once the signature is
 * good: 1 the user is in, 0 refused (logged). */
static int key_login_allowed(struct auth *a, const struct config *cfg,
			     const struct authkey_opts *opts)
{
	if (a->pw.pw_uid == 0 && cfg->permit_root_login == PERMIT_ROOT_FORCED_COMMANDS_ONLY &&
	    !opts->command) {
		logit("root login refused: PermitRootLogin forced-commands-only and no command=");
		return 0;
	}
	if (opts->expiry && opts->expiry < time(NULL)) {
		logit("publickey for %s: key expired", a->user);
		return 0;
	}
	return 1;
}

int auth_priv_pubkey(struct auth *a, struct conn *c, const char *alg, const uint8_t *blob,
		     size_t blobl, int has_sig, const uint8_t *sig, size_t sigl,
		     const uint8_t *sid, size_t sidl)
{
	const struct config *cfg = conn_config(c);
	if (!cfg->pubkey_authentication)
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
	if (!key_verify_alg_ok(key, alg)) {
		logit("publickey for %s: signature algorithm %s refused for %s key",
		      a->user, alg, key_type_name(key));
		goto out;
	}
	const char *accepted = cfg->pubkey_accepted_algorithms;
	if (!namelist_has((const uint8_t *)accepted, strlen(accepted), alg)) {
		logit("publickey for %s: %s is not in PubkeyAcceptedAlgorithms", a->user, alg);
		goto out;
	}
	if (!a->user_usable || !find_authorized_key(a, c, &a->pw, key, &opts))
		goto out;
	if (!has_sig) {
		result = 1;
		goto out;
	}
	if (!verify_request_signature(a, key, alg, blob, blobl, sig, sigl, sid, sidl)) {
		logit("publickey for %s: bad signature (%s)", a->user, a->key_desc);
		goto out;
	}
	debug("publickey for %s: %s signature verified", a->user, alg);
	if (!key_login_allowed(a, cfg, &opts))
		goto out;
	if (a->have_opts)
		authkey_opts_free(&a->opts);
	a->opts = opts;
	a->have_opts = 1;
	result = 1;
out:
	if (result != 1 || !has_sig)
		authkey_opts_free(&opts);
	key_free(key);
	return result;
}

/* The decision, by the monitor when there is one. */
static int decide_pubkey(struct auth *a, struct conn *c, const char *alg, const uint8_t *blob,
			 size_t blobl, int has_sig, const uint8_t *sig, size_t sigl,
			 const uint8_t *sid, size_t sidl)
{
	if (!mon_active())
		return auth_priv_pubkey(a, c, alg, blob, blobl, has_sig, sig, sigl, sid, sidl);
	struct sshkey *key = NULL;
	if (key_from_blob(blob, blobl, &key) == 0) {
		describe_key(a, key);     /* for this side's log lines */
		key_free(key);
	}
	int r = mon_pubkey(alg, blob, blobl, sig, sigl, has_sig);
	return r < 0 ? -2 : r;
}

/* publickey: 1 authenticated, 0 failed, 2 answered a query (PK_OK), -1
 * malformed, -2 the monitor is gone. An unknown or refused user goes
 * through the same steps with no key file read. */
static int try_publickey(struct auth *a, struct conn *c, rd_t *r, const uint8_t *sid, size_t sidl)
{
	const struct config *cfg = conn_config(c);
	int has_sig = rd_bool_value(r);
	char alg[64];
	const uint8_t *blob, *sig = NULL;
	size_t blobl, sigl = 0;
	rd_cstring(r, alg, sizeof(alg));
	rd_string(r, &blob, &blobl);
	if (has_sig)
		rd_string(r, &sig, &sigl);
	if (rd_end(r) < 0)
		return -1;
	if (!cfg->pubkey_authentication)
		return 0;
	int ok = decide_pubkey(a, c, alg, blob, blobl, has_sig, sig, sigl, sid, sidl);
	if (ok != 1)
		return ok;
	if (has_sig)
		return 1;
	if (a->pk_ok_answers >= cfg->max_auth_tries) {
		logit("publickey for %s: more than %d key queries (MaxAuthTries)", a->user,
		      cfg->max_auth_tries);
		return 0;
	}
	a->pk_ok_answers++;
	send_pk_ok(c, alg, blob, blobl);
	return 2;
}

int auth_priv_password(struct auth *a, struct conn *c, int change, const char *password)
{
	const struct config *cfg = conn_config(c);
	int ok = 0;
	int may_try = cfg->password_authentication && a->user_usable && !change &&
		      !(a->pw.pw_uid == 0 && cfg->permit_root_login != PERMIT_ROOT_YES) &&
		      (password[0] || cfg->permit_empty_passwords);
	/* the entry itself, not a->pw: that copy does not keep pw_passwd */
	const struct passwd *entry = may_try ? getpwnam(a->pw_name) : NULL;
	if (entry)
		ok = auth_check_password(entry, password) == 0;
	else
		account_burn_password(password);
	return ok;
}

/* password: 1 authenticated, 0 failed, -1 malformed, -2 the monitor is
 * gone. Whoever asks, a crypt() runs: against the user's hash, or a dummy
 * of the same scheme. */
static int try_password(struct auth *a, struct conn *c, rd_t *r)
{
	int change = rd_bool_value(r);
	char password[1024];
	if (rd_cstring(r, password, sizeof(password)) < 0 || rd_end(r) < 0) {
		wipe(password, sizeof(password));
		return -1;
	}
	int ok;
	if (mon_active()) {
		ok = mon_password(change, password);
		if (ok < 0)
			ok = -2;
	} else {
		ok = auth_priv_password(a, c, change, password);
	}
	wipe(password, sizeof(password));
	snprintf(a->key_desc, sizeof(a->key_desc), "password");
	return ok;
}

static void remember_user(struct auth *a, const struct passwd *pw)
{
	str_copy(a->pw_name, sizeof(a->pw_name), pw->pw_name);
	str_copy(a->pw_dir, sizeof(a->pw_dir), pw->pw_dir);
	str_copy(a->pw_shell, sizeof(a->pw_shell),
		 pw->pw_shell && pw->pw_shell[0] ? pw->pw_shell : "/bin/sh");
	a->pw = *pw;
	a->pw.pw_name = a->pw_name;
	a->pw.pw_dir = a->pw_dir;
	a->pw.pw_shell = a->pw_shell;
	a->pw.pw_passwd = (char *)"x";
	a->pw.pw_gecos = (char *)"";
}

/* Banner: the file's text as SSH_MSG_USERAUTH_BANNER (RFC 4252 s5.4),
 * once, after Match, before any success. A file larger than one packet
 * goes as several messages, cut at line ends where it can; one larger
 * than BANNER_MAX is not sent at all (logged), never cut short. */
#define BANNER_MAX (256 * 1024)
#define BANNER_CHUNK (32 * 1024)
static void send_banner_text(struct conn *c, const char *text, size_t n)
{
	while (n > 0) {
		size_t take = n;
		if (take > BANNER_CHUNK) {
			/* cut after the chunk's last newline, if it has one */
			while (take > 0 && text[take - 1] != '\n')
				take--;
			if (take == 0)
				take = BANNER_CHUNK;
		}
		buf_t *b = conn_pkt_start(c, SSH_MSG_USERAUTH_BANNER);
		buf_put_string(b, text, take);
		buf_put_cstring(b, "");
		if (conn_pkt_send(c) < 0)
			return;
		text += take;
		n -= take;
	}
}

int auth_banner_text(const struct config *cfg, char **text, size_t *len)
{
	*text = NULL;
	*len = 0;
	if (!cfg->banner)
		return 0;
	int fd = open(cfg->banner, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		logit("Banner %s: %m", cfg->banner);
		if (fd >= 0)
			close(fd);
		return 0;
	}
	if (st.st_size > BANNER_MAX) {
		error("Banner %s: %lld bytes, more than the %d wombatd sends: not sent",
		      cfg->banner, (long long)st.st_size, BANNER_MAX);
		close(fd);
		return 0;
	}
	char *buf = malloc(BANNER_MAX);
	size_t n = 0;
	ssize_t got;
	while (buf && n < BANNER_MAX && (got = read(fd, buf + n, BANNER_MAX - n)) > 0)
		n += (size_t)got;
	close(fd);
	*text = buf;
	*len = buf ? n : 0;
	return 0;
}

static void send_banner(struct conn *c, const struct config *cfg)
{
	char *text;
	size_t n;
	auth_banner_text(cfg, &text, &n);
	if (text)
		send_banner_text(c, text, n);
	free(text);
}

int auth_priv_user(struct auth *a, struct conn *c, const char *user, const char *service,
		   const char **groups, int *n_groups)
{
	str_copy(a->user, sizeof(a->user), user);
	str_copy(a->service, sizeof(a->service), service);
	struct passwd *pw = getpwnam(user);
	struct user_groups ug = { .n = 0 };
	groups[0] = NULL;
	*n_groups = 0;
	if (pw) {
		remember_user(a, pw);
		a->user_known = 1;
	}
	/* Match Group needs the groups before Match; nothing else does */
	if (a->user_known && config_matches_on_group(conn_config(c)) &&
	    user_groups_get(&ug, &a->pw) < 0) {
		error("cannot look up the groups of %s", user);
		return -1;
	}
	if (conn_apply_match(c, user, a->user_known ? ug.names : NULL) < 0) {
		user_groups_free(&ug);
		return -1;
	}
	const struct config *cfg = conn_config(c);
	char why[256] = "";
	if (!a->user_known)
		logit("Invalid user %s from %s port %d", user, conn_peer_addr(c), conn_peer_port(c));
	else if (!user_allowed(c, cfg, &a->pw, &ug, why, sizeof(why)))
		logit("User %s from %s not allowed because %s", user, conn_peer_addr(c), why);
	else
		a->user_usable = 1;
	/* the names go to the caller (the pre-auth child applies the same Match) */
	for (int i = 0; i < ug.n; i++)
		groups[i] = ug.names[i];
	groups[ug.n > 0 ? ug.n : 0] = NULL;
	*n_groups = ug.n > 0 ? ug.n : 0;
	return 0;
}

/* With a monitor: it looks the user up and applies Match; this side
 * applies the same Match with the groups it was given (the options decide
 * the protocol here) and sends the banner the monitor read. */
static int begin_user_monitored(struct auth *a, struct conn *c, const char *user,
				const char *service)
{
	struct mon_user_answer ans;
	str_copy(a->user, sizeof(a->user), user);
	str_copy(a->service, sizeof(a->service), service);
	if (mon_user(user, service, &ans) < 0) {
		conn_disconnect(c, SSH_DISCONNECT_BY_APPLICATION, "monitor gone");
		return -1;
	}
	a->user_known = ans.known;
	a->user_usable = ans.usable;
	int rc = conn_apply_match(c, user, ans.known ? (const char *const *)ans.groups : NULL);
	if (rc == 0 && ans.banner)
		send_banner_text(c, ans.banner, ans.banner_len);
	mon_user_answer_free(&ans);
	if (rc < 0)
		conn_disconnect(c, SSH_DISCONNECT_BY_APPLICATION,
				"a Match block for %s could not be applied: refusing", user);
	return rc;
}

/* The first request names the user and service for the whole exchange:
 * look the account up, apply Match, then decide whether it may log in at
 * all. -1 when the connection must end. */
static int begin_user(struct auth *a, struct conn *c, const char *user, const char *service)
{
	if (mon_active())
		return begin_user_monitored(a, c, user, service);
	const char *groups[65] = { NULL };
	int ng = 0;
	int rc = auth_priv_user(a, c, user, service, groups, &ng);
	user_group_names_free(groups, ng);
	if (rc < 0) {
		conn_disconnect(c, SSH_DISCONNECT_BY_APPLICATION,
				"a Match block for %s could not be applied: refusing", user);
		return -1;
	}
	send_banner(c, conn_config(c));
	return 0;
}

/* "Accepted publickey for alice from ..." or "Failed password for invalid
 * user bob from ...": the key described after a publickey attempt (pk).
 * noinline: LTO copied it into both callers (+32 bytes against -48) */
static __attribute__((noinline)) void log_attempt(const struct auth *a, struct conn *c, const char *verdict,
			const char *method, const char *user_kind, int pk)
{
	logit("%s %s for %s%s from %s port %d ssh2%s%s", verdict, method, user_kind, a->user,
	      conn_peer_addr(c), conn_peer_port(c), pk ? ": " : "", pk ? a->key_desc : "");
}

static void log_failure(const struct auth *a, struct conn *c, const char *method)
{
	log_attempt(a, c, "Failed", method,
		    a->user_usable ? "" : a->user_known ? "refused user " : "invalid user ",
		    strcmp(method, "publickey") == 0 && a->key_desc[0]);
}

static void succeed(struct auth *a, struct conn *c, const char *method)
{
	str_copy(a->method, sizeof(a->method), method);
	a->success = 1;
	log_attempt(a, c, "Accepted", method, "", strcmp(method, "publickey") == 0);
	conn_pkt_start(c, SSH_MSG_USERAUTH_SUCCESS);
	conn_pkt_send(c);
}

/* A method's attempt: 1 in, 0 failed, 2 PK_OK sent, -1 malformed. */
static int try_method(struct auth *a, struct conn *c, const char *method, rd_t *r,
		      const uint8_t *sid, size_t sidl)
{
	if (strcmp(method, "none") == 0) {
		a->none_requests++;
		return 0;
	}
	if (strcmp(method, "publickey") == 0)
		return try_publickey(a, c, r, sid, sidl);
	if (strcmp(method, "password") == 0)
		return try_password(a, c, r);
	return 0;
}

int auth_handle(struct auth *a, struct conn *c, const uint8_t *payload, size_t len,
		const uint8_t *sid, size_t sidl)
{
	int64_t start = alive_now_us();
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
	if (a->attempts && (strcmp(a->user, user) != 0 || strcmp(a->service, service) != 0)) {
		conn_disconnect(c, SSH_DISCONNECT_PROTOCOL_ERROR,
				"change of user or service during authentication (%s/%s -> %s/%s)",
				a->user, a->service, user, service);
		return -1;
	}
	if (a->attempts++ == 0 && begin_user(a, c, user, service) < 0)
		return -1;
	const struct config *cfg = conn_config(c);
	a->key_desc[0] = 0;
	int result = try_method(a, c, method, &r, sid, sidl);
	if (result == -2) {
		conn_disconnect(c, SSH_DISCONNECT_BY_APPLICATION, "the monitor ended the connection");
		return -1;
	}
	if (result < 0) {
		conn_disconnect(c, SSH_DISCONNECT_PROTOCOL_ERROR,
				"malformed %s userauth request", method);
		return -1;
	}
	if (result == 2)
		return 0;
	if (result == 1) {
		succeed(a, c, method);
		return 0;
	}
	/* the first "none" asks for the method list; more of them are tries */
	if (strcmp(method, "none") != 0 || a->none_requests > 1) {
		a->failures++;
		log_failure(a, c, method);
	}
	hold_failure(a, user, start);
	if (a->failures >= cfg->max_auth_tries) {
		conn_disconnect(c, SSH_DISCONNECT_NO_MORE_AUTH_METHODS_AVAILABLE,
				"Too many authentication failures for %s (MaxAuthTries %d)",
				user, cfg->max_auth_tries);
		return -1;
	}
	send_failure(c, cfg);
	return 0;
}
