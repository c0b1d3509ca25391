/* monitor: the requests of the pre-auth child and their answers (the table
 * is in monitor.h), both sides. */
#include "monitor.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "conn.h"
#include "crypto.h"
#include "log.h"

/* ---- framing ------------------------------------------------------------ */

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			struct pollfd pfd = { .fd = fd, .events = POLLOUT };
			poll(&pfd, 1, 1000);
			continue;
		}
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int read_all(int fd, uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t r = read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN) {
			struct pollfd pfd = { .fd = fd, .events = POLLIN };
			poll(&pfd, 1, 1000);
			continue;
		}
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

int mon_write_msg(int fd, uint8_t type, const uint8_t *body, size_t n)
{
	if (n + 1 > MON_MSG_MAX)
		return -1;
	uint8_t hdr[5];
	uint32_t len = (uint32_t)n + 1;
	hdr[0] = (uint8_t)(len >> 24);
	hdr[1] = (uint8_t)(len >> 16);
	hdr[2] = (uint8_t)(len >> 8);
	hdr[3] = (uint8_t)len;
	hdr[4] = type;
	if (write_all(fd, hdr, 5) < 0)
		return -1;
	return n ? write_all(fd, body, n) : 0;
}

int mon_read_msg(int fd, buf_t *out)
{
	uint8_t hdr[4];
	buf_reset(out);
	if (read_all(fd, hdr, 4) < 0)
		return -1;
	uint32_t len = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 |
		       (uint32_t)hdr[2] << 8 | hdr[3];
	if (len < 1 || len > MON_MSG_MAX)
		return -1;
	uint8_t *p = buf_reserve(out, len);
	if (!p || read_all(fd, p, len) < 0)
		return -1;
	buf_commit(out, len);
	return 0;
}

/* ---- the monitor side ----------------------------------------------------- */

static const char *state_name(enum mon_state s)
{
	switch (s) {
	case MS_PREAUTH: return "before the user is named";
	case MS_USER:    return "authenticating";
	case MS_AUTHED:  return "authenticated";
	case MS_DONE:    return "handed over";
	}
	return "?";
}

static const char *type_name(uint8_t t)
{
	switch (t) {
	case MON_LOG: return "log";
	case MON_SIGN: return "sign";
	case MON_USER: return "user";
	case MON_PUBKEY: return "publickey";
	case MON_PASSWORD: return "password";
	case MON_TRANSPORT: return "transport";
	default: return "unknown";
	}
}

void monitor_init(struct monitor *m, struct conn *c, struct sshkey **hostkeys,
		  int n_hostkeys)
{
	memset(m, 0, sizeof(*m));
	m->state = MS_PREAUTH;
	m->c = c;
	m->hostkeys = hostkeys;
	m->n_hostkeys = n_hostkeys;
}

static int mfail(struct monitor *m, const char *fmt, const char *arg)
{
	snprintf(m->err, sizeof(m->err), fmt, arg);
	return -1;
}

/* Which requests each state accepts (the table in monitor.h). */
static int allowed_in_state(enum mon_state s, uint8_t type)
{
	switch (type) {
	case MON_LOG:       return s != MS_DONE;
	case MON_SIGN:      return s == MS_PREAUTH || s == MS_USER;
	case MON_USER:      return s == MS_PREAUTH;
	case MON_PUBKEY:    return s == MS_USER;
	case MON_PASSWORD:  return s == MS_USER;
	case MON_TRANSPORT: return s == MS_AUTHED;
	default:            return 0;
	}
}

static int on_log(rd_t *r)
{
	uint32_t level;
	const uint8_t *text;
	size_t n;
	if (rd_u32(r, &level) < 0 || rd_string(r, &text, &n) < 0 || rd_end(r) < 0)
		return -1;
	if (level < LOG_L_FATAL || level > LOG_L_DEBUG3)
		level = LOG_L_INFO;
	log_msg((enum log_level)level, "%.*s", (int)n, (const char *)text);
	return 0;
}

