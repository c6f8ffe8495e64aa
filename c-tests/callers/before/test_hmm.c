// SPDX-License-Identifier: GPL-2.0-only
/*
 * lib/test_hmm.c before the patch: the lines of its two hunks in
 * pgmap_request_folio.patch (@@ -605,8 +605,11 @@ and
 * @@ -632,7 +635,11 @@), '-' and context, verbatim but for white space.
 *
 * Ours, written to Linux 6.1's behaviour (docs/DESIGN.md §4): the includes,
 * the rest of the comment and the lines between the hunks (the backing
 * page, the free list, a new chunk), and the error path after them. The
 * driver-side neighbours, ours and the same in both versions, live in
 * common/ and are included where they stand: common/test_hmm.h (the chunk
 * type and size, the page_free and fault ops, dmirror_allocate_chunk())
 * and common/test_hmm_tail.h (dmirror_device_remove_chunks(), the export
 * section). struct dmirror_device is a mock (mocks/test_hmm_mock.h); the
 * system pages are the library's (linux/gfp.h).
 */
#include <linux/pagemap.h>
#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/err.h>
#include "test_hmm_mock.h"

#include "../common/test_hmm.h"

static struct page *dmirror_devmem_alloc_page(struct dmirror_device *mdevice)
{
	struct page *dpage = NULL;
	struct page *rpage = NULL;

	/*
	 * For ZONE_DEVICE private type, this is a fake device so we allocate
	 * a page of system memory to hold the data the device page stands
	 * for; the coherent type keeps its data in the device page itself.
	 */
	if (dmirror_is_private_zone(mdevice)) {
		rpage = alloc_page(GFP_HIGHUSER);
		if (!rpage)
			return NULL;
	}
	spin_lock(&mdevice->lock);

	if (mdevice->free_pages) {
		dpage = mdevice->free_pages;
		mdevice->free_pages = dpage->zone_device_data;
		mdevice->calloc++;
		spin_unlock(&mdevice->lock);
	} else {
		spin_unlock(&mdevice->lock);
		if (dmirror_allocate_chunk(mdevice, &dpage))
			goto error;
	}

	pgmap_request_folios(dpage->pgmap, page_folio(dpage), 1);
	lock_page(dpage);
	dpage->zone_device_data = rpage;
	return dpage;

error:
	if (rpage)
		__free_page(rpage);
	return NULL;
}

#include "../common/test_hmm_tail.h"
