// SPDX-License-Identifier: GPL-2.0-only
/*
 * A device-memory driver of our own, written to how amdkfd's SVM migration
 * behaves in Linux 6.1 (drivers/gpu/drm/amd/amdkfd/kfd_migrate.c and what
 * it needs of kfd_svm.c; docs/DESIGN.md section 10), and its KTAP suite.
 *
 * The GPU registers all of its VRAM as ONE pgmap with devm_*() on its
 * struct device: a DEVICE_PRIVATE range in free physical space
 * (devm_request_free_mem_region()), or, on a part whose CPU reaches VRAM
 * coherently over XGMI, a DEVICE_COHERENT pgmap over the VRAM aperture.
 * VRAM is handed out in buffer objects (struct svm_range_bo, a kref'd
 * buffer whose pages the driver owns): a range's migration takes one bo,
 * every VRAM page in use holds a reference on it (zone_device_data), and
 * page_free() drops that reference, so the bo goes with its last page.
 * The "SDMA engine" copies between system pages, which the driver
 * DMA-maps, and VRAM. A CPU fault on a VRAM page migrates its whole range
 * back; teardown evicts what is still resident, then the device's devres
 * unmaps the pgmap and releases the region, newest first.
 */
#include <linux/device.h>
#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/gfp.h>
#include <linux/highmem.h>
#include <linux/ioport.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/memremap.h>
#include <linux/migrate.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/mutex.h>
#include <linux/percpu-refcount.h>
#include <linux/pagemap.h>
#include <linux/printk.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/swapops.h>
#include <string.h>
#include <memremap/test.h>
#include "ktap.h"
#include "drivers/driver_test.h"

/*
 * kfd_svm.h: devices of one XGMI hive share a pgmap owner, so that each
 * sees the others' VRAM pages as its own.
 */
#define SVM_ADEV_PGMAP_OWNER(adev) \
	((adev)->hive ? (void *)(adev)->hive : (void *)(adev))

/* kfd_svm.h: a DMA address with this bit set is VRAM, not a mapping. */
#define SVM_RANGE_VRAM_DOMAIN	(1UL << 0)

/* kfd_migrate.h */
enum MIGRATION_COPY_DIR {
	FROM_RAM_TO_VRAM = 0,
	FROM_VRAM_TO_RAM
};

/* Our card: 4 MiB of VRAM (svm_migrate_init() aligns it to 2 MiB). */
#define VRAM_SIZE	(4UL << 20)
#define VRAM_PAGES	(VRAM_SIZE >> PAGE_SHIFT)
/* Its KFD gpu_id: a range's actual_loc when in its VRAM. */
#define GPU_ID		0x5a1e
/* Where the coherent part's VRAM appears in the CPU's physical space. */
#define APER_BASE	(1UL << 40)

struct svm_range;

/* struct amdgpu_device: the fields of it the migration code reads. */
struct amdgpu_device {
	struct device *dev;
	void *hive;			/* the XGMI hive, or NULL */
	bool xgmi_connected_to_cpu;	/* gmc.xgmi.connected_to_cpu */
	u64 real_vram_size;		/* gmc.real_vram_size */
	u64 aper_base, aper_size;	/* gmc.aper_base, gmc.aper_size */
	u32 gpu_id;
	struct dev_pagemap pgmap;	/* kfd.dev->pgmap */
	bool vram_busy[VRAM_PAGES];	/* the VRAM manager (TTM's) */
	struct list_head bo_release_work; /* svm_bo release work queued */
	unsigned char *vram;		/* the memory itself */

	/* What the suite reads. */
	unsigned long page_free_calls;
	unsigned long sdma_pages;
	unsigned long bo_created, bo_released;
	unsigned long free_calls_at_zero;	/* page_free calls at kref 0 */
	unsigned long evict_tries;
	unsigned long dma_maps;			/* mappings made */
	unsigned int kref_at_free;		/* kref before the last put */
};

/* struct svm_range_bo: a VRAM buffer object shared by a range's pages. */
struct svm_range_bo {
	struct kref kref;
	struct amdgpu_device *adev;
	struct mm_struct *mm;		/* eviction_fence->mm, mmgrab()bed */
	struct svm_range *prange;	/* range_list: the range on it */
	unsigned long vram_first;	/* its VRAM: first page, */
	unsigned long npages;		/* and how many */
	struct list_head release_work;
};

struct kfd_process;

/* struct svm_range: an interval of a process's pages, [start, last]. */
struct svm_range {
	struct kfd_process *p;
	unsigned long start, last;	/* page numbers */
	unsigned long npages;
	u32 actual_loc;			/* 0: system memory; else a gpu_id */
	struct svm_range_bo *svm_bo;
	bool ttm_res;			/* the range holds a bo reference */
	unsigned long offset;		/* its first page in the bo */
	unsigned long vram_pages;
	struct mutex migrate_mutex;
};

#define MAX_RANGES	4

/* struct kfd_process with its svm_range_list. */
struct kfd_process {
	struct mm_struct *mm;
	struct mutex svms_lock;
	struct svm_range *ranges[MAX_RANGES];
	unsigned int nr_ranges;
};

/* The machine: one GPU, at most one KFD process. */
static unsigned char vram_store[VRAM_SIZE];
static struct amdgpu_device *kfd_adev;
static struct kfd_process *kfd_proc;

static struct amdgpu_device *svm_range_get_adev_by_id(struct svm_range *r,
						      u32 id)
{
	(void)r;
	return kfd_adev && kfd_adev->gpu_id == id ? kfd_adev : NULL;
}

static struct kfd_process *kfd_lookup_process_by_mm(struct mm_struct *mm)
{
	return kfd_proc && kfd_proc->mm == mm ? kfd_proc : NULL;
}

static struct svm_range *svm_range_from_addr(struct kfd_process *p,
					     unsigned long addr)
{
	unsigned int i;

	for (i = 0; i < p->nr_ranges; i++)
		if (addr >= p->ranges[i]->start && addr <= p->ranges[i]->last)
			return p->ranges[i];
	return NULL;
}

/* ---- kfd_svm.c: the buffer object and its references ---- */

/* The bo's last reference is gone: its VRAM, its mm and itself go. */
static void svm_range_bo_release(struct kref *kref)
{
	struct svm_range_bo *svm_bo =
		container_of(kref, struct svm_range_bo, kref);
	struct amdgpu_device *adev = svm_bo->adev;
	unsigned long i;

	if (svm_bo->prange && svm_bo->prange->svm_bo == svm_bo) {
		svm_bo->prange->svm_bo = NULL;
		svm_bo->prange->ttm_res = false;
	}
	for (i = 0; i < svm_bo->npages; i++)
		adev->vram_busy[svm_bo->vram_first + i] = false;
	mmdrop(svm_bo->mm);
	adev->bo_released++;
	kfree(svm_bo);
}

/*
 * The release from page_free() is deferred to a work item (page_free()
 * may run where the release could not sleep): queue it.
 */
static void svm_range_bo_wq_release(struct kref *kref)
{
	struct svm_range_bo *svm_bo =
		container_of(kref, struct svm_range_bo, kref);

	svm_bo->adev->free_calls_at_zero = svm_bo->adev->page_free_calls;
	list_add_tail(&svm_bo->release_work, &svm_bo->adev->bo_release_work);
}

/* flush_work(): run the releases queued. */
static void svm_range_bo_flush_release(struct amdgpu_device *adev)
{
	struct svm_range_bo *svm_bo, *next;

	list_for_each_entry_safe(svm_bo, next, &adev->bo_release_work,
				 release_work) {
		list_del_init(&svm_bo->release_work);
		svm_range_bo_release(&svm_bo->kref);
	}
}

static struct svm_range_bo *svm_range_bo_ref(struct svm_range_bo *svm_bo)
{
	if (svm_bo)
		kref_get(&svm_bo->kref);
	return svm_bo;
}

static void svm_range_bo_unref(struct svm_range_bo *svm_bo)
{
	if (svm_bo)
		kref_put(&svm_bo->kref, svm_range_bo_release);
}

static void svm_range_bo_unref_async(struct svm_range_bo *svm_bo)
{
	if (svm_bo)
		kref_put(&svm_bo->kref, svm_range_bo_wq_release);
}

