// SPDX-License-Identifier: GPL-2.0-only
/*
 * A device-DAX driver of our own, written to how drivers/dax/bus.c and
 * drivers/dax/device.c behave in Linux 6.15 (docs/DESIGN.md section 10),
 * and its KTAP suite. Device-DAX memory is not device-private: nothing
 * migrates. A dax region (the physical space a platform driver such as
 * hmem or pmem hands to the bus) is carved into a dev_dax of one or more
 * ranges; probe claims each range in iomem_resource and maps them all with
 * one MEMORY_DEVICE_GENERIC pgmap bound to the dev_dax's device; a process
 * mmap()s the device and its CPU faults map device pages directly
 * (vmf_insert_page_mkwrite(): a folio reference and a mapcount per
 * entry); reads and writes reach the device memory; unbind with mappings
 * in place kills the device, zaps every mapping of its file
 * (unmap_mapping_range()), unmaps the pgmap (memunmap_pages() waits for
 * its references) and releases the regions.
 *
 * 6.15's refcounts, as mm/mm_init.c and mm/memremap.c have them: a
 * MEMORY_DEVICE_GENERIC page idles at refcount 1 (never reset to 0 by
 * __init_zone_device_page()); pagemap_range() holds one pgmap pin per page
 * from memremap_pages() to memunmap_pages(); a mapped page is at 1 + its
 * mappings. Nothing in this flow takes or drops a pgmap pin per page.
 */
#include <linux/device.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/ioport.h>
#include <linux/log2.h>
#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/overflow.h>
#include <linux/pagemap.h>
#include <linux/range.h>
#include <linux/sched/mm.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <memremap/test.h>
#include "ktap.h"
#include "drivers/driver_test.h"

/* ---- the bus: dax regions and dev_dax instances (bus.c) ---- */

struct dax_region {
	int id;
	unsigned int align;
	struct resource res;	/* the region's space; ranges nest in it */
};

struct dev_dax_range {
	unsigned long pgoff;
	struct range range;
};

/* The dax_device, its inode and the dev_dax of dax-private.h, in one. */
struct dev_dax {
	struct dax_region *region;
	struct device dev;
	struct dev_pagemap *pgmap;
	bool alive;			/* run_dax() .. kill_dax() */
	unsigned int align;
	int nr_range;
	struct dev_dax_range *ranges;
	struct inode inode;		/* the dax inode: its i_data is the file */
};

/*
 * alloc_dev_dax_range(): @size bytes of the region at @start. The kernel
 * claims them with __request_region(&dax_region->res, ...), the region's
 * resource being a root of its own outside iomem_resource; the library's
 * resource tree has the one root, so the bus's sub-allocation is checked
 * here by hand (inside the region, overlapping no range of the device).
 */
static int alloc_dev_dax_range(struct dev_dax *dev_dax, u64 start,
			       resource_size_t size)
{
	struct dax_region *dax_region = dev_dax->region;
	struct range want = { .start = start, .end = start + size - 1 };
	struct range whole = {
		.start = dax_region->res.start,
		.end = dax_region->res.end,
	};
	struct dev_dax_range *ranges;
	unsigned long pgoff = 0;
	int i;

	if (!size || !range_contains(&whole, &want))
		return -ENOSPC;
	for (i = 0; i < dev_dax->nr_range; i++) {
		if (range_overlaps(&dev_dax->ranges[i].range, &want))
			return -EBUSY;
		pgoff += PHYS_PFN(range_len(&dev_dax->ranges[i].range));
	}
	ranges = krealloc(dev_dax->ranges,
			  sizeof(*ranges) * (dev_dax->nr_range + 1),
			  GFP_KERNEL);
	if (!ranges)
		return -ENOMEM;
	dev_dax->ranges = ranges;
	ranges[dev_dax->nr_range++] = (struct dev_dax_range) {
		.pgoff = pgoff,
		.range = want,
	};
	return 0;
}

/* The bus gives the ranges back when the dev_dax goes. */
static void free_dev_dax_ranges(struct dev_dax *dev_dax)
{
	kfree(dev_dax->ranges);
	dev_dax->ranges = NULL;
	dev_dax->nr_range = 0;
}

