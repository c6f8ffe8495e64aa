// SPDX-License-Identifier: GPL-2.0-only
/*
 * The kernel surface a device-memory driver touches around its pgmap, as a
 * driver sees it: the iomem resource tree (linux/ioport.h), a device's
 * references and managed resources (linux/device.h), the allocators
 * beyond kmalloc (krealloc, kv*, vmalloc) and tracked DMA mappings
 * (linux/dma-mapping.h). Each function's contract, then its misuse.
 *
 * Besides the harness's kmalloc leak check, every case ends with no DMA
 * mapping, managed resource or iomem region left (case_done()).
 */
#include <linux/device.h>
#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/gfp.h>
#include <linux/ioport.h>
#include <linux/kdev_t.h>
#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <memremap/test.h>
#include "ktap.h"

#define SZ_2M		(2UL << 20)
#define SZ_64M		(64UL << 20)
#define SECTION		(128UL << 20)
#define TOP		(1ULL << 52)

/* The last WARN's message contains @s. */
static bool warned(const char *s)
{
	struct memremap_warn_record rec;

	return memremap_warn_last(&rec) && strstr(rec.message, s);
}

/*
 * What iomem_resource holds from the start, as the kernel's boot code
 * fills it: the page allocator's "System RAM" (at 128 TiB), below every
 * region whose place in the list the suite checks, so the first child.
 */
#define BOOT_REGIONS	1

static bool is_system_ram(const struct resource *r)
{
	return r && !strcmp(r->name, "System RAM") &&
	       r->flags == (IORESOURCE_SYSTEM_RAM | IORESOURCE_BUSY) &&
	       r->desc == IORES_DESC_NONE && r->parent == &iomem_resource &&
	       !r->child;
}

/* The first child of iomem_resource after the boot resources. */
static struct resource *first_region(void)
{
	struct resource *ram = iomem_resource.child;

	return is_system_ram(ram) ? ram->sibling : ram;
}

/* Nothing of this suite's kinds may outlive a case. */
#define case_done()							\
	do {								\
		EXPECT_EQ(memremap_dma_live(), 0);			\
		EXPECT_EQ(memremap_devres_live(), 0);			\
		EXPECT_EQ(memremap_iomem_regions(), BOOT_REGIONS);	\
		EXPECT_TRUE(is_system_ram(iomem_resource.child));	\
		EXPECT_NULL(first_region());				\
	} while (0)

/* ---- a device with a release that counts ---- */

static int released;

static void count_release(struct device *dev)
{
	(void)dev;
	released++;
}

static void new_device(struct device *dev, const char *name)
{
	memset(dev, 0, sizeof(*dev));
	dev->init_name = name;
	dev->release = count_release;
	device_initialize(dev);
	released = 0;
}

/* ---- pgmaps ---- */

static void page_free_none(struct page *page)
{
	(void)page;
}

static vm_fault_t no_migrate(struct vm_fault *vmf)
{
	(void)vmf;
	return 0;
}

static const struct dev_pagemap_ops private_ops = {
	.page_free = page_free_none,
	.migrate_to_ram = no_migrate,
};

static int owner;

static void set_pgmap(struct dev_pagemap *pgmap, enum memory_type type,
		      u64 start, u64 len)
{
	memset(pgmap, 0, sizeof(*pgmap));
	pgmap->type = type;
	pgmap->range.start = start;
	pgmap->range.end = start + len - 1;
	pgmap->nr_range = 1;
	if (type == MEMORY_DEVICE_PRIVATE) {
		pgmap->ops = &private_ops;
		pgmap->owner = &owner;
	}
}

static long map_err(struct dev_pagemap *pgmap)
{
	void *p = memremap_pages(pgmap, 0);

	return IS_ERR(p) ? PTR_ERR(p) : 0;
}

/* ---- linux/ioport.h ---- */

KTAP_CASE(free_region_is_the_top_section_aligned_hole)
{
	struct resource *a, *b;
	struct dev_pagemap pgmap;

	EXPECT_EQ(iomem_resource.start, 0);
	EXPECT_EQ(iomem_resource.end, ~0ULL);
	EXPECT_EQ(iomem_resource.flags, IORESOURCE_MEM);
	EXPECT_TRUE(!strcmp(iomem_resource.name, "PCI mem"));

	a = request_free_mem_region(&iomem_resource, SZ_2M, "dmem a");
	EXPECT_FALSE(IS_ERR(a));
	if (IS_ERR(a))
		return;
	/* 2 MiB rounds up to a section; the topmost addressable one. */
	EXPECT_EQ(a->start, TOP - SECTION);
	EXPECT_EQ(resource_size(a), SECTION);
	EXPECT_EQ(a->flags, IORESOURCE_MEM | IORESOURCE_BUSY);
	EXPECT_EQ(a->desc, IORES_DESC_DEVICE_PRIVATE_MEMORY);
	EXPECT_TRUE(!strcmp(a->name, "dmem a"));
	EXPECT_PTR_EQ(a->parent, &iomem_resource);
	EXPECT_PTR_EQ(first_region(), a);

	b = request_free_mem_region(&iomem_resource, SECTION + 1, "dmem b");
	EXPECT_FALSE(IS_ERR(b));
	if (IS_ERR(b))
		return;
	EXPECT_EQ(resource_size(b), 2 * SECTION);
	EXPECT_EQ(b->end, a->start - 1);
	/* Siblings by address, as the kernel links them. */
	EXPECT_PTR_EQ(first_region(), b);
	EXPECT_PTR_EQ(b->sibling, a);
	EXPECT_NULL(a->sibling);
	EXPECT_EQ(memremap_iomem_regions(), BOOT_REGIONS + 2);

	/* The region is the driver's to map. */
	set_pgmap(&pgmap, MEMORY_DEVICE_PRIVATE, a->start, resource_size(a));
	EXPECT_EQ(map_err(&pgmap), 0);
	memunmap_pages(&pgmap);

	release_mem_region(b->start, resource_size(b));
	EXPECT_PTR_EQ(first_region(), a);
	release_mem_region(a->start, resource_size(a));
	EXPECT_WARNS(0);
	case_done();
}

