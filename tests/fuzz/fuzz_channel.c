/* fuzz_channel: the connection protocol after authentication — src/channel.c
 * chan_dispatch and, through it, src/session.c's requests (pty-req, env,
 * window-change, signal, eow@openssh.com, ...) — with a stub connection as
 * tests/unit/test_channel.c uses (conn.o is not linked in).
 *
 * Input: [flags][u16 len][message][u16 len][message]...
 * A message's first byte is its number: 90..100 go to chan_dispatch as
 * they are; 0..7 are events of the connection loop instead (chan_kick,
 * ChannelTimeout expiry an hour later, a keepalive, an unrelated child
 * reaped, back-pressure on/off, chan_pollfds); any other number is folded
 * into 90..100. Dispatch stops at the first protocol error (-1), as the
 * connection would, then chan_free ends everything.
 * flags: bit 0: an authenticated user (else conn_user is NULL); bit 1:
 * the key's options (no-pty, command=, environment=); bits 2..3: one of the
 * configurations below.
 *
 * Nothing is ever spawned: without a user, session_launch refuses before
 * any process is made; with one, exec, shell and subsystem requests are
 * dropped by the harness before dispatch (so with a user those three are
 * not exercised; without one they are parsed and refused). fork() is
 * defined here to abort, as a guard. pty-req does open a real pty (with a
 * user), released by chan_free; the process's open fds are checked to be
 * the same after every input.
 *
 * Not reached: the fd pumping (DATA out, windows spent, the close
 * protocol after a child's exit), which needs a child's pipes. */
#include <dirent.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alive.h"
#include "authfile.h"
#include "buf.h"
#include "channel.h"
#include "config.h"
#include "conn.h"
#include "fuzz_conn.h"
#include "fuzz_util.h"
#include "packet.h"

/* DisableForwarding: the forwarding types are parsed and then refused, so
 * that nothing is looked up (fork) or connected to from the fuzzer. */
static const char *const config_texts[4] = {
	"AcceptEnv LANG LC_*\nDisableForwarding yes\n",
	("MaxSessions 2\nPermitTTY no\nChannelTimeout session=1\nCloseOnChildExit yes\n"
	 "DisableForwarding yes\n"),
	("ForceCommand /bin/true\nSubsystem sftp /usr/lib/openssh/sftp-server\n"
	 "AcceptEnv *\nSetEnv X=y\nDisableForwarding yes\n"),
	"MaxSessions 0\nChannelTimeout global=5\nDisableForwarding yes\n",
};
static struct config configs[4];
static struct fuzz_user user;

/* ---- the stub connection ----------------------------------------------- */

struct conn {
	const struct config *cfg;
	int have_user, have_opts;
	struct authkey_opts opts;
	size_t queued;
	buf_t out;
	unsigned sent[256];
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
	const uint8_t *p = buf_data(&c->out);
	size_t n = buf_used(&c->out);
	if (n == 0 || n > PACKET_MAX_PAYLOAD)
		abort();
	c->sent[p[0]]++;
	return 0;
}

/* channel data goes through conn_pkt_start/conn_pkt_send (the copying
 * path), which checks every payload */
uint8_t *conn_pkt_room(struct conn *c, size_t n, size_t len, size_t *stride)
{
	(void)c, (void)n, (void)len, (void)stride;
	return NULL;
}
int conn_pkt_seal(struct conn *c, size_t len) { (void)c, (void)len; abort(); }
size_t conn_out_queued(const struct conn *c) { return c->queued; }
const struct config *conn_config(const struct conn *c) { return c->cfg; }
/* DATA payloads are lent until chan_flush_input, as from the packet
 * buffer: each message's copy is freed right after that flush, so ASan
 * sees any lent payload used later */
int conn_payload_lendable(const struct conn *c) { (void)c; return 1; }
const struct passwd *conn_user(const struct conn *c) { return c->have_user ? &user.pw : NULL; }
const struct authkey_opts *conn_authkey_opts(const struct conn *c)
{
	return c->have_opts ? &c->opts : NULL;
}
const char *conn_peer_addr(const struct conn *c) { (void)c; return "192.0.2.7"; }
int conn_peer_port(const struct conn *c) { (void)c; return 50022; }
const char *conn_local_addr(const struct conn *c) { (void)c; return "192.0.2.1"; }
int conn_local_port(const struct conn *c) { (void)c; return 22; }

