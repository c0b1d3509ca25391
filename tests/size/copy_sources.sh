#!/bin/sh
# copy_sources.sh DIR: a fresh copy of the tree's sources (tracked and
# untracked-but-not-ignored files; no build-* directories, objects or
# archives) in DIR, for a build with other configure options beside the
# tree's own (make size, make check-router).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
rm -rf "$1"
mkdir -p "$1"
if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
	(cd "$top" && { git ls-files; git ls-files --others --exclude-standard; } |
		grep -v -e '^build-' -e '\.o$' -e '\.a$' | sort -u |
		while read -r f; do [ -f "$f" ] && echo "$f"; done |
		tar cf - -T -) | tar xf - -C "$1"
else
	(cd "$top" && tar cf - --exclude='build-*' --exclude='*.o' --exclude='*.a' \
		configure.ac Makefile.in src crypto tests) | tar xf - -C "$1"
fi