/* The VRAM manager: @npages contiguous free pages, or -ENOSPC. */
static long amdgpu_vram_alloc(struct amdgpu_device *adev,
			      unsigned long npages)
{
	unsigned long first, i;

	for (first = 0; first + npages <= VRAM_PAGES; first++) {
		for (i = 0; i < npages; i++)
			if (adev->vram_busy[first + i])
				break;
		if (i == npages) {
			for (i = 0; i < npages; i++)
				adev->vram_busy[first + i] = true;
			return first;
		}
	}
	return -ENOSPC;
}

/*
 * Give @prange VRAM: keep the bo it holds, take back one that still
 * lives (its pages keep it), or make a new one holding one reference for
 * the range.
 */
static int svm_range_vram_node_new(struct amdgpu_device *adev,
				   struct svm_range *prange, bool clear)
{
	struct svm_range_bo *svm_bo;
	long first;

	if (prange->svm_bo) {
		if (prange->ttm_res)
			return 0;
		if (kref_get_unless_zero(&prange->svm_bo->kref)) {
			prange->ttm_res = true;
			return 0;
		}
		/* Being released: leave it to its release work. */
		prange->svm_bo->prange = NULL;
		prange->svm_bo = NULL;
	}
	svm_bo = kzalloc(sizeof(*svm_bo), GFP_KERNEL);
	if (!svm_bo)
		return -ENOMEM;
	first = amdgpu_vram_alloc(adev, prange->npages);
	if (first < 0) {
		kfree(svm_bo);
		return first;
	}
	kref_init(&svm_bo->kref);
	svm_bo->adev = adev;
	svm_bo->mm = prange->p->mm;
	mmgrab(svm_bo->mm);
	svm_bo->prange = prange;
	svm_bo->vram_first = first;
	svm_bo->npages = prange->npages;
	INIT_LIST_HEAD(&svm_bo->release_work);
	if (clear)
		memset(adev->vram + (first << PAGE_SHIFT), 0,
		       prange->npages << PAGE_SHIFT);
	adev->bo_created++;
	prange->svm_bo = svm_bo;
	prange->ttm_res = true;
	prange->offset = 0;
	return 0;
}

/* The range lets go of its bo; the pages still in VRAM keep it. */
static void svm_range_vram_node_free(struct svm_range *prange)
{
	svm_range_bo_unref(prange->svm_bo);
	prange->ttm_res = false;
}

static bool svm_is_valid_dma_mapping_addr(struct device *dev, dma_addr_t a)
{
	return a && !dma_mapping_error(dev, a) &&
	       !(a & SVM_RANGE_VRAM_DOMAIN);
}

/* kfd_svm.c (6.1) unmaps every migration mapping DMA_BIDIRECTIONAL. */
static void svm_range_dma_unmap(struct device *dev, dma_addr_t *dma_addr,
				unsigned long offset, unsigned long npages)
{
	unsigned long i;

	for (i = offset; i < offset + npages; i++) {
		if (!svm_is_valid_dma_mapping_addr(dev, dma_addr[i]))
			continue;
		dma_unmap_page(dev, dma_addr[i], PAGE_SIZE, DMA_BIDIRECTIONAL);
		dma_addr[i] = 0;
	}
}

/* ---- the SDMA engine ---- */

/*
 * Copy @npages between system pages (through their DMA addresses @sys,
 * which the IOMMU translates to @pages: handed in beside them here) and
 * VRAM at byte offsets @vram. An address the driver did not map would be
 * an IOMMU fault: -EFAULT, nothing copied.
 */
static int amdgpu_sdma_copy(struct amdgpu_device *adev, dma_addr_t *sys,
			    struct page **pages, u64 *vram, u64 npages,
			    enum MIGRATION_COPY_DIR direction)
{
	u64 i;

	for (i = 0; i < npages; i++)
		if (WARN_ON(!svm_is_valid_dma_mapping_addr(adev->dev, sys[i]) ||
			    !pages[i] || vram[i] >= VRAM_SIZE))
			return -EFAULT;
	for (i = 0; i < npages; i++) {
		void *va = kmap_local_page(pages[i]);

		if (direction == FROM_RAM_TO_VRAM)
			memcpy(adev->vram + vram[i], va, PAGE_SIZE);
		else
			memcpy(va, adev->vram + vram[i], PAGE_SIZE);
		kunmap_local(va);
	}
	adev->sdma_pages += npages;
	return 0;
}

/* ---- kfd_migrate.c ---- */

static unsigned long svm_migrate_addr_to_pfn(struct amdgpu_device *adev,
					     unsigned long addr)
{
	return (addr + adev->pgmap.range.start) >> PAGE_SHIFT;
}

/* The VRAM byte offset of a VRAM page. */
static unsigned long svm_migrate_addr(struct amdgpu_device *adev,
				      struct page *page)
{
	return (page_to_pfn(page) << PAGE_SHIFT) - adev->pgmap.range.start;
}

/*
 * A VRAM page comes to life: a bo reference for it, the bo in its
 * zone_device_data, and (6.1) zone_device_page_init(): a pgmap
 * reference, refcount 1, locked.
 */
static void svm_migrate_get_vram_page(struct svm_range *prange,
				      unsigned long pfn)
{
	struct page *page = pfn_to_page(pfn);

	svm_range_bo_ref(prange->svm_bo);
	page->zone_device_data = prange->svm_bo;
	zone_device_page_init(page);
}

static void svm_migrate_put_vram_page(struct amdgpu_device *adev,
				      unsigned long addr)
{
	struct page *page = pfn_to_page(svm_migrate_addr_to_pfn(adev, addr));

	unlock_page(page);
	put_page(page);
}

static struct page *svm_migrate_get_sys_page(struct vm_area_struct *vma,
					     unsigned long addr)
{
	struct page *page = alloc_page_vma(GFP_HIGHUSER, vma, addr);

	if (page)
		lock_page(page);
	return page;
}

static void svm_migrate_put_sys_page(struct page *page)
{
	unlock_page(page);
	put_page(page);
}

/* Entries setup collected that did not migrate. */
static unsigned long svm_migrate_unsuccessful_pages(struct migrate_vma *m)
{
	unsigned long i, upages = 0;

	for (i = 0; i < m->npages; i++)
		if ((m->src[i] & MIGRATE_PFN_VALID) &&
		    !(m->src[i] & MIGRATE_PFN_MIGRATE))
			upages++;
	return upages;
}

/*
 * Copy entries [@first, @first + @n) of @migrate: the system pages are
 * the sources (to VRAM) or the destinations (to RAM).
 */
static int svm_migrate_copy_memory_gart(struct amdgpu_device *adev,
					struct migrate_vma *migrate,
					dma_addr_t *sys, u64 *vram,
					u64 first, u64 n,
					enum MIGRATION_COPY_DIR direction)
{
	struct page *pages[64];
	u64 done, k, batch;
	int r;

	/* The engine's GTT window takes 64 pages at a time. */
	for (done = 0; done < n; done += batch) {
		batch = min_t(u64, n - done, 64);
		for (k = 0; k < batch; k++) {
			unsigned long mpfn = direction == FROM_RAM_TO_VRAM ?
				migrate->src[first + done + k] :
				migrate->dst[first + done + k];

			pages[k] = migrate_pfn_to_page(mpfn);
		}
		r = amdgpu_sdma_copy(adev, sys + first + done, pages,
				     vram + first + done, batch, direction);
		if (r)
			return r;
	}
	return 0;
}

/*
 * Each system page collected gets the VRAM page of its place in the
 * range's bo and a DMA mapping; runs of them are copied by SDMA.
 *
 * On an error, Linux 6.1 puts back the VRAM pages of the entries before
 * the failing one (while (i--)): that leaves the failing entry's VRAM
 * page taken and in migrate->dst, so migrate_vma_pages() moves that page
 * to VRAM uncopied, and puts pages for entries that took none. Ours puts
 * back exactly the pages taken, the failing one included (as later
 * kernels do), so a failed migration leaves the data where it was; with
 * svm_migrate_6_1_error_path set it does what 6.1 does, for the case
 * that shows the consequence.
 */
static bool svm_migrate_6_1_error_path;

