#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Run KTAP test programs, print their reports, then the findings they
# stated ("# FINDING ..." diagnostic lines) and the totals over all of them.
# Fails if any program fails or dies.
pass=0 fail=0 status=0
findings=$(mktemp)
trap 'rm -f "$findings"' EXIT
for t in "$@"; do
	out=$("$t" 2>"$t.stderr")
	rc=$?
	printf '%s\n' "$out"
	printf '%s\n' "$out" | sed -n 's/^ *# FINDING /- /p' >>"$findings"
	line=$(printf '%s\n' "$out" | grep -E '^# [0-9]+ passed, [0-9]+ failed$' | tail -n 1)
	if [ -z "$line" ] || [ $rc -ne 0 ]; then
		echo "# $t exited with status $rc; its stderr is in $t.stderr" >&2
		tail -n 20 "$t.stderr" >&2
		status=1
		fail=$((fail + 1))
		continue
	fi
	p=$(echo "$line" | sed 's/^# \([0-9]*\) passed.*/\1/')
	f=$(echo "$line" | sed 's/.* \([0-9]*\) failed$/\1/')
	pass=$((pass + p))
	fail=$((fail + f))
done
if [ -s "$findings" ]; then
	echo "# Findings ($(wc -l <"$findings") stated by the suites):"
	sed 's/^/# /' "$findings"
fi
echo "$pass passed, $fail failed"
[ $status -eq 0 ] && [ $fail -eq 0 ]