/* kill_dev_dax(): no new faults, and no mapping of the file survives. */
static void kill_dev_dax(struct dev_dax *dev_dax)
{
	dev_dax->alive = false;				/* kill_dax() */
	unmap_mapping_range(dev_dax->inode.i_mapping, 0, 0, 1);
	dev_dax->pgmap = NULL;		/* devm frees the dynamic pgmap */
}

/* ---- the driver (device.c) ---- */

static int check_vma(struct dev_dax *dev_dax, struct vm_area_struct *vma)
{
	unsigned long mask;

	if (!dev_dax->alive)
		return -ENXIO;
	/* Only shared mappings. */
	if ((vma->vm_flags & VM_MAYSHARE) != VM_MAYSHARE)
		return -EINVAL;
	mask = dev_dax->align - 1;
	if (vma->vm_start & mask || vma->vm_end & mask)
		return -EINVAL;
	if (!vma_is_dax(vma))
		return -EINVAL;
	return 0;
}

/* dax_pgoff_to_phys(): the range holding file page @pgoff, or -1. */
static phys_addr_t dax_pgoff_to_phys(struct dev_dax *dev_dax, pgoff_t pgoff,
				     unsigned long size)
{
	int i;

	for (i = 0; i < dev_dax->nr_range; i++) {
		struct dev_dax_range *r = &dev_dax->ranges[i];
		unsigned long last = r->pgoff +
				     PHYS_PFN(range_len(&r->range)) - 1;
		phys_addr_t phys;

		if (pgoff < r->pgoff || pgoff > last)
			continue;
		phys = PFN_PHYS(pgoff - r->pgoff) + r->range.start;
		if (phys + size - 1 <= r->range.end)
			return phys;
		break;
	}
	return (phys_addr_t)-1;
}

/* dax_set_mapping(): the faulted pages belong to the device's file. */
static void dax_set_mapping(struct vm_fault *vmf, unsigned long pfn,
			    unsigned long fault_size)
{
	unsigned long i, nr_pages = fault_size / PAGE_SIZE;
	struct file *filp = vmf->vma->vm_file;
	pgoff_t pgoff;

	pgoff = linear_page_index(vmf->vma,
				  ALIGN_DOWN(vmf->address, fault_size));
	for (i = 0; i < nr_pages; i++) {
		struct folio *folio = page_folio(pfn_to_page(pfn + i));

		if (folio->mapping)
			continue;
		folio->mapping = filp->f_mapping;
		folio->index = pgoff + i;
	}
}

static vm_fault_t dev_dax_pte_fault(struct dev_dax *dev_dax,
				    struct vm_fault *vmf)
{
	unsigned int fault_size = PAGE_SIZE;
	unsigned long pfn;
	phys_addr_t phys;

	if (check_vma(dev_dax, vmf->vma))
		return VM_FAULT_SIGBUS;
	if (dev_dax->align > PAGE_SIZE)
		return VM_FAULT_SIGBUS;
	if (fault_size != dev_dax->align)
		return VM_FAULT_SIGBUS;
	phys = dax_pgoff_to_phys(dev_dax, vmf->pgoff, PAGE_SIZE);
	if (phys == (phys_addr_t)-1)
		return VM_FAULT_SIGBUS;
	pfn = PHYS_PFN(phys);
	dax_set_mapping(vmf, pfn, fault_size);
	return vmf_insert_page_mkwrite(vmf, pfn_to_page(pfn),
				       vmf->flags & FAULT_FLAG_WRITE);
}

static unsigned long dax_faults;

/*
 * ->huge_fault(vmf, order): order 0 is the PTE fault. PMD and PUD faults
 * (vmf_insert_folio_pmd()/_pud()) need huge entries, which the library's
 * address spaces do not have; they fall back, as the kernel's do when the
 * device's alignment is smaller than the fault.
 */
static vm_fault_t dev_dax_huge_fault(struct vm_fault *vmf, unsigned int order)
{
	struct dev_dax *dev_dax = vmf->vma->vm_file->private_data;

	dax_faults++;
	if (order)
		return VM_FAULT_FALLBACK;
	return dev_dax_pte_fault(dev_dax, vmf);
}

static vm_fault_t dev_dax_fault(struct vm_fault *vmf)
{
	return dev_dax_huge_fault(vmf, 0);
}

