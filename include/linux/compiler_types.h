/* SPDX-License-Identifier: GPL-2.0-only */
/* Attribute and annotation macros every kernel file sees. */
#ifndef __LINUX_COMPILER_TYPES_H
#define __LINUX_COMPILER_TYPES_H

/*
 * kbuild force-includes kconfig.h and this file; here the headers include
 * them. glibc's <sys/cdefs.h> comes first because it defines (and undefines)
 * __always_inline itself.
 */
#include <sys/cdefs.h>
#include <linux/kconfig.h>
#include <linux/stringify.h>

/* sparse annotations: nothing to the compiler */
#define __user
#define __kernel
#define __iomem
#define __percpu
#define __rcu
#define __force
#define __bitwise
#define __bitwise__
#define __must_hold(x)
#define __acquires(x)
#define __releases(x)

#ifndef __always_inline
#define __always_inline		inline __attribute__((__always_inline__))
#endif
#define noinline		__attribute__((__noinline__))
#define __maybe_unused		__attribute__((__unused__))
#define __always_unused		__attribute__((__unused__))
#define __used			__attribute__((__used__))
#define __must_check		__attribute__((__warn_unused_result__))
#define __printf(a, b)		__attribute__((__format__(printf, a, b)))
#define __aligned(x)		__attribute__((__aligned__(x)))
#define __packed		__attribute__((__packed__))
#define __cold			__attribute__((__cold__))
#define __noreturn		__attribute__((__noreturn__))
#define __weak			__attribute__((__weak__))
#define __pure			__attribute__((__pure__))
#define __malloc		__attribute__((__malloc__))
#define fallthrough		__attribute__((__fallthrough__))

/* Same type? Compile-time, no evaluation. */
#define __same_type(a, b) __builtin_types_compatible_p(typeof(a), typeof(b))

/* A name nobody else uses, for macro locals. */
#define __UNIQUE_ID(prefix) __PASTE(__PASTE(__UNIQUE_ID_, prefix), __COUNTER__)

#endif /* __LINUX_COMPILER_TYPES_H */
