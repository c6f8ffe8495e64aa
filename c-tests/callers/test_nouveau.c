// SPDX-License-Identifier: GPL-2.0-only
/*
 * nouveau_dmem_page_alloc_locked() (drivers/gpu/drm/nouveau/
 * nouveau_dmem.c), before and after the patch, driven through its real
 * allocation and free paths: chunks of 2 MiB, each a DEVICE_PRIVATE pgmap
 * over free physical address space with a pinned VRAM buffer object; the
 * free list threaded through zone_device_data; nouveau_dmem_page_free().
 */
#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/percpu-refcount.h>
#include <memremap/test.h>
#include "ktap.h"
#include "callers_test.h"
#include "nouveau_drv.h"

#define CHUNK_SIZE	(2UL << 20)
#define CHUNK_PAGES	(CHUNK_SIZE >> PAGE_SHIFT)

struct world {
	const struct nouveau_dmem_api *api;
	struct device dev;
	struct nouveau_drm drm;
};

/* A drm device with VRAM for @chunks chunks. */
static struct world *world_new(const struct nouveau_dmem_api *api,
			       unsigned long chunks)
{
	struct world *w = calloc(1, sizeof(*w));

	w->api = api;
	w->dev.init_name = "nouveau";
	w->drm.dev = &w->dev;
	w->drm.client.vram_left = chunks * CHUNK_SIZE;
	EXPECT_EQ(api->init(&w->drm), 0);
	EXPECT_EQ(api->chunk_npages, CHUNK_PAGES);
	return w;
}

/* nouveau_dmem_fini(): every chunk unmapped, promptly. */
static void world_free(struct world *w)
{
	EXPECT_UNMAPS_PROMPTLY(w->api->fini(&w->drm));
	EXPECT_EQ(memremap_mapped_pgmaps(), 0);
	EXPECT_EQ(callers_regions_live(), 0);
	EXPECT_EQ(w->drm.client.bos_live, 0);
	free(w);
}

/*
 * The first pfn of the first chunk: the start of the region
 * request_free_mem_region() gave it.
 */
static unsigned long base_pfn(void)
{
	return callers_region_pfn("nouveau_dmem");
}

/*
 * Pages on the free list; -1 if a page is on it twice (a page_free that
 * ran twice) or the list does not end.
 */
static long free_list_len(struct world *w)
{
	unsigned long cap = 1 << 16, n = 0, i;
	unsigned long *seen = calloc(cap, sizeof(*seen));
	struct page *page;
	long ret;

	for (page = w->drm.dmem->free_pages; page && n < cap;
	     page = page->zone_device_data) {
		unsigned long pfn = page_to_pfn(page);

		for (i = 0; i < n; i++)
			if (seen[i] == pfn)
				break;
		if (i < n)
			break;
		seen[n++] = pfn;
	}
	ret = page ? -1 : (long)n;
	free(seen);
	return ret;
}

static void success_path(const void *arg)
{
	const struct nouveau_dmem_api *api = arg;
	struct world *w = world_new(api, 4);
	struct page *page, *next;
	struct dev_pagemap *pgmap;
	unsigned long base;

	page = api->page_alloc_locked(&w->drm);
	EXPECT_NOT_NULL(page);
	if (!page)
		goto out;
	pgmap = api->chunk_pgmap(page);
	/* A new chunk: its last page is handed out, the rest are free. */
	EXPECT_EQ(api->nr_chunks(&w->drm), 1);
	EXPECT_EQ(callers_regions_live(), 1);
	base = base_pfn();
	EXPECT_EQ(page_to_pfn(page), base + CHUNK_PAGES - 1);
	EXPECT_TRUE(PageLocked(page));
	EXPECT_EQ(page_ref_count(page), 1);
	EXPECT_EQ(memremap_pgmap_pins(pgmap), 1);
	EXPECT_PTR_EQ(folio_pgmap(page_folio(page)), pgmap);
	EXPECT_PTR_EQ(pgmap->owner, &w->dev);
	EXPECT_TRUE(is_device_private_page(page));
	EXPECT_EQ(api->chunk_callocated(page), 1);
	EXPECT_EQ(free_list_len(w), CHUNK_PAGES - 1);
	/* Never on the free list, so nothing was ever stored in it. */
	EXPECT_NULL(page->zone_device_data);

	/* The next comes off the free list: the last page pushed. */
	next = api->page_alloc_locked(&w->drm);
	EXPECT_NOT_NULL(next);
	if (next) {
		EXPECT_EQ(page_to_pfn(next), base + CHUNK_PAGES - 2);
		EXPECT_EQ(page_ref_count(next), 1);
		EXPECT_TRUE(PageLocked(next));
		/* What the driver left there: its old free-list link. */
		EXPECT_PTR_EQ(next->zone_device_data, w->drm.dmem->free_pages);
		EXPECT_EQ(api->chunk_callocated(page), 2);
		EXPECT_EQ(memremap_pgmap_pins(pgmap), 2);
		api->page_free_locked(&w->drm, next);
	}
	api->page_free_locked(&w->drm, page);
	/* page_free ran once for each: both back on the list. */
	EXPECT_EQ(free_list_len(w), CHUNK_PAGES);
	EXPECT_EQ(api->chunk_callocated(page), 0);
	EXPECT_EQ(memremap_pgmap_pins(pgmap), 0);
	EXPECT_EQ(page_ref_count(page), 0);
	EXPECT_PTR_EQ(w->drm.dmem->free_pages, page);
out:
	EXPECT_WARNS(0);
	world_free(w);
}

