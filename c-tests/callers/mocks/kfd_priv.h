/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Mocks for drivers/gpu/drm/amd/amdkfd/kfd_migrate.c (ours, not kernel
 * code): the device (amdgpu_device with its kfd_dev, which embeds the
 * pgmap), the SVM range and its refcounted buffer object, the VRAM
 * resource and its cursor, the SDMA copy engine, and the table a caller
 * object exports to the tests. migrate_vma and its pfn encoding are the
 * library's (linux/migrate.h).
 */
#ifndef _CALLERS_KFD_PRIV_H
#define _CALLERS_KFD_PRIV_H

#include <linux/types.h>
#include <linux/atomic.h>
#include <linux/device.h>
#include <linux/kernel.h>
#include <linux/memremap.h>
#include <linux/migrate.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/string.h>
#include "mock_common.h"

/* ---- the device ---- */

struct kfd_dev {
	struct dev_pagemap pgmap;
};

struct amdgpu_device {
	struct device *dev;
	struct {
		struct kfd_dev *dev;
	} kfd;
	struct {
		u64 real_vram_size;
	} gmc;
	/* The mocked SDMA engine's record: jobs run, pages copied to VRAM. */
	unsigned long sdma_jobs;
	unsigned long sdma_pages_to_vram;
};

enum MIGRATION_COPY_DIR {
	FROM_RAM_TO_VRAM = 0,
	FROM_VRAM_TO_RAM,
};

struct dma_fence;

/*
 * The SDMA copy: a job is kmalloc()ed for each call (as the driver's
 * amdgpu_job_alloc_with_ib() does), so an injected allocation failure
 * fails the copy with -ENOMEM.
 */
int amdgpu_sdma_copy(struct amdgpu_device *adev, dma_addr_t *sys,
		     uint64_t *vram, uint64_t npages,
		     enum MIGRATION_COPY_DIR direction,
		     struct dma_fence **mfence);

/* ---- SVM ranges and their buffer objects ---- */

struct svm_range_bo {
	atomic_t refcount;
};

/* svm_range_bo_unref_async() calls, and buffer objects released. */
extern unsigned long mock_svm_bo_unrefs;
extern unsigned long mock_svm_bo_released;

/* A buffer object holding one reference (the range's); NULL on failure. */
struct svm_range_bo *mock_svm_range_bo_alloc(void);

static inline void svm_range_bo_ref(struct svm_range_bo *svm_bo)
{
	if (svm_bo)
		atomic_inc(&svm_bo->refcount);
}

/* The driver defers the release to a worker; here it happens at once. */
void svm_range_bo_unref_async(struct svm_range_bo *svm_bo);

static inline int svm_range_bo_refcount(struct svm_range_bo *svm_bo)
{
	return atomic_read(&svm_bo->refcount);
}

/* VRAM backing a range: up to four blocks, byte offsets into VRAM. */
struct ttm_resource {
	unsigned int nr_blocks;
	struct {
		u64 start;
		u64 size;
	} blocks[4];
};

struct svm_range {
	void *svms;
	unsigned long start;
	unsigned long last;
	struct svm_range_bo *svm_bo;
	struct ttm_resource *ttm_res;
	/* First page of the range within ttm_res. */
	u64 offset;
};

/* ---- amdgpu_res_cursor.h ---- */

struct amdgpu_res_cursor {
	u64 start;	/* VRAM offset of the cursor */
	u64 size;	/* bytes left in the current block */
	u64 remaining;	/* bytes left in the walk */
	struct ttm_resource *res;
	unsigned int block;
};

static inline void amdgpu_res_first(struct ttm_resource *res, u64 start,
				    u64 size, struct amdgpu_res_cursor *cur)
{
	unsigned int b = 0;

	while (b < res->nr_blocks && start >= res->blocks[b].size)
		start -= res->blocks[b++].size;
	cur->res = res;
	cur->block = b;
	cur->remaining = size;
	if (b == res->nr_blocks) {
		cur->start = 0;
		cur->size = 0;
		return;
	}
	cur->start = res->blocks[b].start + start;
	cur->size = min(res->blocks[b].size - start, size);
}

static inline void amdgpu_res_next(struct amdgpu_res_cursor *cur, u64 size)
{
	cur->remaining -= min(size, cur->remaining);
	while (size && cur->size) {
		u64 step = min(size, cur->size);

		cur->start += step;
		cur->size -= step;
		size -= step;
		if (!cur->size && ++cur->block < cur->res->nr_blocks) {
			cur->start = cur->res->blocks[cur->block].start;
			cur->size = min(cur->res->blocks[cur->block].size,
					cur->remaining);
		}
	}
}

/* ---- kfd_migrate.h ---- */

int svm_migrate_init(struct amdgpu_device *adev);
void svm_migrate_fini(struct amdgpu_device *adev);

/* What a caller object exports (its CALLER_API). */
struct kfd_migrate_api {
	const char *version;
	int (*init)(struct amdgpu_device *adev);
	void (*fini)(struct amdgpu_device *adev);
	int (*copy_to_vram)(struct amdgpu_device *adev,
			    struct svm_range *prange,
			    struct migrate_vma *migrate,
			    struct dma_fence **mfence, dma_addr_t *scratch);
	void (*put_vram_page)(struct amdgpu_device *adev, unsigned long addr);
	unsigned long (*addr_to_pfn)(struct amdgpu_device *adev,
				     unsigned long addr);
	const struct dev_pagemap_ops *pgmap_ops;
};

extern const struct kfd_migrate_api kfd_after, kfd_before;

#endif /* _CALLERS_KFD_PRIV_H */