/* Guard: nothing here may start a process. */
pid_t fork(void)
{
	fprintf(stderr, "fuzz_channel: fork() called\n");
	abort();
}

/* ---- set-up ------------------------------------------------------------ */

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_setup();
	fuzz_load_configs(configs, config_texts, 4, "fuzz_channel");
	/* the user the process runs as (a pty is given to it and back) */
	fuzz_user_self(&user);
	return 0;
}

static void set_key_options(struct authkey_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->no_pty = 1;
	o->command = strdup("/bin/true");
	o->environment[0] = strdup("FROM_KEY=1");
	o->n_environment = 1;
}

/* ---- messages ---------------------------------------------------------- */

/* With a user, a request that would start a process is dropped. */
static int would_spawn(const uint8_t *p, size_t n)
{
	rd_t r;
	uint32_t id;
	const uint8_t *type;
	size_t tn;
	rd_init(&r, p, n);
	if (rd_u32(&r, &id) < 0 || rd_string(&r, &type, &tn) < 0)
		return 0;
	return (tn == 4 && memcmp(type, "exec", 4) == 0) ||
	       (tn == 5 && memcmp(type, "shell", 5) == 0) ||
	       (tn == 9 && memcmp(type, "subsystem", 9) == 0);
}

static void event(struct chanset *cs, uint8_t ev)
{
	struct pollfd pfds[64];
	switch (ev) {
	case 0: chan_kick(cs); break;
	case 1: chan_expire_idle(cs, alive_now_ms() + 3600 * 1000); break;
	case 2: (void)chan_send_keepalive(cs); break;
	case 3: chan_child_exited(cs, 999999, 0); break;       /* not ours */
	case 4: the_conn.queued = CONN_OUT_HIGH + 1; break;
	case 5: the_conn.queued = 0; chan_kick(cs); break;
	case 6: (void)chan_next_timeout_ms(cs, alive_now_ms()); break;
	default:
		if (chan_pollfds(cs, pfds, 64) > 64)
			abort();
		break;
	}
}

/* -1 when the connection would end. */
static int one_message(struct chanset *cs, const uint8_t *part, size_t plen)
{
	uint8_t msg = part[0];
	if (msg < 8) {
		event(cs, msg);
		return 0;
	}
	if (msg < SSH_MSG_CHANNEL_OPEN || msg > SSH_MSG_CHANNEL_FAILURE)
		msg = (uint8_t)(SSH_MSG_CHANNEL_OPEN + msg % 11);
	if (msg == SSH_MSG_CHANNEL_REQUEST && the_conn.have_user &&
	    would_spawn(part + 1, plen - 1))
		return 0;
	uint8_t *copy = fuzz_dup(part + 1, plen - 1);
	rd_t r;
	rd_init(&r, copy, plen - 1);
	int rc = chan_dispatch(cs, msg, &r);
	chan_flush_input(cs);   /* as conn does after each batch */
	free(copy);
	if (chan_count(cs) > CHAN_MAX_CHANNELS)
		abort();
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t flags = data[0];
	data++;
	size--;

	int fds_before = count_fds();
	struct conn *c = &the_conn;
	memset(c, 0, sizeof(*c));
	if (buf_init(&c->out, 1024, PACKET_MAX_PAYLOAD) < 0)
		abort();
	c->cfg = &configs[(flags >> 2) & 3];
	c->have_user = flags & 1;
	c->have_opts = (flags & 2) != 0;
	if (c->have_opts)
		set_key_options(&c->opts);

	struct chanset *cs = chan_init(c);
	if (!cs)
		abort();
	const uint8_t *part;
	size_t plen;
	while (fuzz_next_part(&data, &size, &part, &plen))
		if (plen > 0 && one_message(cs, part, plen) < 0)
			break;
	/* a session that reached its limit refuses more */
	if (chan_count(cs) > (c->cfg->max_sessions > 0 ? c->cfg->max_sessions : 0))
		abort();
	chan_free(cs);
	if (c->have_opts)
		authkey_opts_free(&c->opts);
	buf_free(&c->out);

	/* fds are counted around the run only: libFuzzer opens its own
	 * between inputs (the symbolizer's pipes for NEW_FUNC lines) */
	int fds_after = count_fds();
	if (fds_after != fds_before) {
		fprintf(stderr, "%s: %d open fds after this input, %d before\n",
			"fuzz_channel", fds_after, fds_before);
		abort();
	}
	return 0;
}
