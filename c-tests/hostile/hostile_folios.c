// SPDX-License-Identifier: GPL-2.0-only
/*
 * Hostile operations on folios: pgmap_request_folio() (with injected
 * tryget failures), puts and gets of held, idle, NULL and poison pages,
 * and the pre-patch pgmap_request_folios()/pgmap_release_folios() pair.
 */
#include "hostile.h"

/* ---- requests and puts ---- */

void op_request(void)
{
	struct target t = pick_target();
	struct pg *pg = t.pg;
	unsigned long off = pick_offset(pg), pfn = -1UL;
	int order = pick_order(pg);
	bool valid = false, inject;
	struct held *h = NULL;
	struct folio *f, *want;

	if (registered(pg)) {
		pfn = pg_off_to_pfn(pg, off);
		valid = pg->state == PG_LIVE && pfn != -1UL &&
			pg_usable(pg, pfn) && pg_head(pg, pfn) == pfn &&
			order == (int)pg->shift;
		h = valid ? find_held(pfn) : NULL;
	}
	if (valid && !h && nheld == MAXHELD)
		return;
	want = valid ? page_folio(pfn_to_page(pfn)) : NULL;
	inject = valid && chance(5);
	note("pgmap_request_folio(pg%d %s, %#lx, %d) pfn %#lx: %s%s",
	     pg_index(pg), tname(&t), off, order, pfn,
	     valid ? "valid" : "bad", inject ? " (tryget fails)" : "");
	if (inject)
		memremap_percpu_tryget_fail_nth(1);
	call(F_pgmap_request_folio);
	f = pgmap_request_folio(t.p, off, order);
	memremap_fail_none();
	if (!valid) {
		CHECK(f == NULL);
		BAD();
	} else if (inject && !h) {
		CHECK(f == NULL);
		BAD();
		fig.tryget_injected++;
	} else {
		VALID();
		CHECK(f == want);
		take_ref(pg, pfn, f);
		if (!h && chance(50)) {
			/* What callers do with a fresh folio. */
			f->page.zone_device_data = &owner_cookie;
			f->mapping = (void *)0x1d0;
		}
		check_held(find_held(pfn));
	}
	if (pg)
		check_pg(pg);
}

/*
 * A put (@put) or a get of @page, which no one holds (idle, NULL, the
 * poison page), through the folio or the page call: it WARNs and changes
 * nothing. Only its pgmap may bring a ZONE_DEVICE folio to life.
 */
static void unheld_put_or_get(struct page *page, struct pg *owner, bool put)
{
	struct folio *folio = (struct folio *)page;

	if (chance(50)) {
		call(put ? F_folio_put : F_folio_get);
		if (put)
			folio_put(folio);
		else
			folio_get(folio);
	} else {
		call(put ? F_put_page : F_get_page);
		if (put)
			put_page(page);
		else
			get_page(page);
	}
	BAD();
	if (page)
		CHECK(page_ref_count(page) == 0);
	if (owner)
		check_pg(owner);
}

void op_put(void)
{
	struct held *h = random_held();
	struct pg *owner = NULL;
	struct page *page;
	unsigned long r = below(100), pfn;
	bool last;

	if (h && r < 70) {
		struct pg *pg = h->pg;

		if (h->refs == 1 && h->locked) {
			call(F_unlock_page);
			unlock_page(&h->folio->page);
			VALID();
			h->locked = false;
		}
		page = chance(30) ? tail_of(h) : &h->folio->page;
		note("put of held pfn %#lx (pg%d, refs %d) via %s", h->pfn,
		     pg_index(pg), h->refs,
		     page == &h->folio->page ? "head" : "tail");
		last = h->refs == 1;
		pfn = h->pfn;
		last_free_pfn = -1UL;
		if (page == &h->folio->page && chance(50)) {
			call(F_folio_put);
			folio_put(h->folio);
		} else {
			call(F_put_page);
			put_page(page);
		}
		VALID();
		drop_ref(h);
		if (last && pg->page_free)
			CHECK(last_free_pfn == pfn);
		if (!last)
			check_held(h);
		check_pg(pg);
		return;
	}
	if (h && r < 74) {
		/* Not freed while in use: nothing changes. */
		page = chance(30) ? tail_of(h) : &h->folio->page;
		note("free_zone_device_page(held pfn %#lx, refs %d)", h->pfn,
		     h->refs);
		call(F_free_zone_device_page);
		free_zone_device_page(page);
		BAD();
		fig.repro[4]++;
		check_held(h);
		check_pg(h->pg);
		return;
	}
	if (h && r < 78 && h->pg->shift) {
		/* folio_put() of a tail page changes nothing. */
		page = tail_of(h);
		note("folio_put(tail of held pfn %#lx)", h->pfn);
		call(F_folio_put);
		folio_put((struct folio *)page);
		BAD();
		check_held(h);
		return;
	}
	if (r < 94) {
		page = idle_page(&owner, chance(80));
		if (!page)
			return;
		note("put of idle pfn %#lx (pg%d)", page_to_pfn(page),
		     pg_index(owner));
	} else if (r < 97) {
		page = NULL;
		note("put of NULL");
	} else {
		page = memremap_poison_page();
		note("put of the poison page");
	}
	unheld_put_or_get(page, owner, true);
}

