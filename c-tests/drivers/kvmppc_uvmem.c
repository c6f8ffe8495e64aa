// SPDX-License-Identifier: GPL-2.0-only
/*
 * A driver of our own written to how arch/powerpc/kvm/book3s_hv_uvmem.c
 * behaves in Linux 6.1 (docs/DESIGN.md section 10), and its KTAP suite.
 *
 * On a POWER machine with an ultravisor, a secure guest's pages live in
 * secure memory the hypervisor cannot read. The hypervisor tracks each
 * secure guest page with a page of one DEVICE_PRIVATE pgmap as big as the
 * platform's secure memory: the guest's page in the hypervisor's (QEMU's)
 * address space is replaced by a device-private entry for that page, so a
 * hypervisor access faults, and ->migrate_to_ram() asks the ultravisor to
 * hand the page back. Free device pages are found in a bitmap; each page
 * in use carries a kzalloc()ed record (zone_device_data) of its guest and
 * guest physical address; each guest memory slot keeps, per guest frame,
 * its state and device pfn.
 *
 * Here the ultravisor is a fake that owns a few pages of "secure memory"
 * and copies in and out of it (uv_page_in()/uv_page_out()); the guest is a
 * toy KVM (two memory slots backed by two VMAs of an mm made with
 * memremap_mm_create()). The suite pages guest frames in (H_SVM_PAGE_IN),
 * makes the rest secure (H_SVM_INIT_DONE), takes hypervisor faults that
 * page them out, shares a page, pages out on the ultravisor's request
 * (H_SVM_PAGE_OUT), and tears the VM down with pages still secure
 * (kvmppc_uvmem_drop_pages(), with and without the copy out), checking at
 * each step refcounts, pgmap pins, page_free() calls, the bitmap, the slot
 * records and the ledger.
 */
#include <linux/bitmap.h>
#include <linux/err.h>
#include <linux/gfp.h>
#include <linux/highmem.h>
#include <linux/ioport.h>
#include <linux/list.h>
#include <linux/memremap.h>
#include <linux/migrate.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/mutex.h>
#include <linux/numa.h>
#include <linux/overflow.h>
#include <linux/pagemap.h>
#include <linux/printk.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/swapops.h>
#include <linux/vmalloc.h>
#include <memremap/test.h>
#include "ktap.h"
#include "drivers/driver_test.h"

/* ---- the platform: hcall and ultracall numbers, a toy KVM ---- */

/* arch/powerpc/include/asm/hvcall.h */
#define H_SUCCESS		0
#define H_PARAMETER		-4
#define H_P2			-55
#define H_P3			-56
#define H_UNSUPPORTED		-67
#define H_STATE			-75
#define H_PAGE_IN_SHARED	0x1	/* flag of H_SVM_PAGE_IN */

/* arch/powerpc/include/asm/ultravisor-api.h */
#define U_SUCCESS		H_SUCCESS
#define U_PARAMETER		H_PARAMETER

/* arch/powerpc/include/asm/kvm_host.h: kvm->arch.secure_guest */
#define KVMPPC_SECURE_INIT_START	0x1
#define KVMPPC_SECURE_INIT_DONE		0x2

/*
 * The part of KVM the driver reads (include/linux/kvm_host.h and the
 * powerpc kvm_host.h): a guest's memory slots, its mm, its uvmem state.
 */
struct kvm_memory_slot {
	unsigned long base_gfn;
	unsigned long npages;
	unsigned long userspace_addr;
	short id;
};

struct kvm_arch {
	u64 lpid;
	unsigned int secure_guest;
	struct mutex uvmem_lock;	/* page-in/out of one guest */
	struct list_head uvmem_pfns;	/* its kvmppc_uvmem_slots */
};

#define KVM_MEMSLOTS	2

struct kvm {
	struct mm_struct *mm;		/* QEMU's address space */
	struct kvm_arch arch;
	struct kvm_memory_slot memslots[KVM_MEMSLOTS];
	int nr_memslots;
};

#define kvm_for_each_memslot(slot, kvm)					\
	for ((slot) = (kvm)->memslots;					\
	     (slot) < (kvm)->memslots + (kvm)->nr_memslots; (slot)++)

/* virt/kvm/kvm_main.c's gfn_to_hva() for the toy: an error is ~0. */
#define TOY_HVA_ERR	(~0UL)

static unsigned long toy_gfn_to_hva(struct kvm *kvm, unsigned long gfn)
{
	struct kvm_memory_slot *slot;

	kvm_for_each_memslot(slot, kvm)
		if (gfn >= slot->base_gfn &&
		    gfn < slot->base_gfn + slot->npages)
			return slot->userspace_addr +
			       ((gfn - slot->base_gfn) << PAGE_SHIFT);
	return TOY_HVA_ERR;
}

/*
 * gfn_to_pfn(): fault the guest frame in through QEMU's address space, as
 * get_user_pages() would (a device-private entry calls ->migrate_to_ram()),
 * and answer its pfn with a reference; 0 on error. toy_release_pfn() is
 * kvm_release_pfn_clean().
 */
static unsigned long toy_gfn_to_pfn(struct kvm *kvm, unsigned long gfn)
{
	unsigned long hva = toy_gfn_to_hva(kvm, gfn);
	struct page *page;

	if (hva == TOY_HVA_ERR ||
	    memremap_mm_access(kvm->mm, hva, NULL, 1, true))
		return 0;
	if (memremap_mm_entry(kvm->mm, hva, &page, NULL) !=
	    MEMREMAP_PTE_PRESENT)
		return 0;
	get_page(page);
	return page_to_pfn(page);
}

static void toy_release_pfn(unsigned long pfn)
{
	put_page(pfn_to_page(pfn));
}

/*
 * The fake ultravisor. Its secure memory is a few pages of its own, one per
 * guest frame of the toy guest (frames 0..15 of slot 0, 0x100..0x107 of
 * slot 1). The ucalls copy by the hypervisor page's physical address, as
 * the real ones do: no DMA mapping is involved.
 */
#define SLOT0_GFN	0x0UL
#define SLOT0_PAGES	16
#define SLOT1_GFN	0x100UL
#define SLOT1_PAGES	8
#define GUEST_PAGES	(SLOT0_PAGES + SLOT1_PAGES)

static struct {
	unsigned long secmem_size;	/* what the device tree says */
	unsigned long page_in, page_out, terminated;
	unsigned long slots;		/* registered slot ids, a mask */
	unsigned char mem[GUEST_PAGES][PAGE_SIZE];
} uv;

static long uv_index(unsigned long gfn)
{
	if (gfn < SLOT0_GFN + SLOT0_PAGES)	/* slot 0 starts at 0 */
		return gfn - SLOT0_GFN;
	if (gfn >= SLOT1_GFN && gfn < SLOT1_GFN + SLOT1_PAGES)
		return SLOT0_PAGES + gfn - SLOT1_GFN;
	return -1;
}

/* asm/ultravisor.h: copy the page at @src_ra into secure memory @gpa. */
static int uv_page_in(u64 lpid, u64 src_ra, u64 gpa, u64 flags,
		      u64 page_shift)
{
	long i = uv_index(gpa >> page_shift);
	void *va;

	(void)lpid;
	(void)flags;
	if (i < 0)
		return U_PARAMETER;
	va = kmap_local_page(pfn_to_page(src_ra >> PAGE_SHIFT));
	memcpy(uv.mem[i], va, PAGE_SIZE);
	kunmap_local(va);
	uv.page_in++;
	return U_SUCCESS;
}

/* asm/ultravisor.h: copy secure memory @gpa out to the page at @dst_ra. */
static int uv_page_out(u64 lpid, u64 dst_ra, u64 gpa, u64 flags,
		       u64 page_shift)
{
	long i = uv_index(gpa >> page_shift);
	void *va;

	(void)lpid;
	(void)flags;
	if (i < 0)
		return U_PARAMETER;
	va = kmap_local_page(pfn_to_page(dst_ra >> PAGE_SHIFT));
	memcpy(va, uv.mem[i], PAGE_SIZE);
	kunmap_local(va);
	uv.page_out++;
	return U_SUCCESS;
}

static int uv_register_mem_slot(u64 lpid, u64 start_gpa, u64 size, u64 flags,
				u64 slotid)
{
	(void)lpid;
	(void)start_gpa;
	(void)size;
	(void)flags;
	if (slotid >= BITS_PER_LONG)
		return U_PARAMETER;
	uv.slots |= 1UL << slotid;
	return U_SUCCESS;
}

