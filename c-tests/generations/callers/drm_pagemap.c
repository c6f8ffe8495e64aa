// SPDX-License-Identifier: GPL-2.0-only
/*
 * A driver shaped like drivers/gpu/drm/drm_pagemap.c with its Xe user
 * (our own code): the device registers its VRAM as one device-private
 * pgmap (devm_request_free_mem_region(), devm_memremap_pages(), owner the
 * device); a migration takes VRAM from the device's buddy allocator (here
 * a two-order buddy over 2 MiB blocks: order 9, or order 0 out of a
 * split block), makes one zone-device-data object (zdd) for the
 * migration, and each folio it initialises holds a zdd reference in
 * zone_device_data; the free callback drops it, and the last reference
 * gives the VRAM back to the buddy allocator, from which any order may
 * be taken next.
 *   6.1          none: GPU SVM and drm_pagemap came later (n/a)
 *   6.15         zone_device_page_init(page), ->page_free(page) (in 6.15
 *                itself drm_gpusvm_get_devmem_page() in drm_gpusvm.c;
 *                drm_pagemap.c from 6.16)
 *   6.19-rc      zone_device_page_init(page, 0), ->folio_free(folio)
 *   6.19         zone_device_page_init(page, page_pgmap(page), 0)
 *   7.0          THP: zone_device_folio_init(folio,
 *                    zdd->dpagemap->pagemap, order), order 9 or 0
 * The 6.19-rc program also runs the THP migration against the 6.19-rc
 * API, as drm-tip carried it on 6.19-rc before the fix
 * ("mm/zone_device: Reinitialize large zone device private folios").
 */
#include "gen_callers.h"

#define DRM_PAGEMAP_DRV		"drm_pagemap"

#if MEMREMAP_GEN >= MEMREMAP_GEN_6_15

#if MEMREMAP_GEN >= MEMREMAP_GEN_6_19 && \
	LINUX_VERSION_CODE >= KERNEL_VERSION(7, 0, 0)
#define DRM_PAGEMAP_THP		1	/* as shipped */
#elif MEMREMAP_GEN == MEMREMAP_GEN_6_19_RC
#define DRM_PAGEMAP_THP		1	/* drm-tip on 6.19-rc, one case */
#else
#define DRM_PAGEMAP_THP		0
#endif

#define XE_VRAM_BLOCKS		4
#define XE_VRAM_PAGES		(XE_VRAM_BLOCKS * HPAGE_PMD_NR)
#define XE_MAX_BLOCKS		4

struct drm_pagemap {
	struct dev_pagemap *pagemap;
	struct device *dev;
};

struct xe_vram {
	struct device dev;
	struct drm_pagemap dpagemap;
	spinlock_t lock;
	unsigned long used[BITS_TO_LONGS(XE_VRAM_PAGES)];
	int frees;
	unsigned int last_free_order;
	struct dev_pagemap pagemap;
};

/* A migration's VRAM: buddy blocks, each (first page, order). */
struct drm_pagemap_devmem {
	struct xe_vram *vr;
	unsigned int nr;
	unsigned long first[XE_MAX_BLOCKS];
	unsigned int order[XE_MAX_BLOCKS];
};

struct drm_pagemap_zdd {
	atomic_t ref;
	struct drm_pagemap_devmem *devmem_allocation;
	struct drm_pagemap *dpagemap;
};

static struct xe_vram xe_vram;
#if MEMREMAP_GEN == MEMREMAP_GEN_6_19_RC
/* A device whose pgmap a case leaves abandoned: never reused. */
static struct xe_vram xe_vram_stale;
#endif

static unsigned long xe_block_used(struct xe_vram *vr, unsigned long blk)
{
	unsigned long i, n = 0;

	for (i = 0; i < HPAGE_PMD_NR; i++)
		n += test_bit(blk * HPAGE_PMD_NR + i, vr->used);
	return n;
}

/*
 * The buddy allocator: an order-9 block that is wholly free, or an
 * order-0 page, from a block already split if there is one (as a buddy
 * allocator takes the smallest free block), else splitting the first free
 * block. Returns the VRAM page index, or -1.
 */
