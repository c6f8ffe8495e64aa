// SPDX-License-Identifier: GPL-2.0-only
/*
 * A driver shaped like drivers/gpu/drm/amd/amdkfd/kfd_migrate.c (our own
 * code): GPU VRAM as device-private pages. The pgmap is the device's,
 * registered with devm_request_free_mem_region() and
 * devm_memremap_pages(), owner the device; VRAM is handed out by the
 * memory manager in buffer objects (svm_bo, here a tiny first-fit
 * allocator over VRAM pfns), and each page of a migration holds one
 * reference on its svm_bo in zone_device_data; the free callback drops it,
 * and the last reference gives the VRAM back. Order 0 in every
 * generation:
 *   6.1, 6.15   zone_device_page_init(page), ->page_free(page)
 *   6.19-rc     zone_device_page_init(page, 0), ->folio_free(folio)
 *   6.19, 7.0   zone_device_page_init(page, page_pgmap(page), 0)
 */
#include "gen_callers.h"

#define KFD_DRV			"amdkfd"
#define KFD_VRAM_SIZE		(4UL << 20)
#define KFD_VRAM_PAGES		(KFD_VRAM_SIZE >> PAGE_SHIFT)

struct kfd_adev {
	struct device dev;
	struct dev_pagemap pgmap;
	/* The VRAM manager: a bit per VRAM page in use. */
	unsigned long vram_used[BITS_TO_LONGS(KFD_VRAM_PAGES)];
	spinlock_t vram_lock;
	int page_frees;
};

/* A VRAM buffer object shared by the pages migrated into it. */
struct svm_range_bo {
	atomic_t ref;
	struct kfd_adev *adev;
	unsigned long vram_first;	/* VRAM page index */
	unsigned long npages;
};

static struct kfd_adev kfd_adev;

static struct svm_range_bo *kfd_svm_bo_alloc(struct kfd_adev *adev,
					     unsigned long npages)
{
	struct svm_range_bo *bo;
	unsigned long first;

	bo = kzalloc(sizeof(*bo), GFP_KERNEL);
	if (!bo)
		return NULL;
	spin_lock(&adev->vram_lock);
	for (first = 0; first + npages <= KFD_VRAM_PAGES; first++) {
		unsigned long i;

		for (i = 0; i < npages; i++)
			if (test_bit(first + i, adev->vram_used))
				break;
		if (i == npages)
			break;
	}
	if (first + npages > KFD_VRAM_PAGES) {
		spin_unlock(&adev->vram_lock);
		kfree(bo);
		return NULL;
	}
	bitmap_set(adev->vram_used, first, npages);
	spin_unlock(&adev->vram_lock);
	atomic_set(&bo->ref, 1);
	bo->adev = adev;
	bo->vram_first = first;
	bo->npages = npages;
	return bo;
}

static void svm_range_bo_ref(struct svm_range_bo *bo)
{
	atomic_inc(&bo->ref);
}

/* The last reference gives the VRAM back to the manager. */
static void svm_range_bo_unref(struct svm_range_bo *bo)
{
	struct kfd_adev *adev = bo->adev;

	if (!atomic_dec_and_test(&bo->ref))
		return;
	spin_lock(&adev->vram_lock);
	bitmap_clear(adev->vram_used, bo->vram_first, bo->npages);
	spin_unlock(&adev->vram_lock);
	kfree(bo);
}

static unsigned long kfd_vram_pfn(struct kfd_adev *adev, unsigned long idx)
{
	return (adev->pgmap.range.start >> PAGE_SHIFT) + idx;
}

static void kfd_page_release(struct page *page)
{
	struct svm_range_bo *svm_bo = page->zone_device_data;
	struct kfd_adev *adev = container_of(gen_page_pgmap(page),
					     struct kfd_adev, pgmap);

	adev->page_frees++;
	if (svm_bo)
		svm_range_bo_unref(svm_bo);
}

