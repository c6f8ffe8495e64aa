// SPDX-License-Identifier: GPL-2.0-only
/*
 * The hostile campaign's model: what is alive (pgmaps, folio references,
 * pins, page_free calls, percpu_refs, completions, allocations), what the
 * library should answer to memremap_pages() and memunmap_pages(), and the
 * sweep that checks the model against the library between steps.
 */
#include "hostile.h"

struct pg pool[NPG];
struct held held[MAXHELD];
int nheld;
struct devres devres[NDEVRES];
int ndevres;
struct device devs[NDEV];
struct device stranger = { .init_name = "stranger" };
struct sref srefs[NSREF];
struct completion comps[NCOMP];
unsigned int comp_done[NCOMP];
struct alloc allocs[NALLOC];
int nalloc;
unsigned long kmalloc_base;
struct pgmap_mem scratch;
int owner_cookie;
unsigned long last_free_pfn;
unsigned long deadlocks_left = 20, waits_left = 20;
int max_abandon = MAX_ABANDON;
struct stale stale[NSTALE];
int nstale;
static unsigned long bogus_frees, dirty_frees;

/* ---- the driver's callbacks ---- */

struct pg *pg_of_map(const struct dev_pagemap *map)
{
	int i;

	for (i = 0; i < NPG; i++)
		if (pool[i].map == map)
			return &pool[i];
	return NULL;
}

static void count_free(struct page *page)
{
	struct pg *pg = pg_of_map(page->pgmap);

	if (!pg) {
		bogus_frees++;
		return;
	}
	pg->frees++;
	fig.frees++;
	if (page->mapping || page_ref_count(page) != 0)
		dirty_frees++;
	last_free_pfn = page_to_pfn(page);
}

void count_release(struct percpu_ref *ref)
{
	int i;

	for (i = 0; i < NSREF; i++)
		if (srefs[i].r == ref)
			srefs[i].releases++;
}

static vm_fault_t no_migrate(struct vm_fault *vmf)
{
	(void)vmf;
	return VM_FAULT_SIGBUS;
}

const struct dev_pagemap_ops full_ops = {
	.page_free = count_free,
	.migrate_to_ram = no_migrate,
};

const struct dev_pagemap_ops free_only_ops = {
	.page_free = count_free,
};

const struct dev_pagemap_ops migrate_only_ops = {
	.migrate_to_ram = no_migrate,
};

/* ---- what is alive ---- */

bool registered(const struct pg *pg)
{
	return pg && (pg->state == PG_LIVE || pg->state == PG_KILLED ||
		      pg->state == PG_ABANDONED);
}

long pg_refs(const struct pg *pg)
{
	return pg->folios + pg->devpins + pg->extra;
}

int nregistered(void)
{
	int i, n = 0;

	for (i = 0; i < NPG; i++)
		n += registered(&pool[i]);
	return n;
}

int nabandoned(void)
{
	int i, n = 0;

	for (i = 0; i < NPG; i++)
		n += pool[i].state == PG_ABANDONED;
	return n;
}

bool in_devres(const struct pg *pg)
{
	int i;

	for (i = 0; i < ndevres; i++)
		if (devres[i].pg == pg)
			return true;
	return false;
}

const struct span *pg_span(const struct pg *pg, unsigned long pfn)
{
	int i;

	for (i = 0; i < pg->nr; i++)
		if (pfn >= pg->spans[i].start && pfn <= pg->spans[i].end)
			return &pg->spans[i];
	return NULL;
}

unsigned long pg_off_to_pfn(const struct pg *pg, unsigned long off)
{
	int i;

	for (i = 0; i < pg->nr; i++) {
		const struct span *s = &pg->spans[i];

		if (off >= s->off && off - s->off <= s->end - s->start)
			return s->start + (off - s->off);
	}
	return -1UL;
}

unsigned long pg_pfn_to_off(const struct pg *pg, unsigned long pfn)
{
	const struct span *s = pg_span(pg, pfn);

	return s ? s->off + (pfn - s->start) : -1UL;
}

bool pg_usable(const struct pg *pg, unsigned long pfn)
{
	const struct span *s = pg_span(pg, pfn);

	return s && pfn >= s->first;
}

