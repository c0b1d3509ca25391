/* Set-up shared by the harnesses that drive the channel layer against a
 * fake connection (fuzz_channel, fuzz_forward): their configurations,
 * loaded through config.c as a file would be, and the user the process
 * runs as, copied so that later getpw* calls cannot overwrite it. */
#ifndef WOMBAT_FUZZ_CONN_H
#define WOMBAT_FUZZ_CONN_H

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "fuzz_util.h"

struct fuzz_user {
	struct passwd pw;
	char name[64], dir[256], shell[64];
};

/* Load texts[0..n) into cfgs[0..n); a text that does not load is the
 * harness's own bug: abort, naming it. */
static inline void fuzz_load_configs(struct config *cfgs, const char *const *texts, int n,
				     const char *harness)
{
	for (int i = 0; i < n; i++) {
		char err[512];
		config_defaults(&cfgs[i]);
		if (config_load_file(&cfgs[i], fuzz_tmp_write((const uint8_t *)texts[i],
							      strlen(texts[i])),
				     err, sizeof(err)) < 0) {
			fprintf(stderr, "%s: config %d: %s\n", harness, i, err);
			abort();
		}
	}
}

static inline void fuzz_user_self(struct fuzz_user *u)
{
	struct passwd *pw = getpwuid(getuid());
	if (!pw)
		abort();
	snprintf(u->name, sizeof(u->name), "%s", pw->pw_name);
	snprintf(u->dir, sizeof(u->dir), "%s", pw->pw_dir);
	snprintf(u->shell, sizeof(u->shell), "%s", pw->pw_shell);
	u->pw = *pw;
	u->pw.pw_name = u->name;
	u->pw.pw_dir = u->dir;
	u->pw.pw_shell = u->shell;
	u->pw.pw_passwd = (char *)"x";
	u->pw.pw_gecos = (char *)"";
}

#endif
