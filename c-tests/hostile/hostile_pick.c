// SPDX-License-Identifier: GPL-2.0-only
/*
 * The hostile campaign's draws: one source (a seeded generator, or a fuzz
 * input's bytes), and the arguments picked from it: pgmaps of the pool and
 * bad ones, pgmap configurations (types, ops, owners, orders, ranges,
 * altmaps), pfns, offsets, orders, held and idle folios.
 */
#include "hostile.h"

/*
 * ---- the source of draws ----
 *
 * Every choice the campaign makes is a draw from one source: the seeded
 * generator (splitmix64) for the hostile program, or the bytes of an input
 * for the fuzz targets (c-tests/fuzz/), which thus run the same operations
 * under the same model. From bytes, below(n) takes as few bytes as n
 * needs and rnd() eight; once the bytes run out every draw is 0 and
 * draws_out() says so, and the program ends with its teardown.
 */

static u64 rng_state;
static const unsigned char *in_bytes;
static size_t in_left;
static bool in_out;

void rnd_seed(u64 seed)
{
	rng_state = seed;
	in_bytes = NULL;
	in_left = 0;
	in_out = false;
}

void rnd_bytes(const void *data, size_t size)
{
	in_bytes = data;
	in_left = size;
	in_out = false;
}

bool draws_from_bytes(void)
{
	return in_bytes != NULL;
}

bool draws_out(void)
{
	return in_out;
}

/* The next @n bytes of the input, little-endian; 0 once it is spent. */
static u64 take(unsigned int n)
{
	u64 v = 0;
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (!in_left) {
			in_out = true;
			return v;
		}
		v |= (u64)*in_bytes++ << (8 * i);
		in_left--;
	}
	return v;
}

static u64 splitmix(u64 *state)
{
	u64 z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

u64 rnd(void)
{
	if (in_bytes)
		return take(8);
	return splitmix(&rng_state);
}

unsigned long below(unsigned long n)
{
	unsigned int k = 1;

	if (!n)
		return 0;
	if (!in_bytes)
		return rnd() % n;
	while (k < 8 && (n - 1) >> (8 * k))
		k++;
	return take(k) % n;
}

bool chance(unsigned int pct)
{
	return below(100) < pct;
}

void fill_garbage(void *p, size_t n)
{
	unsigned char *b = p;
	u64 state;
	size_t i;

	if (!in_bytes) {
		for (i = 0; i < n; i++)
			b[i] = rnd();
		return;
	}
	/* From bytes: garbage grown from one draw, not a draw a byte. */
	state = take(8);
	for (i = 0; i < n; i++)
		b[i] = splitmix(&state);
}

/* ---- picking arguments ---- */
struct pg *random_pg(void)
{
	return &pool[below(NPG)];
}

struct pg *random_registered(void)
{
	struct pg *cand[NPG];
	int i, n = 0;

	for (i = 0; i < NPG; i++)
		if (registered(&pool[i]))
			cand[n++] = &pool[i];
	return n ? cand[below(n)] : NULL;
}

struct pg *random_in(enum pg_state state)
{
	struct pg *cand[NPG];
	int i, n = 0;

	for (i = 0; i < NPG; i++)
		if (pool[i].state == state)
			cand[n++] = &pool[i];
	return n ? cand[below(n)] : NULL;
}

/* A pgmap argument: mostly live ones, then every kind of bad one. */
struct target pick_target(void)
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

const char *tname(const struct target *t)
{
	static const char *const st[] = { "free", "live", "killed",
					  "unmapped", "abandoned" };

	if (t->pg)
		return st[t->pg->state];
	return t->p ? "scratch" : "NULL";
}

int pg_index(const struct pg *pg)
{
	return pg ? (int)(pg - pool) : -1;
}

/* A pfn inside span @s, from a few hot spots when the span is huge. */
unsigned long pfn_within(const struct span *s)
{
	unsigned long n = s->end - s->start + 1, spot;

	if (n <= 4096)
		return s->start + below(n);
	/* One draw per statement: C leaves the order of operands open. */
	spot = below(16) * (n / 16);
	return s->start + spot + below(4);
}

unsigned long pick_pfn(void)
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
unsigned long pick_offset(const struct pg *pg)
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

int pick_order(const struct pg *pg)
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

struct held *random_held(void)
{
	return nheld ? &held[below(nheld)] : NULL;
}

struct pg *random_pinned(void)
{
	struct pg *cand[NPG];
	int i, n = 0;

	for (i = 0; i < NPG; i++)
		if (registered(&pool[i]) && pool[i].devpins)
			cand[n++] = &pool[i];
	return n ? cand[below(n)] : NULL;
}

/* ---- pgmap configurations ---- */

void pg_realloc(struct pg *pg, int cap, bool garbage)
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

void gen_config(struct pg *pg, int nr)
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

/* ---- pages ---- */

/* An idle page of a registered pgmap (a head if @head), or NULL. */
struct page *idle_page(struct pg **owner, bool head)
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

struct page *tail_of(const struct held *h)
{
	unsigned long n = 1UL << h->pg->shift;

	if (n == 1)
		return &h->folio->page;
	return pfn_to_page(h->pfn + 1 + below(min(n - 1, 4096UL)));
}
