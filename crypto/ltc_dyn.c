/* ltc_dyn: libtomcrypt and libtommath loaded at their first use (ltc_dyn.h). */
#include "ltc_dyn.h"
#include "log.h"

#ifdef WOMBAT_LTC_SONAME
#include <dlfcn.h>

static struct ltc_table table;
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
#define LTC_RESOLVE(name) \
	if (!(table.p_##name = (__typeof__(table.p_##name))dlsym(lib, #name))) { \
		error("%s lacks %s", WOMBAT_LTC_SONAME, #name); \
		return -1; \
	}
	LTC_SYMBOLS(LTC_RESOLVE)
#undef LTC_RESOLVE
	loaded = 1;
	return 0;
}

const struct ltc_table *ltc_table(void)
{
	if (!loaded && ltc_load() < 0)
		fatal("RSA/ECC/DH operation impossible without %s", WOMBAT_LTC_SONAME);
	return &table;
}
#else
int ltc_load(void)
{
	return 0;
}
#endif
