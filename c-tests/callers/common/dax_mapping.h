/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Ours, not the kernel's lines, shared by both versions of
 * drivers/dax/mapping.c: what stands between dax_associate_entry() and
 * dax_zap_pages(), the same before and after the patch (dax_zap_entry()).
 * A fragment, not a header: after/dax_mapping.c and before/dax_mapping.c
 * include it once, in this place; the export section is in
 * dax_mapping_tail.h.
 */

/* Mark the entry at @xas zapped: its folios' references are gone. */
static void dax_zap_entry(struct xa_state *xas, void *entry)
{
	xas_store(xas, dax_make_zapped(entry));
}
