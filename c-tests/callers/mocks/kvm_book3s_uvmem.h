/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Mocks for arch/powerpc/kvm/book3s_hv_uvmem.c (ours, not kernel code):
 * the struct kvm the secure page allocator passes around, the gfn state
 * machine hooks it calls (recorded, not modelled), the secure memory size,
 * and the table a caller object exports to the tests.
 */
#ifndef _CALLERS_KVM_BOOK3S_UVMEM_H
#define _CALLERS_KVM_BOOK3S_UVMEM_H

#include <linux/types.h>
#include <linux/mm_types.h>
#include "mock_common.h"

/* A guest; the counters record the gfn hooks called for it. */
struct kvm {
	int id;
	/* kvmppc_gfn_secure_uvmem_pfn(): gfn now backed by a device pfn. */
	unsigned long nr_uvmem_secured;
	unsigned long last_gfn;
	unsigned long last_uvmem_pfn;
	/* kvmppc_gfn_secure_mem_pfn(): page freed, gfn back in normal RAM. */
	unsigned long nr_mem_secured;
	/* kvmppc_gfn_remove(): page freed, gfn gone. */
	unsigned long nr_removed;
};

static inline void kvmppc_gfn_secure_uvmem_pfn(unsigned long gfn,
					       unsigned long uvmem_pfn,
					       struct kvm *kvm)
{
	kvm->nr_uvmem_secured++;
	kvm->last_gfn = gfn;
	kvm->last_uvmem_pfn = uvmem_pfn;
}

static inline void kvmppc_gfn_secure_mem_pfn(unsigned long gfn,
					     struct kvm *kvm)
{
	kvm->nr_mem_secured++;
	kvm->last_gfn = gfn;
}

static inline void kvmppc_gfn_remove(unsigned long gfn, struct kvm *kvm)
{
	kvm->nr_removed++;
	kvm->last_gfn = gfn;
}

/* The secure memory the platform reports; tests set it. */
extern unsigned long mock_kvmppc_secmem_size;

static inline unsigned long kvmppc_get_secmem_size(void)
{
	return mock_kvmppc_secmem_size;
}

int kvmppc_uvmem_init(void);
void kvmppc_uvmem_free(void);

/* What a caller object exports (its CALLER_API). */
struct kvmppc_uvmem_api {
	const char *version;
	struct dev_pagemap *pgmap;	/* &kvmppc_uvmem_pgmap */
	unsigned long **bitmap;		/* &kvmppc_uvmem_bitmap */
	int (*init)(void);
	void (*free)(void);
	struct page *(*get_page)(unsigned long gpa, struct kvm *kvm);
	/* The kvm and gpa of a page's pvt; false when it has none. */
	bool (*pvt_of)(struct page *page, struct kvm **kvm,
		       unsigned long *gpa);
	/* Mark a page's gfn for removal when the page is freed. */
	void (*set_remove_gfn)(struct page *page);
};

extern const struct kvmppc_uvmem_api kvmppc_after, kvmppc_before;

#endif /* _CALLERS_KVM_BOOK3S_UVMEM_H */
