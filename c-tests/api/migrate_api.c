// SPDX-License-Identifier: GPL-2.0-only
/*
 * The driver surface of migration, contract by contract (docs/DESIGN.md
 * section 10): the page allocator and highmem, address spaces and their
 * faults, the swap-entry form of device-private entries, and
 * migrate_vma_*() / migrate_device_*() with every reference, lock, pin and
 * page_free() call they take and drop, as Linux 6.1's mm/migrate_device.c
 * takes and drops them. The harness checks that nothing leaks.
 */
#include <linux/gfp.h>
#include <linux/highmem.h>
#include <linux/hmm.h>
#include <linux/memremap.h>
#include <linux/migrate.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/pagemap.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/swapops.h>
#include <memremap/test.h>
#include "ktap.h"

#define SZ_2M		(2UL << 20)
#define DEV_BASE	(40UL << 30)	/* the device pgmap's range */
#define VA		0x7f0000000000UL
#define NPAGES		8

/* ---- a DEVICE_PRIVATE pgmap with counting ops ---- */

static int owner_cookie, other_cookie;
static int page_frees;
static int faults;
static struct vm_fault last_vmf;
static vm_fault_t (*fault_handler)(struct vm_fault *vmf);

static void count_free(struct page *page)
{
	(void)page;
	page_frees++;
}

static vm_fault_t to_ram(struct vm_fault *vmf)
{
	faults++;
	last_vmf = *vmf;
	return fault_handler ? fault_handler(vmf) : 0;
}

static const struct dev_pagemap_ops dev_ops = {
	.page_free = count_free,
	.migrate_to_ram = to_ram,
};

static struct dev_pagemap pgmap;

/* Map the device pgmap afresh; a failure fails the case (false). */
static bool dev_map(void *owner)
{
	void *ret;

	memset(&pgmap, 0, sizeof(pgmap));
	pgmap.type = MEMORY_DEVICE_PRIVATE;
	pgmap.range.start = DEV_BASE;
	pgmap.range.end = DEV_BASE + SZ_2M - 1;
	pgmap.nr_range = 1;
	pgmap.ops = &dev_ops;
	pgmap.owner = owner;
	page_frees = 0;
	faults = 0;
	fault_handler = NULL;
	ret = memremap_pages(&pgmap, 0);
	if (IS_ERR(ret))
		KTAP_FAIL("memremap_pages() of the device: %ld", PTR_ERR(ret));
	return !IS_ERR(ret);
}

/* Device page @i: referenced (a pin on the pgmap) and locked. */
static struct page *dev_page(unsigned long i)
{
	struct folio *folio = pgmap_request_folio(&pgmap, i, 0);

	if (!folio)
		return NULL;
	lock_page(&folio->page);
	return &folio->page;
}

/* An mm with one read-write anonymous VMA of NPAGES pages at VA. */
static struct mm_struct *new_mm(struct vm_area_struct **vma)
{
	struct mm_struct *mm = memremap_mm_create();

	*vma = mm ? memremap_mm_add_vma(mm, VA, VA + NPAGES * PAGE_SIZE,
					VM_READ | VM_WRITE) : NULL;
	return mm;
}

/* Fault in page @i of the VMA and write @v to its first word. */
static int poke(struct mm_struct *mm, unsigned long i, unsigned long v)
{
	return memremap_mm_access(mm, VA + i * PAGE_SIZE, &v, sizeof(v), true);
}

static unsigned long peek(struct mm_struct *mm, unsigned long i)
{
	unsigned long v = ~0UL;

	if (memremap_mm_access(mm, VA + i * PAGE_SIZE, &v, sizeof(v), false))
		return ~0UL;
	return v;
}

static struct page *entry_page(struct mm_struct *mm, unsigned long i,
			       int *kind, swp_entry_t *e)
{
	struct page *page = NULL;
	unsigned long val = 0;

	*kind = memremap_mm_entry(mm, VA + i * PAGE_SIZE, &page, &val);
	e->val = val;
	return page;
}

/* ---- the page allocator ---- */

