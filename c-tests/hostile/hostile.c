// SPDX-License-Identifier: GPL-2.0-only
/* A hostile-input campaign: seeded random calls over the whole C API. */
/*
 * Each step picks an exported function and arguments drawn from valid,
 * boundary and bad values (NULL, never-mapped, garbage-filled, copied,
 * unmapped and abandoned pgmaps, puts of idle folios, bad orders, offsets
 * and pfns, misaligned, overlapping, empty and inverted ranges, every
 * memory type with and without ops and owner, compound pgmaps, altmaps,
 * injected allocation and tryget failures). A model of what is alive
 * (pgmaps, folio references, pins, page_free calls, percpu_refs,
 * completions, allocations) predicts each answer:
 *
 * - a valid call must succeed, with no WARN;
 * - a bad call must WARN (exactly once, WARN_ON_ONCE sites re-armed
 *   before every call) and return the safe value: NULL, -1, false,
 *   ERR_PTR(-errno), the poison page, or change nothing;
 * - a call the kernel refuses without a WARN (an empty range, a pfn of no
 *   pgmap for get_dev_pagemap()) must be refused the same way.
 *
 * Between steps the model is checked against the library: refcounts,
 * pins, busy pages, mapped pgmaps, page_free calls, live allocations and
 * the ledger. At the end everything owned is released: no allocation may
 * leak, and the ledger may hold only the pgmaps deliberately abandoned.
 *
 *	hostile [SEED [COUNT]]		(or HOSTILE_SEED, HOSTILE_COUNT)
 *	HOSTILE_TRACE=1 prints every step.
 *
 * A failure prints the seed, the step and the steps before it: run the
 * same seed with COUNT = step + 1 to replay it.
 */
#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/percpu-refcount.h>
#include <linux/completion.h>
#include <linux/slab.h>
#include <linux/err.h>
#include <linux/device.h>
#include <linux/bug.h>
#include <memremap/test.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include "ktap.h"

#define SZ_2M		(2UL << 20)
#define SUB_PFNS	(SZ_2M >> PAGE_SHIFT)
#define TOP_PFN		(1UL << (52 - PAGE_SHIFT))
#define NPG		24	/* pgmaps in the pool */
#define MAX_ABANDON	10	/* memunmap_pages() give-ups allowed */
#define MAXR		4	/* ranges per pgmap */
#define MAXHELD		256	/* folios referenced at once */
#define NALLOC		64	/* kmalloc()s alive at once */
#define NSREF		6	/* standalone percpu_refs */
#define NCOMP		2	/* completions */
#define NDEV		3	/* devices for devm_memremap_pages() */
#define NDEVRES		(NPG * 2)
#define UNI_BASE	(64UL << 30)	/* the pfn universe: 64 GiB ... */
#define UNI_SUBS	96UL		/* ... and 96 subsections on */
#define WAIT_MS		5
#define DEFAULT_SEED	0x6d656d72656d6170UL	/* "memremap" */
#define DEFAULT_COUNT	200000UL

/* ---- seeded randomness ---- */

static u64 rng_state;

