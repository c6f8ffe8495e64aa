// SPDX-License-Identifier: GPL-2.0-only
/*
 * Hostile calls of the rest: completions, the kmalloc() family and kfree()
 * (with nth, every-nth and seeded random failures), memremap_compat_align(),
 * WARN_ON() from C, the altmap helpers.
 */
#include "hostile.h"
#include <pthread.h>
#include <stdatomic.h>

/* ---- completions ---- */

void op_completion(void)
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

void op_kmalloc(void)
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

void op_misc(void)
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

/*
 * A wait longer than the library's bound (repro 2): MAX_SCHEDULE_TIMEOUT,
 * as kernel code passes to wait for ever. Done: it returns the time left;
 * not done: it gives up at the bound with a WARN, and returns 0.
 */
void op_wait_long(void)
{
	static const unsigned long longer[] = {
		LONG_MAX /* MAX_SCHEDULE_TIMEOUT */, ULONG_MAX, 1UL << 40,
		100000,
	};
	int i = below(NCOMP);
	unsigned long t = longer[below(ARRAY_SIZE(longer))], left;
	struct completion *x = &comps[i];
	unsigned int *d = &comp_done[i];

	if (!*d && !waits_left)
		return;
	note("wait_for_completion_timeout(completion %d (done %u), %#lx)", i,
	     *d, t);
	call(F_wait_for_completion_timeout);
	left = wait_for_completion_timeout(x, t);
	if (!*d) {
		CHECK(left == 0);
		BAD();
		waits_left--;
		fig.waits++;
		fig.repro[2]++;
	} else {
		CHECK(left >= 1 && left <= t);
		VALID();
		if (*d != ALL_DONE)
			(*d)--;
	}
	CHECK(x->done == *d);
}

/*
 * Ledger reads on another thread while this one maps and unmaps a pgmap of
 * its own (repro 1): a read must never touch a pgmap being torn down. The
 * pgmap is this operation's, at pfns no pgmap of the pool holds; the
 * ledger, read here while it is mapped, counts it once.
 */
static atomic_bool race_stop;

static void *ledger_reader(void *arg)
{
	unsigned long *reads = arg;

	while (!atomic_load(&race_stop)) {
		memremap_ledger_count();
		(*reads)++;
	}
	return NULL;
}

void op_race_ledger(void)
{
	static struct pgmap_mem m;
	unsigned long start = (1UL << 30) + below(4) * SZ_2M, reads = 0;
	unsigned long spfn = start >> PAGE_SHIFT, pfn, ledger = 0, want = 0;
	int i, cycles = 1 + below(4);
	bool bad = false;
	pthread_t t;
	void *ret;

	for (pfn = spfn; pfn < spfn + SUB_PFNS; pfn += SUB_PFNS - 1)
		if (owner_of(pfn))
			return;
	note("ledger reads racing %d map/unmap cycles at %#lx", cycles,
	     start);
	atomic_store(&race_stop, false);
	if (pthread_create(&t, NULL, ledger_reader, &reads))
		return;
	for (i = 0; i < cycles && !bad; i++) {
		memset(&m, 0, sizeof(m));
		m.pgmap.type = MEMORY_DEVICE_GENERIC;
		m.pgmap.nr_range = 1;
		m.pgmap.range.start = start;
		m.pgmap.range.end = start + SZ_2M - 1;
		call(F_memremap_pages);
		ret = memremap_pages(&m.pgmap, 0);
		if (IS_ERR_OR_NULL(ret) || warned()) {
			bad = true;
			break;
		}
		stats[cur].valid++;
		ledger = memremap_ledger_count();
		want = nregistered() + nheld + memremap_kmalloc_live() + 1;
		bad = ledger != want;
		call(F_memunmap_pages);
		memunmap_pages(&m.pgmap);
		bad |= warned() != 0 || memremap_pgmap_is_mapped(&m.pgmap);
		if (!bad)
			stats[cur].valid++;
	}
	atomic_store(&race_stop, true);
	pthread_join(t, NULL);
	fig.repro[1]++;
	CHECK(!bad);
	CHECK(ledger == want);
}
