/* tty: pseudo-terminals for session channels — the pty-req request
 * (RFC 4254 s6.2) with its encoded terminal modes (s8), window-change
 * (s6.7), and the pty's life: allocate, hand to the child as its
 * controlling terminal, give back. */
#ifndef WOMBAT_TTY_H
#define WOMBAT_TTY_H

#include <pwd.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <termios.h>
#include "buf.h"

#define PTY_TERM_MAX 64

struct pty_req {
	char term[PTY_TERM_MAX];      /* TERM value, may be empty */
	uint32_t cols, rows, wpx, hpx;
	const uint8_t *modes;         /* points into the request packet */
	size_t modes_len;
};

struct pty {
	int master;                   /* ours; -1 once released */
	int slave;                    /* ours until the child has it, then -1 */
	char path[64];                /* "/dev/pts/N" */
	char term[PTY_TERM_MAX];
	uid_t owner;
};

/* Parse the body of a pty-req (after want-reply). -1 = malformed. */
int pty_parse_request(rd_t *r, struct pty_req *req);
/* Parse the body of a window-change: cols, rows, width px, height px. */
int pty_parse_winsize(rd_t *r, uint32_t *cols, uint32_t *rows, uint32_t *wpx,
		      uint32_t *hpx);

/* Apply RFC 4254 s8 encoded modes to a termios. Unknown opcodes 1..159 are
 * skipped (their uint32 argument read); an opcode >= 160 ends parsing, as
 * the RFC says. -1 only when the encoding is malformed (truncated). */
int pty_modes_apply(struct termios *t, const uint8_t *modes, size_t n);

/* Allocate a pty with the request's size and modes, owned by the user
 * (group tty, mode 0620, as login(1) does). NULL on failure (logged). */
struct pty *pty_open(const struct pty_req *req, const struct passwd *pw);
/* TIOCSWINSZ on the master; the foreground process group gets SIGWINCH. */
void pty_set_winsize(struct pty *p, uint32_t cols, uint32_t rows, uint32_t wpx,
		     uint32_t hpx);
/* In the child, after setsid(): make the slave the controlling terminal and
 * stdin/stdout/stderr. Returns -1 on failure (errno set). */
int pty_child_attach(struct pty *p);
/* In the parent after fork: drop our slave so that the master reads EIO
 * once the child side has all gone. */
void pty_parent_forked(struct pty *p);
/* Two master fds for the channel (write side, read side), close-on-exec;
 * the channel closes them. -1 on failure. */
int pty_channel_fds(struct pty *p, int *wfd, int *rfd);
/* Give the tty back to root (0666 as OpenSSH leaves it), close, free. */
void pty_release(struct pty *p);

#endif