KTAP_CASE(alloc_page_is_a_system_page_in_the_memmap)
{
	unsigned long live = memremap_kmalloc_live();
	unsigned long sys = memremap_system_pages_live();
	struct page *page = alloc_page(GFP_KERNEL);
	unsigned long pfn;
	void *va;

	EXPECT_NOT_NULL(page);
	if (!page)
		return;
	pfn = page_to_pfn(page);
	EXPECT_PTR_EQ(pfn_to_page(pfn), page);
	EXPECT_FALSE(is_zone_device_page(page));
	EXPECT_FALSE(is_device_private_page(page));
	EXPECT_NULL(folio_pgmap(page_folio(page)));
	EXPECT_EQ(page_ref_count(page), 1);
	EXPECT_EQ(memremap_kmalloc_live(), live + 1);
	EXPECT_EQ(memremap_system_pages_live(), sys + 1);
	va = page_address(page);
	EXPECT_NOT_NULL(va);
	EXPECT_EQ((unsigned long)va & ~PAGE_MASK, 0);
	memset(va, 0x5a, PAGE_SIZE);
	__free_page(page);
	EXPECT_EQ(memremap_kmalloc_live(), live);
	EXPECT_EQ(memremap_system_pages_live(), sys);
	EXPECT_EQ(page_ref_count(page), 0);
	EXPECT_WARNS(0);
}

KTAP_CASE(alloc_pages_gives_aligned_contiguous_blocks)
{
	struct page *page = alloc_pages(GFP_KERNEL | __GFP_ZERO, 3);
	unsigned long pfn;
	char *va;

	EXPECT_NOT_NULL(page);
	if (!page)
		return;
	pfn = page_to_pfn(page);
	EXPECT_EQ(pfn % 8, 0);
	va = page_address(page);
	EXPECT_PTR_EQ(page_address(pfn_to_page(pfn + 5)), va + 5 * PAGE_SIZE);
	EXPECT_EQ(page_ref_count(pfn_to_page(pfn + 1)), 0);
	EXPECT_EQ(va[8 * PAGE_SIZE - 1], 0);
	__free_pages(page, 3);
	EXPECT_NULL(alloc_pages(GFP_KERNEL | __GFP_NOWARN, MAX_ORDER));
	EXPECT_WARNS(0);
}

KTAP_CASE(put_page_to_zero_frees_a_system_page)
{
	unsigned long sys = memremap_system_pages_live();
	struct page *page = alloc_page(GFP_KERNEL);

	if (!page) {
		EXPECT_NOT_NULL(page);
		return;
	}
	get_page(page);
	EXPECT_EQ(page_ref_count(page), 2);
	put_page(page);
	EXPECT_EQ(memremap_system_pages_live(), sys + 1);
	put_page(page);
	EXPECT_EQ(memremap_system_pages_live(), sys);
	EXPECT_WARNS(0);
}

KTAP_CASE(a_live_page_is_in_the_ledger_and_injection_fails_it)
{
	unsigned long items = memremap_ledger_count();
	unsigned long injected = memremap_kmalloc_injected();
	struct page *page;

	memremap_kmalloc_fail_nth(1);
	EXPECT_NULL(alloc_page(GFP_KERNEL));
	EXPECT_EQ(memremap_kmalloc_injected(), injected + 1);
	page = alloc_pages(GFP_KERNEL, 0);
	EXPECT_EQ(memremap_ledger_count(), items + 1);
	__free_pages(page, 0);
	EXPECT_EQ(memremap_ledger_count(), items);
}

KTAP_CASE(bad_frees_warn_and_change_nothing)
{
	struct page *page = alloc_page(GFP_KERNEL);

	memremap_warn_quiet(true);
	__free_pages(page, 1);			/* wrong order */
	EXPECT_WARNS(1);
	EXPECT_EQ(page_ref_count(page), 1);
	__free_page(page);
	__free_page(page);			/* double free */
	EXPECT_WARNS(2);
	memremap_warn_quiet(false);
}

KTAP_CASE(highmem_maps_system_pages_only)
{
	struct page *a = alloc_page(GFP_KERNEL);
	struct page *b = alloc_page(GFP_KERNEL);
	unsigned char *va, *vb;

	if (!a || !b) {
		EXPECT_NOT_NULL(a);
		EXPECT_NOT_NULL(b);
		return;
	}
	va = kmap_local_page(a);
	memset(va, 0xa5, PAGE_SIZE);
	kunmap_local(va);
	copy_highpage(b, a);
	vb = kmap_local_page(b);
	EXPECT_EQ(vb[0], 0xa5);
	EXPECT_EQ(vb[PAGE_SIZE - 1], 0xa5);
	kunmap_local(vb);
	clear_highpage(a);
	EXPECT_EQ(((unsigned char *)page_address(a))[17], 0);
	__free_page(a);
	__free_page(b);

	/* A DEVICE_PRIVATE page has no CPU address. */
	dev_map(&owner_cookie);
	a = dev_page(0);
	memremap_warn_quiet(true);
	EXPECT_NULL(page_address(a));
	EXPECT_WARNS(1);
	memremap_warn_quiet(false);
	unlock_page(a);
	put_page(a);
	memunmap_pages(&pgmap);
}

