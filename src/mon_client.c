/* mon_client: the pre-auth child's side of the monitor protocol, and the
 * framing both sides use (monitor.h). Kept apart from monitor.c, which
 * needs the whole connection, so that code linked without conn.c (the
 * fuzz harnesses' stubs) can use auth.c. */
#include "monitor.h"
#include "dhgroup.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- framing ------------------------------------------------------------ */

/* All n bytes written (out: p is only read from) or read; a full or empty
 * non-blocking descriptor is waited for. 0, or -1 when it failed or ended. */
static int move_all(int fd, uint8_t *p, size_t n, int out)
{
	while (n > 0) {
		ssize_t k = out ? write(fd, p, n) : read(fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && errno == EAGAIN) {
			struct pollfd pfd = { .fd = fd, .events = out ? POLLOUT : POLLIN };
			poll(&pfd, 1, 1000);
			continue;
		}
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
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
	if (move_all(fd, hdr, 5, 1) < 0)
		return -1;
	return n ? move_all(fd, (uint8_t *)body, n, 1) : 0;
}

int mon_read_msg(int fd, buf_t *out)
{
	uint8_t hdr[4];
	buf_reset(out);
	if (move_all(fd, hdr, 4, 0) < 0)
		return -1;
	uint32_t len = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 |
		       (uint32_t)hdr[2] << 8 | hdr[3];
	if (len < 1 || len > MON_MSG_MAX)
		return -1;
	uint8_t *p = buf_reserve(out, len);
	if (!p || move_all(fd, p, len, 0) < 0)
		return -1;
	buf_commit(out, len);
	return 0;
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
 * body (after the type byte) is left in *r, in in (set up here, sized to
 * the reply; the caller frees it either way). */
static int request(uint8_t type, buf_t *body, uint8_t want, buf_t *in, rd_t *r)
{
	buf_init(in, 0, MON_MSG_MAX);
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
	buf_put_u32(&b, (uint32_t)key_index);
	buf_put_cstring(&b, alg);
	buf_put_string(&b, h, hl);
	int rc = request(MON_SIGN, &b, MON_SIGN_REPLY, &in, &r);
	if (rc == 0 && (rd_string(&r, &s, &sl) < 0 || rd_end(&r) < 0 || buf_put(sig, s, sl) < 0))
		rc = -1;
	buf_free(&in);
	return rc;
}

int mon_moduli(uint32_t min, uint32_t want, uint32_t max, struct dh_group *grp,
	       struct dhgroup_scan *scan)
{
	buf_t b, in;
	rd_t r;
	int found;
	uint32_t bits, g, bad, first;
	const uint8_t *p;
	size_t pl;
	buf_init(&b, 16, 64);
	buf_put_u32(&b, min);
	buf_put_u32(&b, want);
	buf_put_u32(&b, max);
	int rc = request(MON_MODULI, &b, MON_MODULI_REPLY, &in, &r);
	memset(scan, 0, sizeof *scan);
	if (rc == 0 &&
	    (rd_bool(&r, &found) < 0 || rd_u32(&r, &bits) < 0 || rd_u32(&r, &g) < 0 ||
	     rd_string(&r, &p, &pl) < 0 || rd_bool(&r, &scan->from_file) < 0 ||
	     rd_bool(&r, &scan->file_missing) < 0 || rd_bool(&r, &scan->file_unsafe) < 0 ||
	     rd_u32(&r, &bad) < 0 || rd_u32(&r, &first) < 0 || rd_end(&r) < 0 ||
	     pl > sizeof grp->p))
		rc = -1;
	if (rc == 0 && !found)
		rc = 1;
	if (rc == 0) {
		memcpy(grp->p, p, pl);
		grp->p_len = pl;
		grp->bits = bits;
		grp->g = g;
		scan->bad_lines = (int)bad;
		scan->first_bad_line = (int)first;
	}
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

static int auth_answer(int rc, buf_t *in, rd_t *r)
{
	uint32_t result = rc == 0 ? rd_u32_value(r) : 2;
	rc = rc == 0 && rd_end(r) == 0 && result <= 1 ? (int)result : -1;
	buf_free(in);
	return rc;
}

int mon_pubkey(const char *alg, const uint8_t *blob, size_t bloblen, const uint8_t *sig,
	       size_t sigl, int has_sig)
{
	buf_t b, in;
	rd_t r;
	buf_init(&b, 1024, MON_MSG_MAX);
	buf_put_cstring(&b, alg);
	buf_put_string(&b, blob, bloblen);
	buf_put_bool(&b, has_sig);
	if (has_sig)
		buf_put_string(&b, sig, sigl);
	return auth_answer(request(MON_PUBKEY, &b, MON_AUTH_REPLY, &in, &r), &in, &r);
}

int mon_password(int change, const char *password)
{
	buf_t b, in;
	rd_t r;
	buf_init(&b, 1100, 4096);
	buf_put_bool(&b, change);
	buf_put_cstring(&b, password);
	return auth_answer(request(MON_PASSWORD, &b, MON_AUTH_REPLY, &in, &r), &in, &r);
}
