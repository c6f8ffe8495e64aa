// SPDX-License-Identifier: GPL-2.0-only
/*
 * Benchmarks: the library against the seed's C reference (c-tests/
 * reference/after.c, linked under ref_after_* names), same process, same
 * substrate, same compiler flags. Prints one row per measurement:
 *
 *	row <id> <what> rust_ns <x> c_ns <y>
 *
 * and, with "--only <id> <impl> <iters>", runs just that loop (for
 * callgrind instruction counts; see c-tests/bench/run.sh, which makes the
 * table). Numbers, never pass/fail.
 */
#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/err.h>
#include <memremap/test.h>
#include <pthread.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct folio *ref_after_pgmap_request_folio(struct dev_pagemap *pgmap,
					    pgoff_t pgmap_offset, int order);
pgoff_t ref_after_pfn_to_pgmap_offset(struct dev_pagemap *pgmap,
				      unsigned long pfn);
unsigned long ref_after_pgmap_offset_to_pfn(struct dev_pagemap *pgmap,
					    pgoff_t pgmap_offset);

typedef struct folio *(*request_fn)(struct dev_pagemap *, pgoff_t, int);
typedef pgoff_t (*to_offset_fn)(struct dev_pagemap *, unsigned long);
typedef unsigned long (*to_pfn_fn)(struct dev_pagemap *, pgoff_t);

static request_fn request_impl[2] = {
	pgmap_request_folio, ref_after_pgmap_request_folio
};
static to_offset_fn to_offset_impl[2] = {
	pfn_to_pgmap_offset, ref_after_pfn_to_pgmap_offset
};
static to_pfn_fn to_pfn_impl[2] = {
	pgmap_offset_to_pfn, ref_after_pgmap_offset_to_pfn
};

#define SZ_2M	(2UL << 20)
#define SZ_1G	(1UL << 30)

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static unsigned long long rng = 0x9e3779b97f4a7c15ULL;

static unsigned long rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void nop_free(struct page *page)
{
	(void)page;
}

static vm_fault_t nop_migrate(struct vm_fault *vmf)
{
	(void)vmf;
	return 0;
}

static const struct dev_pagemap_ops ops = {
	.page_free = nop_free,
	.migrate_to_ram = nop_migrate,
};

static int owner;

static struct dev_pagemap *new_pgmap(int nr, unsigned long base)
{
	struct dev_pagemap *pgmap;
	unsigned long *starts;
	int i;

	pgmap = calloc(1, sizeof(*pgmap) + nr * sizeof(struct range));
	starts = calloc(nr, sizeof(*starts));
	if (!pgmap || !starts)
		exit(2);
	pgmap->type = MEMORY_DEVICE_PRIVATE;
	pgmap->ops = &ops;
	pgmap->owner = &owner;
	pgmap->nr_range = nr;
	/* Slots 4 GiB apart; array order shuffled against address order. */
	for (i = 0; i < nr; i++)
		starts[i] = base + (unsigned long)i * 4 * SZ_1G;
	for (i = nr - 1; i > 0; i--) {
		int j = rnd() % (i + 1);
		unsigned long t = starts[i];

		starts[i] = starts[j];
		starts[j] = t;
	}
	for (i = 0; i < nr; i++) {
		unsigned long len = (1 + rnd() % 8) * SZ_2M;

		pgmap->ranges[i].start = starts[i];
		pgmap->ranges[i].end = starts[i] + len - 1;
	}
	free(starts);
	if (IS_ERR(memremap_pages(pgmap, 0))) {
		fprintf(stderr, "memremap_pages failed\n");
		exit(2);
	}
	return pgmap;
}

static void drop_pgmap(struct dev_pagemap *pgmap)
{
	memunmap_pages(pgmap);
	free(pgmap);
}

static unsigned long total_pages(struct dev_pagemap *pgmap)
{
	unsigned long n = 0;
	int i;

	for (i = 0; i < pgmap->nr_range; i++)
		n += range_len(&pgmap->ranges[i]) >> PAGE_SHIFT;
	return n;
}

