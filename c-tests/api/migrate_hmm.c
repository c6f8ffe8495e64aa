// SPDX-License-Identifier: GPL-2.0-only
/*
 * Mirroring an address space (docs/DESIGN.md section 10): interval
 * notifiers and their invalidations, and hmm_range_fault() as Linux 6.1's
 * mm/hmm.c answers it, over the library's address-space model.
 */
#include <linux/container_of.h>
#include <linux/gfp.h>
#include <linux/hmm.h>
#include <linux/memremap.h>
#include <linux/migrate.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/mmu_notifier.h>
#include <linux/pagemap.h>
#include <linux/sched/mm.h>
#include <memremap/test.h>
#include "ktap.h"

#define SZ_2M		(2UL << 20)
#define DEV_BASE	(44UL << 30)
#define VA		0x7f0000000000UL
#define NPAGES		4

struct mirror {
	struct mmu_interval_notifier notifier;
	int calls;
	struct mmu_notifier_range last;
};

static bool mirror_invalidate(struct mmu_interval_notifier *sub,
			      const struct mmu_notifier_range *range,
			      unsigned long cur_seq)
{
	struct mirror *m = container_of(sub, struct mirror, notifier);

	m->calls++;
	m->last = *range;
	mmu_interval_set_seq(sub, cur_seq);
	return true;
}

static const struct mmu_interval_notifier_ops mirror_ops = {
	.invalidate = mirror_invalidate,
};

static int owner_cookie, page_frees;

static void count_free(struct page *page)
{
	(void)page;
	page_frees++;
}

/* Migrate the faulting page back to a fresh system page. */
static vm_fault_t fault_back(struct vm_fault *vmf)
{
	unsigned long src = 0, dst = 0;
	struct migrate_vma args = {
		.vma = vmf->vma, .src = &src, .dst = &dst,
		.start = vmf->address, .end = vmf->address + PAGE_SIZE,
		.pgmap_owner = &owner_cookie,
		.flags = MIGRATE_VMA_SELECT_DEVICE_PRIVATE,
		.fault_page = vmf->page,
	};
	struct page *rpage;

	if (migrate_vma_setup(&args))
		return VM_FAULT_SIGBUS;
	rpage = alloc_page(GFP_HIGHUSER_MOVABLE);
	if ((src & MIGRATE_PFN_MIGRATE) && rpage) {
		lock_page(rpage);
		dst = migrate_pfn(page_to_pfn(rpage)) | MIGRATE_PFN_WRITE;
	} else if (rpage) {
		__free_page(rpage);
	}
	migrate_vma_pages(&args);
	migrate_vma_finalize(&args);
	return 0;
}

static const struct dev_pagemap_ops dev_ops = {
	.page_free = count_free,
	.migrate_to_ram = fault_back,
};

static struct dev_pagemap pgmap = {
	.type = MEMORY_DEVICE_PRIVATE,
	.range = { DEV_BASE, DEV_BASE + SZ_2M - 1 },
	.nr_range = 1,
	.ops = &dev_ops,
	.owner = &owner_cookie,
};

static struct mm_struct *new_mm(struct vm_area_struct **vma)
{
	struct mm_struct *mm = memremap_mm_create();

	*vma = memremap_mm_add_vma(mm, VA, VA + NPAGES * PAGE_SIZE,
				   VM_READ | VM_WRITE);
	return mm;
}

static void poke(struct mm_struct *mm, unsigned long i)
{
	unsigned long v = i + 1;

	memremap_mm_access(mm, VA + i * PAGE_SIZE, &v, sizeof(v), true);
}

static struct page *page_at(struct mm_struct *mm, unsigned long i)
{
	struct page *page = NULL;

	memremap_mm_entry(mm, VA + i * PAGE_SIZE, &page, NULL);
	return page;
}

/* Move page @i of @mm to device page @i (a writable device entry). */
static void to_device(struct vm_area_struct *vma, unsigned long i)
{
	unsigned long src = 0, dst = 0;
	struct migrate_vma args = {
		.vma = vma, .src = &src, .dst = &dst,
		.start = VA + i * PAGE_SIZE, .end = VA + (i + 1) * PAGE_SIZE,
		.pgmap_owner = &owner_cookie,
		.flags = MIGRATE_VMA_SELECT_SYSTEM,
	};
	struct folio *folio;

	mmap_read_lock(vma->vm_mm);
	if (!migrate_vma_setup(&args) && (src & MIGRATE_PFN_MIGRATE)) {
		folio = pgmap_request_folio(&pgmap, i, 0);
		folio_lock(folio);
		dst = migrate_pfn(folio_pfn(folio)) | MIGRATE_PFN_WRITE;
	}
	migrate_vma_pages(&args);
	migrate_vma_finalize(&args);
	mmap_read_unlock(vma->vm_mm);
}

