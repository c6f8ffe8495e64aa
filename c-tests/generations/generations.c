// SPDX-License-Identifier: GPL-2.0-only
/*
 * The contract of each API generation (docs/DESIGN.md §9), one program
 * built once per generation (generations.mk): zone_device_page_init() and
 * zone_device_folio_init() at order 0 and 9, refcounts and pgmap pins, the
 * free callback and the pins it drops, a dying pgmap, re-initialisation at
 * another order (6.19) against what 6.19-rc leaves behind, folio_split.
 * Differences between generations are asserted, and the 6.19-rc defects
 * are stated as FINDING lines.
 */
#include <linux/version.h>
#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/atomic.h>
#include <linux/err.h>
#include <memremap/generation.h>
#include <memremap/test.h>
#include <pthread.h>
#include <sched.h>
#include "ktap.h"

#ifndef GEN_EXPECT
#error "GEN_EXPECT: the MEMREMAP_GEN_* this build is for (generations.mk)"
#endif

#define SZ_2M	(2UL << 20)

static int freed;
static void *last_freed;

#if MEMREMAP_GEN >= MEMREMAP_GEN_6_19_RC
static unsigned int freed_order;

static void count_free(struct folio *folio)
{
	freed++;
	last_freed = folio;
	freed_order = folio_order(folio);
}

static int split_calls;
static struct folio *split_head, *split_tail;

static void count_split(struct folio *head, struct folio *tail)
{
	split_calls++;
	split_head = head;
	split_tail = tail;
}
#else
static void count_free(struct page *page)
{
	freed++;
	last_freed = page;
}
#endif

static vm_fault_t no_migrate(struct vm_fault *vmf)
{
	(void)vmf;
	return 0;
}

static const struct dev_pagemap_ops gen_ops = {
#if MEMREMAP_GEN >= MEMREMAP_GEN_6_19_RC
	.folio_free = count_free,
	.folio_split = count_split,
#else
	.page_free = count_free,
#endif
	.migrate_to_ram = no_migrate,
};

static int owner;
/* Each case maps its own 4 MiB, so a pgmap left mapped stays apart. */
static unsigned long next_base = 64UL << 30;
/*
 * The pgmaps outlive their cases: one a 6.19-rc case cannot unmap (its
 * pins are unbalanced) stays registered, and must stay valid memory.
 */
static struct dev_pagemap pool[16];
static unsigned int pool_used;

static struct dev_pagemap *new_pgmap(void)
{
	return &pool[pool_used++ % 16];
}

#define WAIT_BOUND_MS	10000

static unsigned long map_private(struct dev_pagemap *pgmap)
{
	void *va;

	memset(pgmap, 0, sizeof(*pgmap));
	pgmap->type = MEMORY_DEVICE_PRIVATE;
	pgmap->range.start = next_base;
	pgmap->range.end = next_base + 2 * SZ_2M - 1;
	pgmap->nr_range = 1;
	pgmap->ops = &gen_ops;
	pgmap->owner = &owner;
	next_base += 2 * SZ_2M;
	freed = 0;
	last_freed = NULL;
	va = memremap_pages(pgmap, 0);
	EXPECT_FALSE(IS_ERR(va));
	return pgmap->range.start >> PAGE_SHIFT;
}

/* The pgmap of a page as this generation's driver reads it. */
static struct dev_pagemap *pgmap_of(struct page *page)
{
#if MEMREMAP_GEN_MODERN
	return page_pgmap(page);
#else
	return page->pgmap;
#endif
}

/* Bring an idle folio to life, as this generation's driver does. */
static void init_folio(struct folio *folio, struct dev_pagemap *pgmap,
		       unsigned int order)
{
#if MEMREMAP_GEN == MEMREMAP_GEN_6_19
	zone_device_folio_init(folio, pgmap, order);
#elif MEMREMAP_GEN == MEMREMAP_GEN_6_19_RC
	(void)pgmap;
	zone_device_folio_init(folio, order);
#else
	(void)pgmap;
	(void)order;
	zone_device_page_init(&folio->page);
#endif
}

