#!/usr/bin/env bash
# check-cross.sh ARCH [configure options...]
#
# Cross-compile wombat for another Debian architecture (armhf, arm64, s390x)
# with Debian's cross toolchain and that architecture's libtomcrypt,
# libtommath, zlib and libcrypt (multiarch packages, `./bootstrap cross ARCH`
# installs them), out of the source tree in build-cross/ARCH/, run the C
# unit tests under qemu-user (Debian's qemu-user-static; each test is
# started through qemu explicitly), then the login smoke test at the end
# (root: the target's wombatd under qemu, the host's ssh and scp; it sets up
# binfmt_misc in a namespace of its own, see there).
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

# Login smoke test: the target's wombatd, run by qemu-user, on 127.0.0.1,
# driven by the host's OpenSSH client: a key login running a command, the
# host key's fingerprint checked, an scp upload and a download with their
# SHA-256 checked.
#
# Two things qemu-user cannot do as a kernel would, and what is done here:
#  - The listener starts each connection process by exec of its own file
#    (src/rexec.c). Under qemu the kernel's /proc/self/exe is qemu, so
#    wombatd execs the file it runs from through /proc/self/fd/N instead
#    (it notices, and logs it); the kernel runs that ARCH binary through
#    binfmt_misc, i.e. qemu again. binfmt_misc is set up here in a user and
#    mount namespace of the test's own (uids and gids 0-65535 mapped to
#    themselves, so root, the privsep user and setuid work as outside):
#    a private binfmt_misc instance (Linux >= 6.7) with Debian's
#    qemu-user-static registration for ARCH; the machine's own binfmt_misc
#    is not touched. Where that mount is refused (older kernels), a qemu-ARCH
#    handler already registered on the machine (update-binfmts, systemd-
#    binfmt) is used instead.
#  - The pre-auth child's seccomp filter cannot be installed under qemu-user
#    (the filter is written for ARCH's system calls, and qemu makes the
#    host's): the child fails, closed, and every login is refused. So the
#    smoke runs wombatd-noseccomp, the same objects with sandbox.c built as
#    by ./configure --without-seccomp (the documented way to run without
#    the filter; its start-up log says "seccomp no"). Everything else of the
#    sandbox (chroot, uid change, rlimits, no_new_privs) still applies.
#    The seccomp build is then checked to refuse the login (fail closed).
say "building wombatd-noseccomp for the login smoke test"
make -j2 wombatd-noseccomp >>make.log 2>&1 || { tail -20 make.log; die "make wombatd-noseccomp failed"; }
command -v ssh >/dev/null && command -v scp >/dev/null || die "the login smoke test needs ssh and scp (openssh-client)"
(( EUID == 0 )) || die "the login smoke test needs root (user and mount namespaces, binfmt_misc)"
binfmt_conf=/usr/lib/binfmt.d/$qemu.conf
[[ -r $binfmt_conf ]] || die "$binfmt_conf missing (qemu-user-static installs it)"

smoke=$build/smoke
rm -rf "$smoke"
mkdir -p "$smoke"
chmod 700 "$smoke"
ssh-keygen -q -t ed25519 -N '' -C "check-cross-$arch" -f "$smoke/id_ed25519"
cp "$smoke/id_ed25519.pub" "$smoke/authorized_keys"
head -c 1048576 /dev/urandom >"$smoke/payload"
port=$(( 20000 + RANDOM % 20000 ))
cat >"$smoke/run.sh" <<SMOKE
#!/bin/bash
# runs inside the test's namespace (check-cross.sh)
set -u
cd "$build"
if mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null; then
	cat "$binfmt_conf" >/proc/sys/fs/binfmt_misc/register || exit 90
	echo "check-cross[$arch]: binfmt_misc: a private instance, $qemu registered from $binfmt_conf"
elif [[ -e /proc/sys/fs/binfmt_misc/$qemu ]] && grep -qx enabled /proc/sys/fs/binfmt_misc/$qemu; then
	echo "check-cross[$arch]: binfmt_misc: the machine's $qemu handler"
else
	echo "check-cross[$arch]: no binfmt_misc for $qemu: this kernel refuses a private instance and none is registered (update-binfmts --enable $qemu)" >&2
	exit 91