static int uv_unregister_mem_slot(u64 lpid, u64 slotid)
{
	(void)lpid;
	if (slotid >= BITS_PER_LONG || !(uv.slots & (1UL << slotid)))
		return U_PARAMETER;
	uv.slots &= ~(1UL << slotid);
	return U_SUCCESS;
}

static int uv_svm_terminate(u64 lpid)
{
	(void)lpid;
	uv.terminated++;
	return U_SUCCESS;
}

/* The ibm,secure-memory nodes of the device tree, summed. */
static unsigned long kvmppc_get_secmem_size(void)
{
	return uv.secmem_size;
}

/* ---- the driver ---- */

static struct dev_pagemap kvmppc_uvmem_pgmap;
static unsigned long *kvmppc_uvmem_bitmap;
static DEFINE_SPINLOCK(kvmppc_uvmem_bitmap_lock);

/* What a guest frame is, in its slot's pfns[] word. */
#define KVMPPC_GFN_UVMEM_PFN	(1UL << 63)	/* secure, on a device pfn */
#define KVMPPC_GFN_MEM_PFN	(1UL << 62)	/* secure, paged out */
#define KVMPPC_GFN_SHARED	(1UL << 61)	/* shared with the HV */
#define KVMPPC_GFN_SECURE	(KVMPPC_GFN_UVMEM_PFN | KVMPPC_GFN_MEM_PFN)
#define KVMPPC_GFN_FLAG_MASK	(KVMPPC_GFN_SECURE | KVMPPC_GFN_SHARED)
#define KVMPPC_GFN_PFN_MASK	(~KVMPPC_GFN_FLAG_MASK)

struct kvmppc_uvmem_slot {
	struct list_head list;
	unsigned long nr_pfns;
	unsigned long base_pfn;
	unsigned long *pfns;
};

/* A device page's zone_device_data. */
struct kvmppc_uvmem_page_pvt {
	struct kvm *kvm;
	unsigned long gpa;
	bool skip_page_out;	/* no copy out: the contents are dropped */
	bool remove_gfn;	/* the frame leaves the slot when freed */
};

/* Counters the suite reads, as a driver's debugfs would show them. */
static struct {
	unsigned long page_frees;
	unsigned long frees_at_fault_return;
} stats;

static int kvmppc_uvmem_slot_init(struct kvm *kvm,
				  const struct kvm_memory_slot *slot)
{
	struct kvmppc_uvmem_slot *p = kzalloc(sizeof(*p), GFP_KERNEL);

	if (!p)
		return -ENOMEM;
	p->pfns = vzalloc(array_size(slot->npages, sizeof(*p->pfns)));
	if (!p->pfns) {
		kfree(p);
		return -ENOMEM;
	}
	p->nr_pfns = slot->npages;
	p->base_pfn = slot->base_gfn;
	mutex_lock(&kvm->arch.uvmem_lock);
	list_add(&p->list, &kvm->arch.uvmem_pfns);
	mutex_unlock(&kvm->arch.uvmem_lock);
	return 0;
}

static void kvmppc_uvmem_slot_free(struct kvm *kvm,
				   const struct kvm_memory_slot *slot)
{
	struct kvmppc_uvmem_slot *p, *next;

	mutex_lock(&kvm->arch.uvmem_lock);
	list_for_each_entry_safe(p, next, &kvm->arch.uvmem_pfns, list) {
		if (p->base_pfn != slot->base_gfn)
			continue;
		vfree(p->pfns);
		list_del(&p->list);
		kfree(p);
		break;
	}
	mutex_unlock(&kvm->arch.uvmem_lock);
}

/* The pfns[] word of @gfn, or NULL when no slot holds it. */
static unsigned long *kvmppc_gfn_word(unsigned long gfn, struct kvm *kvm)
{
	struct kvmppc_uvmem_slot *p;

	list_for_each_entry(p, &kvm->arch.uvmem_pfns, list)
		if (gfn >= p->base_pfn && gfn < p->base_pfn + p->nr_pfns)
			return &p->pfns[gfn - p->base_pfn];
	return NULL;
}

static void kvmppc_mark_gfn(unsigned long gfn, struct kvm *kvm,
			    unsigned long state, unsigned long uvmem_pfn)
{
	unsigned long *word = kvmppc_gfn_word(gfn, kvm);

	if (!word)
		return;
	*word = state == KVMPPC_GFN_UVMEM_PFN ? uvmem_pfn | state : state;
}

static bool kvmppc_gfn_is_uvmem_pfn(unsigned long gfn, struct kvm *kvm,
				    unsigned long *uvmem_pfn)
{
	unsigned long *word = kvmppc_gfn_word(gfn, kvm);

	if (!word || !(*word & KVMPPC_GFN_UVMEM_PFN))
		return false;
	if (uvmem_pfn)
		*uvmem_pfn = *word & KVMPPC_GFN_PFN_MASK;
	return true;
}

/* From *@gfn on, the first frame of @slot in no state yet. */
static bool kvmppc_next_nontransitioned_gfn(const struct kvm_memory_slot *slot,
					    struct kvm *kvm, unsigned long *gfn)
{
	unsigned long g;

	for (g = *gfn; g < slot->base_gfn + slot->npages; g++) {
		unsigned long *word = kvmppc_gfn_word(g, kvm);

		if (!word)
			return false;
		if (!(*word & KVMPPC_GFN_FLAG_MASK)) {
			*gfn = g;
			return true;
		}
	}
	return false;
}

/*
 * The memory slots become the ultravisor's. (The kernel also marks the
 * VMAs unmergeable for KSM here; there is no KSM in this model.)
 */
static int __kvmppc_uvmem_memslot_create(struct kvm *kvm,
					 const struct kvm_memory_slot *slot)
{
	if (kvmppc_uvmem_slot_init(kvm, slot))
		return H_PARAMETER;
	if (uv_register_mem_slot(kvm->arch.lpid, slot->base_gfn << PAGE_SHIFT,
				 slot->npages * PAGE_SIZE, 0, slot->id) < 0) {
		kvmppc_uvmem_slot_free(kvm, slot);
		return H_PARAMETER;
	}
	return 0;
}

static void __kvmppc_uvmem_memslot_delete(struct kvm *kvm,
					  const struct kvm_memory_slot *slot)
{
	uv_unregister_mem_slot(kvm->arch.lpid, slot->id);
	kvmppc_uvmem_slot_free(kvm, slot);
}

/* H_SVM_INIT_START: the guest asks to go secure. */
static unsigned long kvmppc_h_svm_init_start(struct kvm *kvm)
{
	struct kvm_memory_slot *slot, *m;
	int ret = H_SUCCESS;

	kvm->arch.secure_guest = KVMPPC_SECURE_INIT_START;
	if (!kvmppc_uvmem_bitmap)
		return H_UNSUPPORTED;
	kvm_for_each_memslot(slot, kvm) {
		ret = __kvmppc_uvmem_memslot_create(kvm, slot);
		if (ret)
			break;
	}
	if (ret) {
		/*
		 * Meant to undo the slots made before the failing one; as
		 * in 6.1 it deletes the failing slot (never made) once per
		 * earlier slot, so those stay until their memslots go.
		 */
		kvm_for_each_memslot(m, kvm) {
			if (m == slot)
				break;
			__kvmppc_uvmem_memslot_delete(kvm, slot);
		}
	}
	return ret;
}

/*
 * A device page for @gpa: the first free bit of the bitmap, a record in
 * zone_device_data, the frame marked secure on it, and the page brought to
 * life (6.1's zone_device_page_init(): a pgmap reference, refcount 1,
 * locked). Called with kvm->arch.uvmem_lock held.
 */
static struct page *kvmppc_uvmem_get_page(unsigned long gpa, struct kvm *kvm)
{
	unsigned long first = kvmppc_uvmem_pgmap.range.start >> PAGE_SHIFT;
	unsigned long n = range_len(&kvmppc_uvmem_pgmap.range) >> PAGE_SHIFT;
	struct kvmppc_uvmem_page_pvt *pvt;
	unsigned long bit;
	struct page *dpage;

	spin_lock(&kvmppc_uvmem_bitmap_lock);
	bit = find_first_zero_bit(kvmppc_uvmem_bitmap, n);
	if (bit >= n) {
		spin_unlock(&kvmppc_uvmem_bitmap_lock);
		return NULL;
	}
	bitmap_set(kvmppc_uvmem_bitmap, bit, 1);
	spin_unlock(&kvmppc_uvmem_bitmap_lock);