static struct folio *folio_at(unsigned long pfn)
{
	return page_folio(pfn_to_page(pfn));
}

KTAP_CASE(the_mode_is_the_generation_asked_for)
{
	struct dev_pagemap *pg = new_pgmap();

	EXPECT_EQ(MEMREMAP_GEN, GEN_EXPECT);
	EXPECT_EQ(LINUX_VERSION_CODE, MEMREMAP_LINUX);
	EXPECT_EQ(KERNEL_VERSION(6, 19, 0), 0x061300);
	map_private(pg);
	EXPECT_EQ(memremap_pgmap_generation(pg), GEN_EXPECT);
	memunmap_pages(pg);
	EXPECT_WARNS(0);
}

KTAP_CASE(order0_init_then_last_put_frees_and_unpins)
{
	struct dev_pagemap *pg = new_pgmap();
	unsigned long pfn = map_private(pg) + 5;
	struct folio *folio = folio_at(pfn);
	struct page *page = &folio->page;

	EXPECT_EQ(folio_ref_count(folio), 0);
	EXPECT_PTR_EQ(pgmap_of(page), pg);
	init_folio(folio, pg, 0);
	EXPECT_EQ(folio_ref_count(folio), 1);
	EXPECT_TRUE(folio_test_locked(folio));
	EXPECT_EQ(memremap_pgmap_pins(pg), 1);
	EXPECT_FALSE(folio_test_large(folio));
	EXPECT_EQ(folio_nr_pages(folio), 1);
	EXPECT_PTR_EQ(pgmap_of(page), pg);
#if MEMREMAP_GEN_MODERN
	EXPECT_PTR_EQ(folio->pgmap, pg);
#endif
	page->mapping = (struct address_space *)0x1000;
	folio_unlock(folio);
	folio_put(folio);
	EXPECT_EQ(freed, 1);
	EXPECT_PTR_EQ(last_freed, folio);
	EXPECT_EQ(folio_ref_count(folio), 0);
	EXPECT_EQ(memremap_pgmap_pins(pg), 0);
	EXPECT_NULL(page->mapping);
	memunmap_pages(pg);
	EXPECT_WARNS(0);
}

/*
 * memunmap_pages() while a page is in use: the pgmap is dying. 6.1 and
 * 6.15 take a live reference for the next page, which fails: WARN, and the
 * page is handed out all the same; its free then drops a pin it never took
 * (WARNed), the first page's, so memunmap_pages() finishes while the first
 * page is still in use, and that page's own put finds its memmap gone
 * (WARNed). 6.19-rc and 6.19 use percpu_ref_tryget_many(), which succeeds
 * while the first page still holds references: no WARN, and the unmap
 * finishes at the last put.
 */
static void *unmap_thread(void *arg)
{
	memunmap_pages(arg);
	return NULL;
}

