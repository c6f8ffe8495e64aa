// SPDX-License-Identifier: GPL-2.0-only
/*
 * Diagnostics a kernel developer can act on (docs/DESIGN.md §5): a WARN's
 * call trace names the caller's function and line, from the library's
 * entry point up to main() or the thread's start routine; WARNs about one
 * page print its dump_page(); traces can be turned off; what the library
 * prints is captured for the harness. Built with -g like every suite, so
 * the trace has file:line for this file's frames.
 */
#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/mmdebug.h>
#include <linux/err.h>
#include <linux/gfp.h>
#include <linux/pagemap.h>
#include <memremap/test.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "ktap.h"

#define SZ_2M	(2UL << 20)
#define BASE	(3UL << 30)

static int owner_cookie;
static volatile int calls;

static void page_free(struct page *page)
{
	(void)page;
}

static vm_fault_t no_migrate(struct vm_fault *vmf)
{
	(void)vmf;
	return 0;
}

static const struct dev_pagemap_ops ops = {
	.page_free = page_free,
	.migrate_to_ram = no_migrate,
};

static void map(struct dev_pagemap *pgmap, unsigned long shift)
{
	memset(pgmap, 0, sizeof(*pgmap));
	pgmap->type = MEMORY_DEVICE_PRIVATE;
	pgmap->range.start = BASE;
	pgmap->range.end = BASE + SZ_2M - 1;
	pgmap->nr_range = 1;
	pgmap->ops = &ops;
	pgmap->owner = &owner_cookie;
	pgmap->vmemmap_shift = shift;
	EXPECT_FALSE(IS_ERR_OR_NULL(memremap_pages(pgmap, 0)));
}

/* The text the library printed since the last start(), in a fresh buffer. */
static char *captured(void)
{
	size_t n = memremap_warn_captured(NULL, 0);
	char *buf = malloc(n + 1);

	if (!buf)
		abort();
	memremap_warn_captured(buf, n + 1);
	return buf;
}

static void start(void)
{
	memremap_warn_capture(true);
}

/* The captured text has (or has not) @want in it. */
#define PRINTED "what was printed"
#define EXPECT_HAS(text, want) EXPECT_CONTAINS(text, want, PRINTED)
#define EXPECT_HASNT(text, want) EXPECT_LACKS(text, want, PRINTED)

/* "diag.c:<line>" for a line of this file. */
static const char *at(int line)
{
	static char buf[4][32];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "diag.c:%d", line);
	return buf[i];
}

static int put_line;

/* A driver's bug: one folio_put() too many. */
static noinline void driver_puts_twice(struct folio *folio)
{
	folio_put(folio);
	put_line = __LINE__ + 1;
	folio_put(folio);
	calls++;
}

KTAP_CASE(trace_names_the_callers_function_and_line)
{
	struct dev_pagemap pgmap;
	struct folio *folio;
	char *text;

	map(&pgmap, 0);
	folio = pgmap_request_folio(&pgmap, 3, 0);
	start();
	driver_puts_twice(folio);
	text = captured();
	EXPECT_WARNS(1);
	EXPECT_HAS(text, "------------[ cut here ]------------\n"
		   "WARNING: CPU: ");
	EXPECT_HAS(text, " at src/page.rs:");
	EXPECT_HAS(text, "\nCall Trace:\n <TASK>\n folio_put+0x");
	EXPECT_HAS(text, " driver_puts_twice+0x");
	EXPECT_HAS(text, at(put_line));
	EXPECT_HAS(text, " main+0x");
	EXPECT_HAS(text, " </TASK>\n---[ end trace 0000000000000000 ]---\n");
	/* Nothing of the library's own insides. */
	EXPECT_HASNT(text, "memremap::");
	free(text);
	memunmap_pages(&pgmap);
}

static int warn_line;

static noinline void driver_warns(void)
{
	warn_line = __LINE__ + 1;
	WARN(calls >= 0, "driver state %d", 7);
	calls++;
}

