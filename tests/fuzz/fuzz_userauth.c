/* fuzz_userauth: ssh-userauth (src/auth.c auth_handle) — none, publickey
 * (query and signed), password and unknown methods — against a fake user
 * database, with real config Match blocks, authorized_keys files and
 * crypt(3). auth_handle needs only the conn_* services, so this harness
 * defines them itself (a stub connection, as tests/unit/test_channel.c
 * does); conn.o is not linked in.
 *
 * Input: [flags][u16 len][request][u16 len][request]... Each request is a
 * USERAUTH_REQUEST payload after its type byte. They are handed over in
 * order until the connection would end (disconnect) or a request succeeds.
 * flags: bits 0..2 pick one of the configurations below; bit 3 the client
 * address (192.0.2.7, else 198.51.100.9).
 *
 * Fake user database (getpwnam/getspnam/getspent defined here, so libc's
 * are not used): fuzz (password "fuzz-password"), root (uid 0, same
 * password), locked ("!" hash), expired (shadow expiry in 1970), noshell
 * (a shell that does not exist), empty (empty password field). Everyone's
 * home is one temp dir with .ssh/authorized_keys (keys below). The session
 * id is fixed, so make_seeds.py can sign requests that succeed.
 *
 * Fail-closed checks beyond the sanitizers: a success must be for a usable
 * user, once, with the right password or a signed publickey request, never
 * for root where PermitRootLogin forbids it; a -1 return must come with a
 * disconnect; failures never pass MaxAuthTries.
 *
 * The per-user failure delay (5..9 ms of nanosleep in auth.c) is skipped
 * while auth_handle runs: nanosleep is defined here and returns at once
 * for the fuzzing thread inside auth_handle. */
#include <crypt.h>
#include <pthread.h>
#include <pwd.h>
#include <shadow.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "account.h"
#include "auth.h"
#include "buf.h"
#include "config.h"
#include "conn.h"
#include "fuzz_util.h"
#include "packet.h"

#define PASSWORD "fuzz-password"
static const uint8_t session_id[32] = "wombat-fuzz-session-id-32-bytes!";

/* make_seeds.py reads these three lines and signs with their private keys */
static const char *const authorized_keys =
	"# fuzz_userauth keys\n"
	"no-pty,environment=\"A=b\" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGRE3/SsMPXX+tXvqKavHOIRrwAz9ziJrHdgmX9+hXfo fuzz-ed25519\n"
	"from=\"192.0.2.0/24\",command=\"/bin/true\" ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBB+44W0MbTKrKscktXvATWQhG2L0B+4mt73wXFCmkz+7UaR5TprQxzBA1NUOv1pqRoy+tlQBSeVLFsvOn5nHhOM= fuzz-p256\n"
	"expiry-time=\"19990101\" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHzddUYYKih0DMLuOtofnze29U4QmCjttYL38I3zzVUt expired\n";

/* ---- the configurations (flags & 7) ----------------------------------- */

static const char *const config_texts[8] = {
	"",
	"PasswordAuthentication no\nPubkeyAcceptedAlgorithms ssh-ed25519\n",
	"PermitRootLogin yes\nPermitEmptyPasswords yes\nMaxAuthTries 2\n",
	"PermitRootLogin forced-commands-only\nAllowUsers fuzz@192.0.2.* root empty\n"
	"DenyUsers locked\n",
	"PermitRootLogin no\nStrictModes no\nDenyGroups nogroup-fuzz\nBanner %s/banner\n",
	"Match User fuzz\n\tPasswordAuthentication no\n"
	"Match Address 192.0.2.0/24\n\tMaxAuthTries 1\n"
	"Match User root\n\tPubkeyAuthentication no\n\tPermitRootLogin yes\n",
	"AuthorizedKeysFile none\nAllowGroups root\n",
	"AuthorizedKeysFile /nonexistent/%%u %%h/.ssh/authorized_keys\n"
	"PermitEmptyPasswords yes\nMatch User empty,fuzz\n\tBanner %s/banner\n",
};
static struct config configs[8];
static char home[64];

