// SPDX-License-Identifier: GPL-2.0-only
/*
 * The library against the C reference of its generation
 * (c-tests/reference/gen/gen_<generation>.c), built once per generation
 * (generations.mk): a driver allocates folios from its own free pages
 * (order 0, and order 9 from 6.19-rc on) and frees them, in a seeded
 * random order; the same steps run on two pgmaps, one through the library,
 * one through the reference, and after every step every word of every
 * struct page of both (pointers into each side translated to the other),
 * the pgmap pins and the free callbacks must agree, and so must the WARN
 * counts wherever the kernel's contract is kept.
 *
 * 6.19 re-uses freed pages at any order; 6.19-rc only at the order they
 * last had (as nouveau's per-order free lists do): re-using them at
 * another order is the defect 6.19 fixes, and the reference, like the
 * kernel, then frees through a stale compound head. DIFF_STEPS and
 * DIFF_SEED in the environment change the campaign.
 *
 * Built with -DDIFF_FUZZ=<entry>, it is the engine of the generations
 * fuzz target (c-tests/fuzz/generations.c): no main, the draws come from
 * diff_fuzz_rand() (the input's bytes), the steps from diff_fuzz_steps(),
 * and <entry>() runs the case once and says whether every check held; the
 * checks that a seeded campaign is not vacuous are left to the campaign.
 */
#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/err.h>
#include <memremap/generation.h>
#include <memremap/test.h>
#include <stdlib.h>
#include "../reference/gen/gen_common.h"
#include "ktap.h"

#ifndef GEN_SUITE
#error "GEN_SUITE: the suite name (generations.mk)"
#endif

#define NR	1024UL			/* pages per pgmap: two 2 MiB */
#define LARGE	(MEMREMAP_GEN >= MEMREMAP_GEN_6_19_RC)
/* The flags below the memmap's section number (bits 33 up). */
#define SECTION_LOW	((1UL << 33) - 1)

enum side { LIB, REF };

static struct dev_pagemap pgmaps[2];
static unsigned long pfn0[2];
/* Free callbacks: the page index freed, per side, in order. */
static unsigned long freed_log[2][64];
static unsigned int freed_n[2];

static unsigned long index_of(const struct page *page, enum side *s)
{
	unsigned long pfn = page_to_pfn(page);

	*s = pfn - pfn0[LIB] < NR ? LIB : REF;
	return pfn - pfn0[*s];
}

static void log_free(const struct page *page)
{
	enum side s;
	unsigned long i = index_of(page, &s);

	if (freed_n[s] < 64)
		freed_log[s][freed_n[s]] = i;
	freed_n[s]++;
}

#if LARGE
static void free_cb(struct folio *folio)
{
	log_free(&folio->page);
}
#else
static void free_cb(struct page *page)
{
	log_free(page);
}
#endif

static vm_fault_t no_migrate(struct vm_fault *vmf)
{
	(void)vmf;
	return 0;
}

static const struct dev_pagemap_ops ops = {
#if LARGE
	.folio_free = free_cb,
#else
	.page_free = free_cb,
#endif
	.migrate_to_ram = no_migrate,
};

static int owner;

static struct page *page_at(enum side s, unsigned long i)
{
	return pfn_to_page(pfn0[s] + i);
}

/* The library's zone_device_*_init() of this generation. */
static void lib_init(struct folio *folio, unsigned int order)
{
#if MEMREMAP_GEN == MEMREMAP_GEN_6_19
	zone_device_folio_init(folio, &pgmaps[LIB], order);
#elif MEMREMAP_GEN == MEMREMAP_GEN_6_19_RC
	zone_device_folio_init(folio, order);
#else
	(void)order;
	zone_device_page_init(&folio->page);
#endif
}

/* A word of a LIB page, as the same word of the REF side would read. */
static unsigned long translate(unsigned long v)
{
	unsigned long c, low = v & 7, p = v & ~7UL;

	if (p >= (unsigned long)&pgmaps[LIB] &&
	    p < (unsigned long)(&pgmaps[LIB] + 1))
		return v - (unsigned long)&pgmaps[LIB] +
			(unsigned long)&pgmaps[REF];
	for (c = 0; c < NR; c += 512) {
		unsigned long base = (unsigned long)page_at(LIB, c);

		if (p >= base && p < base + 512 * sizeof(struct page))
			return (unsigned long)page_at(REF, c) + (p - base) + low;
	}
	return v;
}

