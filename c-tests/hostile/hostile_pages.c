// SPDX-License-Identifier: GPL-2.0-only
/*
 * Hostile page and folio calls: every page call on a page of the memmap
 * and on the poison page, every call that takes a page, folio, ref or
 * completion with NULL, and the page lock.
 */
#include "hostile.h"

/* A page predicate under test, and the answer the model wants of it. */
struct page_test {
	enum fn f;
	bool (*test)(const struct page *page);
	bool want;
};

/* Ask @page each of the @n predicates: valid calls, the answers wanted. */
static void test_page(struct page *page, const struct page_test *tests,
		      size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		call(tests[i].f);
		CHECK(tests[i].test(page) == tests[i].want);
		VALID();
	}
}

/* The page calls on a page that is in the memmap. */
static void probe_page(struct pg *owner, unsigned long pfn, struct page *page)
{
	bool usable = pg_usable(owner, pfn);
	unsigned long head = usable ? pg_head(owner, pfn) : pfn;
	unsigned int order = usable ? owner->shift : 0;
	/* No type for an altmap page (0 is no enum memory_type). */
	unsigned int type = usable ? owner->type : 0;
	struct held *h = usable ? find_held(head) : NULL;
	struct page *hp = pfn_to_page(head);
	const struct page_test tests[] = {
		{ F_is_zone_device_page, is_zone_device_page, usable },
		{ F_PageTail, PageTail, pfn != head },
		{ F_PageHead, PageHead, usable && order && pfn == head },
		{ F_is_device_private_page, is_device_private_page,
		  type == MEMORY_DEVICE_PRIVATE },
		{ F_is_device_coherent_page, is_device_coherent_page,
		  type == MEMORY_DEVICE_COHERENT },
		{ F_is_pci_p2pdma_page, is_pci_p2pdma_page,
		  type == MEMORY_DEVICE_PCI_P2PDMA },
		{ F_PageLocked, PageLocked, h && h->locked },
	};
	struct folio *folio;
	unsigned long n;
	struct page *p;

	EXPECT_CALL(page_to_pfn, page_to_pfn(page) == pfn, VALID);
	call(F_page_folio);
	folio = page_folio(page);
	CHECK(folio == (struct folio *)hp);
	VALID();
	EXPECT_CALL(compound_head, compound_head(page) == hp, VALID);
	EXPECT_CALL(folio_order, folio_order(folio) == order, VALID);
	EXPECT_CALL(folio_nr_pages, folio_nr_pages(folio) == 1L << order,
		    VALID);
	EXPECT_CALL(folio_pfn, folio_pfn(folio) == head, VALID);
	EXPECT_CALL(folio_pgmap,
		    folio_pgmap(folio) == (usable ? owner->map : NULL), VALID);
	EXPECT_CALL(folio_is_zone_device, folio_is_zone_device(folio) == usable,
		    VALID);
	EXPECT_CALL(folio_ref_count,
		    folio_ref_count(folio) == (h ? h->refs : 0), VALID);
	EXPECT_CALL(page_ref_count,
		    page_ref_count(page) == (h && pfn == head ? h->refs : 0),
		    VALID);
	test_page(page, tests, ARRAY_SIZE(tests));
	if (failed || !usable)
		return;
	/* Pages of the folio, the folio after it, and far past it. */
	n = below(1UL << min(order, 12U));
	EXPECT_CALL(folio_page, folio_page(folio, n) == pfn_to_page(head + n),
		    VALID);
	n = 1UL << order;
	call(chance(50) ? F_folio_next : F_folio_page);
	p = cur == F_folio_next ? (struct page *)folio_next(folio) :
				  folio_page(folio, n);
	if (owner_of(head + n)) {
		CHECK(p == pfn_to_page(head + n));
		VALID();
	} else {
		CHECK(p == memremap_poison_page());
		BAD();
	}
	EXPECT_CALL(folio_page,
		    folio_page(folio, -1UL) == memremap_poison_page(), BAD);
}

