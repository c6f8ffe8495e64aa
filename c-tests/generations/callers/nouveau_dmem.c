// SPDX-License-Identifier: GPL-2.0-only
/*
 * A driver shaped like drivers/gpu/drm/nouveau/nouveau_dmem.c (our own
 * code): VRAM chunks as device-private memory, each chunk its own pgmap
 * over a region from request_free_mem_region(), owner the DRM device.
 * Pages are handed out from a free list threaded through
 * zone_device_data; from 6.19-rc large folios (order 9, one per 2 MiB of a
 * chunk allocated for them) from a second list, free_folios, and the free
 * callback puts a folio back on the list of its order. A folio of a list
 * is only ever reused at the order of that list.
 *   6.1, 6.15   zone_device_page_init(page), ->page_free(page)
 *   6.19-rc     zone_device_folio_init(folio, order), ->folio_free(folio),
 *               ->folio_split(head, tail)
 *   6.19, 7.0   zone_device_folio_init(folio,
 *                   page_pgmap(folio_page(folio, 0)), order)
 * Divergence: a chunk here is NOUVEAU_NR_CHUNKS (8) x 2 MiB, where 6.19-rc
 * registers 128 x 2 MiB at once; no VRAM buffer object, no copy engine.
 */
#include "gen_callers.h"

#define NOUVEAU_DRV		"nouveau"
#define DMEM_CHUNK_SIZE		(2UL << 20)
#define DMEM_CHUNK_NPAGES	(DMEM_CHUNK_SIZE >> PAGE_SHIFT)
#if MEMREMAP_GEN >= MEMREMAP_GEN_6_19_RC
#define NOUVEAU_NR_CHUNKS	8
#else
#define NOUVEAU_NR_CHUNKS	1
#endif

struct nouveau_drm;

struct nouveau_dmem_chunk {
	struct list_head list;
	struct nouveau_drm *drm;
	unsigned long callocated;
	struct dev_pagemap pagemap;
};

struct nouveau_dmem {
	struct nouveau_drm *drm;
	struct list_head chunks;
	struct mutex mutex;
	struct page *free_pages;
#if MEMREMAP_GEN >= MEMREMAP_GEN_6_19_RC
	struct folio *free_folios;
#endif
	spinlock_t lock;
	int frees;
	int splits;
};

struct nouveau_drm {
	struct device dev;
	struct nouveau_dmem *dmem;
};

static struct nouveau_drm nouveau_drm;

static struct nouveau_dmem_chunk *nouveau_page_to_chunk(struct page *page)
{
	return container_of(gen_page_pgmap(page), struct nouveau_dmem_chunk,
			    pagemap);
}

static void nouveau_dmem_release(struct page *page)
{
	struct nouveau_dmem_chunk *chunk = nouveau_page_to_chunk(page);
	struct nouveau_dmem *dmem = chunk->drm->dmem;

	spin_lock(&dmem->lock);
#if MEMREMAP_GEN >= MEMREMAP_GEN_6_19_RC
	if (folio_order(page_folio(page))) {
		page->zone_device_data = dmem->free_folios;
		dmem->free_folios = page_folio(page);
	} else
#endif
	{
		page->zone_device_data = dmem->free_pages;
		dmem->free_pages = page;
	}
	WARN_ON(!chunk->callocated);
	chunk->callocated--;
	dmem->frees++;
	spin_unlock(&dmem->lock);
}

#if MEMREMAP_GEN >= MEMREMAP_GEN_6_19_RC
static void nouveau_dmem_folio_free(struct folio *folio)
{
	nouveau_dmem_release(&folio->page);
}

static void nouveau_dmem_folio_split(struct folio *head, struct folio *tail)
{
	if (!tail)
		return;
	tail->pgmap = head->pgmap;
	tail->mapping = head->mapping;
	folio_set_zone_device_data(tail, folio_zone_device_data(head));
	nouveau_drm.dmem->splits++;
}
#else
static void nouveau_dmem_page_free(struct page *page)
{
	nouveau_dmem_release(page);
}
#endif

static vm_fault_t nouveau_dmem_migrate_to_ram(struct vm_fault *vmf)
{
	(void)vmf;
	return VM_FAULT_SIGBUS;
}

static const struct dev_pagemap_ops nouveau_dmem_pagemap_ops = {
#if MEMREMAP_GEN >= MEMREMAP_GEN_6_19_RC
	.folio_free = nouveau_dmem_folio_free,
	.folio_split = nouveau_dmem_folio_split,
#else
	.page_free = nouveau_dmem_page_free,
#endif
	.migrate_to_ram = nouveau_dmem_migrate_to_ram,
};

/*
 * A new chunk: its region, its pgmap, every page (or, for @is_large,
 * every 2 MiB folio) on the free lists but the one returned in *@ppage.
 */
