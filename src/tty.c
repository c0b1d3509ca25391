/* tty: pseudo-terminals for session channels (RFC 4254 s6.2, s6.7, s8).
 * (Named tty.c because <pty.h>, for openpty, must not be shadowed.) */
#include "tty.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pty.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

/* ---------- terminal modes (RFC 4254 s8) ---------- */

#define TTY_OP_END     0
#define TTY_OP_ISPEED  128
#define TTY_OP_OSPEED  129
#define TTY_OP_LAST    159     /* 160..255: undefined, parsing stops */

enum mode_field { F_CC, F_IFLAG, F_LFLAG, F_OFLAG, F_CFLAG };

struct mode_op {
	uint8_t opcode;
	uint8_t field;
	/* for flags; the c_cc index for F_CC. Linux's flags all fit in 16
	 * bits (a larger constant would not compile: -Woverflow) */
	uint16_t flag;
};

/* Opcodes from RFC 4254 s8 (and IUTF8, RFC 8160) that Linux has. */
static const struct mode_op mode_ops[] = {
	{ 1, F_CC, VINTR }, { 2, F_CC, VQUIT }, { 3, F_CC, VERASE },
	{ 4, F_CC, VKILL }, { 5, F_CC, VEOF }, { 6, F_CC, VEOL },
	{ 7, F_CC, VEOL2 }, { 8, F_CC, VSTART }, { 9, F_CC, VSTOP },
	{ 10, F_CC, VSUSP }, { 12, F_CC, VREPRINT }, { 13, F_CC, VWERASE },
	{ 14, F_CC, VLNEXT }, { 18, F_CC, VDISCARD },
	{ 30, F_IFLAG, IGNPAR }, { 31, F_IFLAG, PARMRK }, { 32, F_IFLAG, INPCK },
	{ 33, F_IFLAG, ISTRIP }, { 34, F_IFLAG, INLCR }, { 35, F_IFLAG, IGNCR },
	{ 36, F_IFLAG, ICRNL }, { 37, F_IFLAG, IUCLC }, { 38, F_IFLAG, IXON },
	{ 39, F_IFLAG, IXANY }, { 40, F_IFLAG, IXOFF }, { 41, F_IFLAG, IMAXBEL },
	{ 42, F_IFLAG, IUTF8 },
	{ 50, F_LFLAG, ISIG }, { 51, F_LFLAG, ICANON }, { 52, F_LFLAG, XCASE },
	{ 53, F_LFLAG, ECHO }, { 54, F_LFLAG, ECHOE }, { 55, F_LFLAG, ECHOK },
	{ 56, F_LFLAG, ECHONL }, { 57, F_LFLAG, NOFLSH }, { 58, F_LFLAG, TOSTOP },
	{ 59, F_LFLAG, IEXTEN }, { 60, F_LFLAG, ECHOCTL }, { 61, F_LFLAG, ECHOKE },
	{ 62, F_LFLAG, PENDIN },
	{ 70, F_OFLAG, OPOST }, { 71, F_OFLAG, OLCUC }, { 72, F_OFLAG, ONLCR },
	{ 73, F_OFLAG, OCRNL }, { 74, F_OFLAG, ONOCR }, { 75, F_OFLAG, ONLRET },
	{ 90, F_CFLAG, CS7 }, { 91, F_CFLAG, CS8 }, { 92, F_CFLAG, PARENB },
	{ 93, F_CFLAG, PARODD },
};

static const struct { uint32_t baud; speed_t code; } speeds[] = {
	{ 0, B0 }, { 50, B50 }, { 75, B75 }, { 110, B110 }, { 134, B134 },
	{ 150, B150 }, { 200, B200 }, { 300, B300 }, { 600, B600 },
	{ 1200, B1200 }, { 1800, B1800 }, { 2400, B2400 }, { 4800, B4800 },
	{ 9600, B9600 }, { 19200, B19200 }, { 38400, B38400 },
	{ 57600, B57600 }, { 115200, B115200 }, { 230400, B230400 },
	{ 460800, B460800 }, { 921600, B921600 },
};

