/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The hostile-input campaign's parts (hostile.c says what it does):
 *
 *	hostile.h		what the parts share: limits, the functions
 *				under test, the model's types and state, the
 *				checks of one call
 *	hostile_model.c		the model: what is alive, what the library
 *				should answer, and the sweep that checks the
 *				model against the library
 *	hostile_pick.c		the draws (seeded, or bytes) and arguments:
 *				pgmaps, configurations, pfns, offsets, orders
 *	hostile_pgmaps.c	operations: map, unmap, kill, scramble
 *	hostile_folios.c	operations: requests, puts, gets, the
 *				pre-patch pair
 *	hostile_lookups.c	operations: translations, get/put_dev_pagemap
 *	hostile_pages.c		operations: page and folio calls, NULL, locks
 *	hostile_refs.c		operations: percpu_refs, the pgmaps' own and
 *				standalone ones
 *	hostile_misc.c		operations: completions, kmalloc(), the rest
 *	hostile.c		the driver: failure reporting, the campaign
 *				loop, setup and teardown, KTAP cases, main()
 *
 * Every operation draws its arguments from the one source of draws (a
 * seeded generator, or a fuzz input's bytes: c-tests/fuzz/api.c), so a
 * seed or an input replays a campaign exactly.
 */
#ifndef _HOSTILE_H
#define _HOSTILE_H

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
#define ALL_DONE	UINT_MAX	/* a completion completed for all */

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

struct fn_stats {
	unsigned long calls, valid, bad, quiet;
};

extern struct fn_stats stats[NFN];

/* What the campaign did, for its report and its coverage checks. */
struct figures {
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
	/*
	 * How often each defect class of repro.c (1 to 8) was set up, for
	 * the fuzz targets' reach report (c-tests/fuzz/api.c).
	 */
	unsigned long repro[9];
};

extern struct figures fig;

/* ---- one call under test, and its checks (hostile.c) ---- */

extern unsigned long step;	/* the campaign's step */
extern bool failed;		/* a check failed: the campaign stops */
extern enum fn cur;		/* the function under test */

/* What the step does, for the trace and a failure's last steps. */
__printf(1, 2) void note(const char *fmt, ...);
/* A failed check: the seed, the step and the steps before it. */
void fail_at(const char *file, int line, const char *what);

#define CHECK(cond)							\
	do {								\
		if (!(cond)) {						\
			fail_at(__FILE__, __LINE__, #cond);		\
			return;						\
		}							\
	} while (0)

/* A WARN window around one call under test. */
void call(enum fn f);
unsigned long warned(void);

/*
 * The verdict on the call under test: @cond on the WARNs it made, and the
 * column of its function's stats it counts in.
 */
#define VERDICT(cond, column)						\
	do {								\
		CHECK(cond);						\
		stats[cur].column++;					\
	} while (0)

/* The call was valid: no WARN. */
#define VALID()		VERDICT(warned() == 0, valid)
/* The call was bad: exactly one WARN (its answer is checked by the op). */
#define BAD()		VERDICT(warned() == 1, bad)
/* A bad call answered with @n WARNs (one per bad item). */
#define BAD_N(n)	VERDICT(warned() == (unsigned long)(n) && (n) > 0, bad)
/* Refused without a WARN, as the kernel refuses it. */
#define QUIET()		VERDICT(warned() == 0, quiet)

/* Valid if @ok, else bad. */
#define VALID_IF(ok)							\
	do {								\
		if (ok)							\
			VALID();					\
		else							\
			BAD();						\
	} while (0)

/*
 * One call of function @fn under test, made in @cond, which checks its
 * answer; then its verdict (VALID, BAD or QUIET).
 */
#define EXPECT_CALL(fn, cond, verdict)					\
	do {								\
		call(F_##fn);						\
		CHECK(cond);						\
		verdict();						\
	} while (0)

/* ---- the model (hostile_model.c) ---- */

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
	unsigned long gen;	/* memremap_pages() that took it */
	bool stray;		/* its done completed behind the library */
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

/* A struct page * kept past its pgmap's memunmap_pages(). */
struct stale {
	struct pg *pg;
	unsigned long gen, pfn, maps;	/* fig.maps_ok when it was taken */
	struct page *page;
};

#define NSTALE		16

/* A pgmap with room for MAXR ranges, for copies and garbage. */
struct pgmap_mem {
	struct dev_pagemap pgmap;
	struct range more[MAXR - 1];
};

/* Everything the campaign holds, and what it knows of it. */
extern struct pg pool[NPG];
extern struct held held[MAXHELD];
extern int nheld;
extern struct devres devres[NDEVRES];
extern int ndevres;
extern struct device devs[NDEV];
extern struct device stranger;
extern struct sref srefs[NSREF];
extern struct completion comps[NCOMP];
extern unsigned int comp_done[NCOMP];
extern struct alloc allocs[NALLOC];
extern int nalloc;
extern unsigned long kmalloc_base;
extern struct pgmap_mem scratch;
extern int owner_cookie;
extern unsigned long last_free_pfn;
extern unsigned long deadlocks_left, waits_left;
extern int max_abandon;		/* give-ups allowed (MAX_ABANDON) */
extern struct stale stale[NSTALE];
extern int nstale;

/* The driver callbacks the pgmaps and refs are given. */
extern const struct dev_pagemap_ops full_ops, free_only_ops,
	migrate_only_ops;
void count_release(struct percpu_ref *ref);

struct pg *pg_of_map(const struct dev_pagemap *map);
bool registered(const struct pg *pg);
long pg_refs(const struct pg *pg);
int nregistered(void);
int nabandoned(void);
bool in_devres(const struct pg *pg);
const struct span *pg_span(const struct pg *pg, unsigned long pfn);
unsigned long pg_off_to_pfn(const struct pg *pg, unsigned long off);
unsigned long pg_pfn_to_off(const struct pg *pg, unsigned long pfn);
bool pg_usable(const struct pg *pg, unsigned long pfn);
unsigned long pg_head(const struct pg *pg, unsigned long pfn);
struct pg *owner_of(unsigned long pfn);
struct held *find_held(unsigned long pfn);
void take_ref(struct pg *pg, unsigned long pfn, struct folio *folio);
void drop_ref(struct held *h);
void sref_released(struct sref *s);

long predict_map(struct pg *pg, int *warns, struct span *spans);
void adopt(struct pg *pg, const struct span *spans);
int unmap_effect(struct pg *pg);

void check_pg(struct pg *pg);
void check_held(struct held *h);
void check_sref(struct sref *s);
void sweep(void);

/* ---- the draws and arguments (hostile_pick.c) ---- */

/* Draws from a seeded generator, or from the bytes of a fuzz input. */
void rnd_seed(u64 seed);
void rnd_bytes(const void *data, size_t size);
bool draws_from_bytes(void);
bool draws_out(void);		/* the bytes are spent: draws are 0 */
u64 rnd(void);
unsigned long below(unsigned long n);
bool chance(unsigned int pct);
void fill_garbage(void *p, size_t n);

/* A pgmap argument: one of the pool's (then @pg is set), or not. */
struct target {
	struct dev_pagemap *p;
	struct pg *pg;		/* NULL unless from the pool */
};

struct pg *random_pg(void);
struct pg *random_registered(void);
struct pg *random_in(enum pg_state state);
struct pg *random_pinned(void);
struct held *random_held(void);
struct target pick_target(void);
const char *tname(const struct target *t);
int pg_index(const struct pg *pg);
unsigned long pfn_within(const struct span *s);
unsigned long pick_pfn(void);
unsigned long pick_offset(const struct pg *pg);
int pick_order(const struct pg *pg);
void pg_realloc(struct pg *pg, int cap, bool garbage);
void gen_config(struct pg *pg, int nr);
struct page *idle_page(struct pg **owner, bool head);
struct page *tail_of(const struct held *h);

/* ---- the operations, one a step ---- */

void drain(struct pg *pg);
void release_devres(int dev);

void op_map(void);		/* hostile_pgmaps.c */
void op_unmap(void);
void op_kill(void);
void op_scramble(void);
void op_request(void);		/* hostile_folios.c */
void op_put(void);
void op_get(void);
void op_request_folios(void);
void op_release_folios(void);
void op_translate(void);	/* hostile_lookups.c */
void op_get_dev_pagemap(void);
void op_put_dev_pagemap(void);
void op_pages(void);		/* hostile_pages.c */
void op_null(void);
void op_lock(void);
void op_pgref(void);		/* hostile_refs.c */
void op_sref(void);
void op_completion(void);	/* hostile_misc.c */
void op_kmalloc(void);
void op_misc(void);

/*
 * Operations only the fuzz targets draw (c-tests/fuzz/api.c): the hostile
 * program's table stays as it is, so that a seed replays as it did.
 * Each sets up a defect class of repro.c that no operation above makes.
 */
void op_stray_complete(void);	/* hostile_pgmaps.c: repro 6 */
void op_stale(void);		/* hostile_pages.c: repro 8 */
void op_wait_long(void);	/* hostile_misc.c: repro 2 */
void op_race_ledger(void);	/* hostile_misc.c: repro 1 */

#endif /* _HOSTILE_H */
