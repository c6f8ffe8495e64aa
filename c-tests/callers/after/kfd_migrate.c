// SPDX-License-Identifier: GPL-2.0-only
/*
 * drivers/gpu/drm/amd/amdkfd/kfd_migrate.c after the patch: the lines of
 * its three hunks in pgmap_request_folio.patch (@@ -215,15 +215,17 @@,
 * @@ -298,6 +300,7 @@, @@ -327,7 +330,8 @@), '+' and context, verbatim
 * but for white space.
 *
 * Ours, written to Linux 6.1's behaviour (docs/DESIGN.md §4): the includes,
 * the head of svm_migrate_addr_to_pfn(), and the rest of
 * svm_migrate_copy_to_vram() around its hunks (the cursor walk, batching,
 * the DMA error check and the error path that puts back every VRAM page
 * taken). The driver-side neighbours, ours and the same in both versions,
 * live in common/ and are included where they stand: common/kfd_migrate.h
 * (svm_migrate_put_vram_page(), a GART copy that hands the work to the
 * mocked SDMA engine) and common/kfd_migrate_tail.h (the page_free op,
 * svm_migrate_init()/svm_migrate_fini(), the export section). The device,
 * range, buffer object and cursor are driver mocks (mocks/kfd_priv.h);
 * migrate_vma and DMA are the library's (linux/migrate.h,
 * linux/dma-mapping.h).
 */
#include <linux/pagemap.h>
#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/err.h>
#include <linux/printk.h>
#include "kfd_priv.h"

static unsigned long
svm_migrate_addr_to_pfn(struct amdgpu_device *adev, unsigned long addr)
{
	return (addr + adev->kfd.dev->pgmap.range.start) >> PAGE_SHIFT;
}

static void svm_migrate_get_vram_page(struct dev_pagemap *pgmap,
				      struct svm_range *prange,
				      unsigned long pfn)
{
	struct folio *folio;
	struct page *page;

	folio = pgmap_request_folio(pgmap, pfn_to_pgmap_offset(pgmap, pfn), 0);
	page = &folio->page;
	svm_range_bo_ref(prange->svm_bo);
	page->zone_device_data = prange->svm_bo;
	lock_page(page);
}

#include "../common/kfd_migrate.h"

static int
svm_migrate_copy_to_vram(struct amdgpu_device *adev, struct svm_range *prange,
			 struct migrate_vma *migrate, struct dma_fence **mfence,
			 dma_addr_t *scratch)
{
	struct kfd_dev *kfddev = adev->kfd.dev;
	uint64_t npages = migrate->npages;
	struct device *dev = adev->dev;
	struct amdgpu_res_cursor cursor;
	dma_addr_t *src;
	uint64_t *dst;
	uint64_t i, j, k;
	int r = 0;

	pr_debug("svms 0x%p [0x%lx 0x%lx]\n", prange->svms, prange->start,
		 prange->last);

	/* Scratch holds npages DMA addresses, then npages VRAM offsets. */
	src = scratch;
	dst = (uint64_t *)(scratch + npages);

	amdgpu_res_first(prange->ttm_res, prange->offset << PAGE_SHIFT,
			 npages << PAGE_SHIFT, &cursor);
	for (i = j = 0; i < npages; i++) {
		struct page *spage;

		spage = migrate_pfn_to_page(migrate->src[i]);
		if (spage && !is_zone_device_page(spage)) {
			dst[i] = cursor.start + (j << PAGE_SHIFT);
			migrate->dst[i] = svm_migrate_addr_to_pfn(adev, dst[i]);
			svm_migrate_get_vram_page(&kfddev->pgmap, prange,
						  migrate->dst[i]);
			migrate->dst[i] = migrate_pfn(migrate->dst[i]);
			src[i] = dma_map_page(dev, spage, 0, PAGE_SIZE,
					      DMA_TO_DEVICE);
			r = dma_mapping_error(dev, src[i]);
			if (r) {
				dev_err(dev, "%s: fail %d dma_map_page\n",
					__func__, r);
				goto out_free_vram_pages;
			}
		} else {
			/*
			 * Nothing to move here: copy the batch so far, and
			 * leave this VRAM page out.
			 */
			if (j) {
				r = svm_migrate_copy_memory_gart(adev,
						src + i - j, dst + i - j, j,
						FROM_RAM_TO_VRAM, mfence);
				if (r)
					goto out_free_vram_pages;
				amdgpu_res_next(&cursor, (j + 1) << PAGE_SHIFT);
				j = 0;
			} else {
				amdgpu_res_next(&cursor, PAGE_SIZE);
			}
			continue;
		}

		/* The VRAM block ends with this page: copy the batch. */
		if (j >= (cursor.size >> PAGE_SHIFT) - 1 && i < npages - 1) {
			r = svm_migrate_copy_memory_gart(adev, src + i - j,
							 dst + i - j, j + 1,
							 FROM_RAM_TO_VRAM,
							 mfence);
			if (r)
				goto out_free_vram_pages;
			amdgpu_res_next(&cursor, (j + 1) * PAGE_SIZE);
			j = 0;
		} else {
			j++;
		}
	}

	r = svm_migrate_copy_memory_gart(adev, src + i - j, dst + i - j, j,
					 FROM_RAM_TO_VRAM, mfence);

out_free_vram_pages:
	if (r) {
		pr_debug("failed %d to copy memory to vram\n", r);
		/* Put back every VRAM page taken, the failing one included. */
		for (k = 0; k <= i && k < npages; k++) {
			if (!migrate->dst[k])
				continue;
			svm_migrate_put_vram_page(adev, dst[k]);
			migrate->dst[k] = 0;
		}
	}

	return r;
}

#include "../common/kfd_migrate_tail.h"