void op_get(void)
{
	struct held *h = random_held();
	struct pg *owner = NULL;
	struct page *page;
	int v;

	if (h && chance(75)) {
		page = chance(30) ? tail_of(h) : &h->folio->page;
		note("get of held pfn %#lx (refs %d)", h->pfn, h->refs);
		switch (below(4)) {
		case 0:
			call(F_folio_get);
			folio_get(h->folio);
			break;
		case 1:
			call(F_get_page);
			get_page(page);
			break;
		case 2:
			call(F_folio_ref_inc);
			folio_ref_inc(h->folio);
			break;
		default:
			call(F_folio_ref_inc_return);
			v = folio_ref_inc_return(h->folio);
			CHECK(v == h->refs + 1);
		}
		VALID();
		h->refs++;
		check_held(h);
		check_pg(h->pg);
		return;
	}
	switch (below(4)) {
	case 0:
		page = NULL;
		note("get of NULL");
		break;
	case 1:
		page = memremap_poison_page();
		note("get of the poison page");
		break;
	default:
		page = idle_page(&owner, true);
		if (!page)
			return;
		note("get of idle pfn %#lx", page_to_pfn(page));
	}
	unheld_put_or_get(page, owner, false);
}

/* The pre-patch pair, doing what it was meant to do. */
void op_request_folios(void)
{
	struct target t = pick_target();
	struct pg *pg = t.pg, *other;
	unsigned long pfn = -1UL, step = 1;
	struct folio *folio = NULL;
	int nr = 1 + below(8), i, nidle = 0, fail_at_n = 0;
	bool valid = false, ok;
	const struct span *s;

	if (registered(pg)) {
		s = &pg->spans[below(pg->nr)];
		step = 1UL << pg->shift;
		pfn = pfn_within(s);
		if (pg_usable(pg, pfn))
			pfn = pg_head(pg, pfn);
		switch (below(12)) {
		case 0:
			nr = chance(50) ? 0 : (chance(50) ? -1 : INT_MIN);
			break;
		case 1:
			pfn = pg_usable(pg, s->end) ? pg_head(pg, s->end) :
						      s->end;
			nr = 2 + below(3);	/* past the range's end */
			break;
		case 2:
			pfn = pfn + 1;	/* a tail, or the next one */
			break;
		default:
			if (pg_usable(pg, pfn) &&
			    (s->end - pfn + 1) / step < (unsigned long)nr)
				nr = (s->end - pfn + 1) / step;
		}
		/*
		 * Every folio of the span a head of this pgmap: the span may
		 * run from one range into a pfn-adjacent one of the pgmap.
		 */
		valid = pg->state == PG_LIVE && nr > 0;
		for (i = 0; valid && i < nr; i++) {
			unsigned long q = pfn + i * step;

			valid = pg_usable(pg, q) && pg_head(pg, q) == q;
		}
		if (valid) {
			for (i = 0; i < nr; i++)
				nidle += !find_held(pfn + i * step);
			if (nheld + nidle > MAXHELD)
				return;
		}
		if (s->start <= pfn && pfn <= s->end)
			folio = (struct folio *)pfn_to_page(pfn);
	}
	if (!folio) {
		switch (below(3)) {
		case 0:
			folio = NULL;
			break;
		case 1:
			folio = (struct folio *)memremap_poison_page();
			break;
		default:
			other = random_registered();
			if (other && other != pg)
				folio = page_folio(pfn_to_page(
					pfn_within(&other->spans[0])));
		}
		valid = false;
	}
	if (valid && nidle && chance(15)) {
		fail_at_n = 1 + below(nr);
		memremap_percpu_tryget_fail_nth(fail_at_n);
	}
	note("pgmap_request_folios(pg%d %s, pfn %#lx, %d): %s, tryget %d fails",
	     pg_index(pg), tname(&t), folio ? pfn : 0, nr,
	     valid ? "valid" : "bad", fail_at_n);
	call(F_pgmap_request_folios);
	ok = pgmap_request_folios(t.p, folio, nr);
	memremap_fail_none();
	if (!valid) {
		CHECK(!ok);
		BAD();
	} else if (fail_at_n && fail_at_n <= nidle) {
		/* The idle folios before the failing one were undone. */
		CHECK(!ok);
		BAD();
		fig.tryget_injected++;
		if (pg->page_free)
			pg->want_frees += fail_at_n - 1;
	} else {
		CHECK(ok);
		VALID();
		fig.cross_spans += pg_span(pg, pfn) !=
				   pg_span(pg, pfn + (nr - 1) * step);
		for (i = 0; i < nr; i++)
			take_ref(pg, pfn + i * step,
				 page_folio(pfn_to_page(pfn + i * step)));
	}
	if (pg)
		check_pg(pg);
}