static int svm_migrate_copy_to_vram(struct amdgpu_device *adev,
				    struct svm_range *prange,
				    struct migrate_vma *migrate,
				    dma_addr_t *scratch)
{
	u64 npages = migrate->npages;
	struct device *dev = adev->dev;
	dma_addr_t *src = scratch;
	u64 *dst = (u64 *)(scratch + npages);
	unsigned long first_vram;
	u64 i, j, k;
	int r = 0;

	/* The bo's VRAM for the migration's first page. */
	first_vram = prange->svm_bo->vram_first + prange->offset +
		     (migrate->start >> PAGE_SHIFT) - prange->start;
	for (i = j = 0; i < npages; i++) {
		struct page *spage = migrate_pfn_to_page(migrate->src[i]);

		if (spage && !is_zone_device_page(spage)) {
			dst[i] = (first_vram + i) << PAGE_SHIFT;
			svm_migrate_get_vram_page(prange,
					svm_migrate_addr_to_pfn(adev, dst[i]));
			migrate->dst[i] = migrate_pfn(
					svm_migrate_addr_to_pfn(adev, dst[i]));
			src[i] = dma_map_page(dev, spage, 0, PAGE_SIZE,
					      DMA_TO_DEVICE);
			r = dma_mapping_error(dev, src[i]);
			if (r) {
				dev_err(dev, "%s: fail %d dma_map_page\n",
					__func__, r);
				goto out_free_vram_pages;
			}
			adev->dma_maps++;
			j++;
			continue;
		}
		/* Nothing to move here: copy the run so far. */
		if (j) {
			r = svm_migrate_copy_memory_gart(adev, migrate, src,
							 dst, i - j, j,
							 FROM_RAM_TO_VRAM);
			if (r)
				goto out_free_vram_pages;
			j = 0;
		}
	}
	r = svm_migrate_copy_memory_gart(adev, migrate, src, dst, i - j, j,
					 FROM_RAM_TO_VRAM);

out_free_vram_pages:
	if (r && svm_migrate_6_1_error_path) {
		while (i--) {
			svm_migrate_put_vram_page(adev, dst[i]);
			migrate->dst[i] = 0;
		}
	} else if (r) {
		pr_debug("failed %d to copy memory to vram\n", r);
		for (k = 0; k <= i && k < npages; k++) {
			if (!migrate->dst[k])
				continue;
			svm_migrate_put_vram_page(adev, dst[k]);
			migrate->dst[k] = 0;
		}
	}
	return r;
}

/* One VMA's part of a range to VRAM: the pages moved, or an error. */
static long svm_migrate_vma_to_vram(struct amdgpu_device *adev,
				    struct svm_range *prange,
				    struct vm_area_struct *vma,
				    unsigned long start, unsigned long end)
{
	u64 npages = (end - start) >> PAGE_SHIFT;
	struct migrate_vma migrate = { 0 };
	unsigned long cpages, mpages = 0;
	dma_addr_t *scratch;
	void *buf;
	int r = -ENOMEM;

	migrate.vma = vma;
	migrate.start = start;
	migrate.end = end;
	migrate.flags = MIGRATE_VMA_SELECT_SYSTEM;
	migrate.pgmap_owner = SVM_ADEV_PGMAP_OWNER(adev);

	/* src and dst pfns, then DMA addresses and VRAM offsets. */
	buf = kvcalloc(npages, 2 * sizeof(*migrate.src) + sizeof(u64) +
		       sizeof(dma_addr_t), GFP_KERNEL);
	if (!buf)
		goto out;
	migrate.src = buf;
	migrate.dst = migrate.src + npages;
	scratch = (dma_addr_t *)(migrate.dst + npages);

	r = migrate_vma_setup(&migrate);
	if (r) {
		dev_err(adev->dev,
			"%s: vma setup fail %d range [0x%lx 0x%lx]\n",
			__func__, r, prange->start, prange->last);
		goto out_free;
	}
	cpages = migrate.cpages;
	if (!cpages)
		goto out_free;
	r = svm_migrate_copy_to_vram(adev, prange, &migrate, scratch);
	migrate_vma_pages(&migrate);
	/* svm_migrate_copy_done(): the copies were synchronous. */
	migrate_vma_finalize(&migrate);
	mpages = cpages - svm_migrate_unsuccessful_pages(&migrate);
	svm_range_dma_unmap(adev->dev, scratch, 0, npages);
out_free:
	kvfree(buf);
out:
	if (!r && mpages)
		return mpages;
	return r;
}

/*
 * A range to the GPU @best_loc (the caller holds the mmap lock): a bo
 * for it, then each VMA's part. A range none of whose pages moved lets
 * its bo go again.
 */
static int svm_migrate_ram_to_vram(struct svm_range *prange, u32 best_loc,
				   struct mm_struct *mm)
{
	unsigned long addr, start, end, mpages = 0;
	struct amdgpu_device *adev;
	long r = 0;

	if (prange->actual_loc == best_loc)
		return 0;
	adev = svm_range_get_adev_by_id(prange, best_loc);
	if (!adev)
		return -ENODEV;
	start = prange->start << PAGE_SHIFT;
	end = (prange->last + 1) << PAGE_SHIFT;

	r = svm_range_vram_node_new(adev, prange, true);
	if (r)
		return r;
	for (addr = start; addr < end;) {
		struct vm_area_struct *vma = find_vma(mm, addr);
		unsigned long next;

		if (!vma || addr < vma->vm_start)
			break;
		next = min(vma->vm_end, end);
		r = svm_migrate_vma_to_vram(adev, prange, vma, addr, next);
		if (r < 0)
			break;
		mpages += r;
		addr = next;
	}
	if (mpages) {
		prange->actual_loc = best_loc;
		prange->vram_pages += mpages;
	} else {
		svm_range_vram_node_free(prange);
	}
	return r < 0 ? r : 0;
}

/* page_free(): the VRAM page's last reference went; so does its bo's. */
static void svm_migrate_page_free(struct page *page)
{
	struct svm_range_bo *svm_bo = page->zone_device_data;

	if (svm_bo) {
		svm_bo->adev->page_free_calls++;
		svm_bo->adev->kref_at_free = kref_read(&svm_bo->kref);
		pr_debug("ref: %d\n", kref_read(&svm_bo->kref));
		svm_range_bo_unref_async(svm_bo);
	}
}

/*
 * Each VRAM page collected gets a fresh system page, DMA-mapped; runs of
 * consecutive VRAM are copied by SDMA. On an error Linux 6.1 puts, for
 * every entry before the failing one, the page at the DMA address
 * (svm_migrate_put_sys_page(dst[i])), taking a bus address for a
 * physical one and putting pages for entries that took none, and leaks
 * the failing entry's page. Ours unmaps and puts back exactly the pages
 * taken.
 */
static int svm_migrate_copy_to_ram(struct amdgpu_device *adev,
				   struct svm_range *prange,
				   struct migrate_vma *migrate,
				   dma_addr_t *scratch, u64 npages)
{
	struct device *dev = adev->dev;
	dma_addr_t *dst = scratch;
	u64 *src = (u64 *)(scratch + npages);
	unsigned long addr = migrate->start;
	struct page *dpage = NULL;
	u64 i, j, k;
	int r = 0;

	(void)prange;
	for (i = 0, j = 0; i < npages; i++, addr += PAGE_SIZE) {
		struct page *spage = migrate_pfn_to_page(migrate->src[i]);

		dpage = NULL;
		if (!spage || !is_zone_device_page(spage)) {
			if (j) {
				r = svm_migrate_copy_memory_gart(adev, migrate,
						dst, src, i - j, j,
						FROM_VRAM_TO_RAM);
				if (r)
					goto out_oom;
				j = 0;
			}
			continue;
		}
		src[i] = svm_migrate_addr(adev, spage);
		if (j > 0 && src[i] != src[i - 1] + PAGE_SIZE) {
			r = svm_migrate_copy_memory_gart(adev, migrate, dst,
							 src, i - j, j,
							 FROM_VRAM_TO_RAM);
			if (r)
				goto out_oom;
			j = 0;
		}
		dpage = svm_migrate_get_sys_page(migrate->vma, addr);
		if (!dpage) {
			r = -ENOMEM;
			goto out_oom;
		}
		dst[i] = dma_map_page(dev, dpage, 0, PAGE_SIZE,
				      DMA_FROM_DEVICE);
		r = dma_mapping_error(dev, dst[i]);
		if (r) {
			dev_err(dev, "%s: fail %d dma_map_page\n", __func__, r);
			goto out_oom;
		}
		adev->dma_maps++;
		migrate->dst[i] = migrate_pfn(page_to_pfn(dpage));
		j++;
	}
	dpage = NULL;
	r = svm_migrate_copy_memory_gart(adev, migrate, dst, src, i - j, j,
					 FROM_VRAM_TO_RAM);

out_oom:
	if (r) {
		pr_debug("failed %d copy to ram\n", r);
		/* Unmapped before they are freed, the failing one too. */
		svm_range_dma_unmap(dev, dst, 0, min_t(u64, i + 1, npages));
		if (dpage && !migrate->dst[i])
			svm_migrate_put_sys_page(dpage);
		for (k = 0; k <= i && k < npages; k++) {
			struct page *page;

			page = migrate_pfn_to_page(migrate->dst[k]);
			if (!page)
				continue;
			svm_migrate_put_sys_page(page);
			migrate->dst[k] = 0;
		}
	}
	return r;
}

