// SPDX-License-Identifier: GPL-2.0-only
/*
 * A GPU device-memory driver of our own, written to how nouveau's
 * drivers/gpu/drm/nouveau/nouveau_dmem.c behaves in Linux 6.15
 * (docs/DESIGN.md section 10), and its KTAP suite. The GPU's VRAM is
 * handed out in 2 MiB chunks: each chunk is a buffer object pinned in
 * VRAM plus a DEVICE_PRIVATE pgmap of its own over a free physical range
 * (request_free_mem_region()), owned by the drm device; free device pages
 * of every chunk sit on one list threaded through zone_device_data, and a
 * page in use holds its process's svmm there. Data moves through the
 * GPU's copy engine, which reaches system pages by DMA address and VRAM
 * by offset, and completes at a fence: the driver DMA-maps each system
 * page, queues the copy, waits for the fence, and only then unmaps.
 *
 * The suite migrates a process's range to VRAM (MIGRATE_VMA_SELECT_SYSTEM),
 * takes CPU faults that bring pages back (->migrate_to_ram(),
 * MIGRATE_VMA_SELECT_DEVICE_PRIVATE), and tears the device down with pages
 * still in use (nouveau_dmem_fini(): migrate_device_range() eviction),
 * checking refcounts, pgmap pins, the chunks' callocated counts, the free
 * list and the GPU's own view at each step, and runs the flow under
 * allocation and DMA-mapping failures at every site.
 *
 * The fake GPU (VRAM, buffer objects, the copy engine's ring and fences,
 * the IOMMU's view of DMA addresses, the GPU page table of an svmm) is a
 * model of the hardware and of nouveau's other files, not of the kernel.
 */
#include <linux/device.h>
#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/gfp.h>
#include <linux/highmem.h>
#include <linux/ioport.h>
#include <linux/list.h>
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
#include <linux/topology.h>
#include <memremap/test.h>
#include "ktap.h"
#include "drivers/driver_test.h"

/* drivers/gpu/drm/nouveau/nouveau_dmem.c: the unit of VRAM registered. */
#define DMEM_CHUNK_SIZE		(2UL << 20)
#define DMEM_CHUNK_NPAGES	(DMEM_CHUNK_SIZE >> PAGE_SHIFT)

/*
 * include/linux/scatterlist.h: SG_MAX_SINGLE_ALLOC is PAGE_SIZE /
 * sizeof(struct scatterlist), 4096 / 32 on x86_64: the pages one
 * migrate_vma_setup() of nouveau_dmem_migrate_vma() takes at most.
 */
#define SG_MAX_SINGLE_ALLOC	(PAGE_SIZE / 32)

/*
 * x86_64 SECTION_SIZE_BITS (PA_SECTION_SHIFT, arch/x86/include/asm/
 * sparsemem.h): kernel/resource.c's request_free_mem_region() rounds the
 * size up to a memory section, so each 2 MiB chunk's pgmap spans 128 MiB
 * of physical address space, and its memmap as many struct pages.
 */
#define PA_SECTION_SHIFT	27

/* include/uapi/drm/nouveau_drm.h */
#define NOUVEAU_GEM_DOMAIN_VRAM	(1 << 1)

/* drivers/gpu/drm/nouveau/include/nvif/if000c.h: a nvif_vmm_pfnmap_v0 pfn */
#define NVIF_VMM_PFNMAP_V0_ADDR		0xfffffffffffff000ULL
#define NVIF_VMM_PFNMAP_V0_ADDR_SHIFT	12
#define NVIF_VMM_PFNMAP_V0_VRAM		0x0000000000000010ULL
#define NVIF_VMM_PFNMAP_V0_W		0x0000000000000002ULL
#define NVIF_VMM_PFNMAP_V0_V		0x0000000000000001ULL
#define NVIF_VMM_PFNMAP_V0_NONE		0x0000000000000000ULL

enum nouveau_aper {
	NOUVEAU_APER_VIRT,
	NOUVEAU_APER_VRAM,
	NOUVEAU_APER_HOST,
};

struct nouveau_drm;

/* ================= the fake GPU: not the kernel's code ================= */

#define GPU_VRAM_CHUNKS		4
#define GPU_VRAM_SIZE		(GPU_VRAM_CHUNKS * DMEM_CHUNK_SIZE)
#define GPU_RING_SIZE		1024
#define GPU_IOMMU_SIZE		1024

/* A buffer object: @size bytes of VRAM at @offset, pinned or not. */
struct nouveau_bo {
	u64 offset;
	u64 size;
	int pin_refcnt;
	unsigned int slot;
};

/* One queued copy-engine method: copy, or clear when @clear. */
struct gpu_cmd {
	enum nouveau_aper dst_aper, src_aper;
	u64 dst, src, len;
	bool clear;
};

/* The channel the copy engine runs on: a ring, executed at fences. */
struct nouveau_channel {
	struct gpu_cmd ring[GPU_RING_SIZE];
	unsigned int put;	/* methods queued */
	unsigned int get;	/* methods executed */
};

/* A fence: the ring position it completes. Not allocated: see below. */
struct nouveau_fence {
	struct nouveau_channel *chan;
	unsigned int seqno;
};

/* What a DMA address reaches, as the IOMMU's page table would say. */
struct gpu_iommu_entry {
	dma_addr_t addr;
	struct page *page;
};

static struct nouveau_gpu {
	unsigned char vram[GPU_VRAM_SIZE];
	struct nouveau_bo *slot[GPU_VRAM_CHUNKS];
	struct gpu_iommu_entry iommu[GPU_IOMMU_SIZE];
	struct nouveau_channel chan;
	struct nouveau_fence fence;
	unsigned long copies;	/* methods executed */
	unsigned long faults;	/* methods that reached no memory */
	unsigned long live_bos;
} gpu;

static void gpu_iommu_map(dma_addr_t addr, struct page *page)
{
	unsigned int i;

	for (i = 0; i < GPU_IOMMU_SIZE; i++) {
		if (!gpu.iommu[i].page) {
			gpu.iommu[i].addr = addr;
			gpu.iommu[i].page = page;
			return;
		}
	}
	WARN(1, "fake GPU: IOMMU table full");
}

static void gpu_iommu_unmap(dma_addr_t addr)
{
	unsigned int i;

	for (i = 0; i < GPU_IOMMU_SIZE; i++) {
		if (gpu.iommu[i].page && gpu.iommu[i].addr == addr) {
			gpu.iommu[i].page = NULL;
			return;
		}
	}
}

/* The bytes an aperture address reaches, NULL if nothing is there. */
static unsigned char *gpu_reach(enum nouveau_aper aper, u64 addr, u64 len)
{
	unsigned int i;

	if (aper == NOUVEAU_APER_VRAM) {
		struct nouveau_bo *bo;

		if (addr >= GPU_VRAM_SIZE)
			return NULL;
		bo = gpu.slot[addr / DMEM_CHUNK_SIZE];
		/* Only a pinned buffer stays where the GPU was told. */
		if (!bo || !bo->pin_refcnt || addr + len > bo->offset + bo->size)
			return NULL;
		return gpu.vram + addr;
	}
	if (aper != NOUVEAU_APER_HOST)
		return NULL;
	for (i = 0; i < GPU_IOMMU_SIZE; i++) {
		struct gpu_iommu_entry *e = &gpu.iommu[i];

		if (e->page && addr >= e->addr &&
		    addr + len <= e->addr + PAGE_SIZE)
			return (unsigned char *)page_address(e->page) +
			       (addr - e->addr);
	}
	return NULL;
}

/* Run the ring up to @seqno. */
static void gpu_run(struct nouveau_channel *chan, unsigned int seqno)
{
	while (chan->get < seqno) {
		struct gpu_cmd *c = &chan->ring[chan->get++];
		unsigned char *dst = gpu_reach(c->dst_aper, c->dst, c->len);
		unsigned char *src = c->clear ? NULL :
				     gpu_reach(c->src_aper, c->src, c->len);

		if (!dst || (!c->clear && !src)) {
			gpu.faults++;
			continue;
		}
		if (c->clear)
			memset(dst, 0, c->len);
		else
			memcpy(dst, src, c->len);
		gpu.copies++;
	}
	if (chan->get == chan->put)
		chan->get = chan->put = 0;
}

