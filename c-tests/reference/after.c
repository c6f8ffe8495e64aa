// SPDX-License-Identifier: GPL-2.0-only
/*
 * The C reference, after side: the seed patch's new code, built under other
 * names so that it links into one test binary with the library
 * (tests/differential/).
 *
 * Lines from the patch (c-tests/data/pgmap_request_folio.patch), verbatim but
 * for white space, contiguous and in order:
 *  - include/linux/memremap.h, hunk 1 (@@ -139,6 +139,28 @@): its context
 *    and '+' lines, from the "};" "};" that close struct dev_pagemap to the
 *    "return pgmap->ops && pgmap->ops->memory_failure;" of
 *    pgmap_has_memory_failure();
 *  - mm/memremap.c (@@ -492,76 +492,60 @@), after side: its context and '+'
 *    lines, from "put_dev_pagemap(page->pgmap);" "}" to
 *    "EXPORT_SYMBOL_GPL(pgmap_request_folio);".
 * Everything else is ours: the includes, the renames, the small struct whose
 * anonymous union closes where the first hunk begins, the closing brace of
 * pgmap_has_memory_failure(), the function that ends where the second hunk
 * begins, the race hook and the exported wrappers at the end.
 */
#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/percpu-refcount.h>
#include <linux/pfn.h>
#include <linux/range.h>
#include <linux/bug.h>
#include <linux/export.h>
#include <linux/types.h>

/*
 * The seed's percpu_ref_tryget() goes through a hook, so that a test can
 * act as another CPU right before it (memunmap_pages() killing the ref
 * between the seed's dying check and its tryget) and show what the failure
 * path after it does: see tests/differential/. NULL, no effect, in every
 * other test.
 */
static void (*ref_tryget_hook)(struct percpu_ref *ref);

void ref_after_set_tryget_hook(void (*hook)(struct percpu_ref *ref))
{
	ref_tryget_hook = hook;
}

static bool ref_hooked_percpu_ref_tryget(struct percpu_ref *ref)
{
	if (ref_tryget_hook)
		ref_tryget_hook(ref);
	return percpu_ref_tryget(ref);
}

#define percpu_ref_tryget		ref_hooked_percpu_ref_tryget

/*
 * The headers declare the library's functions under the kernel's names;
 * the seed's definitions below take other names, so that both link.
 */
#define pfn_to_pgmap_offset		ref_pfn_to_pgmap_offset
#define pgmap_has_memory_failure	ref_pgmap_has_memory_failure
#define free_zone_device_page		ref_after_free_zone_device_page
#define pgmap_offset_to_pfn		ref_pgmap_offset_to_pfn
#define pgmap_request_folio		ref_after_pgmap_request_folio

/* The tail of struct dev_pagemap, where the first hunk begins. */
struct ref_dev_pagemap_tail {
	int nr_range;
	union {
		struct range range;
		DECLARE_FLEX_ARRAY(struct range, ranges);
	};
};

/*
 * Do not use this in new code, this is a transitional helper on the
 * path to convert all ZONE_DEVICE users to operate in terms of pgmap
 * offsets rather than pfn and pfn_to_page() to put ZONE_DEVICE pages
 * into use.
 */
static inline pgoff_t pfn_to_pgmap_offset(struct dev_pagemap *pgmap, unsigned long pfn)
{
	u64 phys = PFN_PHYS(pfn), sum = 0;
	int i;

	for (i = 0; i < pgmap->nr_range; i++) {
		struct range *range = &pgmap->ranges[i];

		if (phys >= range->start && phys <= range->end)
			return PHYS_PFN(phys - range->start + sum);
		sum += range_len(range);
	}

	return -1;
}

static inline bool pgmap_has_memory_failure(struct dev_pagemap *pgmap)
{
	return pgmap->ops && pgmap->ops->memory_failure;
}

/*
 * Ours: the free path as the library implements it (docs/DESIGN.md §2 rule 3),
 * standing where mm/memremap.c's free_zone_device_page() stands.
 */
void free_zone_device_page(struct page *page)
{
	page->mapping = NULL;
	if (page->pgmap->ops && page->pgmap->ops->page_free)
		page->pgmap->ops->page_free(page);
	put_dev_pagemap(page->pgmap);
}

static unsigned long pgmap_offset_to_pfn(struct dev_pagemap *pgmap,
		pgoff_t pgmap_offset)
{
	u64 sum = 0, offset = PFN_PHYS(pgmap_offset);
	int i;

	for (i = 0; i < pgmap->nr_range; i++) {
		struct range *range = &pgmap->ranges[i];

		if (offset >= sum && offset < (sum + range_len(range)))
			return PHYS_PFN(range->start + offset - sum);
		sum += range_len(range);
	}

	return -1;
}

/**
 * pgmap_request_folio - activate a folio of a given order in @pgmap
 * @pgmap: host page map of the folio to activate
 * @pgmap_offset: page-offset into the pgmap to request
 * @order: expected folio_order() of the folio
 *
 * Caller is responsible for @pgmap remaining live for the duration of
 * this call. The order (size) of the folios in the pgmap are assumed
 * stable before this call.
 */
struct folio *pgmap_request_folio(struct dev_pagemap *pgmap,
		pgoff_t pgmap_offset, int order)
{
	unsigned long pfn = pgmap_offset_to_pfn(pgmap, pgmap_offset);
	struct page *page = pfn_to_page(pfn);
	struct folio *folio;
	int v;

	if (WARN_ON_ONCE(page->pgmap != pgmap))
		return NULL;

	if (WARN_ON_ONCE(percpu_ref_is_dying(&pgmap->ref)))
		return NULL;

	folio = page_folio(page);
	if (WARN_ON_ONCE(folio_order(folio) != order))
		return NULL;

	v = folio_ref_inc_return(folio);
	if (v > 1)
		return folio;

	if (WARN_ON_ONCE(!percpu_ref_tryget(&pgmap->ref))) {
		folio_put(folio);
		return NULL;
	}

	return folio;
}
EXPORT_SYMBOL_GPL(pgmap_request_folio);

/* Ours: the seed's static helpers, exported under reference names. */
pgoff_t ref_after_pfn_to_pgmap_offset(struct dev_pagemap *pgmap,
				      unsigned long pfn)
{
	return ref_pfn_to_pgmap_offset(pgmap, pfn);
}

unsigned long ref_after_pgmap_offset_to_pfn(struct dev_pagemap *pgmap,
					    pgoff_t pgmap_offset)
{
	return ref_pgmap_offset_to_pfn(pgmap, pgmap_offset);
}
