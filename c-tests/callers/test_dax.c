// SPDX-License-Identifier: GPL-2.0-only
/*
 * dax_associate_entry() and dax_zap_pages() (drivers/dax/mapping.c of the
 * dax reference counting series), before and after the patch: DAX entries
 * of one page or one PMD over an FS_DAX pgmap of single pages or compound
 * folios, associated with a file mapping, zapped, reported busy while
 * somebody else holds a folio, shared copy-on-write.
 *
 * The test maps the pgmap itself, as the DAX device driver would; its
 * page_free counts frees (FS_DAX may have one).
 */
#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/percpu-refcount.h>
#include <memremap/test.h>
#include "ktap.h"
#include "callers_test.h"
#include "dax-private.h"

/* The DAX device: 4 MiB at 16 GiB, two PMDs. */
#define DAX_START	(16UL << 30)
#define DAX_PAGES	1024UL
#define PFN0		(DAX_START >> PAGE_SHIFT)
#define PMD_PAGES	(PMD_SIZE >> PAGE_SHIFT)

static unsigned long frees;

static void dax_page_free(struct page *page)
{
	(void)page;
	frees++;
}

static const struct dev_pagemap_ops dax_ops = {
	.page_free = dax_page_free,
};

static struct dev_pagemap pgmap;
static struct address_space file = { .name = "file" };
static struct vm_area_struct vma = {
	.vm_start = 0x7f0000000000UL,
	.vm_end = 0x7f0040000000UL,
	.vm_pgoff = 0x100,
};

static void map_dax(unsigned long shift)
{
	memset(&pgmap, 0, sizeof(pgmap));
	pgmap.type = MEMORY_DEVICE_FS_DAX;
	pgmap.range.start = DAX_START;
	pgmap.range.end = DAX_START + (DAX_PAGES << PAGE_SHIFT) - 1;
	pgmap.nr_range = 1;
	pgmap.vmemmap_shift = shift;
	pgmap.ops = &dax_ops;
	EXPECT_FALSE(IS_ERR(memremap_pages(&pgmap, 0)));
}

static void unmap_dax(void)
{
	EXPECT_UNMAPS_PROMPTLY(memunmap_pages(&pgmap));
	EXPECT_FALSE(memremap_pgmap_is_mapped(&pgmap));
}

static struct folio *folio_at(unsigned long pfn)
{
	return page_folio(pfn_to_page(pfn));
}

static long pins(void)
{
	return memremap_pgmap_pins(&pgmap);
}

/* Every folio of @entry: refcount, ->mapping is @file, its ->index. */
static void trace_entry(struct trace *t, void *entry)
{
	unsigned long i, n = dax_entry_size(entry) >> PAGE_SHIFT;
	unsigned long pfn = dax_to_pfn(entry);

	for (i = 0; i < n; i += folio_nr_pages(folio_at(pfn + i))) {
		struct folio *folio = folio_at(pfn + i);

		trace(t, "order", folio_order(folio));
		trace(t, "refcount", folio_ref_count(folio));
		trace(t, "mapped to file", folio->mapping == &file);
		trace(t, "index", folio->index);
	}
	trace(t, "pins", pins());
	trace(t, "frees", frees);
}

/* One page: associated at its file index, zapped, zapped again. */
static void pte_entry(const struct dax_mapping_api *api, struct trace *t)
{
	void *entry = dax_make_entry(PFN0 + 5, 0), *slot = entry;
	struct xa_state xas = { .xa_slot = &slot };
	unsigned long frees0 = frees;
	struct folio *folio;

	map_dax(0);
	folio = folio_at(PFN0 + 5);
	EXPECT_EQ(api->associate_entry(entry, &file, &vma,
				       vma.vm_start + 3 * PAGE_SIZE, 0), 0);
	EXPECT_EQ(folio_ref_count(folio), 1);
	EXPECT_PTR_EQ(folio->mapping, &file);
	EXPECT_EQ(folio->index, 0x100 + 3);
	EXPECT_EQ(pins(), 1);
	trace_entry(t, entry);

	EXPECT_NULL(api->zap_pages(&xas, entry));
	EXPECT_EQ(folio_ref_count(folio), 0);
	EXPECT_NULL(folio->mapping);
	EXPECT_EQ(frees - frees0, 1);
	EXPECT_EQ(pins(), 0);
	EXPECT_TRUE(slot == dax_make_zapped(entry));
	/* A zapped entry's folios are not put again. */
	EXPECT_NULL(api->zap_pages(&xas, slot));
	EXPECT_EQ(frees - frees0, 1);
	trace_entry(t, entry);
	EXPECT_WARNS(0);
	unmap_dax();
}

