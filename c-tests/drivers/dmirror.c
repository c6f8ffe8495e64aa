// SPDX-License-Identifier: GPL-2.0-only
/*
 * A device-memory driver of our own, written to how lib/test_hmm.c's
 * dmirror behaves in Linux 6.1 (docs/DESIGN.md section 10), and its KTAP
 * suite. The "device" mirrors a process's address space: its memory is
 * DEVICE_PRIVATE pgmap chunks, each device page backed by a system page
 * holding its data (zone_device_data), free pages on a list threaded
 * through zone_device_data. The suite migrates a range of an mm's pages to
 * the device, reads and writes them as the device, takes CPU faults that
 * migrate pages back (->migrate_to_ram()), and tears the device down with
 * pages still in use (migrate_device_range() eviction), checking at each
 * step the refcounts, pgmap pins, page_free() calls and the ledger.
 */
#include <linux/err.h>
#include <linux/gfp.h>
#include <linux/highmem.h>
#include <linux/ioport.h>
#include <linux/memremap.h>
#include <linux/migrate.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/mmu_notifier.h>
#include <linux/mutex.h>
#include <linux/pagemap.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/swapops.h>
#include <memremap/test.h>
#include "ktap.h"
#include "drivers/driver_test.h"

/* test_hmm_uapi.h: 0 is left unused to catch an uninitialised field. */
enum {
	HMM_DMIRROR_MEMORY_DEVICE_PRIVATE = 1,
	HMM_DMIRROR_MEMORY_DEVICE_COHERENT = 2,
};

#define DEVMEM_CHUNK_SIZE	(256 * 1024 * 1024UL)
#define DEVMEM_CHUNKS_RESERVE	16
/* Pages migrated per migrate_vma_setup() call, as dmirror's 64. */
#define MIGRATE_BATCH		64

struct dmirror_device;

struct dmirror_chunk {
	struct dev_pagemap pagemap;
	struct dmirror_device *mdevice;
	bool remove;
};

struct dmirror_device {
	unsigned int zone_device_type;
	struct dmirror_chunk **devmem_chunks;
	unsigned int devmem_capacity;
	unsigned int devmem_count;
	struct mutex devmem_lock;

	unsigned long calloc;
	unsigned long cfree;
	struct page *free_pages;
	spinlock_t lock;
};

/* The device's page table: the backing page of each mirrored address. */
#define MIRROR_PAGES		64
#define MIRROR_BASE		0x7f0000000000UL

struct dmirror {
	struct dmirror_device *mdevice;
	struct mmu_interval_notifier notifier;
	struct mutex mutex;		/* protects pt against invalidation */
	struct mm_struct *mm;
	struct page *pt[MIRROR_PAGES];
	bool pt_write[MIRROR_PAGES];
};

static struct dmirror_device *page_to_mdevice(struct page *page)
{
	return container_of(page->pgmap, struct dmirror_chunk,
			    pagemap)->mdevice;
}

static struct dmirror_chunk *page_to_chunk(struct page *page)
{
	return container_of(page->pgmap, struct dmirror_chunk, pagemap);
}

/* ---- the mirror: invalidations zap the device's page table ---- */

static bool dmirror_interval_invalidate(struct mmu_interval_notifier *mni,
					const struct mmu_notifier_range *range,
					unsigned long cur_seq)
{
	struct dmirror *dmirror = container_of(mni, struct dmirror, notifier);
	unsigned long addr;

	/* Our own migrations keep the mirror in step themselves. */
	if (range->event == MMU_NOTIFY_MIGRATE &&
	    range->owner == dmirror->mdevice)
		return true;
	mutex_lock(&dmirror->mutex);
	mmu_interval_set_seq(mni, cur_seq);
	for (addr = range->start; addr < range->end; addr += PAGE_SIZE) {
		unsigned long idx = (addr - MIRROR_BASE) >> PAGE_SHIFT;

		if (addr >= MIRROR_BASE && idx < MIRROR_PAGES)
			dmirror->pt[idx] = NULL;
	}
	mutex_unlock(&dmirror->mutex);
	return true;
}

static const struct mmu_interval_notifier_ops dmirror_mn_ops = {
	.invalidate = dmirror_interval_invalidate,
};

/* ---- device memory: chunks, the free list, page_free ---- */

