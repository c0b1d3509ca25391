/* monitor: the monitor's side — the pre-auth child's requests, checked
 * against the state, and their answers (the table is in monitor.h). The
 * child's side is mon_client.c. */
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
#include "dhgroup.h"
#include "build_opts.h"
#include "log.h"

/* ---- the monitor side ----------------------------------------------------- */

static const char state_names[][25] = {
	[MS_PREAUTH] = "before the user is named", [MS_USER] = "authenticating",
	[MS_AUTHED] = "authenticated", [MS_DONE] = "handed over",
};

static const char type_names[][10] = {
	"unknown", [MON_LOG] = "log", [MON_SIGN] = "sign", [MON_USER] = "user",
	[MON_PUBKEY] = "publickey", [MON_PASSWORD] = "password",
	[MON_TRANSPORT] = "transport", [MON_MODULI] = "moduli",
};

static const char *type_name(uint8_t t)
{
	return type_names[t <= MON_MODULI ? t : 0];
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
	/* a build without DH (--disable-dh) has no group exchange to serve */
	case MON_MODULI:    return HAVE_DH && (s == MS_PREAUTH || s == MS_USER);
	default:            return 0;
	}
}

static int on_log(rd_t *r)
{
	uint32_t level = rd_u32_value(r);
	const uint8_t *text;
	size_t n;
	if (rd_string(r, &text, &n) < 0 || rd_end(r) < 0)
		return -1;
	if (level < LOG_L_FATAL || level > LOG_L_DEBUG3)
		level = LOG_L_INFO;
	char level_fmt[] = "?%.*s";      /* log_msg's level byte, then the format */
	level_fmt[0] = (char)level;
	log_msg(level_fmt, (int)n, (const char *)text);
	return 0;
}

static int on_sign(struct monitor *m, rd_t *r, buf_t *reply)
{
	uint32_t idx = rd_u32_value(r);
	char alg[64];
	const uint8_t *h;
	size_t hl;
	if (rd_cstring(r, alg, sizeof(alg)) < 0 ||
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

/* Choose the group exchange group from ModuliFile (or the built-in set). */
static int on_moduli(struct monitor *m, rd_t *r, buf_t *reply)
{
	uint32_t min = rd_u32_value(r), want = rd_u32_value(r), max = rd_u32_value(r);
	struct dh_group grp;
	struct dhgroup_scan scan;
	if (rd_end(r) < 0)
		return mfail(m, "malformed %s request", "moduli");
	if (m->n_moduli++ >= MON_MAX_PREAUTH_KEX)
		return mfail(m, "more than %s group exchanges before authentication", "8");
	memset(&grp, 0, sizeof grp);
	int found = dhgroup_choose(conn_config(m->c)->moduli_file, min, want, max, &grp,
				   &scan) == 0;
	buf_put_u8(reply, MON_MODULI_REPLY);
	buf_put_bool(reply, found);
	buf_put_u32(reply, found ? grp.bits : 0);
	buf_put_u32(reply, found ? grp.g : 0);
	buf_put_string(reply, grp.p, found ? grp.p_len : 0);
	buf_put_bool(reply, scan.from_file);
	buf_put_bool(reply, scan.file_missing);
	buf_put_bool(reply, scan.file_unsafe);
	buf_put_u32(reply, (uint32_t)scan.bad_lines);
	buf_put_u32(reply, (uint32_t)scan.first_bad_line);
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
	str_copy(a->method, sizeof(a->method), method);
	m->state = MS_AUTHED;
}

static int on_pubkey(struct monitor *m, rd_t *r, buf_t *reply)
{
	char alg[64];
	const uint8_t *blob, *sig = NULL;
	size_t blobl, sigl = 0;
	int has_sig = 0;
	if (rd_cstring(r, alg, sizeof(alg)) < 0 || rd_string(r, &blob, &blobl) < 0 ||
	    ((has_sig = rd_bool_value(r)) && rd_string(r, &sig, &sigl) < 0) ||
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
	int change = rd_bool_value(r);
	char password[1024];
	if (rd_cstring(r, password, sizeof(password)) < 0 ||
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

__attribute__((noinline)) int monitor_dispatch(struct monitor *m, const uint8_t *msg, size_t len, buf_t *reply)
{
	buf_reset(reply);
	m->err[0] = 0;
	if (len < 1)
		return mfail(m, "empty request%s", "");
	uint8_t type = msg[0];
	if (!allowed_in_state(m->state, type)) {
		snprintf(m->err, sizeof(m->err), "%s request (type %u) not valid %s",
			 type_name(type), type, state_names[m->state]);
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
	case MON_MODULI:
		return HAVE_DH ? on_moduli(m, &r, reply) : -1;
	case MON_TRANSPORT:
		if (conn_import_transport(m->c, &r, m->session_id, m->session_id_len,
					  m->err, sizeof(m->err)) < 0)
			return -1;
		m->state = MS_DONE;
		return 1;
	}
	return mfail(m, "unknown request%s", "");
}