/* A PMD entry: 512 folios of order @shift or one of order 9. */
static void pmd_entry(const struct dax_mapping_api *api, unsigned long shift,
		      struct trace *t)
{
	void *entry = dax_make_entry(PFN0 + PMD_PAGES, DAX_PMD), *slot = entry;
	struct xa_state xas = { .xa_slot = &slot };
	unsigned long nr = PMD_PAGES >> shift, i, bad = 0, frees0 = frees;
	/* Any address in the PMD: the index is of its first page. */
	unsigned long addr = vma.vm_start + PMD_SIZE + 0x1234;

	map_dax(shift);
	EXPECT_EQ(api->associate_entry(entry, &file, &vma, addr, 0), 0);
	for (i = 0; i < PMD_PAGES; i++) {
		struct folio *folio = folio_at(PFN0 + PMD_PAGES + i);
		unsigned long head = i & ~((1UL << shift) - 1);

		if (folio_order(folio) != shift ||
		    folio_ref_count(folio) != 1 || folio->mapping != &file ||
		    folio->index != 0x100 + PMD_PAGES + head ||
		    folio_pfn(folio) != PFN0 + PMD_PAGES + head)
			bad++;
	}
	EXPECT_EQ(bad, 0);
	/* One pin per folio, not per page. */
	EXPECT_EQ(pins(), nr);
	trace_entry(t, entry);

	EXPECT_NULL(api->zap_pages(&xas, entry));
	/* page_free once per folio, for its head page. */
	EXPECT_EQ(frees - frees0, nr);
	EXPECT_EQ(pins(), 0);
	trace_entry(t, entry);
	EXPECT_WARNS(0);
	unmap_dax();
}

static void pte_entry_alone(const void *api)
{
	struct trace t = { 0 };

	pte_entry(api, &t);
	trace_free(&t);
}

static void pmd_entries(const void *api)
{
	struct trace t = { 0 };

	pmd_entry(api, 0, &t);
	trace_free(&t);
}

/* vmemmap_shift > 0: each folio requested at its own order. */
static void compound(const void *api)
{
	struct trace t = { 0 };

	pmd_entry(api, PMD_ORDER, &t);
	pmd_entry(api, 2, &t);
	trace_free(&t);
}

/* Both PMDs of the device associated, then zapped: every page freed. */
static void whole_device(const void *arg)
{
	const struct dax_mapping_api *api = arg;
	void *e0 = dax_make_entry(PFN0, DAX_PMD), *s0 = e0;
	void *e1 = dax_make_entry(PFN0 + PMD_PAGES, DAX_PMD), *s1 = e1;
	struct xa_state x0 = { .xa_slot = &s0 }, x1 = { .xa_slot = &s1 };
	unsigned long frees0 = frees, i, bad = 0;

	map_dax(0);
	EXPECT_EQ(api->associate_entry(e0, &file, &vma, vma.vm_start, 0), 0);
	EXPECT_EQ(api->associate_entry(e1, &file, &vma,
				       vma.vm_start + PMD_SIZE, 0), 0);
	EXPECT_EQ(pins(), DAX_PAGES);
	EXPECT_EQ(memremap_pgmap_busy_pages(&pgmap), DAX_PAGES);
	for (i = 0; i < DAX_PAGES; i++)
		bad += folio_at(PFN0 + i)->index != 0x100 + i;
	EXPECT_EQ(bad, 0);
	EXPECT_NULL(api->zap_pages(&x0, e0));
	EXPECT_NULL(api->zap_pages(&x1, e1));
	EXPECT_EQ(frees - frees0, DAX_PAGES);
	EXPECT_EQ(pins(), 0);
	EXPECT_WARNS(0);
	unmap_dax();
}

