/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Ours, not the kernel's lines, shared by both versions of
 * arch/powerpc/kvm/book3s_hv_uvmem.c: what follows kvmppc_uvmem_get_page(),
 * the same before and after the patch (the page_free and migrate_to_ram
 * ops, kvmppc_uvmem_init(), kvmppc_uvmem_free() and the export section).
 * A fragment, not a header: after/book3s_hv_uvmem.c and
 * before/book3s_hv_uvmem.c include it once, at their end.
 */

/*
 * The last reference to a secure page is gone: give its pfn back to the
 * pool and tell the gfn state machine where the guest page lives now.
 */
static void kvmppc_uvmem_page_free(struct page *page)
{
	unsigned long pfn = page_to_pfn(page) -
			(kvmppc_uvmem_pgmap.range.start >> PAGE_SHIFT);
	struct kvmppc_uvmem_page_pvt *pvt;

	spin_lock(&kvmppc_uvmem_bitmap_lock);
	bitmap_clear(kvmppc_uvmem_bitmap, pfn, 1);
	spin_unlock(&kvmppc_uvmem_bitmap_lock);

	pvt = page->zone_device_data;
	page->zone_device_data = NULL;
	if (pvt->remove_gfn)
		kvmppc_gfn_remove(pvt->gpa >> PAGE_SHIFT, pvt->kvm);
	else
		kvmppc_gfn_secure_mem_pfn(pvt->gpa >> PAGE_SHIFT, pvt->kvm);
	kfree(pvt);
}

/* Page-out to the normal side is the ultravisor's job; not modelled. */
static vm_fault_t kvmppc_uvmem_migrate_to_ram(struct vm_fault *vmf)
{
	return VM_FAULT_SIGBUS;
}

static const struct dev_pagemap_ops kvmppc_uvmem_ops = {
	.page_free = kvmppc_uvmem_page_free,
	.migrate_to_ram = kvmppc_uvmem_migrate_to_ram,
};

/*
 * Register the secure memory as one DEVICE_PRIVATE pgmap and size the
 * bitmap of used pfns to it.
 */
int kvmppc_uvmem_init(void)
{
	unsigned long pfn_last, pfn_first;
	struct resource *res;
	unsigned long size;
	void *addr;
	int ret;

	size = kvmppc_get_secmem_size();
	if (!size)
		return 0;

	res = request_free_mem_region(&iomem_resource, size, "kvmppc_uvmem");
	if (IS_ERR(res))
		return PTR_ERR(res);

	kvmppc_uvmem_pgmap.type = MEMORY_DEVICE_PRIVATE;
	kvmppc_uvmem_pgmap.range.start = res->start;
	kvmppc_uvmem_pgmap.range.end = res->end;
	kvmppc_uvmem_pgmap.nr_range = 1;
	kvmppc_uvmem_pgmap.ops = &kvmppc_uvmem_ops;
	/* One global pgmap: it is its own owner. */
	kvmppc_uvmem_pgmap.owner = &kvmppc_uvmem_pgmap;
	addr = memremap_pages(&kvmppc_uvmem_pgmap, NUMA_NO_NODE);
	if (IS_ERR(addr)) {
		ret = PTR_ERR(addr);
		goto out_free_region;
	}

	pfn_first = res->start >> PAGE_SHIFT;
	pfn_last = pfn_first + (resource_size(res) >> PAGE_SHIFT);
	kvmppc_uvmem_bitmap = kcalloc(BITS_TO_LONGS(pfn_last - pfn_first),
				      sizeof(unsigned long), GFP_KERNEL);
	if (!kvmppc_uvmem_bitmap) {
		ret = -ENOMEM;
		goto out_unmap;
	}
	return 0;

out_unmap:
	memunmap_pages(&kvmppc_uvmem_pgmap);
out_free_region:
	release_mem_region(res->start, size);
	return ret;
}

void kvmppc_uvmem_free(void)
{
	if (!kvmppc_uvmem_bitmap)
		return;

	memunmap_pages(&kvmppc_uvmem_pgmap);
	release_mem_region(kvmppc_uvmem_pgmap.range.start,
			   range_len(&kvmppc_uvmem_pgmap.range));
	kfree(kvmppc_uvmem_bitmap);
	kvmppc_uvmem_bitmap = NULL;
}

/* ---- Export section (ours, not kernel code): what the tests reach. ---- */

static bool kvmppc_uvmem_pvt_of(struct page *page, struct kvm **kvm,
				unsigned long *gpa)
{
	struct kvmppc_uvmem_page_pvt *pvt = page->zone_device_data;

	if (!pvt)
		return false;
	*kvm = pvt->kvm;
	*gpa = pvt->gpa;
	return true;
}

static void kvmppc_uvmem_set_remove_gfn(struct page *page)
{
	struct kvmppc_uvmem_page_pvt *pvt = page->zone_device_data;

	pvt->remove_gfn = true;
}

const struct kvmppc_uvmem_api CALLER_API = {
	.version = CALLER_VERSION,
	.pgmap = &kvmppc_uvmem_pgmap,
	.bitmap = &kvmppc_uvmem_bitmap,
	.init = kvmppc_uvmem_init,
	.free = kvmppc_uvmem_free,
	.get_page = kvmppc_uvmem_get_page,
	.pvt_of = kvmppc_uvmem_pvt_of,
	.set_remove_gfn = kvmppc_uvmem_set_remove_gfn,
};
