// SPDX-License-Identifier: GPL-2.0-only
/* State behind mocks/kfd_priv.h (ours, not kernel code). */
#include <linux/bug.h>
#include <linux/slab.h>
#include "kfd_priv.h"

unsigned long mock_svm_bo_unrefs;
unsigned long mock_svm_bo_released;

/* An SDMA job: what the engine is told to do. */
struct mock_sdma_job {
	uint64_t npages;
	enum MIGRATION_COPY_DIR direction;
};

int amdgpu_sdma_copy(struct amdgpu_device *adev, dma_addr_t *sys,
		     uint64_t *vram, uint64_t npages,
		     enum MIGRATION_COPY_DIR direction,
		     struct dma_fence **mfence)
{
	struct mock_sdma_job *job;
	uint64_t i;

	(void)mfence;
	job = kzalloc(sizeof(*job), GFP_KERNEL);
	if (!job)
		return -ENOMEM;
	job->npages = npages;
	job->direction = direction;
	for (i = 0; i < npages; i++)
		WARN_ON(!sys[i] || dma_mapping_error(adev->dev, sys[i]) ||
			vram[i] >= adev->gmc.real_vram_size);
	adev->sdma_jobs++;
	if (direction == FROM_RAM_TO_VRAM)
		adev->sdma_pages_to_vram += npages;
	kfree(job);
	return 0;
}

struct svm_range_bo *mock_svm_range_bo_alloc(void)
{
	struct svm_range_bo *svm_bo = kzalloc(sizeof(*svm_bo), GFP_KERNEL);

	if (svm_bo)
		atomic_set(&svm_bo->refcount, 1);
	return svm_bo;
}

void svm_range_bo_unref_async(struct svm_range_bo *svm_bo)
{
	if (!svm_bo)
		return;
	mock_svm_bo_unrefs++;
	if (WARN_ON(atomic_read(&svm_bo->refcount) <= 0))
		return;
	if (atomic_dec_and_test(&svm_bo->refcount)) {
		mock_svm_bo_released++;
		kfree(svm_bo);
	}
}
