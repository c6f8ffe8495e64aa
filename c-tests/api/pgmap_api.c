// SPDX-License-Identifier: GPL-2.0-only
/*
 * The pgmap API as a C caller sees it: the contract of docs/DESIGN.md §2
 * rule by rule, and §5's safe, loud answers to misuse. Every case checks refcounts,
 * page_free calls, pgmap pins and WARN counts; the harness checks leaks.
 */
#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/percpu-refcount.h>
#include <linux/slab.h>
#include <linux/err.h>
#include <linux/device.h>
#include <memremap/test.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>
#include "ktap.h"

#define SZ_2M	(2UL << 20)
#define SZ_1G	(1UL << 30)

static int freed;
static struct page *last_freed;

static void count_page_free(struct page *page)
{
	freed++;
	last_freed = page;
}

static vm_fault_t no_migrate(struct vm_fault *vmf)
{
	(void)vmf;
	return 0;
}

static const struct dev_pagemap_ops private_ops = {
	.page_free = count_page_free,
	.migrate_to_ram = no_migrate,
};

static int owner_cookie;

/* A pgmap with room for up to four ranges. */
struct pgmap4 {
	struct dev_pagemap pgmap;
	struct range more[3];
};

static void one_range(struct dev_pagemap *pgmap, enum memory_type type,
		      unsigned long start, unsigned long len)
{
	memset(pgmap, 0, sizeof(*pgmap));
	pgmap->type = type;
	pgmap->range.start = start;
	pgmap->range.end = start + len - 1;
	pgmap->nr_range = 1;
}

static void private_pgmap(struct dev_pagemap *pgmap, unsigned long start,
			  unsigned long len)
{
	one_range(pgmap, MEMORY_DEVICE_PRIVATE, start, len);
	pgmap->ops = &private_ops;
	pgmap->owner = &owner_cookie;
}

static long map_err(struct dev_pagemap *pgmap)
{
	void *p = memremap_pages(pgmap, 0);

	return IS_ERR(p) ? PTR_ERR(p) : (p ? 0 : -1);
}

KTAP_CASE(request_and_put_follow_the_contract)
{
	struct dev_pagemap pgmap;
	struct folio *folio, *again;
	unsigned long pfn0 = SZ_1G >> PAGE_SHIFT;
	int before = freed;

	private_pgmap(&pgmap, SZ_1G, 2 * SZ_2M);
	EXPECT_EQ(map_err(&pgmap), 0);
	EXPECT_EQ(memremap_pgmap_pins(&pgmap), 0);

	folio = pgmap_request_folio(&pgmap, 7, 0);
	EXPECT_NOT_NULL(folio);
	EXPECT_EQ(folio_ref_count(folio), 1);
	EXPECT_EQ(folio_pfn(folio), pfn0 + 7);
	EXPECT_PTR_EQ(folio->page.pgmap, &pgmap);
	EXPECT_PTR_EQ(folio_pgmap(folio), &pgmap);
	EXPECT_TRUE(is_zone_device_page(&folio->page));
	EXPECT_TRUE(is_device_private_page(&folio->page));
	EXPECT_EQ(memremap_pgmap_pins(&pgmap), 1);
	folio->page.zone_device_data = &owner_cookie;

	/* A folio already in use only gains a reference. */
	again = pgmap_request_folio(&pgmap, 7, 0);
	EXPECT_PTR_EQ(again, folio);
	EXPECT_EQ(folio_ref_count(folio), 2);
	EXPECT_EQ(memremap_pgmap_pins(&pgmap), 1);
	EXPECT_PTR_EQ(folio->page.zone_device_data, &owner_cookie);

	folio_put(folio);
	EXPECT_EQ(freed, before);
	put_page(&folio->page);
	/* The last put frees it: page_free once, mapping cleared, unpinned. */
	EXPECT_EQ(freed, before + 1);
	EXPECT_PTR_EQ(last_freed, &folio->page);
	EXPECT_NULL(folio->mapping);
	EXPECT_EQ(folio_ref_count(folio), 0);
	EXPECT_EQ(memremap_pgmap_pins(&pgmap), 0);

	/* Translations agree with each other and with the memmap. */
	EXPECT_EQ(pfn_to_pgmap_offset(&pgmap, pfn0 + 600), 600);
	EXPECT_EQ(pgmap_offset_to_pfn(&pgmap, 600), pfn0 + 600);
	EXPECT_PTR_EQ(pfn_to_page(pfn0 + 7), &folio->page);
	EXPECT_EQ(page_to_pfn(pfn_to_page(pfn0 + 1023)), pfn0 + 1023);
	EXPECT_TRUE(pgmap_pfn_valid(&pgmap, pfn0));
	EXPECT_FALSE(pgmap_pfn_valid(&pgmap, pfn0 + 1024));
	EXPECT_WARNS(0);

	memunmap_pages(&pgmap);
	EXPECT_FALSE(memremap_pgmap_is_mapped(&pgmap));
	EXPECT_EQ(memremap_mapped_pgmaps(), 0);
	EXPECT_WARNS(0);
}

