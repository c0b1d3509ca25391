/* authfile: password hashes, AuthorizedKeysFile tokens, pattern lists and
 * authorized_keys parsing (options, expiry, StrictModes). */
#include <crypt.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "unit.h"
#include "build_opts.h"
#include "authfile.h"
#include "crypto.h"

/* exposed by authfile.c for this test only */
extern int authfile_check_hash(const char *hash, const char *password);

/* ------------------------------------------------------------------ */

/* A random-salt hash made by libcrypt for prefix ("$6$", "$y$"). */
static int make_hash(const char *prefix, const char *pw, char *out, size_t outsz)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	const char *h;

	if (crypt_gensalt_rn(prefix, 0, NULL, 0, salt, sizeof(salt)) == NULL)
		return -1;
	h = crypt(pw, salt);
	if (h == NULL || h[0] == '*' || strlen(h) >= outsz)
		return -1;
	strcpy(out, h);
	return 0;
}

static void test_hashes(void)
{
	/* from `openssl passwd -6 -salt wombatsalt 'correct horse'` */
	static const char sha512[] = "$6$wombatsalt$E4dVysVC600ZFqNaAJN4uA4hzrV5kgKL"
		"wG64YtLeL3aTlRGIWUcL7xTXypPS0tro5UDJsnUoyFEMCWMVyLbQQ0";
	static const char yes[] =
		"$y$j9T$abcdefghijklmnopqrstu1$HZ8mcCBaXDWmMfDHc6srTC.EUNg5x04Ly/TYQCr34R.";
	char h[256], locked[300];

	CHECK(authfile_check_hash(sha512, "correct horse") == 0);
	CHECK(authfile_check_hash(sha512, "correct horsE") == -1);
	CHECK(authfile_check_hash(sha512, "") == -1);
	CHECK(authfile_check_hash(yes, "correct horse") == 0);
	CHECK(authfile_check_hash(yes, "correct horse ") == -1);

	CHECK(make_hash("$6$", "s3cret pw", h, sizeof(h)) == 0);
	CHECK(strncmp(h, "$6$", 3) == 0);
	CHECK(authfile_check_hash(h, "s3cret pw") == 0);
	CHECK(authfile_check_hash(h, "s3cret px") == -1);
	snprintf(locked, sizeof(locked), "!%s", h);
	CHECK(authfile_check_hash(locked, "s3cret pw") == -1);
	snprintf(locked, sizeof(locked), "*%s", h);
	CHECK(authfile_check_hash(locked, "s3cret pw") == -1);
	/* a truncated stored hash must not match */
	h[strlen(h) - 1] = '\0';
	CHECK(authfile_check_hash(h, "s3cret pw") == -1);

	CHECK(make_hash("$y$", "s3cret pw", h, sizeof(h)) == 0);
	CHECK(strncmp(h, "$y$", 3) == 0);
	CHECK(authfile_check_hash(h, "s3cret pw") == 0);
	CHECK(authfile_check_hash(h, "S3cret pw") == -1);
	snprintf(locked, sizeof(locked), "!%s", h);
	CHECK(authfile_check_hash(locked, "s3cret pw") == -1);

	/* an empty field takes only the empty password (auth.c asks only
	 * with PermitEmptyPasswords yes) */
	CHECK(authfile_check_hash("", "") == 0);
	CHECK(authfile_check_hash("", "x") == -1);
	CHECK(authfile_check_hash("!", "") == -1);
	CHECK(authfile_check_hash("*", "") == -1);
	CHECK(authfile_check_hash("x", "x") == -1);
	CHECK(authfile_check_hash(NULL, "x") == -1);
	CHECK(authfile_check_hash(sha512, NULL) == -1);

	/* through auth_check_password: an unknown user has no shadow entry,
	 * so pw_passwd is used */
	{
		struct passwd pw;
		memset(&pw, 0, sizeof(pw));
		pw.pw_name = (char *)"wombat-no-such-user-x9";
		pw.pw_passwd = (char *)sha512;
		CHECK(auth_check_password(&pw, "correct horse") == 0);
		CHECK(auth_check_password(&pw, "wrong") == -1);
		pw.pw_passwd = (char *)"";
		CHECK(auth_check_password(&pw, "") == 0);
		CHECK(auth_check_password(&pw, "x") == -1);
		pw.pw_passwd = (char *)"x";
		CHECK(auth_check_password(&pw, "x") == -1);
		pw.pw_passwd = NULL;
		CHECK(auth_check_password(&pw, "x") == -1);
	}
}

