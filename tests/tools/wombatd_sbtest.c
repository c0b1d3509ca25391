/* wombatd_sbtest: wombatd with a test hook in its pre-auth child, for
 * tests/integration/test_privsep.py. Built only as a test tool, never
 * installed: the release wombatd leaves conn_test_after_version NULL.
 *
 * A client whose version line contains
 *   "forbidden"   makes the sandboxed child call open("/etc/shadow"): the
 *                 seccomp filter must kill it with SIGSYS;
 *   "outoforder"  makes the child send the monitor a transport hand-over
 *                 before any login: the monitor must end the connection. */
#include <fcntl.h>
#include <string.h>

#include "main.c"
#include "monitor.h"

static void after_version(const char *client_version)
{
	if (strstr(client_version, "forbidden")) {
		int fd = open("/etc/shadow", O_RDONLY);
		/* only reached without a working filter */
		logit("sbtest: open(/etc/shadow) returned %d inside the sandbox", fd);
	}
	if (strstr(client_version, "outoforder")) {
		buf_t b;
		buf_init(&b, 16, 64);
		buf_put_cstring(&b, "not a transport state");
		mon_send(MON_TRANSPORT, &b);
		buf_free(&b);
	}
}

__attribute__((constructor)) static void arm_hook(void)
{
	conn_test_after_version = after_version;
}