KTAP_CASE(offsets_concatenate_ranges_in_array_order)
{
	struct pgmap4 p;
	struct dev_pagemap *pgmap = &p.pgmap;
	struct folio *folio;

	memset(&p, 0, sizeof(p));
	pgmap->type = MEMORY_DEVICE_GENERIC;
	pgmap->nr_range = 3;
	/* Array order is not address order. */
	pgmap->ranges[0] = (struct range){ 8 * SZ_1G, 8 * SZ_1G + SZ_2M - 1 };
	pgmap->ranges[1] = (struct range){ 2 * SZ_1G, 2 * SZ_1G + 2 * SZ_2M - 1 };
	pgmap->ranges[2] = (struct range){ 4 * SZ_1G, 4 * SZ_1G + SZ_2M - 1 };
	EXPECT_EQ(map_err(pgmap), 0);

	EXPECT_EQ(pgmap_offset_to_pfn(pgmap, 0), (8 * SZ_1G) >> PAGE_SHIFT);
	EXPECT_EQ(pgmap_offset_to_pfn(pgmap, 512), (2 * SZ_1G) >> PAGE_SHIFT);
	EXPECT_EQ(pgmap_offset_to_pfn(pgmap, 1536),
		  (4 * SZ_1G) >> PAGE_SHIFT);
	EXPECT_EQ(pgmap_offset_to_pfn(pgmap, 2048), -1UL);
	EXPECT_EQ(pfn_to_pgmap_offset(pgmap, ((4 * SZ_1G) >> PAGE_SHIFT) + 5),
		  1541);
	EXPECT_EQ(pfn_to_pgmap_offset(pgmap, (3 * SZ_1G) >> PAGE_SHIFT), -1UL);
	EXPECT_EQ(pfn_to_pgmap_offset(pgmap, -1UL), -1UL);

	folio = pgmap_request_folio(pgmap, 1541, 0);
	EXPECT_EQ(folio_pfn(folio), ((4 * SZ_1G) >> PAGE_SHIFT) + 5);
	/* No page_free: a GENERIC pgmap may have no ops. */
	folio_put(folio);
	EXPECT_EQ(memremap_pgmap_pins(pgmap), 0);
	EXPECT_WARNS(0);
	memunmap_pages(pgmap);
}

struct bad_map {
	const char *what;
	enum memory_type type;
	int nr_range;
	unsigned long start, len;
	bool ops, owner;
	long err;
	int warns;
};