static long xe_buddy_alloc(struct xe_vram *vr, unsigned int order)
{
	unsigned long blk, i;
	long found = -1;

	spin_lock(&vr->lock);
	if (order) {
		for (blk = 0; blk < XE_VRAM_BLOCKS && found < 0; blk++)
			if (!xe_block_used(vr, blk))
				found = blk * HPAGE_PMD_NR;
	} else {
		for (blk = 0; blk < XE_VRAM_BLOCKS && found < 0; blk++) {
			unsigned long used = xe_block_used(vr, blk);

			if (!used || used == HPAGE_PMD_NR)
				continue;
			for (i = 0; i < HPAGE_PMD_NR && found < 0; i++)
				if (!test_bit(blk * HPAGE_PMD_NR + i, vr->used))
					found = blk * HPAGE_PMD_NR + i;
		}
		for (blk = 0; blk < XE_VRAM_BLOCKS && found < 0; blk++)
			if (!xe_block_used(vr, blk))
				found = blk * HPAGE_PMD_NR;
	}
	if (found >= 0)
		bitmap_set(vr->used, found, 1U << order);
	spin_unlock(&vr->lock);
	return found;
}

static void drm_pagemap_devmem_release(struct drm_pagemap_devmem *devmem)
{
	struct xe_vram *vr = devmem->vr;
	unsigned int i;

	spin_lock(&vr->lock);
	for (i = 0; i < devmem->nr; i++)
		bitmap_clear(vr->used, devmem->first[i],
			     1U << devmem->order[i]);
	spin_unlock(&vr->lock);
	kfree(devmem);
}

static struct drm_pagemap_zdd *drm_pagemap_zdd_alloc(struct drm_pagemap *dp)
{
	struct drm_pagemap_zdd *zdd = kzalloc(sizeof(*zdd), GFP_KERNEL);

	if (!zdd)
		return NULL;
	atomic_set(&zdd->ref, 1);
	zdd->dpagemap = dp;
	return zdd;
}

static struct drm_pagemap_zdd *drm_pagemap_zdd_get(struct drm_pagemap_zdd *z)
{
	atomic_inc(&z->ref);
	return z;
}

static void drm_pagemap_zdd_put(struct drm_pagemap_zdd *zdd)
{
	if (!atomic_dec_and_test(&zdd->ref))
		return;
	if (zdd->devmem_allocation)
		drm_pagemap_devmem_release(zdd->devmem_allocation);
	kfree(zdd);
}

static void drm_pagemap_release(struct page *page)
{
	struct xe_vram *vr = container_of(gen_page_pgmap(page),
					  struct xe_vram, pagemap);

	vr->frees++;
	vr->last_free_order = folio_order(page_folio(page));
	drm_pagemap_zdd_put(page->zone_device_data);
}

#if MEMREMAP_GEN >= MEMREMAP_GEN_6_19_RC
static void drm_pagemap_folio_free(struct folio *folio)
{
	drm_pagemap_release(&folio->page);
}
#else
static void drm_pagemap_page_free(struct page *page)
{
	drm_pagemap_release(page);
}
#endif

static vm_fault_t drm_pagemap_migrate_to_ram(struct vm_fault *vmf)
{
	(void)vmf;
	return VM_FAULT_SIGBUS;
}

static const struct dev_pagemap_ops drm_pagemap_pagemap_ops = {
#if MEMREMAP_GEN >= MEMREMAP_GEN_6_19_RC
	.folio_free = drm_pagemap_folio_free,
#else
	.page_free = drm_pagemap_page_free,
#endif
	.migrate_to_ram = drm_pagemap_migrate_to_ram,
};