KTAP_CASE(free_region_skips_resources_and_mapped_pgmaps)
{
	struct dev_pagemap pgmap;
	struct resource *busy, *res;

	/* A pgmap with no resource in the top section... */
	set_pgmap(&pgmap, MEMORY_DEVICE_GENERIC, TOP - SZ_2M, SZ_2M);
	EXPECT_EQ(map_err(&pgmap), 0);
	/* ... and a busy region in the next one down. */
	busy = request_mem_region(TOP - 2 * SECTION + SZ_2M, SZ_2M, "busy");
	EXPECT_NOT_NULL(busy);

	res = request_free_mem_region(&iomem_resource, SZ_2M, "dmem");
	EXPECT_FALSE(IS_ERR(res));
	if (!IS_ERR(res)) {
		EXPECT_EQ(res->start, TOP - 3 * SECTION);
		release_mem_region(res->start, resource_size(res));
	}
	if (busy)
		release_mem_region(busy->start, resource_size(busy));
	memunmap_pages(&pgmap);
	EXPECT_WARNS(0);
	case_done();
}

KTAP_CASE(free_region_in_a_window_nests_and_runs_out)
{
	struct resource window = DEFINE_RES_MEM_NAMED(1ULL << 40, 2 * SECTION,
						      "window");
	struct resource *a, *b, *c;

	EXPECT_EQ(request_resource(&iomem_resource, &window), 0);
	EXPECT_PTR_EQ(window.parent, &iomem_resource);

	a = request_free_mem_region(&window, SECTION, "a");
	b = request_free_mem_region(&window, SECTION, "b");
	c = request_free_mem_region(&window, SECTION, "c");
	EXPECT_FALSE(IS_ERR(a));
	EXPECT_FALSE(IS_ERR(b));
	EXPECT_TRUE(IS_ERR(c));
	EXPECT_EQ(PTR_ERR(c), -ERANGE);
	if (IS_ERR(a) || IS_ERR(b))
		return;
	EXPECT_EQ(a->start, window.start + SECTION);
	EXPECT_EQ(b->start, window.start);
	/* Requested under the non-busy window, they are its children. */
	EXPECT_PTR_EQ(a->parent, &window);
	EXPECT_PTR_EQ(window.child, b);
	EXPECT_PTR_EQ(b->sibling, a);

	/* Nothing, or more than the window holds: no hole either. */
	c = request_free_mem_region(&window, 0, "zero");
	EXPECT_EQ(PTR_ERR(c), -ERANGE);
	c = request_free_mem_region(&window, 4 * SECTION, "big");
	EXPECT_EQ(PTR_ERR(c), -ERANGE);

	/* release_mem_region() finds them through the window. */
	release_mem_region(a->start, SECTION);
	release_mem_region(b->start, SECTION);
	EXPECT_NULL(window.child);
	EXPECT_EQ(release_resource(&window), 0);
	EXPECT_NULL(window.parent);
	EXPECT_EQ(release_resource(&window), -EINVAL);
	EXPECT_WARNS(0);
	case_done();
}

KTAP_CASE(request_mem_region_refuses_a_busy_range)
{
	struct resource *a, *b;

	a = request_mem_region(1ULL << 41, SZ_2M, "a");
	EXPECT_NOT_NULL(a);
	b = request_mem_region((1ULL << 41) + SZ_2M / 2, SZ_2M, "b");
	EXPECT_NULL(b);
	/* Out of the root's bounds (it ends at ~0), or empty. */
	EXPECT_NULL(request_mem_region(~0ULL - 4095, 8192, "wraps"));
	if (a) {
		EXPECT_EQ(a->flags, IORESOURCE_MEM | IORESOURCE_BUSY);
		EXPECT_EQ(a->desc, IORES_DESC_NONE);
		release_mem_region(a->start, resource_size(a));
	}
	EXPECT_WARNS(0);
	case_done();
}

KTAP_CASE(release_of_a_range_not_held_warns)
{
	struct resource *a;

	release_mem_region(1ULL << 42, 4096);
	EXPECT_WARNS(1);
	EXPECT_TRUE(warned("Trying to free nonexistent resource"));

	/* Not the exact range held: a WARN, and the region stays. */
	a = request_free_mem_region(&iomem_resource, SZ_2M, "dmem");
	EXPECT_FALSE(IS_ERR(a));
	if (IS_ERR(a))
		return;
	release_mem_region(a->start, SZ_2M);
	EXPECT_WARNS(2);
	EXPECT_EQ(memremap_iomem_regions(), BOOT_REGIONS + 1);
	release_mem_region(a->start, SECTION);
	/* And twice. */
	release_mem_region(TOP - SECTION, SECTION);
	EXPECT_WARNS(3);
	case_done();
}

