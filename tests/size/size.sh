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
	rm -rf "$1"; mkdir -p "$1"
	if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
		(cd "$top" && { git ls-files; git ls-files --others --exclude-standard; } |
			grep -v -e '^build-' -e '\.o$' -e '\.a$' | sort -u |
			while read -r f; do [ -f "$f" ] && echo "$f"; done |
			tar cf - -T -) | tar xf - -C "$1"
	else
		(cd "$top" && tar cf - --exclude='build-*' --exclude='*.o' --exclude='*.a' \
			configure.ac Makefile.in src crypto tests) | tar xf - -C "$1"
	fi
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
