/* SPDX-License-Identifier: GPL-2.0-only */
/* The page lock (PG_locked), taken on the folio's head page. */
#ifndef _LINUX_PAGEMAP_H
#define _LINUX_PAGEMAP_H

#include <linux/mm.h>
#include <linux/types.h>

/*
 * lock_page() sleeps while another holder has the page; past the library's
 * wait bound it WARNs and returns without the lock. Unlocking a page that
 * is not locked WARNs.
 */
void lock_page(struct page *page);
void unlock_page(struct page *page);
bool trylock_page(struct page *page);
bool PageLocked(const struct page *page);

void folio_lock(struct folio *folio);
void folio_unlock(struct folio *folio);
bool folio_trylock(struct folio *folio);
bool folio_test_locked(const struct folio *folio);

/* The file page offset that user address @address of @vma maps. */
static inline pgoff_t linear_page_index(struct vm_area_struct *vma,
					unsigned long address)
{
	pgoff_t pgoff = (address - vma->vm_start) >> PAGE_SHIFT;

	return pgoff + vma->vm_pgoff;
}

/* Cross-check the prototypes above against the library's. */
#ifdef CONFIG_ZONE_DEVICE
#include <memremap/abi.h>
#endif

#endif /* _LINUX_PAGEMAP_H */