/* Row 1: request + put of a folio already in use. */
static void hot(int impl, long iters, struct dev_pagemap *pgmap)
{
	request_fn req = request_impl[impl];
	long i;

	for (i = 0; i < iters; i++)
		folio_put(req(pgmap, 3, 0));
}

/* Row 2: request of an idle folio (0 -> 1, pin) and the put back to 0. */
static void activation(int impl, long iters, struct dev_pagemap *pgmap)
{
	request_fn req = request_impl[impl];
	long i;

	for (i = 0; i < iters; i++)
		folio_put(req(pgmap, 5, 0));
}

static unsigned long *args;
static unsigned long nargs = 4096;

/* Row 3: both translations on random in-range arguments. */
static void translate(int impl, long iters, struct dev_pagemap *pgmap)
{
	to_offset_fn to_off = to_offset_impl[impl];
	to_pfn_fn to_pfn = to_pfn_impl[impl];
	unsigned long sink = 0;
	long i;

	for (i = 0; i < iters; i++) {
		unsigned long off = args[i & (nargs - 1)];

		sink += to_off(pgmap, to_pfn(pgmap, off));
	}
	if (sink == 42)
		printf("#\n");
}

/* Row 6: the floor, one atomic increment and decrement. */
static void floor_loop(int impl, long iters, struct dev_pagemap *pgmap)
{
	static int counter;
	long i;

	(void)impl;
	(void)pgmap;
	for (i = 0; i < iters; i++) {
		__atomic_add_fetch(&counter, 1, __ATOMIC_ACQ_REL);
		__atomic_sub_fetch(&counter, 1, __ATOMIC_ACQ_REL);
	}
}

/*
 * Row 7: a pgmap's whole life, as a test program lives it: map a 2 MiB
 * pgmap, request a folio, put it (0 -> 1 -> 0, the pin taken and
 * dropped), unmap. The library only: the seed's C has no memremap_pages().
 */
static void cycle(int impl, long iters, struct dev_pagemap *unused)
{
	struct dev_pagemap pgmap;
	long i;

	(void)impl;
	(void)unused;
	for (i = 0; i < iters; i++) {
		memset(&pgmap, 0, sizeof(pgmap));
		pgmap.type = MEMORY_DEVICE_PRIVATE;
		pgmap.ops = &ops;
		pgmap.owner = &owner;
		pgmap.nr_range = 1;
		pgmap.range.start = 1UL << 46;
		pgmap.range.end = (1UL << 46) + SZ_2M - 1;
		if (IS_ERR(memremap_pages(&pgmap, 0)))
			exit(2);
		folio_put(pgmap_request_folio(&pgmap, i & 511, 0));
		memunmap_pages(&pgmap);
	}
}

typedef void (*loop_fn)(int impl, long iters, struct dev_pagemap *pgmap);

/* Best of 5 runs, ns per iteration. */
static double time_loop(loop_fn fn, int impl, long iters,
			struct dev_pagemap *pgmap)
{
	double best = 1e30;
	int r;

	fn(impl, iters / 10, pgmap);
	for (r = 0; r < 5; r++) {
		double t0 = now_ns(), t;

		fn(impl, iters, pgmap);
		t = (now_ns() - t0) / iters;
		if (t < best)
			best = t;
	}
	return best;
}

static void fill_args(struct dev_pagemap *pgmap)
{
	unsigned long n = total_pages(pgmap), i;

	for (i = 0; i < nargs; i++)
		args[i] = rnd() % n;
}

static struct folio *held;

static struct dev_pagemap *setup(int row, int nr)
{
	struct dev_pagemap *pgmap = new_pgmap(row == 3 ? nr : 1, 1UL << 44);

	/* Row 1 keeps its folio in use, so the loop never changes pins. */
	if (row == 1)
		held = pgmap_request_folio(pgmap, 3, 0);
	if (row == 3)
		fill_args(pgmap);
	return pgmap;
}

static void teardown(int row, struct dev_pagemap *pgmap)
{
	if (row == 1)
		folio_put(held);
	drop_pgmap(pgmap);
}

static loop_fn row_loop(int row)
{
	switch (row) {
	case 1: return hot;
	case 2: return activation;
	case 3: return translate;
	case 7: return cycle;
	default: return floor_loop;
	}
}

