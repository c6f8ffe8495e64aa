// SPDX-License-Identifier: GPL-2.0-only
/* Reproducers of the library defects the hostile passes found. */
/*
 * One case per defect, each asserting the behaviour the library promises
 * (safe and loud: a WARN and a safe return, never a crash, hang, leak or
 * use-after-free). All eight are fixed; the cases stay, in SUITES, as
 * regression tests (the first shows best under valgrind: `make
 * hostile-repro`). docs/RELIABILITY.md tells each story.
 */
#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/percpu-refcount.h>
#include <linux/completion.h>
#include <memremap/test.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>
#include "ktap.h"

#define SZ_2M	(2UL << 20)

static void init_pgmap(struct dev_pagemap *m, unsigned long start)
{
	memset(m, 0, sizeof(*m));
	m->type = MEMORY_DEVICE_GENERIC;
	m->nr_range = 1;
	m->range.start = start;
	m->range.end = start + SZ_2M - 1;
}

static struct dev_pagemap *new_pgmap(unsigned long start)
{
	struct dev_pagemap *m = malloc(sizeof(*m));

	if (!m)
		abort();
	init_pgmap(m, start);
	return m;
}

/*
 * 1. memremap_ledger_count() takes the registry's list of pgmaps, drops
 * the lock, then reads each pgmap's ref and state (then src/ledger.rs):
 * a memunmap_pages() on another thread meanwhile frees that state, and
 * the caller may free the pgmap itself. Valgrind: "Invalid read ... in
 * memremap::pgmap::held_pfns ... free'd by memremap::percpu_ref::exit".
 */
static atomic_bool churn_done;

static void *churn(void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < 2000; i++) {
		struct dev_pagemap *m = new_pgmap(1UL << 30);

		if (IS_ERR(memremap_pages(m, 0)))
			break;
		memunmap_pages(m);
		free(m);	/* memunmap_pages() returned: ours again */
	}
	atomic_store(&churn_done, true);
	return NULL;
}

KTAP_CASE(ledger_races_memunmap_pages)
{
	pthread_t t;
	unsigned long n = 0;

	atomic_store(&churn_done, false);
	pthread_create(&t, NULL, churn, NULL);
	while (!atomic_load(&churn_done)) {
		memremap_ledger_count();
		n++;
	}
	pthread_join(t, NULL);
	printf("    # %lu ledger reads raced 2000 map/unmap cycles (run "
	       "under valgrind)\n", n);
}

/*
 * 2. wait_for_completion_timeout() waits for the caller's timeout, not
 * the library's bound: MAX_SCHEDULE_TIMEOUT (LONG_MAX), which kernel code
 * passes to wait for ever, hangs the test program (then src/ffi.rs).
 */
static struct completion never;
static atomic_bool waited;

static void *waiter(void *arg)
{
	(void)arg;
	wait_for_completion_timeout(&never, LONG_MAX);
	atomic_store(&waited, true);
	return NULL;
}

KTAP_CASE(wait_for_completion_timeout_is_bounded)
{
	pthread_t t;
	int i;

	init_completion(&never);
	memremap_set_wait_bound_ms(50);
	memremap_warn_quiet(true);
	pthread_create(&t, NULL, waiter, NULL);
	for (i = 0; i < 200 && !atomic_load(&waited); i++)
		usleep(10000);
	memremap_warn_quiet(false);
	memremap_set_wait_bound_ms(10000);
	/* Within 2 s for a 50 ms bound; else the thread is left behind. */
	EXPECT_TRUE(atomic_load(&waited));
	if (atomic_load(&waited))
		pthread_join(t, NULL);
	else
		pthread_detach(t);
}

/*
 * 3. percpu_ref_init() of a ref that is live is not refused: the first
 * init's counters leak (LeakSanitizer: "Direct leak of 2560 bytes ...
 * percpu_ref::init"), and on a mapped pgmap's ref the pgmap's state goes
 * with them: the pgmap reads as unmapped, its pfns stay registered for
 * ever, and the ledger no longer shows it.
 */
KTAP_CASE(percpu_ref_init_of_a_live_ref_is_refused)
{
	struct dev_pagemap *m = new_pgmap(2UL << 30);
	unsigned long w;
	int err;

	EXPECT_FALSE(IS_ERR(memremap_pages(m, 0)));
	memremap_warn_quiet(true);
	w = memremap_warn_count();
	err = percpu_ref_init(&m->ref, NULL, 0, GFP_KERNEL);
	memremap_warn_quiet(false);
	EXPECT_NE(err, 0);
	EXPECT_EQ(memremap_warn_count() - w, 1);
	EXPECT_TRUE(memremap_pgmap_is_mapped(m));
	EXPECT_EQ(memremap_ledger_count(), memremap_mapped_pgmaps() +
		  memremap_kmalloc_live());
	memunmap_pages(m);
	EXPECT_EQ(memremap_mapped_pgmaps(), 0);
	if (!memremap_mapped_pgmaps())
		free(m);
}

/*
 * 4. free_zone_device_page() of a page still referenced is not refused:
 * it calls ->page_free() and drops the pgmap pin of a folio in use, so
 * the pgmap can be unmapped under it (src/page.rs).
 */
static int freed;

static void count_free(struct page *page)
{
	(void)page;
	freed++;
}

static const struct dev_pagemap_ops counting_ops = {
	.page_free = count_free,
};

