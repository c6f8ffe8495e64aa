/* SPDX-License-Identifier: GPL-2.0-only */
/* Swap entries: the device-private and migration entries of Linux 6.1. */
#ifndef _LINUX_SWAPOPS_H
#define _LINUX_SWAPOPS_H

#include <linux/bug.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/types.h>

/*
 * The swap entry types the kernel takes from the top of the 5-bit type
 * space (include/linux/swap.h in the kernel, with CONFIG_DEVICE_PRIVATE,
 * CONFIG_MIGRATION, CONFIG_MEMORY_FAILURE and CONFIG_PTE_MARKER, as x86_64
 * distributions build 6.1): device-private entries are 27 and 28,
 * migration entries 24 to 26. The address-space model stores exactly
 * these values (memremap_mm_entry() in memremap/test.h reads one).
 */
#define MAX_SWAPFILES_SHIFT	5
#define SWP_PTE_MARKER_NUM	1
#define SWP_DEVICE_NUM		4
#define SWP_MIGRATION_NUM	3
#define SWP_HWPOISON_NUM	1
#define MAX_SWAPFILES \
	((1 << MAX_SWAPFILES_SHIFT) - SWP_DEVICE_NUM - \
	SWP_MIGRATION_NUM - SWP_HWPOISON_NUM - SWP_PTE_MARKER_NUM)
#define SWP_HWPOISON		MAX_SWAPFILES
#define SWP_MIGRATION_READ	(MAX_SWAPFILES + SWP_HWPOISON_NUM)
#define SWP_MIGRATION_READ_EXCLUSIVE (MAX_SWAPFILES + SWP_HWPOISON_NUM + 1)
#define SWP_MIGRATION_WRITE	(MAX_SWAPFILES + SWP_HWPOISON_NUM + 2)
#define SWP_DEVICE_WRITE \
	(MAX_SWAPFILES + SWP_HWPOISON_NUM + SWP_MIGRATION_NUM)
#define SWP_DEVICE_READ		(SWP_DEVICE_WRITE + 1)
#define SWP_DEVICE_EXCLUSIVE_WRITE (SWP_DEVICE_WRITE + 2)
#define SWP_DEVICE_EXCLUSIVE_READ (SWP_DEVICE_WRITE + 3)
#define SWP_PTE_MARKER \
	(MAX_SWAPFILES + SWP_HWPOISON_NUM + SWP_MIGRATION_NUM + SWP_DEVICE_NUM)

#define BITS_PER_XA_VALUE	(64 - 1)
#define SWP_TYPE_SHIFT		(BITS_PER_XA_VALUE - MAX_SWAPFILES_SHIFT)
#define SWP_OFFSET_MASK		((1UL << SWP_TYPE_SHIFT) - 1)
/* x86_64 with 5-level paging: MAX_PHYSMEM_BITS 52. */
#define SWP_PFN_BITS		(52 - PAGE_SHIFT)
#define SWP_PFN_MASK		((1UL << SWP_PFN_BITS) - 1)

static inline swp_entry_t swp_entry(unsigned long type, pgoff_t offset)
{
	swp_entry_t ret;

	ret.val = (type << SWP_TYPE_SHIFT) | (offset & SWP_OFFSET_MASK);
	return ret;
}

static inline unsigned int swp_type(swp_entry_t entry)
{
	return entry.val >> SWP_TYPE_SHIFT;
}

static inline pgoff_t swp_offset(swp_entry_t entry)
{
	return entry.val & SWP_OFFSET_MASK;
}

static inline swp_entry_t make_readable_device_private_entry(pgoff_t offset)
{
	return swp_entry(SWP_DEVICE_READ, offset);
}

static inline swp_entry_t make_writable_device_private_entry(pgoff_t offset)
{
	return swp_entry(SWP_DEVICE_WRITE, offset);
}

static inline bool is_device_private_entry(swp_entry_t entry)
{
	unsigned int type = swp_type(entry);

	return type == SWP_DEVICE_READ || type == SWP_DEVICE_WRITE;
}

static inline bool is_writable_device_private_entry(swp_entry_t entry)
{
	return swp_type(entry) == SWP_DEVICE_WRITE;
}

static inline bool is_device_exclusive_entry(swp_entry_t entry)
{
	return swp_type(entry) == SWP_DEVICE_EXCLUSIVE_READ ||
		swp_type(entry) == SWP_DEVICE_EXCLUSIVE_WRITE;
}

static inline swp_entry_t make_readable_migration_entry(pgoff_t offset)
{
	return swp_entry(SWP_MIGRATION_READ, offset);
}

static inline swp_entry_t make_writable_migration_entry(pgoff_t offset)
{
	return swp_entry(SWP_MIGRATION_WRITE, offset);
}

static inline bool is_migration_entry(swp_entry_t entry)
{
	return swp_type(entry) == SWP_MIGRATION_READ ||
		swp_type(entry) == SWP_MIGRATION_READ_EXCLUSIVE ||
		swp_type(entry) == SWP_MIGRATION_WRITE;
}

static inline bool is_writable_migration_entry(swp_entry_t entry)
{
	return swp_type(entry) == SWP_MIGRATION_WRITE;
}

/* Entries whose offset is a pfn. */
static inline bool is_pfn_swap_entry(swp_entry_t entry)
{
	return is_migration_entry(entry) || is_device_private_entry(entry) ||
	       is_device_exclusive_entry(entry);
}

/* The pfn of a pfn swap entry (6.1; the kernel's VM_BUG_ON is a WARN). */
static inline unsigned long swp_offset_pfn(swp_entry_t entry)
{
	WARN_ON(!is_pfn_swap_entry(entry));
	return swp_offset(entry) & SWP_PFN_MASK;
}

/*
 * The page of a pfn swap entry. A migration entry's page is locked by the
 * migration for as long as the entry exists (the kernel BUGs otherwise).
 */
static inline struct page *pfn_swap_entry_to_page(swp_entry_t entry)
{
	struct page *p = pfn_to_page(swp_offset_pfn(entry));

	WARN_ON(is_migration_entry(entry) && !PageLocked(p));
	return p;
}

#endif /* _LINUX_SWAPOPS_H */
