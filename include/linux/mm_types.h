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

/* A user mapping: only what the pgmap callers read. */
struct vm_area_struct {
	unsigned long vm_start;
	unsigned long vm_end;
	struct mm_struct *vm_mm;
	/* File offset of vm_start, in pages (linear_page_index()). */
	unsigned long vm_pgoff;
};

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

#endif /* _LINUX_MM_TYPES_H */