static int gpu_push(struct nouveau_channel *chan, const struct gpu_cmd *c)
{
	if (chan->put == GPU_RING_SIZE)		/* RING_SPACE() failed */
		return -EBUSY;
	chan->ring[chan->put++] = *c;
	return 0;
}

/*
 * nouveau_fence_new()/_wait()/_unref(), for the one channel. The kernel's
 * allocates the fence (kzalloc()); nouveau_dmem.c ignores its return and
 * goes on to wait on the fence, so a failure there is not a path the
 * driver survives, and the model does not allocate.
 */
static int nouveau_fence_new(struct nouveau_fence **pfence,
			     struct nouveau_channel *chan)
{
	gpu.fence.chan = chan;
	gpu.fence.seqno = chan->put;
	*pfence = &gpu.fence;
	return 0;
}

static void nouveau_fence_wait(struct nouveau_fence *fence)
{
	gpu_run(fence->chan, fence->seqno);
}

static void nouveau_fence_unref(struct nouveau_fence **pfence)
{
	*pfence = NULL;
}

/* nouveau_bo_new() of a VRAM buffer: a free 2 MiB slot of VRAM. */
static int nouveau_bo_new(u64 size, u32 domain, struct nouveau_bo **pnvbo)
{
	struct nouveau_bo *bo;
	unsigned int i;

	if (WARN_ON(domain != NOUVEAU_GEM_DOMAIN_VRAM ||
		    size != DMEM_CHUNK_SIZE))
		return -EINVAL;
	bo = kzalloc(sizeof(*bo), GFP_KERNEL);
	if (!bo)
		return -ENOMEM;
	for (i = 0; i < GPU_VRAM_CHUNKS; i++) {
		if (!gpu.slot[i]) {
			bo->slot = i;
			bo->offset = i * DMEM_CHUNK_SIZE;
			bo->size = size;
			gpu.slot[i] = bo;
			gpu.live_bos++;
			*pnvbo = bo;
			return 0;
		}
	}
	kfree(bo);
	return -ENOSPC;			/* VRAM is full */
}

static int nouveau_bo_pin(struct nouveau_bo *bo, u32 domain)
{
	if (WARN_ON(domain != NOUVEAU_GEM_DOMAIN_VRAM))
		return -EINVAL;
	bo->pin_refcnt++;
	return 0;
}

static void nouveau_bo_unpin(struct nouveau_bo *bo)
{
	WARN_ON(bo->pin_refcnt <= 0);
	bo->pin_refcnt--;
}

/* nouveau_bo_ref(NULL, &bo): drop the last reference. */
static void nouveau_bo_ref(struct nouveau_bo *ref, struct nouveau_bo **pnvbo)
{
	struct nouveau_bo *bo = *pnvbo;

	WARN_ON(ref);
	if (!bo)
		return;
	WARN_ON(bo->pin_refcnt);
	gpu.slot[bo->slot] = NULL;
	gpu.live_bos--;
	kfree(bo);
	*pnvbo = NULL;
}

/* ---- nouveau_drm and nouveau_svm, as much as nouveau_dmem.c uses ---- */

struct drm_device {
	struct device *dev;
};

struct nouveau_dmem;

struct nouveau_drm {
	struct drm_device *dev;
	struct nouveau_dmem *dmem;
	struct nouveau_channel *chan;	/* drm->ttm.chan */
	bool has_copy_engine;		/* a Pascal or later copy class */
};

/* The range of a process the GPU mirrors, and its GPU page table. */
#define SVM_BASE		0x7f0000000000UL
#define SVM_PAGES		512

struct nouveau_svmm {
	struct nouveau_drm *drm;
	struct mm_struct *mm;
	struct mutex mutex;
	struct mmu_interval_notifier notifier;
	u64 pte[SVM_PAGES];
};

/* nouveau_svmm_invalidate(): clear the GPU's PTEs of [start, end). */
static void nouveau_svmm_invalidate(struct nouveau_svmm *svmm,
				    unsigned long start, unsigned long end)
{
	unsigned long addr;

	for (addr = start; addr < end; addr += PAGE_SIZE) {
		unsigned long idx = (addr - SVM_BASE) >> PAGE_SHIFT;

		if (addr >= SVM_BASE && idx < SVM_PAGES)
			svmm->pte[idx] = NVIF_VMM_PFNMAP_V0_NONE;
	}
}

/*
 * nouveau_svmm_invalidate_range_start() (an mmu_notifier in nouveau, an
 * interval notifier here): the driver's own migrations are skipped, it
 * maps what it moved itself; anything else clears the GPU's PTEs.
 */
static bool nouveau_svmm_notify(struct mmu_interval_notifier *mni,
				const struct mmu_notifier_range *range,
				unsigned long cur_seq)
{
	struct nouveau_svmm *svmm = container_of(mni, struct nouveau_svmm,
						 notifier);

	if (range->event == MMU_NOTIFY_MIGRATE &&
	    range->owner == svmm->drm->dev)
		return true;
	mutex_lock(&svmm->mutex);
	mmu_interval_set_seq(mni, cur_seq);
	nouveau_svmm_invalidate(svmm, range->start, range->end);
	mutex_unlock(&svmm->mutex);
	return true;
}

static const struct mmu_interval_notifier_ops nouveau_svmm_mn_ops = {
	.invalidate = nouveau_svmm_notify,
};

/* nouveau_pfns_alloc()/_free()/_map(): a PFNMAP method's arguments. */
struct nouveau_pfnmap_args {
	u64 addr;
	u64 size;
	u64 phys[];
};

static u64 *nouveau_pfns_alloc(unsigned long npages)
{
	struct nouveau_pfnmap_args *args;

	args = kzalloc(sizeof(*args) + npages * sizeof(u64), GFP_KERNEL);
	return args ? args->phys : NULL;
}

static struct nouveau_pfnmap_args *nouveau_pfns_to_args(u64 *pfns)
{
	return (struct nouveau_pfnmap_args *)
	       ((char *)pfns - offsetof(struct nouveau_pfnmap_args, phys));
}

static void nouveau_pfns_free(u64 *pfns)
{
	kfree(nouveau_pfns_to_args(pfns));
}

static void nouveau_pfns_map(struct nouveau_svmm *svmm, struct mm_struct *mm,
			     unsigned long addr, u64 *pfns,
			     unsigned long npages)
{
	struct nouveau_pfnmap_args *args = nouveau_pfns_to_args(pfns);
	unsigned long i;

	(void)mm;
	args->addr = addr;
	args->size = npages << PAGE_SHIFT;
	mutex_lock(&svmm->mutex);
	for (i = 0; i < npages; i++) {
		unsigned long idx = ((addr - SVM_BASE) >> PAGE_SHIFT) + i;

		if (addr >= SVM_BASE && idx < SVM_PAGES)
			svmm->pte[idx] = pfns[i];
	}
	mutex_unlock(&svmm->mutex);
}

/* ====================== the driver: nouveau_dmem ====================== */

typedef int (*nouveau_migrate_copy_t)(struct nouveau_drm *drm, u64 npages,
				      enum nouveau_aper, u64 dst_addr,
				      enum nouveau_aper, u64 src_addr);
typedef int (*nouveau_clear_page_t)(struct nouveau_drm *drm, u32 length,
				    enum nouveau_aper, u64 dst_addr);

struct nouveau_dmem_chunk {
	struct list_head list;
	struct nouveau_bo *bo;
	struct nouveau_drm *drm;
	unsigned long callocated;
	struct dev_pagemap pagemap;
};

struct nouveau_dmem_migrate {
	nouveau_migrate_copy_t copy_func;
	nouveau_clear_page_t clear_func;
	struct nouveau_channel *chan;
};

struct nouveau_dmem {
	struct nouveau_drm *drm;
	struct nouveau_dmem_migrate migrate;
	struct list_head chunks;
	struct mutex mutex;
	struct page *free_pages;
	spinlock_t lock;
};

static struct nouveau_dmem_chunk *nouveau_page_to_chunk(struct page *page)
{
	return container_of(page_pgmap(page), struct nouveau_dmem_chunk,
			    pagemap);
}

static struct nouveau_drm *page_to_drm(struct page *page)
{
	return nouveau_page_to_chunk(page)->drm;
}

