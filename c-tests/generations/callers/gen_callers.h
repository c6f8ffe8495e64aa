/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the driver-shaped callers of every API generation share
 * (c-tests/generations/callers/, docs/DESIGN.md §9): the kernel headers in
 * the generation the program is built for, the KTAP harness, how a case
 * states a FINDING, and the race of a driver's teardown against its own
 * allocation path (a dying pgmap).
 *
 * Each driver source is ours, written to how the real driver uses the
 * API in each generation; it includes this header and is itself included
 * once by callers.c, so every case shares one KTAP harness.
 */
#ifndef _GEN_CALLERS_H
#define _GEN_CALLERS_H

#include <linux/version.h>
#include <linux/atomic.h>
#include <linux/bitmap.h>
#include <linux/device.h>
#include <linux/err.h>
#include <linux/huge_mm.h>
#include <linux/ioport.h>
#include <linux/log2.h>
#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/pagemap.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <memremap/generation.h>
#include <memremap/test.h>
#include <pthread.h>
#include <sched.h>
#include "ktap.h"

#ifndef GEN_NAME
#error "GEN_NAME: the generation as the matrix names it (generations.mk)"
#endif

/* One NUMA node in this model. */
#define gen_numa_node_id()	0

/*
 * A finding: the generation's contract makes this driver misbehave, and
 * the case has asserted exactly how. c-tests/generations/matrix.sh reads
 * these lines into the compatibility matrix.
 */
#define GEN_FINDING(drv, fmt, ...)					\
	printf("    # FINDING %s %s: " fmt "\n", (drv), GEN_NAME,	\
	       ##__VA_ARGS__)

/* A driver that does not exist in this generation: a cell "n/a". */
#define GEN_ABSENT(drv, why)						\
	printf("    # ABSENT %s %s: %s\n", (drv), GEN_NAME, (why))

/* What every case starts from and must come back to. */
struct gen_baseline {
	unsigned long ledger;
	unsigned long mapped;
	unsigned long iomem;
};

static inline void gen_baseline_take(struct gen_baseline *b)
{
	b->ledger = memremap_ledger_count();
	b->mapped = memremap_mapped_pgmaps();
	b->iomem = memremap_iomem_regions();
}

/* Nothing mapped, claimed or referenced is left behind. */
#define EXPECT_BASELINE(b)						\
	do {								\
		EXPECT_EQ(memremap_mapped_pgmaps(), (b)->mapped);	\
		EXPECT_EQ(memremap_iomem_regions(), (b)->iomem);	\
		EXPECT_EQ(memremap_ledger_count(), (b)->ledger);	\
	} while (0)

/*
 * Teardown racing the driver's own allocation: @teardown(@drv) runs on
 * another thread, as a device removal would, while the case still holds
 * a page; gen_teardown_start() returns once @pgmap is dying (its ref
 * killed, memunmap_pages() waiting for the pages in use).
 */
struct gen_teardown {
	void (*teardown)(void *drv);
	void *drv;
	pthread_t thread;
};

static void *gen_teardown_thread(void *arg)
{
	struct gen_teardown *t = arg;

	t->teardown(t->drv);
	return NULL;
}

/*
 * While memunmap_pages() kills the ref, its switch to atomic mode is not
 * over at once; memremap_pgmap_pins() read in that window includes the
 * percpu bias (1 << 60, as the kernel's PERCPU_COUNT_BIAS). Wait for the
 * switch to finish, so that the pins a case reads are the pages'.
 */
#define GEN_PERCPU_BIASED	(1L << 40)

static inline void gen_teardown_start(struct gen_teardown *t,
				      struct dev_pagemap *pgmap)
{
	EXPECT_EQ(pthread_create(&t->thread, NULL, gen_teardown_thread, t),
		  0);
	while (!percpu_ref_is_dying(&pgmap->ref))
		sched_yield();
	while (memremap_pgmap_pins(pgmap) >= GEN_PERCPU_BIASED)
		sched_yield();
}

static inline void gen_teardown_join(struct gen_teardown *t)
{
	pthread_join(t->thread, NULL);
}

/* The generation's pgmap of @page, as that generation's driver reads it. */
static inline struct dev_pagemap *gen_page_pgmap(struct page *page)
{
#if MEMREMAP_GEN_MODERN
	return page_pgmap(page);
#else
	return page->pgmap;
#endif
}

#endif /* _GEN_CALLERS_H */