static int on_sign(struct monitor *m, rd_t *r, buf_t *reply)
{
	uint32_t idx;
	char alg[64];
	const uint8_t *h;
	size_t hl;
	if (rd_u32(r, &idx) < 0 || rd_cstring(r, alg, sizeof(alg)) < 0 ||
	    rd_string(r, &h, &hl) < 0 || rd_end(r) < 0)
		return mfail(m, "malformed %s request", "sign");
	if (idx >= (uint32_t)m->n_hostkeys || !key_sigalg_ok(m->hostkeys[idx], alg))
		return mfail(m, "sign request for a host key or algorithm (%s) not loaded", alg);
	if (hl != 32 && hl != 48 && hl != 64)
		return mfail(m, "sign request for %s data that is no exchange hash", "sized");
	if (m->n_signed >= MON_MAX_PREAUTH_KEX)
		return mfail(m, "more than %s key exchanges before authentication", "8");
	if (m->n_signed++ == 0) {
		memcpy(m->session_id, h, hl);
		m->session_id_len = hl;
	}
	buf_t sig;
	buf_init(&sig, 512, 8192);
	int rc = key_sign(m->hostkeys[idx], alg, h, hl, &sig);
	buf_reset(reply);
	buf_put_u8(reply, MON_SIGN_REPLY);
	buf_put_string(reply, buf_data(&sig), buf_used(&sig));
	buf_free(&sig);
	if (rc < 0)
		return mfail(m, "host key signature (%s) failed", alg);
	return 0;
}

static int on_user(struct monitor *m, rd_t *r, buf_t *reply)
{
	char user[64], service[64];
	if (rd_cstring(r, user, sizeof(user)) < 0 || rd_cstring(r, service, sizeof(service)) < 0 ||
	    rd_end(r) < 0)
		return mfail(m, "malformed %s request", "user");
	struct auth *a = conn_auth(m->c);
	const char *groups[65] = { NULL };
	int ng = 0;
	if (auth_priv_user(a, m->c, user, service, groups, &ng) < 0) {
		user_group_names_free(groups, ng);
		return mfail(m, "a Match block for %s could not be applied: refusing", user);
	}
	a->attempts = 1;
	char *banner;
	size_t banner_len;
	auth_banner_text(conn_config(m->c), &banner, &banner_len);
	buf_reset(reply);
	buf_put_u8(reply, MON_USER_REPLY);
	buf_put_bool(reply, a->user_known);
	buf_put_bool(reply, a->user_usable);
	buf_put_u32(reply, (uint32_t)ng);
	for (int i = 0; i < ng; i++)
		buf_put_cstring(reply, groups[i]);
	buf_put_bool(reply, banner != NULL);
	buf_put_string(reply, banner ? banner : "", banner_len);
	free(banner);
	user_group_names_free(groups, ng);
	m->state = MS_USER;
	return 0;
}

/* Every publickey or password check counts; a child that asks far more
 * often than MaxAuthTries allows is not the code we wrote. */
static int count_check(struct monitor *m)
{
	int limit = 2 * conn_config(m->c)->max_auth_tries + 2;
	if (++m->n_checks > limit)
		return mfail(m, "more authentication checks than MaxAuthTries allows (%s)", "2x+2");
	return 0;
}

static void auth_reply(buf_t *reply, int result)
{
	buf_reset(reply);
	buf_put_u8(reply, MON_AUTH_REPLY);
	buf_put_u32(reply, (uint32_t)result);
}

static void authenticated(struct monitor *m, const char *method)
{
	struct auth *a = conn_auth(m->c);
	a->success = 1;
	snprintf(a->method, sizeof(a->method), "%s", method);
	m->state = MS_AUTHED;
}

