// SPDX-License-Identifier: GPL-2.0-only
/*
 * Benchmarks of an API generation (docs/DESIGN.md §9): the library's
 * zone_device_folio_init() and last folio_put() against the C reference of
 * the same generation (c-tests/reference/gen/gen_<generation>.c, its
 * ref_folio_init() and ref_folio_put()), in one process, on the same
 * substrate, with the same compiler flags, their runs interleaved. Built
 * once per generation with that generation's MEMREMAP_LINUX (the
 * Makefile's bench rules), since a generation's names exist only under its
 * headers. Prints
 *
 *	row 9 folio-init+put-o<order>-<generation> rust_ns <x> c_ns <y>
 *
 * and, with "--only 9 <rust|c> <iters> <order>", runs just that loop (for
 * callgrind instruction counts; see c-tests/bench/run.sh). Numbers, never
 * pass/fail, but a cycle that does not come back to where it started (the
 * pins, the refcount, a WARN) ends the program with status 1.
 */
#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/err.h>
#include <linux/pagemap.h>
#include <memremap/generation.h>
#include <memremap/test.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "../reference/gen/gen_common.h"

#if MEMREMAP_GEN == MEMREMAP_GEN_6_19
#define GEN_LABEL "6.19"
#elif MEMREMAP_GEN == MEMREMAP_GEN_6_19_RC
#define GEN_LABEL "6.19-rc"
#else
#error "gen_bench.c: the large-folio generations (6.19-rc, 6.19) only"
#endif

#define NR	1024UL		/* pages per pgmap: two 2 MiB chunks */

enum side { LIB, REF };

static struct dev_pagemap pgmaps[2];
static unsigned long freed;

static void nop_folio_free(struct folio *folio)
{
	(void)folio;
	freed++;
}

static vm_fault_t nop_migrate(struct vm_fault *vmf)
{
	(void)vmf;
	return 0;
}

static const struct dev_pagemap_ops ops = {
	.folio_free = nop_folio_free,
	.migrate_to_ram = nop_migrate,
};

static int owner;

/*
 * The folio of @order a driver hands out again and again: order 9 at the
 * pgmap's first page, order 0 in its second chunk (6.19-rc may re-use a
 * page only at the order it last had, as nouveau's per-order free lists
 * do, so the two orders never share pages).
 */
static struct folio *folio_of(enum side s, unsigned int order)
{
	unsigned long pfn = (pgmaps[s].range.start >> PAGE_SHIFT) +
			    (order ? 0 : NR / 2);

	return page_folio(pfn_to_page(pfn));
}

/* The library: the generation's zone_device_folio_init(), unlock, put. */
static void lib_loop(long iters, unsigned int order)
{
	struct folio *folio = folio_of(LIB, order);
	long i;

	for (i = 0; i < iters; i++) {
#if MEMREMAP_GEN == MEMREMAP_GEN_6_19
		zone_device_folio_init(folio, &pgmaps[LIB], order);
#else
		zone_device_folio_init(folio, order);
#endif
		folio_unlock(folio);
		folio_put(folio);
	}
}

/* The C reference: the same steps through its own init and put. */
static void ref_loop(long iters, unsigned int order)
{
	struct folio *folio = folio_of(REF, order);
	long i;

	for (i = 0; i < iters; i++) {
		ref_folio_init(folio, &pgmaps[REF], order);
		folio_unlock(folio);
		ref_folio_put(folio);
	}
}

static void run(int impl, long iters, unsigned int order)
{
	if (impl)
		ref_loop(iters, order);
	else
		lib_loop(iters, order);
}

static void setup(void)
{
	enum side s;

	for (s = LIB; s <= REF; s++) {
		struct dev_pagemap *pg = &pgmaps[s];

		memset(pg, 0, sizeof(*pg));
		pg->type = MEMORY_DEVICE_PRIVATE;
		pg->range.start = (256UL << 30) + s * (NR << PAGE_SHIFT);
		pg->range.end = pg->range.start + (NR << PAGE_SHIFT) - 1;
		pg->nr_range = 1;
		pg->ops = &ops;
		pg->owner = &owner;
		if (IS_ERR(memremap_pages(pg, 0))) {
			fprintf(stderr, "memremap_pages failed\n");
			exit(2);
		}
	}
}

/* Every cycle came back: no pin held, folios idle, no WARN. */
static void teardown(long cycles)
{
	enum side s;
	int bad = 0;

	for (s = LIB; s <= REF; s++) {
		if (memremap_pgmap_pins(&pgmaps[s]) != 0 ||
		    folio_ref_count(folio_of(s, 0)) != 0 ||
		    folio_ref_count(folio_of(s, 9)) != 0)
			bad = 1;
		memunmap_pages(&pgmaps[s]);
	}
	if (memremap_warn_count() || freed != (unsigned long)cycles)
		bad = 1;
	if (bad) {
		fprintf(stderr, "gen_bench: a cycle did not come back "
			"(%lu WARNs, %lu frees for %ld cycles)\n",
			memremap_warn_count(), freed, cycles);
		exit(1);
	}
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

#define RUNS	9

/*
 * Best of RUNS runs of each side, ns per cycle, the two sides' runs
 * interleaved so that both meet the same machine (it is shared: a side
 * timed alone, after the other, may meet another load); *cycles counts
 * every cycle run.
 */
static void time_both(long iters, unsigned int order, double *best,
		      long *cycles)
{
	int r, impl;

	best[0] = best[1] = 1e30;
	for (impl = 0; impl < 2; impl++) {
		run(impl, iters / 10, order);
		*cycles += iters / 10;
	}
	for (r = 0; r < RUNS; r++) {
		for (impl = 0; impl < 2; impl++) {
			double t0 = now_ns(), t;

			run(impl, iters, order);
			*cycles += iters;
			t = (now_ns() - t0) / iters;
			if (t < best[impl])
				best[impl] = t;
		}
	}
}

int main(int argc, char **argv)
{
	static const unsigned int orders[] = { 0, 9 };
	long cycles = 0;
	int i;

	setup();
	/* --only 9 <rust|c> <iters> <order> */
	if (argc == 6 && !strcmp(argv[1], "--only") && atoi(argv[2]) == 9) {
		int impl = !strcmp(argv[3], "c");
		long iters = atol(argv[4]);
		unsigned int order = atoi(argv[5]) ? 9 : 0;

		run(impl, iters, order);
		teardown(iters);
		return 0;
	}
	if (argc != 1) {
		fprintf(stderr, "usage: %s [--only 9 rust|c <iters> 0|9]\n",
			argv[0]);
		return 2;
	}
	for (i = 0; i < 2; i++) {
		long iters = orders[i] ? 10000 : 1000000;
		double best[2];

		time_both(iters, orders[i], best, &cycles);
		printf("row 9 folio-init+put-o%u-%s rust_ns %.2f c_ns %.2f\n",
		       orders[i], GEN_LABEL, best[0], best[1]);
	}
	teardown(cycles);
	return 0;
}