KTAP_CASE(memremap_pages_validates_like_linux)
{
	static const struct bad_map table[] = {
		{ "no range", MEMORY_DEVICE_GENERIC, 0, SZ_1G, SZ_2M,
		  false, false, -EINVAL, 1 },
		{ "private without ops", MEMORY_DEVICE_PRIVATE, 1, SZ_1G,
		  SZ_2M, false, true, -EINVAL, 1 },
		{ "private without owner", MEMORY_DEVICE_PRIVATE, 1, SZ_1G,
		  SZ_2M, true, false, -EINVAL, 1 },
		{ "coherent without ops", MEMORY_DEVICE_COHERENT, 1, SZ_1G,
		  SZ_2M, false, true, -EINVAL, 1 },
		{ "empty range", MEMORY_DEVICE_GENERIC, 1, SZ_1G, 0,
		  false, false, -EINVAL, 0 },
		{ "misaligned start", MEMORY_DEVICE_GENERIC, 1,
		  SZ_1G + 4096, SZ_2M, false, false, -EINVAL, 1 },
		{ "misaligned length", MEMORY_DEVICE_GENERIC, 1, SZ_1G,
		  SZ_2M + 4096, false, false, -EINVAL, 1 },
		{ "past 2^52", MEMORY_DEVICE_GENERIC, 1, 1UL << 52, SZ_2M,
		  false, false, -E2BIG, 1 },
		{ "unknown type still maps", 42, 1, SZ_1G, SZ_2M,
		  false, false, 0, 1 },
		{ "last 2 MiB below 2^52", MEMORY_DEVICE_GENERIC, 1,
		  (1UL << 52) - SZ_2M, SZ_2M, false, false, 0, 0 },
	};
	unsigned int i;

	memremap_warn_quiet(true);
	for (i = 0; i < ARRAY_SIZE(table); i++) {
		const struct bad_map *t = &table[i];
		struct dev_pagemap pgmap;
		unsigned long w = memremap_warn_count();
		long err;

		one_range(&pgmap, t->type, t->start, t->len);
		pgmap.nr_range = t->nr_range;
		if (t->ops)
			pgmap.ops = &private_ops;
		if (t->owner)
			pgmap.owner = &owner_cookie;
		err = map_err(&pgmap);
		if (err != t->err || memremap_warn_count() - w != (unsigned long)t->warns)
			KTAP_FAIL("%s: error %ld (want %ld), %lu WARNs (want %d)",
				  t->what, err, t->err,
				  memremap_warn_count() - w, t->warns);
		if (!err)
			memunmap_pages(&pgmap);
	}
	memremap_warn_quiet(false);
}

KTAP_CASE(conflicts_and_partial_failures_map_nothing)
{
	struct dev_pagemap a;
	struct pgmap4 b;

	memremap_warn_quiet(true);
	one_range(&a, MEMORY_DEVICE_GENERIC, SZ_1G, 4 * SZ_2M);
	EXPECT_EQ(map_err(&a), 0);

	/* Range 1 overlaps a: the whole map fails, range 0 is undone. */
	memset(&b, 0, sizeof(b));
	b.pgmap.type = MEMORY_DEVICE_GENERIC;
	b.pgmap.nr_range = 2;
	b.pgmap.ranges[0] = (struct range){ 16 * SZ_1G, 16 * SZ_1G + SZ_2M - 1 };
	b.pgmap.ranges[1] = (struct range){ SZ_1G + SZ_2M, SZ_1G + 2 * SZ_2M - 1 };
	EXPECT_EQ(map_err(&b.pgmap), -ENOMEM);
	EXPECT_NULL(memremap_pfn_owner((16 * SZ_1G) >> PAGE_SHIFT));
	EXPECT_FALSE(memremap_pgmap_is_mapped(&b.pgmap));

	/* A pgmap's own ranges may not overlap either. */
	b.pgmap.ranges[1] = (struct range){ 16 * SZ_1G, 16 * SZ_1G + SZ_2M - 1 };
	EXPECT_EQ(map_err(&b.pgmap), -ENOMEM);

	/* An altmap with more than one range is refused. */
	b.pgmap.ranges[1] = (struct range){ 32 * SZ_1G, 32 * SZ_1G + SZ_2M - 1 };
	b.pgmap.flags = PGMAP_ALTMAP_VALID;
	EXPECT_EQ(map_err(&b.pgmap), -EINVAL);
	EXPECT_WARNS(3);

	/* Mapping twice is refused too. */
	EXPECT_EQ(map_err(&a), -EBUSY);
	EXPECT_WARNS(4);
	memunmap_pages(&a);
	memremap_warn_quiet(false);
}

