/* config: defaults, every option type, error messages (file:line: option),
 * Include, Match, -o, and the -T dump reading back to an equal config. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "cipher.h"
#include "build_opts.h"
#include "config.h"
#include "log.h"
#include "unit.h"

/* the post-quantum hybrids head the default KexAlgorithms, unless the build
 * left them out (./configure --disable-pq) */
#ifdef WOMBAT_NO_PQ
#define PQ_KEX_FOR_TEST ""
#else
#define PQ_KEX_FOR_TEST "mlkem768x25519-sha256,sntrup761x25519-sha512," \
	"sntrup761x25519-sha512@openssh.com,"
#endif
/* and the ECDSA and RSA names follow ssh-ed25519 unless --disable-nist,
 * --disable-rsa left them out */
#ifdef WOMBAT_NO_NIST
#define NIST_KEYALGS_FOR_TEST ""
#else
#define NIST_KEYALGS_FOR_TEST ",ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521"
#endif
#ifdef WOMBAT_NO_RSA
#define RSA_KEYALGS_FOR_TEST ""
#else
#define RSA_KEYALGS_FOR_TEST ",rsa-sha2-512,rsa-sha2-256"
#endif
#define KEYALGS_DEFAULT_FOR_TEST "ssh-ed25519" NIST_KEYALGS_FOR_TEST RSA_KEYALGS_FOR_TEST
/* Cipher names that this build supports: with --disable-aes the one
 * cipher there is stands in for each (the default build still checks
 * first-wins and globbing with distinct names). */
#ifdef WOMBAT_NO_AES
#define CIPHER_1_FOR_TEST "chacha20-poly1305@openssh.com"
#define CIPHER_2_FOR_TEST "chacha20-poly1305@openssh.com"
#define CIPHERS_1_2_FOR_TEST "chacha20-poly1305@openssh.com"
#define CIPHER_AEAD_FOR_TEST "chacha20-poly1305@openssh.com"
#define CIPHER_GLOB_FOR_TEST "chacha*"
#define CIPHER_GLOB_MATCH_FOR_TEST "chacha20-poly1305@openssh.com"
#else
#define CIPHER_1_FOR_TEST "aes128-ctr"
#define CIPHER_2_FOR_TEST "aes256-ctr"
#define CIPHERS_1_2_FOR_TEST "aes128-ctr,aes256-ctr"
#define CIPHER_AEAD_FOR_TEST "aes256-gcm@openssh.com"
#define CIPHER_GLOB_FOR_TEST "aes*-ctr"
#define CIPHER_GLOB_MATCH_FOR_TEST "aes128-ctr,aes192-ctr,aes256-ctr"
#endif
/* AllowTcpForwarding's value: always "no" (0) in a build configured with
 * --disable-forwarding */
#define FWD(v) (HAVE_FORWARDING ? (v) : 0)
/* one algorithm, not the first of the default where the build has RSA */
#ifdef WOMBAT_NO_RSA
#define RSA_OR_ED25519_FOR_TEST "ssh-ed25519"
#else
#define RSA_OR_ED25519_FOR_TEST "rsa-sha2-256"
#endif

static char tmpdir[64];
static char err[1024];

/* Write content to tmpdir/name; returns the path (static buffer rotation). */
static const char *put(const char *name, const char *content)
{
	static char paths[8][512];
	static int next;
	char *path = paths[next++ % 8];
	snprintf(path, 512, "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");
	if (!f) {
		perror(path);
		exit(2);
	}
	fputs(content, f);
	fclose(f);
	return path;
}

/* Load content as a file into fresh defaults; returns config_load_file's rc. */
static int load(struct config *c, const char *content)
{
	config_defaults(c);
	return config_load_file(c, put("t.conf", content), err, sizeof err);
}

/* Expect load to fail with exactly "<tmpdir>/t.conf:<rest>". */
static int load_fails_with(const char *content, const char *rest)
{
	struct config c;
	char want[1024];
	int rc = load(&c, content);
	config_free(&c);
	snprintf(want, sizeof want, "%s/t.conf:%s", tmpdir, rest);
	if (rc != -1 || strcmp(err, want) != 0) {
		fprintf(stderr, "  want: %s\n  got:  %s (rc %d)\n", want, err, rc);
		return 0;
	}
	return 1;
}

static char *dump_to_string(const struct config *c)
{
	char *s = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&s, &n);
	config_dump(c, f);
	fclose(f);
	return s;
}

/* config_match with the criteria the older tests give (no local side). */
static int match_as(struct config *c, const char *user, const char *const *groups,
		    const char *addr, const char *host)
{
	struct match_conn mc = { .user = user, .groups = groups, .addr = addr, .host = host };
	return config_match(c, &mc);
}

static void test_defaults(void)
{
	struct config c;
	config_defaults(&c);
	CHECK(c.n_ports == 1 && c.ports[0] == 22);
	CHECK(c.n_listen_addrs == 0 && c.n_host_keys == 0);
	CHECK(c.max_auth_tries == 6);
	CHECK(c.login_grace_time == 120);
	CHECK(c.permit_root_login == PERMIT_ROOT_PROHIBIT_PASSWORD);
	CHECK(c.n_authorized_keys_files == 2);
	CHECK(strcmp(c.authorized_keys_files[0], ".ssh/authorized_keys") == 0);
	CHECK(strcmp(c.authorized_keys_files[1], ".ssh/authorized_keys2") == 0);
	CHECK(c.max_sessions == 10);
	CHECK(c.client_alive_interval == 0 && c.client_alive_count_max == 3);
	CHECK(c.tcp_keep_alive == 1 && c.strict_modes == 1);
	CHECK(c.password_authentication == 1 && c.pubkey_authentication == 1);
	CHECK(c.permit_empty_passwords == 0 && c.kbd_interactive_authentication == 1);
	CHECK(c.compression == HAVE_ZLIB);   /* no zlib, no compression */
	CHECK(c.max_startups == 10 && c.max_startups_rate == 30 && c.max_startups_full == 100);
	CHECK(c.log_level == LOG_L_INFO && c.syslog_facility == LOG_AUTH);
	CHECK(c.close_on_child_exit == 0);
	CHECK(c.session_kill_mode == KILL_PROCESS);
	CHECK(c.session_kill_signal == SIGTERM);
	CHECK(c.session_kill_timeout == 5);
	CHECK(c.session_cgroup_root == NULL && c.session_kill_fallback_pgrp == 0);
	CHECK(strcmp(c.ciphers, CIPHERS_DEFAULT) == 0);
	CHECK(strcmp(c.macs, MACS_DEFAULT) == 0);
	CHECK(strstr(c.kex_algorithms, "curve25519-sha256") != NULL);
	CHECK(strstr(c.kex_algorithms, PQ_KEX_FOR_TEST "curve25519-sha256,") == c.kex_algorithms);
	CHECK((strstr(c.kex_algorithms, "diffie-hellman-group16-sha512") != NULL) == HAVE_DH);
	CHECK((strstr(c.kex_algorithms, "ecdh-sha2-nistp256") != NULL) == HAVE_NIST);
	CHECK(strstr(c.host_key_algorithms, "ssh-ed25519") == c.host_key_algorithms);
	CHECK(c.allow_tcp_forwarding == FWD(1) && c.n_permit_open == 0 && c.gateway_ports == 0);
	CHECK(c.permit_tty == 1 && c.print_motd == 1 && c.banner == NULL);
	CHECK(c.rekey_bytes == 0 && c.rekey_seconds == 3600);
	CHECK(c.x11_forwarding == 0 && c.use_pam == 0);
	config_free(&c);
}