/* Where in VRAM a device page's data lives: its chunk's bo, same offset. */
static unsigned long nouveau_dmem_page_addr(struct page *page)
{
	struct nouveau_dmem_chunk *chunk = nouveau_page_to_chunk(page);
	unsigned long off = (page_to_pfn(page) << PAGE_SHIFT) -
			    chunk->pagemap.range.start;

	return chunk->bo->offset + off;
}

/* ->page_free(): back on the free list, one less in use in its chunk. */
static void nouveau_dmem_page_free(struct page *page)
{
	struct nouveau_dmem_chunk *chunk = nouveau_page_to_chunk(page);
	struct nouveau_dmem *dmem = chunk->drm->dmem;

	spin_lock(&dmem->lock);
	page->zone_device_data = dmem->free_pages;
	dmem->free_pages = page;
	WARN_ON(!chunk->callocated);
	chunk->callocated--;
	spin_unlock(&dmem->lock);
}

static void nouveau_dmem_fence_done(struct nouveau_fence **fence)
{
	if (*fence) {
		nouveau_fence_wait(*fence);
		nouveau_fence_unref(fence);
	}
}

/*
 * Queue the copy of device page @spage into system page @dpage (locked
 * here): @dpage is DMA-mapped for the copy engine; the caller unmaps it
 * once the fence has passed. Nonzero if nothing was queued.
 */
static int nouveau_dmem_copy_one(struct nouveau_drm *drm, struct page *spage,
				 struct page *dpage, dma_addr_t *dma_addr)
{
	struct device *dev = drm->dev->dev;

	lock_page(dpage);
	*dma_addr = dma_map_page(dev, dpage, 0, PAGE_SIZE, DMA_BIDIRECTIONAL);
	if (dma_mapping_error(dev, *dma_addr))
		return -EIO;
	gpu_iommu_map(*dma_addr, dpage);
	if (drm->dmem->migrate.copy_func(drm, 1, NOUVEAU_APER_HOST, *dma_addr,
					 NOUVEAU_APER_VRAM,
					 nouveau_dmem_page_addr(spage))) {
		gpu_iommu_unmap(*dma_addr);
		dma_unmap_page(dev, *dma_addr, PAGE_SIZE, DMA_BIDIRECTIONAL);
		*dma_addr = DMA_MAPPING_ERROR;
		return -EIO;
	}
	return 0;
}

/* A CPU fault on a device page: bring that one page back to system RAM. */
static vm_fault_t nouveau_dmem_migrate_to_ram(struct vm_fault *vmf)
{
	struct nouveau_drm *drm = page_to_drm(vmf->page);
	struct nouveau_dmem *dmem = drm->dmem;
	struct nouveau_fence *fence;
	struct nouveau_svmm *svmm;
	struct page *spage, *dpage;
	unsigned long src = 0, dst = 0;
	dma_addr_t dma_addr = 0;
	vm_fault_t ret = 0;
	struct migrate_vma args = {
		.vma		= vmf->vma,
		.start		= vmf->address,
		.end		= vmf->address + PAGE_SIZE,
		.src		= &src,
		.dst		= &dst,
		.pgmap_owner	= drm->dev,
		.fault_page	= vmf->page,
		.flags		= MIGRATE_VMA_SELECT_DEVICE_PRIVATE,
	};

	if (migrate_vma_setup(&args) < 0)
		return VM_FAULT_SIGBUS;
	if (!args.cpages)
		return 0;

	spage = migrate_pfn_to_page(src);
	if (!spage || !(src & MIGRATE_PFN_MIGRATE))
		goto done;
	dpage = alloc_page_vma(GFP_HIGHUSER | __GFP_ZERO, vmf->vma,
			       vmf->address);
	if (!dpage)
		goto done;
	dst = migrate_pfn(page_to_pfn(dpage));

	/* The GPU must stop using the page before its data moves. */
	svmm = spage->zone_device_data;
	mutex_lock(&svmm->mutex);
	nouveau_svmm_invalidate(svmm, args.start, args.end);
	ret = nouveau_dmem_copy_one(drm, spage, dpage, &dma_addr);
	mutex_unlock(&svmm->mutex);
	if (ret) {
		ret = VM_FAULT_SIGBUS;
		goto done;
	}

	nouveau_fence_new(&fence, dmem->migrate.chan);
	migrate_vma_pages(&args);
	nouveau_dmem_fence_done(&fence);
	gpu_iommu_unmap(dma_addr);
	dma_unmap_page(drm->dev->dev, dma_addr, PAGE_SIZE, DMA_BIDIRECTIONAL);
done:
	migrate_vma_finalize(&args);
	return ret;
}

static const struct dev_pagemap_ops nouveau_dmem_pagemap_ops = {
	.page_free		= nouveau_dmem_page_free,
	.migrate_to_ram		= nouveau_dmem_migrate_to_ram,
};

/*
 * A new chunk: a free physical range, a VRAM buffer pinned behind it, its
 * pgmap mapped; all its pages but the last go on the free list and the
 * last is handed back in *@ppage, already counted in use.
 */
static int nouveau_dmem_chunk_alloc(struct nouveau_drm *drm,
				    struct page **ppage)
{
	struct nouveau_dmem_chunk *chunk;
	unsigned long i, pfn_first;
	struct resource *res;
	struct page *page;
	void *ptr;
	int ret;

	chunk = kzalloc(sizeof(*chunk), GFP_KERNEL);
	if (!chunk) {
		ret = -ENOMEM;
		goto out;
	}
	res = request_free_mem_region(&iomem_resource, DMEM_CHUNK_SIZE,
				      "nouveau_dmem");
	if (IS_ERR(res)) {
		ret = PTR_ERR(res);
		goto out_free;
	}
	chunk->drm = drm;
	chunk->pagemap.type = MEMORY_DEVICE_PRIVATE;
	chunk->pagemap.range.start = res->start;
	chunk->pagemap.range.end = res->end;
	chunk->pagemap.nr_range = 1;
	chunk->pagemap.ops = &nouveau_dmem_pagemap_ops;
	chunk->pagemap.owner = drm->dev;

	ret = nouveau_bo_new(DMEM_CHUNK_SIZE, NOUVEAU_GEM_DOMAIN_VRAM,
			     &chunk->bo);
	if (ret)
		goto out_release;
	ret = nouveau_bo_pin(chunk->bo, NOUVEAU_GEM_DOMAIN_VRAM);
	if (ret)
		goto out_bo_free;

	ptr = memremap_pages(&chunk->pagemap, numa_node_id());
	if (IS_ERR(ptr)) {
		ret = PTR_ERR(ptr);
		goto out_bo_unpin;
	}

	mutex_lock(&drm->dmem->mutex);
	list_add(&chunk->list, &drm->dmem->chunks);
	mutex_unlock(&drm->dmem->mutex);

	pfn_first = chunk->pagemap.range.start >> PAGE_SHIFT;
	spin_lock(&drm->dmem->lock);
	for (i = 0; i < DMEM_CHUNK_NPAGES - 1; i++) {
		page = pfn_to_page(pfn_first + i);
		page->zone_device_data = drm->dmem->free_pages;
		drm->dmem->free_pages = page;
	}
	*ppage = pfn_to_page(pfn_first + DMEM_CHUNK_NPAGES - 1);
	chunk->callocated++;
	spin_unlock(&drm->dmem->lock);
	return 0;

out_bo_unpin:
	nouveau_bo_unpin(chunk->bo);
out_bo_free:
	nouveau_bo_ref(NULL, &chunk->bo);
out_release:
	release_mem_region(chunk->pagemap.range.start,
			   range_len(&chunk->pagemap.range));
out_free:
	kfree(chunk);
out:
	return ret;
}

/* A device page, referenced, locked, and pinning its pgmap. */
static struct page *nouveau_dmem_page_alloc_locked(struct nouveau_drm *drm)
{
	struct nouveau_dmem_chunk *chunk;
	struct page *page = NULL;

