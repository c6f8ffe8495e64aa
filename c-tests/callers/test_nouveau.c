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
/* Pfn of the first region the mock allocator hands out. */
#define BASE_PFN	(MOCK_REGION_BASE >> PAGE_SHIFT)

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
	EXPECT_EQ(mock_regions_live(), 0);
	EXPECT_EQ(w->drm.client.bos_live, 0);
	free(w);
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

static void success_path(const struct nouveau_dmem_api *api)
{
	struct world *w = world_new(api, 4);
	struct page *page, *next;
	struct dev_pagemap *pgmap;

	page = api->page_alloc_locked(&w->drm);
	EXPECT_NOT_NULL(page);
	if (!page)
		goto out;
	pgmap = api->chunk_pgmap(page);
	/* A new chunk: its last page is handed out, the rest are free. */
	EXPECT_EQ(api->nr_chunks(&w->drm), 1);
	EXPECT_EQ(page_to_pfn(page), BASE_PFN + CHUNK_PAGES - 1);
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
		EXPECT_EQ(page_to_pfn(next), BASE_PFN + CHUNK_PAGES - 2);
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

KTAP_CASE(success_path_after)
{
	success_path(&nouveau_after);
}

KTAP_CASE(success_path_before)
{
	success_path(&nouveau_before);
}

/* VRAM for two chunks: 1024 pages, then NULL; then all freed. */
static void fill_then_free(const struct nouveau_dmem_api *api,
			   struct trace *t)
{
	unsigned long warns = ktap_warns();
	struct world *w = world_new(api, 2);
	struct page **pages = calloc(2 * CHUNK_PAGES + 1, sizeof(*pages));
	unsigned long n = 0, i, bad = 0;
	struct page *page;

	while (n <= 2 * CHUNK_PAGES &&
	       (page = api->page_alloc_locked(&w->drm)))
		pages[n++] = page;
	EXPECT_EQ(n, 2 * CHUNK_PAGES);
	EXPECT_EQ(api->nr_chunks(&w->drm), 2);
	/* The third chunk found no VRAM and gave back what it took. */
	EXPECT_EQ(mock_regions_live(), 2);
	EXPECT_EQ(w->drm.client.bos_live, 2);
	EXPECT_EQ(free_list_len(w), 0);
	trace(t, "pages", n);
	trace(t, "chunks", api->nr_chunks(&w->drm));
	for (i = 0; i < n; i++) {
		page = pages[i];
		if (page_ref_count(page) != 1 || !PageLocked(page) ||
		    memremap_pgmap_pins(api->chunk_pgmap(page)) != CHUNK_PAGES)
			bad++;
		trace(t, "pfn", page_to_pfn(page) - BASE_PFN);
		trace(t, "refcount", page_ref_count(page));
		trace(t, "locked", PageLocked(page));
		trace(t, "callocated", api->chunk_callocated(page));
		trace(t, "link", page->zone_device_data ?
		      (long long)(page_to_pfn(page->zone_device_data) -
				  BASE_PFN) : -1);
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
	trace(t, "head", page_to_pfn(w->drm.dmem->free_pages) - BASE_PFN);
	EXPECT_WARNS(0);
	trace(t, "warns", ktap_warns() - warns);
	free(pages);
	world_free(w);
}

KTAP_CASE(fill_then_free_after)
{
	struct trace t = { 0 };

	fill_then_free(&nouveau_after, &t);
	trace_free(&t);
}

KTAP_CASE(fill_then_free_before)
{
	struct trace t = { 0 };

	fill_then_free(&nouveau_before, &t);
	trace_free(&t);
}

KTAP_CASE(same_state_before_and_after)
{
	struct trace a = { 0 }, b = { 0 };

	EXPECT_TRUE(nouveau_after.page_alloc_locked !=
		    nouveau_before.page_alloc_locked);
	EXPECT_EQ(strcmp(nouveau_after.version, "after"), 0);
	EXPECT_EQ(strcmp(nouveau_before.version, "before"), 0);
	fill_then_free(&nouveau_after, &a);
	fill_then_free(&nouveau_before, &b);
	EXPECT_SAME_TRACE(&a, &b, 5 * 2 * CHUNK_PAGES);
	trace_free(&a);
	trace_free(&b);
}

/*
 * A new chunk can fail at each of its allocations (the chunk, the
 * region's resource, the buffer object, memremap_pages()'s percpu_ref),
 * at pinning, at memremap_pages() and for want of VRAM or address space.
 * Each failure unwinds and the caller returns NULL, leaking nothing.
 */
static void allocation_failures(const struct nouveau_dmem_api *api)
{
	struct world *w = world_new(api, 4);
	unsigned long n, sites = 0;
	struct page *page;

	for (n = 1; n < 10; n++) {
		unsigned long injected = memremap_kmalloc_injected();

		memremap_kmalloc_fail_nth(n);
		page = api->page_alloc_locked(&w->drm);
		memremap_kmalloc_fail_nth(0);
		if (memremap_kmalloc_injected() == injected) {
			EXPECT_NOT_NULL(page);
			if (page)
				api->page_free_locked(&w->drm, page);
			break;
		}
		sites++;
		EXPECT_NULL(page);
		EXPECT_EQ(api->nr_chunks(&w->drm), 0);
		EXPECT_EQ(mock_regions_live(), 0);
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
	mock_region_limit(CHUNK_SIZE / 2);
	EXPECT_NULL(api->page_alloc_locked(&w->drm));
	mock_region_limit(0);
	w->drm.client.vram_left = CHUNK_SIZE - 1;
	EXPECT_NULL(api->page_alloc_locked(&w->drm));
	EXPECT_EQ(api->nr_chunks(&w->drm), 0);
	EXPECT_EQ(mock_regions_live(), 0);
	EXPECT_EQ(w->drm.client.bos_live, 0);
	EXPECT_EQ(w->drm.client.vram_left, CHUNK_SIZE - 1);
	EXPECT_WARNS(0);
	world_free(w);
}

KTAP_CASE(allocation_failures_after)
{
	allocation_failures(&nouveau_after);
}

KTAP_CASE(allocation_failures_before)
{
	allocation_failures(&nouveau_before);
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

static void run_mode(enum fail_mode mode, struct child_result *after,
		     struct child_result *before)
{
	run_mode_both(alloc_child, &nouveau_after, &nouveau_before, mode,
		      after, before);
}

/*
 * After the patch, a failed request reaches lock_page(&folio->page) with
 * a NULL folio: a NULL dereference in the kernel. The library's
 * lock_page() WARNs instead and the caller returns NULL, so what is left
 * shows: the page it popped is off the free list and counted in
 * callocated, but was never handed out; nothing will ever free it. Under
 * UBSan, forming &folio->page from NULL is itself reported.
 */
static void expect_lost_page(const struct child_result *a)
{
	if (sanitized("undefined")) {
		EXPECT_TRUE(a->crashed);
		EXPECT_TRUE(strstr(a->report, "null pointer") != NULL);
		return;
	}
	EXPECT_TRUE(a->returned);
	EXPECT_EQ(a->out[0], 0);
	EXPECT_TRUE(child_warned_in(a, "lock_page"));
	EXPECT_EQ(a->out[3], CHUNK_PAGES - 1);
	EXPECT_EQ(a->out[4], 1);
}

KTAP_CASE(request_fails_on_dying_pgmap)
{
	struct child_result a, b;
	char how[512];

	run_mode(FAIL_DYING, &a, &b);
	expect_lost_page(&a);
	EXPECT_TRUE(child_warned_in(&a, "pgmap_request_folio"));
	EXPECT_TRUE(b.returned);
	EXPECT_EQ(b.out[0], 1);
	EXPECT_EQ(b.out[1], 0);
	EXPECT_TRUE(child_warned_in(&b, "pgmap_request_folios"));
	finding("nouveau", "nouveau_dmem_page_alloc_locked() does not check "
		"pgmap_request_folio() for NULL: on a dying pgmap it calls "
		"lock_page() on a NULL folio (a kernel oops; the library "
		"WARNs) [%s]; the page it took off the free list is lost, "
		"counted in callocated and never freed; before the patch it "
		"handed out a locked page at refcount 0",
		child_brief(&a, how, sizeof(how)));
}

/*
 * The driver's allocator deals in pages: on a pgmap of order-1 folios the
 * first page it hands out is a tail, whose ->pgmap is its head's address
 * (DESIGN §3), so nouveau_page_to_chunk() finds no chunk and the request
 * goes to a pgmap that is not one; the order is not even checked.
 */
KTAP_CASE(request_fails_on_wrong_order)
{
	struct child_result a, b;
	char how[512];

	run_mode(FAIL_ORDER, &a, &b);
	if (sanitized("undefined")) {
		/* &chunk->pagemap of a misaligned "chunk" is reported. */
		EXPECT_TRUE(a.crashed);
		EXPECT_TRUE(strstr(a.report, "misaligned") != NULL);
	} else {
		EXPECT_TRUE(a.returned);
		EXPECT_EQ(a.out[0], 0);
		EXPECT_TRUE(child_warned_in(&a, "not mapped"));
		EXPECT_TRUE(child_warned_in(&a, "lock_page"));
	}
	finding("nouveau", "nouveau_dmem_page_alloc_locked() on a pgmap of "
		"order-1 folios: the page it hands out first is a tail, "
		"nouveau_page_to_chunk() of it is garbage and "
		"pgmap_request_folio() is asked about a pgmap that is not one, "
		"then lock_page(NULL) [%s]",
		child_brief(&a, how, sizeof(how)));
}

KTAP_CASE(request_fails_on_tryget_race)
{
	struct child_result a, b;
	char how[512];

	run_mode(FAIL_TRYGET, &a, &b);
	expect_lost_page(&a);
	EXPECT_TRUE(child_warned_in(&a, "percpu_ref_tryget"));
	EXPECT_TRUE(b.returned);
	EXPECT_EQ(b.out[1], 0);
	finding("nouveau", "a percpu_ref_tryget() that loses a race makes "
		"pgmap_request_folio() return NULL; "
		"nouveau_dmem_page_alloc_locked() then calls lock_page(NULL) "
		"and loses the page it popped [%s]",
		child_brief(&a, how, sizeof(how)));
}

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
	  KTAP_ENTRY(success_path_after),
	  KTAP_ENTRY(success_path_before),
	  KTAP_ENTRY(fill_then_free_after),
	  KTAP_ENTRY(fill_then_free_before),
	  KTAP_ENTRY(same_state_before_and_after),
	  KTAP_ENTRY(allocation_failures_after),
	  KTAP_ENTRY(allocation_failures_before),
	  KTAP_ENTRY(request_fails_on_dying_pgmap),
	  KTAP_ENTRY(request_fails_on_wrong_order),
	  KTAP_ENTRY(request_fails_on_tryget_race),
	  KTAP_ENTRY(out_of_range_pfn_is_unreachable))
