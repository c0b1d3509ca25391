/* account: account state before any credential is looked at. */
#include "account.h"

#include <crypt.h>
#ifdef WOMBAT_CRYPT_SONAME
#include <dlfcn.h>
#endif
#include <errno.h>
#include <shadow.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto.h"
#include "log.h"

const char *account_nologin_path = "/etc/nologin";
const char *account_shadow_path = "/etc/shadow";

#define DAY_SECONDS 86400L

/* Locked as usermod -L / passwd -l leave it ("!" in front), or the
 * "*LK*" marker some systems use. A plain "*" (no password, keys only)
 * is not locked. */
static int hash_is_locked(const char *hash)
{
	return hash && (hash[0] == '!' || strstr(hash, "*LK*") != NULL);
}

int account_shadow_usable(const char *hash, long lastchg, long max, long expire,
			  time_t now, char *why, size_t whysz)
{
	long today = (long)(now / DAY_SECONDS);
	if (hash_is_locked(hash)) {
		snprintf(why, whysz, "account is locked");
		return 0;
	}
	/* shadow(5): the account is unusable from the expiry day on */
	if (expire >= 0 && today >= expire) {
		snprintf(why, whysz, "account has expired");
		return 0;
	}
	if (lastchg == 0) {
		snprintf(why, whysz, "password has expired (must be changed)");
		return 0;
	}
	if (lastchg > 0 && max >= 0 && today > lastchg + max) {
		snprintf(why, whysz, "password has expired (older than %ld days)", max);
		return 0;
	}
	return 1;
}

/* ---- reading shadow ----------------------------------------------------- */

/* Longest shadow line taken from the file; a longer one ends the walk (the
 * user is then looked up through getspnam). */
#define SHADOW_LINE_MAX 4096

static void entry_from_spwd(const struct spwd *sp, struct shadow_entry *e)
{
	const char *h = sp->sp_pwdp ? sp->sp_pwdp : "";
	size_t n = strlen(h);
	if (n < sizeof(e->hash))
		memcpy(e->hash, h, n + 1);
	else
		memcpy(e->hash, "*", 2);
	e->lastchg = sp->sp_lstchg;
	e->max = sp->sp_max;
	e->expire = sp->sp_expire;
}

/* Call visit for each entry of account_shadow_path until it returns
 * nonzero; returns that value, or 0 (end, or no readable file). Every
 * buffer the lines pass through is ours and wiped here. */
static int shadow_walk(int (*visit)(const struct spwd *sp, void *arg), void *arg)
{
	char iobuf[BUFSIZ], line[SHADOW_LINE_MAX];
	struct spwd sp, *res;
	int rc = 0;
	FILE *f = fopen(account_shadow_path, "re");
	if (!f)
		return 0;
	setvbuf(f, iobuf, _IOFBF, sizeof(iobuf));
	while (rc == 0 && fgetspent_r(f, &sp, line, sizeof(line), &res) == 0)
		rc = visit(&sp, arg);
	fclose(f);
	wipe(iobuf, sizeof(iobuf));
	wipe(line, sizeof(line));
	wipe(&sp, sizeof(sp));
	return rc;
}

struct lookup {
	const char *name;
	struct shadow_entry *e;
};

static int visit_lookup(const struct spwd *sp, void *arg)
{
	struct lookup *l = arg;
	if (!sp->sp_namp || strcmp(sp->sp_namp, l->name) != 0)
		return 0;
	entry_from_spwd(sp, l->e);
	return 1;
}

int account_shadow_lookup(const char *name, struct shadow_entry *e)
{
	struct lookup l = { name, e };
	if (shadow_walk(visit_lookup, &l))
		return 1;
	struct spwd *sp = getspnam(name);
	if (!sp)
		return 0;
	entry_from_spwd(sp, e);
	if (sp->sp_pwdp)
		wipe(sp->sp_pwdp, strlen(sp->sp_pwdp));   /* libc's static copy */
	return 1;
}

/* The shadow entry's state; 1 when there is none (no shadow, or an
 * unprivileged daemon that cannot read it — it admits only its own user). */
static int shadow_usable(const char *name, time_t now, char *why, size_t whysz)
{
	struct shadow_entry e;
	if (!account_shadow_lookup(name, &e))
		return 1;
	int ok = account_shadow_usable(e.hash, e.lastchg, e.max, e.expire, now, why, whysz);
	wipe(&e, sizeof(e));
	return ok;
}

/* The login shell must exist and be executable (an empty one is /bin/sh). */
static int shell_usable(const struct passwd *pw, char *why, size_t whysz)
{
	const char *shell = pw->pw_shell && pw->pw_shell[0] ? pw->pw_shell : "/bin/sh";
	struct stat st;
	if (stat(shell, &st) < 0) {
		snprintf(why, whysz, "shell %s does not exist", shell);
		return 0;
	}
	if (!S_ISREG(st.st_mode) || !(st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH))) {
		snprintf(why, whysz, "shell %s is not executable", shell);
		return 0;
	}
	return 1;
}