/* ---- fake user database ----------------------------------------------- */

struct fake_user {
	const char *name;
	int root;
	const char *shell;
	const char *hash;        /* NULL: the fuzz password's hash */
	long expire;
};
static const struct fake_user users[] = {
	{ "fuzz", 0, "/bin/sh", NULL, -1 },
	{ "root", 1, "/bin/sh", NULL, -1 },
	{ "locked", 0, "/bin/sh", "!", -1 },
	{ "expired", 0, "/bin/sh", NULL, 1 },
	{ "noshell", 0, "/nonexistent/shell", NULL, -1 },
	{ "empty", 0, "/bin/sh", "", -1 },
};
#define N_USERS (sizeof(users) / sizeof(users[0]))
static char good_hash[CRYPT_OUTPUT_SIZE];
static uid_t user_uid;   /* for the non-root users */

static const struct fake_user *find_user(const char *name)
{
	for (size_t i = 0; name && i < N_USERS; i++)
		if (strcmp(users[i].name, name) == 0)
			return &users[i];
	return NULL;
}

/* The account may log in at all (the harness's own view of it). */
static int user_is_usable(const struct fake_user *u)
{
	return u && strcmp(u->name, "locked") != 0 && strcmp(u->name, "expired") != 0 &&
	       strcmp(u->name, "noshell") != 0;
}

static const char *hash_of(const struct fake_user *u)
{
	return u->hash ? u->hash : good_hash;
}

struct passwd *getpwnam(const char *name)
{
	static struct passwd pw;
	static char namebuf[64], dirbuf[128], shellbuf[64];
	const struct fake_user *u = find_user(name);
	if (!u)
		return NULL;
	snprintf(namebuf, sizeof(namebuf), "%s", u->name);
	snprintf(dirbuf, sizeof(dirbuf), "%s", home);
	snprintf(shellbuf, sizeof(shellbuf), "%s", u->shell);
	pw.pw_name = namebuf;
	pw.pw_passwd = (char *)"x";
	pw.pw_uid = u->root ? 0 : user_uid;
	pw.pw_gid = u->root ? 0 : user_uid;
	pw.pw_gecos = (char *)"";
	pw.pw_dir = dirbuf;
	pw.pw_shell = shellbuf;
	return &pw;
}

static struct spwd *fill_spwd(const struct fake_user *u)
{
	static struct spwd sp;
	static char namebuf[64], hashbuf[CRYPT_OUTPUT_SIZE + 2];
	snprintf(namebuf, sizeof(namebuf), "%s", u->name);
	/* a fresh copy each time: the callers wipe it after use */
	if (strcmp(hash_of(u), "!") == 0)
		snprintf(hashbuf, sizeof(hashbuf), "!%s", good_hash);
	else
		snprintf(hashbuf, sizeof(hashbuf), "%s", hash_of(u));
	memset(&sp, 0, sizeof(sp));
	sp.sp_namp = namebuf;
	sp.sp_pwdp = hashbuf;
	sp.sp_lstchg = (long)(time(NULL) / 86400) - 1;
	sp.sp_min = -1;
	sp.sp_max = -1;
	sp.sp_warn = -1;
	sp.sp_inact = -1;
	sp.sp_expire = u->expire;
	return &sp;
}

struct spwd *getspnam(const char *name)
{
	const struct fake_user *u = find_user(name);
	return u ? fill_spwd(u) : NULL;
}

/* account.c's dummy hash comes from the first "$" entry: the cheap one */
static size_t spent_next;
void setspent(void) { spent_next = 0; }
void endspent(void) { spent_next = 0; }
struct spwd *getspent(void)
{
	if (spent_next >= N_USERS)
		return NULL;
	return fill_spwd(&users[spent_next++]);
}

