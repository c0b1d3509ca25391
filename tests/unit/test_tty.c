/* tty: RFC 4254 s8 terminal modes onto a termios, pty-req parsing. */
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "unit.h"
#include "buf.h"
#include "tty.h"

static size_t put_op(uint8_t *p, uint8_t op, uint32_t v)
{
	p[0] = op;
	p[1] = (uint8_t)(v >> 24);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 8);
	p[4] = (uint8_t)v;
	return 5;
}

static void test_modes(void)
{
	struct termios t;
	uint8_t m[64];
	size_t n = 0;
	memset(&t, 0, sizeof(t));
	t.c_lflag = ECHO;
	t.c_cc[VERASE] = 0x7f;
	n += put_op(m + n, 1, 3);          /* VINTR ^C */
	n += put_op(m + n, 3, 255);        /* VERASE disabled */
	n += put_op(m + n, 53, 0);         /* ECHO off */
	n += put_op(m + n, 50, 1);         /* ISIG on */
	n += put_op(m + n, 36, 1);         /* ICRNL */
	n += put_op(m + n, 72, 1);         /* ONLCR */
	n += put_op(m + n, 91, 1);         /* CS8 */
	n += put_op(m + n, 100, 7);        /* unknown: skipped */
	n += put_op(m + n, 128, 38400);    /* ISPEED */
	n += put_op(m + n, 129, 9600);     /* OSPEED */
	m[n++] = 0;                        /* TTY_OP_END */
	CHECK(pty_modes_apply(&t, m, n) == 0);
	CHECK(t.c_cc[VINTR] == 3);
	CHECK(t.c_cc[VERASE] == _POSIX_VDISABLE);
	CHECK(!(t.c_lflag & ECHO));
	CHECK(t.c_lflag & ISIG);
	CHECK(t.c_iflag & ICRNL);
	CHECK(t.c_oflag & ONLCR);
	CHECK((t.c_cflag & CSIZE) == CS8);
	/* glibc keeps one speed for both directions: the last one set wins */
	CHECK(cfgetospeed(&t) == B9600);
	n = put_op(m, 128, 38400);
	CHECK(pty_modes_apply(&t, m, n) == 0);
	CHECK(cfgetispeed(&t) == B38400);
	n = put_op(m, 129, 1000000);       /* unlisted rate: rounds down */
	CHECK(pty_modes_apply(&t, m, n) == 0);
	CHECK(cfgetospeed(&t) == B921600);

	/* opcode >= 160 stops parsing: what follows is not applied */
	memset(&t, 0, sizeof(t));
	n = 0;
	m[n++] = 200;
	n += put_op(m + n, 53, 1);
	CHECK(pty_modes_apply(&t, m, n) == 0);
	CHECK(!(t.c_lflag & ECHO));

	/* truncated argument: malformed, earlier ops applied */
	memset(&t, 0, sizeof(t));
	n = put_op(m, 53, 1);
	m[n++] = 50;
	m[n++] = 0;
	CHECK(pty_modes_apply(&t, m, n) == -1);
	CHECK(t.c_lflag & ECHO);

	/* empty modes are fine */
	CHECK(pty_modes_apply(&t, m, 0) == 0);
}

static void test_parse_request(void)
{
	buf_t b;
	rd_t r;
	struct pty_req req;
	buf_init(&b, 256, 4096);
	buf_put_cstring(&b, "xterm");
	buf_put_u32(&b, 80);
	buf_put_u32(&b, 24);
	buf_put_u32(&b, 640);
	buf_put_u32(&b, 480);
	buf_put_string(&b, "\x35\0\0\0\x01\0", 6);
	rd_init(&r, buf_data(&b), buf_used(&b));
	CHECK(pty_parse_request(&r, &req) == 0);
	CHECK(strcmp(req.term, "xterm") == 0);
	CHECK(req.cols == 80 && req.rows == 24 && req.wpx == 640 && req.hpx == 480);
	CHECK(req.modes_len == 6);

	/* trailing garbage and truncation are malformed */
	buf_put_u8(&b, 1);
	rd_init(&r, buf_data(&b), buf_used(&b));
	CHECK(pty_parse_request(&r, &req) == -1);
	rd_init(&r, buf_data(&b), 10);
	CHECK(pty_parse_request(&r, &req) == -1);

	/* a TERM with '=' is dropped, not passed on */
	buf_reset(&b);
	buf_put_cstring(&b, "a=b");
	for (int i = 0; i < 4; i++)
		buf_put_u32(&b, 0);
	buf_put_cstring(&b, "");
	rd_init(&r, buf_data(&b), buf_used(&b));
	CHECK(pty_parse_request(&r, &req) == 0);
	CHECK(req.term[0] == '\0');
	buf_free(&b);
}

int main(void)
{
	test_modes();
	test_parse_request();
	return UNIT_DONE();
}