/*
 * One VMA's part of a range back to system memory: the pages that did
 * not move (all of them if none could be collected), or an error.
 */
static long svm_migrate_vma_to_ram(struct amdgpu_device *adev,
				   struct svm_range *prange,
				   struct vm_area_struct *vma,
				   unsigned long start, unsigned long end,
				   struct page *fault_page)
{
	u64 npages = (end - start) >> PAGE_SHIFT;
	unsigned long upages = npages, cpages;
	struct migrate_vma migrate = { 0 };
	dma_addr_t *scratch;
	void *buf;
	int r = -ENOMEM;

	migrate.vma = vma;
	migrate.start = start;
	migrate.end = end;
	migrate.pgmap_owner = SVM_ADEV_PGMAP_OWNER(adev);
	migrate.flags = adev->xgmi_connected_to_cpu ?
			MIGRATE_VMA_SELECT_DEVICE_COHERENT :
			MIGRATE_VMA_SELECT_DEVICE_PRIVATE;
	migrate.fault_page = fault_page;

	buf = kvcalloc(npages, 2 * sizeof(*migrate.src) + sizeof(u64) +
		       sizeof(dma_addr_t), GFP_KERNEL);
	if (!buf)
		goto out;
	migrate.src = buf;
	migrate.dst = migrate.src + npages;
	scratch = (dma_addr_t *)(migrate.dst + npages);

	r = migrate_vma_setup(&migrate);
	if (r) {
		dev_err(adev->dev,
			"%s: vma setup fail %d range [0x%lx 0x%lx]\n",
			__func__, r, prange->start, prange->last);
		goto out_free;
	}
	cpages = migrate.cpages;
	if (!cpages)
		goto out_free;
	r = svm_migrate_copy_to_ram(adev, prange, &migrate, scratch, npages);
	migrate_vma_pages(&migrate);
	upages = svm_migrate_unsuccessful_pages(&migrate);
	migrate_vma_finalize(&migrate);
	svm_range_dma_unmap(adev->dev, scratch, 0, npages);
out_free:
	kvfree(buf);
out:
	return r ? r : (long)upages;
}

/*
 * A range back to system memory (the caller holds the mmap lock and the
 * range's migrate_mutex); once no page stayed behind, the range drops
 * its bo and lives in system memory again.
 */
static int svm_migrate_vram_to_ram(struct svm_range *prange,
				   struct mm_struct *mm,
				   struct page *fault_page)
{
	unsigned long addr, start, end, upages = 0;
	struct amdgpu_device *adev;
	long r = 0;

	if (!prange->actual_loc)
		return 0;
	adev = svm_range_get_adev_by_id(prange, prange->actual_loc);
	if (!adev)
		return -ENODEV;
	start = prange->start << PAGE_SHIFT;
	end = (prange->last + 1) << PAGE_SHIFT;
	for (addr = start; addr < end;) {
		struct vm_area_struct *vma = vma_lookup(mm, addr);
		unsigned long next;

		if (!vma) {
			r = -EFAULT;
			break;
		}
		next = min(vma->vm_end, end);
		r = svm_migrate_vma_to_ram(adev, prange, vma, addr, next,
					   fault_page);
		if (r < 0)
			break;
		upages += r;
		addr = next;
	}
	if (r >= 0 && !upages) {
		svm_range_vram_node_free(prange);
		prange->actual_loc = 0;
		prange->vram_pages = 0;
	}
	return r < 0 ? r : 0;
}

/*
 * ->migrate_to_ram(): a CPU touched a VRAM page. Its bo names the mm
 * (held only by mm_count: the process may be exiting), the process finds
 * the range, and the whole range comes back.
 */
static vm_fault_t svm_migrate_to_ram(struct vm_fault *vmf)
{
	struct svm_range_bo *svm_bo = vmf->page->zone_device_data;
	unsigned long addr = vmf->address >> PAGE_SHIFT;
	struct svm_range *prange;
	struct kfd_process *p;
	struct mm_struct *mm;
	int r = 0;

	if (!svm_bo)
		return VM_FAULT_SIGBUS;
	if (!mmget_not_zero(svm_bo->mm))
		return VM_FAULT_SIGBUS;
	mm = svm_bo->mm;
	p = kfd_lookup_process_by_mm(mm);
	if (!p) {
		r = -ESRCH;
		goto out_mmput;
	}
	mutex_lock(&p->svms_lock);
	prange = svm_range_from_addr(p, addr);
	if (!prange) {
		r = -EFAULT;
		goto out_unlock_svms;
	}
	mutex_lock(&prange->migrate_mutex);
	if (prange->actual_loc)
		r = svm_migrate_vram_to_ram(prange, vmf->vma->vm_mm,
					    vmf->page);
	mutex_unlock(&prange->migrate_mutex);
out_unlock_svms:
	mutex_unlock(&p->svms_lock);
out_mmput:
	mmput(mm);
	return r ? VM_FAULT_SIGBUS : 0;
}

static const struct dev_pagemap_ops svm_migrate_pgmap_ops = {
	.page_free		= svm_migrate_page_free,
	.migrate_to_ram		= svm_migrate_to_ram,
};

/*
 * All of the VRAM as one pgmap, managed by the device: freed physical
 * space for a DEVICE_PRIVATE one, the aperture for a coherent part.
 *
 * As in 6.1, a failing devm_memremap_pages() clears pgmap->type before
 * testing it, so the region is not released here: devres releases it
 * with the device.
 */
static int svm_migrate_init(struct amdgpu_device *adev)
{
	struct dev_pagemap *pgmap = &adev->pgmap;
	struct resource *res = NULL;
	unsigned long size;
	void *r;

	memset(pgmap, 0, sizeof(*pgmap));
	size = ALIGN(adev->real_vram_size, 2ULL << 20);
	if (adev->xgmi_connected_to_cpu) {
		pgmap->range.start = adev->aper_base;
		pgmap->range.end = adev->aper_base + adev->aper_size - 1;
		pgmap->type = MEMORY_DEVICE_COHERENT;
	} else {
		res = devm_request_free_mem_region(adev->dev, &iomem_resource,
						   size);
		if (IS_ERR(res))
			return -ENOMEM;
		pgmap->range.start = res->start;
		pgmap->range.end = res->end;
		pgmap->type = MEMORY_DEVICE_PRIVATE;
	}
	pgmap->nr_range = 1;
	pgmap->ops = &svm_migrate_pgmap_ops;
	pgmap->owner = SVM_ADEV_PGMAP_OWNER(adev);
	pgmap->flags = 0;
	r = devm_memremap_pages(adev->dev, pgmap);
	if (IS_ERR(r)) {
		pr_err("failed to register HMM device memory\n");
		/* Disable SVM support capability */
		pgmap->type = 0;
		if (pgmap->type == MEMORY_DEVICE_PRIVATE)
			devm_release_mem_region(adev->dev, res->start,
						resource_size(res));
		return PTR_ERR(r);
	}
	pr_info("HMM registered %ldMB device memory\n", size >> 20);
	return 0;
}

