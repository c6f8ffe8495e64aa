#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Replay the fuzz targets' regression inputs and committed corpora through
# the replay builds (c-tests/fuzz/replay.c):
#
#	regress.sh REPLAY_DIR TARGET...
#
# Each target's c-tests/fuzz/regress/<target>/* (one file per bug found,
# what it found in regress/README), then its corpus directory. A failed
# check aborts its replay program, which fails this script.
dir=$1
shift
here=$(dirname "$0")
status=0
for t in "$@"; do
	args=
	for f in "$here/regress/$t"/*; do
		[ -f "$f" ] && args="$args $f"
	done
	[ -d "$here/corpus/$t" ] && args="$args $here/corpus/$t"
	[ -n "$args" ] || continue
	echo "# fuzz-regress: $t"
	out=$("$dir/$t" $args 2>&1)
	rc=$?
	if [ $rc -ne 0 ]; then
		printf '%s\n' "$out" | tail -n 40
		echo "not ok fuzz-regress $t (exit $rc)"
		status=1
	else
		printf '%s\n' "$out" | grep -v '^    # input ' | tail -n +3
	fi
done
exit $status
