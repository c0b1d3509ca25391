/* dropbear-format host keys: keys made by Debian's dropbearkey at test time
 * (ed25519, ecdsa 256/384/521, rsa) load, match what `dropbearkey -y`
 * prints, sign; key_save_dropbear's output loads back and dropbearkey
 * reads it; every truncation and every single-byte change of a file is
 * refused with a reason (and, loaded as a file, an error naming it). Fixtures
 * are not committed: dropbearkey makes them each run. Also dropbear's
 * command line
 * (dropbear.c): translation and refusals. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "build_opts.h"
#include "crypto.h"
#include "dropbear.h"
#include "hostkey.h"
#include "unit.h"

static char dir[] = "/tmp/wombat-dbkey-XXXXXX";

static int run(const char *cmd)
{
	return system(cmd);
}

/* The "ssh-xxx AAAA..." line of `dropbearkey -y -f path`. */
static int dropbear_public_line(const char *path, char *out, size_t outsz)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "dropbearkey -y -f '%s' 2>/dev/null", path);
	FILE *p = popen(cmd, "r");
	int found = -1;
	if (!p)
		return -1;
	while (fgets(out, (int)outsz, p))
		if (strncmp(out, "ssh-", 4) == 0 || strncmp(out, "ecdsa-", 6) == 0) {
			out[strcspn(out, "\n")] = 0;
			found = 0;
			break;
		}
	while (fgetc(p) != EOF)
		;
	pclose(p);
	return found;
}

static int read_all(const char *path, uint8_t *buf, size_t cap, size_t *n)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	*n = fread(buf, 1, cap, f);
	fclose(f);
	return 0;
}

static void write_all(const char *path, const uint8_t *buf, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return;
	fwrite(buf, 1, n, f);
	fclose(f);
	chmod(path, 0600);
}