/* VRAM for two chunks: 1024 pages, then NULL; then all freed. */
static void fill_then_free(const void *arg, struct trace *t)
{
	const struct nouveau_dmem_api *api = arg;
	unsigned long warns = ktap_warns();
	struct world *w = world_new(api, 2);
	struct page **pages = calloc(2 * CHUNK_PAGES + 1, sizeof(*pages));
	unsigned long n = 0, i, bad = 0, base;
	struct page *page;

	while (n <= 2 * CHUNK_PAGES &&
	       (page = api->page_alloc_locked(&w->drm)))
		pages[n++] = page;
	EXPECT_EQ(n, 2 * CHUNK_PAGES);
	EXPECT_EQ(api->nr_chunks(&w->drm), 2);
	/* The third chunk found no VRAM and gave back what it took. */
	EXPECT_EQ(callers_regions_live(), 2);
	base = base_pfn();
	EXPECT_EQ(w->drm.client.bos_live, 2);
	EXPECT_EQ(free_list_len(w), 0);
	trace(t, "pages", n);
	trace(t, "chunks", api->nr_chunks(&w->drm));
	for (i = 0; i < n; i++) {
		page = pages[i];
		if (page_ref_count(page) != 1 || !PageLocked(page) ||
		    memremap_pgmap_pins(api->chunk_pgmap(page)) != CHUNK_PAGES)
			bad++;
		trace(t, "pfn", page_to_pfn(page) - base);
		trace(t, "refcount", page_ref_count(page));
		trace(t, "locked", PageLocked(page));
		trace(t, "callocated", api->chunk_callocated(page));
		trace(t, "link", page->zone_device_data ?
		      (long long)(page_to_pfn(page->zone_device_data) -
				  base) : -1);
	}
	EXPECT_EQ(bad, 0);
	/* Freed in a different order than allocated. */
	for (i = 0; i < n; i += 2)
		api->page_free_locked(&w->drm, pages[i]);
	for (i = 1; i < n; i += 2)
		api->page_free_locked(&w->drm, pages[i]);
	EXPECT_EQ(free_list_len(w), 2 * CHUNK_PAGES);
	for (i = 0, bad = 0; i < n; i++)
		bad += api->chunk_callocated(pages[i]) != 0 ||
		       memremap_pgmap_pins(api->chunk_pgmap(pages[i])) != 0 ||
		       page_ref_count(pages[i]) != 0;
	EXPECT_EQ(bad, 0);
	trace(t, "free list", free_list_len(w));
	trace(t, "head", page_to_pfn(w->drm.dmem->free_pages) - base);
	EXPECT_WARNS(0);
	trace(t, "warns", ktap_warns() - warns);
	free(pages);
	world_free(w);
}


/*
 * A new chunk can fail at each of its allocations (the chunk, the
 * region's resource, the buffer object, memremap_pages()'s percpu_ref),
 * at pinning, at memremap_pages() and for want of VRAM or address space.
 * Each failure unwinds and the caller returns NULL, leaking nothing.
 */