KTAP_CASE(altmap_pfns_hold_the_memmap)
{
	struct dev_pagemap pgmap;
	unsigned long pfn0 = (2 * SZ_1G) >> PAGE_SHIFT;
	struct folio *folio;

	one_range(&pgmap, MEMORY_DEVICE_FS_DAX, 2 * SZ_1G, SZ_2M);
	pgmap.flags = PGMAP_ALTMAP_VALID;
	pgmap.altmap.base_pfn = pfn0;
	pgmap.altmap.reserve = 4;
	pgmap.altmap.free = 12;
	EXPECT_EQ(vmem_altmap_offset(pgmap_altmap(&pgmap)), 16);
	EXPECT_EQ(map_err(&pgmap), 0);
	EXPECT_FALSE(pgmap_pfn_valid(&pgmap, pfn0 + 15));
	EXPECT_TRUE(pgmap_pfn_valid(&pgmap, pfn0 + 16));
	EXPECT_FALSE(is_zone_device_page(pfn_to_page(pfn0 + 3)));
	/* Offsets still count the altmap's pfns. */
	EXPECT_EQ(pfn_to_pgmap_offset(&pgmap, pfn0 + 16), 16);

	memremap_warn_quiet(true);
	EXPECT_NULL(pgmap_request_folio(&pgmap, 3, 0));
	EXPECT_WARNS(1);
	memremap_warn_quiet(false);
	folio = pgmap_request_folio(&pgmap, 16, 0);
	EXPECT_NOT_NULL(folio);
	folio_put(folio);
	memunmap_pages(&pgmap);
}

KTAP_CASE(compound_pgmaps_are_made_of_folios)
{
	struct dev_pagemap pgmap;
	struct folio *folio;
	struct page *tail;

	one_range(&pgmap, MEMORY_DEVICE_GENERIC, 4 * SZ_1G, 4 * SZ_2M);
	pgmap.vmemmap_shift = 9;
	EXPECT_EQ(pgmap_vmemmap_nr(&pgmap), 512);
	EXPECT_EQ(map_err(&pgmap), 0);

	folio = pgmap_request_folio(&pgmap, 1024, 9);
	EXPECT_NOT_NULL(folio);
	EXPECT_EQ(folio_order(folio), 9);
	EXPECT_EQ(folio_nr_pages(folio), 512);
	EXPECT_TRUE(PageHead(&folio->page));
	tail = folio_page(folio, 300);
	EXPECT_TRUE(PageTail(tail));
	EXPECT_PTR_EQ(page_folio(tail), folio);
	EXPECT_PTR_EQ(folio_pgmap(page_folio(tail)), &pgmap);
	EXPECT_EQ(page_to_pfn(tail), folio_pfn(folio) + 300);
	EXPECT_PTR_EQ(folio_next(folio), page_folio(folio_page(folio, 512)));
	EXPECT_EQ(memremap_pgmap_pins(&pgmap), 1);

	/* get_page on a tail takes a reference on the folio. */
	get_page(tail);
	EXPECT_EQ(folio_ref_count(folio), 2);
	put_page(tail);
	EXPECT_EQ(folio_ref_count(folio), 1);

	memremap_warn_quiet(true);
	EXPECT_NULL(pgmap_request_folio(&pgmap, 1024, 0));
	EXPECT_NULL(pgmap_request_folio(&pgmap, 1025, 9));
	EXPECT_NULL(pgmap_request_folio(&pgmap, 0, -1));
	EXPECT_NULL(pgmap_request_folio(&pgmap, 0, 1 << 30));
	memremap_warn_quiet(false);
	EXPECT_TRUE(ktap_warns() >= 2);
	EXPECT_EQ(folio_ref_count(folio), 1);

	folio_put(folio);
	EXPECT_EQ(memremap_pgmap_pins(&pgmap), 0);
	memunmap_pages(&pgmap);
}

