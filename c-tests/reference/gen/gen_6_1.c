// SPDX-License-Identifier: GPL-2.0-only
/*
 * C reference of Linux 6.1's device page life cycle (docs/DESIGN.md §9),
 * written from its contract: zone_device_page_init(page) takes a live
 * reference on page->pgmap (WARN and carry on if the pgmap is dying),
 * sets the refcount to 1 and locks the page; the last put clears the
 * mapping and calls ->page_free(page), then drops the pin (device-private
 * and coherent memory) or idles the page at refcount 1 (the other types).
 */
#include "gen_common.h"

void ref_folio_init(struct folio *folio, struct dev_pagemap *pgmap,
		    unsigned int order)
{
	struct page *page = &folio->page;

	(void)pgmap;
	(void)order;
	WARN_ON(!percpu_ref_tryget_live(&page->pgmap->ref));
	ref_set_count(page, 1);
	lock_page(page);
}

static void ref_free(struct page *page)
{
	struct dev_pagemap *pgmap = page->pgmap;

	if (WARN_ON(!pgmap->ops || !pgmap->ops->page_free))
		return;
	page->mapping = NULL;
	pgmap->ops->page_free(page);
	if (pgmap->type == MEMORY_DEVICE_PRIVATE ||
	    pgmap->type == MEMORY_DEVICE_COHERENT)
		percpu_ref_put(&pgmap->ref);
	else
		ref_set_count(page, 1);
}

void ref_folio_put(struct folio *folio)
{
	if (ref_dec_return(folio) == 0)
		ref_free(&folio->page);
}
