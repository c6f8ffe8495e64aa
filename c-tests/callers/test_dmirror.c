// SPDX-License-Identifier: GPL-2.0-only
/*
 * dmirror_devmem_alloc_page() (lib/test_hmm.c), before and after the
 * patch, driven through its real allocation and free paths: 256 MiB
 * chunks, each its own pgmap (DEVICE_PRIVATE over free address space, or
 * DEVICE_COHERENT at the device's address), the free list threaded through
 * zone_device_data, the backing system page of a private page, and
 * dmirror_devmem_free().
 */
#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/percpu-refcount.h>
#include <memremap/test.h>
#include "ktap.h"
#include "callers_test.h"
#include "test_hmm_mock.h"

#define CHUNK_SIZE	(256UL << 20)
#define CHUNK_PAGES	(CHUNK_SIZE >> PAGE_SHIFT)
/* Where the coherent device's memory is. */
#define SPM_ADDR	(64UL << 30)
#define SPM_PFN		(SPM_ADDR >> PAGE_SHIFT)

struct world {
	const struct dmirror_api *api;
	struct dmirror_device md;
};

static struct world *world_new(const struct dmirror_api *api,
			       unsigned int type)
{
	struct world *w = calloc(1, sizeof(*w));

	w->api = api;
	w->md.zone_device_type = type;
	w->md.device.init_name = "hmm_dmirror0";
	w->md.spm_addr = SPM_ADDR;
	mutex_init(&w->md.devmem_lock);
	spin_lock_init(&w->md.lock);
	EXPECT_EQ(api->chunk_size, CHUNK_SIZE);
	return w;
}

/* Remove the device's chunks: memunmap_pages() must not wait. */
static void world_free(struct world *w)
{
	EXPECT_UNMAPS_PROMPTLY(w->api->remove_chunks(&w->md));
	EXPECT_EQ(memremap_mapped_pgmaps(), 0);
	EXPECT_EQ(callers_regions_live(), 0);
	EXPECT_EQ(memremap_system_pages_live(), 0);
	mutex_destroy(&w->md.devmem_lock);
	free(w);
}

static struct dev_pagemap *chunk_pgmap(struct world *w, unsigned int i)
{
	return &w->md.devmem_chunks[i]->pagemap;
}

static void unlock_and_put(struct page *page)
{
	unlock_page(page);
	put_page(page);
}

/*
 * The first pfn of the device's first chunk: the start of the region
 * request_free_mem_region() gave it (private), or the device's own
 * address (coherent).
 */
static unsigned long chunk_base_pfn(bool private)
{
	return private ? callers_region_pfn("hmm_dmirror") : SPM_PFN;
}

static void success_path(const struct dmirror_api *api, unsigned int type)
{
	bool private = type == HMM_DMIRROR_MEMORY_DEVICE_PRIVATE;
	struct world *w = world_new(api, type);
	struct page *page, *rpage;
	unsigned long base;

	page = api->alloc_page(&w->md);
	EXPECT_NOT_NULL(page);
	if (!page)
		goto out;
	EXPECT_EQ(w->md.devmem_count, 1);
	EXPECT_EQ(callers_regions_live(), private ? 1 : 0);
	base = chunk_base_pfn(private);
	/* The free list was built upwards: the last pfn comes off first. */
	EXPECT_EQ(page_to_pfn(page), base + CHUNK_PAGES - 1);
	EXPECT_TRUE(PageLocked(page));
	EXPECT_EQ(page_ref_count(page), 1);
	EXPECT_EQ(memremap_pgmap_pins(chunk_pgmap(w, 0)), 1);
	EXPECT_PTR_EQ(folio_pgmap(page_folio(page)), chunk_pgmap(w, 0));
	EXPECT_PTR_EQ(chunk_pgmap(w, 0)->owner, &w->md);
	EXPECT_EQ(w->md.calloc, 1);
	rpage = page->zone_device_data;
	if (private) {
		/* zone_device_data is the backing system page. */
		EXPECT_TRUE(is_device_private_page(page));
		EXPECT_NOT_NULL(rpage);
		EXPECT_TRUE(rpage && !is_zone_device_page(rpage));
		EXPECT_EQ(memremap_system_pages_live(), 1);
	} else {
		EXPECT_TRUE(is_device_coherent_page(page));
		EXPECT_NULL(rpage);
		EXPECT_EQ(memremap_system_pages_live(), 0);
	}
	unlock_and_put(page);
	/* page_free ran once: the page is back, its system page freed. */
	EXPECT_EQ(w->md.cfree, 1);
	EXPECT_PTR_EQ(w->md.free_pages, page);
	EXPECT_EQ(memremap_system_pages_live(), 0);
	EXPECT_EQ(page_ref_count(page), 0);
	EXPECT_EQ(memremap_pgmap_pins(chunk_pgmap(w, 0)), 0);
out:
	EXPECT_WARNS(0);
	world_free(w);
}

