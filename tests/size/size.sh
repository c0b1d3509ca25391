#!/bin/sh
# make size: the stripped size of wombatd in each configuration, beside the
# installed dropbear's and tinysshd's. Each configuration is built from a
# copy of the sources in build-size/NAME (so the tree's own build is left
# alone); SIZE_CONFIGS in the Makefile lists them as name:configure-options
# (commas for spaces). Prints one row per configuration; asserts nothing.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
out="$top/build-size"
mkdir -p "$out"

copy_sources() {
	"$top/tests/size/copy_sources.sh" "$1"
}

stripped_size() {
	strip -o "$1.stripped" "$1" && stat -c %s "$1.stripped"
}

row() { printf '%-58s %8s %s\n' "$1" "$2" "$3"; }

row "configuration" "bytes" ""
for spec in "$@"; do
	name=${spec%%:*}
	opts=$(echo "${spec#*:}" | tr ',' ' ')
	dir="$out/$name"
	copy_sources "$dir"
	if ! (cd "$dir" && autoconf && ./configure $opts >configure.log 2>&1 &&
		make -j2 wombatd >make.log 2>&1); then
		row "./configure $opts" "FAILED" "(see $dir/configure.log, make.log)"
		continue
	fi
	row "./configure $opts" "$(stripped_size "$dir/wombatd")" ""
done
for other in /usr/sbin/dropbear /usr/sbin/tinysshd; do
	if [ -x "$other" ]; then
		cp "$other" "$out/$(basename "$other")"
		row "for comparison: $other" "$(stripped_size "$out/$(basename "$other")")" ""
	else
		row "for comparison: $other" "-" "(not installed)"
	fi
done
