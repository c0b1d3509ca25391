/* ltc_dyn: libtomcrypt and libtommath loaded at their first use (ltc_dyn.h). */
#include "ltc_dyn.h"
#include "log.h"

#ifdef WOMBAT_LTC_SONAME
#include <dlfcn.h>
#include <string.h>

/* The table, filled through its other view: dlsym's void pointers, which
 * POSIX makes convertible to function pointers of the same size. */
#define LTC_COUNT(name) + 1
enum { LTC_N = 0 LTC_SYMBOLS(LTC_COUNT) };
#undef LTC_COUNT
static union {
	struct ltc_table named;
	void *raw[LTC_N];
} table;
_Static_assert(sizeof(struct ltc_table) == LTC_N * sizeof(void *),
	       "ltc_table holds exactly one pointer per name");

/* the names in table order, each NUL-terminated */
#define LTC_NAME(name) #name "\0"
static const char names[] = LTC_SYMBOLS(LTC_NAME);
#undef LTC_NAME

static int loaded;

int ltc_load(void)
{
	if (loaded)
		return 0;
	/* RTLD_LOCAL: only this table reaches the libraries' names */
	void *lib = dlopen(WOMBAT_LTC_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		error("cannot load %s: %s", WOMBAT_LTC_SONAME, dlerror());
		return -1;
	}
	/* dlsym on the handle searches libtomcrypt's dependencies too
	 * (libtommath): the mp_ names resolve there */
	const char *name = names;
	for (int i = 0; i < LTC_N; i++, name += strlen(name) + 1) {
		table.raw[i] = dlsym(lib, name);
		if (!table.raw[i]) {
			error("%s lacks %s", WOMBAT_LTC_SONAME, name);
			return -1;
		}
	}
	loaded = 1;
	return 0;
}

const struct ltc_table *ltc_table(void)
{
	if (!loaded && ltc_load() < 0)
		fatal("RSA/ECC/DH operation impossible without %s", WOMBAT_LTC_SONAME);
	return &table.named;
}
#else
int ltc_load(void)
{
	return 0;
}
#endif