static void success_path_both_types(const void *api)
{
	success_path(api, HMM_DMIRROR_MEMORY_DEVICE_PRIVATE);
	success_path(api, HMM_DMIRROR_MEMORY_DEVICE_COHERENT);
}

/*
 * One chunk's worth: 65536 pages, then NULL (no address space for a
 * second private chunk: the fence leaves a hole of one chunk; a coherent
 * device has only its one range, and mapping it again conflicts); then
 * every page freed.
 */
static void fill_then_free(const struct dmirror_api *api, unsigned int type,
			   struct trace *t)
{
	bool private = type == HMM_DMIRROR_MEMORY_DEVICE_PRIVATE;
	struct page **pages = calloc(CHUNK_PAGES + 1, sizeof(*pages));
	unsigned long n = 0, i, bad = 0, warns = ktap_warns(), base;
	struct world *w;
	struct page *page;

	callers_fence(CHUNK_SIZE);
	w = world_new(api, type);
	memremap_warn_quiet(true);
	while (n <= CHUNK_PAGES && (page = api->alloc_page(&w->md)))
		pages[n++] = page;
	memremap_warn_quiet(false);
	EXPECT_EQ(n, CHUNK_PAGES);
	EXPECT_EQ(w->md.devmem_count, 1);
	EXPECT_EQ(w->md.calloc, CHUNK_PAGES);
	EXPECT_EQ(callers_regions_live(), private ? 1 : 0);
	base = chunk_base_pfn(private);
	/* The failed call freed its backing page. */
	EXPECT_EQ(memremap_system_pages_live(), private ? CHUNK_PAGES : 0);
	EXPECT_EQ(memremap_pgmap_pins(chunk_pgmap(w, 0)), CHUNK_PAGES);
	/* The coherent device's second chunk conflicts with its first. */
	EXPECT_EQ(ktap_warns() - warns, private ? 0 : 1);
	trace(t, "pages", n);
	for (i = 0; i < n; i++) {
		page = pages[i];
		if (page_to_pfn(page) != base + CHUNK_PAGES - 1 - i ||
		    page_ref_count(page) != 1 || !PageLocked(page))
			bad++;
		trace(t, "pfn", page_to_pfn(page) - base);
		trace(t, "refcount", page_ref_count(page));
		trace(t, "backed", page->zone_device_data != NULL);
	}
	EXPECT_EQ(bad, 0);
	for (i = 0; i < n; i++)
		unlock_and_put(pages[(i * 7919) % n]);
	EXPECT_EQ(w->md.cfree, CHUNK_PAGES);
	EXPECT_EQ(memremap_system_pages_live(), 0);
	EXPECT_EQ(memremap_pgmap_pins(chunk_pgmap(w, 0)), 0);
	for (i = 0, bad = 0; i < n; i++)
		bad += page_ref_count(pages[i]) != 0;
	EXPECT_EQ(bad, 0);
	trace(t, "cfree", w->md.cfree);
	trace(t, "head", page_to_pfn(w->md.free_pages) - base);
	trace(t, "warns", ktap_warns() - warns);
	free(pages);
	world_free(w);
	callers_unfence();
}

static void fill_then_free_both_types(const void *api, struct trace *t)
{
	fill_then_free(api, HMM_DMIRROR_MEMORY_DEVICE_PRIVATE, t);
	fill_then_free(api, HMM_DMIRROR_MEMORY_DEVICE_COHERENT, t);
}

/*
 * The first page of a device meets every allocation: the backing page
 * (private only), the chunk, the region's resource (private only), the
 * chunk array, memremap_pages()'s percpu_ref. Each failure frees what was
 * taken and the caller returns NULL; so does a failing memremap_pages().
 */
static void allocation_failures(const struct dmirror_api *api,
				unsigned int type, unsigned long want)
{
	struct world *w = world_new(api, type);
	unsigned long n, sites = 0;
	struct page *page;

	for (n = 1; n < 10; n++) {
		if (!FAILED_NTH_ALLOCATION(n, page = api->alloc_page(&w->md))) {
			EXPECT_NOT_NULL(page);
			if (page)
				unlock_and_put(page);
			break;
		}
		sites++;
		EXPECT_NULL(page);
		EXPECT_EQ(w->md.devmem_count, 0);
		EXPECT_EQ(w->md.calloc, 0);
		EXPECT_EQ(callers_regions_live(), 0);
		EXPECT_EQ(memremap_system_pages_live(), 0);
		EXPECT_EQ(memremap_mapped_pgmaps(), 0);
	}
	EXPECT_EQ(sites, want);
	world_free(w);

	w = world_new(api, type);
	mock_memremap_fail_nth(1);
	EXPECT_NULL(api->alloc_page(&w->md));
	EXPECT_EQ(callers_regions_live(), 0);
	EXPECT_EQ(memremap_system_pages_live(), 0);
	EXPECT_EQ(w->md.devmem_count, 0);
	EXPECT_WARNS(0);
	world_free(w);
}

