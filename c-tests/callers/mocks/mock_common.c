// SPDX-License-Identifier: GPL-2.0-only
/*
 * The state behind mock_common.h (ours, not kernel code): the region
 * count and the fence over the iomem tree, and memremap_pages() fault
 * injection.
 */
#include <linux/bug.h>
#include <linux/kernel.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/string.h>
#include <memremap/test.h>
#include "mock_common.h"

#undef memremap_pages
#undef devm_memremap_pages

/* ---- regions ---- */

/*
 * The highest address request_free_mem_region() searches from:
 * 2^MAX_PHYSMEM_BITS - 1 (x86_64 with 5-level paging: 52 bits) or the
 * end of iomem_resource, whichever is lower (kernel/resource.c).
 */
#define CALLERS_MAX_PHYSMEM_BITS	52

/* At most this many stretches of free space to fence. */
#define FENCE_MAX	64

static unsigned long regions_at_start;
static struct resource *fence[FENCE_MAX];
static unsigned long nr_fence;

/* What iomem_resource holds before any test runs (System RAM). */
static void __attribute__((constructor)) callers_regions_start(void)
{
	regions_at_start = memremap_iomem_regions();
}

unsigned long callers_regions_live(void)
{
	return memremap_iomem_regions() - regions_at_start - nr_fence;
}

unsigned long callers_region_pfn(const char *name)
{
	struct resource *r, *found = NULL;

	for (r = iomem_resource.child; r; r = r->sibling)
		if (r->name && !strcmp(r->name, name))
			found = r;
	return found ? found->start >> PAGE_SHIFT : 0;
}

void callers_fence(unsigned long hole)
{
	resource_size_t top = min_t(resource_size_t, iomem_resource.end,
				    (1ULL << CALLERS_MAX_PHYSMEM_BITS) - 1);
	resource_size_t limit = top - hole, from = 0;
	resource_size_t gap[FENCE_MAX][2];
	struct resource *r;
	unsigned long n = 0, i;

	if (WARN_ON(nr_fence || hole > top))
		return;
	/* The free stretches of [0, limit], between top-level resources. */
	for (r = iomem_resource.child; r && from <= limit; r = r->sibling) {
		if (r->start > from && !WARN_ON(n == FENCE_MAX)) {
			gap[n][0] = from;
			gap[n++][1] = min(r->start - 1, limit);
		}
		if (r->end >= from)
			from = r->end + 1;
		if (!from)	/* a resource ends at ~0 */
			break;
	}
	if (from && from <= limit && !WARN_ON(n == FENCE_MAX)) {
		gap[n][0] = from;
		gap[n++][1] = limit;
	}
	for (i = 0; i < n; i++) {
		fence[nr_fence] = request_mem_region(gap[i][0],
						     gap[i][1] - gap[i][0] + 1,
						     "callers fence");
		if (!WARN_ON(!fence[nr_fence]))
			nr_fence++;
	}
}

void callers_unfence(void)
{
	while (nr_fence) {
		struct resource *r = fence[--nr_fence];

		release_mem_region(r->start, resource_size(r));
	}
}

/* ---- memremap_pages() ---- */

static unsigned long memremap_fail_nth;
static unsigned long memremap_shift;

void mock_memremap_fail_nth(unsigned long n)
{
	memremap_fail_nth = n;
}

void mock_memremap_vmemmap_shift(unsigned long shift)
{
	memremap_shift = shift;
}

/* True when this call is the one to fail; else apply the shift. */
static bool memremap_inject(struct dev_pagemap *pgmap)
{
	if (memremap_fail_nth && --memremap_fail_nth == 0)
		return true;
	if (memremap_shift)
		pgmap->vmemmap_shift = memremap_shift;
	return false;
}

void *mock_memremap_pages(struct dev_pagemap *pgmap, int nid)
{
	if (memremap_inject(pgmap))
		return ERR_PTR(-ENOMEM);
	return memremap_pages(pgmap, nid);
}

void *mock_devm_memremap_pages(struct device *dev, struct dev_pagemap *pgmap)
{
	if (memremap_inject(pgmap))
		return ERR_PTR(-ENOMEM);
	return devm_memremap_pages(dev, pgmap);
}