KTAP_CASE(memremap_pages_refuses_system_ram_only)
{
	struct resource ram = DEFINE_RES_NAMED(1ULL << 39, 1ULL << 30,
					       "System RAM",
					       IORESOURCE_SYSTEM_RAM |
					       IORESOURCE_BUSY);
	struct resource dev = DEFINE_RES_MEM_NAMED((1ULL << 39) + (1ULL << 30),
						   SZ_64M, "device");
	struct dev_pagemap pgmap;
	struct resource *theirs;

	EXPECT_EQ(request_resource(&iomem_resource, &ram), 0);
	EXPECT_EQ(request_resource(&iomem_resource, &dev), 0);
	EXPECT_EQ(region_intersects(ram.start, SZ_2M, IORESOURCE_SYSTEM_RAM,
				    IORES_DESC_NONE), REGION_INTERSECTS);
	EXPECT_EQ(region_intersects(ram.end - SZ_2M + 1, 2 * SZ_2M,
				    IORESOURCE_SYSTEM_RAM, IORES_DESC_NONE),
		  REGION_MIXED);
	EXPECT_EQ(region_intersects(dev.start, SZ_2M, IORESOURCE_SYSTEM_RAM,
				    IORES_DESC_NONE), REGION_DISJOINT);

	/* In RAM: -ENXIO with a WARN_ONCE, nothing mapped. */
	set_pgmap(&pgmap, MEMORY_DEVICE_GENERIC, ram.start, SZ_2M);
	EXPECT_EQ(map_err(&pgmap), -ENXIO);
	EXPECT_WARNS(1);
	EXPECT_TRUE(warned("attempted on ram region"));
	EXPECT_FALSE(memremap_pgmap_is_mapped(&pgmap));
	/* Astride RAM and a device: refused again, the WARN said once. */
	set_pgmap(&pgmap, MEMORY_DEVICE_PRIVATE, ram.end - SZ_2M + 1,
		  2 * SZ_2M);
	EXPECT_EQ(map_err(&pgmap), -ENXIO);
	EXPECT_WARNS(1);
	memremap_warn_rearm();
	EXPECT_EQ(map_err(&pgmap), -ENXIO);
	EXPECT_WARNS(2);
	EXPECT_TRUE(warned("attempted on mixed region"));

	/*
	 * Over a resource another driver holds, not RAM: the kernel's
	 * pagemap_range() does not look, and maps it.
	 */
	set_pgmap(&pgmap, MEMORY_DEVICE_GENERIC, dev.start, SZ_2M);
	EXPECT_EQ(map_err(&pgmap), 0);
	memunmap_pages(&pgmap);
	theirs = request_free_mem_region(&iomem_resource, SZ_2M, "theirs");
	EXPECT_FALSE(IS_ERR(theirs));
	if (!IS_ERR(theirs)) {
		set_pgmap(&pgmap, MEMORY_DEVICE_PRIVATE, theirs->start, SZ_2M);
		EXPECT_EQ(map_err(&pgmap), 0);
		memunmap_pages(&pgmap);
		release_mem_region(theirs->start, resource_size(theirs));
	}
	EXPECT_EQ(release_resource(&dev), 0);
	EXPECT_EQ(release_resource(&ram), 0);
	EXPECT_WARNS(2);
	case_done();
}

KTAP_CASE(devm_free_region_goes_with_its_device)
{
	struct device dev;
	struct resource *res;

	new_device(&dev, "gpu0");
	res = devm_request_free_mem_region(&dev, &iomem_resource, SZ_64M);
	EXPECT_FALSE(IS_ERR(res));
	if (IS_ERR(res))
		return;
	EXPECT_TRUE(!strcmp(res->name, "gpu0"));
	EXPECT_EQ(res->desc, IORES_DESC_DEVICE_PRIVATE_MEMORY);
	EXPECT_EQ(memremap_devres_count(&dev), 1);
	put_device(&dev);
	EXPECT_EQ(released, 1);
	EXPECT_EQ(memremap_devres_count(&dev), 0);
	EXPECT_WARNS(0);
	case_done();
}

KTAP_CASE(devm_release_mem_region_wants_a_managed_region)
{
	struct device dev;
	struct resource *res;

	new_device(&dev, "gpu1");
	res = devm_request_mem_region(&dev, 1ULL << 43, SZ_2M, "regs");
	EXPECT_NOT_NULL(res);
	EXPECT_EQ(memremap_devres_count(&dev), 1);
	devm_release_mem_region(&dev, 1ULL << 43, SZ_2M);
	EXPECT_EQ(memremap_devres_count(&dev), 0);
	EXPECT_WARNS(0);

	/* A region the device does not manage: released, and a WARN. */
	res = request_mem_region(1ULL << 43, SZ_2M, "regs");
	EXPECT_NOT_NULL(res);
	devm_release_mem_region(&dev, 1ULL << 43, SZ_2M);
	EXPECT_WARNS(1);
	EXPECT_TRUE(warned("devres_destroy"));

	/* Released by hand, then by the device: the second WARNs. */
	res = devm_request_free_mem_region(&dev, &iomem_resource, SZ_2M);
	EXPECT_FALSE(IS_ERR(res));
	if (!IS_ERR(res))
		release_mem_region(res->start, resource_size(res));
	put_device(&dev);
	EXPECT_WARNS(2);
	EXPECT_TRUE(warned("Trying to free nonexistent resource"));
	case_done();
}

