// SPDX-License-Identifier: GPL-2.0-only
/*
 * drivers/dax/mapping.c before the patch: the lines of its two hunks in
 * pgmap_request_folio.patch (@@ -376,8 +376,14 @@ and
 * @@ -691,7 +697,7 @@), '-' and context, verbatim but for white space.
 *
 * Ours, written to what docs/DESIGN.md §4 describes (the file is new in
 * the dax reference counting series the patch builds on): the includes,
 * the head of dax_associate_entry() and its end, and the head of
 * dax_zap_pages() and its end. The driver-side neighbours, ours and the
 * same in both versions, live in common/ and are included where they
 * stand: common/dax_mapping.h (dax_zap_entry()) and
 * common/dax_mapping_tail.h (the export section). The DAX entry encoding,
 * dax_for_each_folio(), dax_folio_idle(), dax_mapping_set_cow() and the
 * xa_state are mocks (mocks/dax-private.h).
 */
#include <linux/pagemap.h>
#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/kconfig.h>
#include "dax-private.h"

/*
 * Bind the folios of @entry to @mapping at the file index of @address,
 * each holding a reference while it is mapped; a copy-on-write entry's
 * folios only count one more sharer. VM_FAULT_SIGBUS when a folio cannot
 * be had from its pgmap.
 */
static vm_fault_t dax_associate_entry(void *entry,
				      struct address_space *mapping,
				      struct vm_area_struct *vma,
				      unsigned long address,
				      unsigned long flags)
{
	unsigned long size = dax_entry_size(entry), index;
	struct folio *folio;
	int i;

	if (IS_ENABLED(CONFIG_FS_DAX_LIMITED))
		return 0;

	index = linear_page_index(vma, address & ~(size - 1));
	dax_for_each_folio(entry, folio, i) {
		if (flags & DAX_COW) {
			dax_mapping_set_cow(folio);
		} else {
			WARN_ON_ONCE(folio->mapping);
			if (!pgmap_request_folios(folio_pgmap(folio), folio, 1))
				return VM_FAULT_SIGBUS;
			folio->mapping = mapping;
			folio->index = index + i;
		}
	}

	return 0;
}

#include "../common/dax_mapping.h"

/*
 * Drop the references dax_associate_entry() took on the folios of @entry,
 * once (a zapped entry is not zapped again), and report the first folio
 * somebody else still holds, or NULL when all are idle.
 */
static struct page *dax_zap_pages(struct xa_state *xas, void *entry)
{
	struct page *ret = NULL;
	struct folio *folio;
	bool zap;
	int i;

	if (!dax_entry_size(entry))
		return NULL;

	zap = !dax_is_zapped(entry);

	dax_for_each_folio(entry, folio, i) {
		if (zap)
			pgmap_release_folios(folio, 1);
		if (!ret && !dax_folio_idle(folio))
			ret = folio_page(folio, 0);
	}

	if (zap)
		dax_zap_entry(xas, entry);

	return ret;
}

#include "../common/dax_mapping_tail.h"
