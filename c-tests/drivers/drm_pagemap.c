// SPDX-License-Identifier: GPL-2.0-only
/*
 * The DRM pagemap layer of our own, written to how
 * drivers/gpu/drm/drm_pagemap.c behaves in Linux 7.0 (with the
 * zone_device_page_init(page, pgmap, order) of "mm/zone_device:
 * Reinitialize large zone device private folios"), under a fake GPU set
 * up as xe's xe_devm_add() sets its VRAM up (docs/DESIGN.md section 10),
 * and its KTAP suite.
 *
 * The layer: a kref'd zdd (zone-device data) shared by every device page
 * of one device-memory allocation, holding the allocation; the allocation
 * (struct drm_pagemap_devmem) with its driver ops; migration of a range of
 * a process's pages into an allocation; the CPU fault that takes the whole
 * allocation back to RAM; folio_free dropping a page's zdd reference, the
 * last one releasing the allocation; and eviction of an allocation still
 * mapped, by pfn, at teardown.
 *
 * The fake GPU ("fxe"): one VRAM region whose pgmap is DEVICE_PRIVATE
 * over a devm_request_free_mem_region() range, registered with
 * devm_memremap_pages(); buffer objects carved from VRAM by a first-fit
 * page allocator (drm_buddy's part), each backing one allocation; a copy
 * engine that reads and writes system memory only through the DMA
 * addresses it is given (memremap_dma_page(): its IOMMU).
 */
#include <linux/completion.h>
#include <linux/device.h>
#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/gfp.h>
#include <linux/highmem.h>
#include <linux/ioport.h>
#include <linux/kernel.h>
#include <linux/kref.h>
#include <linux/memremap.h>
#include <linux/migrate.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/mutex.h>
#include <linux/pagemap.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/swapops.h>
#include <memremap/test.h>
#include "ktap.h"
#include "drivers/driver_test.h"

#if MEMREMAP_GEN != MEMREMAP_GEN_6_19
#error "drm_pagemap.c is written against Linux 7.0: see drm_pagemap.flags"
#endif

/* ================= include/drm/drm_pagemap.h (7.0) ================= */

#define NR_PAGES(order) (1U << (order))

struct drm_pagemap;

enum drm_interconnect_protocol {
	DRM_INTERCONNECT_SYSTEM,
	DRM_INTERCONNECT_DRIVER,
};

/* A DMA (or driver-defined) address, with its order and direction. */
struct drm_pagemap_addr {
	dma_addr_t addr;
	u64 proto : 54;
	u64 order : 8;
	u64 dir : 2;
};

static struct drm_pagemap_addr
drm_pagemap_addr_encode(dma_addr_t addr, enum drm_interconnect_protocol proto,
			unsigned int order, enum dma_data_direction dir)
{
	return (struct drm_pagemap_addr) {
		.addr = addr, .proto = proto, .order = order, .dir = dir,
	};
}

struct drm_pagemap_ops {
	int (*populate_mm)(struct drm_pagemap *dpagemap, unsigned long start,
			   unsigned long end, struct mm_struct *mm,
			   unsigned long timeslice_ms);
};

/*
 * One per dev_pagemap: its ops, the pgmap, the device that owns it (the
 * kernel's drm->dev), and a kref (the zdd of every allocation holds one).
 */
struct drm_pagemap {
	const struct drm_pagemap_ops *ops;
	struct kref ref;
	struct dev_pagemap *pagemap;
	struct device *dev;
	void (*release)(struct drm_pagemap *dpagemap);
};

struct drm_pagemap_devmem;

struct drm_pagemap_devmem_ops {
	void (*devmem_release)(struct drm_pagemap_devmem *devmem_allocation);
	int (*populate_devmem_pfn)(struct drm_pagemap_devmem *devmem_allocation,
				   unsigned long npages, unsigned long *pfn);
	int (*copy_to_devmem)(struct page **pages,
			      struct drm_pagemap_addr *pagemap_addr,
			      unsigned long npages);
	int (*copy_to_ram)(struct page **pages,
			   struct drm_pagemap_addr *pagemap_addr,
			   unsigned long npages);
};

/* One device-memory allocation: what a zdd points at. */
struct drm_pagemap_devmem {
	struct device *dev;
	struct mm_struct *mm;
	struct completion detached;
	const struct drm_pagemap_devmem_ops *ops;
	struct drm_pagemap *dpagemap;
	size_t size;
};

struct drm_pagemap_migrate_details {
	unsigned long timeslice_ms;
	bool can_migrate_same_pagemap;
};

/* ================= drivers/gpu/drm/drm_pagemap.c ================= */

/* Instrumentation of ours: zdds alive, folio_free calls, DMA maps. */
static long zdds_live;
static unsigned long folio_frees, dma_maps;

/* Shared by every device page of one allocation (page->zone_device_data). */
struct drm_pagemap_zdd {
	struct kref refcount;
	struct drm_pagemap_devmem *devmem_allocation;
	struct drm_pagemap *dpagemap;
};

static struct drm_pagemap *drm_pagemap_get(struct drm_pagemap *dpagemap)
{
	if (dpagemap)
		kref_get(&dpagemap->ref);
	return dpagemap;
}

static void drm_pagemap_release(struct kref *ref)
{
	struct drm_pagemap *dpagemap = container_of(ref, struct drm_pagemap,
						    ref);

	/* The kernel defers putting the drm device to a worker. */
	if (dpagemap->release)
		dpagemap->release(dpagemap);
}

static void drm_pagemap_put(struct drm_pagemap *dpagemap)
{
	if (dpagemap)
		kref_put(&dpagemap->ref, drm_pagemap_release);
}

static void drm_pagemap_init(struct drm_pagemap *dpagemap,
			     struct dev_pagemap *pagemap, struct device *dev,
			     const struct drm_pagemap_ops *ops)
{
	kref_init(&dpagemap->ref);
	dpagemap->ops = ops;
	dpagemap->pagemap = pagemap;
	dpagemap->dev = dev;
}

static struct drm_pagemap_zdd *drm_pagemap_zdd_alloc(struct drm_pagemap *dp)
{
	struct drm_pagemap_zdd *zdd = kmalloc(sizeof(*zdd), GFP_KERNEL);

	if (!zdd)
		return NULL;
	kref_init(&zdd->refcount);
	zdd->devmem_allocation = NULL;
	zdd->dpagemap = drm_pagemap_get(dp);
	zdds_live++;
	return zdd;
}

static struct drm_pagemap_zdd *drm_pagemap_zdd_get(struct drm_pagemap_zdd *zdd)
{
	kref_get(&zdd->refcount);
	return zdd;
}