/* ---- the process side: ranges, prefetch, exit ---- */

static struct svm_range *svm_range_new(struct kfd_process *p,
				       unsigned long start_addr,
				       unsigned long npages)
{
	struct svm_range *prange = kzalloc(sizeof(*prange), GFP_KERNEL);

	if (!prange)
		return NULL;
	prange->p = p;
	prange->start = start_addr >> PAGE_SHIFT;
	prange->last = prange->start + npages - 1;
	prange->npages = npages;
	mutex_init(&prange->migrate_mutex);
	p->ranges[p->nr_ranges++] = prange;
	return prange;
}

/* KFD_IOCTL_SVM_ATTR_PREFETCH_LOC: move a range to the GPU now. */
static int svm_range_prefetch(struct svm_range *prange, u32 best_loc)
{
	struct mm_struct *mm = prange->p->mm;
	int r;

	mmap_read_lock(mm);
	mutex_lock(&prange->migrate_mutex);
	r = svm_migrate_ram_to_vram(prange, best_loc, mm);
	mutex_unlock(&prange->migrate_mutex);
	mmap_read_unlock(mm);
	return r;
}

/*
 * The process goes (its mm's notifier release): each range drops its
 * bo; the VRAM pages still mapped keep theirs until the mm is torn down.
 */
static void kfd_process_destroy(struct kfd_process *p)
{
	unsigned int i;

	for (i = 0; i < p->nr_ranges; i++) {
		struct svm_range *prange = p->ranges[i];

		if (prange->ttm_res)
			svm_range_vram_node_free(prange);
		if (prange->svm_bo)
			prange->svm_bo->prange = NULL;
		kfree(prange);
	}
	p->nr_ranges = 0;
	kfd_proc = NULL;
}

/*
 * The device goes with ranges still in VRAM: evict each to system memory
 * (TTM's eviction of the bo; a failed eviction is tried again), then let
 * the release work run.
 */
static void svm_range_evict_all(struct amdgpu_device *adev)
{
	struct kfd_process *p = kfd_proc;
	unsigned int i, tries;

	if (p && mmget_not_zero(p->mm)) {
		mmap_read_lock(p->mm);
		for (i = 0; i < p->nr_ranges; i++) {
			struct svm_range *prange = p->ranges[i];

			mutex_lock(&prange->migrate_mutex);
			for (tries = 0; prange->actual_loc == adev->gpu_id &&
			     tries < 8; tries++) {
				adev->evict_tries++;
				svm_migrate_vram_to_ram(prange, p->mm, NULL);
			}
			mutex_unlock(&prange->migrate_mutex);
		}
		mmap_read_unlock(p->mm);
		mmput(p->mm);
	}
	svm_range_bo_flush_release(adev);
}

/* ---- the suite ---- */

#define BASE		0x7f0000000000UL
#define VMA_PAGES	64

static struct device pdev;
static struct amdgpu_device adev;
static struct kfd_process proc;
static unsigned long pdev_released;
static struct vm_area_struct *vma;

static void pdev_release(struct device *dev)
{
	(void)dev;
	pdev_released++;
}

/* The PCI device, its amdgpu_device, and the KFD's view of it. */
static int gpu_probe(bool coherent)
{
	memset(&pdev, 0, sizeof(pdev));
	pdev_released = 0;
	device_initialize(&pdev);
	pdev.init_name = "0000:03:00.0";
	pdev.release = pdev_release;
	memset(&adev, 0, sizeof(adev));
	adev.dev = &pdev;
	adev.gpu_id = GPU_ID;
	adev.real_vram_size = VRAM_SIZE;
	adev.vram = vram_store;
	adev.xgmi_connected_to_cpu = coherent;
	adev.aper_base = APER_BASE;
	adev.aper_size = VRAM_SIZE;
	INIT_LIST_HEAD(&adev.bo_release_work);
	kfd_adev = &adev;
	return svm_migrate_init(&adev);
}

/* Unbind: evict, then the last put_device() runs the devres. */
static void gpu_remove(void)
{
	svm_range_evict_all(&adev);
	kfd_adev = NULL;
	put_device(&pdev);
}

/* A process with @n pages written (page i holds i * 7 + 3), one range. */
static struct mm_struct *process_start(unsigned long n)
{
	struct mm_struct *mm = memremap_mm_create();
	unsigned long i;

	memset(&proc, 0, sizeof(proc));
	proc.mm = mm;
	mutex_init(&proc.svms_lock);
	kfd_proc = &proc;
	vma = memremap_mm_add_vma(mm, BASE, BASE + VMA_PAGES * PAGE_SIZE,
				  VM_READ | VM_WRITE);
	for (i = 0; i < n; i++)
		proc_write(mm, BASE + i * PAGE_SIZE, i * 7 + 3);
	return mm;
}

static unsigned long cpu_read(struct mm_struct *mm, unsigned long i)
{
	return proc_read(mm, BASE + i * PAGE_SIZE);
}

/* What the GPU reads at page @i of @prange, from its VRAM. */
static unsigned long gpu_read(struct svm_range *prange, unsigned long i)
{
	unsigned long v, off;

	if (!prange->svm_bo)
		return ~0UL;
	off = (prange->svm_bo->vram_first + prange->offset + i) << PAGE_SHIFT;
	memcpy(&v, adev.vram + off, sizeof(v));
	return v;
}

static void gpu_write(struct svm_range *prange, unsigned long i,
		      unsigned long v)
{
	unsigned long off;

	off = (prange->svm_bo->vram_first + prange->offset + i) << PAGE_SHIFT;
	memcpy(adev.vram + off, &v, sizeof(v));
}

static long bo_kref(struct svm_range *prange)
{
	return prange && prange->svm_bo ?
	       (long)kref_read(&prange->svm_bo->kref) : -1L;
}

/* A report line: the step, then the counts that matter. */
static void step(const char *what, struct svm_range *prange)
{
	printf("    # %-30s bo kref %ld page_free %lu pins %ld dma %lu "
	       "system pages %lu\n", what, bo_kref(prange),
	       adev.page_free_calls,
	       adev.pgmap.type ? memremap_pgmap_pins(&adev.pgmap) : -1L,
	       memremap_dma_live(), memremap_system_pages_live());
}

/* Pages [0, n) of the range: in VRAM, each referenced and mapped once. */
static void expect_in_vram(struct mm_struct *mm, struct svm_range *prange,
			   unsigned long n)
{
	unsigned long i, val;
	struct page *page;

	for (i = 0; i < n; i++) {
		swp_entry_t e;

		EXPECT_EQ(memremap_mm_entry(mm, BASE + i * PAGE_SIZE, &page,
					    &val), MEMREMAP_PTE_SWAP);
		e.val = val;
		EXPECT_TRUE(is_device_private_page(page));
		EXPECT_EQ(swp_type(e), SWP_DEVICE_WRITE);
		EXPECT_EQ(page_ref_count(page), 1);
		EXPECT_EQ(memremap_page_mapcount(page), 1);
		EXPECT_FALSE(PageLocked(page));
		EXPECT_PTR_EQ(page->zone_device_data, prange->svm_bo);
		EXPECT_EQ(svm_migrate_addr(&adev, page),
			  (prange->svm_bo->vram_first + i) << PAGE_SHIFT);
		EXPECT_EQ(gpu_read(prange, i), i * 7 + 3);
	}
}

/*
 * 6.1 maps for a migration DMA_TO_DEVICE or DMA_FROM_DEVICE and unmaps
 * DMA_BIDIRECTIONAL: DMA-API debugging WARNs each unmap. Say it once.
 */
static void dma_direction_finding(unsigned long warns)
{
	struct memremap_warn_record rec;
	static bool said;

	if (said || !warns || !memremap_warn_last(&rec))
		return;
	said = true;
	printf("    # FINDING amdkfd: svm_migrate_copy_to_vram()/_to_ram() "
	       "map each system page DMA_TO_DEVICE/DMA_FROM_DEVICE but "
	       "svm_range_dma_unmap() unmaps it DMA_BIDIRECTIONAL: DMA-API "
	       "debugging reports every mapping (%lu WARNs, \"%.60s\") "
	       "[a migration to VRAM; from %s() at %s:%d]\n", warns,
	       rec.message, rec.function, rec.file, rec.line);
}

