// SPDX-License-Identifier: GPL-2.0-only
/*
 * A driver shaped like arch/powerpc/kvm/book3s_hv_uvmem.c (our own code):
 * secure guest memory as device-private pages. One static pgmap over a
 * region from request_free_mem_region(), owner the pgmap itself; pages
 * handed out from a bitmap of pfns, each with a kzalloc()ed private struct
 * in zone_device_data; the free callback clears the bit and frees it.
 * Order 0 in every generation:
 *   6.1, 6.15   zone_device_page_init(dpage), ->page_free(page)
 *   6.19-rc     zone_device_page_init(dpage, 0), ->folio_free(folio)
 *   6.19, 7.0   zone_device_page_init(dpage, &kvmppc_uvmem_pgmap, 0)
 */
#include "gen_callers.h"

#define KVMPPC_DRV		"kvmppc_uvmem"
#define KVMPPC_SECMEM_SIZE	(4UL << 20)

struct kvmppc_uvmem_page_pvt {
	unsigned long gpa;
	bool skip_page_out;
};

static struct dev_pagemap kvmppc_uvmem_pgmap;
static unsigned long *kvmppc_uvmem_bitmap;
static DEFINE_SPINLOCK(kvmppc_uvmem_bitmap_lock);
static int kvmppc_freed;

static unsigned long kvmppc_pfn_first(void)
{
	return kvmppc_uvmem_pgmap.range.start >> PAGE_SHIFT;
}

static unsigned long kvmppc_nr_pfns(void)
{
	return range_len(&kvmppc_uvmem_pgmap.range) >> PAGE_SHIFT;
}

/* The page's pfn goes back to the bitmap, its private struct is freed. */
static void kvmppc_uvmem_page_release(struct page *page)
{
	unsigned long pfn = page_to_pfn(page) - kvmppc_pfn_first();
	struct kvmppc_uvmem_page_pvt *pvt;

	spin_lock(&kvmppc_uvmem_bitmap_lock);
	bitmap_clear(kvmppc_uvmem_bitmap, pfn, 1);
	spin_unlock(&kvmppc_uvmem_bitmap_lock);
	pvt = page->zone_device_data;
	page->zone_device_data = NULL;
	kfree(pvt);
	kvmppc_freed++;
}

#if MEMREMAP_GEN >= MEMREMAP_GEN_6_19_RC
static void kvmppc_uvmem_folio_free(struct folio *folio)
{
	kvmppc_uvmem_page_release(&folio->page);
}
#else
static void kvmppc_uvmem_page_free(struct page *page)
{
	kvmppc_uvmem_page_release(page);
}
#endif

static vm_fault_t kvmppc_uvmem_migrate_to_ram(struct vm_fault *vmf)
{
	(void)vmf;
	return VM_FAULT_SIGBUS;
}

static const struct dev_pagemap_ops kvmppc_uvmem_ops = {
#if MEMREMAP_GEN >= MEMREMAP_GEN_6_19_RC
	.folio_free = kvmppc_uvmem_folio_free,
#else
	.page_free = kvmppc_uvmem_page_free,
#endif
	.migrate_to_ram = kvmppc_uvmem_migrate_to_ram,
};

static int kvmppc_uvmem_init(void)
{
	struct resource *res;
	void *addr;

	res = request_free_mem_region(&iomem_resource, KVMPPC_SECMEM_SIZE,
				      "kvmppc_uvmem");
	if (IS_ERR(res))
		return PTR_ERR(res);
	memset(&kvmppc_uvmem_pgmap, 0, sizeof(kvmppc_uvmem_pgmap));
	kvmppc_uvmem_pgmap.type = MEMORY_DEVICE_PRIVATE;
	kvmppc_uvmem_pgmap.range.start = res->start;
	kvmppc_uvmem_pgmap.range.end = res->end;
	kvmppc_uvmem_pgmap.nr_range = 1;
	kvmppc_uvmem_pgmap.ops = &kvmppc_uvmem_ops;
	kvmppc_uvmem_pgmap.owner = &kvmppc_uvmem_pgmap;
	addr = memremap_pages(&kvmppc_uvmem_pgmap, NUMA_NO_NODE);
	if (IS_ERR(addr)) {
		release_mem_region(res->start, resource_size(res));
		return PTR_ERR(addr);
	}
	kvmppc_uvmem_bitmap = bitmap_zalloc(kvmppc_nr_pfns(), GFP_KERNEL);
	if (!kvmppc_uvmem_bitmap) {
		memunmap_pages(&kvmppc_uvmem_pgmap);
		release_mem_region(res->start, resource_size(res));
		return -ENOMEM;
	}
	kvmppc_freed = 0;
	return 0;
}