	pvt = kzalloc(sizeof(*pvt), GFP_KERNEL);
	if (!pvt) {
		spin_lock(&kvmppc_uvmem_bitmap_lock);
		bitmap_clear(kvmppc_uvmem_bitmap, bit, 1);
		spin_unlock(&kvmppc_uvmem_bitmap_lock);
		return NULL;
	}
	kvmppc_mark_gfn(gpa >> PAGE_SHIFT, kvm, KVMPPC_GFN_UVMEM_PFN,
			first + bit);
	pvt->gpa = gpa;
	pvt->kvm = kvm;
	dpage = pfn_to_page(first + bit);
	dpage->zone_device_data = pvt;
	zone_device_page_init(dpage);
	return dpage;
}

/*
 * Move the system page at [@start, @end) to a device page; with @pagein the
 * ultravisor copies its contents into secure memory first (a frame made
 * secure by H_SVM_INIT_DONE is not copied: the ultravisor has it already).
 */
static int kvmppc_svm_page_in(struct vm_area_struct *vma, unsigned long start,
			      unsigned long end, unsigned long gpa,
			      struct kvm *kvm, unsigned long page_shift,
			      bool pagein)
{
	unsigned long src_pfn = 0, dst_pfn = 0;
	struct migrate_vma mig = {
		.vma = vma,
		.start = start,
		.end = end,
		.src = &src_pfn,
		.dst = &dst_pfn,
		.flags = MIGRATE_VMA_SELECT_SYSTEM,
	};
	struct page *dpage;
	int ret;

	ret = migrate_vma_setup(&mig);
	if (ret)
		return ret;
	if (!(src_pfn & MIGRATE_PFN_MIGRATE)) {
		ret = -1;
		goto out_finalize;
	}
	dpage = kvmppc_uvmem_get_page(gpa, kvm);
	if (!dpage) {
		ret = -1;
		goto out_finalize;
	}
	if (pagein && migrate_pfn_to_page(src_pfn)) {
		ret = uv_page_in(kvm->arch.lpid,
				 (src_pfn >> MIGRATE_PFN_SHIFT) << page_shift,
				 gpa, 0, page_shift);
		if (ret)
			goto out_finalize;
	}
	dst_pfn = migrate_pfn(page_to_pfn(dpage));
	migrate_vma_pages(&mig);
out_finalize:
	migrate_vma_finalize(&mig);
	return ret;
}

/*
 * Move the device page at [@start, @end) back to a fresh system page; the
 * ultravisor copies the secure contents into it unless the page's record
 * says to skip that. @fault_page is the page of a ->migrate_to_ram()
 * fault, NULL otherwise. Called with kvm->arch.uvmem_lock held.
 */
static int __kvmppc_svm_page_out(struct vm_area_struct *vma,
				 unsigned long start, unsigned long end,
				 unsigned long page_shift, struct kvm *kvm,
				 unsigned long gpa, struct page *fault_page)
{
	unsigned long src_pfn = 0, dst_pfn = 0;
	struct migrate_vma mig = {
		.vma = vma,
		.start = start,
		.end = end,
		.src = &src_pfn,
		.dst = &dst_pfn,
		.pgmap_owner = &kvmppc_uvmem_pgmap,
		.flags = MIGRATE_VMA_SELECT_DEVICE_PRIVATE,
		.fault_page = fault_page,
	};
	struct kvmppc_uvmem_page_pvt *pvt;
	struct page *spage, *dpage;
	int ret = U_SUCCESS;

	/* Already paged out: nothing to do. */
	if (!kvmppc_gfn_is_uvmem_pfn(gpa >> page_shift, kvm, NULL))
		return ret;
	if (migrate_vma_setup(&mig))
		return -1;
	spage = migrate_pfn_to_page(src_pfn);
	if (!spage || !(src_pfn & MIGRATE_PFN_MIGRATE) ||
	    !is_zone_device_page(spage))
		goto out_finalize;
	dpage = alloc_page_vma(GFP_HIGHUSER, vma, start);
	if (!dpage) {
		ret = -1;
		goto out_finalize;
	}
	lock_page(dpage);
	pvt = spage->zone_device_data;
	if (!pvt->skip_page_out)
		ret = uv_page_out(kvm->arch.lpid,
				  page_to_pfn(dpage) << page_shift, gpa, 0,
				  page_shift);
	if (ret != U_SUCCESS) {
		unlock_page(dpage);
		__free_page(dpage);
		goto out_finalize;
	}
	dst_pfn = migrate_pfn(page_to_pfn(dpage));
	migrate_vma_pages(&mig);
out_finalize:
	migrate_vma_finalize(&mig);
	return ret;
}

static int kvmppc_svm_page_out(struct vm_area_struct *vma,
			       unsigned long start, unsigned long end,
			       unsigned long page_shift, struct kvm *kvm,
			       unsigned long gpa, struct page *fault_page)
{
	int ret;

	mutex_lock(&kvm->arch.uvmem_lock);
	ret = __kvmppc_svm_page_out(vma, start, end, page_shift, kvm, gpa,
				    fault_page);
	mutex_unlock(&kvm->arch.uvmem_lock);
	return ret;
}

/*
 * Give back every device page of @slot: each frame still on a device page
 * is paged out (copied out unless @skip_page_out) and leaves the slot as
 * its page is freed; other frames lose their shared mark. VM teardown and
 * memslot flushes call this with @skip_page_out (the contents die with the
 * guest), H_SVM_INIT_ABORT without.
 */
static void kvmppc_uvmem_drop_pages(const struct kvm_memory_slot *slot,
				    struct kvm *kvm, bool skip_page_out)
{
	unsigned long i, gfn = slot->base_gfn, addr = slot->userspace_addr;
	struct vm_area_struct *vma = NULL;

	mmap_read_lock(kvm->mm);
	for (i = 0; i < slot->npages; i++, gfn++, addr += PAGE_SIZE) {
		struct kvmppc_uvmem_page_pvt *pvt;
		unsigned long uvmem_pfn;

		if (!vma || addr >= vma->vm_end) {
			vma = vma_lookup(kvm->mm, addr);
			if (!vma) {
				pr_err("Can't find VMA for gfn:0x%lx\n", gfn);
				break;
			}
		}
		mutex_lock(&kvm->arch.uvmem_lock);
		if (kvmppc_gfn_is_uvmem_pfn(gfn, kvm, &uvmem_pfn)) {
			pvt = pfn_to_page(uvmem_pfn)->zone_device_data;
			pvt->skip_page_out = skip_page_out;
			pvt->remove_gfn = true;
			if (__kvmppc_svm_page_out(vma, addr, addr + PAGE_SIZE,
						  PAGE_SHIFT, kvm, pvt->gpa,
						  NULL))
				pr_err("Can't page out gpa:0x%lx addr:0x%lx\n",
				       pvt->gpa, addr);
		} else {
			kvmppc_mark_gfn(gfn, kvm, 0, 0);
		}
		mutex_unlock(&kvm->arch.uvmem_lock);
	}
	mmap_read_unlock(kvm->mm);
}

/* H_SVM_INIT_ABORT: back to a normal guest, contents copied out. */
static unsigned long kvmppc_h_svm_init_abort(struct kvm *kvm)
{
	struct kvm_memory_slot *slot;

	if (!(kvm->arch.secure_guest & KVMPPC_SECURE_INIT_START))
		return H_UNSUPPORTED;
	if (kvm->arch.secure_guest & KVMPPC_SECURE_INIT_DONE)
		return H_STATE;
	kvm_for_each_memslot(slot, kvm)
		kvmppc_uvmem_drop_pages(slot, kvm, false);
	kvm->arch.secure_guest = 0;
	uv_svm_terminate(kvm->arch.lpid);
	return H_PARAMETER;
}