#if MEMREMAP_GEN >= MEMREMAP_GEN_6_19_RC
static void svm_migrate_folio_free(struct folio *folio)
{
	kfd_page_release(&folio->page);
}
#else
static void svm_migrate_page_free(struct page *page)
{
	kfd_page_release(page);
}
#endif

static vm_fault_t svm_migrate_to_ram(struct vm_fault *vmf)
{
	(void)vmf;
	return VM_FAULT_SIGBUS;
}

static const struct dev_pagemap_ops svm_migrate_pgmap_ops = {
#if MEMREMAP_GEN >= MEMREMAP_GEN_6_19_RC
	.folio_free = svm_migrate_folio_free,
#else
	.page_free = svm_migrate_page_free,
#endif
	.migrate_to_ram = svm_migrate_to_ram,
};

static int svm_migrate_init(struct kfd_adev *adev)
{
	struct dev_pagemap *pgmap = &adev->pgmap;
	struct resource *res;
	void *r;

	memset(adev, 0, sizeof(*adev));
	adev->dev.init_name = "amdgpu";
	spin_lock_init(&adev->vram_lock);
	res = devm_request_free_mem_region(&adev->dev, &iomem_resource,
					   KFD_VRAM_SIZE);
	if (IS_ERR(res))
		return PTR_ERR(res);
	pgmap->type = MEMORY_DEVICE_PRIVATE;
	pgmap->range.start = res->start;
	pgmap->range.end = res->end;
	pgmap->nr_range = 1;
	pgmap->ops = &svm_migrate_pgmap_ops;
	pgmap->owner = adev;
	pgmap->flags = 0;
	r = devm_memremap_pages(&adev->dev, pgmap);
	if (IS_ERR(r)) {
		devm_release_mem_region(&adev->dev, res->start,
					resource_size(res));
		return PTR_ERR(r);
	}
	return 0;
}

static void svm_migrate_fini(struct kfd_adev *adev)
{
	struct dev_pagemap *pgmap = &adev->pgmap;

	devm_memunmap_pages(&adev->dev, pgmap);
	devm_release_mem_region(&adev->dev, pgmap->range.start,
				range_len(&pgmap->range));
}

/* One page of a migration into @svm_bo's VRAM. */
static struct page *svm_migrate_get_vram_page(struct svm_range_bo *svm_bo,
					      unsigned long i)
{
	struct page *page;

	page = pfn_to_page(kfd_vram_pfn(svm_bo->adev, svm_bo->vram_first + i));
	svm_range_bo_ref(svm_bo);
	page->zone_device_data = svm_bo;
#if MEMREMAP_GEN >= MEMREMAP_GEN_6_19
	zone_device_page_init(page, page_pgmap(page), 0);
#elif MEMREMAP_GEN == MEMREMAP_GEN_6_19_RC
	zone_device_page_init(page, 0);
#else
	zone_device_page_init(page);
#endif
	return page;
}

KTAP_CASE(kfd_svm_bo_pages_live_free_and_reuse)
{
	struct kfd_adev *adev = &kfd_adev;
	struct svm_range_bo *bo;
	struct gen_baseline base;
	struct page *pages[16];
	unsigned long first;
	int i, round;

	gen_baseline_take(&base);
	EXPECT_EQ(svm_migrate_init(adev), 0);
	EXPECT_EQ(memremap_pgmap_generation(&adev->pgmap), MEMREMAP_GEN);
	for (round = 0; round < 2; round++) {
		bo = kfd_svm_bo_alloc(adev, 16);
		EXPECT_NOT_NULL(bo);
		if (!bo)
			return;
		first = bo->vram_first;
		/* The VRAM the first round gave back is reused. */
		EXPECT_EQ(first, 0);
		for (i = 0; i < 16; i++) {
			pages[i] = svm_migrate_get_vram_page(bo, i);
			EXPECT_EQ(page_count(pages[i]), 1);
			EXPECT_TRUE(PageLocked(pages[i]));
			EXPECT_PTR_EQ(gen_page_pgmap(pages[i]), &adev->pgmap);
			unlock_page(pages[i]);
		}
		EXPECT_EQ(atomic_read(&bo->ref), 17);
		EXPECT_EQ(memremap_pgmap_pins(&adev->pgmap), 16);
		/* The range drops its own reference; the pages hold the bo. */
		svm_range_bo_unref(bo);
		for (i = 0; i < 16; i++)
			put_page(pages[i]);
		EXPECT_EQ(adev->page_frees, 16 * (round + 1));
		EXPECT_EQ(memremap_pgmap_pins(&adev->pgmap), 0);
		EXPECT_TRUE(bitmap_empty(adev->vram_used, KFD_VRAM_PAGES));
	}
	svm_migrate_fini(adev);
	EXPECT_EQ(memremap_devres_count(&adev->dev), 0);
	EXPECT_BASELINE(&base);
	EXPECT_WARNS(0);
}