static void test_option_types(void)
{
	struct config c;
	int rc = load(&c,
		"# a comment\n"
		"\n"
		"Port 2222\n"
		"port=2223\n"
		"ListenAddress 127.0.0.1\n"
		"ListenAddress [::1]:2200\n"
		"HostKey /etc/k1\n"
		"HostKey \"/etc/my key\"\n"
		"PidFile none\n"
		"MaxStartups 5:50:20\n"
		"LogLevel debug\n"
		"SyslogFacility LOCAL3\n"
		"PermitRootLogin without-password\n"
		"PubkeyAuthentication no\n"
		"PasswordAuthentication = no\n"
		"PermitEmptyPasswords yes\n"
		"ChallengeResponseAuthentication no\n"
		"AuthorizedKeysFile .ssh/a %h/.ssh/b_%u\n"
		"StrictModes no\n"
		"MaxAuthTries 3   # trailing comment\n"
		"LoginGraceTime 1m30s\n"
		"AllowUsers alice bob@10.0.0.*\n"
		"AllowUsers carol\n"
		"DenyUsers mallory\n"
		"AllowGroups staff\n"
		"DenyGroups guests\n"
		"Banner /etc/issue.net\n"
		"PermitUserEnvironment LANG,LC_*\n"
		"Ciphers " CIPHERS_1_2_FOR_TEST "\n"
		"MACs -hmac-sha2-512*\n"
		"KexAlgorithms ^diffie-hellman-group16-sha512\n"
		"HostKeyAlgorithms +rsa-sha2-256\n"
		"PubkeyAcceptedAlgorithms ssh-ed25519\n"
		"Compression delayed\n"
		"RekeyLimit 1G 1h\n"
		"MaxSessions 4\n"
		"PermitTTY no\n"
		"PrintMotd no\n"
		"PrintLastLog no\n"
		"AcceptEnv LANG LC_*\n"
		"AcceptEnv TZ\n"
		"SetEnv A=1 B=two\n"
		"Subsystem sftp /usr/lib/openssh/sftp-server -l INFO\n"
		"ForceCommand internal-sftp -d /srv\n"
		"ClientAliveInterval 15\n"
		"ClientAliveCountMax 0\n"
		"TCPKeepAlive no\n"
		"ChannelTimeout session=5m global=1h\n"
		"UnusedConnectionTimeout none\n"
		"AllowTcpForwarding local\n"
		"PermitOpen localhost:80 [::1]:*\n"
		"PermitListen 8080 localhost:*\n"
		"GatewayPorts clientspecified\n"
		"AllowAgentForwarding no\n"
		"UseDNS no\n"
		"CloseOnChildExit yes\n"
		"SessionKillMode control-group\n"
		"SessionKillSignal SIGHUP\n"
		"SessionKillTimeout 1m\n"
		"SessionCgroupRoot /sys/fs/cgroup/wombat\n"
		"SessionKillFallback process-group\n"
		"AddressFamily inet\n");
	CHECK(rc == 0);
	if (rc)
		fprintf(stderr, "  %s\n", err);
	CHECK(c.n_ports == 2 && c.ports[0] == 2222 && c.ports[1] == 2223);
	CHECK(c.n_listen_addrs == 2 && strcmp(c.listen_addrs[1], "[::1]:2200") == 0);
	CHECK(c.n_host_keys == 2 && strcmp(c.host_keys[1], "/etc/my key") == 0);
	CHECK(c.pid_file == NULL);
	CHECK(c.max_startups == 5 && c.max_startups_rate == 50 && c.max_startups_full == 20);
	CHECK(c.log_level == LOG_L_DEBUG1 && c.syslog_facility == LOG_LOCAL3);
	CHECK(c.permit_root_login == PERMIT_ROOT_PROHIBIT_PASSWORD);
	CHECK(c.pubkey_authentication == 0 && c.password_authentication == 0);
	CHECK(c.permit_empty_passwords == 1 && c.kbd_interactive_authentication == 0);
	CHECK(c.n_authorized_keys_files == 2 &&
	      strcmp(c.authorized_keys_files[1], "%h/.ssh/b_%u") == 0);
	CHECK(c.strict_modes == 0 && c.max_auth_tries == 3 && c.login_grace_time == 90);
	CHECK(c.n_allow_users == 3 && strcmp(c.allow_users[1], "bob@10.0.0.*") == 0 &&
	      strcmp(c.allow_users[2], "carol") == 0);
	CHECK(c.n_deny_users == 1 && c.n_allow_groups == 1 && c.n_deny_groups == 1);
	CHECK(c.banner && strcmp(c.banner, "/etc/issue.net") == 0);
	CHECK(c.permit_user_environment == 1 && c.permit_user_env_pattern &&
	      strcmp(c.permit_user_env_pattern, "LANG,LC_*") == 0);
	CHECK(strcmp(c.ciphers, CIPHERS_1_2_FOR_TEST) == 0);
	CHECK(strcmp(c.macs, "hmac-sha2-256-etm@openssh.com,hmac-sha2-256,"
			   "hmac-sha1-etm@openssh.com,hmac-sha1") == 0);
	if (HAVE_DH) {
		CHECK(strncmp(c.kex_algorithms, "diffie-hellman-group16-sha512," PQ_KEX_FOR_TEST
			      "curve25519-sha256,", strlen(PQ_KEX_FOR_TEST) + 48) == 0);
		CHECK(strstr(c.kex_algorithms + 30, "group16") == NULL);
	} else {        /* --disable-dh: the group is a known name, ignored */
		CHECK(strstr(c.kex_algorithms, PQ_KEX_FOR_TEST "curve25519-sha256") == c.kex_algorithms);
		CHECK(strstr(c.kex_algorithms, "group16") == NULL);
	}
	/* +rsa-sha2-256 adds nothing: it is in the default (or left out) */
	CHECK(strcmp(c.host_key_algorithms, KEYALGS_DEFAULT_FOR_TEST) == 0);
	CHECK(strcmp(c.pubkey_accepted_algorithms, "ssh-ed25519") == 0);
	CHECK(c.compression == HAVE_ZLIB);
	CHECK(c.rekey_bytes == (1ull << 30) && c.rekey_seconds == 3600);
	CHECK(c.max_sessions == 4 && c.permit_tty == 0 && c.print_motd == 0 &&
	      c.print_last_log == 0);
	CHECK(c.n_accept_env == 3 && strcmp(c.accept_env[1], "LC_*") == 0 &&
	      strcmp(c.accept_env[2], "TZ") == 0);
	CHECK(c.n_set_env == 2 && strcmp(c.set_env[1], "B=two") == 0);
	CHECK(c.n_subsystems == 1 && strcmp(c.subsystem_names[0], "sftp") == 0 &&
	      strcmp(c.subsystem_cmds[0], "/usr/lib/openssh/sftp-server -l INFO") == 0);
	CHECK(c.force_command && strcmp(c.force_command, "internal-sftp -d /srv") == 0);
	CHECK(c.client_alive_interval == 15 && c.client_alive_count_max == 0);
	CHECK(c.tcp_keep_alive == 0);
	CHECK(c.n_channel_timeout == 2 && strcmp(c.channel_timeout[0], "session=300") == 0 &&
	      strcmp(c.channel_timeout[1], "global=3600") == 0);
	CHECK(c.unused_connection_timeout == 0);
	CHECK(c.allow_tcp_forwarding == FWD(2));
	CHECK(c.n_permit_open == 2 && strcmp(c.permit_open[1], "[::1]:*") == 0);
	CHECK(c.n_permit_listen == 2 && strcmp(c.permit_listen[0], "8080") == 0);
	CHECK(c.gateway_ports == 2 && c.allow_agent_forwarding == 0 && c.use_dns == 0);
	CHECK(c.close_on_child_exit == 1 && c.session_kill_mode == KILL_CONTROL_GROUP);
	CHECK(c.session_kill_signal == SIGHUP && c.session_kill_timeout == 60);
	CHECK(c.session_cgroup_root && strcmp(c.session_cgroup_root, "/sys/fs/cgroup/wombat") == 0);
	CHECK(c.session_kill_fallback_pgrp == 1);
	CHECK(c.address_family == AF_INET);
	config_free(&c);
}

