// SPDX-License-Identifier: GPL-2.0-only
/*
 * A test of the report itself (c-tests/run.sh, docs/DESIGN.md §8): a suite
 * with a deliberately broken case, run through run.sh as make report runs
 * the suites, must give a report that explains the failure on its own and
 * ends in a verdict. Run with --broken, this program is that suite: one
 * case misuses the API from a function of its own and fails, one states a
 * finding from a child process's WARN, one passes. Run plainly, it is the
 * KTAP suite "report", which checks what run.sh makes of the broken one:
 *
 *   - the failed case's diagnostics carry the WARN it caught, with the
 *     page's dump and the call trace naming the function and report.c line
 *     of the misuse; a passed case prints no evidence;
 *   - the finding is listed under its caller and the function and line of
 *     the caller its WARN's trace points at;
 *   - the verdict table, the failed case, the totals close the report,
 *     which is one valid KTAP document (c-tests/ktap_check.py), and run.sh
 *     exits 1.
 */
#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/err.h>
#include <memremap/test.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "ktap.h"
#include "callers/callers_test.h"

#define BASE	(5UL << 30)
#define SZ_2M	(2UL << 20)

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

static struct dev_pagemap pgmap = {
	.type = MEMORY_DEVICE_PRIVATE,
	.ops = &ops,
	.owner = &owner_cookie,
	.nr_range = 1,
	.range = { .start = BASE, .end = BASE + SZ_2M - 1 },
};

/* ---- the broken suite ---- */

/* The lines of the two misuses, which the traces must name. */
enum { PUT_LINE = __LINE__ + 4, CHILD_LINE = __LINE__ + 13 };

static noinline void broken_driver_put(struct folio *folio)
{
	folio_put(folio);
	calls++;
}

/* A child's scenario for a finding: the same misuse, in a child. */
static noinline void broken_child_put(void *arg, long out[CHILD_OUT])
{
	struct folio *folio = arg;

	folio_put(folio);
	out[0] = folio_ref_count(folio);
}

KTAP_CASE(misuses_the_api_and_fails)
{
	struct folio *folio;

	EXPECT_FALSE(IS_ERR_OR_NULL(memremap_pages(&pgmap, 0)));
	folio = page_folio(pfn_to_page((BASE >> PAGE_SHIFT) + 2));
	broken_driver_put(folio);
	/* Deliberately wrong: the put of an idle folio WARNs. */
	EXPECT_WARNS(0);
	memunmap_pages(&pgmap);
}

KTAP_CASE(states_a_finding)
{
	struct child_result r;
	char how[512];

	EXPECT_FALSE(IS_ERR_OR_NULL(memremap_pages(&pgmap, 0)));
	run_in_child(broken_child_put,
		     page_folio(pfn_to_page((BASE >> PAGE_SHIFT) + 3)), &r);
	EXPECT_TRUE(r.returned);
	EXPECT_EQ(r.nr_warns, 1);
	finding("broken", "a put of an idle folio [%s]",
		child_brief(&r, how, sizeof(how)));
	memunmap_pages(&pgmap);
}

KTAP_CASE(passes)
{
	EXPECT_EQ(calls, calls);
}

static int broken_suite(void)
{
	static const struct ktap_case cases[] = {
		KTAP_ENTRY(misuses_the_api_and_fails),
		KTAP_ENTRY(states_a_finding),
		KTAP_ENTRY(passes),
	};

	return ktap_run("broken", cases, ARRAY_SIZE(cases));
}

/* ---- the test of the report ---- */

/* The whole of @path, NUL-terminated, in a fresh buffer (NULL if none). */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t size = 0, n = 0, got;

	if (!f)
		return NULL;
	do {
		size = size ? 2 * size : 65536;
		buf = realloc(buf, size);
		if (!buf)
			abort();
		got = fread(buf + n, 1, size - n - 1, f);
		n += got;
	} while (n == size - 1);
	fclose(f);
	buf[n] = 0;
	return buf;
}

#define EXPECT_HAS(text, want) EXPECT_CONTAINS(text, want, "the report")

static char dir[64], report[128];

