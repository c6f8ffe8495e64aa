/* SPDX-License-Identifier: GPL-2.0-only */
/* Migrating pages to and from device memory (Linux 6.1 migrate_vma). */
#ifndef _LINUX_MIGRATE_H
#define _LINUX_MIGRATE_H

#include <linux/kconfig.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/types.h>

/*
 * The migrate pfn encoding: a pfn shifted up, with flags below.
 * (Linux 6.1. In 5.14 bit 2 was MIGRATE_PFN_LOCKED, since removed; the THP
 * device-migration series adds MIGRATE_PFN_COMPOUND, not modelled here.)
 */
#define MIGRATE_PFN_VALID	(1UL << 0)
#define MIGRATE_PFN_MIGRATE	(1UL << 1)
#define MIGRATE_PFN_WRITE	(1UL << 3)
#define MIGRATE_PFN_SHIFT	6

static inline struct page *migrate_pfn_to_page(unsigned long mpfn)
{
	if (!(mpfn & MIGRATE_PFN_VALID))
		return NULL;
	return pfn_to_page(mpfn >> MIGRATE_PFN_SHIFT);
}

static inline unsigned long migrate_pfn(unsigned long pfn)
{
	return (pfn << MIGRATE_PFN_SHIFT) | MIGRATE_PFN_VALID;
}

enum migrate_vma_direction {
	MIGRATE_VMA_SELECT_SYSTEM = 1 << 0,
	MIGRATE_VMA_SELECT_DEVICE_PRIVATE = 1 << 1,
	MIGRATE_VMA_SELECT_DEVICE_COHERENT = 1 << 2,
};

/**
 * struct migrate_vma - one migration of a range of a VMA
 * @vma: the VMA; its mm's mmap lock must be held across the three calls
 * @dst: destination migrate pfns, filled by the driver between setup and
 *	pages; both arrays hold (@end - @start) >> PAGE_SHIFT entries
 * @src: source migrate pfns, filled by migrate_vma_setup(); the driver
 *	must not change them
 * @cpages: entries that can migrate after setup (holes included)
 * @npages: entries filled
 * @start: first address (page-aligned by setup)
 * @end: end address (page-aligned by setup)
 * @pgmap_owner: only device pages whose pgmap has this owner are selected
 * @flags: MIGRATE_VMA_SELECT_* sources to collect
 * @fault_page: the page of a ->migrate_to_ram() fault, or NULL
 */
struct migrate_vma {
	struct vm_area_struct	*vma;
	unsigned long		*dst;
	unsigned long		*src;
	unsigned long		cpages;
	unsigned long		npages;
	unsigned long		start;
	unsigned long		end;
	void			*pgmap_owner;
	unsigned long		flags;
	struct page		*fault_page;
};

_Static_assert(offsetof(struct migrate_vma, pgmap_owner) == 56,
	       "migrate_vma.pgmap_owner at 56");
_Static_assert(sizeof(struct migrate_vma) == 80,
	       "struct migrate_vma is 80 bytes");

/*
 * migrate_vma_setup() collects the range's pages (each referenced, locked
 * and unmapped: a migration entry in its place) into @src; the driver
 * allocates, copies and fills @dst (each destination locked, with one
 * reference); migrate_vma_pages() moves what can be moved; and
 * migrate_vma_finalize() maps the winner of each pair and unlocks and
 * puts the loser.
 */
int migrate_vma_setup(struct migrate_vma *args);
void migrate_vma_pages(struct migrate_vma *migrate);
void migrate_vma_finalize(struct migrate_vma *migrate);

/*
 * Since 6.1: the same for device pages in use wherever they are mapped,
 * by pfn (a pgmap's teardown evicts its pages with these).
 */
int migrate_device_range(unsigned long *src_pfns, unsigned long start,
			 unsigned long npages);
/*
 * Since 6.15: as migrate_device_range(), for the (not necessarily
 * contiguous) raw pfns the caller put in @src_pfns.
 */
int migrate_device_pfns(unsigned long *src_pfns, unsigned long npages);
void migrate_device_pages(unsigned long *src_pfns, unsigned long *dst_pfns,
			  unsigned long npages);
void migrate_device_finalize(unsigned long *src_pfns,
			     unsigned long *dst_pfns, unsigned long npages);

#ifdef CONFIG_ZONE_DEVICE
#include <memremap/abi.h>
#endif

#endif /* _LINUX_MIGRATE_H */
