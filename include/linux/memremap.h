/* SPDX-License-Identifier: GPL-2.0-only */
/* ZONE_DEVICE pgmaps as in Linux 6.1, with hunks 2-3 of the seed patch. */
#ifndef _LINUX_MEMREMAP_H_
#define _LINUX_MEMREMAP_H_

#include <linux/bug.h>
#include <linux/completion.h>
#include <linux/err.h>
#include <linux/errno.h>
#include <linux/mm_types.h>
#include <linux/percpu-refcount.h>
#include <linux/pfn.h>
#include <linux/range.h>
#include <linux/stddef.h>
#include <linux/types.h>
#include <memremap/generation.h>
#include <asm/page.h>

struct resource;
struct device;

/**
 * struct vmem_altmap - device memory set aside to hold its own memmap
 * @base_pfn: first pfn of the whole mapping
 * @end_pfn: last pfn the altmap may use
 * @reserve: pfns at @base_pfn kept for the driver, before the memmap
 * @free: pfns after @reserve that may hold the memmap
 * @align: pfns skipped to meet allocation alignment
 * @alloc: pfns used so far for the memmap
 *
 * Set before memremap_pages(); valid when the pgmap's flags have
 * PGMAP_ALTMAP_VALID. The first @reserve + @free pfns of range 0
 * (vmem_altmap_offset()) are then not usable pages. @end_pfn is const:
 * it is given with an initializer (the kernel's drivers build an altmap on
 * the stack and memcpy() it in). The kernel has @reserve const as well;
 * it is writable here, for tests that set it in place.
 */
struct vmem_altmap {
	unsigned long base_pfn;
	const unsigned long end_pfn;
	unsigned long reserve;
	unsigned long free;
	unsigned long align;
	unsigned long alloc;
};

_Static_assert(sizeof(struct vmem_altmap) == 48,
	       "struct vmem_altmap is 48 bytes");
_Static_assert(offsetof(struct vmem_altmap, alloc) == 40,
	       "vmem_altmap.alloc at 40");

/*
 * The kinds of ZONE_DEVICE memory:
 *
 * MEMORY_DEVICE_PRIVATE: device memory the CPU cannot address. Its pages
 * stand in for migrated anonymous memory; a CPU fault on one calls
 * ->migrate_to_ram(). Needs ->page_free, ->migrate_to_ram and an owner.
 *
 * MEMORY_DEVICE_COHERENT: device memory the CPU can address coherently,
 * used like DEVICE_PRIVATE for migration. Needs ->page_free and an owner.
 *
 * MEMORY_DEVICE_FS_DAX: persistent memory accessed through a filesystem
 * with DAX; a page is idle when its refcount drops back to zero.
 *
 * MEMORY_DEVICE_GENERIC: device memory mapped like regular memory (device
 * DAX); no callbacks needed.
 *
 * MEMORY_DEVICE_PCI_P2PDMA: PCI BAR memory for peer-to-peer DMA, never
 * mapped to user space in this model.
 */
enum memory_type {
	/* 0 is reserved to catch uninitialized type fields */
	MEMORY_DEVICE_PRIVATE = 1,
	MEMORY_DEVICE_COHERENT,
	MEMORY_DEVICE_FS_DAX,
	MEMORY_DEVICE_GENERIC,
	MEMORY_DEVICE_PCI_P2PDMA,
};

#if MEMREMAP_GEN < MEMREMAP_GEN_6_19_RC
struct dev_pagemap_ops {
	/*
	 * Called once a page's refcount drops to zero (for a compound folio,
	 * once, for its head page), with ->mapping already cleared.
	 */
	void (*page_free)(struct page *page);

	/*
	 * Migrate the DEVICE_PRIVATE page behind a CPU fault back to system
	 * memory.
	 */
	vm_fault_t (*migrate_to_ram)(struct vm_fault *vmf);

	/*
	 * Handle a memory failure on @nr_pages pages from @pfn; optional.
	 */
	int (*memory_failure)(struct dev_pagemap *pgmap, unsigned long pfn,
			      unsigned long nr_pages, int mf_flags);
};
#else /* 6.19-rc on: large device-private folios */
struct dev_pagemap_ops {
	/*
	 * Called once a folio's refcount drops to zero, with its head; a
	 * large folio is still compound here (6.19-rc leaves it so; 6.19
	 * rebuilds its pages when it is next initialised).
	 */
	void (*folio_free)(struct folio *folio);

	/*
	 * Migrate the DEVICE_PRIVATE page behind a CPU fault back to system
	 * memory.
	 */
	vm_fault_t (*migrate_to_ram)(struct vm_fault *vmf);

