#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Check that every header under include/ is self-contained: included alone,
# first, and twice (include guard), it compiles with all our warnings as
# errors, in the default configuration and in the !CONFIG_ZONE_DEVICE and
# !CONFIG_DEBUG_VM ones; after ktap.h too, as the tests include them; and
# alone in every API generation (<memremap/generation.h>: 6.1, 6.15,
# 6.19-rc, 6.19, 7.0), the last also without CONFIG_ZONE_DEVICE.
# Hand-written headers must also open with the SPDX line and a one-line
# comment, and keep to 80 columns. Usage: c-tests/check-headers.sh [CC]
CC=${1:-${CC:-gcc}}
top=$(cd "$(dirname "$0")/.." && pwd)
flags="-std=gnu11 -Wall -Wextra -Werror -I$top/include -I$top/c-tests"
status=0

fail() {
	echo "check-headers: $*" >&2
	status=1
}

try() {
	# try <name> <source text> <extra flags...>
	name=$1 src=$2
	shift 2
	if ! out=$(printf '%b' "$src" |
		   $CC -x c -fsyntax-only $flags "$@" - 2>&1); then
		fail "$name does not compile ($*):"
		printf '%s\n' "$out" | head -n 20 >&2
	fi
}

gens=$(mktemp -d)
trap 'rm -rf "$gens"' EXIT
cd "$top/include" || exit 1
for h in $(find . -name "*.h" | sed "s|^\./||" | sort); do
	for cfg in "" -DMEMREMAP_NO_ZONE_DEVICE -DMEMREMAP_NO_DEBUG_VM \
		   "-DMEMREMAP_NO_ZONE_DEVICE -DMEMREMAP_BEFORE_PATCH"; do
		# shellcheck disable=SC2086
		try "$h" "#include <$h>\n#include <$h>\n" $cfg
		# shellcheck disable=SC2086
		try "$h after ktap.h" "#include <ktap.h>\n#include <$h>\n" $cfg
	done
	# The generations, compiled side by side (each writes its own log).
	n=0
	for gen in "KERNEL_VERSION(6,1,0)" "KERNEL_VERSION(6,15,0)" \
		   "KERNEL_VERSION(6,19,0) -DMEMREMAP_LINUX_RC=1" \
		   "KERNEL_VERSION(6,19,0)" "KERNEL_VERSION(7,0,0)" \
		   "KERNEL_VERSION(7,0,0) -DMEMREMAP_NO_ZONE_DEVICE"; do
		n=$((n + 1))
		# shellcheck disable=SC2086
		printf '#include <%s>\n#include <%s>\n' "$h" "$h" |
			$CC -x c -fsyntax-only $flags -DMEMREMAP_LINUX=$gen - \
			>"$gens/$n.log" 2>&1 || echo "$gen" >"$gens/$n.failed" &
	done
	wait
	for f in "$gens"/*.failed; do
		[ -e "$f" ] || continue
		fail "$h does not compile (-DMEMREMAP_LINUX=$(cat "$f")):"
		head -n 20 "${f%.failed}.log" >&2
	done
	rm -f "$gens"/*
	[ "$h" = memremap/abi.h ] && continue
	first=$(sed -n 1p "$h")
	[ "$first" = "/* SPDX-License-Identifier: GPL-2.0-only */" ] ||
		fail "$h: line 1 is not the SPDX line"
	sed -n 2p "$h" | grep -q '^/\* .* \*/$' ||
		fail "$h: line 2 is not a one-line comment"
	expand "$h" | awk -v f="$h" 'length > 80 {
		printf "%s:%d: %d columns\n", f, NR, length; bad = 1 }
		END { exit bad }' >&2 || status=1
done
[ $status -eq 0 ] && echo "check-headers: all headers self-contained"
exit $status
