/* penalty: per-source penalties driven with a fake clock (seconds). */
#include "unit.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "config.h"
#include "conn.h"
#include "log.h"
#include "penalty.h"

static char logpath[64];

static struct sockaddr_storage sa(const char *text)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	if (strchr(text, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		inet_pton(AF_INET6, text, &s6->sin6_addr);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		inet_pton(AF_INET, text, &s4->sin_addr);
	}
	return ss;
}

static void record(const char *addr, enum penalty_cause cause, long now)
{
	struct sockaddr_storage ss = sa(addr);
	penalty_record((struct sockaddr *)&ss, cause, now);
}

static int refused(const char *addr, long now)
{
	struct sockaddr_storage ss = sa(addr);
	return penalty_refuse((struct sockaddr *)&ss, now);
}

/* Fresh table with defaults changed by the -o style options given. */
static void setup(const char *const *opts)
{
	struct config c;
	char err[512];
	config_defaults(&c);
	for (; opts && *opts; opts++)
		if (config_apply_option(&c, *opts, err, sizeof err) < 0)
			fprintf(stderr, "setup: %s\n", err);
	penalty_reset();
	penalty_configure(&c);
	config_free(&c);
}

/* Occurrences of needle in the log written so far. */
static int log_count(const char *needle)
{
	FILE *f = fopen(logpath, "r");
	char line[512];
	int n = 0;
	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		if (strstr(line, needle))
			n++;
	fclose(f);
	return n;
}

/* authfail:5 min:15 — the third failure in a row reaches min. */
static void test_min_threshold(void)
{
	setup(NULL);
	record("192.0.2.1", PENALTY_AUTHFAIL, 100);
	record("192.0.2.1", PENALTY_AUTHFAIL, 100);
	CHECK(!refused("192.0.2.1", 100));
	record("192.0.2.1", PENALTY_AUTHFAIL, 100);
	CHECK(refused("192.0.2.1", 100));
	CHECK(refused("192.0.2.1", 114));
	CHECK(!refused("192.0.2.1", 115));
	CHECK(log_count("penalty: 192.0.2.1/32 refused for 15 s: authfail") == 1);
}

/* What is left decays: failures spread out never reach min. */
static void test_decay(void)
{
	setup(NULL);
	for (long t = 1000; t < 1100; t += 5)
		record("192.0.2.2", PENALTY_AUTHFAIL, t);
	CHECK(!refused("192.0.2.2", 1100));
	/* a crash (90 s) alone is over min */
	record("192.0.2.2", PENALTY_CRASH, 1100);
	CHECK(refused("192.0.2.2", 1100));
	CHECK(refused("192.0.2.2", 1189));
	CHECK(!refused("192.0.2.2", 1195));
}

/* Penalties accumulate up to max; the start is logged once per period. */
static void test_cap_and_log_once(void)
{
	static const char *const opts[] = { "PerSourcePenalties crash:100 max:250", NULL };
	setup(opts);
	for (int i = 0; i < 5; i++)
		record("198.51.100.7", PENALTY_CRASH, 0);
	for (int i = 0; i < 3; i++)
		CHECK(refused("198.51.100.7", 10));
	CHECK(refused("198.51.100.7", 249));
	CHECK(!refused("198.51.100.7", 250));
	CHECK(log_count("penalty: 198.51.100.7/32 refused for 100 s: crash") == 1);
	CHECK(log_count("198.51.100.7/32 refused for") == 1);
	penalty_expire(250);
	CHECK(log_count("penalty: 198.51.100.7/32 no longer refused (4 connections refused)") == 1);
	/* a new period is logged again */
	record("198.51.100.7", PENALTY_CRASH, 300);
	CHECK(refused("198.51.100.7", 300));
	CHECK(log_count("198.51.100.7/32 refused for") == 2);
}

/* Each cause costs its own duration; protocol errors cost as noauth. */
static void test_causes(void)
{
	static const char *const opts[] = {
		"PerSourcePenalties crash:1 authfail:2 noauth:3 grace-exceeded:4 min:3", NULL };
	setup(opts);
	record("203.0.113.1", PENALTY_CRASH, 0);
	record("203.0.113.2", PENALTY_AUTHFAIL, 0);
	record("203.0.113.3", PENALTY_NOAUTH, 0);
	record("203.0.113.4", PENALTY_GRACE, 0);
	record("203.0.113.5", PENALTY_PROTOCOL, 0);
	CHECK(!refused("203.0.113.1", 0) && !refused("203.0.113.2", 0));
	CHECK(refused("203.0.113.3", 2) && !refused("203.0.113.3", 3));
	CHECK(refused("203.0.113.4", 3) && !refused("203.0.113.4", 4));
	CHECK(refused("203.0.113.5", 2));
	CHECK(log_count("203.0.113.5/32 refused for 3 s: protocol error") == 1);
}