int account_usable(const struct passwd *pw, time_t now, char *why, size_t whysz)
{
	if (!shadow_usable(pw->pw_name, now, why, whysz))
		return 0;
	if (!shell_usable(pw, why, whysz))
		return 0;
	/* sshd(8): with /etc/nologin only root may log in */
	if (pw->pw_uid != 0 && access(account_nologin_path, F_OK) == 0) {
		snprintf(why, whysz, "%s exists", account_nologin_path);
		return 0;
	}
	return 1;
}

/* ---- libcrypt ------------------------------------------------------------ */

#ifdef WOMBAT_CRYPT_SONAME
/* Loaded by its SONAME (configure) at the first password check: about 10
 * KiB per connection process that never checks one. Into the global scope,
 * and the functions looked up there, as a linked call would find them (an
 * LD_PRELOAD interposer, such as test_access's crypt spy, comes first). A
 * failed load is logged and tried again at the next check. */
static __typeof__(&crypt_r) libcrypt_crypt_r;
static __typeof__(&crypt_gensalt_rn) libcrypt_gensalt_rn;

static int libcrypt_load(void)
{
	if (libcrypt_crypt_r && libcrypt_gensalt_rn)
		return 0;
	if (dlopen(WOMBAT_CRYPT_SONAME, RTLD_NOW | RTLD_GLOBAL)) {
		libcrypt_crypt_r = (__typeof__(&crypt_r))dlsym(RTLD_DEFAULT, "crypt_r");
		libcrypt_gensalt_rn =
			(__typeof__(&crypt_gensalt_rn))dlsym(RTLD_DEFAULT, "crypt_gensalt_rn");
	}
	if (!libcrypt_crypt_r || !libcrypt_gensalt_rn) {
		error("password check impossible: cannot load %s: %s", WOMBAT_CRYPT_SONAME,
		      dlerror());
		libcrypt_crypt_r = NULL;
		return -1;
	}
	return 0;
}

char *account_crypt_r(const char *phrase, const char *setting, struct crypt_data *cd)
{
	return libcrypt_load() == 0 ? libcrypt_crypt_r(phrase, setting, cd) : NULL;
}

char *account_crypt_gensalt_rn(char *out, int outsz)
{
	return libcrypt_load() == 0 ? libcrypt_gensalt_rn(NULL, 0, NULL, 0, out, outsz) : NULL;
}
#else
char *account_crypt_r(const char *phrase, const char *setting, struct crypt_data *cd)
{
	return crypt_r(phrase, setting, cd);
}

char *account_crypt_gensalt_rn(char *out, int outsz)
{
	return crypt_gensalt_rn(NULL, 0, NULL, 0, out, outsz);
}
#endif

/* ---- the dummy password check ------------------------------------------ */

/* The setting part of a hash (scheme, cost, salt), without the hash
 * itself, which is not kept: bcrypt's is its first 29 characters, the
 * others' ends at the last '$'. */
static void keep_setting_only(char *h)
{
	if (strncmp(h, "$2", 2) == 0) {
		if (strlen(h) > 29)
			wipe(h + 29, strlen(h + 29));
		return;
	}
	char *last = strrchr(h, '$');
	if (last && last[1])
		wipe(last + 1, strlen(last + 1));
}

/* A setting of the system's scheme and cost: that of the first real hash
 * in shadow, else a fresh salt of libxcrypt's default scheme. Found once
 * per process. */
static int visit_first_setting(const struct spwd *sp, void *arg)
{
	char *setting = arg;
	if (!sp->sp_pwdp || sp->sp_pwdp[0] != '$' || strlen(sp->sp_pwdp) >= CRYPT_OUTPUT_SIZE)
		return 0;
	str_copy(setting, CRYPT_OUTPUT_SIZE, sp->sp_pwdp);
	keep_setting_only(setting);
	return 1;
}

static const char *dummy_setting(void)
{
	static char setting[CRYPT_OUTPUT_SIZE];
	if (setting[0])
		return setting;
	if (!shadow_walk(visit_first_setting, setting) &&
	    !account_crypt_gensalt_rn(setting, sizeof(setting)))
		snprintf(setting, sizeof(setting), "$6$wombatdummysalt$");
	return setting;
}

void account_burn_password(const char *password)
{
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	if (!cd)
		return;
	(void)!account_crypt_r(password ? password : "", dummy_setting(), cd);
	wipe(cd, sizeof(*cd));
	free(cd);
}