/* ---- address spaces ---- */

KTAP_CASE(mm_vmas_and_references)
{
	unsigned long live = memremap_kmalloc_live();
	struct vm_area_struct *vma;
	struct mm_struct *mm = new_mm(&vma);

	EXPECT_NOT_NULL(vma);
	if (!vma)
		return;
	EXPECT_PTR_EQ(vma->vm_mm, mm);
	EXPECT_TRUE(vma_is_anonymous(vma));
	EXPECT_EQ(vma->vm_pgoff, VA >> PAGE_SHIFT);
	EXPECT_PTR_EQ(vma_lookup(mm, VA + 5), vma);
	EXPECT_NULL(vma_lookup(mm, VA - 1));
	EXPECT_PTR_EQ(find_vma(mm, VA - 1), vma);
	EXPECT_EQ(mm->map_count, 1);
	memremap_warn_quiet(true);
	EXPECT_NULL(memremap_mm_add_vma(mm, VA + PAGE_SIZE, VA + SZ_2M,
					VM_READ));
	EXPECT_WARNS(1);
	memremap_warn_quiet(false);
	EXPECT_TRUE(mmget_not_zero(mm));
	mmput(mm);
	mmgrab(mm);
	mmput(mm);			/* last user: unmapped */
	EXPECT_EQ(memremap_mm_live(), 1);
	mmdrop(mm);			/* last count: freed */
	EXPECT_EQ(memremap_mm_live(), 0);
	EXPECT_EQ(memremap_kmalloc_live(), live);
}

KTAP_CASE(cpu_faults_map_zeroed_system_pages)
{
	unsigned long sys = memremap_system_pages_live();
	struct vm_area_struct *vma;
	struct mm_struct *mm = new_mm(&vma);
	struct page *page;
	swp_entry_t e;
	int kind;

	EXPECT_EQ(peek(mm, 2), 0);
	EXPECT_EQ(poke(mm, 2, 42), 0);
	EXPECT_EQ(peek(mm, 2), 42);
	page = entry_page(mm, 2, &kind, &e);
	EXPECT_EQ(kind, MEMREMAP_PTE_PRESENT);
	EXPECT_FALSE(is_zone_device_page(page));
	EXPECT_EQ(page_ref_count(page), 1);
	EXPECT_EQ(memremap_page_mapcount(page), 1);
	EXPECT_EQ(memremap_mm_nr_entries(mm), 1);
	EXPECT_EQ(memremap_system_pages_live(), sys + 1);
	EXPECT_EQ(memremap_mm_access(mm, VA + NPAGES * PAGE_SIZE, NULL, 0,
				     false), -EFAULT);
	mmput(mm);
	EXPECT_EQ(memremap_system_pages_live(), sys);
	EXPECT_WARNS(0);
}

KTAP_CASE(mmap_lock_is_a_read_write_lock)
{
	struct vm_area_struct *vma;
	struct mm_struct *mm = new_mm(&vma);

	mmap_read_lock(mm);
	EXPECT_TRUE(mmap_read_trylock(mm));
	mmap_read_unlock(mm);
	mmap_assert_locked(mm);
	mmap_read_unlock(mm);
	EXPECT_WARNS(0);
	memremap_warn_quiet(true);
	mmap_assert_locked(mm);
	mmap_read_unlock(mm);
	EXPECT_WARNS(2);
	memremap_warn_quiet(false);
	mmap_write_lock(mm);
	EXPECT_FALSE(mmap_read_trylock(mm));
	mmap_write_unlock(mm);
	mmput(mm);
}

/* ---- encodings ---- */