static int dev_dax_may_split(struct vm_area_struct *vma, unsigned long addr)
{
	struct dev_dax *dev_dax = vma->vm_file->private_data;

	return IS_ALIGNED(addr, dev_dax->align) ? 0 : -EINVAL;
}

static unsigned long dev_dax_pagesize(struct vm_area_struct *vma)
{
	struct dev_dax *dev_dax = vma->vm_file->private_data;

	return dev_dax->align;
}

static const struct vm_operations_struct dax_vm_ops = {
	.fault		= dev_dax_fault,
	.huge_fault	= dev_dax_huge_fault,
	.may_split	= dev_dax_may_split,
	.pagesize	= dev_dax_pagesize,
};

static int dax_mmap(struct file *filp, struct vm_area_struct *vma)
{
	struct dev_dax *dev_dax = filp->private_data;
	int rc;

	rc = check_vma(dev_dax, vma);
	if (rc)
		return rc;
	vma->vm_ops = &dax_vm_ops;
	vm_flags_set(vma, VM_HUGEPAGE);
	return 0;
}

static int dax_open(struct inode *inode, struct file *filp)
{
	struct dev_dax *dev_dax = inode->i_private;

	inode->i_mapping = &inode->i_data;
	inode->i_mapping->host = inode;
	filp->f_mapping = inode->i_mapping;
	filp->f_inode = inode;
	filp->private_data = dev_dax;
	inode->i_flags = S_DAX;
	return 0;
}

static int dax_release(struct inode *inode, struct file *filp)
{
	(void)inode;
	(void)filp;
	return 0;
}

static const struct file_operations dax_fops = {
	.open		= dax_open,
	.release	= dax_release,
	.mmap		= dax_mmap,
};

static void dev_dax_kill(void *dev_dax)
{
	kill_dev_dax(dev_dax);
}

/* dev_dax_probe(): claim the ranges, map them, go live. */
static int dev_dax_probe(struct dev_dax *dev_dax)
{
	struct device *dev = &dev_dax->dev;
	struct dev_pagemap *pgmap;
	void *addr;
	int i;

	pgmap = devm_kzalloc(dev, struct_size(pgmap, ranges,
					       dev_dax->nr_range - 1),
			     GFP_KERNEL);
	if (!pgmap)
		return -ENOMEM;
	pgmap->nr_range = dev_dax->nr_range;
	dev_dax->pgmap = pgmap;
	for (i = 0; i < dev_dax->nr_range; i++) {
		struct range *range = &dev_dax->ranges[i].range;

		if (!devm_request_mem_region(dev, range->start,
					     range_len(range), dev_name(dev)))
			return -EBUSY;
		pgmap->ranges[i] = *range;
	}
	pgmap->type = MEMORY_DEVICE_GENERIC;
	if (dev_dax->align > PAGE_SIZE)
		pgmap->vmemmap_shift =
			order_base_2(dev_dax->align >> PAGE_SHIFT);
	addr = devm_memremap_pages(dev, pgmap);
	if (IS_ERR(addr))
		return PTR_ERR(addr);
	dev_dax->alive = true;				/* run_dax() */
	return devm_add_action_or_reset(dev, dev_dax_kill, dev_dax);
}

/* The driver core's unbind: device.c's remove is empty, devm unwinds. */
static void dev_dax_unbind(struct dev_dax *dev_dax)
{
	devres_release_all(&dev_dax->dev);
}

/* ---- the suite ---- */

/* The region: 8 MiB of "Soft Reserved" memory at 24 GiB. */
#define REGION_START	(24UL << 30)
#define REGION_SIZE	(8UL << 20)
#define USER_BASE	0x7f4000000000UL

static struct resource soft_reserved = {
	.name	= "Soft Reserved",
	.start	= REGION_START,
	.end	= REGION_START + REGION_SIZE - 1,
	.flags	= IORESOURCE_MEM,
};
static struct dax_region region;
static struct dev_dax ddax;
static struct file filp;

/* The platform driver registers its memory; the bus makes the region. */
static void setup_region(void)
{
	EXPECT_EQ(request_resource(&iomem_resource, &soft_reserved), 0);
	memset(&region, 0, sizeof(region));
	region.align = PAGE_SIZE;
	region.res = (struct resource) {
		.name	= "dax0",
		.start	= REGION_START,
		.end	= REGION_START + REGION_SIZE - 1,
		.flags	= IORESOURCE_MEM,
	};
}