KTAP_CASE(a_notifier_holds_its_mm_and_sees_the_unmap)
{
	struct mirror m = { .calls = 0 };
	struct vm_area_struct *vma;
	struct mm_struct *mm = new_mm(&vma);

	EXPECT_EQ(mmu_interval_notifier_insert(&m.notifier, mm, VA,
					       NPAGES * PAGE_SIZE,
					       &mirror_ops), 0);
	EXPECT_EQ(memremap_mmu_notifiers_live(), 1);
	EXPECT_PTR_EQ(m.notifier.mm, mm);
	poke(mm, 0);
	EXPECT_EQ(m.calls, 0);			/* a fault changes nothing */
	mmput(mm);
	EXPECT_EQ(m.calls, 1);
	EXPECT_EQ(m.last.event, MMU_NOTIFY_UNMAP);
	EXPECT_EQ(m.last.start, VA);
	EXPECT_EQ(m.last.end, VA + NPAGES * PAGE_SIZE);
	EXPECT_EQ(memremap_mm_live(), 1);	/* the notifier's mmgrab() */
	mmu_interval_notifier_remove(&m.notifier);
	EXPECT_EQ(memremap_mm_live(), 0);
	EXPECT_EQ(memremap_mmu_notifiers_live(), 0);
	EXPECT_WARNS(0);
}

KTAP_CASE(hmm_range_fault_snapshots_and_faults)
{
	unsigned long pfns[NPAGES + 1];
	struct mirror m = { .calls = 0 };
	struct vm_area_struct *vma;
	struct mm_struct *mm = new_mm(&vma);
	struct hmm_range range = {
		.notifier = &m.notifier,
		.start = VA - PAGE_SIZE, .end = VA + NPAGES * PAGE_SIZE,
		.hmm_pfns = pfns,
	};

	mmu_interval_notifier_insert(&m.notifier, mm, VA - PAGE_SIZE,
				     (NPAGES + 1) * PAGE_SIZE, &mirror_ops);
	poke(mm, 0);
	poke(mm, 1);
	mmap_read_lock(mm);
	range.notifier_seq = mmu_interval_read_begin(&m.notifier);
	memset(pfns, 0, sizeof(pfns));
	EXPECT_EQ(hmm_range_fault(&range), 0);
	EXPECT_EQ(pfns[0], HMM_PFN_ERROR);	/* no VMA there */
	EXPECT_EQ(pfns[1], page_to_pfn(page_at(mm, 0)) | HMM_PFN_VALID |
		  HMM_PFN_WRITE);
	EXPECT_PTR_EQ(hmm_pfn_to_page(pfns[2]), page_at(mm, 1));
	EXPECT_EQ(pfns[3], 0);			/* a hole, not required */
	EXPECT_EQ(memremap_mm_nr_entries(mm), 2);

	/* Require the VMA's pages: the holes are faulted in. */
	range.start = VA;
	range.hmm_pfns = pfns + 1;
	range.default_flags = HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE;
	EXPECT_EQ(hmm_range_fault(&range), 0);
	EXPECT_EQ(memremap_mm_nr_entries(mm), NPAGES);
	EXPECT_TRUE(pfns[4] & HMM_PFN_VALID);
	EXPECT_PTR_EQ(hmm_pfn_to_page(pfns[4]), page_at(mm, 3));

	/* Required outside every VMA: -EFAULT. */
	range.start = VA - PAGE_SIZE;
	range.hmm_pfns = pfns;
	EXPECT_EQ(hmm_range_fault(&range), -EFAULT);
	mmap_read_unlock(mm);
	EXPECT_EQ(m.calls, 0);
	mmput(mm);
	mmu_interval_notifier_remove(&m.notifier);
	EXPECT_WARNS(0);
}