KTAP_CASE(swap_entries_and_migrate_pfns_are_the_kernels)
{
	swp_entry_t e = make_writable_device_private_entry(0x12345);

	EXPECT_EQ(MAX_SWAPFILES, 23);
	EXPECT_EQ(SWP_DEVICE_WRITE, 27);
	EXPECT_EQ(SWP_DEVICE_READ, 28);
	EXPECT_EQ(SWP_MIGRATION_READ, 24);
	EXPECT_EQ(SWP_MIGRATION_WRITE, 26);
	EXPECT_EQ(swp_type(e), 27);
	EXPECT_EQ(e.val, (27UL << 58) | 0x12345);
	EXPECT_TRUE(is_device_private_entry(e));
	EXPECT_TRUE(is_writable_device_private_entry(e));
	EXPECT_FALSE(is_migration_entry(e));
	e = make_readable_device_private_entry(0x12345);
	EXPECT_FALSE(is_writable_device_private_entry(e));
	EXPECT_EQ(swp_offset_pfn(e), 0x12345);
	EXPECT_TRUE(is_migration_entry(make_readable_migration_entry(1)));
	EXPECT_EQ(migrate_pfn(0x1234), (0x1234UL << 6) | 1);
	EXPECT_NULL(migrate_pfn_to_page(MIGRATE_PFN_MIGRATE));
	EXPECT_EQ(HMM_PFN_VALID, 1UL << 63);
	EXPECT_EQ(HMM_PFN_FLAGS, 0xffUL << 56);
	EXPECT_EQ(hmm_pfn_to_map_order(HMM_PFN_VALID | (9UL << 56) | 7), 9);
	EXPECT_WARNS(0);
}

/* ---- migrate_vma_*() ---- */

KTAP_CASE(setup_refuses_bad_ranges)
{
	unsigned long src[NPAGES], dst[NPAGES];
	struct vm_area_struct *vma;
	struct mm_struct *mm = new_mm(&vma);
	struct migrate_vma args = {
		.vma = vma, .src = src, .dst = dst,
		.start = VA, .end = VA + NPAGES * PAGE_SIZE,
		.flags = MIGRATE_VMA_SELECT_SYSTEM,
	};
	struct migrate_vma bad;

	mmap_read_lock(mm);
	bad = args;
	bad.vma = NULL;
	EXPECT_EQ(migrate_vma_setup(&bad), -EINVAL);
	bad = args;
	bad.end = bad.start;
	EXPECT_EQ(migrate_vma_setup(&bad), -EINVAL);
	bad = args;
	bad.end += PAGE_SIZE;
	EXPECT_EQ(migrate_vma_setup(&bad), -EINVAL);
	bad = args;
	bad.start -= PAGE_SIZE;
	EXPECT_EQ(migrate_vma_setup(&bad), -EINVAL);
	bad = args;
	bad.src = NULL;
	EXPECT_EQ(migrate_vma_setup(&bad), -EINVAL);
	bad = args;
	bad.fault_page = pfn_to_page(page_to_pfn(alloc_page(GFP_KERNEL)));
	EXPECT_EQ(migrate_vma_setup(&bad), -EINVAL);	/* not device private */
	__free_page(bad.fault_page);
	EXPECT_WARNS(0);
	mmap_read_unlock(mm);

	/* Without the mmap lock: a WARN (the kernel's mmap_assert_locked). */
	memremap_warn_quiet(true);
	EXPECT_EQ(migrate_vma_setup(&args), 0);
	EXPECT_WARNS(1);
	memremap_warn_quiet(false);
	EXPECT_EQ(args.cpages, NPAGES);		/* all holes */
	migrate_vma_pages(&args);
	migrate_vma_finalize(&args);
	EXPECT_EQ(memremap_mm_nr_entries(mm), 0);
	mmput(mm);
}

/*
 * Migrate pages [0, n) of @mm to device pages 0.. of the pgmap, as a
 * driver does; returns the number migrated.
 */
static unsigned long to_device(struct mm_struct *mm,
			       struct vm_area_struct *vma, unsigned long n)
{
	unsigned long src[NPAGES], dst[NPAGES], i, moved = 0;
	struct migrate_vma args = {
		.vma = vma, .src = src, .dst = dst,
		.start = VA, .end = VA + n * PAGE_SIZE,
		.pgmap_owner = &owner_cookie,
		.flags = MIGRATE_VMA_SELECT_SYSTEM,
	};

	mmap_read_lock(mm);
	if (migrate_vma_setup(&args))
		goto out;
	for (i = 0; i < args.npages; i++) {
		struct page *dpage;

		if (!(src[i] & MIGRATE_PFN_MIGRATE))
			continue;
		dpage = dev_page(i);
		if (!dpage)
			continue;
		dst[i] = migrate_pfn(page_to_pfn(dpage));
		if ((src[i] & MIGRATE_PFN_WRITE) || !(src[i] & MIGRATE_PFN_VALID))
			dst[i] |= MIGRATE_PFN_WRITE;
	}
	migrate_vma_pages(&args);
	for (i = 0; i < args.npages; i++)
		moved += dst[i] && (src[i] & MIGRATE_PFN_MIGRATE);
	migrate_vma_finalize(&args);
out:
	mmap_read_unlock(mm);
	return moved;
}