static void teardown_region(void)
{
	EXPECT_EQ(release_resource(&soft_reserved), 0);
}

static unsigned long dev_releases;

/* The device's release(): the last reference to dax0.0 went. */
static void dev_dax_release(struct device *dev)
{
	(void)dev;
	dev_releases++;
}

/*
 * dax0.0 of two ranges: 2 MiB at the region's start and 2 MiB at 4 MiB
 * into it (a device grown after a neighbour was carved out).
 */
static int create_dev_dax(void)
{
	int rc;

	memset(&ddax, 0, sizeof(ddax));
	ddax.region = &region;
	ddax.align = region.align;
	ddax.dev.init_name = "dax0.0";
	ddax.dev.release = dev_dax_release;
	device_initialize(&ddax.dev);
	ddax.inode.i_private = &ddax;
	rc = alloc_dev_dax_range(&ddax, REGION_START, SZ_2M);
	if (!rc)
		rc = alloc_dev_dax_range(&ddax, REGION_START + SZ_4M,
					 SZ_2M);
	return rc;
}

static void destroy_dev_dax(void)
{
	free_dev_dax_ranges(&ddax);
	put_device(&ddax.dev);
}

static unsigned long dev_pages(void)
{
	return 2 * PHYS_PFN(SZ_2M);
}

/* The pfn of file page @pgoff of dax0.0. */
static unsigned long pgoff_pfn(unsigned long pgoff)
{
	if (pgoff < PHYS_PFN(SZ_2M))
		return PHYS_PFN(REGION_START) + pgoff;
	return PHYS_PFN(REGION_START + SZ_4M) + pgoff - PHYS_PFN(SZ_2M);
}

/* open() and mmap(MAP_SHARED) of the device: the VMA, or NULL. */
static struct vm_area_struct *dax_mmap_user(struct mm_struct *mm,
					    unsigned long len,
					    unsigned long flags, int *err)
{
	struct vm_area_struct *vma;

	memset(&filp, 0, sizeof(filp));
	filp.f_op = &dax_fops;
	filp.f_op->open(&ddax.inode, &filp);
	vma = memremap_mm_add_vma(mm, USER_BASE, USER_BASE + len, flags);
	if (!vma) {
		*err = -ENOMEM;
		return NULL;
	}
	vma->vm_file = &filp;
	vma->vm_pgoff = 0;
	*err = filp.f_op->mmap(&filp, vma);
	if (*err) {
		memremap_mm_munmap(mm, vma);
		return NULL;
	}
	return vma;
}

#define SHARED_RW	(VM_READ | VM_WRITE | VM_SHARED | VM_MAYREAD | \
			 VM_MAYWRITE | VM_MAYSHARE)

static int cpu_write(struct mm_struct *mm, unsigned long pgoff,
		     unsigned long v)
{
	return proc_write(mm, USER_BASE + pgoff * PAGE_SIZE, v);
}

static unsigned long cpu_read(struct mm_struct *mm, unsigned long pgoff)
{
	return proc_read(mm, USER_BASE + pgoff * PAGE_SIZE);
}

/* What the device memory holds at file page @pgoff (its direct map). */
static unsigned long dev_read(unsigned long pgoff)
{
	unsigned long *va = page_address(pfn_to_page(pgoff_pfn(pgoff)));

	return va ? *va : ~0UL;
}

/*
 * A report line: file page @pgoff's refcount and mapcount, the pgmap's
 * pins, the faults taken; once the pgmap is gone, what is left of it.
 */
static void step(const char *what, unsigned long pgoff)
{
	unsigned long pfn = pgoff_pfn(pgoff);
	struct dev_pagemap *pgmap = NULL;
	struct page *page;

	if (memremap_mapped_pgmaps())
		pgmap = get_dev_pagemap(pfn, NULL);
	if (!pgmap) {
		printf("    # %-36s pgmap unmapped, device memory chunks %ld, faults %lu\n",
		       what, memremap_device_memory_live(), dax_faults);
		return;
	}
	page = pfn_to_page(pfn);
	put_dev_pagemap(pgmap);
	printf("    # %-36s page %lu refcount %d mapcount %d pins %ld faults %lu\n",
	       what, pgoff, page_ref_count(page),
	       memremap_page_mapcount(page), memremap_pgmap_pins(pgmap),
	       dax_faults);
}

