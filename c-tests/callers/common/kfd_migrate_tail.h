/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Ours, not the kernel's lines, shared by both versions of
 * drivers/gpu/drm/amd/amdkfd/kfd_migrate.c: what follows
 * svm_migrate_copy_to_vram(), the same before and after the patch (the
 * page_free op, svm_migrate_init(), svm_migrate_fini() and the export
 * section). A fragment, not a header: after/kfd_migrate.c and
 * before/kfd_migrate.c include it once, at their end.
 */

/* The last reference to a VRAM page is gone: drop its buffer object. */
static void svm_migrate_page_free(struct page *page)
{
	struct svm_range_bo *svm_bo = page->zone_device_data;

	if (svm_bo) {
		pr_debug("ref: %d\n", svm_range_bo_refcount(svm_bo));
		svm_range_bo_unref_async(svm_bo);
	}
}

/* CPU faults on VRAM pages migrate back to RAM: not modelled. */
static vm_fault_t svm_migrate_to_ram(struct vm_fault *vmf)
{
	return VM_FAULT_SIGBUS;
}

static const struct dev_pagemap_ops svm_migrate_pgmap_ops = {
	.page_free = svm_migrate_page_free,
	.migrate_to_ram = svm_migrate_to_ram,
};

/*
 * Register all of the device's VRAM as one DEVICE_PRIVATE pgmap, in free
 * physical address space; the pgmap goes with the device.
 */
int svm_migrate_init(struct amdgpu_device *adev)
{
	struct kfd_dev *kfddev = adev->kfd.dev;
	struct dev_pagemap *pgmap;
	struct resource *res;
	unsigned long size;
	void *r;

	pgmap = &kfddev->pgmap;
	memset(pgmap, 0, sizeof(*pgmap));

	size = ALIGN(adev->gmc.real_vram_size, 2ULL << 20);
	res = request_free_mem_region(&iomem_resource, size, "amdgpu_vram");
	if (IS_ERR(res))
		return -ENOMEM;

	pgmap->range.start = res->start;
	pgmap->range.end = res->end;
	pgmap->type = MEMORY_DEVICE_PRIVATE;
	pgmap->nr_range = 1;
	pgmap->ops = &svm_migrate_pgmap_ops;
	pgmap->owner = adev;
	pgmap->flags = 0;
	r = devm_memremap_pages(adev->dev, pgmap);
	if (IS_ERR(r)) {
		pr_err("failed to register HMM device memory\n");
		release_mem_region(res->start, resource_size(res));
		/* No SVM on this device. */
		pgmap->type = 0;
		return PTR_ERR(r);
	}
	return 0;
}

/* What the driver core does when the device goes away. */
void svm_migrate_fini(struct amdgpu_device *adev)
{
	struct dev_pagemap *pgmap = &adev->kfd.dev->pgmap;

	if (!pgmap->type)
		return;
	devm_memunmap_pages(adev->dev, pgmap);
	release_mem_region(pgmap->range.start, range_len(&pgmap->range));
	pgmap->type = 0;
}

/* ---- Export section (ours, not kernel code): what the tests reach. ---- */

const struct kfd_migrate_api CALLER_API = {
	.version = CALLER_VERSION,
	.init = svm_migrate_init,
	.fini = svm_migrate_fini,
	.copy_to_vram = svm_migrate_copy_to_vram,
	.put_vram_page = svm_migrate_put_vram_page,
	.addr_to_pfn = svm_migrate_addr_to_pfn,
	.pgmap_ops = &svm_migrate_pgmap_ops,
};
