// SPDX-License-Identifier: GPL-2.0-only
/*
 * The C reference, before side: the pre-patch code that the seed patch
 * removes, built under other names so that it links into one test binary
 * with the library (tests/differential/).
 *
 * Lines from the patch (c-tests/data/pgmap_request_folio.patch), verbatim but
 * for white space, contiguous and in order:
 *  - include/linux/memremap.h, hunk 1 (@@ -139,6 +139,28 @@), before side:
 *    its context lines (the hunk removes nothing), from the "};" "};" that
 *    close struct dev_pagemap to the "return pgmap->ops &&
 *    pgmap->ops->memory_failure;" of pgmap_has_memory_failure();
 *  - mm/memremap.c (@@ -492,76 +492,60 @@), before side: its context and
 *    '-' lines, from "put_dev_pagemap(page->pgmap);" "}" to the "}" that
 *    closes pgmap_release_folios().
 * Everything else is ours: the includes, the renames, the small struct whose
 * anonymous union closes where the first hunk begins, the closing brace of
 * pgmap_has_memory_failure(), the pgmap_array stand-in, the function that
 * ends where the second hunk begins and the exported wrapper at the end.
 * The headers model a kernel with CONFIG_DEBUG_VM (as an mm developer runs
 * one), so VM_WARN_ON_ONCE() does run folio_span_valid().
 */
#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/mmdebug.h>
#include <linux/percpu-refcount.h>
#include <linux/range.h>
#include <linux/bug.h>
#include <linux/export.h>
#include <linux/types.h>
#include <memremap/test.h>

/*
 * The kernel's pgmap_array maps every pfn of a live pgmap to it; the
 * library's registry holds the same map.
 */
struct ref_pgmap_array {
	int unused;
};

static struct ref_pgmap_array pgmap_array;

static void *ref_xa_load(struct ref_pgmap_array *xa, unsigned long index)
{
	(void)xa;
	return memremap_pfn_owner(index);
}

/*
 * The headers declare the library's functions under the kernel's names;
 * the seed's definitions below take other names, so that both link.
 */
#define xa_load			ref_xa_load
#define pgmap_has_memory_failure	ref_pgmap_has_memory_failure
#define free_zone_device_page	ref_before_free_zone_device_page
#define pgmap_request_folios	ref_before_pgmap_request_folios
#define pgmap_release_folios	ref_before_pgmap_release_folios

/* The tail of struct dev_pagemap, where the first hunk begins. */
struct ref_dev_pagemap_tail {
	int nr_range;
	union {
		struct range range;
		DECLARE_FLEX_ARRAY(struct range, ranges);
	};
};

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

static __maybe_unused bool folio_span_valid(struct dev_pagemap *pgmap,
		struct folio *folio,
		int nr_folios)
{
	unsigned long pfn_start, pfn_end;

	pfn_start = page_to_pfn(folio_page(folio, 0));
	pfn_end = pfn_start + (1 << folio_order(folio)) * nr_folios - 1;

	if (pgmap != xa_load(&pgmap_array, pfn_start))
		return false;

	if (pfn_end > pfn_start && pgmap != xa_load(&pgmap_array, pfn_end))
		return false;

	return true;
}

/**
 * pgmap_request_folios - activate an contiguous span of folios in @pgmap
 * @pgmap: host page map for the folio array
 * @folio: start of the folio list, all subsequent folios have same folio_size()
 *
 * Caller is responsible for @pgmap remaining live for the duration of
 * this call. Caller is also responsible for not racing requests for the
 * same folios.
 */
bool pgmap_request_folios(struct dev_pagemap *pgmap, struct folio *folio,
		int nr_folios)
{
	struct folio *iter;
	int i;

	/*
	 * All of the WARNs below are for catching bugs in future
	 * development that changes the assumptions of:
	 * 1/ uniform folios in @pgmap
	 * 2/ @pgmap death does not race this routine.
	 */
	VM_WARN_ON_ONCE(!folio_span_valid(pgmap, folio, nr_folios));

	if (WARN_ON_ONCE(percpu_ref_is_dying(&pgmap->ref)))
		return false;

	for (iter = folio_next(folio), i = 1; i < nr_folios;
	     iter = folio_next(folio), i++)
		if (WARN_ON_ONCE(folio_order(iter) != folio_order(folio)))
			return false;

	for (iter = folio, i = 0; i < nr_folios; iter = folio_next(iter), i++) {
		folio_ref_inc(iter);
		if (folio_ref_count(iter) == 1)
			percpu_ref_tryget(&pgmap->ref);
	}

	return true;
}
EXPORT_SYMBOL_GPL(pgmap_request_folios);

/*
 * A symmetric helper to undo the page references acquired by
 * pgmap_request_folios(), but the caller can also just arrange
 * folio_put() on all the folios it acquired previously for the same
 * effect.
 */
void pgmap_release_folios(struct folio *folio, int nr_folios)
{
	struct folio *iter;
	int i;

	for (iter = folio, i = 0; i < nr_folios; iter = folio_next(folio), i++)
		folio_put(iter);
}

/* Ours: the seed's static helper, exported under a reference name. */
bool ref_before_folio_span_valid(struct dev_pagemap *pgmap,
				 struct folio *folio, int nr_folios)
{
	return folio_span_valid(pgmap, folio, nr_folios);
}
