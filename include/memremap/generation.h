/* SPDX-License-Identifier: GPL-2.0-only */
/* Which API generation the headers present: the one place it is decided. */
#ifndef _MEMREMAP_GENERATION_H
#define _MEMREMAP_GENERATION_H

#include <linux/version.h>

/*
 * A program picks the kernel it is written against with
 * -DMEMREMAP_LINUX=KERNEL_VERSION(a,b,c) (or the number), and the 6.19
 * release candidates with -DMEMREMAP_LINUX_RC=1 as well:
 *
 *   nothing defined        the seed: 6.1 with the seed patch (as before)
 *   6.1 ... 6.14           MEMREMAP_GEN_6_1: zone_device_page_init(page)
 *   6.15 ... 6.18          MEMREMAP_GEN_6_15: page_pgmap(), folio->pgmap
 *   6.19 + MEMREMAP_LINUX_RC  MEMREMAP_GEN_6_19_RC: large device folios,
 *                          zone_device_page_init(page, order), ->folio_free
 *   6.19 and later (7.0)   MEMREMAP_GEN_6_19: zone_device_page_init(page,
 *                          pgmap, order), pages reset before reuse
 *
 * The headers then declare exactly that generation's names and struct
 * fields; names of another generation do not compile. One library serves
 * every generation: a pgmap is registered for the generation its program
 * was built for (memremap_pages() is routed to memremap_pages_gen()), and
 * the library frees its folios by that generation's contract.
 */
#define MEMREMAP_GEN_SEED	0
#define MEMREMAP_GEN_6_1	1
#define MEMREMAP_GEN_6_15	2
#define MEMREMAP_GEN_6_19_RC	3
#define MEMREMAP_GEN_6_19	4

#if defined(MEMREMAP_LINUX_RC) && MEMREMAP_LINUX_RC
#define __MEMREMAP_RC 1
#else
#define __MEMREMAP_RC 0
#endif

#ifndef MEMREMAP_LINUX
#if __MEMREMAP_RC
#error "MEMREMAP_LINUX_RC needs MEMREMAP_LINUX=KERNEL_VERSION(6,19,0)"
#endif
#define MEMREMAP_GEN MEMREMAP_GEN_SEED
#elif (MEMREMAP_LINUX) < KERNEL_VERSION(6, 1, 0)
#error "MEMREMAP_LINUX: generations start at KERNEL_VERSION(6,1,0)"
#elif __MEMREMAP_RC && \
	((MEMREMAP_LINUX) >> 8) != (KERNEL_VERSION(6, 19, 0) >> 8)
#error "MEMREMAP_LINUX_RC is the 6.19 release candidates: MEMREMAP_LINUX=6.19"
#elif (MEMREMAP_LINUX) < KERNEL_VERSION(6, 15, 0)
#define MEMREMAP_GEN MEMREMAP_GEN_6_1
#elif (MEMREMAP_LINUX) < KERNEL_VERSION(6, 19, 0)
#define MEMREMAP_GEN MEMREMAP_GEN_6_15
#elif __MEMREMAP_RC
#define MEMREMAP_GEN MEMREMAP_GEN_6_19_RC
#else
#define MEMREMAP_GEN MEMREMAP_GEN_6_19
#endif

/* Struct page/folio as 6.15 on lays them out (PG_head bit 6, folio->pgmap). */
#define MEMREMAP_GEN_MODERN	(MEMREMAP_GEN >= MEMREMAP_GEN_6_15)

struct dev_pagemap;
struct device;
struct page;

/*
 * The library's generation entry points, behind the kernel's names (see
 * <linux/memremap.h>); a program calls them only through those names.
 */
void *memremap_pages_gen(struct dev_pagemap *pgmap, int nid,
			 unsigned int gen);
void *devm_memremap_pages_gen(struct device *dev, struct dev_pagemap *pgmap,
			      unsigned int gen);
void memremap_zone_device_init(struct page *page, struct dev_pagemap *pgmap,
			       unsigned int order, unsigned int gen);
unsigned int memremap_pgmap_generation(struct dev_pagemap *pgmap);

#endif /* _MEMREMAP_GENERATION_H */
