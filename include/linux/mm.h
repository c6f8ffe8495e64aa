/* SPDX-License-Identifier: GPL-2.0-only */
/* Pages, folios and pfns: the memmap the library keeps. */
#ifndef _LINUX_MM_H
#define _LINUX_MM_H

#include <linux/bug.h>
#include <linux/err.h>
#include <linux/gfp.h>
#include <linux/kernel.h>
#include <linux/list.h>
#include <linux/mm_types.h>
#include <linux/page_ref.h>
#include <linux/pfn.h>
#include <linux/types.h>
#include <memremap/generation.h>
#include <asm/page.h>

/*
 * The memmap: a struct page exists for every pfn a pgmap maps. For a pfn
 * that no pgmap maps, pfn_to_page() WARNs and returns a poison page that
 * matches no pgmap; page_to_pfn() of a page not in the memmap WARNs and
 * returns -1.
 */
struct page *pfn_to_page(unsigned long pfn);
unsigned long page_to_pfn(const struct page *page);

#define nth_page(page, n)	pfn_to_page(page_to_pfn((page)) + (n))

/* The head page of @page's folio, @page itself for a head or a single. */
struct page *compound_head(const struct page *page);
struct folio *page_folio(const struct page *page);

bool PageHead(const struct page *page);
bool PageTail(const struct page *page);

/* Page @n of @folio. */
struct page *folio_page(struct folio *folio, unsigned long n);
/* The folio right after @folio in the memmap. */
struct folio *folio_next(struct folio *folio);
unsigned int folio_order(const struct folio *folio);
long folio_nr_pages(const struct folio *folio);
unsigned long folio_pfn(const struct folio *folio);

static inline size_t folio_size(const struct folio *folio)
{
	return PAGE_SIZE << folio_order(folio);
}

/*
 * The bytes of @page's allocation: PAGE_SIZE << compound_order(page), so
 * a folio's size for its head page and PAGE_SIZE for a tail or a single.
 */
static inline unsigned long page_size(struct page *page)
{
	return PageHead(page) ? folio_size(page_folio(page)) : PAGE_SIZE;
}

/*
 * get and put: a folio must already be in use to get it; the put that
 * takes a ZONE_DEVICE folio to 0 frees it to its pgmap (->page_free(),
 * then the pgmap pin is dropped).
 */
void folio_get(struct folio *folio);
void folio_put(struct folio *folio);
void get_page(struct page *page);
void put_page(struct page *page);

static inline int page_count(const struct page *page)
{
	return folio_ref_count(page_folio(page));
}

bool is_zone_device_page(const struct page *page);
bool folio_is_zone_device(const struct folio *folio);

/* The pgmap of a ZONE_DEVICE folio (through its head page), else NULL. */
struct dev_pagemap *folio_pgmap(const struct folio *folio);

#define PAGE_ALIGN(addr)	ALIGN(addr, PAGE_SIZE)
#define PAGE_ALIGNED(addr)	IS_ALIGNED((unsigned long)(addr), PAGE_SIZE)
#define offset_in_page(p)	((unsigned long)(p) & ~PAGE_MASK)

#if MEMREMAP_GEN != MEMREMAP_GEN_SEED
#include <linux/huge_mm.h>
#include <linux/log2.h>

/* A folio of more than one page (PG_head on its first page). */
static inline bool folio_test_large(const struct folio *folio)
{
	return PageHead(&folio->page);
}
#endif

#if MEMREMAP_GEN_MODERN
/*
 * 6.15 on: the pgmap of a ZONE_DEVICE page is its folio's (the word at 8
 * of a tail page is its compound_head). A page that is not ZONE_DEVICE
 * WARNs (VM_WARN_ON_ONCE_PAGE, with CONFIG_DEBUG_VM) and reads its
 * folio's word all the same.
 */
static inline struct dev_pagemap *page_pgmap(const struct page *page)
{
	VM_WARN_ON_ONCE_PAGE(!is_zone_device_page(page), page);
	return page_folio(page)->pgmap;
}
#endif

/*
 * struct vm_operations_struct (include/linux/mm.h): a VMA's operations. A
 * CPU access to a hole of a VMA with vm_ops calls ->fault() (the library
 * has no THP: ->huge_fault() is never called); the driver installs the
 * entry itself and answers VM_FAULT_NOPAGE.
 */
struct vm_operations_struct {
	void (*open)(struct vm_area_struct *area);
	void (*close)(struct vm_area_struct *area);
	int (*may_split)(struct vm_area_struct *area, unsigned long addr);
	int (*mremap)(struct vm_area_struct *area);
	int (*mprotect)(struct vm_area_struct *vma, unsigned long start,
			unsigned long end, unsigned long newflags);
	vm_fault_t (*fault)(struct vm_fault *vmf);
	vm_fault_t (*huge_fault)(struct vm_fault *vmf, unsigned int order);
	vm_fault_t (*map_pages)(struct vm_fault *vmf, pgoff_t start_pgoff,
				pgoff_t end_pgoff);
	unsigned long (*pagesize)(struct vm_area_struct *area);
};

_Static_assert(offsetof(struct vm_operations_struct, fault) == 40,
	       "vm_operations_struct.fault at 40 (src/file_map.rs)");

#define VM_HUGEPAGE	0x20000000UL

/*
 * unmap_mapping_range(): every user mapping of @mapping's pages from byte
 * @holebegin for @holelen bytes (0: to the end) is zapped, in every mm;
 * each entry drops its page's mapcount and reference.
 */
struct address_space;
void unmap_mapping_range(struct address_space *mapping, loff_t holebegin,
			 loff_t holelen, int even_cows);
void unmap_mapping_pages(struct address_space *mapping, pgoff_t start,
			 pgoff_t nr, bool even_cows);

#if MEMREMAP_GEN_MODERN
/* 6.3 on: vm_flags changes go through helpers. */
static inline void vm_flags_set(struct vm_area_struct *vma,
				unsigned long flags)
{
	vma->vm_flags |= flags;
}

/*
 * 6.15 (mm/memory.c): map @page at vmf->address of vmf->vma, writable if
 * @write; the entry takes a folio reference and a mapcount. A present
 * entry of the same page is made writable (@write) or left; VM_FAULT_SIGBUS
 * for an address outside the VMA or a page at refcount 0 or anonymous.
 */
vm_fault_t vmf_insert_page_mkwrite(struct vm_fault *vmf, struct page *page,
				   bool write);
#endif

#include <linux/memremap.h>

/* Cross-check the prototypes above against the library's. */
#ifdef CONFIG_ZONE_DEVICE
#include <memremap/abi.h>
#endif

#endif /* _LINUX_MM_H */