/* The device's VRAM as a pgmap, as Xe registers it. */
static int xe_devm_add(struct xe_vram *vr)
{
	struct resource *res;
	void *addr;

	memset(vr, 0, sizeof(*vr));
	vr->dev.init_name = "xe";
	spin_lock_init(&vr->lock);
	res = devm_request_free_mem_region(&vr->dev, &iomem_resource,
					   XE_VRAM_PAGES * PAGE_SIZE);
	if (IS_ERR(res))
		return PTR_ERR(res);
	vr->pagemap.type = MEMORY_DEVICE_PRIVATE;
	vr->pagemap.range.start = res->start;
	vr->pagemap.range.end = res->end;
	vr->pagemap.nr_range = 1;
	vr->pagemap.ops = &drm_pagemap_pagemap_ops;
	vr->pagemap.owner = &vr->dev;
	addr = devm_memremap_pages(&vr->dev, &vr->pagemap);
	if (IS_ERR(addr)) {
		devm_release_mem_region(&vr->dev, res->start,
					resource_size(res));
		return PTR_ERR(addr);
	}
	vr->dpagemap.pagemap = &vr->pagemap;
	vr->dpagemap.dev = &vr->dev;
	return 0;
}

static void xe_devm_remove(struct xe_vram *vr)
{
	devm_memunmap_pages(&vr->dev, &vr->pagemap);
	devm_release_mem_region(&vr->dev, vr->pagemap.range.start,
				range_len(&vr->pagemap.range));
}

/* Associate a new device folio with the migration's zdd. */
static void drm_pagemap_get_devmem_page(struct page *page, unsigned int order,
					struct drm_pagemap_zdd *zdd)
{
#if DRM_PAGEMAP_THP && MEMREMAP_GEN >= MEMREMAP_GEN_6_19
	zone_device_folio_init((struct folio *)page, zdd->dpagemap->pagemap,
			       order);
	folio_set_zone_device_data(page_folio(page), drm_pagemap_zdd_get(zdd));
#elif DRM_PAGEMAP_THP
	zone_device_folio_init((struct folio *)page, order);
	folio_set_zone_device_data(page_folio(page), drm_pagemap_zdd_get(zdd));
#else
	(void)order;
	page->zone_device_data = drm_pagemap_zdd_get(zdd);
#if MEMREMAP_GEN >= MEMREMAP_GEN_6_19
	zone_device_page_init(page, page_pgmap(page), 0);
#elif MEMREMAP_GEN == MEMREMAP_GEN_6_19_RC
	zone_device_page_init(page, 0);
#else
	zone_device_page_init(page);
#endif
#endif
}

/*
 * Migrate @n folios of @order into VRAM: the buddy blocks, the zdd, each
 * folio initialised while the others are (as migrate_vma holds them,
 * locked) and unlocked at the end, as migrate_vma_finalize() does; the
 * migration's own zdd reference dropped. The folios' heads go in @out.
 */
static int drm_pagemap_migrate_to_devmem(struct xe_vram *vr, unsigned int n,
					 unsigned int order, struct page **out)
{
	struct drm_pagemap_devmem *devmem;
	struct drm_pagemap_zdd *zdd;
	unsigned int i;

	devmem = kzalloc(sizeof(*devmem), GFP_KERNEL);
	if (!devmem)
		return -ENOMEM;
	devmem->vr = vr;
	for (i = 0; i < n && i < XE_MAX_BLOCKS; i++) {
		long first = xe_buddy_alloc(vr, order);

		if (first < 0) {
			drm_pagemap_devmem_release(devmem);
			return -ENOSPC;
		}
		devmem->first[devmem->nr] = first;
		devmem->order[devmem->nr++] = order;
	}
	zdd = drm_pagemap_zdd_alloc(&vr->dpagemap);
	if (!zdd) {
		drm_pagemap_devmem_release(devmem);
		return -ENOMEM;
	}
	zdd->devmem_allocation = devmem;
	for (i = 0; i < devmem->nr; i++) {
		out[i] = pfn_to_page((vr->pagemap.range.start >> PAGE_SHIFT) +
				     devmem->first[i]);
		drm_pagemap_get_devmem_page(out[i], order, zdd);
	}
	for (i = 0; i < devmem->nr; i++)
		unlock_page(out[i]);
	drm_pagemap_zdd_put(zdd);
	return 0;
}