static void dmirror_devmem_free(struct page *page)
{
	struct page *rpage = page->zone_device_data;
	struct dmirror_device *mdevice = page_to_mdevice(page);

	if (rpage)
		__free_page(rpage);
	spin_lock(&mdevice->lock);
	mdevice->cfree++;
	/* A chunk being removed keeps its pages off the list. */
	if (!page_to_chunk(page)->remove) {
		page->zone_device_data = mdevice->free_pages;
		mdevice->free_pages = page;
	}
	spin_unlock(&mdevice->lock);
}

static vm_fault_t dmirror_devmem_fault(struct vm_fault *vmf);

static const struct dev_pagemap_ops dmirror_devmem_ops = {
	.page_free	= dmirror_devmem_free,
	.migrate_to_ram	= dmirror_devmem_fault,
};

static int dmirror_allocate_chunk(struct dmirror_device *mdevice,
				  struct page **ppage)
{
	unsigned long pfn, pfn_first, pfn_last;
	struct dmirror_chunk *devmem;
	struct resource *res;
	void *ptr;

	devmem = kzalloc(sizeof(*devmem), GFP_KERNEL);
	if (!devmem)
		return -ENOMEM;
	/* Free physical space for the chunk, from the top of iomem. */
	res = request_free_mem_region(&iomem_resource, DEVMEM_CHUNK_SIZE,
				      "hmm_dmirror");
	if (IS_ERR_OR_NULL(res))
		goto err_devmem;
	devmem->pagemap.range.start = res->start;
	devmem->pagemap.range.end = res->end;
	devmem->pagemap.type = MEMORY_DEVICE_PRIVATE;
	devmem->pagemap.nr_range = 1;
	devmem->pagemap.ops = &dmirror_devmem_ops;
	devmem->pagemap.owner = mdevice;
	devmem->mdevice = mdevice;

	mutex_lock(&mdevice->devmem_lock);
	if (mdevice->devmem_count == mdevice->devmem_capacity) {
		unsigned int cap = mdevice->devmem_capacity +
				   DEVMEM_CHUNKS_RESERVE;
		struct dmirror_chunk **more;

		more = kcalloc(cap, sizeof(*more), GFP_KERNEL);
		if (!more)
			goto err;
		if (mdevice->devmem_count)
			memcpy(more, mdevice->devmem_chunks,
			       sizeof(*more) * mdevice->devmem_count);
		kfree(mdevice->devmem_chunks);
		mdevice->devmem_chunks = more;
		mdevice->devmem_capacity = cap;
	}

	ptr = memremap_pages(&devmem->pagemap, 0);
	if (IS_ERR_OR_NULL(ptr))
		goto err;
	mdevice->devmem_chunks[mdevice->devmem_count++] = devmem;
	mutex_unlock(&mdevice->devmem_lock);

	pfn_first = devmem->pagemap.range.start >> PAGE_SHIFT;
	pfn_last = pfn_first + (range_len(&devmem->pagemap.range) >>
				PAGE_SHIFT);
	spin_lock(&mdevice->lock);
	for (pfn = pfn_last; pfn > pfn_first; pfn--) {
		struct page *page = pfn_to_page(pfn - 1);

		page->zone_device_data = mdevice->free_pages;
		mdevice->free_pages = page;
	}
	if (ppage) {
		*ppage = mdevice->free_pages;
		mdevice->free_pages = (*ppage)->zone_device_data;
		mdevice->calloc++;
	}
	spin_unlock(&mdevice->lock);
	return 0;

err:
	mutex_unlock(&mdevice->devmem_lock);
	release_mem_region(devmem->pagemap.range.start,
			   range_len(&devmem->pagemap.range));
err_devmem:
	kfree(devmem);
	return -ENOMEM;
}

/* A device page, referenced and locked, backed by a fresh system page. */
static struct page *dmirror_devmem_alloc_page(struct dmirror_device *mdevice)
{
	struct page *dpage = NULL, *rpage;
	struct dev_pagemap *pgmap;
	struct folio *folio;