static void allocation_failures(const void *arg)
{
	const struct nouveau_dmem_api *api = arg;
	struct world *w = world_new(api, 4);
	unsigned long n, sites = 0;
	struct page *page;

	for (n = 1; n < 10; n++) {
		if (!FAILED_NTH_ALLOCATION(n,
				page = api->page_alloc_locked(&w->drm))) {
			EXPECT_NOT_NULL(page);
			if (page)
				api->page_free_locked(&w->drm, page);
			break;
		}
		sites++;
		EXPECT_NULL(page);
		EXPECT_EQ(api->nr_chunks(&w->drm), 0);
		EXPECT_EQ(callers_regions_live(), 0);
		EXPECT_EQ(w->drm.client.bos_live, 0);
		EXPECT_EQ(memremap_mapped_pgmaps(), 0);
	}
	EXPECT_EQ(sites, 4);
	world_free(w);

	w = world_new(api, 4);
	w->drm.client.pin_fail_nth = 1;
	EXPECT_NULL(api->page_alloc_locked(&w->drm));
	mock_memremap_fail_nth(1);
	EXPECT_NULL(api->page_alloc_locked(&w->drm));
	callers_fence(CHUNK_SIZE / 2);
	EXPECT_NULL(api->page_alloc_locked(&w->drm));
	callers_unfence();
	w->drm.client.vram_left = CHUNK_SIZE - 1;
	EXPECT_NULL(api->page_alloc_locked(&w->drm));
	EXPECT_EQ(api->nr_chunks(&w->drm), 0);
	EXPECT_EQ(callers_regions_live(), 0);
	EXPECT_EQ(w->drm.client.bos_live, 0);
	EXPECT_EQ(w->drm.client.vram_left, CHUNK_SIZE - 1);
	EXPECT_WARNS(0);
	world_free(w);
}

/* ---- pgmap_request_folio() failing under the converted caller ---- */

/*
 * In the child: one chunk (its first page taken and given back, so the
 * next comes off the free list), the pgmap broken one way (FAIL_DYING;
 * FAIL_ORDER: chunks registered as order-1 folios; FAIL_TRYGET), one more
 * page.
 */
static void alloc_child(void *arg, long out[CHILD_OUT])
{
	const struct fail_arg *a = arg;
	const struct nouveau_dmem_api *api = a->api;
	struct world *w;
	struct page *first = NULL, *page;

	if (a->mode == FAIL_ORDER)
		mock_memremap_vmemmap_shift(1);
	w = world_new(api, 4);
	if (a->mode != FAIL_ORDER) {
		first = api->page_alloc_locked(&w->drm);
		if (!first)
			_exit(4);
		api->page_free_locked(&w->drm, first);
	}
	if (a->mode == FAIL_DYING)
		percpu_ref_kill(&api->chunk_pgmap(first)->ref);
	if (a->mode == FAIL_TRYGET)
		memremap_percpu_tryget_fail_nth(1);
	page = api->page_alloc_locked(&w->drm);
	out[0] = page != NULL;
	out[1] = page ? page_ref_count(page) : -1;
	out[2] = page ? PageLocked(page) : -1;
	out[3] = free_list_len(w);
	out[4] = first ? (long)api->chunk_callocated(first) : -1;
}

/*
 * The scenarios, each on both versions. Failing requests: after the patch,
 * a failed request reaches lock_page(&folio->page) with a NULL folio: a
 * NULL dereference in the kernel. The library's lock_page() WARNs instead
 * and the caller returns NULL, so what is left shows: the page it popped
 * is off the free list (out[3]) and counted in callocated (out[4]), but
 * was never handed out; nothing will ever free it. Under UBSan, forming
 * &folio->page from NULL is itself reported.
 *
 * The driver's allocator deals in pages: on a pgmap of order-1 folios the
 * first page it hands out is a tail, whose ->pgmap is its head's address
 * (docs/DESIGN.md §3), so nouveau_page_to_chunk() finds no chunk and the
 * request goes to a pgmap that is not one; the order is not even checked.
 * Under UBSan, &chunk->pagemap of that misaligned "chunk" is reported.
 */
