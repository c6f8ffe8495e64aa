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
 * no kmalloc() allocation behind: a leak fails the case.
 */
#ifndef _MEMREMAP_KTAP_H
#define _MEMREMAP_KTAP_H

#include <stdio.h>
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

		fflush(stdout);
		ktap_failures = 0;
		memremap_warn_rearm();
		ktap_warn_base = memremap_warn_count();
		cases[i].fn();
		memremap_kmalloc_fail_nth(0);
		if (memremap_kmalloc_live() != live)
			KTAP_FAIL("%ld kmalloc() allocation(s) leaked",
				  (long)(memremap_kmalloc_live() - live));
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
