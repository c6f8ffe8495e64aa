// SPDX-License-Identifier: GPL-2.0-only
/*
 * The state behind mock_common.h (ours, not kernel code): the physical
 * region allocator, memremap_pages() fault injection, DMA mappings and
 * system pages.
 */
#include <pthread.h>
#include <stdlib.h>
#include <linux/bug.h>
#include <linux/kernel.h>
#include <linux/slab.h>
#include "mock_common.h"

#undef memremap_pages
#undef devm_memremap_pages

#define SZ_2M		(2UL << 20)
#define SZ_1T		(1UL << 40)

static pthread_mutex_t mock_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- regions ---- */

struct resource iomem_resource = {
	.start = 0,
	.end = (1UL << 52) - 1,
	.name = "PCI mem",
};

/* Live regions, sorted by start. */
static struct resource *regions;
static unsigned long region_window = SZ_1T;
static unsigned long regions_live;

void mock_region_limit(unsigned long bytes)
{
	WARN_ON(regions);
	region_window = bytes ? bytes : SZ_1T;
}

unsigned long mock_regions_live(void)
{
	return regions_live;
}

struct resource *request_free_mem_region(struct resource *base,
					 unsigned long size, const char *name)
{
	resource_size_t start = MOCK_REGION_BASE;
	struct resource **link, *res;

	if (!size || base != &iomem_resource)
		return ERR_PTR(-EINVAL);
	res = kzalloc(sizeof(*res), GFP_KERNEL);
	if (!res)
		return ERR_PTR(-ENOMEM);

	pthread_mutex_lock(&mock_lock);
	/* First fit, lowest address first. */
	for (link = &regions; *link; link = &(*link)->sibling) {
		if ((*link)->start >= start + size)
			break;
		start = ALIGN((*link)->end + 1, SZ_2M);
	}
	if (start + size > MOCK_REGION_BASE + region_window) {
		pthread_mutex_unlock(&mock_lock);
		kfree(res);
		return ERR_PTR(-ERANGE);
	}
	res->start = start;
	res->end = start + size - 1;
	res->name = name;
	res->sibling = *link;
	*link = res;
	regions_live++;
	pthread_mutex_unlock(&mock_lock);
	return res;
}

void release_mem_region(resource_size_t start, resource_size_t n)
{
	struct resource **link, *res = NULL;

	pthread_mutex_lock(&mock_lock);
	for (link = &regions; *link; link = &(*link)->sibling) {
		if ((*link)->start == start && resource_size(*link) == n) {
			res = *link;
			*link = res->sibling;
			regions_live--;
			break;
		}
	}
	pthread_mutex_unlock(&mock_lock);
	if (WARN(!res, "Trying to free nonexistent resource <%#llx-%#llx>",
		 (unsigned long long)start,
		 (unsigned long long)(start + n - 1)))
		return;
	kfree(res);
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

/* ---- DMA ---- */

static unsigned long dma_fail_nth;
static long dma_live;
static dma_addr_t dma_next = 1UL << 32;

void mock_dma_fail_nth(unsigned long n)
{
	dma_fail_nth = n;
}

long mock_dma_live(void)
{
	return dma_live;
}

dma_addr_t dma_map_page(struct device *dev, struct page *page,
			size_t offset, size_t size,
			enum dma_data_direction dir)
{
	dma_addr_t addr;

	(void)dev;
	(void)dir;
	if (WARN_ON(!page || !size))
		return DMA_MAPPING_ERROR;
	if (dma_fail_nth && --dma_fail_nth == 0)
		return DMA_MAPPING_ERROR;
	pthread_mutex_lock(&mock_lock);
	addr = dma_next + offset;
	dma_next += PAGE_SIZE;
	dma_live++;
	pthread_mutex_unlock(&mock_lock);
	return addr;
}

void dma_unmap_page(struct device *dev, dma_addr_t addr, size_t size,
		    enum dma_data_direction dir)
{
	(void)dev;
	(void)size;
	(void)dir;
	if (WARN_ON(addr == DMA_MAPPING_ERROR || !addr))
		return;
	pthread_mutex_lock(&mock_lock);
	dma_live--;
	pthread_mutex_unlock(&mock_lock);
}

/* ---- system pages ---- */

/* Pfns of system pages: low memory, far below every device region. */
#define SYS_PFN_BASE	0x100UL

static struct page **sys_pfns;
static unsigned long sys_nr_pfns;
static long sys_live;

struct page *alloc_page(gfp_t gfp)
{
	struct page *page = kzalloc(sizeof(*page), gfp);

	if (page) {
		__atomic_store_n(&page->_refcount.counter, 1,
				 __ATOMIC_RELAXED);
		__atomic_fetch_add(&sys_live, 1, __ATOMIC_RELAXED);
	}
	return page;
}

void __free_page(struct page *page)
{
	unsigned long i;

	if (WARN_ON(!page))
		return;
	pthread_mutex_lock(&mock_lock);
	for (i = 0; i < sys_nr_pfns; i++)
		if (sys_pfns[i] == page)
			sys_pfns[i] = NULL;
	pthread_mutex_unlock(&mock_lock);
	__atomic_fetch_sub(&sys_live, 1, __ATOMIC_RELAXED);
	kfree(page);
}

unsigned long mock_sys_page_pfn(struct page *page)
{
	unsigned long i, free = sys_nr_pfns;

	pthread_mutex_lock(&mock_lock);
	for (i = 0; i < sys_nr_pfns; i++) {
		if (sys_pfns[i] == page)
			goto out;
		if (!sys_pfns[i] && free == sys_nr_pfns)
			free = i;
	}
	if (free == sys_nr_pfns) {
		struct page **more = realloc(sys_pfns, (sys_nr_pfns + 1024) *
					     sizeof(*sys_pfns));

		BUG_ON(!more);
		memset(more + sys_nr_pfns, 0, 1024 * sizeof(*more));
		sys_pfns = more;
		sys_nr_pfns += 1024;
	}
	i = free;
	sys_pfns[i] = page;
out:
	pthread_mutex_unlock(&mock_lock);
	return SYS_PFN_BASE + i;
}

struct page *mock_sys_pfn_to_page(unsigned long pfn)
{
	struct page *page = NULL;

	pthread_mutex_lock(&mock_lock);
	if (pfn >= SYS_PFN_BASE && pfn - SYS_PFN_BASE < sys_nr_pfns)
		page = sys_pfns[pfn - SYS_PFN_BASE];
	pthread_mutex_unlock(&mock_lock);
	return page;
}

long mock_sys_pages_live(void)
{
	return __atomic_load_n(&sys_live, __ATOMIC_RELAXED);
}
