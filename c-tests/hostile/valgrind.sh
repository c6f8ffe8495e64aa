#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Run KTAP test programs under valgrind, through c-tests/run.sh.
# Usage: valgrind.sh "valgrind [options]" program...
# Each program gets a wrapper, <program>.vg, that runs it under valgrind;
# run.sh then runs the wrappers, so a valgrind error (its exit code) or a
# failed case fails the run. Valgrind's report goes to <program>.vg.stderr.
vg=$1
shift
wrappers=
for t in "$@"; do
	abs=$(cd "$(dirname "$t")" && pwd)/$(basename "$t")
	printf '#!/bin/sh\nexec %s %s "$@"\n' "$vg" "$abs" >"$t.vg"
	chmod +x "$t.vg"
	wrappers="$wrappers $t.vg"
done
exec sh "$(dirname "$0")/../run.sh" $wrappers