/* The largest listed speed not above baud (unknown rates round down). */
static speed_t speed_code(uint32_t baud)
{
	speed_t best = B0;
	for (size_t i = 0; i < sizeof(speeds) / sizeof(speeds[0]); i++)
		if (speeds[i].baud <= baud)
			best = speeds[i].code;
	return best;
}

static const struct mode_op *find_op(uint8_t opcode)
{
	for (size_t i = 0; i < sizeof(mode_ops) / sizeof(mode_ops[0]); i++)
		if (mode_ops[i].opcode == opcode)
			return &mode_ops[i];
	return NULL;
}

static void set_flag(tcflag_t *field, tcflag_t flag, uint32_t on)
{
	if (on)
		*field |= flag;
	else
		*field &= ~flag;
}

static void apply_op(struct termios *t, const struct mode_op *op, uint32_t v)
{
	switch (op->field) {
	case F_CC:
		/* 255 means "disabled" on the wire */
		t->c_cc[op->flag] = v == 255 ? _POSIX_VDISABLE : (cc_t)v;
		break;
	case F_IFLAG: set_flag(&t->c_iflag, op->flag, v); break;
	case F_LFLAG: set_flag(&t->c_lflag, op->flag, v); break;
	case F_OFLAG: set_flag(&t->c_oflag, op->flag, v); break;
	case F_CFLAG:
		if (op->flag == CS7 || op->flag == CS8) {
			if (v) {
				t->c_cflag &= ~CSIZE;
				t->c_cflag |= op->flag;
			}
		} else {
			set_flag(&t->c_cflag, op->flag, v);
		}
		break;
	}
}

int pty_modes_apply(struct termios *t, const uint8_t *modes, size_t n)
{
	rd_t r;
	rd_init(&r, modes, n);
	while (rd_left(&r) > 0) {
		uint8_t opcode;
		uint32_t v;
		if (rd_u8(&r, &opcode) < 0)
			return -1;
		if (opcode == TTY_OP_END || opcode > TTY_OP_LAST)
			return 0;
		if (rd_u32(&r, &v) < 0)
			return -1;
		if (opcode == TTY_OP_ISPEED)
			cfsetispeed(t, speed_code(v));
		else if (opcode == TTY_OP_OSPEED)
			cfsetospeed(t, speed_code(v));
		else if (find_op(opcode))
			apply_op(t, find_op(opcode), v);
		/* else: unknown opcode with its argument skipped */
	}
	return 0;
}

/* ---------- requests ---------- */

int pty_parse_winsize(rd_t *r, uint32_t *cols, uint32_t *rows, uint32_t *wpx,
		      uint32_t *hpx)
{
	rd_u32(r, cols);
	rd_u32(r, rows);
	rd_u32(r, wpx);
	rd_u32(r, hpx);
	return r->err ? -1 : 0;
}

int pty_parse_request(rd_t *r, struct pty_req *req)
{
	const uint8_t *term;
	size_t tn;
	memset(req, 0, sizeof(*req));
	if (rd_string(r, &term, &tn) < 0 ||
	    pty_parse_winsize(r, &req->cols, &req->rows, &req->wpx, &req->hpx) < 0 ||
	    rd_string(r, &req->modes, &req->modes_len) < 0 || rd_end(r) < 0)
		return -1;
	/* an odd or over-long TERM is dropped rather than truncated */
	if (tn < sizeof(req->term) && !memchr(term, 0, tn) && !memchr(term, '=', tn)) {
		memcpy(req->term, term, tn);
		req->term[tn] = '\0';
	}
	return 0;
}

/* ---------- the pty's life ---------- */

static uint16_t clamp16(uint32_t v)
{
	return v > 0xffff ? 0xffff : (uint16_t)v;
}

