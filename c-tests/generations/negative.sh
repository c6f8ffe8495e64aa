#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The negative compile test of the API generations: each snippet uses one
# generation's names, and must compile in exactly the generations that
# have them (so it is valid code) and fail in every other, as it would
# against that kernel. Usage: c-tests/generations/negative.sh [CC]
CC=${1:-${CC:-gcc}}
top=$(cd "$(dirname "$0")/../.." && pwd)
flags="-std=gnu11 -Wall -Wextra -Werror -I$top/include -I$top/c-tests"
status=0 checked=0

mode_flags() {
	case $1 in
	seed) echo "" ;;
	6_1) echo "-DMEMREMAP_LINUX=KERNEL_VERSION(6,1,0)" ;;
	6_15) echo "-DMEMREMAP_LINUX=KERNEL_VERSION(6,15,0)" ;;
	6_19_rc) echo "-DMEMREMAP_LINUX=KERNEL_VERSION(6,19,0) -DMEMREMAP_LINUX_RC=1" ;;
	6_19) echo "-DMEMREMAP_LINUX=KERNEL_VERSION(6,19,0)" ;;
	7_0) echo "-DMEMREMAP_LINUX=KERNEL_VERSION(7,0,0)" ;;
	esac
}

# check <name> <modes where it compiles> <file-scope code> <body>
check() {
	name=$1 ok=$2 decl=$3 body=$4
	for m in seed 6_1 6_15 6_19_rc 6_19 7_0; do
		src="#include <linux/mm.h>
#include <linux/memremap.h>
$decl
void use(struct page *page, struct folio *folio,
	 struct dev_pagemap *pgmap);
void use(struct page *page, struct folio *folio,
	 struct dev_pagemap *pgmap)
{
	(void)page; (void)folio; (void)pgmap;
	$body;
}"
		# shellcheck disable=SC2046
		if printf '%s\n' "$src" | $CC -x c -fsyntax-only $flags \
		   $(mode_flags $m) - >/dev/null 2>&1; then got=yes; else got=no; fi
		case " $ok " in *" $m "*) want=yes ;; *) want=no ;; esac
		checked=$((checked + 1))
		if [ $got != $want ]; then
			echo "negative: '$name' in mode $m: compiles=$got, expected $want" >&2
			status=1
		fi
	done
}

fp='static void fp(struct page *p) { (void)p; }'
ff='static void ff(struct folio *f) { (void)f; }'
fs='static void fs(struct folio *h, struct folio *t) { (void)h; (void)t; }'
check "page->pgmap" "seed 6_1" "" "(void)page->pgmap"
check "folio->pgmap" "6_15 6_19_rc 6_19 7_0" "" "(void)folio->pgmap"
check "page_pgmap()" "6_15 6_19_rc 6_19 7_0" "" "(void)page_pgmap(page)"
check "zone_device_page_init(page)" "6_1 6_15" "" \
	"zone_device_page_init(page)"
check "zone_device_page_init(page, order)" "6_19_rc" "" \
	"zone_device_page_init(page, 0)"
check "zone_device_page_init(page, pgmap, order)" "6_19 7_0" "" \
	"zone_device_page_init(page, pgmap, 0)"
check "zone_device_folio_init(folio, order)" "6_19_rc" "" \
	"zone_device_folio_init(folio, 9)"
check "zone_device_folio_init(folio, pgmap, order)" "6_19 7_0" "" \
	"zone_device_folio_init(folio, pgmap, 9)"
check ".page_free" "seed 6_1 6_15" \
	"$fp static const struct dev_pagemap_ops o = { .page_free = fp };" "(void)o"
check ".folio_free" "6_19_rc 6_19 7_0" \
	"$ff static const struct dev_pagemap_ops o = { .folio_free = ff };" "(void)o"
check ".folio_split" "6_19_rc 6_19 7_0" \
	"$fs static const struct dev_pagemap_ops o = { .folio_split = fs };" "(void)o"
check "pgmap_request_folio()" "seed" "" \
	"(void)pgmap_request_folio(pgmap, 0, 0)"
check "folio_zone_device_data()" "6_19_rc 6_19 7_0" "" \
	"(void)folio_zone_device_data(folio)"
check "HPAGE_PMD_ORDER, ilog2()" "6_1 6_15 6_19_rc 6_19 7_0" "" \
	"(void)(HPAGE_PMD_ORDER + ilog2(HPAGE_PMD_NR))"
# Selections that name no generation are refused.
for bad in "-DMEMREMAP_LINUX_RC=1" \
	   "-DMEMREMAP_LINUX=KERNEL_VERSION(6,15,0) -DMEMREMAP_LINUX_RC=1" \
	   "-DMEMREMAP_LINUX=KERNEL_VERSION(5,19,0)"; do
	checked=$((checked + 1))
	# shellcheck disable=SC2086
	if printf '#include <linux/mm.h>\n' | $CC -x c -fsyntax-only $flags \
	   $bad - >/dev/null 2>&1; then
		echo "negative: selection '$bad' was accepted" >&2
		status=1
	fi
done
[ $status -eq 0 ] &&
	echo "check-generations-negative: $checked compiles as each generation has them"
exit $status
