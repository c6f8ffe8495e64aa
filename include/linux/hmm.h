/* SPDX-License-Identifier: GPL-2.0-only */
/* Heterogeneous memory management: the types of Linux 6.1's hmm.h. */
#ifndef _LINUX_HMM_H
#define _LINUX_HMM_H

#include <linux/kconfig.h>
#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/types.h>

/*
 * The flags of an hmm_range's pfns: on output, what the CPU mapping
 * allows (VALID: the pfn field names a page, possibly DEVICE_PRIVATE;
 * WRITE; ERROR: the device must fail the access) and the mapping order;
 * on input, what hmm_range_fault() must fault in (REQ_FAULT, REQ_WRITE).
 * (Linux 6.1; later kernels add sticky flags such as HMM_PFN_DMA_MAPPED
 * between ERROR and the order.)
 */
enum hmm_pfn_flags {
	/* Output fields and flags */
	HMM_PFN_VALID = 1UL << (64 - 1),
	HMM_PFN_WRITE = 1UL << (64 - 2),
	HMM_PFN_ERROR = 1UL << (64 - 3),
	HMM_PFN_ORDER_SHIFT = (64 - 8),

	/* Input flags */
	HMM_PFN_REQ_FAULT = HMM_PFN_VALID,
	HMM_PFN_REQ_WRITE = HMM_PFN_WRITE,

	HMM_PFN_FLAGS = 0xFFUL << HMM_PFN_ORDER_SHIFT,
};

/* The page an output pfn names; the caller has checked HMM_PFN_VALID. */
static inline struct page *hmm_pfn_to_page(unsigned long hmm_pfn)
{
	return pfn_to_page(hmm_pfn & ~HMM_PFN_FLAGS);
}

/* The order of the CPU mapping the pfn came from. */
static inline unsigned int hmm_pfn_to_map_order(unsigned long hmm_pfn)
{
	return (hmm_pfn >> HMM_PFN_ORDER_SHIFT) & 0x1F;
}

/**
 * struct hmm_range - a range to mirror
 * @notifier: the mmu_interval_notifier covering the range
 * @notifier_seq: its sequence number, from mmu_interval_read_begin()
 * @start: first address
 * @end: end address (exclusive)
 * @hmm_pfns: one entry per page: input flags in, pfn and flags out
 * @default_flags: input flags for every page
 * @pfn_flags_mask: which bits of each entry to use as input flags
 * @dev_private_owner: DEVICE_PRIVATE pages of this owner are reported,
 *	not faulted back to system memory
 */
struct hmm_range {
	struct mmu_interval_notifier *notifier;
	unsigned long		notifier_seq;
	unsigned long		start;
	unsigned long		end;
	unsigned long		*hmm_pfns;
	unsigned long		default_flags;
	unsigned long		pfn_flags_mask;
	void			*dev_private_owner;
};

/*
 * Fill @range->hmm_pfns for [start, end) of the notifier's mm, the mmap
 * lock held: each page's pfn and HMM_PFN_* flags (0: not present, ERROR:
 * no readable VMA), DEVICE_PRIVATE pages of @dev_private_owner as they
 * are, faulting in (and migrating back to RAM) what the input flags
 * require. -EBUSY when the notifier was invalidated since
 * @notifier_seq (begin again with mmu_interval_read_begin()); -EFAULT
 * when a required page cannot be had; -EPERM for a write to a read-only
 * VMA.
 */
int hmm_range_fault(struct hmm_range *range);

#define HMM_RANGE_DEFAULT_TIMEOUT 1000	/* ms */

#ifdef CONFIG_ZONE_DEVICE
#include <memremap/abi.h>
#endif

#endif /* _LINUX_HMM_H */