/* Run the broken suite through c-tests/run.sh; its exit status. */
static int run_report(void)
{
	char self[256], prog[128], cmd[512];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	FILE *f;
	int st;

	if (n <= 0 || access("c-tests/run.sh", R_OK)) {
		KTAP_FAIL("run from the top of the tree, with /proc");
		return -1;
	}
	self[n] = 0;
	snprintf(dir, sizeof(dir), "/tmp/memremap-report-XXXXXX");
	if (!mkdtemp(dir)) {
		KTAP_FAIL("mkdtemp failed");
		return -1;
	}
	/* run.sh runs programs without arguments: a script runs us. */
	snprintf(prog, sizeof(prog), "%s/broken", dir);
	f = fopen(prog, "w");
	if (!f)
		return -1;
	fprintf(f, "#!/bin/sh\nexec '%s' --broken\n", self);
	fclose(f);
	chmod(prog, 0755);
	snprintf(report, sizeof(report), "%s/report.ktap", dir);
	snprintf(cmd, sizeof(cmd), "sh c-tests/run.sh %s >%s 2>/dev/null",
		 prog, report);
	fflush(stdout);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void clean_up(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (dir[0] && system(cmd))
		printf("    # could not remove %s\n", dir);
}

KTAP_CASE(a_failed_case_carries_its_warn_and_trace)
{
	char want[160], *text, *fail, *passed;

	EXPECT_EQ(run_report(), 1);
	text = slurp(report);
	EXPECT_NOT_NULL(text);
	if (!text) {
		clean_up();
		return;
	}
	fail = strstr(text, "    not ok 1 misuses_the_api_and_fails\n");
	EXPECT_NOT_NULL(fail);
	EXPECT_HAS(text, "    # the library printed, while the case ran:\n"
		   "    # page:");
	EXPECT_HAS(text, "    # page dumped because: folio_put() of a folio"
		   " at refcount 0: nothing to drop\n"
		   "    # ------------[ cut here ]------------\n"
		   "    # WARNING: CPU: ");
	EXPECT_HAS(text, "    # Call Trace:\n    #  <TASK>\n"
		   "    #  folio_put+0x");
	EXPECT_HAS(text, "    #  broken_driver_put+0x");
	snprintf(want, sizeof(want), "c-tests/api/report.c:%d\n", PUT_LINE);
	EXPECT_HAS(text, want);
	EXPECT_HAS(text, "    #  misuses_the_api_and_fails+0x");
	/* All of it before the result line it explains. */
	if (fail)
		EXPECT_TRUE(strstr(text, "    #  broken_driver_put+0x") < fail);
	/* A passed case prints no evidence. */
	passed = strstr(text, "    ok 2 states_a_finding\n");
	EXPECT_NOT_NULL(passed);
	if (passed && fail)
		EXPECT_FALSE(strstr(fail + 1, "the library printed") &&
			     strstr(fail + 1, "the library printed") < passed);
	free(text);
	clean_up();
}

KTAP_CASE(the_report_ends_in_a_verdict)
{
	char want[200], *text, *last, cmd[256];
	int st;

	EXPECT_EQ(run_report(), 1);
	text = slurp(report);
	EXPECT_NOT_NULL(text);
	if (!text) {
		clean_up();
		return;
	}
	/* The finding, under its caller and the line its trace points at. */
	snprintf(want, sizeof(want), "# Findings by caller (1 stated by the "
		 "suites):\n# broken (1):\n#   broken_child_put() at "
		 "c-tests/api/report.c:%d:\n#   - a put of an idle folio "
		 "[returned after 1 WARN(s) in folio_put]\n", CHILD_LINE);
	EXPECT_HAS(text, want);
	EXPECT_HAS(text, "# Verdict:\n#   suite   passed  failed skipped\n"
		   "#   broken       2       1       0\n"
		   "#   total        2       1       0\n"
		   "# Failed (1):\n#   broken/misuses_the_api_and_fails\n"
		   "# Totals: pass:2 fail:1 skip:0 total:3\n"
		   "2 passed, 1 failed\n");
	/* ... and that closes it. */
	last = strstr(text, "2 passed, 1 failed\n");
	EXPECT_TRUE(last && !last[strlen("2 passed, 1 failed\n")]);
	free(text);
	/* One valid KTAP document, by the project's own reader. */
	snprintf(cmd, sizeof(cmd), "python3 c-tests/ktap_check.py --totals "
		 "%s >/dev/null", report);
	st = system(cmd);
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	clean_up();
}

int main(int argc, char **argv)
{
	static const struct ktap_case cases[] = {
		KTAP_ENTRY(a_failed_case_carries_its_warn_and_trace),
		KTAP_ENTRY(the_report_ends_in_a_verdict),
	};

	if (argc > 1 && !strcmp(argv[1], "--broken"))
		return broken_suite();
	return ktap_run("report", cases, ARRAY_SIZE(cases));
}
