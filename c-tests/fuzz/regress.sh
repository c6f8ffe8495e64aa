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
# replay TARGET ARG...: one replay process.
replay() {
	t=$1
	shift
	out=$("$dir/$t" "$@" 2>&1)
	rc=$?
	if [ $rc -ne 0 ]; then
		printf '%s\n' "$out" | tail -n 40
		echo "not ok fuzz-regress $t $* (exit $rc)"
		status=1
	else
		printf '%s\n' "$out" | grep '^ok '
	fi
}

for t in "$@"; do
	echo "# fuzz-regress: $t"
	# Each regression input alone, from a fresh process (the api
	# target's abandoned pgmaps outlive an input); then the corpus.
	for f in "$here/regress/$t"/*; do
		[ -f "$f" ] && replay "$t" "$f"
	done
	[ -d "$here/corpus/$t" ] && replay "$t" "$here/corpus/$t"
done
exit $status