/* ------------------------------------------------------------------ */

static void test_expand(void)
{
	struct passwd pw;
	char out[256];

	memset(&pw, 0, sizeof(pw));
	pw.pw_name = (char *)"alice";
	pw.pw_dir = (char *)"/home/alice";

	CHECK(authkeys_expand("%h/.ssh/authorized_keys", &pw, out, sizeof(out)) == 0);
	CHECK(strcmp(out, "/home/alice/.ssh/authorized_keys") == 0);
	CHECK(authkeys_expand(".ssh/authorized_keys", &pw, out, sizeof(out)) == 0);
	CHECK(strcmp(out, "/home/alice/.ssh/authorized_keys") == 0);
	CHECK(authkeys_expand("%h/.ssh/keys_%u", &pw, out, sizeof(out)) == 0);
	CHECK(strcmp(out, "/home/alice/.ssh/keys_alice") == 0);
	CHECK(authkeys_expand("/etc/ssh/keys/%u", &pw, out, sizeof(out)) == 0);
	CHECK(strcmp(out, "/etc/ssh/keys/alice") == 0);
	CHECK(authkeys_expand("%u/k%%", &pw, out, sizeof(out)) == 0);
	CHECK(strcmp(out, "/home/alice/alice/k%") == 0);
	CHECK(authkeys_expand("%x", &pw, out, sizeof(out)) == -1);
	CHECK(authkeys_expand("keys%", &pw, out, sizeof(out)) == -1);
	CHECK(authkeys_expand("%h/.ssh/authorized_keys", &pw, out, 20) == -1);
	/* exactly fits: 11 + 1 + 1 + NUL */
	CHECK(authkeys_expand("k", &pw, out, 14) == 0);
	CHECK(strcmp(out, "/home/alice/k") == 0);
	CHECK(authkeys_expand("k", &pw, out, 13) == -1);
}

/* ------------------------------------------------------------------ */
/* authorized_keys                                                     */

static char home[64], sshdir[96], akpath[128];
static struct passwd upw;

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	if (f == NULL) {
		perror(path);
		exit(2);
	}
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

/* authkeys_find over `text`; fills opts and why. */
static int find_in(const char *text, const struct sshkey *k, struct authkey_opts *o,
		   char *why, size_t whysz)
{
	write_file(akpath, text, 0600);
	return authkeys_find(akpath, &upw, 1, k, o, why, whysz);
}

static void setup_home(void)
{
	strcpy(home, "/tmp/wombat-authfile-XXXXXX");
	if (mkdtemp(home) == NULL) {
		perror("mkdtemp");
		exit(2);
	}
	chmod(home, 0755);
	snprintf(sshdir, sizeof(sshdir), "%s/.ssh", home);
	mkdir(sshdir, 0700);
	snprintf(akpath, sizeof(akpath), "%s/authorized_keys", sshdir);
	memset(&upw, 0, sizeof(upw));
	upw.pw_name = (char *)"tester";
	upw.pw_uid = geteuid();
	upw.pw_gid = getegid();
	upw.pw_dir = home;
}