KTAP_CASE(drm_pagemap_pages_live_free_and_reuse)
{
	struct xe_vram *vr = &xe_vram;
	struct gen_baseline base;
	struct page *pages[4];
	int i, round;

	gen_baseline_take(&base);
	EXPECT_EQ(xe_devm_add(vr), 0);
	EXPECT_EQ(memremap_pgmap_generation(&vr->pagemap), MEMREMAP_GEN);
	for (round = 0; round < 2; round++) {
		struct drm_pagemap_zdd *zdd;

		EXPECT_EQ(drm_pagemap_migrate_to_devmem(vr, 4, 0, pages), 0);
		zdd = pages[0]->zone_device_data;
		EXPECT_EQ(atomic_read(&zdd->ref), 4);
		for (i = 0; i < 4; i++) {
			EXPECT_EQ(page_count(pages[i]), 1);
			EXPECT_FALSE(PageLocked(pages[i]));
			EXPECT_PTR_EQ(page_pgmap(pages[i]), &vr->pagemap);
			EXPECT_PTR_EQ(pages[i]->zone_device_data, zdd);
		}
		/* The first VRAM pages, whichever round. */
		EXPECT_EQ(page_to_pfn(pages[3]) -
			  (vr->pagemap.range.start >> PAGE_SHIFT), 3);
		EXPECT_EQ(memremap_pgmap_pins(&vr->pagemap), 4);
		for (i = 0; i < 4; i++)
			put_page(pages[i]);
		EXPECT_EQ(vr->frees, 4 * (round + 1));
		EXPECT_EQ(memremap_pgmap_pins(&vr->pagemap), 0);
		EXPECT_TRUE(bitmap_empty(vr->used, XE_VRAM_PAGES));
	}
	xe_devm_remove(vr);
	EXPECT_EQ(memremap_devres_count(&vr->dev), 0);
	EXPECT_BASELINE(&base);
	EXPECT_WARNS(0);
}

#if DRM_PAGEMAP_THP
/*
 * A 2 MiB THP migration, freed; then two 4 KiB migrations, which the
 * buddy allocator serves from the same block: pages 0 and 1 of the freed
 * order-9 folio, handed out at order 0; then the block at order 9 again.
 * 6.19 resets every page of a new folio, so each is what its order says.
 * 6.19-rc does not: page 0 is still an order-9 head, page 1 still its
 * tail. The migration locks page 0, then page 1's init locks page 1's
 * folio, which is page 0 (the kernel deadlocks there; the library's lock
 * wait gives up and WARNs), and the unlock of page 1 at the end of the
 * migration unlocks page 0 a second time; page 0's free is an order-9
 * free that drops 512 pins for the 1 taken; page 1 is never freed on
 * its own. The pgmap can then not be unmapped.
 */
