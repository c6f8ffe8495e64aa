/* SPDX-License-Identifier: GPL-2.0-only */
/* struct page and struct folio as x86_64 Linux 6.1 lays them out. */
#ifndef _LINUX_MM_TYPES_H
#define _LINUX_MM_TYPES_H

#include <linux/stddef.h>
#include <linux/types.h>
#include <memremap/generation.h>

struct address_space;
struct dev_pagemap;
struct mm_struct;

#if !MEMREMAP_GEN_MODERN
/*
 * struct page - one per page frame, 64 bytes. The library creates and owns
 * every struct page; a ZONE_DEVICE page's fields belong to whoever holds a
 * reference on it (see page_ref.h: the count is the library's).
 *
 * The word at 8 is @pgmap for a ZONE_DEVICE head page and @compound_head
 * (head address | 1) for a tail page, so a tail page's @pgmap is not its
 * pgmap: go through compound_head() or page_folio().
 *
 * (The kernel also aligns struct page to 16 bytes; the library's poison
 * page is only 8-aligned, so that is left out.)
 */
struct page {
	unsigned long flags;
	union {
		struct {	/* Page cache and anonymous pages */
			union {
				struct list_head lru;
				struct {	/* mlocked pages */
					void *__filler;
					unsigned int mlock_count;
				};
				struct list_head buddy_list;
				struct list_head pcp_list;
			};
			struct address_space *mapping;
			pgoff_t index;
			unsigned long private;
		};
		struct {	/* Tail pages of compound page */
			unsigned long compound_head;	/* Bit zero is set */
			/* First tail page only */
			unsigned char compound_dtor;
			unsigned char compound_order;
			atomic_t compound_mapcount;
			atomic_t compound_pincount;
			unsigned int compound_nr;	/* 1 << order */
		};
		struct {	/* ZONE_DEVICE pages */
			struct dev_pagemap *pgmap;
			void *zone_device_data;
		};
	};
	union {		/* 4 bytes */
		atomic_t _mapcount;
		unsigned int page_type;
	};
	/* Usage count: read it with page_ref_count(), never write it. */
	atomic_t _refcount;
	unsigned long memcg_data;
};