/* Rows 1-3 and 6: "rows" mode. */
static void rows(void)
{
	static const int ranges[] = { 1, 16, 256, 4096 };
	double r, c;
	int row, i;

	for (row = 1; row <= 2; row++) {
		struct dev_pagemap *pgmap = setup(row, 1);

		r = time_loop(row_loop(row), 0, 2000000, pgmap);
		c = time_loop(row_loop(row), 1, 2000000, pgmap);
		printf("row %d %s rust_ns %.2f c_ns %.2f\n", row,
		       row == 1 ? "hot-request+put" : "activation-round-trip",
		       r, c);
		teardown(row, pgmap);
	}
	for (i = 0; i < 4; i++) {
		struct dev_pagemap *pgmap = setup(3, ranges[i]);
		long iters = ranges[i] >= 256 ? 20000 : 2000000;

		r = time_loop(translate, 0, 2000000, pgmap);
		c = time_loop(translate, 1, iters, pgmap);
		printf("row 3 translate-%d-ranges rust_ns %.2f c_ns %.2f\n",
		       ranges[i], r, c);
		teardown(3, pgmap);
	}
	r = time_loop(floor_loop, 0, 20000000, NULL);
	printf("row 6 atomic-inc+dec-floor rust_ns %.2f c_ns %.2f\n", r, r);
}

static double cpu_ns(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e9 +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e3;
}

/*
 * Row 7: a pgmap's life (see cycle()). Wall time best of 5, and CPU time
 * (user + system) of the same runs, which a loaded machine inflates less.
 */
static void life(void)
{
	double best = 1e30, cpu = 1e30;
	long iters = 200000;
	int r;

	cycle(0, iters / 10, NULL);
	for (r = 0; r < 5; r++) {
		double t0 = now_ns(), c0 = cpu_ns(), t, c;

		cycle(0, iters, NULL);
		t = (now_ns() - t0) / iters;
		c = (cpu_ns() - c0) / iters;
		if (t < best)
			best = t;
		if (c < cpu)
			cpu = c;
	}
	printf("row 7 pgmap-cycle-2MiB wall_ns %.1f cpu_ns %.1f\n", best, cpu);
}