KTAP_CASE(resource_allocation_failures)
{
	struct device dev;
	struct resource *res;

	memremap_kmalloc_fail_nth(1);
	res = request_free_mem_region(&iomem_resource, SZ_2M, "dmem");
	EXPECT_EQ(PTR_ERR(res), -ENOMEM);

	new_device(&dev, "gpu2");
	memremap_kmalloc_fail_nth(2);	/* the devres entry */
	res = devm_request_free_mem_region(&dev, &iomem_resource, SZ_2M);
	EXPECT_EQ(PTR_ERR(res), -ENOMEM);
	memremap_kmalloc_fail_nth(1);
	EXPECT_NULL(request_mem_region(1ULL << 44, SZ_2M, "r"));
	memremap_kmalloc_fail_nth(1);
	EXPECT_NULL(devm_request_mem_region(&dev, 1ULL << 44, SZ_2M, "r"));
	put_device(&dev);
	EXPECT_EQ(released, 1);
	EXPECT_WARNS(0);
	case_done();
}

/*
 * The page allocator's memory is the "System RAM" resource: its pages lie
 * in it, no pgmap may map it, no driver may claim it, and the free-region
 * search never hands it out (it searches from the top, and skips it).
 */
KTAP_CASE(the_page_allocators_memory_is_system_ram)
{
	struct resource *ram = iomem_resource.child;
	struct dev_pagemap pgmap;
	struct page *page;
	u64 pa;

	EXPECT_TRUE(is_system_ram(ram));
	if (!is_system_ram(ram))
		return;
	page = alloc_page(GFP_KERNEL);
	EXPECT_NOT_NULL(page);
	if (!page)
		return;
	pa = (u64)page_to_pfn(page) << PAGE_SHIFT;
	EXPECT_TRUE(pa >= ram->start && pa + PAGE_SIZE - 1 <= ram->end);
	EXPECT_EQ(region_intersects(pa, PAGE_SIZE, IORESOURCE_SYSTEM_RAM,
				    IORES_DESC_NONE), REGION_INTERSECTS);
	__free_page(page);

	/* memremap_pages() over it: -ENXIO with a WARN_ONCE. */
	memremap_warn_rearm();
	set_pgmap(&pgmap, MEMORY_DEVICE_PRIVATE, ram->start, SZ_2M);
	EXPECT_EQ(map_err(&pgmap), -ENXIO);
	EXPECT_WARNS(1);
	EXPECT_TRUE(warned("attempted on ram region"));
	EXPECT_FALSE(memremap_pgmap_is_mapped(&pgmap));
	/* Busy: no region inside it for anyone else. */
	EXPECT_NULL(request_mem_region(ram->start + SZ_2M, SZ_2M, "inside"));
	EXPECT_WARNS(1);
	case_done();
}

/* ---- linux/device.h ---- */

static int order[8], nr_order;

static void record(void *data)
{
	if (nr_order < 8)
		order[nr_order++] = (int)(long)data;
}

static struct dev_pagemap *watched;
static bool mapped_at_run[2];

static void see_pgmap(void *data)
{
	mapped_at_run[(long)data] = memremap_pgmap_is_mapped(watched);
	record(data);
}

KTAP_CASE(last_put_releases_devres_newest_first)
{
	struct device dev;
	unsigned long live = memremap_kmalloc_live();
	char *mem;

	new_device(&dev, "dev");
	nr_order = 0;
	EXPECT_EQ(devm_add_action(&dev, record, (void *)1L), 0);
	mem = devm_kzalloc(&dev, 100, GFP_KERNEL);
	EXPECT_NOT_NULL(mem);
	EXPECT_EQ(mem ? mem[99] : -1, 0);
	EXPECT_EQ(devm_add_action(&dev, record, (void *)2L), 0);
	EXPECT_EQ(devm_add_action_or_reset(&dev, record, (void *)3L), 0);
	EXPECT_EQ(memremap_kmalloc_live(), live + 1);
	EXPECT_EQ(memremap_devres_count(&dev), 4);

	EXPECT_PTR_EQ(get_device(&dev), &dev);
	EXPECT_EQ(dev.kobj.kref.refcount.refs.counter, 2);
	put_device(&dev);
	EXPECT_EQ(nr_order, 0);
	EXPECT_EQ(released, 0);
	put_device(&dev);
	EXPECT_EQ(dev.kobj.kref.refcount.refs.counter, 0);
	EXPECT_EQ(nr_order, 3);
	EXPECT_EQ(order[0], 3);
	EXPECT_EQ(order[1], 2);
	EXPECT_EQ(order[2], 1);
	EXPECT_EQ(released, 1);
	EXPECT_EQ(memremap_kmalloc_live(), live);
	EXPECT_WARNS(0);
	case_done();
}

KTAP_CASE(devm_memremap_pages_rides_the_same_list)
{
	struct device dev;
	struct dev_pagemap pgmap;

	new_device(&dev, "dax");
	nr_order = 0;
	watched = &pgmap;
	set_pgmap(&pgmap, MEMORY_DEVICE_GENERIC, 1ULL << 45, SZ_2M);
	EXPECT_EQ(devm_add_action(&dev, see_pgmap, (void *)0L), 0);
	EXPECT_FALSE(IS_ERR(devm_memremap_pages(&dev, &pgmap)));
	EXPECT_EQ(devm_add_action(&dev, see_pgmap, (void *)1L), 0);
	EXPECT_EQ(memremap_devres_count(&dev), 3);
	put_device(&dev);
	/* Newest first: action 1 saw the pgmap mapped, action 0 did not. */
	EXPECT_EQ(nr_order, 2);
	EXPECT_TRUE(mapped_at_run[1]);
	EXPECT_FALSE(mapped_at_run[0]);
	EXPECT_FALSE(memremap_pgmap_is_mapped(&pgmap));
	EXPECT_WARNS(0);
	case_done();
}