/* The file pages faulted in: one in each range, and the last. */
static const unsigned long touched[] = { 0, 5, 511, 512, 600, 1023 };

KTAP_CASE(probe_map_access_then_unbind_with_pages_mapped)
{
	unsigned long regions = memremap_iomem_regions(), i, val;
	unsigned long releases = dev_releases;
	struct vm_area_struct *vma;
	struct mm_struct *mm;
	struct page *page;
	int err;

	setup_region();
	EXPECT_EQ(create_dev_dax(), 0);
	EXPECT_EQ(ddax.nr_range, 2);
	EXPECT_EQ(ddax.ranges[1].pgoff, PHYS_PFN(SZ_2M));
	EXPECT_EQ(dev_dax_probe(&ddax), 0);
	step("probed: 1024 pages, idle:", 600);
	EXPECT_TRUE(memremap_pgmap_is_mapped(ddax.pgmap));
	/*
	 * One busy region per range, nested in the platform's memory (the
	 * top level holds only that): nobody else can claim them.
	 */
	EXPECT_EQ(memremap_iomem_regions(), regions + 1);
	EXPECT_NULL(request_mem_region(REGION_START, SZ_2M, "other"));
	EXPECT_NULL(request_mem_region(REGION_START + SZ_4M, SZ_2M, "other"));
	EXPECT_EQ(region_intersects(REGION_START, SZ_2M, IORESOURCE_MEM,
				    IORES_DESC_NONE), REGION_INTERSECTS);
	/* pagemap_range(): a pin per page for the pgmap's lifetime. */
	EXPECT_EQ(memremap_pgmap_pins(ddax.pgmap), dev_pages());
	page = pfn_to_page(pgoff_pfn(600));
	EXPECT_EQ(page_ref_count(page), 1);	/* GENERIC idles at 1 */
	EXPECT_EQ(memremap_page_mapcount(page), 0);
	EXPECT_NULL(page->mapping);

	mm = memremap_mm_create();
	vma = dax_mmap_user(mm, 6 * SZ_1M, SHARED_RW, &err);
	EXPECT_EQ(err, 0);
	EXPECT_PTR_EQ(vma->vm_ops, &dax_vm_ops);
	EXPECT_TRUE(vma->vm_flags & VM_HUGEPAGE);
	for (i = 0; i < ARRAY_SIZE(touched); i++)
		EXPECT_EQ(cpu_write(mm, touched[i], touched[i] * 7 + 3), 0);
	step("six pages faulted in and written:", 600);
	EXPECT_EQ(dax_faults, ARRAY_SIZE(touched));
	for (i = 0; i < ARRAY_SIZE(touched); i++) {
		unsigned long pg = touched[i];

		EXPECT_EQ(memremap_mm_entry(mm, USER_BASE + pg * PAGE_SIZE,
					    &page, &val),
			  MEMREMAP_PTE_PRESENT);
		EXPECT_EQ(page_to_pfn(page), pgoff_pfn(pg));
		EXPECT_TRUE(val & 2);		/* writable */
		EXPECT_EQ(page_ref_count(page), 2);
		EXPECT_EQ(memremap_page_mapcount(page), 1);
		EXPECT_PTR_EQ(page->mapping, filp.f_mapping);
		EXPECT_EQ(page->index, pg);
		/* The CPU wrote the device's memory itself. */
		EXPECT_EQ(dev_read(pg), pg * 7 + 3);
		EXPECT_EQ(cpu_read(mm, pg), pg * 7 + 3);
	}
	/* A second access maps nothing new. */
	EXPECT_EQ(dax_faults, ARRAY_SIZE(touched));
	/* Mapping took no pgmap pin, and an untouched page is idle. */
	EXPECT_EQ(memremap_pgmap_pins(ddax.pgmap), dev_pages());
	EXPECT_EQ(page_ref_count(pfn_to_page(pgoff_pfn(1))), 1);
	/* Past the device's 1024 pages: SIGBUS, nothing mapped. */
	EXPECT_EQ(cpu_write(mm, 1100, 1), -EFAULT);
	EXPECT_EQ(memremap_mm_nr_entries(mm), ARRAY_SIZE(touched));

	/*
	 * Unbind while the process still maps the pages. devm runs the
	 * device's actions newest first: kill_dev_dax() comes first, run
	 * alone here to look between it and the pgmap's release.
	 */
	devm_release_action(&ddax.dev, dev_dax_kill, &ddax);
	step("unbind: kill_dev_dax() zapped them:", 600);
	EXPECT_EQ(memremap_mm_nr_entries(mm), 0);
	EXPECT_EQ(page_ref_count(page), 1);
	EXPECT_EQ(memremap_page_mapcount(page), 0);
	EXPECT_EQ(memremap_pgmap_pins(page_pgmap(page)), dev_pages());
	dev_dax_unbind(&ddax);
	step("unbind: pgmap and regions released:", 600);
	EXPECT_EQ(memremap_mm_nr_entries(mm), 0);	/* all zapped */
	EXPECT_EQ(memremap_mapped_pgmaps(), 0);
	EXPECT_EQ(memremap_device_memory_live(), 0);
	/* The ranges were released: claiming them works again. */
	EXPECT_NOT_NULL(request_mem_region(REGION_START + SZ_4M, SZ_2M,
					   "other"));
	release_mem_region(REGION_START + SZ_4M, SZ_2M);
	/* The mapping stays; its faults now fail (the device is dead). */
	EXPECT_EQ(cpu_write(mm, 0, 1), -EFAULT);
	mmput(mm);
	destroy_dev_dax();
	EXPECT_EQ(dev_releases, releases + 1);
	teardown_region();
	EXPECT_EQ(memremap_iomem_regions(), regions);
	EXPECT_EQ(memremap_ledger_count(), 0);
	EXPECT_WARNS(0);
}