/* Make every frame of @slot not yet in a state secure, without a copy. */
static int kvmppc_uv_migrate_mem_slot(struct kvm *kvm,
				      const struct kvm_memory_slot *slot)
{
	unsigned long gfn = slot->base_gfn, start;
	struct vm_area_struct *vma;
	int ret = 0;

	mmap_read_lock(kvm->mm);
	mutex_lock(&kvm->arch.uvmem_lock);
	while (kvmppc_next_nontransitioned_gfn(slot, kvm, &gfn)) {
		ret = H_STATE;
		start = toy_gfn_to_hva(kvm, gfn);
		if (start == TOY_HVA_ERR)
			break;
		vma = find_vma_intersection(kvm->mm, start, start + PAGE_SIZE);
		if (!vma || vma->vm_start > start ||
		    vma->vm_end < start + PAGE_SIZE)
			break;
		if (kvmppc_svm_page_in(vma, start, start + PAGE_SIZE,
				       gfn << PAGE_SHIFT, kvm, PAGE_SHIFT,
				       false)) {
			ret = H_STATE;
			break;
		}
		ret = 0;
		cond_resched();
	}
	mutex_unlock(&kvm->arch.uvmem_lock);
	mmap_read_unlock(kvm->mm);
	return ret;
}

/* H_SVM_INIT_DONE: the rest of the guest's frames become secure. */
static unsigned long kvmppc_h_svm_init_done(struct kvm *kvm)
{
	struct kvm_memory_slot *slot;

	if (!(kvm->arch.secure_guest & KVMPPC_SECURE_INIT_START))
		return H_UNSUPPORTED;
	kvm_for_each_memslot(slot, kvm)
		if (kvmppc_uv_migrate_mem_slot(kvm, slot))
			return H_STATE;	/* the caller terminates the VM */
	kvm->arch.secure_guest |= KVMPPC_SECURE_INIT_DONE;
	return H_SUCCESS;
}

/*
 * H_SVM_PAGE_IN with H_PAGE_IN_SHARED: a secure frame is fetched back
 * without its contents (skip_page_out) and stays in its slot; then the
 * ultravisor maps the hypervisor's page shared.
 */
static unsigned long kvmppc_share_page(struct kvm *kvm, unsigned long gpa,
				       unsigned long page_shift)
{
	unsigned long gfn = gpa >> page_shift, uvmem_pfn, pfn;
	struct kvmppc_uvmem_page_pvt *pvt;
	int ret = H_PARAMETER;

	mutex_lock(&kvm->arch.uvmem_lock);
	for (;;) {
		if (kvmppc_gfn_is_uvmem_pfn(gfn, kvm, &uvmem_pfn)) {
			pvt = pfn_to_page(uvmem_pfn)->zone_device_data;
			pvt->skip_page_out = true;
			pvt->remove_gfn = false;
		}
		mutex_unlock(&kvm->arch.uvmem_lock);
		pfn = toy_gfn_to_pfn(kvm, gfn);
		if (!pfn)
			return ret;
		mutex_lock(&kvm->arch.uvmem_lock);
		if (!kvmppc_gfn_is_uvmem_pfn(gfn, kvm, NULL))
			break;
		/* Paged in again meanwhile: around once more. */
		toy_release_pfn(pfn);
	}
	if (!uv_page_in(kvm->arch.lpid, pfn << page_shift, gpa, 0,
			page_shift)) {
		kvmppc_mark_gfn(gfn, kvm, KVMPPC_GFN_SHARED, 0);
		ret = H_SUCCESS;
	}
	toy_release_pfn(pfn);
	mutex_unlock(&kvm->arch.uvmem_lock);
	return ret;
}

/* H_SVM_PAGE_IN: the ultravisor takes a frame into secure memory. */
static unsigned long kvmppc_h_svm_page_in(struct kvm *kvm, unsigned long gpa,
					  unsigned long flags,
					  unsigned long page_shift)
{
	unsigned long gfn = gpa >> page_shift, start, end;
	struct vm_area_struct *vma;
	int ret;

	if (!(kvm->arch.secure_guest & KVMPPC_SECURE_INIT_START))
		return H_UNSUPPORTED;
	if (page_shift != PAGE_SHIFT)
		return H_P3;
	if (flags & ~H_PAGE_IN_SHARED)
		return H_P2;
	if (flags & H_PAGE_IN_SHARED)
		return kvmppc_share_page(kvm, gpa, page_shift);

	ret = H_PARAMETER;
	mmap_read_lock(kvm->mm);
	start = toy_gfn_to_hva(kvm, gfn);
	if (start == TOY_HVA_ERR)
		goto out;
	mutex_lock(&kvm->arch.uvmem_lock);
	/* A frame already on a device page is refused. */
	if (kvmppc_gfn_is_uvmem_pfn(gfn, kvm, NULL))
		goto out_unlock;
	end = start + (1UL << page_shift);
	vma = find_vma_intersection(kvm->mm, start, end);
	if (!vma || vma->vm_start > start || vma->vm_end < end)
		goto out_unlock;
	if (!kvmppc_svm_page_in(vma, start, end, gpa, kvm, page_shift, true))
		ret = H_SUCCESS;
out_unlock:
	mutex_unlock(&kvm->arch.uvmem_lock);
out:
	mmap_read_unlock(kvm->mm);
	return ret;
}

/* H_SVM_PAGE_OUT: the ultravisor gives a frame back to the hypervisor. */
static unsigned long kvmppc_h_svm_page_out(struct kvm *kvm, unsigned long gpa,
					   unsigned long flags,
					   unsigned long page_shift)
{
	unsigned long start, end;
	struct vm_area_struct *vma;
	int ret = H_PARAMETER;

	if (!(kvm->arch.secure_guest & KVMPPC_SECURE_INIT_START))
		return H_UNSUPPORTED;
	if (page_shift != PAGE_SHIFT)
		return H_P3;
	if (flags)
		return H_P2;
	mmap_read_lock(kvm->mm);
	start = toy_gfn_to_hva(kvm, gpa >> page_shift);
	if (start == TOY_HVA_ERR)
		goto out;
	end = start + (1UL << page_shift);
	vma = find_vma_intersection(kvm->mm, start, end);
	if (!vma || vma->vm_start > start || vma->vm_end < end)
		goto out;
	if (!kvmppc_svm_page_out(vma, start, end, page_shift, kvm, gpa, NULL))
		ret = H_SUCCESS;
out:
	mmap_read_unlock(kvm->mm);
	return ret;
}

/* ->migrate_to_ram(): the hypervisor touched a secure frame. */
static vm_fault_t kvmppc_uvmem_migrate_to_ram(struct vm_fault *vmf)
{
	struct kvmppc_uvmem_page_pvt *pvt = vmf->page->zone_device_data;
	int ret;

	ret = kvmppc_svm_page_out(vmf->vma, vmf->address,
				  vmf->address + PAGE_SIZE, PAGE_SHIFT,
				  pvt->kvm, pvt->gpa, vmf->page);
	stats.frees_at_fault_return = stats.page_frees;
	return ret ? VM_FAULT_SIGBUS : 0;
}

/*
 * ->page_free(): the device page's last reference went. Its bit is free
 * again; its frame leaves the slot (remove_gfn) or stays secure, backed by
 * memory the ultravisor holds; its record is freed.
 */
static void kvmppc_uvmem_page_free(struct page *page)
{
	unsigned long bit = page_to_pfn(page) -
			    (kvmppc_uvmem_pgmap.range.start >> PAGE_SHIFT);
	struct kvmppc_uvmem_page_pvt *pvt = page->zone_device_data;

	spin_lock(&kvmppc_uvmem_bitmap_lock);
	bitmap_clear(kvmppc_uvmem_bitmap, bit, 1);
	spin_unlock(&kvmppc_uvmem_bitmap_lock);
	page->zone_device_data = NULL;
	if (pvt->remove_gfn)
		kvmppc_mark_gfn(pvt->gpa >> PAGE_SHIFT, pvt->kvm, 0, 0);
	else
		kvmppc_mark_gfn(pvt->gpa >> PAGE_SHIFT, pvt->kvm,
				KVMPPC_GFN_MEM_PFN, 0);
	kfree(pvt);
	stats.page_frees++;
}

static const struct dev_pagemap_ops kvmppc_uvmem_ops = {
	.page_free	= kvmppc_uvmem_page_free,
	.migrate_to_ram	= kvmppc_uvmem_migrate_to_ram,
};

/*
 * Module init: a free physical range as big as secure memory, one
 * DEVICE_PRIVATE pgmap over it owned by itself, and the bitmap. No secure
 * memory is not an error: secure guests are just unsupported.
 */