KTAP_CASE(setup_collects_locks_and_unmaps_system_pages)
{
	unsigned long src[NPAGES], dst[NPAGES], i;
	unsigned long sys = memremap_system_pages_live();
	struct vm_area_struct *vma;
	struct mm_struct *mm = new_mm(&vma);
	struct migrate_vma args = {
		.vma = vma, .src = src, .dst = dst,
		.start = VA, .end = VA + 4 * PAGE_SIZE,
		.flags = MIGRATE_VMA_SELECT_SYSTEM,
	};
	struct page *pages[4];
	swp_entry_t e;
	int kind;

	for (i = 0; i < 3; i++)		/* page 3 stays a hole */
		poke(mm, i, i);
	for (i = 0; i < 3; i++)
		pages[i] = entry_page(mm, i, &kind, &e);
	mmap_read_lock(mm);
	EXPECT_EQ(migrate_vma_setup(&args), 0);
	EXPECT_EQ(args.npages, 4);
	EXPECT_EQ(args.cpages, 4);
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(src[i], migrate_pfn(page_to_pfn(pages[i])) |
			  MIGRATE_PFN_MIGRATE | MIGRATE_PFN_WRITE);
		EXPECT_TRUE(PageLocked(pages[i]));
		/* The mapping's reference became the migration's. */
		EXPECT_EQ(page_ref_count(pages[i]), 1);
		EXPECT_EQ(memremap_page_mapcount(pages[i]), 0);
		EXPECT_PTR_EQ(entry_page(mm, i, &kind, &e), pages[i]);
		EXPECT_EQ(kind, MEMREMAP_PTE_SWAP);
		EXPECT_TRUE(is_writable_migration_entry(e));
		EXPECT_PTR_EQ(pfn_swap_entry_to_page(e), pages[i]);
	}
	EXPECT_EQ(src[3], MIGRATE_PFN_MIGRATE);
	EXPECT_EQ(dst[3], 0);
	/* No destination: everything goes back as it was. */
	migrate_vma_pages(&args);
	EXPECT_EQ(src[0] & MIGRATE_PFN_MIGRATE, 0);
	migrate_vma_finalize(&args);
	mmap_read_unlock(mm);
	for (i = 0; i < 3; i++) {
		EXPECT_PTR_EQ(entry_page(mm, i, &kind, &e), pages[i]);
		EXPECT_EQ(kind, MEMREMAP_PTE_PRESENT);
		EXPECT_FALSE(PageLocked(pages[i]));
		EXPECT_EQ(page_ref_count(pages[i]), 1);
		EXPECT_EQ(memremap_page_mapcount(pages[i]), 1);
		EXPECT_EQ(peek(mm, i), i);
	}
	EXPECT_EQ(memremap_system_pages_live(), sys + 3);
	mmput(mm);
	EXPECT_EQ(memremap_system_pages_live(), sys);
	EXPECT_WARNS(0);
}

KTAP_CASE(migrate_to_device_and_fault_back)
{
	unsigned long sys = memremap_system_pages_live();
	struct vm_area_struct *vma;
	struct mm_struct *mm = new_mm(&vma);
	struct page *dpage;
	swp_entry_t e;
	int kind;

	if (!dev_map(&owner_cookie))
		return;
	poke(mm, 0, 7);
	poke(mm, 1, 8);
	EXPECT_EQ(to_device(mm, vma, 3), 3);	/* two pages and a hole */
	EXPECT_EQ(memremap_system_pages_live(), sys);
	EXPECT_EQ(memremap_pgmap_pins(&pgmap), 3);
	dpage = entry_page(mm, 1, &kind, &e);
	EXPECT_EQ(kind, MEMREMAP_PTE_SWAP);
	EXPECT_TRUE(is_device_private_entry(e));
	EXPECT_TRUE(is_writable_device_private_entry(e));
	EXPECT_PTR_EQ(pfn_swap_entry_to_page(e), dpage);
	EXPECT_TRUE(is_device_private_page(dpage));
	EXPECT_EQ(page_ref_count(dpage), 1);
	EXPECT_EQ(memremap_page_mapcount(dpage), 1);
	EXPECT_FALSE(PageLocked(dpage));
	entry_page(mm, 2, &kind, &e);		/* the hole, filled */
	EXPECT_TRUE(is_device_private_entry(e));

	/* A CPU access: migrate_to_ram() with the fault's vm_fault. */
	EXPECT_EQ(memremap_mm_access(mm, VA + PAGE_SIZE + 8, NULL, 0, true),
		  -EAGAIN);			/* to_ram() does nothing */
	EXPECT_EQ(faults, 4);
	EXPECT_PTR_EQ(last_vmf.page, dpage);
	EXPECT_PTR_EQ(last_vmf.vma, vma);
	EXPECT_EQ(last_vmf.address, VA + PAGE_SIZE);
	EXPECT_EQ(last_vmf.real_address, VA + PAGE_SIZE + 8);
	EXPECT_TRUE(last_vmf.flags & FAULT_FLAG_WRITE);
	EXPECT_WARNS(1);			/* still device-private */
	EXPECT_EQ(page_ref_count(dpage), 1);	/* the fault's ref dropped */

	/* Tearing the mm down puts every device page: page_free() each. */
	mmput(mm);
	EXPECT_EQ(page_frees, 3);
	EXPECT_EQ(memremap_pgmap_pins(&pgmap), 0);
	memunmap_pages(&pgmap);
	EXPECT_EQ(memremap_system_pages_live(), sys);
}

