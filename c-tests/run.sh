#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Run KTAP test programs, print their reports, and close with the totals
# over all of them. Fails if any program fails or dies.
pass=0 fail=0 status=0
for t in "$@"; do
	out=$("$t" 2>"$t.stderr")
	rc=$?
	printf '%s\n' "$out"
	p=$(printf '%s\n' "$out" | sed -n 's/^# \([0-9]*\) passed, \([0-9]*\) failed$/\1/p' | tail -n 1)
	f=$(printf '%s\n' "$out" | sed -n 's/^# \([0-9]*\) passed, \([0-9]*\) failed$/\2/p' | tail -n 1)
	if [ -z "$p" ] || [ $rc -ne 0 ]; then
		echo "# $t exited with status $rc; its stderr is in $t.stderr" >&2
		tail -n 20 "$t.stderr" >&2
		status=1
		fail=$((fail + 1))
		continue
	fi
	pass=$((pass + p))
	fail=$((fail + f))
done
echo "$pass passed, $fail failed"
[ $status -eq 0 ] && [ $fail -eq 0 ]