KTAP_CASE(get_dev_pagemap_pins_live_pgmaps)
{
	struct dev_pagemap pgmap, *got;
	unsigned long pfn0 = (3 * SZ_1G) >> PAGE_SHIFT;
	struct folio *folio;

	one_range(&pgmap, MEMORY_DEVICE_GENERIC, 3 * SZ_1G, SZ_2M);
	EXPECT_EQ(map_err(&pgmap), 0);
	got = get_dev_pagemap(pfn0 + 1, NULL);
	EXPECT_PTR_EQ(got, &pgmap);
	EXPECT_EQ(memremap_pgmap_pins(&pgmap), 1);
	/* The cached pgmap is reused while it covers the pfn... */
	EXPECT_PTR_EQ(get_dev_pagemap(pfn0 + 2, got), &pgmap);
	EXPECT_EQ(memremap_pgmap_pins(&pgmap), 1);
	/* ...and released when it does not. */
	EXPECT_NULL(get_dev_pagemap(pfn0 + 512, got));
	EXPECT_EQ(memremap_pgmap_pins(&pgmap), 0);
	EXPECT_NULL(get_dev_pagemap(pfn0 - 1, NULL));

	folio = pgmap_request_folio(&pgmap, 1, 0);
	percpu_ref_kill(&pgmap.ref);
	EXPECT_TRUE(percpu_ref_is_dying(&pgmap.ref));
	/* A dying pgmap is no longer handed out... */
	EXPECT_NULL(get_dev_pagemap(pfn0, NULL));
	/* ...and requests on it WARN and fail. */
	memremap_warn_quiet(true);
	EXPECT_NULL(pgmap_request_folio(&pgmap, 2, 0));
	EXPECT_NULL(pgmap_request_folio(&pgmap, 1, 0));
	memremap_warn_quiet(false);
	EXPECT_WARNS(1);
	EXPECT_EQ(folio_ref_count(folio), 1);
	folio_put(folio);
	EXPECT_TRUE(percpu_ref_is_zero(&pgmap.ref));
	memunmap_pages(&pgmap);
	EXPECT_WARNS(1);
}

KTAP_CASE(bad_pgmaps_warn_and_fail_safely)
{
	struct dev_pagemap never, gone;
	unsigned long w;

	memremap_warn_quiet(true);
	memset(&never, 0, sizeof(never));
	one_range(&never, MEMORY_DEVICE_GENERIC, SZ_1G, SZ_2M);

	w = memremap_warn_count();
	EXPECT_NULL(pgmap_request_folio(NULL, 0, 0));
	EXPECT_NULL(pgmap_request_folio(&never, 0, 0));
	EXPECT_EQ(pfn_to_pgmap_offset(&never, SZ_1G >> PAGE_SHIFT), -1UL);
	EXPECT_EQ(pgmap_offset_to_pfn(NULL, 0), -1UL);
	memunmap_pages(&never);
	memunmap_pages(NULL);
	put_dev_pagemap(NULL);	/* NULL is fine, as in the kernel */
	EXPECT_EQ(memremap_warn_count() - w, 6);

	/* Garbage in a never-mapped pgmap's ref is not followed. */
	memset(&never, 0xa5, sizeof(never));
	never.nr_range = 1;
	EXPECT_NULL(pgmap_request_folio(&never, 0, 0));

	one_range(&gone, MEMORY_DEVICE_GENERIC, SZ_1G, SZ_2M);
	EXPECT_EQ(map_err(&gone), 0);
	memunmap_pages(&gone);
	w = memremap_warn_count();
	EXPECT_NULL(pgmap_request_folio(&gone, 0, 0));
	EXPECT_EQ(pgmap_offset_to_pfn(&gone, 0), -1UL);
	memunmap_pages(&gone);
	EXPECT_EQ(memremap_warn_count() - w, 3);
	memremap_warn_quiet(false);
}

KTAP_CASE(bad_offsets_and_puts_warn_and_fail_safely)
{
	struct dev_pagemap pgmap;
	struct folio *folio;
	int before = freed;
	unsigned long w;

	memremap_warn_quiet(true);
	private_pgmap(&pgmap, 5 * SZ_1G, SZ_2M);
	EXPECT_EQ(map_err(&pgmap), 0);
	w = memremap_warn_count();
	EXPECT_NULL(pgmap_request_folio(&pgmap, 512, 0));
	EXPECT_NULL(pgmap_request_folio(&pgmap, -1UL, 0));
	EXPECT_NULL(pgmap_request_folio(&pgmap, 1UL << 52, 0));
	EXPECT_NULL(pgmap_request_folio(&pgmap,
					pfn_to_pgmap_offset(&pgmap, 0), 0));
	EXPECT_EQ(memremap_warn_count() - w, 4);
	/* 2^52 must not alias offset 0: nothing was activated. */
	EXPECT_EQ(memremap_pgmap_pins(&pgmap), 0);
	EXPECT_EQ(page_ref_count(pfn_to_page((5 * SZ_1G) >> PAGE_SHIFT)), 0);

	folio = pgmap_request_folio(&pgmap, 0, 0);
	folio_put(folio);
	EXPECT_EQ(freed, before + 1);
	w = memremap_warn_count();
	folio_put(folio);
	folio_get(folio);
	EXPECT_EQ(memremap_warn_count() - w, 2);
	EXPECT_EQ(folio_ref_count(folio), 0);
	EXPECT_EQ(freed, before + 1);
	EXPECT_EQ(memremap_pgmap_pins(&pgmap), 0);
	memunmap_pages(&pgmap);
	memremap_warn_quiet(false);
}