static void allocation_failures_both_types(const void *api)
{
	allocation_failures(api, HMM_DMIRROR_MEMORY_DEVICE_PRIVATE, 5);
	allocation_failures(api, HMM_DMIRROR_MEMORY_DEVICE_COHERENT, 3);
}

/*
 * A device whose type was never set (0, which test_hmm_uapi.h leaves
 * unused for this): its first page finds no chunk type to map, so nothing
 * is allocated, mapped or leaked, and the caller gets NULL.
 */
static void uninitialised_type(const void *arg)
{
	const struct dmirror_api *api = arg;
	struct world *w = world_new(api, 0);

	EXPECT_NULL(api->alloc_page(&w->md));
	EXPECT_EQ(w->md.devmem_count, 0);
	EXPECT_EQ(w->md.calloc, 0);
	EXPECT_EQ(memremap_mapped_pgmaps(), 0);
	EXPECT_EQ(callers_regions_live(), 0);
	EXPECT_EQ(memremap_system_pages_live(), 0);
	world_free(w);
}

/* ---- pgmap_request_folio() failing under the converted caller ---- */

/*
 * In the child: a private device with one chunk (its first page taken and
 * given back), the pgmap broken one way (FAIL_DYING; FAIL_ORDER: chunks
 * registered as order-1 folios; FAIL_TRYGET), one more page; then the
 * caller's put of that page, to show what a page handed out unreferenced
 * leads to.
 */
static void alloc_child(void *arg, long out[CHILD_OUT])
{
	const struct fail_arg *a = arg;
	const struct dmirror_api *api = a->api;
	struct world *w;
	struct page *page;

	if (a->mode == FAIL_ORDER)
		mock_memremap_vmemmap_shift(1);
	w = world_new(api, HMM_DMIRROR_MEMORY_DEVICE_PRIVATE);
	if (a->mode != FAIL_ORDER) {
		page = api->alloc_page(&w->md);
		if (!page)
			_exit(4);
		unlock_and_put(page);
	}
	if (a->mode == FAIL_DYING)
		percpu_ref_kill(&chunk_pgmap(w, 0)->ref);
	if (a->mode == FAIL_TRYGET)
		memremap_percpu_tryget_fail_nth(1);
	page = api->alloc_page(&w->md);
	out[0] = page != NULL;
	out[1] = page ? page_ref_count(page) : -1;
	out[2] = page ? PageLocked(page) : -1;
	out[3] = memremap_pgmap_pins(chunk_pgmap(w, 0));
	if (page)
		unlock_and_put(page);
	/* Did page_free run for it, and free its backing page? */
	out[4] = w->md.cfree;
	out[5] = memremap_system_pages_live();
}

/*
 * The scenarios, each on both versions. Failing requests: the converted
 * code's only check is WARN_ON_ONCE(dpage != &folio->page): it goes on to
 * lock the page and hand it out at refcount 0 (out[1]), with no pgmap
 * pin, as the code before it did. The caller's put then finds nothing to
 * drop (a refcount underflow in the kernel; the library WARNs), so
 * page_free runs only for the first page (out[4]) and the backing page
 * leaks (out[5]). Under UBSan, forming &folio->page from NULL is reported
 * first.
 *
 * On order-1 folios the page handed out first is a tail: dpage->pgmap is
 * its head's address, not a pgmap (docs/DESIGN.md §3), so the request is
 * made on a pgmap that is not one; the order is never checked.
 */