/*
 * While somebody else holds folios of the entry (a pin, say), zapping
 * reports the first of them; once they are let go, nothing. A zapped entry
 * is not put twice.
 */
static void busy(const struct dax_mapping_api *api, struct trace *t)
{
	void *entry = dax_make_entry(PFN0, DAX_PMD), *slot = entry;
	struct xa_state xas = { .xa_slot = &slot };
	unsigned long frees0 = frees;
	struct folio *f7, *f9;
	struct page *ret;

	map_dax(0);
	EXPECT_EQ(api->associate_entry(entry, &file, &vma, vma.vm_start, 0),
		  0);
	f7 = folio_at(PFN0 + 7);
	f9 = folio_at(PFN0 + 9);
	folio_get(f9);
	folio_get(f7);
	ret = api->zap_pages(&xas, entry);
	EXPECT_PTR_EQ(ret, &f7->page);
	EXPECT_EQ(folio_ref_count(f7), 1);
	EXPECT_EQ(folio_ref_count(f9), 1);
	EXPECT_EQ(frees - frees0, PMD_PAGES - 2);
	EXPECT_EQ(pins(), 2);
	trace(t, "busy", ret ? (long long)(page_to_pfn(ret) - PFN0) : -1);
	trace_entry(t, entry);

	/* Zapped already: nothing is put, the same folio is busy. */
	ret = api->zap_pages(&xas, slot);
	EXPECT_PTR_EQ(ret, &f7->page);
	EXPECT_EQ(folio_ref_count(f7), 1);
	folio_put(f7);
	ret = api->zap_pages(&xas, slot);
	EXPECT_PTR_EQ(ret, &f9->page);
	trace(t, "busy", ret ? (long long)(page_to_pfn(ret) - PFN0) : -1);
	folio_put(f9);
	EXPECT_NULL(api->zap_pages(&xas, slot));
	EXPECT_EQ(frees - frees0, PMD_PAGES);
	EXPECT_EQ(pins(), 0);
	trace_entry(t, entry);
	EXPECT_WARNS(0);
	unmap_dax();
}

static void busy_alone(const void *api)
{
	struct trace t = { 0 };

	busy(api, &t);
	trace_free(&t);
}

/* Copy-on-write sharing counts sharers and takes no reference. */
static void cow(const struct dax_mapping_api *api, struct trace *t)
{
	void *entry = dax_make_entry(PFN0 + 11, 0);
	struct folio *folio;

	map_dax(0);
	folio = folio_at(PFN0 + 11);
	EXPECT_EQ(api->associate_entry(entry, &file, &vma, vma.vm_start,
				       DAX_COW), 0);
	EXPECT_EQ(api->associate_entry(entry, &file, &vma, vma.vm_start,
				       DAX_COW), 0);
	EXPECT_EQ(folio_ref_count(folio), 0);
	EXPECT_TRUE(dax_mapping_is_cow(folio->mapping));
	EXPECT_EQ(folio->index, 2);
	EXPECT_EQ(pins(), 0);
	trace(t, "sharers", folio->index);
	trace(t, "refcount", folio_ref_count(folio));
	folio->mapping = NULL;
	folio->index = 0;
	EXPECT_WARNS(0);
	unmap_dax();
}

static void cow_alone(const void *api)
{
	struct trace t = { 0 };

	cow(api, &t);
	trace_free(&t);
}

/*
 * Neither function allocates: with the next kmalloc() armed to fail,
 * association and zapping succeed and the failure stays armed.
 */
KTAP_CASE(no_allocation_to_fail)
{
	void *entry = dax_make_entry(PFN0, DAX_PMD), *slot = entry;
	struct xa_state xas = { .xa_slot = &slot };
	unsigned long injected = memremap_kmalloc_injected();
	int side;

	for (side = 0; side < 2; side++) {
		const struct dax_mapping_api *api = side ? &dax_before :
							   &dax_after;

		map_dax(0);
		slot = entry;
		memremap_kmalloc_fail_nth(1);
		EXPECT_EQ(api->associate_entry(entry, &file, &vma,
					       vma.vm_start, 0), 0);
		EXPECT_NULL(api->zap_pages(&xas, entry));
		memremap_kmalloc_fail_nth(0);
		EXPECT_EQ(memremap_kmalloc_injected(), injected);
		EXPECT_EQ(pins(), 0);
		unmap_dax();
	}
}

