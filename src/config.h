/* config: sshd_config syntax and option names (sshd_config(5)) plus wombat's
 * own options. A bad line is an error naming file, line and option. */
#ifndef WOMBAT_CONFIG_H
#define WOMBAT_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CFG_MAX_LIST 32
/* RekeyLimit's time default: 1 hour, as the project asks (OpenSSH's own
 * default has no time limit; "RekeyLimit default none" gives that). */
#define DEFAULT_REKEY_SECONDS 3600
#define CFG_N_KEYWORDS 128
/* ChannelWindowSize: the receive window each channel announces, in bytes.
 * The default is 2 MiB; below 4 KiB a window adjust would be due every
 * few packets, and 16 MiB (above dropbear's 10 MiB -W limit) bounds what a
 * stalled reader can leave buffered per channel. */
#define CFG_CHANNEL_WINDOW_DEFAULT (2L * 1024 * 1024)
#define CFG_CHANNEL_WINDOW_MIN     (4L * 1024)
#define CFG_CHANNEL_WINDOW_MAX     (16L * 1024 * 1024)

struct cfg_match;
enum permit_root { PERMIT_ROOT_NO, PERMIT_ROOT_YES, PERMIT_ROOT_PROHIBIT_PASSWORD,
		   PERMIT_ROOT_FORCED_COMMANDS_ONLY };
enum kill_mode { KILL_PROCESS, KILL_CONTROL_GROUP, KILL_MIXED, KILL_NONE };

/* PerSourcePenalties (durations in seconds) and PerSourceNetBlockSize. All
 * ints, compared with memcmp. */
struct penalty_cfg {
	int enabled;
	int crash, authfail, noauth, grace_exceeded;
	int max, min;
	int max_sources4, max_sources6;
	int overflow_deny4, overflow_deny6;  /* 0 permissive, 1 deny-all */
	int netblock4, netblock6;            /* prefix lengths */
};

struct config {
	/* listening */
	int ports[CFG_MAX_LIST];             int n_ports;
	char *listen_addrs[CFG_MAX_LIST];    int n_listen_addrs; /* "addr" or "addr:port" */
	char *host_keys[CFG_MAX_LIST];       int n_host_keys;
	char *pid_file;
	int max_startups;                    /* start of random early drop; simple form */
	int max_startups_rate, max_startups_full; /* MaxStartups a:rate:full */
	int address_family;                  /* AF_UNSPEC (any), AF_INET, AF_INET6 */
	struct penalty_cfg penalties;        /* PerSourcePenalties, PerSourceNetBlockSize */
	char *penalty_exempt;                /* PerSourcePenaltyExemptList, NULL = none */
	/* logging */
	int log_level;                       /* enum log_level */
	int syslog_facility;
	/* auth */
	int permit_root_login;               /* enum permit_root */
	int pubkey_authentication;
	int password_authentication;
	int permit_empty_passwords;
	int kbd_interactive_authentication;
	char *authorized_keys_files[CFG_MAX_LIST]; int n_authorized_keys_files;
	int strict_modes;
	int max_auth_tries;
	int login_grace_time;                /* seconds, 0 = none */
	char *allow_users[CFG_MAX_LIST];     int n_allow_users;
	char *deny_users[CFG_MAX_LIST];      int n_deny_users;
	char *allow_groups[CFG_MAX_LIST];    int n_allow_groups;
	char *deny_groups[CFG_MAX_LIST];     int n_deny_groups;
	char *banner;                        /* path or NULL ("none") */
	int permit_user_environment;
	char *permit_user_env_pattern;       /* PermitUserEnvironment pattern-list, or NULL */
	/* algorithms (comma lists, already validated) */
	char *ciphers, *macs, *kex_algorithms, *host_key_algorithms;
	char *pubkey_accepted_algorithms, *ca_signature_algorithms;
	char *moduli_file;                   /* group exchange groups (moduli(5)) */
	int compression;                     /* 0 no, 1 yes (delayed) */
	uint64_t rekey_bytes;                /* 0 = default (1 GiB) */
	int rekey_seconds;                   /* 0 = none */
	/* sessions */
	int max_sessions;
	int permit_tty;
	int print_motd;
	int print_last_log;
	char *accept_env[CFG_MAX_LIST];      int n_accept_env;
	char *set_env[CFG_MAX_LIST];         int n_set_env;   /* NAME=VALUE */
	char *subsystem_names[CFG_MAX_LIST];
	char *subsystem_cmds[CFG_MAX_LIST];  int n_subsystems;
	char *force_command;
	/* timers */
	int client_alive_interval;           /* seconds, 0 = off */
	int client_alive_count_max;
	int tcp_keep_alive;
	char *channel_timeout[CFG_MAX_LIST]; int n_channel_timeout; /* "type=secs" */
	int unused_connection_timeout;       /* seconds, 0 = none */
	/* forwarding */
	int allow_tcp_forwarding;            /* 0 no, 1 yes, 2 local, 3 remote */
	/* n == 0 means "any"; a single entry "none" means none */
	char *permit_open[CFG_MAX_LIST];     int n_permit_open;   /* host:port */
	char *permit_listen[CFG_MAX_LIST];   int n_permit_listen; /* [host:]port */
	int gateway_ports;                   /* 0 no, 1 yes, 2 clientspecified */
	int allow_agent_forwarding;
	int allow_streamlocal_forwarding;    /* as allow_tcp_forwarding */
	int disable_forwarding;              /* overrides all the above */
	int streamlocal_bind_mask;           /* umask for Unix sockets we bind */
	int streamlocal_bind_unlink;
	int forward_connect_timeout;         /* seconds: lookup + connect (wombat) */
	/* accepted from OpenSSH configs, not supported by wombat: "yes" is
	 * logged as ignored when the file is loaded */
	int x11_forwarding;
	int use_pam;
	int use_dns;
	/* wombat */
	int close_on_child_exit;
	int session_kill_mode;               /* enum kill_mode */
	int session_kill_signal;             /* signal number */
	int session_kill_timeout;            /* seconds */
	char *session_cgroup_root;           /* NULL: under the daemon's own cgroup */
	int session_kill_fallback_pgrp;
	int channel_window;                  /* bytes (ChannelWindowSize) */
	/* internal: Match blocks kept for config_match, and which keywords have
	 * been set (first value wins) */
	struct cfg_match *matches;           int n_matches;
	unsigned char seen[CFG_N_KEYWORDS];
};

