/* sandbox: what the pre-auth child gives up before it reads from the
 * network (the process model is in monitor.h). */
#ifndef WOMBAT_SANDBOX_H
#define WOMBAT_SANDBOX_H

#include <sys/types.h>

/* The empty root-owned directory the child chroots to, and the dedicated
 * user it runs as (both can be changed at build time). */
#ifndef PRIVSEP_DIR
#define PRIVSEP_DIR "/var/lib/wombat/empty"
#endif
#ifndef PRIVSEP_USER
#define PRIVSEP_USER "wombat"
#endif

/* 1 when built with the seccomp filter (not --without-seccomp). */
int sandbox_has_seccomp(void);

/* Start-up (root or not): find the user, check (or create) the directory,
 * log what the pre-auth child will run as (unless quiet: the connection
 * processes the listener starts). -1 when root and the directory cannot be
 * made safe (logged): wombatd does not start. */
int sandbox_prepare(int quiet);

/* In the child, after fork: keep only the fds in keep[0..n) (others are
 * closed), then chroot + uid/gid change (root only), rlimits, no_new_privs,
 * seccomp. -1 on any failure (logged): the child must exit without touching
 * the network. */
int sandbox_enter(const int *keep, int n);

#ifdef HAVE_SECCOMP
/* The seccomp filter alone (sandbox_enter's last step; no_new_privs must be
 * set): tests/unit/test_sandbox.c tries calls under it. -1 logged. */
int sandbox_seccomp_load(void);
#endif

#endif