/* ---- pgmap_request_folio() failing under the converted caller ---- */

/*
 * In the child: the device mapped, broken one way (FAIL_DYING;
 * FAIL_TRYGET: the third folio's percpu_ref_tryget() loses; FAIL_RANGE:
 * an entry whose pfn no pgmap maps), a PMD entry associated.
 */
static void associate_child(void *arg, long out[CHILD_OUT])
{
	const struct fail_arg *a = arg;
	const struct dax_mapping_api *api = a->api;
	void *entry = dax_make_entry(PFN0, DAX_PMD);

	map_dax(0);
	if (a->mode == FAIL_DYING)
		percpu_ref_kill(&pgmap.ref);
	if (a->mode == FAIL_TRYGET)
		memremap_percpu_tryget_fail_nth(3);
	if (a->mode == FAIL_RANGE)
		entry = dax_make_entry(PFN0 + DAX_PAGES + 5, 0);
	out[0] = api->associate_entry(entry, &file, &vma, vma.vm_start, 0);
	out[1] = pins();
	out[2] = folio_ref_count(folio_at(PFN0));
	out[3] = folio_at(PFN0)->mapping == &file;
}

/*
 * Every kind of entry in turn, the count of frees from 0: what the A/B
 * case compares.
 */
static void every_entry_kind(const void *api, struct trace *t)
{
	frees = 0;
	pte_entry(api, t);
	pmd_entry(api, 0, t);
	pmd_entry(api, PMD_ORDER, t);
	pmd_entry(api, 2, t);
	busy(api, t);
	cow(api, t);
}

/*
 * The scenarios, each on both versions. Failing requests:
 * dax_associate_entry() is the one converted caller that checks the
 * request: VM_FAULT_SIGBUS, before and after the patch alike. A fault
 * racing with the device's removal is no bug, yet it WARNs.
 *
 * The return from inside the folio loop: when the third folio of a PMD
 * entry cannot be had, the two before it keep their reference (out[2]),
 * their pgmap pin (out[1]) and ->mapping (out[3]), and nothing will put
 * them (memunmap_pages() would wait for ever). The lines are the patch's
 * context: before and after.
 *
 * An entry whose pfn no pgmap maps (stale, say, after the device went):
 * folio_pgmap() is NULL and its -1 offset goes to the request unchecked;
 * the request fails safely here and the caller returns VM_FAULT_SIGBUS.
 * In the kernel, the patch's inline pfn_to_pgmap_offset() would read
 * NULL->nr_range first.
 */
