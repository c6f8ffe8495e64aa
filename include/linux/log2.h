/* SPDX-License-Identifier: GPL-2.0-only */
/* Integer base-2 logarithms: ilog2(), is_power_of_2(), roundup. */
#ifndef _LINUX_LOG2_H
#define _LINUX_LOG2_H

#include <linux/types.h>

/* floor(log2(n)) of a non-zero n; -1 for 0, as the kernel's fls() gives. */
static inline int __ilog2_u64(u64 n)
{
	return n ? 63 - __builtin_clzll(n) : -1;
}

#define ilog2(n)	__ilog2_u64((u64)(n))

static inline bool is_power_of_2(unsigned long n)
{
	return n != 0 && (n & (n - 1)) == 0;
}

static inline unsigned long __roundup_pow_of_two(unsigned long n)
{
	return n <= 1 ? 1 : 1UL << (__ilog2_u64(n - 1) + 1);
}

#define roundup_pow_of_two(n)	__roundup_pow_of_two(n)
#define order_base_2(n)		((n) > 1 ? ilog2((n) - 1) + 1 : 0)

#endif /* _LINUX_LOG2_H */