static u64 rnd(void)
{
	u64 z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned long below(unsigned long n)
{
	return n ? rnd() % n : 0;
}

static bool chance(unsigned int pct)
{
	return below(100) < pct;
}

static void fill_garbage(void *p, size_t n)
{
	unsigned char *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		b[i] = rnd();
}

/* ---- what was tried, and how it was answered ---- */

#define FUNCS(X)							\
	X(memremap_pages, 1) X(memunmap_pages, 1)			\
	X(devm_memremap_pages, 1) X(devm_memunmap_pages, 1)		\
	X(devres_release_all, 0) X(get_dev_pagemap, 1)			\
	X(put_dev_pagemap, 1) X(pgmap_request_folio, 1)			\
	X(pgmap_request_folios, 1) X(pgmap_release_folios, 1)		\
	X(pfn_to_pgmap_offset, 1) X(pgmap_offset_to_pfn, 1)		\
	X(pgmap_pfn_valid, 1) X(vmem_altmap_offset, 0)			\
	X(vmem_altmap_free, 0) X(memremap_compat_align, 0)		\
	X(free_zone_device_page, 1) X(is_device_private_page, 1)	\
	X(is_device_coherent_page, 1) X(is_pci_p2pdma_page, 1)		\
	X(pfn_to_page, 1) X(page_to_pfn, 1) X(page_folio, 1)		\
	X(compound_head, 1) X(folio_page, 1) X(folio_next, 1)		\
	X(folio_order, 1) X(folio_nr_pages, 1) X(folio_pfn, 1)		\
	X(folio_ref_count, 1) X(page_ref_count, 1)			\
	X(folio_ref_inc_return, 1) X(folio_ref_inc, 1) X(folio_get, 1)	\
	X(folio_put, 1) X(get_page, 1) X(put_page, 1)			\
	X(is_zone_device_page, 1) X(folio_is_zone_device, 1)		\
	X(folio_pgmap, 1) X(PageHead, 1) X(PageTail, 1)			\
	X(PageLocked, 1) X(lock_page, 1) X(unlock_page, 1)		\
	X(trylock_page, 1) X(folio_lock, 1) X(folio_unlock, 1)		\
	X(folio_trylock, 1) X(folio_test_locked, 1)			\
	X(percpu_ref_init, 1) X(percpu_ref_exit, 1)			\
	X(percpu_ref_get_many, 1) X(percpu_ref_get, 1)			\
	X(percpu_ref_tryget_many, 1) X(percpu_ref_tryget, 1)		\
	X(percpu_ref_tryget_live, 1) X(percpu_ref_put_many, 1)		\
	X(percpu_ref_put, 1) X(percpu_ref_kill, 1)			\
	X(percpu_ref_is_dying, 1) X(percpu_ref_is_zero, 1)		\
	X(init_completion, 1) X(reinit_completion, 1) X(complete, 1)	\
	X(complete_all, 1) X(try_wait_for_completion, 1)		\
	X(completion_done, 1) X(wait_for_completion_timeout, 1)		\
	X(wait_for_completion, 1) X(kmalloc, 0) X(kfree, 1)		\
	X(WARN_ON, 0)

#define X_ENUM(name, bad) F_##name,
enum fn { FUNCS(X_ENUM) NFN };
#undef X_ENUM

#define X_NAME(name, bad) #name,
static const char *const fn_name[NFN] = { FUNCS(X_NAME) };
#undef X_NAME

#define X_BAD(name, bad) bad,
static const bool fn_has_bad[NFN] = { FUNCS(X_BAD) };
#undef X_BAD

struct fn_stats {
	unsigned long calls, valid, bad, quiet;
};

static struct fn_stats stats[NFN];

static struct {
	unsigned long steps;
	unsigned long maps_tried, maps_ok, clean_unmaps, abandoned;
	unsigned long activations, frees, late_puts;
	unsigned long kmalloc_injected, tryget_injected;
	unsigned long waits;	/* bounded waits that gave up */
	unsigned long sweeps;
	/* pgmaps mapped, by kind */
	unsigned long types[6], compound, big_folio, altmap, multi, huge;
	unsigned long devm, with_page_free;
	unsigned long cross_spans;	/* pre-patch spans over two ranges */
} fig;

/* ---- failure reporting: the seed, the step, the steps before ---- */

#define RING	16

static unsigned long seed, count;
static unsigned long step;
static bool failed;
static bool trace;
static char ring[RING][160];

static __printf(1, 2) void note(const char *fmt, ...)
{
	va_list ap;
	char *s = ring[step % RING];

	va_start(ap, fmt);
	vsnprintf(s, sizeof(ring[0]), fmt, ap);
	va_end(ap);
	if (trace)
		printf("    # step %lu: %s\n", step, s);
}

static void fail_at(int line, const char *what)
{
	unsigned long i, first;
	struct memremap_warn_record rec;

	if (failed)
		return;
	failed = true;
	KTAP_FAIL("step %lu (seed %#lx): line %d: %s", step, seed, line, what);
	if (memremap_warn_last(&rec))
		printf("    # last WARN: %s:%d %s: %.200s\n", rec.file,
		       rec.line, rec.function, rec.message);
	first = step >= RING - 1 ? step - (RING - 1) : 0;
	for (i = first; i <= step; i++)
		printf("    #   step %lu: %s\n", i, ring[i % RING]);
	printf("    # replay: hostile %#lx %lu\n", seed, step + 1);
}

#define CHECK(cond)							\
	do {								\
		if (!(cond)) {						\
			fail_at(__LINE__, #cond);			\
			return;						\
		}							\
	} while (0)

/* A WARN window around one call under test. */
static unsigned long warn0;
static enum fn cur;

static void call(enum fn f)
{
	cur = f;
	stats[f].calls++;
	memremap_warn_rearm();
	warn0 = memremap_warn_count();
}

static unsigned long warned(void)
{
	return memremap_warn_count() - warn0;
}

/* The call was valid: no WARN. */
#define VALID()								\
	do {								\
		CHECK(warned() == 0);					\
		stats[cur].valid++;					\
	} while (0)

/* The call was bad: exactly one WARN (its answer is checked by the op). */
#define BAD()								\
	do {								\
		CHECK(warned() == 1);					\
		stats[cur].bad++;					\
	} while (0)

/* A bad call answered with @n WARNs (one per bad item). */
#define BAD_N(n)							\
	do {								\
		CHECK(warned() == (unsigned long)(n) && (n) > 0);	\
		stats[cur].bad++;					\
	} while (0)

/* Refused without a WARN, as the kernel refuses it. */
#define QUIET()								\
	do {								\
		CHECK(warned() == 0);					\
		stats[cur].quiet++;					\
	} while (0)

/* ---- the model ---- */

enum pg_state { PG_FREE, PG_LIVE, PG_KILLED, PG_UNMAPPED, PG_ABANDONED };

struct span {
	unsigned long start, end, first, off;	/* pfns; offset of start */
};

struct pg {
	struct dev_pagemap *map;	/* malloc()ed for cap ranges */
	int cap;
	enum pg_state state;
	/* what memremap_pages() accepted */
	int nr;
	struct span spans[MAXR];
	unsigned long total;
	unsigned int shift, type;
	bool page_free;
	/* references this program holds */
	long devpins, extra, folios;
	unsigned long frees, want_frees;
};

struct held {
	struct pg *pg;
	unsigned long pfn;	/* head */
	struct folio *folio;
	int refs;
	bool locked;
};

struct devres {
	int dev;
	struct pg *pg;
};

enum sref_state { SR_UNINIT, SR_ALIVE, SR_DYING };

struct sref {
	struct percpu_ref *r;
	enum sref_state state;
	long held;
	bool has_release, released;
	unsigned long releases, want_releases;
};

struct alloc {
	unsigned char *p;
	size_t size;
};

/* A pgmap with room for MAXR ranges, for copies and garbage. */
struct pgmap_mem {
	struct dev_pagemap pgmap;
	struct range more[MAXR - 1];
};

static struct pg pool[NPG];
static struct held held[MAXHELD];
static int nheld;
static struct devres devres[NDEVRES];
static int ndevres;
static struct device devs[NDEV];
static struct device stranger = { .init_name = "stranger" };
static struct sref srefs[NSREF];
static struct completion comps[NCOMP];
static unsigned int comp_done[NCOMP];
static struct alloc allocs[NALLOC];
static int nalloc;
static unsigned long kmalloc_base;
static struct pgmap_mem scratch;
static int owner_cookie;
static unsigned long bogus_frees, dirty_frees;
static unsigned long last_free_pfn;
static unsigned long deadlocks_left = 20, waits_left = 20;

#define ALL_DONE	UINT_MAX

static struct pg *pg_of_map(const struct dev_pagemap *map)
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

static vm_fault_t no_migrate(struct vm_fault *vmf)
{
	(void)vmf;
	return VM_FAULT_SIGBUS;
}

static const struct dev_pagemap_ops full_ops = {
	.page_free = count_free,
	.migrate_to_ram = no_migrate,
};

static const struct dev_pagemap_ops free_only_ops = {
	.page_free = count_free,
};

static const struct dev_pagemap_ops migrate_only_ops = {
	.migrate_to_ram = no_migrate,
};

static bool registered(const struct pg *pg)
{
	return pg && (pg->state == PG_LIVE || pg->state == PG_KILLED ||
		      pg->state == PG_ABANDONED);
}

static long pg_refs(const struct pg *pg)
{
	return pg->folios + pg->devpins + pg->extra;
}

static int nregistered(void)
{
	int i, n = 0;

	for (i = 0; i < NPG; i++)
		n += registered(&pool[i]);
	return n;
}

static int nabandoned(void)
{
	int i, n = 0;

	for (i = 0; i < NPG; i++)
		n += pool[i].state == PG_ABANDONED;
	return n;
}

static bool in_devres(const struct pg *pg)
{
	int i;

	for (i = 0; i < ndevres; i++)
		if (devres[i].pg == pg)
			return true;
	return false;
}

static const struct span *pg_span(const struct pg *pg, unsigned long pfn)
{
	int i;

	for (i = 0; i < pg->nr; i++)
		if (pfn >= pg->spans[i].start && pfn <= pg->spans[i].end)
			return &pg->spans[i];
	return NULL;
}

static unsigned long pg_off_to_pfn(const struct pg *pg, unsigned long off)
{
	int i;

	for (i = 0; i < pg->nr; i++) {
		const struct span *s = &pg->spans[i];

		if (off >= s->off && off - s->off <= s->end - s->start)
			return s->start + (off - s->off);
	}
	return -1UL;
}

static unsigned long pg_pfn_to_off(const struct pg *pg, unsigned long pfn)
{
	const struct span *s = pg_span(pg, pfn);

	return s ? s->off + (pfn - s->start) : -1UL;
}

static bool pg_usable(const struct pg *pg, unsigned long pfn)
{
	const struct span *s = pg_span(pg, pfn);

	return s && pfn >= s->first;
}

static unsigned long pg_head(const struct pg *pg, unsigned long pfn)
{
	const struct span *s = pg_span(pg, pfn);

	return s->first + (((pfn - s->first) >> pg->shift) << pg->shift);
}

static struct pg *owner_of(unsigned long pfn)
{
	int i;

	for (i = 0; i < NPG; i++)
		if (registered(&pool[i]) && pg_span(&pool[i], pfn))
			return &pool[i];
	return NULL;
}

static struct held *find_held(unsigned long pfn)
{
	int i;

	for (i = 0; i < nheld; i++)
		if (held[i].pfn == pfn)
			return &held[i];
	return NULL;
}

static struct held *random_held(void)
{
	return nheld ? &held[below(nheld)] : NULL;
}

/* One more reference on the folio at head @pfn of @pg. */
static void take_ref(struct pg *pg, unsigned long pfn, struct folio *folio)
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
static void drop_ref(struct held *h)
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

/* ---- picking arguments ---- */

struct target {
	struct dev_pagemap *p;
	struct pg *pg;		/* NULL unless from the pool */
};

static struct pg *random_pg(void)
{
	return &pool[below(NPG)];
}

static struct pg *random_registered(void)
{
	struct pg *cand[NPG];
	int i, n = 0;

	for (i = 0; i < NPG; i++)
		if (registered(&pool[i]))
			cand[n++] = &pool[i];
	return n ? cand[below(n)] : NULL;
}

static struct pg *random_in(enum pg_state state)
{
	struct pg *cand[NPG];
	int i, n = 0;

	for (i = 0; i < NPG; i++)
		if (pool[i].state == state)
			cand[n++] = &pool[i];
	return n ? cand[below(n)] : NULL;
}

/* A pgmap argument: mostly live ones, then every kind of bad one. */
static struct target pick_target(void)
{
	struct target t = { NULL, NULL };
	struct pg *pg;
	unsigned long r = below(100);

	if (r < 60 && (pg = random_in(PG_LIVE)))
		goto pool;
	if (r < 70 && (pg = random_registered()))
		goto pool;
	if (r < 84) {
		pg = random_pg();
		goto pool;
	}
	if (r < 88)
		return t;	/* NULL */
	if (r < 94 && (pg = random_registered())) {
		/* A byte copy of a mapped pgmap is not that pgmap. */
		memset(&scratch, 0, sizeof(scratch));
		memcpy(&scratch, pg->map, sizeof(struct dev_pagemap));
		t.p = &scratch.pgmap;
		return t;
	}
	fill_garbage(&scratch, sizeof(scratch));
	t.p = &scratch.pgmap;
	return t;
pool:
	t.p = pg->map;
	t.pg = pg;
	return t;
}

static const char *tname(const struct target *t)
{
	static const char *const st[] = { "free", "live", "killed",
					  "unmapped", "abandoned" };

	if (t->pg)
		return st[t->pg->state];
	return t->p ? "scratch" : "NULL";
}

static int pg_index(const struct pg *pg)
{
	return pg ? (int)(pg - pool) : -1;
}

/* A pfn inside span @s, from a few hot spots when the span is huge. */
static unsigned long pfn_within(const struct span *s)
{
	unsigned long n = s->end - s->start + 1, spot;

	if (n <= 4096)
		return s->start + below(n);
	/* One draw per statement: C leaves the order of operands open. */
	spot = below(16) * (n / 16);
	return s->start + spot + below(4);
}

static unsigned long pick_pfn(void)
{
	struct pg *pg = chance(75) ? random_registered() : NULL;
	const struct span *s;
	unsigned long p;

	if (pg) {
		s = &pg->spans[below(pg->nr)];
		switch (below(10)) {
		case 0:
			return s->start;
		case 1:
			return s->end;
		case 2:
			return s->end + 1;
		case 3:
			return s->start - 1;
		case 4:
			return s->first;
		case 5:
			p = pfn_within(s);
			return pg_usable(pg, p) ? pg_head(pg, p) + 1 : p;
		default:
			p = pfn_within(s);
			return pg_usable(pg, p) ? pg_head(pg, p) : p;
		}
	}
	switch (below(8)) {
	case 0:
		return 0;
	case 1:
		return TOP_PFN - 1;
	case 2:
		return TOP_PFN;
	case 3:
		return -1UL;
	case 4:
		return rnd();
	case 5:
		return 1UL << 52;
	default:
		return (UNI_BASE >> PAGE_SHIFT) + below(UNI_SUBS * SUB_PFNS);
	}
}

/* An offset into @pg (registered or not): mostly heads, then the edges. */
static unsigned long pick_offset(const struct pg *pg)
{
	static const unsigned long wild[] = {
		-1UL, 1UL << 52, 1UL << 40, (1UL << 40) - 1, 1UL << 63,
		SUB_PFNS, 0,
	};
	unsigned long pfn;

	if (pg && registered(pg)) {
		switch (below(10)) {
		case 0:
			return pg->total;
		case 1:
			return pg->total + below(3);
		case 2:
			return pg->total - 1;
		default:
			pfn = pfn_within(&pg->spans[below(pg->nr)]);
			if (pg_usable(pg, pfn) && chance(90))
				pfn = pg_head(pg, pfn);
			return pg_pfn_to_off(pg, pfn);
		}
	}
	if (chance(50))
		return below(4 * SUB_PFNS);
	return wild[below(ARRAY_SIZE(wild))];
}

static int pick_order(const struct pg *pg)
{
	static const int wild[] = { -1, INT_MIN, INT_MAX, 1 << 30, 31, 64,
				    255, 256 };
	int shift = pg && registered(pg) ? (int)pg->shift : 0;

	switch (below(20)) {
	case 0:
		return wild[below(ARRAY_SIZE(wild))];
	case 1:
		return shift + 1;
	case 2:
		return shift - 1;
	case 3:
		return 256 + shift;
	default:
		return shift;
	}
}

/* ---- checks of the model against the library ---- */

static void check_pg(struct pg *pg)
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

static void check_held(struct held *h)
{
	CHECK(folio_ref_count(h->folio) == h->refs);
	CHECK(folio_test_locked(h->folio) == h->locked);
}

static void check_sref(struct sref *s)
{
	long want;

	CHECK(s->releases == s->want_releases);
	if (s->state == SR_UNINIT)
		return;
	want = s->held + (s->state == SR_ALIVE);
	CHECK(memremap_percpu_ref_count(s->r) == want);
}

static void sweep(void)
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

/* ---- pgmaps: map, unmap, kill ---- */

static void pg_realloc(struct pg *pg, int cap, bool garbage)
{
	size_t size = sizeof(struct dev_pagemap) +
		      (cap > 1 ? (cap - 1) * sizeof(struct range) : 0);

	free(pg->map);
	pg->map = calloc(1, size);
	if (!pg->map)
		abort();
	pg->cap = cap;
	if (garbage)
		fill_garbage(pg->map, size);
}

static void gen_range(struct range *r, unsigned int shift)
{
	unsigned long start, len, folio = (PAGE_SIZE << min(shift, 40U));

	switch (below(100)) {
	case 0 ... 71:
		start = UNI_BASE + below(UNI_SUBS) * SZ_2M;
		len = (1 + below(4)) * SZ_2M;
		if (shift > 9 && shift <= 12 && chance(80)) {
			start = ALIGN(start, folio);
			len = ALIGN(len, folio);
		}
		break;
	case 72 ... 75:
		start = UNI_BASE + below(UNI_SUBS) * SZ_2M;
		start += PAGE_SIZE * (1 + below(511));
		len = SZ_2M;
		break;
	case 76 ... 78:
		start = UNI_BASE + below(UNI_SUBS) * SZ_2M;
		len = SZ_2M + PAGE_SIZE * (1 + below(511));
		break;
	case 79 ... 80:
		r->start = UNI_BASE + below(UNI_SUBS) * SZ_2M;
		r->end = r->start - 1;		/* empty */
		return;
	case 81 ... 82:
		r->start = UNI_BASE + below(UNI_SUBS) * SZ_2M;
		r->end = r->start - SZ_2M;	/* inverted */
		return;
	case 83 ... 84:
		start = 1UL << 52;		/* past 2^52 */
		len = SZ_2M;
		break;
	case 85 ... 86:
		start = (1UL << 52) - SZ_2M;	/* straddles 2^52 */
		len = 2 * SZ_2M;
		break;
	case 87 ... 88:
		start = (1UL << 52) - (1 + below(2)) * SZ_2M;
		len = SZ_2M;			/* the top below 2^52 */
		break;
	case 89 ... 92:
		start = (1UL << 50) + below(4) * (1UL << 48);	/* huge */
		len = (1 + below(2)) * (1UL << 48);
		break;
	case 93 ... 94:
		start = 0;
		len = SZ_2M;
		break;
	case 95:
		r->start = 0;
		r->end = -1UL;		/* wraps to length 0 */
		return;
	default:
		start = rnd();
		len = rnd();
		len >>= below(64);
		if (chance(50)) {
			start &= ~(SZ_2M - 1);
			len = ALIGN(len, SZ_2M);
		}
		break;
	}
	r->start = start;
	r->end = start + len - 1;
}

static void gen_config(struct pg *pg, int nr)
{
	struct dev_pagemap *m = pg->map;
	unsigned int shift;
	int i;

	switch (below(100)) {
	case 0 ... 24:
		m->type = MEMORY_DEVICE_PRIVATE;
		break;
	case 25 ... 34:
		m->type = MEMORY_DEVICE_COHERENT;
		break;
	case 35 ... 64:
		m->type = MEMORY_DEVICE_GENERIC;
		break;
	case 65 ... 79:
		m->type = MEMORY_DEVICE_FS_DAX;
		break;
	case 80 ... 91:
		m->type = MEMORY_DEVICE_PCI_P2PDMA;
		break;
	default: {
		static const unsigned int unknown[] = { 0, 6, 77, UINT_MAX };

		m->type = unknown[below(ARRAY_SIZE(unknown))];
		break;
	}
	}
	switch (below(20)) {
	case 0:
		m->ops = NULL;
		break;
	case 1:
		m->ops = &free_only_ops;
		break;
	case 2:
		m->ops = &migrate_only_ops;
		break;
	default:
		if (m->type == MEMORY_DEVICE_PRIVATE)
			m->ops = &full_ops;
		else if (m->type == MEMORY_DEVICE_COHERENT)
			m->ops = chance(50) ? &full_ops : &free_only_ops;
		else
			m->ops = chance(45) ? NULL : &full_ops;
	}
	m->owner = chance(95) ? (chance(90) ? (void *)&owner_cookie :
			       (void *)0xdeadbeefUL) : NULL;
	switch (below(100)) {
	case 0 ... 69:
		shift = 0;
		break;
	case 70 ... 87:
		shift = 1 + below(9);
		break;
	case 88 ... 94:
		shift = 10 + below(3);
		break;
	case 95 ... 96:
		shift = chance(50) ? 18 : 30;
		break;
	default:
		shift = 31 + below(40);
	}
	m->vmemmap_shift = shift;
	m->flags = chance(10) ? (unsigned int)rnd() & ~PGMAP_ALTMAP_VALID : 0;
	m->nr_range = nr;
	for (i = 0; i < max(nr, 0) && i < pg->cap; i++) {
		struct range *r = &m->ranges[i], *prev = r - 1;
		unsigned long len;

		gen_range(r, shift);
		if (i == 0 || !chance(40))
			continue;
		/* Right after (or before) the range before it, in pfns. */
		len = (1 + below(4)) * SZ_2M;
		if (chance(70)) {
			r->start = prev->end + 1;
			r->end = r->start + len - 1;
		} else {
			r->end = prev->start - 1;
			r->start = r->end - len + 1;
		}
	}
	if (chance(15)) {
		unsigned long folio = 1UL << min(shift, 20U);
		unsigned long reserve = below(64), free = below(600);
		struct vmem_altmap a = {
			.base_pfn = m->range.start >> PAGE_SHIFT,
			.end_pfn = m->range.end >> PAGE_SHIFT,
		};

		if (chance(60))
			free = ALIGN(reserve + free, folio) - reserve;
		a.reserve = reserve;
		a.free = free;
		memcpy(&m->altmap, &a, sizeof(a));
		m->flags |= PGMAP_ALTMAP_VALID;
	}
}

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
 * What memremap_pages() answers for @pg as it stands (DESIGN §2 and the
 * README): the errno, the WARNs, and on success the spans in @spans.
 */
static long predict_map(struct pg *pg, int *warns, struct span *spans)
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

static void adopt(struct pg *pg, const struct span *spans)
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
}

static void op_map(void)
{
	struct span spans[MAXR];
	struct pg *pg = random_pg();
	int warns, dev = chance(25) ? (int)below(NDEV) : -1;
	bool inject = chance(4);
	unsigned long inj;
	long want, err;
	void *ret;

	if (chance(2))
		pg = NULL;
	if (pg && !registered(pg)) {
		int nr;

		if (in_devres(pg))
			return;	/* a stale devres entry still names it */
		switch (below(20)) {
		case 0:
			nr = chance(50) ? 0 : -1;
			break;
		case 1 ... 5:
			nr = 2 + below(MAXR - 1);
			break;
		default:
			nr = 1;
		}
		if (chance(40))
			pg_realloc(pg, max(nr, 1), chance(30));
		else if (chance(25))
			fill_garbage(pg->map, sizeof(struct dev_pagemap));
		gen_config(pg, min(nr, pg->cap));
	}
	want = predict_map(pg, &warns, spans);
	note("%smemremap_pages(pg%d %s) nr %d type %u shift %lu flags %#x: "
	     "want %ld/%d%s", dev >= 0 ? "devm_" : "", pg_index(pg),
	     pg ? (registered(pg) ? "mapped" : "unmapped") : "NULL",
	     pg ? pg->map->nr_range : 0, pg ? pg->map->type : 0,
	     pg ? pg->map->vmemmap_shift : 0, pg ? pg->map->flags : 0,
	     want, warns, inject ? " (alloc fails)" : "");
	fig.maps_tried++;
	inj = memremap_kmalloc_injected();
	if (inject)
		memremap_kmalloc_fail_nth(1);
	if (dev >= 0) {
		call(F_devm_memremap_pages);
		ret = devm_memremap_pages(&devs[dev], pg ? pg->map : NULL);
	} else {
		call(F_memremap_pages);
		ret = memremap_pages(pg ? pg->map : NULL, 0);
	}
	memremap_fail_none();
	err = IS_ERR(ret) ? PTR_ERR(ret) : 0;
	CHECK(ret != NULL);
	if (inject && !want) {
		/* The failure was injected where the pgmap's ref is set up. */
		CHECK(err == -ENOMEM);
		CHECK(memremap_kmalloc_injected() == inj + 1);
		CHECK(warned() == (unsigned long)warns);
		fig.kmalloc_injected++;
		stats[cur].quiet++;
		CHECK(!memremap_pgmap_is_mapped(pg->map));
		return;
	}
	CHECK(memremap_kmalloc_injected() == inj);
	CHECK(err == want);
	CHECK(warned() == (unsigned long)warns);
	if (err == -EINVAL && !warns)
		stats[cur].quiet++;	/* an empty range, as Linux */
	else if (err || warns)
		stats[cur].bad++;
	else
		stats[cur].valid++;
	if (err) {
		if (pg)
			check_pg(pg);
		return;
	}
	adopt(pg, spans);
	fig.maps_ok++;
	fig.types[pg->type <= MEMORY_DEVICE_PCI_P2PDMA ? pg->type : 0]++;
	fig.compound += pg->shift > 0;
	fig.big_folio += pg->shift > 9;
	fig.altmap += pg->spans[0].first != pg->spans[0].start;
	fig.multi += pg->nr > 1;
	fig.huge += pg->total >= 1UL << 30;
	fig.devm += dev >= 0;
	fig.with_page_free += pg->page_free;
	if (dev >= 0)
		devres[ndevres++] = (struct devres){ dev, pg };
	check_pg(pg);
}

/* Release every reference held on @pg, with valid calls. */
static void drain(struct pg *pg)
{
	int i;

	for (i = 0; i < nheld && !failed;) {
		struct held *h = &held[i];

		if (h->pg != pg) {
			i++;
			continue;
		}
		if (h->locked) {
			call(F_unlock_page);
			unlock_page(&h->folio->page);
			VALID();
			h->locked = false;
		}
		call(F_folio_put);
		folio_put(h->folio);
		VALID();
		drop_ref(h);	/* moves another entry into slot i */
	}
	while (pg->devpins && !failed) {
		call(F_put_dev_pagemap);
		put_dev_pagemap(pg->map);
		VALID();
		pg->devpins--;
	}
	while (pg->extra && !failed) {
		call(F_percpu_ref_put);
		percpu_ref_put(&pg->map->ref);
		VALID();
		pg->extra--;
	}
	check_pg(pg);
}

/*
 * The model's side of memunmap_pages(@pg): clean when nothing is held,
 * a give-up (abandoned) otherwise; the WARNs it costs.
 */
static int unmap_effect(struct pg *pg)
{
	if (!registered(pg) || pg->state == PG_ABANDONED)
		return 1;
	if (pg_refs(pg)) {
		pg->state = PG_ABANDONED;
		fig.abandoned++;
		fig.waits++;
		return 1;
	}
	pg->state = PG_UNMAPPED;
	fig.clean_unmaps++;
	return 0;
}

/*
 * May memunmap_pages(@pg) give up now? Give-ups are kept few (each one
 * leaves a pgmap registered for good); otherwise @pg is drained first
 * and the step skipped.
 */
static bool can_abandon(struct pg *pg)
{
	if (!registered(pg) || pg->state == PG_ABANDONED || !pg_refs(pg))
		return true;
	if (nabandoned() < MAX_ABANDON && chance(50))
		return true;
	drain(pg);
	return false;
}

static void op_unmap(void)
{
	struct target t;
	struct pg *pg;
	int w, i, dev;

	switch (below(10)) {
	case 0 ... 6:
		t = pick_target();
		if (t.pg && !can_abandon(t.pg))
			return;
		note("memunmap_pages(pg%d %s) refs %ld", pg_index(t.pg),
		     tname(&t), t.pg ? pg_refs(t.pg) : 0);
		call(F_memunmap_pages);
		memunmap_pages(t.p);
		w = t.pg ? unmap_effect(t.pg) : 1;
		if (w)
			BAD();
		else
			VALID();
		if (t.pg)
			check_pg(t.pg);
		break;
	case 7 ... 8:
		dev = below(NDEV);
		pg = NULL;
		if (ndevres && chance(70)) {
			i = below(ndevres);
			dev = devres[i].dev;
			pg = devres[i].pg;
		} else {
			pg = random_pg();
		}
		if (!can_abandon(pg))
			return;
		note("devm_memunmap_pages(dev%d, pg%d %s)", dev, pg_index(pg),
		     tname(&(struct target){ pg->map, pg }));
		for (i = 0; i < ndevres; i++)
			if (devres[i].dev == dev && devres[i].pg == pg)
				break;
		call(F_devm_memunmap_pages);
		devm_memunmap_pages(&devs[dev], pg->map);
		if (i == ndevres) {
			BAD();		/* not mapped by devm for dev */
		} else {
			memmove(&devres[i], &devres[i + 1],
				(ndevres - i - 1) * sizeof(devres[0]));
			ndevres--;
			if (unmap_effect(pg))
				BAD();
			else
				VALID();
		}
		check_pg(pg);
		break;
	default:
		dev = below(NDEV + 1);
		for (i = 0; i < ndevres; i++)
			if (devres[i].dev == dev && !can_abandon(devres[i].pg))
				return;
		note("devres_release_all(dev%d)", dev);
		call(F_devres_release_all);
		devres_release_all(dev < NDEV ? &devs[dev] : &stranger);
		w = 0;
		for (i = ndevres - 1; i >= 0; i--) {
			if (devres[i].dev != dev)
				continue;
			w += unmap_effect(devres[i].pg);
			memmove(&devres[i], &devres[i + 1],
				(ndevres - i - 1) * sizeof(devres[0]));
			ndevres--;
		}
		CHECK(warned() == (unsigned long)w);
		if (w)
			stats[cur].bad++;
		else
			stats[cur].valid++;
		break;
	}
}

static void op_kill(void)
{
	struct target t = pick_target();

	note("percpu_ref_kill(pg%d %s)", pg_index(t.pg), tname(&t));
	call(F_percpu_ref_kill);
	percpu_ref_kill(t.p ? &t.p->ref : NULL);
	if (t.pg && t.pg->state == PG_LIVE) {
		VALID();
		t.pg->state = PG_KILLED;
	} else {
		BAD();	/* killed twice, or not a live ref */
	}
	if (t.pg)
		check_pg(t.pg);
}

/* Give an unmapped pgmap new memory, or garbage, behind the library. */
static void op_scramble(void)
{
	struct pg *pg = random_pg();

	if (registered(pg) || in_devres(pg))
		return;
	note("scramble pg%d %s", pg_index(pg),
	     tname(&(struct target){ pg->map, pg }));
	if (chance(50)) {
		int cap = 1 + below(MAXR);

		pg_realloc(pg, cap, chance(50));
	}
	else
		fill_garbage(pg->map, sizeof(struct dev_pagemap));
	pg->state = PG_FREE;
	check_pg(pg);
}

/* ---- requests and puts ---- */

static void op_request(void)
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

/* An idle page of a registered pgmap (a head if @head), or NULL. */
static struct page *idle_page(struct pg **owner, bool head)
{
	struct pg *pg = random_registered();
	unsigned long pfn;

	if (!pg)
		return NULL;
	pfn = pfn_within(&pg->spans[below(pg->nr)]);
	if (pg_usable(pg, pfn))
		pfn = head ? pg_head(pg, pfn) : pfn;
	if (find_held(pg_usable(pg, pfn) ? pg_head(pg, pfn) : pfn))
		return NULL;
	*owner = pg;
	return pfn_to_page(pfn);
}

static struct page *tail_of(const struct held *h)
{
	unsigned long n = 1UL << h->pg->shift;

	if (n == 1)
		return &h->folio->page;
	return pfn_to_page(h->pfn + 1 + below(min(n - 1, 4096UL)));
}

static void op_put(void)
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
	if (chance(50)) {
		call(F_folio_put);
		folio_put((struct folio *)page);
	} else {
		call(F_put_page);
		put_page(page);
	}
	BAD();
	if (page)
		CHECK(page_ref_count(page) == 0);
	if (owner)
		check_pg(owner);
}

