// SPDX-License-Identifier: GPL-2.0-only
/*
 * A driver shaped like lib/test_hmm.c (our own code): the dmirror
 * device's fake device-private memory. Chunks, each a pgmap over a region
 * from request_free_mem_region(), owner the dmirror device; pages handed
 * out from a free list threaded through zone_device_data, each with a
 * buffer of system memory holding its data (the kernel's "rpage": a page,
 * from 6.19-rc a folio of the same order) in zone_device_data; from
 * 6.19-rc order-9 folios from free_folios, filled with every aligned
 * 2 MiB of a chunk allocated for them, and the free callback puts a folio
 * back on the list of its order.
 *   6.1, 6.15   zone_device_page_init(dpage), ->page_free(page)
 *   6.19-rc     zone_device_folio_init(page_folio(dpage), order),
 *               ->folio_free(folio)
 *   6.19, 7.0   zone_device_folio_init(page_folio(dpage),
 *                   page_pgmap(folio_page(page_folio(dpage), 0)), order)
 * Divergences: a chunk is 16 MiB (the kernel's 256 MiB); the backing
 * "rpage" is kmalloc()ed memory (the library has no system-RAM page
 * allocator: no alloc_page()/folio_alloc()).
 */
#include "gen_callers.h"

#define DMIRROR_DRV		"test_hmm"
#define DEVMEM_CHUNK_SIZE	(16UL << 20)

struct dmirror_device;

struct dmirror_chunk {
	struct dmirror_device *mdevice;
	bool remove;
	struct dev_pagemap pagemap;
};

struct dmirror_device {
	struct mutex devmem_lock;
	unsigned int devmem_capacity;
	unsigned int devmem_count;
	struct dmirror_chunk **devmem_chunks;
	unsigned long calloc;
	unsigned long cfree;
	struct page *free_pages;
#if MEMREMAP_GEN >= MEMREMAP_GEN_6_19_RC
	struct folio *free_folios;
#endif
	spinlock_t lock;
};

static struct dmirror_device dmirror_device;

static struct dmirror_chunk *dmirror_page_to_chunk(struct page *page)
{
	return container_of(gen_page_pgmap(page), struct dmirror_chunk,
			    pagemap);
}

static struct dmirror_device *dmirror_page_to_device(struct page *page)
{
	return dmirror_page_to_chunk(page)->mdevice;
}

static void dmirror_devmem_release(struct page *page)
{
	struct dmirror_device *mdevice = dmirror_page_to_device(page);
	unsigned int order = 0;

#if MEMREMAP_GEN >= MEMREMAP_GEN_6_19_RC
	order = folio_order(page_folio(page));
#endif
	kfree(page->zone_device_data);
	page->zone_device_data = NULL;
	spin_lock(&mdevice->lock);
	if (!dmirror_page_to_chunk(page)->remove) {
		mdevice->cfree += 1UL << order;
#if MEMREMAP_GEN >= MEMREMAP_GEN_6_19_RC
		if (order) {
			page->zone_device_data = mdevice->free_folios;
			mdevice->free_folios = page_folio(page);
		} else
#endif
		{
			page->zone_device_data = mdevice->free_pages;
			mdevice->free_pages = page;
		}
	}
	spin_unlock(&mdevice->lock);
}

#if MEMREMAP_GEN >= MEMREMAP_GEN_6_19_RC
static void dmirror_devmem_folio_free(struct folio *folio)
{
	dmirror_devmem_release(&folio->page);
}
#else
static void dmirror_devmem_free(struct page *page)
{
	dmirror_devmem_release(page);
}
#endif

static vm_fault_t dmirror_devmem_fault(struct vm_fault *vmf)
{
	(void)vmf;
	return VM_FAULT_SIGBUS;
}

static const struct dev_pagemap_ops dmirror_devmem_ops = {
#if MEMREMAP_GEN >= MEMREMAP_GEN_6_19_RC
	.folio_free = dmirror_devmem_folio_free,
#else
	.page_free = dmirror_devmem_free,
#endif
	.migrate_to_ram = dmirror_devmem_fault,
};

static int dmirror_allocate_chunk(struct dmirror_device *mdevice,
				  struct page **ppage, bool is_large)
{
	unsigned long pfn, pfn_first, pfn_last;
	struct dmirror_chunk *devmem;
	struct resource *res;
	void *ptr;
	int ret = -ENOMEM;

