// SPDX-License-Identifier: GPL-2.0-only
/* Concurrency stress: requests and puts racing kill and memunmap_pages(). */
/*
 * Worker threads request and put the same few folios of two pgmaps, take
 * and drop pgmap pins with get_dev_pagemap()/put_dev_pagemap(), while an
 * unmapper thread kills the pgmaps' refs and calls memunmap_pages() at a
 * random point of the round. The kernel's rules are kept: a pgmap's memory
 * stays allocated until memunmap_pages() has returned (then it is freed
 * and reallocated for the next round, so a late access shows under
 * valgrind), and a worker requests only while it holds a pin from
 * get_dev_pagemap(), so no request can follow the unmap's return.
 *
 * Each round is a sequence of epochs, four barriers each:
 *
 *	pin + request | check | (hold) | put + unpin | check
 *
 * No put happens while requests run, so in an epoch each folio that got
 * at least one reference went 0 -> 1 exactly once, and after the puts
 * 1 -> 0 exactly once: page_free must have run exactly once for each of
 * them, and never for the others. These checks are exact:
 *
 * - after the requests: each folio's refcount is the number of references
 *   the workers took; the pins are the folios in use plus the workers'
 *   get_dev_pagemap() pins (unless a kill is in flight);
 * - after the puts: every folio is at 0, page_free ran once per folio
 *   activated in the epoch (counted per folio), and the WARNs are one
 *   WARN_ON_ONCE for requests refused on a dying pgmap, or none;
 * - memunmap_pages() returns only after the last put: each worker counts
 *   its references down *before* dropping them, so the count is 0 when
 *   the unmap returns unless a reference was lost; and the pgmap is no
 *   longer mapped, without a give-up.
 *
 *	stress [ROUNDS]		(or STRESS_ROUNDS)
 */
#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/percpu-refcount.h>
#include <linux/err.h>
#include <memremap/test.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include "ktap.h"

#define SZ_2M		(2UL << 20)
#define NPG		2	/* pgmaps per round */
#define NWORK		4	/* worker threads */
#define NSLOT		8	/* folios per pgmap the workers share */
#define NREQ		6	/* requests per worker, pgmap and epoch */
#define NQUICK		100	/* request + put pairs, odd epochs */
#define EPOCHS		12
#define MAXLOCAL	(NPG * NREQ * 2)
#define DEFAULT_ROUNDS	150

/* ---- failures, from any thread ---- */

static atomic_ulong errors;
static pthread_mutex_t err_lock = PTHREAD_MUTEX_INITIALIZER;
static char first_error[256];

static __printf(1, 2) void record(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&err_lock);
	if (!atomic_fetch_add(&errors, 1)) {
		va_start(ap, fmt);
		vsnprintf(first_error, sizeof(first_error), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&err_lock);
}

