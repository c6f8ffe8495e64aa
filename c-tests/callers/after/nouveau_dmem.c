// SPDX-License-Identifier: GPL-2.0-only
/*
 * drivers/gpu/drm/nouveau/nouveau_dmem.c after the patch: the lines of its
 * two hunks in pgmap_request_folio.patch (@@ -307,6 +307,9 @@ and
 * @@ -316,17 +319,21 @@), '+' and context, verbatim but for white space.
 *
 * Ours, written to Linux 6.1's behaviour (docs/DESIGN.md §4): the includes,
 * the head of nouveau_dmem_page_alloc_locked() and the lines between its
 * hunks (take the lock, pop the free list), and
 * nouveau_dmem_page_free_locked() after it. The driver-side neighbours,
 * ours and the same in both versions, live in common/ and are included
 * where they stand: common/nouveau_dmem.h (the chunk type and size,
 * nouveau_page_to_chunk(), the page_free and migrate_to_ram ops,
 * nouveau_dmem_chunk_alloc()) and common/nouveau_dmem_tail.h
 * (nouveau_dmem_init()/nouveau_dmem_fini(), the export section). The drm
 * device, its dmem state and the buffer objects are driver mocks
 * (mocks/nouveau_drv.h).
 */
#include <linux/pagemap.h>
#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/err.h>
#include "nouveau_drv.h"

#include "../common/nouveau_dmem.h"

static struct page *
nouveau_dmem_page_alloc_locked(struct nouveau_drm *drm)
{
	struct nouveau_dmem_chunk *chunk;
	struct dev_pagemap *pgmap;
	struct folio *folio;
	unsigned long pfn;
	struct page *page = NULL;
	int ret;

	spin_lock(&drm->dmem->lock);
	if (drm->dmem->free_pages) {
		page = drm->dmem->free_pages;
		drm->dmem->free_pages = page->zone_device_data;
		chunk = nouveau_page_to_chunk(page);
		chunk->callocated++;
		pfn = page_to_pfn(page);
		spin_unlock(&drm->dmem->lock);
	} else {
		spin_unlock(&drm->dmem->lock);
		ret = nouveau_dmem_chunk_alloc(drm, &page);
		if (ret)
			return NULL;
		chunk = nouveau_page_to_chunk(page);
		pfn = page_to_pfn(page);
	}

	pgmap = &chunk->pagemap;
	folio = pgmap_request_folio(pgmap, pfn_to_pgmap_offset(pgmap, pfn), 0);
	lock_page(&folio->page);
	return &folio->page;
}

static void
nouveau_dmem_page_free_locked(struct nouveau_drm *drm, struct page *page)
{
	unlock_page(page);
	put_page(page);
}

#include "../common/nouveau_dmem_tail.h"
