/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Driver-side mocks the five callers share (ours, not kernel code):
 *
 *  - a free physical address space allocator standing in for
 *    request_free_mem_region() / release_mem_region() (linux/ioport.h);
 *  - fault injection around memremap_pages() and devm_memremap_pages():
 *    fail the Nth call, or map the pgmap with a vmemmap_shift the driver
 *    did not ask for (a pgmap of compound folios);
 *  - dma_map_page() and dma_mapping_error(), counting live mappings;
 *  - system pages (alloc_page()): struct pages outside every pgmap, which
 *    the library does not model, kmalloc()ed so that leaks are counted.
 *
 * Every mock leaves a trace tests can read; state lives in mock_common.c.
 */
#ifndef _CALLERS_MOCK_COMMON_H
#define _CALLERS_MOCK_COMMON_H

#include <linux/types.h>
#include <linux/device.h>
#include <linux/err.h>
#include <linux/gfp.h>
#include <linux/memremap.h>
#include <linux/mm_types.h>
#include <linux/stringify.h>

/* "after" or "before": the version of the caller object being built. */
#define CALLER_VERSION __stringify(CALLER_SIDE)

/* ---- linux/ioport.h ---- */

struct resource {
	resource_size_t start;
	resource_size_t end;
	const char *name;
	struct resource *sibling;	/* the mock's list of regions */
};

/* The root of the physical address space, as the kernel names it. */
extern struct resource iomem_resource;

static inline resource_size_t resource_size(const struct resource *res)
{
	return res->end - res->start + 1;
}

/*
 * A free, 2 MiB aligned region of @size bytes in the mock's window of
 * physical address space (lowest first, so a scenario run twice gets the
 * same addresses), or ERR_PTR(-ERANGE) when it is full. The struct
 * resource is kmalloc()ed, as the kernel's is.
 */
struct resource *request_free_mem_region(struct resource *base,
					 unsigned long size, const char *name);
/* Give back the region at @start of @n bytes; anything else WARNs. */
void release_mem_region(resource_size_t start, resource_size_t n);

/* Window of physical address space the allocator hands out. */
#define MOCK_REGION_BASE	(1UL << 40)
/* Limit the window to @bytes (0: 1 TiB); only while no region is live. */
void mock_region_limit(unsigned long bytes);
/* Regions handed out and not released. */
unsigned long mock_regions_live(void);

/* ---- linux/topology.h ---- */

static inline int numa_node_id(void)
{
	return 0;
}

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

/* ---- linux/dma-mapping.h ---- */

enum dma_data_direction {
	DMA_BIDIRECTIONAL = 0,
	DMA_TO_DEVICE = 1,
	DMA_FROM_DEVICE = 2,
	DMA_NONE = 3,
};

#define DMA_MAPPING_ERROR	(~(dma_addr_t)0)

dma_addr_t dma_map_page(struct device *dev, struct page *page,
			size_t offset, size_t size,
			enum dma_data_direction dir);
void dma_unmap_page(struct device *dev, dma_addr_t addr, size_t size,
		    enum dma_data_direction dir);

static inline int dma_mapping_error(struct device *dev, dma_addr_t dma_addr)
{
	(void)dev;
	return dma_addr == DMA_MAPPING_ERROR ? -ENOMEM : 0;
}

/* Make the Nth dma_map_page() from now fail. */
void mock_dma_fail_nth(unsigned long n);
/* Mappings made and not unmapped. */
long mock_dma_live(void);

/* ---- system pages (linux/gfp.h) ---- */

/*
 * A page of system RAM: a zeroed struct page of no pgmap (not ZONE_DEVICE;
 * page_to_pfn() does not know it). NULL on an injected kmalloc() failure.
 */
struct page *alloc_page(gfp_t gfp);
void __free_page(struct page *page);
/* A pfn for a system page, for migrate_pfn() entries; and back. */
unsigned long mock_sys_page_pfn(struct page *page);
struct page *mock_sys_pfn_to_page(unsigned long pfn);
/* System pages allocated and not freed. */
long mock_sys_pages_live(void);

#endif /* _CALLERS_MOCK_COMMON_H */