KTAP_CASE(pfn_to_page_of_no_pgmap_is_a_poison_page)
{
	struct page *page;

	memremap_warn_quiet(true);
	page = pfn_to_page(12345);
	EXPECT_WARNS(1);
	EXPECT_PTR_EQ(page, memremap_poison_page());
	EXPECT_FALSE(is_zone_device_page(page));
	EXPECT_EQ(page_to_pfn(page), -1UL);
	EXPECT_WARNS(2);
	memremap_warn_quiet(false);
}

KTAP_CASE(unmap_with_held_pages_gives_up_and_late_puts_are_safe)
{
	static struct dev_pagemap pgmap;	/* outlives the case */
	struct memremap_warn_record rec;
	struct folio *folio;
	int before = freed;

	private_pgmap(&pgmap, 6 * SZ_1G, SZ_2M);
	EXPECT_EQ(map_err(&pgmap), 0);
	folio = pgmap_request_folio(&pgmap, 9, 0);
	memremap_set_wait_bound_ms(50);
	memremap_warn_quiet(true);
	memunmap_pages(&pgmap);
	memremap_warn_quiet(false);
	memremap_set_wait_bound_ms(10000);
	EXPECT_WARNS(1);
	EXPECT_TRUE(memremap_warn_last(&rec));
	EXPECT_TRUE(strstr(rec.message, "pfn 0x180009") != NULL);
	EXPECT_TRUE(memremap_pgmap_is_abandoned(&pgmap));
	/* The late put frees the page; nothing is used after free. */
	folio_put(folio);
	EXPECT_EQ(freed, before + 1);
	EXPECT_EQ(folio_ref_count(folio), 0);
	EXPECT_TRUE(percpu_ref_is_zero(&pgmap.ref));
}

KTAP_CASE(pre_patch_request_folios_and_release_folios)
{
	struct dev_pagemap pgmap;
	struct folio *folio;
	unsigned long pfn0 = (7 * SZ_1G) >> PAGE_SHIFT;
	int i;

	one_range(&pgmap, MEMORY_DEVICE_GENERIC, 7 * SZ_1G, 4 * SZ_2M);
	pgmap.vmemmap_shift = 2;
	EXPECT_EQ(map_err(&pgmap), 0);
	folio = page_folio(pfn_to_page(pfn0 + 8));
	EXPECT_TRUE(pgmap_request_folios(&pgmap, folio, 3));
	for (i = 0; i < 3; i++)
		EXPECT_EQ(folio_ref_count(page_folio(pfn_to_page(pfn0 + 8 + 4 * i))), 1);
	EXPECT_EQ(folio_ref_count(page_folio(pfn_to_page(pfn0 + 20))), 0);
	EXPECT_EQ(memremap_pgmap_pins(&pgmap), 3);
	pgmap_release_folios(folio, 3);
	EXPECT_EQ(memremap_pgmap_pins(&pgmap), 0);
	/* A span running past the pgmap is refused before any count moves. */
	memremap_warn_quiet(true);
	folio = page_folio(pfn_to_page(pfn0 + 2044));
	EXPECT_FALSE(pgmap_request_folios(&pgmap, folio, 2));
	memremap_warn_quiet(false);
	EXPECT_WARNS(1);
	EXPECT_EQ(folio_ref_count(folio), 0);
	memunmap_pages(&pgmap);
}

KTAP_CASE(devm_maps_go_with_their_device)
{
	struct device dev = { .init_name = "test" };
	struct dev_pagemap a, b;

	one_range(&a, MEMORY_DEVICE_GENERIC, 10 * SZ_1G, SZ_2M);
	one_range(&b, MEMORY_DEVICE_GENERIC, 11 * SZ_1G, SZ_2M);
	EXPECT_FALSE(IS_ERR(devm_memremap_pages(&dev, &a)));
	EXPECT_FALSE(IS_ERR(devm_memremap_pages(&dev, &b)));
	devm_memunmap_pages(&dev, &a);
	EXPECT_FALSE(memremap_pgmap_is_mapped(&a));
	EXPECT_TRUE(memremap_pgmap_is_mapped(&b));
	devres_release_all(&dev);
	EXPECT_FALSE(memremap_pgmap_is_mapped(&b));
	EXPECT_WARNS(0);
}

