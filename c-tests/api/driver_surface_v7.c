// SPDX-License-Identifier: GPL-2.0-only
/*
 * The typed allocators of Linux 7.0 (kmalloc_obj() and siblings), built
 * with the API generation set to 7.0: each one's size, type, zeroing,
 * default gfp, overflow, and its place in the ledger and under fault
 * injection. driver_surface.c's generation (the default) does not see them.
 */
#include <linux/version.h>
#define MEMREMAP_LINUX KERNEL_VERSION(7, 0, 0)
#include <linux/slab.h>
#include <memremap/test.h>
#include "ktap.h"

struct table {
	int nr;
	long entries[];
};

#ifndef kmalloc_obj
#error "kmalloc_obj() must exist when MEMREMAP_LINUX >= 7.0"
#endif

KTAP_CASE(obj_allocators_size_and_type_the_result)
{
	unsigned long live = memremap_kmalloc_live();
	struct table *t = kzalloc_obj(*t);
	long *l = kmalloc_obj(long, GFP_KERNEL);
	int *v = kzalloc_objs(int, 16);
	struct table *f = kzalloc_flex(*f, entries, 8);

	EXPECT_NOT_NULL(t);
	EXPECT_NOT_NULL(l);
	EXPECT_NOT_NULL(v);
	EXPECT_NOT_NULL(f);
	EXPECT_EQ(memremap_kmalloc_live(), live + 4);
	/* The result has the object's type, not void *. */
	EXPECT_TRUE(__builtin_types_compatible_p(typeof(kmalloc_obj(long)),
						 long *));
	EXPECT_EQ(t ? t->nr : -1, 0);
	EXPECT_EQ(v ? v[15] : -1, 0);
	EXPECT_EQ(f ? f->entries[7] : -1, 0);
	kfree(t);
	kfree(l);
	kfree(v);
	kfree(f);
	EXPECT_EQ(memremap_kmalloc_live(), live);
	EXPECT_WARNS(0);
}

KTAP_CASE(kv_variants_and_overflow)
{
	unsigned long live = memremap_kmalloc_live();
	struct table *t = kvzalloc_flex(*t, entries, 1000, GFP_KERNEL);
	long *a = kvmalloc_objs(*a, 4);
	long *z = kvzalloc_obj(long);
	struct table *m = kmalloc_flex(*m, entries, 2);

	EXPECT_NOT_NULL(t);
	EXPECT_NOT_NULL(a);
	EXPECT_NOT_NULL(z);
	EXPECT_NOT_NULL(m);
	EXPECT_EQ(t ? t->entries[999] : -1, 0);
	EXPECT_EQ(z ? *z : -1, 0);
	/* A count that overflows asks for SIZE_MAX: no allocation. */
	EXPECT_NULL(kmalloc_objs(long, SIZE_MAX / 4));
	EXPECT_NULL(kvmalloc_flex(*m, entries, SIZE_MAX / 4));
	EXPECT_EQ(memremap_kmalloc_live(), live + 4);
	kvfree(t);
	kvfree(a);
	kvfree(z);
	kfree(m);
	EXPECT_EQ(memremap_kmalloc_live(), live);
	EXPECT_WARNS(0);
}

KTAP_CASE(fault_injection_covers_them)
{
	struct table *t;
	long *l;

	memremap_kmalloc_fail_nth(1);
	t = kzalloc_obj(*t);
	EXPECT_NULL(t);
	memremap_kmalloc_fail_nth(2);
	l = kmalloc_obj(long);
	t = kvmalloc_obj(*t, GFP_KERNEL);
	EXPECT_NOT_NULL(l);
	EXPECT_NULL(t);
	kfree(l);
	EXPECT_WARNS(0);
}

KTAP_MAIN("driver_surface_v7",
	  KTAP_ENTRY(obj_allocators_size_and_type_the_result),
	  KTAP_ENTRY(kv_variants_and_overflow),
	  KTAP_ENTRY(fault_injection_covers_them))