static __attribute__((noinline)) void fill_winsize(struct winsize *ws, uint32_t cols, uint32_t rows,
			 uint32_t wpx, uint32_t hpx)
{
	ws->ws_col = clamp16(cols);
	ws->ws_row = clamp16(rows);
	ws->ws_xpixel = clamp16(wpx);
	ws->ws_ypixel = clamp16(hpx);
}

/* login(1)'s ownership: the user, group tty if there is one, 0620. */
static void give_tty_to(const char *path, const struct passwd *pw)
{
	if (geteuid() != 0)
		return;
	struct group *gr = getgrnam("tty");
	gid_t gid = gr ? gr->gr_gid : pw->pw_gid;
	mode_t mode = gr ? 0620 : 0600;
	if (chown(path, pw->pw_uid, gid) < 0 || chmod(path, mode) < 0)
		error("pty %s: cannot give it to %s: %m", path, pw->pw_name);
}

static void apply_request_modes(struct pty *p, const struct pty_req *req)
{
	struct termios t;
	if (tcgetattr(p->slave, &t) < 0)
		return;
	if (pty_modes_apply(&t, req->modes, req->modes_len) < 0)
		verbose("pty %s: malformed terminal modes; applied as far as they parsed", p->path);
	if (tcsetattr(p->slave, TCSANOW, &t) < 0)
		debug("pty %s: tcsetattr: %m", p->path);
}

struct pty *pty_open(const struct pty_req *req, const struct passwd *pw)
{
	struct winsize ws;
	struct pty *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	fill_winsize(&ws, req->cols, req->rows, req->wpx, req->hpx);
	if (openpty(&p->master, &p->slave, p->path, NULL, &ws) < 0) {
		error("openpty: %m");
		free(p);
		return NULL;
	}
	fcntl(p->master, F_SETFD, FD_CLOEXEC);
	fcntl(p->slave, F_SETFD, FD_CLOEXEC);
	str_copy(p->term, sizeof(p->term), req->term);
	p->owner = pw->pw_uid;
	apply_request_modes(p, req);
	give_tty_to(p->path, pw);
	return p;
}

void pty_set_winsize(struct pty *p, uint32_t cols, uint32_t rows, uint32_t wpx,
		     uint32_t hpx)
{
	struct winsize ws;
	fill_winsize(&ws, cols, rows, wpx, hpx);
	if (p->master >= 0)
		ioctl(p->master, TIOCSWINSZ, &ws);
}

int pty_child_attach(struct pty *p)
{
	if (ioctl(p->slave, TIOCSCTTY, 0) < 0)
		return -1;
	for (int fd = 0; fd < 3; fd++)
		if (dup2(p->slave, fd) < 0)
			return -1;
	if (p->slave > 2)
		close(p->slave);
	return 0;
}

void pty_parent_forked(struct pty *p)
{
	if (p->slave >= 0)
		close(p->slave);
	p->slave = -1;
}

int pty_channel_fds(struct pty *p, int *wfd, int *rfd)
{
	*wfd = fcntl(p->master, F_DUPFD_CLOEXEC, 3);
	*rfd = fcntl(p->master, F_DUPFD_CLOEXEC, 3);
	if (*wfd >= 0 && *rfd >= 0)
		return 0;
	if (*wfd >= 0)
		close(*wfd);
	if (*rfd >= 0)
		close(*rfd);
	return -1;
}

void pty_release(struct pty *p)
{
	if (!p)
		return;
	if (geteuid() == 0 && p->path[0]) {
		/* as OpenSSH: back to root, readable/writable again for reuse */
		if (chown(p->path, 0, 0) < 0 || chmod(p->path, 0666) < 0)
			debug("pty %s: cannot give it back: %m", p->path);
	}
	if (p->slave >= 0)
		close(p->slave);
	if (p->master >= 0)
		close(p->master);
	free(p);
}
