// SPDX-License-Identifier: GPL-2.0-only
/*
 * What the drm_pagemap driver program added to the driver surface, each
 * contract on its own: struct kref and refcount_t (include/linux/kref.h,
 * include/linux/refcount.h, lib/refcount.c: saturation and its WARNs),
 * page_size(), mmput_async(), migrate_device_pfns() (Linux 6.15: eviction
 * by a list of pfns) and memremap_dma_page(), a device's view through its
 * IOMMU.
 */
#include <linux/device.h>
#include <linux/dma-mapping.h>
#include <linux/gfp.h>
#include <linux/highmem.h>
#include <linux/kref.h>
#include <linux/memremap.h>
#include <linux/migrate.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/pagemap.h>
#include <linux/refcount.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/swapops.h>
#include <memremap/test.h>
#include "ktap.h"

#define SZ_2M		(2UL << 20)
#define DEV_BASE	(44UL << 30)
#define VA		0x7f0000000000UL
#define NPAGES		8

/* ---- kref and refcount_t ---- */

struct obj {
	struct kref ref;
	int released;
};

static void obj_release(struct kref *ref)
{
	container_of(ref, struct obj, ref)->released++;
}

KTAP_CASE(kref_releases_on_the_last_put)
{
	struct obj o = { .ref = KREF_INIT(2) };

	EXPECT_EQ(kref_read(&o.ref), 2);
	kref_init(&o.ref);
	EXPECT_EQ(kref_read(&o.ref), 1);
	kref_get(&o.ref);
	kref_get(&o.ref);
	EXPECT_EQ(kref_read(&o.ref), 3);
	EXPECT_EQ(kref_put(&o.ref, obj_release), 0);
	EXPECT_EQ(kref_put(&o.ref, obj_release), 0);
	EXPECT_EQ(o.released, 0);
	EXPECT_EQ(kref_put(&o.ref, obj_release), 1);
	EXPECT_EQ(o.released, 1);
	EXPECT_EQ(kref_read(&o.ref), 0);
	EXPECT_WARNS(0);
}

/* A get or put on a released object saturates: leaked, never freed again. */
KTAP_CASE(refcount_saturates_on_misuse)
{
	struct memremap_warn_record w;
	struct obj o = { .ref = KREF_INIT(1) };
	refcount_t r = REFCOUNT_INIT(0);

	memremap_warn_quiet(true);
	EXPECT_EQ(kref_put(&o.ref, obj_release), 1);
	EXPECT_EQ(kref_put(&o.ref, obj_release), 0);	/* underflow */
	EXPECT_EQ(o.released, 1);
	EXPECT_EQ(kref_read(&o.ref), (unsigned int)REFCOUNT_SATURATED);
	EXPECT_TRUE(memremap_warn_last(&w));
	EXPECT_EQ(strcmp(w.message,
			 "refcount_t: underflow; use-after-free.\n"), 0);
	/* Saturated stays saturated: no further put releases it. */
	EXPECT_EQ(kref_put(&o.ref, obj_release), 0);
	EXPECT_EQ(o.released, 1);
	refcount_inc(&r);				/* addition on 0 */
	EXPECT_EQ(refcount_read(&r), (unsigned int)REFCOUNT_SATURATED);
	EXPECT_TRUE(memremap_warn_last(&w));
	EXPECT_EQ(strcmp(w.message,
			 "refcount_t: addition on 0; use-after-free.\n"), 0);
	refcount_set(&r, REFCOUNT_MAX);
	refcount_inc(&r);				/* overflow */
	EXPECT_EQ(refcount_read(&r), (unsigned int)REFCOUNT_SATURATED);
	memremap_warn_quiet(false);
	/* Each site WARNs once (the kernel's WARN_ONCE). */
	EXPECT_WARNS(3);
	memremap_warn_rearm();
}

/* ---- page_size(), mmput_async() ---- */

KTAP_CASE(page_size_and_mmput_async)
{
	struct page *page = alloc_page(GFP_KERNEL);
	struct mm_struct *mm = memremap_mm_create();
	unsigned long live = memremap_mm_live();

	EXPECT_EQ(page_size(page), PAGE_SIZE);
	__free_page(page);
	mmget(mm);
	mmput_async(mm);
	EXPECT_EQ(memremap_mm_live(), live);
	mmput_async(mm);			/* the last: at once here */
	EXPECT_EQ(memremap_mm_live(), live - 1);
	EXPECT_WARNS(0);
}

/* ---- migrate_device_pfns() ---- */

static int owner;
static int page_frees;

static void count_free(struct page *page)
{
	(void)page;
	page_frees++;
}

static vm_fault_t no_fault(struct vm_fault *vmf)
{
	(void)vmf;
	return VM_FAULT_SIGBUS;
}

static const struct dev_pagemap_ops dev_ops = {
	.page_free = count_free,
	.migrate_to_ram = no_fault,
};

static struct dev_pagemap pgmap;

/* Pages [0, n) of an mm, each holding its index + 1, moved to the device. */
static struct mm_struct *on_device(unsigned long n)
{
	struct mm_struct *mm = memremap_mm_create();
	struct vm_area_struct *vma;
	unsigned long src[NPAGES], dst[NPAGES], i;
	struct migrate_vma args = {
		.src = src, .dst = dst, .start = VA,
		.end = VA + n * PAGE_SIZE, .pgmap_owner = &owner,
		.flags = MIGRATE_VMA_SELECT_SYSTEM,
	};