KTAP_CASE(init_registers_vram_with_devres)
{
	unsigned long regions = memremap_iomem_regions();
	unsigned long devres = memremap_devres_live();

	EXPECT_EQ(gpu_probe(false), 0);
	/* One region for all of VRAM, rounded to a 128 MiB section. */
	EXPECT_EQ(memremap_iomem_regions(), regions + 1);
	EXPECT_EQ(region_intersects(adev.pgmap.range.start,
				    range_len(&adev.pgmap.range),
				    IORESOURCE_MEM,
				    IORES_DESC_DEVICE_PRIVATE_MEMORY),
		  REGION_INTERSECTS);
	EXPECT_EQ(range_len(&adev.pgmap.range), 128UL << 20);
	EXPECT_EQ(adev.pgmap.type, MEMORY_DEVICE_PRIVATE);
	EXPECT_PTR_EQ(adev.pgmap.owner, &adev);
	EXPECT_TRUE(memremap_pgmap_is_mapped(&adev.pgmap));
	EXPECT_EQ(memremap_pgmap_pins(&adev.pgmap), 0);
	/* The region and the pgmap are the device's: two managed resources. */
	EXPECT_EQ(memremap_devres_count(&pdev), 2);
	EXPECT_EQ(memremap_devres_live(), devres + 2);
	step("VRAM registered:", NULL);
	gpu_remove();
	EXPECT_EQ(pdev_released, 1);
	EXPECT_FALSE(memremap_pgmap_is_mapped(&adev.pgmap));
	EXPECT_EQ(memremap_iomem_regions(), regions);
	EXPECT_EQ(memremap_devres_live(), devres);
	EXPECT_EQ(memremap_ledger_count(), 0);
	EXPECT_WARNS(0);
}

/* The pgmap owner is the hive when the GPU is in one. */
KTAP_CASE(a_hive_owns_the_pgmap)
{
	static int hive;

	memset(&adev, 0, sizeof(adev));
	adev.hive = &hive;
	EXPECT_PTR_EQ(SVM_ADEV_PGMAP_OWNER(&adev), &hive);
	adev.hive = NULL;
	EXPECT_PTR_EQ(SVM_ADEV_PGMAP_OWNER(&adev), &adev);
}

KTAP_CASE(prefetch_to_vram_then_process_exit)
{
	unsigned long n = 16, sys = memremap_system_pages_live();
	unsigned long regions = memremap_iomem_regions();
	struct mm_struct *mm;
	struct svm_range *prange;
	struct svm_range_bo *bo;
	unsigned long warns;

	EXPECT_EQ(gpu_probe(false), 0);
	mm = process_start(n);
	prange = svm_range_new(&proc, BASE, n);
	EXPECT_EQ(memremap_system_pages_live(), sys + n);

	memremap_warn_quiet(true);
	EXPECT_EQ(svm_range_prefetch(prange, GPU_ID), 0);
	memremap_warn_quiet(false);
	warns = ktap_warns();
	step("prefetched 16 pages to VRAM:", prange);
	/* Every mapping WARNed on its unmap; every one was unmapped. */
	EXPECT_EQ(warns, n);
	dma_direction_finding(warns);
	EXPECT_EQ(memremap_dma_live(), 0);
	EXPECT_EQ(prange->actual_loc, GPU_ID);
	EXPECT_EQ(prange->vram_pages, n);
	EXPECT_EQ(adev.sdma_pages, n);
	expect_in_vram(mm, prange, n);
	/* One reference for the range, one for each VRAM page. */
	EXPECT_EQ(bo_kref(prange), n + 1);
	EXPECT_EQ(memremap_pgmap_pins(&adev.pgmap), n);
	EXPECT_EQ(memremap_system_pages_live(), sys);
	/* Prefetching again to where it is does nothing. */
	EXPECT_EQ(svm_range_prefetch(prange, GPU_ID), 0);
	EXPECT_EQ(adev.sdma_pages, n);

	/* The process exits: its ranges let go, then its mm goes. */
	bo = prange->svm_bo;
	mmgrab(mm);
	kfd_process_destroy(&proc);
	EXPECT_EQ(kref_read(&bo->kref), n);	/* the pages' references */
	EXPECT_EQ(adev.bo_released, 0);
	mmput(mm);
	step("the process exited:", NULL);
	/* The bo's count hit 0 at the last page_free(), not before. */
	EXPECT_EQ(adev.page_free_calls, n);
	EXPECT_EQ(adev.free_calls_at_zero, n);
	EXPECT_EQ(adev.kref_at_free, 1);
	EXPECT_EQ(kref_read(&bo->kref), 0);
	EXPECT_EQ(adev.bo_released, 0);	/* its release work is queued */
	svm_range_bo_flush_release(&adev);
	EXPECT_EQ(adev.bo_released, 1);
	mmdrop(mm);
	EXPECT_EQ(memremap_pgmap_pins(&adev.pgmap), 0);
	EXPECT_EQ(memremap_system_pages_live(), sys);
	gpu_remove();
	EXPECT_EQ(memremap_mapped_pgmaps(), 0);
	EXPECT_EQ(memremap_iomem_regions(), regions);
	EXPECT_EQ(memremap_ledger_count(), 0);
	EXPECT_WARNS(n);
}

KTAP_CASE(cpu_fault_migrates_the_range_back)
{
	unsigned long n = 8, i, sys = memremap_system_pages_live();
	struct mm_struct *mm;
	struct svm_range *prange;
	struct page *page;
	unsigned long val;

	EXPECT_EQ(gpu_probe(false), 0);
	mm = process_start(n);
	prange = svm_range_new(&proc, BASE, n);
	memremap_warn_quiet(true);
	svm_range_prefetch(prange, GPU_ID);
	step("prefetched 8 pages to VRAM:", prange);
	gpu_write(prange, 5, 0xc0ffee);		/* the GPU writes */
	EXPECT_EQ(cpu_read(mm, 5), 0xc0ffee);	/* the CPU faults */
	memremap_warn_quiet(false);
	step("a CPU fault took the range back:", prange);
	/* Not only the page touched: all of the range. */
	for (i = 0; i < n; i++) {
		EXPECT_EQ(memremap_mm_entry(mm, BASE + i * PAGE_SIZE, &page,
					    &val), MEMREMAP_PTE_PRESENT);
		EXPECT_FALSE(is_zone_device_page(page));
		EXPECT_EQ(page_ref_count(page), 1);
		EXPECT_EQ(memremap_page_mapcount(page), 1);
		EXPECT_FALSE(PageLocked(page));
		EXPECT_EQ(cpu_read(mm, i), i == 5 ? 0xc0ffee : i * 7 + 3);
	}
	EXPECT_EQ(prange->actual_loc, 0);
	EXPECT_EQ(adev.page_free_calls, n);
	EXPECT_EQ(adev.free_calls_at_zero, n);
	EXPECT_EQ(adev.kref_at_free, 1);
	EXPECT_EQ(memremap_pgmap_pins(&adev.pgmap), 0);
	EXPECT_EQ(memremap_dma_live(), 0);
	EXPECT_EQ(adev.sdma_pages, 2 * n);
	/* The range dropped its reference, the pages theirs: released. */
	svm_range_bo_flush_release(&adev);
	EXPECT_EQ(adev.bo_released, 1);
	EXPECT_NULL(prange->svm_bo);
	EXPECT_EQ(memremap_system_pages_live(), sys + n);
	/* A second prefetch takes a new bo. */
	memremap_warn_quiet(true);
	EXPECT_EQ(svm_range_prefetch(prange, GPU_ID), 0);
	memremap_warn_quiet(false);
	EXPECT_EQ(adev.bo_created, 2);
	expect_in_vram(mm, prange, 0);
	EXPECT_EQ(gpu_read(prange, 5), 0xc0ffee);
	EXPECT_EQ(bo_kref(prange), n + 1);
	kfd_process_destroy(&proc);
	mmput(mm);
	gpu_remove();
	EXPECT_EQ(adev.bo_released, 2);
	EXPECT_EQ(memremap_system_pages_live(), sys);
	EXPECT_EQ(memremap_ledger_count(), 0);
	/* 3 migrations of n pages; the mm's teardown freed the last. */
	EXPECT_WARNS(3 * n);
}