KTAP_CASE(free_zone_device_page_of_a_referenced_page_is_refused)
{
	struct dev_pagemap *m = new_pgmap(3UL << 30);
	struct folio *f;
	unsigned long w;

	m->ops = &counting_ops;
	EXPECT_FALSE(IS_ERR(memremap_pages(m, 0)));
	f = pgmap_request_folio(m, 1, 0);
	memremap_warn_quiet(true);
	w = memremap_warn_count();
	free_zone_device_page(&f->page);
	memremap_warn_quiet(false);
	EXPECT_EQ(memremap_warn_count() - w, 1);
	EXPECT_EQ(freed, 0);
	EXPECT_EQ(memremap_pgmap_pins(m), 1);
	folio_put(f);
	EXPECT_EQ(freed, 1);
	memunmap_pages(m);
	free(m);
}

/*
 * 5. The poison page, which pfn_to_page() returns for a pfn no pgmap
 * maps, "matches no pgmap" but is not inert: folio_ref_inc() raises its
 * count and trylock_page() locks it, silently, for every later user of a
 * bad pfn (after which a folio_put() or a folio_get() of it no longer
 * WARNs, and lock_page() of it blocks for the wait bound).
 */
KTAP_CASE(the_poison_page_is_inert)
{
	struct page *poison;
	unsigned long w;

	memremap_warn_quiet(true);
	poison = pfn_to_page(12345);
	w = memremap_warn_count();
	folio_ref_inc((struct folio *)poison);
	EXPECT_EQ(memremap_warn_count() - w, 1);
	EXPECT_EQ(page_ref_count(poison), 0);
	w = memremap_warn_count();
	EXPECT_FALSE(trylock_page(poison));
	EXPECT_EQ(memremap_warn_count() - w, 1);
	EXPECT_FALSE(PageLocked(poison));
	/* Undo what the library let through, for the cases after this. */
	if (page_ref_count(poison))
		folio_put((struct folio *)poison);
	if (PageLocked(poison))
		unlock_page(poison);
	memremap_warn_quiet(false);
}

/*
 * 6. memunmap_pages() trusts pgmap->done: a stray complete() (pgmap->done
 * belongs to the library, but C can reach it) lets it tear the pgmap down
 * while a folio is still referenced; the folio's page is poisoned under
 * its holder, whose put then WARNs as a put of an idle folio. Checking
 * percpu_ref_is_zero() after the wait would catch it.
 */
KTAP_CASE(a_stray_complete_does_not_end_the_unmap_wait)
{
	static struct dev_pagemap m;	/* may stay registered */
	struct folio *f;

	init_pgmap(&m, 4UL << 30);
	EXPECT_FALSE(IS_ERR(memremap_pages(&m, 0)));
	f = pgmap_request_folio(&m, 1, 0);
	complete(&m.done);
	memremap_set_wait_bound_ms(20);
	memremap_warn_quiet(true);
	memunmap_pages(&m);
	memremap_warn_quiet(false);
	memremap_set_wait_bound_ms(10000);
	/* Held: so a give-up, not a teardown. */
	EXPECT_TRUE(memremap_pgmap_is_abandoned(&m));
	EXPECT_EQ(folio_ref_count(f), 1);
	memremap_warn_quiet(true);
	folio_put(f);
	memremap_warn_quiet(false);
}

/*
 * 7. percpu_ref_get() of a ref already released (killed, count 0) is
 * silent; only the put that follows WARNs ("reached zero again after its
 * release"). The get is the bug, as in the kernel; it can be told.
 */
KTAP_CASE(percpu_ref_get_after_release_warns)
{
	struct percpu_ref ref;
	unsigned long w;

	EXPECT_EQ(percpu_ref_init(&ref, NULL, 0, GFP_KERNEL), 0);
	percpu_ref_kill(&ref);
	EXPECT_TRUE(percpu_ref_is_zero(&ref));
	memremap_warn_quiet(true);
	w = memremap_warn_count();
	percpu_ref_get(&ref);
	EXPECT_EQ(memremap_warn_count() - w, 1);
	percpu_ref_put(&ref);
	memremap_warn_quiet(false);
	percpu_ref_exit(&ref);
}

/*
 * 8. "An unmapped pgmap's chunks are poisoned and reused, so a stale
 * struct page * reads a page that matches no pgmap" (then src/memmap.rs) holds
 * only until the chunk is reused: then the stale pointer is a live page
 * of the next pgmap, and a late put through it drops that pgmap's folio.
 */
KTAP_CASE(a_stale_page_never_aliases_another_pgmap)
{
	struct dev_pagemap *a = new_pgmap(5UL << 30);
	struct dev_pagemap *b = new_pgmap(6UL << 30);
	struct folio *stale, *fb;

	EXPECT_FALSE(IS_ERR(memremap_pages(a, 0)));
	stale = pgmap_request_folio(a, 3, 0);
	folio_put(stale);
	memunmap_pages(a);
	EXPECT_FALSE(IS_ERR(memremap_pages(b, 0)));
	fb = pgmap_request_folio(b, 3, 0);
	EXPECT_NE(folio_pgmap(stale), b);
	EXPECT_NE(stale, fb);
	folio_put(fb);
	memunmap_pages(b);
	free(a);
	free(b);
}

KTAP_MAIN("repro",
	  KTAP_ENTRY(ledger_races_memunmap_pages),
	  KTAP_ENTRY(wait_for_completion_timeout_is_bounded),
	  KTAP_ENTRY(percpu_ref_init_of_a_live_ref_is_refused),
	  KTAP_ENTRY(free_zone_device_page_of_a_referenced_page_is_refused),
	  KTAP_ENTRY(the_poison_page_is_inert),
	  KTAP_ENTRY(a_stray_complete_does_not_end_the_unmap_wait),
	  KTAP_ENTRY(percpu_ref_get_after_release_warns),
	  KTAP_ENTRY(a_stale_page_never_aliases_another_pgmap))
