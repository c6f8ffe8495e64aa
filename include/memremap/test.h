/* SPDX-License-Identifier: GPL-2.0-only */
/* libmemremap's test-control API: counters, fault injection, probes. */
#ifndef _MEMREMAP_TEST_H
#define _MEMREMAP_TEST_H

#include <stdbool.h>
#include <stddef.h>

struct dev_pagemap;
struct device;
struct page;
struct percpu_ref;

/* One WARN as the library recorded it; strings NUL-terminated, cut short. */
struct memremap_warn_record {
	char file[128];
	char function[64];
	char message[512];
	int line;
};

_Static_assert(offsetof(struct memremap_warn_record, function) == 128,
	       "memremap_warn_record.function at 128");
_Static_assert(offsetof(struct memremap_warn_record, message) == 192,
	       "memremap_warn_record.message at 192");
_Static_assert(offsetof(struct memremap_warn_record, line) == 704,
	       "memremap_warn_record.line at 704");
_Static_assert(sizeof(struct memremap_warn_record) == 708,
	       "struct memremap_warn_record is 708 bytes");

/* WARNs reported since the process started, quiet ones included. */
unsigned long memremap_warn_count(void);

/* Copy the last WARN into *@out: false (nothing copied) if none yet. */
bool memremap_warn_last(struct memremap_warn_record *out);

/* Re-arm every WARN_ON_ONCE()/WARN_ONCE() site, in C and in the library. */
void memremap_warn_rearm(void);

/* Stop (true) or resume printing WARNs; they are still counted and kept. */
void memremap_warn_quiet(bool quiet);

/*
 * Print a call trace with each WARN (true, the default) or not. A trace
 * lists the library's entry point and every C frame above it, up to main()
 * or the thread's start routine, as "function+0xoff/0xsize file:line";
 * programs that WARN hundreds of thousands of times turn it off.
 */
void memremap_warn_set_traces(bool on);
bool memremap_warn_traces(void);

/*
 * Copy the text of every printed WARN (dump_page() lines, the cut-here
 * block and its call trace) and of every dump_page() call, as printed,
 * into a buffer of up to 64 KiB: true starts (emptying it), false stops.
 * Quiet WARNs print nothing and add nothing; dump_page() always prints.
 * memremap_warn_captured() copies the text into @buf (at most @size - 1
 * bytes and a NUL) and returns its whole length.
 */
void memremap_warn_capture(bool on);
size_t memremap_warn_captured(char *buf, size_t size);

/* kmalloc() allocations not yet kfree()d. */
unsigned long memremap_kmalloc_live(void);

/* Make the @n-th allocation from now return NULL (1: the next); 0 disarms. */
void memremap_kmalloc_fail_nth(unsigned long n);

/* Fail every @n-th allocation from now on; 0 disarms. */
void memremap_kmalloc_fail_every(unsigned long n);

/*
 * Fail each allocation with probability @permille / 1000, drawn from a
 * generator seeded with @seed so that a run can be replayed; 0 disarms.
 */
void memremap_kmalloc_fail_random(unsigned long seed, unsigned long permille);

/* Allocations failed on purpose so far. */
unsigned long memremap_kmalloc_injected(void);

/* Make the @n-th percpu_ref_tryget() from now fail (1: the next); 0 disarms. */
void memremap_percpu_tryget_fail_nth(unsigned long n);

/* Disarm every injected failure: allocations, trygets, DMA mappings. */
void memremap_fail_none(void);

/*
 * Bound every wait (memunmap_pages(), lock_page(), wait_for_completion())
 * to @ms milliseconds; the default is 10000.
 */
void memremap_set_wait_bound_ms(unsigned long ms);

/*
 * References on @pgmap->ref held by active folios and get_dev_pagemap()
 * callers (the initial reference not counted); -1 if @pgmap is not mapped.
 */
long memremap_pgmap_pins(struct dev_pagemap *pgmap);

/* Pages of @pgmap with a non-zero refcount; 0 if it is not mapped. */
unsigned long memremap_pgmap_busy_pages(struct dev_pagemap *pgmap);

/*
 * True from a successful memremap_pages() until memunmap_pages() has
 * unregistered @pgmap (so still true for an abandoned one).
 */
bool memremap_pgmap_is_mapped(struct dev_pagemap *pgmap);

/*
 * True when memunmap_pages() gave up waiting for @pgmap's references: dead,
 * still mapped, its pages left valid.
 */
bool memremap_pgmap_is_abandoned(struct dev_pagemap *pgmap);

/*
 * memunmap_pages() calls since the process started that found references
 * still held after killing the pgmap, and so had to wait for them: a
 * count, not a time, for tests that expect an unmap not to wait.
 */
unsigned long memremap_unmap_waits(void);

/* The mapped pgmap whose ranges hold @pfn, no reference taken; or NULL. */
struct dev_pagemap *memremap_pfn_owner(unsigned long pfn);

/* Bytes allocated so far for struct pages and the memmap's index. */
unsigned long memremap_memmap_bytes(void);

/* The page pfn_to_page() returns for a pfn that no pgmap maps. */
struct page *memremap_poison_page(void);

/*
 * @ref's count as a quiescent observer sees it, the initial reference
 * included while the ref is alive; -1 (and a WARN) if not initialised.
 */
long memremap_percpu_ref_count(struct percpu_ref *ref);

/* pgmaps currently mapped. */
unsigned long memremap_mapped_pgmaps(void);

