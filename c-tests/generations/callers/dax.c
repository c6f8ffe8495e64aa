// SPDX-License-Identifier: GPL-2.0-only
/*
 * A device-DAX caller of every generation (our own code, shaped like
 * drivers/dax/device.c; the whole driver is c-tests/drivers/dax.c).
 * Device-DAX never calls zone_device_page_init(): its pages are handed
 * out by the memmap itself, so what each generation's cell checks is the
 * MEMORY_DEVICE_GENERIC contract the driver relies on, and, where the
 * generation has it, the fault path that maps those pages:
 *   6.1      pagemap_range() pins the pgmap once per page until
 *            memunmap_pages(); pages idle at refcount 1 (single pages and
 *            compound heads, vmemmap_shift from the dax alignment; tails
 *            at 0); a get/put round trip never frees. The 6.1 fault path
 *            (vmf_insert_mixed() of a devmap pfn, a pte holding no page
 *            reference) is not modelled: the cell checks the pgmap only.
 *   6.15 on  the same contract, the memmap laid out as 6.15 lays compound
 *            pages, and the fault path of "fs/dax: properly refcount fs
 *            dax pages": ->fault() maps the page with
 *            vmf_insert_page_mkwrite() (a folio reference and a mapcount
 *            per entry); unmap_mapping_range() at kill drops both.
 */
#include "gen_callers.h"
#include <linux/fs.h>
#include <linux/sizes.h>

#define DAX_DRV		"device_dax"
#define DAX_BASE	(40UL << 30)
#define DAX_USER	0x7f5000000000UL

static struct dev_pagemap dax_pgmap;

static void dax_map(unsigned int shift)
{
	memset(&dax_pgmap, 0, sizeof(dax_pgmap));
	dax_pgmap.type = MEMORY_DEVICE_GENERIC;
	dax_pgmap.range.start = DAX_BASE;
	dax_pgmap.range.end = DAX_BASE + SZ_4M - 1;
	dax_pgmap.nr_range = 1;
	dax_pgmap.vmemmap_shift = shift;
	EXPECT_FALSE(IS_ERR(memremap_pages(&dax_pgmap, gen_numa_node_id())));
}

static void dax_pgmap_contract(unsigned int shift)
{
	unsigned long pfn = PHYS_PFN(DAX_BASE), nr = PHYS_PFN(SZ_4M), i;
	unsigned long bad = 0;
	struct gen_baseline b;
	struct page *page;

	gen_baseline_take(&b);
	dax_map(shift);
	EXPECT_EQ(memremap_pgmap_pins(&dax_pgmap), nr);
	for (i = 0; i < nr; i++) {
		int want = (i & ((1UL << shift) - 1)) ? 0 : 1;

		bad += page_ref_count(pfn_to_page(pfn + i)) != want;
	}
	EXPECT_EQ(bad, 0);
	/* A reference taken and dropped (gup would) leaves it idle. */
	page = pfn_to_page(pfn + (1UL << shift));
	get_page(page);
	EXPECT_EQ(page_ref_count(page), 2);
	put_page(page);
	EXPECT_EQ(page_ref_count(page), 1);
	EXPECT_EQ(memremap_pgmap_pins(&dax_pgmap), nr);
	memunmap_pages(&dax_pgmap);
	EXPECT_BASELINE(&b);
	EXPECT_WARNS(0);
}

KTAP_CASE(dax_generic_pgmap_idles_at_one_and_pins_each_page)
{
	dax_pgmap_contract(0);
}

KTAP_CASE(dax_compound_pgmap_heads_idle_at_one)
{
	dax_pgmap_contract(HPAGE_PMD_ORDER);
}

#if MEMREMAP_GEN_MODERN
static struct inode dax_inode;
static struct file dax_file;

static vm_fault_t dax_caller_fault(struct vm_fault *vmf)
{
	unsigned long pfn = PHYS_PFN(DAX_BASE) + vmf->pgoff;
	struct folio *folio = page_folio(pfn_to_page(pfn));

	if (vmf->pgoff >= PHYS_PFN(SZ_4M))
		return VM_FAULT_SIGBUS;
	if (!folio->mapping) {
		folio->mapping = dax_file.f_mapping;
		folio->index = vmf->pgoff;
	}
	return vmf_insert_page_mkwrite(vmf, pfn_to_page(pfn),
				       vmf->flags & FAULT_FLAG_WRITE);
}

static const struct vm_operations_struct dax_caller_ops = {
	.fault = dax_caller_fault,
};

KTAP_CASE(dax_fault_maps_and_kill_unmaps)
{
	struct vm_area_struct *vma;
	unsigned long v = 0x5a5a;
	struct gen_baseline b;
	struct mm_struct *mm;
	struct page *page;

	gen_baseline_take(&b);
	mm = memremap_mm_create();
	dax_map(0);
	dax_inode.i_mapping = &dax_inode.i_data;
	dax_inode.i_data.host = &dax_inode;
	dax_inode.i_flags = S_DAX;
	dax_file.f_mapping = &dax_inode.i_data;
	dax_file.f_inode = &dax_inode;
	vma = memremap_mm_add_vma(mm, DAX_USER, DAX_USER + SZ_4M,
				  VM_READ | VM_WRITE | VM_SHARED | VM_MAYSHARE);
	vma->vm_file = &dax_file;
	vma->vm_pgoff = 0;
	vma->vm_ops = &dax_caller_ops;
	EXPECT_TRUE(vma_is_dax(vma));
	EXPECT_EQ(memremap_mm_access(mm, DAX_USER + 9 * PAGE_SIZE, &v,
				     sizeof(v), true), 0);
	page = pfn_to_page(PHYS_PFN(DAX_BASE) + 9);
	EXPECT_EQ(page_ref_count(page), 2);
	EXPECT_EQ(memremap_page_mapcount(page), 1);
	EXPECT_PTR_EQ(page->mapping, &dax_inode.i_data);
	EXPECT_EQ(*(unsigned long *)page_address(page), 0x5a5a);
	unmap_mapping_range(&dax_inode.i_data, 0, 0, 1);
	EXPECT_EQ(page_ref_count(page), 1);
	EXPECT_EQ(memremap_page_mapcount(page), 0);
	EXPECT_EQ(memremap_mm_nr_entries(mm), 0);
	memunmap_pages(&dax_pgmap);
	mmput(mm);
	EXPECT_BASELINE(&b);
	EXPECT_WARNS(0);
}
#define DAX_FAULT_CASES	KTAP_ENTRY(dax_fault_maps_and_kill_unmaps),
#else
#define DAX_FAULT_CASES
#endif

#define DAX_CASES							\
	KTAP_ENTRY(dax_generic_pgmap_idles_at_one_and_pins_each_page),	\
	KTAP_ENTRY(dax_compound_pgmap_heads_idle_at_one),		\
	DAX_FAULT_CASES