static void op_get(void)
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
	/* Only its pgmap may bring a ZONE_DEVICE folio to life. */
	if (chance(50)) {
		call(F_folio_get);
		folio_get((struct folio *)page);
	} else {
		call(F_get_page);
		get_page(page);
	}
	BAD();
	if (page)
		CHECK(page_ref_count(page) == 0);
	if (owner)
		check_pg(owner);
}

/* The pre-patch pair, doing what it was meant to do. */
static void op_request_folios(void)
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

static void op_release_folios(void)
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

/* ---- translations and lookups ---- */

static void op_translate(void)
{
	struct target t = pick_target();
	struct pg *pg = t.pg;
	bool live = pg && pg->state == PG_LIVE;
	unsigned long pfn, off, r;
	bool v;

	switch (below(3)) {
	case 0:
		pfn = pick_pfn();
		note("pfn_to_pgmap_offset(pg%d %s, %#lx)", pg_index(pg),
		     tname(&t), pfn);
		call(F_pfn_to_pgmap_offset);
		r = pfn_to_pgmap_offset(t.p, pfn);
		if (live) {
			CHECK(r == pg_pfn_to_off(pg, pfn));
			VALID();
		} else {
			CHECK(r == -1UL);
			BAD();
		}
		break;
	case 1:
		off = pick_offset(pg);
		note("pgmap_offset_to_pfn(pg%d %s, %#lx)", pg_index(pg),
		     tname(&t), off);
		call(F_pgmap_offset_to_pfn);
		r = pgmap_offset_to_pfn(t.p, off);
		if (live) {
			CHECK(r == pg_off_to_pfn(pg, off));
			VALID();
		} else {
			CHECK(r == -1UL);
			BAD();
		}
		break;
	default:
		pfn = pick_pfn();
		note("pgmap_pfn_valid(pg%d %s, %#lx)", pg_index(pg),
		     tname(&t), pfn);
		call(F_pgmap_pfn_valid);
		v = pgmap_pfn_valid(t.p, pfn);
		if (registered(pg)) {
			CHECK(v == pg_usable(pg, pfn));
			VALID();
		} else {
			CHECK(!v);
			BAD();
		}
	}
}