/*
 * The ledger of what is still alive: mapped pgmaps, referenced folios and
 * live allocations. memremap_ledger_count() returns how many items it
 * holds; memremap_ledger_print() prints them on stderr and returns that
 * count; memremap_ledger_at_exit(true) prints it at exit if not empty.
 */
unsigned long memremap_ledger_count(void);
unsigned long memremap_ledger_print(void);
void memremap_ledger_at_exit(bool on);

/*
 * The driver surface's live state, for a per-case leak check beside
 * memremap_kmalloc_live() (a leaked struct resource, devm_kmalloc() or
 * vmalloc() block is already a live allocation there):
 * memremap_dma_live(): streaming DMA mappings not unmapped;
 * memremap_devres_live(): managed resources (devm_*()) of devices not yet
 * released, memremap_devres_count() those of @dev;
 * memremap_iomem_regions(): resources directly under iomem_resource (one,
 * "System RAM" over the page allocator's pages, from the start).
 */
unsigned long memremap_dma_live(void);
unsigned long memremap_devres_live(void);
unsigned long memremap_devres_count(struct device *dev);
unsigned long memremap_iomem_regions(void);

/*
 * Make the @n-th dma_map_page() from now answer DMA_MAPPING_ERROR (1: the
 * next); 0 disarms, as memremap_fail_none() does.
 */
void memremap_dma_fail_nth(unsigned long n);

/*
 * A device's view through its IOMMU, for a fake device that copies by DMA:
 * the page a live streaming mapping of @dev covers at @addr for @len bytes,
 * with the byte offset of @addr from the page's start in *@offset, if the
 * mapping's direction lets the device read (DMA_TO_DEVICE or
 * DMA_BIDIRECTIONAL) or, with @write, write (DMA_FROM_DEVICE or
 * DMA_BIDIRECTIONAL) them. NULL otherwise (an IOMMU fault).
 */
struct page *memremap_dma_page(struct device *dev, unsigned long long addr,
			       size_t len, bool write, size_t *offset);

/*
 * System pages (linux/gfp.h's allocator): blocks allocated and not freed.
 * Each is also a live allocation (memremap_kmalloc_live()).
 */
unsigned long memremap_system_pages_live(void);

/*
 * Address spaces (linux/mm_types.h): an mm with no VMA, one user and one
 * count; mmput() of the last user unmaps everything, mmdrop() of the last
 * count frees it. Both it and its VMAs are live allocations until then.
 */
struct mm_struct;
struct vm_area_struct;
struct mm_struct *memremap_mm_create(void);

/*
 * Add the anonymous VMA [@start, @end) with @vm_flags (VM_READ, VM_WRITE)
 * to @mm; NULL (and a WARN) if it is not page-aligned or overlaps another.
 */
struct vm_area_struct *memremap_mm_add_vma(struct mm_struct *mm,
					   unsigned long start,
					   unsigned long end,
					   unsigned long vm_flags);

/*
 * A CPU access of @len bytes at @addr (within one page), copied into
 * (@write false) or out of @buf (NULL: just touch), faulting as the kernel
 * does, with the mmap lock held for reading: a hole gets a fresh zeroed
 * system page; a device-private entry calls its pgmap's ->migrate_to_ram()
 * with a struct vm_fault, the page referenced across the call, and the
 * access retries (a few times, then WARNs). 0, or -EFAULT (no VMA, no
 * permission, fault error), -EBUSY (a migration entry: the kernel would
 * wait), -EAGAIN (still device-private), -ENOMEM.
 */
int memremap_mm_access(struct mm_struct *mm, unsigned long addr, void *buf,
		       unsigned long len, bool write);

/* What memremap_mm_entry() found at an address. */
enum memremap_pte_kind {
	MEMREMAP_PTE_NONE = 0,
	MEMREMAP_PTE_PRESENT = 1,	/* *val: pfn << PAGE_SHIFT | RW | P */
	MEMREMAP_PTE_SWAP = 2,		/* *val: the swp_entry_t's val */
};

/*
 * The entry of @mm at @addr: its kind as the return value, its page in
 * *@page and its value in *@val (either may be NULL).
 */
int memremap_mm_entry(struct mm_struct *mm, unsigned long addr,
		      struct page **page, unsigned long *val);

/* Entries of @mm that are not none. */
unsigned long memremap_mm_nr_entries(struct mm_struct *mm);

/* Live mms. */
unsigned long memremap_mm_live(void);

/*
 * munmap() of the whole VMA @vma of @mm: its entries are zapped (each drops
 * its page's mapcount and reference, interval notifiers see
 * MMU_NOTIFY_UNMAP) and the VMA is freed. A VMA whose vm_ops and vm_file
 * the caller set after memremap_mm_add_vma() is a file mapping: its holes
 * fault through vm_ops->fault(). 0, or -EINVAL (and a WARN) if @vma is not
 * a VMA of @mm.
 */
int memremap_mm_munmap(struct mm_struct *mm, struct vm_area_struct *vma);

/*
 * Chunks (512 pages each) of device memory alive: the memory page_address()
 * shows for MEMORY_DEVICE_GENERIC pages, freed by memunmap_pages().
 */
long memremap_device_memory_live(void);

/* Interval notifiers inserted and not removed (linux/mmu_notifier.h). */
unsigned long memremap_mmu_notifiers_live(void);

/* page_mapcount(): mappings of @page (entries naming it, not migration). */
int memremap_page_mapcount(const struct page *page);

/* Cross-check the prototypes above against the library's. */
#include <linux/kconfig.h>
#ifdef CONFIG_ZONE_DEVICE
#include <memremap/abi.h>
#endif

#endif /* _MEMREMAP_TEST_H */