/* Fill with built-in defaults (OpenSSH's, plus wombat's). c need not be
 * initialised (nothing is freed). */
void config_defaults(struct config *c);
void config_free(struct config *c);
/* dst is overwritten without being freed first. */
void config_copy(struct config *dst, const struct config *src);
/* 1 if every option value is equal (Match blocks are not compared). */
int config_equal(const struct config *a, const struct config *b);

/* 1 if a Match block has a Group criterion: only then does applying Match
 * need the user's groups (a lookup costs a process, auth.c). */
int config_matches_on_group(const struct config *c);

/* Parse a file (Include and Match blocks recorded for config_match).
 * Errors go to err as "FILE:LINE: OPTION: reason"; returns -1. */
int config_load_file(struct config *c, const char *path, char *err, size_t errsz);
/* The same from text in memory, named `name` in errors. */
int config_load_text(struct config *c, const char *name, const char *text, size_t len,
		     char *err, size_t errsz);
/* Everything config_load_text needs to rebuild c: the -T lines, then the
 * Match blocks as they were written (the listener's snapshot for the
 * connection processes it executes). */
void config_serialize(const struct config *c, FILE *out);
/* One "Key=Value" or "Key Value" from -o. Same error rules ("command line").
 * A keyword given with -o overrides the file's value for it, whether applied
 * before or after config_load_file; for list options (Port, AcceptEnv, ...)
 * the -o values replace the file's (repeated -o values accumulate). */
int config_apply_option(struct config *c, const char *line, char *err, size_t errsz);
/* What Match criteria are tested against. */
struct match_conn {
	const char *user;                 /* NULL: not known */
	const char *const *groups;        /* NULL-terminated, NULL: not known */
	const char *addr, *host;          /* client address, client host name (NULL) */
	const char *laddr;                /* local address of the connection (NULL) */
	int lport;                        /* local port (0: not known) */
};
/* Apply Match blocks for this connection; a criterion whose value is not
 * known does not match. Call once, on a per-connection copy (config_copy).
 * Returns -1 only if a stored line no longer parses (they are validated at
 * load), after logging it. */
int config_match(struct config *c, const struct match_conn *mc);
/* Call fn with a copy of c as each Match block would leave it if it
 * applied (start-up checks of options that need system support, whoever
 * logs in). -1 if a stored line no longer parses. */
int config_each_match_block(const struct config *c,
			    void (*fn)(const struct config *applied, void *arg), void *arg);
/* The i-th keyword allowed inside a Match block (canonical spelling,
 * aliases and the structural Match/Include excluded), NULL past the end.
 * The tests derive their list of Match-able options from this. */
const char *config_match_keyword(int i);
/* -T output: one "keyword value" line per option, lowercase keywords, as
 * `sshd -T` prints; must read back through config_load_file. */
void config_dump(const struct config *c, FILE *out);

#endif
