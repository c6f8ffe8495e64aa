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
#	# Findings by caller (n stated by the suites):
#	# dax (3):			the "# FINDING" lines of the suites,
#	#   f() at file:line:		by caller, then by the caller's
#	#   - ...			function and line they point at
#	# Verdict:			the verdict: a table of the suites,
#	#   suite   pass fail skip	their totals, the failed cases
#	#   ...
#	#   total   P    F    S
#	# Failed: none
#	# Totals: pass:P fail:F skip:S total:T
#	P passed, F failed		the closing line CI reads
#
# Everything after the last suite is a diagnostic, so the whole report is
# one valid KTAP document; its exit status is 1 when anything failed.
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

# Run them, at most $jobs at once, the longest first (by the milliseconds
# each took last time, in <program>.time; one never timed first), so no
# long program starts last: each leaves <program>.ktap, .stderr and .time,
# and its exit status in $tmp/<index>.rc.
i=0
for t in "$@"; do
	i=$((i + 1))
	ms=
	[ -r "$t.time" ] && read -r ms <"$t.time"
	case $ms in
	'' | *[!0-9]*) ms=999999999 ;;
	esac
	printf '%s %s %s\n' "$ms" "$i" "$t"
done | sort -k1,1nr -k2,2n | cut -d' ' -f2- | xargs -r -P "$jobs" -L 1 sh -c \
	's=$(date +%s%N); "$2" >"$2.ktap" 2>"$2.stderr"; echo $? >"$0/$1.rc"
	 echo $((($(date +%s%N) - s) / 1000000)) >"$2.time"' "$tmp"

# The suites' findings ("# FINDING caller: text [how; from f() at
# file:line]"), grouped by caller, then by the function and line of the
# caller they point at (from the first WARN's call trace).
findings() {
	sed 's/^ *# FINDING //' | awk '
	{
		caller = $0
		sub(/:.*/, "", caller)
		text = substr($0, length(caller) + 3)
		where = "no WARN, so no call trace to point at"
		if (match(text, /; from [^]]*\]/)) {
			where = substr(text, RSTART + 7, RLENGTH - 8)
			text = substr(text, 1, RSTART - 1) "]" \
			       substr(text, RSTART + RLENGTH)
		}
		if (!(caller in count))
			callers[++ncallers] = caller
		count[caller]++
		if (!((caller, where) in n))
			wheres[caller, ++nwheres[caller]] = where
		item[caller, where, ++n[caller, where]] = text
	}
	END {
		printf "# Findings by caller (%d stated by the suites):\n", NR
		for (i = 1; i <= ncallers; i++) {
			c = callers[i]
			printf "# %s (%d):\n", c, count[c]
			for (j = 1; j <= nwheres[c]; j++) {
				w = wheres[c, j]
				printf "#   %s:\n", w
				for (k = 1; k <= n[c, w]; k++)
					printf "#   - %s\n", item[c, w, k]
			}
		}
	}'
}

# The verdict: each suite's passed, failed and skipped cases, their sums,
# and the cases that failed.
verdict() {
	awk '
	{ name[NR] = $1; p[NR] = $2; f[NR] = $3; s[NR] = $4
	  if (length($1) > w) w = length($1) }
	END {
		if (w < 5) w = 5
		print "# Verdict:"
		printf "#   %-" w "s %7s %7s %7s\n", "suite", "passed", \
		       "failed", "skipped"
		for (i = 1; i <= NR; i++) {
			printf "#   %-" w "s %7d %7d %7d\n", name[i], p[i], \
			       f[i], s[i]
			tp += p[i]; tf += f[i]; ts += s[i]
		}
		printf "#   %-" w "s %7d %7d %7d\n", "total", tp, tf, ts
	}' "$tmp/suites"
	if [ -s "$tmp/failed" ]; then
		echo "# Failed ($(wc -l <"$tmp/failed")):"
		sed 's/^/#   /' "$tmp/failed"
	else
		echo "# Failed: none"
	fi
}

# Assemble the document: each program's suite as subtest $i.
assemble() {
	echo "KTAP version 1"
	echo "1..$#"
	i=0
	for t in "$@"; do
		i=$((i + 1))
		rc=$(cat "$tmp/$i.rc" 2>/dev/null || echo 255)
		awk -v k="$i" -v rc="$rc" -v prog="$t" -v counts="$tmp/counts" \
		    -v suites="$tmp/suites" -v failedlist="$tmp/failed" '
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
			if ($0 ~ /^    not ok / && $0 !~ / # SKIP/) {
				c = $0
				sub(/^    not ok [0-9]+ /, "", c)
				failed[++nfailed] = c
			}
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
			if (bad)
				failed[++nfailed] = "exit_status"
			for (j = 1; j <= nfailed; j++)
				print name "/" failed[j] >>failedlist
			print name, pass + 0, fail + 0, skip + 0 >>suites
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
		findings <"$tmp/findings"
	fi
	# The callers x generations matrix, when the generation callers ran.
	sh "$(dirname "$0")/generations/matrix.sh" \
		$(for t in "$@"; do printf '%s.ktap ' "$t"; done)
	verdict
	awk '{ p += $1; f += $2; s += $3 }
	     END {
		printf "# Totals: pass:%d fail:%d skip:%d total:%d\n",
		       p, f, s, p + f + s
		printf "%d passed, %d failed\n", p, f
		exit f != 0
	     }' "$tmp/counts"
}

: >"$tmp/counts"
: >"$tmp/suites"
: >"$tmp/failed"
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
