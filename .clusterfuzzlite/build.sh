#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Build the fuzz targets of c-tests/fuzz/ (api, callers, differential,
# generations) the
# way ClusterFuzzLite and OSS-Fuzz do: with their $CC, $CFLAGS and
# $LIB_FUZZING_ENGINE, into $OUT, each with its seed corpus and dictionary.
# The same sources as `make fuzz-targets` (c-tests/fuzz/fuzz.mk).
#
# Locally, without Docker (what `make fuzz-targets` does, by hand):
#   SRC=/tmp/src OUT=/tmp/out CC=clang CXX=clang++ \
#   CFLAGS="-O1 -fno-omit-frame-pointer -gline-tables-only \
#           -fsanitize=address -fsanitize-address-use-after-scope \
#           -fsanitize=fuzzer-no-link" \
#   LIB_FUZZING_ENGINE=-fsanitize=fuzzer SANITIZER=address \
#   .clusterfuzzlite/build.sh        (run from the repository's top)
set -eu

cd "${SRC}/memremap" 2>/dev/null || cd "$(dirname "$0")/.."
triple=$(rustc -vV | sed -n 's/^host: //p')
work=${WORK:-/tmp}/memremap-fuzz
mkdir -p "$work" "$OUT"

# The library, its branches instrumented for the fuzzer (as cargo-fuzz
# does); the C targets get ASan/UBSan from $CFLAGS.
RUSTFLAGS="-Cpasses=sancov-module \
	-Cllvm-args=-sanitizer-coverage-level=4 \
	-Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
	-Cllvm-args=-sanitizer-coverage-pc-table \
	-Cllvm-args=-sanitizer-coverage-trace-compares" \
CARGO_TARGET_DIR="$work/target" \
	cargo build --release --lib --locked --target "$triple"
lib="$work/target/$triple/release/libmemremap.a"
libs="-lpthread -lm -ldl -lrt -lutil"

cflags="$CFLAGS -std=gnu11 -g -fno-strict-aliasing -Iinclude -Ic-tests"
# OSS-Fuzz's UBSan set reports unsigned wraparound, which the harness (the
# splitmix64 draws, pfns at the edges) and the kernel-shaped headers use on
# purpose, as the kernel does; the rest of the set stays.
if [ "${SANITIZER:-}" = undefined ]; then
	cflags="$cflags -fno-sanitize=unsigned-integer-overflow"
fi
cflags="$cflags -DCALLERS_SANITIZE=\"${SANITIZER:-address}\""
warn="-Wall -Wextra -Werror -Wno-gnu"
kwarn="-Wall -Wno-sign-compare -Werror -Wno-gnu -Wno-unused-function"
callers="-Ic-tests/callers -Ic-tests/callers/mocks"
hostile="c-tests/hostile/hostile_model.c c-tests/hostile/hostile_pick.c
	c-tests/hostile/hostile_pgmaps.c c-tests/hostile/hostile_folios.c
	c-tests/hostile/hostile_lookups.c c-tests/hostile/hostile_pages.c
	c-tests/hostile/hostile_refs.c c-tests/hostile/hostile_misc.c"

# api: the hostile campaign's operations and model, driven by the input.
$CC $cflags $warn -o "$OUT/api" c-tests/fuzz/api.c $hostile \
	$LIB_FUZZING_ENGINE "$lib" $libs

# differential: the library against the seed's C reference.
$CC $cflags $kwarn -c -o "$work/ref_after.o" c-tests/reference/after.c
$CC $cflags $warn -o "$OUT/differential" c-tests/fuzz/differential.c \
	"$work/ref_after.o" $LIB_FUZZING_ENGINE "$lib" $libs

# callers: dmirror's caller after and before the patch, one binary.
for side in after before; do
	$CC $cflags $kwarn $callers -DCALLER_API=dmirror_$side \
		-DCALLER_SIDE=$side -c -o "$work/$side.all.o" \
		c-tests/callers/$side/test_hmm.c
	${OBJCOPY:-objcopy} --keep-global-symbol=dmirror_$side \
		"$work/$side.all.o" "$work/$side.o"
done
$CC $cflags $warn $callers -c -o "$work/mock_common.o" \
	c-tests/callers/mocks/mock_common.c
$CC $cflags $warn $callers -o "$OUT/callers" c-tests/fuzz/callers.c \
	"$work/after.o" "$work/before.o" "$work/mock_common.o" \
	$LIB_FUZZING_ENGINE "$lib" $libs

# generations: each API generation's differential engine
# (c-tests/generations/differential.c) with its C reference, every global
# name suffixed with the generation (as fuzz.mk builds them).
for g in 6_1:"KERNEL_VERSION(6,1,0)" 6_15:"KERNEL_VERSION(6,15,0)" \
	 6_19_rc:"KERNEL_VERSION(6,19,0) -DMEMREMAP_LINUX_RC=1" \
	 6_19:"KERNEL_VERSION(6,19,0)"; do
	n=${g%%:*}
	v=${g#*:}
	gflags="-DMEMREMAP_LINUX=${v%% *} ${v#"${v%% *}"}
		-DGEN_SUITE=\"generations_$n\" -DDIFF_FUZZ=gen_diff_$n
		-Dref_folio_init=ref_folio_init_$n
		-Dref_folio_put=ref_folio_put_$n"
	$CC $cflags $warn $gflags -c -o "$work/gen_diff_$n.o" \
		c-tests/generations/differential.c
	$CC $cflags $warn $gflags -c -o "$work/gen_ref_$n.o" \
		c-tests/reference/gen/gen_$n.c
	gens="${gens:-} $work/gen_diff_$n.o $work/gen_ref_$n.o"
done
$CC $cflags $warn -o "$OUT/generations" c-tests/fuzz/generations.c \
	$gens $LIB_FUZZING_ENGINE "$lib" $libs

# Seed corpora and dictionaries, as OSS-Fuzz finds them.
for t in api callers differential generations; do
	if [ -d "c-tests/fuzz/corpus/$t" ]; then
		rm -f "$OUT/${t}_seed_corpus.zip"
		(cd "c-tests/fuzz/corpus/$t" && zip -q -r \
			"$OUT/${t}_seed_corpus.zip" .)
	fi
	for x in dict options; do
		[ -f "c-tests/fuzz/$t.$x" ] && cp "c-tests/fuzz/$t.$x" "$OUT/"
	done
done
echo "build.sh: built $(cd "$OUT" && ls api callers differential generations |
	tr '\n' ' ')"
