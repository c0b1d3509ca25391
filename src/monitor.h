/* monitor: privilege separation of one connection.
 *
 * Process model
 * -------------
 *   listener (root)      accepts, applies MaxStartups and PerSourcePenalties,
 *                        then fork + exec of wombatd itself with the hidden
 *                        flag -R (connection role): a fresh address-space
 *                        layout per connection, nothing inherited in memory.
 *                        The configuration (as `-T` text plus the Match
 *                        blocks) and the host keys (openssh-key-v1) reach the
 *                        new process through a sealed memfd the listener
 *                        writes once per configuration (start, each good
 *                        SIGHUP): what the listener runs with, not what is on
 *                        disk now. See listen.c and main.c.
 *   monitor (root)       the connection process. Holds the host private keys,
 *                        the configuration and access to the user database.
 *                        Forks the pre-auth child and answers the requests
 *                        below over a socketpair, nothing else. After a
 *                        successful authentication it takes the transport
 *                        state back and runs the connection as before
 *                        (channels, sessions; post-auth as the user is a
 *                        later step).
 *   pre-auth child       version exchange, key exchange, packet decryption,
 *                        userauth protocol. Before it reads the first byte
 *                        from the network (sandbox_enter, sandbox.h): host
 *                        private keys replaced by public copies and wiped,
 *                        every fd but the socket and the socketpair closed,
 *                        chroot to an empty root-owned directory, setgroups
 *                        + setresgid + setresuid to the dedicated user,
 *                        RLIMIT_NOFILE/NPROC/FSIZE, no_new_privs, a seccomp
 *                        filter (sandbox.c's BPF; kill on anything else). Its log
 *                        lines go to the monitor (MON_LOG), which writes them.
 *
 * When wombatd is not root, chroot and the uid change are skipped (logged);
 * key separation, rlimits, no_new_privs and seccomp still apply. inetd mode
 * (-i) and systemd socket activation run the same monitor/child pair.
 *
 * Messages
 * --------
 * Every message on the socketpair is  u32 length | u8 type | body  (length
 * counts type and body, at most MON_MSG_MAX). Bodies use the SSH wire types
 * of buf.h and are read with the rd_* API; a body with bytes left over or
 * missing is malformed. A malformed message, an unknown type, or a request
 * outside the state the table gives ends the connection with a log line.
 *
 * | type | request (child -> monitor)     | valid in state  | body                                       | reply (monitor -> child)                     | next state |
 * |------|--------------------------------|-----------------|--------------------------------------------|----------------------------------------------|------------|
 * |  1   | MON_LOG                        | any but DONE    | u32 level, string text                     | none                                         | same       |
 * |  2   | MON_SIGN                       | PREAUTH, USER   | u32 host key index, string alg, string H   | MON_SIGN_REPLY: string signature blob        | same       |
 * |  3   | MON_USER                       | PREAUTH         | string user, string service                | MON_USER_REPLY: bool known, bool usable,     | USER       |
 * |      |                                |                 |                                            |   u32 n, n x string group, string banner     |            |
 * |  4   | MON_PUBKEY                     | USER            | string alg, string key blob, bool has_sig, | MON_AUTH_REPLY: u32 result                   | USER or    |
 * |      |                                |                 |   [string signature]                       |   (0 no, 1 key acceptable / signature good)  | AUTHED     |
 * |  5   | MON_PASSWORD                   | USER            | bool change, string password               | MON_AUTH_REPLY: u32 result (0 no, 1 yes)     | USER or    |
 * |      |                                |                 |                                            |                                              | AUTHED     |
 * |  6   | MON_TRANSPORT                  | AUTHED          | the transport state (monitor.c)            | none; the child exits                        | DONE       |
 * |  7   | MON_MODULI                     | PREAUTH, USER   | u32 min, u32 n, u32 max (bits)             | MON_MODULI_REPLY: bool found, u32 bits,      | same       |
 * |      |                                |                 |                                            |   u32 g, string p, bool from_file, bool      |            |
 * |      |                                |                 |                                            |   missing, bool unsafe, u32 bad, u32 first   |            |
 *
 * SIGN: H must be as long as the key exchange's hash (32, 48 or 64 bytes) and
 * the algorithm one the key serves. Each SIGN is one key exchange as the
 * monitor counts them: the first H is the session id (which the monitor then
 * uses for the user's publickey signature and checks in TRANSPORT), and at
 * most MON_MAX_PREAUTH_KEX are signed before authentication. Replies are
 * u32 length | u8 type | body as well (MON_SIGN_REPLY 64, MON_USER_REPLY 65,
 * MON_AUTH_REPLY 66). PUBKEY with a signature and PASSWORD that succeed move
 * to AUTHED; failures are counted, and more than twice MaxAuthTries checks
 * end the connection (the child enforces MaxAuthTries itself first).
 * MODULI: the group exchange's group is chosen by the monitor, which can read
 * ModuliFile (the child, chrooted and without open(2), cannot); at most
 * MON_MAX_PREAUTH_KEX of them before authentication, like SIGN.
 */