KTAP_CASE(init_on_a_dying_pgmap)
{
	struct dev_pagemap *pg = new_pgmap();
	unsigned long pfn = map_private(pg);
	struct folio *a = folio_at(pfn), *b = folio_at(pfn + 1);
	pthread_t t;

	init_folio(a, pg, 0);
	folio_unlock(a);
	EXPECT_EQ(pthread_create(&t, NULL, unmap_thread, pg), 0);
	while (!percpu_ref_is_dying(&pg->ref))
		sched_yield();
	memremap_warn_quiet(true);
	init_folio(b, pg, 0);
	EXPECT_EQ(folio_ref_count(b), 1);
	EXPECT_TRUE(folio_test_locked(b));
	folio_unlock(b);
#if MEMREMAP_GEN >= MEMREMAP_GEN_6_19_RC
	EXPECT_WARNS(0);
	EXPECT_EQ(memremap_pgmap_pins(pg), 2);
	folio_put(b);
	EXPECT_TRUE(memremap_pgmap_is_mapped(pg));
	folio_put(a);
	pthread_join(t, NULL);
	EXPECT_WARNS(0);
	EXPECT_EQ(freed, 2);
#else
	EXPECT_WARNS(1);
	EXPECT_EQ(memremap_pgmap_pins(pg), 1);
	folio_put(b);
	pthread_join(t, NULL);
	EXPECT_WARNS(2);
	EXPECT_FALSE(memremap_pgmap_is_mapped(pg));
	EXPECT_EQ(freed, 1);
	folio_put(a);
	EXPECT_WARNS(3);
	EXPECT_EQ(freed, 1);
	printf("    # FINDING %s: zone_device_page_init() on a dying pgmap "
	       "WARNs and hands the page out; its free drops a pin it never "
	       "took, so memunmap_pages() completes under a page still in "
	       "use\n", GEN_SUITE);
#endif
	EXPECT_FALSE(memremap_pgmap_is_mapped(pg));
	memremap_warn_quiet(false);
}

/*
 * A compound pgmap (vmemmap_shift 9, device-dax style): its memmap is
 * laid out as the generation's kernel lays it out, PG_head at bit 16 and
 * the order in the first tail's compound_order in 6.1, PG_head at bit 6
 * and the order in the low byte of _flags_1 from 6.15 on.
 */
KTAP_CASE(compound_pgmap_memmap_layout)
{
	struct dev_pagemap *pg = new_pgmap();
	unsigned long pfn, i, bad = 0;
	struct folio *folio;

	memset(pg, 0, sizeof(*pg));
	pg->type = MEMORY_DEVICE_GENERIC;
	pg->vmemmap_shift = HPAGE_PMD_ORDER;
	pg->range.start = next_base;
	pg->range.end = next_base + 2 * SZ_2M - 1;
	pg->nr_range = 1;
	next_base += 2 * SZ_2M;
	EXPECT_FALSE(IS_ERR(memremap_pages(pg, 0)));
	pfn = (pg->range.start >> PAGE_SHIFT) + HPAGE_PMD_NR;
	folio = folio_at(pfn);
	EXPECT_TRUE(folio_test_large(folio));
	EXPECT_EQ(folio_order(folio), HPAGE_PMD_ORDER);
	EXPECT_EQ(folio_nr_pages(folio), HPAGE_PMD_NR);
#if MEMREMAP_GEN_MODERN
	EXPECT_EQ(folio->flags & ((1UL << 6) | (1UL << 16)), 1UL << 6);
	EXPECT_EQ(folio->_flags_1 & 0xff, HPAGE_PMD_ORDER);
	EXPECT_EQ(folio->_nr_pages, HPAGE_PMD_NR);
	EXPECT_PTR_EQ(folio->pgmap, pg);
	EXPECT_PTR_EQ(folio->_deferred_list.prev, &folio->_deferred_list);
#else
	EXPECT_EQ(folio->flags & ((1UL << 6) | (1UL << 16)), 1UL << 16);
	EXPECT_EQ(folio->_folio_order, HPAGE_PMD_ORDER);
	EXPECT_EQ(folio->_folio_nr_pages, HPAGE_PMD_NR);
#endif
	for (i = 1; i < HPAGE_PMD_NR; i++) {
		struct page *t = pfn_to_page(pfn + i);

		bad += t->compound_head != (unsigned long)&folio->page + 1;
		bad += page_folio(t) != folio;
		bad += pgmap_of(&page_folio(t)->page) != pg;
	}
	EXPECT_EQ(bad, 0);
	memunmap_pages(pg);
	EXPECT_WARNS(0);
}

#if MEMREMAP_GEN >= MEMREMAP_GEN_6_19_RC
#define TAIL_MAPPING_PTR ((struct address_space *)0xdead000000000400UL)

