/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the five callers' tests share beside the library (ours, not kernel
 * code). The kernel's own symbols come from the library's headers: the
 * iomem tree (linux/ioport.h), DMA (linux/dma-mapping.h), system pages
 * (linux/gfp.h), migrate_vma (linux/migrate.h). Here only:
 *
 *  - fault injection around memremap_pages() and devm_memremap_pages(), a
 *    test seam: fail the Nth call, or map the pgmap with a vmemmap_shift
 *    the driver did not ask for (a pgmap of compound folios);
 *  - the count of regions the drivers hold in the iomem tree, and a fence
 *    that leaves request_free_mem_region() only a hole of a chosen size.
 *
 * State lives in mock_common.c.
 */
#ifndef _CALLERS_MOCK_COMMON_H
#define _CALLERS_MOCK_COMMON_H

#include <linux/types.h>
#include <linux/device.h>
#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/gfp.h>
#include <linux/ioport.h>
#include <linux/memremap.h>
#include <linux/mm_types.h>
#include <linux/stringify.h>

/* "after" or "before": the version of the caller object being built. */
#define CALLER_VERSION __stringify(CALLER_SIDE)

/* ---- linux/topology.h ---- */

static inline int numa_node_id(void)
{
	return 0;
}

/* ---- regions of the iomem tree ---- */

/*
 * Resources directly under iomem_resource that the drivers hold: those
 * there now, less the ones there when the program started (System RAM)
 * and the fence's.
 */
unsigned long callers_regions_live(void);

/*
 * The first pfn of the highest region named @name directly under
 * iomem_resource (request_free_mem_region() searches from the top: in a
 * tree with no other region of that name, the first it handed out), or 0
 * if there is none.
 */
unsigned long callers_region_pfn(const char *name);

/*
 * Claim, busy, every stretch of physical address space that no resource
 * holds, but the @hole bytes at the highest address request_free_mem_region()
 * searches from: from then on it finds room only there, and answers
 * ERR_PTR(-ERANGE) for anything bigger, as on a machine whose address
 * space is taken. Only while no fence is up; callers_unfence() releases it.
 */
void callers_fence(unsigned long hole);
void callers_unfence(void);

/* ---- fault injection around memremap_pages() ---- */

void *mock_memremap_pages(struct dev_pagemap *pgmap, int nid);
void *mock_devm_memremap_pages(struct device *dev, struct dev_pagemap *pgmap);
#define memremap_pages(pgmap, nid) mock_memremap_pages(pgmap, nid)
#define devm_memremap_pages(dev, pgmap) mock_devm_memremap_pages(dev, pgmap)

/* Make the Nth memremap_pages() from now return ERR_PTR(-ENOMEM). */
void mock_memremap_fail_nth(unsigned long n);
/*
 * Map the pgmaps the drivers register with this vmemmap_shift (0: as the
 * driver set it), as if their memory came in compound folios.
 */
void mock_memremap_vmemmap_shift(unsigned long shift);

#endif /* _CALLERS_MOCK_COMMON_H */