	/*
	 * Handle a memory failure on @nr_pages pages from @pfn; optional.
	 */
	int (*memory_failure)(struct dev_pagemap *pgmap, unsigned long pfn,
			      unsigned long nr_pages, int mf_flags);

	/*
	 * Device-private memory only, optional: @tail has just been split
	 * off the large folio @head (see zone_device_private_split_cb()).
	 */
	void (*folio_split)(struct folio *head, struct folio *tail);
};
_Static_assert(sizeof(struct dev_pagemap_ops) == 32,
	       "struct dev_pagemap_ops is 32 bytes");
#endif

#define PGMAP_ALTMAP_VALID	(1 << 0)

/**
 * struct dev_pagemap - the metadata of a ZONE_DEVICE mapping
 * @altmap: memmap storage on the device (PGMAP_ALTMAP_VALID in @flags)
 * @ref: the pgmap's reference count; memremap_pages() sets it up, active
 *	folios and get_dev_pagemap() callers hold references on it
 * @done: completed when the last reference on @ref is gone
 * @type: the kind of memory
 * @flags: PGMAP_* flags
 * @vmemmap_shift: folio order of the pages: 0 for single pages, s for
 *	compound folios of 1 << s pages
 * @ops: callbacks, needed for some types
 * @owner: the driver's cookie (DEVICE_PRIVATE and COHERENT need one)
 * @nr_range: number of ranges
 * @range: the range, when there is one
 * @ranges: @nr_range ranges, in the order of the pgmap's offset space,
 *	for a pgmap allocated with room for them (struct_size())
 *
 * Callers may embed it anywhere in their own structs when it has a single
 * range.
 */