static struct pg *random_pinned(void)
{
	struct pg *cand[NPG];
	int i, n = 0;

	for (i = 0; i < NPG; i++)
		if (registered(&pool[i]) && pool[i].devpins)
			cand[n++] = &pool[i];
	return n ? cand[below(n)] : NULL;
}

static void op_get_dev_pagemap(void)
{
	unsigned long pfn = pick_pfn();
	struct target cached = { NULL, NULL };
	struct dev_pagemap *got, *want = NULL;
	struct pg *pg, *owner;
	bool bad = false;

	if (chance(30) && (pg = random_pinned())) {
		cached = (struct target){ pg->map, pg };
		if (chance(50))
			pfn = pfn_within(&pg->spans[0]);
	} else if (chance(20)) {
		cached = pick_target();
		if (registered(cached.pg))	/* we hold no pin on it */
			cached = (struct target){ NULL, NULL };
	}
	note("get_dev_pagemap(%#lx, pg%d %s)", pfn, pg_index(cached.pg),
	     tname(&cached));
	call(F_get_dev_pagemap);
	got = get_dev_pagemap(pfn, cached.p);
	if (cached.p) {
		pg = cached.pg;
		if (registered(pg) &&
		    pfn >= pg->map->range.start >> PAGE_SHIFT &&
		    pfn <= pg->map->range.end >> PAGE_SHIFT) {
			want = pg->map;		/* its pin is reused */
			goto out;
		}
		if (registered(pg))
			pg->devpins--;		/* its pin is dropped */
		else
			bad = true;		/* not a pgmap: WARN */
	}
	owner = owner_of(pfn);
	if (owner && owner->state == PG_LIVE) {
		want = owner->map;
		owner->devpins++;
	}
out:
	CHECK(got == want);
	if (bad)
		BAD();
	else
		VALID();
	if (cached.pg)
		check_pg(cached.pg);
	if (got)
		check_pg(pg_of_map(got));
}

