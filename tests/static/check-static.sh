#!/usr/bin/env bash
# check-static.sh [configure options...]
#
# Build wombat with ./configure --enable-static (plus the options given) out
# of the source tree in build-static/, print the stripped sizes, and run
# tests/integration/check_static.py against that build: wombatd chrooted in
# a directory with no shared libraries at all, logged in to with the host's
# ssh. Needs root and busybox-static. Run from the top of the source tree
# after make (make check-static does both).
set -euo pipefail

say() { printf 'check-static: %s\n' "$*"; }
die() { say "error: $*" >&2; exit 1; }

top=$(pwd)
[[ -f $top/configure && -f $top/Makefile.in ]] ||
	die "run from the source tree, after autoconf (./configure must exist)"
[[ -x /bin/busybox ]] && file -b /bin/busybox | grep -q 'statically linked' ||
	die "/bin/busybox (static) missing: apt-get install busybox-static"

build=$top/build-static
say "copying the sources to $build"
rm -rf "$build"
mkdir -p "$build"
(cd "$top" && { git ls-files 2>/dev/null || find configure Makefile.in src crypto tests -type f; echo configure; } |
	sort -u | while read -r f; do [[ -f $f ]] && printf '%s\n' "$f"; done |
	tar cf - -T -) | tar xf - -C "$build"

cd "$build"
say "configure --enable-static $*"
./configure --enable-static "$@" >configure.log 2>&1 ||
	{ tail -20 configure.log; die "configure failed (build-static/configure.log)"; }
grep -E '^configure: (link|features)' configure.log || true
say "make"
make -j2 all >make.log 2>&1 || { tail -30 make.log; die "make failed (build-static/make.log)"; }
# glibc's link-time notes on the NSS functions (README: the static build)
grep -o "warning: Using '[a-z_]*'" make.log | sort -u | sed 's/^/  linker: /' || true
for prog in wombatd wombat-keygen; do
	strip -o "$prog.stripped" "$prog"
	say "$prog: $(file -b "$prog" | cut -d, -f1-2,4); stripped $(stat -c %s "$prog.stripped") bytes"
done

cd "$top"
WOMBAT_STATIC_DIR=$build /usr/bin/python3 -m pytest -q ${PYTEST_FLAGS:-} tests/integration/check_static.py
