// SPDX-License-Identifier: GPL-2.0-only
/*
 * C reference of Linux 6.19-rc's device folio life cycle (docs/DESIGN.md
 * §9), written from its contract: zone_device_page_init(page, order) takes
 * 1 << order references on the folio's pgmap with tryget_many (WARN and
 * carry on if it fails), sets the refcount of @page to 1, locks its folio,
 * and for order > 0 makes it compound; the folio_init wrapper marks a
 * large folio rmappable. Nothing of the pages' previous life is cleared.
 */
#include "gen_large.h"

void ref_folio_init(struct folio *folio, struct dev_pagemap *pgmap,
		    unsigned int order)
{
	struct page *page = &folio->page;

	(void)pgmap;
	WARN_ON(!percpu_ref_tryget_many(&page_pgmap(page)->ref, 1UL << order));
	ref_set_count(page, 1);
	lock_page(page);
	if (order) {
		ref_prep_compound(page, order);
		folio_set_large_rmappable(folio);
	}
}
