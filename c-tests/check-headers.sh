#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Check that every header under include/ is self-contained: included alone,
# first, and twice (include guard), it compiles with all our warnings as
# errors, in the default configuration and in the !CONFIG_ZONE_DEVICE and
# !CONFIG_DEBUG_VM ones; after ktap.h too, as the tests include them; and
# alone in every API generation (<memremap/generation.h>: 6.1, 6.15,
# 6.19-rc, 6.19, 7.0), the last also without CONFIG_ZONE_DEVICE.
# Hand-written headers must also open with the SPDX line and a one-line
# comment, and keep to 80 columns.
#
#	check-headers.sh [CC]		every header, every mode, here and now
#	check-headers.sh --modes	the modes' names, one a line
#	check-headers.sh --check MODE HEADER STAMP [CC]
#					HEADER (a path under include/) in
#					MODE; on success writes STAMP and
#					STAMP.d, the make rule "STAMP: the
#					files it included"
#	check-headers.sh --lint HEADER STAMP
#					HEADER's first lines and columns; on
#					success writes STAMP
#
# `make check-headers` runs one --check per header and mode, and one
# --lint per header, each again only when the header, a header it
# includes or this script changed (the Makefile).
case $0 in
*/*) top=${0%/*}/.. ;;
*) top=.. ;;
esac
flags="-std=gnu11 -Wall -Wextra -Werror -Iinclude -Ic-tests"

# The modes: their flags, and what the source includes: "alone" the
# header twice, first; "ktap" ktap.h, then the header.
MODES="default default-ktap no-zone-device no-zone-device-ktap no-debug-vm
no-debug-vm-ktap before-patch before-patch-ktap gen-6.1 gen-6.15 gen-6.19-rc
gen-6.19 gen-7.0 gen-7.0-no-zone-device"
# mode NAME: sets kind and mflags; fails for an unknown name.
mode() {
	mode=$1 kind=alone
	case $1 in
	*-ktap) kind=ktap ;;
	esac
	case $1 in
	default | default-ktap) mflags= ;;
	no-zone-device | no-zone-device-ktap)
		mflags=-DMEMREMAP_NO_ZONE_DEVICE ;;
	no-debug-vm | no-debug-vm-ktap)
		mflags=-DMEMREMAP_NO_DEBUG_VM ;;
	before-patch | before-patch-ktap)
		mflags="-DMEMREMAP_NO_ZONE_DEVICE -DMEMREMAP_BEFORE_PATCH" ;;
	gen-6.1) mflags="-DMEMREMAP_LINUX=KERNEL_VERSION(6,1,0)" ;;
	gen-6.15) mflags="-DMEMREMAP_LINUX=KERNEL_VERSION(6,15,0)" ;;
	gen-6.19-rc) mflags="-DMEMREMAP_LINUX=KERNEL_VERSION(6,19,0)
		-DMEMREMAP_LINUX_RC=1" ;;
	gen-6.19) mflags="-DMEMREMAP_LINUX=KERNEL_VERSION(6,19,0)" ;;
	gen-7.0) mflags="-DMEMREMAP_LINUX=KERNEL_VERSION(7,0,0)" ;;
	gen-7.0-no-zone-device)
		mflags="-DMEMREMAP_LINUX=KERNEL_VERSION(7,0,0)
		-DMEMREMAP_NO_ZONE_DEVICE" ;;
	*)
		echo "check-headers: no mode $1" >&2
		return 1 ;;
	esac
}

# check MODE HEADER LOG [STAMP]: compile HEADER in MODE, gcc's messages
# in LOG; on failure print why and return 1. With STAMP: gcc writes the
# files it read to STAMP.d, and STAMP is written on success only (so a
# failed check runs again). As few processes as can be: make runs this
# some 900 times.
check() {
	mode "$1" || return 1
	h=$2 log=$3 stamp=${4:-}
	a=$h
	[ $kind = alone ] || a=ktap.h
	set --
	if [ -n "$stamp" ]; then
		[ -d "${stamp%/*}" ] || mkdir -p "${stamp%/*}"
		set -- -MMD -MP -MT "$stamp" -MF "$stamp.d"
	fi
	# shellcheck disable=SC2086
	if $CC -x c -fsyntax-only $flags $mflags "$@" - >"$log" 2>&1 <<SRC
#include <$a>
#include <$h>
SRC
	then
		[ -z "$stamp" ] || : >"$stamp"
		return 0
	fi
	echo "check-headers: $h does not compile (mode $mode:" \
	     "#include <$a>, <$h>;" $mflags"):" >&2
	head -n 20 "$log" >&2
	return 1
}

# lint HEADER: the SPDX line, a one-line comment, 80 columns.
lint() {
	h=$1 bad=0
	[ "$h" = memremap/abi.h ] && return 0
	first=$(sed -n 1p "include/$h")
	if [ "$first" != "/* SPDX-License-Identifier: GPL-2.0-only */" ]; then
		echo "check-headers: $h: line 1 is not the SPDX line" >&2
		bad=1
	fi
	if ! sed -n 2p "include/$h" | grep -q '^/\* .* \*/$'; then
		echo "check-headers: $h: line 2 is not a one-line comment" >&2
		bad=1
	fi
	expand "include/$h" | awk -v f="$h" 'length > 80 {
		printf "%s:%d: %d columns\n", f, NR, length; bad = 1 }
		END { exit bad }' >&2 || bad=1
	return $bad
}

cd "$top" || exit 1
case $1 in
--modes)
	echo $MODES
	exit 0 ;;
--check)
	shift
	m=$1 h=$2 stamp=$3
	shift 3
	CC=${*:-gcc}
	check "$m" "$h" "$stamp.log" "$stamp"
	exit ;;
--lint)
	lint "$2" || exit 1
	mkdir -p "${3%/*}" && : >"$3"
	exit ;;
esac

# Everything, without make: each header in every mode, the modes of one
# header side by side.
CC=${1:-${CC:-gcc}}
status=0
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
for h in $(cd include && find . -name "*.h" | sed "s|^\./||" | sort); do
	for m in $MODES; do
		check "$m" "$h" "$logs/$m.gcc" 2>"$logs/$m.log" ||
			: >"$logs/$m.failed" &
	done
	wait
	for m in $MODES; do
		[ -e "$logs/$m.failed" ] || continue
		cat "$logs/$m.log" >&2
		status=1
	done
	rm -f "$logs"/*
	lint "$h" || status=1
done
[ $status -eq 0 ] && echo "check-headers: all headers self-contained"
exit $status
