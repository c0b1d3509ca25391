/* wombatd_nouser: wombatd whose pre-auth child's user is one that no system
 * has, for tests/integration/test_privsep.py's test of the fallback uid
 * (src/sandbox.c, compiled in here with that name; the archive's copy is
 * then not linked). Built only as a test tool, never installed. */
#define PRIVSEP_USER "wombat-test-no-such-user"
#define mkdir_parents sandbox_mkdir_parents     /* main.c has its own */
#include "sandbox.c"
#undef mkdir_parents
#include "main.c"
