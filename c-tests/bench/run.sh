#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Print the benchmark table: the library against the seed's C reference,
# ns/op from one run of the bench program, and instructions per op from
# callgrind (two iteration counts, so set-up cost cancels out). The
# generation programs (gen_bench.c built per generation, each against the C
# reference of its generation) add their rows (row 9) to the first table.
# Usage: run.sh path/to/bench [path/to/gen_<generation> ...]
set -eu
bench=$1
shift
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$bench" >"$out"
# Row 9: "<program> row 9 ..." lines, so each row knows its program.
for g in "$@"; do
	"$g" | sed "s|^|$g |" >>"$out"
done

irp() {	# program row impl iters_small iters_big [nr_range or order]
	a=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null \
		"$1" --only "$2" "$3" "$4" ${6:-} 2>&1 |
		sed -n 's/.*Collected : //p')
	b=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null \
		"$1" --only "$2" "$3" "$5" ${6:-} 2>&1 |
		sed -n 's/.*Collected : //p')
	echo $(( (b - a) / ($5 - $4) ))
}

ir() {	# row impl iters_small iters_big [nr_range]
	irp "$bench" "$@"
}

have_valgrind=0
command -v valgrind >/dev/null 2>&1 && have_valgrind=1

echo "| row | what | Rust ns/op | C ns/op | C/Rust | Rust instr/op | C instr/op |"
echo "|---|---|---:|---:|---:|---:|---:|"
grep -E '^row (1|2|3|6) ' "$out" | while read -r _ row what _ r _ c; do
	nr=""
	case $what in translate-*-ranges)
		nr=$(echo "$what" | sed 's/translate-\([0-9]*\)-ranges/\1/');;
	esac
	small=20000 big=120000
	if [ -n "$nr" ] && [ "$nr" -ge 256 ]; then small=2000 big=12000; fi
	if [ $have_valgrind = 1 ]; then
		ri=$(ir "$row" rust $small $big $nr)
		ci=$(ir "$row" c $small $big $nr)
	else
		ri=- ci=-
	fi
	ratio=$(awk -v r="$r" -v c="$c" 'BEGIN { printf "%.2f", c / r }')
	echo "| $row | $what | $r | $c | $ratio | $ri | $ci |"
done
# Row 9: zone_device_folio_init() + unlock + the last folio_put(), order 0
# and 9, against the C reference of the same generation.
grep -E '^[^ ]+ row 9 ' "$out" | while read -r prog _ row what _ r _ c; do
	order=${what#folio-init+put-o}
	order=${order%%-*}
	if [ "$order" = 9 ]; then small=200 big=1200; else small=20000 big=120000; fi
	if [ $have_valgrind = 1 ]; then
		ri=$(irp "$prog" "$row" rust $small $big "$order")
		ci=$(irp "$prog" "$row" c $small $big "$order")
	else
		ri=- ci=-
	fi
	ratio=$(awk -v r="$r" -v c="$c" 'BEGIN { printf "%.2f", c / r }')
	echo "| $row | $what | $r | $c | $ratio | $ri | $ci |"
done
echo
echo "| row | what | wall ns/cycle | CPU ns/cycle | instr/cycle |"
echo "|---|---|---:|---:|---:|"
grep '^row 7 ' "$out" | while read -r _ row what _ wall _ cpu; do
	if [ $have_valgrind = 1 ]; then
		ri=$(ir "$row" rust 2000 12000)
	else
		ri=-
	fi
	echo "| $row | $what | $wall | $cpu | $ri |"
done
echo
echo "| row | pgmap | memremap_pages µs | first request µs | its page faults | 4 more first requests µs | memunmap_pages µs | extra RSS KiB | an eager memmap KiB |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
grep '^row 4 ' "$out" | while read -r _ _ what _ m _ f _ u _ rss _ eager _ faults _ others; do
	echo "| 4 | ${what#scale-} | $m | $f | $faults | $others | $u | $rss | $eager |"
done
echo
echo "| row | impl | 1 thread Mops/s | 2 threads, distinct folios | ratio | 2 threads, same folio | ratio |"
echo "|---|---|---:|---:|---:|---:|---:|"
grep '^row 5 ' "$out" | while read -r _ _ what _ one _ two _ same; do
	awk -v w="${what#threads-}" -v o="$one" -v t="$two" -v s="$same" \
		'BEGIN { printf "| 5 | %s | %s | %s | %.2f | %s | %.2f |\n", w, o, t, t / o, s, s / o }'
done

# Row 8: the differential campaign (tests/differential/), a fixed seed:
# through `make fuzz` as a user runs it (optimised, debug assertions and
# overflow checks kept on, in target/fuzz), then the same cargo command
# run directly, without make. BENCH_CAMPAIGN=0 skips the row.
rate() {	# label: reads the fuzz test's output
	sed -n 's/.*scenarios passed in \([0-9.]*\) s: \([0-9]*\) scenarios\/s, \([0-9.]*\) s of CPU$/\1 \2 \3/p' |
		while read -r wall r cpu; do
			echo "| 8 | $1 | $n | $wall | $r | $cpu |"
		done
}
if [ "${BENCH_CAMPAIGN:-1}" != 0 ] && [ -f Makefile ]; then
	n=${BENCH_CAMPAIGN_COUNT:-20000}
	echo
	echo "| row | differential campaign, seed 1 | scenarios | wall s | scenarios/s | CPU s |"
	echo "|---|---|---:|---:|---:|---:|"
	${MAKE:-make} -s --no-print-directory fuzz SEED=1 COUNT="$n" 2>&1 |
		rate "make fuzz"
	DIFF_SEED=1 DIFF_CASES=$n CARGO_TARGET_DIR=target/fuzz \
		CARGO_PROFILE_RELEASE_DEBUG_ASSERTIONS=true \
		CARGO_PROFILE_RELEASE_OVERFLOW_CHECKS=true \
		${CARGO:-cargo} test --locked --release --features reference \
		--test differential -- --ignored --exact fuzz --nocapture 2>&1 |
		rate "the same, cargo directly"
fi
echo
echo "# load $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min) at the end"
echo "# $(uname -m), $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), $(date -u +%Y-%m-%d)"
