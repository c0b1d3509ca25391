/* account: is this account usable at all, whatever the credential — the
 * checks OpenSSH makes without PAM (locked, expired, password expired,
 * shell, /etc/nologin) — and the dummy password check that makes an
 * unknown or refused user cost what a real one costs. */
#ifndef WOMBAT_ACCOUNT_H
#define WOMBAT_ACCOUNT_H

#include <crypt.h>
#include <pwd.h>
#include <stddef.h>
#include <time.h>

/* Path of the nologin file (a variable so the unit test can point it
 * elsewhere). */
extern const char *account_nologin_path;

/* The shadow file read first (a variable so tests and the fuzz harness can
 * point it elsewhere). */
extern const char *account_shadow_path;

/* A user's shadow entry, as much of it as wombat uses. */
struct shadow_entry {
	char hash[CRYPT_OUTPUT_SIZE];     /* wipe after use */
	long lastchg, max, expire;        /* days; -1 unset */
};

/* Look name up: in account_shadow_path through stdio and line buffers of
 * our own, wiped before returning (glibc's getspnam reads through a FILE
 * buffer it frees unwiped, which kept shadow lines, hashes included, in a
 * session's freed heap for its whole life); a user not in that file goes
 * to getspnam, for the other NSS sources. 1 and *e filled (a hash too long
 * for e->hash reads as "*", which no password matches), or 0: no entry. */
int account_shadow_lookup(const char *name, struct shadow_entry *e);

/* 1 if pw may log in as far as the account itself goes; 0 with the reason
 * in why ("account is locked", "account has expired", ...). `now` is the
 * current time (a parameter for the unit tests). Reads shadow when it can;
 * the hash is wiped after the look. */
int account_usable(const struct passwd *pw, time_t now, char *why, size_t whysz);

/* The same state from a shadow entry's fields, for the unit tests:
 * hash, last change (days since 1970, 0 = must change, -1 = unset), max
 * days (-1 unset), account expiry (days, -1 unset). */
int account_shadow_usable(const char *hash, long lastchg, long max, long expire,
			  time_t now, char *why, size_t whysz);

/* crypt() the password against a dummy hash of the system's scheme and
 * cost (that of the first real hash in shadow, else libxcrypt's default),
 * so that a refused or unknown user takes as long as a real one. Never
 * matches. */
void account_burn_password(const char *password);

/* crypt_r(3) and crypt_gensalt_rn(3). A dynamic build loads libcrypt at
 * the first call (so a key-authenticated session never maps it); when it
 * cannot be loaded they fail (NULL, logged), and so does the password
 * check. Called in the monitor, which may open files. */
char *account_crypt_r(const char *phrase, const char *setting, struct crypt_data *cd);
char *account_crypt_gensalt_rn(char *out, int outsz);

#endif