static void op_put_dev_pagemap(void)
{
	struct pg *pg = random_pinned();
	struct target t;

	if (pg && chance(60)) {
		note("put_dev_pagemap(pinned pg%d)", pg_index(pg));
		call(F_put_dev_pagemap);
		put_dev_pagemap(pg->map);
		VALID();
		pg->devpins--;
		check_pg(pg);
		return;
	}
	t = pick_target();
	if (registered(t.pg) && (t.pg->state == PG_LIVE || pg_refs(t.pg)))
		return;	/* a put we do not own: nobody can tell */
	note("put_dev_pagemap(pg%d %s)", pg_index(t.pg), tname(&t));
	call(F_put_dev_pagemap);
	put_dev_pagemap(t.p);
	if (!t.p)
		VALID();	/* NULL is fine, as in the kernel */
	else
		BAD();		/* not mapped, or its count is 0 */
	if (t.pg)
		check_pg(t.pg);
}

/* ---- pages and folios ---- */

/* The page calls on a page that is in the memmap. */
static void probe_page(struct pg *owner, unsigned long pfn, struct page *page)
{
	bool usable = pg_usable(owner, pfn);
	unsigned long head = usable ? pg_head(owner, pfn) : pfn;
	unsigned int order = usable ? owner->shift : 0;
	struct held *h = usable ? find_held(head) : NULL;
	struct page *hp = pfn_to_page(head);
	struct folio *folio;
	unsigned long n;
	struct page *p;

	call(F_page_to_pfn);
	CHECK(page_to_pfn(page) == pfn);
	VALID();
	call(F_is_zone_device_page);
	CHECK(is_zone_device_page(page) == usable);
	VALID();
	call(F_page_folio);
	folio = page_folio(page);
	CHECK(folio == (struct folio *)hp);
	VALID();
	call(F_compound_head);
	CHECK(compound_head(page) == hp);
	VALID();
	call(F_PageTail);
	CHECK(PageTail(page) == (pfn != head));
	VALID();
	call(F_PageHead);
	CHECK(PageHead(page) == (usable && order && pfn == head));
	VALID();
	call(F_folio_order);
	CHECK(folio_order(folio) == order);
	VALID();
	call(F_folio_nr_pages);
	CHECK(folio_nr_pages(folio) == 1L << order);
	VALID();
	call(F_folio_pfn);
	CHECK(folio_pfn(folio) == head);
	VALID();
	call(F_folio_pgmap);
	CHECK(folio_pgmap(folio) == (usable ? owner->map : NULL));
	VALID();
	call(F_folio_is_zone_device);
	CHECK(folio_is_zone_device(folio) == usable);
	VALID();
	call(F_is_device_private_page);
	CHECK(is_device_private_page(page) ==
	      (usable && owner->type == MEMORY_DEVICE_PRIVATE));
	VALID();
	call(F_is_device_coherent_page);
	CHECK(is_device_coherent_page(page) ==
	      (usable && owner->type == MEMORY_DEVICE_COHERENT));
	VALID();
	call(F_is_pci_p2pdma_page);
	CHECK(is_pci_p2pdma_page(page) ==
	      (usable && owner->type == MEMORY_DEVICE_PCI_P2PDMA));
	VALID();
	call(F_folio_ref_count);
	CHECK(folio_ref_count(folio) == (h ? h->refs : 0));
	VALID();
	call(F_page_ref_count);
	CHECK(page_ref_count(page) == (h && pfn == head ? h->refs : 0));
	VALID();
	call(F_PageLocked);
	CHECK(PageLocked(page) == (h && h->locked));
	VALID();
	if (!usable)
		return;
	/* Pages of the folio, the folio after it, and far past it. */
	n = below(1UL << min(order, 12U));
	call(F_folio_page);
	CHECK(folio_page(folio, n) == pfn_to_page(head + n));
	VALID();
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
	call(F_folio_page);
	CHECK(folio_page(folio, -1UL) == memremap_poison_page());
	BAD();
}

