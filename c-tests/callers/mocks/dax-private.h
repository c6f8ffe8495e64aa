/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Mocks for drivers/dax/mapping.c (ours, not kernel code): DAX entries as
 * xarray value entries (a pfn and flags), the one xarray slot an xa_state
 * stands for, the walk over an entry's folios, the idle test, the
 * copy-on-write marking, and the table a caller object exports.
 *
 * An entry covers PAGE_SIZE (or PMD_SIZE with DAX_PMD) from its pfn; a
 * zero-page or empty entry covers nothing. Its folios are walked in pfn
 * order, i counting pages from the entry's first, so that a folio's file
 * index is the entry's index + i.
 */
#ifndef _CALLERS_DAX_PRIVATE_H
#define _CALLERS_DAX_PRIVATE_H

#include <linux/types.h>
#include <linux/mm.h>
#include <linux/mm_types.h>
#include <linux/page_ref.h>
#include "mock_common.h"

#ifndef PMD_SHIFT
#define PMD_SHIFT	21
#define PMD_SIZE	(1UL << PMD_SHIFT)
#define PMD_ORDER	(PMD_SHIFT - PAGE_SHIFT)
#endif

/* A file's page cache; DAX folios point their ->mapping at it. */
struct address_space {
	const char *name;
};

/* ---- linux/xarray.h: value entries, and a one-slot xa_state ---- */

static inline void *xa_mk_value(unsigned long v)
{
	return (void *)((v << 1) | 1);
}

static inline unsigned long xa_to_value(const void *entry)
{
	return (unsigned long)entry >> 1;
}

static inline bool xa_is_value(const void *entry)
{
	return (unsigned long)entry & 1;
}

/* The slot of the mapping's xarray that the walk is at. */
struct xa_state {
	void **xa_slot;
};

static inline void *xas_store(struct xa_state *xas, void *entry)
{
	void *old = *xas->xa_slot;

	*xas->xa_slot = entry;
	return old;
}

/*
 * ---- DAX entries: fs/dax.c's encoding as the dax reference counting
 * series (v3, October 2022) leaves it, DAX_ZAP and DAX_MASK included ----
 */

#define DAX_SHIFT	(5)
#define DAX_MASK	((1UL << DAX_SHIFT) - 1)
#define DAX_LOCKED	(1UL << 0)
#define DAX_PMD		(1UL << 1)
#define DAX_ZERO_PAGE	(1UL << 2)
#define DAX_EMPTY	(1UL << 3)
#define DAX_ZAP		(1UL << 4)

/*
 * Flags that are not stored in an entry: what dax_insert_entry() passes
 * on to dax_associate_entry() (DAX_COW: share the folios copy-on-write).
 */
#define DAX_DIRTY	(1UL << (DAX_SHIFT + 0))
#define DAX_COW		(1UL << (DAX_SHIFT + 1))

static inline void *dax_make_entry(unsigned long pfn, unsigned long flags)
{
	return xa_mk_value((flags & DAX_MASK) | (pfn << DAX_SHIFT));
}

static inline unsigned long dax_to_pfn(void *entry)
{
	return xa_to_value(entry) >> DAX_SHIFT;
}

static inline bool dax_is_pmd_entry(void *entry)
{
	return xa_to_value(entry) & DAX_PMD;
}

static inline bool dax_is_zero_entry(void *entry)
{
	return xa_to_value(entry) & DAX_ZERO_PAGE;
}

static inline bool dax_is_empty_entry(void *entry)
{
	return xa_to_value(entry) & DAX_EMPTY;
}

static inline bool dax_is_zapped(void *entry)
{
	return xa_to_value(entry) & DAX_ZAP;
}

static inline void *dax_make_zapped(void *entry)
{
	return xa_mk_value(xa_to_value(entry) | DAX_ZAP);
}

/* Bytes of memory behind @entry. */
static inline unsigned long dax_entry_size(void *entry)
{
	if (dax_is_zero_entry(entry) || dax_is_empty_entry(entry))
		return 0;
	if (dax_is_pmd_entry(entry))
		return PMD_SIZE;
	return PAGE_SIZE;
}

/* The folio holding page @i of @entry, or NULL past its end. */
static inline struct folio *dax_entry_folio(void *entry, unsigned long i)
{
	if (i >= dax_entry_size(entry) >> PAGE_SHIFT)
		return NULL;
	return page_folio(pfn_to_page(dax_to_pfn(entry) + i));
}

#define dax_for_each_folio(entry, folio, i)				\
	for (i = 0, folio = dax_entry_folio(entry, 0); folio;		\
	     i += folio_nr_pages(folio), folio = dax_entry_folio(entry, i))

/* Nobody but the page cache entry holds the folio. */
static inline bool dax_folio_idle(struct folio *folio)
{
	return folio_ref_count(folio) == 0;
}

/*
 * A folio shared copy-on-write has no one mapping: ->mapping is a marker
 * and ->index counts the sharers (include/linux/page-flags.h, 6.0-6.1).
 */
#define PAGE_MAPPING_DAX_COW	0x1UL

static inline bool dax_mapping_is_cow(struct address_space *mapping)
{
	return (unsigned long)mapping == PAGE_MAPPING_DAX_COW;
}

static inline void dax_mapping_set_cow(struct folio *folio)
{
	if (!dax_mapping_is_cow(folio->mapping)) {
		/* Mapped by one file so far: that file is the first sharer. */
		folio->index = folio->mapping ? 1 : 0;
		folio->mapping = (struct address_space *)PAGE_MAPPING_DAX_COW;
	}
	folio->index++;
}

/* What a caller object exports (its CALLER_API). */
struct dax_mapping_api {
	const char *version;
	vm_fault_t (*associate_entry)(void *entry,
				      struct address_space *mapping,
				      struct vm_area_struct *vma,
				      unsigned long address,
				      unsigned long flags);
	struct page *(*zap_pages)(struct xa_state *xas, void *entry);
};

extern const struct dax_mapping_api dax_after, dax_before;

#endif /* _CALLERS_DAX_PRIVATE_H */