static int on_pubkey(struct monitor *m, rd_t *r, buf_t *reply)
{
	char alg[64];
	const uint8_t *blob, *sig = NULL;
	size_t blobl, sigl = 0;
	int has_sig;
	if (rd_cstring(r, alg, sizeof(alg)) < 0 || rd_string(r, &blob, &blobl) < 0 ||
	    rd_bool(r, &has_sig) < 0 || (has_sig && rd_string(r, &sig, &sigl) < 0) ||
	    rd_end(r) < 0)
		return mfail(m, "malformed %s request", "publickey");
	if (count_check(m) < 0)
		return -1;
	if (m->session_id_len == 0)
		return mfail(m, "publickey check before any key exchange%s", "");
	struct auth *a = conn_auth(m->c);
	int ok = auth_priv_pubkey(a, m->c, alg, blob, blobl, has_sig, sig, sigl,
				  m->session_id, m->session_id_len);
	if (ok == 1 && has_sig)
		authenticated(m, "publickey");
	auth_reply(reply, ok == 1);
	return 0;
}

static int on_password(struct monitor *m, rd_t *r, buf_t *reply)
{
	int change;
	char password[1024];
	if (rd_bool(r, &change) < 0 || rd_cstring(r, password, sizeof(password)) < 0 ||
	    rd_end(r) < 0) {
		wipe(password, sizeof(password));
		return mfail(m, "malformed %s request", "password");
	}
	int ok = 0;
	if (count_check(m) == 0)
		ok = auth_priv_password(conn_auth(m->c), m->c, change, password);
	wipe(password, sizeof(password));
	if (m->err[0])
		return -1;
	if (ok == 1)
		authenticated(m, "password");
	auth_reply(reply, ok == 1);
	return 0;
}

int monitor_dispatch(struct monitor *m, const uint8_t *msg, size_t len, buf_t *reply)
{
	buf_reset(reply);
	m->err[0] = 0;
	if (len < 1)
		return mfail(m, "empty request%s", "");
	uint8_t type = msg[0];
	if (!allowed_in_state(m->state, type)) {
		snprintf(m->err, sizeof(m->err), "%s request (type %u) not valid %s",
			 type_name(type), type, state_name(m->state));
		return -1;
	}
	rd_t r;
	rd_init(&r, msg + 1, len - 1);
	switch (type) {
	case MON_LOG:
		if (on_log(&r) < 0)
			return mfail(m, "malformed %s request", "log");
		return 0;
	case MON_SIGN:
		return on_sign(m, &r, reply);
	case MON_USER:
		return on_user(m, &r, reply);
	case MON_PUBKEY:
		return on_pubkey(m, &r, reply);
	case MON_PASSWORD:
		return on_password(m, &r, reply);
	case MON_TRANSPORT:
		if (conn_import_transport(m->c, &r, m->session_id, m->session_id_len,
					  m->err, sizeof(m->err)) < 0)
			return -1;
		m->state = MS_DONE;
		return 1;
	}
	return mfail(m, "unknown request%s", "");
}

/* ---- the child side -------------------------------------------------------- */

static int mon_fd = -1;

void mon_set_fd(int fd) { mon_fd = fd; }
int mon_active(void) { return mon_fd >= 0; }

int mon_send(uint8_t type, const buf_t *body)
{
	return mon_write_msg(mon_fd, type, buf_data(body), buf_used(body));
}

void mon_log(int level, const char *text)
{
	buf_t b;
	if (buf_init(&b, 256, 4096) < 0)
		return;
	buf_put_u32(&b, (uint32_t)level);
	buf_put_cstring(&b, text);
	mon_send(MON_LOG, &b);
	buf_free(&b);
}

/* Send a request and wait for the reply of the expected type; reply's
 * body (after the type byte) is left in *r. */
static int request(uint8_t type, buf_t *body, uint8_t want, buf_t *in, rd_t *r)
{
	int rc = mon_send(type, body);
	buf_free(body);
	if (rc < 0 || mon_read_msg(mon_fd, in) < 0 || buf_used(in) < 1 ||
	    buf_data(in)[0] != want)
		return -1;
	rd_init(r, buf_data(in) + 1, buf_used(in) - 1);
	return 0;
}