static void kvmppc_uvmem_free(void)
{
	unsigned long start = kvmppc_uvmem_pgmap.range.start;
	unsigned long len = range_len(&kvmppc_uvmem_pgmap.range);

	memunmap_pages(&kvmppc_uvmem_pgmap);
	release_mem_region(start, len);
	bitmap_free(kvmppc_uvmem_bitmap);
	kvmppc_uvmem_bitmap = NULL;
}

/* A secure page for @gpa: a free pfn, its private struct, the init. */
static struct page *kvmppc_uvmem_get_page(unsigned long gpa)
{
	struct kvmppc_uvmem_page_pvt *pvt;
	unsigned long bit;
	struct page *dpage;

	spin_lock(&kvmppc_uvmem_bitmap_lock);
	bit = find_first_zero_bit(kvmppc_uvmem_bitmap, kvmppc_nr_pfns());
	if (bit >= kvmppc_nr_pfns()) {
		spin_unlock(&kvmppc_uvmem_bitmap_lock);
		return NULL;
	}
	bitmap_set(kvmppc_uvmem_bitmap, bit, 1);
	spin_unlock(&kvmppc_uvmem_bitmap_lock);

	pvt = kzalloc(sizeof(*pvt), GFP_KERNEL);
	if (!pvt) {
		spin_lock(&kvmppc_uvmem_bitmap_lock);
		bitmap_clear(kvmppc_uvmem_bitmap, bit, 1);
		spin_unlock(&kvmppc_uvmem_bitmap_lock);
		return NULL;
	}
	pvt->gpa = gpa;
	dpage = pfn_to_page(kvmppc_pfn_first() + bit);
	dpage->zone_device_data = pvt;
#if MEMREMAP_GEN >= MEMREMAP_GEN_6_19
	zone_device_page_init(dpage, &kvmppc_uvmem_pgmap, 0);
#elif MEMREMAP_GEN == MEMREMAP_GEN_6_19_RC
	zone_device_page_init(dpage, 0);
#else
	zone_device_page_init(dpage);
#endif
	return dpage;
}

/* migrate_vma_finalize() unlocks and puts the new page. */
static void kvmppc_finalize(struct page *page)
{
	unlock_page(page);
	put_page(page);
}