KTAP_CASE(munmap_and_exit_drop_the_mappings)
{
	struct vm_area_struct *vma;
	struct mm_struct *mm;
	struct page *a, *b;
	int err;

	setup_region();
	EXPECT_EQ(create_dev_dax(), 0);
	EXPECT_EQ(dev_dax_probe(&ddax), 0);
	a = pfn_to_page(pgoff_pfn(3));
	b = pfn_to_page(pgoff_pfn(600));
	mm = memremap_mm_create();
	vma = dax_mmap_user(mm, SZ_4M, SHARED_RW, &err);
	/* A read fault maps the page writable: a shared writable mapping. */
	EXPECT_EQ(cpu_read(mm, 3), 0);
	EXPECT_EQ(cpu_write(mm, 600, 42), 0);
	EXPECT_EQ(page_ref_count(a), 2);
	EXPECT_EQ(page_ref_count(b), 2);
	step("two pages mapped:", 600);
	/* A second process maps the same device: two mappings of a page. */
	{
		struct mm_struct *mm2 = memremap_mm_create();
		struct file first = filp;

		dax_mmap_user(mm2, SZ_4M, SHARED_RW, &err);
		EXPECT_EQ(cpu_read(mm2, 600), 42);
		EXPECT_EQ(page_ref_count(b), 3);
		EXPECT_EQ(memremap_page_mapcount(b), 2);
		step("a second process maps one of them:", 600);
		mmput(mm2);
		EXPECT_EQ(page_ref_count(b), 2);
		EXPECT_EQ(memremap_page_mapcount(b), 1);
		filp = first;
	}
	EXPECT_EQ(memremap_mm_munmap(mm, vma), 0);
	step("munmap():", 600);
	EXPECT_EQ(page_ref_count(a), 1);
	EXPECT_EQ(page_ref_count(b), 1);
	EXPECT_EQ(memremap_page_mapcount(b), 0);
	/* The pages stay the file's: dax_set_mapping() set it once. */
	EXPECT_PTR_EQ(b->mapping, filp.f_mapping);
	EXPECT_EQ(dev_read(600), 42);
	EXPECT_EQ(memremap_pgmap_pins(ddax.pgmap), dev_pages());
	/* Map again and exit the process instead. */
	vma = dax_mmap_user(mm, SZ_4M, SHARED_RW, &err);
	EXPECT_EQ(cpu_read(mm, 600), 42);
	EXPECT_EQ(page_ref_count(b), 2);
	mmput(mm);
	step("the process exited:", 600);
	EXPECT_EQ(page_ref_count(b), 1);
	EXPECT_EQ(memremap_page_mapcount(b), 0);
	dev_dax_unbind(&ddax);
	EXPECT_EQ(memremap_mapped_pgmaps(), 0);
	destroy_dev_dax();
	teardown_region();
	EXPECT_EQ(memremap_ledger_count(), 0);
	EXPECT_WARNS(0);
}