unsigned long pg_head(const struct pg *pg, unsigned long pfn)
{
	const struct span *s = pg_span(pg, pfn);

	return s->first + (((pfn - s->first) >> pg->shift) << pg->shift);
}

struct pg *owner_of(unsigned long pfn)
{
	int i;

	for (i = 0; i < NPG; i++)
		if (registered(&pool[i]) && pg_span(&pool[i], pfn))
			return &pool[i];
	return NULL;
}

struct held *find_held(unsigned long pfn)
{
	int i;

	for (i = 0; i < nheld; i++)
		if (held[i].pfn == pfn)
			return &held[i];
	return NULL;
}

/* One more reference on the folio at head @pfn of @pg. */
void take_ref(struct pg *pg, unsigned long pfn, struct folio *folio)
{
	struct held *h = find_held(pfn);

	if (h) {
		h->refs++;
		return;
	}
	h = &held[nheld++];
	*h = (struct held){ pg, pfn, folio, 1, false };
	pg->folios++;
	fig.activations++;
}

/* One reference fewer; the last one frees the folio to its pgmap. */
void drop_ref(struct held *h)
{
	struct pg *pg = h->pg;

	if (--h->refs)
		return;
	pg->folios--;
	if (pg->page_free)
		pg->want_frees++;
	if (pg->state == PG_ABANDONED)
		fig.late_puts++;
	*h = held[--nheld];
}

/* A standalone ref reached zero after its kill: its release runs once. */
void sref_released(struct sref *s)
{
	if (s->state == SR_DYING && !s->held && !s->released) {
		s->released = true;
		if (s->has_release)
			s->want_releases++;
	}
}

/* ---- what memremap_pages() and memunmap_pages() should answer ---- */

static bool overlaps(const struct pg *self, unsigned long s, unsigned long e)
{
	int i, j;

	for (i = 0; i < NPG; i++) {
		const struct pg *pg = &pool[i];

		if (pg == self || !registered(pg))
			continue;
		for (j = 0; j < pg->nr; j++)
			if (pg->spans[j].start <= e && s <= pg->spans[j].end)
				return true;
	}
	return false;
}

/*
 * What memremap_pages() answers for @pg as it stands (docs/DESIGN.md §2
 * and the README): the errno, the WARNs, and on success the spans in
 * @spans.
 */
long predict_map(struct pg *pg, int *warns, struct span *spans)
{
	struct dev_pagemap *m = pg ? pg->map : NULL;
	const struct dev_pagemap_ops *ops;
	unsigned long off = 0, folio;
	bool altmap;
	int i, j, nr, w = 0;

	*warns = 1;
	if (!m)
		return -EINVAL;
	if (registered(pg))
		return -EBUSY;
	nr = m->nr_range;
	if (nr <= 0)
		return -EINVAL;
	ops = m->ops;
	switch (m->type) {
	case MEMORY_DEVICE_PRIVATE:
		if (!ops || !ops->migrate_to_ram || !ops->page_free ||
		    !m->owner)
			return -EINVAL;
		break;
	case MEMORY_DEVICE_COHERENT:
		if (!ops || !ops->page_free || !m->owner)
			return -EINVAL;
		break;
	case MEMORY_DEVICE_FS_DAX:
	case MEMORY_DEVICE_GENERIC:
	case MEMORY_DEVICE_PCI_P2PDMA:
		break;
	default:
		w = 1;		/* an unknown type WARNs, but maps */
	}
	*warns = w + 1;
	altmap = m->flags & PGMAP_ALTMAP_VALID;
	if ((altmap && nr > 1) || m->vmemmap_shift > 30)
		return -EINVAL;
	folio = 1UL << m->vmemmap_shift;
	for (i = 0; i < nr; i++) {
		struct range r = m->ranges[i];
		unsigned long len = r.end - r.start + 1, spfn, epfn, first;
		unsigned long reserved = 0;

		if (r.end < r.start || len == 0) {
			*warns = w;	/* refused without a WARN */
			return -EINVAL;
		}
		if (r.start % SZ_2M || len % SZ_2M)
			return -EINVAL;
		if (r.end >> 52)
			return -E2BIG;
		spfn = r.start >> PAGE_SHIFT;
		epfn = r.end >> PAGE_SHIFT;
		if (i == 0 && altmap)
			reserved = m->altmap.reserve + m->altmap.free;
		if (reserved > epfn - spfn + 1)
			return -EINVAL;
		first = spfn + reserved;
		if (first % folio || (epfn + 1 - first) % folio)
			return -EINVAL;
		if (overlaps(pg, spfn, epfn))
			return -ENOMEM;
		for (j = 0; j < i; j++)
			if (spans[j].start <= epfn && spfn <= spans[j].end)
				return -ENOMEM;
		spans[i] = (struct span){ spfn, epfn, first, off };
		off += epfn - spfn + 1;
	}
	*warns = w;
	return 0;
}