/* ---- no failure delay inside auth_handle ------------------------------- */

static pthread_t fuzz_thread;
static volatile int in_auth;

int nanosleep(const struct timespec *req, struct timespec *rem)
{
	if (in_auth && pthread_equal(pthread_self(), fuzz_thread))
		return 0;
	return (int)syscall(SYS_nanosleep, req, rem);
}

/* ---- the stub connection ----------------------------------------------- */

struct conn {
	struct config cfg;
	const char *peer;
	int closing;
	uint32_t disconnect_reason;
	int successes;
	buf_t out;
};
static struct conn the_conn;

buf_t *conn_pkt_start(struct conn *c, uint8_t msg)
{
	buf_reset(&c->out);
	buf_put_u8(&c->out, msg);
	return &c->out;
}

int conn_pkt_send(struct conn *c)
{
	if (c->closing)
		return -1;
	if (buf_data(&c->out)[0] == SSH_MSG_USERAUTH_SUCCESS)
		c->successes++;
	return 0;
}

const struct config *conn_config(const struct conn *c) { return &c->cfg; }
const char *conn_peer_addr(const struct conn *c) { return c->peer; }
int conn_peer_port(const struct conn *c) { (void)c; return 50022; }

void conn_disconnect(struct conn *c, uint32_t reason, const char *fmt, ...)
{
	(void)fmt;
	if (!c->closing)
		c->disconnect_reason = reason;
	c->closing = 1;
}

int conn_apply_match(struct conn *c, const char *user, const char *const *groups)
{
	struct match_conn mc = { .user = user, .groups = groups, .addr = c->peer,
				 .host = NULL, .laddr = "192.0.2.1", .lport = 22 };
	return config_match(&c->cfg, &mc);
}

/* ---- set-up ------------------------------------------------------------ */

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0 || chmod(path, mode) < 0)
		abort();
}

static void remove_home(void)
{
	char path[160];
	snprintf(path, sizeof(path), "%s/.ssh/authorized_keys", home);
	unlink(path);
	snprintf(path, sizeof(path), "%s/.ssh", home);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/banner", home);
	unlink(path);
	rmdir(home);
}

/* The users' home: readable by the fake users (authorized_keys is opened
 * with their uid when we are root), writable by nobody else. */
static void make_home(void)
{
	const char *dir = getenv("TMPDIR");
	char path[160];
	snprintf(home, sizeof(home), "%s/wombat-fuzz-home-XXXXXX", dir ? dir : "/tmp");
	if (!mkdtemp(home) || chmod(home, 0755) < 0)
		abort();
	atexit(remove_home);
	snprintf(path, sizeof(path), "%s/.ssh", home);
	if (mkdir(path, 0755) < 0)
		abort();
	snprintf(path, sizeof(path), "%s/.ssh/authorized_keys", home);
	write_file(path, authorized_keys, 0644);
	snprintf(path, sizeof(path), "%s/banner", home);
	write_file(path, "Authorized use only.\n", 0644);
}

