// SPDX-License-Identifier: GPL-2.0-only
/*
 * C reference of Linux 6.15's device page life cycle (docs/DESIGN.md §9),
 * written from its contract: as 6.1, but the pgmap is the folio's
 * (page_pgmap()), and the free depends on the memory type: device-private
 * and coherent folios go to ->page_free(head) and drop one pin, generic
 * ones idle at refcount 1, fsdax ones are left alone (a waiter is woken),
 * p2pdma ones go to ->page_free() without a pin. The mapping is cleared
 * except for fsdax and generic memory.
 */
#include "gen_common.h"

void ref_folio_init(struct folio *folio, struct dev_pagemap *pgmap,
		    unsigned int order)
{
	struct page *page = &folio->page;

	(void)pgmap;
	(void)order;
	WARN_ON(!percpu_ref_tryget_live(&page_pgmap(page)->ref));
	ref_set_count(page, 1);
	lock_page(page);
}

static void ref_free(struct folio *folio)
{
	struct dev_pagemap *pgmap = folio->pgmap;

	if (pgmap->type != MEMORY_DEVICE_FS_DAX &&
	    pgmap->type != MEMORY_DEVICE_GENERIC)
		folio->mapping = NULL;
	switch (pgmap->type) {
	case MEMORY_DEVICE_PRIVATE:
	case MEMORY_DEVICE_COHERENT:
		if (WARN_ON(!pgmap->ops || !pgmap->ops->page_free))
			break;
		pgmap->ops->page_free(&folio->page);
		percpu_ref_put(&pgmap->ref);
		break;
	case MEMORY_DEVICE_GENERIC:
		ref_set_count(&folio->page, 1);
		break;
	case MEMORY_DEVICE_FS_DAX:
		break;
	case MEMORY_DEVICE_PCI_P2PDMA:
		if (WARN_ON(!pgmap->ops || !pgmap->ops->page_free))
			break;
		pgmap->ops->page_free(&folio->page);
		break;
	}
}

void ref_folio_put(struct folio *folio)
{
	if (ref_dec_return(folio) == 0)
		ref_free(folio);
}