KTAP_CASE(mmap_refused_as_the_driver_refuses_it)
{
	struct mm_struct *mm = memremap_mm_create();
	int err;

	setup_region();
	EXPECT_EQ(create_dev_dax(), 0);
	EXPECT_EQ(dev_dax_probe(&ddax), 0);
	/* A private mapping. */
	EXPECT_NULL(dax_mmap_user(mm, SZ_2M, VM_READ | VM_WRITE, &err));
	EXPECT_EQ(err, -EINVAL);
	EXPECT_EQ(mm->map_count, 0);
	/* A range another holder claimed first: probe fails, unwinds. */
	dev_dax_unbind(&ddax);
	EXPECT_NOT_NULL(request_mem_region(REGION_START + SZ_4M, SZ_2M,
					   "someone"));
	EXPECT_EQ(dev_dax_probe(&ddax), -EBUSY);
	dev_dax_unbind(&ddax);
	release_mem_region(REGION_START + SZ_4M, SZ_2M);
	EXPECT_EQ(memremap_mapped_pgmaps(), 0);
	/* A dead device: -ENXIO. */
	EXPECT_NULL(dax_mmap_user(mm, SZ_2M, SHARED_RW, &err));
	EXPECT_EQ(err, -ENXIO);
	mmput(mm);
	destroy_dev_dax();
	teardown_region();
	EXPECT_EQ(memremap_ledger_count(), 0);
	EXPECT_WARNS(0);
}

/*
 * Every allocation of creation, probe, mmap, faults and unbind fails in
 * turn: whatever failed is unwound by devm and the bus, the data that
 * was written reads back, and nothing is left mapped, pinned or held.
 * (The flow takes no percpu reference of its own to fail: 6.15's
 * device-DAX fault path does not touch the pgmap's.)
 */
KTAP_CASE(allocation_failures_at_every_site)
{
	unsigned long nth, i, regions = memremap_iomem_regions();
	bool hit = true;

	memremap_warn_quiet(true);
	for (nth = 1; hit && nth < 200; nth++) {
		unsigned long injected = memremap_kmalloc_injected();
		struct mm_struct *mm = memremap_mm_create();
		int err = 0;

		setup_region();
		memremap_kmalloc_fail_nth(nth);
		if (!create_dev_dax() && !dev_dax_probe(&ddax) &&
		    dax_mmap_user(mm, SZ_4M, SHARED_RW, &err)) {
			for (i = 0; i < ARRAY_SIZE(touched); i++)
				cpu_write(mm, touched[i], touched[i] + 1);
			for (i = 0; i < ARRAY_SIZE(touched); i++)
				EXPECT_EQ(cpu_read(mm, touched[i]),
					  touched[i] + 1);
		}
		dev_dax_unbind(&ddax);
		memremap_kmalloc_fail_nth(0);
		hit = memremap_kmalloc_injected() != injected;
		EXPECT_EQ(memremap_mm_nr_entries(mm), 0);
		mmput(mm);
		destroy_dev_dax();
		teardown_region();
		EXPECT_EQ(memremap_mapped_pgmaps(), 0);
		EXPECT_EQ(memremap_iomem_regions(), regions);
		EXPECT_EQ(memremap_ledger_count(), 0);
	}
	memremap_warn_quiet(false);
	printf("    # %lu allocations failed in turn\n", nth - 2);
	EXPECT_FALSE(hit);
	EXPECT_WARNS(0);
}

KTAP_MAIN("driver_dax",
	  KTAP_ENTRY(probe_map_access_then_unbind_with_pages_mapped),
	  KTAP_ENTRY(munmap_and_exit_drop_the_mappings),
	  KTAP_ENTRY(mmap_refused_as_the_driver_refuses_it),
	  KTAP_ENTRY(allocation_failures_at_every_site))
