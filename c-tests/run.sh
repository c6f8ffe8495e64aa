#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Run KTAP test programs and print one KTAP v1 document for all of them:
#
#	KTAP version 1
#	1..M				one test per program: its suite
#	    KTAP version 1		the program's suite, as it printed it
#	    # Subtest: suite
#	    1..N
#	    ok 1 case ...
#	# suite: pass:P fail:F skip:S total:N
#	ok 1 suite
#	...				the next programs' suites, 2..M
#	# Findings (n stated by the suites):
#	# - ...				the "# FINDING" lines of the suites
#	# Totals: pass:P fail:F skip:S total:T
#	P passed, F failed		the closing line CI reads
#
# Each program prints a document of one suite (c-tests/ktap.h); this drops
# its outer version and plan lines and renumbers its suite. A program that
# dies, or whose exit status does not match its result (0 when every case
# passed, 1 otherwise), gets one more case, "not ok N+1 exit_status", so
# every consumer counts the failure; its stderr is in <program>.stderr.
#
# The programs run KTAP_JOBS at a time (default: the number of CPUs); the
# report prints in the order given. Each program's own output is kept in
# <program>.ktap. Usage: run.sh [-o REPORT] PROGRAM...; -o also writes the
# report to REPORT. Fails if any case fails or any program fails.
report=
if [ "$1" = -o ]; then
	report=$2
	shift 2
fi
jobs=${KTAP_JOBS:-$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Run them, at most $jobs at once: each leaves <program>.ktap, .stderr and
# its exit status in $tmp/<index>.rc.
i=0
for t in "$@"; do
	i=$((i + 1))
	printf '%s %s\n' "$i" "$t"
done | xargs -r -P "$jobs" -L 1 sh -c \
	'"$2" >"$2.ktap" 2>"$2.stderr"; echo $? >"$0/$1.rc"' "$tmp"

# Assemble the document: each program's suite as subtest $i.
assemble() {
	echo "KTAP version 1"
	echo "1..$#"
	i=0
	for t in "$@"; do
		i=$((i + 1))
		rc=$(cat "$tmp/$i.rc" 2>/dev/null || echo 255)
		awk -v k="$i" -v rc="$rc" -v prog="$t" -v counts="$tmp/counts" '
		# Our own lines: the outer header, the suite stats, the totals.
		NR == 1 && $0 == "KTAP version 1" { next }
		NR == 2 && $0 == "1..1" { next }
		/^# Totals: / { next }
		/^# [^ ]*: pass:[0-9]+ fail:[0-9]+ skip:[0-9]+ total:[0-9]+$/ {
			next
		}
		/^    # Subtest: / && name == "" {
			name = substr($0, 16)
		}
		/^    1\.\.[0-9]+$/ && plan == "" {
			plan = substr($0, 8)
			planline = n + 1
		}
		/^    (not )?ok [0-9]+ / {
			cases++
			if ($0 ~ / # SKIP/)
				skip++
			else if ($0 ~ /^    ok /)
				pass++
			else
				fail++
		}
		/^(not )?ok 1 / && !done {
			done = 1
			result = n + 1
		}
		{ line[++n] = $0 }
		END {
			if (name == "") {
				name = prog
				sub(/.*\//, "", name)
				sub(/\.vg$/, "", name)
			}
			bad = !done || plan == "" || cases != plan ||
			      rc != (fail ? 1 : 0)
			stop = done ? result - 1 : n
			if (plan == "") {
				print "    KTAP version 1"
				print "    # Subtest: " name
				print "    1..1"
			}
			for (j = 1; j <= stop; j++) {
				if (j == planline && bad)
					print "    1.." cases + 1
				else
					print line[j]
			}
			if (bad) {
				if (plan != "" && cases != plan)
					print "    # " name ": planned " plan \
					      " cases, printed " cases
				print "    # " name ": " prog \
				      " exited with status " rc \
				      " (stderr: " prog ".stderr)"
				print "    not ok " cases + 1 " exit_status"
				fail++
				cases++
			}
			print "# " name ": pass:" pass + 0 " fail:" fail + 0 \
			      " skip:" skip + 0 " total:" cases + 0
			print (fail ? "not ok " : "ok ") k " " name
			for (j = stop + 2; j <= n; j++)
				print line[j]
			print pass + 0, fail + 0, skip + 0 >>counts
		}' "$t.ktap"
	done
	for t in "$@"; do
		grep -h '^ *# FINDING ' "$t.ktap" 2>/dev/null
	done >"$tmp/findings"
	if [ -s "$tmp/findings" ]; then
		n=$(wc -l <"$tmp/findings")
		echo "# Findings ($n stated by the suites):"
		sed 's/^ *# FINDING /# - /' "$tmp/findings"
	fi
	awk '{ p += $1; f += $2; s += $3 }
	     END {
		printf "# Totals: pass:%d fail:%d skip:%d total:%d\n",
		       p, f, s, p + f + s
		printf "%d passed, %d failed\n", p, f
		exit f != 0
	     }' "$tmp/counts"
}

: >"$tmp/counts"
if [ -n "$report" ]; then
	assemble "$@" >"$report"
	status=$?
	cat "$report"
else
	assemble "$@"
	status=$?
fi
# Where a program failed, the last lines of its stderr, to stderr.
i=0
for t in "$@"; do
	i=$((i + 1))
	rc=$(cat "$tmp/$i.rc" 2>/dev/null || echo 255)
	if [ "$rc" -gt 1 ]; then
		echo "# $t exited with status $rc; its stderr:" \
		     "$t.stderr" >&2
		tail -n 20 "$t.stderr" >&2
	fi
done
exit $status
