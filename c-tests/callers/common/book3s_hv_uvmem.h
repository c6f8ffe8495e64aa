/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Ours, not the kernel's lines, shared by both versions of
 * arch/powerpc/kvm/book3s_hv_uvmem.c: what stands before
 * kvmppc_uvmem_get_page(), the same before and after the patch (the
 * globals and the per-page pvt). A fragment, not a header:
 * after/book3s_hv_uvmem.c and before/book3s_hv_uvmem.c include it once, in
 * this place, after their includes; the rest of the driver is in
 * book3s_hv_uvmem_tail.h.
 */

static struct dev_pagemap kvmppc_uvmem_pgmap;
static unsigned long *kvmppc_uvmem_bitmap;
static DEFINE_SPINLOCK(kvmppc_uvmem_bitmap_lock);

/* What the driver keeps for each secure page, in zone_device_data. */
struct kvmppc_uvmem_page_pvt {
	struct kvm *kvm;
	unsigned long gpa;
	bool skip_page_out;
	bool remove_gfn;
};