static int released;

static void count_release(struct percpu_ref *ref)
{
	(void)ref;
	released++;
}

KTAP_CASE(percpu_ref_lifecycle)
{
	struct percpu_ref ref;

	EXPECT_EQ(percpu_ref_init(&ref, count_release, 0, GFP_KERNEL), 0);
	percpu_ref_get(&ref);
	EXPECT_TRUE(percpu_ref_tryget_live(&ref));
	EXPECT_EQ(memremap_percpu_ref_count(&ref), 3);
	percpu_ref_put_many(&ref, 2);
	EXPECT_FALSE(percpu_ref_is_zero(&ref));
	percpu_ref_kill(&ref);
	EXPECT_TRUE(percpu_ref_is_dying(&ref));
	EXPECT_EQ(released, 1);
	EXPECT_TRUE(percpu_ref_is_zero(&ref));
	EXPECT_FALSE(percpu_ref_tryget(&ref));
	EXPECT_FALSE(percpu_ref_tryget_live(&ref));
	memremap_warn_quiet(true);
	percpu_ref_kill(&ref);
	percpu_ref_put(&ref);
	memremap_warn_quiet(false);
	EXPECT_WARNS(2);
	EXPECT_EQ(released, 1);
	percpu_ref_exit(&ref);
}

struct racer {
	struct dev_pagemap *pgmap;
	pgoff_t offset;
	int loops;
	int failures;
};

static void *race(void *arg)
{
	struct racer *r = arg;
	int i;

	for (i = 0; i < r->loops; i++) {
		/* Alternate a shared folio with this thread's own. */
		pgoff_t off = (i & 1) ? r->offset : 0;
		struct folio *folio = pgmap_request_folio(r->pgmap, off, 0);

		if (!folio) {
			r->failures++;
			continue;
		}
		folio_put(folio);
	}
	return NULL;
}

KTAP_CASE(two_threads_race_request_and_put)
{
	struct dev_pagemap pgmap;
	struct racer r[2];
	pthread_t t[2];
	int before = freed, i;

	private_pgmap(&pgmap, 12 * SZ_1G, SZ_2M);
	EXPECT_EQ(map_err(&pgmap), 0);
	for (i = 0; i < 2; i++) {
		r[i] = (struct racer){ &pgmap, 1 + i, 50000, 0 };
		pthread_create(&t[i], NULL, race, &r[i]);
	}
	for (i = 0; i < 2; i++) {
		pthread_join(t[i], NULL);
		EXPECT_EQ(r[i].failures, 0);
	}
	EXPECT_EQ(memremap_pgmap_pins(&pgmap), 0);
	for (i = 0; i < 3; i++)
		EXPECT_EQ(page_ref_count(pfn_to_page(((12 * SZ_1G) >> PAGE_SHIFT) + i)), 0);
	/* Each activation was freed exactly once: frees equal activations. */
	EXPECT_TRUE(freed - before >= 50000);
	EXPECT_WARNS(0);
	memunmap_pages(&pgmap);
}

struct locker {
	struct page *page;
	volatile int got;
};

static void *lock_it(void *arg)
{
	struct locker *l = arg;

	lock_page(l->page);
	l->got = 1;
	unlock_page(l->page);
	return NULL;
}

KTAP_CASE(lock_page_blocks_until_unlock)
{
	struct dev_pagemap pgmap;
	struct locker l;
	struct folio *folio;
	pthread_t t;

	one_range(&pgmap, MEMORY_DEVICE_GENERIC, 13 * SZ_1G, SZ_2M);
	EXPECT_EQ(map_err(&pgmap), 0);
	folio = pgmap_request_folio(&pgmap, 0, 0);
	lock_page(&folio->page);
	EXPECT_TRUE(PageLocked(&folio->page));
	EXPECT_FALSE(trylock_page(&folio->page));
	l = (struct locker){ &folio->page, 0 };
	pthread_create(&t, NULL, lock_it, &l);
	usleep(20000);
	EXPECT_EQ(l.got, 0);
	unlock_page(&folio->page);
	pthread_join(t, NULL);
	EXPECT_EQ(l.got, 1);
	EXPECT_FALSE(PageLocked(&folio->page));
	memremap_warn_quiet(true);
	unlock_page(&folio->page);
	memremap_warn_quiet(false);
	EXPECT_WARNS(1);
	folio_put(folio);
	memunmap_pages(&pgmap);
}