	devmem = kzalloc(sizeof(*devmem), GFP_KERNEL);
	if (!devmem)
		return ret;
	res = request_free_mem_region(&iomem_resource, DEVMEM_CHUNK_SIZE,
				      "hmm_dmirror");
	if (IS_ERR(res)) {
		kfree(devmem);
		return PTR_ERR(res);
	}
	devmem->pagemap.type = MEMORY_DEVICE_PRIVATE;
	devmem->pagemap.range.start = res->start;
	devmem->pagemap.range.end = res->end;
	devmem->pagemap.nr_range = 1;
	devmem->pagemap.ops = &dmirror_devmem_ops;
	devmem->pagemap.owner = mdevice;

	mutex_lock(&mdevice->devmem_lock);
	if (mdevice->devmem_count == mdevice->devmem_capacity) {
		unsigned int new_capacity = mdevice->devmem_capacity + 4;
		struct dmirror_chunk **new_chunks;

		new_chunks = krealloc(mdevice->devmem_chunks,
				      sizeof(new_chunks[0]) * new_capacity,
				      GFP_KERNEL);
		if (!new_chunks)
			goto err_release;
		mdevice->devmem_capacity = new_capacity;
		mdevice->devmem_chunks = new_chunks;
	}
	ptr = memremap_pages(&devmem->pagemap, gen_numa_node_id());
	if (IS_ERR(ptr)) {
		ret = PTR_ERR(ptr);
		goto err_release;
	}
	devmem->mdevice = mdevice;
	mdevice->devmem_chunks[mdevice->devmem_count++] = devmem;
	mutex_unlock(&mdevice->devmem_lock);

	pfn_first = devmem->pagemap.range.start >> PAGE_SHIFT;
	pfn_last = pfn_first +
		   (range_len(&devmem->pagemap.range) >> PAGE_SHIFT);
	spin_lock(&mdevice->lock);
	for (pfn = pfn_first; pfn < pfn_last; ) {
		struct page *page = pfn_to_page(pfn);

#if MEMREMAP_GEN >= MEMREMAP_GEN_6_19_RC
		if (is_large && IS_ALIGNED(pfn, HPAGE_PMD_NR) &&
		    pfn + HPAGE_PMD_NR <= pfn_last) {
			page->zone_device_data = mdevice->free_folios;
			mdevice->free_folios = page_folio(page);
			pfn += HPAGE_PMD_NR;
			continue;
		}
#endif
		page->zone_device_data = mdevice->free_pages;
		mdevice->free_pages = page;
		pfn++;
	}
	ret = 0;
	if (ppage) {
#if MEMREMAP_GEN >= MEMREMAP_GEN_6_19_RC
		if (is_large) {
			*ppage = folio_page(mdevice->free_folios, 0);
			mdevice->free_folios = (*ppage)->zone_device_data;
			mdevice->calloc += HPAGE_PMD_NR;
		} else
#endif
		{
			(void)is_large;
			*ppage = mdevice->free_pages;
			mdevice->free_pages = (*ppage)->zone_device_data;
			mdevice->calloc++;
		}
	}
	spin_unlock(&mdevice->lock);
	return ret;

err_release:
	mutex_unlock(&mdevice->devmem_lock);
	release_mem_region(devmem->pagemap.range.start,
			   range_len(&devmem->pagemap.range));
	kfree(devmem);
	return ret;
}

static struct page *dmirror_devmem_alloc_page(struct dmirror_device *mdevice,
					      bool is_large)
{
	unsigned int order = is_large ? HPAGE_PMD_ORDER : 0;
	struct page *dpage = NULL;
	void *rpage;

	rpage = kzalloc(PAGE_SIZE << order, GFP_KERNEL);
	if (!rpage)
		return NULL;
	spin_lock(&mdevice->lock);
#if MEMREMAP_GEN >= MEMREMAP_GEN_6_19_RC
	if (is_large && mdevice->free_folios) {
		dpage = folio_page(mdevice->free_folios, 0);
		mdevice->free_folios = dpage->zone_device_data;
		mdevice->calloc += 1UL << order;
		spin_unlock(&mdevice->lock);
	} else
#endif
	if (!is_large && mdevice->free_pages) {
		dpage = mdevice->free_pages;
		mdevice->free_pages = dpage->zone_device_data;
		mdevice->calloc++;
		spin_unlock(&mdevice->lock);
	} else {
		spin_unlock(&mdevice->lock);
		if (dmirror_allocate_chunk(mdevice, &dpage, is_large)) {
			kfree(rpage);
			return NULL;
		}
	}
#if MEMREMAP_GEN >= MEMREMAP_GEN_6_19
	zone_device_folio_init(page_folio(dpage),
			       page_pgmap(folio_page(page_folio(dpage), 0)),
			       order);
#elif MEMREMAP_GEN == MEMREMAP_GEN_6_19_RC
	zone_device_folio_init(page_folio(dpage), order);
#else
	zone_device_page_init(dpage);
#endif
	dpage->zone_device_data = rpage;
	return dpage;
}