static int kvmppc_uvmem_init(void)
{
	unsigned long size = kvmppc_get_secmem_size(), npages;
	struct resource *res;
	void *addr;
	int ret = 0;

	if (!size) {
		pr_info("KVMPPC-UVMEM: No support for secure guests\n");
		return 0;
	}
	res = request_free_mem_region(&iomem_resource, size, "kvmppc_uvmem");
	if (IS_ERR(res))
		return PTR_ERR(res);
	kvmppc_uvmem_pgmap.type = MEMORY_DEVICE_PRIVATE;
	kvmppc_uvmem_pgmap.range.start = res->start;
	kvmppc_uvmem_pgmap.range.end = res->end;
	kvmppc_uvmem_pgmap.nr_range = 1;
	kvmppc_uvmem_pgmap.ops = &kvmppc_uvmem_ops;
	kvmppc_uvmem_pgmap.owner = &kvmppc_uvmem_pgmap;	/* the one instance */
	addr = memremap_pages(&kvmppc_uvmem_pgmap, NUMA_NO_NODE);
	if (IS_ERR(addr)) {
		ret = PTR_ERR(addr);
		goto out_free_region;
	}
	npages = resource_size(res) >> PAGE_SHIFT;
	kvmppc_uvmem_bitmap = bitmap_zalloc(npages, GFP_KERNEL);
	if (!kvmppc_uvmem_bitmap) {
		ret = -ENOMEM;
		goto out_unmap;
	}
	pr_info("KVMPPC-UVMEM: Secure Memory size 0x%lx\n", size);
	return 0;
out_unmap:
	memunmap_pages(&kvmppc_uvmem_pgmap);
out_free_region:
	/* The secure memory size, as 6.1 passes it (see the report). */
	release_mem_region(res->start, size);
	return ret;
}

static void kvmppc_uvmem_free(void)
{
	if (!kvmppc_uvmem_bitmap)
		return;
	memunmap_pages(&kvmppc_uvmem_pgmap);
	release_mem_region(kvmppc_uvmem_pgmap.range.start,
			   range_len(&kvmppc_uvmem_pgmap.range));
	bitmap_free(kvmppc_uvmem_bitmap);
	kvmppc_uvmem_bitmap = NULL;
}

/* ---- the suite ---- */

#define SECMEM_SIZE	(128UL << 20)	/* one x86_64 memory section */
#define QEMU_BASE	0x7f0000000000UL
#define SLOT0_HVA	QEMU_BASE
#define SLOT1_HVA	(QEMU_BASE + 64 * PAGE_SIZE)

static struct kvm vm;

static unsigned long gfn_of(unsigned long i)
{
	return i < SLOT0_PAGES ? SLOT0_GFN + i : SLOT1_GFN + i - SLOT0_PAGES;
}

static unsigned long hva_of(unsigned long i)
{
	return toy_gfn_to_hva(&vm, gfn_of(i));
}

static unsigned long pattern(unsigned long i)
{
	return 0x5ec0000 + i * 7;
}

/* Secure memory and the module, fresh; the driver's counters at zero. */
static void module_load(unsigned long secmem)
{
	memset(&uv, 0, sizeof(uv));
	memset(&stats, 0, sizeof(stats));
	memset(&kvmppc_uvmem_pgmap, 0, sizeof(kvmppc_uvmem_pgmap));
	uv.secmem_size = secmem;
}

/*
 * QEMU starts a guest: its RAM is two VMAs of a fresh mm, every frame
 * written (frame i holds pattern(i)); KVM holds the mm (mmgrab()) and
 * knows the two memory slots.
 */
static struct mm_struct *vm_create(void)
{
	struct mm_struct *mm = memremap_mm_create();
	unsigned long i;

	memset(&vm, 0, sizeof(vm));
	vm.mm = mm;
	vm.arch.lpid = 42;
	mutex_init(&vm.arch.uvmem_lock);
	INIT_LIST_HEAD(&vm.arch.uvmem_pfns);
	vm.memslots[0] = (struct kvm_memory_slot){
		.base_gfn = SLOT0_GFN, .npages = SLOT0_PAGES,
		.userspace_addr = SLOT0_HVA, .id = 0,
	};
	vm.memslots[1] = (struct kvm_memory_slot){
		.base_gfn = SLOT1_GFN, .npages = SLOT1_PAGES,
		.userspace_addr = SLOT1_HVA, .id = 1,
	};
	vm.nr_memslots = KVM_MEMSLOTS;
	memremap_mm_add_vma(mm, SLOT0_HVA, SLOT0_HVA + SLOT0_PAGES * PAGE_SIZE,
			    VM_READ | VM_WRITE);
	memremap_mm_add_vma(mm, SLOT1_HVA, SLOT1_HVA + SLOT1_PAGES * PAGE_SIZE,
			    VM_READ | VM_WRITE);
	mmgrab(mm);
	for (i = 0; i < GUEST_PAGES; i++)
		proc_write(mm, hva_of(i), pattern(i));
	return mm;
}

/* The VM goes away: its memslots are deleted, KVM lets the mm go. */
static void vm_destroy(void)
{
	struct kvm_memory_slot *slot;

	kvm_for_each_memslot(slot, &vm)
		__kvmppc_uvmem_memslot_delete(&vm, slot);
	mmdrop(vm.mm);
}

static unsigned long cpu_read(unsigned long i)
{
	return proc_read(vm.mm, hva_of(i));
}

static unsigned long secure_read(unsigned long i)
{
	unsigned long v;

	memcpy(&v, uv.mem[i], sizeof(v));
	return v;
}

static void secure_write(unsigned long i, unsigned long v)
{
	memcpy(uv.mem[i], &v, sizeof(v));
}

static unsigned long gfn_state(unsigned long i)
{
	unsigned long *word = kvmppc_gfn_word(gfn_of(i), &vm);

	return word ? *word : ~0UL;
}

static unsigned long bits_used(void)
{
	if (!kvmppc_uvmem_bitmap)
		return 0;
	return bitmap_weight(kvmppc_uvmem_bitmap,
			     range_len(&kvmppc_uvmem_pgmap.range) >>
			     PAGE_SHIFT);
}

/*
 * A report line: the step, then the bitmap's bits in use, the device pages
 * with a non-zero refcount, page_free() calls, pgmap pins, the ultravisor's
 * copies in and out, and live system pages.
 */
static void step(const char *what)
{
	printf("    # %-34s bits %lu refd %lu page_free %lu pins %ld uv in/out %lu/%lu sys %lu\n",
	       what, bits_used(),
	       memremap_pgmap_busy_pages(&kvmppc_uvmem_pgmap),
	       stats.page_frees, memremap_pgmap_pins(&kvmppc_uvmem_pgmap),
	       uv.page_in, uv.page_out, memremap_system_pages_live());
}

/* Frame @i is on a device page: checked from every side. */
static void expect_secure(unsigned long i)
{
	struct kvmppc_uvmem_page_pvt *pvt;
	unsigned long val, uvmem_pfn = 0;
	struct page *page;
	swp_entry_t e;

	EXPECT_EQ(memremap_mm_entry(vm.mm, hva_of(i), &page, &val),
		  MEMREMAP_PTE_SWAP);
	e.val = val;
	EXPECT_TRUE(is_device_private_page(page));
	EXPECT_EQ(swp_type(e), SWP_DEVICE_WRITE);
	EXPECT_PTR_EQ(page->pgmap, &kvmppc_uvmem_pgmap);
	EXPECT_EQ(page_ref_count(page), 1);
	EXPECT_EQ(memremap_page_mapcount(page), 1);
	EXPECT_FALSE(PageLocked(page));
	EXPECT_TRUE(kvmppc_gfn_is_uvmem_pfn(gfn_of(i), &vm, &uvmem_pfn));
	EXPECT_EQ(uvmem_pfn, page_to_pfn(page));
	EXPECT_EQ(gfn_state(i), page_to_pfn(page) | KVMPPC_GFN_UVMEM_PFN);
	EXPECT_TRUE(test_bit(page_to_pfn(page) -
			     (kvmppc_uvmem_pgmap.range.start >> PAGE_SHIFT),
			     kvmppc_uvmem_bitmap));
	pvt = page->zone_device_data;
	EXPECT_PTR_EQ(pvt->kvm, &vm);
	EXPECT_EQ(pvt->gpa, gfn_of(i) << PAGE_SHIFT);
}

/* Frame @i is a present system page of QEMU's mapped once. */
static struct page *expect_normal(unsigned long i)
{
	struct page *page = NULL;