static void test_netblocks(void)
{
	static const char *const opts[] = { "PerSourceNetBlockSize 24:56", NULL };
	setup(opts);
	record("10.1.2.3", PENALTY_CRASH, 0);
	CHECK(refused("10.1.2.200", 1));
	CHECK(!refused("10.1.3.3", 1));
	CHECK(log_count("penalty: 10.1.2.0/24 refused for 90 s: crash") == 1);
	record("2001:db8:0:1234:5::1", PENALTY_CRASH, 0);
	CHECK(refused("2001:db8:0:12ff::7", 1));       /* same /56 */
	CHECK(!refused("2001:db8:0:1300::1", 1));
	CHECK(log_count("penalty: 2001:db8:0:1200::/56 refused for 90 s") == 1);
	/* an IPv4-mapped IPv6 peer is its IPv4 block */
	CHECK(refused("::ffff:10.1.2.9", 1));
	/* default 32:128: neighbours are separate */
	setup(NULL);
	record("10.1.2.3", PENALTY_CRASH, 0);
	CHECK(refused("10.1.2.3", 1) && !refused("10.1.2.4", 1));
	record("2001:db8::1", PENALTY_CRASH, 0);
	CHECK(refused("2001:db8::1", 1) && !refused("2001:db8::2", 1));
}

static void test_exempt(void)
{
	static const char *const opts[] = {
		"PerSourcePenaltyExemptList 192.0.2.9,2001:db8:1::/48", NULL };
	setup(opts);
	record("192.0.2.9", PENALTY_CRASH, 0);
	record("2001:db8:1::5", PENALTY_CRASH, 0);
	record("192.0.2.10", PENALTY_CRASH, 0);
	CHECK(!refused("192.0.2.9", 1));
	CHECK(!refused("2001:db8:1::5", 1));
	CHECK(refused("192.0.2.10", 1));
	/* an exempt address inside a penalised block is still served */
	static const char *const opts2[] = { "PerSourceNetBlockSize 24",
		"PerSourcePenaltyExemptList 192.0.2.9", NULL };
	setup(opts2);
	record("192.0.2.10", PENALTY_CRASH, 0);
	CHECK(refused("192.0.2.11", 1) && !refused("192.0.2.9", 1));
}

static void test_disabled(void)
{
	static const char *const opts[] = { "PerSourcePenalties no", NULL };
	setup(opts);
	record("192.0.2.50", PENALTY_CRASH, 0);
	CHECK(!refused("192.0.2.50", 1));
}

/* max-sources4:2: a third block is not recorded (permissive) or everyone
 * not exempt is refused (deny-all) until an entry runs out. */
static void test_table_full(void)
{
	static const char *const perm[] = {
		"PerSourcePenalties max-sources4:2 max-sources6:1 authfail:5", NULL };
	setup(perm);
	record("192.0.2.1", PENALTY_CRASH, 0);
	record("192.0.2.2", PENALTY_AUTHFAIL, 0);     /* below min, still an entry */
	record("192.0.2.3", PENALTY_CRASH, 0);
	CHECK(refused("192.0.2.1", 1));
	CHECK(!refused("192.0.2.3", 1));
	CHECK(!refused("192.0.2.4", 1));
	CHECK(log_count("table of IPv4 sources full (2); not penalising new sources") == 1);
	/* once the small one runs out there is room again */
	penalty_expire(5);
	record("192.0.2.3", PENALTY_CRASH, 5);
	CHECK(refused("192.0.2.3", 6));

	static const char *const deny[] = {
		"PerSourcePenalties max-sources4:1 overflow:deny-all",
		"PerSourcePenaltyExemptList 192.0.2.99", NULL };
	setup(deny);
	record("192.0.2.1", PENALTY_AUTHFAIL, 0);
	CHECK(refused("192.0.2.7", 1));                 /* anyone */
	CHECK(refused("192.0.2.1", 1));
	CHECK(!refused("192.0.2.99", 1));               /* but the exempt */
	CHECK(!refused("2001:db8::1", 1));              /* IPv6 has room */
	CHECK(log_count("refusing every client not exempt (deny-all)") == 1);
	penalty_expire(5);
	CHECK(!refused("192.0.2.7", 5));
}

