// SPDX-License-Identifier: GPL-2.0-only
/*
 * find_vma_intersection() (<linux/mm.h>): the first VMA of an mm meeting
 * [start, end), as mm/mmap.c answers it in Linux 6.1. Drivers that look a
 * guest or a buffer up by range (arch/powerpc/kvm/book3s_hv_uvmem.c) use it
 * where vma_lookup() would only look at one address.
 */
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/sched/mm.h>
#include <memremap/test.h>
#include "ktap.h"

#define VA	0x7f0000000000UL

KTAP_CASE(first_vma_meeting_the_range)
{
	struct mm_struct *mm = memremap_mm_create();
	struct vm_area_struct *a, *b;

	/* [VA, VA + 4 pages) and [VA + 8 pages, VA + 12 pages) */
	a = memremap_mm_add_vma(mm, VA, VA + 4 * PAGE_SIZE, VM_READ);
	b = memremap_mm_add_vma(mm, VA + 8 * PAGE_SIZE, VA + 12 * PAGE_SIZE,
				VM_READ | VM_WRITE);
	EXPECT_NOT_NULL(a);
	EXPECT_NOT_NULL(b);
	mmap_read_lock(mm);
	/* Inside, straddling the start, straddling the end. */
	EXPECT_PTR_EQ(find_vma_intersection(mm, VA + PAGE_SIZE,
					    VA + 2 * PAGE_SIZE), a);
	EXPECT_PTR_EQ(find_vma_intersection(mm, VA - PAGE_SIZE,
					    VA + PAGE_SIZE), a);
	EXPECT_PTR_EQ(find_vma_intersection(mm, VA + 3 * PAGE_SIZE,
					    VA + 9 * PAGE_SIZE), a);
	/* The gap alone meets nothing; the gap and b's first page meet b. */
	EXPECT_NULL(find_vma_intersection(mm, VA + 4 * PAGE_SIZE,
					  VA + 8 * PAGE_SIZE));
	EXPECT_PTR_EQ(find_vma_intersection(mm, VA + 5 * PAGE_SIZE,
					    VA + 8 * PAGE_SIZE + 1), b);
	/* Ending exactly at a VMA's start does not meet it. */
	EXPECT_NULL(find_vma_intersection(mm, VA - 2 * PAGE_SIZE, VA));
	/* Above every VMA. */
	EXPECT_NULL(find_vma_intersection(mm, VA + 12 * PAGE_SIZE,
					  VA + 13 * PAGE_SIZE));
	/* vma_lookup() of a gap address is NULL where this is not. */
	EXPECT_NULL(vma_lookup(mm, VA + 6 * PAGE_SIZE));
	EXPECT_PTR_EQ(find_vma_intersection(mm, VA + 6 * PAGE_SIZE,
					    VA + 16 * PAGE_SIZE), b);
	mmap_read_unlock(mm);
	mmput(mm);
	EXPECT_EQ(memremap_ledger_count(), 0);
	EXPECT_WARNS(0);
}

KTAP_CASE(an_mm_with_no_vma_meets_nothing)
{
	struct mm_struct *mm = memremap_mm_create();

	mmap_read_lock(mm);
	EXPECT_NULL(find_vma_intersection(mm, 0, ~0UL & PAGE_MASK));
	mmap_read_unlock(mm);
	mmput(mm);
	EXPECT_EQ(memremap_ledger_count(), 0);
	EXPECT_WARNS(0);
}

/*
 * The last mmput() tears the address space down and its VMAs with it
 * (6.1's exit_mmap() removes every VMA and destroys the tree): a holder of
 * mmgrab() (KVM, a notifier) looks up nothing afterwards.
 */
KTAP_CASE(no_vma_after_the_last_mmput)
{
	struct mm_struct *mm = memremap_mm_create();
	unsigned long live;

	memremap_mm_add_vma(mm, VA, VA + 4 * PAGE_SIZE, VM_READ | VM_WRITE);
	EXPECT_EQ(memremap_mm_access(mm, VA, NULL, 1, true), 0);
	live = memremap_kmalloc_live();
	mmgrab(mm);
	mmput(mm);
	EXPECT_EQ(memremap_mm_live(), 1);
	mmap_read_lock(mm);
	EXPECT_NULL(vma_lookup(mm, VA));
	EXPECT_NULL(find_vma(mm, 0));
	EXPECT_NULL(find_vma_intersection(mm, VA, VA + PAGE_SIZE));
	mmap_read_unlock(mm);
	EXPECT_EQ(memremap_mm_nr_entries(mm), 0);
	/* The VMA and the page are freed already; the mm itself is not. */
	EXPECT_EQ(memremap_kmalloc_live(), live - 2);
	mmdrop(mm);
	EXPECT_EQ(memremap_mm_live(), 0);
	EXPECT_EQ(memremap_ledger_count(), 0);
	EXPECT_WARNS(0);
}

KTAP_MAIN("vma_intersection",
	  KTAP_ENTRY(first_vma_meeting_the_range),
	  KTAP_ENTRY(an_mm_with_no_vma_meets_nothing),
	  KTAP_ENTRY(no_vma_after_the_last_mmput))