KTAP_CASE(devm_add_action_or_reset_runs_the_action_on_failure)
{
	struct device dev;

	new_device(&dev, "dev");
	nr_order = 0;
	memremap_kmalloc_fail_nth(1);
	EXPECT_EQ(devm_add_action(&dev, record, (void *)1L), -ENOMEM);
	EXPECT_EQ(nr_order, 0);
	memremap_kmalloc_fail_nth(1);
	EXPECT_EQ(devm_add_action_or_reset(&dev, record, (void *)2L),
		  -ENOMEM);
	EXPECT_EQ(nr_order, 1);
	EXPECT_EQ(order[0], 2);
	EXPECT_EQ(memremap_devres_count(&dev), 0);
	memremap_kmalloc_fail_nth(1);
	EXPECT_NULL(devm_kmalloc(&dev, 8, GFP_KERNEL));
	put_device(&dev);
	EXPECT_EQ(nr_order, 1);
	EXPECT_WARNS(0);
	case_done();
}

KTAP_CASE(devm_kfree_and_actions_by_hand)
{
	struct device dev;
	unsigned long live = memremap_kmalloc_live();
	void *p, *q;

	new_device(&dev, "dev");
	nr_order = 0;
	p = devm_kmalloc(&dev, 16, GFP_KERNEL);
	EXPECT_NOT_NULL(p);
	devm_kfree(&dev, p);
	EXPECT_EQ(memremap_kmalloc_live(), live);
	EXPECT_PTR_EQ(devm_kmalloc(&dev, 0, GFP_KERNEL), ZERO_SIZE_PTR);
	devm_kfree(&dev, ZERO_SIZE_PTR);
	devm_kfree(&dev, NULL);
	EXPECT_WARNS(0);

	/* Twice, and memory the device does not manage: WARN, no free. */
	devm_kfree(&dev, p);
	EXPECT_WARNS(1);
	q = kmalloc(8, GFP_KERNEL);
	devm_kfree(&dev, q);
	EXPECT_WARNS(2);
	EXPECT_EQ(memremap_kmalloc_live(), live + 1);
	kfree(q);

	/* An array that overflows is not allocated. */
	EXPECT_NULL(devm_kcalloc(&dev, SIZE_MAX / 2, 4, GFP_KERNEL));
	p = devm_kcalloc(&dev, 4, sizeof(int), GFP_KERNEL);
	EXPECT_NOT_NULL(p);

	EXPECT_EQ(devm_add_action(&dev, record, (void *)1L), 0);
	EXPECT_EQ(devm_add_action(&dev, record, (void *)2L), 0);
	devm_remove_action(&dev, record, (void *)1L);
	devm_release_action(&dev, record, (void *)2L);
	EXPECT_EQ(nr_order, 1);
	EXPECT_EQ(order[0], 2);
	EXPECT_WARNS(2);
	devm_release_action(&dev, record, (void *)2L);
	EXPECT_WARNS(3);
	EXPECT_TRUE(warned("has no action"));
	put_device(&dev);
	EXPECT_EQ(nr_order, 1);
	EXPECT_EQ(memremap_kmalloc_live(), live);
	case_done();
}

KTAP_CASE(device_refcount_misuse_warns)
{
	static struct device never = { .init_name = "never" };
	struct device dev;

	/* Never initialised: the kobject says so, nothing changes. */
	put_device(&never);
	EXPECT_WARNS(1);
	EXPECT_TRUE(warned("is not initialized"));
	get_device(&never);
	EXPECT_WARNS(2);
	EXPECT_EQ(never.kobj.kref.refcount.refs.counter, 0);
	put_device(NULL);
	EXPECT_NULL(get_device(NULL));
	EXPECT_WARNS(2);

	/* No release(): the kernel's complaint on the last put. */
	memset(&dev, 0, sizeof(dev));
	dev.init_name = "norelease";
	device_initialize(&dev);
	put_device(&dev);
	EXPECT_WARNS(3);
	EXPECT_TRUE(warned("does not have a release() function"));
	/* Past zero, and a get of a released device. */
	put_device(&dev);
	EXPECT_WARNS(4);
	EXPECT_TRUE(warned("underflow"));
	get_device(&dev);
	EXPECT_WARNS(5);
	EXPECT_EQ(dev.kobj.kref.refcount.refs.counter, 0);
	/* Initialising it again while initialised. */
	device_initialize(&dev);
	EXPECT_WARNS(6);
	EXPECT_TRUE(warned("tried to init an initialized object"));
	dev.release = count_release;
	released = 0;
	put_device(&dev);
	EXPECT_EQ(released, 1);
	case_done();
}

KTAP_CASE(device_numbers_and_names)
{
	struct device dev = { .init_name = "card0" };
	dev_t devt = MKDEV(226, 129);

	EXPECT_EQ(MAJOR(devt), 226);
	EXPECT_EQ(MINOR(devt), 129);
	EXPECT_EQ(MKDEV(MAJOR(devt), MINOR(devt)), devt);
	EXPECT_EQ(MINOR(MKDEV(1, MINORMASK)), MINORMASK);
	dev.devt = devt;
	EXPECT_EQ(MAJOR(dev.devt), 226);
	EXPECT_TRUE(!strcmp(dev_name(&dev), "card0"));
	dev.kobj.name = "renamed";
	EXPECT_TRUE(!strcmp(dev_name(&dev), "renamed"));
	case_done();
}

/* ---- allocators ---- */