/* The page calls on the poison page: inert, and loud where it matters. */
static void probe_poison(struct page *page)
{
	struct folio *folio = (struct folio *)page;

	call(F_page_to_pfn);
	CHECK(page_to_pfn(page) == -1UL);
	BAD();
	call(F_folio_pfn);
	CHECK(folio_pfn(folio) == -1UL);
	BAD();
	call(F_is_zone_device_page);
	CHECK(!is_zone_device_page(page));
	VALID();
	call(F_page_folio);
	CHECK(page_folio(page) == folio);
	VALID();
	call(F_folio_pgmap);
	CHECK(folio_pgmap(folio) == NULL);
	VALID();
	call(F_folio_order);
	CHECK(folio_order(folio) == 0);
	VALID();
	call(F_folio_page);
	CHECK(folio_page(folio, 1 + below(4)) == page);
	BAD();
	call(F_folio_next);
	CHECK(folio_next(folio) == folio);
	BAD();
	call(F_free_zone_device_page);
	free_zone_device_page(page);
	BAD();
	call(F_unlock_page);
	unlock_page(page);
	BAD();
	call(F_is_device_private_page);
	CHECK(!is_device_private_page(page));
	VALID();
	/* It takes no reference and no lock. */
	call(F_folio_ref_inc);
	folio_ref_inc(folio);
	BAD();
	call(F_folio_ref_inc_return);
	CHECK(folio_ref_inc_return(folio) == 0);
	BAD();
	call(F_trylock_page);
	CHECK(!trylock_page(page));
	BAD();
	call(F_folio_trylock);
	CHECK(!folio_trylock(folio));
	BAD();
	call(chance(50) ? F_lock_page : F_folio_lock);
	if (cur == F_lock_page)
		lock_page(page);
	else
		folio_lock(folio);
	BAD();
	CHECK(page_ref_count(page) == 0 && !PageLocked(page));
}