/* The last reference: the allocation is detached from its pages. */
static void drm_pagemap_zdd_destroy(struct kref *ref)
{
	struct drm_pagemap_zdd *zdd = container_of(ref, struct drm_pagemap_zdd,
						   refcount);
	struct drm_pagemap_devmem *devmem = zdd->devmem_allocation;
	struct drm_pagemap *dpagemap = zdd->dpagemap;

	if (devmem) {
		complete_all(&devmem->detached);
		if (devmem->ops->devmem_release)
			devmem->ops->devmem_release(devmem);
	}
	kfree(zdd);
	zdds_live--;
	drm_pagemap_put(dpagemap);
}

static void drm_pagemap_zdd_put(struct drm_pagemap_zdd *zdd)
{
	kref_put(&zdd->refcount, drm_pagemap_zdd_destroy);
}

/* Give back destination pages that will not be used: unlock, put, clear. */
static void drm_pagemap_unlock_put_pages(unsigned long npages,
					 unsigned long *mpfn)
{
	unsigned long i;

	for (i = 0; i < npages; i++) {
		struct page *page;

		if (!mpfn[i])
			continue;
		page = migrate_pfn_to_page(mpfn[i]);
		unlock_page(page);
		put_page(page);
		mpfn[i] = 0;
	}
}

/* A device page comes to life holding a zdd reference. */
static void drm_pagemap_get_devmem_page(struct page *page,
					struct drm_pagemap_zdd *zdd)
{
	page->zone_device_data = drm_pagemap_zdd_get(zdd);
	zone_device_page_init(page, zdd->dpagemap->pagemap, 0);
}

/* DMA-map the system pages of @mpfn for @dev; -EFAULT on a failure. */
static int drm_pagemap_map_pages(struct device *dev,
				 struct drm_pagemap_addr *pagemap_addr,
				 unsigned long *mpfn, unsigned long npages,
				 enum dma_data_direction dir)
{
	unsigned long i;

	for (i = 0; i < npages;) {
		struct page *page = migrate_pfn_to_page(mpfn[i]);
		unsigned int order = 0;
		dma_addr_t dma;

		if (!page)
			goto next;
		order = folio_order(page_folio(page));
		/* One device, one pagemap: a device page is never a source. */
		if (WARN_ON(is_device_private_page(page)))
			return -EFAULT;
		dma_maps++;
		dma = dma_map_page(dev, page, 0, page_size(page), dir);
		if (dma_mapping_error(dev, dma))
			return -EFAULT;
		pagemap_addr[i] =
			drm_pagemap_addr_encode(dma, DRM_INTERCONNECT_SYSTEM,
						order, dir);
next:
		i += NR_PAGES(order);
	}
	return 0;
}

/* Undo what drm_pagemap_map_pages() mapped (entries never mapped are 0). */
static void drm_pagemap_unmap_pages(struct device *dev,
				    struct drm_pagemap_addr *pagemap_addr,
				    unsigned long *mpfn, unsigned long npages,
				    enum dma_data_direction dir)
{
	unsigned long i;

	for (i = 0; i < npages;) {
		struct page *page = migrate_pfn_to_page(mpfn[i]);

		if (page && pagemap_addr[i].addr &&
		    !dma_mapping_error(dev, pagemap_addr[i].addr))
			dma_unmap_page(dev, pagemap_addr[i].addr,
				       PAGE_SIZE << pagemap_addr[i].order, dir);
		i += NR_PAGES(pagemap_addr[i].order);
	}
}

/* One buffer: src and dst migrate pfns, DMA addresses, copy pages. */
static void *drm_pagemap_buf(unsigned long npages, unsigned long **src,
			     struct drm_pagemap_addr **pagemap_addr,
			     struct page ***pages)
{
	void *buf = kvcalloc(npages, 2 * sizeof(**src) +
			     sizeof(**pagemap_addr) + sizeof(**pages),
			     GFP_KERNEL);

	if (!buf)
		return NULL;
	*src = buf;
	*pagemap_addr = buf + 2 * sizeof(**src) * npages;
	*pages = buf + (2 * sizeof(**src) + sizeof(**pagemap_addr)) * npages;
	return buf;
}

/*
 * Migrate [start, end) of @mm into @devmem_allocation, all or nothing.
 * The caller holds the mmap lock and hands over its reference to the
 * allocation: it is released on every error (devmem_release), or when its
 * last page goes.
 */
static int
drm_pagemap_migrate_to_devmem(struct drm_pagemap_devmem *devmem_allocation,
			      struct mm_struct *mm, unsigned long start,
			      unsigned long end,
			      const struct drm_pagemap_migrate_details *md)
{
	const struct drm_pagemap_devmem_ops *ops = devmem_allocation->ops;
	struct drm_pagemap *dpagemap = devmem_allocation->dpagemap;
	struct dev_pagemap *pagemap = dpagemap->pagemap;
	struct migrate_vma migrate = {
		.start		= start,
		.end		= end,
		.pgmap_owner	= pagemap->owner,
		/* Device-private sources are left out (the kernel's FIXME). */
		.flags		= MIGRATE_VMA_SELECT_SYSTEM |
				  MIGRATE_VMA_SELECT_DEVICE_COHERENT,
	};
	unsigned long i, npages = (end - start) >> PAGE_SHIFT;
	unsigned long own_pages = 0, migrated_pages = 0;
	struct drm_pagemap_zdd *zdd = NULL;
	struct drm_pagemap_addr *pagemap_addr;
	struct vm_area_struct *vas;
	struct page **pages;
	void *buf;
	int err;

	mmap_assert_locked(mm);
	if (!ops->populate_devmem_pfn || !ops->copy_to_devmem ||
	    !ops->copy_to_ram)
		return -EOPNOTSUPP;

	vas = vma_lookup(mm, start);
	if (!vas) {
		err = -ENOENT;
		goto err_out;
	}
	if (end > vas->vm_end || start < vas->vm_start) {
		err = -EINVAL;
		goto err_out;
	}
	if (!vma_is_anonymous(vas)) {
		err = -EBUSY;
		goto err_out;
	}

	buf = drm_pagemap_buf(npages, &migrate.src, &pagemap_addr, &pages);
	if (!buf) {
		err = -ENOMEM;
		goto err_out;
	}
	zdd = drm_pagemap_zdd_alloc(dpagemap);
	if (!zdd) {
		err = -ENOMEM;
		kvfree(buf);
		goto err_out;
	}
	/* The zdd owns the caller's reference from here. */
	zdd->devmem_allocation = devmem_allocation;

	migrate.vma = vas;
	migrate.dst = migrate.src + npages;
	err = migrate_vma_setup(&migrate);
	if (err)
		goto err_free;
	if (!migrate.cpages) {
		err = -EBUSY;		/* raced, or device pages */
		goto err_free;
	}
	if (migrate.cpages != npages) {
		err = -EBUSY;		/* all or nothing */
		goto err_aborted_migration;
	}

	for (i = 0; i < npages; i++) {
		struct page *src_page = migrate_pfn_to_page(migrate.src[i]);

		if (src_page && is_zone_device_page(src_page) &&
		    page_pgmap(src_page) == pagemap)
			own_pages++;
	}
	if (own_pages == npages) {
		err = 0;		/* nothing to do */
		goto err_aborted_migration;
	} else if (own_pages && !md->can_migrate_same_pagemap) {
		err = -EBUSY;
		goto err_aborted_migration;
	}

	err = ops->populate_devmem_pfn(devmem_allocation, npages, migrate.dst);
	if (err)
		goto err_aborted_migration;

	for (i = 0; i < npages; i++) {
		struct page *page = pfn_to_page(migrate.dst[i]);

		pages[i] = page;
		migrate.dst[i] = migrate_pfn(migrate.dst[i]);
		drm_pagemap_get_devmem_page(page, zdd);
	}

	/* System to device: map, copy, unmap. */
	err = drm_pagemap_map_pages(devmem_allocation->dev, pagemap_addr,
				    migrate.src, npages, DMA_TO_DEVICE);
	if (!err)
		err = ops->copy_to_devmem(pages, pagemap_addr, npages);
	drm_pagemap_unmap_pages(devmem_allocation->dev, pagemap_addr,
				migrate.src, npages, DMA_TO_DEVICE);

	if (err)
		drm_pagemap_unlock_put_pages(npages, migrate.dst);
err_aborted_migration:
	migrate_vma_pages(&migrate);
	for (i = 0; !err && i < npages; i++)
		if (migrate.src[i] & MIGRATE_PFN_MIGRATE)
			migrated_pages++;
	if (!err && migrated_pages < npages - own_pages)
		err = -EBUSY;		/* raced while finalizing */
	migrate_vma_finalize(&migrate);
err_free:
	drm_pagemap_zdd_put(zdd);
	kvfree(buf);
	return err;

err_out:
	devmem_allocation->ops->devmem_release(devmem_allocation);
	return err;
}

