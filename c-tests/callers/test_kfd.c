// SPDX-License-Identifier: GPL-2.0-only
/*
 * svm_migrate_get_vram_page() and svm_migrate_copy_to_vram()
 * (drivers/gpu/drm/amd/amdkfd/kfd_migrate.c), before and after the patch,
 * driven through a migration of system pages to VRAM and back to idle:
 * the VRAM pgmap svm_migrate_init() maps, the resource cursor, the DMA
 * mappings, the SDMA copies, the svm_bo references and
 * svm_migrate_page_free().
 *
 * The test plays the core mm's part: it builds the migrate_vma (system
 * pages in src[]), and after the copy drops the VRAM pages' references
 * (unlock_page(), put_page()) and the DMA mappings, as the rest of the
 * migration would.
 */
#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/percpu-refcount.h>
#include <memremap/test.h>
#include "ktap.h"
#include "callers_test.h"
#include "kfd_priv.h"

/* VRAM: 4 MiB. */
#define VRAM_PAGES	1024UL

struct world {
	const struct kfd_migrate_api *api;
	struct device dev;
	struct kfd_dev kfddev;
	struct amdgpu_device adev;
	struct ttm_resource res;
	struct svm_range prange;
	struct migrate_vma migrate;
	dma_addr_t *scratch;
	struct page **sys;
	unsigned long npages;
	unsigned long unrefs0;
};

static unsigned long first_pfn(struct world *w)
{
	return w->kfddev.pgmap.range.start >> PAGE_SHIFT;
}

static long pins(struct world *w)
{
	return memremap_pgmap_pins(&w->kfddev.pgmap);
}

/* A device with its VRAM registered, and a range with its svm_bo. */
static struct world *world_new(const struct kfd_migrate_api *api)
{
	struct world *w = calloc(1, sizeof(*w));

	w->api = api;
	w->dev.init_name = "amdgpu";
	w->adev.dev = &w->dev;
	w->adev.kfd.dev = &w->kfddev;
	w->adev.gmc.real_vram_size = VRAM_PAGES << PAGE_SHIFT;
	EXPECT_EQ(api->init(&w->adev), 0);
	EXPECT_TRUE(memremap_pgmap_is_mapped(&w->kfddev.pgmap));
	w->prange.svm_bo = mock_svm_range_bo_alloc();
	w->prange.ttm_res = &w->res;
	w->prange.start = 0x1000;
	w->prange.last = 0x1fff;
	w->unrefs0 = mock_svm_bo_unrefs;
	return w;
}

/* VRAM for the range: blocks of (start page, pages). */
static void world_vram(struct world *w, int n, const unsigned long *blocks)
{
	int i;

	w->res.nr_blocks = n;
	for (i = 0; i < n; i++) {
		w->res.blocks[i].start = blocks[2 * i] << PAGE_SHIFT;
		w->res.blocks[i].size = blocks[2 * i + 1] << PAGE_SHIFT;
	}
}

/* @npages system pages to migrate; no page where @hole says so. */
static void world_migrate(struct world *w, unsigned long npages,
			  bool (*hole)(unsigned long i))
{
	unsigned long i;

	w->npages = npages;
	w->migrate.npages = npages;
	w->migrate.src = calloc(npages, sizeof(unsigned long));
	w->migrate.dst = calloc(npages, sizeof(unsigned long));
	w->scratch = calloc(2 * npages, sizeof(dma_addr_t));
	w->sys = calloc(npages, sizeof(*w->sys));
	for (i = 0; i < npages; i++) {
		if (hole && hole(i))
			continue;
		w->sys[i] = alloc_page(GFP_KERNEL);
		w->migrate.src[i] = migrate_pfn(page_to_pfn(w->sys[i])) |
				    MIGRATE_PFN_MIGRATE;
	}
}

static int world_copy(struct world *w)
{
	return w->api->copy_to_vram(&w->adev, &w->prange, &w->migrate, NULL,
				    w->scratch);
}

/* The VRAM page dst[i] names, or NULL. */
static struct page *vram_page(struct world *w, unsigned long i)
{
	unsigned long mpfn = w->migrate.dst[i];

	return mpfn ? pfn_to_page(mpfn >> MIGRATE_PFN_SHIFT) : NULL;
}