static long rss_kib(void)
{
	long pages = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
			resident = 0;
		fclose(f);
	}
	return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static long minor_faults(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

#define SCALE_ROUNDS	5

/*
 * Row 4: map + first request + unmap of 1 GiB, 1 TiB, 1 PiB. A first
 * request is a one-off: it creates the memmap chunk of the pfn (fresh
 * arena memory, so page faults) and, the first time a region of pfns is
 * reached, the memmap index's nodes. One sample of it says little on a
 * shared machine, so each size is also mapped SCALE_ROUNDS - 1 more times
 * by other struct dev_pagemaps (each a new identity, so each first request
 * builds a chunk on fresh memory again; the index's nodes exist by then),
 * and the row gives the first sample, the least and the most of the
 * others, and the minor page faults of the first.
 */
static void scale(void)
{
	static const struct { const char *name; unsigned long len; } sizes[] = {
		{ "1GiB", SZ_1G }, { "1TiB", 1UL << 40 }, { "1PiB", 1UL << 50 },
	};
	static struct dev_pagemap pgmaps[SCALE_ROUNDS];
	int i, r;

	for (i = 0; i < 3; i++) {
		double map_us = 0, first_us = 0, unmap_us = 0;
		double lo = 1e30, hi = 0;
		long rss_extra = 0, faults = 0;

		for (r = 0; r < SCALE_ROUNDS; r++) {
			struct dev_pagemap *pgmap = &pgmaps[r];
			double t0, t1, t2, t3;
			long rss0, rss1, f0, f1;
			struct folio *folio;

			memset(pgmap, 0, sizeof(*pgmap));
			pgmap->type = MEMORY_DEVICE_GENERIC;
			pgmap->nr_range = 1;
			pgmap->range.start = 1UL << 50;
			pgmap->range.end = (1UL << 50) + sizes[i].len - 1;
			rss0 = rss_kib();
			t0 = now_ns();
			if (IS_ERR(memremap_pages(pgmap, 0)))
				exit(2);
			t1 = now_ns();
			f0 = minor_faults();
			folio = pgmap_request_folio(pgmap,
					(sizes[i].len >> PAGE_SHIFT) - 1, 0);
			f1 = minor_faults();
			t2 = now_ns();
			rss1 = rss_kib();
			folio_put(folio);
			memunmap_pages(pgmap);
			t3 = now_ns();
			if (r == 0) {
				map_us = (t1 - t0) / 1e3;
				first_us = (t2 - t1) / 1e3;
				unmap_us = (t3 - t2) / 1e3;
				rss_extra = rss1 - rss0;
				faults = f1 - f0;
				continue;
			}
			if ((t2 - t1) / 1e3 < lo)
				lo = (t2 - t1) / 1e3;
			if ((t2 - t1) / 1e3 > hi)
				hi = (t2 - t1) / 1e3;
		}
		printf("row 4 scale-%s map_us %.2f first_request_us %.2f unmap_us %.2f extra_rss_kib %ld eager_memmap_kib %lu first_request_faults %ld others_us %.2f-%.2f\n",
		       sizes[i].name, map_us, first_us, unmap_us, rss_extra,
		       (sizes[i].len >> PAGE_SHIFT) * 64 / 1024, faults, lo, hi);
	}
}

struct worker {
	int impl;
	struct dev_pagemap *pgmap;
	pgoff_t offset;
	long iters;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	request_fn req = request_impl[w->impl];
	long i;

	for (i = 0; i < w->iters; i++)
		folio_put(req(w->pgmap, w->offset, 0));
	return NULL;
}

/* Ops per microsecond with n threads on the given offsets. */
static double throughput(int impl, struct dev_pagemap *pgmap, int n,
			 bool same)
{
	struct worker w[2];
	pthread_t t[2];
	double t0, ops, best = 0;
	int i, r;

	for (r = 0; r < 3; r++) {
		t0 = now_ns();
		for (i = 0; i < n; i++) {
			w[i] = (struct worker){ impl, pgmap,
				same ? 10 : 10 + i * 2, 2000000 };
			pthread_create(&t[i], NULL, work, &w[i]);
		}
		for (i = 0; i < n; i++)
			pthread_join(t[i], NULL);
		ops = 2000000.0 * n / ((now_ns() - t0) / 1e3);
		if (ops > best)
			best = ops;
	}
	return best;
}

/* Row 5: two threads against one. */
static void threads(void)
{
	struct dev_pagemap *pgmap = new_pgmap(1, 1UL << 45);
	int impl;

	for (impl = 0; impl < 2; impl++) {
		double one = throughput(impl, pgmap, 1, false);
		double distinct = throughput(impl, pgmap, 2, false);
		double same = throughput(impl, pgmap, 2, true);

		printf("row 5 threads-%s one_mops %.2f two_distinct_mops %.2f two_same_mops %.2f\n",
		       impl ? "c" : "rust", one, distinct, same);
	}
	drop_pgmap(pgmap);
}

int main(int argc, char **argv)
{
	args = calloc(nargs, sizeof(*args));
	if (!args)
		return 2;
	/* --only <row> <rust|c> <iters> [<nr_range>] */
	if ((argc == 5 || argc == 6) && !strcmp(argv[1], "--only")) {
		int row = atoi(argv[2]);
		int impl = !strcmp(argv[3], "c");
		long iters = atol(argv[4]);
		int nr = argc == 6 ? atoi(argv[5]) : 1;
		struct dev_pagemap *pgmap = setup(row, nr);

		row_loop(row)(impl, iters, pgmap);
		teardown(row, pgmap);
		return 0;
	}
	/* --scale: row 4 alone (for callgrind or strace) */
	if (argc == 2 && !strcmp(argv[1], "--scale")) {
		scale();
		free(args);
		return 0;
	}
	/* --threads: row 5 alone */
	if (argc == 2 && !strcmp(argv[1], "--threads")) {
		threads();
		free(args);
		return 0;
	}
	rows();
	life();
	scale();
	threads();
	free(args);
	return 0;
}