static void test_first_value_wins(void)
{
	struct config c;
	CHECK(load(&c, "MaxAuthTries 3\nMaxAuthTries 5\nBanner /a\nBanner /b\n"
		       "AuthorizedKeysFile /x\nAuthorizedKeysFile /y\nCiphers " CIPHER_1_FOR_TEST "\n"
		       "Ciphers " CIPHER_2_FOR_TEST "\nPermitRootLogin no\npermitrootlogin yes\n") == 0);
	CHECK(c.max_auth_tries == 3);
	CHECK(strcmp(c.banner, "/a") == 0);
	CHECK(c.n_authorized_keys_files == 1 && strcmp(c.authorized_keys_files[0], "/x") == 0);
	CHECK(strcmp(c.ciphers, CIPHER_1_FOR_TEST) == 0);
	CHECK(c.permit_root_login == PERMIT_ROOT_NO);
	config_free(&c);
	/* the second value is still validated */
	CHECK(load_fails_with("MaxAuthTries 3\nMaxAuthTries lots\n",
			      "2: MaxAuthTries: bad number 'lots' (expected 1 to 2147483647)"));
}

static void test_values(void)
{
	struct config c;
	CHECK(load(&c, "LoginGraceTime 1h\nClientAliveInterval 2m5s\nSessionKillTimeout 1W\n"
		       "RekeyLimit 512K\nSessionKillSignal kill\nMaxStartups 7\n") == 0);
	CHECK(c.login_grace_time == 3600 && c.client_alive_interval == 125);
	CHECK(c.session_kill_timeout == 604800);
	CHECK(c.rekey_bytes == 512 * 1024 && c.rekey_seconds == 3600);
	CHECK(c.session_kill_signal == SIGKILL);
	CHECK(c.max_startups == 7 && c.max_startups_full == 7 && c.max_startups_rate == 100);
	CHECK(c.channel_window == 2 * 1024 * 1024);              /* the default */
	config_free(&c);
	CHECK(load(&c, "ChannelWindowSize 4k\n") == 0 && c.channel_window == 4096);
	config_free(&c);
	CHECK(load(&c, "ChannelWindowSize 16M\n") == 0 && c.channel_window == 16 << 20);
	config_free(&c);
	CHECK(load(&c, "ChannelWindowSize 100000\n") == 0 && c.channel_window == 100000);
	config_free(&c);
	CHECK(load(&c, "RekeyLimit default none\nPermitOpen none\nAuthorizedKeysFile none\n"
		       "Compression no\nAllowTcpForwarding all\nBanner \"/etc/a \\\"b\\\"\"\n") == 0);
	CHECK(c.rekey_bytes == 0 && c.rekey_seconds == 0);
	CHECK(c.n_permit_open == 1 && strcmp(c.permit_open[0], "none") == 0);
	CHECK(c.n_authorized_keys_files == 0);
	CHECK(c.compression == 0 && c.allow_tcp_forwarding == FWD(1));
	CHECK(c.banner && strcmp(c.banner, "/etc/a \"b\"") == 0);
	config_free(&c);
	/* algorithm list forms */
	CHECK(load(&c, "Ciphers " CIPHER_GLOB_FOR_TEST "\nMACs +hmac-sha2-256\nKexAlgorithms -ecdh-*,diffie-*\n") == 0);
	CHECK(strcmp(c.ciphers, CIPHER_GLOB_MATCH_FOR_TEST) == 0);
	CHECK(strcmp(c.macs, MACS_DEFAULT) == 0);
	CHECK(strcmp(c.kex_algorithms, PQ_KEX_FOR_TEST
		     "curve25519-sha256,curve25519-sha256@libssh.org") == 0);
	config_free(&c);
}

/* A build configured with --disable-rsa/-nist/-dh: their names are known
 * ones, dropped with a warning while something usable remains, an error
 * when nothing does; ssh-rsa is not even on request. */
static void test_left_out_algorithms(void)
{
	struct config c;
	printf("checking the names left out of this build:%s\n", FEATURES_LEFT_OUT);
	CHECK(load(&c, "HostKeyAlgorithms rsa-sha2-512,ssh-ed25519,ecdsa-sha2-nistp256\n"
		       "PubkeyAcceptedAlgorithms +ssh-rsa\n"
		       "KexAlgorithms ecdh-sha2-nistp256,curve25519-sha256,"
		       "diffie-hellman-group14-sha256,diffie-hellman-group-exchange-sha256\n") == 0);
	CHECK((strstr(c.host_key_algorithms, "rsa-sha2-512") != NULL) == HAVE_RSA);
	CHECK((strstr(c.host_key_algorithms, "ecdsa-sha2-nistp256") != NULL) == HAVE_NIST);
	CHECK(strstr(c.host_key_algorithms, "ssh-ed25519") != NULL);
	CHECK((strstr(c.pubkey_accepted_algorithms, "ssh-rsa") != NULL) == HAVE_RSA);
	CHECK(strstr(c.kex_algorithms, "curve25519-sha256") != NULL);
	CHECK((strstr(c.kex_algorithms, "ecdh-sha2-nistp256") != NULL) == HAVE_NIST);
	CHECK((strstr(c.kex_algorithms, "diffie-hellman-group14-sha256") != NULL) == HAVE_DH);
	config_free(&c);
	CHECK(load(&c, "Ciphers aes128-gcm@openssh.com,chacha20-poly1305@openssh.com,aes256-ctr\n")
	      == 0);
	CHECK(strcmp(c.ciphers, HAVE_AES ? "aes128-gcm@openssh.com,chacha20-poly1305@openssh.com,"
			"aes256-ctr" : "chacha20-poly1305@openssh.com") == 0);
	config_free(&c);
	if (!HAVE_AES)
		CHECK(load_fails_with("Ciphers aes128-ctr,aes256-gcm@openssh.com\n",
				      "1: Ciphers: no algorithm wombat implements in "
				      "'aes128-ctr,aes256-gcm@openssh.com'"));
	if (!HAVE_RSA) {
		CHECK(load_fails_with("HostKeyAlgorithms rsa-sha2-256,rsa-sha2-512\n",
				      "1: HostKeyAlgorithms: no algorithm wombat implements in "
				      "'rsa-sha2-256,rsa-sha2-512'"));
		CHECK(load_fails_with("PubkeyAcceptedAlgorithms ssh-rsa\n",
				      "1: PubkeyAcceptedAlgorithms: no algorithm wombat "
				      "implements in 'ssh-rsa'"));
	}
	if (!HAVE_NIST)
		CHECK(load_fails_with("KexAlgorithms ecdh-sha2-nistp384\n",
				      "1: KexAlgorithms: no algorithm wombat implements in "
				      "'ecdh-sha2-nistp384'"));
	if (!HAVE_DH)
		CHECK(load_fails_with("KexAlgorithms diffie-hellman-group16-sha512\n",
				      "1: KexAlgorithms: no algorithm wombat implements in "
				      "'diffie-hellman-group16-sha512'"));
}