#define SCHECK(cond)							\
	do {								\
		if (!(cond))						\
			record("line %d: %s", __LINE__, #cond);		\
	} while (0)

/* A small per-thread generator (rand_r() is not good enough for this). */
static unsigned long next_rand(unsigned long *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void spin_us(unsigned long us)
{
	struct timespec ts = { 0, (long)us * 1000 };

	if (us)
		nanosleep(&ts, NULL);
	else
		sched_yield();
}

/* ---- one round's pgmaps ---- */

struct spg {
	struct dev_pagemap *map;	/* malloc()ed anew each round */
	unsigned long pfn0;
	unsigned int shift;
	struct folio *slot[NSLOT];
	/* per slot: references held, requests granted this epoch */
	atomic_long refs[NSLOT];
	atomic_long granted[NSLOT];
	/* page_free calls */
	atomic_long frees[NSLOT];
	long frees_seen[NSLOT];
	atomic_long outstanding;	/* folio refs and pins held */
	atomic_int pinned;		/* workers holding a pin now */
	atomic_ulong killgen;		/* odd: a kill may be in flight */
	atomic_bool unmapped;		/* memunmap_pages() returned */
	pthread_mutex_t unmap_lock;	/* held across memunmap_pages() */
	atomic_ulong failed;		/* requests refused this epoch */
};

static struct spg spgs[NPG];
static atomic_ulong bogus_frees;

static void stress_free(struct page *page)
{
	unsigned long pfn = page_to_pfn(page);
	int i;

	for (i = 0; i < NPG; i++) {
		struct spg *p = &spgs[i];
		unsigned long s = (pfn - p->pfn0) >> p->shift;

		if (page->pgmap == p->map && s < NSLOT &&
		    pfn == p->pfn0 + (s << p->shift)) {
			atomic_fetch_add(&p->frees[s], 1);
			return;
		}
	}
	atomic_fetch_add(&bogus_frees, 1);
}

static vm_fault_t no_migrate(struct vm_fault *vmf)
{
	(void)vmf;
	return VM_FAULT_SIGBUS;
}

static const struct dev_pagemap_ops stress_ops = {
	.page_free = stress_free,
	.migrate_to_ram = no_migrate,
};

static int owner_cookie;

static struct {
	unsigned long rounds, epochs, requests, refused, gets, puts;
	unsigned long frees, pins, idle_pins, unmaps_waited, kills;
} fig;

/* ---- the round's schedule ---- */

static pthread_barrier_t barrier;
static atomic_int epoch;	/* EPOCHS: the round's epochs are over */
static atomic_int phase;	/* 0: requests, 1: checks, 2: puts */
static atomic_bool quit;
static atomic_ulong hold_us;	/* a worker holds its refs this long */
static atomic_bool free_epoch;	/* puts race the requests this epoch */
static unsigned long round_seed;

struct plan {
	int epoch, phase;	/* when the unmapper acts on a pgmap */
	bool kill_first;	/* percpu_ref_kill() before the unmap */
	unsigned long gap_us;	/* between the kill and the unmap */
};

static struct plan plans[NPG];
static atomic_ulong unmaps_waited, kills;

/*
 * Two kinds of round make sure of what random timing only makes likely:
 * in a WAIT round, worker 0 keeps its references in epoch FORCED until
 * memunmap_pages() has been entered, so the unmap must wait for them; in
 * a REFUSE round, every worker pins pgmap 0 in epoch FORCED, then the
 * unmapper kills it, then the workers request: all refused, loudly.
 */
enum { RANDOM_ROUND, WAIT_ROUND, REFUSE_ROUND };
#define FORCED		3
#define SYNC_MS		2000	/* bound on the forced rendezvous */
static int round_kind;
static atomic_bool unmap_entering, killed_sync;
static unsigned long wait_rounds, refuse_rounds;

static unsigned long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000UL + ts.tv_nsec / 1000000;
}

/* Wait for @flag, or for @n on @counter; false on time-out. */
static bool rendezvous(atomic_bool *flag, atomic_int *counter, int n)
{
	unsigned long end = now_ms() + SYNC_MS;

	while (flag ? !atomic_load(flag) : atomic_load(counter) < n) {
		if (now_ms() > end)
			return false;
		sched_yield();
	}
	return true;
}

static void *unmapper(void *arg)
{
	unsigned long rs = round_seed ^ 0x5555;
	int order[NPG] = { 0, 1 }, i;

	(void)arg;
	if (round_kind == RANDOM_ROUND && next_rand(&rs) & 1) {
		order[0] = 1;
		order[1] = 0;
	}
	for (i = 0; i < NPG; i++) {
		struct spg *p = &spgs[order[i]];
		struct plan *pl = &plans[order[i]];

		while (atomic_load(&epoch) < pl->epoch ||
		       (atomic_load(&epoch) == pl->epoch &&
			atomic_load(&phase) < pl->phase))
			spin_us(0);
		if (round_kind == REFUSE_ROUND && p == &spgs[0])
			SCHECK(rendezvous(NULL, &p->pinned, NWORK));
		atomic_fetch_add(&p->killgen, 1);	/* odd: in flight */
		if (pl->kill_first) {
			percpu_ref_kill(&p->map->ref);
			atomic_fetch_add(&kills, 1);
			if (p == &spgs[0])
				atomic_store(&killed_sync, true);
			atomic_fetch_add(&p->killgen, 1);
			spin_us(pl->gap_us);
			atomic_fetch_add(&p->killgen, 1);
		}
		if (atomic_load(&p->outstanding))
			atomic_fetch_add(&unmaps_waited, 1);
		atomic_store(&unmap_entering, true);
		pthread_mutex_lock(&p->unmap_lock);
		memunmap_pages(p->map);
		/* Every reference was dropped (counted down first). */
		SCHECK(atomic_load(&p->outstanding) == 0);
		SCHECK(!memremap_pgmap_is_mapped(p->map));
		atomic_store(&p->unmapped, true);
		pthread_mutex_unlock(&p->unmap_lock);
	}
	return NULL;
}

/*
 * Meanwhile another pgmap comes and goes, in fresh memory each time: its
 * memunmap_pages() retires memmap chunks that the next memremap_pages()
 * (its own or the next round's) takes again, and every map and unmap
 * rewrites the registry that the workers' get_dev_pagemap() reads.
 */
static atomic_ulong churns;

static void *churner(void *arg)
{
	unsigned long rs = round_seed ^ 0xc0ffee, n = 0, base, i, off;
	struct dev_pagemap *m, *pin;
	struct folio *f[4];
	void *ret;

	(void)arg;
	while (atomic_load(&epoch) < EPOCHS && !atomic_load(&errors)) {
		m = calloc(1, sizeof(*m));
		if (!m)
			abort();
		base = (72UL + 4 * (n & 1)) << 30;
		m->type = MEMORY_DEVICE_GENERIC;
		m->nr_range = 1;
		m->range.start = base;
		m->range.end = base + 4 * SZ_2M - 1;
		ret = memremap_pages(m, 0);
		SCHECK(ret && !IS_ERR(ret));
		for (i = 0; i < 4; i++) {
			/* One folio in each 2 MiB: a chunk each. */
			off = i * (SZ_2M >> PAGE_SHIFT) + next_rand(&rs) % 512;
			f[i] = pgmap_request_folio(m, off, 0);
			SCHECK(f[i] && folio_ref_count(f[i]) == 1);
		}
		pin = get_dev_pagemap((base >> PAGE_SHIFT) + 5, NULL);
		SCHECK(pin == m);
		SCHECK(memremap_pgmap_pins(m) == 5);
		put_dev_pagemap(pin);
		for (i = 0; i < 4; i++)
			if (f[i])
				folio_put(f[i]);
		SCHECK(memremap_pgmap_pins(m) == 0);
		memunmap_pages(m);
		SCHECK(!memremap_pgmap_is_mapped(m));
		free(m);
		n++;
	}
	atomic_fetch_add(&churns, n);
	return NULL;
}

/* ---- the workers ---- */

struct local {
	struct spg *p;
	int slot;
	bool tail;
};

struct worker {
	pthread_t thread;
	int id;
	unsigned long rs;
	struct local refs[MAXLOCAL];
	int nrefs;
	struct spg *pins[NPG];
	int npins;
	unsigned long requests, refused, gets, puts, pins_taken, quick;
};

static struct worker workers[NWORK];

static void wait_barrier(void)
{
	pthread_barrier_wait(&barrier);
}

static void requests(struct worker *w)
{
	int i, k, first = next_rand(&w->rs) % NPG;

	w->nrefs = 0;
	w->npins = 0;
	for (i = 0; i < NPG; i++) {
		struct spg *p = &spgs[(first + i) % NPG];
		unsigned long pfn = p->pfn0 + next_rand(&w->rs) % NSLOT;
		struct dev_pagemap *pin;

		/* A pin first: the pgmap cannot go while it is held. */
		pin = get_dev_pagemap(pfn, NULL);
		if (!pin)
			continue;
		SCHECK(pin == p->map);
		atomic_fetch_add(&p->outstanding, 1);
		atomic_fetch_add(&p->pinned, 1);
		w->pins[w->npins++] = p;
		w->pins_taken++;
		if (round_kind == REFUSE_ROUND && p == &spgs[0] &&
		    atomic_load(&epoch) == FORCED)
			SCHECK(rendezvous(&killed_sync, NULL, 0));
		/* The cached pgmap is handed back with the same pin. */
		SCHECK(get_dev_pagemap(pfn + 1, pin) == pin);
		for (k = 0; k < NREQ; k++) {
			int s = next_rand(&w->rs) % NSLOT;
			struct folio *f;

			f = pgmap_request_folio(p->map, (unsigned long)s <<
						p->shift, p->shift);
			w->requests++;
			if (!f) {
				/* Refused only because the pgmap is dying. */
				SCHECK(percpu_ref_is_dying(&p->map->ref));
				atomic_fetch_add(&p->failed, 1);
				w->refused++;
				continue;
			}
			SCHECK(f == p->slot[s]);
			atomic_fetch_add(&p->granted[s], 1);
			if (atomic_load(&free_epoch) && next_rand(&w->rs) & 1) {
				/* Put at once: 1 -> 0 races others' 0 -> 1. */
				folio_put(f);
				w->puts++;
				w->quick++;
				continue;
			}
			atomic_fetch_add(&p->outstanding, 1);
			atomic_fetch_add(&p->refs[s], 1);
			w->refs[w->nrefs++] = (struct local){ p, s, false };
			if (next_rand(&w->rs) % 4 == 0) {
				/* A folio in use may gain references. */
				if (p->shift && next_rand(&w->rs) & 1)
					get_page(folio_page(f, 1));
				else
					folio_get(f);
				atomic_fetch_add(&p->outstanding, 1);
				atomic_fetch_add(&p->refs[s], 1);
				w->refs[w->nrefs++] = (struct local){ p, s,
								      true };
				w->gets++;
			}
		}
		/* Every other epoch, a burst on two hot folios. */
		for (k = 0; atomic_load(&free_epoch) && k < NQUICK; k++) {
			int s = (k + w->id) & 1;
			struct folio *f;

			f = pgmap_request_folio(p->map, (unsigned long)s <<
						p->shift, p->shift);
			w->requests++;
			if (!f) {
				SCHECK(percpu_ref_is_dying(&p->map->ref));
				atomic_fetch_add(&p->failed, 1);
				w->refused++;
				continue;
			}
			atomic_fetch_add(&p->granted[s], 1);
			folio_put(f);
			w->puts++;
			w->quick++;
		}
	}
}

static void puts_all(struct worker *w)
{
	unsigned long us = atomic_load(&hold_us);
	int i;

	if (round_kind == WAIT_ROUND && w->id == 0 &&
	    atomic_load(&epoch) == FORCED) {
		SCHECK(rendezvous(&unmap_entering, NULL, 0));
		us = 1000;
	}
	if (us && w->id == 0)
		spin_us(us);	/* the unmap, if running, must wait */
	for (i = w->nrefs - 1; i >= 0; i--) {
		struct local *l = &w->refs[i];
		struct folio *f = l->p->slot[l->slot];

		/* Count down before the put: see the unmapper's check. */
		atomic_fetch_sub(&l->p->outstanding, 1);
		if (l->tail && l->p->shift)
			put_page(folio_page(f, (1UL << l->p->shift) - 1));
		else
			folio_put(f);
		w->puts++;
	}
	for (i = 0; i < w->npins; i++) {
		struct spg *p = w->pins[i];

		atomic_fetch_sub(&p->pinned, 1);
		atomic_fetch_sub(&p->outstanding, 1);
		put_dev_pagemap(p->map);
	}
}

static void *work(void *arg)
{
	struct worker *w = arg;

	for (;;) {
		wait_barrier();			/* B1: an epoch starts */
		if (atomic_load(&quit))
			return NULL;
		requests(w);
		wait_barrier();			/* B2: requests done */
		wait_barrier();			/* B3: checked */
		puts_all(w);
		wait_barrier();			/* B4: puts done */
	}
}

/* ---- the main thread: rounds, epochs and the exact checks ---- */

static void setup_round(int round)
{
	unsigned long rs = round_seed;
	int i, s;

	round_kind = round % 4 == 1 ? WAIT_ROUND :
		     round % 4 == 2 ? REFUSE_ROUND : RANDOM_ROUND;
	wait_rounds += round_kind == WAIT_ROUND;
	refuse_rounds += round_kind == REFUSE_ROUND;
	atomic_store(&unmap_entering, false);
	atomic_store(&killed_sync, false);

	for (i = 0; i < NPG; i++) {
		struct spg *p = &spgs[i];
		struct dev_pagemap *m = calloc(1, sizeof(*m));
		void *ret;

		if (!m)
			abort();
		p->map = m;
		p->shift = (round + i) % 3 == 0 ? 2 : 0;
		p->pfn0 = ((64UL + 4 * i) << 30) >> PAGE_SHIFT;
		m->type = i ? MEMORY_DEVICE_GENERIC : MEMORY_DEVICE_PRIVATE;
		m->ops = &stress_ops;
		m->owner = &owner_cookie;
		m->vmemmap_shift = p->shift;
		m->nr_range = 1;
		m->range.start = p->pfn0 << PAGE_SHIFT;
		m->range.end = m->range.start + SZ_2M - 1;
		ret = memremap_pages(m, 0);
		SCHECK(ret && !IS_ERR(ret));
		for (s = 0; s < NSLOT; s++) {
			p->slot[s] = page_folio(pfn_to_page(p->pfn0 +
							    (s << p->shift)));
			atomic_store(&p->refs[s], 0);
			atomic_store(&p->granted[s], 0);
			atomic_store(&p->frees[s], 0);
			p->frees_seen[s] = 0;
		}
		atomic_store(&p->outstanding, 0);
		atomic_store(&p->pinned, 0);
		atomic_store(&p->killgen, 0);
		atomic_store(&p->unmapped, false);
		plans[i].epoch = next_rand(&rs) % (EPOCHS + 1);
		plans[i].phase = next_rand(&rs) % 3;
		plans[i].kill_first = next_rand(&rs) & 1;
		plans[i].gap_us = next_rand(&rs) % 4 ? 0 : next_rand(&rs) % 300;
		if (round_kind == WAIT_ROUND)
			plans[i] = (struct plan){ FORCED, 2, i & 1, 0 };
		if (round_kind == REFUSE_ROUND && i == 0)
			plans[i] = (struct plan){ FORCED, 0, true, 0 };
	}
}

/* After the requests: refcounts and pins are what the workers hold. */
static void check_held(void)
{
	int i, s;

	for (i = 0; i < NPG; i++) {
		struct spg *p = &spgs[i];
		unsigned long g1 = atomic_load(&p->killgen), g2;
		long busy = 0, pins;

		if (!atomic_load(&p->pinned))
			continue;	/* it may be gone: hands off */
		for (s = 0; s < NSLOT; s++) {
			long want = atomic_load(&p->refs[s]);

			busy += want > 0;
			SCHECK(folio_ref_count(p->slot[s]) == want);
		}
		pins = memremap_pgmap_pins(p->map);
		if (g1 % 2 == 0 && atomic_load(&p->killgen) == g1 &&
		    !memremap_pgmap_is_abandoned(p->map)) {
			SCHECK(pins == busy + atomic_load(&p->pinned));
			fig.pins++;
		}
		g2 = memremap_pgmap_busy_pages(p->map);
		SCHECK(g2 == (unsigned long)busy);
	}
}

/* After the puts: idle again, and page_free once per activation. */
static void check_freed(void)
{
	unsigned long g;
	int i, s;

	for (i = 0; i < NPG; i++) {
		struct spg *p = &spgs[i];

		/*
		 * Once unmapped, the pgmap's struct pages are gone: their
		 * memory may be another pgmap's pages already.
		 */
		pthread_mutex_lock(&p->unmap_lock);
		for (s = 0; s < NSLOT && !atomic_load(&p->unmapped); s++)
			SCHECK(folio_ref_count(p->slot[s]) == 0);
		/* Idle: no pin left over (unless a kill is in flight). */
		g = atomic_load(&p->killgen);
		if (!atomic_load(&p->unmapped) && g % 2 == 0) {
			long pins = memremap_pgmap_pins(p->map);

			if (atomic_load(&p->killgen) == g) {
				SCHECK(pins == 0);
				fig.idle_pins++;
			}
		}
		pthread_mutex_unlock(&p->unmap_lock);
		for (s = 0; s < NSLOT; s++) {
			long granted = atomic_load(&p->granted[s]);
			long frees = atomic_load(&p->frees[s]) -
				     p->frees_seen[s];

			/*
			 * Without racing puts, each folio used went 0 -> 1 and
			 * 1 -> 0 once; with them, at least once and at most
			 * once per request granted.
			 */
			if (!atomic_load(&free_epoch))
				SCHECK(frees == (granted > 0));
			else if (granted)
				SCHECK(frees >= 1 && frees <= granted);
			else
				SCHECK(frees == 0);
			fig.frees += frees;
			p->frees_seen[s] += frees;
			atomic_store(&p->refs[s], 0);
			atomic_store(&p->granted[s], 0);
		}
	}
}

static void run_round(int round)
{
	pthread_t um, ch;
	unsigned long w0, refused;
	int e, i;

	round_seed = 0x9e3779b97f4a7c15UL * (round + 1);
	setup_round(round);
	atomic_store(&epoch, 0);
	atomic_store(&phase, 0);
	pthread_create(&um, NULL, unmapper, NULL);
	pthread_create(&ch, NULL, churner, NULL);
	for (e = 0; e < EPOCHS; e++) {
		memremap_warn_rearm();
		w0 = memremap_warn_count();
		for (i = 0; i < NPG; i++)
			atomic_store(&spgs[i].failed, 0);
		atomic_store(&hold_us, e % 4 == 3 ? 200 : 0);
		atomic_store(&free_epoch, e % 2 == 1 && e != FORCED);
		atomic_store(&phase, 0);
		atomic_store(&epoch, e);
		wait_barrier();		/* B1 */
		wait_barrier();		/* B2 */
		atomic_store(&phase, 1);
		check_held();
		atomic_store(&phase, 2);
		wait_barrier();		/* B3 */
		wait_barrier();		/* B4 */
		check_freed();
		/* One WARN_ON_ONCE for refused requests, or none at all. */
		refused = 0;
		for (i = 0; i < NPG; i++)
			refused += atomic_load(&spgs[i].failed);
		SCHECK(memremap_warn_count() - w0 == (refused > 0));
		fig.epochs++;
	}
	atomic_store(&epoch, EPOCHS);
	atomic_store(&phase, 3);
	pthread_join(um, NULL);
	pthread_join(ch, NULL);
	for (i = 0; i < NPG; i++) {
		struct spg *p = &spgs[i];

		SCHECK(atomic_load(&p->unmapped));
		SCHECK(!memremap_pgmap_is_mapped(p->map));
		SCHECK(atomic_load(&p->outstanding) == 0);
		/* memunmap_pages() has returned: the memory is ours again. */
		free(p->map);
		p->map = NULL;
	}
	SCHECK(atomic_load(&bogus_frees) == 0);
	SCHECK(memremap_mapped_pgmaps() == 0);
	fig.rounds++;
}

static unsigned long nrounds;

KTAP_CASE(requests_and_puts_race_kill_and_unmap)
{
	int i;
	unsigned long requests = 0, refused = 0, gets = 0, puts = 0;
	unsigned long pins = 0, quick = 0;

	memremap_warn_quiet(true);
	/* A lost pin shows as a give-up: after 3 s, not the default 10. */
	memremap_set_wait_bound_ms(3000);
	pthread_barrier_init(&barrier, NULL, NWORK + 1);
	for (i = 0; i < NPG; i++)
		pthread_mutex_init(&spgs[i].unmap_lock, NULL);
	for (i = 0; i < NWORK; i++) {
		workers[i].id = i;
		workers[i].rs = 0x2545f4914f6cdd1dUL * (i + 1);
		pthread_create(&workers[i].thread, NULL, work, &workers[i]);
	}
	for (i = 0; i < (int)nrounds && !atomic_load(&errors); i++)
		run_round(i);
	atomic_store(&quit, true);
	wait_barrier();
	for (i = 0; i < NWORK; i++) {
		pthread_join(workers[i].thread, NULL);
		requests += workers[i].requests;
		refused += workers[i].refused;
		gets += workers[i].gets;
		puts += workers[i].puts;
		pins += workers[i].pins_taken;
		quick += workers[i].quick;
	}
	pthread_barrier_destroy(&barrier);
	memremap_set_wait_bound_ms(10000);
	memremap_warn_quiet(false);
	printf("    # %lu rounds of %d epochs, %d workers on %d pgmaps of %d "
	       "shared folios\n", fig.rounds, EPOCHS, NWORK, NPG, NSLOT);
	printf("    # %lu requests (%lu refused on a dying pgmap), %lu gets, "
	       "%lu puts, %lu get_dev_pagemap pins\n", requests, refused,
	       gets, puts, pins);
	printf("    # %lu of the puts racing requests (every other epoch)\n",
	       quick);
	printf("    # %lu page_free calls (once per activation, exactly, "
	       "in the epochs without racing puts); %lu kills; %lu unmaps "
	       "entered with references held; %lu exact pin checks in use, "
	       "%lu idle\n", fig.frees,
	       atomic_load(&kills), atomic_load(&unmaps_waited), fig.pins,
	       fig.idle_pins);
	printf("    # meanwhile %lu map/request/put/unmap cycles of another "
	       "pgmap\n", atomic_load(&churns));
	if (atomic_load(&errors))
		KTAP_FAIL("%lu failed check(s), first in round %lu: %s",
			  atomic_load(&errors), fig.rounds, first_error);
	EXPECT_EQ(requests - refused + gets, puts);
	/* The forced rounds did what they force. */
	EXPECT_TRUE(atomic_load(&unmaps_waited) >= wait_rounds);
	EXPECT_TRUE(refused >= refuse_rounds * NWORK * NREQ);
	EXPECT_EQ(memremap_ledger_count(), 0);
}

/* ---- a standalone percpu_ref: release once, after the last put ---- */

static struct percpu_ref sref;
static atomic_long sref_held;
static atomic_int sref_released;
static atomic_bool sref_go;

static void sref_release(struct percpu_ref *ref)
{
	SCHECK(ref == &sref);
	/* Every holder counted down before its put. */
	SCHECK(atomic_load(&sref_held) == 0);
	atomic_fetch_add(&sref_released, 1);
}

static void *sref_worker(void *arg)
{
	unsigned long rs = (unsigned long)arg, i;

	while (!atomic_load(&sref_go))
		sched_yield();
	for (i = 0; i < 2000; i++) {
		bool live = next_rand(&rs) & 1;

		if (!(live ? percpu_ref_tryget_live(&sref) :
			     percpu_ref_tryget(&sref)))
			continue;
		atomic_fetch_add(&sref_held, 1);
		if (next_rand(&rs) % 4 == 0) {
			percpu_ref_get(&sref);
			atomic_fetch_add(&sref_held, 1);
			atomic_fetch_sub(&sref_held, 1);
			percpu_ref_put(&sref);
		}
		atomic_fetch_sub(&sref_held, 1);
		percpu_ref_put(&sref);
	}
	return NULL;
}

KTAP_CASE(percpu_ref_releases_once_after_the_last_put)
{
	unsigned long r, rounds = nrounds * 5, w0 = memremap_warn_count();
	unsigned long e0 = atomic_load(&errors);
	pthread_t t[NWORK];
	int i;

	for (r = 0; r < rounds && atomic_load(&errors) == e0; r++) {
		unsigned long rs = r + 1;

		EXPECT_EQ(percpu_ref_init(&sref, sref_release, 0, GFP_KERNEL),
			  0);
		atomic_store(&sref_released, 0);
		atomic_store(&sref_go, false);
		for (i = 0; i < NWORK; i++)
			pthread_create(&t[i], NULL, sref_worker,
				       (void *)(r * NWORK + i + 1));
		atomic_store(&sref_go, true);
		spin_us(next_rand(&rs) % 3 ? next_rand(&rs) % 200 : 0);
		percpu_ref_kill(&sref);
		for (i = 0; i < NWORK; i++)
			pthread_join(t[i], NULL);
		EXPECT_EQ(atomic_load(&sref_released), 1);
		EXPECT_TRUE(percpu_ref_is_zero(&sref));
		EXPECT_EQ(memremap_percpu_ref_count(&sref), 0);
		percpu_ref_exit(&sref);
	}
	printf("    # %lu rounds: %d threads tryget/get/put against one "
	       "kill\n", rounds, NWORK);
	if (atomic_load(&errors) != e0)
		KTAP_FAIL("%lu failed check(s): %s", atomic_load(&errors) - e0,
			  first_error);
	EXPECT_EQ(memremap_warn_count(), w0);
}

/* ---- the last put against the next first request, head to head ---- */

static struct dev_pagemap *duel_map;
static atomic_long duel_frees, duel_granted;
static atomic_bool duel_go;

static void duel_free(struct page *page)
{
	(void)page;
	atomic_fetch_add(&duel_frees, 1);
}

static const struct dev_pagemap_ops duel_ops = {
	.page_free = duel_free,
};

static void *duelist(void *arg)
{
	unsigned long i, n = (unsigned long)arg, granted = 0;
	struct folio *f;

	while (!atomic_load(&duel_go))
		sched_yield();
	for (i = 0; i < n; i++) {
		f = pgmap_request_folio(duel_map, 7, 0);
		SCHECK(f != NULL);
		if (!f)
			break;
		granted++;
		folio_put(f);
	}
	atomic_fetch_add(&duel_granted, granted);
	return NULL;
}

/*
 * Two threads, one folio: each last put (1 -> 0, then ->page_free() and
 * the pin dropped) races the other thread's first request (tryget, then
 * 0 -> 1). Whatever the interleaving, the folio ends idle with no pin
 * left, ->page_free() ran at least once and at most once per request,
 * and the unmap is clean (a pin lost shows as a give-up: 3 s bound).
 */
KTAP_CASE(last_put_races_first_request)
{
	unsigned long n = nrounds * 2000, w0 = memremap_warn_count();
	unsigned long e0 = atomic_load(&errors);
	pthread_t t[2];
	int i;

	duel_map = calloc(1, sizeof(*duel_map));
	duel_map->type = MEMORY_DEVICE_GENERIC;
	duel_map->ops = &duel_ops;
	duel_map->nr_range = 1;
	duel_map->range.start = 100UL << 30;
	duel_map->range.end = duel_map->range.start + SZ_2M - 1;
	EXPECT_FALSE(IS_ERR(memremap_pages(duel_map, 0)));
	atomic_store(&duel_frees, 0);
	atomic_store(&duel_granted, 0);
	atomic_store(&duel_go, false);
	for (i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, duelist, (void *)n);
	atomic_store(&duel_go, true);
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	EXPECT_EQ(atomic_load(&errors), e0);
	EXPECT_EQ(atomic_load(&duel_granted), 2 * n);
	EXPECT_EQ(folio_ref_count(page_folio(pfn_to_page(
		(duel_map->range.start >> PAGE_SHIFT) + 7))), 0);
	EXPECT_EQ(memremap_pgmap_pins(duel_map), 0);
	EXPECT_TRUE(atomic_load(&duel_frees) >= 1);
	EXPECT_TRUE(atomic_load(&duel_frees) <= (long)(2 * n));
	memremap_set_wait_bound_ms(3000);
	memremap_warn_quiet(true);
	memunmap_pages(duel_map);
	memremap_warn_quiet(false);
	memremap_set_wait_bound_ms(10000);
	EXPECT_FALSE(memremap_pgmap_is_mapped(duel_map));
	EXPECT_EQ(memremap_warn_count(), w0);
	printf("    # 2 threads x %lu request/put of one folio: %ld "
	       "page_free calls\n", n, atomic_load(&duel_frees));
	if (!memremap_pgmap_is_mapped(duel_map))
		free(duel_map);
}

/* ---- busy-page reads race first requests ---- */

static struct dev_pagemap *hint_map;
static atomic_bool hint_stop;
static atomic_ulong hint_reads;

static void *busy_reader(void *arg)
{
	(void)arg;
	while (!atomic_load(&hint_stop)) {
		memremap_pgmap_busy_pages(hint_map);
		atomic_fetch_add(&hint_reads, 1);
	}
	return NULL;
}

/*
 * A read of the referenced pages skips a chunk while its hint says none
 * is, and clears the hint when it finds the chunk idle (docs/DESIGN.md
 * §7). Here a thread reads the busy pages of a one-chunk pgmap in a loop
 * while this one requests and puts its folios (each a 0 -> 1 and a
 * 1 -> 0) and then keeps one: once the reader is joined, a read must find
 * exactly that one, and none after its put. A hint cleared behind a
 * first request would show as 0.
 */
KTAP_CASE(busy_reads_race_first_requests)
{
	unsigned long r, i, rounds = nrounds, missed = 0, stale = 0;
	unsigned long w0 = memremap_warn_count();
	struct folio *f, *kept;
	pthread_t t;

	hint_map = calloc(1, sizeof(*hint_map));
	hint_map->type = MEMORY_DEVICE_GENERIC;
	hint_map->nr_range = 1;
	hint_map->range.start = 104UL << 30;
	hint_map->range.end = hint_map->range.start + SZ_2M - 1;
	EXPECT_FALSE(IS_ERR(memremap_pages(hint_map, 0)));
	atomic_store(&hint_reads, 0);
	for (r = 0; r < rounds; r++) {
		atomic_store(&hint_stop, false);
		pthread_create(&t, NULL, busy_reader, NULL);
		for (i = 0; i < 64; i++) {
			f = pgmap_request_folio(hint_map, (r * 64 + i) % 512, 0);
			SCHECK(f != NULL);
			if (f)
				folio_put(f);
		}
		kept = pgmap_request_folio(hint_map, (r * 7) % 512, 0);
		SCHECK(kept != NULL);
		atomic_store(&hint_stop, true);
		pthread_join(t, NULL);
		missed += memremap_pgmap_busy_pages(hint_map) != 1;
		if (kept)
			folio_put(kept);
		stale += memremap_pgmap_busy_pages(hint_map) != 0;
	}
	EXPECT_EQ(missed, 0);
	EXPECT_EQ(stale, 0);
	EXPECT_EQ(memremap_pgmap_pins(hint_map), 0);
	memunmap_pages(hint_map);
	EXPECT_FALSE(memremap_pgmap_is_mapped(hint_map));
	EXPECT_EQ(memremap_warn_count(), w0);
	printf("    # %lu rounds of 65 first requests against %lu busy-page "
	       "reads\n", rounds, atomic_load(&hint_reads));
	free(hint_map);
}

/* ---- the page lock is a lock ---- */

static struct page *locked_page;
static unsigned long in_lock;	/* guarded by the page lock only */

static void *locker(void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < 2000; i++) {
		if (i & 1) {
			lock_page(locked_page);
		} else {
			while (!trylock_page(locked_page))
				sched_yield();
		}
		in_lock++;
		unlock_page(locked_page);
	}
	return NULL;
}

