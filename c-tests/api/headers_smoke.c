// SPDX-License-Identifier: GPL-2.0-only
/*
 * Smoke test of the kernel-shaped headers: every one of them in one file,
 * the x86_64 6.1 layouts, the WARN and ERR_PTR semantics, kmalloc() over
 * the library's ledger, and one pgmap round trip. That each header is also
 * self-contained is c-tests/check-headers.sh's job.
 */
#include <asm/page.h>
#include <linux/atomic.h>
#include <linux/bitmap.h>
#include <linux/bitops.h>
#include <linux/bits.h>
#include <linux/bug.h>
#include <linux/build_bug.h>
#include <linux/compiler.h>
#include <linux/compiler_types.h>
#include <linux/completion.h>
#include <linux/container_of.h>
#include <linux/device.h>
#include <linux/err.h>
#include <linux/errno.h>
#include <linux/export.h>
#include <linux/gfp.h>
#include <linux/init.h>
#include <linux/jiffies.h>
#include <linux/kconfig.h>
#include <linux/kernel.h>
#include <linux/list.h>
#include <linux/lockdep.h>
#include <linux/memremap.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/mm_types.h>
#include <linux/mmdebug.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/page_ref.h>
#include <linux/pagemap.h>
#include <linux/percpu-refcount.h>
#include <linux/pfn.h>
#include <linux/poison.h>
#include <linux/printk.h>
#include <linux/range.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/spinlock_types.h>
#include <linux/stddef.h>
#include <linux/string.h>
#include <linux/stringify.h>
#include <linux/swait.h>
#include <linux/types.h>
#include <memremap/abi.h>
#include <memremap/test.h>
#include "ktap.h"