/* Names wombat knows but does not implement are dropped (the warning goes to
 * the log); ssh-rsa user-key signatures are supported only on request. */
static void test_known_algorithms(void)
{
	struct config c;
	if (!HAVE_RSA) {
		printf("SKIPPED: the known-algorithm checks, which use RSA names "
		       "(built with --disable-rsa; test_left_out_algorithms runs instead)\n");
		return;
	}
	CHECK(load(&c, "Ciphers " CIPHER_1_FOR_TEST ",3des-cbc\nMACs hmac-md5,hmac-sha1*\n"
		       "HostKeyAlgorithms rsa-sha2-512,ssh-rsa\n"
		       "KexAlgorithms diffie-hellman-group1-sha1,curve25519-sha256\n") == 0);
	CHECK(strcmp(c.ciphers, CIPHER_1_FOR_TEST) == 0);
	CHECK(strcmp(c.macs, "hmac-sha1-etm@openssh.com,hmac-sha1") == 0);
	CHECK(strcmp(c.host_key_algorithms, "rsa-sha2-512") == 0);
	CHECK(strcmp(c.kex_algorithms, "curve25519-sha256") == 0);
	CHECK(strstr(c.pubkey_accepted_algorithms, "ssh-rsa") == NULL);
	config_free(&c);
#ifdef WOMBAT_NO_PQ
	/* --disable-pq: the hybrids are known names, dropped with a warning */
	CHECK(load(&c, "KexAlgorithms mlkem768x25519-sha256,sntrup761x25519-sha512,"
		       "sntrup761x25519-sha512@openssh.com,curve25519-sha256\n") == 0);
	CHECK(strcmp(c.kex_algorithms, "curve25519-sha256") == 0);
	config_free(&c);
	CHECK(load_fails_with("KexAlgorithms mlkem768x25519-sha256\n",
			      "1: KexAlgorithms: no algorithm wombat implements in "
			      "'mlkem768x25519-sha256'"));
#endif
	CHECK(load(&c, "HostKeyAlgorithms +ssh-rsa,ssh-dss\n"
		       "PubkeyAcceptedAlgorithms +ssh-rsa\nCASignatureAlgorithms -ssh-dss\n") == 0);
	CHECK(strcmp(c.host_key_algorithms, KEYALGS_DEFAULT_FOR_TEST) == 0);
	CHECK(strcmp(c.pubkey_accepted_algorithms, KEYALGS_DEFAULT_FOR_TEST ",ssh-rsa") == 0);
	CHECK(strcmp(c.ca_signature_algorithms, KEYALGS_DEFAULT_FOR_TEST) == 0);
	config_free(&c);
	CHECK(load(&c, "PubkeyAcceptedAlgorithms ^ssh-rsa\n") == 0);
	CHECK(strcmp(c.pubkey_accepted_algorithms, "ssh-rsa," KEYALGS_DEFAULT_FOR_TEST) == 0);
	config_free(&c);
	CHECK(load(&c, "PubkeyAcceptedAlgorithms ssh-rsa,ssh-ed25519-cert-v01@openssh.com\n") == 0);
	CHECK(strcmp(c.pubkey_accepted_algorithms, "ssh-rsa") == 0);
	config_free(&c);
	CHECK(load(&c, "PubkeyAcceptedAlgorithms -ssh-rsa\n") == 0);
	CHECK(strcmp(c.pubkey_accepted_algorithms, KEYALGS_DEFAULT_FOR_TEST) == 0);
	config_free(&c);
}