	spin_lock(&drm->dmem->lock);
	if (drm->dmem->free_pages) {
		page = drm->dmem->free_pages;
		drm->dmem->free_pages = page->zone_device_data;
		chunk = nouveau_page_to_chunk(page);
		chunk->callocated++;
		spin_unlock(&drm->dmem->lock);
	} else {
		spin_unlock(&drm->dmem->lock);
		if (nouveau_dmem_chunk_alloc(drm, &page))
			return NULL;
	}
	zone_device_page_init(page);
	return page;
}

static void nouveau_dmem_page_free_locked(struct nouveau_drm *drm,
					  struct page *page)
{
	(void)drm;
	unlock_page(page);
	put_page(page);
}

/*
 * The kernel asks kvcalloc() for __GFP_NOFAIL memory and gets it; the
 * library's kmalloc() fails under injection whatever the flags, so the
 * retry the kernel's allocator would do is written out here.
 */
static void *kvcalloc_nofail(size_t n, size_t size)
{
	void *p;

	do
		p = kvcalloc(n, size, GFP_KERNEL | __GFP_NOFAIL);
	while (!p);
	return p;
}

/*
 * Set by the suite to end eviction as 6.15 does: dma_unmap_page() of every
 * slot of dma_addrs[], mapped or not (see below).
 */
static bool nouveau_evict_unmaps_every_slot;

/* Copy every page of @chunk still in use back to system memory. */
static void nouveau_dmem_evict_chunk(struct nouveau_dmem_chunk *chunk)
{
	unsigned long i, npages = range_len(&chunk->pagemap.range) >>
				  PAGE_SHIFT;
	struct device *dev = chunk->drm->dev->dev;
	unsigned long *src_pfns, *dst_pfns;
	struct nouveau_fence *fence;
	dma_addr_t *dma_addrs;

	src_pfns = kvcalloc_nofail(npages, sizeof(*src_pfns));
	dst_pfns = kvcalloc_nofail(npages, sizeof(*dst_pfns));
	dma_addrs = kvcalloc_nofail(npages, sizeof(*dma_addrs));
	for (i = 0; !nouveau_evict_unmaps_every_slot && i < npages; i++)
		dma_addrs[i] = DMA_MAPPING_ERROR;

	migrate_device_range(src_pfns, chunk->pagemap.range.start >> PAGE_SHIFT,
			     npages);
	for (i = 0; i < npages; i++) {
		struct page *dpage;

		if (!(src_pfns[i] & MIGRATE_PFN_MIGRATE))
			continue;
		/*
		 * The GPU is going away: there is nowhere else for the data,
		 * so the page must come, and a failed copy is not retried.
		 */
		dpage = alloc_page(GFP_HIGHUSER | __GFP_NOFAIL);
		dst_pfns[i] = migrate_pfn(page_to_pfn(dpage));
		nouveau_dmem_copy_one(chunk->drm,
				      migrate_pfn_to_page(src_pfns[i]), dpage,
				      &dma_addrs[i]);
	}

	nouveau_fence_new(&fence, chunk->drm->dmem->migrate.chan);
	migrate_device_pages(src_pfns, dst_pfns, npages);
	nouveau_dmem_fence_done(&fence);
	migrate_device_finalize(src_pfns, dst_pfns, npages);
	kvfree(src_pfns);
	kvfree(dst_pfns);
	/*
	 * 6.15 unmaps dma_addrs[i] for every i, mapped or not (0, from
	 * kvcalloc(), for a page not in use; DMA_MAPPING_ERROR for a failed
	 * map), which DMA-API debugging reports; here only what was mapped is
	 * unmapped, unless the suite asks for 6.15's loop.
	 */
	for (i = 0; i < npages; i++) {
		if (!nouveau_evict_unmaps_every_slot &&
		    dma_addrs[i] == DMA_MAPPING_ERROR)
			continue;
		gpu_iommu_unmap(dma_addrs[i]);
		dma_unmap_page(dev, dma_addrs[i], PAGE_SIZE, DMA_BIDIRECTIONAL);
	}
	kvfree(dma_addrs);
}

/* The device goes away: evict every chunk, then unregister and free it. */
static void nouveau_dmem_fini(struct nouveau_drm *drm)
{
	struct nouveau_dmem_chunk *chunk, *tmp;

	if (!drm->dmem)
		return;
	mutex_lock(&drm->dmem->mutex);
	list_for_each_entry_safe(chunk, tmp, &drm->dmem->chunks, list) {
		nouveau_dmem_evict_chunk(chunk);
		nouveau_bo_unpin(chunk->bo);
		nouveau_bo_ref(NULL, &chunk->bo);
		WARN_ON(chunk->callocated);
		list_del(&chunk->list);
		memunmap_pages(&chunk->pagemap);
		release_mem_region(chunk->pagemap.range.start,
				   range_len(&chunk->pagemap.range));
		kfree(chunk);
	}
	mutex_unlock(&drm->dmem->mutex);
}

/* The copy engine's methods (nvc0b5_migrate_copy()/_clear()). */
static int nvc0b5_migrate_copy(struct nouveau_drm *drm, u64 npages,
			       enum nouveau_aper dst_aper, u64 dst_addr,
			       enum nouveau_aper src_aper, u64 src_addr)
{
	struct gpu_cmd c = {
		.dst_aper = dst_aper, .dst = dst_addr,
		.src_aper = src_aper, .src = src_addr,
		.len = npages << PAGE_SHIFT,
	};

	if (dst_aper == NOUVEAU_APER_VIRT || src_aper == NOUVEAU_APER_VIRT)
		return -EINVAL;
	return gpu_push(drm->dmem->migrate.chan, &c);
}

static int nvc0b5_migrate_clear(struct nouveau_drm *drm, u32 length,
				enum nouveau_aper dst_aper, u64 dst_addr)
{
	struct gpu_cmd c = {
		.dst_aper = dst_aper, .dst = dst_addr, .len = length,
		.clear = true,
	};

	return gpu_push(drm->dmem->migrate.chan, &c);
}

static int nouveau_dmem_migrate_init(struct nouveau_drm *drm)
{
	if (!drm->has_copy_engine)
		return -ENODEV;
	drm->dmem->migrate.copy_func = nvc0b5_migrate_copy;
	drm->dmem->migrate.clear_func = nvc0b5_migrate_clear;
	drm->dmem->migrate.chan = drm->chan;
	return 0;
}

/* Chunks come on demand: init only sets up the bookkeeping. */
static void nouveau_dmem_init(struct nouveau_drm *drm)
{
	drm->dmem = kzalloc(sizeof(*drm->dmem), GFP_KERNEL);
	if (!drm->dmem)
		return;
	drm->dmem->drm = drm;
	mutex_init(&drm->dmem->mutex);
	INIT_LIST_HEAD(&drm->dmem->chunks);
	spin_lock_init(&drm->dmem->lock);
	if (nouveau_dmem_migrate_init(drm)) {
		kfree(drm->dmem);
		drm->dmem = NULL;
	}
}

/*
 * One source page of a migration to VRAM: a device page for it, the copy
 * (or, for a hole, a clear) queued, the GPU PTE in *@pfn. The new page's
 * migrate pfn, or 0 if it stays where it is.
 */
static unsigned long nouveau_dmem_migrate_copy_one(struct nouveau_drm *drm,
		struct nouveau_svmm *svmm, unsigned long src,
		dma_addr_t *dma_addr, u64 *pfn)
{
	struct device *dev = drm->dev->dev;
	struct page *dpage, *spage;
	unsigned long paddr;

	/*
	 * 6.15 leaves *dma_addr unwritten on the early exits; the caller then
	 * reads whatever the uninitialised array held. Written here.
	 */
	*dma_addr = DMA_MAPPING_ERROR;
	spage = migrate_pfn_to_page(src);
	if (!(src & MIGRATE_PFN_MIGRATE))
		goto out;
	dpage = nouveau_dmem_page_alloc_locked(drm);
	if (!dpage)
		goto out;

	paddr = nouveau_dmem_page_addr(dpage);
	if (spage) {
		*dma_addr = dma_map_page(dev, spage, 0, page_size(spage),
					 DMA_BIDIRECTIONAL);
		if (dma_mapping_error(dev, *dma_addr))
			goto out_free_page;
		gpu_iommu_map(*dma_addr, spage);
		if (drm->dmem->migrate.copy_func(drm, 1, NOUVEAU_APER_VRAM,
						 paddr, NOUVEAU_APER_HOST,
						 *dma_addr))
			goto out_dma_unmap;
	} else {
		*dma_addr = DMA_MAPPING_ERROR;
		if (drm->dmem->migrate.clear_func(drm, page_size(dpage),
						  NOUVEAU_APER_VRAM, paddr))
			goto out_free_page;
	}

	dpage->zone_device_data = svmm;
	*pfn = NVIF_VMM_PFNMAP_V0_V | NVIF_VMM_PFNMAP_V0_VRAM |
	       ((paddr >> PAGE_SHIFT) << NVIF_VMM_PFNMAP_V0_ADDR_SHIFT);
	if (src & MIGRATE_PFN_WRITE)
		*pfn |= NVIF_VMM_PFNMAP_V0_W;
	return migrate_pfn(page_to_pfn(dpage));

out_dma_unmap:
	gpu_iommu_unmap(*dma_addr);
	dma_unmap_page(dev, *dma_addr, PAGE_SIZE, DMA_BIDIRECTIONAL);
	*dma_addr = DMA_MAPPING_ERROR;
out_free_page:
	nouveau_dmem_page_free_locked(drm, dpage);
out:
	*pfn = NVIF_VMM_PFNMAP_V0_NONE;
	return 0;
}