KTAP_CASE(krealloc_contract)
{
	unsigned long live = memremap_kmalloc_live();
	char *p, *q, stack[8];

	p = krealloc(NULL, 8, GFP_KERNEL);
	EXPECT_NOT_NULL(p);
	if (!p)
		return;
	memcpy(p, "abcdefg", 8);
	q = krealloc(p, 64, GFP_KERNEL | __GFP_ZERO);
	EXPECT_NOT_NULL(q);
	if (!q)
		return;
	/* Growing moves the block: the old pointer is dead. */
	EXPECT_TRUE(q != p);
	EXPECT_TRUE(!strcmp(q, "abcdefg"));
	EXPECT_EQ(q[63], 0);
	EXPECT_EQ(memremap_kmalloc_live(), live + 1);
	/* Shrinking keeps it. */
	p = krealloc(q, 4, GFP_KERNEL);
	EXPECT_PTR_EQ(p, q);
	/* A failed growth leaves the block as it was. */
	memremap_kmalloc_fail_nth(1);
	q = krealloc(p, 4096, GFP_KERNEL);
	EXPECT_NULL(q);
	EXPECT_EQ(memcmp(p, "abcd", 4), 0);
	/* Size 0 frees and answers ZERO_SIZE_PTR, which kfree() ignores. */
	q = krealloc(p, 0, GFP_KERNEL);
	EXPECT_PTR_EQ(q, ZERO_SIZE_PTR);
	EXPECT_TRUE(ZERO_OR_NULL_PTR(q));
	EXPECT_EQ(memremap_kmalloc_live(), live);
	kfree(q);
	kvfree(q);
	q = krealloc(ZERO_SIZE_PTR, 16, GFP_KERNEL);
	EXPECT_NOT_NULL(q);
	q = krealloc_array(q, 4, 8, GFP_KERNEL);
	EXPECT_NOT_NULL(q);
	EXPECT_NULL(krealloc_array(q, SIZE_MAX / 2, 4, GFP_KERNEL));
	kfree(q);
	EXPECT_WARNS(0);
	/* Memory kmalloc() did not give: WARN, NULL. */
	EXPECT_NULL(krealloc(stack, 16, GFP_KERNEL));
	EXPECT_WARNS(1);
	EXPECT_EQ(memremap_kmalloc_live(), live);
	case_done();
}

KTAP_CASE(vmalloc_shares_the_ledger_and_fault_injection)
{
	unsigned long live = memremap_kmalloc_live();
	char *v, *z;
	int *a;

	v = vmalloc(1 << 20);
	z = vzalloc(3 * PAGE_SIZE);
	EXPECT_NOT_NULL(v);
	EXPECT_NOT_NULL(z);
	EXPECT_EQ(z ? z[3 * PAGE_SIZE - 1] : -1, 0);
	EXPECT_EQ(memremap_kmalloc_live(), live + 2);
	vfree(v);
	kvfree(z);
	vfree(NULL);
	EXPECT_EQ(memremap_kmalloc_live(), live);

	memremap_kmalloc_fail_nth(1);
	EXPECT_NULL(vmalloc(64));
	EXPECT_EQ(memremap_kmalloc_injected() > 0, 1);
	EXPECT_NULL(vmalloc_array(SIZE_MAX / 2, 4));
	a = vcalloc(16, sizeof(*a));
	EXPECT_NOT_NULL(a);
	EXPECT_EQ(a ? a[15] : -1, 0);
	vfree(a);
	EXPECT_WARNS(0);

	/* Size 0: WARN_ON_ONCE and NULL. */
	EXPECT_NULL(vmalloc(0));
	EXPECT_NULL(vmalloc(0));
	EXPECT_WARNS(1);
	case_done();
}

KTAP_CASE(the_wrong_free_warns_and_frees_nothing)
{
	unsigned long live = memremap_kmalloc_live();
	void *v = vmalloc(128), *k = kmalloc(128, GFP_KERNEL);

	kfree(v);
	EXPECT_WARNS(1);
	EXPECT_TRUE(warned("vmalloc() returned"));
	vfree(k);
	EXPECT_WARNS(2);
	EXPECT_TRUE(warned("kmalloc() returned"));
	EXPECT_NULL(krealloc(v, 256, GFP_KERNEL));
	EXPECT_WARNS(3);
	EXPECT_EQ(memremap_kmalloc_live(), live + 2);
	kvfree(v);
	kvfree(k);
	vfree(v);
	EXPECT_WARNS(4);
	EXPECT_TRUE(warned("already freed"));
	EXPECT_EQ(memremap_kmalloc_live(), live);
	case_done();
}

KTAP_CASE(kvmalloc_family_is_in_the_ledger)
{
	unsigned long live = memremap_kmalloc_live();
	int *a = kvcalloc(8, sizeof(*a), GFP_KERNEL);
	char *b = kvzalloc(4096, GFP_KERNEL);
	char *c = kvmalloc(16, GFP_KERNEL);

	EXPECT_NOT_NULL(a);
	EXPECT_NOT_NULL(b);
	EXPECT_NOT_NULL(c);
	EXPECT_EQ(a ? a[7] : -1, 0);
	EXPECT_EQ(b ? b[4095] : -1, 0);
	EXPECT_EQ(memremap_kmalloc_live(), live + 3);
	EXPECT_NULL(kvcalloc(SIZE_MAX / 2, 4, GFP_KERNEL));
	memremap_kmalloc_fail_nth(1);
	EXPECT_NULL(kvmalloc(16, GFP_KERNEL));
	kvfree(a);
	kvfree(b);
	kvfree(c);
	kvfree(NULL);
	EXPECT_EQ(memremap_kmalloc_live(), live);
	EXPECT_WARNS(0);
	case_done();
}

/* ---- linux/dma-mapping.h ---- */

/* A page to map: one of a small GENERIC pgmap's. */
static struct dev_pagemap dma_pgmap;

