// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz target "api": the input is a program of calls over the whole C API,
 * run by the hostile campaign's own operations and checked against its own
 * model (c-tests/hostile/): every draw an operation makes, the operation
 * itself included, comes from the input's bytes instead of the seeded
 * generator. A call must succeed as the model says, or WARN exactly once
 * (or as many times as the model says) and change nothing; the model is
 * checked against the library after every step (refcounts, pins,
 * page_free calls, mapped pgmaps, live allocations, the ledger). When the
 * bytes run out, everything held is put back with valid calls, and no
 * allocation may remain.
 *
 * Beyond the hostile program's operations, this target draws four more
 * (hostile.h), which set up the defect classes of repro.c that no
 * operation made: a stray complete() before an unmap with references
 * held, a wait for ever, a stale struct page * after its pgmap is gone,
 * and ledger reads racing an unmap on another thread.
 *
 * Pgmaps that memunmap_pages() gives up on stay mapped for good, as in the
 * kernel: they stay in the pool from one input to the next (the model
 * knows them), at most 4 in a process (each keeps the memmap it grew,
 * which every ledger count reads); after that an input's unmap with
 * references held drains them first.
 *
 * A failed check prints the steps before it and aborts (a crash to
 * libFuzzer). HOSTILE_TRACE=1 prints every step, for a replay.
 */
#define HOSTILE_NO_MAIN
#include "hostile/hostile.c"
#include "fuzz/fuzz.h"
#include <time.h>

/* A check of the input's end, reported as the model's checks are. */
#define CHECK_FUZZ(cond)						\
	do {								\
		if (!(cond))						\
			fail_at(__FILE__, __LINE__, #cond);		\
	} while (0)

/* Steps of one input at most (the bytes usually run out first). */
#define MAX_STEPS	4096

static void (*const fuzz_ops[])(void) = {
	op_map, op_unmap, op_kill, op_scramble, op_request, op_put, op_get,
	op_request_folios, op_release_folios, op_translate,
	op_get_dev_pagemap, op_put_dev_pagemap, op_pages, op_lock, op_null,
	op_pgref, op_sref, op_kmalloc, op_completion, op_misc,
	/* only here */
	op_stray_complete, op_stale, op_wait_long, op_race_ledger,
};

/* Everything the model holds back to its start; abandoned pgmaps stay. */
static void fuzz_reset(void)
{
	int i;

	rnd_seed(DEFAULT_SEED);		/* the pool's garbage: fixed */
	for (i = 0; i < NPG; i++) {
		struct pg *pg = &pool[i];

		if (pg->state == PG_ABANDONED)
			continue;
		free(pg->map);
		memset(pg, 0, sizeof(*pg));
		pg_realloc(pg, MAXR, chance(50));
	}
	nheld = 0;
	ndevres = 0;
	for (i = 0; i < NDEV; i++)
		devs[i].init_name = "hostile";
	for (i = 0; i < NSREF; i++) {
		free(srefs[i].r);
		memset(&srefs[i], 0, sizeof(srefs[i]));
		srefs[i].r = calloc(1, sizeof(struct percpu_ref));
		if (!srefs[i].r)
			abort();
		if (chance(50))
			fill_garbage(srefs[i].r, sizeof(struct percpu_ref));
	}
	for (i = 0; i < NCOMP; i++) {
		init_completion(&comps[i]);
		comp_done[i] = 0;
	}
	nalloc = 0;
	nstale = 0;
	kmalloc_base = memremap_kmalloc_live();
	last_free_pfn = -1UL;
	/* Each wait costs the bound: one of each kind an input. */
	deadlocks_left = 1;
	waits_left = 1;
	memset(stats, 0, sizeof(stats));
	memset(&fig, 0, sizeof(fig));
	failed = false;
	step = 0;
}

/* ---- which defect classes of repro.c were set up, and when ---- */

static unsigned long reached[9], inputs;
static bool reach_quiet;
static double t0;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Say when each class was first set up; with FUZZ_REACH_DIR, keep the
 * input that first set it up there, as repro<N> (the regression inputs
 * of regress/api/ came from these).
 */
static void report_reach(const uint8_t *data, size_t size)
{
	const char *dir = getenv("FUZZ_REACH_DIR");
	char path[4096];
	FILE *f;
	int i;

	for (i = 1; i <= 8; i++) {
		if (reached[i] || !fig.repro[i])
			continue;
		reached[i] = inputs;
		if (reach_quiet)
			continue;
		fprintf(stderr, "#fuzz-api: repro %d first set up by input %lu "
			"at %.1f s\n", i, inputs, now() - t0);
		if (!dir)
			continue;
		snprintf(path, sizeof(path), "%s/repro%d", dir, i);
		f = fopen(path, "wb");
		if (f) {
			fwrite(data, 1, size, f);
			fclose(f);
		}
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	trace = getenv("HOSTILE_TRACE") != NULL;
	reach_quiet = getenv("FUZZ_REPLAY") != NULL;
	max_abandon = 4;
	memremap_warn_quiet(!getenv("FUZZ_WARNS"));
	/*
	 * The shortest bound the operations allow (op_completion() waits 2
	 * ms for a completion not done, and wants no WARN for it).
	 */
	memremap_set_wait_bound_ms(2);
	t0 = now();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t n = ARRAY_SIZE(fuzz_ops);

	fuzz_reset();
	seed = 0;
	count = MAX_STEPS;
	rnd_bytes(data, size);
	for (step = 0; step < count && !failed && !draws_out(); step++) {
		fuzz_ops[below(n)]();
		fig.steps++;
		/*
		 * Each operation checks what it touched; the sweep checks
		 * everything, the ledger too, whose count reads every page of
		 * the mapped pgmaps' memmap (src/ledger.rs), so not every step.
		 */
		if (!failed && step % 8 == 7)
			sweep();
	}
	if (!failed)
		sweep();
	if (!failed) {
		note("teardown");
		teardown();
		if (!failed)
			sweep();
	}
	/* Nothing left but the pgmaps abandoned on purpose. */
	if (!failed) {
		CHECK_FUZZ(memremap_kmalloc_live() == kmalloc_base);
		CHECK_FUZZ(memremap_mapped_pgmaps() ==
			   (unsigned long)nabandoned());
		CHECK_FUZZ(memremap_ledger_count() ==
			   (unsigned long)nabandoned() +
			   memremap_kmalloc_live());
	}
	inputs++;
	report_reach(data, size);
	if (failed)
		fuzz_crash(fn_name[cur]);
	return 0;
}