static void check_signs(struct sshkey *k)
{
	static const char *const algs[] = { "ssh-ed25519", "ecdsa-sha2-nistp256",
		"ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "rsa-sha2-256", NULL };
	for (int i = 0; algs[i]; i++) {
		if (!key_sigalg_ok(k, algs[i]))
			continue;
		buf_t sig;
		buf_init(&sig, 1024, 8192);
		CHECK(key_sign(k, algs[i], (const uint8_t *)"x", 1, &sig) == 0);
		CHECK(key_verify(k, algs[i], buf_data(&sig), buf_used(&sig),
				 (const uint8_t *)"x", 1) == 0);
		buf_free(&sig);
	}
}

/* A malformed copy of the key must be refused with a reason; through a
 * file (every 16th case: they cost a write each) the error names it. */
static void check_refused(const char *path, const uint8_t *bin, size_t n, size_t i)
{
	struct sshkey *k = NULL;
	const char *why = NULL;
	CHECK(key_from_dropbear(bin, n, &k, &why) < 0 && why && *why);
	key_free(k);
	k = NULL;
	if (i % 16 != 0)
		return;
	char err[512];
	write_all(path, bin, n);
	int rc = key_load_host(path, &k, err, sizeof(err));
	CHECK(rc < 0);
	if (rc < 0)
		CHECK(strncmp(err, path, strlen(path)) == 0);
	key_free(k);
}

static void check_malformed(const char *src, const char *type)
{
	uint8_t bin[4096], bad[4097];
	size_t n = 0;
	char path[256];
	snprintf(path, sizeof(path), "%s/bad_%s", dir, type);
	CHECK(read_all(src, bin, sizeof(bin), &n) == 0 && n > 8);
	for (size_t len = 4; len < n; len++)         /* every truncation */
		check_refused(path, bin, len, len);
	for (size_t i = 0; i < n; i++) {             /* every byte changed */
		memcpy(bad, bin, n);
		bad[i] ^= (i & 1) ? 0x80 : 0x01;
		check_refused(path, bad, n, i);
	}
	memcpy(bad, bin, n);                          /* trailing data */
	bad[n] = 0;
	check_refused(path, bad, n + 1, 0);
}

static void check_type(const char *type, const char *args)
{
	char path[256], cmd[512], line[4096], saved[256], line2[4096], err[512];
	struct sshkey *k = NULL, *pub = NULL, *back = NULL;
	snprintf(path, sizeof(path), "%s/key_%s", dir, type);
	snprintf(cmd, sizeof(cmd), "dropbearkey %s -f '%s' >/dev/null 2>&1", args, path);
	CHECK(run(cmd) == 0);
	int rc = key_load_host(path, &k, err, sizeof(err));
	CHECK(rc == 0);
	if (rc < 0) {
		fprintf(stderr, "%s: %s\n", type, err);
		return;
	}
	CHECK(key_has_private(k));
	CHECK(dropbear_public_line(path, line, sizeof(line)) == 0);
	CHECK(key_from_public_line(line, &pub) == 0);
	CHECK(pub && key_equal_public(k, pub));
	check_signs(k);
	/* ours, in dropbear's format: loads back, and dropbearkey reads it */
	snprintf(saved, sizeof(saved), "%s/saved_%s", dir, type);
	CHECK(key_save_dropbear(k, saved, err, sizeof(err)) == 0);
	struct stat st;
	CHECK(stat(saved, &st) == 0 && (st.st_mode & 0777) == 0600);
	CHECK(key_load_host(saved, &back, err, sizeof(err)) == 0);
	CHECK(back && key_equal_public(k, back));
	if (back)
		check_signs(back);
	CHECK(dropbear_public_line(saved, line2, sizeof(line2)) == 0);
	CHECK(strncmp(line, line2, strcspn(line, " ") + 1 +
		      strcspn(line + strcspn(line, " ") + 1, " ")) == 0);
	/* rsa: the file is 0.8 KB and each RSA check costs a modular
	 * exponentiation or two; still well under a second */
	check_malformed(path, type);
	key_free(k);
	key_free(pub);
	key_free(back);
}

/* A key of a type this build was configured without (--disable-rsa,
 * --disable-nist) is refused with that reason; the full check is skipped,
 * loudly. */
static void check_left_out(const char *type, const char *args)
{
	char path[256], cmd[512], err[512];
	struct sshkey *k = NULL;
	printf("SKIPPED: dropbear-format %s keys (left out of this build:%s); "
	       "checking they are refused\n", type, FEATURES_LEFT_OUT);
	snprintf(path, sizeof(path), "%s/key_%s", dir, type);
	snprintf(cmd, sizeof(cmd), "dropbearkey %s -f '%s' >/dev/null 2>&1", args, path);
	CHECK(run(cmd) == 0);
	CHECK(key_load_host(path, &k, err, sizeof(err)) == -1);
	CHECK(strstr(err, "left out of this build") != NULL);
}

static void check_dss_named(void)
{
	/* ssh-dss: a type wombat does not have, named as such */
	static const uint8_t dss[] = { 0, 0, 0, 7, 's', 's', 'h', '-', 'd', 's', 's', 0, 0, 0, 1, 1 };
	char path[256], err[512];
	struct sshkey *k = NULL;
	snprintf(path, sizeof(path), "%s/dss", dir);
	write_all(path, dss, sizeof(dss));
	CHECK(key_load_host(path, &k, err, sizeof(err)) < 0);
	CHECK(strstr(err, "ssh-dss") != NULL);
}

/* ------------------------------------------------------ the command line */

static int has_arg(const struct dropbear_cmd *c, const char *a)
{
	for (int i = 0; i < c->argc; i++)
		if (strcmp(c->argv[i], a) == 0)
			return 1;
	return 0;
}

static void check_cmdline(void)
{
	struct dropbear_cmd c;
	char err[512];
	char *openwrt[] = { "/usr/sbin/dropbear", "-F", "-P", "/var/run/dropbear.1.pid", "-p",
		"22", "-K", "300", "-T", "3", "-s", "-g", "-j", "-k", "-a", "-b", "/etc/banner",
		"-r", "/etc/dropbear/dropbear_rsa_host_key", "-I", "600", "-W", "262144", NULL };
	CHECK(dropbear_invoked("/usr/sbin/dropbear") && dropbear_invoked("dropbear"));
	CHECK(!dropbear_invoked("/usr/sbin/wombatd") && !dropbear_invoked("dropbearx"));
	CHECK(dropbear_translate(23, openwrt, &c, err, sizeof(err)) == 0);
	CHECK(strcmp(c.argv[1], "--wombat") == 0 && has_arg(&c, "-D"));
	CHECK(has_arg(&c, "PidFile /var/run/dropbear.1.pid") && has_arg(&c, "Port 22"));
	CHECK(has_arg(&c, "ClientAliveInterval 300") && has_arg(&c, "ClientAliveCountMax 3"));
	CHECK(has_arg(&c, "MaxAuthTries 3") && has_arg(&c, "PasswordAuthentication no"));
	CHECK(has_arg(&c, "PermitRootLogin prohibit-password"));
	CHECK(has_arg(&c, "AllowTcpForwarding no") && has_arg(&c, "GatewayPorts yes"));
	CHECK(has_arg(&c, "Banner /etc/banner"));
	CHECK(has_arg(&c, "HostKey /etc/dropbear/dropbear_rsa_host_key"));
	CHECK(has_arg(&c, "ChannelTimeout global=600") && has_arg(&c, "UnusedConnectionTimeout 600"));
	CHECK(has_arg(&c, "ChannelWindowSize 262144") && c.note[0] == 0);
	CHECK(c.pid_in_foreground && c.n_create == 0 && !has_arg(&c, "-e"));
	dropbear_cmd_free(&c);

	/* -W outside wombat's 4 KiB and dropbear's 10 MiB: the nearest bound,
	 * said in the note for the log */
	char *small[] = { "dropbear", "-W1000", NULL };
	char *large[] = { "dropbear", "-W", "20000000", NULL };
	CHECK(dropbear_translate(2, small, &c, err, sizeof(err)) == 0);
	CHECK(has_arg(&c, "ChannelWindowSize 4096") && strstr(c.note, "-W 1000"));
	dropbear_cmd_free(&c);
	CHECK(dropbear_translate(3, large, &c, err, sizeof(err)) == 0);
	CHECK(has_arg(&c, "ChannelWindowSize 10485760") && strstr(c.note, "-W 20000000"));
	dropbear_cmd_free(&c);
	char *zero[] = { "dropbear", "-W", "0", NULL };
	CHECK(dropbear_translate(3, zero, &c, err, sizeof(err)) < 0 && strstr(err, "-W 0"));

	/* grouped flags, values attached, addresses, -w over -g, --wombat tail */
	char *grouped[] = { "dropbear", "-FEwg", "-p127.0.0.1:2022", "-p", "2023", "-p",
		"::1:2024", "-rk", "-R", "--wombat", "-T", NULL };
	CHECK(dropbear_translate(11, grouped, &c, err, sizeof(err)) == 0);
	CHECK(has_arg(&c, "-D") && has_arg(&c, "-e") && has_arg(&c, "PermitRootLogin no"));
	CHECK(has_arg(&c, "ListenAddress 127.0.0.1:2022"));
	CHECK(has_arg(&c, "ListenAddress 0.0.0.0:2023") && has_arg(&c, "ListenAddress [::]:2023"));
	CHECK(has_arg(&c, "ListenAddress [::1]:2024") && !has_arg(&c, "Port 2023"));
	CHECK(has_arg(&c, "HostKey k") && c.n_create == 1 && strcmp(c.create[0], "k") == 0);
	CHECK(strcmp(c.argv[c.argc - 1], "-T") == 0);
	CHECK(has_arg(&c, "PidFile " DROPBEAR_PID_FILE) && has_arg(&c, "MaxAuthTries 10"));
	CHECK(has_arg(&c, "PermitRootLogin no"));
	dropbear_cmd_free(&c);

	/* refused, by name */
	static const struct { const char *flag, *named; } bad[] = {
		{ "-e", "-e" }, { "-t", "-t" }, { "-W", "-W" }, { "-x", "-x" }, { "-v", "-v" },
		{ "-p", "-p" }, { "-K", "-K" }, { "-T", "-T" }, { "-I", "-I" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *argv[] = { "dropbear", (char *)bad[i].flag, "x", NULL };
		int needs_value = strchr("pKTIW", bad[i].flag[1]) != NULL;
		err[0] = 0;
		CHECK(dropbear_translate(needs_value ? 3 : 2, argv, &c, err, sizeof(err)) < 0);
		CHECK(strstr(err, bad[i].named) != NULL);
	}
	char *stray[] = { "dropbear", "22", NULL };
	CHECK(dropbear_translate(2, stray, &c, err, sizeof(err)) < 0 && strstr(err, "22"));
	char *noval[] = { "dropbear", "-r", NULL };
	CHECK(dropbear_translate(2, noval, &c, err, sizeof(err)) < 0 && strstr(err, "-r"));
	char *badport[] = { "dropbear", "-p", "1.2.3.4:99999", NULL };
	CHECK(dropbear_translate(3, badport, &c, err, sizeof(err)) < 0 && strstr(err, "99999"));
}

int main(void)
{
	if (crypto_init() < 0 || !mkdtemp(dir))
		return 1;
	check_cmdline();
	if (run("command -v dropbearkey >/dev/null") != 0) {
		fprintf(stderr, "dropbearkey (Debian's dropbear-bin, in ./bootstrap's "
			"TEST_DEPS) is missing\n");
		unit_failures++;
	} else {
		check_type("ed25519", "-t ed25519");
		void (*nist)(const char *, const char *) = HAVE_NIST ? check_type : check_left_out;
		nist("ecdsa256", "-t ecdsa -s 256");
		nist("ecdsa384", "-t ecdsa -s 384");
		nist("ecdsa521", "-t ecdsa -s 521");
		(HAVE_RSA ? check_type : check_left_out)("rsa", "-t rsa -s 2048");
		check_dss_named();
	}
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	run(cmd);
	return UNIT_DONE();
}