/* Compare every word of every page; report the first difference. */
static bool same_memmap(unsigned long step, bool report)
{
	unsigned long i, w;

	for (i = 0; i < NR; i++) {
		const unsigned long *l = (const void *)page_at(LIB, i);
		const unsigned long *r = (const void *)page_at(REF, i);

		for (w = 0; w < sizeof(struct page) / sizeof(long); w++) {
			unsigned long lw = __atomic_load_n(&l[w],
							   __ATOMIC_RELAXED);

			unsigned long rw = r[w];

			/* flags: the memmap section number differs. */
			if (w == 0) {
				lw &= SECTION_LOW;
				rw &= SECTION_LOW;
			}
			if (translate(lw) != rw) {
				if (!report)
					return false;
				KTAP_FAIL("step %lu: page %lu word %lu: library "
					  "%#lx (as the reference's: %#lx), "
					  "reference %#lx", step, i, w, lw,
					  translate(lw), rw);
				return false;
			}
		}
	}
	return true;
}

static unsigned long long rng;

#ifdef DIFF_FUZZ
unsigned long diff_fuzz_rand(void);
unsigned long diff_fuzz_steps(void);
#define next_rand diff_fuzz_rand
#define DIFF_DEFAULT_STEPS diff_fuzz_steps()
#else
#define DIFF_DEFAULT_STEPS 10000

static unsigned long next_rand(void)
{
	rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
	return (unsigned long)(rng >> 33);
}
#endif

static unsigned long env_or(const char *name, unsigned long dflt)
{
	const char *v = getenv(name);

	return v && *v ? strtoul(v, NULL, 0) : dflt;
}