static const struct scenario scenarios[] = {
	{ .name = "success_path", .run = success_path_both_types },
	{
		/* The coherent device's second chunk conflicts. */
		.name = "fill_then_free",
		.traced = fill_then_free_both_types,
		.min_trace = 2 * 3 * CHUNK_PAGES,
		.side = { [AFTER] = { .warns = 1 }, [BEFORE] = { .warns = 1 } },
	},
	{
		.name = "allocation_failures",
		.run = allocation_failures_both_types,
	},
	{ .name = "uninitialised_type", .run = uninitialised_type },
	{
		.name = "request_fails_on_dying_pgmap",
		.mode = FAIL_DYING,
		.side[AFTER] = {
			.end = RETURNS, .warns = 4,
			.warned_in = { "pgmap_request_folio",
				       "dmirror_devmem_alloc_page",
				       "folio_put" },
			.out = { OUT(1), OUT(0), OUT(1), [4] = OUT(1),
				 [5] = OUT(1) },
		},
		.after_ubsan = {
			.end = CRASHES, .warns = 2,
			.warned_in = { "pgmap_request_folio" },
			.report = "null pointer",
		},
		.side[BEFORE] = {
			.end = RETURNS, .warns = 2,
			.warned_in = { "pgmap_request_folios", "folio_put" },
			.out = { [1] = OUT(0), [4] = OUT(1), [5] = OUT(1) },
		},
		.finding = "dmirror_devmem_alloc_page() only WARNs when "
			"pgmap_request_folio() fails, then locks the page and "
			"hands it out at refcount 0 with no pgmap pin, as "
			"before the patch; the caller's put underflows, "
			"page_free never runs and the backing page leaks [%s]",
	},
	{
		.name = "request_fails_on_wrong_order",
		.mode = FAIL_ORDER,
		.side[AFTER] = {
			.end = RETURNS, .warns = 4,
			.warned_in = { "not mapped",
				       "dmirror_devmem_alloc_page" },
			.out = { OUT(1) },
		},
		.after_ubsan = {
			.end = CRASHES, .warns = 2,
			.warned_in = { "not mapped" },
			.report = "null pointer",
		},
		.side[BEFORE] = {
			.end = RETURNS, .warns = 2,
			.warned_in = { "not mapped", "folio_put" },
		},
		.finding = "dmirror_devmem_alloc_page() on a pgmap of order-1 "
			"folios reads dpage->pgmap of a tail page (its head's "
			"address) and requests from a pgmap that is not one; "
			"it hands the tail out unreferenced [%s]",
	},
	{
		.name = "request_fails_on_tryget_race",
		.mode = FAIL_TRYGET,
		.side[AFTER] = {
			.end = RETURNS, .warns = 3,
			.warned_in = { "percpu_ref_tryget",
				       "dmirror_devmem_alloc_page",
				       "folio_put" },
			.out = { OUT(1), OUT(0), OUT(1), [4] = OUT(1),
				 [5] = OUT(1) },
		},
		.after_ubsan = {
			.end = CRASHES, .warns = 1,
			.warned_in = { "percpu_ref_tryget" },
			.report = "null pointer",
		},
		.side[BEFORE] = {
			.end = RETURNS, .warns = 2,
			.warned_in = { "percpu_ref_tryget", "folio_put" },
			.out = { [1] = OUT(0) },
		},
		.finding = "a percpu_ref_tryget() that loses a race: "
			"dmirror_devmem_alloc_page() WARNs and hands out an "
			"unreferenced page [%s]",
	},
};

DEFINE_CALLER_SUITE(suite, "dmirror", &dmirror_after, &dmirror_before,
		    alloc_child, scenarios);

SCENARIO_CASES(suite, success_path)
SCENARIO_CASES(suite, fill_then_free)

KTAP_CASE(same_state_before_and_after)
{
	EXPECT_TRUE(dmirror_after.alloc_page != dmirror_before.alloc_page);
	expect_same_state(&suite);
}

SCENARIO_CASES(suite, allocation_failures)
SCENARIO_CASES(suite, uninitialised_type)
FAIL_CASE(suite, request_fails_on_dying_pgmap)
FAIL_CASE(suite, request_fails_on_wrong_order)
FAIL_CASE(suite, request_fails_on_tryget_race)

/* The pfn and the pgmap both come from the page: never out of range. */
KTAP_CASE(out_of_range_pfn_is_unreachable)
{
	struct world *w = world_new(&dmirror_after,
				    HMM_DMIRROR_MEMORY_DEVICE_PRIVATE);
	struct page *pages[1024];
	unsigned long n, bad = 0;
	pgoff_t off;

	for (n = 0; n < 1024; n++) {
		pages[n] = dmirror_after.alloc_page(&w->md);
		if (!pages[n]) {
			bad++;
			continue;
		}
		off = pfn_to_pgmap_offset(pages[n]->pgmap,
					  page_to_pfn(pages[n]));
		bad += off >= CHUNK_PAGES;
	}
	EXPECT_EQ(bad, 0);
	for (n = 0; n < 1024; n++)
		if (pages[n])
			unlock_and_put(pages[n]);
	EXPECT_WARNS(0);
	world_free(w);
	printf("    # dmirror: an out-of-range pfn cannot reach "
	       "pgmap_request_folio(): pfn and pgmap come from the page\n");
}

KTAP_MAIN("callers_dmirror",
	  SCENARIO_ENTRIES(success_path),
	  SCENARIO_ENTRIES(fill_then_free),
	  KTAP_ENTRY(same_state_before_and_after),
	  SCENARIO_ENTRIES(allocation_failures),
	  SCENARIO_ENTRIES(uninitialised_type),
	  KTAP_ENTRY(request_fails_on_dying_pgmap),
	  KTAP_ENTRY(request_fails_on_wrong_order),
	  KTAP_ENTRY(request_fails_on_tryget_race),
	  KTAP_ENTRY(out_of_range_pfn_is_unreachable))