static struct page *dma_page(int i)
{
	if (!memremap_pgmap_is_mapped(&dma_pgmap)) {
		set_pgmap(&dma_pgmap, MEMORY_DEVICE_GENERIC, 1ULL << 46,
			  SZ_2M);
		if (map_err(&dma_pgmap))
			return NULL;
	}
	return pfn_to_page(((1ULL << 46) >> PAGE_SHIFT) + i);
}

static void dma_pgmap_done(void)
{
	if (memremap_pgmap_is_mapped(&dma_pgmap))
		memunmap_pages(&dma_pgmap);
}

KTAP_CASE(dma_map_and_unmap_contract)
{
	struct device dev = { .init_name = "dma" };
	struct page *page = dma_page(0);
	dma_addr_t a, b;

	a = dma_map_page(&dev, page, 0x10, 512, DMA_TO_DEVICE);
	b = dma_map_page(&dev, page, 0, PAGE_SIZE, DMA_FROM_DEVICE);
	EXPECT_EQ(dma_mapping_error(&dev, a), 0);
	EXPECT_EQ(dma_mapping_error(&dev, b), 0);
	EXPECT_EQ(a & (PAGE_SIZE - 1), 0x10);
	/* Every mapping its own address, even of one page. */
	EXPECT_NE(a & PAGE_MASK, b);
	EXPECT_EQ(memremap_dma_live(), 2);
	dma_unmap_page(&dev, a, 512, DMA_TO_DEVICE);
	dma_unmap_page(&dev, b, PAGE_SIZE, DMA_FROM_DEVICE);
	EXPECT_EQ(memremap_dma_live(), 0);
	a = dma_map_page_attrs(&dev, page, 0, PAGE_SIZE, DMA_BIDIRECTIONAL, 0);
	EXPECT_FALSE(dma_mapping_error(&dev, a));
	dma_unmap_page_attrs(&dev, a, PAGE_SIZE, DMA_BIDIRECTIONAL, 0);
	EXPECT_TRUE(valid_dma_direction(DMA_FROM_DEVICE));
	EXPECT_FALSE(valid_dma_direction(DMA_NONE));
	dma_pgmap_done();
	EXPECT_WARNS(0);
	case_done();
}

KTAP_CASE(dma_misuse_warns_as_dma_debug_does)
{
	struct device dev = { .init_name = "dma" };
	struct device other = { .init_name = "other" };
	struct page *page = dma_page(1);
	dma_addr_t a;

	a = dma_map_page(&dev, page, 0, PAGE_SIZE, DMA_TO_DEVICE);
	EXPECT_FALSE(dma_mapping_error(&dev, a));
	dma_unmap_page(&dev, a, PAGE_SIZE, DMA_TO_DEVICE);
	dma_unmap_page(&dev, a, PAGE_SIZE, DMA_TO_DEVICE);
	EXPECT_WARNS(1);
	EXPECT_TRUE(warned("has not allocated"));
	dma_unmap_page(&dev, DMA_MAPPING_ERROR, PAGE_SIZE, DMA_TO_DEVICE);
	EXPECT_WARNS(2);
	EXPECT_TRUE(warned("invalid DMA memory address"));

	/* Another device's address: a WARN, the mapping stays. */
	a = dma_map_page(&dev, page, 0, PAGE_SIZE, DMA_TO_DEVICE);
	EXPECT_FALSE(dma_mapping_error(&dev, a));
	dma_unmap_page(&other, a, PAGE_SIZE, DMA_TO_DEVICE);
	EXPECT_WARNS(3);
	EXPECT_EQ(memremap_dma_live(), 1);
	/* Another size, another direction: WARNs, the mapping ends. */
	dma_unmap_page(&dev, a, 64, DMA_FROM_DEVICE);
	EXPECT_WARNS(5);
	EXPECT_EQ(memremap_dma_live(), 0);
	/* Never checked with dma_mapping_error(). */
	a = dma_map_page(&dev, page, 0, PAGE_SIZE, DMA_TO_DEVICE);
	dma_unmap_page(&dev, a, PAGE_SIZE, DMA_TO_DEVICE);
	EXPECT_WARNS(6);
	EXPECT_TRUE(warned("failed to check map error"));
	/* No page, no direction. */
	a = dma_map_page(&dev, NULL, 0, PAGE_SIZE, DMA_TO_DEVICE);
	EXPECT_EQ(dma_mapping_error(&dev, a), -ENOMEM);
	a = dma_map_page(&dev, page, 0, PAGE_SIZE, DMA_NONE);
	EXPECT_TRUE(dma_mapping_error(&dev, a));
	EXPECT_WARNS(8);
	dma_pgmap_done();
	case_done();
}

KTAP_CASE(dma_failures_and_leaks_are_seen)
{
	struct device dev = { .init_name = "dma" };
	struct page *page = dma_page(2);
	dma_addr_t a, b, first;

	memremap_dma_fail_nth(2);
	a = dma_map_page(&dev, page, 0, PAGE_SIZE, DMA_TO_DEVICE);
	b = dma_map_page(&dev, page, 0, PAGE_SIZE, DMA_TO_DEVICE);
	EXPECT_EQ(dma_mapping_error(&dev, a), 0);
	EXPECT_EQ(dma_mapping_error(&dev, b), -ENOMEM);
	EXPECT_EQ(memremap_dma_live(), 1);
	EXPECT_WARNS(0);
	first = a;

	/* A device released with a mapping live: dma-debug's complaint. */
	new_device(&dev, "leaky");
	a = dma_map_page(&dev, page, 0, PAGE_SIZE, DMA_TO_DEVICE);
	EXPECT_FALSE(dma_mapping_error(&dev, a));
	put_device(&dev);
	EXPECT_WARNS(1);
	EXPECT_TRUE(warned("pending DMA allocations"));
	EXPECT_EQ(memremap_dma_live(), 2);
	dma_unmap_page(&dev, a, PAGE_SIZE, DMA_TO_DEVICE);
	/* The first mapping was made before the device was set up. */
	dma_unmap_page(&dev, first, PAGE_SIZE, DMA_TO_DEVICE);
	EXPECT_WARNS(1);
	dma_pgmap_done();
	case_done();
}