/* The rest of the migration: VRAM pages dropped, DMA unmapped. */
static void world_finish(struct world *w)
{
	unsigned long i;

	for (i = 0; i < w->npages; i++) {
		struct page *page = vram_page(w, i);

		if (page) {
			unlock_page(page);
			put_page(page);
		}
		if (w->scratch[i] && !dma_mapping_error(&w->dev, w->scratch[i]))
			dma_unmap_page(&w->dev, w->scratch[i], PAGE_SIZE,
				       DMA_TO_DEVICE);
		if (w->sys[i])
			__free_page(w->sys[i]);
	}
	free(w->migrate.src);
	free(w->migrate.dst);
	free(w->scratch);
	free(w->sys);
	w->npages = 0;
}

/* The range goes, then the device: memunmap_pages() must not wait. */
static void world_free(struct world *w)
{
	svm_range_bo_unref_async(w->prange.svm_bo);
	EXPECT_UNMAPS_PROMPTLY(w->api->fini(&w->adev));
	EXPECT_FALSE(memremap_pgmap_is_mapped(&w->kfddev.pgmap));
	EXPECT_EQ(callers_regions_live(), 0);
	EXPECT_EQ(memremap_dma_live(), 0);
	EXPECT_EQ(memremap_system_pages_live(), 0);
	free(w);
}

/*
 * The state a copy leaves, page by page: which VRAM page each system page
 * went to, its refcount, lock and zone_device_data.
 */
static void trace_copy(struct world *w, struct trace *t, int r)
{
	unsigned long i;

	trace(t, "r", r);
	for (i = 0; i < w->npages; i++) {
		struct page *page = vram_page(w, i);
		long long off = page ? (long long)(page_to_pfn(page) -
						    first_pfn(w)) : -1;

		trace(t, "vram pfn offset", off);
		trace(t, "refcount", page ? page_ref_count(page) : -1);
		trace(t, "locked", page ? PageLocked(page) : -1);
		trace(t, "holds svm_bo",
		      page ? page->zone_device_data == w->prange.svm_bo : -1);
		trace(t, "dma mapped", w->scratch[i] != 0);
	}
	trace(t, "pins", pins(w));
	trace(t, "svm_bo refs", svm_range_bo_refcount(w->prange.svm_bo));
	trace(t, "sdma jobs", w->adev.sdma_jobs);
	trace(t, "sdma pages", w->adev.sdma_pages_to_vram);
	trace(t, "dma live", memremap_dma_live());
}

static bool no_hole(unsigned long i)
{
	(void)i;
	return false;
}

/*
 * 16 system pages into two 8-page VRAM blocks: each page gets the next
 * VRAM page of its block, locked, referenced once, holding the svm_bo;
 * the SDMA engine copies one batch per block.
 */
static void success_path(const void *arg)
{
	const struct kfd_migrate_api *api = arg;
	static const unsigned long blocks[] = { 0, 8, 256, 8 };
	struct world *w = world_new(api);
	unsigned long i, bad = 0;
	int r;

	world_vram(w, 2, blocks);
	world_migrate(w, 16, no_hole);
	r = world_copy(w);
	EXPECT_EQ(r, 0);
	for (i = 0; i < 16; i++) {
		struct page *page = vram_page(w, i);
		unsigned long want = first_pfn(w) + (i < 8 ? i : 256 + i - 8);

		if (!page || page_to_pfn(page) != want ||
		    page_ref_count(page) != 1 || !PageLocked(page) ||
		    page->zone_device_data != w->prange.svm_bo ||
		    !is_device_private_page(page) ||
		    folio_pgmap(page_folio(page)) != &w->kfddev.pgmap)
			bad++;
	}
	EXPECT_EQ(bad, 0);
	EXPECT_EQ(pins(w), 16);
	EXPECT_EQ(svm_range_bo_refcount(w->prange.svm_bo), 1 + 16);
	EXPECT_EQ(memremap_dma_live(), 16);
	EXPECT_EQ(w->adev.sdma_jobs, 2);
	EXPECT_EQ(w->adev.sdma_pages_to_vram, 16);

	world_finish(w);
	/* page_free once per page: one svm_bo reference each. */
	EXPECT_EQ(mock_svm_bo_unrefs - w->unrefs0, 16);
	EXPECT_EQ(svm_range_bo_refcount(w->prange.svm_bo), 1);
	EXPECT_EQ(pins(w), 0);
	EXPECT_WARNS(0);
	world_free(w);
}