static void dmirror_device_init(struct dmirror_device *mdevice)
{
	memset(mdevice, 0, sizeof(*mdevice));
	mutex_init(&mdevice->devmem_lock);
	spin_lock_init(&mdevice->lock);
}

static void dmirror_device_remove_chunks(struct dmirror_device *mdevice)
{
	unsigned int i;

	mutex_lock(&mdevice->devmem_lock);
	for (i = 0; i < mdevice->devmem_count; i++) {
		struct dmirror_chunk *devmem = mdevice->devmem_chunks[i];
		unsigned long start = devmem->pagemap.range.start;
		unsigned long len = range_len(&devmem->pagemap.range);

		memunmap_pages(&devmem->pagemap);
		release_mem_region(start, len);
		kfree(devmem);
	}
	mdevice->devmem_count = 0;
	mdevice->devmem_capacity = 0;
	mdevice->free_pages = NULL;
#if MEMREMAP_GEN >= MEMREMAP_GEN_6_19_RC
	mdevice->free_folios = NULL;
#endif
	kfree(mdevice->devmem_chunks);
	mdevice->devmem_chunks = NULL;
	mutex_unlock(&mdevice->devmem_lock);
}

static void dmirror_finalize(struct page *page)
{
	folio_unlock(page_folio(page));
	folio_put(page_folio(page));
}

KTAP_CASE(dmirror_pages_live_free_and_reuse)
{
	struct dmirror_device *mdevice = &dmirror_device;
	struct page *pages[3], *again;
	struct dev_pagemap *pgmap;
	struct gen_baseline base;
	int i;

	gen_baseline_take(&base);
	dmirror_device_init(mdevice);
	for (i = 0; i < 3; i++) {
		pages[i] = dmirror_devmem_alloc_page(mdevice, false);
		EXPECT_NOT_NULL(pages[i]);
		if (!pages[i])
			return;
		EXPECT_EQ(page_count(pages[i]), 1);
		EXPECT_TRUE(PageLocked(pages[i]));
		EXPECT_NOT_NULL(pages[i]->zone_device_data);
	}
	pgmap = gen_page_pgmap(pages[0]);
	EXPECT_EQ(memremap_pgmap_generation(pgmap), MEMREMAP_GEN);
	EXPECT_PTR_EQ(pgmap->owner, mdevice);
	EXPECT_EQ(mdevice->calloc, 3);
	EXPECT_EQ(memremap_pgmap_pins(pgmap), 3);
	for (i = 0; i < 3; i++)
		dmirror_finalize(pages[i]);
	EXPECT_EQ(mdevice->cfree, 3);
	EXPECT_EQ(memremap_pgmap_pins(pgmap), 0);
	again = dmirror_devmem_alloc_page(mdevice, false);
	EXPECT_PTR_EQ(again, pages[2]);
	EXPECT_EQ(page_count(again), 1);
	dmirror_finalize(again);
	EXPECT_EQ(mdevice->cfree, 4);
	EXPECT_EQ(memremap_pgmap_pins(pgmap), 0);
	dmirror_device_remove_chunks(mdevice);
	EXPECT_BASELINE(&base);
	EXPECT_WARNS(0);
}