	EXPECT_EQ(memremap_mm_entry(vm.mm, hva_of(i), &page, NULL),
		  MEMREMAP_PTE_PRESENT);
	if (!page)
		return NULL;
	EXPECT_FALSE(is_zone_device_page(page));
	EXPECT_EQ(page_ref_count(page), 1);
	EXPECT_EQ(memremap_page_mapcount(page), 1);
	return page;
}

static unsigned long page_in(unsigned long i)
{
	return kvmppc_h_svm_page_in(&vm, gfn_of(i) << PAGE_SHIFT, 0,
				    PAGE_SHIFT);
}

KTAP_CASE(init_maps_secure_memory_and_free_releases_it)
{
	unsigned long regions = memremap_iomem_regions();
	struct mm_struct *mm;

	/* No secure memory: loaded, but secure guests are refused. */
	module_load(0);
	EXPECT_EQ(kvmppc_uvmem_init(), 0);
	EXPECT_NULL(kvmppc_uvmem_bitmap);
	EXPECT_EQ(memremap_iomem_regions(), regions);
	mm = vm_create();
	EXPECT_EQ(kvmppc_h_svm_init_start(&vm), H_UNSUPPORTED);
	mmput(mm);
	mmdrop(mm);
	kvmppc_uvmem_free();			/* a no-op */

	module_load(SECMEM_SIZE);
	EXPECT_EQ(kvmppc_uvmem_init(), 0);
	step("kvmppc_uvmem_init():");
	EXPECT_NOT_NULL(kvmppc_uvmem_bitmap);
	EXPECT_EQ(memremap_iomem_regions(), regions + 1);
	EXPECT_EQ(range_len(&kvmppc_uvmem_pgmap.range), SECMEM_SIZE);
	EXPECT_EQ(region_intersects(kvmppc_uvmem_pgmap.range.start,
				    SECMEM_SIZE, IORESOURCE_MEM,
				    IORES_DESC_DEVICE_PRIVATE_MEMORY),
		  REGION_INTERSECTS);
	EXPECT_TRUE(memremap_pgmap_is_mapped(&kvmppc_uvmem_pgmap));
	EXPECT_EQ(kvmppc_uvmem_pgmap.type, MEMORY_DEVICE_PRIVATE);
	EXPECT_PTR_EQ(kvmppc_uvmem_pgmap.owner, &kvmppc_uvmem_pgmap);
	EXPECT_EQ(memremap_pgmap_pins(&kvmppc_uvmem_pgmap), 0);
	EXPECT_EQ(memremap_pgmap_busy_pages(&kvmppc_uvmem_pgmap), 0);
	EXPECT_TRUE(bitmap_empty(kvmppc_uvmem_bitmap,
				 SECMEM_SIZE >> PAGE_SHIFT));
	kvmppc_uvmem_free();
	EXPECT_NULL(kvmppc_uvmem_bitmap);
	EXPECT_EQ(memremap_mapped_pgmaps(), 0);
	EXPECT_EQ(memremap_iomem_regions(), regions);
	EXPECT_EQ(memremap_ledger_count(), 0);
	EXPECT_WARNS(0);
}

KTAP_CASE(page_in_moves_guest_frames_to_secure_memory)
{
	unsigned long sys, i, n = 10;
	struct mm_struct *mm;

	module_load(SECMEM_SIZE);
	kvmppc_uvmem_init();
	mm = vm_create();
	sys = memremap_system_pages_live();
	EXPECT_EQ(kvmppc_h_svm_init_start(&vm), H_SUCCESS);
	EXPECT_EQ(uv.slots, 0x3);		/* ids 0 and 1 */
	EXPECT_EQ(gfn_state(0), 0);
	/* Frames 0..7 of slot 0 and the first two of slot 1. */
	for (i = 0; i < n; i++) {
		unsigned long f = i < 8 ? i : SLOT0_PAGES + i - 8;

		EXPECT_EQ(page_in(f), H_SUCCESS);
		expect_secure(f);
		EXPECT_EQ(secure_read(f), pattern(f));
	}
	step("H_SVM_PAGE_IN of 10 frames:");
	EXPECT_EQ(uv.page_in, n);
	EXPECT_EQ(bits_used(), n);
	EXPECT_EQ(memremap_pgmap_pins(&kvmppc_uvmem_pgmap), n);
	/* The system pages the frames left were freed. */
	EXPECT_EQ(memremap_system_pages_live(), sys - n);
	/* The first free bits, in order. */
	EXPECT_EQ(gfn_state(1) & KVMPPC_GFN_PFN_MASK,
		  (kvmppc_uvmem_pgmap.range.start >> PAGE_SHIFT) + 1);

	/* What the hcall refuses. */
	EXPECT_EQ(page_in(3), H_PARAMETER);	/* already secure */
	EXPECT_EQ(kvmppc_h_svm_page_in(&vm, 9 << PAGE_SHIFT, 0, 16), H_P3);
	EXPECT_EQ(kvmppc_h_svm_page_in(&vm, 9 << PAGE_SHIFT, 2, PAGE_SHIFT),
		  H_P2);
	EXPECT_EQ(kvmppc_h_svm_page_in(&vm, 0x80UL << PAGE_SHIFT, 0,
				       PAGE_SHIFT), H_PARAMETER);
	EXPECT_EQ(uv.page_in, n);

	/* H_SVM_INIT_DONE: the other 14 frames, no copy. */
	EXPECT_EQ(kvmppc_h_svm_init_done(&vm), H_SUCCESS);
	step("H_SVM_INIT_DONE, the rest secure:");
	EXPECT_TRUE(vm.arch.secure_guest & KVMPPC_SECURE_INIT_DONE);
	for (i = 0; i < GUEST_PAGES; i++)
		expect_secure(i);
	EXPECT_EQ(uv.page_in, n);
	EXPECT_EQ(memremap_pgmap_pins(&kvmppc_uvmem_pgmap), GUEST_PAGES);
	EXPECT_EQ(memremap_system_pages_live(), sys - GUEST_PAGES);
	EXPECT_EQ(stats.page_frees, 0);

	/* The guest goes: its slots are flushed, its pages dropped. */
	for (i = 0; i < KVM_MEMSLOTS; i++)
		kvmppc_uvmem_drop_pages(&vm.memslots[i], &vm, true);
	vm_destroy();
	mmput(mm);
	kvmppc_uvmem_free();
	EXPECT_EQ(memremap_ledger_count(), 0);
	EXPECT_WARNS(0);
}

KTAP_CASE(hv_fault_pages_a_secure_frame_out)
{
	unsigned long pfn, bit0, before;
	struct mm_struct *mm;
	struct page *page;

	module_load(SECMEM_SIZE);
	kvmppc_uvmem_init();
	mm = vm_create();
	kvmppc_h_svm_init_start(&vm);
	EXPECT_EQ(page_in(0), H_SUCCESS);
	EXPECT_EQ(page_in(1), H_SUCCESS);
	EXPECT_EQ(page_in(2), H_SUCCESS);
	EXPECT_EQ(page_in(3), H_SUCCESS);
	step("H_SVM_PAGE_IN of 4 frames:");
	kvmppc_gfn_is_uvmem_pfn(gfn_of(2), &vm, &pfn);
	bit0 = pfn - (kvmppc_uvmem_pgmap.range.start >> PAGE_SHIFT);
	/* The guest writes its secure memory; QEMU reads the frame. */
	secure_write(2, 0xc0ffee);
	EXPECT_EQ(cpu_read(2), 0xc0ffee);
	step("an HV fault paged frame 2 out:");
	page = expect_normal(2);
	EXPECT_EQ(uv.page_out, 1);
	EXPECT_EQ(stats.page_frees, 1);
	/*
	 * The device page was not freed inside ->migrate_to_ram(): the
	 * fault held a reference across the call (6.1's do_swap_page()),
	 * so its last put, and page_free(), came after, outside the
	 * uvmem_lock the driver's comment on page_free() says is held.
	 */
	EXPECT_EQ(stats.frees_at_fault_return, 0);
	EXPECT_FALSE(test_bit(bit0, kvmppc_uvmem_bitmap));
	/* Still secure, now backed by memory the ultravisor holds. */
	EXPECT_EQ(gfn_state(2), KVMPPC_GFN_MEM_PFN);
	EXPECT_EQ(memremap_pgmap_pins(&kvmppc_uvmem_pgmap), 3);
	/* Present now: a second read does not fault. */
	EXPECT_EQ(cpu_read(2), 0xc0ffee);
	EXPECT_EQ(uv.page_out, 1);
	(void)page;

	/* The ultravisor pages the frame in again: the freed bit is reused. */
	EXPECT_EQ(page_in(2), H_SUCCESS);
	expect_secure(2);
	EXPECT_EQ(gfn_state(2), pfn | KVMPPC_GFN_UVMEM_PFN);
	EXPECT_EQ(secure_read(2), 0xc0ffee);

	/* H_SVM_PAGE_OUT: no fault, page_free() before the hcall returns. */
	before = stats.page_frees;
	secure_write(3, 0xfeed);
	EXPECT_EQ(kvmppc_h_svm_page_out(&vm, gfn_of(3) << PAGE_SHIFT, 0,
					PAGE_SHIFT), H_SUCCESS);
	step("H_SVM_PAGE_OUT of frame 3:");
	EXPECT_EQ(stats.page_frees, before + 1);
	expect_normal(3);
	EXPECT_EQ(gfn_state(3), KVMPPC_GFN_MEM_PFN);
	EXPECT_EQ(cpu_read(3), 0xfeed);
	/* Paged out already: success, nothing done. */
	EXPECT_EQ(kvmppc_h_svm_page_out(&vm, gfn_of(3) << PAGE_SHIFT, 0,
					PAGE_SHIFT), H_SUCCESS);
	EXPECT_EQ(uv.page_out, 2);
	EXPECT_EQ(kvmppc_h_svm_page_out(&vm, gfn_of(3) << PAGE_SHIFT, 1,
					PAGE_SHIFT), H_P2);
	EXPECT_EQ(memremap_pgmap_pins(&kvmppc_uvmem_pgmap), 3);

	kvmppc_uvmem_drop_pages(&vm.memslots[0], &vm, true);
	kvmppc_uvmem_drop_pages(&vm.memslots[1], &vm, true);
	step("VM teardown dropped the rest:");
	EXPECT_EQ(stats.page_frees, 5);
	EXPECT_EQ(memremap_pgmap_pins(&kvmppc_uvmem_pgmap), 0);
	vm_destroy();
	mmput(mm);
	kvmppc_uvmem_free();
	EXPECT_EQ(memremap_ledger_count(), 0);
	EXPECT_WARNS(0);
}