KTAP_CASE(drm_pagemap_thp_then_order0_from_the_same_block)
{
#if MEMREMAP_GEN == MEMREMAP_GEN_6_19_RC
	struct xe_vram *vr = &xe_vram_stale;
#else
	struct xe_vram *vr = &xe_vram;
#endif
	struct page *thp, *p[2];
	struct gen_baseline base;
	struct folio *folio;

	gen_baseline_take(&base);
	EXPECT_EQ(xe_devm_add(vr), 0);
	EXPECT_EQ(drm_pagemap_migrate_to_devmem(vr, 1, HPAGE_PMD_ORDER, &thp),
		  0);
	folio = page_folio(thp);
	EXPECT_EQ(folio_order(folio), HPAGE_PMD_ORDER);
	EXPECT_EQ(folio_ref_count(folio), 1);
	EXPECT_EQ(memremap_pgmap_pins(&vr->pagemap), HPAGE_PMD_NR);
	EXPECT_NOT_NULL(folio_zone_device_data(folio));
	folio_put(folio);
	EXPECT_EQ(vr->frees, 1);
	EXPECT_EQ(vr->last_free_order, HPAGE_PMD_ORDER);
	EXPECT_EQ(memremap_pgmap_pins(&vr->pagemap), 0);
	EXPECT_TRUE(bitmap_empty(vr->used, XE_VRAM_PAGES));
#if MEMREMAP_GEN >= MEMREMAP_GEN_6_19
	EXPECT_EQ(drm_pagemap_migrate_to_devmem(vr, 2, 0, p), 0);
	EXPECT_PTR_EQ(p[0], thp);
	EXPECT_PTR_EQ(p[1], folio_page(folio, 1));
	EXPECT_FALSE(folio_test_large(page_folio(p[0])));
	EXPECT_PTR_EQ(page_folio(p[1]), (struct folio *)p[1]);
	EXPECT_EQ(page_count(p[0]), 1);
	EXPECT_EQ(page_count(p[1]), 1);
	EXPECT_PTR_EQ(page_pgmap(p[1]), &vr->pagemap);
	EXPECT_EQ(memremap_pgmap_pins(&vr->pagemap), 2);
	put_page(p[0]);
	put_page(p[1]);
	EXPECT_EQ(vr->frees, 3);
	EXPECT_EQ(vr->last_free_order, 0);
	EXPECT_EQ(memremap_pgmap_pins(&vr->pagemap), 0);
	EXPECT_TRUE(bitmap_empty(vr->used, XE_VRAM_PAGES));
	/* And the block at order 9 once more. */
	EXPECT_EQ(drm_pagemap_migrate_to_devmem(vr, 1, HPAGE_PMD_ORDER, &thp),
		  0);
	EXPECT_PTR_EQ(page_folio(thp), folio);
	EXPECT_EQ(folio_order(folio), HPAGE_PMD_ORDER);
	EXPECT_PTR_EQ(page_folio(p[1]), folio);
	EXPECT_EQ(memremap_pgmap_pins(&vr->pagemap), HPAGE_PMD_NR);
	folio_put(folio);
	EXPECT_EQ(vr->frees, 4);
	EXPECT_EQ(memremap_pgmap_pins(&vr->pagemap), 0);
	xe_devm_remove(vr);
	EXPECT_EQ(memremap_devres_count(&vr->dev), 0);
	EXPECT_BASELINE(&base);
	EXPECT_WARNS(0);
#else
	{
		struct drm_pagemap_zdd *zdd;

		memremap_set_wait_bound_ms(20);
		memremap_warn_quiet(true);
		EXPECT_EQ(drm_pagemap_migrate_to_devmem(vr, 2, 0, p), 0);
		EXPECT_PTR_EQ(p[0], thp);
		EXPECT_PTR_EQ(p[1], folio_page(folio, 1));
		/* Page 0 still heads an order-9 folio holding page 1. */
		EXPECT_TRUE(folio_test_large(folio));
		EXPECT_EQ(folio_nr_pages(folio), HPAGE_PMD_NR);
		EXPECT_PTR_EQ(page_folio(p[1]), folio);
		EXPECT_EQ(memremap_pgmap_pins(&vr->pagemap), 2);
		/*
		 * Page 1's lock waited on page 0, locked by the migration;
		 * the migration's unlock of page 1 unlocked page 0 again.
		 */
		EXPECT_WARNS(2);
		zdd = folio_zone_device_data(folio);
		EXPECT_EQ(atomic_read(&zdd->ref), 2);
		folio_put(folio);
		EXPECT_EQ(vr->frees, 2);
		EXPECT_EQ(vr->last_free_order, HPAGE_PMD_ORDER);
		EXPECT_WARNS(3);
		EXPECT_EQ(memremap_pgmap_pins(&vr->pagemap), 2 - HPAGE_PMD_NR);
		/* Page 1's zdd reference is never dropped: VRAM leaks. */
		EXPECT_EQ(atomic_read(&zdd->ref), 1);
		EXPECT_FALSE(bitmap_empty(vr->used, XE_VRAM_PAGES));
		drm_pagemap_zdd_put(zdd);
		GEN_FINDING(DRM_PAGEMAP_DRV, "THP migration (drm-tip on "
			    "6.19-rc), then 4 KiB migrations the buddy "
			    "allocator serves from the freed 2 MiB block: "
			    "page 0 is re-initialised as a stale order-9 "
			    "head, page 1 resolves to it, so the migration's "
			    "lock of page 1 waits on its own lock of page 0 "
			    "(a deadlock in the kernel) and its unlock "
			    "unlocks page 0 twice, page 0 frees as order 9 "
			    "dropping 512 pins for 1 taken, page 1's zdd "
			    "reference and VRAM leak, and the pgmap can "
			    "never be unmapped");
		/* The pgmap cannot be unmapped: its pins are unbalanced. */
		xe_devm_remove(vr);
		EXPECT_TRUE(memremap_pgmap_is_abandoned(&vr->pagemap));
		EXPECT_EQ(memremap_devres_count(&vr->dev), 0);
		EXPECT_EQ(memremap_mapped_pgmaps(), base.mapped + 1);
		EXPECT_EQ(memremap_iomem_regions(), base.iomem);
		memremap_warn_quiet(false);
		memremap_set_wait_bound_ms(10000);
	}
#endif
}
#define DRM_PAGEMAP_THP_CASES						\
	KTAP_ENTRY(drm_pagemap_thp_then_order0_from_the_same_block),