int mon_sign(int key_index, const char *alg, const uint8_t *h, size_t hl, buf_t *sig)
{
	buf_t b, in;
	rd_t r;
	const uint8_t *s;
	size_t sl;
	buf_init(&b, 256, 4096);
	buf_init(&in, 1024, MON_MSG_MAX);
	buf_put_u32(&b, (uint32_t)key_index);
	buf_put_cstring(&b, alg);
	buf_put_string(&b, h, hl);
	int rc = request(MON_SIGN, &b, MON_SIGN_REPLY, &in, &r);
	if (rc == 0 && (rd_string(&r, &s, &sl) < 0 || rd_end(&r) < 0 || buf_put(sig, s, sl) < 0))
		rc = -1;
	buf_free(&in);
	return rc;
}

void mon_user_answer_free(struct mon_user_answer *ans)
{
	for (int i = 0; i < ans->n_groups; i++)
		free(ans->groups[i]);
	ans->n_groups = 0;
	free(ans->banner);
	ans->banner = NULL;
}

static int read_user_answer(rd_t *r, struct mon_user_answer *ans)
{
	uint32_t ng;
	int has_banner;
	const uint8_t *text;
	size_t n;
	if (rd_bool(r, &ans->known) < 0 || rd_bool(r, &ans->usable) < 0 ||
	    rd_u32(r, &ng) < 0 || ng > 64)
		return -1;
	for (uint32_t i = 0; i < ng; i++) {
		char name[256];
		if (rd_cstring(r, name, sizeof(name)) < 0)
			return -1;
		ans->groups[ans->n_groups] = strdup(name);
		if (!ans->groups[ans->n_groups])
			return -1;
		ans->n_groups++;
	}
	ans->groups[ans->n_groups] = NULL;
	if (rd_bool(r, &has_banner) < 0 || rd_string(r, &text, &n) < 0 || rd_end(r) < 0)
		return -1;
	if (has_banner) {
		ans->banner = malloc(n + 1);
		if (!ans->banner)
			return -1;
		memcpy(ans->banner, text, n);
		ans->banner_len = n;
	}
	return 0;
}

int mon_user(const char *user, const char *service, struct mon_user_answer *ans)
{
	buf_t b, in;
	rd_t r;
	memset(ans, 0, sizeof(*ans));
	buf_init(&b, 256, 4096);
	buf_init(&in, 1024, MON_MSG_MAX);
	buf_put_cstring(&b, user);
	buf_put_cstring(&b, service);
	int rc = request(MON_USER, &b, MON_USER_REPLY, &in, &r);
	if (rc == 0 && read_user_answer(&r, ans) < 0)
		rc = -1;
	if (rc < 0)
		mon_user_answer_free(ans);
	buf_free(&in);
	return rc;
}

static int auth_answer(buf_t *in, rd_t *r)
{
	uint32_t result;
	int rc = -1;
	if (rd_u32(r, &result) == 0 && rd_end(r) == 0 && result <= 1)
		rc = (int)result;
	buf_free(in);
	return rc;
}

int mon_pubkey(const char *alg, const uint8_t *blob, size_t bloblen, const uint8_t *sig,
	       size_t sigl, int has_sig)
{
	buf_t b, in;
	rd_t r;
	buf_init(&b, 1024, MON_MSG_MAX);
	buf_init(&in, 64, 1024);
	buf_put_cstring(&b, alg);
	buf_put_string(&b, blob, bloblen);
	buf_put_bool(&b, has_sig);
	if (has_sig)
		buf_put_string(&b, sig, sigl);
	if (request(MON_PUBKEY, &b, MON_AUTH_REPLY, &in, &r) < 0) {
		buf_free(&in);
		return -1;
	}
	return auth_answer(&in, &r);
}

int mon_password(int change, const char *password)
{
	buf_t b, in;
	rd_t r;
	buf_init(&b, 1100, 4096);
	buf_init(&in, 64, 1024);
	buf_put_bool(&b, change);
	buf_put_cstring(&b, password);
	if (request(MON_PASSWORD, &b, MON_AUTH_REPLY, &in, &r) < 0) {
		buf_free(&in);
		return -1;
	}
	return auth_answer(&in, &r);
}