void op_release_folios(void)
{
	struct held *h = random_held();
	unsigned long step, pfn;
	struct pg *owner = NULL;
	struct page *page;
	int nr, i;

	if (h && chance(70)) {
		step = 1UL << h->pg->shift;
		for (nr = 1; nr < 8; nr++) {
			struct held *n = find_held(h->pfn + nr * step);

			if (!n || n->pg != h->pg ||
			    pg_span(h->pg, h->pfn) != pg_span(h->pg, n->pfn))
				break;
		}
		nr = 1 + below(nr);
		pfn = h->pfn;
		for (i = 0; i < nr; i++) {
			struct held *n = find_held(pfn + i * step);

			if (n->refs == 1 && n->locked) {
				call(F_unlock_page);
				unlock_page(&n->folio->page);
				VALID();
				n->locked = false;
			}
		}
		note("pgmap_release_folios(held pfn %#lx, %d)", pfn, nr);
		call(F_pgmap_release_folios);
		pgmap_release_folios(h->folio, nr);
		VALID();
		for (i = 0; i < nr; i++)
			drop_ref(find_held(pfn + i * step));
		return;
	}
	switch (below(4)) {
	case 0:
		note("pgmap_release_folios(NULL)");
		call(F_pgmap_release_folios);
		pgmap_release_folios(NULL, 1 + below(3));
		BAD();
		return;
	case 1:
		note("pgmap_release_folios(poison)");
		call(F_pgmap_release_folios);
		pgmap_release_folios((struct folio *)memremap_poison_page(),
				     1 + below(3));
		BAD();
		return;
	}
	page = idle_page(&owner, true);
	if (!page || !pg_usable(owner, page_to_pfn(page)))
		return;
	pfn = page_to_pfn(page);
	step = 1UL << owner->shift;
	nr = 1 + below(3);
	for (i = 0; i < nr; i++)
		if (!pg_usable(owner, pfn + i * step) ||
		    pg_span(owner, pfn + i * step) != pg_span(owner, pfn) ||
		    find_held(pfn + i * step))
			return;
	note("pgmap_release_folios(idle pfn %#lx, %d)", pfn, nr);
	call(F_pgmap_release_folios);
	pgmap_release_folios((struct folio *)page, nr);
	/* Each idle folio WARNs, and stays idle. */
	BAD_N(nr);
	for (i = 0; i < nr; i++)
		CHECK(page_ref_count(pfn_to_page(pfn + i * step)) == 0);
	check_pg(owner);
}