	rpage = alloc_page(GFP_HIGHUSER);
	if (!rpage)
		return NULL;
	spin_lock(&mdevice->lock);
	if (mdevice->free_pages) {
		dpage = mdevice->free_pages;
		mdevice->free_pages = dpage->zone_device_data;
		mdevice->calloc++;
		spin_unlock(&mdevice->lock);
	} else {
		spin_unlock(&mdevice->lock);
		if (dmirror_allocate_chunk(mdevice, &dpage))
			goto error;
	}
	/* The seed patch's way to bring a device page to life. */
	pgmap = dpage->pgmap;
	folio = pgmap_request_folio(pgmap,
				    pfn_to_pgmap_offset(pgmap,
							page_to_pfn(dpage)),
				    0);
	if (!folio) {
		spin_lock(&mdevice->lock);
		dpage->zone_device_data = mdevice->free_pages;
		mdevice->free_pages = dpage;
		mdevice->calloc--;
		spin_unlock(&mdevice->lock);
		goto error;
	}
	lock_page(dpage);
	dpage->zone_device_data = rpage;
	return dpage;

error:
	__free_page(rpage);
	return NULL;
}

/* ---- migration to the device ---- */

static void dmirror_migrate_alloc_and_copy(struct migrate_vma *args,
					   struct dmirror *dmirror)
{
	unsigned long i;

	for (i = 0; i < args->npages; i++) {
		struct page *spage = migrate_pfn_to_page(args->src[i]);
		struct page *dpage, *rpage;

		if (!(args->src[i] & MIGRATE_PFN_MIGRATE))
			continue;
		/* Only system pages are selected. */
		if (WARN_ON(spage && is_zone_device_page(spage)))
			continue;
		dpage = dmirror_devmem_alloc_page(dmirror->mdevice);
		if (!dpage)
			continue;
		rpage = dpage->zone_device_data;
		if (spage)
			copy_highpage(rpage, spage);
		else
			clear_highpage(rpage);
		rpage->zone_device_data = dmirror;
		args->dst[i] = migrate_pfn(page_to_pfn(dpage));
		if ((args->src[i] & MIGRATE_PFN_WRITE) ||
		    (!spage && (args->vma->vm_flags & VM_WRITE)))
			args->dst[i] |= MIGRATE_PFN_WRITE;
	}
}

/* Map what moved into the device's page table. */
static void dmirror_migrate_finalize_and_map(struct migrate_vma *args,
					     struct dmirror *dmirror)
{
	unsigned long i, addr;

	for (i = 0, addr = args->start; i < args->npages;
	     i++, addr += PAGE_SIZE) {
		struct page *dpage = migrate_pfn_to_page(args->dst[i]);
		unsigned long idx = (addr - MIRROR_BASE) >> PAGE_SHIFT;

		if (!dpage || !(args->src[i] & MIGRATE_PFN_MIGRATE) ||
		    idx >= MIRROR_PAGES)
			continue;
		dmirror->pt[idx] = dpage->zone_device_data;
		dmirror->pt_write[idx] = args->dst[i] & MIGRATE_PFN_WRITE;
	}
}

static int dmirror_migrate_to_device(struct dmirror *dmirror,
				     unsigned long start, unsigned long end)
{
	unsigned long src[MIGRATE_BATCH], dst[MIGRATE_BATCH];
	struct mm_struct *mm = dmirror->mm;
	struct migrate_vma args = { 0 };
	unsigned long addr, next;
	int ret = 0;

	if (!mmget_not_zero(mm))
		return -EINVAL;
	mmap_read_lock(mm);
	for (addr = start; addr < end; addr = next) {
		struct vm_area_struct *vma = vma_lookup(mm, addr);

		if (!vma || !(vma->vm_flags & VM_READ)) {
			ret = -EINVAL;
			break;
		}
		next = min(end, addr + (MIGRATE_BATCH << PAGE_SHIFT));
		if (next > vma->vm_end)
			next = vma->vm_end;
		args.vma = vma;
		args.src = src;
		args.dst = dst;
		args.start = addr;
		args.end = next;
		args.pgmap_owner = dmirror->mdevice;
		args.flags = MIGRATE_VMA_SELECT_SYSTEM;
		ret = migrate_vma_setup(&args);
		if (ret)
			break;
		dmirror_migrate_alloc_and_copy(&args, dmirror);
		migrate_vma_pages(&args);
		dmirror_migrate_finalize_and_map(&args, dmirror);
		migrate_vma_finalize(&args);
	}
	mmap_read_unlock(mm);
	mmput(mm);
	return ret;
}

/* ---- a CPU fault on a device page ---- */

static vm_fault_t dmirror_fault_alloc_and_copy(struct migrate_vma *args,
					       struct dmirror *dmirror)
{
	unsigned long i, addr;