#define __PAGE_AT(member, off)						\
	_Static_assert(offsetof(struct page, member) == (off),		\
		       "struct page: " #member " at " #off)
__PAGE_AT(flags, 0);
__PAGE_AT(lru, 8);
__PAGE_AT(mapping, 24);
__PAGE_AT(index, 32);
__PAGE_AT(private, 40);
__PAGE_AT(compound_head, 8);
__PAGE_AT(compound_dtor, 16);
__PAGE_AT(compound_order, 17);
__PAGE_AT(compound_mapcount, 20);
__PAGE_AT(compound_pincount, 24);
__PAGE_AT(compound_nr, 28);
__PAGE_AT(pgmap, 8);
__PAGE_AT(zone_device_data, 16);
__PAGE_AT(_mapcount, 48);
__PAGE_AT(page_type, 48);
__PAGE_AT(_refcount, 52);
__PAGE_AT(memcg_data, 56);
#undef __PAGE_AT
_Static_assert(sizeof(struct page) == 64, "struct page is 64 bytes");

/*
 * struct folio - a page of one or more (1 << order) contiguous pages,
 * named by its head page. The first 64 bytes overlay the head page; the
 * _flags_1 ... _folio_nr_pages fields overlay the first tail page, so they
 * exist only for folios of order > 0.
 */
struct folio {
	union {
		struct {
			unsigned long flags;
			union {
				struct list_head lru;
				struct {
					void *__filler;
					unsigned int mlock_count;
				};
			};
			struct address_space *mapping;
			pgoff_t index;
			void *private;
			atomic_t _mapcount;
			atomic_t _refcount;
			unsigned long memcg_data;
		};
		struct page page;
	};
	unsigned long _flags_1;
	unsigned long __head;
	unsigned char _folio_dtor;
	unsigned char _folio_order;
	atomic_t _total_mapcount;
	atomic_t _pincount;
	unsigned int _folio_nr_pages;
};

#define __FOLIO_MATCH(pg, fl)						\
	_Static_assert(offsetof(struct page, pg) ==			\
		       offsetof(struct folio, fl),			\
		       "struct folio: " #fl " overlays page " #pg)
__FOLIO_MATCH(flags, flags);
__FOLIO_MATCH(lru, lru);
__FOLIO_MATCH(mapping, mapping);
__FOLIO_MATCH(index, index);
__FOLIO_MATCH(private, private);
__FOLIO_MATCH(_mapcount, _mapcount);
__FOLIO_MATCH(_refcount, _refcount);
__FOLIO_MATCH(memcg_data, memcg_data);
#undef __FOLIO_MATCH
#define __FOLIO_TAIL_MATCH(pg, fl)					\
	_Static_assert(offsetof(struct page, pg) + sizeof(struct page) == \
		       offsetof(struct folio, fl),			\
		       "struct folio: " #fl " overlays tail page " #pg)
__FOLIO_TAIL_MATCH(flags, _flags_1);
__FOLIO_TAIL_MATCH(compound_head, __head);
__FOLIO_TAIL_MATCH(compound_dtor, _folio_dtor);
__FOLIO_TAIL_MATCH(compound_order, _folio_order);
__FOLIO_TAIL_MATCH(compound_mapcount, _total_mapcount);
__FOLIO_TAIL_MATCH(compound_pincount, _pincount);
__FOLIO_TAIL_MATCH(compound_nr, _folio_nr_pages);
#undef __FOLIO_TAIL_MATCH
_Static_assert(offsetof(struct folio, page) == 0, "folio.page at 0");
_Static_assert(offsetof(struct folio, _folio_order) == 81,
	       "folio._folio_order at 81");
_Static_assert(sizeof(struct folio) <= 2 * sizeof(struct page),
	       "struct folio spans two pages at most");
#else /* MEMREMAP_GEN_MODERN: 6.15 and later */
/*
 * struct page as x86_64 Linux 6.15 on lays it out (include/linux/mm_types.h
 * of "mm: Allow compound zone device pages", 2025): the ZONE_DEVICE word at
 * 8 is no longer the page's pgmap. In a head page it is the folio's @pgmap
 * (struct folio), in a tail page @compound_head: reach the pgmap through
 * page_pgmap(). Not covered: the later rename of @index to __folio_index.
 */
struct page {
	unsigned long flags;
	union {
		struct {	/* Page cache and anonymous pages */
			union {
				struct list_head lru;
				struct {	/* mlocked pages */
					void *__filler;
					unsigned int mlock_count;
				};
				struct list_head buddy_list;
				struct list_head pcp_list;
			};
			struct address_space *mapping;
			union {
				pgoff_t index;
				unsigned long share;	/* fsdax */
			};
			unsigned long private;
		};
		struct {	/* Tail pages of compound page */
			unsigned long compound_head;	/* Bit zero is set */
		};
		struct {	/* ZONE_DEVICE pages */
			/* compound_head, or the folio's pgmap in a head */
			void *_unused_pgmap_compound_head;
			void *zone_device_data;
		};
	};
	union {		/* 4 bytes */
		atomic_t _mapcount;
		unsigned int page_type;
	};
	/* Usage count: read it with page_ref_count(), never write it. */
	atomic_t _refcount;
	unsigned long memcg_data;
};

#define __PAGE_AT(member, off)						\
	_Static_assert(offsetof(struct page, member) == (off),		\
		       "struct page: " #member " at " #off)
__PAGE_AT(flags, 0);
__PAGE_AT(lru, 8);
__PAGE_AT(mapping, 24);
__PAGE_AT(index, 32);
__PAGE_AT(share, 32);
__PAGE_AT(private, 40);
__PAGE_AT(compound_head, 8);
__PAGE_AT(_unused_pgmap_compound_head, 8);
__PAGE_AT(zone_device_data, 16);
__PAGE_AT(_mapcount, 48);
__PAGE_AT(_refcount, 52);
__PAGE_AT(memcg_data, 56);
#undef __PAGE_AT
_Static_assert(sizeof(struct page) == 64, "struct page is 64 bytes");

/*
 * struct folio from 6.15 on (x86_64, CONFIG_64BIT, CONFIG_MEMCG, MM ids):
 * four pages. The head page holds @pgmap for ZONE_DEVICE folios; the first
 * tail holds the order (low byte of @_flags_1, with PG_large_rmappable at
 * bit 9) and @_nr_pages over its memcg word; the second tail the
 * @_deferred_list. The tail fields exist only in large folios.
 */
struct folio {
	union {
		struct {
			unsigned long flags;
			union {
				struct list_head lru;
				struct {
					void *__filler;
					unsigned int mlock_count;
				};
				struct dev_pagemap *pgmap;
			};
			struct address_space *mapping;
			union {
				pgoff_t index;
				unsigned long share;
			};
			union {
				void *private;
				unsigned long swap;
			};
			atomic_t _mapcount;
			atomic_t _refcount;
			unsigned long memcg_data;
		};
		struct page page;
	};
	union {
		struct {
			unsigned long _flags_1;
			unsigned long _head_1;
			union {
				struct {
					atomic_t _large_mapcount;
					atomic_t _nr_pages_mapped;
					atomic_t _entire_mapcount;
					atomic_t _pincount;
					int _mm_id_mapcount[2];
					union {
						unsigned int _mm_id[2];
						unsigned long _mm_ids;
					};
				};
				unsigned long _usable_1[4];
			};
			atomic_t _mapcount_1;
			atomic_t _refcount_1;
			unsigned int _nr_pages;
		};
		struct page __page_1;
	};
	union {
		struct {
			unsigned long _flags_2;
			unsigned long _head_2;
			struct list_head _deferred_list;
		};
		struct page __page_2;
	};
	union {
		struct {
			unsigned long _flags_3;
			unsigned long _head_3;
			void *_hugetlb_subpool;
			void *_hugetlb_cgroup;
			void *_hugetlb_cgroup_rsvd;
			void *_hugetlb_hwpoison;
		};
		struct page __page_3;
	};
};

#define __FOLIO_AT(member, off)						\
	_Static_assert(offsetof(struct folio, member) == (off),		\
		       "struct folio: " #member " at " #off)
__FOLIO_AT(flags, 0);
__FOLIO_AT(lru, 8);
__FOLIO_AT(pgmap, 8);
__FOLIO_AT(mapping, 24);
__FOLIO_AT(index, 32);
__FOLIO_AT(private, 40);
__FOLIO_AT(_mapcount, 48);
__FOLIO_AT(_refcount, 52);
__FOLIO_AT(memcg_data, 56);
__FOLIO_AT(_flags_1, 64);
__FOLIO_AT(_head_1, 72);
__FOLIO_AT(_large_mapcount, 80);
__FOLIO_AT(_nr_pages_mapped, 84);
__FOLIO_AT(_entire_mapcount, 88);
__FOLIO_AT(_pincount, 92);
__FOLIO_AT(_mm_id_mapcount, 96);
__FOLIO_AT(_mm_ids, 104);
__FOLIO_AT(_mapcount_1, 112);
__FOLIO_AT(_refcount_1, 116);
__FOLIO_AT(_nr_pages, 120);
__FOLIO_AT(_flags_2, 128);
__FOLIO_AT(_deferred_list, 144);
__FOLIO_AT(_flags_3, 192);
__FOLIO_AT(_hugetlb_hwpoison, 232);
#undef __FOLIO_AT
_Static_assert(offsetof(struct folio, pgmap) ==
	       offsetof(struct page, _unused_pgmap_compound_head),
	       "folio->pgmap is the head page's compound_head word");
_Static_assert(offsetof(struct folio, _nr_pages) ==
	       sizeof(struct page) + offsetof(struct page, memcg_data),
	       "folio->_nr_pages overlays the first tail's memcg_data");
_Static_assert(sizeof(struct folio) == 4 * sizeof(struct page),
	       "struct folio spans four pages");

/* PG_large_rmappable (= PG_workingset), a flag of the first tail page. */
#define PG_large_rmappable	9

static inline void folio_set_large_rmappable(struct folio *folio)
{
	__atomic_fetch_or(&folio->_flags_1, 1UL << PG_large_rmappable,
			  __ATOMIC_RELAXED);
}

static inline bool folio_test_large_rmappable(const struct folio *folio)
{
	return __atomic_load_n(&folio->_flags_1, __ATOMIC_RELAXED) &
		(1UL << PG_large_rmappable);
}
#endif /* MEMREMAP_GEN_MODERN */

/* Page fault results (vm_fault_t). */
enum vm_fault_reason {
	VM_FAULT_OOM		= (__force vm_fault_t)0x000001,
	VM_FAULT_SIGBUS		= (__force vm_fault_t)0x000002,
	VM_FAULT_MAJOR		= (__force vm_fault_t)0x000004,
	VM_FAULT_HWPOISON	= (__force vm_fault_t)0x000010,
	VM_FAULT_HWPOISON_LARGE	= (__force vm_fault_t)0x000020,
	VM_FAULT_SIGSEGV	= (__force vm_fault_t)0x000040,
	VM_FAULT_NOPAGE		= (__force vm_fault_t)0x000100,
	VM_FAULT_LOCKED		= (__force vm_fault_t)0x000200,
	VM_FAULT_RETRY		= (__force vm_fault_t)0x000400,
	VM_FAULT_FALLBACK	= (__force vm_fault_t)0x000800,
	VM_FAULT_DONE_COW	= (__force vm_fault_t)0x001000,
	VM_FAULT_NEEDDSYNC	= (__force vm_fault_t)0x002000,
	VM_FAULT_COMPLETED	= (__force vm_fault_t)0x004000,
	VM_FAULT_HINDEX_MASK	= (__force vm_fault_t)0x0f0000,
};

#define VM_FAULT_ERROR (VM_FAULT_OOM | VM_FAULT_SIGBUS |		\
			VM_FAULT_SIGSEGV | VM_FAULT_HWPOISON |		\
			VM_FAULT_HWPOISON_LARGE | VM_FAULT_FALLBACK)

/* struct vm_area_struct: with the address spaces, at the end. */

/* A page fault, as ->migrate_to_ram() sees it: the fields it reads. */
struct vm_fault {
	struct vm_area_struct *vma;
	gfp_t gfp_mask;
	pgoff_t pgoff;
	unsigned long address;
	unsigned long real_address;
	unsigned int flags;
	struct page *cow_page;
	struct page *page;
};

/*
 * ---- Address spaces (memremap's model, docs/DESIGN.md section 10) ----
 *
 * An mm is made by memremap_mm_create() (memremap/test.h) and owned by the
 * library; so are its VMAs. Instead of page tables the library keeps one
 * entry per mapped page: a present page, or a swap entry in the kernel's
 * swp_entry_t form (device-private or migration, <linux/swapops.h>).
 * The kernel declares mmget() and friends in <linux/sched/mm.h>, the
 * mmap_lock calls in <linux/mmap_lock.h>, find_vma(), vma_lookup() and
 * page_address() in <linux/mm.h>; they are declared here, which all of
 * those include.
 */

struct file;
struct vm_operations_struct;

/* vm_flags (Linux 6.1, include/linux/mm.h). */
#define VM_NONE		0x00000000UL
#define VM_READ		0x00000001UL
#define VM_WRITE	0x00000002UL
#define VM_EXEC		0x00000004UL
#define VM_SHARED	0x00000008UL
#define VM_MAYREAD	0x00000010UL
#define VM_MAYWRITE	0x00000020UL
#define VM_MAYEXEC	0x00000040UL
#define VM_MAYSHARE	0x00000080UL
#define VM_PFNMAP	0x00000400UL
#define VM_IO		0x00004000UL
#define VM_DONTEXPAND	0x00040000UL
#define VM_HUGETLB	0x00400000UL
#define VM_MIXEDMAP	0x10000000UL
#define VM_SPECIAL	(VM_IO | VM_DONTEXPAND | VM_PFNMAP | VM_MIXEDMAP)

/* enum fault_flag (Linux 6.1): struct vm_fault's flags. */
enum fault_flag {
	FAULT_FLAG_WRITE =		1 << 0,
	FAULT_FLAG_MKWRITE =		1 << 1,
	FAULT_FLAG_ALLOW_RETRY =	1 << 2,
	FAULT_FLAG_RETRY_NOWAIT =	1 << 3,
	FAULT_FLAG_KILLABLE =		1 << 4,
	FAULT_FLAG_TRIED =		1 << 5,
	FAULT_FLAG_USER =		1 << 6,
	FAULT_FLAG_REMOTE =		1 << 7,
	FAULT_FLAG_INSTRUCTION =	1 << 8,
	FAULT_FLAG_INTERRUPTIBLE =	1 << 9,
	FAULT_FLAG_UNSHARE =		1 << 10,
	FAULT_FLAG_ORIG_PTE_VALID =	1 << 11,
};

/* A swap entry: type in the top bits, offset (here: a pfn) below. */
typedef struct {
	unsigned long val;
} swp_entry_t;

/*
 * struct mm_struct - an address space: the fields drivers may read.
 * @mm_users: users (mmget()/mmput()); the last mmput() unmaps everything
 * @mm_count: references to the struct itself (mmgrab()/mmdrop())
 * @map_count: number of VMAs
 * @task_size: size of the user address space
 */
struct mm_struct {
	atomic_t mm_users;
	atomic_t mm_count;
	int map_count;
	unsigned long task_size;
};

/*
 * struct vm_area_struct - a user mapping [@vm_start, @vm_end) of @vm_mm.
 * A VMA with no @vm_ops is anonymous (the only kind the model maps);
 * @vm_pgoff is the page offset of @vm_start (linear_page_index()).
 */
struct vm_area_struct {
	unsigned long vm_start;
	unsigned long vm_end;
	struct mm_struct *vm_mm;
	unsigned long vm_flags;
	const struct vm_operations_struct *vm_ops;
	unsigned long vm_pgoff;
	struct file *vm_file;
	void *vm_private_data;
};

_Static_assert(offsetof(struct mm_struct, task_size) == 16,
	       "mm_struct.task_size at 16");
_Static_assert(offsetof(struct vm_area_struct, vm_pgoff) == 40,
	       "vm_area_struct.vm_pgoff at 40");
_Static_assert(sizeof(struct vm_area_struct) == 64,
	       "struct vm_area_struct is 64 bytes here");

static inline bool vma_is_anonymous(struct vm_area_struct *vma)
{
	return !vma->vm_ops;
}

/* <linux/sched/mm.h> */
void mmget(struct mm_struct *mm);
bool mmget_not_zero(struct mm_struct *mm);
void mmput(struct mm_struct *mm);

/*
 * The kernel hands a last put to a workqueue, for callers that may not
 * sleep; here there is nothing to defer, the put is made at once.
 */
static inline void mmput_async(struct mm_struct *mm)
{
	mmput(mm);
}
void mmgrab(struct mm_struct *mm);
void mmdrop(struct mm_struct *mm);

/* <linux/mmap_lock.h>: a read-write lock, waits bounded (then WARNs). */
void mmap_read_lock(struct mm_struct *mm);
bool mmap_read_trylock(struct mm_struct *mm);
void mmap_read_unlock(struct mm_struct *mm);
void mmap_write_lock(struct mm_struct *mm);
void mmap_write_unlock(struct mm_struct *mm);
void mmap_assert_locked(struct mm_struct *mm);

/* <linux/mm.h>: the first VMA ending above @addr; the one holding it. */
struct vm_area_struct *find_vma(struct mm_struct *mm, unsigned long addr);
struct vm_area_struct *vma_lookup(struct mm_struct *mm, unsigned long addr);

/*
 * <linux/mm.h>: the first VMA meeting [@start_addr, @end_addr), or NULL;
 * @start_addr < @end_addr. (Out of line in mm/mmap.c from 6.1, a static
 * inline over find_vma() before; the same answer either way.)
 */
static inline struct vm_area_struct *
find_vma_intersection(struct mm_struct *mm, unsigned long start_addr,
		      unsigned long end_addr)
{
	struct vm_area_struct *vma = find_vma(mm, start_addr);

	if (vma && end_addr <= vma->vm_start)
		vma = NULL;
	return vma;
}

/*
 * <linux/mm.h>: the CPU address of a system page's memory (NULL, with a
 * WARN, for a free page or a ZONE_DEVICE one: no CPU address here).
 */
void *page_address(const struct page *page);

#endif /* _LINUX_MM_TYPES_H */