	vma = memremap_mm_add_vma(mm, VA, VA + NPAGES * PAGE_SIZE,
				  VM_READ | VM_WRITE);
	for (i = 0; i < n; i++) {
		unsigned long v = i + 1;

		memremap_mm_access(mm, VA + i * PAGE_SIZE, &v, sizeof(v),
				   true);
	}
	args.vma = vma;
	mmap_read_lock(mm);
	migrate_vma_setup(&args);
	for (i = 0; i < n; i++) {
		struct folio *folio = pgmap_request_folio(&pgmap, i, 0);

		lock_page(&folio->page);
		dst[i] = migrate_pfn(folio_pfn(folio)) | MIGRATE_PFN_WRITE;
	}
	migrate_vma_pages(&args);
	migrate_vma_finalize(&args);
	mmap_read_unlock(mm);
	return mm;
}

KTAP_CASE(migrate_device_pfns_collects_the_listed_pfns)
{
	unsigned long base = DEV_BASE >> PAGE_SHIFT, src[4], dst[4], i;
	struct mm_struct *mm;
	struct page *page;
	unsigned long val;

	memset(&pgmap, 0, sizeof(pgmap));
	pgmap.type = MEMORY_DEVICE_PRIVATE;
	pgmap.range.start = DEV_BASE;
	pgmap.range.end = DEV_BASE + SZ_2M - 1;
	pgmap.nr_range = 1;
	pgmap.ops = &dev_ops;
	pgmap.owner = &owner;
	page_frees = 0;
	EXPECT_FALSE(IS_ERR(memremap_pages(&pgmap, 0)));
	mm = on_device(4);
	EXPECT_EQ(memremap_pgmap_pins(&pgmap), 4);
	/* Out of order, with a free pfn between: raw pfns in, mpfns out. */
	src[0] = base + 3;
	src[1] = base + 9;
	src[2] = base + 1;
	src[3] = base + 2;
	EXPECT_EQ(migrate_device_pfns(src, 4), 0);
	EXPECT_EQ(src[0], migrate_pfn(base + 3) | MIGRATE_PFN_MIGRATE);
	EXPECT_EQ(src[1], 0);			/* idle: not collected */
	EXPECT_EQ(src[2], migrate_pfn(base + 1) | MIGRATE_PFN_MIGRATE);
	for (i = 0; i < 4; i++) {
		struct page *rpage;

		dst[i] = 0;
		if (!(src[i] & MIGRATE_PFN_MIGRATE))
			continue;
		rpage = alloc_page(GFP_HIGHUSER_MOVABLE | __GFP_NOFAIL);
		lock_page(rpage);
		*(unsigned long *)kmap_local_page(rpage) = 100 + i;
		dst[i] = migrate_pfn(page_to_pfn(rpage)) | MIGRATE_PFN_WRITE;
	}
	migrate_device_pages(src, dst, 4);
	migrate_device_finalize(src, dst, 4);
	EXPECT_EQ(page_frees, 3);
	EXPECT_EQ(memremap_pgmap_pins(&pgmap), 1);	/* page 0 stays */
	EXPECT_EQ(memremap_mm_entry(mm, VA, &page, &val), MEMREMAP_PTE_SWAP);
	EXPECT_EQ(memremap_mm_entry(mm, VA + 3 * PAGE_SIZE, &page, &val),
		  MEMREMAP_PTE_PRESENT);
	EXPECT_FALSE(is_zone_device_page(page));
	EXPECT_EQ(page_ref_count(page), 1);
	EXPECT_EQ(*(unsigned long *)page_address(page), 100);
	mmput(mm);
	EXPECT_EQ(page_frees, 4);
	memunmap_pages(&pgmap);
	EXPECT_WARNS(0);
}

/* ---- memremap_dma_page() ---- */

KTAP_CASE(a_device_reaches_what_it_may_through_its_iommu)
{
	struct page *page = alloc_page(GFP_KERNEL), *got;
	struct device dev, other;
	dma_addr_t to, from;
	size_t off = 0;

	memset(&dev, 0, sizeof(dev));
	memset(&other, 0, sizeof(other));
	to = dma_map_page(&dev, page, 0, PAGE_SIZE, DMA_TO_DEVICE);
	from = dma_map_page(&dev, page, 0, PAGE_SIZE, DMA_FROM_DEVICE);
	EXPECT_FALSE(dma_mapping_error(&dev, to));
	EXPECT_FALSE(dma_mapping_error(&dev, from));
	got = memremap_dma_page(&dev, to + 16, 8, false, &off);
	EXPECT_PTR_EQ(got, page);
	EXPECT_EQ(off, 16);
	EXPECT_NULL(memremap_dma_page(&dev, to, 8, true, &off));
	EXPECT_PTR_EQ(memremap_dma_page(&dev, from, 8, true, &off), page);
	EXPECT_NULL(memremap_dma_page(&dev, from, 8, false, &off));
	EXPECT_NULL(memremap_dma_page(&other, to, 8, false, &off));
	EXPECT_NULL(memremap_dma_page(&dev, to, PAGE_SIZE + 1, false, &off));
	EXPECT_NULL(memremap_dma_page(&dev, DMA_MAPPING_ERROR, 8, false,
				      &off));
	dma_unmap_page(&dev, to, PAGE_SIZE, DMA_TO_DEVICE);
	dma_unmap_page(&dev, from, PAGE_SIZE, DMA_FROM_DEVICE);
	EXPECT_NULL(memremap_dma_page(&dev, to, 8, false, &off));
	__free_page(page);
	EXPECT_WARNS(0);
}

KTAP_MAIN("drm_surface",
	  KTAP_ENTRY(kref_releases_on_the_last_put),
	  KTAP_ENTRY(refcount_saturates_on_misuse),
	  KTAP_ENTRY(page_size_and_mmput_async),
	  KTAP_ENTRY(migrate_device_pfns_collects_the_listed_pfns),
	  KTAP_ENTRY(a_device_reaches_what_it_may_through_its_iommu))