/* A migrate_to_ram() that moves the faulting page back to a new page. */
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
	if (src & MIGRATE_PFN_MIGRATE) {
		/* The fault's ref, the migration's: 2, and locked. */
		if (page_ref_count(vmf->page) != 2 || !PageLocked(vmf->page))
			return VM_FAULT_SIGBUS;
		rpage = alloc_page_vma(GFP_HIGHUSER_MOVABLE, vmf->vma,
				       vmf->address);
		if (rpage) {
			lock_page(rpage);
			*(unsigned long *)page_address(rpage) = 0xfeed;
			dst = migrate_pfn(page_to_pfn(rpage));
			if (src & MIGRATE_PFN_WRITE)
				dst |= MIGRATE_PFN_WRITE;
		}
	}
	migrate_vma_pages(&args);
	migrate_vma_finalize(&args);
	return 0;
}

KTAP_CASE(fault_migrates_back_with_fault_page)
{
	struct vm_area_struct *vma;
	struct mm_struct *mm = new_mm(&vma);
	struct page *page;
	swp_entry_t e;
	int kind;

	if (!dev_map(&owner_cookie))
		return;
	poke(mm, 0, 1);
	EXPECT_EQ(to_device(mm, vma, 1), 1);
	fault_handler = fault_back;
	EXPECT_EQ(peek(mm, 0), 0xfeed);
	EXPECT_EQ(faults, 1);
	EXPECT_EQ(page_frees, 1);
	EXPECT_EQ(memremap_pgmap_pins(&pgmap), 0);
	page = entry_page(mm, 0, &kind, &e);
	EXPECT_EQ(kind, MEMREMAP_PTE_PRESENT);
	EXPECT_FALSE(is_zone_device_page(page));
	EXPECT_EQ(page_ref_count(page), 1);
	EXPECT_EQ(memremap_page_mapcount(page), 1);
	EXPECT_FALSE(PageLocked(page));
	mmput(mm);
	memunmap_pages(&pgmap);
	EXPECT_WARNS(0);
}

KTAP_CASE(setup_selects_by_flags_and_owner)
{
	unsigned long src[NPAGES], dst[NPAGES];
	struct vm_area_struct *vma;
	struct mm_struct *mm = new_mm(&vma);
	struct migrate_vma args = {
		.vma = vma, .src = src, .dst = dst,
		.start = VA, .end = VA + 2 * PAGE_SIZE,
		.pgmap_owner = &other_cookie,
		.flags = MIGRATE_VMA_SELECT_DEVICE_PRIVATE,
	};

	if (!dev_map(&owner_cookie))
		return;
	poke(mm, 0, 1);
	poke(mm, 1, 2);
	EXPECT_EQ(to_device(mm, vma, 1), 1);
	mmap_read_lock(mm);
	/* Another owner's device page and a system page: neither taken. */
	EXPECT_EQ(migrate_vma_setup(&args), 0);
	EXPECT_EQ(args.cpages, 0);
	EXPECT_EQ(src[0], 0);
	EXPECT_EQ(src[1], 0);
	migrate_vma_pages(&args);
	migrate_vma_finalize(&args);
	/* The owner's: the device page only. */
	args.pgmap_owner = &owner_cookie;
	EXPECT_EQ(migrate_vma_setup(&args), 0);
	EXPECT_EQ(args.cpages, 1);
	EXPECT_TRUE(src[0] & MIGRATE_PFN_MIGRATE);
	EXPECT_EQ(src[1], 0);
	migrate_vma_pages(&args);		/* no dst: nothing moves */
	migrate_vma_finalize(&args);
	mmap_read_unlock(mm);
	EXPECT_EQ(memremap_pgmap_pins(&pgmap), 1);
	mmput(mm);
	EXPECT_EQ(page_frees, 1);
	memunmap_pages(&pgmap);
	EXPECT_WARNS(0);
}