KTAP_CASE(order9_folio_metadata_as_the_kernel_lays_it_out)
{
	struct dev_pagemap *pg = new_pgmap();
	unsigned long pfn = map_private(pg);
	struct folio *folio = folio_at(pfn);
	struct page *head = &folio->page;
	unsigned long i, bad = 0;

	init_folio(folio, pg, HPAGE_PMD_ORDER);
	EXPECT_EQ(HPAGE_PMD_ORDER, 9);
	EXPECT_EQ(ilog2(HPAGE_PMD_NR), HPAGE_PMD_ORDER);
	EXPECT_TRUE(folio_test_large(folio));
	EXPECT_TRUE(folio_test_large_rmappable(folio));
	EXPECT_EQ(folio_order(folio), 9);
	EXPECT_EQ(folio_nr_pages(folio), HPAGE_PMD_NR);
	EXPECT_EQ(folio->flags & (1UL << 6), 1UL << 6);
	EXPECT_EQ(folio->_flags_1 & 0xff, 9);
	EXPECT_EQ(folio->_nr_pages, 512);
	EXPECT_EQ(atomic_read(&folio->_large_mapcount), -1);
	EXPECT_EQ(atomic_read(&folio->_entire_mapcount), -1);
	EXPECT_EQ(atomic_read(&folio->_pincount), 0);
	EXPECT_PTR_EQ(folio->_deferred_list.next, &folio->_deferred_list);
	EXPECT_PTR_EQ(folio->pgmap, pg);
	EXPECT_EQ(folio_ref_count(folio), 1);
	EXPECT_TRUE(folio_test_locked(folio));
	EXPECT_EQ(memremap_pgmap_pins(pg), HPAGE_PMD_NR);
	for (i = 1; i < HPAGE_PMD_NR; i++) {
		struct page *t = pfn_to_page(pfn + i);

		bad += t->compound_head != (unsigned long)head + 1;
		bad += page_folio(t) != folio;
		bad += page_pgmap(t) != pg;
		bad += page_ref_count(t) != 0;
		bad += i >= 3 && t->mapping != TAIL_MAPPING_PTR;
	}
	EXPECT_EQ(bad, 0);
	folio_set_zone_device_data(folio, &owner);
	EXPECT_PTR_EQ(folio_zone_device_data(folio), &owner);
	folio_unlock(folio);
	folio_put(folio);
	EXPECT_EQ(freed, 1);
	EXPECT_PTR_EQ(last_freed, folio);
	EXPECT_EQ(freed_order, 9);
	EXPECT_EQ(memremap_pgmap_pins(pg), 0);
	/* A freed large folio stays compound, at refcount 0. */
	EXPECT_TRUE(folio_test_large(folio));
	EXPECT_PTR_EQ(page_folio(pfn_to_page(pfn + 7)), folio);
	EXPECT_EQ(folio_ref_count(folio), 0);
	memunmap_pages(pg);
	EXPECT_WARNS(0);
}

/*
 * The pages of a freed order-9 folio handed out again as order-0 folios,
 * the head and its second page. 6.19 resets each page first: both are
 * single pages, one pin each, and free as such. 6.19-rc leaves the old
 * compound metadata: the head still reads as order 9, so its free drops
 * 512 pins for the 1 taken; the second page's folio is still the old
 * head, so its init counts and locks the wrong page.
 */