KTAP_CASE(teardown_evicts_ranges_still_in_vram)
{
	unsigned long n = 24, i, sys = memremap_system_pages_live();
	unsigned long regions = memremap_iomem_regions();
	struct mm_struct *mm;
	struct svm_range *prange;
	struct page *page;

	EXPECT_EQ(gpu_probe(false), 0);
	mm = process_start(n);
	prange = svm_range_new(&proc, BASE, n);
	memremap_warn_quiet(true);
	svm_range_prefetch(prange, GPU_ID);
	gpu_write(prange, 9, 0xbeef);
	EXPECT_EQ(memremap_pgmap_pins(&adev.pgmap), n);
	step("prefetched 24 pages to VRAM:", prange);
	/* The GPU is unbound while the process still uses its VRAM. */
	gpu_remove();
	memremap_warn_quiet(false);
	step("evicted, and the device left:", prange);
	EXPECT_EQ(pdev_released, 1);
	EXPECT_EQ(adev.evict_tries, 1);
	EXPECT_EQ(prange->actual_loc, 0);
	EXPECT_NULL(prange->svm_bo);
	EXPECT_EQ(adev.page_free_calls, n);	/* each page freed once */
	EXPECT_EQ(adev.bo_released, 1);
	/* devres: the pgmap unmapped, then the region released. */
	EXPECT_EQ(memremap_mapped_pgmaps(), 0);
	EXPECT_EQ(memremap_iomem_regions(), regions);
	for (i = 0; i < n; i++) {
		EXPECT_EQ(memremap_mm_entry(mm, BASE + i * PAGE_SIZE, &page,
					    NULL), MEMREMAP_PTE_PRESENT);
		EXPECT_FALSE(is_zone_device_page(page));
		EXPECT_EQ(page_ref_count(page), 1);
		EXPECT_EQ(cpu_read(mm, i), i == 9 ? 0xbeef : i * 7 + 3);
	}
	EXPECT_EQ(memremap_system_pages_live(), sys + n);
	kfd_process_destroy(&proc);
	mmput(mm);
	EXPECT_EQ(memremap_system_pages_live(), sys);
	EXPECT_EQ(memremap_ledger_count(), 0);
	EXPECT_WARNS(2 * n);
}

/*
 * The XGMI part: VRAM the CPU reaches, as DEVICE_COHERENT over the
 * aperture; no region is requested. Migrated pages are mapped present;
 * eviction selects coherent pages.
 */
KTAP_CASE(coherent_vram_over_xgmi)
{
	unsigned long n = 4, i, regions = memremap_iomem_regions();
	struct mm_struct *mm;
	struct svm_range *prange;
	struct page *page;

	EXPECT_EQ(gpu_probe(true), 0);
	EXPECT_EQ(adev.pgmap.type, MEMORY_DEVICE_COHERENT);
	EXPECT_EQ(adev.pgmap.range.start, APER_BASE);
	EXPECT_EQ(range_len(&adev.pgmap.range), VRAM_SIZE);
	EXPECT_EQ(memremap_iomem_regions(), regions);
	EXPECT_EQ(memremap_devres_count(&pdev), 1);
	mm = process_start(n);
	prange = svm_range_new(&proc, BASE, n);
	memremap_warn_quiet(true);
	EXPECT_EQ(svm_range_prefetch(prange, GPU_ID), 0);
	step("prefetched 4 pages to coherent VRAM:", prange);
	for (i = 0; i < n; i++) {
		EXPECT_EQ(memremap_mm_entry(mm, BASE + i * PAGE_SIZE, &page,
					    NULL), MEMREMAP_PTE_PRESENT);
		EXPECT_TRUE(is_device_coherent_page(page));
		EXPECT_EQ(page_ref_count(page), 1);
		EXPECT_EQ(gpu_read(prange, i), i * 7 + 3);
	}
	EXPECT_EQ(memremap_pgmap_pins(&adev.pgmap), n);
	gpu_remove();
	memremap_warn_quiet(false);
	step("evicted, and the device left:", prange);
	for (i = 0; i < n; i++) {
		EXPECT_EQ(memremap_mm_entry(mm, BASE + i * PAGE_SIZE, &page,
					    NULL), MEMREMAP_PTE_PRESENT);
		EXPECT_FALSE(is_zone_device_page(page));
		EXPECT_EQ(cpu_read(mm, i), i * 7 + 3);
	}
	EXPECT_EQ(adev.page_free_calls, n);
	EXPECT_EQ(adev.bo_released, 1);
	EXPECT_EQ(memremap_mapped_pgmaps(), 0);
	kfd_process_destroy(&proc);
	mmput(mm);
	EXPECT_EQ(memremap_ledger_count(), 0);
	EXPECT_WARNS(2 * n);
}

/*
 * Linux 6.1's error path of svm_migrate_copy_to_vram(), with the third
 * DMA mapping of a prefetch failing: the failing entry keeps its VRAM
 * page, so that page moves to VRAM with nothing copied, while the
 * prefetch fails and the range, believing itself in system memory, drops
 * its bo. A CPU fault then finds a range with nothing in VRAM and returns
 * without migrating: the access can never complete (in the kernel the
 * fault repeats for ever), and the page's data is gone.
 */
KTAP_CASE(linux_6_1_error_path_moves_a_page_uncopied)
{
	unsigned long n = 6, bad = 2, i, warns, v;
	struct memremap_warn_record rec;
	struct mm_struct *mm;
	struct svm_range *prange;
	struct svm_range_bo *bo;
	struct page *page;

	EXPECT_EQ(gpu_probe(false), 0);
	mm = process_start(n);
	prange = svm_range_new(&proc, BASE, n);
	memremap_warn_quiet(true);
	svm_migrate_6_1_error_path = true;
	memremap_dma_fail_nth(bad + 1);
	EXPECT_EQ(svm_range_prefetch(prange, GPU_ID), -ENOMEM);
	svm_migrate_6_1_error_path = false;
	/* Two mappings were made before the failure, both WARN on unmap. */
	EXPECT_EQ(ktap_warns(), 2);
	step("6.1: a prefetch failed at page 2:", prange);
	/* The range let go of its bo and thinks it is in system memory. */
	EXPECT_EQ(prange->actual_loc, 0);
	EXPECT_FALSE(prange->ttm_res);
	bo = prange->svm_bo;
	EXPECT_NOT_NULL(bo);
	/* But page 2 went to VRAM, and holds the bo's last reference. */
	EXPECT_EQ(memremap_mm_entry(mm, BASE + bad * PAGE_SIZE, &page, NULL),
		  MEMREMAP_PTE_SWAP);
	EXPECT_TRUE(is_device_private_page(page));
	EXPECT_EQ(kref_read(&bo->kref), 1);
	EXPECT_EQ(memremap_pgmap_pins(&adev.pgmap), 1);
	EXPECT_EQ(adev.sdma_pages, 0);		/* nothing was copied */
	/* The two pages put back went through page_free(). */
	EXPECT_EQ(adev.page_free_calls, bad);
	EXPECT_EQ(gpu_read(prange, bad), 0);	/* VRAM as cleared */
	for (i = 0; i < n; i++)
		if (i != bad)
			EXPECT_EQ(cpu_read(mm, i), i * 7 + 3);
	/* The CPU cannot get page 2 back: the fault handler does nothing. */
	warns = ktap_warns();
	EXPECT_EQ(memremap_mm_access(mm, BASE + bad * PAGE_SIZE, &v,
				     sizeof(v), false), -EAGAIN);
	EXPECT_EQ(ktap_warns(), warns + 1);	/* the access gave up */
	EXPECT_TRUE(memremap_warn_last(&rec) &&
		    strstr(rec.message, "returned without migrating"));
	EXPECT_EQ(memremap_mm_entry(mm, BASE + bad * PAGE_SIZE, NULL, NULL),
		  MEMREMAP_PTE_SWAP);
	memremap_warn_quiet(false);
	printf("    # FINDING amdkfd: a failed dma_map_page() in Linux 6.1's "
	       "svm_migrate_copy_to_vram() puts back only the VRAM pages "
	       "before the failing entry (while (i--)), so "
	       "migrate_vma_pages() moves that entry's page to VRAM "
	       "uncopied; the range drops its bo with actual_loc 0, and "
	       "svm_migrate_to_ram() then returns 0 without migrating: "
	       "the CPU fault never completes and the data is lost "
	       "[memremap_dma_fail_nth(%lu) in a 6-page prefetch]\n",
	       bad + 1);
	/* The process exits: its mm frees the stray page, and the bo. */
	kfd_process_destroy(&proc);
	mmput(mm);
	EXPECT_EQ(adev.page_free_calls, bad + 1);
	EXPECT_EQ(adev.free_calls_at_zero, bad + 1);
	svm_range_bo_flush_release(&adev);
	EXPECT_EQ(adev.bo_released, 1);
	gpu_remove();
	EXPECT_EQ(memremap_ledger_count(), 0);
	EXPECT_WARNS(3);
}