static void op_pages(void)
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
static void op_null(void)
{
	struct vmem_altmap a = { .base_pfn = 0 };

	switch (below(40)) {
#define NULL_CASE(n, f, expr, safe)					\
	case n:								\
		note("%s(NULL)", #f);					\
		call(F_##f);						\
		CHECK((expr) == (safe));				\
		BAD();							\
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

static void op_lock(void)
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
		if (h->locked)
			VALID();
		else
			BAD();
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

/* ---- percpu_ref: the pgmaps' own and standalone ones ---- */

static void op_pgref(void)
{
	struct target t = pick_target();
	struct pg *pg = t.pg;
	struct percpu_ref *r = t.p ? &t.p->ref : NULL;
	bool reg = registered(pg), live = pg && pg->state == PG_LIVE;
	bool got, inject;

	if (!r)
		return;
	note("percpu_ref op on pg%d %s (refs %ld)", pg_index(pg), tname(&t),
	     pg ? pg_refs(pg) : 0);
	switch (below(8)) {
	case 7:
		if (!reg)
			return;
		/* The ref of a mapped pgmap is not set up again. */
		call(F_percpu_ref_init);
		CHECK(percpu_ref_init(r, NULL, 0, GFP_KERNEL) == -EBUSY);
		BAD();
		break;
	case 0:
		inject = live && chance(20);
		if (inject)
			memremap_percpu_tryget_fail_nth(1);
		call(F_percpu_ref_tryget);
		got = percpu_ref_tryget(r);
		memremap_fail_none();
		if (!reg) {
			CHECK(!got);
			BAD();
		} else if (inject) {
			CHECK(!got);
			QUIET();
			fig.tryget_injected++;
		} else {
			/* A dying ref still has its count if not zero. */
			CHECK(got == (live || pg_refs(pg) > 0));
			VALID();
			pg->extra += got;
		}
		break;
	case 1:
		call(F_percpu_ref_tryget_live);
		got = percpu_ref_tryget_live(r);
		CHECK(got == live);
		if (reg)
			VALID();
		else
			BAD();
		if (got)
			pg->extra++;
		break;
	case 2:
		/*
		 * A get after the release WARNs and counts, and the put that
		 * follows WARNs too: the standalone refs check that.
		 */
		if (reg && !live && !pg_refs(pg))
			return;
		call(F_percpu_ref_get);
		percpu_ref_get(r);
		if (reg) {
			VALID();
			pg->extra++;
		} else {
			BAD();
		}
		break;
	case 3:
		if (reg && !pg->extra)
			return;
		call(F_percpu_ref_put);
		percpu_ref_put(r);
		if (reg) {
			VALID();
			pg->extra--;
		} else {
			BAD();
		}
		break;
	case 4:
		call(F_percpu_ref_is_dying);
		got = percpu_ref_is_dying(r);
		CHECK(got == (reg && !live));
		if (reg)
			VALID();
		else
			BAD();
		break;
	case 5:
		call(F_percpu_ref_is_zero);
		got = percpu_ref_is_zero(r);
		CHECK(got == (reg && !live && !pg_refs(pg)));
		if (reg)
			VALID();
		else
			BAD();
		break;
	default:
		/* memunmap_pages() exits a pgmap's ref, nobody else. */
		call(F_percpu_ref_exit);
		percpu_ref_exit(r);
		if (reg)
			BAD();
		else
			QUIET();
	}
	if (pg)
		check_pg(pg);
}

static void count_release(struct percpu_ref *ref)
{
	int i;

	for (i = 0; i < NSREF; i++)
		if (srefs[i].r == ref)
			srefs[i].releases++;
}

static void sref_released(struct sref *s)
{
	if (s->state == SR_DYING && !s->held && !s->released) {
		s->released = true;
		if (s->has_release)
			s->want_releases++;
	}
}

static void op_sref(void)
{
	struct sref *s = &srefs[below(NSREF)];
	bool init = s->state != SR_UNINIT, alive = s->state == SR_ALIVE;
	unsigned long n = below(4);
	unsigned long inj;
	bool got;
	int err;

	note("standalone ref %d (state %d, held %ld) ", (int)(s - srefs),
	     s->state, s->held);
	switch (below(12)) {
	case 0: {
		unsigned int flags = 0;
		bool inject = chance(15);

		if (init) {
			/* A live ref is not set up again: nothing changes. */
			call(F_percpu_ref_init);
			err = percpu_ref_init(s->r, count_release, 0,
					      GFP_KERNEL);
			CHECK(err == -EBUSY);
			BAD();
			break;
		}
		if (chance(20))
			flags |= PERCPU_REF_INIT_ATOMIC;
		if (chance(15))
			flags |= PERCPU_REF_INIT_DEAD;
		if (chance(10))
			flags |= PERCPU_REF_ALLOW_REINIT;
		s->has_release = chance(80);
		inj = memremap_kmalloc_injected();
		if (inject)
			memremap_kmalloc_fail_nth(1);
		call(F_percpu_ref_init);
		err = percpu_ref_init(s->r, s->has_release ? count_release :
					    NULL, flags, GFP_KERNEL);
		memremap_fail_none();
		if (inject) {
			CHECK(err == -ENOMEM);
			CHECK(memremap_kmalloc_injected() == inj + 1);
			QUIET();
			fig.kmalloc_injected++;
			break;
		}
		CHECK(err == 0);
		VALID();
		s->state = flags & PERCPU_REF_INIT_DEAD ? SR_DYING : SR_ALIVE;
		s->held = 0;
		s->released = false;
		break;
	}
	case 1:
		call(F_percpu_ref_exit);
		percpu_ref_exit(s->r);
		if (init)
			VALID();
		else
			QUIET();
		s->state = SR_UNINIT;
		s->held = 0;
		if (chance(30))
			fill_garbage(s->r, sizeof(*s->r));
		break;
	case 2:
		call(n == 1 ? F_percpu_ref_get : F_percpu_ref_get_many);
		if (n == 1)
			percpu_ref_get(s->r);
		else
			percpu_ref_get_many(s->r, n);
		if (!init) {
			BAD();
		} else if (!alive && !s->held) {
			/*
			 * A get of a ref at zero after its kill (or born dead):
			 * it WARNs, and counts, as the kernel counts it.
			 */
			BAD();
			s->held += n;
		} else {
			VALID();
			s->held += n;
		}
		break;
	case 3:
		call(n == 1 ? F_percpu_ref_tryget : F_percpu_ref_tryget_many);
		got = n == 1 ? percpu_ref_tryget(s->r) :
			       percpu_ref_tryget_many(s->r, n);
		if (!init) {
			CHECK(!got);
			BAD();
			break;
		}
		CHECK(got == (alive || s->held > 0));
		if (got)
			VALID();
		else
			QUIET();
		s->held += got ? n : 0;
		break;
	case 4:
		call(F_percpu_ref_tryget_live);
		got = percpu_ref_tryget_live(s->r);
		CHECK(got == alive);
		if (!init)
			BAD();
		else if (got)
			VALID();
		else
			QUIET();
		s->held += got;
		break;
	case 5:
	case 6:
		n = 1 + below(3);	/* put_many(0) at zero releases */
		if (init && (long)n > s->held) {
			if (alive)
				return;	/* a put we do not own */
			/* Below zero on a dying ref: refused. */
			call(F_percpu_ref_put_many);
			percpu_ref_put_many(s->r, n);
			BAD();
			break;
		}
		call(n == 1 ? F_percpu_ref_put : F_percpu_ref_put_many);
		if (n == 1)
			percpu_ref_put(s->r);
		else
			percpu_ref_put_many(s->r, n);
		if (!init) {
			BAD();
			break;
		}
		/* Back to zero after the release ran: WARNs, no release. */
		if (s->state == SR_DYING && s->released && s->held == (long)n)
			BAD();
		else
			VALID();
		s->held -= n;
		sref_released(s);
		break;
	case 7:
		call(F_percpu_ref_kill);
		percpu_ref_kill(s->r);
		if (!alive) {
			BAD();
			break;
		}
		VALID();
		s->state = SR_DYING;
		sref_released(s);
		break;
	case 8:
		call(F_percpu_ref_is_dying);
		got = percpu_ref_is_dying(s->r);
		CHECK(got == (s->state == SR_DYING));
		if (init)
			VALID();
		else
			BAD();
		break;
	case 9:
		call(F_percpu_ref_is_zero);
		got = percpu_ref_is_zero(s->r);
		CHECK(got == (s->state == SR_DYING && !s->held));
		if (init)
			VALID();
		else
			BAD();
		break;
	case 10:
		if (init)
			return;
		/* Uninitialised memory may hold anything. */
		fill_garbage(s->r, sizeof(*s->r));
		return;
	default:
		if (!init)
			return;
		/* Exited behind the library's back: a fresh allocation. */
		call(F_percpu_ref_exit);
		percpu_ref_exit(s->r);
		VALID();
		free(s->r);
		s->r = malloc(sizeof(*s->r));
		if (!s->r)
			abort();
		fill_garbage(s->r, sizeof(*s->r));
		s->state = SR_UNINIT;
		s->held = 0;
	}
	check_sref(s);
}

/* ---- completions ---- */

static void op_completion(void)
{
	int i = below(NCOMP);
	struct completion *x = &comps[i];
	unsigned int *d = &comp_done[i];
	unsigned long left;
	bool got;

	note("completion %d (done %u)", i, *d);
	switch (below(9)) {
	case 0:
		call(chance(50) ? F_init_completion : F_reinit_completion);
		if (cur == F_init_completion)
			init_completion(x);
		else
			reinit_completion(x);
		VALID();
		*d = 0;
		break;
	case 1:
	case 2:
		call(F_complete);
		complete(x);
		VALID();
		if (*d != ALL_DONE)
			(*d)++;
		break;
	case 3:
		call(F_complete_all);
		complete_all(x);
		VALID();
		*d = ALL_DONE;
		break;
	case 4:
		call(F_try_wait_for_completion);
		got = try_wait_for_completion(x);
		CHECK(got == (*d != 0));
		VALID();
		if (*d && *d != ALL_DONE)
			(*d)--;
		break;
	case 5:
		call(F_completion_done);
		CHECK(completion_done(x) == (*d != 0));
		VALID();
		break;
	case 6:
		if (!*d && !waits_left)
			return;
		call(F_wait_for_completion_timeout);
		left = wait_for_completion_timeout(x, 2);
		VALID();
		if (!*d) {
			CHECK(left == 0);	/* timed out */
			waits_left--;
			break;
		}
		CHECK(left >= 1 && left <= 2);
		if (*d != ALL_DONE)
			(*d)--;
		break;
	default:
		if (!*d && !waits_left)
			return;
		call(F_wait_for_completion);
		wait_for_completion(x);
		if (!*d) {
			/* The kernel waits for ever; this gives up, loudly. */
			BAD();
			waits_left--;
			fig.waits++;
			break;
		}
		VALID();
		if (*d != ALL_DONE)
			(*d)--;
	}
	CHECK(x->done == *d);
}

/* ---- kmalloc() and kfree() ---- */

/* Keep @p, filling it whole (so that a short allocation shows). */
static void own(unsigned char *p, size_t size)
{
	memset(p, 0x5a, size);
	allocs[nalloc++] = (struct alloc){ p, size };
}

static bool all_zero(const unsigned char *p, size_t size)
{
	size_t i;

	for (i = 0; i < size; i++)
		if (p[i])
			return false;
	return true;
}

static bool live_alloc(const void *p)
{
	int i;

	for (i = 0; i < nalloc; i++)
		if (allocs[i].p == p)
			return true;
	return false;
}

/* One allocation of @size by one of the kmalloc() family; @fail: NULL. */
static void alloc_one(size_t size, bool fail)
{
	static const unsigned char src[64] = { 1, 2, 3 };
	unsigned char *p;
	bool zeroed = false;

	call(F_kmalloc);
	switch (below(5)) {
	case 0:
		p = kmalloc(size, GFP_KERNEL);
		break;
	case 1:
		p = kzalloc(size, GFP_KERNEL);
		zeroed = true;
		break;
	case 2:
		p = kcalloc(size, 1, GFP_KERNEL);
		zeroed = true;
		break;
	case 3:
		p = kmalloc_array(1, size, GFP_KERNEL);
		break;
	default:
		size = min(size, sizeof(src));
		p = kmemdup(src, size, GFP_KERNEL);
		if (p && !fail)
			CHECK(!memcmp(p, src, size));
	}
	if (fail) {
		QUIET();
		CHECK(p == NULL);
		fig.kmalloc_injected++;
		return;
	}
	VALID();
	CHECK(p != NULL);
	CHECK(!zeroed || all_zero(p, size));
	own(p, size);
}

static void op_kmalloc(void)
{
	static int on_stack_is_not_kmalloced;
	unsigned long inj = memremap_kmalloc_injected(), k, i;
	bool pattern[16];
	unsigned char *p;
	int j;

	switch (below(10)) {
	case 0 ... 3:
		if (nalloc == NALLOC)
			return;
		note("kmalloc");
		alloc_one(chance(90) ? below(512) : below(1UL << 16), false);
		break;
	case 4 ... 6:
		if (!nalloc)
			return;
		j = below(nalloc);
		p = allocs[j].p;
		note("kfree(%p)", (void *)p);
		allocs[j] = allocs[--nalloc];
		call(F_kfree);
		kfree(p);
		VALID();
		if (chance(30) && !live_alloc(p)) {
			/* Freed twice: refused, the heap left alone. */
			call(F_kfree);
			kfree(p);
			BAD();
		}
		break;
	case 7:
		note("kfree of what kmalloc() did not return");
		call(F_kfree);
		switch (below(4)) {
		case 0:
			kfree(NULL);
			VALID();
			return;
		case 1:
			kfree(&on_stack_is_not_kmalloced);
			break;
		case 2:
			kfree(pool[below(NPG)].map);
			break;
		default:
			if (!nalloc) {
				kfree(&on_stack_is_not_kmalloced);
				break;
			}
			kfree(allocs[below(nalloc)].p + 1);
		}
		BAD();
		break;
	case 8:
		/* The Nth, or every Nth, allocation fails. */
		if (nalloc + 8 > NALLOC)
			return;
		k = 1 + below(4);
		note("kmalloc with allocation %lu failing (%s)", k,
		     chance(50) ? "nth" : "every");
		if (chance(50)) {
			memremap_kmalloc_fail_nth(k);
			for (i = 1; i <= k && !failed; i++)
				alloc_one(below(128), i == k);
		} else {
			memremap_kmalloc_fail_every(k);
			for (i = 1; i <= 2 * k && !failed; i++)
				alloc_one(below(128), i % k == 0);
		}
		memremap_fail_none();
		break;
	default:
		/* A seeded fraction fails, and the same seed replays it. */
		if (nalloc + 16 > NALLOC)
			return;
		k = rnd();
		note("kmalloc with seeded random failures (seed %#lx)", k);
		memremap_kmalloc_fail_random(k, 500);
		for (i = 0; i < 16; i++) {
			p = kmalloc(8, GFP_KERNEL);
			pattern[i] = !p;
			kfree(p);
		}
		memremap_kmalloc_fail_random(k, 500);
		for (i = 0; i < 16 && !failed; i++)
			alloc_one(8, pattern[i]);
		memremap_fail_none();
		k = 0;
		for (i = 0; i < 16; i++)
			k += pattern[i];
		CHECK(memremap_kmalloc_injected() - inj == 2 * k);
		fig.kmalloc_injected += k;	/* the first pass */
	}
	CHECK(memremap_kmalloc_live() == kmalloc_base + nalloc);
}

/* ---- the rest ---- */

static void op_misc(void)
{
	int v, n;

	switch (below(4)) {
	case 0:
		note("memremap_compat_align()");
		call(F_memremap_compat_align);
		CHECK(memremap_compat_align() == SZ_2M);
		VALID();
		break;
	case 1:
		note("WARN_ON(1) from C");
		call(F_WARN_ON);
		v = WARN_ON(1);
		CHECK(v && warned() == 1);
		stats[cur].valid++;
		break;
	case 2:
		note("WARN_ON_ONCE(1) twice from C");
		call(F_WARN_ON);
		v = 0;
		for (n = 0; n < 2; n++)
			v += WARN_ON_ONCE(1);
		CHECK(v == 2 && warned() == 1);
		stats[cur].valid++;
		break;
	default: {
		struct pg *pg = random_registered();

		if (!pg)
			return;
		note("vmem_altmap_offset(pgmap_altmap(pg%d))", pg_index(pg));
		call(F_vmem_altmap_offset);
		v = vmem_altmap_offset(pgmap_altmap(pg->map)) ==
		    pg->spans[0].first - pg->spans[0].start;
		CHECK(v);
		VALID();
	}
	}
}

/* ---- the campaign ---- */

struct op {
	void (*fn)(void);
	unsigned int weight;
};

static const struct op ops[] = {
	{ op_map, 60 },		{ op_unmap, 35 },
	{ op_kill, 10 },	{ op_scramble, 10 },
	{ op_request, 200 },	{ op_put, 150 },
	{ op_get, 60 },		{ op_request_folios, 40 },
	{ op_release_folios, 40 }, { op_translate, 60 },
	{ op_get_dev_pagemap, 50 }, { op_put_dev_pagemap, 30 },
	{ op_pages, 60 },	{ op_lock, 40 },
	{ op_null, 40 },	{ op_pgref, 30 },
	{ op_sref, 50 },	{ op_kmalloc, 50 },
	{ op_completion, 15 },	{ op_misc, 10 },
};

static void setup(void)
{
	int i;

	rng_state = seed;
	for (i = 0; i < NPG; i++)
		pg_realloc(&pool[i], MAXR, chance(50));
	for (i = 0; i < NDEV; i++)
		devs[i].init_name = "hostile";
	for (i = 0; i < NSREF; i++) {
		srefs[i].r = calloc(1, sizeof(struct percpu_ref));
		if (!srefs[i].r)
			abort();
		if (chance(50))
			fill_garbage(srefs[i].r, sizeof(struct percpu_ref));
	}
	for (i = 0; i < NCOMP; i++)
		init_completion(&comps[i]);
	kmalloc_base = memremap_kmalloc_live();
	memremap_set_wait_bound_ms(WAIT_MS);
	memremap_warn_quiet(true);
}

/* Put everything this program holds back, with valid calls. */
static void teardown(void)
{
	int i;

	for (i = 0; i < NPG && !failed; i++)
		drain(&pool[i]);
	for (i = 0; i < NPG && !failed; i++) {
		struct pg *pg = &pool[i];

		if (pg->state != PG_LIVE && pg->state != PG_KILLED)
			continue;
		call(F_memunmap_pages);
		memunmap_pages(pg->map);
		CHECK(unmap_effect(pg) == 0);
		VALID();
	}
	for (i = 0; i < NDEV + 1 && !failed; i++) {
		int j, w = 0;

		call(F_devres_release_all);
		devres_release_all(i < NDEV ? &devs[i] : &stranger);
		for (j = ndevres - 1; j >= 0; j--) {
			if (devres[j].dev != i)
				continue;
			w += unmap_effect(devres[j].pg);
			memmove(&devres[j], &devres[j + 1],
				(ndevres - j - 1) * sizeof(devres[0]));
			ndevres--;
		}
		CHECK(warned() == (unsigned long)w);
		if (w)
			stats[cur].bad++;
		else
			stats[cur].valid++;
	}
	while (nalloc && !failed) {
		call(F_kfree);
		kfree(allocs[--nalloc].p);
		VALID();
	}
	for (i = 0; i < NSREF && !failed; i++) {
		call(F_percpu_ref_exit);
		percpu_ref_exit(srefs[i].r);
		if (srefs[i].state != SR_UNINIT)
			VALID();
		else
			QUIET();
		srefs[i].state = SR_UNINIT;
		srefs[i].held = 0;
	}
}

KTAP_CASE(random_calls_warn_or_succeed)
{
	unsigned int total = 0, pick;
	unsigned long valid = 0, bad = 0, quiet = 0, calls = 0;
	size_t i;
	int f, used = 0;

	for (i = 0; i < ARRAY_SIZE(ops); i++)
		total += ops[i].weight;
	setup();
	printf("    # seed %#lx, %lu steps (replay: hostile %#lx %lu)\n",
	       seed, count, seed, count);
	for (step = 0; step < count && !failed; step++) {
		pick = below(total);
		for (i = 0; pick >= ops[i].weight; i++)
			pick -= ops[i].weight;
		ops[i].fn();
		fig.steps++;
		if (!failed && (step % 128 == 127 || step + 1 == count))
			sweep();
	}
	if (!failed) {
		step = count;
		note("teardown");
		teardown();
		if (!failed)
			sweep();
	}
	memremap_warn_quiet(false);
	for (f = 0; f < NFN; f++) {
		calls += stats[f].calls;
		valid += stats[f].valid;
		bad += stats[f].bad;
		quiet += stats[f].quiet;
		used += stats[f].calls > 0;
	}
	printf("    # operations: %lu calls of %d functions in %lu steps\n",
	       calls, used, fig.steps);
	printf("    # valid %lu (succeeded, no WARN); bad %lu (each answered "
	       "by a WARN and a safe return); refused quietly as Linux "
	       "does %lu\n", valid, bad, quiet);
	printf("    # faults injected: %lu kmalloc, %lu percpu_ref_tryget\n",
	       fig.kmalloc_injected, fig.tryget_injected);
	printf("    # pgmaps: %lu maps tried, %lu mapped, %lu unmapped "
	       "cleanly, %lu abandoned by memunmap_pages()\n",
	       fig.maps_tried, fig.maps_ok, fig.clean_unmaps, fig.abandoned);
	printf("    # mapped: private %lu, coherent %lu, fs_dax %lu, generic "
	       "%lu, p2pdma %lu, unknown type %lu; compound %lu (order > 9: "
	       "%lu), altmap %lu, multi-range %lu, >= 4 TiB %lu, devm %lu, "
	       "with page_free %lu\n", fig.types[1], fig.types[2],
	       fig.types[3], fig.types[4], fig.types[5], fig.types[0],
	       fig.compound, fig.big_folio, fig.altmap, fig.multi, fig.huge,
	       fig.devm, fig.with_page_free);
	printf("    # folios: %lu activations, %lu page_free calls, %lu late "
	       "puts after a give-up; %lu bounded waits gave up; %lu "
	       "pre-patch spans across two ranges; %lu sweeps\n",
	       fig.activations, fig.frees, fig.late_puts, fig.waits,
	       fig.cross_spans, fig.sweeps);
	for (f = 0; f < NFN; f++)
		printf("    #   %-28s %7lu calls %7lu bad %6lu quiet\n",
		       fn_name[f], stats[f].calls, stats[f].bad,
		       stats[f].quiet);
	if (failed)
		return;
	/* Every function was called, and every one that can be misused was. */
	for (f = 0; f < NFN; f++) {
		if (!stats[f].calls ||
		    (fn_has_bad[f] && !stats[f].bad && count >= 20000))
			KTAP_FAIL("%s: %lu calls, %lu bad: not exercised",
				  fn_name[f], stats[f].calls, stats[f].bad);
	}
	if (count >= 20000) {
		/* Every kind of pgmap was mapped, and every way to fail. */
		for (f = 0; f < 6; f++)
			EXPECT_TRUE(fig.types[f] > 0);
		EXPECT_TRUE(fig.compound && fig.big_folio && fig.altmap);
		EXPECT_TRUE(fig.multi && fig.huge && fig.devm);
		EXPECT_TRUE(fig.abandoned && fig.late_puts && fig.waits);
		EXPECT_TRUE(fig.kmalloc_injected && fig.tryget_injected);
	}
	EXPECT_EQ(calls, valid + bad + quiet);
	EXPECT_EQ(memremap_kmalloc_live(), kmalloc_base);
}

KTAP_CASE(ledger_holds_only_the_abandoned)
{
	unsigned long n = memremap_ledger_count();
	int i, abandoned = nabandoned();

	if (failed) {
		KTAP_FAIL("the campaign failed; the ledger follows");
		memremap_ledger_print();
		return;
	}
	printf("    # ledger: %lu item(s) alive, %d pgmap(s) abandoned on "
	       "purpose\n", n, abandoned);
	EXPECT_EQ(n, abandoned);
	EXPECT_EQ(memremap_mapped_pgmaps(), abandoned);
	for (i = 0; i < NPG; i++) {
		struct pg *pg = &pool[i];

		if (pg->state != PG_ABANDONED)
			continue;
		/* Every late put is in: dead, idle, still mapped. */
		EXPECT_EQ(memremap_pgmap_pins(pg->map), 0);
		EXPECT_EQ(memremap_pgmap_busy_pages(pg->map), 0);
		EXPECT_TRUE(percpu_ref_is_zero(&pg->map->ref));
		EXPECT_TRUE(memremap_pgmap_is_abandoned(pg->map));
	}
	if (n != (unsigned long)abandoned)
		memremap_ledger_print();
}

static unsigned long arg(int argc, char **argv, int i, const char *env,
			 unsigned long def)
{
	const char *s = i < argc ? argv[i] : getenv(env);

	return s && *s ? strtoul(s, NULL, 0) : def;
}

int main(int argc, char **argv)
{
	static const struct ktap_case cases[] = {
		KTAP_ENTRY(random_calls_warn_or_succeed),
		KTAP_ENTRY(ledger_holds_only_the_abandoned),
	};
	int ret;

	seed = arg(argc, argv, 1, "HOSTILE_SEED", DEFAULT_SEED);
	count = arg(argc, argv, 2, "HOSTILE_COUNT", DEFAULT_COUNT);
	trace = getenv("HOSTILE_TRACE") != NULL;
	ret = ktap_run("hostile", cases, ARRAY_SIZE(cases));
	if (ret)
		printf("# replay: hostile %#lx %lu\n", seed, count);
	return ret;
}