KTAP_CASE(a_c_warn_traces_from_its_own_function)
{
	char *text;

	start();
	driver_warns();
	text = captured();
	EXPECT_WARNS(1);
	EXPECT_HAS(text, "driver_warns\ndriver state 7\nCall Trace:\n");
	EXPECT_HAS(text, " __memremap_warn+0x");
	EXPECT_HAS(text, " driver_warns+0x");
	EXPECT_HAS(text, at(warn_line));
	free(text);
}

static void *thread_gets_idle_folio(void *folio)
{
	folio_get(folio);
	calls++;
	return NULL;
}

KTAP_CASE(a_threads_trace_ends_at_its_start_routine)
{
	struct dev_pagemap pgmap;
	struct folio *folio;
	pthread_t th;
	char *text;

	map(&pgmap, 0);
	folio = page_folio(pfn_to_page((BASE >> PAGE_SHIFT) + 5));
	start();
	EXPECT_EQ(pthread_create(&th, NULL, thread_gets_idle_folio, folio), 0);
	pthread_join(th, NULL);
	text = captured();
	EXPECT_WARNS(1);
	EXPECT_HAS(text, " folio_get+0x");
	EXPECT_HAS(text, " thread_gets_idle_folio+0x");
	EXPECT_HASNT(text, " main+0x");
	EXPECT_HASNT(text, "start_thread");
	free(text);
	memunmap_pages(&pgmap);
}

KTAP_CASE(traces_can_be_turned_off)
{
	char *text;

	EXPECT_TRUE(memremap_warn_traces());
	memremap_warn_set_traces(false);
	start();
	driver_warns();
	text = captured();
	memremap_warn_set_traces(true);
	EXPECT_WARNS(1);
	EXPECT_HAS(text, "driver state 7\n---[ end trace");
	EXPECT_HASNT(text, "Call Trace:");
	free(text);
}

KTAP_CASE(quiet_warns_print_and_capture_nothing)
{
	char *text;

	start();
	memremap_warn_quiet(true);
	driver_warns();
	memremap_warn_quiet(false);
	text = captured();
	EXPECT_WARNS(1);
	EXPECT_EQ(strlen(text), 0);
	free(text);
	memremap_warn_capture(false);
	EXPECT_EQ(memremap_warn_captured(NULL, 0), 0);
}

KTAP_CASE(a_page_warn_prints_dump_page_first)
{
	struct dev_pagemap pgmap;
	unsigned long pfn = (BASE >> PAGE_SHIFT) + 9;
	struct folio *folio;
	char want[128], *text, *dump, *cut;

	map(&pgmap, 0);
	folio = pgmap_request_folio(&pgmap, 9, 0);
	folio->page.zone_device_data = &owner_cookie;
	start();
	driver_puts_twice(folio);
	text = captured();
	EXPECT_WARNS(1);
	snprintf(want, sizeof(want), "page:%016lx refcount:0 mapcount:0 "
		 "mapping:0000000000000000 index:0x0 pfn:%#lx\n",
		 (unsigned long)folio, pfn);
	EXPECT_HAS(text, want);
	snprintf(want, sizeof(want), "pgmap:%016lx zone_device_data:%016lx\n",
		 (unsigned long)&pgmap, (unsigned long)&owner_cookie);
	EXPECT_HAS(text, want);
	EXPECT_HAS(text, "(reserved|section=");
	EXPECT_HAS(text, "|zone=4)\nraw: ");
	EXPECT_HAS(text, "page dumped because: folio_put() of a folio at "
		   "refcount 0");
	/* The dump comes before the WARN, as the kernel prints it. */
	dump = strstr(text, "page:");
	cut = strstr(text, "[ cut here ]");
	EXPECT_TRUE(dump && cut && dump < cut);
	free(text);
	memunmap_pages(&pgmap);
}