/* The whole flow: prefetch, a GPU write, a CPU fault, prefetch, unbind. */
static void flow(struct mm_struct *mm, struct svm_range *prange)
{
	if (!svm_range_prefetch(prange, GPU_ID) && prange->actual_loc)
		gpu_write(prange, 2, 2 * 7 + 3);	/* the same value */
	cpu_read(mm, 1);
	svm_range_prefetch(prange, GPU_ID);
	gpu_remove();
}

/* After a flow under injection: data intact, nothing left behind. */
static void expect_clean(struct mm_struct *mm, unsigned long n)
{
	unsigned long i;

	for (i = 0; i < n; i++)
		EXPECT_EQ(cpu_read(mm, i), i * 7 + 3);
	EXPECT_EQ(adev.bo_created, adev.bo_released);
	EXPECT_EQ(memremap_dma_live(), 0);
	kfd_process_destroy(&proc);
	mmput(mm);
	EXPECT_EQ(memremap_mapped_pgmaps(), 0);
	EXPECT_EQ(memremap_ledger_count(), 0);
}

/*
 * Every allocation of probe, prefetch, fault and teardown fails in turn:
 * what did not move stays where it was, and all is freed at the end. A
 * failed probe leaves its region to devres (6.1's order, above).
 */
KTAP_CASE(allocation_failures_at_every_site)
{
	unsigned long nth, n = 6, regions = memremap_iomem_regions();
	unsigned long probe_failures = 0, region_kept = 0;
	bool hit = true;

	memremap_warn_quiet(true);
	for (nth = 1; hit && nth < 400; nth++) {
		unsigned long injected = memremap_kmalloc_injected();
		struct mm_struct *mm = process_start(n);
		struct svm_range *prange = svm_range_new(&proc, BASE, n);
		unsigned long warns = ktap_warns();

		memremap_kmalloc_fail_nth(nth);
		if (gpu_probe(false)) {
			/*
			 * A failed devm_memremap_pages() (the range was set
			 * from the region) leaves the region until unbind.
			 */
			bool kept = adev.pgmap.range.start != 0;

			probe_failures++;
			region_kept += kept;
			EXPECT_EQ(adev.pgmap.type, 0);
			EXPECT_EQ(memremap_iomem_regions(), regions + kept);
			kfd_adev = NULL;
			put_device(&pdev);
		} else {
			flow(mm, prange);
		}
		memremap_kmalloc_fail_nth(0);
		hit = memremap_kmalloc_injected() != injected;
		/* The only WARNs: each mapping's unmap direction. */
		EXPECT_EQ(ktap_warns() - warns, adev.dma_maps);
		EXPECT_EQ(memremap_iomem_regions(), regions);
		expect_clean(mm, n);
	}
	memremap_warn_quiet(false);
	printf("    # %lu allocations failed in turn, %lu of them in probe "
	       "(%lu left the region to devres)\n", nth - 2, probe_failures,
	       region_kept);
	EXPECT_FALSE(hit);			/* every site was reached */
	EXPECT_TRUE(region_kept > 0);
	EXPECT_TRUE(probe_failures > region_kept);
}

/*
 * Every DMA mapping of the flow (n to VRAM, n back on the fault, n to
 * VRAM again, n evicted) fails in turn, in both directions: no copy of a
 * run with a failed mapping is made, and the range stays where it was.
 * (In the flow, the first prefetch's failure leaves no range in VRAM for
 * the fault, so later mappings shift; every one is still reached.)
 */
KTAP_CASE(dma_mapping_failures_at_every_site)
{
	unsigned long nth, n = 6;

	memremap_warn_quiet(true);
	for (nth = 1; nth <= 4 * n + 1; nth++) {
		struct mm_struct *mm = process_start(n);
		struct svm_range *prange = svm_range_new(&proc, BASE, n);
		unsigned long warns = ktap_warns();

		EXPECT_EQ(gpu_probe(false), 0);
		memremap_dma_fail_nth(nth);
		flow(mm, prange);
		memremap_dma_fail_nth(0);
		EXPECT_EQ(ktap_warns() - warns, adev.dma_maps);
		/*
		 * A failure in the first three migrations loses one of
		 * them (the second prefetch's leaves nothing to evict);
		 * one in the eviction makes it try again.
		 */
		if (nth <= 3 * n)
			EXPECT_TRUE(adev.sdma_pages < 4 * n);
		else
			EXPECT_EQ(adev.sdma_pages, 4 * n);
		if (nth > 2 * n && nth <= 3 * n)
			EXPECT_EQ(adev.evict_tries, 0);
		else
			EXPECT_EQ(adev.evict_tries,
				  nth > 3 * n && nth <= 4 * n ? 2 : 1);
		expect_clean(mm, n);
	}
	memremap_warn_quiet(false);
	printf("    # %lu DMA mappings failed in turn\n", 4 * n);
}

/*
 * The flow's pgmap references are zone_device_page_init()'s
 * percpu_ref_tryget_live(), which cannot fail on a live pgmap and which
 * the driver does not check: no percpu_ref_tryget() to inject a failure
 * into. An injection armed across the flow is still pending after it.
 */
KTAP_CASE(no_percpu_tryget_in_the_flow)
{
	unsigned long n = 6, i;
	struct mm_struct *mm = process_start(n);
	struct svm_range *prange = svm_range_new(&proc, BASE, n);

	EXPECT_EQ(gpu_probe(false), 0);
	memremap_warn_quiet(true);
	memremap_percpu_tryget_fail_nth(1);
	EXPECT_EQ(svm_range_prefetch(prange, GPU_ID), 0);
	EXPECT_EQ(cpu_read(mm, 1), 1 * 7 + 3);
	EXPECT_EQ(svm_range_prefetch(prange, GPU_ID), 0);
	EXPECT_EQ(memremap_pgmap_pins(&adev.pgmap), n);
	/* Still armed: this tryget is the first since. */
	EXPECT_FALSE(percpu_ref_tryget(&adev.pgmap.ref));
	memremap_percpu_tryget_fail_nth(0);
	EXPECT_EQ(memremap_pgmap_pins(&adev.pgmap), n);
	gpu_remove();
	memremap_warn_quiet(false);
	for (i = 0; i < n; i++)
		EXPECT_EQ(cpu_read(mm, i), i * 7 + 3);
	expect_clean(mm, n);
	EXPECT_WARNS(4 * n);
}

KTAP_MAIN("driver_amdkfd",
	  KTAP_ENTRY(init_registers_vram_with_devres),
	  KTAP_ENTRY(a_hive_owns_the_pgmap),
	  KTAP_ENTRY(prefetch_to_vram_then_process_exit),
	  KTAP_ENTRY(cpu_fault_migrates_the_range_back),
	  KTAP_ENTRY(teardown_evicts_ranges_still_in_vram),
	  KTAP_ENTRY(coherent_vram_over_xgmi),
	  KTAP_ENTRY(linux_6_1_error_path_moves_a_page_uncopied),
	  KTAP_ENTRY(allocation_failures_at_every_site),
	  KTAP_ENTRY(no_percpu_tryget_in_the_flow),
	  KTAP_ENTRY(dma_mapping_failures_at_every_site))