static void test_authkeys_options(const char *kl, const char *other,
				  const struct sshkey *k)
{
	char *text = malloc(64 * 1024), why[512];
	struct authkey_opts o;
	int r;

	/* plain match after comments, blanks and another key */
	snprintf(text, 64 * 1024, "# comment\n\n   \n  # indented comment\n%s\n%s\n",
		 other, kl);
	CHECK(find_in(text, k, &o, why, sizeof(why)) == 1);
	CHECK(o.command == NULL && o.from == NULL && o.expiry == 0);
	CHECK(o.n_environment == 0 && o.no_pty == 0 && o.restrict_ == 0);
	CHECK(why[0] == '\0');
	authkey_opts_free(&o);

	/* only another key: not found */
	snprintf(text, 64 * 1024, "%s\n", other);
	CHECK(find_in(text, k, &o, why, sizeof(why)) == 0);

	/* many options, quoted commas/spaces and escaped quotes */
	snprintf(text, 64 * 1024,
		 "command=\"echo \\\"hi, there\\\" && ls\",environment=\"A_1=b c,d\","
		 "from=\"10.0.0.0/8,!10.1.*\",no-pty,NO-AGENT-FORWARDING,"
		 "no-X11-forwarding,no-user-rc,permitopen=\"host.example:22\","
		 "permitopen=\"[::1]:80\",permitopen=\"*:*\",environment=\"Z=\" %s\n", kl);
	r = find_in(text, k, &o, why, sizeof(why));
	CHECK(r == 1);
	if (r == 1) {
		CHECK(o.command && strcmp(o.command, "echo \"hi, there\" && ls") == 0);
		CHECK(o.from && strcmp(o.from, "10.0.0.0/8,!10.1.*") == 0);
		CHECK(o.n_environment == 2);
		CHECK(o.environment[0] && strcmp(o.environment[0], "A_1=b c,d") == 0);
		CHECK(o.environment[1] && strcmp(o.environment[1], "Z=") == 0);
		CHECK(o.n_permitopen == 3);
		CHECK(o.permitopen[0] && strcmp(o.permitopen[0], "host.example:22") == 0);
		CHECK(o.permitopen[1] && strcmp(o.permitopen[1], "[::1]:80") == 0);
		CHECK(o.no_pty && o.no_agent_forwarding && o.no_x11_forwarding && o.no_user_rc);
		CHECK(!o.no_port_forwarding && !o.restrict_);
	}
	CHECK(why[0] == '\0');
	authkey_opts_free(&o);
	CHECK(o.command == NULL && o.n_environment == 0);

	/* restrict then selective re-enables */
	snprintf(text, 64 * 1024, "restrict,pty,port-forwarding %s\n", kl);
	CHECK(find_in(text, k, &o, why, sizeof(why)) == 1);
	CHECK(o.restrict_ == 1 && o.pty == 1 && o.port_forwarding == 1);
	CHECK(o.no_pty == 0 && o.no_port_forwarding == 0);
	CHECK(o.no_agent_forwarding == 1 && o.no_x11_forwarding == 1 && o.no_user_rc == 1);
	authkey_opts_free(&o);
	snprintf(text, 64 * 1024, "pty,restrict,agent-forwarding,X11-forwarding,user-rc %s\n", kl);
	CHECK(find_in(text, k, &o, why, sizeof(why)) == 1);
	CHECK(o.restrict_ == 1 && o.pty == 0 && o.no_pty == 1 && o.no_port_forwarding == 1);
	CHECK(o.no_agent_forwarding == 0 && o.no_x11_forwarding == 0 && o.no_user_rc == 0);
	authkey_opts_free(&o);

	/* recognised but unused options */
	snprintf(text, 64 * 1024, "principals=\"a,b\",tunnel=\"0\" %s\n", kl);
	CHECK(find_in(text, k, &o, why, sizeof(why)) == 1);
	authkey_opts_free(&o);

	/* bad lines are skipped with the first reason; a later good line wins */
	snprintf(text, 64 * 1024,
		 "bogus-option %s\n"
		 "no-pty=\"x\" %s\n"
		 "command=\"unterminated %s\n"
		 "command=unquoted %s\n"
		 "command=\"a\",command=\"b\" %s\n"
		 "environment=\"=x\" %s\n"
		 "environment=\"BAD-NAME=x\" %s\n"
		 "permitopen=\"nohost\" %s\n"
		 "permitopen=\"h:0\" %s\n"
		 "permitopen=\"h:65536\" %s\n"
		 "expiry-time=\"2020\" %s\n"
		 "expiry-time=\"20230231\" %s\n"
		 "from=\"\" %s\n"
		 "tunnel=\"x\" %s\n"
		 "no-pty,,no-X11-forwarding %s\n"
		 "no-pty\n"
		 "ssh-ed25519 !!!notbase64!!!\n"
		 "no-pty %s\n",
		 kl, kl, kl, kl, kl, kl, kl, kl, kl, kl, kl, kl, kl, kl, kl, kl);
	r = find_in(text, k, &o, why, sizeof(why));
	CHECK(r == 1);
	CHECK(o.no_pty == 1 && o.command == NULL && o.n_environment == 0);
	CHECK(strstr(why, "authorized_keys:1:") != NULL);
	CHECK(strstr(why, "bogus-option") != NULL);
	authkey_opts_free(&o);

	/* each bad line on its own is refused with its reason */
	{
		static const char *const bad[] = {
			"no-pty=\"x\"", "command=\"unterminated", "command=unquoted",
			"command=\"a\",command=\"b\"", "environment=\"=x\"",
			"permitopen=\"nohost\"", "permitopen=\"h:0\"",
			"expiry-time=\"2020\"", "expiry-time=\"20230231\"",
			"from=\"\"", "no-pty,,no-pty", "permitlisten=\"70000\"",
			"permitlisten=\"h:x\"",
			"no-pty ,no-X11-forwarding",
		};
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			snprintf(text, 64 * 1024, "\n%s %s\n", bad[i], kl);
			r = find_in(text, k, &o, why, sizeof(why));
			CHECK(r == 0);
			CHECK(strstr(why, ":2:") != NULL);
			if (r != 0 || strstr(why, ":2:") == NULL)
				fprintf(stderr, "  line: %s -> %d '%s'\n", bad[i], r, why);
			authkey_opts_free(&o);
		}
	}

	/* expiry */
	snprintf(text, 64 * 1024, "expiry-time=\"20000101\" %s\n", kl);
	CHECK(find_in(text, k, &o, why, sizeof(why)) == 0);
	CHECK(strstr(why, "key expired") != NULL);
	snprintf(text, 64 * 1024, "bogus %s\nexpiry-time=\"201001021530\" %s\n", kl, kl);
	CHECK(find_in(text, k, &o, why, sizeof(why)) == 0);
	CHECK(strstr(why, ":2: key expired") != NULL);
	snprintf(text, 64 * 1024, "expiry-time=\"20991231235959\" %s\n", kl);
	CHECK(find_in(text, k, &o, why, sizeof(why)) == 1);
	{
		struct tm tm;
		time_t t = o.expiry;
		localtime_r(&t, &tm);
		CHECK(tm.tm_year == 199 && tm.tm_mon == 11 && tm.tm_mday == 31);
		CHECK(tm.tm_hour == 23 && tm.tm_min == 59 && tm.tm_sec == 59);
	}
	authkey_opts_free(&o);

	/* cert-authority lines never match a plain key */
	snprintf(text, 64 * 1024, "cert-authority %s\n", kl);
	CHECK(find_in(text, k, &o, why, sizeof(why)) == 0);

	/* CRLF endings and no final newline */
	snprintf(text, 64 * 1024, "# c\r\nno-pty %s\r\n", kl);
	CHECK(find_in(text, k, &o, why, sizeof(why)) == 1);
	CHECK(o.no_pty == 1);
	authkey_opts_free(&o);
	snprintf(text, 64 * 1024, "%s\nfrom=\"1.2.3.4\" %s", other, kl);
	CHECK(find_in(text, k, &o, why, sizeof(why)) == 1);
	CHECK(o.from && strcmp(o.from, "1.2.3.4") == 0);
	authkey_opts_free(&o);

	/* a line over 16 KiB is skipped with a reason; the next one counts */
	{
		size_t n = 0;
		n += (size_t)snprintf(text, 64 * 1024, "command=\"");
		memset(text + n, 'a', 17000);
		n += 17000;
		n += (size_t)snprintf(text + n, 64 * 1024 - n, "\" %s\nno-pty %s\n", kl, kl);
		CHECK(find_in(text, k, &o, why, sizeof(why)) == 1);
		CHECK(o.no_pty == 1 && o.command == NULL);
		CHECK(strstr(why, ":1: line too long") != NULL);
		authkey_opts_free(&o);
	}

	/* NULL why is allowed */
	snprintf(text, 64 * 1024, "bogus %s\n", kl);
	CHECK(find_in(text, k, &o, NULL, 0) == 0);
	free(text);
}

