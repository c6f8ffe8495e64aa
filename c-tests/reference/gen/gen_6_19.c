// SPDX-License-Identifier: GPL-2.0-only
/*
 * C reference of Linux 6.19's device folio life cycle (docs/DESIGN.md §9),
 * written from its contract: as 6.19-rc, with the pgmap passed in and
 * every page of the new folio reset first: the low flags byte (order, head
 * and lock bits), the _nr_pages a folio headed one page before would have
 * left in it, its mapping, its pgmap word (over a stale compound head) and
 * its share count; each must be at refcount 0 and ZONE_DEVICE (WARN).
 * The pages are free and the caller's, so, as in the kernel, these are
 * plain writes (the flags byte a plain read-modify-write, not a locked
 * one).
 */
#include "gen_large.h"

void ref_folio_init(struct folio *folio, struct dev_pagemap *pgmap,
		    unsigned int order)
{
	struct page *page = &folio->page;
	unsigned long i;

	for (i = 0; i < (1UL << order); i++) {
		struct page *p = page + i;
		struct folio *f = (struct folio *)p;

		p->flags &= ~0xffUL;
		((struct folio *)(p - 1))->_nr_pages = 0;
		f->mapping = NULL;
		f->pgmap = pgmap;
		f->share = 0;
		WARN_ON(folio_ref_count(f));
		WARN_ON(!folio_is_zone_device(f));
	}
	WARN_ON(!percpu_ref_tryget_many(&page_pgmap(page)->ref, 1UL << order));
	ref_set_count(page, 1);
	lock_page(page);
	if (order) {
		ref_prep_compound(page, order);
		folio_set_large_rmappable(folio);
	}
}