static void load_configs(void)
{
	for (int i = 0; i < 8; i++) {
		char text[1024], err[512];
		snprintf(text, sizeof(text), config_texts[i], home, home);
		config_defaults(&configs[i]);
		const char *path = fuzz_tmp_write((const uint8_t *)text, strlen(text));
		if (config_load_file(&configs[i], path, err, sizeof(err)) < 0) {
			fprintf(stderr, "fuzz_userauth: config %d: %s\n", i, err);
			abort();
		}
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_setup();
	fuzz_thread = pthread_self();
	user_uid = getuid() == 0 ? 65534 : getuid();
	account_nologin_path = "/nonexistent/wombat-fuzz-nologin";
	/* the fake getspnam/getspent above stand for shadow, not the real file */
	account_shadow_path = "/nonexistent/wombat-fuzz-shadow";
	struct crypt_data cd;
	memset(&cd, 0, sizeof(cd));
	const char *h = crypt_r(PASSWORD, "$5$rounds=1000$wombatfuzzsalt$", &cd);
	if (!h || h[0] != '$')
		abort();
	snprintf(good_hash, sizeof(good_hash), "%s", h);
	make_home();
	load_configs();
	return 0;
}

/* ---- checks ------------------------------------------------------------ */

/* What a request says, as far as the checks need it. */
struct request_view {
	char user[64], method[32];
	int has_sig;                  /* publickey */
	char password[1024];          /* password */
	int password_ok;              /* parsed */
};

static void view_request(const uint8_t *p, size_t n, struct request_view *v)
{
	rd_t r;
	char service[64];
	int flag;
	memset(v, 0, sizeof(*v));
	rd_init(&r, p, n);
	rd_cstring(&r, v->user, sizeof(v->user));
	rd_cstring(&r, service, sizeof(service));
	rd_cstring(&r, v->method, sizeof(v->method));
	if (rd_bool(&r, &flag) < 0)
		return;
	if (strcmp(v->method, "publickey") == 0)
		v->has_sig = flag;
	if (strcmp(v->method, "password") == 0 && !flag &&
	    rd_cstring(&r, v->password, sizeof(v->password)) == 0)
		v->password_ok = 1;
}

/* A success must be one the configuration and the database allow. */
static void check_success(const struct auth *a, const struct request_view *v,
			  const struct config *cfg)
{
	const struct fake_user *u = find_user(v->user);
	if (the_conn.successes != 1 || !a->user_usable || !user_is_usable(u))
		abort();
	if (strcmp(a->user, v->user) != 0 || strcmp(a->method, v->method) != 0)
		abort();
	if (u->root && cfg->permit_root_login == PERMIT_ROOT_NO)
		abort();
	if (strcmp(v->method, "password") == 0) {
		if (!cfg->password_authentication || !v->password_ok)
			abort();
		if (u->root && cfg->permit_root_login != PERMIT_ROOT_YES)
			abort();
		int empty_ok = hash_of(u)[0] == 0 && v->password[0] == 0 &&
			       cfg->permit_empty_passwords;
		if (!empty_ok && (hash_of(u) != good_hash || strcmp(v->password, PASSWORD) != 0))
			abort();
	} else if (strcmp(v->method, "publickey") == 0) {
		if (!cfg->pubkey_authentication || !v->has_sig)
			abort();
	} else {
		abort();      /* none, or an unknown method, never lets anyone in */
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t flags = data[0];
	data++;
	size--;

	struct conn *c = &the_conn;
	memset(c, 0, sizeof(*c));
	if (buf_init(&c->out, 1024, PACKET_MAX_PAYLOAD) < 0)
		abort();
	config_copy(&c->cfg, &configs[flags & 7]);
	c->peer = (flags & 8) ? "192.0.2.7" : "198.51.100.9";

	struct auth a;
	auth_init(&a);
	const uint8_t *part;
	size_t plen;
	while (fuzz_next_part(&data, &size, &part, &plen)) {
		uint8_t *req = fuzz_dup(part, plen);
		struct request_view v;
		view_request(req, plen, &v);
		in_auth = 1;
		int rc = auth_handle(&a, c, req, plen, session_id, sizeof(session_id));
		in_auth = 0;
		free(req);
		if (rc < 0 && !c->closing)
			abort();          /* -1 promises the disconnect was asked for */
		if (a.failures > c->cfg.max_auth_tries)
			abort();      /* the Match-applied MaxAuthTries */
		if (a.success) {
			check_success(&a, &v, &c->cfg);
			break;            /* later requests are ignored by conn.c */
		}
		if (the_conn.successes)
			abort();
		if (rc < 0)
			break;
	}
	auth_free(&a);
	config_free(&c->cfg);
	buf_free(&c->out);
	return 0;
}
