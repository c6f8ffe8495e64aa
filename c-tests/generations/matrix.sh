#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The compatibility matrix of the generation callers: callers x API
# generations, from the KTAP the gen_callers_<generation> suites printed
# (c-tests/generations/callers/). A cell is "pass" when every case of that
# caller passed and stated no finding, "FAIL" when one failed, the numbers
# of the findings its cases stated ("# FINDING <caller> <generation>:
# ..."), listed below the table, or "n/a" for a caller that does not exist
# in that generation. Every line is a top-level KTAP diagnostic.
#
# Usage:
#   matrix.sh FILE...         the matrix of the suites in FILEs (a whole
#                             report, or programs' own .ktap files)
#   matrix.sh --insert FILE   FILE (a report of c-tests/run.sh) with the
#                             matrix inserted before its "# Totals:" line,
#                             so that it stays one valid KTAP document
#                             (unchanged if it has the matrix already)
insert=
if [ "$1" = --insert ]; then
	insert=$2
	set -- "$2"
fi

matrix() {
	awk '
	function gen_of(suite,    g) {
		g = suite
		sub(/^gen_callers_/, "", g)
		sub(/_rc$/, "-rc", g)
		gsub(/_/, ".", g)
		return g
	}
	function caller_of(name) {
		if (name ~ /^kvmppc_/) return "kvmppc_uvmem"
		if (name ~ /^kfd_/) return "amdkfd"
		if (name ~ /^nouveau_/) return "nouveau"
		if (name ~ /^dmirror_/) return "test_hmm"
		if (name ~ /^drm_pagemap_/) return "drm_pagemap"
		if (name ~ /^dax_/) return "device_dax"
		return "?" name
	}
	/^ *# Subtest: / {
		s = $0
		sub(/^ *# Subtest: /, "", s)
		suite = (s ~ /^gen_callers_/) ? s : ""
		if (suite != "" && !(gen_of(suite) in seen)) {
			seen[gen_of(suite)] = 1
		}
		next
	}
	suite != "" && /^    (not )?ok [0-9]+ / {
		name = $0
		sub(/^    (not )?ok [0-9]+ /, "", name)
		sub(/ .*/, "", name)
		key = caller_of(name) SUBSEP gen_of(suite)
		cases[key]++
		if ($0 ~ /^    not ok /)
			failed[key]++
		next
	}
	suite != "" && /^    # FINDING / {
		f = $0
		sub(/^    # FINDING /, "", f)
		caller = f
		sub(/ .*/, "", caller)
		text = f
		sub(/^[^:]*: /, "", text)
		if (!(text in note)) {
			note[text] = ++nnotes
			notes[nnotes] = caller ": " text
		}
		key = caller SUBSEP gen_of(suite)
		if (key in cell)
			c = cell[key] " [" note[text] "]"
		else
			c = "[" note[text] "]"
		cell[key] = c
		next
	}
	END {
		ng = split("6.1 6.15 6.19-rc 6.19 7.0", all, " ")
		n = 0
		for (i = 1; i <= ng; i++)
			if (all[i] in seen)
				gens[++n] = all[i]
		if (!n)
			exit 0
		nc = split("kvmppc_uvmem amdkfd nouveau test_hmm drm_pagemap" \
			   " device_dax",
			   callers, " ")
		print "# Compatibility matrix: callers x generations" \
		      " (c-tests/generations/callers/)"
		line = sprintf("#   %-13s", "caller")
		for (j = 1; j <= n; j++)
			line = line sprintf(" %-9s", gens[j])
		sub(/ +$/, "", line)
		print line
		for (i = 1; i <= nc; i++) {
			line = sprintf("#   %-13s", callers[i])
			for (j = 1; j <= n; j++) {
				key = callers[i] SUBSEP gens[j]
				if (!(key in cases))
					c = "n/a"
				else if (key in failed)
					c = "FAIL"
				else if (key in cell)
					c = cell[key]
				else
					c = "pass"
				line = line sprintf(" %-9s", c)
			}
			sub(/ +$/, "", line)
			print line
		}
		for (k = 1; k <= nnotes; k++)
			print "# [" k "] " notes[k]
	}' "$@"
}

if [ -z "$insert" ]; then
	matrix "$@"
	exit
fi
[ -r "$insert" ] || { echo "matrix.sh: cannot read $insert" >&2; exit 2; }
if grep -q '^# Compatibility matrix: ' "$insert"; then
	cat "$insert"
	exit
fi
m=$(matrix "$insert") || exit 2
awk -v m="$m" '
	/^# Totals: / && !done { if (m != "") print m; done = 1 }
	{ print }
	END { if (!done) exit 1 }' "$insert"
