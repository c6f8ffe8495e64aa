/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Ours, not the kernel's lines, shared by both versions of
 * drivers/dax/mapping.c: what follows dax_zap_pages(), the same before and
 * after the patch (the export section). A fragment, not a header:
 * after/dax_mapping.c and before/dax_mapping.c include it once, at their
 * end.
 */

/* ---- Export section (ours, not kernel code): what the tests reach. ---- */

const struct dax_mapping_api CALLER_API = {
	.version = CALLER_VERSION,
	.associate_entry = dax_associate_entry,
	.zap_pages = dax_zap_pages,
};