static void test_strict_modes(const char *kl, const struct sshkey *k)
{
	char text[1100], why[512];
	struct authkey_opts o;

	snprintf(text, sizeof(text), "%s\n", kl);
	write_file(akpath, text, 0600);
	CHECK(authkeys_find(akpath, &upw, 1, k, &o, why, sizeof(why)) == 1);
	authkey_opts_free(&o);

	chmod(akpath, 0666);
	CHECK(authkeys_find(akpath, &upw, 1, k, &o, why, sizeof(why)) == -1);
	CHECK(strstr(why, "bad ownership or modes") != NULL);
	CHECK(authkeys_find(akpath, &upw, 0, k, &o, why, sizeof(why)) == 1);
	authkey_opts_free(&o);
	chmod(akpath, 0644);
	CHECK(authkeys_find(akpath, &upw, 1, k, &o, why, sizeof(why)) == 1);
	authkey_opts_free(&o);

	chmod(sshdir, 0777);
	CHECK(authkeys_find(akpath, &upw, 1, k, &o, why, sizeof(why)) == -1);
	CHECK(strstr(why, "directory") != NULL);
	CHECK(authkeys_find(akpath, &upw, 0, k, &o, why, sizeof(why)) == 1);
	authkey_opts_free(&o);
	chmod(sshdir, 0700);

	chmod(home, 0775);
	CHECK(authkeys_find(akpath, &upw, 1, k, &o, why, sizeof(why)) == -1);
	chmod(home, 0755);
	CHECK(authkeys_find(akpath, &upw, 1, k, &o, why, sizeof(why)) == 1);
	authkey_opts_free(&o);

	/* owned by somebody else (only testable as root) */
	if (geteuid() == 0) {
		CHECK(chown(akpath, 4242, 4242) == 0);
		CHECK(authkeys_find(akpath, &upw, 1, k, &o, why, sizeof(why)) == -1);
		CHECK(chown(akpath, 0, 0) == 0);
	}

	/* as root, the file is opened with the user's identity: a symlink to a
	 * file only root can read is refused, and root's euid comes back */
	if (geteuid() == 0) {
		char secret[160];
		struct passwd saved = upw;

		snprintf(secret, sizeof(secret), "%s/root-only", home);
		write_file(secret, text, 0600);
		CHECK(chown(home, 65534, 65534) == 0 && chown(sshdir, 65534, 65534) == 0 &&
		      chown(akpath, 65534, 65534) == 0);
		upw.pw_uid = 65534;
		upw.pw_gid = 65534;
		CHECK(authkeys_find(akpath, &upw, 1, k, &o, why, sizeof(why)) == 1);
		authkey_opts_free(&o);
		CHECK(geteuid() == 0 && getegid() == 0);
		unlink(akpath);
		CHECK(symlink(secret, akpath) == 0);
		CHECK(authkeys_find(akpath, &upw, 0, k, &o, why, sizeof(why)) == -1);
		CHECK(strstr(why, "ermission denied") != NULL);
		CHECK(geteuid() == 0 && getegid() == 0);
		unlink(akpath);
		unlink(secret);
		write_file(akpath, text, 0600);
		CHECK(chown(home, 0, 0) == 0 && chown(sshdir, 0, 0) == 0);
		upw = saved;
	}

	/* not a regular file, missing file */
	CHECK(authkeys_find(sshdir, &upw, 0, k, &o, why, sizeof(why)) == -1);
	CHECK(strstr(why, "regular file") != NULL);
	unlink(akpath);
	CHECK(authkeys_find(akpath, &upw, 0, k, &o, why, sizeof(why)) == -1);
	CHECK(why[0] != '\0');
}