/* All of VRAM at once, then every page freed. */
static void fill_then_free(const void *arg, struct trace *t)
{
	const struct kfd_migrate_api *api = arg;
	static const unsigned long all[] = { 0, VRAM_PAGES };
	struct world *w = world_new(api);
	unsigned long released = mock_svm_bo_released;
	int r;

	world_vram(w, 1, all);
	world_migrate(w, VRAM_PAGES, no_hole);
	r = world_copy(w);
	EXPECT_EQ(r, 0);
	EXPECT_EQ(pins(w), VRAM_PAGES);
	EXPECT_EQ(memremap_pgmap_busy_pages(&w->kfddev.pgmap), VRAM_PAGES);
	EXPECT_EQ(svm_range_bo_refcount(w->prange.svm_bo), 1 + VRAM_PAGES);
	/* One batch: the block ends where the pages do. */
	EXPECT_EQ(w->adev.sdma_jobs, 1);
	trace_copy(w, t, r);
	world_finish(w);
	EXPECT_EQ(mock_svm_bo_unrefs - w->unrefs0, VRAM_PAGES);
	EXPECT_EQ(svm_range_bo_refcount(w->prange.svm_bo), 1);
	EXPECT_EQ(pins(w), 0);
	EXPECT_EQ(memremap_pgmap_busy_pages(&w->kfddev.pgmap), 0);
	trace(t, "unrefs", mock_svm_bo_unrefs - w->unrefs0);
	trace(t, "pins freed", pins(w));
	EXPECT_WARNS(0);
	world_free(w);
	/* The range's own reference was the last. */
	EXPECT_EQ(mock_svm_bo_released, released + 1);
}


/* Pages 3, 11 and 12 have nothing to migrate. */
static bool some_holes(unsigned long i)
{
	return i == 3 || i == 11 || i == 12;
}

static void holes(const void *arg, struct trace *t)
{
	const struct kfd_migrate_api *api = arg;
	unsigned long warns = ktap_warns();
	static const unsigned long blocks[] = { 64, 6, 512, 10, 8, 8 };
	struct world *w = world_new(api);

	world_vram(w, 3, blocks);
	world_migrate(w, 20, some_holes);
	trace_copy(w, t, world_copy(w));
	world_finish(w);
	trace(t, "unrefs", mock_svm_bo_unrefs - w->unrefs0);
	trace(t, "pins", pins(w));
	trace(t, "warns", ktap_warns() - warns);
	world_free(w);
}

/*
 * Every failure the copy can meet: an SDMA job that cannot be allocated
 * (one kmalloc() per batch), a DMA mapping error. Each puts back every
 * VRAM page taken so far, the failing one included.
 */
static void copy_failures(const void *arg)
{
	const struct kfd_migrate_api *api = arg;
	static const unsigned long blocks[] = { 0, 8, 256, 8 };
	unsigned long n, sites = 0, i;

	for (n = 1; n < 10; n++) {
		struct world *w = world_new(api);
		unsigned long taken;
		int r;

		world_vram(w, 2, blocks);
		world_migrate(w, 16, no_hole);
		if (!FAILED_NTH_ALLOCATION(n, r = world_copy(w))) {
			EXPECT_EQ(r, 0);
			world_finish(w);
			world_free(w);
			break;
		}
		sites++;
		EXPECT_EQ(r, -ENOMEM);
		for (i = 0, taken = 0; i < 16; i++)
			taken += w->migrate.dst[i] != 0;
		EXPECT_EQ(taken, 0);
		EXPECT_EQ(pins(w), 0);
		EXPECT_EQ(svm_range_bo_refcount(w->prange.svm_bo), 1);
		/* The first job fails after 8 pages, the second after 16. */
		EXPECT_EQ(mock_svm_bo_unrefs - w->unrefs0, 8 * sites);
		world_finish(w);
		world_free(w);
	}
	EXPECT_EQ(sites, 2);

	/* The fifth DMA mapping fails: pages 0-4 were taken, 0-4 go back. */
	{
		struct world *w = world_new(api);
		int r;

		world_vram(w, 2, blocks);
		world_migrate(w, 16, no_hole);
		memremap_dma_fail_nth(5);
		r = world_copy(w);
		memremap_dma_fail_nth(0);
		EXPECT_EQ(r, -ENOMEM);
		EXPECT_EQ(pins(w), 0);
		EXPECT_EQ(mock_svm_bo_unrefs - w->unrefs0, 5);
		EXPECT_EQ(svm_range_bo_refcount(w->prange.svm_bo), 1);
		EXPECT_EQ(memremap_dma_live(), 4);
		world_finish(w);
		world_free(w);
	}
	EXPECT_WARNS(0);
}

