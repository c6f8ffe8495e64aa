/* SPDX-License-Identifier: GPL-2.0-only */
/* Interval notifiers of an address space (Linux 6.1 mmu_notifier.h). */
#ifndef _LINUX_MMU_NOTIFIER_H
#define _LINUX_MMU_NOTIFIER_H

#include <linux/kconfig.h>
#include <linux/mm_types.h>
#include <linux/types.h>

/*
 * A driver mirroring part of an address space inserts a notifier over it;
 * before the model changes a mapping there it calls ->invalidate() with
 * the range and a fresh sequence number (docs/DESIGN.md section 10): for
 * migrate_vma_setup() and the holes migrate_vma_pages() fills
 * (MMU_NOTIFY_MIGRATE, owner = the migration's pgmap_owner), for unmapping
 * a page to migrate it (MMU_NOTIFY_CLEAR), for the last mmput()
 * (MMU_NOTIFY_UNMAP). A notifier holds an mmgrab() on its mm until
 * mmu_interval_notifier_remove().
 */
enum mmu_notifier_event {
	MMU_NOTIFY_UNMAP = 0,
	MMU_NOTIFY_CLEAR,
	MMU_NOTIFY_PROTECTION_VMA,
	MMU_NOTIFY_PROTECTION_PAGE,
	MMU_NOTIFY_SOFT_DIRTY,
	MMU_NOTIFY_RELEASE,
	MMU_NOTIFY_MIGRATE,
	MMU_NOTIFY_EXCLUSIVE,
};

#define MMU_NOTIFIER_RANGE_BLOCKABLE (1 << 0)

struct mmu_notifier_range {
	struct vm_area_struct *vma;
	struct mm_struct *mm;
	unsigned long start;
	unsigned long end;
	unsigned flags;
	enum mmu_notifier_event event;
	void *owner;
};

struct mmu_interval_notifier;

struct mmu_interval_notifier_ops {
	bool (*invalidate)(struct mmu_interval_notifier *interval_sub,
			   const struct mmu_notifier_range *range,
			   unsigned long cur_seq);
};

/* linux/rbtree_types.h and linux/interval_tree.h, as far as used here. */
struct rb_node {
	unsigned long  __rb_parent_color;
	struct rb_node *rb_right;
	struct rb_node *rb_left;
} __attribute__((aligned(sizeof(long))));

struct interval_tree_node {
	struct rb_node rb;
	unsigned long start;	/* Start of interval */
	unsigned long last;	/* Last location _in_ interval */
	unsigned long __subtree_last;
};

struct mmu_interval_notifier {
	struct interval_tree_node interval_tree;
	const struct mmu_interval_notifier_ops *ops;
	struct mm_struct *mm;
	struct hlist_node deferred_item;
	unsigned long invalidate_seq;
};

_Static_assert(offsetof(struct mmu_interval_notifier, invalidate_seq) == 80,
	       "mmu_interval_notifier.invalidate_seq at 80");
_Static_assert(sizeof(struct mmu_notifier_range) == 48,
	       "struct mmu_notifier_range is 48 bytes");

int mmu_interval_notifier_insert(struct mmu_interval_notifier *interval_sub,
				 struct mm_struct *mm, unsigned long start,
				 unsigned long length,
				 const struct mmu_interval_notifier_ops *ops);
void mmu_interval_notifier_remove(struct mmu_interval_notifier *interval_sub);

/*
 * The read side: begin, then (under the driver's lock, after the work)
 * retry if an invalidation came in between. ->invalidate() calls
 * mmu_interval_set_seq() under the same lock.
 */
unsigned long
mmu_interval_read_begin(struct mmu_interval_notifier *interval_sub);

static inline void
mmu_interval_set_seq(struct mmu_interval_notifier *interval_sub,
		     unsigned long cur_seq)
{
	__atomic_store_n(&interval_sub->invalidate_seq, cur_seq,
			 __ATOMIC_RELEASE);
}

static inline bool
mmu_interval_read_retry(struct mmu_interval_notifier *interval_sub,
			unsigned long seq)
{
	return __atomic_load_n(&interval_sub->invalidate_seq,
			       __ATOMIC_ACQUIRE) != seq;
}

static inline bool
mmu_interval_check_retry(struct mmu_interval_notifier *interval_sub,
			 unsigned long seq)
{
	return mmu_interval_read_retry(interval_sub, seq);
}

static inline bool
mmu_notifier_range_blockable(const struct mmu_notifier_range *range)
{
	return range->flags & MMU_NOTIFIER_RANGE_BLOCKABLE;
}

#ifdef CONFIG_ZONE_DEVICE
#include <memremap/abi.h>
#endif

#endif /* _LINUX_MMU_NOTIFIER_H */