/* The layouts, at compile time (the headers assert them too). */
#define AT(type, member, off) \
	_Static_assert(offsetof(type, member) == (off), #type "." #member)
#define SIZE(type, size) _Static_assert(sizeof(type) == (size), #type)

SIZE(u64, 8);
_Static_assert(__same_type(u64, unsigned long long), "u64 is ull");
_Static_assert(__same_type(pgoff_t, unsigned long), "pgoff_t is ul");
_Static_assert(__same_type(phys_addr_t, u64), "phys_addr_t is u64");
SIZE(struct range, 16);
AT(struct range, end, 8);
SIZE(struct vmem_altmap, 48);
AT(struct vmem_altmap, reserve, 16);
AT(struct vmem_altmap, alloc, 40);
SIZE(struct percpu_ref, 16);
SIZE(raw_spinlock_t, 4);
SIZE(struct swait_queue_head, 24);
SIZE(struct completion, 32);
SIZE(struct dev_pagemap_ops, 24);
AT(struct dev_pagemap, altmap, 0);
AT(struct dev_pagemap, ref, 48);
AT(struct dev_pagemap, done, 64);
AT(struct dev_pagemap, type, 96);
AT(struct dev_pagemap, flags, 100);
AT(struct dev_pagemap, vmemmap_shift, 104);
AT(struct dev_pagemap, ops, 112);
AT(struct dev_pagemap, owner, 120);
AT(struct dev_pagemap, nr_range, 128);
AT(struct dev_pagemap, range, 136);
AT(struct dev_pagemap, ranges, 136);
SIZE(struct dev_pagemap, 152);
SIZE(struct page, 64);
AT(struct page, flags, 0);
AT(struct page, compound_head, 8);
AT(struct page, pgmap, 8);
AT(struct page, zone_device_data, 16);
AT(struct page, compound_order, 17);
AT(struct page, mapping, 24);
AT(struct page, index, 32);
AT(struct page, private, 40);
AT(struct page, _mapcount, 48);
AT(struct page, _refcount, 52);
AT(struct page, memcg_data, 56);
AT(struct folio, page, 0);
AT(struct folio, flags, 0);
AT(struct folio, mapping, 24);
AT(struct folio, index, 32);
AT(struct folio, _refcount, 52);
AT(struct folio, _folio_order, 81);
AT(struct memremap_warn_record, line, 704);
SIZE(struct memremap_warn_record, 708);
_Static_assert(MEMORY_DEVICE_PRIVATE == 1 && MEMORY_DEVICE_PCI_P2PDMA == 5,
	       "enum memory_type");
_Static_assert(__GFP_ZERO == 0x100, "the library tests bit 0x100");
_Static_assert(!(GFP_KERNEL & __GFP_ZERO) && !(GFP_ATOMIC & __GFP_ZERO) &&
	       !(GFP_NOWAIT & __GFP_ZERO) && !(GFP_NOIO & __GFP_ZERO) &&
	       !(GFP_NOFS & __GFP_ZERO) &&
	       !(GFP_HIGHUSER_MOVABLE & __GFP_ZERO), "no GFP_* zeroes");
_Static_assert(IS_ENABLED(CONFIG_ZONE_DEVICE) && IS_ENABLED(CONFIG_DEBUG_VM) &&
	       !IS_ENABLED(CONFIG_PCI_P2PDMA), "default configuration");

/* A driver struct embedding a pgmap, not as its last member. */
struct chunk {
	struct list_head list;
	struct dev_pagemap pagemap;
	unsigned long callocated;
};

KTAP_CASE(layouts)
{
	struct chunk c = { .pagemap.nr_range = 1 };
	struct folio folio;

	EXPECT_EQ(sizeof(struct page), 64);
	EXPECT_EQ(sizeof(struct dev_pagemap), 152);
	EXPECT_EQ(sizeof(struct range), 16);
	EXPECT_EQ(sizeof(struct vmem_altmap), 48);
	EXPECT_EQ(sizeof(struct percpu_ref), 16);
	EXPECT_EQ(sizeof(struct completion), 32);
	EXPECT_EQ(sizeof(struct memremap_warn_record), 708);
	EXPECT_EQ(offsetof(struct dev_pagemap, range), 136);
	EXPECT_EQ(offsetof(struct page, _refcount), 52);
	EXPECT_EQ(offsetof(struct folio, _folio_order), 81);
	EXPECT_PTR_EQ(&folio.page, &folio);

	/* range and ranges[0] are one object; the struct goes on after. */
	c.pagemap.range.start = 1UL << 30;
	c.pagemap.ranges[0].end = (1UL << 30) + (2UL << 20) - 1;
	c.callocated = 7;
	EXPECT_EQ(c.pagemap.ranges[0].start, 1UL << 30);
	EXPECT_EQ(range_len(&c.pagemap.range), 2UL << 20);
	EXPECT_EQ(c.callocated, 7);
	EXPECT_PTR_EQ(container_of(&c.pagemap, struct chunk, pagemap), &c);
	EXPECT_EQ(PFN_PHYS(1UL << 52), 0);
	EXPECT_EQ(PHYS_PFN(1ULL << 30), 1UL << 18);
	EXPECT_EQ(PAGE_SIZE, 4096);
}

static int evaluations;

static int eval(int v)
{
	evaluations++;
	return v;
}

/* One WARN_ON_ONCE() site, reached from several calls. */
static int once_site(int cond)
{
	return WARN_ON_ONCE(eval(cond));
}

KTAP_CASE(warn_semantics)
{
	struct memremap_warn_record rec;
	int i, line;

	memremap_warn_quiet(true);
	evaluations = 0;
	EXPECT_EQ(once_site(0), 0);
	EXPECT_WARNS(0);
	EXPECT_EQ(once_site(5), 1);
	EXPECT_EQ(once_site(1), 1);
	EXPECT_EQ(evaluations, 3);
	EXPECT_WARNS(1);
	memremap_warn_rearm();
	EXPECT_EQ(once_site(1), 1);
	EXPECT_WARNS(2);

	line = __LINE__ + 1;
	EXPECT_EQ(WARN_ON(eval(7) == 7), 1);
	EXPECT_EQ(evaluations, 5);
	EXPECT_WARNS(3);
	EXPECT_TRUE(memremap_warn_last(&rec));
	EXPECT_EQ(rec.line, line);
	EXPECT_TRUE(strcmp(rec.function, __func__) == 0);
	EXPECT_NOT_NULL(strstr(rec.file, "headers_smoke.c"));
	EXPECT_EQ(WARN_ON(0), 0);
	EXPECT_WARNS(3);

	EXPECT_EQ(WARN(eval(2), "value %d", 42), 1);
	EXPECT_TRUE(memremap_warn_last(&rec));
	EXPECT_TRUE(strcmp(rec.message, "value 42") == 0);
	EXPECT_WARNS(4);

	for (i = 0; i < 3; i++) {
		EXPECT_EQ(WARN_ONCE(1, "once %d", i), 1);
		VM_WARN_ON_ONCE(eval(1));
	}
	EXPECT_WARNS(6);
	EXPECT_TRUE(memremap_warn_last(&rec));
	EXPECT_TRUE(strcmp(rec.message, "") == 0);
	EXPECT_EQ(evaluations, 9);
	memremap_warn_quiet(false);
}

KTAP_CASE(err_ptr)
{
	void *p = ERR_PTR(-ENOMEM);
	int x;

	EXPECT_TRUE(IS_ERR(p));
	EXPECT_TRUE(IS_ERR_OR_NULL(p));
	EXPECT_EQ(PTR_ERR(p), -ENOMEM);
	EXPECT_EQ(PTR_ERR_OR_ZERO(p), -ENOMEM);
	EXPECT_EQ(PTR_ERR(ERR_CAST(ERR_PTR(-EINVAL))), -EINVAL);
	EXPECT_TRUE(IS_ERR(ERR_PTR(-MAX_ERRNO)));
	EXPECT_FALSE(IS_ERR(ERR_PTR(-MAX_ERRNO - 1)));
	EXPECT_FALSE(IS_ERR(&x));
	EXPECT_FALSE(IS_ERR(NULL));
	EXPECT_TRUE(IS_ERR_OR_NULL(NULL));
	EXPECT_EQ(PTR_ERR_OR_ZERO(&x), 0);
	EXPECT_EQ(ENOTSUPP, 524);
	EXPECT_EQ(EPROBE_DEFER, 517);
}

KTAP_CASE(kmalloc_ledger)
{
	unsigned long live = memremap_kmalloc_live();
	unsigned long injected = memremap_kmalloc_injected();
	struct dev_pagemap *pgmap = NULL;
	int *p, *q, i, zero = 1;
	char *d;

	p = kzalloc(64 * sizeof(*p), GFP_KERNEL);
	q = kcalloc(16, sizeof(*q), GFP_KERNEL);
	EXPECT_NOT_NULL(p);
	EXPECT_NOT_NULL(q);
	if (!p || !q)
		return;
	for (i = 0; i < 16; i++)
		zero &= p[i] == 0 && q[i] == 0;
	EXPECT_TRUE(zero);
	EXPECT_EQ(memremap_kmalloc_live(), live + 2);

	/* Overflow: NULL, and no allocation is even tried. */
	EXPECT_NULL(kcalloc(SIZE_MAX / 2, 4, GFP_KERNEL));
	EXPECT_NULL(kmalloc_array(SIZE_MAX / 2, 4, GFP_KERNEL));
	EXPECT_EQ(memremap_kmalloc_live(), live + 2);
	EXPECT_EQ(struct_size(pgmap, ranges, 3), 152 + 3 * 16);
	EXPECT_EQ(struct_size(pgmap, ranges, SIZE_MAX / 8), SIZE_MAX);

	d = kmemdup("abc", 4, GFP_KERNEL);
	EXPECT_NOT_NULL(d);
	EXPECT_TRUE(d && strcmp(d, "abc") == 0);
	kfree(d);
	kfree(p);
	kvfree(q);
	kfree(NULL);
	EXPECT_EQ(memremap_kmalloc_live(), live);

	memremap_kmalloc_fail_nth(1);
	EXPECT_NULL(kzalloc(8, GFP_KERNEL));
	EXPECT_EQ(memremap_kmalloc_injected(), injected + 1);
	p = kzalloc(8, GFP_KERNEL);
	EXPECT_NOT_NULL(p);
	kfree(p);
	EXPECT_EQ(memremap_kmalloc_live(), live);
	EXPECT_WARNS(0);
}

#define BASE_PFN	((1UL << 30) >> PAGE_SHIFT)

KTAP_CASE(pgmap_round_trip)
{
	struct dev_pagemap pgmap = {
		.type = MEMORY_DEVICE_GENERIC,
		.nr_range = 1,
		.range = {
			.start = 1UL << 30,
			.end = (1UL << 30) + (2UL << 20) - 1,
		},
	};
	struct folio *folio;
	void *va;

	va = memremap_pages(&pgmap, NUMA_NO_NODE);
	EXPECT_FALSE(IS_ERR_OR_NULL(va));
	if (IS_ERR_OR_NULL(va))
		return;
	EXPECT_TRUE(memremap_pgmap_is_mapped(&pgmap));
	EXPECT_PTR_EQ(memremap_pfn_owner(BASE_PFN + 5), &pgmap);
	EXPECT_EQ(memremap_pgmap_pins(&pgmap), 0);
	EXPECT_EQ(pfn_to_pgmap_offset(&pgmap, BASE_PFN + 5), 5);
	EXPECT_EQ(pgmap_offset_to_pfn(&pgmap, 5), BASE_PFN + 5);
	EXPECT_TRUE(pgmap_pfn_valid(&pgmap, BASE_PFN + 5));

	folio = pgmap_request_folio(&pgmap, 5, 0);
	EXPECT_NOT_NULL(folio);
	if (!folio)
		goto out;
	EXPECT_EQ(folio_ref_count(folio), 1);
	EXPECT_EQ(page_to_pfn(&folio->page), BASE_PFN + 5);
	EXPECT_PTR_EQ(pfn_to_page(BASE_PFN + 5), &folio->page);
	EXPECT_PTR_EQ(page_folio(&folio->page), folio);
	EXPECT_PTR_EQ(folio_pgmap(folio), &pgmap);
	EXPECT_PTR_EQ(folio->page.pgmap, &pgmap);
	EXPECT_EQ(folio_order(folio), 0);
	EXPECT_EQ(folio_size(folio), PAGE_SIZE);
	EXPECT_TRUE(is_zone_device_page(&folio->page));
	EXPECT_FALSE(folio_is_device_private(folio));
	EXPECT_EQ(memremap_pgmap_pins(&pgmap), 1);
	EXPECT_EQ(memremap_pgmap_busy_pages(&pgmap), 1);

	folio_lock(folio);
	EXPECT_TRUE(folio_test_locked(folio));
	folio_unlock(folio);
	folio_put(folio);
	EXPECT_EQ(folio_ref_count(folio), 0);
	EXPECT_EQ(memremap_pgmap_pins(&pgmap), 0);
out:
	memunmap_pages(&pgmap);
	EXPECT_FALSE(memremap_pgmap_is_mapped(&pgmap));
	EXPECT_WARNS(0);
}

/* ranges[] of a pgmap allocated with room for them, in array order. */
KTAP_CASE(pgmap_ranges)
{
	struct dev_pagemap *pgmap;
	struct folio *folio;
	unsigned long pfn;
	void *va;

	pgmap = kzalloc(struct_size(pgmap, ranges, 2), GFP_KERNEL);
	EXPECT_NOT_NULL(pgmap);
	if (!pgmap)
		return;
	pgmap->type = MEMORY_DEVICE_GENERIC;
	pgmap->nr_range = 2;
	pgmap->ranges[0].start = 4UL << 30;
	pgmap->ranges[0].end = (4UL << 30) + (2UL << 20) - 1;
	pgmap->ranges[1].start = 2UL << 30;
	pgmap->ranges[1].end = (2UL << 30) + (4UL << 20) - 1;
	va = memremap_pages(pgmap, 0);
	EXPECT_FALSE(IS_ERR_OR_NULL(va));
	if (IS_ERR_OR_NULL(va))
		goto out;
	pfn = PHYS_PFN(2UL << 30);
	EXPECT_EQ(pfn_to_pgmap_offset(pgmap, pfn), 512);
	EXPECT_EQ(pgmap_offset_to_pfn(pgmap, 512), pfn);
	folio = pgmap_request_folio(pgmap, 512, 0);
	EXPECT_NOT_NULL(folio);
	if (folio) {
		EXPECT_EQ(folio_pfn(folio), pfn);
		folio_put(folio);
	}
	memunmap_pages(pgmap);
out:
	kfree(pgmap);
	EXPECT_WARNS(0);
}

static int released;

static void release(struct percpu_ref *ref)
{
	EXPECT_NOT_NULL(ref);
	released++;
}

struct item {
	int value;
	struct list_head node;
};

/* The small helpers: percpu_ref, completion, locks, lists, bitmaps. */
KTAP_CASE(helpers)
{
	DECLARE_COMPLETION(done);
	DEFINE_SPINLOCK(lock);
	DEFINE_MUTEX(mutex);
	LIST_HEAD(head);
	struct item a = { .value = 1 }, b = { .value = 2 }, *pos, *n;
	struct percpu_ref ref = { 0 };
	unsigned long *map, flags;
	atomic_t v = ATOMIC_INIT(1);
	int sum = 0;

	released = 0;
	EXPECT_EQ(percpu_ref_init(&ref, release, 0, GFP_KERNEL), 0);
	percpu_ref_get(&ref);
	EXPECT_EQ(memremap_percpu_ref_count(&ref), 2);
	percpu_ref_kill(&ref);
	EXPECT_TRUE(percpu_ref_is_dying(&ref));
	EXPECT_FALSE(percpu_ref_tryget_live(&ref));
	percpu_ref_put(&ref);
	EXPECT_EQ(released, 1);
	EXPECT_TRUE(percpu_ref_is_zero(&ref));
	percpu_ref_exit(&ref);

	EXPECT_FALSE(completion_done(&done));
	complete(&done);
	EXPECT_TRUE(try_wait_for_completion(&done));
	EXPECT_EQ(wait_for_completion_timeout(&done, msecs_to_jiffies(1)), 0);

	spin_lock_irqsave(&lock, flags);
	EXPECT_FALSE(spin_trylock(&lock));
	assert_spin_locked(&lock);
	spin_unlock_irqrestore(&lock, flags);
	EXPECT_TRUE(spin_trylock(&lock));
	spin_unlock(&lock);
	mutex_lock(&mutex);
	EXPECT_FALSE(mutex_trylock(&mutex));
	mutex_unlock(&mutex);

	list_add_tail(&a.node, &head);
	list_add_tail(&b.node, &head);
	EXPECT_PTR_EQ(list_first_entry(&head, struct item, node), &a);
	list_for_each_entry_safe(pos, n, &head, node) {
		sum = sum * 10 + pos->value;
		list_del(&pos->node);
	}
	EXPECT_EQ(sum, 12);
	EXPECT_TRUE(list_empty(&head));

	map = bitmap_zalloc(100, GFP_KERNEL);
	EXPECT_NOT_NULL(map);
	if (map) {
		bitmap_set(map, 0, 70);
		EXPECT_EQ(find_first_zero_bit(map, 100), 70);
		EXPECT_EQ(find_next_bit(map, 100, 70), 100);
		EXPECT_EQ(bitmap_weight(map, 100), 70);
		clear_bit(3, map);
		EXPECT_FALSE(test_bit(3, map));
		EXPECT_FALSE(test_and_set_bit(3, map));
		EXPECT_TRUE(test_and_clear_bit(3, map));
		EXPECT_EQ(find_first_zero_bit(map, 100), 3);
		bitmap_free(map);
	}

	EXPECT_EQ(atomic_inc_return(&v), 2);
	EXPECT_FALSE(atomic_dec_and_test(&v));
	EXPECT_TRUE(atomic_dec_and_test(&v));
	EXPECT_EQ(ALIGN(5, 4), 8);
	EXPECT_EQ(DIV_ROUND_UP(5, 4), 2);
	EXPECT_TRUE(IS_ALIGNED(4096, PAGE_SIZE));
	EXPECT_EQ(clamp(7, 1, 5), 5);
	EXPECT_EQ(ARRAY_SIZE("abc"), 4);
	BUILD_BUG_ON(min(3, 5) != 3 || max_t(long, -1, 2UL) != 2);
	EXPECT_EQ(min(sum, 5), 5);
	EXPECT_WARNS(0);
}

KTAP_MAIN("headers_smoke",
	  KTAP_ENTRY(layouts),
	  KTAP_ENTRY(warn_semantics),
	  KTAP_ENTRY(err_ptr),
	  KTAP_ENTRY(kmalloc_ledger),
	  KTAP_ENTRY(pgmap_round_trip),
	  KTAP_ENTRY(pgmap_ranges),
	  KTAP_ENTRY(helpers));