KTAP_CASE(device_pages_reported_to_their_owner_faulted_for_others)
{
	unsigned long pfns[NPAGES];
	struct mirror m = { .calls = 0 };
	struct vm_area_struct *vma;
	struct mm_struct *mm = new_mm(&vma);
	struct hmm_range range = {
		.notifier = &m.notifier,
		.start = VA, .end = VA + NPAGES * PAGE_SIZE,
		.hmm_pfns = pfns,
		.default_flags = HMM_PFN_REQ_FAULT,
		.dev_private_owner = &owner_cookie,
	};
	struct page *dpage;
	int tries = 0, ret;

	page_frees = 0;
	if (IS_ERR(memremap_pages(&pgmap, 0))) {
		EXPECT_TRUE(false);
		return;
	}
	mmu_interval_notifier_insert(&m.notifier, mm, VA, NPAGES * PAGE_SIZE,
				     &mirror_ops);
	poke(mm, 0);
	to_device(vma, 0);
	/* Collecting and unmapping: a MIGRATE invalidation with the owner. */
	EXPECT_EQ(m.calls, 1);
	EXPECT_EQ(m.last.event, MMU_NOTIFY_MIGRATE);
	EXPECT_PTR_EQ(m.last.owner, &owner_cookie);
	EXPECT_EQ(m.last.start, VA);
	EXPECT_EQ(m.last.end, VA + PAGE_SIZE);
	dpage = page_at(mm, 0);
	EXPECT_TRUE(is_device_private_page(dpage));

	mmap_read_lock(mm);
	range.notifier_seq = mmu_interval_read_begin(&m.notifier);
	EXPECT_EQ(hmm_range_fault(&range), 0);	/* the owner: as it is */
	EXPECT_EQ(pfns[0], page_to_pfn(dpage) | HMM_PFN_VALID |
		  HMM_PFN_WRITE);
	EXPECT_EQ(page_frees, 0);

	/* Another owner requires it: faulted back, then -EBUSY, retried. */
	range.dev_private_owner = NULL;
	do {
		range.notifier_seq = mmu_interval_read_begin(&m.notifier);
		ret = hmm_range_fault(&range);
	} while (ret == -EBUSY && ++tries < 4);
	EXPECT_EQ(ret, 0);
	EXPECT_EQ(tries, 1);
	EXPECT_EQ(page_frees, 1);
	EXPECT_FALSE(is_zone_device_page(hmm_pfn_to_page(pfns[0])));
	EXPECT_PTR_EQ(hmm_pfn_to_page(pfns[0]), page_at(mm, 0));
	mmap_read_unlock(mm);
	mmput(mm);
	mmu_interval_notifier_remove(&m.notifier);
	EXPECT_EQ(memremap_pgmap_pins(&pgmap), 0);
	memunmap_pages(&pgmap);
	EXPECT_WARNS(0);
}

KTAP_CASE(notifier_misuse_warns)
{
	struct mirror m = { .calls = 0 };
	struct vm_area_struct *vma;
	struct mm_struct *mm = new_mm(&vma);
	unsigned long pfn;
	struct hmm_range range = {
		.notifier = &m.notifier,
		.start = VA, .end = VA + PAGE_SIZE, .hmm_pfns = &pfn,
	};

	memremap_warn_quiet(true);
	mmu_interval_notifier_remove(&m.notifier);	/* never inserted */
	EXPECT_EQ(hmm_range_fault(&range), -EINVAL);
	EXPECT_WARNS(2);
	mmu_interval_notifier_insert(&m.notifier, mm, VA, PAGE_SIZE,
				     &mirror_ops);
	EXPECT_EQ(mmu_interval_notifier_insert(&m.notifier, mm, VA,
					       PAGE_SIZE, &mirror_ops),
		  -EBUSY);
	range.notifier_seq = mmu_interval_read_begin(&m.notifier);
	EXPECT_EQ(hmm_range_fault(&range), 0);	/* without the mmap lock */
	EXPECT_WARNS(4);
	memremap_warn_quiet(false);
	mmu_interval_notifier_remove(&m.notifier);
	mmput(mm);
}

KTAP_MAIN("migrate_hmm",
	  KTAP_ENTRY(a_notifier_holds_its_mm_and_sees_the_unmap),
	  KTAP_ENTRY(hmm_range_fault_snapshots_and_faults),
	  KTAP_ENTRY(device_pages_reported_to_their_owner_faulted_for_others),
	  KTAP_ENTRY(notifier_misuse_warns))