void adopt(struct pg *pg, const struct span *spans)
{
	struct dev_pagemap *m = pg->map;
	int i;

	pg->state = PG_LIVE;
	pg->nr = m->nr_range;
	pg->total = 0;
	for (i = 0; i < pg->nr; i++) {
		pg->spans[i] = spans[i];
		pg->total += spans[i].end - spans[i].start + 1;
	}
	pg->shift = m->vmemmap_shift;
	pg->type = m->type;
	pg->page_free = m->ops && m->ops->page_free;
	pg->devpins = pg->extra = pg->folios = 0;
	pg->gen++;
	pg->stray = false;
}

/*
 * The model's side of memunmap_pages(@pg): clean when nothing is held,
 * a give-up (abandoned) otherwise; the WARNs it costs.
 */
int unmap_effect(struct pg *pg)
{
	if (!registered(pg) || pg->state == PG_ABANDONED)
		return 1;
	if (pg_refs(pg)) {
		/* A stray complete() did not end the wait (repro 6). */
		fig.repro[6] += pg->stray;
		pg->state = PG_ABANDONED;
		fig.abandoned++;
		fig.waits++;
		return 1;
	}
	pg->state = PG_UNMAPPED;
	fig.clean_unmaps++;
	return 0;
}

/* ---- checks of the model against the library ---- */

void check_pg(struct pg *pg)
{
	bool reg = registered(pg);

	CHECK(memremap_pgmap_is_mapped(pg->map) == reg);
	CHECK(pg->frees == pg->want_frees);
	if (!reg)
		return;
	CHECK(memremap_pgmap_pins(pg->map) == pg_refs(pg));
	CHECK(memremap_pgmap_is_abandoned(pg->map) ==
	      (pg->state == PG_ABANDONED));
}

void check_held(struct held *h)
{
	CHECK(folio_ref_count(h->folio) == h->refs);
	CHECK(folio_test_locked(h->folio) == h->locked);
}

void check_sref(struct sref *s)
{
	long want;

	CHECK(s->releases == s->want_releases);
	if (s->state == SR_UNINIT)
		return;
	want = s->held + (s->state == SR_ALIVE);
	CHECK(memremap_percpu_ref_count(s->r) == want);
}

void sweep(void)
{
	unsigned long ledger;
	int i;

	fig.sweeps++;
	for (i = 0; i < NPG && !failed; i++) {
		struct pg *pg = &pool[i];

		check_pg(pg);
		if (registered(pg) && !failed) {
			CHECK(memremap_pgmap_busy_pages(pg->map) ==
			      (unsigned long)pg->folios);
			CHECK(percpu_ref_is_dying(&pg->map->ref) ==
			      (pg->state != PG_LIVE));
		}
	}
	for (i = 0; i < nheld && !failed; i++)
		check_held(&held[i]);
	for (i = 0; i < NSREF && !failed; i++)
		check_sref(&srefs[i]);
	if (failed)
		return;
	CHECK(memremap_mapped_pgmaps() == (unsigned long)nregistered());
	CHECK(memremap_kmalloc_live() == kmalloc_base + nalloc);
	ledger = memremap_ledger_count();
	CHECK(ledger == (unsigned long)(nregistered() + nheld) +
			memremap_kmalloc_live());
	CHECK(bogus_frees == 0 && dirty_frees == 0);
	CHECK(page_ref_count(memremap_poison_page()) == 0);
	CHECK(!PageLocked(memremap_poison_page()));
}