static void test_errors(void)
{
	CHECK(load_fails_with("Port 22\nFrobnicate yes\n", "2: Frobnicate: unknown option"));
	CHECK(load_fails_with("PermitRootLogin maybe\n",
			      "1: PermitRootLogin: bad value 'maybe' (expected one of: "
			      "prohibit-password without-password yes no forced-commands-only)"));
	CHECK(load_fails_with("\n\nPort\n", "3: Port: missing value"));
	CHECK(load_fails_with("port 0\n", "1: Port: bad port number '0'"));
	CHECK(load_fails_with("Port 65536\n", "1: Port: bad port number '65536'"));
	CHECK(load_fails_with("MaxAuthTries 3 4\n", "1: MaxAuthTries: too many arguments"));
	CHECK(load_fails_with("StrictModes maybe\n",
			      "1: StrictModes: bad value 'maybe' (expected yes or no)"));
	CHECK(load_fails_with("LoginGraceTime 5x\n", "1: LoginGraceTime: bad time value '5x'"));
	CHECK(load_fails_with("LoginGraceTime -5\n", "1: LoginGraceTime: bad time value '-5'"));
	CHECK(load_fails_with("MaxSessions 99999999999\n",
			      "1: MaxSessions: bad number '99999999999' (expected 0 to 2147483647)"));
	CHECK(load_fails_with("Ciphers aes128-ctr,3des-cbcc\n",
			      "1: Ciphers: unsupported algorithm '3des-cbcc'"));
	CHECK(load_fails_with("KexAlgorithms diffie-hellman-group1-sha1\n",
			      "1: KexAlgorithms: no algorithm wombat implements in "
			      "'diffie-hellman-group1-sha1'"));
	CHECK(load_fails_with("HostKeyAlgorithms ssh-rsa,ssh-dss\n",
			      "1: HostKeyAlgorithms: no algorithm wombat implements in "
			      "'ssh-rsa,ssh-dss'"));
	CHECK(load_fails_with("Ciphers ^3des-cbc,nonesuch-ctr\n",
			      "1: Ciphers: unsupported algorithm 'nonesuch-ctr'"));
	CHECK(load_fails_with("MACs -hmac-*\n", "1: MACs: no algorithms left in '-hmac-*'"));
	CHECK(load_fails_with("Ciphers aes128-ctr,\n", "1: Ciphers: bad algorithm list 'aes128-ctr,'"));
	CHECK(load_fails_with("RekeyLimit 8\n", "1: RekeyLimit: size '8' too small (at least 16)"));
	CHECK(load_fails_with("RekeyLimit 1Q\n", "1: RekeyLimit: bad size '1Q'"));
	CHECK(load_fails_with("RekeyLimit 1G 1h 3\n", "1: RekeyLimit: too many arguments"));
	CHECK(load_fails_with("ChannelWindowSize 4095\n",
			      "1: ChannelWindowSize: size '4095' out of range (4K to 16M)"));
	CHECK(load_fails_with("ChannelWindowSize 17M\n",
			      "1: ChannelWindowSize: size '17M' out of range (4K to 16M)"));
	CHECK(load_fails_with("ChannelWindowSize 1G\n",
			      "1: ChannelWindowSize: size '1G' out of range (4K to 16M)"));
	CHECK(load_fails_with("ChannelWindowSize 64KB\n", "1: ChannelWindowSize: bad size '64KB' "
			      "(expected bytes, or a number with a K or M suffix)"));
	CHECK(load_fails_with("ChannelWindowSize\n", "1: ChannelWindowSize: missing value"));
	CHECK(load_fails_with("MaxStartups 10:30\n",
			      "1: MaxStartups: bad value '10:30' (expected start or start:rate:full)"));
	CHECK(load_fails_with("MaxStartups 10:30:5\n",
			      "1: MaxStartups: bad value '10:30:5' (expected start or start:rate:full)"));
	CHECK(load_fails_with("Banner \"/etc/unterminated\n", "1: Banner: unterminated quote"));
	CHECK(load_fails_with("AcceptEnv A=B\n", "1: AcceptEnv: '=' not allowed in pattern 'A=B'"));
	CHECK(load_fails_with("SetEnv NOVALUE\n", "1: SetEnv: expected NAME=VALUE, got 'NOVALUE'"));
	CHECK(load_fails_with("ChannelTimeout session\n",
			      "1: ChannelTimeout: expected type=interval, got 'session'"));
	CHECK(load_fails_with("PermitOpen localhost\n",
			      "1: PermitOpen: expected host:port, got 'localhost'"));
	CHECK(load_fails_with("PermitOpen any localhost:22\n",
			      "1: PermitOpen: 'any' must stand alone"));
	CHECK(load_fails_with("ListenAddress 1.2.3.4:99999\n",
			      "1: ListenAddress: bad port in '1.2.3.4:99999'"));
	CHECK(load_fails_with("ListenAddress 1.2.3.4 rdomain\n", "1: ListenAddress: too many arguments"));
	CHECK(load_fails_with("SessionKillMode everything\n",
			      "1: SessionKillMode: bad value 'everything' (expected one of: "
			      "process control-group mixed none)"));
	CHECK(load_fails_with("SessionKillSignal SIGFOO\n",
			      "1: SessionKillSignal: bad value 'SIGFOO' (expected one of: "
			      "TERM HUP INT QUIT KILL USR1 USR2 ALRM ABRT PIPE CONT)"));
	CHECK(load_fails_with("SessionCgroupRoot relative/dir\n",
			      "1: SessionCgroupRoot: expected an absolute path, got 'relative/dir'"));
	CHECK(load_fails_with("Subsystem sftp\n", "1: Subsystem: missing command"));
	CHECK(load_fails_with("Subsystem sftp a\nSubsystem sftp b\n",
			      "2: Subsystem: subsystem 'sftp' already defined"));
	CHECK(load_fails_with("X11Forwarding maybe\n",
			      "1: X11Forwarding: bad value 'maybe' (expected yes or no)"));
	CHECK(load_fails_with("AuthenticationMethods publickey,password\n",
			      "1: AuthenticationMethods: 'publickey,password' is not supported by wombat"));
	CHECK(load_fails_with("ChrootDirectory /srv/jail\n",
			      "1: ChrootDirectory: '/srv/jail' is not supported by wombat"));
	/* Match */
	CHECK(load_fails_with("Match User bob\n  Port 2222\n", "2: Port: not allowed in a Match block"));
	CHECK(load_fails_with("Match Group staff\n  Subsystem x y\n",
			      "2: Subsystem: not allowed in a Match block"));
	CHECK(load_fails_with("Match User bob\n\n  MaxAuthTries many\n",
			      "3: MaxAuthTries: bad number 'many' (expected 1 to 2147483647)"));
	CHECK(load_fails_with("Match\n", "1: Match: missing criteria"));
	CHECK(load_fails_with("Match User\n", "1: Match: criterion 'User' needs a value"));
	CHECK(load_fails_with("DenyUsers bob alice@10.0.0.0/33\n",
			      "1: DenyUsers: bad address pattern in 'alice@10.0.0.0/33'"));
	CHECK(load_fails_with("Match User x\n  AllowUsers *@10.0.0.0/8,!bad/8\n",
			      "2: AllowUsers: bad address pattern in '*@10.0.0.0/8,!bad/8'"));
	CHECK(load_fails_with("Match RDomain x\n", "1: Match: unsupported criterion 'RDomain'"));
	CHECK(load_fails_with("Match LocalAddress 10.0.0.0/8,10.1.0.0/99\n",
			      "1: Match: bad LocalAddress pattern '10.1.0.0/99'"));
	CHECK(load_fails_with("Match LocalPort 22,ssh\n", "1: Match: bad LocalPort pattern 'ssh'"));
	CHECK(load_fails_with("Match LocalPort 70000\n", "1: Match: bad LocalPort pattern '70000'"));
	CHECK(load_fails_with("Match LocalPort 0\n", "1: Match: bad LocalPort pattern '0'"));
	CHECK(load_fails_with("Match all User x\n",
			      "1: Match: 'all' cannot be combined with other criteria"));
	CHECK(load_fails_with("Match Address 10.0.0.0/33\n",
			      "1: Match: bad address pattern '10.0.0.0/33'"));
	CHECK(load_fails_with("Match Address 10.0.0.0/8,!nonsense/8\n",
			      "1: Match: bad address pattern '!nonsense/8'"));
	/* Include */
	char want[600];
	snprintf(want, sizeof want, "1: Include: cannot open %s/missing.conf: No such file or directory",
		 tmpdir);
	CHECK(load_fails_with("Include missing.conf\n", want));
	put("bad_inc.conf", "# included\nMaxSessions none\n");
	{
		struct config c;
		CHECK(load(&c, "Include bad_inc.conf\n") == -1);
		snprintf(want, sizeof want, "%s/bad_inc.conf:2: MaxSessions: bad number 'none' "
			 "(expected 0 to 2147483647)", tmpdir);
		CHECK(strcmp(err, want) == 0);
		config_free(&c);
	}
	put("loop.conf", "Include loop.conf\n");
	{
		struct config c;
		CHECK(load(&c, "Include loop.conf\n") == -1);
		CHECK(strstr(err, "loop.conf:1: Include: nested too deeply") != NULL);
		config_free(&c);
	}
	/* a missing top-level file */
	{
		struct config c;
		config_defaults(&c);
		CHECK(config_load_file(&c, "/nonexistent/wombat.conf", err, sizeof err) == -1);
		CHECK(strcmp(err, "/nonexistent/wombat.conf: No such file or directory") == 0);
		config_free(&c);
	}
}

