/* Hooks for the sanitizer build (make check-asan); nothing in other builds. */
#ifndef WOMBAT_SANITIZE_H
#define WOMBAT_SANITIZE_H

/* LeakSanitizer checks at exit(), but a forked connection process leaves
 * through _exit(), which skips that hook: call this just before such an
 * _exit() so its leaks are reported too. WOMBAT_LEAK_CHECK is defined only
 * by the check-asan build, which links LeakSanitizer in. */
#ifdef WOMBAT_LEAK_CHECK
#include <sanitizer/lsan_interface.h>
#define leak_check_before_exit() __lsan_do_leak_check()
#else
#define leak_check_before_exit() ((void)0)
#endif

#endif