/*
 * svm_migrate_init() failing: the region's resource or memremap_pages()'s
 * percpu_ref cannot be allocated, memremap_pages() fails, no free address
 * space. The region goes back each time; nothing stays mapped.
 */
static void init_failures(const void *arg)
{
	const struct kfd_migrate_api *api = arg;
	struct device dev = { .init_name = "amdgpu" };
	struct kfd_dev *kfddev = calloc(1, sizeof(*kfddev));
	struct amdgpu_device adev = {
		.dev = &dev,
		.kfd.dev = kfddev,
		.gmc.real_vram_size = VRAM_PAGES << PAGE_SHIFT,
	};
	unsigned long n, sites = 0;
	int r;

	for (n = 1; n < 10; n++) {
		if (!FAILED_NTH_ALLOCATION(n, r = api->init(&adev))) {
			EXPECT_EQ(r, 0);
			api->fini(&adev);
			break;
		}
		sites++;
		EXPECT_EQ(r, -ENOMEM);
		EXPECT_FALSE(memremap_pgmap_is_mapped(&kfddev->pgmap));
		EXPECT_EQ(callers_regions_live(), 0);
	}
	EXPECT_EQ(sites, 2);
	mock_memremap_fail_nth(1);
	EXPECT_EQ(api->init(&adev), -ENOMEM);
	EXPECT_EQ(callers_regions_live(), 0);
	callers_fence(2UL << 20);
	EXPECT_EQ(api->init(&adev), -ENOMEM);
	callers_unfence();
	EXPECT_FALSE(memremap_pgmap_is_mapped(&kfddev->pgmap));
	EXPECT_WARNS(0);
	free(kfddev);
}

/* ---- pgmap_request_folio() failing under the converted caller ---- */

/*
 * In the child: a device, the pgmap broken one way (FAIL_DYING; FAIL_ORDER:
 * VRAM registered as order-1 folios; FAIL_TRYGET; FAIL_RANGE: VRAM past
 * what svm_migrate_init() registered: the region request_free_mem_region()
 * gave, real_vram_size rounded up to a memory section), a copy of two
 * pages.
 */
static void copy_child(void *arg, long out[CHILD_OUT])
{
	const struct fail_arg *a = arg;
	static const unsigned long inside[] = { 0, 8 };
	unsigned long past[] = { 0, 8 };
	struct world *w;
	struct page *page;

	if (a->mode == FAIL_ORDER)
		mock_memremap_vmemmap_shift(1);
	w = world_new(a->api);
	past[0] = range_len(&w->kfddev.pgmap.range) >> PAGE_SHIFT;
	world_vram(w, 1, a->mode == FAIL_RANGE ? past : inside);
	world_migrate(w, 2, no_hole);
	if (a->mode == FAIL_DYING)
		percpu_ref_kill(&w->kfddev.pgmap.ref);
	if (a->mode == FAIL_TRYGET)
		memremap_percpu_tryget_fail_nth(1);
	out[0] = world_copy(w);
	page = vram_page(w, 0);
	out[1] = page ? page_ref_count(page) : -1;
	out[2] = page ? page == memremap_poison_page() : -1;
	out[3] = pins(w);
	out[4] = svm_range_bo_refcount(w->prange.svm_bo);
}

/*
 * The scenarios, each on both versions. Failing requests: after the patch
 * svm_migrate_get_vram_page() takes an svm_bo reference and writes
 * zone_device_data through the folio it did not check: a NULL dereference.
 * Before it, the page came from pfn_to_page() and the failed request was
 * ignored: the copy "succeeded" with VRAM pages at refcount 0. VRAM the
 * pgmap does not cover (the driver registers the region it got for
 * real_vram_size; a VRAM manager handing out more, or a reserved-size
 * fix-up, would do this):
 * pfn_to_pgmap_offset() says -1 and the caller passes it straight to
 * pgmap_request_folio(); before the patch, pfn_to_page() of a pfn no pgmap
 * maps (the library's poison page).
 */