static void kfd_teardown(void *drv)
{
	svm_migrate_fini(drv);
}

/* The GPU is removed while a page is in use and a migration races it. */
KTAP_CASE(kfd_get_vram_page_while_tearing_down)
{
	struct gen_teardown t = { .teardown = kfd_teardown, .drv = &kfd_adev };
	struct kfd_adev *adev = &kfd_adev;
	struct svm_range_bo *bo;
	struct gen_baseline base;
	struct page *a, *b;

	gen_baseline_take(&base);
	EXPECT_EQ(svm_migrate_init(adev), 0);
	bo = kfd_svm_bo_alloc(adev, 2);
	EXPECT_NOT_NULL(bo);
	if (!bo)
		return;
	a = svm_migrate_get_vram_page(bo, 0);
	unlock_page(a);
	gen_teardown_start(&t, &adev->pgmap);
	memremap_warn_quiet(true);
	b = svm_migrate_get_vram_page(bo, 1);
	EXPECT_EQ(page_count(b), 1);
	unlock_page(b);
	svm_range_bo_unref(bo);
#if MEMREMAP_GEN >= MEMREMAP_GEN_6_19_RC
	EXPECT_WARNS(0);
	EXPECT_EQ(memremap_pgmap_pins(&adev->pgmap), 2);
	put_page(b);
	put_page(a);
	gen_teardown_join(&t);
	EXPECT_EQ(adev->page_frees, 2);
	EXPECT_TRUE(bitmap_empty(adev->vram_used, KFD_VRAM_PAGES));
	EXPECT_WARNS(0);
#else
	EXPECT_WARNS(1);
	EXPECT_EQ(memremap_pgmap_pins(&adev->pgmap), 1);
	put_page(b);
	gen_teardown_join(&t);
	EXPECT_EQ(memremap_mapped_pgmaps(), base.mapped);
	EXPECT_EQ(adev->page_frees, 1);
	EXPECT_WARNS(2);
	put_page(a);
	EXPECT_WARNS(3);
	/* Page a's reference on the bo is never dropped: VRAM leaks. */
	EXPECT_EQ(adev->page_frees, 1);
	EXPECT_EQ(atomic_read(&bo->ref), 1);
	EXPECT_FALSE(bitmap_empty(adev->vram_used, KFD_VRAM_PAGES));
	svm_range_bo_unref(bo);
	GEN_FINDING(KFD_DRV, "svm_migrate_get_vram_page() on the dying "
		    "pgmap: zone_device_page_init() WARNs and hands the page "
		    "out; its free drops a pin never taken, the device's "
		    "pgmap is unmapped under a VRAM page in use, whose "
		    "->page_free never runs (its svm_bo and VRAM leak)");
#endif
	memremap_warn_quiet(false);
	EXPECT_EQ(memremap_devres_count(&adev->dev), 0);
	EXPECT_BASELINE(&base);
}

#define KFD_CASES							\
	KTAP_ENTRY(kfd_svm_bo_pages_live_free_and_reuse),		\
	KTAP_ENTRY(kfd_get_vram_page_while_tearing_down)