/* The page calls on the poison page: inert, and loud where it matters. */
static void probe_poison(struct page *page)
{
	struct folio *folio = (struct folio *)page;
	const struct page_test tests[] = {
		{ F_is_zone_device_page, is_zone_device_page, false },
		{ F_is_device_private_page, is_device_private_page, false },
	};

	EXPECT_CALL(page_to_pfn, page_to_pfn(page) == -1UL, BAD);
	EXPECT_CALL(folio_pfn, folio_pfn(folio) == -1UL, BAD);
	EXPECT_CALL(page_folio, page_folio(page) == folio, VALID);
	EXPECT_CALL(folio_pgmap, folio_pgmap(folio) == NULL, VALID);
	EXPECT_CALL(folio_order, folio_order(folio) == 0, VALID);
	EXPECT_CALL(folio_page, folio_page(folio, 1 + below(4)) == page, BAD);
	EXPECT_CALL(folio_next, folio_next(folio) == folio, BAD);
	test_page(page, tests, ARRAY_SIZE(tests));
	if (failed)
		return;
	call(F_free_zone_device_page);
	free_zone_device_page(page);
	BAD();
	call(F_unlock_page);
	unlock_page(page);
	BAD();
	/* It takes no reference and no lock. */
	call(F_folio_ref_inc);
	folio_ref_inc(folio);
	BAD();
	fig.repro[5]++;
	EXPECT_CALL(folio_ref_inc_return, folio_ref_inc_return(folio) == 0,
		    BAD);
	EXPECT_CALL(trylock_page, !trylock_page(page), BAD);
	EXPECT_CALL(folio_trylock, !folio_trylock(folio), BAD);
	call(chance(50) ? F_lock_page : F_folio_lock);
	if (cur == F_lock_page)
		lock_page(page);
	else
		folio_lock(folio);
	BAD();
	CHECK(page_ref_count(page) == 0 && !PageLocked(page));
}

void op_pages(void)
{
	unsigned long pfn = pick_pfn();
	struct pg *owner = owner_of(pfn);
	struct page *page;

	note("pfn_to_page(%#lx) owner pg%d", pfn, pg_index(owner));
	call(F_pfn_to_page);
	page = pfn_to_page(pfn);
	if (!owner) {
		CHECK(page == memremap_poison_page());
		BAD();
		if (chance(20))
			probe_poison(page);
		return;
	}
	CHECK(page != memremap_poison_page());
	VALID();
	probe_page(owner, pfn, page);
	if (!pg_usable(owner, pfn) && chance(20)) {
		/* An altmap pfn: memory, but no ZONE_DEVICE page. */
		call(F_free_zone_device_page);
		free_zone_device_page(page);
		BAD();
		CHECK(owner->frees == owner->want_frees);
	}
}