	for (i = 0, addr = args->start; i < args->npages;
	     i++, addr += PAGE_SIZE) {
		struct page *spage = migrate_pfn_to_page(args->src[i]);
		unsigned long idx = (addr - MIRROR_BASE) >> PAGE_SHIFT;
		struct page *dpage;

		if (!spage || !(args->src[i] & MIGRATE_PFN_MIGRATE))
			continue;
		if (WARN_ON(!is_device_private_page(spage)))
			continue;
		dpage = alloc_page_vma(GFP_HIGHUSER_MOVABLE, args->vma, addr);
		if (!dpage)
			continue;
		lock_page(dpage);
		if (idx < MIRROR_PAGES)
			dmirror->pt[idx] = NULL;
		copy_highpage(dpage, spage->zone_device_data);
		args->dst[i] = migrate_pfn(page_to_pfn(dpage));
		if (args->src[i] & MIGRATE_PFN_WRITE)
			args->dst[i] |= MIGRATE_PFN_WRITE;
	}
	return 0;
}

static vm_fault_t dmirror_devmem_fault(struct vm_fault *vmf)
{
	struct page *rpage = vmf->page->zone_device_data;
	struct dmirror *dmirror = rpage->zone_device_data;
	unsigned long src = 0, dst = 0;
	struct migrate_vma args = {
		.vma = vmf->vma,
		.start = vmf->address,
		.end = vmf->address + PAGE_SIZE,
		.src = &src,
		.dst = &dst,
		.pgmap_owner = dmirror->mdevice,
		.flags = MIGRATE_VMA_SELECT_DEVICE_PRIVATE,
		.fault_page = vmf->page,
	};
	vm_fault_t ret;

	if (migrate_vma_setup(&args))
		return VM_FAULT_SIGBUS;
	ret = dmirror_fault_alloc_and_copy(&args, dmirror);
	if (ret)
		return ret;
	migrate_vma_pages(&args);
	migrate_vma_finalize(&args);
	return 0;
}

/* ---- teardown: evict what is still in use, unmap the chunks ---- */

static unsigned long *kcalloc_nofail(unsigned long n)
{
	unsigned long *p;

	/* __GFP_NOFAIL: the kernel retries for us; here, by hand. */
	do
		p = kcalloc(n, sizeof(*p), GFP_KERNEL);
	while (!p);
	return p;
}

static void dmirror_device_evict_chunk(struct dmirror_chunk *chunk)
{
	unsigned long start_pfn = chunk->pagemap.range.start >> PAGE_SHIFT;
	unsigned long end_pfn = chunk->pagemap.range.end >> PAGE_SHIFT;
	unsigned long npages = end_pfn - start_pfn + 1, i;
	unsigned long *src_pfns = kcalloc_nofail(npages);
	unsigned long *dst_pfns = kcalloc_nofail(npages);

	migrate_device_range(src_pfns, start_pfn, npages);
	for (i = 0; i < npages; i++) {
		struct page *dpage, *spage;

		spage = migrate_pfn_to_page(src_pfns[i]);
		if (!spage || !(src_pfns[i] & MIGRATE_PFN_MIGRATE))
			continue;
		if (WARN_ON(!is_device_private_page(spage)))
			continue;
		dpage = alloc_page(GFP_HIGHUSER_MOVABLE | __GFP_NOFAIL);
		lock_page(dpage);
		copy_highpage(dpage, spage->zone_device_data);
		dst_pfns[i] = migrate_pfn(page_to_pfn(dpage));
		if (src_pfns[i] & MIGRATE_PFN_WRITE)
			dst_pfns[i] |= MIGRATE_PFN_WRITE;
	}
	migrate_device_pages(src_pfns, dst_pfns, npages);
	migrate_device_finalize(src_pfns, dst_pfns, npages);
	kfree(src_pfns);
	kfree(dst_pfns);
}