KTAP_CASE(an_extra_reference_keeps_a_page_from_moving)
{
	unsigned long src[NPAGES], dst[NPAGES];
	struct vm_area_struct *vma;
	struct mm_struct *mm = new_mm(&vma);
	struct migrate_vma args = {
		.vma = vma, .src = src, .dst = dst,
		.start = VA, .end = VA + PAGE_SIZE,
		.flags = MIGRATE_VMA_SELECT_SYSTEM,
	};
	struct page *page;
	swp_entry_t e;
	int kind;

	poke(mm, 0, 3);
	page = entry_page(mm, 0, &kind, &e);
	get_page(page);				/* a GUP pin, say */
	mmap_read_lock(mm);
	EXPECT_EQ(migrate_vma_setup(&args), 0);
	EXPECT_EQ(args.cpages, 0);		/* restored at once */
	EXPECT_EQ(src[0], 0);
	EXPECT_FALSE(PageLocked(page));
	EXPECT_EQ(page_ref_count(page), 2);
	entry_page(mm, 0, &kind, &e);
	EXPECT_EQ(kind, MEMREMAP_PTE_PRESENT);
	migrate_vma_pages(&args);
	migrate_vma_finalize(&args);
	mmap_read_unlock(mm);
	put_page(page);
	mmput(mm);
	EXPECT_WARNS(0);
}

KTAP_CASE(finalize_puts_unused_destinations)
{
	unsigned long src[NPAGES], dst[NPAGES];
	struct vm_area_struct *vma;
	struct mm_struct *mm = new_mm(&vma);
	struct migrate_vma args = {
		.vma = vma, .src = src, .dst = dst,
		.start = VA, .end = VA + PAGE_SIZE,
		.flags = MIGRATE_VMA_SELECT_SYSTEM,
	};
	struct page *dpage;

	if (!dev_map(&owner_cookie))
		return;
	poke(mm, 0, 3);
	mmap_read_lock(mm);
	EXPECT_EQ(migrate_vma_setup(&args), 0);
	dpage = dev_page(0);
	dst[0] = migrate_pfn(page_to_pfn(dpage));
	src[0] &= ~MIGRATE_PFN_MIGRATE;		/* the driver gives up */
	migrate_vma_pages(&args);
	migrate_vma_finalize(&args);
	mmap_read_unlock(mm);
	EXPECT_EQ(page_frees, 1);		/* the unused dst, freed */
	EXPECT_EQ(memremap_pgmap_pins(&pgmap), 0);
	EXPECT_EQ(peek(mm, 0), 3);
	mmput(mm);
	memunmap_pages(&pgmap);
	EXPECT_WARNS(0);
}

KTAP_CASE(an_unlocked_destination_is_caught)
{
	unsigned long src[NPAGES], dst[NPAGES];
	struct vm_area_struct *vma;
	struct mm_struct *mm = new_mm(&vma);
	struct migrate_vma args = {
		.vma = vma, .src = src, .dst = dst,
		.start = VA, .end = VA + PAGE_SIZE,
		.flags = MIGRATE_VMA_SELECT_SYSTEM,
	};
	struct folio *folio;

	if (!dev_map(&owner_cookie))
		return;
	poke(mm, 0, 3);
	mmap_read_lock(mm);
	EXPECT_EQ(migrate_vma_setup(&args), 0);
	folio = pgmap_request_folio(&pgmap, 0, 0);	/* not locked */
	dst[0] = migrate_pfn(folio_pfn(folio)) | MIGRATE_PFN_WRITE;
	migrate_vma_pages(&args);
	memremap_warn_quiet(true);
	migrate_vma_finalize(&args);
	EXPECT_WARNS(1);			/* unlock_page() of it */
	memremap_warn_quiet(false);
	mmap_read_unlock(mm);
	EXPECT_EQ(folio_ref_count(folio), 1);	/* the mapping's */
	mmput(mm);
	EXPECT_EQ(page_frees, 1);
	memunmap_pages(&pgmap);
}

