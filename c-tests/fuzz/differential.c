// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz target "differential": the input is a pgmap layout and a scenario,
 * run once through the library and once through the seed's C reference
 * (c-tests/reference/after.c, linked under ref_after_* names, over the
 * library's substrate: its memmap, refcounts and percpu_ref), on the same
 * pfns, one after the other, in one process. After every step both sides
 * record what came back (a folio as its pfn, a word), the WARNs of the step
 * (WARN_ON_ONCE sites re-armed before each), the touched folio's refcount,
 * the pgmap's pins and the page_free() calls; the two records must be
 * equal, entry by entry.
 *
 * Only the step classes on which the two sides must agree exactly are
 * drawn, plus one documented divergence checked exactly (docs/DESIGN.md
 * §5: an offset past the end, where the C goes on to pfn_to_page(-1)):
 *
 *	request		pgmap_request_folio() of a head offset with the
 *			folio's order, or a wrong order, on a live or a
 *			killed pgmap
 *	past the end	an offset at or past the pgmap's size (the
 *			divergence: the library WARNs once and returns NULL;
 *			the C also WARNs in pfn_to_page(-1))
 *	translations	pfn_to_pgmap_offset() of pfns in, around and between
 *			the ranges; pgmap_offset_to_pfn() of offsets in and
 *			past the pgmap (below 2^40: no PFN_PHYS() wrap)
 *	put, get, kill	the same library call on both sides (folio_put(),
 *			folio_get() of a held folio; percpu_ref_kill())
 *	dying		the second documented divergence: after the kill,
 *			the library's translations return -1 with a WARN,
 *			the C's translate quietly (each side checked alone)
 *
 * Not drawn (the Rust differential, tests/differential/, covers them): tail
 * offsets, offsets and pfns at and above 2^52, altmaps, injected tryget
 * failures (the seed's failure path, docs/FINDINGS.md), and the pre-patch
 * pair of c-tests/reference/before.c.
 */
#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/percpu-refcount.h>
#include <linux/err.h>
#include <memremap/test.h>
#include <string.h>
#include "fuzz/fuzz.h"

struct folio *ref_after_pgmap_request_folio(struct dev_pagemap *pgmap,
					    pgoff_t pgmap_offset, int order);
pgoff_t ref_after_pfn_to_pgmap_offset(struct dev_pagemap *pgmap,
				      unsigned long pfn);
unsigned long ref_after_pgmap_offset_to_pfn(struct dev_pagemap *pgmap,
					    pgoff_t pgmap_offset);

#define SZ_2M		(2UL << 20)
#define SUB		(SZ_2M >> PAGE_SHIFT)
#define BASE		(8UL << 30)
#define MAXR		3
#define MAXSTEPS	96
#define MAXHELD		64
#define TRACE_MAX	(MAXSTEPS * 6 + 8)

enum side { LIB, REF };

/* The input, read a byte at a time; 0 once it is spent. */
static const uint8_t *in;
static size_t left;

static unsigned int byte(void)
{
	if (!left)
		return 0;
	left--;
	return *in++;
}

static unsigned long word(void)
{
	return byte() | byte() << 8;
}

struct layout {
	int nr;
	unsigned int shift;
	bool private;
	unsigned long start[MAXR], len[MAXR];	/* pfns */
	unsigned long total;
};

struct trace {
	int n;
	long long v[TRACE_MAX];
	const char *what[TRACE_MAX];
};

static struct trace traces[2];
static unsigned long frees;

static void count_free(struct page *page)
{
	(void)page;
	frees++;
}

static vm_fault_t no_migrate(struct vm_fault *vmf)
{
	(void)vmf;
	return VM_FAULT_SIGBUS;
}

static const struct dev_pagemap_ops ops = {
	.page_free = count_free,
	.migrate_to_ram = no_migrate,
};

static int owner;

static void rec(struct trace *t, const char *what, long long v)
{
	if (t->n < TRACE_MAX) {
		t->what[t->n] = what;
		t->v[t->n++] = v;
	}
}

static struct {
	struct dev_pagemap pgmap;
	struct range more[MAXR - 1];
} m;

static void map(const struct layout *l)
{
	int i;

	memset(&m, 0, sizeof(m));
	m.pgmap.type = l->private ? MEMORY_DEVICE_PRIVATE :
				    MEMORY_DEVICE_GENERIC;
	m.pgmap.ops = l->private ? &ops : NULL;
	m.pgmap.owner = &owner;
	m.pgmap.vmemmap_shift = l->shift;
	m.pgmap.nr_range = l->nr;
	for (i = 0; i < l->nr; i++) {
		m.pgmap.ranges[i].start = l->start[i] << PAGE_SHIFT;
		m.pgmap.ranges[i].end = ((l->start[i] + l->len[i])
					 << PAGE_SHIFT) - 1;
	}
	FUZZ_CHECK(!IS_ERR(memremap_pages(&m.pgmap, 0)));
}

/*
 * docs/DESIGN.md §5: on a dying pgmap the library's translations return -1
 * with a WARN; the seed's C translates as before, quietly. Returns the
 * WARNs to leave out of the step's count.
 */
static int dying_translation(enum side s, unsigned long r, unsigned long w0)
{
	unsigned long w = memremap_warn_count() - w0;

	if (s == REF) {
		FUZZ_CHECK(w == 0);
		return 0;
	}
	FUZZ_CHECK(r == -1UL && w == 1);
	return 1;
}

/* One scenario on one side; the bytes of the scenario are re-read. */
static void run(const struct layout *l, enum side s, const uint8_t *data,
		size_t size)
{
	struct trace *t = &traces[s];
	struct folio *held[MAXHELD];
	int nheld = 0, step, i;
	unsigned long w0, off, pfn, r;
	struct folio *f;
	bool killed = false;

	in = data;
	left = size;
	t->n = 0;
	frees = 0;
	map(l);
	for (step = 0; step < MAXSTEPS && left; step++) {
		unsigned int op = byte() % 8, order;

		memremap_warn_rearm();
		w0 = memremap_warn_count();
		f = NULL;
		switch (op) {
		case 0:
		case 1:
		case 2:
			/* A head offset; sometimes past the end. */
			off = (word() << l->shift) %
			      (l->total + (l->total >> 2));
			order = l->shift;
			switch (byte() % 8) {
			case 0:
				order = l->shift + 1;
				break;
			case 1:
				order = l->shift - 1;
				break;
			case 2:
				order = 256 + l->shift;
				break;
			}
			if (nheld == MAXHELD)
				break;
			f = s == LIB ? pgmap_request_folio(&m.pgmap, off,
							   order) :
				ref_after_pgmap_request_folio(&m.pgmap, off,
							      order);
			rec(t, "request", f ? (long long)folio_pfn(f) : -1);
			if (f)
				held[nheld++] = f;
			if (off >= l->total) {
				/* docs/DESIGN.md §5: past the end. */
				FUZZ_CHECK(!f);
				if (s == REF) {
					/* and pfn_to_page(-1)'s WARN */
					FUZZ_CHECK(memremap_warn_count() - w0
						   == 2);
					w0++;
				}
			}
			break;
		case 3:
			if (!nheld)
				break;
			i = byte() % nheld;
			f = held[i];
			folio_put(f);
			held[i] = held[--nheld];
			rec(t, "put", folio_pfn(f));
			break;
		case 4:
			if (!nheld)
				break;
			f = held[byte() % nheld];
			if (nheld == MAXHELD)
				break;
			folio_get(f);
			held[nheld++] = f;
			rec(t, "get", folio_pfn(f));
			break;
		case 5:
			i = byte() % l->nr;
			pfn = l->start[i] + (word() % (l->len[i] + 2 * SUB)) -
			      SUB;
			r = s == LIB ? pfn_to_pgmap_offset(&m.pgmap, pfn) :
				       ref_after_pfn_to_pgmap_offset(&m.pgmap,
								     pfn);
			if (killed)
				w0 += dying_translation(s, r, w0);
			else
				rec(t, "pfn_to_offset", r);
			break;
		case 6:
			off = word() % (l->total + 2 * SUB);
			r = s == LIB ? pgmap_offset_to_pfn(&m.pgmap, off) :
				       ref_after_pgmap_offset_to_pfn(&m.pgmap,
								     off);
			if (killed)
				w0 += dying_translation(s, r, w0);
			else
				rec(t, "offset_to_pfn", r);
			break;
		default:
			if (killed || byte() % 4)
				break;
			percpu_ref_kill(&m.pgmap.ref);
			killed = true;
			rec(t, "kill", 0);
		}
		rec(t, "warns", memremap_warn_count() - w0);
		if (f)
			rec(t, "refcount", folio_ref_count(f));
		rec(t, "pins", memremap_pgmap_pins(&m.pgmap));
		rec(t, "frees", frees);
	}
	while (nheld)
		folio_put(held[--nheld]);
	rec(t, "end pins", memremap_pgmap_pins(&m.pgmap));
	rec(t, "end frees", frees);
	memunmap_pages(&m.pgmap);
	FUZZ_CHECK(!memremap_pgmap_is_mapped(&m.pgmap));
}

static void layout(struct layout *l)
{
	unsigned long at = BASE >> PAGE_SHIFT;
	int i;

	l->nr = 1 + byte() % MAXR;
	l->shift = byte() % 3;
	l->private = byte() & 1;
	l->total = 0;
	for (i = 0; i < l->nr; i++) {
		at += (byte() % 3) * SUB;	/* a gap, or adjacent */
		l->start[i] = at;
		l->len[i] = (1 + byte() % 3) * SUB;
		at += l->len[i];
		l->total += l->len[i];
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	memremap_warn_quiet(!getenv("FUZZ_WARNS"));
	memremap_set_wait_bound_ms(50);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned long live = memremap_kmalloc_live();
	struct layout l;
	size_t used;
	int i;

	in = data;
	left = size;
	layout(&l);
	used = size - left;
	run(&l, LIB, data + used, size - used);
	run(&l, REF, data + used, size - used);
	for (i = 0; i < traces[LIB].n || i < traces[REF].n; i++) {
		if (i < traces[LIB].n && i < traces[REF].n &&
		    !strcmp(traces[LIB].what[i], traces[REF].what[i]) &&
		    traces[LIB].v[i] == traces[REF].v[i])
			continue;
		fprintf(stderr, "differential: entry %d differs: library "
			"%s = %lld, reference %s = %lld\n", i,
			i < traces[LIB].n ? traces[LIB].what[i] : "(end)",
			i < traces[LIB].n ? traces[LIB].v[i] : 0,
			i < traces[REF].n ? traces[REF].what[i] : "(end)",
			i < traces[REF].n ? traces[REF].v[i] : 0);
		fuzz_crash("the library and the reference differ");
	}
	FUZZ_CHECK(memremap_kmalloc_live() == live);
	FUZZ_CHECK(memremap_mapped_pgmaps() == 0);
	FUZZ_CHECK(memremap_ledger_count() == memremap_kmalloc_live());
	return 0;
}