#if MEMREMAP_GEN >= MEMREMAP_GEN_6_19_RC
/* THP: order-9 folios out of free_folios, back to it, out again. */
KTAP_CASE(dmirror_thp_folios_free_and_reuse_at_order9)
{
	struct dmirror_device *mdevice = &dmirror_device;
	struct page *dpage, *again, *small;
	struct dev_pagemap *pgmap;
	struct gen_baseline base;
	struct folio *folio;

	gen_baseline_take(&base);
	dmirror_device_init(mdevice);
	dpage = dmirror_devmem_alloc_page(mdevice, true);
	EXPECT_NOT_NULL(dpage);
	if (!dpage)
		return;
	folio = page_folio(dpage);
	pgmap = page_pgmap(dpage);
	EXPECT_PTR_EQ(&folio->page, dpage);
	EXPECT_EQ(folio_order(folio), HPAGE_PMD_ORDER);
	EXPECT_EQ(folio_nr_pages(folio), HPAGE_PMD_NR);
	EXPECT_TRUE(folio_test_large_rmappable(folio));
	EXPECT_PTR_EQ(page_folio(folio_page(folio, 300)), folio);
	EXPECT_EQ(mdevice->calloc, HPAGE_PMD_NR);
	EXPECT_EQ(memremap_pgmap_pins(pgmap), HPAGE_PMD_NR);
	/* The small pages of this chunk: none, every 2 MiB is a folio. */
	EXPECT_NULL(mdevice->free_pages);
	small = dmirror_devmem_alloc_page(mdevice, false);
	EXPECT_NOT_NULL(small);
	if (!small)
		return;
	EXPECT_NE(gen_page_pgmap(small), pgmap);
	dmirror_finalize(dpage);
	EXPECT_EQ(mdevice->cfree, HPAGE_PMD_NR);
	EXPECT_EQ(memremap_pgmap_pins(pgmap), 0);
	EXPECT_PTR_EQ(mdevice->free_folios, folio);
	EXPECT_TRUE(folio_test_large(folio));
	again = dmirror_devmem_alloc_page(mdevice, true);
	EXPECT_PTR_EQ(again, dpage);
	EXPECT_EQ(folio_order(page_folio(again)), HPAGE_PMD_ORDER);
	EXPECT_EQ(folio_ref_count(page_folio(again)), 1);
	EXPECT_EQ(memremap_pgmap_pins(pgmap), HPAGE_PMD_NR);
	dmirror_finalize(again);
	dmirror_finalize(small);
	EXPECT_EQ(memremap_pgmap_pins(pgmap), 0);
	EXPECT_EQ(mdevice->cfree, 2 * HPAGE_PMD_NR + 1);
	dmirror_device_remove_chunks(mdevice);
	EXPECT_BASELINE(&base);
	EXPECT_WARNS(0);
}
#define DMIRROR_LARGE_CASES						\
	KTAP_ENTRY(dmirror_thp_folios_free_and_reuse_at_order9),
#else
#define DMIRROR_LARGE_CASES
#endif

static void dmirror_teardown(void *drv)
{
	dmirror_device_remove_chunks(drv);
}

/* The module is removed while a page is in use and a migration races. */
KTAP_CASE(dmirror_alloc_while_tearing_down)
{
	struct gen_teardown t = {
		.teardown = dmirror_teardown, .drv = &dmirror_device
	};
	struct dmirror_device *mdevice = &dmirror_device;
	struct gen_baseline base;
	struct page *a, *b;

	gen_baseline_take(&base);
	dmirror_device_init(mdevice);
	a = dmirror_devmem_alloc_page(mdevice, false);
	EXPECT_NOT_NULL(a);
	if (!a)
		return;
	unlock_page(a);
	gen_teardown_start(&t, gen_page_pgmap(a));
	memremap_warn_quiet(true);
	/* The allocation takes the list under the spinlock only. */
	b = dmirror_devmem_alloc_page(mdevice, false);
	EXPECT_NOT_NULL(b);
	if (!b)
		return;
	EXPECT_EQ(page_count(b), 1);
#if MEMREMAP_GEN >= MEMREMAP_GEN_6_19_RC
	EXPECT_WARNS(0);
	EXPECT_EQ(memremap_pgmap_pins(gen_page_pgmap(a)), 2);
	dmirror_finalize(b);
	put_page(a);
	gen_teardown_join(&t);
	EXPECT_WARNS(0);
#else
	{
		void *rpage = a->zone_device_data;

		EXPECT_WARNS(1);
		EXPECT_EQ(memremap_pgmap_pins(gen_page_pgmap(a)), 1);
		dmirror_finalize(b);
		gen_teardown_join(&t);
		EXPECT_EQ(memremap_mapped_pgmaps(), base.mapped);
		EXPECT_WARNS(2);
		put_page(a);
		EXPECT_WARNS(3);
		/* ->page_free never ran for page a: its rpage is left. */
		kfree(rpage);
		GEN_FINDING(DMIRROR_DRV, "dmirror_devmem_alloc_page() on the "
			    "dying chunk: zone_device_page_init() WARNs and "
			    "hands the page out; its free drops a pin never "
			    "taken, the chunk is unmapped and freed under a "
			    "page in use, whose ->page_free never runs (its "
			    "backing rpage leaks)");
	}
#endif
	memremap_warn_quiet(false);
	EXPECT_BASELINE(&base);
}

#define DMIRROR_CASES							\
	KTAP_ENTRY(dmirror_pages_live_free_and_reuse),			\
	DMIRROR_LARGE_CASES						\
	KTAP_ENTRY(dmirror_alloc_while_tearing_down)
