#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Run the fuzz targets with libFuzzer's own parallel mode (`make fuzz-run`):
#
#	run.sh SECONDS JOBS BUILD_DIR TARGET...
#
# Each target in turn, SECONDS seconds on JOBS processes (-jobs=JOBS
# -workers=JOBS), from a working copy of its committed corpus
# (c-tests/fuzz/corpus/<target>/, kept in BUILD_DIR/run/corpus/<target>:
# `make fuzz-merge` folds what is new back in), with its dictionary. Every
# FUZZ_SAMPLE seconds (default 60) a line of cov:/ft:/corpus per target,
# then a summary: execs/s, cov:, ft:, corpus size. A crash, a leak, a
# timeout or a failed check (a WARN the model did not expect is one)
# leaves BUILD_DIR/run/<target>-crash-* and fails the run; reproduce with
#
#	BUILD_DIR/<target> BUILD_DIR/run/<target>-crash-...
#
# FUZZ_ARGS adds libFuzzer flags (e.g. -max_len=4096).
secs=$1
jobs=$2
bin=$(cd "$3" && pwd) || exit 1
shift 3
here=$(cd "$(dirname "$0")" && pwd)
run=$bin/run
sample=${FUZZ_SAMPLE:-60}
status=0
mkdir -p "$run"
summary=""

# The last status line of a libFuzzer log: "#N <kind> cov: .. ft: .. ..".
last_stats() {
	grep -h -E '^#[0-9]+.*cov: ' "$@" 2>/dev/null | tail -n 1
}

field() {
	printf '%s\n' "$1" | sed -n "s/.* $2: \([0-9]*\).*/\1/p"
}

for t in "$@"; do
	work=$run/corpus/$t
	mkdir -p "$work"
	[ -d "$here/corpus/$t" ] && cp -n "$here/corpus/$t"/* "$work"/ \
		2>/dev/null
	dict=
	[ -f "$here/$t.dict" ] && dict=-dict=$here/$t.dict
	# <target>.options: "key = value" lines of its [libfuzzer] section.
	opts=
	[ -f "$here/$t.options" ] && opts=$(sed -n \
		's/^\([a-z_]*\) *= *\([^ ]*\)$/-\1=\2/p' "$here/$t.options")
	rm -f "$run/$t".log "$run/$t"-fuzz-*.log
	echo "# fuzz-run: $t, $secs s on $jobs job(s), corpus" \
	     "$(ls "$work" | wc -l) inputs"
	(
		cd "$run" || exit 1
		exec "$bin/$t" -jobs="$jobs" -workers="$jobs" \
			-max_total_time="$secs" -print_final_stats=1 \
			-artifact_prefix="$t-" -timeout=25 -rss_limit_mb=4096 \
			$dict $opts ${FUZZ_ARGS:-} "corpus/$t"
	) > "$run/$t.log" 2>&1 &
	pid=$!
	t0=$(date +%s)
	next=$sample
	while kill -0 $pid 2>/dev/null; do
		sleep 5
		now=$(($(date +%s) - t0))
		if [ $now -ge $next ]; then
			next=$((next + sample))
			s=$(last_stats "$run/$t.log" "$run"/fuzz-*.log)
			echo "# fuzz-run: $t t=${now}s cov $(field "$s" cov)" \
			     "ft $(field "$s" ft) corp $(ls "$run/corpus/$t" |
			     wc -l)"
		fi
	done
	wait $pid
	rc=$?
	# -jobs writes each job's log as fuzz-N.log in the working dir.
	for f in "$run"/fuzz-*.log; do
		[ -f "$f" ] && mv "$f" "$run/$t-$(basename "$f")"
	done
	logs="$run/$t.log $(ls "$run/$t"-fuzz-*.log 2>/dev/null)"
	s=$(last_stats $logs)
	# The jobs' own logs, each counted once (the main log repeats one).
	jlogs=$(ls "$run/$t"-fuzz-*.log 2>/dev/null || echo "$run/$t.log")
	execs=$(cat $jlogs | sed -n 's/^stat::average_exec_per_sec: *//p' |
		awk '{ n += $1 } END { print n + 0 }')
	crashes=$(ls "$run/$t"-crash-* "$run/$t"-leak-* \
		"$run/$t"-timeout-* "$run/$t"-oom-* 2>/dev/null)
	line=$(printf '%-13s execs/s %6s  cov %5s  ft %6s  corpus %5s' \
		"$t" "$execs" "$(field "$s" cov)" "$(field "$s" ft)" \
		"$(ls "$run/corpus/$t" | wc -l)")
	if [ -n "$crashes" ] || [ $rc -ne 0 ] ||
	   grep -q -E 'ERROR: |fuzz: check failed' $logs; then
		status=1
		line="$line  FAILED"
		grep -h -E 'fuzz: check failed|ERROR: |SUMMARY: |step [0-9]+ ' \
			$logs | head -n 20
		for c in $crashes; do
			echo "# fuzz-run: $t: reproduce with $bin/$t $c"
		done
	fi
	summary="$summary$line
"
done
echo "# fuzz-run: per target (execs/s summed over the jobs)"
printf '%s' "$summary" | sed 's/^/# /'
exit $status