KTAP_CASE(sharing_a_secure_frame_skips_the_copy_out)
{
	struct mm_struct *mm;

	module_load(SECMEM_SIZE);
	kvmppc_uvmem_init();
	mm = vm_create();
	kvmppc_h_svm_init_start(&vm);
	EXPECT_EQ(page_in(5), H_SUCCESS);
	secure_write(5, 0x5ec7e7);		/* a secret */
	EXPECT_EQ(kvmppc_h_svm_page_in(&vm, gfn_of(5) << PAGE_SHIFT,
				       H_PAGE_IN_SHARED, PAGE_SHIFT),
		  H_SUCCESS);
	step("H_SVM_PAGE_IN shared of frame 5:");
	expect_normal(5);
	/* The secret never reached the hypervisor's page. */
	EXPECT_EQ(uv.page_out, 0);
	EXPECT_NE(cpu_read(5), 0x5ec7e7);
	EXPECT_EQ(stats.page_frees, 1);
	EXPECT_EQ(gfn_state(5), KVMPPC_GFN_SHARED);
	/* The ultravisor mapped the hypervisor's page (a copy here). */
	EXPECT_EQ(uv.page_in, 2);
	EXPECT_EQ(secure_read(5), cpu_read(5));
	/* Sharing a normal frame shares the page there. */
	EXPECT_EQ(kvmppc_h_svm_page_in(&vm, gfn_of(6) << PAGE_SHIFT,
				       H_PAGE_IN_SHARED, PAGE_SHIFT),
		  H_SUCCESS);
	EXPECT_EQ(secure_read(6), pattern(6));
	EXPECT_EQ(gfn_state(6), KVMPPC_GFN_SHARED);
	EXPECT_EQ(memremap_pgmap_pins(&kvmppc_uvmem_pgmap), 0);
	/* Dropping the slot clears the shared marks. */
	kvmppc_uvmem_drop_pages(&vm.memslots[0], &vm, true);
	EXPECT_EQ(gfn_state(5), 0);
	EXPECT_EQ(gfn_state(6), 0);
	vm_destroy();
	mmput(mm);
	kvmppc_uvmem_free();
	EXPECT_EQ(memremap_ledger_count(), 0);
	EXPECT_WARNS(0);
}

KTAP_CASE(vm_teardown_drops_frames_still_secure)
{
	unsigned long i, sys, regions = memremap_iomem_regions();
	struct mm_struct *mm;

	module_load(SECMEM_SIZE);
	kvmppc_uvmem_init();
	mm = vm_create();
	sys = memremap_system_pages_live();
	kvmppc_h_svm_init_start(&vm);
	for (i = 0; i < 4; i++)
		page_in(i);
	kvmppc_h_svm_init_done(&vm);
	step("24 frames secure:");
	EXPECT_EQ(memremap_pgmap_pins(&kvmppc_uvmem_pgmap), GUEST_PAGES);

	/* The radix memslot flush of a dying secure VM, slot by slot. */
	kvmppc_uvmem_drop_pages(&vm.memslots[0], &vm, true);
	step("slot 0 dropped (skip_page_out):");
	EXPECT_EQ(stats.page_frees, SLOT0_PAGES);
	EXPECT_EQ(memremap_pgmap_pins(&kvmppc_uvmem_pgmap), SLOT1_PAGES);
	kvmppc_uvmem_drop_pages(&vm.memslots[1], &vm, true);
	step("slot 1 dropped (skip_page_out):");
	EXPECT_EQ(stats.page_frees, GUEST_PAGES);
	EXPECT_EQ(memremap_pgmap_pins(&kvmppc_uvmem_pgmap), 0);
	EXPECT_EQ(bits_used(), 0);
	EXPECT_EQ(uv.page_out, 0);		/* nothing copied out */
	for (i = 0; i < GUEST_PAGES; i++) {
		expect_normal(i);
		EXPECT_EQ(gfn_state(i), 0);	/* left their slots */
		EXPECT_NE(cpu_read(i), pattern(i));	/* contents dropped */
	}
	EXPECT_EQ(memremap_system_pages_live(), sys);
	vm_destroy();
	uv_svm_terminate(vm.arch.lpid);
	EXPECT_EQ(uv.slots, 0);
	mmput(mm);
	kvmppc_uvmem_free();
	step("module unloaded:");
	EXPECT_EQ(memremap_mapped_pgmaps(), 0);
	EXPECT_EQ(memremap_iomem_regions(), regions);
	EXPECT_EQ(memremap_ledger_count(), 0);
	EXPECT_WARNS(0);
}

KTAP_CASE(init_abort_copies_every_frame_out)
{
	struct mm_struct *mm;
	unsigned long i;

	module_load(SECMEM_SIZE);
	kvmppc_uvmem_init();
	mm = vm_create();
	kvmppc_h_svm_init_start(&vm);
	for (i = 0; i < GUEST_PAGES; i += 2)
		EXPECT_EQ(page_in(i), H_SUCCESS);
	secure_write(4, 0xab);
	step("12 frames secure:");
	EXPECT_EQ(kvmppc_h_svm_init_abort(&vm), H_PARAMETER);
	step("H_SVM_INIT_ABORT:");
	EXPECT_EQ(vm.arch.secure_guest, 0);
	EXPECT_EQ(uv.terminated, 1);
	EXPECT_EQ(uv.page_out, GUEST_PAGES / 2);
	EXPECT_EQ(stats.page_frees, GUEST_PAGES / 2);
	EXPECT_EQ(memremap_pgmap_pins(&kvmppc_uvmem_pgmap), 0);
	for (i = 0; i < GUEST_PAGES; i++) {
		expect_normal(i);
		EXPECT_EQ(cpu_read(i), i == 4 ? 0xab : pattern(i));
	}
	/* After INIT_DONE the abort is refused. */
	vm.arch.secure_guest = KVMPPC_SECURE_INIT_START |
			       KVMPPC_SECURE_INIT_DONE;
	EXPECT_EQ(kvmppc_h_svm_init_abort(&vm), H_STATE);
	vm_destroy();
	mmput(mm);
	kvmppc_uvmem_free();
	EXPECT_EQ(memremap_ledger_count(), 0);
	EXPECT_WARNS(0);
}