/* ---- migrate_device_*(): eviction ---- */

KTAP_CASE(migrate_device_range_evicts_pages_in_use)
{
	unsigned long npages = SZ_2M >> PAGE_SHIFT, i, moved = 0;
	unsigned long base = DEV_BASE >> PAGE_SHIFT;
	unsigned long sys = memremap_system_pages_live();
	unsigned long *src, *dst;
	struct vm_area_struct *vma;
	struct mm_struct *mm = new_mm(&vma);
	struct folio *held;
	struct page *page;
	swp_entry_t e;
	int kind;

	if (!dev_map(&owner_cookie))
		return;
	for (i = 0; i < 4; i++)
		poke(mm, i, 100 + i);
	EXPECT_EQ(to_device(mm, vma, 4), 4);
	/* Device page 4: in use by the driver only, not mapped. */
	held = pgmap_request_folio(&pgmap, 4, 0);
	src = kcalloc(npages, sizeof(*src), GFP_KERNEL);
	dst = kcalloc(npages, sizeof(*dst), GFP_KERNEL);
	EXPECT_EQ(migrate_device_range(src, base, npages), 0);
	for (i = 0; i < npages; i++) {
		struct page *rpage;

		if (!(src[i] & MIGRATE_PFN_MIGRATE))
			continue;
		moved++;
		rpage = alloc_page(GFP_HIGHUSER_MOVABLE | __GFP_NOFAIL);
		lock_page(rpage);
		dst[i] = migrate_pfn(page_to_pfn(rpage));
		if (src[i] & MIGRATE_PFN_WRITE)
			dst[i] |= MIGRATE_PFN_WRITE;
	}
	EXPECT_EQ(moved, 5);
	entry_page(mm, 0, &kind, &e);
	EXPECT_TRUE(is_migration_entry(e));
	migrate_device_pages(src, dst, npages);
	migrate_device_finalize(src, dst, npages);
	kfree(src);
	kfree(dst);
	EXPECT_EQ(page_frees, 4);		/* the mapped ones */
	EXPECT_EQ(memremap_pgmap_pins(&pgmap), 1);	/* held */
	for (i = 0; i < 4; i++) {
		page = entry_page(mm, i, &kind, &e);
		EXPECT_EQ(kind, MEMREMAP_PTE_PRESENT);
		EXPECT_FALSE(is_zone_device_page(page));
		EXPECT_EQ(page_ref_count(page), 1);
	}
	/* The driver's own reference kept its page from moving. */
	EXPECT_EQ(folio_ref_count(held), 1);
	EXPECT_EQ(memremap_system_pages_live(), sys + 4);
	folio_put(held);
	EXPECT_EQ(page_frees, 5);
	memunmap_pages(&pgmap);
	mmput(mm);
	EXPECT_EQ(memremap_system_pages_live(), sys);
	EXPECT_WARNS(0);
}

KTAP_MAIN("migrate_api",
	  KTAP_ENTRY(alloc_page_is_a_system_page_in_the_memmap),
	  KTAP_ENTRY(alloc_pages_gives_aligned_contiguous_blocks),
	  KTAP_ENTRY(put_page_to_zero_frees_a_system_page),
	  KTAP_ENTRY(a_live_page_is_in_the_ledger_and_injection_fails_it),
	  KTAP_ENTRY(bad_frees_warn_and_change_nothing),
	  KTAP_ENTRY(highmem_maps_system_pages_only),
	  KTAP_ENTRY(mm_vmas_and_references),
	  KTAP_ENTRY(cpu_faults_map_zeroed_system_pages),
	  KTAP_ENTRY(mmap_lock_is_a_read_write_lock),
	  KTAP_ENTRY(swap_entries_and_migrate_pfns_are_the_kernels),
	  KTAP_ENTRY(setup_refuses_bad_ranges),
	  KTAP_ENTRY(setup_collects_locks_and_unmaps_system_pages),
	  KTAP_ENTRY(migrate_to_device_and_fault_back),
	  KTAP_ENTRY(fault_migrates_back_with_fault_page),
	  KTAP_ENTRY(setup_selects_by_flags_and_owner),
	  KTAP_ENTRY(an_extra_reference_keeps_a_page_from_moving),
	  KTAP_ENTRY(finalize_puts_unused_destinations),
	  KTAP_ENTRY(an_unlocked_destination_is_caught),
	  KTAP_ENTRY(migrate_device_range_evicts_pages_in_use))