static void nouveau_dmem_migrate_chunk(struct nouveau_drm *drm,
				       struct nouveau_svmm *svmm,
				       struct migrate_vma *args,
				       dma_addr_t *dma_addrs, u64 *pfns)
{
	struct device *dev = drm->dev->dev;
	unsigned long addr = args->start, nr_dma = 0, i;
	struct nouveau_fence *fence;

	for (i = 0; addr < args->end; i++, addr += PAGE_SIZE) {
		args->dst[i] = nouveau_dmem_migrate_copy_one(drm, svmm,
				args->src[i], dma_addrs + nr_dma, pfns + i);
		if (!dma_mapping_error(dev, dma_addrs[nr_dma]))
			nr_dma++;
	}

	nouveau_fence_new(&fence, drm->dmem->migrate.chan);
	migrate_vma_pages(args);
	nouveau_dmem_fence_done(&fence);
	nouveau_pfns_map(svmm, args->vma->vm_mm, args->start, pfns, i);

	while (nr_dma--) {
		gpu_iommu_unmap(dma_addrs[nr_dma]);
		dma_unmap_page(dev, dma_addrs[nr_dma], PAGE_SIZE,
			       DMA_BIDIRECTIONAL);
	}
	migrate_vma_finalize(args);
}

/* Migrate [start, end) of @vma to VRAM, SG_MAX_SINGLE_ALLOC at a time. */
static int nouveau_dmem_migrate_vma(struct nouveau_drm *drm,
				    struct nouveau_svmm *svmm,
				    struct vm_area_struct *vma,
				    unsigned long start, unsigned long end)
{
	unsigned long npages = (end - start) >> PAGE_SHIFT;
	unsigned long max = min(SG_MAX_SINGLE_ALLOC, npages);
	struct migrate_vma args = {
		.vma		= vma,
		.start		= start,
		.pgmap_owner	= drm->dev,
		.flags		= MIGRATE_VMA_SELECT_SYSTEM,
	};
	dma_addr_t *dma_addrs;
	unsigned long i;
	int ret = -ENOMEM;
	u64 *pfns;

	if (!drm->dmem)
		return -ENODEV;

	args.src = kcalloc(max, sizeof(*args.src), GFP_KERNEL);
	if (!args.src)
		goto out;
	args.dst = kcalloc(max, sizeof(*args.dst), GFP_KERNEL);
	if (!args.dst)
		goto out_free_src;
	dma_addrs = kmalloc_array(max, sizeof(*dma_addrs), GFP_KERNEL);
	if (!dma_addrs)
		goto out_free_dst;
	pfns = nouveau_pfns_alloc(max);
	if (!pfns)
		goto out_free_dma;

	for (i = 0; i < npages; i += max) {
		if (args.start + (max << PAGE_SHIFT) > end)
			args.end = end;
		else
			args.end = args.start + (max << PAGE_SHIFT);
		ret = migrate_vma_setup(&args);
		if (ret)
			goto out_free_pfns;
		if (args.cpages)
			nouveau_dmem_migrate_chunk(drm, svmm, &args, dma_addrs,
						   pfns);
		args.start = args.end;
	}
	ret = 0;

out_free_pfns:
	nouveau_pfns_free(pfns);
out_free_dma:
	kfree(dma_addrs);
out_free_dst:
	kfree(args.dst);
out_free_src:
	kfree(args.src);
out:
	return ret;
}

/* nouveau_svmm_bind(NOUVEAU_SVM_BIND_TARGET__GPU_VRAM) of [start, end). */
static int nouveau_svmm_bind(struct nouveau_svmm *svmm, unsigned long start,
			     unsigned long end)
{
	struct mm_struct *mm = svmm->mm;
	unsigned long addr, next;
	int ret = 0;

	if (!mmget_not_zero(mm))
		return -EINVAL;
	mmap_read_lock(mm);
	for (addr = start; addr < end; addr = next) {
		struct vm_area_struct *vma = find_vma(mm, addr);

		if (!vma || addr < vma->vm_start) {
			ret = -EINVAL;
			break;
		}
		next = min(vma->vm_end, end);
		ret = nouveau_dmem_migrate_vma(svmm->drm, svmm, vma, addr,
					       next);
		if (ret)
			break;
	}
	mmap_read_unlock(mm);
	mmput(mm);
	return ret;
}

/* ============================== the suite ============================== */

static struct device gpu_dev;
static struct drm_device drm_dev = { .dev = &gpu_dev };
static struct nouveau_drm drm;
static struct nouveau_svmm svmm;

/* A process with @n pages written (page i holds i * 7 + 3), a GPU, an svmm. */
static struct mm_struct *setup(unsigned long n)
{
	struct mm_struct *mm = memremap_mm_create();
	unsigned long i;

	memset(&gpu, 0, sizeof(gpu));
	memset(&drm, 0, sizeof(drm));
	drm.dev = &drm_dev;
	drm.chan = &gpu.chan;
	drm.has_copy_engine = true;
	memset(&svmm, 0, sizeof(svmm));
	svmm.drm = &drm;
	svmm.mm = mm;
	mutex_init(&svmm.mutex);
	mmu_interval_notifier_insert(&svmm.notifier, mm, SVM_BASE,
				     SVM_PAGES * PAGE_SIZE,
				     &nouveau_svmm_mn_ops);
	memremap_mm_add_vma(mm, SVM_BASE, SVM_BASE + SVM_PAGES * PAGE_SIZE,
			    VM_READ | VM_WRITE);
	for (i = 0; i < n; i++)
		proc_write(mm, SVM_BASE + i * PAGE_SIZE, i * 7 + 3);
	return mm;
}

static void teardown(struct mm_struct *mm)
{
	if (mm)
		mmput(mm);
	mmu_interval_notifier_remove(&svmm.notifier);
	kfree(drm.dmem);
	drm.dmem = NULL;
}

static int bind(unsigned long first, unsigned long n)
{
	return nouveau_svmm_bind(&svmm, SVM_BASE + first * PAGE_SIZE,
				 SVM_BASE + (first + n) * PAGE_SIZE);
}

static unsigned long cpu_read(struct mm_struct *mm, unsigned long i)
{
	return proc_read(mm, SVM_BASE + i * PAGE_SIZE);
}

/* What the GPU reads at page @i, through its page table into VRAM. */
static unsigned long gpu_read(unsigned long i)
{
	u64 pte = svmm.pte[i];
	unsigned long v;

	if (!(pte & NVIF_VMM_PFNMAP_V0_V) || !(pte & NVIF_VMM_PFNMAP_V0_VRAM))
		return ~0UL;
	memcpy(&v, gpu.vram + (pte & NVIF_VMM_PFNMAP_V0_ADDR), sizeof(v));
	return v;
}

static void gpu_write(unsigned long i, unsigned long v)
{
	memcpy(gpu.vram + (svmm.pte[i] & NVIF_VMM_PFNMAP_V0_ADDR), &v,
	       sizeof(v));
}