/*
 * RAM destinations for the device pages of @src (only those of the
 * faulting page's allocation when @fault_page is set), each locked.
 */
static int drm_pagemap_populate_ram_pfn(struct vm_area_struct *vas,
					struct page *fault_page,
					unsigned long npages,
					unsigned long *mpages,
					unsigned long *src, unsigned long *dst,
					unsigned long addr)
{
	unsigned long i;

	for (i = 0; i < npages; i++, addr += PAGE_SIZE) {
		struct page *src_page, *page;

		if (!(src[i] & MIGRATE_PFN_MIGRATE))
			continue;
		src_page = migrate_pfn_to_page(src[i]);
		if (!src_page)
			continue;
		if (fault_page && src_page->zone_device_data !=
				  fault_page->zone_device_data)
			continue;
		if (vas)
			page = alloc_page_vma(GFP_HIGHUSER, vas, addr);
		else
			page = alloc_page(GFP_HIGHUSER);
		if (!page)
			goto free_pages;
		dst[i] = migrate_pfn(page_to_pfn(page));
	}
	for (i = 0; i < npages; i++) {
		struct page *page = migrate_pfn_to_page(dst[i]);

		if (!page)
			continue;
		WARN_ON_ONCE(!folio_trylock(page_folio(page)));
		(*mpages)++;
	}
	return 0;

free_pages:
	for (i = 0; i < npages; i++) {
		struct page *page = migrate_pfn_to_page(dst[i]);

		if (!page)
			continue;
		put_page(page);
		dst[i] = 0;
	}
	return -ENOMEM;
}

/*
 * Evict @devmem_allocation to RAM by pfn, wherever its pages are mapped;
 * no mmap lock needed. Tries three times for the allocation to detach.
 */
static int
drm_pagemap_evict_to_ram(struct drm_pagemap_devmem *devmem_allocation)
{
	const struct drm_pagemap_devmem_ops *ops = devmem_allocation->ops;
	unsigned long npages = devmem_allocation->size >> PAGE_SHIFT;
	struct drm_pagemap_addr *pagemap_addr;
	unsigned int retry_count = 2;
	unsigned long *src, *dst, i, mpages;
	struct page **pages;
	int err = 0;
	void *buf;

retry:
	if (!mmget_not_zero(devmem_allocation->mm))
		return -EFAULT;
	buf = drm_pagemap_buf(npages, &src, &pagemap_addr, &pages);
	if (!buf) {
		err = -ENOMEM;
		goto err_out;
	}
	dst = src + npages;
	mpages = 0;

	err = ops->populate_devmem_pfn(devmem_allocation, npages, src);
	if (err)
		goto err_free;
	err = migrate_device_pfns(src, npages);
	if (err)
		goto err_free;
	err = drm_pagemap_populate_ram_pfn(NULL, NULL, npages, &mpages, src,
					   dst, 0);
	if (err || !mpages)
		goto err_finalize;
	err = drm_pagemap_map_pages(devmem_allocation->dev, pagemap_addr, dst,
				    npages, DMA_FROM_DEVICE);
	if (err)
		goto err_finalize;
	for (i = 0; i < npages; i++)
		pages[i] = migrate_pfn_to_page(src[i]);
	err = ops->copy_to_ram(pages, pagemap_addr, npages);

err_finalize:
	/*
	 * Unmapped while @dst still names the pages: the kernel unmaps after
	 * drm_pagemap_migration_unlock_put_pages() has cleared @dst, so an
	 * error after some pages were mapped leaks their mappings.
	 */
	drm_pagemap_unmap_pages(devmem_allocation->dev, pagemap_addr, dst,
				npages, DMA_FROM_DEVICE);
	if (err)
		drm_pagemap_unlock_put_pages(npages, dst);
	migrate_device_pages(src, dst, npages);
	migrate_device_finalize(src, dst, npages);
err_free:
	kvfree(buf);
err_out:
	mmput_async(devmem_allocation->mm);
	if (completion_done(&devmem_allocation->detached))
		return 0;
	if (retry_count--)
		goto retry;
	return err ?: -EBUSY;
}