#ifndef WOMBAT_MONITOR_H
#define WOMBAT_MONITOR_H

#include <stddef.h>
#include <stdint.h>
#include "buf.h"
#include "hostkey.h"

struct conn;

enum mon_type {
	MON_LOG = 1, MON_SIGN = 2, MON_USER = 3, MON_PUBKEY = 4, MON_PASSWORD = 5,
	MON_TRANSPORT = 6, MON_MODULI = 7,
	MON_SIGN_REPLY = 64, MON_USER_REPLY = 65, MON_AUTH_REPLY = 66, MON_MODULI_REPLY = 67,
};

enum mon_state { MS_PREAUTH, MS_USER, MS_AUTHED, MS_DONE };

#define MON_MSG_MAX (2u * 1024u * 1024u)
#define MON_MAX_PREAUTH_KEX 8

/* The monitor's view of one connection before authentication. */
struct monitor {
	enum mon_state state;
	struct conn *c;               /* the connection the monitor will resume */
	struct sshkey **hostkeys;
	int n_hostkeys;
	uint8_t session_id[64];
	size_t session_id_len;
	int n_signed;                 /* key exchanges signed so far */
	int n_moduli;                 /* group exchange groups chosen so far */
	int n_checks;                 /* PUBKEY + PASSWORD requests */
	char err[200];                /* why dispatch ended the connection */
};

/* ---- the monitor side ---- */

void monitor_init(struct monitor *m, struct conn *c, struct sshkey **hostkeys,
		  int n_hostkeys);
/* One complete message (type byte and body). Writes any reply into reply
 * (left empty when there is none). 0 ok, 1 the transport state arrived
 * (state DONE), -1 the connection must end (m->err says why; logged by
 * the caller). */
int monitor_dispatch(struct monitor *m, const uint8_t *msg, size_t len, buf_t *reply);

/* ---- the child side: set once the sandboxed child runs ---- */

/* The child's end of the socketpair; -1 in a process without a monitor
 * (the fuzz harnesses, the unit tests): then the calls below are not used
 * and auth/kex decide in-process. */
void mon_set_fd(int fd);
int mon_active(void);
/* Send a log line to the monitor (log.c's sink in the child). */
void mon_log(int level, const char *text);
/* Requests: -1 when the monitor is gone or answered nonsense (the child
 * then ends). */
int mon_sign(int key_index, const char *alg, const uint8_t *h, size_t hl, buf_t *sig);
struct mon_user_answer {
	int known, usable;
	char *groups[65];             /* NULL-terminated, malloc'd */
	int n_groups;
	char *banner;                 /* NULL: none */
	size_t banner_len;
};
int mon_user(const char *user, const char *service, struct mon_user_answer *ans);
void mon_user_answer_free(struct mon_user_answer *ans);
int mon_pubkey(const char *alg, const uint8_t *blob, size_t bloblen, const uint8_t *sig,
	       size_t sigl, int has_sig);
int mon_password(int change, const char *password);
struct dh_group;
struct dhgroup_scan;
/* The monitor's choice of a group exchange group (dhgroup_choose on its
 * side): 0 and *grp filled, 1 no group in range, -1 monitor gone. */
int mon_moduli(uint32_t min, uint32_t want, uint32_t max, struct dh_group *grp,
	       struct dhgroup_scan *scan);
/* Send a complete framed message (used for MON_TRANSPORT). */
int mon_send(uint8_t type, const buf_t *body);

/* Framing helpers shared by both sides: read one message (blocking) into
 * out (type byte first); 0 ok, -1 EOF/error/oversized. */
int mon_read_msg(int fd, buf_t *out);
int mon_write_msg(int fd, uint8_t type, const uint8_t *body, size_t n);

#endif
