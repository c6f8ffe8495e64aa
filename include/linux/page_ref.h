/* SPDX-License-Identifier: GPL-2.0-only */
/* Page and folio reference counts: read here, changed by the library. */
#ifndef _LINUX_PAGE_REF_H
#define _LINUX_PAGE_REF_H

#include <linux/mm_types.h>
#include <linux/types.h>

/*
 * A ZONE_DEVICE folio idles at 0 and only its pgmap may raise it from
 * there (pgmap_request_folio()); the last folio_put() hands it back.
 */
int page_ref_count(const struct page *page);
int folio_ref_count(const struct folio *folio);

/* The raw increment, from any value (the seed's C relies on it). */
void folio_ref_inc(struct folio *folio);
int folio_ref_inc_return(struct folio *folio);

/* Cross-check the prototypes above against the library's. */
#ifdef CONFIG_ZONE_DEVICE
#include <memremap/abi.h>
#endif

#endif /* _LINUX_PAGE_REF_H */