KTAP_CASE(dump_page_of_a_tail_page_shows_its_folio)
{
	struct dev_pagemap pgmap;
	unsigned long pfn = (BASE >> PAGE_SHIFT) + 8;
	struct folio *folio;
	char want[160], *text;

	map(&pgmap, 2);
	folio = pgmap_request_folio(&pgmap, 8, 2);
	EXPECT_NOT_NULL(folio);
	start();
	dump_page(folio_page(folio, 2), "a test asked");
	text = captured();
	EXPECT_WARNS(0);
	snprintf(want, sizeof(want), "page:%016lx refcount:1 mapcount:0 "
		 "mapping:0000000000000000 index:0x2 pfn:%#lx\n",
		 (unsigned long)folio_page(folio, 2), pfn + 2);
	EXPECT_HAS(text, want);
	snprintf(want, sizeof(want), "head:%016lx order:2 compound_mapcount:0 "
		 "compound_pincount:0\n", (unsigned long)folio);
	EXPECT_HAS(text, want);
	EXPECT_HAS(text, "\nhead: ");
	EXPECT_HAS(text, "page dumped because: a test asked\n");
	free(text);
	start();
	dump_folio(folio, NULL);
	text = captured();
	EXPECT_HAS(text, "(reserved|head|section=");
	EXPECT_HASNT(text, "page dumped because");
	free(text);
	folio_put(folio);
	memunmap_pages(&pgmap);
}

KTAP_CASE(vm_warn_on_once_page_dumps_then_warns_once)
{
	struct dev_pagemap pgmap;
	struct page *page;
	char *text;
	int i;

	map(&pgmap, 0);
	page = pfn_to_page((BASE >> PAGE_SHIFT) + 1);
	start();
	for (i = 0; i < 3; i++)
		VM_WARN_ON_ONCE_PAGE(page_ref_count(page) == 0, page);
	text = captured();
	EXPECT_WARNS(1);
	EXPECT_HAS(text, "page dumped because: VM_WARN_ON_ONCE_PAGE("
		   "page_ref_count(page) == 0)\n------------[ cut here ]");
	free(text);
	memunmap_pages(&pgmap);
}

KTAP_CASE(the_poison_page_dumps_as_poisoned)
{
	char *text;

	start();
	dump_page(memremap_poison_page(), NULL);
	text = captured();
	EXPECT_HAS(text, "is uninitialized and poisoned\n");
	free(text);
}

/*
 * The page allocator's misuse is about one page too: a second
 * __free_page() and the last put of a page still locked ("Bad page
 * state") print the page's dump before the WARN.
 */
KTAP_CASE(system_page_misuse_dumps_the_page)
{
	struct page *page = alloc_page(GFP_KERNEL);
	char *text;

	EXPECT_NOT_NULL(page);
	if (!page)
		return;
	get_page(page);
	__free_page(page);
	__free_page(page);
	start();
	__free_page(page);
	text = captured();
	EXPECT_WARNS(1);
	EXPECT_HAS(text, "page dumped because: __free_pages(order 0) of pfn");
	free(text);

	page = alloc_page(GFP_KERNEL);
	EXPECT_NOT_NULL(page);
	if (!page)
		return;
	lock_page(page);
	start();
	put_page(page);
	text = captured();
	EXPECT_WARNS(2);
	EXPECT_HAS(text, "page dumped because: Bad page state: freeing a "
		   "locked page");
	free(text);
}

KTAP_MAIN("diag",
	  KTAP_ENTRY(trace_names_the_callers_function_and_line),
	  KTAP_ENTRY(a_c_warn_traces_from_its_own_function),
	  KTAP_ENTRY(a_threads_trace_ends_at_its_start_routine),
	  KTAP_ENTRY(traces_can_be_turned_off),
	  KTAP_ENTRY(quiet_warns_print_and_capture_nothing),
	  KTAP_ENTRY(a_page_warn_prints_dump_page_first),
	  KTAP_ENTRY(dump_page_of_a_tail_page_shows_its_folio),
	  KTAP_ENTRY(vm_warn_on_once_page_dumps_then_warns_once),
	  KTAP_ENTRY(the_poison_page_dumps_as_poisoned),
	  KTAP_ENTRY(system_page_misuse_dumps_the_page))