KTAP_CASE(kmalloc_counts_and_fails_on_demand)
{
	unsigned long live = memremap_kmalloc_live();
	void *a, *b;

	a = kzalloc(64, GFP_KERNEL);
	EXPECT_NOT_NULL(a);
	EXPECT_EQ(((char *)a)[63], 0);
	EXPECT_EQ(memremap_kmalloc_live(), live + 1);
	memremap_kmalloc_fail_nth(2);
	b = kmalloc(8, GFP_KERNEL);
	EXPECT_NOT_NULL(b);
	EXPECT_NULL(kmalloc(8, GFP_KERNEL));
	EXPECT_NOT_NULL(a);
	kfree(b);
	kfree(a);
	EXPECT_NULL(kcalloc(-1UL / 2, 4, GFP_KERNEL));
	memremap_warn_quiet(true);
	kfree(a);
	memremap_warn_quiet(false);
	EXPECT_WARNS(1);
	EXPECT_EQ(memremap_kmalloc_live(), live);
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

KTAP_CASE(a_pebibyte_pgmap_costs_what_it_touches)
{
	struct dev_pagemap pgmap;
	unsigned long bytes = memremap_memmap_bytes();
	struct folio *folio;
	double t0, t1;

	one_range(&pgmap, MEMORY_DEVICE_GENERIC, 1UL << 50, 1UL << 50);
	pgmap.range.end = (1UL << 51) - 1;
	t0 = now_us();
	EXPECT_EQ(map_err(&pgmap), 0);
	t1 = now_us();
	folio = pgmap_request_folio(&pgmap, (1UL << 38) - 1, 0);
	EXPECT_NOT_NULL(folio);
	EXPECT_EQ(folio_pfn(folio), (1UL << 39) - 1);
	/* One chunk of 512 pages and its index: well under 1 MiB. */
	EXPECT_TRUE(memremap_memmap_bytes() - bytes < (1UL << 20));
	printf("    # 1 PiB memremap_pages: %.1f us, memmap grew by %lu KiB\n",
	       t1 - t0, (memremap_memmap_bytes() - bytes) >> 10);
	folio_put(folio);
	memunmap_pages(&pgmap);
}

KTAP_MAIN("pgmap_api",
	  KTAP_ENTRY(request_and_put_follow_the_contract),
	  KTAP_ENTRY(offsets_concatenate_ranges_in_array_order),
	  KTAP_ENTRY(memremap_pages_validates_like_linux),
	  KTAP_ENTRY(conflicts_and_partial_failures_map_nothing),
	  KTAP_ENTRY(altmap_pfns_hold_the_memmap),
	  KTAP_ENTRY(compound_pgmaps_are_made_of_folios),
	  KTAP_ENTRY(get_dev_pagemap_pins_live_pgmaps),
	  KTAP_ENTRY(bad_pgmaps_warn_and_fail_safely),
	  KTAP_ENTRY(bad_offsets_and_puts_warn_and_fail_safely),
	  KTAP_ENTRY(pfn_to_page_of_no_pgmap_is_a_poison_page),
	  KTAP_ENTRY(unmap_with_held_pages_gives_up_and_late_puts_are_safe),
	  KTAP_ENTRY(pre_patch_request_folios_and_release_folios),
	  KTAP_ENTRY(devm_maps_go_with_their_device),
	  KTAP_ENTRY(percpu_ref_lifecycle),
	  KTAP_ENTRY(two_threads_race_request_and_put),
	  KTAP_ENTRY(lock_page_blocks_until_unlock),
	  KTAP_ENTRY(kmalloc_counts_and_fails_on_demand),
	  KTAP_ENTRY(a_pebibyte_pgmap_costs_what_it_touches))