/* ---- a driver's probe under fault injection ---- */

struct drv {
	struct resource *res;
	long *table;
	char *buf;
	struct dev_pagemap pgmap;
};

static void free_table(void *data)
{
	kvfree(((struct drv *)data)->table);
}

static void free_buf(void *data)
{
	vfree(((struct drv *)data)->buf);
}

/* Set up the way a device-private driver does, undone by devres alone. */
static int probe(struct device *dev)
{
	struct drv *d;
	void *va;
	int ret;

	d = devm_kzalloc(dev, sizeof(*d), GFP_KERNEL);
	if (!d)
		return -ENOMEM;
	d->res = devm_request_free_mem_region(dev, &iomem_resource, SZ_64M);
	if (IS_ERR(d->res))
		return PTR_ERR(d->res);
	d->table = kvcalloc(64, sizeof(*d->table), GFP_KERNEL);
	if (!d->table)
		return -ENOMEM;
	ret = devm_add_action_or_reset(dev, free_table, d);
	if (ret)
		return ret;
	d->buf = vzalloc(2 * PAGE_SIZE);
	if (!d->buf)
		return -ENOMEM;
	ret = devm_add_action_or_reset(dev, free_buf, d);
	if (ret)
		return ret;
	set_pgmap(&d->pgmap, MEMORY_DEVICE_PRIVATE, d->res->start,
		  resource_size(d->res));
	va = devm_memremap_pages(dev, &d->pgmap);
	return IS_ERR(va) ? PTR_ERR(va) : 0;
}

KTAP_CASE(every_failed_allocation_of_a_probe_unwinds)
{
	unsigned long live = memremap_kmalloc_live(), injected;
	struct device dev;
	int n, ret, failed = 0;

	for (n = 1; n < 32; n++) {
		new_device(&dev, "probe");
		injected = memremap_kmalloc_injected();
		memremap_kmalloc_fail_nth(n);
		ret = probe(&dev);
		memremap_kmalloc_fail_nth(0);
		if (memremap_kmalloc_injected() == injected) {
			/* Past the last allocation: the probe went through. */
			EXPECT_EQ(ret, 0);
			EXPECT_EQ(memremap_mapped_pgmaps(), 1);
			put_device(&dev);
			break;
		}
		EXPECT_EQ(ret, -ENOMEM);
		failed++;
		put_device(&dev);
		EXPECT_EQ(released, 1);
		EXPECT_EQ(memremap_kmalloc_live(), live);
		EXPECT_EQ(memremap_devres_live(), 0);
		EXPECT_EQ(memremap_iomem_regions(), BOOT_REGIONS);
	}
	/*
	 * devm_kzalloc, the resource and its devres entry, kvcalloc, an
	 * action, vzalloc, an action, and memremap_pages()'s percpu_ref_init().
	 */
	EXPECT_EQ(failed, 8);
	EXPECT_EQ(memremap_mapped_pgmaps(), 0);
	EXPECT_EQ(memremap_kmalloc_live(), live);
	EXPECT_WARNS(0);
	case_done();
}

KTAP_MAIN("driver_surface",
	  KTAP_ENTRY(free_region_is_the_top_section_aligned_hole),
	  KTAP_ENTRY(free_region_skips_resources_and_mapped_pgmaps),
	  KTAP_ENTRY(free_region_in_a_window_nests_and_runs_out),
	  KTAP_ENTRY(request_mem_region_refuses_a_busy_range),
	  KTAP_ENTRY(release_of_a_range_not_held_warns),
	  KTAP_ENTRY(memremap_pages_refuses_system_ram_only),
	  KTAP_ENTRY(devm_free_region_goes_with_its_device),
	  KTAP_ENTRY(devm_release_mem_region_wants_a_managed_region),
	  KTAP_ENTRY(resource_allocation_failures),
	  KTAP_ENTRY(the_page_allocators_memory_is_system_ram),
	  KTAP_ENTRY(last_put_releases_devres_newest_first),
	  KTAP_ENTRY(devm_memremap_pages_rides_the_same_list),
	  KTAP_ENTRY(devm_add_action_or_reset_runs_the_action_on_failure),
	  KTAP_ENTRY(devm_kfree_and_actions_by_hand),
	  KTAP_ENTRY(device_refcount_misuse_warns),
	  KTAP_ENTRY(device_numbers_and_names),
	  KTAP_ENTRY(krealloc_contract),
	  KTAP_ENTRY(vmalloc_shares_the_ledger_and_fault_injection),
	  KTAP_ENTRY(the_wrong_free_warns_and_frees_nothing),
	  KTAP_ENTRY(kvmalloc_family_is_in_the_ledger),
	  KTAP_ENTRY(dma_map_and_unmap_contract),
	  KTAP_ENTRY(dma_misuse_warns_as_dma_debug_does),
	  KTAP_ENTRY(dma_failures_and_leaks_are_seen),
	  KTAP_ENTRY(every_failed_allocation_of_a_probe_unwinds))