/* Exit statuses and signals of connection processes. */
static int status_of_exit(int code)
{
	pid_t pid = fork();
	if (pid == 0)
		_exit(code);
	int st = 0;
	waitpid(pid, &st, 0);
	return st;
}

/* The wait status of a child killed by sig. The child says when its
 * default action is back (an ASan build catches SIGSEGV otherwise). */
static int status_of_signal(int sig)
{
	int ready[2];
	char c = 0;
	if (pipe(ready) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		signal(sig, SIG_DFL);
		(void)!write(ready[1], "r", 1);
		for (;;)
			pause();
	}
	close(ready[1]);
	(void)!read(ready[0], &c, 1);
	close(ready[0]);
	kill(pid, sig);
	int st = 0;
	waitpid(pid, &st, 0);
	return st;
}

static void test_cause_of(void)
{
	CHECK(penalty_cause_of(status_of_exit(CONN_END_OK)) == PENALTY_NONE);
	CHECK(penalty_cause_of(status_of_exit(CONN_END_AUTHFAIL)) == PENALTY_AUTHFAIL);
	CHECK(penalty_cause_of(status_of_exit(CONN_END_NOAUTH)) == PENALTY_NOAUTH);
	CHECK(penalty_cause_of(status_of_exit(CONN_END_GRACE)) == PENALTY_GRACE);
	CHECK(penalty_cause_of(status_of_exit(CONN_END_PROTOCOL)) == PENALTY_PROTOCOL);
	CHECK(penalty_cause_of(status_of_exit(255)) == PENALTY_NOAUTH);
	CHECK(penalty_cause_of(status_of_signal(SIGSEGV)) == PENALTY_CRASH);
	CHECK(penalty_cause_of(status_of_signal(SIGABRT)) == PENALTY_CRASH);
	CHECK(penalty_cause_of(status_of_signal(SIGTERM)) == PENALTY_NONE);
	CHECK(penalty_cause_of(status_of_signal(SIGKILL)) == PENALTY_NONE);
}

/* The keywords parse strictly and -T prints what reads back. */
static void test_config(void)
{
	struct config c;
	char err[512];
	config_defaults(&c);
	CHECK(c.penalties.enabled && c.penalties.crash == 90 && c.penalties.authfail == 5 &&
	      c.penalties.noauth == 1 && c.penalties.grace_exceeded == 10 &&
	      c.penalties.max == 600 && c.penalties.min == 15 &&
	      c.penalties.max_sources4 == 65536 && c.penalties.max_sources6 == 65536 &&
	      !c.penalties.overflow_deny4 && !c.penalties.overflow_deny6 &&
	      c.penalties.netblock4 == 32 && c.penalties.netblock6 == 128 && !c.penalty_exempt);
	CHECK(config_apply_option(&c, "PerSourcePenalties crash:2m min:1 overflow6:deny-all",
				  err, sizeof err) == 0);
	CHECK(c.penalties.crash == 120 && c.penalties.min == 1 && c.penalties.overflow_deny6 &&
	      c.penalties.authfail == 5);
	CHECK(config_apply_option(&c, "PerSourcePenaltyExemptList 10.0.0.0/8,0:0::1",
				  err, sizeof err) == 0);
	CHECK(c.penalty_exempt && strcmp(c.penalty_exempt, "10.0.0.0/8,::1") == 0);
	static const char *const bad[] = {
		"PerSourcePenalties no crash:1", "PerSourcePenalties crash",
		"PerSourcePenalties crash:x", "PerSourcePenalties nope:1",
		"PerSourcePenalties max-sources6:0", "PerSourcePenalties overflow:open",
		"PerSourceNetBlockSize 33", "PerSourceNetBlockSize 8:200",
		"PerSourcePenaltyExemptList 10.0.0.0/40", "PerSourcePenaltyExemptList host.example",
		NULL };
	for (const char *const *b = bad; *b; b++) {
		struct config d;
		config_defaults(&d);
		int rc = config_apply_option(&d, *b, err, sizeof err);
		CHECK(rc < 0);
		if (rc == 0)
			fprintf(stderr, "  accepted: %s\n", *b);
		config_free(&d);
	}
	config_free(&c);
}

int main(void)
{
	snprintf(logpath, sizeof logpath, "/tmp/test_penalty.%ld.log", (long)getpid());
	log_init("test_penalty", LOG_L_INFO, 0, logpath, LOG_AUTH);
	test_min_threshold();
	test_decay();
	test_cap_and_log_once();
	test_causes();
	test_netblocks();
	test_exempt();
	test_disabled();
	test_table_full();
	test_cause_of();
	test_config();
	unlink(logpath);
	return UNIT_DONE();
}