static struct nouveau_dmem_chunk *chunk_nr(unsigned int nr)
{
	struct nouveau_dmem_chunk *chunk;
	unsigned int i = 0;

	if (!drm.dmem)
		return NULL;
	/* list_add(): the newest chunk first; count from the oldest. */
	list_for_each_entry_reverse(chunk, &drm.dmem->chunks, list)
		if (i++ == nr)
			return chunk;
	return NULL;
}

static unsigned long free_list_len(void)
{
	unsigned long n = 0;
	struct page *p;

	/* After fini the list points into unmapped chunks: not walked. */
	if (!drm.dmem || list_empty(&drm.dmem->chunks))
		return 0;
	for (p = drm.dmem->free_pages; p; p = p->zone_device_data)
		n++;
	return n;
}

/*
 * A report line: the step, the oldest chunk's callocated, free list and
 * pgmap pins, then where the process's page @i is and its refcount (none
 * once @mm is gone), the live DMA mappings and the copy engine's methods.
 */
static void step(struct mm_struct *mm, unsigned long i, const char *what)
{
	struct nouveau_dmem_chunk *c = chunk_nr(0);
	struct page *page = NULL;
	int kind;

	kind = mm ? memremap_mm_entry(mm, SVM_BASE + i * PAGE_SIZE, &page,
				      NULL) : MEMREMAP_PTE_NONE;
	printf("    # %-30s ", what);
	if (c)
		printf("callocated %lu free %lu pins %ld", c->callocated,
		       free_list_len(), memremap_pgmap_pins(&c->pagemap));
	else
		printf("no chunk");
	printf(" | page %lu %s ref %d | dma %lu copies %lu\n", i,
	       kind == MEMREMAP_PTE_SWAP ? "VRAM" :
	       kind == MEMREMAP_PTE_PRESENT ? "RAM" : "none",
	       page ? page_ref_count(page) : 0, memremap_dma_live(),
	       gpu.copies);
}

/* Page @i is a device page in use: one reference, one pin, mapped once. */
static void expect_on_device(struct mm_struct *mm, unsigned long i,
			     unsigned long want)
{
	struct page *page;
	unsigned long val;
	swp_entry_t e;

	EXPECT_EQ(memremap_mm_entry(mm, SVM_BASE + i * PAGE_SIZE, &page,
				    &val), MEMREMAP_PTE_SWAP);
	e.val = val;
	EXPECT_TRUE(is_device_private_page(page));
	EXPECT_EQ(swp_type(e), SWP_DEVICE_WRITE);
	EXPECT_EQ(page_ref_count(page), 1);
	EXPECT_EQ(memremap_page_mapcount(page), 1);
	EXPECT_FALSE(PageLocked(page));
	EXPECT_PTR_EQ(page->zone_device_data, &svmm);
	EXPECT_EQ(svmm.pte[i] & NVIF_VMM_PFNMAP_V0_ADDR,
		  nouveau_dmem_page_addr(page));
	EXPECT_EQ(gpu_read(i), want);
}

static void expect_in_ram(struct mm_struct *mm, unsigned long i,
			  unsigned long want)
{
	struct page *page;

	EXPECT_EQ(memremap_mm_entry(mm, SVM_BASE + i * PAGE_SIZE, &page,
				    NULL), MEMREMAP_PTE_PRESENT);
	EXPECT_FALSE(is_zone_device_page(page));
	EXPECT_EQ(page_ref_count(page), 1);
	EXPECT_EQ(cpu_read(mm, i), want);
}

KTAP_CASE(migrate_to_vram_then_exit)
{
	unsigned long n = 16, i, sys = memremap_system_pages_live();
	unsigned long regions = memremap_iomem_regions();
	struct mm_struct *mm = setup(n);
	struct nouveau_dmem_chunk *chunk;

	nouveau_dmem_init(&drm);
	EXPECT_NOT_NULL(drm.dmem);
	EXPECT_TRUE(list_empty(&drm.dmem->chunks));	/* chunks on demand */
	EXPECT_EQ(bind(0, n), 0);
	step(mm, 0, "migrated 16 pages to VRAM:");
	chunk = chunk_nr(0);
	EXPECT_NOT_NULL(chunk);
	EXPECT_NULL(chunk_nr(1));
	for (i = 0; i < n; i++)
		expect_on_device(mm, i, i * 7 + 3);
	EXPECT_EQ(chunk->callocated, n);
	EXPECT_EQ(memremap_pgmap_pins(&chunk->pagemap), n);
	EXPECT_EQ(free_list_len(), DMEM_CHUNK_NPAGES - n);
	EXPECT_EQ(memremap_dma_live(), 0);	/* unmapped after the fence */
	EXPECT_EQ(gpu.copies, n);
	EXPECT_EQ(gpu.faults, 0);
	/* One chunk: a 2 MiB device-private region, a pinned 2 MiB bo. */
	EXPECT_EQ(memremap_iomem_regions(), regions + 1);
	EXPECT_EQ(range_len(&chunk->pagemap.range), 1UL << PA_SECTION_SHIFT);
	EXPECT_EQ(memremap_pgmap_busy_pages(&chunk->pagemap), n);
	EXPECT_EQ(region_intersects(chunk->pagemap.range.start,
				    DMEM_CHUNK_SIZE, IORESOURCE_MEM,
				    IORES_DESC_DEVICE_PRIVATE_MEMORY),
		  REGION_INTERSECTS);
	EXPECT_PTR_EQ(chunk->pagemap.owner, &drm_dev);
	EXPECT_EQ(chunk->bo->size, DMEM_CHUNK_SIZE);
	EXPECT_EQ(chunk->bo->pin_refcnt, 1);
	EXPECT_EQ(memremap_pgmap_generation(&chunk->pagemap),
		  MEMREMAP_GEN_6_15);
	/* The process's own pages went back to the allocator. */
	EXPECT_EQ(memremap_system_pages_live(), sys);

	/* The process exits: each device page is freed to the list. */
	mmput(mm);
	step(NULL, 0, "the process exited:");
	EXPECT_EQ(chunk->callocated, 0);
	EXPECT_EQ(memremap_pgmap_pins(&chunk->pagemap), 0);
	EXPECT_EQ(free_list_len(), DMEM_CHUNK_NPAGES);
	nouveau_dmem_fini(&drm);
	step(NULL, 0, "the device left:");
	EXPECT_EQ(memremap_mapped_pgmaps(), 0);
	EXPECT_EQ(memremap_iomem_regions(), regions);
	EXPECT_EQ(gpu.live_bos, 0);
	teardown(NULL);
	EXPECT_EQ(memremap_ledger_count(), 0);
	EXPECT_WARNS(0);
}

KTAP_CASE(cpu_fault_brings_a_page_back)
{
	unsigned long n = 8, v;
	struct mm_struct *mm = setup(n);
	struct nouveau_dmem_chunk *chunk;
	struct page *dpage, *page;

	nouveau_dmem_init(&drm);
	bind(0, n);
	chunk = chunk_nr(0);
	step(mm, 5, "migrated 8 pages to VRAM:");
	gpu_write(5, 0xfeed);				/* the GPU writes */
	memremap_mm_entry(mm, SVM_BASE + 5 * PAGE_SIZE, &dpage, NULL);
	EXPECT_EQ(cpu_read(mm, 5), 0xfeed);		/* the CPU faults */
	step(mm, 5, "a CPU fault took page 5 back:");
	expect_in_ram(mm, 5, 0xfeed);
	EXPECT_EQ(svmm.pte[5], NVIF_VMM_PFNMAP_V0_NONE);	/* GPU unmapped */
	EXPECT_EQ(chunk->callocated, n - 1);
	EXPECT_EQ(memremap_pgmap_pins(&chunk->pagemap), n - 1);
	/* The device page is idle, first on the free list. */
	EXPECT_EQ(page_ref_count(dpage), 0);
	EXPECT_PTR_EQ(drm.dmem->free_pages, dpage);
	EXPECT_EQ(memremap_dma_live(), 0);
	EXPECT_EQ(gpu.faults, 0);
	/* Present now: no second call. */
	EXPECT_EQ(cpu_read(mm, 5), 0xfeed);
	EXPECT_EQ(chunk->callocated, n - 1);
	/* Back to VRAM: the freed page is the next one handed out. */
	EXPECT_EQ(bind(5, 1), 0);
	expect_on_device(mm, 5, 0xfeed);
	memremap_mm_entry(mm, SVM_BASE + 5 * PAGE_SIZE, &page, NULL);
	EXPECT_PTR_EQ(page, dpage);
	EXPECT_EQ(page_ref_count(dpage), 1);
	EXPECT_EQ(chunk->callocated, n);
	EXPECT_EQ(memremap_pgmap_pins(&chunk->pagemap), n);
	/* A write fault on another page. */
	v = 42;
	EXPECT_EQ(memremap_mm_access(mm, SVM_BASE + 2 * PAGE_SIZE, &v,
				     sizeof(v), true), 0);
	expect_in_ram(mm, 2, 42);
	EXPECT_EQ(chunk->callocated, n - 1);
	mmput(mm);
	EXPECT_EQ(chunk->callocated, 0);
	nouveau_dmem_fini(&drm);
	teardown(NULL);
	EXPECT_EQ(memremap_ledger_count(), 0);
	EXPECT_WARNS(0);
}