static void test_command_line(void)
{
	struct config c;
	config_defaults(&c);
	/* -o before the file: it wins over the file's value */
	CHECK(config_apply_option(&c, "MaxAuthTries=2", err, sizeof err) == 0);
	CHECK(config_apply_option(&c, "LogLevel DEBUG3", err, sizeof err) == 0);
	CHECK(config_load_file(&c, put("t.conf", "MaxAuthTries 4\nLogLevel ERROR\nMaxSessions 3\n"),
			       err, sizeof err) == 0);
	CHECK(c.max_auth_tries == 2 && c.log_level == LOG_L_DEBUG3 && c.max_sessions == 3);
	/* and after it */
	CHECK(config_apply_option(&c, "MaxSessions=7", err, sizeof err) == 0);
	CHECK(c.max_sessions == 7);
	CHECK(config_apply_option(&c, "Port=99999", err, sizeof err) == -1);
	CHECK(strcmp(err, "command line: Port: bad port number '99999'") == 0);
	CHECK(config_apply_option(&c, "Nonsense=1", err, sizeof err) == -1);
	CHECK(strcmp(err, "command line: Nonsense: unknown option") == 0);
	CHECK(config_apply_option(&c, "Match User x", err, sizeof err) == -1);
	CHECK(strcmp(err, "command line: Match: not allowed on the command line") == 0);
	CHECK(config_apply_option(&c, "Include /etc/passwd", err, sizeof err) == -1);
	CHECK(strcmp(err, "command line: Include: not allowed on the command line") == 0);
	CHECK(config_apply_option(&c, "MaxSessions", err, sizeof err) == -1);
	CHECK(strcmp(err, "command line: MaxSessions: missing value") == 0);
	/* lists from -o replace the default and accumulate; the file's lines
	 * for the same keyword are then ignored (as sshd -p) but validated */
	config_free(&c);
	config_defaults(&c);
	CHECK(config_apply_option(&c, "Port=2200", err, sizeof err) == 0);
	CHECK(config_apply_option(&c, "Port 2201", err, sizeof err) == 0);
	CHECK(config_apply_option(&c, "AcceptEnv=A", err, sizeof err) == 0);
	CHECK(c.n_ports == 2 && c.ports[0] == 2200 && c.ports[1] == 2201);
	CHECK(config_load_file(&c, put("t.conf", "Port 22\nAcceptEnv B C\nHostKey /k\n"),
			       err, sizeof err) == 0);
	CHECK(c.n_ports == 2 && c.ports[0] == 2200 && c.ports[1] == 2201);
	CHECK(c.n_accept_env == 1 && strcmp(c.accept_env[0], "A") == 0);
	CHECK(c.n_host_keys == 1);
	CHECK(config_load_file(&c, put("t.conf", "Port 0\n"), err, sizeof err) == -1);
	config_free(&c);
	/* -o after the file replaces the file's list */
	config_defaults(&c);
	CHECK(config_load_file(&c, put("t.conf", "Port 22\nPort 23\nAcceptEnv B\n"),
			       err, sizeof err) == 0);
	CHECK(config_apply_option(&c, "Port=2200", err, sizeof err) == 0);
	CHECK(config_apply_option(&c, "Port=2201", err, sizeof err) == 0);
	CHECK(c.n_ports == 2 && c.ports[0] == 2200 && c.ports[1] == 2201);
	CHECK(c.n_accept_env == 1 && strcmp(c.accept_env[0], "B") == 0);
	config_free(&c);
}

static void test_include(void)
{
	char dir[600];
	snprintf(dir, sizeof dir, "%s/conf.d", tmpdir);
	mkdir(dir, 0700);
	put("conf.d/20-b.conf", "MaxSessions 20\nAcceptEnv B\n");
	put("conf.d/10-a.conf", "MaxSessions 10\nAcceptEnv A\nMaxAuthTries 9\n");
	put("conf.d/ignored.txt", "Garbage here\n");
	struct config c;
	CHECK(load(&c, "AcceptEnv FIRST\nInclude conf.d/*.conf nothing-*.conf\nMaxAuthTries 1\n"
		       "AcceptEnv LAST\n") == 0);
	CHECK(c.max_sessions == 10);                /* 10-a is read first */
	CHECK(c.max_auth_tries == 9);               /* included before the later line */
	CHECK(c.n_accept_env == 4 && strcmp(c.accept_env[0], "FIRST") == 0 &&
	      strcmp(c.accept_env[1], "A") == 0 && strcmp(c.accept_env[2], "B") == 0 &&
	      strcmp(c.accept_env[3], "LAST") == 0);
	config_free(&c);
	/* absolute path, and Include inside a Match block belongs to the block */
	char text[1200];
	put("conf.d/match.inc", "MaxSessions 1\n");
	snprintf(text, sizeof text, "Match User bob\nInclude %s/conf.d/match.inc\n", tmpdir);
	CHECK(load(&c, text) == 0);
	CHECK(c.max_sessions == 10);
	CHECK(match_as(&c, "bob", NULL, "10.0.0.1", NULL) == 0);
	CHECK(c.max_sessions == 1);
	config_free(&c);
	/* a Match block opened in an included file ends with that file */
	put("conf.d/opens.match", "Match User bob\nMaxSessions 2\n");
	CHECK(load(&c, "Include conf.d/opens.match\nMaxAuthTries 4\n") == 0);
	CHECK(c.max_auth_tries == 4);
	config_free(&c);
	/* an Include in a Match block whose file has a non-Match option */
	put("conf.d/port.inc", "Port 2\n");
	CHECK(load(&c, "Match User bob\nInclude conf.d/port.inc\n") == -1);
	char want[700];
	snprintf(want, sizeof want, "%s/conf.d/port.inc:1: Port: not allowed in a Match block", tmpdir);
	CHECK(strcmp(err, want) == 0);
	config_free(&c);
}

