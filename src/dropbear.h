/* dropbear: wombatd started as "dropbear" (a symlink) takes dropbear(8)'s
 * server command line, so that an init script written for dropbear (such
 * as OpenWrt's) starts wombatd unchanged. Each dropbear flag becomes
 * wombatd's own flag or an sshd_config option given as -o; a flag wombat
 * has no meaning for is refused by name. Everything after "--wombat" is
 * passed on as wombatd's own flags (`dropbear -p 22 --wombat -T` prints the
 * effective configuration). The README's "Replacing dropbear" has the table. */
#ifndef WOMBAT_DROPBEAR_H
#define WOMBAT_DROPBEAR_H

#include <stddef.h>
#include "config.h"

#define DROPBEAR_MAX_ARGS 200
#define DROPBEAR_KEY_DIR "/etc/dropbear"
#define DROPBEAR_PID_FILE "/var/run/dropbear.pid"

struct dropbear_cmd {
	/* wombatd's command line: argv[0], then "--wombat" and its flags */
	char *argv[DROPBEAR_MAX_ARGS + 1];
	int argc;
	int pid_in_foreground;      /* dropbear writes its pid file with -F too */
	/* -R: host key files to create when missing (dropbear format) */
	char *create[CFG_MAX_LIST];
	int n_create;
	/* a warning for the log once it is open ("" none): -W was adjusted */
	char note[160];
};

/* Is this program name (argv[0]) dropbear's? */
int dropbear_invoked(const char *argv0);
/* Translate dropbear's flags. 0: out is filled; 1: done already (-h, -V
 * printed what they print); -1: err says which flag is wrong or has no
 * meaning in wombat. */
int dropbear_translate(int argc, char **argv, struct dropbear_cmd *out, char *err,
		       size_t errsz);
/* -R: create each missing file in out->create (ed25519 unless the name
 * says rsa or ecdsa, as dropbear's default names do). Failures are logged;
 * loading the key then reports the missing file. */
void dropbear_create_keys(const struct dropbear_cmd *c);
void dropbear_cmd_free(struct dropbear_cmd *c);

#endif
