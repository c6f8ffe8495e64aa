/* SPDX-License-Identifier: GPL-2.0-only */
/* GFP allocation flags, with the kernel's (6.1) bit values. */
#ifndef __LINUX_GFP_H
#define __LINUX_GFP_H

#include <linux/types.h>

/* The library zeroes an allocation exactly when ___GFP_ZERO is set. */
#define ___GFP_DMA		0x01u
#define ___GFP_HIGHMEM		0x02u
#define ___GFP_DMA32		0x04u
#define ___GFP_MOVABLE		0x08u
#define ___GFP_RECLAIMABLE	0x10u
#define ___GFP_HIGH		0x20u
#define ___GFP_IO		0x40u
#define ___GFP_FS		0x80u
#define ___GFP_ZERO		0x100u
#define ___GFP_ATOMIC		0x200u
#define ___GFP_DIRECT_RECLAIM	0x400u
#define ___GFP_KSWAPD_RECLAIM	0x800u
#define ___GFP_WRITE		0x1000u
#define ___GFP_NOWARN		0x2000u
#define ___GFP_RETRY_MAYFAIL	0x4000u
#define ___GFP_NOFAIL		0x8000u
#define ___GFP_NORETRY		0x10000u
#define ___GFP_MEMALLOC		0x20000u
#define ___GFP_COMP		0x40000u
#define ___GFP_NOMEMALLOC	0x80000u
#define ___GFP_HARDWALL		0x100000u
#define ___GFP_THISNODE		0x200000u
#define ___GFP_ACCOUNT		0x400000u

#define __GFP_DMA		((__force gfp_t)___GFP_DMA)
#define __GFP_HIGHMEM		((__force gfp_t)___GFP_HIGHMEM)
#define __GFP_DMA32		((__force gfp_t)___GFP_DMA32)
#define __GFP_MOVABLE		((__force gfp_t)___GFP_MOVABLE)
#define __GFP_RECLAIMABLE	((__force gfp_t)___GFP_RECLAIMABLE)
#define __GFP_HIGH		((__force gfp_t)___GFP_HIGH)
#define __GFP_IO		((__force gfp_t)___GFP_IO)
#define __GFP_FS		((__force gfp_t)___GFP_FS)
#define __GFP_ZERO		((__force gfp_t)___GFP_ZERO)
#define __GFP_ATOMIC		((__force gfp_t)___GFP_ATOMIC)
#define __GFP_DIRECT_RECLAIM	((__force gfp_t)___GFP_DIRECT_RECLAIM)
#define __GFP_KSWAPD_RECLAIM	((__force gfp_t)___GFP_KSWAPD_RECLAIM)
#define __GFP_RECLAIM	((__force gfp_t)(___GFP_DIRECT_RECLAIM | \
					 ___GFP_KSWAPD_RECLAIM))
#define __GFP_WRITE		((__force gfp_t)___GFP_WRITE)
#define __GFP_NOWARN		((__force gfp_t)___GFP_NOWARN)
#define __GFP_RETRY_MAYFAIL	((__force gfp_t)___GFP_RETRY_MAYFAIL)
#define __GFP_NOFAIL		((__force gfp_t)___GFP_NOFAIL)
#define __GFP_NORETRY		((__force gfp_t)___GFP_NORETRY)
#define __GFP_MEMALLOC		((__force gfp_t)___GFP_MEMALLOC)
#define __GFP_COMP		((__force gfp_t)___GFP_COMP)
#define __GFP_NOMEMALLOC	((__force gfp_t)___GFP_NOMEMALLOC)
#define __GFP_HARDWALL		((__force gfp_t)___GFP_HARDWALL)
#define __GFP_THISNODE		((__force gfp_t)___GFP_THISNODE)
#define __GFP_ACCOUNT		((__force gfp_t)___GFP_ACCOUNT)

#define GFP_ATOMIC	(__GFP_HIGH | __GFP_ATOMIC | __GFP_KSWAPD_RECLAIM)
#define GFP_KERNEL	(__GFP_RECLAIM | __GFP_IO | __GFP_FS)
#define GFP_KERNEL_ACCOUNT (GFP_KERNEL | __GFP_ACCOUNT)
#define GFP_NOWAIT	(__GFP_KSWAPD_RECLAIM)
#define GFP_NOIO	(__GFP_RECLAIM)
#define GFP_NOFS	(__GFP_RECLAIM | __GFP_IO)
#define GFP_USER	(__GFP_RECLAIM | __GFP_IO | __GFP_FS | __GFP_HARDWALL)
#define GFP_DMA		__GFP_DMA
#define GFP_DMA32	__GFP_DMA32
#define GFP_HIGHUSER	(GFP_USER | __GFP_HIGHMEM)
#define GFP_HIGHUSER_MOVABLE	(GFP_HIGHUSER | __GFP_MOVABLE)

/*
 * The page allocator, over the library's own system RAM (docs/DESIGN.md
 * section 10): real struct pages with pfns, not ZONE_DEVICE, each with a
 * PAGE_SIZE << order buffer page_address() returns. Pages are recorded in
 * the allocation ledger at the caller's site (a leaked page fails a test
 * like a leaked kmalloc()), and memremap_kmalloc_fail_nth() fails them.
 * A block of order > 0 carries its reference on its first page; free it
 * with __free_pages() of the same order (or put_page() to zero).
 *
 * alloc_page() and __free_page() are the library's functions here, where
 * the kernel has macros over alloc_pages() and __free_pages(): the same
 * calls, and symbols a program can also reach by name.
 */
struct page;
struct vm_area_struct;

#define MAX_ORDER 11

struct page *__alloc_pages_site(gfp_t gfp, unsigned int order,
				const char *file, int line);
#define alloc_pages(gfp, order) \
	__alloc_pages_site((gfp), (order), __FILE__, __LINE__)
struct page *alloc_page(gfp_t gfp);
void __free_pages(struct page *page, unsigned int order);
void __free_page(struct page *page);

/* No NUMA policy here: the VMA and address only name the caller's use. */
#define alloc_page_vma(gfp, vma, addr) \
	((void)(vma), (void)(addr), alloc_pages((gfp), 0))

#endif /* __LINUX_GFP_H */
