/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A tiny KTAP v1 harness for C test programs.
 *
 * A program declares its cases with KTAP_CASE(name) { ... }, lists them in
 * KTAP_MAIN("suite", KTAP_ENTRY(name), ...), and prints one KTAP v1
 * document (Documentation/dev-tools/ktap.rst) whose one test is the suite,
 * a subtest indented four spaces as KUnit indents its suites:
 *
 *	KTAP version 1
 *	1..1
 *	    KTAP version 1
 *	    # Subtest: suite
 *	    1..N
 *	    ok 1 name
 *	    # diagnostic lines naming file, line and function of each failed
 *	    # check, before the result line of its case
 *	    not ok 2 other
 *	# suite: pass:P fail:F skip:0 total:N
 *	not ok 1 suite
 *	# Totals: pass:P fail:F skip:0 total:N
 *
 * The suite is ok when every case is. Diagnostics a case prints itself go
 * in the suite's indentation: "    # ...". c-tests/run.sh makes one
 * document of many programs; c-tests/ktap_check.py checks the grammar.
 *
 * Each case runs with WARNs re-armed and counted from zero, and must leave
 * no kmalloc() allocation, streaming DMA mapping or device-managed
 * resource behind: a leak of any fails the case. A failed case's
 * diagnostics end with its evidence: what the library printed while it
 * ran (its WARNs with their call traces, dump_page()s; memremap/test.h's
 * capture) and what helpers added with ktap_add_evidence() (a child
 * process's stderr, say), as "    # " lines before its result line.
 */
#ifndef _MEMREMAP_KTAP_H
#define _MEMREMAP_KTAP_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <memremap/test.h>

struct ktap_case {
	const char *name;
	void (*fn)(void);
};

/* Failed checks in the running case. */
static int ktap_failures;
/* WARNs seen before the running case began. */
static unsigned long ktap_warn_base;

#define KTAP_CASE(name) static void name(void)
#define KTAP_ENTRY(name) { #name, name }

static inline unsigned long ktap_warns(void)
{
	return memremap_warn_count() - ktap_warn_base;
}

#define KTAP_FAIL(fmt, ...)						\
	do {								\
		ktap_failures++;					\
		printf("    # %s:%d %s: " fmt "\n", __FILE__, __LINE__,	\
		       __func__, ##__VA_ARGS__);			\
	} while (0)

#define EXPECT_TRUE(cond)						\
	do {								\
		if (!(cond))						\
			KTAP_FAIL("expected %s", #cond);		\
	} while (0)

#define EXPECT_FALSE(cond) EXPECT_TRUE(!(cond))

#define EXPECT_EQ(a, b)							\
	do {								\
		long long __a = (long long)(a), __b = (long long)(b);	\
		if (__a != __b)						\
			KTAP_FAIL("expected %s == %s (%lld != %lld)",	\
				  #a, #b, __a, __b);			\
	} while (0)

#define EXPECT_NE(a, b)							\
	do {								\
		long long __a = (long long)(a), __b = (long long)(b);	\
		if (__a == __b)						\
			KTAP_FAIL("expected %s != %s (both %lld)",	\
				  #a, #b, __a);				\
	} while (0)

#define EXPECT_PTR_EQ(a, b)						\
	do {								\
		const void *__a = (a), *__b = (b);			\
		if (__a != __b)						\
			KTAP_FAIL("expected %s == %s (%p != %p)",	\
				  #a, #b, __a, __b);			\
	} while (0)

#define EXPECT_NULL(a) EXPECT_PTR_EQ(a, NULL)
#define EXPECT_NOT_NULL(a)						\
	do {								\
		if ((a) == NULL)					\
			KTAP_FAIL("expected %s != NULL", #a);		\
	} while (0)

/* The WARNs of the running case so far. */
#define EXPECT_WARNS(n) EXPECT_EQ(ktap_warns(), (n))

/* @text, newlines shown as \n, cut to one diagnostic line. */
static inline const char *ktap_oneline(const char *text)
{
	static char buf[256];
	size_t i = 0;

	for (; *text && i + 3 < sizeof(buf); text++) {
		if (*text == '\n') {
			buf[i++] = '\\';
			buf[i++] = 'n';
		} else {
			buf[i++] = *text;
		}
	}
	buf[i] = 0;
	return buf;
}

/* @text has (or has not) @want in it; @where names @text in a failure. */
#define EXPECT_CONTAINS(text, want, where)				\
	do {								\
		if (!strstr(text, want))				\
			KTAP_FAIL("no \"%s\" in %s",			\
				  ktap_oneline(want), where);		\
	} while (0)

#define EXPECT_LACKS(text, want, where)					\
	do {								\
		if (strstr(text, want))					\
			KTAP_FAIL("\"%s\" in %s",			\
				  ktap_oneline(want), where);		\
	} while (0)

/* Lines of evidence a failed case prints, at most, from each source. */
#define KTAP_EVIDENCE_LINES 200

/* Evidence helpers added to the running case (ktap_add_evidence()). */
static char *ktap_evidence;

/*
 * Keep @text (lines; a child process's stderr, say) as evidence of the
 * running case, under the heading @what: printed only if the case fails.
 */
static inline void ktap_add_evidence(const char *what, const char *text)
{
	size_t old = ktap_evidence ? strlen(ktap_evidence) : 0;
	size_t len = strlen(text);
	/* "what:\n", the text, a newline if it has none, the NUL. */
	size_t add = strlen(what) + 2 + len + 2;
	char *more = realloc(ktap_evidence, old + add);

	if (!more)
		return;
	snprintf(more + old, add, "%s:\n%s%s", what, text,
		 len && text[len - 1] == '\n' ? "" : "\n");
	ktap_evidence = more;
}

/* Print @text's lines as the case's diagnostics, at most @max of them. */
static inline void ktap_print_lines(char *text, int max)
{
	char *line = text, *next;
	int n = 0, more = 0;

	for (; *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		else
			next = line + strlen(line);
		if (n++ < max)
			printf("    # %s\n", line);
		else
			more++;
	}
	if (more)
		printf("    # ... %d more line(s) not shown\n", more);
}

/* A failed case's evidence: see the top of this file. */
static inline void ktap_print_evidence(void)
{
	size_t n = memremap_warn_captured(NULL, 0);
	char *text = n ? malloc(n + 1) : NULL;

	if (text) {
		memremap_warn_captured(text, n + 1);
		printf("    # the library printed, while the case ran:\n");
		ktap_print_lines(text, KTAP_EVIDENCE_LINES);
		free(text);
	}
	if (ktap_evidence)
		ktap_print_lines(ktap_evidence, KTAP_EVIDENCE_LINES);
}

/*
 * Run the cases and print the report; returns the exit status (0 when
 * every case passed).
 */
static inline int ktap_run(const char *suite, const struct ktap_case *cases,
			   int n)
{
	int i, passed = 0, failed = 0;

	printf("KTAP version 1\n");
	printf("1..1\n");
	printf("    KTAP version 1\n");
	printf("    # Subtest: %s\n", suite);
	printf("    1..%d\n", n);
	for (i = 0; i < n; i++) {
		unsigned long live = memremap_kmalloc_live();
		unsigned long dma = memremap_dma_live();
		unsigned long devres = memremap_devres_live();

		fflush(stdout);
		ktap_failures = 0;
		memremap_warn_rearm();
		ktap_warn_base = memremap_warn_count();
		memremap_warn_capture(true);
		cases[i].fn();
		memremap_kmalloc_fail_nth(0);
		if (memremap_kmalloc_live() != live)
			KTAP_FAIL("%ld kmalloc() allocation(s) leaked",
				  (long)(memremap_kmalloc_live() - live));
		if (memremap_dma_live() != dma)
			KTAP_FAIL("%ld DMA mapping(s) leaked",
				  (long)(memremap_dma_live() - dma));
		if (memremap_devres_live() != devres)
			KTAP_FAIL("%ld managed resource(s) left",
				  (long)(memremap_devres_live() - devres));
		if (ktap_failures)
			ktap_print_evidence();
		memremap_warn_capture(false);
		free(ktap_evidence);
		ktap_evidence = NULL;
		if (ktap_failures) {
			printf("    not ok %d %s\n", i + 1, cases[i].name);
			failed++;
		} else {
			printf("    ok %d %s\n", i + 1, cases[i].name);
			passed++;
		}
	}
	printf("# %s: pass:%d fail:%d skip:0 total:%d\n", suite, passed,
	       failed, n);
	printf("%s 1 %s\n", failed ? "not ok" : "ok", suite);
	printf("# Totals: pass:%d fail:%d skip:0 total:%d\n", passed, failed,
	       n);
	fflush(stdout);
	return failed ? 1 : 0;
}

#define KTAP_MAIN(suite, ...)						\
	int main(void)							\
	{								\
		static const struct ktap_case __cases[] = { __VA_ARGS__ }; \
		return ktap_run(suite, __cases,				\
				sizeof(__cases) / sizeof(__cases[0]));	\
	}

#endif /* _MEMREMAP_KTAP_H */