static int nouveau_dmem_chunk_alloc(struct nouveau_drm *drm,
				    struct page **ppage, bool is_large)
{
	struct nouveau_dmem_chunk *chunk;
	unsigned long pfn, pfn_first, pfn_end;
	struct resource *res;
	void *ptr;

	chunk = kzalloc(sizeof(*chunk), GFP_KERNEL);
	if (!chunk)
		return -ENOMEM;
	res = request_free_mem_region(&iomem_resource,
				      DMEM_CHUNK_SIZE * NOUVEAU_NR_CHUNKS,
				      "nouveau_dmem");
	if (IS_ERR(res)) {
		kfree(chunk);
		return PTR_ERR(res);
	}
	chunk->drm = drm;
	chunk->pagemap.type = MEMORY_DEVICE_PRIVATE;
	chunk->pagemap.range.start = res->start;
	chunk->pagemap.range.end = res->end;
	chunk->pagemap.nr_range = 1;
	chunk->pagemap.ops = &nouveau_dmem_pagemap_ops;
	chunk->pagemap.owner = &drm->dev;
	ptr = memremap_pages(&chunk->pagemap, gen_numa_node_id());
	if (IS_ERR(ptr)) {
		release_mem_region(res->start, resource_size(res));
		kfree(chunk);
		return PTR_ERR(ptr);
	}
	mutex_lock(&drm->dmem->mutex);
	list_add(&chunk->list, &drm->dmem->chunks);
	mutex_unlock(&drm->dmem->mutex);

	pfn_first = chunk->pagemap.range.start >> PAGE_SHIFT;
	pfn_end = pfn_first + (range_len(&chunk->pagemap.range) >> PAGE_SHIFT);
	spin_lock(&drm->dmem->lock);
	for (pfn = pfn_first; pfn < pfn_end; ) {
		struct page *page = pfn_to_page(pfn);

#if MEMREMAP_GEN >= MEMREMAP_GEN_6_19_RC
		if (is_large) {
			page->zone_device_data = drm->dmem->free_folios;
			drm->dmem->free_folios = page_folio(page);
			pfn += DMEM_CHUNK_NPAGES;
			continue;
		}
#endif
		page->zone_device_data = drm->dmem->free_pages;
		drm->dmem->free_pages = page;
		pfn++;
	}
#if MEMREMAP_GEN >= MEMREMAP_GEN_6_19_RC
	if (is_large) {
		*ppage = &drm->dmem->free_folios->page;
		drm->dmem->free_folios = (*ppage)->zone_device_data;
	} else
#endif
	{
		(void)is_large;
		*ppage = drm->dmem->free_pages;
		drm->dmem->free_pages = (*ppage)->zone_device_data;
	}
	chunk->callocated++;
	spin_unlock(&drm->dmem->lock);
	return 0;
}

static struct page *nouveau_dmem_page_alloc_locked(struct nouveau_drm *drm,
						   bool is_large)
{
	struct nouveau_dmem_chunk *chunk;
	struct page *page = NULL;
	struct folio *folio;
	unsigned int order = 0;

	spin_lock(&drm->dmem->lock);
#if MEMREMAP_GEN >= MEMREMAP_GEN_6_19_RC
	if (is_large && drm->dmem->free_folios) {
		folio = drm->dmem->free_folios;
		page = &folio->page;
		drm->dmem->free_folios = page->zone_device_data;
		chunk = nouveau_page_to_chunk(page);
		chunk->callocated++;
		spin_unlock(&drm->dmem->lock);
		order = ilog2(DMEM_CHUNK_NPAGES);
	} else
#endif
	if (!is_large && drm->dmem->free_pages) {
		page = drm->dmem->free_pages;
		drm->dmem->free_pages = page->zone_device_data;
		chunk = nouveau_page_to_chunk(page);
		chunk->callocated++;
		spin_unlock(&drm->dmem->lock);
	} else {
		spin_unlock(&drm->dmem->lock);
		if (nouveau_dmem_chunk_alloc(drm, &page, is_large))
			return NULL;
		if (is_large)
			order = ilog2(DMEM_CHUNK_NPAGES);
	}
	folio = page_folio(page);
	(void)folio;
	(void)order;
#if MEMREMAP_GEN >= MEMREMAP_GEN_6_19
	zone_device_folio_init(folio, page_pgmap(folio_page(folio, 0)), order);
#elif MEMREMAP_GEN == MEMREMAP_GEN_6_19_RC
	zone_device_folio_init(folio, order);
#else
	zone_device_page_init(page);
#endif
	return page;
}