/* The whole allocation of the faulting page goes back to RAM. */
static int __drm_pagemap_migrate_to_ram(struct vm_area_struct *vas,
					struct page *page,
					unsigned long fault_addr,
					unsigned long size)
{
	struct migrate_vma migrate = {
		.vma		= vas,
		.pgmap_owner	= page_pgmap(page)->owner,
		.flags		= MIGRATE_VMA_SELECT_DEVICE_PRIVATE |
				  MIGRATE_VMA_SELECT_DEVICE_COHERENT,
		.fault_page	= page,
	};
	struct drm_pagemap_zdd *zdd = page->zone_device_data;
	unsigned long start, end, npages, mpages = 0, i;
	struct drm_pagemap_addr *pagemap_addr;
	const struct drm_pagemap_devmem_ops *ops;
	struct device *dev = NULL;
	struct page **pages;
	int err = 0;
	void *buf;

	start = ALIGN_DOWN(fault_addr, size);
	end = ALIGN(fault_addr + 1, size);
	if (start < vas->vm_start)
		start = vas->vm_start;
	if (end > vas->vm_end)
		end = vas->vm_end;
	migrate.start = start;
	migrate.end = end;
	npages = (end - start) >> PAGE_SHIFT;

	buf = drm_pagemap_buf(npages, &migrate.src, &pagemap_addr, &pages);
	if (!buf)
		return -ENOMEM;
	migrate.dst = migrate.src + npages;
	err = migrate_vma_setup(&migrate);
	if (err)
		goto err_free;
	if (!migrate.cpages)
		goto err_free;		/* raced with another fault */

	ops = zdd->devmem_allocation->ops;
	dev = zdd->devmem_allocation->dev;
	err = drm_pagemap_populate_ram_pfn(vas, page, npages, &mpages,
					   migrate.src, migrate.dst, start);
	if (err)
		goto err_finalize;
	err = drm_pagemap_map_pages(dev, pagemap_addr, migrate.dst, npages,
				    DMA_FROM_DEVICE);
	if (err)
		goto err_finalize;
	for (i = 0; i < npages; i++)
		pages[i] = migrate_pfn_to_page(migrate.src[i]);
	err = ops->copy_to_ram(pages, pagemap_addr, npages);

err_finalize:
	/* Before @dst is cleared (see drm_pagemap_evict_to_ram()). */
	drm_pagemap_unmap_pages(dev, pagemap_addr, migrate.dst, npages,
				DMA_FROM_DEVICE);
	if (err)
		drm_pagemap_unlock_put_pages(npages, migrate.dst);
	migrate_vma_pages(&migrate);
	migrate_vma_finalize(&migrate);
err_free:
	kvfree(buf);
	return err;
}

/* ->folio_free: the page's zdd reference goes. */
static void drm_pagemap_folio_free(struct folio *folio)
{
	folio_frees++;
	drm_pagemap_zdd_put(folio->page.zone_device_data);
}

static vm_fault_t drm_pagemap_migrate_to_ram(struct vm_fault *vmf)
{
	struct drm_pagemap_zdd *zdd = vmf->page->zone_device_data;
	int err;

	err = __drm_pagemap_migrate_to_ram(vmf->vma, vmf->page, vmf->address,
					   zdd->devmem_allocation->size);
	return err ? VM_FAULT_SIGBUS : 0;
}

static const struct dev_pagemap_ops drm_pagemap_pagemap_ops = {
	.folio_free	= drm_pagemap_folio_free,
	.migrate_to_ram	= drm_pagemap_migrate_to_ram,
};

static void drm_pagemap_devmem_init(struct drm_pagemap_devmem *devmem,
				    struct device *dev, struct mm_struct *mm,
				    const struct drm_pagemap_devmem_ops *ops,
				    struct drm_pagemap *dpagemap, size_t size)
{
	init_completion(&devmem->detached);
	devmem->dev = dev;
	devmem->mm = mm;
	devmem->ops = ops;
	devmem->dpagemap = dpagemap;
	devmem->size = size;
}

static int drm_pagemap_populate_mm(struct drm_pagemap *dpagemap,
				   unsigned long start, unsigned long end,
				   struct mm_struct *mm)
{
	int err;

	if (!mmget_not_zero(mm))
		return -EFAULT;
	mmap_read_lock(mm);
	err = dpagemap->ops->populate_mm(dpagemap, start, end, mm, 0);
	mmap_read_unlock(mm);
	mmput(mm);
	return err;
}

/* ================= the fake GPU, set up as xe's VRAM ================= */

/* Small VRAM: pages past it in the 128 MiB region are never handed out. */
#define FXE_VRAM_SIZE		(1024 * 1024UL)
#define FXE_VRAM_PAGES		(FXE_VRAM_SIZE >> PAGE_SHIFT)

struct fxe_bo;

struct fxe_vram_region {
	struct dev_pagemap pagemap;
	struct drm_pagemap dpagemap;
	struct device *dev;
	u64 hpa_base;
	u64 usable_size;
	u8 *vram;			/* the VRAM's bytes, by dpa */
	bool used[FXE_VRAM_PAGES];	/* drm_buddy's part: used pages */
	struct mutex lock;
	struct fxe_bo *bos;		/* live buffer objects */
	unsigned long bos_live, dpagemap_releases;
	unsigned long copy_fail_nth;	/* fail the n-th copy (1: next) */
};

struct fxe_device {
	struct device dev;
	struct fxe_vram_region vr;
	bool removed;
};

/* A VRAM buffer object backing one device-memory allocation. */
struct fxe_bo {
	struct drm_pagemap_devmem devmem_allocation;
	struct kref ref;
	struct fxe_vram_region *vr;
	unsigned long first, npages;	/* VRAM pages */
	struct fxe_bo *next;
};

static struct fxe_vram_region *page_to_vr(struct page *page)
{
	return container_of(page_pgmap(page), struct fxe_vram_region,
			    pagemap);
}

static u64 fxe_page_to_dpa(struct fxe_vram_region *vr, struct page *page)
{
	return PFN_PHYS(page_to_pfn(page)) - vr->hpa_base;
}

static void fxe_bo_release(struct kref *ref)
{
	struct fxe_bo *bo = container_of(ref, struct fxe_bo, ref);
	struct fxe_vram_region *vr = bo->vr;
	struct fxe_bo **pp;
	unsigned long i;

	mutex_lock(&vr->lock);
	for (i = 0; i < bo->npages; i++)
		vr->used[bo->first + i] = false;
	for (pp = &vr->bos; *pp != bo; pp = &(*pp)->next)
		;
	*pp = bo->next;
	vr->bos_live--;
	mutex_unlock(&vr->lock);
	kfree(bo);
}

static void fxe_bo_get(struct fxe_bo *bo)
{
	kref_get(&bo->ref);
}

static void fxe_bo_put(struct fxe_bo *bo)
{
	kref_put(&bo->ref, fxe_bo_release);
}

/* First fit of @npages contiguous VRAM pages, handed out zeroed. */
static struct fxe_bo *fxe_bo_create(struct fxe_vram_region *vr,
				    unsigned long npages)
{
	struct fxe_bo *bo = kzalloc(sizeof(*bo), GFP_KERNEL);
	unsigned long first, i;

	if (!bo)
		return ERR_PTR(-ENOMEM);
	mutex_lock(&vr->lock);
	for (first = 0; first + npages <= FXE_VRAM_PAGES; first++) {
		for (i = 0; i < npages && !vr->used[first + i]; i++)
			;
		if (i == npages)
			break;
	}
	if (first + npages > FXE_VRAM_PAGES) {
		mutex_unlock(&vr->lock);
		kfree(bo);
		return ERR_PTR(-ENOSPC);
	}
	for (i = 0; i < npages; i++)
		vr->used[first + i] = true;
	memset(vr->vram + (first << PAGE_SHIFT), 0, npages << PAGE_SHIFT);
	kref_init(&bo->ref);
	bo->vr = vr;
	bo->first = first;
	bo->npages = npages;
	bo->next = vr->bos;
	vr->bos = bo;
	vr->bos_live++;
	mutex_unlock(&vr->lock);
	return bo;
}

