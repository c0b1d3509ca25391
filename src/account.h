/* account: is this account usable at all, whatever the credential — the
 * checks OpenSSH makes without PAM (locked, expired, password expired,
 * shell, /etc/nologin) — and the dummy password check that makes an
 * unknown or refused user cost what a real one costs. */
#ifndef WOMBAT_ACCOUNT_H
#define WOMBAT_ACCOUNT_H

#include <pwd.h>
#include <stddef.h>
#include <time.h>

/* Path of the nologin file (a variable so the unit test can point it
 * elsewhere). */
extern const char *account_nologin_path;

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

#endif