KTAP_CASE(qemu_exits_before_the_vm_is_destroyed)
{
	struct mm_struct *mm;
	unsigned long i;

	module_load(SECMEM_SIZE);
	kvmppc_uvmem_init();
	mm = vm_create();
	kvmppc_h_svm_init_start(&vm);
	kvmppc_h_svm_init_done(&vm);
	EXPECT_EQ(memremap_pgmap_pins(&kvmppc_uvmem_pgmap), GUEST_PAGES);
	/* QEMU exits first: unmapping puts every device page. */
	mmput(mm);
	step("QEMU's mm torn down:");
	EXPECT_EQ(stats.page_frees, GUEST_PAGES);
	EXPECT_EQ(memremap_pgmap_pins(&kvmppc_uvmem_pgmap), 0);
	EXPECT_EQ(bits_used(), 0);
	/* Freed without remove_gfn: the frames stay secure, paged out. */
	for (i = 0; i < GUEST_PAGES; i++)
		EXPECT_EQ(gfn_state(i), KVMPPC_GFN_MEM_PFN);
	/* The memslot flush then finds no VMA and stops at once. */
	kvmppc_uvmem_drop_pages(&vm.memslots[0], &vm, true);
	EXPECT_EQ(gfn_state(0), KVMPPC_GFN_MEM_PFN);
	vm_destroy();
	kvmppc_uvmem_free();
	EXPECT_EQ(memremap_ledger_count(), 0);
	EXPECT_WARNS(0);
}

/*
 * H_SVM_INIT_START failing at the second slot (its record's kzalloc(),
 * the third allocation of the call after slot 0's kzalloc() and
 * vzalloc()): 6.1's undo deletes the failing slot, never made, so slot 0
 * stays registered with the ultravisor and on the list until its memslot
 * is deleted.
 */
KTAP_CASE(init_start_failure_leaves_the_earlier_slots)
{
	unsigned long live, injected;
	struct mm_struct *mm;

	module_load(SECMEM_SIZE);
	kvmppc_uvmem_init();
	mm = vm_create();
	live = memremap_kmalloc_live();
	injected = memremap_kmalloc_injected();
	memremap_kmalloc_fail_nth(3);
	EXPECT_EQ(kvmppc_h_svm_init_start(&vm), H_PARAMETER);
	memremap_kmalloc_fail_nth(0);
	EXPECT_EQ(memremap_kmalloc_injected(), injected + 1);
	EXPECT_EQ(uv.slots, 0x1);		/* slot 0 still registered */
	EXPECT_EQ(gfn_state(0), 0);		/* and tracked */
	EXPECT_EQ(gfn_state(SLOT0_PAGES), ~0UL);	/* slot 1 is not */
	EXPECT_EQ(memremap_kmalloc_live(), live + 2);
	/* The ultravisor gives up on the guest; its memslots go. */
	vm_destroy();
	EXPECT_EQ(uv.slots, 0);
	EXPECT_EQ(memremap_kmalloc_live(), live);
	mmput(mm);
	kvmppc_uvmem_free();
	EXPECT_EQ(memremap_ledger_count(), 0);
	EXPECT_WARNS(0);
}

/*
 * request_free_mem_region() rounds the size up to a memory section, and
 * kvmppc_uvmem_free() releases range_len() of the pgmap; but 6.1's init
 * error paths release the secure-memory size itself. With a size that is
 * not a whole number of sections (64 MiB; a section is 128 MiB here, 16
 * MiB on ppc64) that release names no region held: it warns and the
 * region stays. Each failure after the region was taken shows it.
 */
KTAP_CASE(init_error_path_releases_the_unrounded_size)
{
	unsigned long regions = memremap_iomem_regions(), nth, leaked = 0;
	unsigned long warns;
	int ret = -1;

	module_load(SECMEM_SIZE / 2);
	EXPECT_EQ(kvmppc_uvmem_init(), 0);
	EXPECT_EQ(range_len(&kvmppc_uvmem_pgmap.range), SECMEM_SIZE);
	kvmppc_uvmem_free();
	EXPECT_EQ(memremap_iomem_regions(), regions);

	memremap_warn_quiet(true);
	for (nth = 1; ret && nth < 100; nth++) {
		module_load(SECMEM_SIZE / 2);
		warns = ktap_warns();
		memremap_kmalloc_fail_nth(nth);
		ret = kvmppc_uvmem_init();
		memremap_kmalloc_fail_nth(0);
		if (!ret)
			break;
		EXPECT_NULL(kvmppc_uvmem_bitmap);
		EXPECT_EQ(memremap_mapped_pgmaps(), 0);
		if (memremap_iomem_regions() == regions)
			continue;
		/* The region outlived its driver: one warning said so. */
		leaked++;
		EXPECT_EQ(ktap_warns(), warns + 1);
		EXPECT_EQ(memremap_iomem_regions(), regions + 1);
		release_mem_region(kvmppc_uvmem_pgmap.range.start,
				   range_len(&kvmppc_uvmem_pgmap.range));
		EXPECT_EQ(memremap_iomem_regions(), regions);
	}
	memremap_warn_quiet(false);
	printf("    # %lu failed inits left the region behind\n", leaked);
	EXPECT_EQ(ret, 0);
	EXPECT_TRUE(leaked > 0);
	EXPECT_EQ(ktap_warns(), leaked);
	kvmppc_uvmem_free();
	EXPECT_EQ(memremap_iomem_regions(), regions);
	EXPECT_EQ(memremap_ledger_count(), 0);
}

/*
 * The whole life of a secure guest, each allocation failing in turn: the
 * module's init, the slots, the page records, the pages the fault and the
 * abort page out to. A frame whose page-in fails stays a normal page; one
 * whose page-out fails stays secure until QEMU touches it again. The
 * guest aborts (so every frame is copied out) and QEMU checks its data
 * before the VM goes.
 */
static void secure_guest_life(bool *loaded)
{
	unsigned long i;

	*loaded = !kvmppc_uvmem_init() && kvmppc_uvmem_bitmap;
	if (*loaded && kvmppc_h_svm_init_start(&vm) == H_SUCCESS) {
		for (i = 0; i < 6; i++)
			page_in(i);
		secure_write(1, pattern(1));	/* as paged in */
		cpu_read(2);
		kvmppc_h_svm_init_abort(&vm);
	}
}

KTAP_CASE(allocation_failures_at_every_site)
{
	unsigned long nth, i, injected, regions = memremap_iomem_regions();
	bool hit = true, loaded;

	memremap_warn_quiet(true);
	for (nth = 1; hit && nth < 400; nth++) {
		module_load(SECMEM_SIZE);
		vm_create();
		injected = memremap_kmalloc_injected();
		memremap_kmalloc_fail_nth(nth);
		secure_guest_life(&loaded);
		memremap_kmalloc_fail_nth(0);
		hit = memremap_kmalloc_injected() != injected;
		/* QEMU reads every frame back (faulting what is left). */
		for (i = 0; i < GUEST_PAGES; i++)
			EXPECT_EQ(cpu_read(i), pattern(i));
		if (loaded)
			EXPECT_EQ(memremap_pgmap_pins(&kvmppc_uvmem_pgmap), 0);
		vm_destroy();
		mmput(vm.mm);
		kvmppc_uvmem_free();
		EXPECT_EQ(memremap_mapped_pgmaps(), 0);
		EXPECT_EQ(memremap_iomem_regions(), regions);
		EXPECT_EQ(memremap_ledger_count(), 0);
	}
	memremap_warn_quiet(false);
	printf("    # %lu allocations failed in turn\n", nth - 2);
	EXPECT_FALSE(hit);			/* every site was reached */
	EXPECT_WARNS(0);
}

KTAP_MAIN("driver_kvmppc_uvmem",
	  KTAP_ENTRY(init_maps_secure_memory_and_free_releases_it),
	  KTAP_ENTRY(page_in_moves_guest_frames_to_secure_memory),
	  KTAP_ENTRY(hv_fault_pages_a_secure_frame_out),
	  KTAP_ENTRY(sharing_a_secure_frame_skips_the_copy_out),
	  KTAP_ENTRY(vm_teardown_drops_frames_still_secure),
	  KTAP_ENTRY(init_abort_copies_every_frame_out),
	  KTAP_ENTRY(qemu_exits_before_the_vm_is_destroyed),
	  KTAP_ENTRY(init_start_failure_leaves_the_earlier_slots),
	  KTAP_ENTRY(init_error_path_releases_the_unrounded_size),
	  KTAP_ENTRY(allocation_failures_at_every_site))
