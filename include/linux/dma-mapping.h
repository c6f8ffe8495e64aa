/* SPDX-License-Identifier: GPL-2.0-only */
/* Streaming DMA mappings of pages, each one tracked as DMA-API debug does. */
#ifndef _LINUX_DMA_MAPPING_H
#define _LINUX_DMA_MAPPING_H

#include <linux/compiler.h>
#include <linux/errno.h>
#include <linux/kconfig.h>
#include <linux/types.h>

struct device;
struct page;

enum dma_data_direction {
	DMA_BIDIRECTIONAL = 0,
	DMA_TO_DEVICE = 1,
	DMA_FROM_DEVICE = 2,
	DMA_NONE = 3,
};

#define DMA_MAPPING_ERROR	(~(dma_addr_t)0)

/*
 * Map @size bytes at @offset in @page for @dev. The address is an I/O
 * virtual one (unique per mapping, never reused), or DMA_MAPPING_ERROR for
 * a NULL page, DMA_NONE (the kernel BUG()s; here a WARN) or an injected
 * failure (memremap_dma_fail_nth()). Every mapping is tracked until
 * unmapped: memremap_dma_live() counts them.
 */
dma_addr_t __dma_map_page_site(struct device *dev, struct page *page,
			       size_t offset, size_t size,
			       unsigned int dir, unsigned long attrs,
			       const char *file, int line);
dma_addr_t dma_map_page_attrs(struct device *dev, struct page *page,
			      size_t offset, size_t size, unsigned int dir,
			      unsigned long attrs);

/*
 * End a mapping. WARNs, with the words of the kernel's DMA-API debugging:
 * an address not mapped for @dev (a double unmap, say) or
 * DMA_MAPPING_ERROR; another size or direction than mapped (the mapping
 * still ends); a mapping whose dma_mapping_error() was never checked.
 */
void dma_unmap_page_attrs(struct device *dev, dma_addr_t addr, size_t size,
			  unsigned int dir, unsigned long attrs);

/* Marks the mapping at @dma_addr checked, as debug_dma_mapping_error(). */
int debug_dma_mapping_error(struct device *dev, dma_addr_t dma_addr);

#define dma_map_page(d, p, o, s, r) \
	__dma_map_page_site((d), (p), (o), (s), (r), 0, __FILE__, __LINE__)
#define dma_unmap_page(d, a, s, r)	dma_unmap_page_attrs(d, a, s, r, 0)

static inline int dma_mapping_error(struct device *dev, dma_addr_t dma_addr)
{
	debug_dma_mapping_error(dev, dma_addr);
	if (unlikely(dma_addr == DMA_MAPPING_ERROR))
		return -ENOMEM;
	return 0;
}

static inline bool valid_dma_direction(enum dma_data_direction dir)
{
	return dir == DMA_BIDIRECTIONAL || dir == DMA_TO_DEVICE ||
	       dir == DMA_FROM_DEVICE;
}

/* Cross-check the prototypes above against the library's. */
#ifdef CONFIG_ZONE_DEVICE
#include <memremap/abi.h>
#endif

#endif /* _LINUX_DMA_MAPPING_H */