KTAP_CASE(library_and_reference_agree)
{
	/* Driver view: 0 free, else 1 + order of the live folio headed here. */
	static unsigned char live[NR];
	/* The order each page's last folio had (6.19-rc re-use rule). */
	static signed char last_order[NR];
	unsigned long steps = env_or("DIFF_STEPS", DIFF_DEFAULT_STEPS), step, i;
	unsigned long inits = 0, frees = 0, large = 0, cross = 0;
	enum side s;

	rng = env_or("DIFF_SEED", 20260130);
	memremap_set_wait_bound_ms(1000);
	for (s = LIB; s <= REF; s++) {
		struct dev_pagemap *pg = &pgmaps[s];

		memset(pg, 0, sizeof(*pg));
		pg->type = MEMORY_DEVICE_PRIVATE;
		pg->range.start = (128UL << 30) + s * (NR << PAGE_SHIFT);
		pg->range.end = pg->range.start + (NR << PAGE_SHIFT) - 1;
		pg->nr_range = 1;
		pg->ops = &ops;
		pg->owner = &owner;
		EXPECT_FALSE(IS_ERR(memremap_pages(pg, 0)));
		pfn0[s] = pg->range.start >> PAGE_SHIFT;
		freed_n[s] = 0;
	}
	memset(live, 0, sizeof(live));
	memset(last_order, -1, sizeof(last_order));
	for (step = 0; step < steps && !ktap_failures; step++) {
		unsigned long warns[2], w0;
		bool do_init = next_rand() % 2;
		unsigned int order = LARGE && next_rand() % 4 == 0 ? 9 : 0;
		unsigned long at = next_rand() % NR;

		if (do_init) {
			unsigned long n = 1UL << order, j;
			bool ok;

#if MEMREMAP_GEN == MEMREMAP_GEN_6_19_RC
			/* Per-order free lists: large folios in the first half. */
			at = order ? 0 : NR / 2 + at % (NR / 2);
#endif

			at &= ~(n - 1);
			ok = true;
			for (j = 0; j < n && ok; j++) {
				ok = !live[at + j] && page_ref_count(
					page_at(LIB, at + j)) == 0;
#if MEMREMAP_GEN == MEMREMAP_GEN_6_19_RC
				ok = ok && (last_order[at + j] < 0 ||
					    last_order[at + j] == (int)order);
#endif
			}
			/* A page inside a live folio is not free either. */
			for (j = 0; j < NR && ok; j++)
				ok = !live[j] || j + (1UL << (live[j] - 1)) <=
					at || j >= at + n;
			if (!ok)
				continue;
			w0 = memremap_warn_count();
			lib_init((struct folio *)page_at(LIB, at), order);
			folio_unlock(page_folio(page_at(LIB, at)));
			warns[LIB] = memremap_warn_count() - w0;
			w0 = memremap_warn_count();
			ref_folio_init((struct folio *)page_at(REF, at),
				       &pgmaps[REF], order);
			folio_unlock(page_folio(page_at(REF, at)));
			warns[REF] = memremap_warn_count() - w0;
			live[at] = order + 1;
			for (j = 0; j < n; j++) {
				/* Pages that last were in a folio of another order. */
				cross += last_order[at + j] >= 0 &&
					 last_order[at + j] != (int)order;
				last_order[at + j] = order;
			}
			inits++;
			large += order != 0;
		} else {
			for (i = 0; i < NR && !live[(at + i) % NR]; i++)
				;
			if (i == NR)
				continue;
			at = (at + i) % NR;
			w0 = memremap_warn_count();
			folio_put((struct folio *)page_at(LIB, at));
			warns[LIB] = memremap_warn_count() - w0;
			w0 = memremap_warn_count();
			ref_folio_put((struct folio *)page_at(REF, at));
			warns[REF] = memremap_warn_count() - w0;
			live[at] = 0;
			frees++;
		}
		EXPECT_EQ(warns[LIB], warns[REF]);
		EXPECT_EQ(memremap_pgmap_pins(&pgmaps[LIB]),
			  memremap_pgmap_pins(&pgmaps[REF]));
		EXPECT_EQ(freed_n[LIB], freed_n[REF]);
		if (freed_n[LIB] && freed_n[LIB] == freed_n[REF])
			EXPECT_EQ(freed_log[LIB][(freed_n[LIB] - 1) % 64],
				  freed_log[REF][(freed_n[REF] - 1) % 64]);
		if (freed_n[LIB] >= 64)
			freed_n[LIB] = freed_n[REF] = 0;
		same_memmap(step, true);
	}
	for (i = 0; i < NR; i++) {
		if (!live[i])
			continue;
		folio_put((struct folio *)page_at(LIB, i));
		ref_folio_put((struct folio *)page_at(REF, i));
		live[i] = 0;
	}
	same_memmap(steps, true);
	EXPECT_EQ(memremap_pgmap_pins(&pgmaps[LIB]), 0);
	EXPECT_EQ(memremap_pgmap_pins(&pgmaps[REF]), 0);
#ifndef DIFF_FUZZ
	printf("    # %s: %lu steps, %lu inits (%lu large), %lu frees, "
	       "%lu pages re-used at another order\n",
	       GEN_SUITE, steps, inits, large, frees, cross);
	EXPECT_TRUE(inits > steps / 8);
	EXPECT_TRUE(!LARGE || large > 0);
	EXPECT_TRUE(MEMREMAP_GEN != MEMREMAP_GEN_6_19 || cross > 0);
#else
	(void)inits;
	(void)large;
	(void)frees;
	(void)cross;
#endif
	/* The comparison is not blind: one changed word is seen. */
	{
		struct page *p = page_at(LIB, 700);
		unsigned long saved = p->private;

		p->private = saved ^ 0x40;
		EXPECT_FALSE(same_memmap(steps + 1, false));
		p->private = saved;
		EXPECT_TRUE(same_memmap(steps + 2, false));
	}
	memunmap_pages(&pgmaps[LIB]);
	memunmap_pages(&pgmaps[REF]);
	EXPECT_WARNS(0);
	memremap_set_wait_bound_ms(10000);
}

#ifndef DIFF_FUZZ
KTAP_MAIN(GEN_SUITE "_differential",
	  KTAP_ENTRY(library_and_reference_agree))
#else
bool DIFF_FUZZ(void);

bool DIFF_FUZZ(void)
{
	ktap_failures = 0;
	ktap_warn_base = memremap_warn_count();
	library_and_reference_agree();
	return !ktap_failures;
}
#endif