#else
#define DRM_PAGEMAP_THP_CASES
#endif

static void drm_pagemap_teardown(void *drv)
{
	xe_devm_remove(drv);
}

/* The device is removed while a page is in use and a migration races. */
KTAP_CASE(drm_pagemap_migrate_while_tearing_down)
{
	struct gen_teardown t = {
		.teardown = drm_pagemap_teardown, .drv = &xe_vram
	};
	struct xe_vram *vr = &xe_vram;
	struct gen_baseline base;
	struct page *a, *b;

	gen_baseline_take(&base);
	EXPECT_EQ(xe_devm_add(vr), 0);
	EXPECT_EQ(drm_pagemap_migrate_to_devmem(vr, 1, 0, &a), 0);
	gen_teardown_start(&t, &vr->pagemap);
	memremap_warn_quiet(true);
	EXPECT_EQ(drm_pagemap_migrate_to_devmem(vr, 1, 0, &b), 0);
	EXPECT_EQ(page_count(b), 1);
#if MEMREMAP_GEN >= MEMREMAP_GEN_6_19_RC
	EXPECT_WARNS(0);
	EXPECT_EQ(memremap_pgmap_pins(&vr->pagemap), 2);
	put_page(b);
	put_page(a);
	gen_teardown_join(&t);
	EXPECT_EQ(vr->frees, 2);
	EXPECT_WARNS(0);
#else
	{
		struct drm_pagemap_zdd *zdd = a->zone_device_data;

		EXPECT_WARNS(1);
		EXPECT_EQ(memremap_pgmap_pins(&vr->pagemap), 1);
		put_page(b);
		gen_teardown_join(&t);
		EXPECT_EQ(memremap_mapped_pgmaps(), base.mapped);
		EXPECT_WARNS(2);
		put_page(a);
		EXPECT_WARNS(3);
		EXPECT_EQ(vr->frees, 1);
		/* Page a's zdd and VRAM are never released. */
		EXPECT_EQ(atomic_read(&zdd->ref), 1);
		drm_pagemap_zdd_put(zdd);
		GEN_FINDING(DRM_PAGEMAP_DRV, "a migration on the dying "
			    "pgmap: zone_device_page_init() WARNs and hands "
			    "the page out; its free drops a pin never taken, "
			    "the VRAM pgmap is unmapped under a page in use, "
			    "whose ->page_free never runs (its zdd and VRAM "
			    "leak)");
	}
#endif
	memremap_warn_quiet(false);
	EXPECT_TRUE(bitmap_empty(vr->used, XE_VRAM_PAGES));
	EXPECT_EQ(memremap_devres_count(&vr->dev), 0);
	EXPECT_BASELINE(&base);
}

#define DRM_PAGEMAP_CASES						\
	KTAP_ENTRY(drm_pagemap_pages_live_free_and_reuse),		\
	DRM_PAGEMAP_THP_CASES						\
	KTAP_ENTRY(drm_pagemap_migrate_while_tearing_down),
#else /* 6.1: no GPU SVM, no drm_pagemap */
#define DRM_PAGEMAP_CASES
#endif
