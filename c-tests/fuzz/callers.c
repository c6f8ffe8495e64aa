// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz target "callers": the input chooses a converted caller's version
 * (after the patch, or before it: the objects c-tests/callers/callers.mk
 * builds, here lib/test_hmm.c's dmirror_devmem_alloc_page()), the pgmap
 * shape (a DEVICE_PRIVATE chunk over free address space, or the
 * DEVICE_COHERENT device's own range), and a schedule of allocations,
 * frees and faults: which allocation fails (memremap_kmalloc_fail_nth(),
 * or the mocked memremap_pages() itself), and when a percpu_ref_tryget()
 * loses its race or the pgmap is killed under the next request.
 *
 * The oracle is the caller suite's (c-tests/callers/test_dmirror.c):
 * every page handed out is locked, at refcount 1, pins its chunk's pgmap
 * once, and (private) has a backing system page; a failed allocation
 * leaves nothing behind (FAILED_NTH_ALLOCATION()); every put runs
 * page_free() once and drops the pin; at the end the chunks unmap without
 * waiting, and nothing is left: no pgmap, region, system page, kmalloc()
 * or ledger item.
 *
 * A lost tryget or a killed pgmap makes the request fail, and the suite
 * records how each version then ends (its FAIL_TRYGET and FAIL_DYING
 * rows: under UBSan the version after the patch is stopped forming
 * &folio->page from NULL; the one before returns a page at refcount 0).
 * Those steps run in a child process (callers_test.h's run_in_child()),
 * which must end as the row says; the parent's state is untouched.
 *
 * Not covered: the other four callers, order-1 chunks (FAIL_ORDER), and
 * chunk exhaustion (65536 pages a chunk).
 */
#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/percpu-refcount.h>
#include <memremap/test.h>
#include <signal.h>
#include "ktap.h"
#include "callers_test.h"
#include "test_hmm_mock.h"
#include "fuzz/fuzz.h"

#define SPM_ADDR	(64UL << 30)
#define MAXSTEPS	64
#define MAXHELD		64

/* Set by the sanitizer runtime, if linked: libFuzzer's crash report. */
void __sanitizer_set_death_callback(void (*callback)(void))
	__attribute__((weak));

static const uint8_t *in;
static size_t left;
static bool fuzz_traces;

static unsigned int byte(void)
{
	if (!left)
		return 0;
	left--;
	return *in++;
}

struct fuzz_world {
	const struct dmirror_api *api;
	bool after, private;
	struct dmirror_device md;
	struct page *held[MAXHELD];
	int nheld;
	unsigned long allocs, frees;
};

static struct fuzz_world w;

static void unlock_and_put(struct page *page)
{
	unlock_page(page);
	put_page(page);
}

/* The model against the caller and the library. */
static void check_world(void)
{
	long pins = 0;
	unsigned int i;
	int j;

	for (j = 0; j < w.nheld; j++) {
		struct page *p = w.held[j];

		FUZZ_CHECK(page_ref_count(p) == 1);
		FUZZ_CHECK(PageLocked(p));
		FUZZ_CHECK(is_zone_device_page(p));
		FUZZ_CHECK(w.private ? is_device_private_page(p) :
				       is_device_coherent_page(p));
		FUZZ_CHECK((p->zone_device_data != NULL) == w.private);
	}
	for (i = 0; i < w.md.devmem_count; i++)
		pins += memremap_pgmap_pins(&w.md.devmem_chunks[i]->pagemap);
	FUZZ_CHECK(pins == w.nheld);
	FUZZ_CHECK(w.md.calloc == w.allocs);
	FUZZ_CHECK(w.md.cfree == w.frees);
	FUZZ_CHECK(memremap_system_pages_live() ==
		   (unsigned long)(w.private ? w.nheld : 0));
	FUZZ_CHECK(memremap_mapped_pgmaps() == w.md.devmem_count);
	FUZZ_CHECK(callers_regions_live() ==
		   (w.private ? w.md.devmem_count : 0));
}

static void alloc_step(void)
{
	unsigned int how = byte() % 8;
	unsigned long chunks = w.md.devmem_count;
	struct page *page;
	bool hit = false;

	if (w.nheld == MAXHELD)
		return;
	if (how < 4) {
		page = w.api->alloc_page(&w.md);
	} else if (how < 7) {
		/* One of the first allocations fails (the suite's loop). */
		hit = FAILED_NTH_ALLOCATION(1 + byte() % 6,
					    page = w.api->alloc_page(&w.md));
	} else {
		mock_memremap_fail_nth(1);
		page = w.api->alloc_page(&w.md);
		mock_memremap_fail_nth(0);
		hit = !page;
	}
	if (hit) {
		/* Nothing taken is kept. */
		FUZZ_CHECK(!page);
		FUZZ_CHECK(w.md.devmem_count == chunks);
		check_world();
		return;
	}
	FUZZ_CHECK(page);
	w.held[w.nheld++] = page;
	w.allocs++;
	FUZZ_CHECK(folio_pgmap(page_folio(page)) == page->pgmap);
	FUZZ_CHECK(page->pgmap->owner == &w.md);
	check_world();
}

static void free_step(void)
{
	int i;

	if (!w.nheld)
		return;
	i = byte() % w.nheld;
	unlock_and_put(w.held[i]);
	FUZZ_CHECK(page_ref_count(w.held[i]) == 0);
	w.held[i] = w.held[--w.nheld];
	w.frees++;
	check_world();
}

/* ---- a failing request, in a child ---- */

static void fail_child(void *arg, long out[CHILD_OUT])
{
	const struct fail_arg *a = arg;
	struct dev_pagemap *pgmap = &w.md.devmem_chunks[0]->pagemap;
	struct page *page;

	/* The child's end is the parent's verdict, not libFuzzer's. */
	if (__sanitizer_set_death_callback)
		__sanitizer_set_death_callback(NULL);
	signal(SIGABRT, SIG_DFL);
	signal(SIGSEGV, SIG_DFL);
	signal(SIGILL, SIG_DFL);
	signal(SIGFPE, SIG_DFL);
	signal(SIGBUS, SIG_DFL);
	/*
	 * The oracle reads the WARN lines, not their call traces; a trace
	 * makes each child read the binary's DWARF afresh, which halved the
	 * target's execs/s. FUZZ_TRACES=1 keeps them (for a crash's report).
	 */
	memremap_warn_set_traces(fuzz_traces);
	if (a->mode == FAIL_DYING)
		percpu_ref_kill(&pgmap->ref);
	else
		memremap_percpu_tryget_fail_nth(1);
	page = w.api->alloc_page(&w.md);
	out[0] = page != NULL;
	out[1] = page ? page_ref_count(page) : -1;
	out[2] = memremap_pgmap_pins(pgmap);
	if (page)
		unlock_and_put(page);
}

/* A failed check of a child: how it ended and its stderr, then abort. */
static __attribute__((noreturn)) void child_failed(const char *what,
						   const struct child_result *r)
{
	char how[1024];

	fprintf(stderr, "fuzz: callers: the child %s (signal %d, exit %d, "
		"reported %ld %ld %ld)\n", child_how(r, how, sizeof(how)),
		r->signal, r->status, r->out[0], r->out[1], r->out[2]);
	if (ktap_evidence)
		fputs(ktap_evidence, stderr);
	fuzz_crash(what);
}

#define CHILD_CHECK(r, cond)						\
	do {								\
		if (!(cond))						\
			child_failed(__FILE__ ": " #cond, r);		\
	} while (0)

static void fail_step(void)
{
	struct fail_arg a = { w.api, byte() & 1 ? FAIL_DYING : FAIL_TRYGET };
	struct child_result r;
	bool ubsan = sanitized("undefined");

	/* The suite's child: one chunk, its pages not all taken. */
	if (!w.private || w.md.devmem_count != 1)
		return;
	run_in_child(fail_child, &a, &r);
	if (w.after && ubsan) {
		/* &folio->page of NULL, after the request's WARN. */
		CHILD_CHECK(&r, r.crashed);
		CHILD_CHECK(&r, strstr(r.report, "null pointer"));
	} else {
		CHILD_CHECK(&r, r.returned);
		/* A page handed out unreferenced, and no pin taken. */
		CHILD_CHECK(&r, r.out[0] == 1 && r.out[1] == 0);
		CHILD_CHECK(&r, r.out[2] == w.nheld);
		CHILD_CHECK(&r, child_warned_in(&r, "folio_put"));
	}
	CHILD_CHECK(&r, child_warned_in(&r, a.mode == FAIL_TRYGET ?
					"percpu_ref_tryget" :
					w.after ? "pgmap_request_folio" :
						  "pgmap_request_folios"));
	/* run_in_child() keeps each child's stderr for a KTAP case: drop it. */
	free(ktap_evidence);
	ktap_evidence = NULL;
	check_world();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	memremap_warn_quiet(true);
	fuzz_traces = getenv("FUZZ_TRACES") != NULL;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned long live = memremap_kmalloc_live();
	unsigned int first, step;
	unsigned long waits;

	in = data;
	left = size;
	first = byte();
	memset(&w, 0, sizeof(w));
	w.after = !(first & 1);
	w.private = !(first & 2);
	w.api = w.after ? &dmirror_after : &dmirror_before;
	w.md.zone_device_type = w.private ? HMM_DMIRROR_MEMORY_DEVICE_PRIVATE :
					    HMM_DMIRROR_MEMORY_DEVICE_COHERENT;
	w.md.device.init_name = "hmm_dmirror0";
	w.md.spm_addr = SPM_ADDR;
	mutex_init(&w.md.devmem_lock);
	spin_lock_init(&w.md.lock);
	memremap_set_wait_bound_ms(UNMAP_BOUND_MS);
	for (step = 0; step < MAXSTEPS && left; step++) {
		switch (byte() % 8) {
		case 0 ... 3:
			alloc_step();
			break;
		case 4 ... 6:
			free_step();
			break;
		default:
			fail_step();
		}
	}
	while (w.nheld)
		free_step();
	waits = memremap_unmap_waits();
	w.api->remove_chunks(&w.md);
	FUZZ_CHECK(memremap_unmap_waits() == waits);
	mutex_destroy(&w.md.devmem_lock);
	FUZZ_CHECK(memremap_mapped_pgmaps() == 0);
	FUZZ_CHECK(callers_regions_live() == 0);
	FUZZ_CHECK(memremap_system_pages_live() == 0);
	FUZZ_CHECK(memremap_kmalloc_live() == live);
	FUZZ_CHECK(memremap_ledger_count() == memremap_kmalloc_live());
	return 0;
}