static void test_authkeys(void)
{
	struct sshkey *k = NULL, *k2 = NULL;
	char kl[1024], other[1024];

	setup_home();
	if (key_generate(KEY_ED25519, 0, &k) != 0 || key_generate(KEY_ED25519, 0, &k2) != 0 ||
	    key_public_line(k, "me@host", kl, sizeof(kl)) != 0 ||
	    key_public_line(k2, "other@host", other, sizeof(other)) != 0) {
		CHECK(!"key generation failed");
		return;
	}
	test_authkeys_options(kl, other, k);
	/* another key type among ed25519 lines */
	{
		struct sshkey *ek = NULL;
		char el[1024], text[3300], why[256];
		struct authkey_opts o;

		if (!HAVE_NIST)
			printf("SKIPPED: an ecdsa line among ed25519 ones (built with --disable-nist)\n");
		CHECK(!HAVE_NIST || key_generate(KEY_ECDSA_P256, 0, &ek) == 0);
		if (ek != NULL && key_public_line(ek, "ec", el, sizeof(el)) == 0) {
			snprintf(text, sizeof(text), "%s\nno-pty %s\n", other, el);
			CHECK(find_in(text, ek, &o, why, sizeof(why)) == 1);
			CHECK(o.no_pty == 1);
			authkey_opts_free(&o);
			CHECK(find_in(text, k, &o, why, sizeof(why)) == 0);
		}
		key_free(ek);
	}
	test_strict_modes(kl, k);
	key_free(k);
	key_free(k2);
	rmdir(sshdir);
	rmdir(home);
}

int main(void)
{
	crypto_init();
	test_hashes();
	test_expand();
	test_authkeys();
	return UNIT_DONE();
}
