/* SPDX-License-Identifier: GPL-2.0-only */
/* struct resource and the iomem resource tree (kernel/resource.c). */
#ifndef _LINUX_IOPORT_H
#define _LINUX_IOPORT_H

#include <linux/compiler.h>
#include <linux/kconfig.h>
#include <linux/types.h>

/*
 * Resources are tree-like, allowing nesting: a busy region requested
 * inside a non-busy resource becomes its child. The library keeps the
 * tree and these structs' links in step.
 */
struct resource {
	resource_size_t start;
	resource_size_t end;
	const char *name;
	unsigned long flags;
	unsigned long desc;
	struct resource *parent, *sibling, *child;
};

_Static_assert(sizeof(struct resource) == 64, "struct resource is 64 bytes");

/* Resource flags (the kernel's values). */
#define IORESOURCE_BITS		0x000000ff	/* Bus-specific bits */
#define IORESOURCE_TYPE_BITS	0x00001f00	/* Resource type */
#define IORESOURCE_IO		0x00000100
#define IORESOURCE_MEM		0x00000200
#define IORESOURCE_REG		0x00000300
#define IORESOURCE_IRQ		0x00000400
#define IORESOURCE_DMA		0x00000800
#define IORESOURCE_BUS		0x00001000
#define IORESOURCE_PREFETCH	0x00002000
#define IORESOURCE_READONLY	0x00004000
#define IORESOURCE_CACHEABLE	0x00008000
#define IORESOURCE_MEM_64	0x00100000
#define IORESOURCE_WINDOW	0x00200000
#define IORESOURCE_MUXED	0x00400000
#define IORESOURCE_EXT_TYPE_BITS 0x01000000
#define IORESOURCE_SYSRAM	0x01000000	/* System RAM (modifier) */
#define IORESOURCE_EXCLUSIVE	0x08000000
#define IORESOURCE_DISABLED	0x10000000
#define IORESOURCE_UNSET	0x20000000
#define IORESOURCE_AUTO		0x40000000
#define IORESOURCE_BUSY		0x80000000	/* Driver marked it busy */

#define IORESOURCE_SYSTEM_RAM	(IORESOURCE_MEM | IORESOURCE_SYSRAM)

/* I/O resource descriptors, for region_intersects() and friends. */
enum {
	IORES_DESC_NONE				= 0,
	IORES_DESC_CRASH_KERNEL			= 1,
	IORES_DESC_ACPI_TABLES			= 2,
	IORES_DESC_ACPI_NV_STORAGE		= 3,
	IORES_DESC_PERSISTENT_MEMORY		= 4,
	IORES_DESC_PERSISTENT_MEMORY_LEGACY	= 5,
	IORES_DESC_DEVICE_PRIVATE_MEMORY	= 6,
	IORES_DESC_RESERVED			= 7,
	IORES_DESC_SOFT_RESERVED		= 8,
};

/* region_intersects() answers. */
enum {
	REGION_INTERSECTS,
	REGION_DISJOINT,
	REGION_MIXED,
};

#define DEFINE_RES_NAMED(_start, _size, _name, _flags)			\
	{								\
		.start = (_start),					\
		.end = (_start) + (_size) - 1,				\
		.name = (_name),					\
		.flags = (_flags),					\
		.desc = IORES_DESC_NONE,				\
	}
#define DEFINE_RES_MEM_NAMED(_start, _size, _name)			\
	DEFINE_RES_NAMED((_start), (_size), (_name), IORESOURCE_MEM)
#define DEFINE_RES_MEM(_start, _size)					\
	DEFINE_RES_MEM_NAMED((_start), (_size), NULL)

/* The root of physical memory: "PCI mem", [0, ~0], IORESOURCE_MEM. */
extern struct resource iomem_resource;

static inline resource_size_t resource_size(const struct resource *res)
{
	return res->end - res->start + 1;
}

static inline unsigned long resource_type(const struct resource *res)
{
	return res->flags & IORESOURCE_TYPE_BITS;
}

/* True if any part of r1 overlaps r2. */
static inline bool resource_overlaps(const struct resource *r1,
				     const struct resource *r2)
{
	return r1->start <= r2->end && r1->end >= r2->start;
}

/* Insert the caller's @new under @root: 0, or -EBUSY on a conflict. */
int request_resource(struct resource *root, struct resource *new);
/* The same, answering the conflicting resource (NULL on success). */
struct resource *request_resource_conflict(struct resource *root,
					   struct resource *new);
/* Unlink @old and what lies under it: 0, or -EINVAL if not in the tree. */
int release_resource(struct resource *old);

/*
 * How [@start, @start + @size) meets the top-level resources that have
 * @flags (and @desc unless IORES_DESC_NONE): REGION_DISJOINT,
 * REGION_INTERSECTS (only those), or REGION_MIXED (those and others).
 */
int region_intersects(resource_size_t start, size_t size,
		      unsigned long flags, unsigned long desc);

/*
 * A busy region [@start, @start + @n) under @parent, nested inside any
 * non-busy resource that contains it; NULL if taken (or on an injected
 * allocation failure). The struct is kmalloc()ed: release it.
 */
struct resource *__request_region(struct resource *parent,
				  resource_size_t start, resource_size_t n,
				  const char *name, int flags);
/* Release what __request_region() claimed; a range not held WARNs. */
void __release_region(struct resource *parent, resource_size_t start,
		      resource_size_t n);

#define request_mem_region(start, n, name) \
	__request_region(&iomem_resource, (start), (n), (name), 0)
#define request_mem_region_exclusive(start, n, name) \
	__request_region(&iomem_resource, (start), (n), (name), \
			 IORESOURCE_EXCLUSIVE)
#define release_mem_region(start, n) \
	__release_region(&iomem_resource, (start), (n))

struct device;

/* The same, released when @dev goes (devres). */
struct resource *__devm_request_region(struct device *dev,
				       struct resource *parent,
				       resource_size_t start,
				       resource_size_t n, const char *name);
/* Release now; WARNs if @dev did not hold it as a managed region. */
void __devm_release_region(struct device *dev, struct resource *parent,
			   resource_size_t start, resource_size_t n);

#define devm_request_mem_region(dev, start, n, name) \
	__devm_request_region(dev, &iomem_resource, (start), (n), (name))
#define devm_release_mem_region(dev, start, n) \
	__devm_release_region(dev, &iomem_resource, (start), (n))

/*
 * Physical space for device-private memory: from the top of @base (at
 * most 2^MAX_PHYSMEM_BITS - 1) downwards, the first hole of @size rounded
 * up to a 128 MiB memory-hotplug section, section-aligned, that meets no
 * resource and no mapped pgmap. Claimed busy, with
 * IORES_DESC_DEVICE_PRIVATE_MEMORY, named @name (@dev's name for the devm
 * variant, which releases it with @dev). ERR_PTR(-ERANGE) when there is
 * no such hole, ERR_PTR(-ENOMEM) when an allocation fails. Release with
 * release_mem_region(res->start, resource_size(res)).
 */
struct resource *devm_request_free_mem_region(struct device *dev,
					      struct resource *base,
					      unsigned long size);
struct resource *request_free_mem_region(struct resource *base,
					 unsigned long size, const char *name);

/* Cross-check the prototypes above against the library's. */
#ifdef CONFIG_ZONE_DEVICE
#include <memremap/abi.h>
#endif

#endif /* _LINUX_IOPORT_H */
