#!/bin/sh
# Make crypto/dhgroup_builtin.h: the groups diffie-hellman-group-exchange-sha256
# offers when there is no usable moduli file.
#
#   crypto/gen_dhgroups.sh [-k DIR] SPEC... > crypto/dhgroup_builtin.h
#
# Each SPEC is a size in bits, for a new safe prime from
# `openssl dhparam -2 BITS` (p = 2q + 1 with q prime, generator 2), or an
# OpenSSL named group such as modp_6144 / modp_8192 (RFC 3526), for sizes
# whose generation takes too long on the machine at hand (an 8192-bit safe
# prime takes hours). With -k DIR the parameter files are kept in DIR, and
# one already there (DIR/dhBITS.pem, DIR/modp_N.pem) is reused rather than
# generated again. Every group is checked with `openssl dhparam -check`
# (which tests p and (p-1)/2 for primality) before it is written out.
#
# The shipped header was made with:
#   crypto/gen_dhgroups.sh -k /tmp/al_gen 2048 3072 4096 modp_6144 modp_8192
# on a busy 2-core machine, where `openssl dhparam -2` took 10 s (2048),
# 120 s (3072) and 40 min (4096); 6144 had not finished after another
# 15 min, hence the RFC 3526 groups at 6144 and 8192 bits.
set -eu

keep=""
if [ "${1:-}" = "-k" ]; then
	keep=$2
	shift 2
fi
[ $# -gt 0 ] || { echo "usage: $0 [-k DIR] SPEC..." >&2; exit 2; }
dir=${keep:-$(mktemp -d)}
mkdir -p "$dir"

params() {   # SPEC -> path of a PEM file with DH parameters
	case $1 in
	modp_*)
		f=$dir/$1.pem
		[ -s "$f" ] || openssl genpkey -genparam -algorithm DH \
			-pkeyopt "group:$1" -out "$f" 2>/dev/null
		;;
	*[!0-9]*|"")
		echo "bad SPEC '$1'" >&2; exit 2 ;;
	*)
		f=$dir/dh$1.pem
		[ -s "$f" ] || openssl dhparam -2 -out "$f" "$1" 2>/dev/null
		;;
	esac
	echo "$f"
}

# The PKCS#3 parameters (SEQUENCE { INTEGER p, INTEGER g }) of a PEM file:
# the n-th INTEGER as upper-case hex without leading zeros.
integer_hex() {
	openssl asn1parse -in "$1" | awk -F: -v n="$2" '/prim: INTEGER/ && ++i == n { print $NF }' |
		sed 's/^0*//'
}

# The hex of RFC3526_MODP_BITS in crypto/modp.h (string literals of \xHH).
modp_h_hex() {
	sed -n "/^#define RFC3526_MODP_$1 /,/[^\\\\]\$/p" "$(dirname "$0")/modp.h" |
		grep -o '"[^"]*"' | tr -d '"\\x\n'
}

# Hex (an even number of digits) as C string literals of \xHH escapes, 16
# bytes a line: the binary holds the bytes, not their hex text.
c_bytes() {
	fold -w 32 | sed 's/../\\x&/g; s/^/	  "/; s/$/"/'
}

echo "/* Built-in groups for diffie-hellman-group-exchange-sha256, used when no"
echo " * moduli file has a group in range. Made by crypto/gen_dhgroups.sh"
echo " * ($*); every p passed \`openssl dhparam -check\` (p and"
echo " * (p-1)/2 prime). Generator 2 throughout. */"
echo "#include \"modp.h\""
echo
echo "static const struct builtin_group {"
echo "	unsigned bits;"
echo "	const char *origin;"
echo "	const char *p;          /* big-endian, bits / 8 bytes, top bit set */"
echo "} builtin_groups[] = {"
for spec in "$@"; do
	f=$(params "$spec")
	openssl dhparam -in "$f" -check -noout 2>&1 | grep -q "appear to be ok" || {
		echo "$f: DH parameters fail the check" >&2; exit 1; }
	hex=$(integer_hex "$f" 1)
	[ "$(integer_hex "$f" 2)" = 2 ] || { echo "$f: generator is not 2" >&2; exit 1; }
	bits=$(( ${#hex} * 4 ))
	case $spec in
	modp_*) origin="RFC 3526 ${spec}" ;;
	*) origin="openssl dhparam -2 $spec, $(date -u -r "$f" +%Y-%m-%d)" ;;
	esac
	echo "	{ $bits, \"$origin\","
	case $spec in
	modp_*)  # RFC 3526's groups are written once, in crypto/modp.h,
		 # and kept once in the binary (its rfc3526_modp_BITS arrays)
		[ "$(modp_h_hex "$bits")" = "$hex" ] || {
			echo "$spec: OpenSSL's group differs from crypto/modp.h's" >&2; exit 1; }
		echo "	  rfc3526_modp_$bits" ;;
	*) echo "$hex" | c_bytes ;;
	esac
	echo "	},"
done
echo "};"