/*
 * The copy engine: each page of @pages with a DMA address in
 * @pagemap_addr moves between VRAM and the system page the address maps,
 * reached only through the device's IOMMU. -EIO when the engine faults.
 */
static int fxe_copy(struct page **pages, struct drm_pagemap_addr *pagemap_addr,
		    unsigned long npages, bool to_vram)
{
	struct fxe_vram_region *vr = NULL;
	unsigned long i;

	for (i = 0; i < npages; i++) {
		struct page *spage;
		size_t off;
		u8 *sys, *dev;

		if (!pages[i] || !pagemap_addr[i].addr)
			continue;
		vr = page_to_vr(pages[i]);
		if (vr->copy_fail_nth && !--vr->copy_fail_nth)
			return -EIO;
		spage = memremap_dma_page(vr->dev, pagemap_addr[i].addr,
					  PAGE_SIZE, !to_vram, &off);
		if (!spage)
			return -EIO;
		dev = vr->vram + fxe_page_to_dpa(vr, pages[i]);
		sys = (u8 *)kmap_local_page(spage) + off;
		if (to_vram)
			memcpy(dev, sys, PAGE_SIZE);
		else
			memcpy(sys, dev, PAGE_SIZE);
		kunmap_local(sys);
	}
	return 0;
}

static int fxe_copy_to_devmem(struct page **pages,
			      struct drm_pagemap_addr *pagemap_addr,
			      unsigned long npages)
{
	return fxe_copy(pages, pagemap_addr, npages, true);
}

static int fxe_copy_to_ram(struct page **pages,
			   struct drm_pagemap_addr *pagemap_addr,
			   unsigned long npages)
{
	return fxe_copy(pages, pagemap_addr, npages, false);
}

static struct fxe_bo *to_fxe_bo(struct drm_pagemap_devmem *devmem)
{
	return container_of(devmem, struct fxe_bo, devmem_allocation);
}

/* The allocation's reference on its BO goes. */
static void fxe_devmem_release(struct drm_pagemap_devmem *devmem)
{
	fxe_bo_put(to_fxe_bo(devmem));
}

static int fxe_populate_devmem_pfn(struct drm_pagemap_devmem *devmem,
				   unsigned long npages, unsigned long *pfn)
{
	struct fxe_bo *bo = to_fxe_bo(devmem);
	unsigned long i;

	if (WARN_ON(npages > bo->npages))
		return -EINVAL;
	for (i = 0; i < npages; i++)
		pfn[i] = PHYS_PFN(bo->vr->hpa_base) + bo->first + i;
	return 0;
}

static const struct drm_pagemap_devmem_ops fxe_devmem_ops = {
	.devmem_release		= fxe_devmem_release,
	.populate_devmem_pfn	= fxe_populate_devmem_pfn,
	.copy_to_devmem		= fxe_copy_to_devmem,
	.copy_to_ram		= fxe_copy_to_ram,
};

/* xe_drm_pagemap_populate_mm(): a BO for the range, then migrate. */
static int fxe_populate_mm(struct drm_pagemap *dpagemap, unsigned long start,
			   unsigned long end, struct mm_struct *mm,
			   unsigned long timeslice_ms)
{
	struct fxe_vram_region *vr = container_of(dpagemap,
						  struct fxe_vram_region,
						  dpagemap);
	struct drm_pagemap_migrate_details mdetails = {
		.timeslice_ms = timeslice_ms,
	};
	struct fxe_bo *bo;
	int err;

	bo = fxe_bo_create(vr, (end - start) >> PAGE_SHIFT);
	if (IS_ERR(bo))
		return PTR_ERR(bo);
	drm_pagemap_devmem_init(&bo->devmem_allocation, vr->dev, mm,
				&fxe_devmem_ops, dpagemap, end - start);
	fxe_bo_get(bo);		/* handed to the allocation */
	err = drm_pagemap_migrate_to_devmem(&bo->devmem_allocation, mm, start,
					    end, &mdetails);
	fxe_bo_put(bo);
	return err;
}

static const struct drm_pagemap_ops fxe_drm_pagemap_ops = {
	.populate_mm = fxe_populate_mm,
};

static void fxe_dpagemap_release(struct drm_pagemap *dpagemap)
{
	container_of(dpagemap, struct fxe_vram_region,
		     dpagemap)->dpagemap_releases++;
}

/* xe_svm_devm_owner(): the device is the owner. */
static void *fxe_devm_owner(struct fxe_device *xe)
{
	return xe;
}

/* xe_devm_add(): remap VRAM into a free physical range, with struct pages. */
static int fxe_devm_add(struct fxe_device *xe, struct fxe_vram_region *vr)
{
	struct device *dev = &xe->dev;
	struct resource *res;
	void *addr;

	res = devm_request_free_mem_region(dev, &iomem_resource,
					   vr->usable_size);
	if (IS_ERR(res))
		return PTR_ERR(res);
	vr->pagemap.type = MEMORY_DEVICE_PRIVATE;
	vr->pagemap.range.start = res->start;
	vr->pagemap.range.end = res->end;
	vr->pagemap.nr_range = 1;
	vr->pagemap.ops = &drm_pagemap_pagemap_ops;
	vr->pagemap.owner = fxe_devm_owner(xe);
	addr = devm_memremap_pages(dev, &vr->pagemap);
	if (IS_ERR(addr)) {
		devm_release_mem_region(dev, res->start, resource_size(res));
		return PTR_ERR(addr);
	}
	vr->hpa_base = res->start;
	return 0;
}

static void fxe_dev_release(struct device *dev)
{
	(void)dev;
}

static int fxe_probe(struct fxe_device *xe)
{
	struct fxe_vram_region *vr = &xe->vr;
	int err;

	memset(xe, 0, sizeof(*xe));
	xe->dev.init_name = "fxe";
	xe->dev.release = fxe_dev_release;
	device_initialize(&xe->dev);
	mutex_init(&vr->lock);
	vr->dev = &xe->dev;
	vr->usable_size = FXE_VRAM_SIZE;
	vr->vram = kvzalloc(FXE_VRAM_SIZE, GFP_KERNEL);
	if (!vr->vram) {
		put_device(&xe->dev);
		return -ENOMEM;
	}
	err = fxe_devm_add(xe, vr);
	if (err) {
		kvfree(vr->vram);
		put_device(&xe->dev);
		return err;
	}
	drm_pagemap_init(&vr->dpagemap, &vr->pagemap, &xe->dev,
			 &fxe_drm_pagemap_ops);
	vr->dpagemap.release = fxe_dpagemap_release;
	return 0;
}