KTAP_CASE(kvmppc_uvmem_pages_live_free_and_reuse)
{
	struct gen_baseline base;
	struct page *pages[8], *again;
	int i;

	gen_baseline_take(&base);
	EXPECT_EQ(kvmppc_uvmem_init(), 0);
	EXPECT_EQ(memremap_pgmap_generation(&kvmppc_uvmem_pgmap),
		  MEMREMAP_GEN);
	for (i = 0; i < 8; i++) {
		pages[i] = kvmppc_uvmem_get_page(0x10000UL * i);
		EXPECT_NOT_NULL(pages[i]);
		if (!pages[i])
			return;
		EXPECT_EQ(page_count(pages[i]), 1);
		EXPECT_TRUE(PageLocked(pages[i]));
		EXPECT_PTR_EQ(gen_page_pgmap(pages[i]), &kvmppc_uvmem_pgmap);
	}
	EXPECT_EQ(page_to_pfn(pages[7]) - kvmppc_pfn_first(), 7);
	EXPECT_EQ(memremap_pgmap_pins(&kvmppc_uvmem_pgmap), 8);
	for (i = 0; i < 8; i++)
		kvmppc_finalize(pages[i]);
	EXPECT_EQ(kvmppc_freed, 8);
	EXPECT_EQ(memremap_pgmap_pins(&kvmppc_uvmem_pgmap), 0);
	EXPECT_TRUE(bitmap_empty(kvmppc_uvmem_bitmap, kvmppc_nr_pfns()));
	/* The first free pfn again: page 0, re-initialised. */
	again = kvmppc_uvmem_get_page(0x80000);
	EXPECT_PTR_EQ(again, pages[0]);
	EXPECT_EQ(page_count(again), 1);
	EXPECT_EQ(memremap_pgmap_pins(&kvmppc_uvmem_pgmap), 1);
	kvmppc_finalize(again);
	EXPECT_EQ(kvmppc_freed, 9);
	EXPECT_EQ(memremap_pgmap_pins(&kvmppc_uvmem_pgmap), 0);
	kvmppc_uvmem_free();
	EXPECT_BASELINE(&base);
	EXPECT_WARNS(0);
}

static void kvmppc_teardown(void *drv)
{
	(void)drv;
	kvmppc_uvmem_free();
}

/*
 * The guest's secure memory is released (module exit) while one secure
 * page is still in use and a page-in races it.
 */
KTAP_CASE(kvmppc_uvmem_get_page_while_tearing_down)
{
	struct gen_teardown t = { .teardown = kvmppc_teardown };
	struct gen_baseline base;
	struct page *a, *b;

	gen_baseline_take(&base);
	EXPECT_EQ(kvmppc_uvmem_init(), 0);
	a = kvmppc_uvmem_get_page(0x1000);
	EXPECT_NOT_NULL(a);
	if (!a)
		return;
	unlock_page(a);
	gen_teardown_start(&t, &kvmppc_uvmem_pgmap);
	memremap_warn_quiet(true);
	b = kvmppc_uvmem_get_page(0x2000);
	EXPECT_NOT_NULL(b);
	if (!b)
		return;
	EXPECT_EQ(page_count(b), 1);
#if MEMREMAP_GEN >= MEMREMAP_GEN_6_19_RC
	EXPECT_WARNS(0);
	EXPECT_EQ(memremap_pgmap_pins(&kvmppc_uvmem_pgmap), 2);
	kvmppc_finalize(b);
	put_page(a);
	gen_teardown_join(&t);
	EXPECT_EQ(kvmppc_freed, 2);
	EXPECT_WARNS(0);
#else
	{
		void *pvt = a->zone_device_data;

		EXPECT_WARNS(1);
		EXPECT_EQ(memremap_pgmap_pins(&kvmppc_uvmem_pgmap), 1);
		kvmppc_finalize(b);
		gen_teardown_join(&t);
		/* Unmapped under page a, which is still in use. */
		EXPECT_EQ(memremap_mapped_pgmaps(), base.mapped);
		EXPECT_EQ(kvmppc_freed, 1);
		EXPECT_WARNS(2);
		put_page(a);
		EXPECT_WARNS(3);
		/* ->page_free never ran for page a: its pvt is left over. */
		EXPECT_EQ(kvmppc_freed, 1);
		kfree(pvt);
		GEN_FINDING(KVMPPC_DRV, "kvmppc_uvmem_get_page() on the dying "
			    "pgmap: zone_device_page_init() WARNs and hands "
			    "the page out; its free drops a pin never taken, "
			    "memunmap_pages() returns while another secure "
			    "page is in use, whose ->page_free never runs "
			    "(its pvt leaks)");
	}
#endif
	memremap_warn_quiet(false);
	EXPECT_BASELINE(&base);
}

#define KVMPPC_CASES							\
	KTAP_ENTRY(kvmppc_uvmem_pages_live_free_and_reuse),		\
	KTAP_ENTRY(kvmppc_uvmem_get_page_while_tearing_down)
