/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Mocks for lib/test_hmm.c (ours, not kernel code): the uapi memory
 * types, the mirror device (a struct in the kernel's file; here the tests
 * read its counters and free list), its chunks, and the table a caller
 * object exports to the tests. System pages come from the library's page
 * allocator (linux/gfp.h).
 */
#ifndef _CALLERS_TEST_HMM_MOCK_H
#define _CALLERS_TEST_HMM_MOCK_H

#include <linux/types.h>
#include <linux/device.h>
#include <linux/memremap.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include "mock_common.h"

/*
 * lib/test_hmm_uapi.h: the kernel's values. 0 is left unused, so that a
 * device whose type was never set is refused (dmirror_allocate_chunk()'s
 * default case) rather than taken for a private one.
 */
enum {
	HMM_DMIRROR_MEMORY_DEVICE_PRIVATE = 1,
	HMM_DMIRROR_MEMORY_DEVICE_COHERENT,
};

struct dmirror_chunk {
	struct dev_pagemap pagemap;
	struct dmirror_device *mdevice;
};

struct dmirror_device {
	unsigned int zone_device_type;
	struct device device;
	/* Physical address of the coherent device's memory. */
	resource_size_t spm_addr;

	unsigned int devmem_capacity;
	unsigned int devmem_count;
	struct dmirror_chunk **devmem_chunks;
	struct mutex devmem_lock;	/* protects the above */

	unsigned long calloc;
	unsigned long cfree;
	struct page *free_pages;
	spinlock_t lock;		/* protects the above */
};

/* What a caller object exports (its CALLER_API). */
struct dmirror_api {
	const char *version;
	struct page *(*alloc_page)(struct dmirror_device *mdevice);
	int (*allocate_chunk)(struct dmirror_device *mdevice,
			      struct page **ppage);
	void (*remove_chunks)(struct dmirror_device *mdevice);
	unsigned long chunk_size;
};

extern const struct dmirror_api dmirror_after, dmirror_before;

#endif /* _CALLERS_TEST_HMM_MOCK_H */