/*
 * Unbind with pages still mapped: every live BO is evicted (as the VRAM
 * eviction at unbind does, each under a reference of its own), then the
 * drm_pagemap's reference goes and devres unmaps the pgmap and releases
 * the region.
 */
static int fxe_remove(struct fxe_device *xe)
{
	struct fxe_vram_region *vr = &xe->vr;
	int ret = 0;

	for (;;) {
		struct fxe_bo *bo;
		int err;

		mutex_lock(&vr->lock);
		bo = vr->bos;
		if (bo)
			fxe_bo_get(bo);
		mutex_unlock(&vr->lock);
		if (!bo)
			break;
		err = drm_pagemap_evict_to_ram(&bo->devmem_allocation);
		if (err && !ret)
			ret = err;
		fxe_bo_put(bo);
		if (err)
			break;
	}
	drm_pagemap_put(&vr->dpagemap);
	put_device(&xe->dev);
	kvfree(vr->vram);
	xe->removed = true;
	return ret;
}

/* ================= the suite ================= */

#define MIRROR_BASE	0x7f0000000000UL
#define MIRROR_PAGES	64
/* An allocation is a power of two, aligned: the fault aligns to it. */
#define ALLOC_PAGES	16

static struct fxe_device xe;

static unsigned long val_of(unsigned long i)
{
	return i * 7 + 3;
}

/* A process with @n pages written (page i holds val_of(i)). */
static struct mm_struct *new_process(unsigned long n)
{
	struct mm_struct *mm = memremap_mm_create();
	unsigned long i;

	memremap_mm_add_vma(mm, MIRROR_BASE,
			    MIRROR_BASE + MIRROR_PAGES * PAGE_SIZE,
			    VM_READ | VM_WRITE);
	for (i = 0; i < n; i++)
		proc_write(mm, MIRROR_BASE + i * PAGE_SIZE, val_of(i));
	return mm;
}

static unsigned long cpu_read(struct mm_struct *mm, unsigned long i)
{
	return proc_read(mm, MIRROR_BASE + i * PAGE_SIZE);
}

/* Populate pages [first, first + n) with VRAM. */
static int to_vram(struct mm_struct *mm, unsigned long first, unsigned long n)
{
	return drm_pagemap_populate_mm(&xe.vr.dpagemap,
				       MIRROR_BASE + first * PAGE_SIZE,
				       MIRROR_BASE + (first + n) * PAGE_SIZE,
				       mm);
}

/* Where VRAM holds the device page mapped at page @i, or NULL. */
static unsigned long *vram_slot(struct mm_struct *mm, unsigned long i)
{
	struct page *page;
	unsigned long val;

	if (memremap_mm_entry(mm, MIRROR_BASE + i * PAGE_SIZE, &page, &val) !=
	    MEMREMAP_PTE_SWAP || !is_device_private_page(page))
		return NULL;
	return (unsigned long *)(xe.vr.vram + fxe_page_to_dpa(&xe.vr, page));
}

static unsigned long vram_read(struct mm_struct *mm, unsigned long i)
{
	unsigned long *slot = vram_slot(mm, i);

	return slot ? *slot : ~0UL;
}

/*
 * A report line: the step, the page mapped at page @i of @mm (its refcount,
 * and for a device page its zdd's), then the layer's and device's counts.
 */
static void step(const char *what, struct mm_struct *mm, unsigned long i)
{
	struct page *page = NULL;
	unsigned long val;
	char pins[24], pg[40];

	if (mm)
		memremap_mm_entry(mm, MIRROR_BASE + i * PAGE_SIZE, &page, &val);
	if (!page)
		snprintf(pg, sizeof(pg), "none");
	else if (is_device_private_page(page))
		snprintf(pg, sizeof(pg), "dev ref %d zdd ref %u",
			 page_ref_count(page),
			 kref_read(&((struct drm_pagemap_zdd *)
				     page->zone_device_data)->refcount));
	else
		snprintf(pg, sizeof(pg), "sys ref %d", page_ref_count(page));
	if (xe.removed)
		snprintf(pins, sizeof(pins), "unmapped");
	else
		snprintf(pins, sizeof(pins), "%ld",
			 memremap_pgmap_pins(&xe.vr.pagemap));
	printf("    # %-30s page %2lu: %-22s zdds %ld folio_free %2lu "
	       "bos %lu pins %s\n", what, i, pg, zdds_live, folio_frees,
	       xe.vr.bos_live, pins);
}

static void start_case(void)
{
	folio_frees = 0;
	EXPECT_EQ(fxe_probe(&xe), 0);
}

/* Pages [first, first + n) are device-private, of one zdd, at refcount 1. */
static void expect_in_vram(struct mm_struct *mm, unsigned long first,
			   unsigned long n)
{
	struct drm_pagemap_zdd *zdd = NULL;
	unsigned long i, val;
	struct page *page;

	for (i = first; i < first + n; i++) {
		EXPECT_EQ(memremap_mm_entry(mm, MIRROR_BASE + i * PAGE_SIZE,
					    &page, &val), MEMREMAP_PTE_SWAP);
		EXPECT_TRUE(is_device_private_page(page));
		EXPECT_PTR_EQ(page_pgmap(page), &xe.vr.pagemap);
		EXPECT_EQ(page_ref_count(page), 1);
		EXPECT_EQ(memremap_page_mapcount(page), 1);
		EXPECT_FALSE(PageLocked(page));
		if (i == first)
			zdd = page->zone_device_data;
		EXPECT_PTR_EQ(page->zone_device_data, zdd);
		EXPECT_EQ(vram_read(mm, i), val_of(i));
	}
	/* One reference per page; the migration's own went at its end. */
	if (zdd)
		EXPECT_EQ(kref_read(&zdd->refcount), n);
}

static void expect_in_ram(struct mm_struct *mm, unsigned long first,
			  unsigned long n)
{
	unsigned long i, val;
	struct page *page;

	for (i = first; i < first + n; i++) {
		EXPECT_EQ(memremap_mm_entry(mm, MIRROR_BASE + i * PAGE_SIZE,
					    &page, &val),
			  MEMREMAP_PTE_PRESENT);
		EXPECT_FALSE(is_zone_device_page(page));
		EXPECT_EQ(page_ref_count(page), 1);
		EXPECT_EQ(cpu_read(mm, i), val_of(i));
	}
}

