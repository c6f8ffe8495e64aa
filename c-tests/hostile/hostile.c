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
 *
 * This file is the driver; hostile.h lists the campaign's other parts
 * (the model, the draws, the operations).
 */
#include "hostile.h"
#include "ktap.h"

/* ---- what was tried, and how it was answered ---- */

#define X_NAME(name, bad) #name,
static const char *const fn_name[NFN] = { FUNCS(X_NAME) };
#undef X_NAME

#define X_BAD(name, bad) bad,
static const bool fn_has_bad[NFN] = { FUNCS(X_BAD) };
#undef X_BAD

struct fn_stats stats[NFN];
struct figures fig;

/* ---- failure reporting: the seed, the step, the steps before ---- */

#define RING	16

static unsigned long seed, count;
unsigned long step;
bool failed;
static bool trace;
static char ring[RING][160];

void note(const char *fmt, ...)
{
	va_list ap;
	char *s = ring[step % RING];

	va_start(ap, fmt);
	vsnprintf(s, sizeof(ring[0]), fmt, ap);
	va_end(ap);
	if (trace)
		printf("    # step %lu: %s\n", step, s);
}

void fail_at(const char *file, int line, const char *what)
{
	unsigned long i, first;
	struct memremap_warn_record rec;

	if (failed)
		return;
	failed = true;
	KTAP_FAIL("step %lu (seed %#lx): %s:%d: %s", step, seed, file, line,
		  what);
	if (memremap_warn_last(&rec))
		printf("    # last WARN: %s:%d %s: %.200s\n", rec.file,
		       rec.line, rec.function, rec.message);
	first = step >= RING - 1 ? step - (RING - 1) : 0;
	for (i = first; i <= step; i++)
		printf("    #   step %lu: %s\n", i, ring[i % RING]);
	if (draws_from_bytes())
		printf("    # replay: the fuzz target, on the input\n");
	else
		printf("    # replay: hostile %#lx %lu\n", seed, step + 1);
}

/* A WARN window around one call under test. */
static unsigned long warn0;
enum fn cur;

void call(enum fn f)
{
	cur = f;
	stats[f].calls++;
	memremap_warn_rearm();
	warn0 = memremap_warn_count();
}

unsigned long warned(void)
{
	return memremap_warn_count() - warn0;
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
	for (i = 0; i < NDEV + 1 && !failed; i++)
		release_devres(i);
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

/*
 * The fuzz target c-tests/fuzz/api.c includes this file for the parts
 * above (failure reporting, the call window, the teardown) and
 * drives the operations from its input instead.
 */
#ifndef HOSTILE_NO_MAIN
static void setup(void)
{
	int i;

	rnd_seed(seed);
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
	/* Hundreds of thousands of WARNs: no call traces. */
	memremap_warn_set_traces(false);
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
#endif /* HOSTILE_NO_MAIN */