static const struct scenario scenarios[] = {
	{ .name = "success_path", .run = success_path },
	{
		.name = "fill_then_free",
		.traced = fill_then_free,
		.min_trace = 5 * VRAM_PAGES,
	},
	/* In the A/B case only. */
	{ .name = "holes", .traced = holes, .min_trace = 5 * 20 },
	{ .name = "copy_failures", .run = copy_failures },
	{ .name = "init_failures", .run = init_failures },
	{
		.name = "request_fails_on_dying_pgmap",
		.mode = FAIL_DYING,
		.side[AFTER] = {
			.end = CRASHES, .warns = 2,
			.warned_in = { "pgmap_request_folio",
				       "pfn_to_pgmap_offset" },
		},
		.side[BEFORE] = {
			.end = RETURNS, .warns = 1,
			.warned_in = { "pgmap_request_folios" },
			.out = { OUT(0), OUT(0) },
		},
		.finding = "svm_migrate_get_vram_page() does not check "
			"pgmap_request_folio() for NULL: on a dying pgmap it "
			"takes an svm_bo reference, then writes "
			"page->zone_device_data through NULL [%s]; before the "
			"patch the copy returned 0 with VRAM pages at "
			"refcount 0 and no pgmap pin",
	},
	{
		.name = "request_fails_on_wrong_order",
		.mode = FAIL_ORDER,
		.side[AFTER] = {
			.end = CRASHES, .warns = 1,
			.warned_in = { "folio_order" },
		},
		.side[BEFORE] = {
			.end = RETURNS, .warns = 2,
			.warned_in = { "pgmap_request_folios", "lock_page" },
			.out = { OUT(0) },
		},
		.finding = "svm_migrate_get_vram_page() asks for order 0: on "
			"VRAM registered as order-1 folios the request fails "
			"and the caller dereferences NULL [%s]",
	},
	{
		.name = "request_fails_on_tryget_race",
		.mode = FAIL_TRYGET,
		.side[AFTER] = {
			.end = CRASHES, .warns = 1,
			.warned_in = { "percpu_ref_tryget" },
		},
		.side[BEFORE] = {
			.end = RETURNS, .warns = 1,
			.warned_in = { "percpu_ref_tryget" },
			.out = { [1] = OUT(0) },
		},
		.finding = "a percpu_ref_tryget() that loses a race makes "
			"pgmap_request_folio() return NULL, which "
			"svm_migrate_get_vram_page() dereferences [%s]",
	},
	{
		.name = "request_fails_on_out_of_range_pfn",
		.mode = FAIL_RANGE,
		.side[AFTER] = {
			.end = CRASHES, .warns = 1,
			.warned_in = { "past the end" },
		},
		.side[BEFORE] = {
			/*
			 * Each page's pfn_to_page(), request and
			 * lock_page(), then the SDMA copy's.
			 */
			.end = RETURNS, .warns = 9,
			.warned_in = { "pfn_to_page" },
			.out = { [2] = OUT(1) },
		},
		.finding = "a VRAM offset outside the registered pgmap goes "
			"unchecked from pfn_to_pgmap_offset() (-1) into "
			"pgmap_request_folio(), and the NULL it returns is "
			"dereferenced [%s]; before the patch, pfn_to_page() "
			"of a pfn no pgmap maps",
	},
};

DEFINE_CALLER_SUITE(suite, "kfd", &kfd_after, &kfd_before, copy_child,
		    scenarios);

SCENARIO_CASES(suite, success_path)
SCENARIO_CASES(suite, fill_then_free)

KTAP_CASE(same_state_before_and_after)
{
	EXPECT_TRUE(kfd_after.copy_to_vram != kfd_before.copy_to_vram);
	expect_same_state(&suite);
}

SCENARIO_CASES(suite, copy_failures)
SCENARIO_CASES(suite, init_failures)
FAIL_CASE(suite, request_fails_on_dying_pgmap)
FAIL_CASE(suite, request_fails_on_wrong_order)
FAIL_CASE(suite, request_fails_on_tryget_race)
FAIL_CASE(suite, request_fails_on_out_of_range_pfn)

KTAP_MAIN("callers_kfd",
	  SCENARIO_ENTRIES(success_path),
	  SCENARIO_ENTRIES(fill_then_free),
	  KTAP_ENTRY(same_state_before_and_after),
	  SCENARIO_ENTRIES(copy_failures),
	  SCENARIO_ENTRIES(init_failures),
	  KTAP_ENTRY(request_fails_on_dying_pgmap),
	  KTAP_ENTRY(request_fails_on_wrong_order),
	  KTAP_ENTRY(request_fails_on_tryget_race),
	  KTAP_ENTRY(request_fails_on_out_of_range_pfn))