KTAP_CASE(devm_add_sets_up_a_private_pgmap)
{
	unsigned long regions = memremap_iomem_regions();

	start_case();
	step("probed:", NULL, 0);
	EXPECT_TRUE(memremap_pgmap_is_mapped(&xe.vr.pagemap));
	EXPECT_EQ(memremap_pgmap_pins(&xe.vr.pagemap), 0);
	EXPECT_PTR_EQ(xe.vr.pagemap.owner, &xe);
	EXPECT_PTR_EQ(xe.vr.pagemap.ops, &drm_pagemap_pagemap_ops);
	EXPECT_EQ(xe.vr.hpa_base, xe.vr.pagemap.range.start);
	/* devm_request_free_mem_region() and devm_memremap_pages(). */
	EXPECT_EQ(memremap_devres_count(&xe.dev), 2);
	EXPECT_EQ(memremap_iomem_regions(), regions + 1);
	EXPECT_EQ(region_intersects(xe.vr.hpa_base, FXE_VRAM_SIZE,
				    IORESOURCE_MEM,
				    IORES_DESC_DEVICE_PRIVATE_MEMORY),
		  REGION_INTERSECTS);
	EXPECT_EQ(kref_read(&xe.vr.dpagemap.ref), 1);
	EXPECT_EQ(fxe_remove(&xe), 0);
	EXPECT_EQ(xe.vr.dpagemap_releases, 1);
	EXPECT_FALSE(memremap_pgmap_is_mapped(&xe.vr.pagemap));
	EXPECT_EQ(memremap_iomem_regions(), regions);
	EXPECT_EQ(memremap_devres_live(), 0);
	EXPECT_EQ(memremap_ledger_count(), 0);
	EXPECT_WARNS(0);
}

KTAP_CASE(migrate_to_vram_then_exit)
{
	unsigned long sys = memremap_system_pages_live();
	struct mm_struct *mm;

	start_case();
	mm = new_process(ALLOC_PAGES);
	EXPECT_EQ(to_vram(mm, 0, ALLOC_PAGES), 0);
	step("migrated 16 pages to VRAM:", mm, 0);
	expect_in_vram(mm, 0, ALLOC_PAGES);
	EXPECT_EQ(zdds_live, 1);
	EXPECT_EQ(xe.vr.bos_live, 1);
	EXPECT_EQ(memremap_pgmap_pins(&xe.vr.pagemap), ALLOC_PAGES);
	/* The zdd holds the drm_pagemap; the DMA mappings are gone. */
	EXPECT_EQ(kref_read(&xe.vr.dpagemap.ref), 2);
	EXPECT_EQ(memremap_dma_live(), 0);
	/* The process's system pages went back to the allocator. */
	EXPECT_EQ(memremap_system_pages_live(), sys);
	/* Migrating again: nothing collected (device pages are not). */
	EXPECT_EQ(to_vram(mm, 0, ALLOC_PAGES), -EBUSY);
	EXPECT_EQ(xe.vr.bos_live, 1);		/* that BO was released */
	mmput(mm);
	step("the process exited:", NULL, 0);
	EXPECT_EQ(folio_frees, ALLOC_PAGES);
	EXPECT_EQ(zdds_live, 0);
	EXPECT_EQ(xe.vr.bos_live, 0);		/* devmem_release ran */
	EXPECT_EQ(memremap_pgmap_pins(&xe.vr.pagemap), 0);
	EXPECT_EQ(kref_read(&xe.vr.dpagemap.ref), 1);
	EXPECT_EQ(fxe_remove(&xe), 0);
	EXPECT_EQ(memremap_ledger_count(), 0);
	EXPECT_WARNS(0);
}

KTAP_CASE(cpu_fault_takes_the_whole_allocation_back)
{
	struct mm_struct *mm;
	unsigned long v = 0x5eed;

	start_case();
	mm = new_process(2 * ALLOC_PAGES);
	EXPECT_EQ(to_vram(mm, 0, ALLOC_PAGES), 0);
	EXPECT_EQ(to_vram(mm, ALLOC_PAGES, ALLOC_PAGES), 0);
	step("two allocations of 16 in VRAM:", mm, 5);
	EXPECT_EQ(zdds_live, 2);
	EXPECT_EQ(memremap_pgmap_pins(&xe.vr.pagemap), 2 * ALLOC_PAGES);
	/* The GPU writes page 5; the CPU reads it: a fault. */
	EXPECT_NOT_NULL(vram_slot(mm, 5));
	if (vram_slot(mm, 5))
		*vram_slot(mm, 5) = v;
	EXPECT_EQ(cpu_read(mm, 5), v);
	step("a CPU fault on page 5:", mm, 5);
	/* Its whole allocation came back; the other stayed. */
	EXPECT_EQ(folio_frees, ALLOC_PAGES);
	EXPECT_EQ(zdds_live, 1);
	EXPECT_EQ(xe.vr.bos_live, 1);
	EXPECT_EQ(memremap_pgmap_pins(&xe.vr.pagemap), ALLOC_PAGES);
	EXPECT_EQ(memremap_dma_live(), 0);
	v = val_of(5);
	memremap_mm_access(mm, MIRROR_BASE + 5 * PAGE_SIZE, &v, sizeof(v),
			   true);
	expect_in_ram(mm, 0, ALLOC_PAGES);
	expect_in_vram(mm, ALLOC_PAGES, ALLOC_PAGES);
	/* A write fault on the second. */
	v = 99;
	EXPECT_EQ(memremap_mm_access(mm, MIRROR_BASE + 20 * PAGE_SIZE, &v,
				     sizeof(v), true), 0);
	EXPECT_EQ(cpu_read(mm, 20), 99);
	EXPECT_EQ(zdds_live, 0);
	EXPECT_EQ(xe.vr.bos_live, 0);
	EXPECT_EQ(memremap_pgmap_pins(&xe.vr.pagemap), 0);
	/* The freed VRAM is used again. */
	EXPECT_EQ(to_vram(mm, 0, ALLOC_PAGES), 0);
	expect_in_vram(mm, 0, ALLOC_PAGES);
	mmput(mm);
	EXPECT_EQ(fxe_remove(&xe), 0);
	EXPECT_EQ(memremap_ledger_count(), 0);
	EXPECT_WARNS(0);
}

KTAP_CASE(unbind_evicts_allocations_still_mapped)
{
	unsigned long sys = memremap_system_pages_live();
	struct mm_struct *mm;

	start_case();
	mm = new_process(3 * ALLOC_PAGES);
	EXPECT_EQ(to_vram(mm, 0, ALLOC_PAGES), 0);
	EXPECT_EQ(to_vram(mm, 2 * ALLOC_PAGES, ALLOC_PAGES), 0);
	step("two allocations of 16 in VRAM:", mm, 32);
	EXPECT_EQ(memremap_pgmap_pins(&xe.vr.pagemap), 2 * ALLOC_PAGES);
	EXPECT_EQ(fxe_remove(&xe), 0);
	step("unbound: evicted:", mm, 32);
	EXPECT_EQ(folio_frees, 2 * ALLOC_PAGES);
	EXPECT_EQ(zdds_live, 0);
	EXPECT_EQ(xe.vr.bos_live, 0);
	EXPECT_EQ(xe.vr.dpagemap_releases, 1);
	EXPECT_FALSE(memremap_pgmap_is_mapped(&xe.vr.pagemap));
	EXPECT_EQ(memremap_dma_live(), 0);
	EXPECT_EQ(memremap_devres_live(), 0);
	expect_in_ram(mm, 0, 3 * ALLOC_PAGES);
	EXPECT_EQ(memremap_system_pages_live(), sys + 3 * ALLOC_PAGES);
	mmput(mm);
	EXPECT_EQ(memremap_system_pages_live(), sys);
	EXPECT_EQ(memremap_ledger_count(), 0);
	EXPECT_WARNS(0);
}