static const struct scenario scenarios[] = {
	{ .name = "pte_entry", .run = pte_entry_alone },
	{ .name = "pmd_entry_of_single_pages", .run = pmd_entries },
	{ .name = "pmd_entry_of_compound_folios", .run = compound },
	{ .name = "whole_device", .run = whole_device },
	{ .name = "zap_reports_the_first_busy_folio", .run = busy_alone },
	{ .name = "copy_on_write", .run = cow_alone },
	/* In the A/B case only. */
	{
		.name = "every_entry_kind",
		.traced = every_entry_kind,
		.min_trace = 4 * PMD_PAGES,
	},
	{
		.name = "request_fails_on_dying_pgmap",
		.mode = FAIL_DYING,
		.side[AFTER] = {
			.end = RETURNS, .warns = 2,
			.warned_in = { "pgmap_request_folio",
				       "pfn_to_pgmap_offset" },
			.out = { OUT(VM_FAULT_SIGBUS), [1] = OUT(0),
				 [2] = OUT(0) },
		},
		.side[BEFORE] = {
			.end = RETURNS, .warns = 1,
			.warned_in = { "pgmap_request_folios" },
			.out = { OUT(VM_FAULT_SIGBUS), OUT(0) },
		},
		.finding = "dax_associate_entry() checks the request and "
			"returns VM_FAULT_SIGBUS on a dying pgmap, but a fault "
			"racing with the device's removal is reported as a "
			"WARN [%s]",
	},
	{
		.name = "request_fails_part_way_through_an_entry",
		.mode = FAIL_TRYGET,
		.side[AFTER] = {
			.end = RETURNS, .warns = 1,
			.warned_in = { "percpu_ref_tryget" },
			.out = { OUT(VM_FAULT_SIGBUS), OUT(2), OUT(1),
				 OUT(1) },
		},
		.side[BEFORE] = {
			.end = RETURNS, .warns = 1,
			.warned_in = { "percpu_ref_tryget" },
			.out = { OUT(VM_FAULT_SIGBUS), OUT(2) },
		},
		.finding = "dax_associate_entry() returns VM_FAULT_SIGBUS from "
			"inside its folio loop: when a later folio's request "
			"fails (here a lost percpu_ref_tryget() race, which "
			"also WARNs), the folios already requested keep their "
			"reference, pgmap pin and ->mapping, with nothing to "
			"undo them (%ld pins left; the same before the patch) "
			"[%s]",
		.finding_out = 1,
	},
	{
		.name = "request_fails_on_out_of_range_pfn",
		.mode = FAIL_RANGE,
		.side[AFTER] = {
			.end = RETURNS, .warns = 4,
			.warned_in = { "pgmap_request_folio", "pfn_to_page" },
			.out = { OUT(VM_FAULT_SIGBUS), OUT(0) },
		},
		.side[BEFORE] = {
			.end = RETURNS, .warns = 2,
			.warned_in = { "pgmap_request_folios",
				       "pfn_to_page" },
			.out = { OUT(VM_FAULT_SIGBUS), OUT(0) },
		},
		.finding = "dax_associate_entry() of an entry whose pfn no "
			"pgmap maps passes folio_pgmap() = NULL to "
			"pfn_to_pgmap_offset(), whose inline body reads "
			"pgmap->nr_range (a NULL dereference in the kernel), "
			"and its -1 on to pgmap_request_folio(); only the "
			"library's checks make that a VM_FAULT_SIGBUS [%s]",
	},
};

DEFINE_CALLER_SUITE(suite, "dax", &dax_after, &dax_before, associate_child,
		    scenarios);

SCENARIO_CASES(suite, pte_entry)
SCENARIO_CASES(suite, pmd_entry_of_single_pages)
SCENARIO_CASES(suite, pmd_entry_of_compound_folios)
SCENARIO_CASES(suite, whole_device)
SCENARIO_CASES(suite, zap_reports_the_first_busy_folio)
SCENARIO_CASES(suite, copy_on_write)

KTAP_CASE(same_state_before_and_after)
{
	EXPECT_TRUE(dax_after.associate_entry != dax_before.associate_entry);
	expect_same_state(&suite);
}

FAIL_CASE(suite, request_fails_on_dying_pgmap)
FAIL_CASE(suite, request_fails_part_way_through_an_entry)
FAIL_CASE(suite, request_fails_on_out_of_range_pfn)

/* The order passed is folio_order(folio): it cannot be wrong. */
KTAP_CASE(wrong_order_is_unreachable)
{
	struct trace t = { 0 };

	pmd_entry(&dax_after, 3, &t);
	EXPECT_WARNS(0);
	trace_free(&t);
	printf("    # dax: a wrong order cannot reach pgmap_request_folio(): "
	       "it is the folio's own\n");
}

KTAP_MAIN("callers_dax",
	  SCENARIO_ENTRIES(pte_entry),
	  SCENARIO_ENTRIES(pmd_entry_of_single_pages),
	  SCENARIO_ENTRIES(pmd_entry_of_compound_folios),
	  SCENARIO_ENTRIES(whole_device),
	  SCENARIO_ENTRIES(zap_reports_the_first_busy_folio),
	  SCENARIO_ENTRIES(copy_on_write),
	  KTAP_ENTRY(same_state_before_and_after),
	  KTAP_ENTRY(no_allocation_to_fail),
	  KTAP_ENTRY(request_fails_on_dying_pgmap),
	  KTAP_ENTRY(request_fails_part_way_through_an_entry),
	  KTAP_ENTRY(request_fails_on_out_of_range_pfn),
	  KTAP_ENTRY(wrong_order_is_unreachable))