fi
exec bash "$smoke/login.sh"
SMOKE
cat >"$smoke/login.sh" <<'SMOKE'
set -u
say() { printf 'check-cross[%s]: %s\n' "$ARCH" "$*"; }
fail() { say "FAILED: $*"; cat "$SMOKE/wombatd.log"; exit 1; }
./wombat-keygen -t ed25519 -f "$SMOKE/hostkey" >/dev/null || fail "wombat-keygen ($ARCH) failed"
printf '[127.0.0.1]:%s %s\n' "$PORT" "$(cut -d' ' -f1-2 "$SMOKE/hostkey.pub")" >"$SMOKE/known_hosts"
want_fp=$(ssh-keygen -lf "$SMOKE/hostkey.pub" | cut -d' ' -f2)
start() {   # start [binary]: wombatd on 127.0.0.1:$PORT, waiting until it listens
	"./$1" -D -e -p "$PORT" -h "$SMOKE/hostkey" -o ListenAddress=127.0.0.1 -o PidFile=none \
		-o "AuthorizedKeysFile=$SMOKE/authorized_keys" -o StrictModes=no -o LogLevel=DEBUG1 \
		-o PerSourcePenaltyExemptList=127.0.0.1 >"$SMOKE/wombatd.log" 2>&1 &
	PID=$!
	for _ in $(seq 1 200); do
		grep -q 'Server listening' "$SMOKE/wombatd.log" && return 0
		kill -0 "$PID" 2>/dev/null || fail "$1 exited before listening"
		sleep 0.1
	done
	fail "$1 did not listen within 20 s"
}
stop() { kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; }
SSH_OPTS=(-F /dev/null -i "$SMOKE/id_ed25519" -o IdentitiesOnly=yes -o BatchMode=yes
	  -o StrictHostKeyChecking=yes -o "UserKnownHostsFile=$SMOKE/known_hosts"
	  -o ConnectTimeout=60)

start wombatd-noseccomp
trap stop EXIT
say "wombatd-noseccomp ($ARCH, under qemu) listening on 127.0.0.1:$PORT"
say "!!! the pre-auth child runs WITHOUT its seccomp filter here (qemu-user cannot install it) !!!"
grep -q 'seccomp no' "$SMOKE/wombatd.log" || fail "the start-up log does not say seccomp no"
out=$(ssh "${SSH_OPTS[@]}" -v -p "$PORT" root@127.0.0.1 "echo wombat-$ARCH; id -u" 2>"$SMOKE/ssh.err") ||
	{ cat "$SMOKE/ssh.err"; fail "ssh login"; }
[[ $out == "wombat-$ARCH"$'\n'"0" ]] || fail "the command's output was '$out'"
grep -q "Server host key: ssh-ed25519 $want_fp" "$SMOKE/ssh.err" ||
	fail "ssh did not see the host key $want_fp"
say "ok: ssh key login ran a command (output checked); host key $want_fp"
grep -q "connection processes start from the program's own file" "$SMOKE/wombatd.log" &&
	say "ok: the listener noticed /proc/self/exe is qemu and exec'd its own file"
scp -q -o LogLevel=ERROR "${SSH_OPTS[@]}" -P "$PORT" "$SMOKE/payload" "root@127.0.0.1:$SMOKE/uploaded" || fail "scp upload"
scp -q -o LogLevel=ERROR "${SSH_OPTS[@]}" -P "$PORT" "root@127.0.0.1:$SMOKE/uploaded" "$SMOKE/downloaded" || fail "scp download"
want=$(sha256sum <"$SMOKE/payload")
[[ $(sha256sum <"$SMOKE/uploaded") == "$want" && $(sha256sum <"$SMOKE/downloaded") == "$want" ]] ||
	fail "scp: the file's SHA-256 changed"
say "ok: scp (sftp protocol) upload and download of 1 MiB, SHA-256 equal"
stop
trap - EXIT

start wombatd
trap stop EXIT
if ssh "${SSH_OPTS[@]}" -p "$PORT" root@127.0.0.1 true 2>/dev/null; then
	say "note: the seccomp build logged in under qemu too"
else
	grep -q 'pre-auth child failed' "$SMOKE/wombatd.log" || fail "the seccomp build refused the login without its pre-auth child failing"
	say "ok: the seccomp build refuses logins under qemu, closed (its pre-auth child fails)"
fi
SMOKE

# The namespace: unshare(1) makes it, this shell maps the ids once the
# new process is in it, and a FIFO tells it to go on.
mkfifo "$smoke/go"
ARCH=$arch SMOKE=$smoke PORT=$port \
	unshare --user --mount --propagation private -- /bin/sh -c 'read _ <"$0" && exec bash "$1"' \
	"$smoke/go" "$smoke/run.sh" &
ns=$!
for _ in $(seq 1 100); do
	[[ $(readlink "/proc/$ns/ns/user") != "$(readlink /proc/self/ns/user)" ]] && break
	sleep 0.05
done
printf '0 0 65536\n' >"/proc/$ns/uid_map" && printf '0 0 65536\n' >"/proc/$ns/gid_map" ||
	{ kill "$ns"; die "cannot map ids into the test's user namespace"; }
echo go >"$smoke/go"
rc=0
wait "$ns" || rc=$?
(( rc == 0 )) || die "login smoke test failed (exit $rc; logs in build-cross/$arch/smoke/)"
say "ok: login smoke test passed ($arch wombatd under $qemu)"
