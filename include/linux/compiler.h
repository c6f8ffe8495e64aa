/* SPDX-License-Identifier: GPL-2.0-only */
/* Branch hints, compiler barriers and single-copy accesses. */
#ifndef __LINUX_COMPILER_H
#define __LINUX_COMPILER_H

#include <linux/compiler_types.h>

#define likely(x)	__builtin_expect(!!(x), 1)
#define unlikely(x)	__builtin_expect(!!(x), 0)

/* Keep the compiler from moving memory accesses across this point. */
#define barrier()	__asm__ __volatile__("" : : : "memory")

/* One access of the whole object, not torn, fused or repeated. */
#define READ_ONCE(x)	(*(const volatile typeof(x) *)&(x))
#define WRITE_ONCE(x, val)						\
	do {								\
		*(volatile typeof(x) *)&(x) = (val);			\
	} while (0)

/* 0 when (a) is an array; an error when it is a pointer. */
#define __must_be_array(a)	BUILD_BUG_ON_ZERO(__same_type((a), &(a)[0]))

/*
 * 1 when x is an integer constant expression, else 0, itself a constant:
 * only a null pointer constant turns the conditional's type into int *.
 */
#define __is_constexpr(x) \
	(sizeof(int) == sizeof(*(8 ? ((void *)((long)(x) * 0l)) : (int *)8)))

#include <linux/build_bug.h>

#endif /* __LINUX_COMPILER_H */