static void test_match(void)
{
	static const char *conf =
		"PasswordAuthentication yes\n"
		"AllowTcpForwarding yes\n"
		"AllowUsers alice bob carol\n"
		"MaxSessions 10\n"
		"Match User bob,!root\n"
		"  PasswordAuthentication no\n"
		"  SessionKillMode control-group\n"
		"  AllowUsers bob\n"
		"Match Group admins\n"
		"  PasswordAuthentication yes\n"   /* bob's earlier block wins */
		"  MaxSessions 2\n"
		"  AllowUsers dave\n"              /* accumulates over matching blocks */
		"Match Address 192.168.0.0/16,!192.168.7.*\n"
		"  AllowTcpForwarding no\n"
		"  ForceCommand /bin/false\n"
		"Match Host *.example.org\n"
		"  Banner /etc/banner.example\n"
		"Match Address 2001:db8::/32 User carol\n"
		"  CloseOnChildExit yes\n"
		"Match all\n"
		"  ClientAliveInterval 30\n";
	struct config base, c;
	CHECK(load(&base, conf) == 0);
	CHECK(base.password_authentication == 1 && base.session_kill_mode == KILL_PROCESS);
	CHECK(base.client_alive_interval == 0 && base.n_allow_users == 3);

	const char *bob_groups[] = { "users", "admins", NULL };
	config_copy(&c, &base);
	CHECK(match_as(&c, "bob", bob_groups, "10.1.1.1", "pc.example.org") == 0);
	CHECK(c.password_authentication == 0);
	CHECK(c.session_kill_mode == KILL_CONTROL_GROUP);
	CHECK(c.max_sessions == 2);
	CHECK(c.n_allow_users == 2 && strcmp(c.allow_users[0], "bob") == 0 &&
	      strcmp(c.allow_users[1], "dave") == 0);
	CHECK(c.allow_tcp_forwarding == FWD(1) && c.force_command == NULL);
	CHECK(c.banner && strcmp(c.banner, "/etc/banner.example") == 0);
	CHECK(c.client_alive_interval == 30);
	config_free(&c);
	/* the base is untouched by matching a copy */
	CHECK(base.password_authentication == 1 && base.n_allow_users == 3);

	const char *staff[] = { "staff", NULL };
	config_copy(&c, &base);
	CHECK(match_as(&c, "alice", staff, "192.168.3.4", NULL) == 0);
	CHECK(c.password_authentication == 1 && c.max_sessions == 10);
	CHECK(c.allow_tcp_forwarding == FWD(0));
	CHECK(c.force_command && strcmp(c.force_command, "/bin/false") == 0);
	CHECK(c.banner == NULL && c.n_allow_users == 3);
	config_free(&c);
	/* negated address entry */
	config_copy(&c, &base);
	CHECK(match_as(&c, "alice", NULL, "192.168.7.9", NULL) == 0);
	CHECK(c.allow_tcp_forwarding == FWD(1));
	config_free(&c);
	/* IPv6 CIDR together with a user criterion; v4-mapped addresses */
	config_copy(&c, &base);
	CHECK(match_as(&c, "carol", NULL, "2001:db8::5", NULL) == 0);
	CHECK(c.close_on_child_exit == 1);
	config_free(&c);
	config_copy(&c, &base);
	CHECK(match_as(&c, "alice", NULL, "2001:db8::5", NULL) == 0);
	CHECK(c.close_on_child_exit == 0);
	config_free(&c);
	config_copy(&c, &base);
	CHECK(match_as(&c, "alice", NULL, "::ffff:192.168.1.1", NULL) == 0);
	CHECK(c.allow_tcp_forwarding == FWD(0));
	config_free(&c);
	/* root is excluded by the negation, and a missing host never matches */
	config_copy(&c, &base);
	CHECK(match_as(&c, "root", NULL, "10.0.0.1", NULL) == 0);
	CHECK(c.password_authentication == 1 && c.session_kill_mode == KILL_PROCESS);
	CHECK(c.banner == NULL && c.client_alive_interval == 30);
	config_free(&c);
	config_free(&base);
}

/* LocalAddress / LocalPort: the server side of the connection. */
/* A criterion list of negations only means "everything except" (OpenSSH
 * never applies such a block; the bastion idiom needs it to). */
static void test_match_only_negations(void)
{
	static const char *conf =
		"Match Address !10.0.0.0/8\n"
		"  PasswordAuthentication no\n"
		"Match User !root,!bob\n"
		"  MaxSessions 3\n"
		"Match Group !wheel\n"
		"  MaxAuthTries 2\n";
	static const char *const wheel[] = { "users", "wheel", NULL };
	static const char *const plain[] = { "users", NULL };
	struct config base, c;
	CHECK(load(&base, conf) == 0);
	struct match_conn mc = { .user = "alice", .groups = plain, .addr = "192.0.2.1" };
	config_copy(&c, &base);
	CHECK(config_match(&c, &mc) == 0);
	CHECK(c.password_authentication == 0 && c.max_sessions == 3 && c.max_auth_tries == 2);
	config_free(&c);
	mc = (struct match_conn){ .user = "bob", .groups = wheel, .addr = "10.1.2.3" };
	config_copy(&c, &base);
	CHECK(config_match(&c, &mc) == 0);
	CHECK(c.password_authentication == 1 && c.max_sessions == 10 && c.max_auth_tries == 6);
	config_free(&c);
	/* an unknown value (no address) never matches, negation or not */
	mc = (struct match_conn){ .user = "alice" };
	config_copy(&c, &base);
	CHECK(config_match(&c, &mc) == 0);
	CHECK(c.password_authentication == 1);
	config_free(&c);
	config_free(&base);
}

static void test_match_local(void)
{
	static const char *conf =
		"MaxSessions 10\n"
		"Match LocalAddress 10.9.0.0/16,!10.9.9.9 LocalPort 22,80??\n"
		"  MaxSessions 3\n"
		"Match LocalPort !2222,*\n"
		"  ClientAliveInterval 30\n"
		"Match localaddress ::1 User alice\n"
		"  MaxAuthTries 2\n";
	struct config base, c;
	CHECK(load(&base, conf) == 0);
	struct match_conn mc = { .user = "alice", .addr = "192.0.2.1",
				 .laddr = "10.9.1.1", .lport = 22 };
	config_copy(&c, &base);
	CHECK(config_match(&c, &mc) == 0);
	CHECK(c.max_sessions == 3 && c.client_alive_interval == 30 && c.max_auth_tries == 6);
	config_free(&c);
	/* the port list's glob, and a negated local address */
	mc.lport = 8022;
	mc.laddr = "10.9.9.9";
	config_copy(&c, &base);
	CHECK(config_match(&c, &mc) == 0);
	CHECK(c.max_sessions == 10 && c.client_alive_interval == 30);
	config_free(&c);
	mc.laddr = "10.9.1.1";
	config_copy(&c, &base);
	CHECK(config_match(&c, &mc) == 0);
	CHECK(c.max_sessions == 3);
	config_free(&c);
	/* a negated port; IPv6 local address with a user */
	mc.lport = 2222;
	mc.laddr = "::1";
	config_copy(&c, &base);
	CHECK(config_match(&c, &mc) == 0);
	CHECK(c.max_sessions == 10 && c.client_alive_interval == 0 && c.max_auth_tries == 2);
	config_free(&c);
	/* unknown local side: no local criterion matches */
	mc.lport = 0;
	mc.laddr = NULL;
	config_copy(&c, &base);
	CHECK(config_match(&c, &mc) == 0);
	CHECK(c.max_sessions == 10 && c.client_alive_interval == 0 && c.max_auth_tries == 6);
	config_free(&c);
	config_free(&base);
}

