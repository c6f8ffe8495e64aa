/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Ours, not the kernel's lines, shared by both versions of lib/test_hmm.c: what
 * follows dmirror_devmem_alloc_page(), the same before and after the patch
 * (dmirror_device_remove_chunks() and the export section). A fragment, not
 * a header: after/test_hmm.c and before/test_hmm.c include it once, at
 * their end.
 */

/* Unmap every chunk of the device (all its pages must be free). */
static void dmirror_device_remove_chunks(struct dmirror_device *mdevice)
{
	unsigned int i;

	mutex_lock(&mdevice->devmem_lock);
	for (i = 0; i < mdevice->devmem_count; i++) {
		struct dmirror_chunk *devmem = mdevice->devmem_chunks[i];

		memunmap_pages(&devmem->pagemap);
		if (devmem->pagemap.type == MEMORY_DEVICE_PRIVATE)
			release_mem_region(devmem->pagemap.range.start,
					   range_len(&devmem->pagemap.range));
		kfree(devmem);
	}
	mdevice->devmem_count = 0;
	mdevice->devmem_capacity = 0;
	mdevice->free_pages = NULL;
	kfree(mdevice->devmem_chunks);
	mdevice->devmem_chunks = NULL;
	mutex_unlock(&mdevice->devmem_lock);
}

/* ---- Export section (ours, not kernel code): what the tests reach. ---- */

const struct dmirror_api CALLER_API = {
	.version = CALLER_VERSION,
	.alloc_page = dmirror_devmem_alloc_page,
	.allocate_chunk = dmirror_allocate_chunk,
	.remove_chunks = dmirror_device_remove_chunks,
	.chunk_size = DEVMEM_CHUNK_SIZE,
};