KTAP_CASE(fini_evicts_pages_still_in_use)
{
	unsigned long n = 24, i, sys = memremap_system_pages_live();
	struct mm_struct *mm = setup(n);
	struct nouveau_dmem_chunk *chunk;

	nouveau_dmem_init(&drm);
	bind(0, n);
	chunk = chunk_nr(0);
	step(mm, 3, "migrate to device (24 pages):");
	EXPECT_EQ(chunk->callocated, n);
	EXPECT_EQ(memremap_pgmap_pins(&chunk->pagemap), n);
	gpu_write(9, 0xc0ffee);
	EXPECT_EQ(cpu_read(mm, 3), 24);			/* one came back */
	step(mm, 3, "CPU fault back (page 3):");
	EXPECT_EQ(chunk->callocated, n - 1);
	EXPECT_EQ(memremap_pgmap_pins(&chunk->pagemap), n - 1);
	/* The GPU goes away while the process still maps its pages. */
	nouveau_dmem_fini(&drm);
	step(mm, 9, "eviction (fini) and unmap:");
	EXPECT_EQ(memremap_mapped_pgmaps(), 0);		/* unmapped */
	EXPECT_EQ(memremap_dma_live(), 0);
	EXPECT_EQ(gpu.live_bos, 0);
	EXPECT_EQ(gpu.copies, n + 1 + (n - 1));
	EXPECT_EQ(gpu.faults, 0);
	for (i = 0; i < n; i++) {
		expect_in_ram(mm, i, i == 9 ? 0xc0ffee : i * 7 + 3);
		/* Unmapping them for eviction cleared the GPU's view. */
		EXPECT_EQ(svmm.pte[i], NVIF_VMM_PFNMAP_V0_NONE);
	}
	EXPECT_EQ(memremap_system_pages_live(), sys + n);
	teardown(mm);
	EXPECT_EQ(memremap_system_pages_live(), sys);
	EXPECT_EQ(memremap_ledger_count(), 0);
	EXPECT_WARNS(0);
}

/*
 * More than SG_MAX_SINGLE_ALLOC pages, with holes: two migrate_vma
 * batches; a hole becomes a VRAM page the copy engine clears.
 */
KTAP_CASE(batches_and_holes)
{
	unsigned long n = 160, i, holes = 0;
	struct mm_struct *mm = setup(0);
	struct nouveau_dmem_chunk *chunk;

	/* Every 16th page is never touched. */
	for (i = 0; i < n; i++) {
		if (i % 16 == 0) {
			holes++;
			continue;
		}
		proc_write(mm, SVM_BASE + i * PAGE_SIZE, i * 7 + 3);
	}
	nouveau_dmem_init(&drm);
	EXPECT_EQ(bind(0, n), 0);
	chunk = chunk_nr(0);
	step(mm, 0, "160 pages (10 holes) to VRAM:");
	EXPECT_EQ(chunk->callocated, n);
	EXPECT_EQ(memremap_pgmap_pins(&chunk->pagemap), n);
	for (i = 0; i < n; i++)
		expect_on_device(mm, i, i % 16 ? i * 7 + 3 : 0);
	EXPECT_EQ(gpu.copies, n);		/* n - holes copies, holes clears */
	EXPECT_EQ(holes, 10);
	EXPECT_EQ(memremap_dma_live(), 0);
	nouveau_dmem_fini(&drm);
	for (i = 0; i < n; i++)
		EXPECT_EQ(cpu_read(mm, i), i % 16 ? i * 7 + 3 : 0);
	teardown(mm);
	EXPECT_EQ(memremap_ledger_count(), 0);
	EXPECT_WARNS(0);
}

KTAP_CASE(a_second_chunk_when_the_free_list_is_empty)
{
	unsigned long n = 4, i;
	struct mm_struct *mm = setup(n);
	struct nouveau_dmem_chunk *first, *second;
	unsigned long regions = memremap_iomem_regions();

	nouveau_dmem_init(&drm);
	bind(0, 2);
	first = chunk_nr(0);
	/* Pretend the first chunk's free pages are all taken. */
	drm.dmem->free_pages = NULL;
	bind(2, 2);
	second = chunk_nr(1);
	EXPECT_NOT_NULL(second);
	EXPECT_EQ(first->callocated, 2);
	EXPECT_EQ(second->callocated, 2);
	EXPECT_EQ(memremap_pgmap_pins(&second->pagemap), 2);
	EXPECT_EQ(memremap_iomem_regions(), regions + 2);
	EXPECT_NE(first->bo->offset, second->bo->offset);
	for (i = 0; i < n; i++)
		expect_on_device(mm, i, i * 7 + 3);
	nouveau_dmem_fini(&drm);
	for (i = 0; i < n; i++)
		expect_in_ram(mm, i, i * 7 + 3);
	EXPECT_EQ(memremap_mapped_pgmaps(), 0);
	teardown(mm);
	EXPECT_EQ(memremap_ledger_count(), 0);
	EXPECT_WARNS(0);
}

KTAP_CASE(no_copy_engine_no_dmem)
{
	struct mm_struct *mm = setup(2);

	drm.has_copy_engine = false;
	nouveau_dmem_init(&drm);
	EXPECT_NULL(drm.dmem);
	EXPECT_EQ(bind(0, 2), -ENODEV);
	expect_in_ram(mm, 1, 10);
	nouveau_dmem_fini(&drm);
	teardown(mm);
	EXPECT_EQ(memremap_ledger_count(), 0);
	EXPECT_WARNS(0);
}

/* The kernel helpers this program brought into the headers. */
KTAP_CASE(numa_node_id_and_page_size)
{
	struct mm_struct *mm = setup(1);
	struct page *page;

	EXPECT_EQ(numa_node_id(), 0);
	memremap_mm_entry(mm, SVM_BASE, &page, NULL);
	EXPECT_EQ(page_size(page), PAGE_SIZE);
	nouveau_dmem_init(&drm);
	bind(0, 1);
	memremap_mm_entry(mm, SVM_BASE, &page, NULL);
	EXPECT_TRUE(is_device_private_page(page));
	EXPECT_EQ(page_size(page), PAGE_SIZE);
	nouveau_dmem_fini(&drm);
	teardown(mm);
	EXPECT_EQ(memremap_ledger_count(), 0);
	EXPECT_WARNS(0);
}

/* The whole flow: migrate @n, fault page 1 back, fini. */
static void whole_flow(struct mm_struct *mm, unsigned long n)
{
	nouveau_dmem_init(&drm);
	bind(0, n);
	cpu_read(mm, 1);
	nouveau_dmem_fini(&drm);
}

/* Pages of the process whose data is not what setup() wrote. */
static unsigned long pages_lost(struct mm_struct *mm, unsigned long n)
{
	unsigned long i, lost = 0;

	for (i = 0; i < n; i++)
		lost += cpu_read(mm, i) != i * 7 + 3;
	return lost;
}

/*
 * Every allocation of init, the migration, the fault and fini fails in
 * turn: whatever did not move stays a system page; eviction's
 * __GFP_NOFAIL allocations retry; nothing is lost or leaked.
 */
