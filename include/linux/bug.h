/* SPDX-License-Identifier: GPL-2.0-only */
/* WARN*() and BUG*(), reported through the library's WARN ledger. */
#ifndef _LINUX_BUG_H
#define _LINUX_BUG_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <linux/compiler.h>
#include <linux/build_bug.h>
#include <linux/types.h>

/*
 * Every report goes to the library, which prints it as the kernel does
 * ("WARNING: CPU: n PID: p at file:line function"), counts it and keeps the
 * last one for tests (memremap/test.h).
 */
void __memremap_warn(const char *file, int line, const char *func,
		     const char *msg);

/*
 * A ONCE site is a static word per call site; the first claim after a
 * memremap_warn_rearm() wins.
 */
bool __memremap_warn_once_claim(unsigned long *site);

static inline __printf(4, 5) void __memremap_warn_printf(const char *file,
							  int line,
							  const char *func,
							  const char *fmt, ...)
{
	char buf[512];
	va_list args;

	va_start(args, fmt);
	vsnprintf(buf, sizeof(buf), fmt, args);
	va_end(args);
	__memremap_warn(file, line, func, buf);
}

/*
 * WARN_ON(condition) - report when @condition holds.
 * Evaluates @condition once; the whole expression is its truth value.
 */
#define WARN_ON(condition) ({						\
	int __ret_warn_on = !!(condition);				\
	if (unlikely(__ret_warn_on))					\
		__memremap_warn(__FILE__, __LINE__, __func__, "");	\
	unlikely(__ret_warn_on);					\
})

/* WARN(condition, fmt, ...) - WARN_ON() with a printf-style message. */
#define WARN(condition, format...) ({					\
	int __ret_warn_on = !!(condition);				\
	if (unlikely(__ret_warn_on))					\
		__memremap_warn_printf(__FILE__, __LINE__, __func__,	\
				       format);				\
	unlikely(__ret_warn_on);					\
})

/* WARN_ON_ONCE(condition) - WARN_ON(), reported once per call site. */
#define WARN_ON_ONCE(condition) ({					\
	static unsigned long __warned_site;				\
	int __ret_warn_once = !!(condition);				\
	if (unlikely(__ret_warn_once) &&				\
	    __memremap_warn_once_claim(&__warned_site))		\
		__memremap_warn(__FILE__, __LINE__, __func__, "");	\
	unlikely(__ret_warn_once);					\
})

/* WARN_ONCE(condition, fmt, ...) - WARN(), reported once per call site. */
#define WARN_ONCE(condition, format...) ({				\
	static unsigned long __warned_site;				\
	int __ret_warn_once = !!(condition);				\
	if (unlikely(__ret_warn_once) &&				\
	    __memremap_warn_once_claim(&__warned_site))		\
		__memremap_warn_printf(__FILE__, __LINE__, __func__,	\
				       format);				\
	unlikely(__ret_warn_once);					\
})

/*
 * BUG() - the kernel oopses; here the report is made and the program
 * aborts, so a test harness sees the process die.
 */
#define BUG() do {							\
	__memremap_warn(__FILE__, __LINE__, __func__,			\
			"kernel BUG at " __FILE__ ":"			\
			__stringify(__LINE__) "!");			\
	abort();							\
} while (0)

#define BUG_ON(condition) do {						\
	if (unlikely(condition))					\
		BUG();							\
} while (0)

/* The VM_* checks, as in the kernel: linux/mmdebug.h. */
#include <linux/mmdebug.h>

/* Cross-check the prototypes above against the library's. */
#ifdef CONFIG_ZONE_DEVICE
#include <memremap/abi.h>
#endif

#endif /* _LINUX_BUG_H */
