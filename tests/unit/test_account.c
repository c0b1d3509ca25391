/* account: the account states that refuse a login whatever the credential,
 * and the per-user failure delay of auth. */
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "account.h"
#include "auth.h"
#include "crypto.h"
#include "unit.h"

#define DAY 86400L

static int usable(const char *hash, long lastchg, long max, long expire, long today,
		  char *why, size_t whysz)
{
	why[0] = 0;
	return account_shadow_usable(hash, lastchg, max, expire, (time_t)(today * DAY + 3600),
				     why, whysz);
}

static void test_shadow_states(void)
{
	char why[128];
	const char *hash = "$y$j9T$abc$def";
	CHECK(usable(hash, 20000, 99999, -1, 20100, why, sizeof why) == 1);
	CHECK(usable("*", 20000, -1, -1, 20100, why, sizeof why) == 1);   /* keys only */
	CHECK(usable("", -1, -1, -1, 20100, why, sizeof why) == 1);
	/* locked: "!" in front (usermod -L, useradd without password), *LK* */
	CHECK(usable("!", 20000, -1, -1, 20100, why, sizeof why) == 0);
	CHECK(strcmp(why, "account is locked") == 0);
	CHECK(usable("!$y$j9T$abc$def", 20000, -1, -1, 20100, why, sizeof why) == 0);
	CHECK(usable("*LK*$y$x", 20000, -1, -1, 20100, why, sizeof why) == 0);
	/* expired from the expiry day on (chage -E 0 is day 0) */
	CHECK(usable(hash, 20000, -1, 0, 20100, why, sizeof why) == 0);
	CHECK(strcmp(why, "account has expired") == 0);
	CHECK(usable(hash, 20000, -1, 20100, 20100, why, sizeof why) == 0);
	CHECK(usable(hash, 20000, -1, 20101, 20100, why, sizeof why) == 1);
	/* password: must be changed (chage -d 0), or older than max days */
	CHECK(usable(hash, 0, -1, -1, 20100, why, sizeof why) == 0);
	CHECK(strstr(why, "password has expired (must be changed)") != NULL);
	CHECK(usable(hash, 20000, 100, -1, 20100, why, sizeof why) == 1);
	CHECK(usable(hash, 20000, 100, -1, 20101, why, sizeof why) == 0);
	CHECK(strstr(why, "older than 100 days") != NULL);
	/* locked wins over the rest, so the log names it */
	CHECK(usable("!", 0, 1, 0, 20100, why, sizeof why) == 0);
	CHECK(strcmp(why, "account is locked") == 0);
}

static void test_shell_and_nologin(void)
{
	char why[160], nologin[] = "/tmp/wombat-nologin-XXXXXX";
	char plain[] = "/tmp/wombat-noexec-XXXXXX", expect[96];
	struct passwd pw;
	memset(&pw, 0, sizeof pw);
	pw.pw_name = (char *)"wombat-no-such-user-acct";
	pw.pw_uid = 4242;
	pw.pw_shell = (char *)"/bin/sh";
	account_nologin_path = "/nonexistent/nologin";
	CHECK(account_usable(&pw, time(NULL), why, sizeof why) == 1);
	pw.pw_shell = (char *)"";               /* empty: /bin/sh */
	CHECK(account_usable(&pw, time(NULL), why, sizeof why) == 1);
	pw.pw_shell = (char *)"/nonexistent/shell";
	CHECK(account_usable(&pw, time(NULL), why, sizeof why) == 0);
	CHECK(strcmp(why, "shell /nonexistent/shell does not exist") == 0);
	int pfd = mkstemp(plain);                 /* a file, mode 0600: not executable */
	CHECK(pfd >= 0);
	close(pfd);
	pw.pw_shell = plain;
	CHECK(account_usable(&pw, time(NULL), why, sizeof why) == 0);
	snprintf(expect, sizeof expect, "shell %s is not executable", plain);
	CHECK(strcmp(why, expect) == 0);
	unlink(plain);
	pw.pw_shell = (char *)"/tmp";            /* a directory */
	CHECK(account_usable(&pw, time(NULL), why, sizeof why) == 0);

	int fd = mkstemp(nologin);
	CHECK(fd >= 0);
	close(fd);
	account_nologin_path = nologin;
	pw.pw_shell = (char *)"/bin/sh";
	CHECK(account_usable(&pw, time(NULL), why, sizeof why) == 0);
	CHECK(strstr(why, "exists") != NULL);
	pw.pw_uid = 0;                           /* root may log in */
	CHECK(account_usable(&pw, time(NULL), why, sizeof why) == 1);
	unlink(nologin);
	account_nologin_path = "/etc/nologin";
}

static void test_failure_delay(void)
{
	struct auth a;
	auth_init(&a);
	long d1 = auth_failure_delay_us(&a, "alice");
	CHECK(d1 >= 5000 && d1 < 9000);
	CHECK(auth_failure_delay_us(&a, "alice") == d1);      /* fixed per user */
	int differ = 0;
	char name[32];
	for (int i = 0; i < 20; i++) {
		snprintf(name, sizeof name, "user%d", i);
		long d = auth_failure_delay_us(&a, name);
		CHECK(d >= 5000 && d < 9000);
		differ |= d != d1;
	}
	CHECK(differ);
	auth_free(&a);
}

int main(void)
{
	crypto_init();
	test_shadow_states();
	test_shell_and_nologin();
	test_failure_delay();
	account_burn_password("x");               /* must not crash without shadow access */
	return UNIT_DONE();
}
