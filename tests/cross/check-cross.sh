#!/usr/bin/env bash
# check-cross.sh ARCH [configure options...]
#
# Cross-compile wombat for another Debian architecture (armhf, arm64, s390x)
# with Debian's cross toolchain and that architecture's libtomcrypt,
# libtommath, zlib and libcrypt (multiarch packages, `./bootstrap cross ARCH`
# installs them), out of the source tree in build-cross/ARCH/, and run the C
# unit tests under qemu-user (Debian's qemu-user-static; no binfmt_misc
# needed: each test is started through qemu explicitly).
#
# Extra arguments go to configure, e.g. `--disable-pq --enable-small`.
# Run from the top of the source tree (make check-cross ARCH=armhf does).
set -euo pipefail

arch=${1:?usage: tests/cross/check-cross.sh ARCH [configure options]}
shift
case $arch in
	armhf) triplet=arm-linux-gnueabihf; qemu=qemu-arm ;;
	arm64) triplet=aarch64-linux-gnu;   qemu=qemu-aarch64 ;;
	s390x) triplet=s390x-linux-gnu;     qemu=qemu-s390x ;;
	*) echo "check-cross: unknown ARCH '$arch' (armhf, arm64 or s390x)" >&2; exit 2 ;;
esac

say() { printf 'check-cross[%s]: %s\n' "$arch" "$*"; }
die() { say "error: $*" >&2; exit 1; }

top=$(pwd)
[[ -f $top/configure && -f $top/Makefile.in ]] ||
	die "run from the source tree, after autoconf (./configure must exist)"
command -v "$triplet-gcc" >/dev/null ||
	die "$triplet-gcc not found: ./bootstrap cross $arch installs the toolchain"
runner=$(command -v "$qemu-static" || command -v "$qemu" || true)
[[ -n $runner ]] || die "$qemu(-static) not found: ./bootstrap cross $arch installs qemu-user-static"
libdir=/usr/lib/$triplet
for lib in libtomcrypt.so libtommath.so libcrypt.so libz.so.1; do
	[[ -e $libdir/$lib ]] || die "$libdir/$lib missing: ./bootstrap cross $arch installs it"
done

build=$top/build-cross/$arch
say "copying the sources to $build"
rm -rf "$build"
mkdir -p "$build"
# the tracked sources plus configure; no objects or binaries of the host build
if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
	(cd "$top" && { git ls-files; echo configure; } | sort -u |
		while read -r f; do [[ -f $f ]] && printf '%s\n' "$f"; done |
		tar cf - -T -) | tar xf - -C "$build"
else
	(cd "$top" && tar cf - --exclude=build-cross --exclude='*.o' --exclude='*.a' \
		configure Makefile.in src crypto tests) | tar xf - -C "$build"
fi

# zlib1g-dev:ARCH needs libc6-dev:ARCH, which cannot always be installed
# beside the host's (Multi-Arch: same wants identical versions of
# linux-libc-dev on both). The headers zlib.h/zconf.h in /usr/include are
# the same on every architecture; only the linker name libz.so is missing
# then, and a private link to the runtime library stands in for it.
ldflags=""
if [[ ! -e $libdir/libz.so ]]; then
	mkdir -p "$build/.lib"
	ln -sf "$libdir/libz.so.1" "$build/.lib/libz.so"
	ldflags="-L$build/.lib"
	say "no $libdir/libz.so (zlib1g-dev:$arch not installed): linking $libdir/libz.so.1"
fi

cd "$build"
say "configure --host=$triplet $*"
./configure --build="$(gcc -dumpmachine)" --host="$triplet" LDFLAGS="$ldflags" "$@" \
	>configure.log 2>&1 || { tail -20 configure.log; die "configure failed (build-cross/$arch/configure.log)"; }
grep -E '^configure: (link|features)' configure.log || true
say "make"
make -j2 all unit-bins >make.log 2>&1 || { tail -30 make.log; die "make failed (build-cross/$arch/make.log)"; }
file -b wombatd | cut -d, -f1-2
say "wombatd stripped: $("$triplet-strip" -o wombatd.stripped wombatd && stat -c %s wombatd.stripped) bytes"

# The tests run through qemu, with the target's loader and libraries from
# the multiarch directories (/lib/ld-linux-*.so, /usr/lib/$triplet).
export QEMU_LD_PREFIX=/
fail=0 ran=0
for t in tests/unit/test_*; do
	[[ -x $t && ! -d $t && $t != *.c && $t != *.h ]] || continue
	case $t in
	*/test_mlkem768_ct)
		# re-runs itself under valgrind, which only checks host binaries
		say "SKIPPED $t: needs valgrind on the target (make check-ct covers the host)"
		continue ;;
	esac
	printf '== %s (%s)\n' "$t" "$qemu"
	ran=$((ran + 1))
	"$runner" "./$t" || fail=1
done
for t in $(sed -n 's/^OMIT_UNIT *= *//p' Makefile); do
	say "SKIPPED $t: its feature is configured out ($*)"
done
(( ran > 0 )) || die "no unit test was built"
if (( fail )); then say "FAILED (unit tests above)"; exit 1; fi
say "ok: $ran unit tests passed under $qemu"

# Handshake smoke test: the target's wombat-keygen makes a host key, the
# target's wombatd (under qemu) serves it on 127.0.0.1, and the host's
# ssh-keyscan runs key exchanges with it and must get the key back. No
# login (that needs a user and a running sshd setup: the integration tests).
command -v ssh-keyscan >/dev/null || { say "SKIPPED handshake test: no ssh-keyscan"; exit 0; }
mkdir -p smoke && rm -f smoke/hostkey smoke/hostkey.pub
"$runner" ./wombat-keygen -t ed25519 -f smoke/hostkey >/dev/null
port=$(( 20000 + RANDOM % 20000 ))
printf 'PidFile none\n' >smoke/wombatd.conf
"$runner" ./wombatd -D -e -f smoke/wombatd.conf -h "$PWD/smoke/hostkey" -p "$port" \
	-o ListenAddress=127.0.0.1 >smoke/wombatd.log 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true' EXIT
got=""
for _ in $(seq 1 60); do
	got=$(ssh-keyscan -T 20 -t ed25519 -p "$port" 127.0.0.1 2>/dev/null || true)
	[[ -n $got ]] && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.5
done
want=$(cut -d' ' -f1-2 smoke/hostkey.pub)
if [[ $got == *"$want"* ]]; then
	say "ok: ssh-keyscan got wombatd's host key over a key exchange (wombatd under $qemu)"
else
	cat smoke/wombatd.log
	die "handshake test failed: ssh-keyscan did not get the host key (log above)"
fi