KTAP_CASE(reinit_a_freed_large_folio_at_order0)
{
	struct dev_pagemap *pg = new_pgmap();
	unsigned long pfn = map_private(pg);
	struct folio *folio = folio_at(pfn);
	struct page *p1 = pfn_to_page(pfn + 1);

	init_folio(folio, pg, 9);
	folio_unlock(folio);
	folio_put(folio);
	EXPECT_EQ(freed, 1);
	memremap_set_wait_bound_ms(20);
	memremap_warn_quiet(true);
	init_folio(folio, pg, 0);
	init_folio((struct folio *)p1, pg, 0);
#if MEMREMAP_GEN == MEMREMAP_GEN_6_19
	EXPECT_FALSE(folio_test_large(folio));
	EXPECT_EQ(folio_nr_pages(folio), 1);
	EXPECT_PTR_EQ(page_folio(p1), (struct folio *)p1);
	EXPECT_PTR_EQ(page_pgmap(p1), pg);
	EXPECT_EQ(page_ref_count(p1), 1);
	EXPECT_TRUE(folio_test_locked(folio));
	EXPECT_TRUE(PageLocked(p1));
	EXPECT_EQ(memremap_pgmap_pins(pg), 2);
	folio_unlock(folio);
	unlock_page(p1);
	folio_put(folio);
	folio_put(page_folio(p1));
	EXPECT_EQ(freed, 3);
	EXPECT_EQ(freed_order, 0);
	EXPECT_EQ(memremap_pgmap_pins(pg), 0);
	EXPECT_WARNS(0);
	memunmap_pages(pg);
	EXPECT_WARNS(0);
#else
	/* The second page's folio is still the old head: it is locked. */
	EXPECT_TRUE(folio_test_large(folio));
	EXPECT_EQ(folio_nr_pages(folio), 512);
	EXPECT_PTR_EQ(page_folio(p1), folio);
	EXPECT_EQ(memremap_pgmap_pins(pg), 2);
	/* lock_page(p1) waited on the old head, locked by its own init. */
	EXPECT_WARNS(1);
	folio_unlock(folio);
	folio_put(folio);
	EXPECT_EQ(freed, 2);
	EXPECT_EQ(freed_order, 9);
	/*
	 * 512 pins dropped for the 1 taken: WARNed. The pgmap's ref is in
	 * percpu mode, which (as the kernel's) cannot see the count go
	 * below zero until it is killed.
	 */
	EXPECT_WARNS(2);
	EXPECT_EQ(memremap_pgmap_pins(pg), 2 - 512);
	printf("    # FINDING %s: 6.19-rc: a freed order-9 folio's pages "
	       "re-initialised at order 0 keep the old compound metadata: "
	       "the head frees as order 9 (512 pins dropped for 1 taken), "
	       "page 1 still resolves to the old head\n", GEN_SUITE);
#endif
	memremap_warn_quiet(false);
	memremap_set_wait_bound_ms(WAIT_BOUND_MS);
}

KTAP_CASE(folio_split_callback)
{
	struct dev_pagemap *pg = new_pgmap();
	unsigned long pfn = map_private(pg);
	struct folio *folio = folio_at(pfn);
	struct folio *tail = (struct folio *)pfn_to_page(pfn + 256);

	init_folio(folio, pg, 9);
	split_calls = 0;
	zone_device_private_split_cb(folio, tail);
	EXPECT_EQ(split_calls, 1);
	EXPECT_PTR_EQ(split_head, folio);
	EXPECT_PTR_EQ(split_tail, tail);
	folio_unlock(folio);
	folio_put(folio);
	EXPECT_EQ(memremap_pgmap_pins(pg), 0);
	memunmap_pages(pg);
	EXPECT_WARNS(0);
}
#endif

#if MEMREMAP_GEN >= MEMREMAP_GEN_6_19_RC
#define LARGE_CASES							\
	KTAP_ENTRY(order9_folio_metadata_as_the_kernel_lays_it_out),	\
	KTAP_ENTRY(reinit_a_freed_large_folio_at_order0),		\
	KTAP_ENTRY(folio_split_callback),
#else
#define LARGE_CASES
#endif

KTAP_MAIN(GEN_SUITE,
	  KTAP_ENTRY(the_mode_is_the_generation_asked_for),
	  KTAP_ENTRY(order0_init_then_last_put_frees_and_unpins),
	  KTAP_ENTRY(init_on_a_dying_pgmap),
	  KTAP_ENTRY(compound_pgmap_memmap_layout),
	  LARGE_CASES)