KTAP_CASE(allocation_failures_at_every_site)
{
	unsigned long nth, n = 6;
	bool hit = true;

	memremap_warn_quiet(true);
	for (nth = 1; hit && nth < 400; nth++) {
		struct mm_struct *mm = setup(n);
		unsigned long injected = memremap_kmalloc_injected();

		memremap_kmalloc_fail_nth(nth);
		whole_flow(mm, n);
		memremap_kmalloc_fail_nth(0);
		hit = memremap_kmalloc_injected() != injected;
		EXPECT_EQ(pages_lost(mm, n), 0);
		EXPECT_EQ(memremap_mapped_pgmaps(), 0);
		EXPECT_EQ(memremap_dma_live(), 0);
		EXPECT_EQ(gpu.live_bos, 0);
		EXPECT_EQ(gpu.faults, 0);
		teardown(mm);
		EXPECT_EQ(memremap_ledger_count(), 0);
	}
	memremap_warn_quiet(false);
	printf("    # %lu allocations failed in turn\n", nth - 2);
	EXPECT_FALSE(hit);			/* every site was reached */
	EXPECT_WARNS(0);
}

/*
 * Every dma_map_page() fails in turn. The flow maps n pages to VRAM, one
 * for the fault on page 1, and n - 1 in eviction, in pfn order. A failed
 * map to VRAM leaves that page in RAM. The fault's is VM_FAULT_SIGBUS and
 * loses page 1's data (see below). Eviction's loses that page's data, as
 * the kernel's nouveau_dmem_evict_chunk() ignores a failed copy (that
 * page is never read here: it holds what the allocator left,
 * uninitialised). Both losses are the 6.15 driver's behaviour.
 */
KTAP_CASE(dma_mapping_failures_at_every_site)
{
	unsigned long nth, n = 6, sigbus = 0, lost_runs = 0;

	for (nth = 1; nth <= 2 * n + 1; nth++) {
		struct mm_struct *mm = setup(n);
		unsigned long i, to_vram, lost = ~0UL, rank = 0;
		unsigned long dpfn[6];
		bool failed_fault;

		nouveau_dmem_init(&drm);
		memremap_dma_fail_nth(nth);
		bind(0, n);
		to_vram = chunk_nr(0) ? chunk_nr(0)->callocated : 0;
		failed_fault = cpu_read(mm, 1) == ~0UL;
		sigbus += failed_fault;
		for (i = 0; i < n; i++) {
			struct page *page;

			dpfn[i] = ~0UL;
			if (memremap_mm_entry(mm, SVM_BASE + i * PAGE_SIZE,
					      &page, NULL) == MEMREMAP_PTE_SWAP)
				dpfn[i] = page_to_pfn(page);
		}
		nouveau_dmem_fini(&drm);
		memremap_dma_fail_nth(0);
		if (nth > n + 1 && nth <= 2 * n) {
			/* The (nth - n - 1)-th page evicted, by pfn. */
			for (i = 0; i < n; i++) {
				unsigned long j, below = 0;

				for (j = 0; j < n; j++)
					below += dpfn[j] < dpfn[i];
				if (dpfn[i] != ~0UL &&
				    below == nth - n - 2)
					lost = i;
			}
			EXPECT_NE(lost, ~0UL);
			lost_runs += lost != ~0UL;
			/* That page's copy was never queued. */
			EXPECT_EQ(gpu.copies, 2 * n - 1);
		} else if (nth <= n) {
			/* One page less to VRAM, so one less to evict. */
			EXPECT_EQ(gpu.copies, 2 * n - 2);
		} else if (nth == n + 1) {
			/*
			 * The fault's copy failed after dst was filled in:
			 * without migrate_vma_pages(), migrate_vma_finalize()
			 * still finds src MIGRATE and dst set and maps dst,
			 * the zeroed new page. The data is gone, page 1 reads
			 * 0, and there is one page less to evict.
			 */
			EXPECT_EQ(gpu.copies, 2 * n - 1);
			EXPECT_EQ(cpu_read(mm, 1), 0);
			lost = 1;
			lost_runs++;
		} else {
			EXPECT_EQ(gpu.copies, 2 * n);
		}
		EXPECT_EQ(to_vram, nth <= n ? n - 1 : n);
		EXPECT_EQ(failed_fault, nth == n + 1);
		for (i = 0; i < n; i++) {
			if (i == lost)
				continue;
			rank += cpu_read(mm, i) == i * 7 + 3;
		}
		EXPECT_EQ(rank, lost == ~0UL ? n : n - 1);
		EXPECT_EQ(memremap_mapped_pgmaps(), 0);
		EXPECT_EQ(memremap_dma_live(), 0);
		EXPECT_EQ(gpu.faults, 0);
		teardown(mm);
		EXPECT_EQ(memremap_ledger_count(), 0);
	}
	printf("    # %lu mappings failed in turn: %lu faults SIGBUS, "
	       "%lu runs lost a page\n", 2 * n, sigbus, lost_runs);
	EXPECT_EQ(sigbus, 1);
	EXPECT_EQ(lost_runs, n);
	EXPECT_WARNS(0);
}

/*
 * The flow takes no percpu_ref_tryget(): zone_device_page_init() takes
 * its pin with percpu_ref_tryget_live() on a live pgmap, and the fault
 * path references the page, not the pgmap. An injected tryget failure
 * armed across the whole flow changes nothing.
 */
KTAP_CASE(no_tryget_in_the_flow)
{
	unsigned long n = 4;
	struct mm_struct *mm = setup(n);

	memremap_percpu_tryget_fail_nth(1);
	whole_flow(mm, n);
	memremap_fail_none();
	EXPECT_EQ(pages_lost(mm, n), 0);
	EXPECT_EQ(gpu.copies, n + 1 + (n - 1));
	EXPECT_EQ(memremap_mapped_pgmaps(), 0);
	teardown(mm);
	EXPECT_EQ(memremap_ledger_count(), 0);
	EXPECT_WARNS(0);
}

/*
 * Eviction's last loop as 6.15 has it: every one of the pgmap's slots is
 * dma_unmap_page()d. The chunk's range is a whole 128 MiB section, so
 * 32768 slots; those of pages not in use hold 0 from kvcalloc(), never a
 * mapping, and each such unmap is one DMA-API complaint ("device driver
 * tries to free DMA memory it has not allocated"). The data still moves.
 */
KTAP_CASE(eviction_unmap_as_6_15_writes_it)
{
	unsigned long n = 3, i, slots = (1UL << PA_SECTION_SHIFT) >> PAGE_SHIFT;
	struct mm_struct *mm = setup(n);
	struct memremap_warn_record w;

	nouveau_dmem_init(&drm);
	bind(0, n);
	memremap_warn_quiet(true);
	nouveau_evict_unmaps_every_slot = true;
	nouveau_dmem_fini(&drm);
	nouveau_evict_unmaps_every_slot = false;
	memremap_warn_quiet(false);
	EXPECT_WARNS(slots - n);
	EXPECT_TRUE(memremap_warn_last(&w));
	EXPECT_TRUE(strstr(w.message, "has not allocated") != NULL);
	printf("    # %lu unmaps of addresses never mapped\n", ktap_warns());
	for (i = 0; i < n; i++)
		expect_in_ram(mm, i, i * 7 + 3);
	EXPECT_EQ(memremap_dma_live(), 0);
	EXPECT_EQ(memremap_mapped_pgmaps(), 0);
	teardown(mm);
	EXPECT_EQ(memremap_ledger_count(), 0);
}

KTAP_MAIN("driver_nouveau_dmem",
	  KTAP_ENTRY(migrate_to_vram_then_exit),
	  KTAP_ENTRY(cpu_fault_brings_a_page_back),
	  KTAP_ENTRY(fini_evicts_pages_still_in_use),
	  KTAP_ENTRY(batches_and_holes),
	  KTAP_ENTRY(a_second_chunk_when_the_free_list_is_empty),
	  KTAP_ENTRY(no_copy_engine_no_dmem),
	  KTAP_ENTRY(numa_node_id_and_page_size),
	  KTAP_ENTRY(allocation_failures_at_every_site),
	  KTAP_ENTRY(dma_mapping_failures_at_every_site),
	  KTAP_ENTRY(no_tryget_in_the_flow),
	  KTAP_ENTRY(eviction_unmap_as_6_15_writes_it))
