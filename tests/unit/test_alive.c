/* alive: the connection timers' decisions, with a fake clock. */
#include "unit.h"

#include "alive.h"
#include "config.h"

static void test_login_grace(void)
{
	struct config cfg;
	struct alive a;
	config_defaults(&cfg);
	cfg.login_grace_time = 2;
	alive_init(&a, 1000);
	CHECK(alive_check(&a, &cfg, 2999) == ALIVE_NOTHING);
	CHECK(alive_next_ms(&a, &cfg, 2000) == 1000);
	CHECK(alive_check(&a, &cfg, 3000) == ALIVE_LOGIN_GRACE);
	alive_authenticated(&a, 2500);
	CHECK(alive_check(&a, &cfg, 9000) == ALIVE_NOTHING);
	CHECK(alive_next_ms(&a, &cfg, 9000) == -1);
	config_free(&cfg);
}

/* Interval 1 s, CountMax 3: probes at 1, 2, 3 s of silence, gone at 4 s;
 * a packet from the client starts the count over. */
static void test_client_alive(void)
{
	struct config cfg;
	struct alive a;
	config_defaults(&cfg);
	cfg.client_alive_interval = 1;
	cfg.client_alive_count_max = 3;
	alive_init(&a, 0);
	alive_authenticated(&a, 0);
	CHECK(alive_check(&a, &cfg, 999) == ALIVE_NOTHING);
	CHECK(alive_check(&a, &cfg, 1000) == ALIVE_SEND_PROBE);
	CHECK(alive_check(&a, &cfg, 1500) == ALIVE_NOTHING);
	CHECK(alive_next_ms(&a, &cfg, 1500) == 500);
	CHECK(alive_check(&a, &cfg, 2000) == ALIVE_SEND_PROBE);
	alive_received(&a, 2100);                  /* the answer */
	CHECK(a.probes == 0);
	CHECK(alive_check(&a, &cfg, 3000) == ALIVE_NOTHING);
	CHECK(alive_check(&a, &cfg, 3100) == ALIVE_SEND_PROBE);
	CHECK(alive_check(&a, &cfg, 4100) == ALIVE_SEND_PROBE);
	CHECK(alive_check(&a, &cfg, 5100) == ALIVE_SEND_PROBE);
	CHECK(a.probes == 3);
	CHECK(alive_check(&a, &cfg, 6100) == ALIVE_KEEPALIVE_TIMEOUT);
	config_free(&cfg);
}

static void test_unused(void)
{
	struct config cfg;
	struct alive a;
	config_defaults(&cfg);
	cfg.unused_connection_timeout = 5;
	alive_init(&a, 0);
	alive_channels(&a, 0, 100);                /* before auth: not counted */
	CHECK(alive_check(&a, &cfg, 60000) == ALIVE_NOTHING);
	alive_authenticated(&a, 1000);
	alive_channels(&a, 1, 2000);               /* a channel is open */
	CHECK(alive_check(&a, &cfg, 60000) == ALIVE_NOTHING);
	alive_channels(&a, 0, 60000);              /* and closed again */
	CHECK(alive_next_ms(&a, &cfg, 61000) == 4000);
	CHECK(alive_check(&a, &cfg, 64999) == ALIVE_NOTHING);
	CHECK(alive_check(&a, &cfg, 65000) == ALIVE_UNUSED_TIMEOUT);
	config_free(&cfg);
}

static void test_channel_timeout_lookup(void)
{
	struct config cfg;
	char err[256];
	config_defaults(&cfg);
	CHECK(alive_channel_timeout(&cfg, "session") == 0);
	CHECK(config_apply_option(&cfg, "ChannelTimeout direct-tcpip=10 sess*=1m global=2h",
				  err, sizeof(err)) == 0);
	CHECK(alive_channel_timeout(&cfg, "session") == 60);
	CHECK(alive_channel_timeout(&cfg, "direct-tcpip") == 10);
	CHECK(alive_channel_timeout(&cfg, "x11-connection") == 0);
	CHECK(alive_channel_timeout(&cfg, "global") == 7200);
	config_free(&cfg);
	/* "global" is only ever named, never matched by a wildcard */
	config_defaults(&cfg);
	CHECK(config_apply_option(&cfg, "ChannelTimeout *=30", err, sizeof(err)) == 0);
	CHECK(alive_channel_timeout(&cfg, "session") == 30);
	CHECK(alive_channel_timeout(&cfg, "global") == 0);
	config_free(&cfg);
}

int main(void)
{
	test_login_grace();
	test_client_alive();
	test_unused();
	test_channel_timeout_lookup();
	return UNIT_DONE();
}
