/* forward: the restriction rules (fwd_open_refusal, fwd_listen_refusal),
 * fed through the configuration parser and key options. */
#include "unit.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/un.h>

#include "authfile.h"
#include "config.h"
#include "forward.h"

static void load(struct config *c, const char *const *opts)
{
	char err[256];
	config_defaults(c);
	for (int i = 0; opts[i]; i++)
		if (config_apply_option(c, opts[i], err, sizeof(err)) < 0)
			fprintf(stderr, "option %s: %s\n", opts[i], err);
}

static int open_ok(const char *const *opts, const struct authkey_opts *ko, const char *host,
		   int port)
{
	struct config c;
	load(&c, opts);
	const char *why = fwd_open_refusal(&c, ko, 0, host, port);
	config_free(&c);
	return why == NULL;
}

static int listen_ok(const char *const *opts, const struct authkey_opts *ko,
		     const char *host, int port, int root)
{
	struct config c;
	load(&c, opts);
	const char *why = fwd_listen_refusal(&c, ko, 0, host, port, root);
	config_free(&c);
	return why == NULL;
}

static void test_defaults_and_switches(void)
{
	const char *none[] = { NULL };
	CHECK(open_ok(none, NULL, "db.example", 5432));
	CHECK(listen_ok(none, NULL, "localhost", 8080, 0));
	const char *off[] = { "DisableForwarding yes", NULL };
	CHECK(!open_ok(off, NULL, "db.example", 5432));
	CHECK(!listen_ok(off, NULL, "localhost", 8080, 1));
	const char *local[] = { "AllowTcpForwarding local", NULL };
	CHECK(open_ok(local, NULL, "h", 1));
	CHECK(!listen_ok(local, NULL, "localhost", 8080, 0));
	const char *remote[] = { "AllowTcpForwarding remote", NULL };
	CHECK(!open_ok(remote, NULL, "h", 1));
	CHECK(listen_ok(remote, NULL, "localhost", 8080, 0));
	/* Unix sockets have their own switch */
	struct config c;
	const char *sl[] = { "AllowStreamLocalForwarding no", NULL };
	load(&c, sl);
	CHECK(fwd_open_refusal(&c, NULL, 1, "/tmp/s", 0) != NULL);
	CHECK(fwd_open_refusal(&c, NULL, 0, "h", 22) == NULL);
	CHECK(strcmp(fwd_open_refusal(&c, NULL, 1, "/tmp/s", 0),
		     "AllowStreamLocalForwarding no") == 0);
	config_free(&c);
}

static void test_permit_open(void)
{
	const char *list[] = { "PermitOpen db.example:5432 [2001:db8::1]:* *:443", NULL };
	CHECK(open_ok(list, NULL, "db.example", 5432));
	CHECK(open_ok(list, NULL, "DB.EXAMPLE", 5432));
	CHECK(!open_ok(list, NULL, "db.example", 5433));
	CHECK(open_ok(list, NULL, "2001:db8::1", 22));
	CHECK(open_ok(list, NULL, "anything", 443));
	CHECK(!open_ok(list, NULL, "10.0.0.1", 5432));   /* no lookups */
	const char *none[] = { "PermitOpen none", NULL };
	CHECK(!open_ok(none, NULL, "db.example", 5432));
}

static void test_permit_listen(void)
{
	const char *list[] = { "PermitListen 8080 localhost:* 127.0.0.?:9000", NULL };
	CHECK(listen_ok(list, NULL, "anyhost", 8080, 0));
	CHECK(listen_ok(list, NULL, "localhost", 0, 0));
	CHECK(listen_ok(list, NULL, "127.0.0.5", 9000, 0));
	CHECK(!listen_ok(list, NULL, "127.0.0.10", 9000, 0));
	CHECK(!listen_ok(list, NULL, "0.0.0.0", 0, 0));
	/* below 1024 only for root */
	const char *none[] = { NULL };
	CHECK(!listen_ok(none, NULL, "localhost", 80, 0));
	CHECK(listen_ok(none, NULL, "localhost", 80, 1));
}

static void test_key_options(void)
{
	const char *none[] = { NULL };
	struct authkey_opts ko;
	memset(&ko, 0, sizeof(ko));
	ko.no_port_forwarding = 1;
	CHECK(!open_ok(none, &ko, "h", 1));
	CHECK(!listen_ok(none, &ko, "localhost", 8080, 0));
	memset(&ko, 0, sizeof(ko));
	ko.permitopen[0] = (char *)"h:1";
	ko.n_permitopen = 1;
	ko.permitlisten[0] = (char *)"9000";
	ko.n_permitlisten = 1;
	CHECK(open_ok(none, &ko, "h", 1));
	CHECK(!open_ok(none, &ko, "h", 2));
	CHECK(listen_ok(none, &ko, "localhost", 9000, 0));
	CHECK(!listen_ok(none, &ko, "localhost", 9001, 0));
	/* the key narrows the configuration, never widens it */
	const char *cfg[] = { "PermitOpen other:1", NULL };
	CHECK(!open_ok(cfg, &ko, "h", 1));
}

/* The resolver's answer: only whole IPv4/IPv6 addresses are kept (an
 * AF_UNIX or short address in it was once connected to as it came). */
static void test_lookup_answer(void)
{
	struct sockaddr_storage addrs[FWD_MAX_ADDRS];
	socklen_t lens[FWD_MAX_ADDRS];
	int n = -1;
	struct sockaddr_in s4 = { .sin_family = AF_INET, .sin_port = htons(80),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6, .sin6_port = htons(80) };
	struct sockaddr_un su = { .sun_family = AF_UNIX, .sun_path = "/run/x" };
	buf_t b;
	CHECK(buf_init(&b, 256, 4096) == 0);
	buf_put_u32(&b, 0);
	buf_put_u32(&b, 5);
	buf_put_string(&b, &su, sizeof(su));
	buf_put_string(&b, &s4, 2);                   /* the family alone */
	buf_put_string(&b, &s4, sizeof(s4));
	buf_put_string(&b, &s6, sizeof(s6) - 1);      /* one byte short */
	buf_put_string(&b, &s6, sizeof(s6));
	CHECK(fwd_parse_lookup(buf_data(&b), buf_used(&b), addrs, lens, &n) == 0);
	CHECK(n == 2);
	CHECK(addrs[0].ss_family == AF_INET && lens[0] == sizeof(s4));
	CHECK(((struct sockaddr_in *)&addrs[0])->sin_port == htons(80));
	CHECK(addrs[1].ss_family == AF_INET6 && lens[1] == sizeof(s6));
	/* a lookup error, a count over the limit, a truncated answer */
	buf_reset(&b);
	buf_put_u32(&b, 2);
	buf_put_u32(&b, 0);
	CHECK(fwd_parse_lookup(buf_data(&b), buf_used(&b), addrs, lens, &n) == 2 && n == 0);
	buf_reset(&b);
	buf_put_u32(&b, 0);
	buf_put_u32(&b, FWD_MAX_ADDRS + 1);
	CHECK(fwd_parse_lookup(buf_data(&b), buf_used(&b), addrs, lens, &n) == -1);
	CHECK(fwd_parse_lookup(buf_data(&b), 3, addrs, lens, &n) == -1);
	buf_free(&b);
}

int main(void)
{
	test_defaults_and_switches();
	test_permit_open();
	test_permit_listen();
	test_key_options();
	test_lookup_answer();
	return UNIT_DONE();
}
