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

#include <linux/memremap.h>

/* Cross-check the prototypes above against the library's. */
#ifdef CONFIG_ZONE_DEVICE
#include <memremap/abi.h>
#endif

#endif /* _LINUX_MM_H */
