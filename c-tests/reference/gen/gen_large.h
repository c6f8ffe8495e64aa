/* SPDX-License-Identifier: GPL-2.0-only */
/* The 6.19-rc and 6.19 references' compound pages and free (shared). */
#ifndef _GEN_LARGE_H
#define _GEN_LARGE_H

#include "gen_common.h"

#define REF_TAIL_MAPPING ((struct address_space *)0xdead000000000400UL)

/*
 * prep_compound_page() of 6.15 on, x86_64 with MM ids and per-page
 * mapcounts: the head flag (a plain read-modify-write, as the kernel's
 * __SetPageHead(): the folio is not yet anyone else's); each tail points back at the head and reads
 * as a tail mapping; the folio's fields live in the first two tails.
 */
static inline void ref_prep_compound(struct page *head, unsigned int order)
{
	struct folio *folio = (struct folio *)head;
	unsigned long i, nr = 1UL << order;

	head->flags |= 1UL << 6;
	for (i = 1; i < nr; i++) {
		struct page *t = head + i;

		t->mapping = REF_TAIL_MAPPING;
		__atomic_store_n(&t->compound_head, (unsigned long)head + 1,
				 __ATOMIC_RELEASE);
		t->private = 0;
	}
	folio->_flags_1 = (folio->_flags_1 & ~0xffUL) | order;
	folio->_nr_pages = nr;
	atomic_set(&folio->_large_mapcount, -1);
	atomic_set(&folio->_nr_pages_mapped, 0);
	atomic_set(&folio->_entire_mapcount, -1);
	atomic_set(&folio->_pincount, 0);
	folio->_mm_id_mapcount[0] = -1;
	folio->_mm_id_mapcount[1] = -1;
	folio->_mm_ids = 0;
	if (order > 1) {
		folio->_deferred_list.next = &folio->_deferred_list;
		folio->_deferred_list.prev = &folio->_deferred_list;
	}
}

/* folio_nr_pages() of 6.15 on. */
static inline unsigned long ref_nr_pages(struct folio *folio)
{
	return folio->flags & (1UL << 6) ? folio->_nr_pages : 1;
}

/*
 * The free of 6.19-rc and 6.19: the folio is left as it is (a large one
 * stays compound); device-private and coherent folios go to ->folio_free()
 * and drop one pin per page.
 */
static inline void ref_free_large(struct folio *folio)
{
	struct dev_pagemap *pgmap = folio->pgmap;
	unsigned long nr = ref_nr_pages(folio);

	if (pgmap->type != MEMORY_DEVICE_FS_DAX &&
	    pgmap->type != MEMORY_DEVICE_GENERIC)
		folio->mapping = NULL;
	switch (pgmap->type) {
	case MEMORY_DEVICE_PRIVATE:
	case MEMORY_DEVICE_COHERENT:
		if (WARN_ON(!pgmap->ops || !pgmap->ops->folio_free))
			break;
		pgmap->ops->folio_free(folio);
		percpu_ref_put_many(&pgmap->ref, nr);
		break;
	case MEMORY_DEVICE_GENERIC:
		ref_set_count(&folio->page, 1);
		break;
	case MEMORY_DEVICE_FS_DAX:
		break;
	case MEMORY_DEVICE_PCI_P2PDMA:
		if (WARN_ON(!pgmap->ops || !pgmap->ops->folio_free))
			break;
		pgmap->ops->folio_free(folio);
		break;
	}
}

void ref_folio_put(struct folio *folio)
{
	if (ref_dec_return(folio) == 0)
		ref_free_large(folio);
}

#endif /* _GEN_LARGE_H */
