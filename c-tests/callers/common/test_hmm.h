/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Ours, not the kernel's lines, shared by both versions of lib/test_hmm.c: what
 * stands before dmirror_devmem_alloc_page(), the same before and after the
 * patch (the chunk size, the page_free and fault ops,
 * dmirror_allocate_chunk()). A fragment, not a header: after/test_hmm.c
 * and before/test_hmm.c include it once, in this place, after their
 * includes; the rest of the driver is in test_hmm_tail.h.
 */

/* Each chunk of device memory is 256 MiB; the chunk array grows by 16. */
#define DEVMEM_CHUNK_SIZE		(256 * 1024 * 1024U)
#define DEVMEM_CHUNKS_RESERVE		16

/*
 * A DEVICE_PRIVATE page is backed by a system page the driver keeps in
 * zone_device_data; a DEVICE_COHERENT page holds its data itself.
 */
#define BACKING_PAGE(page) (is_device_private_page((page)) ? \
			   (page)->zone_device_data : (page))

static bool dmirror_is_private_zone(struct dmirror_device *mdevice)
{
	return mdevice->zone_device_type ==
		HMM_DMIRROR_MEMORY_DEVICE_PRIVATE;
}

static struct dmirror_device *dmirror_page_to_device(struct page *page)
{
	return container_of(page->pgmap, struct dmirror_chunk,
			    pagemap)->mdevice;
}

/* The last reference is gone: free the backing page, back on the list. */
static void dmirror_devmem_free(struct page *page)
{
	struct page *rpage = BACKING_PAGE(page);
	struct dmirror_device *mdevice;

	if (rpage && rpage != page)
		__free_page(rpage);

	mdevice = dmirror_page_to_device(page);
	spin_lock(&mdevice->lock);
	mdevice->cfree++;
	page->zone_device_data = mdevice->free_pages;
	mdevice->free_pages = page;
	spin_unlock(&mdevice->lock);
}

/* CPU faults on device pages migrate back to RAM: not modelled. */
static vm_fault_t dmirror_devmem_fault(struct vm_fault *vmf)
{
	return VM_FAULT_SIGBUS;
}

static const struct dev_pagemap_ops dmirror_devmem_ops = {
	.page_free	= dmirror_devmem_free,
	.migrate_to_ram	= dmirror_devmem_fault,
};

/*
 * Map one more chunk of device memory and put its pages on the free list;
 * with @ppage, take one page off the list for the caller.
 */
static int dmirror_allocate_chunk(struct dmirror_device *mdevice,
				  struct page **ppage)
{
	struct dmirror_chunk *devmem;
	struct resource *res = NULL;
	unsigned long pfn;
	unsigned long pfn_first;
	unsigned long pfn_last;
	void *ptr;
	int ret = -ENOMEM;

	devmem = kzalloc(sizeof(*devmem), GFP_KERNEL);
	if (!devmem)
		return ret;

	switch (mdevice->zone_device_type) {
	case HMM_DMIRROR_MEMORY_DEVICE_PRIVATE:
		res = request_free_mem_region(&iomem_resource,
					      DEVMEM_CHUNK_SIZE, "hmm_dmirror");
		if (IS_ERR_OR_NULL(res))
			goto err_devmem;
		devmem->pagemap.range.start = res->start;
		devmem->pagemap.range.end = res->end;
		devmem->pagemap.type = MEMORY_DEVICE_PRIVATE;
		break;
	case HMM_DMIRROR_MEMORY_DEVICE_COHERENT:
		/* The device's own memory, at the address it was given. */
		devmem->pagemap.range.start = mdevice->spm_addr;
		devmem->pagemap.range.end = mdevice->spm_addr +
					    DEVMEM_CHUNK_SIZE - 1;
		devmem->pagemap.type = MEMORY_DEVICE_COHERENT;
		break;
	default:
		ret = -EINVAL;
		goto err_devmem;
	}

	devmem->pagemap.nr_range = 1;
	devmem->pagemap.ops = &dmirror_devmem_ops;
	devmem->pagemap.owner = mdevice;

	mutex_lock(&mdevice->devmem_lock);

	if (mdevice->devmem_count == mdevice->devmem_capacity) {
		struct dmirror_chunk **new_chunks;
		unsigned int new_capacity;

		new_capacity = mdevice->devmem_capacity +
				DEVMEM_CHUNKS_RESERVE;
		new_chunks = kcalloc(new_capacity, sizeof(new_chunks[0]),
				     GFP_KERNEL);
		if (!new_chunks)
			goto err_release;
		if (mdevice->devmem_count)
			memcpy(new_chunks, mdevice->devmem_chunks,
			       mdevice->devmem_count * sizeof(new_chunks[0]));
		kfree(mdevice->devmem_chunks);
		mdevice->devmem_capacity = new_capacity;
		mdevice->devmem_chunks = new_chunks;
	}
	ptr = memremap_pages(&devmem->pagemap, numa_node_id());
	if (IS_ERR_OR_NULL(ptr)) {
		if (ptr)
			ret = PTR_ERR(ptr);
		else
			ret = -EFAULT;
		goto err_release;
	}

	devmem->mdevice = mdevice;
	pfn_first = devmem->pagemap.range.start >> PAGE_SHIFT;
	pfn_last = pfn_first +
		   (range_len(&devmem->pagemap.range) >> PAGE_SHIFT);
	mdevice->devmem_chunks[mdevice->devmem_count++] = devmem;

	mutex_unlock(&mdevice->devmem_lock);

	spin_lock(&mdevice->lock);
	for (pfn = pfn_first; pfn < pfn_last; pfn++) {
		struct page *page = pfn_to_page(pfn);

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

err_release:
	mutex_unlock(&mdevice->devmem_lock);
	if (res && devmem->pagemap.type == MEMORY_DEVICE_PRIVATE)
		release_mem_region(devmem->pagemap.range.start,
				   range_len(&devmem->pagemap.range));
err_devmem:
	kfree(devmem);

	return ret;
}