/* Every call that takes a page, folio, ref or completion, with NULL. */
void op_null(void)
{
	struct vmem_altmap a = { .base_pfn = 0 };

	switch (below(40)) {
#define NULL_CASE(n, f, expr, safe)					\
	case n:								\
		note("%s(NULL)", #f);					\
		EXPECT_CALL(f, (expr) == (safe), BAD);			\
		break
#define NULL_VOID(n, f, stmt)						\
	case n:								\
		note("%s(NULL)", #f);					\
		call(F_##f);						\
		stmt;							\
		BAD();							\
		break
	NULL_CASE(0, page_to_pfn, page_to_pfn(NULL), -1UL);
	NULL_CASE(1, page_folio, page_folio(NULL), NULL);
	NULL_CASE(2, compound_head, compound_head(NULL), NULL);
	NULL_CASE(3, folio_page, folio_page(NULL, below(3)), NULL);
	NULL_CASE(4, folio_next, folio_next(NULL), NULL);
	NULL_CASE(5, folio_order, folio_order(NULL), 0U);
	NULL_CASE(6, folio_nr_pages, folio_nr_pages(NULL), 0L);
	NULL_CASE(7, folio_pfn, folio_pfn(NULL), -1UL);
	NULL_CASE(8, folio_ref_count, folio_ref_count(NULL), 0);
	NULL_CASE(9, page_ref_count, page_ref_count(NULL), 0);
	NULL_CASE(10, folio_ref_inc_return, folio_ref_inc_return(NULL), 0);
	NULL_VOID(11, folio_ref_inc, folio_ref_inc(NULL));
	NULL_CASE(12, is_zone_device_page, is_zone_device_page(NULL), false);
	NULL_CASE(13, folio_is_zone_device, folio_is_zone_device(NULL), false);
	NULL_CASE(14, folio_pgmap, folio_pgmap(NULL), NULL);
	NULL_CASE(15, PageHead, PageHead(NULL), false);
	NULL_CASE(16, PageTail, PageTail(NULL), false);
	NULL_CASE(17, PageLocked, PageLocked(NULL), false);
	NULL_VOID(18, lock_page, lock_page(NULL));
	NULL_VOID(19, unlock_page, unlock_page(NULL));
	NULL_CASE(20, trylock_page, trylock_page(NULL), false);
	NULL_VOID(21, folio_lock, folio_lock(NULL));
	NULL_VOID(22, folio_unlock, folio_unlock(NULL));
	NULL_CASE(23, folio_trylock, folio_trylock(NULL), false);
	NULL_CASE(24, folio_test_locked, folio_test_locked(NULL), false);
	NULL_VOID(25, free_zone_device_page, free_zone_device_page(NULL));
	NULL_CASE(26, is_device_private_page, is_device_private_page(NULL),
		  false);
	NULL_CASE(27, is_device_coherent_page, is_device_coherent_page(NULL),
		  false);
	NULL_CASE(28, is_pci_p2pdma_page, is_pci_p2pdma_page(NULL), false);
	NULL_CASE(29, percpu_ref_init,
		  percpu_ref_init(NULL, NULL, 0, GFP_KERNEL), -EINVAL);
	NULL_CASE(30, percpu_ref_is_dying, percpu_ref_is_dying(NULL), false);
	NULL_VOID(31, init_completion, init_completion(NULL));
	NULL_VOID(32, complete, complete(NULL));
	NULL_CASE(33, try_wait_for_completion, try_wait_for_completion(NULL),
		  false);
	NULL_CASE(34, wait_for_completion_timeout,
		  wait_for_completion_timeout(NULL, 1), 0UL);
	NULL_VOID(35, complete_all, complete_all(NULL));
	NULL_CASE(36, completion_done, completion_done(NULL), false);
	NULL_VOID(37, reinit_completion, reinit_completion(NULL));
	NULL_VOID(38, wait_for_completion, wait_for_completion(NULL));
	default:
		/* NULL altmaps are fine: no reservation, nothing to free. */
		note("vmem_altmap_*(NULL)");
		call(F_vmem_altmap_offset);
		CHECK(vmem_altmap_offset(NULL) == 0);
		VALID();
		call(F_vmem_altmap_free);
		vmem_altmap_free(NULL, below(8));
		VALID();
		a.reserve = below(1000);
		a.free = below(1000);
		a.alloc = 64;
		call(F_vmem_altmap_offset);
		CHECK(vmem_altmap_offset(&a) == a.reserve + a.free);
		VALID();
		call(F_vmem_altmap_free);
		vmem_altmap_free(&a, 16);
		CHECK(a.alloc == 48);
		VALID();
		break;
#undef NULL_CASE
#undef NULL_VOID
	}
}

void op_lock(void)
{
	struct held *h = random_held();
	struct page *page;
	bool got;

	if (!h)
		return;
	page = chance(30) ? tail_of(h) : &h->folio->page;
	note("lock op on held pfn %#lx (locked %d)", h->pfn, h->locked);
	switch (below(8)) {
	case 0:
		call(F_trylock_page);
		got = trylock_page(page);
		CHECK(got == !h->locked);
		VALID();
		h->locked = true;
		break;
	case 1:
		call(F_folio_trylock);
		got = folio_trylock(h->folio);
		CHECK(got == !h->locked);
		VALID();
		h->locked = true;
		break;
	case 2:
	case 3:
		if (h->locked && !deadlocks_left)
			return;
		call(chance(50) ? F_lock_page : F_folio_lock);
		if (cur == F_lock_page)
			lock_page(page);
		else
			folio_lock(h->folio);
		if (h->locked) {
			/* Locked by us already: gives up after the bound. */
			BAD();
			deadlocks_left--;
			fig.waits++;
		} else {
			VALID();
			h->locked = true;
		}
		break;
	case 4:
	case 5:
		call(chance(50) ? F_unlock_page : F_folio_unlock);
		if (cur == F_unlock_page)
			unlock_page(page);
		else
			folio_unlock(h->folio);
		VALID_IF(h->locked);
		h->locked = false;
		break;
	case 6:
		call(F_PageLocked);
		CHECK(PageLocked(page) == h->locked);
		VALID();
		break;
	default:
		call(F_folio_test_locked);
		CHECK(folio_test_locked(h->folio) == h->locked);
		VALID();
	}
	check_held(h);
}

/*
 * A struct page * kept past its pgmap's memunmap_pages() (repro 8): taken
 * from a live pgmap, then used once that pgmap is gone or mapped anew. It
 * reads a page of no pgmap (never another pgmap's page, even after new
 * pgmaps were mapped), and a put through it WARNs and changes nothing.
 */
void op_stale(void)
{
	struct pg *pg, *owner;
	struct stale *st;
	struct page *page;
	unsigned long pfn;
	int slot;

	if (chance(50)) {
		pg = random_in(PG_LIVE);
		if (!pg)
			return;
		pfn = pfn_within(&pg->spans[below(pg->nr)]);
		if (!pg_usable(pg, pfn))
			return;
		pfn = pg_head(pg, pfn);
		slot = nstale < NSTALE ? nstale++ : (int)below(NSTALE);
		note("keep the page of pfn %#lx (pg%d) for later", pfn,
		     pg_index(pg));
		call(F_pfn_to_page);
		page = pfn_to_page(pfn);
		CHECK(page != memremap_poison_page());
		VALID();
		stale[slot] = (struct stale){ pg, pg->gen, pfn, fig.maps_ok,
					      page };
		return;
	}
	if (!nstale)
		return;
	st = &stale[below(nstale)];
	if (registered(st->pg) && st->pg->gen == st->gen)
		return;		/* not stale yet */
	page = st->page;
	owner = owner_of(st->pfn);
	if (owner == st->pg && pfn_to_page(st->pfn) == page) {
		/*
		 * The same struct dev_pagemap maps the same pfns again: the
		 * chunk kept for that identity names the same struct page,
		 * as the kernel's vmemmap does (docs/DESIGN.md §7). Only
		 * another pgmap's page is what a stale pointer must never
		 * read as.
		 */
		note("stale page of pfn %#lx (pg%d): its identity is back",
		     st->pfn, pg_index(st->pg));
		return;
	}
	note("stale page of pfn %#lx (pg%d, unmapped)", st->pfn,
	     pg_index(st->pg));
	fig.repro[8] += fig.maps_ok > st->maps;
	EXPECT_CALL(folio_pgmap, folio_pgmap((struct folio *)page) == NULL,
		    VALID);
	EXPECT_CALL(is_zone_device_page, !is_zone_device_page(page), VALID);
	EXPECT_CALL(page_ref_count, page_ref_count(page) == 0, VALID);
	if (owner)
		CHECK(pfn_to_page(st->pfn) != page);
	call(chance(50) ? F_folio_put : F_put_page);
	if (cur == F_folio_put)
		folio_put((struct folio *)page);
	else
		put_page(page);
	BAD();
	CHECK(page_ref_count(page) == 0);
	if (owner)
		check_pg(owner);
}