static int nouveau_dmem_init(struct nouveau_drm *drm)
{
	memset(drm, 0, sizeof(*drm));
	drm->dev.init_name = "nouveau";
	drm->dmem = kzalloc(sizeof(*drm->dmem), GFP_KERNEL);
	if (!drm->dmem)
		return -ENOMEM;
	drm->dmem->drm = drm;
	mutex_init(&drm->dmem->mutex);
	INIT_LIST_HEAD(&drm->dmem->chunks);
	spin_lock_init(&drm->dmem->lock);
	return 0;
}

static void nouveau_dmem_fini(struct nouveau_drm *drm)
{
	struct nouveau_dmem_chunk *chunk, *tmp;

	mutex_lock(&drm->dmem->mutex);
	list_for_each_entry_safe(chunk, tmp, &drm->dmem->chunks, list) {
		unsigned long start = chunk->pagemap.range.start;
		unsigned long len = range_len(&chunk->pagemap.range);

		memunmap_pages(&chunk->pagemap);
		release_mem_region(start, len);
		list_del(&chunk->list);
		kfree(chunk);
	}
	mutex_unlock(&drm->dmem->mutex);
	mutex_destroy(&drm->dmem->mutex);
	kfree(drm->dmem);
	drm->dmem = NULL;
}

/* migrate_vma_finalize(): the new page unlocked and put. */
static void nouveau_finalize(struct page *page)
{
	folio_unlock(page_folio(page));
	folio_put(page_folio(page));
}

KTAP_CASE(nouveau_dmem_pages_live_free_and_reuse)
{
	struct nouveau_drm *drm = &nouveau_drm;
	struct nouveau_dmem_chunk *chunk;
	struct page *pages[4], *again;
	struct gen_baseline base;
	int i;

	gen_baseline_take(&base);
	EXPECT_EQ(nouveau_dmem_init(drm), 0);
	for (i = 0; i < 4; i++) {
		pages[i] = nouveau_dmem_page_alloc_locked(drm, false);
		EXPECT_NOT_NULL(pages[i]);
		if (!pages[i])
			return;
		EXPECT_EQ(page_count(pages[i]), 1);
		EXPECT_TRUE(PageLocked(pages[i]));
	}
	chunk = nouveau_page_to_chunk(pages[0]);
	EXPECT_EQ(memremap_pgmap_generation(&chunk->pagemap), MEMREMAP_GEN);
	EXPECT_PTR_EQ(chunk->pagemap.owner, &drm->dev);
	EXPECT_EQ(chunk->callocated, 4);
	EXPECT_EQ(memremap_pgmap_pins(&chunk->pagemap), 4);
	for (i = 0; i < 4; i++)
		nouveau_finalize(pages[i]);
	EXPECT_EQ(drm->dmem->frees, 4);
	EXPECT_EQ(chunk->callocated, 0);
	EXPECT_EQ(memremap_pgmap_pins(&chunk->pagemap), 0);
	/* The list is LIFO: the last page freed is the next handed out. */
	again = nouveau_dmem_page_alloc_locked(drm, false);
	EXPECT_PTR_EQ(again, pages[3]);
	EXPECT_EQ(page_count(again), 1);
	EXPECT_EQ(memremap_pgmap_pins(&chunk->pagemap), 1);
	nouveau_finalize(again);
	EXPECT_EQ(memremap_pgmap_pins(&chunk->pagemap), 0);
	nouveau_dmem_fini(drm);
	EXPECT_BASELINE(&base);
	EXPECT_WARNS(0);
}

#if MEMREMAP_GEN >= MEMREMAP_GEN_6_19_RC
/*
 * THP migration: order-9 folios from free_folios, freed back to it still
 * compound, and reused at order 9 (6.19-rc builds the compound metadata
 * again over the stale one, which is the same); order-0 pages come from
 * their own chunk meanwhile.
 */