KTAP_CASE(lock_page_excludes)
{
	struct dev_pagemap *m = calloc(1, sizeof(*m));
	unsigned long w0 = memremap_warn_count();
	struct folio *f;
	pthread_t t[NWORK];
	int i;

	m->type = MEMORY_DEVICE_GENERIC;
	m->nr_range = 1;
	m->range.start = 96UL << 30;
	m->range.end = m->range.start + SZ_2M - 1;
	EXPECT_FALSE(IS_ERR(memremap_pages(m, 0)));
	f = pgmap_request_folio(m, 5, 0);
	EXPECT_NOT_NULL(f);
	locked_page = &f->page;
	in_lock = 0;
	for (i = 0; i < NWORK; i++)
		pthread_create(&t[i], NULL, locker, NULL);
	for (i = 0; i < NWORK; i++)
		pthread_join(t[i], NULL);
	EXPECT_EQ(in_lock, NWORK * 2000);
	EXPECT_FALSE(PageLocked(&f->page));
	folio_put(f);
	memunmap_pages(m);
	EXPECT_FALSE(memremap_pgmap_is_mapped(m));
	free(m);
	EXPECT_EQ(memremap_warn_count(), w0);
	printf("    # %d threads x 2000 lock_page/trylock_page sections\n",
	       NWORK);
}

int main(int argc, char **argv)
{
	static const struct ktap_case cases[] = {
		KTAP_ENTRY(requests_and_puts_race_kill_and_unmap),
		KTAP_ENTRY(percpu_ref_releases_once_after_the_last_put),
		KTAP_ENTRY(last_put_races_first_request),
		KTAP_ENTRY(busy_reads_race_first_requests),
		KTAP_ENTRY(lock_page_excludes),
	};
	const char *s = argc > 1 ? argv[1] : getenv("STRESS_ROUNDS");

	nrounds = s && *s ? strtoul(s, NULL, 0) : DEFAULT_ROUNDS;
	/* Racing WARNs by the thousand: no call traces. */
	memremap_warn_set_traces(false);
	return ktap_run("stress", cases, ARRAY_SIZE(cases));
}