static void dmirror_device_remove_chunks(struct dmirror_device *mdevice)
{
	unsigned int i;

	mutex_lock(&mdevice->devmem_lock);
	for (i = 0; i < mdevice->devmem_count; i++) {
		struct dmirror_chunk *devmem = mdevice->devmem_chunks[i];
		struct page **pp;

		/* Take the chunk's free pages off the list. */
		spin_lock(&mdevice->lock);
		devmem->remove = true;
		for (pp = &mdevice->free_pages; *pp;) {
			if (page_to_chunk(*pp) == devmem)
				*pp = (*pp)->zone_device_data;
			else
				pp = (struct page **)&(*pp)->zone_device_data;
		}
		spin_unlock(&mdevice->lock);

		dmirror_device_evict_chunk(devmem);
		memunmap_pages(&devmem->pagemap);
		release_mem_region(devmem->pagemap.range.start,
				   range_len(&devmem->pagemap.range));
		kfree(devmem);
	}
	mdevice->devmem_count = 0;
	mdevice->devmem_capacity = 0;
	mdevice->free_pages = NULL;
	kfree(mdevice->devmem_chunks);
	mdevice->devmem_chunks = NULL;
	mutex_unlock(&mdevice->devmem_lock);
}

/* ---- the suite ---- */

static struct dmirror_device mdev;
static struct dmirror mirror;
static struct vm_area_struct *vma;

/* A process with @n pages written (page i holds i * 3 + 1) and a mirror. */
static struct mm_struct *setup(unsigned long n)
{
	struct mm_struct *mm = memremap_mm_create();
	unsigned long i;

	memset(&mdev, 0, sizeof(mdev));
	mdev.zone_device_type = HMM_DMIRROR_MEMORY_DEVICE_PRIVATE;
	mutex_init(&mdev.devmem_lock);
	spin_lock_init(&mdev.lock);
	memset(&mirror, 0, sizeof(mirror));
	mirror.mdevice = &mdev;
	mirror.mm = mm;
	mutex_init(&mirror.mutex);
	mmu_interval_notifier_insert(&mirror.notifier, mm, MIRROR_BASE,
				     MIRROR_PAGES * PAGE_SIZE, &dmirror_mn_ops);
	vma = memremap_mm_add_vma(mm, MIRROR_BASE,
				  MIRROR_BASE + MIRROR_PAGES * PAGE_SIZE,
				  VM_READ | VM_WRITE);
	for (i = 0; i < n; i++)
		proc_write(mm, MIRROR_BASE + i * PAGE_SIZE, i * 3 + 1);
	return mm;
}

static unsigned long cpu_read(struct mm_struct *mm, unsigned long i)
{
	return proc_read(mm, MIRROR_BASE + i * PAGE_SIZE);
}

/* What the device reads at page @i, through its page table. */
static unsigned long dev_read(unsigned long i)
{
	unsigned long v;
	void *va;

	if (!mirror.pt[i])
		return ~0UL;
	va = kmap_local_page(mirror.pt[i]);
	v = *(unsigned long *)va;
	kunmap_local(va);
	return v;
}

static void dev_write(unsigned long i, unsigned long v)
{
	void *va = kmap_local_page(mirror.pt[i]);

	*(unsigned long *)va = v;
	kunmap_local(va);
}

static struct dev_pagemap *chunk0(void)
{
	return mdev.devmem_count ? &mdev.devmem_chunks[0]->pagemap : NULL;
}

/* A report line: the step, then the device's counters and pins. */
static void step(const char *what)
{
	struct dev_pagemap *pgmap = chunk0();

	printf("    # %-34s calloc %lu cfree %lu pins %ld system pages %lu\n",
	       what, mdev.calloc, mdev.cfree,
	       pgmap ? memremap_pgmap_pins(pgmap) : -1L,
	       memremap_system_pages_live());
}

/* Every mirrored page is device-private, referenced once, mapped once. */
static void expect_on_device(struct mm_struct *mm, unsigned long n)
{
	unsigned long i, val;
	struct page *page;

	for (i = 0; i < n; i++) {
		swp_entry_t e;

		EXPECT_EQ(memremap_mm_entry(mm, MIRROR_BASE + i * PAGE_SIZE,
					    &page, &val), MEMREMAP_PTE_SWAP);
		e.val = val;
		EXPECT_TRUE(is_device_private_page(page));
		EXPECT_EQ(swp_type(e), SWP_DEVICE_WRITE);
		EXPECT_EQ(page_ref_count(page), 1);
		EXPECT_EQ(memremap_page_mapcount(page), 1);
		EXPECT_FALSE(PageLocked(page));
		EXPECT_EQ(dev_read(i), i * 3 + 1);
	}
}