/* A copy engine fault unwinds each path as the kernel's does. */
KTAP_CASE(copy_failures_unwind)
{
	struct mm_struct *mm;

	start_case();
	mm = new_process(ALLOC_PAGES);
	xe.vr.copy_fail_nth = 3;
	EXPECT_EQ(to_vram(mm, 0, ALLOC_PAGES), -EIO);
	step("a failed copy to VRAM:", mm, 0);
	/* Every device page was put back: their folio_free, then the BO. */
	EXPECT_EQ(folio_frees, ALLOC_PAGES);
	EXPECT_EQ(zdds_live, 0);
	EXPECT_EQ(xe.vr.bos_live, 0);
	EXPECT_EQ(memremap_pgmap_pins(&xe.vr.pagemap), 0);
	EXPECT_EQ(memremap_dma_live(), 0);
	expect_in_ram(mm, 0, ALLOC_PAGES);
	EXPECT_EQ(to_vram(mm, 0, ALLOC_PAGES), 0);
	/* A fault whose copy fails is SIGBUS; the pages stay in VRAM. */
	xe.vr.copy_fail_nth = 1;
	EXPECT_EQ(cpu_read(mm, 3), ~0UL);
	step("a failed copy back (SIGBUS):", mm, 3);
	expect_in_vram(mm, 0, ALLOC_PAGES);
	EXPECT_EQ(memremap_dma_live(), 0);
	EXPECT_EQ(cpu_read(mm, 3), val_of(3));
	expect_in_ram(mm, 0, ALLOC_PAGES);
	/* An eviction whose copy fails is tried again. */
	EXPECT_EQ(to_vram(mm, 0, ALLOC_PAGES), 0);
	xe.vr.copy_fail_nth = 2;
	EXPECT_EQ(fxe_remove(&xe), 0);
	expect_in_ram(mm, 0, ALLOC_PAGES);
	mmput(mm);
	EXPECT_EQ(memremap_ledger_count(), 0);
	EXPECT_WARNS(0);
}

/*
 * The whole flow on a process made beforehand, with one failure armed:
 * three allocations in, a fault, unbind. Whatever moved or did not, the
 * data is the process's and nothing is left behind.
 */
static void whole_flow(struct mm_struct *mm)
{
	to_vram(mm, 0, ALLOC_PAGES);
	to_vram(mm, ALLOC_PAGES, ALLOC_PAGES);
	to_vram(mm, 2 * ALLOC_PAGES, ALLOC_PAGES);
	cpu_read(mm, ALLOC_PAGES + 1);
	fxe_remove(&xe);
	memremap_fail_none();
	expect_in_ram(mm, 0, 3 * ALLOC_PAGES);
	EXPECT_EQ(zdds_live, 0);
	EXPECT_EQ(memremap_dma_live(), 0);
	mmput(mm);
	EXPECT_EQ(memremap_mapped_pgmaps(), 0);
	EXPECT_EQ(memremap_ledger_count(), 0);
}

KTAP_CASE(allocation_failures_at_every_site)
{
	unsigned long nth;
	bool hit = true;

	memremap_warn_quiet(true);
	for (nth = 1; hit && nth < 400; nth++) {
		unsigned long injected;
		struct mm_struct *mm;

		start_case();
		mm = new_process(3 * ALLOC_PAGES);
		injected = memremap_kmalloc_injected();
		memremap_kmalloc_fail_nth(nth);
		whole_flow(mm);
		hit = memremap_kmalloc_injected() != injected;
	}
	memremap_warn_quiet(false);
	printf("    # %lu allocations failed in turn\n", nth - 2);
	EXPECT_FALSE(hit);			/* every site was reached */
	EXPECT_WARNS(0);
}

KTAP_CASE(dma_mapping_failures_at_every_site)
{
	unsigned long nth, total;

	start_case();
	dma_maps = 0;
	whole_flow(new_process(3 * ALLOC_PAGES));
	total = dma_maps;
	for (nth = 1; nth <= total; nth++) {
		struct mm_struct *mm;

		start_case();
		mm = new_process(3 * ALLOC_PAGES);
		memremap_dma_fail_nth(nth);
		whole_flow(mm);
	}
	printf("    # %lu DMA mappings failed in turn\n", total);
	EXPECT_TRUE(total >= 4 * ALLOC_PAGES);
	EXPECT_WARNS(0);
}

/* Probe (xe_devm_add()) fails at each allocation: nothing is left. */
KTAP_CASE(probe_failures_unwind)
{
	unsigned long regions = memremap_iomem_regions(), nth;
	bool hit = true;
	int failed = 0;

	for (nth = 1; hit && nth < 100; nth++) {
		unsigned long injected = memremap_kmalloc_injected();
		int err;

		memremap_kmalloc_fail_nth(nth);
		err = fxe_probe(&xe);
		memremap_fail_none();
		hit = memremap_kmalloc_injected() != injected;
		if (err) {
			EXPECT_EQ(err, -ENOMEM);
			failed++;
		} else {
			EXPECT_EQ(fxe_remove(&xe), 0);
		}
		EXPECT_EQ(memremap_mapped_pgmaps(), 0);
		EXPECT_EQ(memremap_iomem_regions(), regions);
		EXPECT_EQ(memremap_devres_live(), 0);
		EXPECT_EQ(memremap_ledger_count(), 0);
	}
	printf("    # %d of %lu allocations failed the probe\n", failed,
	       nth - 2);
	EXPECT_FALSE(hit);
	EXPECT_TRUE(failed > 2);
	EXPECT_WARNS(0);
}

KTAP_MAIN("driver_drm_pagemap",
	  KTAP_ENTRY(devm_add_sets_up_a_private_pgmap),
	  KTAP_ENTRY(probe_failures_unwind),
	  KTAP_ENTRY(migrate_to_vram_then_exit),
	  KTAP_ENTRY(cpu_fault_takes_the_whole_allocation_back),
	  KTAP_ENTRY(unbind_evicts_allocations_still_mapped),
	  KTAP_ENTRY(copy_failures_unwind),
	  KTAP_ENTRY(allocation_failures_at_every_site),
	  KTAP_ENTRY(dma_mapping_failures_at_every_site))