static void fill_everything(struct config *c)
{
	CHECK(load(c,
		"Port 2022\nPort 2023\nListenAddress 127.0.0.1:2022\nListenAddress ::1\n"
		"AddressFamily inet6\nHostKey /k/ed25519\nHostKey \"/k/with space\"\n"
		"PidFile /run/x.pid\nMaxStartups 3:40:9\nLogLevel VERBOSE\nSyslogFacility DAEMON\n"
		"PermitRootLogin forced-commands-only\nPubkeyAuthentication no\n"
		"PasswordAuthentication no\nPermitEmptyPasswords yes\n"
		"KbdInteractiveAuthentication no\nAuthorizedKeysFile /a/%u \"/b c\"\n"
		"StrictModes no\nMaxAuthTries 2\nLoginGraceTime 0\nAllowUsers a b\n"
		"DenyUsers c\nAllowGroups g\nDenyGroups h\nBanner /etc/banner\n"
		"PermitUserEnvironment yes\nCiphers " CIPHER_AEAD_FOR_TEST "\n"
		"MACs hmac-sha2-512\nKexAlgorithms curve25519-sha256\n"
		"HostKeyAlgorithms ssh-ed25519" RSA_KEYALGS_FOR_TEST "\n"
		"PubkeyAcceptedAlgorithms " RSA_OR_ED25519_FOR_TEST "\n"
		"CASignatureAlgorithms ssh-ed25519\nCompression no\nRekeyLimit 100M 30m\n"
		"MaxSessions 0\nPermitTTY no\nPrintMotd no\nPrintLastLog no\nAcceptEnv LANG LC_*\n"
		"SetEnv X=1 \"Y=two words\"\nSubsystem sftp /usr/lib/sftp-server -e\n"
		"Subsystem other /bin/other\nForceCommand /bin/echo forced\n"
		"ClientAliveInterval 10\nClientAliveCountMax 7\nTCPKeepAlive no\n"
		"ChannelTimeout session=1h\nUnusedConnectionTimeout 5m\nAllowTcpForwarding remote\n"
		"PermitOpen host:1 [::1]:22\nPermitListen none\nGatewayPorts yes\n"
		"AllowAgentForwarding no\nX11Forwarding no\nUsePAM no\nUseDNS no\n"
		"CloseOnChildExit yes\nSessionKillMode mixed\nSessionKillSignal INT\n"
		"SessionKillTimeout 9\nSessionCgroupRoot /sys/fs/cgroup/w\n"
		"SessionKillFallback process-group\n") == 0);
}

static void round_trip(const struct config *a)
{
	struct config b;
	char *text = dump_to_string(a);
	config_defaults(&b);
	int rc = config_load_file(&b, put("dump.conf", text), err, sizeof err);
	CHECK(rc == 0);
	if (rc)
		fprintf(stderr, "  %s\n", err);
	CHECK(config_equal(a, &b));
	char *text2 = dump_to_string(&b);
	CHECK(strcmp(text, text2) == 0);
	free(text);
	free(text2);
	config_free(&b);
}

static void test_dump(void)
{
	struct config c, d;
	config_defaults(&c);
	char *text = dump_to_string(&c);
	CHECK(strstr(text, "\nport 22\n") || strncmp(text, "port 22\n", 8) == 0);
	CHECK(strstr(text, "\nmaxauthtries 6\n") != NULL);
	CHECK(strstr(text, "\npermitrootlogin prohibit-password\n") != NULL);
	CHECK(strstr(text, "\nauthorizedkeysfile .ssh/authorized_keys .ssh/authorized_keys2\n") != NULL);
	CHECK(strstr(text, "\nloglevel INFO\n") != NULL);
	CHECK(strstr(text, "\npermitopen any\n") != NULL);
	CHECK(strstr(text, "\nsessionkillsignal TERM\n") != NULL);
	CHECK(strstr(text, "\nrekeylimit 0 3600\n") != NULL);
	free(text);
	round_trip(&c);
	config_free(&c);

	fill_everything(&c);
	text = dump_to_string(&c);
	CHECK(strstr(text, "\nhostkey \"/k/with space\"\n") != NULL);
	CHECK(strstr(text, "\nacceptenv LANG\nacceptenv LC_*\n") != NULL);
	CHECK(strstr(text, "\nsubsystem sftp /usr/lib/sftp-server -e\n") != NULL);
	CHECK(strstr(text, "\nmaxstartups 3:40:9\n") != NULL);
	CHECK(strstr(text, "\nrekeylimit 104857600 1800\n") != NULL);
	free(text);
	round_trip(&c);
	/* config_equal notices a difference, and a copy is equal and independent */
	config_copy(&d, &c);
	CHECK(config_equal(&c, &d));
	free(d.set_env[1]);
	d.set_env[1] = strdup("Y=other");
	CHECK(!config_equal(&c, &d));
	config_free(&c);
	CHECK(strcmp(d.host_keys[1], "/k/with space") == 0);
	CHECK(strcmp(d.subsystem_cmds[1], "/bin/other") == 0);
	config_free(&d);
}

/* Debian 12's stock /etc/ssh/sshd_config (active lines) loads unchanged. */
static void test_debian_config(void)
{
	char dir[600], text[2048], logpath[600];
	snprintf(dir, sizeof dir, "%s/sshd_config.d", tmpdir);
	mkdir(dir, 0700);
	put("sshd_config.d/local.conf", "PasswordAuthentication no\n");
	snprintf(text, sizeof text,
		 "# This is the sshd server system-wide configuration file.\n"
		 "Include %s/*.conf\n"
		 "#Port 22\n"
		 "#HostKey /etc/ssh/ssh_host_rsa_key\n"
		 "#PermitRootLogin prohibit-password\n"
		 "KbdInteractiveAuthentication no\n"
		 "UsePAM yes\n"
		 "X11Forwarding yes\n"
		 "PrintMotd no\n"
		 "# Allow client to pass locale environment variables\n"
		 "AcceptEnv LANG LC_*\n"
		 "# override default of no subsystems\n"
		 "Subsystem\tsftp\t/usr/lib/openssh/sftp-server\n"
		 "#Match User anoncvs\n"
		 "#\tX11Forwarding no\n"
		 "#\tAllowTcpForwarding no\n"
		 "#\tPermitTTY no\n"
		 "#\tForceCommand cvs server\n"
		 "GSSAPIAuthentication no\n"
		 "ChallengeResponseAuthentication no\n", dir);
	snprintf(logpath, sizeof logpath, "%s/log", tmpdir);
	log_init("test_config", LOG_L_INFO, 0, logpath, LOG_AUTH);
	struct config c;
	int rc = load(&c, text);
	CHECK(rc == 0);
	if (rc)
		fprintf(stderr, "  %s\n", err);
	CHECK(c.password_authentication == 0);
	CHECK(c.kbd_interactive_authentication == 0);
	CHECK(c.use_pam == 1 && c.x11_forwarding == 1 && c.print_motd == 0);
	CHECK(c.n_accept_env == 2);
	CHECK(c.n_subsystems == 1 && strcmp(c.subsystem_cmds[0], "/usr/lib/openssh/sftp-server") == 0);
	config_free(&c);
	/* the unsupported values were logged, with file and line */
	FILE *f = fopen(logpath, "r");
	char buf[4096] = "";
	CHECK(f != NULL);
	if (f) {
		size_t n = fread(buf, 1, sizeof buf - 1, f);
		buf[n] = 0;
		fclose(f);
	}
	char want[700];
	snprintf(want, sizeof want, "%s/t.conf:7: UsePAM: 'yes' is not supported by wombat, ignored",
		 tmpdir);
	CHECK(strstr(buf, want) != NULL);
	snprintf(want, sizeof want, "%s/t.conf:8: X11Forwarding: 'yes' is not supported by wombat",
		 tmpdir);
	CHECK(strstr(buf, want) != NULL);
}

int main(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/test_config.XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 2;
	}
	test_defaults();
	test_option_types();
	test_first_value_wins();
	test_values();
	test_errors();
	test_known_algorithms();
	if (!HAVE_RSA || !HAVE_NIST || !HAVE_DH)
		test_left_out_algorithms();
	test_command_line();
	test_include();
	test_match();
	test_match_local();
	test_match_only_negations();
	test_dump();
	test_debian_config();
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	return UNIT_DONE();
}
