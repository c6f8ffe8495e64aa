#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Minimise each target's committed corpus with what the last fuzz-run
# found (libFuzzer -merge=1): the inputs that add coverage, fewest first.
#
#	merge.sh BUILD_DIR TARGET...
bin=$1
shift
here=$(dirname "$0")
for t in "$@"; do
	new=$bin/run/corpus/$t
	out=$bin/merge/$t
	rm -rf "$out"
	mkdir -p "$out" "$here/corpus/$t"
	"$bin/$t" -merge=1 "$out" "$here/corpus/$t" \
		$([ -d "$new" ] && echo "$new") 2>&1 | grep -E '^MERGE-OUTER'
	rm -rf "$here/corpus/$t"
	mv "$out" "$here/corpus/$t"
	echo "# fuzz-merge: $t: $(ls "$here/corpus/$t" | wc -l) inputs," \
	     "$(cat "$here/corpus/$t"/* | wc -c) bytes"
done