static const struct scenario scenarios[] = {
	{ .name = "success_path", .run = success_path },
	{
		.name = "fill_then_free",
		.traced = fill_then_free,
		.min_trace = 5 * 2 * CHUNK_PAGES,
	},
	{ .name = "allocation_failures", .run = allocation_failures },
	{
		.name = "request_fails_on_dying_pgmap",
		.mode = FAIL_DYING,
		.side[AFTER] = {
			.end = RETURNS, .warns = 3,
			.warned_in = { "pgmap_request_folio", "lock_page",
				       "pfn_to_pgmap_offset" },
			.out = { OUT(0), [3] = OUT(CHUNK_PAGES - 1),
				 [4] = OUT(1) },
		},
		.after_ubsan = {
			.end = CRASHES, .warns = 2,
			.warned_in = { "pgmap_request_folio" },
			.report = "null pointer",
		},
		.side[BEFORE] = {
			.end = RETURNS, .warns = 1,
			.warned_in = { "pgmap_request_folios" },
			.out = { OUT(1), OUT(0) },
		},
		.finding = "nouveau_dmem_page_alloc_locked() does not check "
			"pgmap_request_folio() for NULL: on a dying pgmap it "
			"calls lock_page() on a NULL folio (a kernel oops; the "
			"library WARNs) [%s]; the page it took off the free "
			"list is lost, counted in callocated and never freed; "
			"before the patch it handed out a locked page at "
			"refcount 0",
	},
	{
		.name = "request_fails_on_wrong_order",
		.mode = FAIL_ORDER,
		.side[AFTER] = {
			.end = RETURNS, .warns = 3,
			.warned_in = { "not mapped", "lock_page" },
			.out = { OUT(0) },
		},
		.after_ubsan = {
			.end = CRASHES, .warns = 0,
			.report = "misaligned",
		},
		.side[BEFORE] = {
			.end = RETURNS, .warns = 1,
			.warned_in = { "pgmap_request_folios" },
		},
		.finding = "nouveau_dmem_page_alloc_locked() on a pgmap of "
			"order-1 folios: the page it hands out first is a "
			"tail, nouveau_page_to_chunk() of it is garbage and "
			"pgmap_request_folio() is asked about a pgmap that is "
			"not one, then lock_page(NULL) [%s]",
	},
	{
		.name = "request_fails_on_tryget_race",
		.mode = FAIL_TRYGET,
		.side[AFTER] = {
			.end = RETURNS, .warns = 2,
			.warned_in = { "percpu_ref_tryget", "lock_page" },
			.out = { OUT(0), [3] = OUT(CHUNK_PAGES - 1),
				 [4] = OUT(1) },
		},
		.after_ubsan = {
			.end = CRASHES, .warns = 1,
			.warned_in = { "percpu_ref_tryget" },
			.report = "null pointer",
		},
		.side[BEFORE] = {
			.end = RETURNS, .warns = 1,
			.warned_in = { "percpu_ref_tryget" },
			.out = { [1] = OUT(0) },
		},
		.finding = "a percpu_ref_tryget() that loses a race makes "
			"pgmap_request_folio() return NULL; "
			"nouveau_dmem_page_alloc_locked() then calls "
			"lock_page(NULL) and loses the page it popped [%s]",
	},
};

DEFINE_CALLER_SUITE(suite, "nouveau", &nouveau_after, &nouveau_before,
		    alloc_child, scenarios);

SCENARIO_CASES(suite, success_path)
SCENARIO_CASES(suite, fill_then_free)

KTAP_CASE(same_state_before_and_after)
{
	EXPECT_TRUE(nouveau_after.page_alloc_locked !=
		    nouveau_before.page_alloc_locked);
	expect_same_state(&suite);
}

SCENARIO_CASES(suite, allocation_failures)
FAIL_CASE(suite, request_fails_on_dying_pgmap)
FAIL_CASE(suite, request_fails_on_wrong_order)
FAIL_CASE(suite, request_fails_on_tryget_race)

/*
 * The pfn and the pgmap both come from the page the free list gave, so an
 * out-of-range pfn cannot reach the request; shown for every page of a
 * full device.
 */
KTAP_CASE(out_of_range_pfn_is_unreachable)
{
	const struct nouveau_dmem_api *api = &nouveau_after;
	struct world *w = world_new(api, 2);
	struct page **pages = calloc(2 * CHUNK_PAGES, sizeof(*pages));
	unsigned long n = 0, bad = 0;

	while (n < 2 * CHUNK_PAGES &&
	       (pages[n] = api->page_alloc_locked(&w->drm))) {
		pgoff_t off = pfn_to_pgmap_offset(api->chunk_pgmap(pages[n]),
						  page_to_pfn(pages[n]));

		bad += off >= CHUNK_PAGES;
		n++;
	}
	EXPECT_EQ(n, 2 * CHUNK_PAGES);
	EXPECT_EQ(bad, 0);
	while (n--)
		api->page_free_locked(&w->drm, pages[n]);
	free(pages);
	EXPECT_WARNS(0);
	world_free(w);
	printf("    # nouveau: an out-of-range pfn cannot reach "
	       "pgmap_request_folio(): pfn and pgmap come from the page\n");
}

KTAP_MAIN("callers_nouveau",
	  SCENARIO_ENTRIES(success_path),
	  SCENARIO_ENTRIES(fill_then_free),
	  KTAP_ENTRY(same_state_before_and_after),
	  SCENARIO_ENTRIES(allocation_failures),
	  KTAP_ENTRY(request_fails_on_dying_pgmap),
	  KTAP_ENTRY(request_fails_on_wrong_order),
	  KTAP_ENTRY(request_fails_on_tryget_race),
	  KTAP_ENTRY(out_of_range_pfn_is_unreachable))