KTAP_CASE(nouveau_dmem_thp_folios_free_and_reuse_at_order9)
{
	struct nouveau_drm *drm = &nouveau_drm;
	struct nouveau_dmem_chunk *chunk;
	struct page *large[2], *small, *again;
	struct gen_baseline base;
	struct folio *folio;
	unsigned long i, bad = 0;

	gen_baseline_take(&base);
	EXPECT_EQ(nouveau_dmem_init(drm), 0);
	large[0] = nouveau_dmem_page_alloc_locked(drm, true);
	large[1] = nouveau_dmem_page_alloc_locked(drm, true);
	small = nouveau_dmem_page_alloc_locked(drm, false);
	EXPECT_NOT_NULL(large[0]);
	EXPECT_NOT_NULL(large[1]);
	EXPECT_NOT_NULL(small);
	if (!large[0] || !large[1] || !small)
		return;
	chunk = nouveau_page_to_chunk(large[0]);
	EXPECT_PTR_EQ(nouveau_page_to_chunk(large[1]), chunk);
	EXPECT_NE(nouveau_page_to_chunk(small), chunk);
	folio = page_folio(large[0]);
	EXPECT_EQ(folio_order(folio), HPAGE_PMD_ORDER);
	EXPECT_TRUE(folio_test_large_rmappable(folio));
	EXPECT_EQ(folio_ref_count(folio), 1);
	EXPECT_TRUE(folio_test_locked(folio));
	EXPECT_EQ(memremap_pgmap_pins(&chunk->pagemap), 2 * HPAGE_PMD_NR);
	for (i = 1; i < HPAGE_PMD_NR; i++)
		bad += page_folio(folio_page(folio, i)) != folio;
	EXPECT_EQ(bad, 0);
	folio_set_zone_device_data(folio, drm);
	EXPECT_PTR_EQ(folio_zone_device_data(folio), drm);
	nouveau_finalize(large[0]);
	nouveau_finalize(large[1]);
	nouveau_finalize(small);
	EXPECT_EQ(drm->dmem->frees, 3);
	EXPECT_EQ(memremap_pgmap_pins(&chunk->pagemap), 0);
	EXPECT_EQ(chunk->callocated, 0);
	/* Freed still compound, on free_folios, the last freed first. */
	EXPECT_PTR_EQ(drm->dmem->free_folios, page_folio(large[1]));
	EXPECT_TRUE(folio_test_large(folio));
	again = nouveau_dmem_page_alloc_locked(drm, true);
	EXPECT_PTR_EQ(again, large[1]);
	EXPECT_EQ(folio_order(page_folio(again)), HPAGE_PMD_ORDER);
	EXPECT_EQ(folio_ref_count(page_folio(again)), 1);
	EXPECT_EQ(memremap_pgmap_pins(&chunk->pagemap), HPAGE_PMD_NR);
	nouveau_finalize(again);
	EXPECT_EQ(memremap_pgmap_pins(&chunk->pagemap), 0);
	nouveau_dmem_fini(drm);
	EXPECT_BASELINE(&base);
	EXPECT_WARNS(0);
}
#define NOUVEAU_LARGE_CASES						\
	KTAP_ENTRY(nouveau_dmem_thp_folios_free_and_reuse_at_order9),
#else
#define NOUVEAU_LARGE_CASES
#endif

static void nouveau_teardown(void *drv)
{
	nouveau_dmem_fini(drv);
}

/* The device goes away while a page is in use and a migration races it. */
KTAP_CASE(nouveau_dmem_alloc_while_tearing_down)
{
	struct gen_teardown t = {
		.teardown = nouveau_teardown, .drv = &nouveau_drm
	};
	struct nouveau_drm *drm = &nouveau_drm;
	struct gen_baseline base;
	struct page *a, *b;

	gen_baseline_take(&base);
	EXPECT_EQ(nouveau_dmem_init(drm), 0);
	a = nouveau_dmem_page_alloc_locked(drm, false);
	EXPECT_NOT_NULL(a);
	if (!a)
		return;
	unlock_page(a);
	gen_teardown_start(&t, gen_page_pgmap(a));
	memremap_warn_quiet(true);
	b = nouveau_dmem_page_alloc_locked(drm, false);
	EXPECT_NOT_NULL(b);
	if (!b)
		return;
	EXPECT_EQ(page_count(b), 1);
#if MEMREMAP_GEN >= MEMREMAP_GEN_6_19_RC
	EXPECT_WARNS(0);
	EXPECT_EQ(memremap_pgmap_pins(gen_page_pgmap(a)), 2);
	nouveau_finalize(b);
	put_page(a);
	gen_teardown_join(&t);
	EXPECT_WARNS(0);
#else
	EXPECT_WARNS(1);
	EXPECT_EQ(memremap_pgmap_pins(gen_page_pgmap(a)), 1);
	nouveau_finalize(b);
	gen_teardown_join(&t);
	EXPECT_EQ(memremap_mapped_pgmaps(), base.mapped);
	EXPECT_WARNS(2);
	put_page(a);
	EXPECT_WARNS(3);
	GEN_FINDING(NOUVEAU_DRV, "nouveau_dmem_page_alloc_locked() on the "
		    "dying chunk: zone_device_page_init() WARNs and hands the "
		    "page out; its free drops a pin never taken, "
		    "nouveau_dmem_fini() unmaps and frees the chunk under a "
		    "page in use, whose ->page_free never runs");
#endif
	memremap_warn_quiet(false);
	EXPECT_BASELINE(&base);
}

#define NOUVEAU_CASES							\
	KTAP_ENTRY(nouveau_dmem_pages_live_free_and_reuse),		\
	NOUVEAU_LARGE_CASES						\
	KTAP_ENTRY(nouveau_dmem_alloc_while_tearing_down)