KTAP_CASE(migrate_to_device_then_exit)
{
	unsigned long n = 16, sys = memremap_system_pages_live();
	unsigned long regions = memremap_iomem_regions();
	struct mm_struct *mm = setup(n);

	EXPECT_EQ(memremap_system_pages_live(), sys + n);
	EXPECT_EQ(dmirror_migrate_to_device(&mirror, MIRROR_BASE,
					    MIRROR_BASE + n * PAGE_SIZE), 0);
	step("migrated 16 pages to the device:");
	expect_on_device(mm, n);
	EXPECT_EQ(mdev.devmem_count, 1);
	EXPECT_EQ(mdev.calloc, n);
	EXPECT_EQ(memremap_pgmap_pins(chunk0()), n);
	/* The chunk sits in a device-private region of its own. */
	EXPECT_EQ(memremap_iomem_regions(), regions + 1);
	EXPECT_EQ(region_intersects(chunk0()->range.start, DEVMEM_CHUNK_SIZE,
				    IORESOURCE_MEM,
				    IORES_DESC_DEVICE_PRIVATE_MEMORY),
		  REGION_INTERSECTS);
	/* The process's pages are gone; the device's backing pages live. */
	EXPECT_EQ(memremap_system_pages_live(), sys + n);
	/* The process exits: every device page is freed to the driver. */
	mmput(mm);
	mmu_interval_notifier_remove(&mirror.notifier);
	step("the process exited:");
	EXPECT_EQ(mdev.cfree, n);
	EXPECT_EQ(memremap_pgmap_pins(chunk0()), 0);
	EXPECT_EQ(memremap_system_pages_live(), sys);
	dmirror_device_remove_chunks(&mdev);
	EXPECT_EQ(memremap_mapped_pgmaps(), 0);
	EXPECT_EQ(memremap_iomem_regions(), regions);	/* released */
	EXPECT_EQ(memremap_ledger_count(), 0);
	EXPECT_WARNS(0);
}

KTAP_CASE(cpu_fault_migrates_a_device_page_back)
{
	unsigned long n = 8;
	struct mm_struct *mm = setup(n);
	struct page *page;
	unsigned long val;

	dmirror_migrate_to_device(&mirror, MIRROR_BASE,
				  MIRROR_BASE + n * PAGE_SIZE);
	step("migrated 8 pages to the device:");
	dev_write(5, 0xdecade);			/* the device writes */
	EXPECT_EQ(cpu_read(mm, 5), 0xdecade);	/* the CPU faults */
	step("a CPU fault took one back:");
	EXPECT_EQ(memremap_mm_entry(mm, MIRROR_BASE + 5 * PAGE_SIZE, &page,
				    &val), MEMREMAP_PTE_PRESENT);
	EXPECT_FALSE(is_zone_device_page(page));
	EXPECT_EQ(page_ref_count(page), 1);
	EXPECT_EQ(memremap_page_mapcount(page), 1);
	EXPECT_NULL(mirror.pt[5]);
	EXPECT_EQ(mdev.cfree, 1);		/* the device page went */
	EXPECT_EQ(memremap_pgmap_pins(chunk0()), n - 1);
	/* A second fault finds the page present: no call. */
	EXPECT_EQ(cpu_read(mm, 5), 0xdecade);
	EXPECT_EQ(mdev.cfree, 1);
	/* A write fault on another page. */
	val = 77;
	EXPECT_EQ(memremap_mm_access(mm, MIRROR_BASE + 2 * PAGE_SIZE, &val,
				     sizeof(val), true), 0);
	EXPECT_EQ(mdev.cfree, 2);
	EXPECT_EQ(cpu_read(mm, 2), 77);
	mmput(mm);
	mmu_interval_notifier_remove(&mirror.notifier);
	EXPECT_EQ(mdev.cfree, n);
	dmirror_device_remove_chunks(&mdev);
	EXPECT_EQ(memremap_ledger_count(), 0);
	EXPECT_WARNS(0);
}

