/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Ours, not the kernel's lines, shared by both versions of
 * drivers/gpu/drm/amd/amdkfd/kfd_migrate.c: what stands between
 * svm_migrate_get_vram_page() and svm_migrate_copy_to_vram(), the same
 * before and after the patch (svm_migrate_put_vram_page() and the GART
 * copy that hands the work to the mocked SDMA engine). A fragment, not a
 * header: after/kfd_migrate.c and before/kfd_migrate.c include it once, in
 * this place; the rest of the driver is in kfd_migrate_tail.h.
 */

/* Undo svm_migrate_get_vram_page() for the VRAM page at @addr. */
static void
svm_migrate_put_vram_page(struct amdgpu_device *adev, unsigned long addr)
{
	struct page *page;

	page = pfn_to_page(svm_migrate_addr_to_pfn(adev, addr));
	unlock_page(page);
	put_page(page);
}

/*
 * Copy @npages pages between system memory (@sys, DMA addresses) and VRAM
 * (@vram, VRAM offsets) with the SDMA engine; the fence of the last job
 * goes to @mfence.
 */
static int
svm_migrate_copy_memory_gart(struct amdgpu_device *adev, dma_addr_t *sys,
			     uint64_t *vram, uint64_t npages,
			     enum MIGRATION_COPY_DIR direction,
			     struct dma_fence **mfence)
{
	if (!npages)
		return 0;
	return amdgpu_sdma_copy(adev, sys, vram, npages, direction, mfence);
}
