/* SPDX-License-Identifier: GPL-2.0-only */
/* Compile-time assertions: BUILD_BUG_ON() and friends. */
#ifndef _LINUX_BUILD_BUG_H
#define _LINUX_BUILD_BUG_H

#include <linux/compiler.h>

/* 0 as an int constant; a negative bit-field width (an error) if e holds. */
#define BUILD_BUG_ON_ZERO(e) ((int)(sizeof(struct { int:(-!!(e)); })))

/* Type-check e without evaluating it. */
#define BUILD_BUG_ON_INVALID(e) ((void)(sizeof((__force long)(e))))

#define BUILD_BUG_ON_MSG(cond, msg)					\
	do {								\
		_Static_assert(!(cond), msg);				\
	} while (0)

/* Fail the build if cond, an integer constant expression, is true. */
#define BUILD_BUG_ON(cond) \
	BUILD_BUG_ON_MSG(cond, "BUILD_BUG_ON failed: " #cond)

#define BUILD_BUG() BUILD_BUG_ON_MSG(1, "BUILD_BUG failed")

/* static_assert(expr) or static_assert(expr, msg), anywhere. */
#undef static_assert
#define static_assert(expr, ...) __static_assert(expr, ##__VA_ARGS__, #expr)
#define __static_assert(expr, msg, ...) _Static_assert(expr, msg)

#endif /* _LINUX_BUILD_BUG_H */
