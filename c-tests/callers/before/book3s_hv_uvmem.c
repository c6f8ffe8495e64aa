// SPDX-License-Identifier: GPL-2.0-only
/*
 * arch/powerpc/kvm/book3s_hv_uvmem.c before the patch: the lines of its two
 * hunks in pgmap_request_folio.patch (@@ -689,12 +689,14 @@ and
 * @@ -716,9 +718,10 @@), '-' and context, verbatim but for white space.
 *
 * Ours, written to Linux 6.1's behaviour (docs/DESIGN.md §4): the includes,
 * the comment's opening, and the lines between and after the two hunks
 * (bitmap search under the lock, pvt allocation, the out_clear and out
 * paths). The driver-side neighbours, ours and the same in both versions,
 * live in common/ and are included where they stand:
 * common/book3s_hv_uvmem.h (the globals, the pvt) and
 * common/book3s_hv_uvmem_tail.h (the page_free and migrate_to_ram ops,
 * kvmppc_uvmem_init(), kvmppc_uvmem_free(), the export section). The gfn
 * state machine (kvmppc_gfn_*) and the secure memory size are driver mocks
 * (mocks/kvm_book3s_uvmem.h).
 */
#include <linux/pagemap.h>
#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/bitmap.h>
#include <linux/err.h>
#include "kvm_book3s_uvmem.h"

#include "../common/book3s_hv_uvmem.h"

/*
 * Take a free device pfn from the secure memory pool and make its page the
 * home of guest page @gpa: the pfn is marked used in the bitmap, the gfn is
 * marked secure, and the page is handed back locked, holding a reference.
 * NULL when the pool is empty or memory is short.
 */
static struct page *kvmppc_uvmem_get_page(unsigned long gpa, struct kvm *kvm)
{
	struct page *dpage = NULL;
	unsigned long bit, uvmem_pfn;
	struct kvmppc_uvmem_page_pvt *pvt;
	unsigned long pfn_last, pfn_first;

	pfn_first = kvmppc_uvmem_pgmap.range.start >> PAGE_SHIFT;
	pfn_last = pfn_first +
		   (range_len(&kvmppc_uvmem_pgmap.range) >> PAGE_SHIFT);

	spin_lock(&kvmppc_uvmem_bitmap_lock);
	bit = find_first_zero_bit(kvmppc_uvmem_bitmap,
				  pfn_last - pfn_first);
	if (bit >= pfn_last - pfn_first)
		goto out;
	bitmap_set(kvmppc_uvmem_bitmap, bit, 1);
	spin_unlock(&kvmppc_uvmem_bitmap_lock);

	pvt = kzalloc(sizeof(*pvt), GFP_KERNEL);
	if (!pvt)
		goto out_clear;

	uvmem_pfn = pfn_first + bit;
	kvmppc_gfn_secure_uvmem_pfn(gpa >> PAGE_SHIFT, uvmem_pfn, kvm);

	pvt->gpa = gpa;
	pvt->kvm = kvm;

	dpage = pfn_to_page(uvmem_pfn);
	dpage->zone_device_data = pvt;
	pgmap_request_folios(dpage->pgmap, page_folio(dpage), 1);
	lock_page(dpage);
	return dpage;
out_clear:
	spin_lock(&kvmppc_uvmem_bitmap_lock);
	bitmap_clear(kvmppc_uvmem_bitmap, bit, 1);
out:
	spin_unlock(&kvmppc_uvmem_bitmap_lock);
	return NULL;
}

#include "../common/book3s_hv_uvmem_tail.h"