KTAP_CASE(teardown_evicts_pages_still_in_use)
{
	unsigned long n = 24, i, sys = memremap_system_pages_live();
	struct mm_struct *mm = setup(n);
	struct page *page;
	unsigned long val;

	dmirror_migrate_to_device(&mirror, MIRROR_BASE,
				  MIRROR_BASE + n * PAGE_SIZE);
	dev_write(7, 0xbeef);
	EXPECT_EQ(memremap_pgmap_pins(chunk0()), n);
	step("migrated 24 pages to the device:");
	/* The device goes away while the process still maps its pages. */
	dmirror_device_remove_chunks(&mdev);
	step("the device evicted them and left:");
	/* Unmapping them for eviction invalidated the device's mirror. */
	for (i = 0; i < n; i++)
		EXPECT_NULL(mirror.pt[i]);
	EXPECT_EQ(mdev.cfree, n);		/* each page_free()d once */
	EXPECT_EQ(memremap_mapped_pgmaps(), 0);	/* unmapped, not abandoned */
	for (i = 0; i < n; i++) {
		EXPECT_EQ(memremap_mm_entry(mm, MIRROR_BASE + i * PAGE_SIZE,
					    &page, &val),
			  MEMREMAP_PTE_PRESENT);
		EXPECT_FALSE(is_zone_device_page(page));
		EXPECT_EQ(page_ref_count(page), 1);
		EXPECT_EQ(cpu_read(mm, i), i == 7 ? 0xbeef : i * 3 + 1);
	}
	EXPECT_EQ(memremap_system_pages_live(), sys + n);
	mmput(mm);
	mmu_interval_notifier_remove(&mirror.notifier);
	EXPECT_EQ(memremap_system_pages_live(), sys);
	EXPECT_EQ(memremap_ledger_count(), 0);
	EXPECT_WARNS(0);
}

KTAP_CASE(a_second_chunk_when_the_first_runs_out)
{
	struct mm_struct *mm = setup(4);

	/* A chunk's worth taken from the free list by hand. */
	dmirror_migrate_to_device(&mirror, MIRROR_BASE,
				  MIRROR_BASE + 2 * PAGE_SIZE);
	mdev.free_pages = NULL;
	dmirror_migrate_to_device(&mirror, MIRROR_BASE + 2 * PAGE_SIZE,
				  MIRROR_BASE + 4 * PAGE_SIZE);
	EXPECT_EQ(mdev.devmem_count, 2);
	expect_on_device(mm, 4);
	EXPECT_EQ(memremap_pgmap_pins(&mdev.devmem_chunks[1]->pagemap), 2);
	dmirror_device_remove_chunks(&mdev);
	EXPECT_EQ(cpu_read(mm, 3), 10);
	mmput(mm);
	mmu_interval_notifier_remove(&mirror.notifier);
	EXPECT_EQ(memremap_ledger_count(), 0);
	EXPECT_WARNS(0);
}

/*
 * Every allocation of the migration, the fault and the teardown fails in
 * turn: whatever did not move stays a system page, and everything is
 * still freed, unpinned and unmapped at the end.
 */
KTAP_CASE(allocation_failures_at_every_site)
{
	unsigned long nth, n = 6, i;
	bool hit = true;

	memremap_warn_quiet(true);
	for (nth = 1; hit && nth < 200; nth++) {
		struct mm_struct *mm = setup(n);
		unsigned long injected = memremap_kmalloc_injected();

		memremap_kmalloc_fail_nth(nth);
		dmirror_migrate_to_device(&mirror, MIRROR_BASE,
					  MIRROR_BASE + n * PAGE_SIZE);
		cpu_read(mm, 1);
		dmirror_device_remove_chunks(&mdev);
		memremap_kmalloc_fail_nth(0);
		hit = memremap_kmalloc_injected() != injected;
		for (i = 0; i < n; i++)
			EXPECT_EQ(cpu_read(mm, i), i * 3 + 1);
		EXPECT_EQ(mdev.calloc, mdev.cfree);
		mmput(mm);
		mmu_interval_notifier_remove(&mirror.notifier);
		EXPECT_EQ(memremap_mapped_pgmaps(), 0);
		EXPECT_EQ(memremap_ledger_count(), 0);
	}
	memremap_warn_quiet(false);
	printf("    # %lu allocations failed in turn\n", nth - 2);
	EXPECT_FALSE(hit);			/* every site was reached */
	EXPECT_WARNS(0);
}

KTAP_MAIN("driver_dmirror",
	  KTAP_ENTRY(migrate_to_device_then_exit),
	  KTAP_ENTRY(cpu_fault_migrates_a_device_page_back),
	  KTAP_ENTRY(teardown_evicts_pages_still_in_use),
	  KTAP_ENTRY(a_second_chunk_when_the_first_runs_out),
	  KTAP_ENTRY(allocation_failures_at_every_site))