struct dev_pagemap {
	struct vmem_altmap altmap;
	struct percpu_ref ref;
	struct completion done;
	enum memory_type type;
	unsigned int flags;
	unsigned long vmemmap_shift;
	const struct dev_pagemap_ops *ops;
	void *owner;
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

static inline struct vmem_altmap *pgmap_altmap(struct dev_pagemap *pgmap)
{
	if (pgmap->flags & PGMAP_ALTMAP_VALID)
		return &pgmap->altmap;
	return NULL;
}

static inline unsigned long pgmap_vmemmap_nr(struct dev_pagemap *pgmap)
{
	return 1 << pgmap->vmemmap_shift;
}

#define __PGMAP_AT(member, off)						\
	_Static_assert(offsetof(struct dev_pagemap, member) == (off),	\
		       "struct dev_pagemap: " #member " at " #off)
__PGMAP_AT(altmap, 0);
__PGMAP_AT(ref, 48);
__PGMAP_AT(done, 64);
__PGMAP_AT(type, 96);
__PGMAP_AT(flags, 100);
__PGMAP_AT(vmemmap_shift, 104);
__PGMAP_AT(ops, 112);
__PGMAP_AT(owner, 120);
__PGMAP_AT(nr_range, 128);
__PGMAP_AT(range, 136);
__PGMAP_AT(ranges, 136);
#undef __PGMAP_AT
_Static_assert(sizeof(struct dev_pagemap) == 152,
	       "struct dev_pagemap is 152 bytes");
_Static_assert(sizeof(enum memory_type) == 4, "enum memory_type is 4 bytes");

/*
 * Our additions, not in the kernel's header. The patch makes
 * pfn_to_pgmap_offset() a static inline here and pgmap_offset_to_pfn()
 * static in mm/memremap.c; both are the library's functions instead (the
 * seed's inline body lives, verbatim, in the C reference). A pgmap's offset
 * space is its ranges[] laid end to end, in array order; both return -1
 * for a pfn or offset outside it.
 */
pgoff_t pfn_to_pgmap_offset(struct dev_pagemap *pgmap, unsigned long pfn);
unsigned long pgmap_offset_to_pfn(struct dev_pagemap *pgmap,
				  pgoff_t pgmap_offset);

/* The type tests read the pgmap through the page's head: the library's. */
bool is_device_private_page(const struct page *page);
bool is_device_coherent_page(const struct page *page);
bool is_pci_p2pdma_page(const struct page *page);

static inline bool folio_is_device_private(const struct folio *folio)
{
	return is_device_private_page(&folio->page);
}

static inline bool folio_is_device_coherent(const struct folio *folio)
{
	return is_device_coherent_page(&folio->page);
}

#if MEMREMAP_GEN >= MEMREMAP_GEN_6_19_RC
/*
 * 6.19-rc on: the driver's word of a device-private folio, its head page's
 * zone_device_data (a folio of another kind WARNs, with CONFIG_DEBUG_VM).
 */
static inline void *folio_zone_device_data(const struct folio *folio)
{
	VM_WARN_ON_FOLIO(!folio_is_device_private(folio), folio);
	return folio->page.zone_device_data;
}

static inline void folio_set_zone_device_data(struct folio *folio,
					      void *data)
{
	VM_WARN_ON_FOLIO(!folio_is_device_private(folio), folio);
	folio->page.zone_device_data = data;
}
#endif

#if MEMREMAP_GEN == MEMREMAP_GEN_SEED
/*
 * Hand a ZONE_DEVICE page whose refcount reached zero back to its pgmap;
 * the last folio_put() calls it.
 */
void free_zone_device_page(struct page *page);
#endif

#ifdef CONFIG_ZONE_DEVICE
void *memremap_pages(struct dev_pagemap *pgmap, int nid);
void memunmap_pages(struct dev_pagemap *pgmap);
void *devm_memremap_pages(struct device *dev, struct dev_pagemap *pgmap);
void devm_memunmap_pages(struct device *dev, struct dev_pagemap *pgmap);
struct dev_pagemap *get_dev_pagemap(unsigned long pfn,
		struct dev_pagemap *pgmap);
struct folio *pgmap_request_folio(struct dev_pagemap *pgmap,
		pgoff_t pgmap_offset, int order);
bool pgmap_pfn_valid(struct dev_pagemap *pgmap, unsigned long pfn);

unsigned long vmem_altmap_offset(struct vmem_altmap *altmap);
void vmem_altmap_free(struct vmem_altmap *altmap, unsigned long nr_pfns);
unsigned long memremap_compat_align(void);

#if MEMREMAP_GEN == MEMREMAP_GEN_SEED
/*
 * The interface the patch replaces, as the tree had it before, for the
 * callers built as they were: the same declarations with the old pair in
 * place of pgmap_request_folio(). Repeating a prototype is harmless.
 */
void devm_memunmap_pages(struct device *dev, struct dev_pagemap *pgmap);
struct dev_pagemap *get_dev_pagemap(unsigned long pfn,
		struct dev_pagemap *pgmap);
bool pgmap_request_folios(struct dev_pagemap *pgmap, struct folio *folio,
		int nr_folios);
void pgmap_release_folios(struct folio *folio, int nr_folios);
bool pgmap_pfn_valid(struct dev_pagemap *pgmap, unsigned long pfn);

unsigned long vmem_altmap_offset(struct vmem_altmap *altmap);
#endif /* MEMREMAP_GEN_SEED */
#if MEMREMAP_GEN == MEMREMAP_GEN_6_1 || MEMREMAP_GEN == MEMREMAP_GEN_6_15
/*
 * 6.1 - 6.18: make an idle device-private or coherent page the driver
 * hands out live: a live reference on its pgmap (a WARN, and on regardless,
 * if the pgmap is dying), refcount 1, locked.
 */
static inline void zone_device_page_init(struct page *page)
{
	memremap_zone_device_init(page, NULL, 0, MEMREMAP_GEN);
}
#elif MEMREMAP_GEN == MEMREMAP_GEN_6_19_RC
/*
 * 6.19-rc: the same for a folio of 1 << @order pages: 1 << @order
 * references on the pgmap (percpu_ref_tryget_many(): a dying pgmap with
 * references left still gives them), refcount 1 and the lock on the head,
 * and for @order > 0 the compound metadata. The pages' previous state is
 * not cleared.
 */
static inline void zone_device_page_init(struct page *page, unsigned int order)
{
	memremap_zone_device_init(page, NULL, order, MEMREMAP_GEN);
}

static inline void zone_device_folio_init(struct folio *folio,
					  unsigned int order)
{
	zone_device_page_init(&folio->page, order);
	if (order)
		folio_set_large_rmappable(folio);
}
#elif MEMREMAP_GEN == MEMREMAP_GEN_6_19
/*
 * 6.19 and 7.0: as 6.19-rc, with the pgmap passed in, and every page of
 * the new folio reset first (order and head bits, mapping, the pgmap word
 * over any stale compound head; each must be at refcount 0), so a folio
 * may be built at another order than its pages last had.
 */
static inline void zone_device_page_init(struct page *page,
					 struct dev_pagemap *pgmap,
					 unsigned int order)
{
	memremap_zone_device_init(page, pgmap, order, MEMREMAP_GEN);
}

static inline void zone_device_folio_init(struct folio *folio,
					  struct dev_pagemap *pgmap,
					  unsigned int order)
{
	zone_device_page_init(&folio->page, pgmap, order);
	if (order)
		folio_set_large_rmappable(folio);
}
#endif
#if MEMREMAP_GEN >= MEMREMAP_GEN_6_19_RC
/*
 * After a split of the large device-private folio @original_folio, tell
 * its driver (->folio_split) about @new_folio, or without the callback
 * give @new_folio the pgmap and mapping itself.
 */
static inline void zone_device_private_split_cb(struct folio *original_folio,
						struct folio *new_folio)
{
	const struct dev_pagemap_ops *ops;

	if (!folio_is_device_private(original_folio))
		return;
	ops = original_folio->pgmap->ops;
	if (ops->folio_split) {
		ops->folio_split(original_folio, new_folio);
	} else if (new_folio) {
		new_folio->pgmap = original_folio->pgmap;
		new_folio->page.mapping = original_folio->page.mapping;
	}
}
#endif
#else
/* The kernel's stubs leave parameters unused; -Wextra would object. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
static inline void *devm_memremap_pages(struct device *dev,
		struct dev_pagemap *pgmap)
{
	/*
	 * Without ZONE_DEVICE there is nothing to map: callers must fall
	 * back to a plain mapping, so say so loudly.
	 */
	WARN_ON_ONCE(1);
	return ERR_PTR(-ENXIO);
}

static inline void devm_memunmap_pages(struct device *dev,
		struct dev_pagemap *pgmap)
{
}

/*
 * The stubs around pgmap_request_folio(), after the patch or (with
 * MEMREMAP_BEFORE_PATCH defined) before it; the stubs the patch keeps are
 * repeated in both, as each version of the file has them.
 */
#if MEMREMAP_GEN != MEMREMAP_GEN_SEED
static inline struct dev_pagemap *get_dev_pagemap(unsigned long pfn,
		struct dev_pagemap *pgmap)
{
	return NULL;
}

static inline bool pgmap_pfn_valid(struct dev_pagemap *pgmap, unsigned long pfn)
{
	return false;
}
#elif !defined(MEMREMAP_BEFORE_PATCH)
static inline struct dev_pagemap *get_dev_pagemap(unsigned long pfn,
		struct dev_pagemap *pgmap)
{
	return NULL;
}

static inline struct folio *pgmap_request_folio(struct dev_pagemap *pgmap,
		pgoff_t pgmap_offset, int order)
{
	return false;
}

static inline bool pgmap_pfn_valid(struct dev_pagemap *pgmap, unsigned long pfn)
{
	return false;
}
#else /* MEMREMAP_BEFORE_PATCH */
static inline struct dev_pagemap *get_dev_pagemap(unsigned long pfn,
		struct dev_pagemap *pgmap)
{
	return NULL;
}

static inline bool pgmap_request_folios(struct dev_pagemap *pgmap,
		struct folio *folio, int nr_folios)
{
	return false;
}

static inline void pgmap_release_folios(struct folio *folio, int nr_folios)
{
}

static inline bool pgmap_pfn_valid(struct dev_pagemap *pgmap, unsigned long pfn)
{
	return false;
}
#endif /* MEMREMAP_BEFORE_PATCH */

static inline unsigned long vmem_altmap_offset(struct vmem_altmap *altmap)
{
	return 0;
}

static inline void vmem_altmap_free(struct vmem_altmap *altmap,
		unsigned long nr_pfns)
{
}

/* Without memremap_pages() a single page can always be remapped. */
static inline unsigned long memremap_compat_align(void)
{
	return PAGE_SIZE;
}
#pragma GCC diagnostic pop
#endif /* CONFIG_ZONE_DEVICE */

/*
 * Drop a reference taken by get_dev_pagemap() (or a page's pin); NULL is
 * ignored. A library function here, a static inline in the kernel.
 */
void put_dev_pagemap(struct dev_pagemap *pgmap);

/* Cross-check every prototype above against the library's. */
#ifdef CONFIG_ZONE_DEVICE
#include <memremap/abi.h>
#endif

#if MEMREMAP_GEN != MEMREMAP_GEN_SEED && defined(CONFIG_ZONE_DEVICE)
/*
 * A generation's pgmap is registered for that generation, so that the
 * library frees its folios by that generation's contract (after abi.h,
 * whose prototypes must not be renamed). The seed patch's interface does
 * not exist in any shipped kernel.
 */
#define memremap_pages(pgmap, nid) \
	memremap_pages_gen(pgmap, nid, MEMREMAP_GEN)
#define devm_memremap_pages(dev, pgmap) \
	devm_memremap_pages_gen(dev, pgmap, MEMREMAP_GEN)
#pragma GCC poison pgmap_request_folio pgmap_request_folios
#pragma GCC poison pgmap_release_folios
#endif

#endif /* _LINUX_MEMREMAP_H_ */
