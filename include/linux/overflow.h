/* SPDX-License-Identifier: GPL-2.0-only */
/* Overflow-checked arithmetic and allocation sizes (struct_size()). */
#ifndef __LINUX_OVERFLOW_H
#define __LINUX_OVERFLOW_H

#include <stdint.h>
#include <linux/compiler.h>
#include <linux/types.h>

static inline bool __must_check __must_check_overflow(bool overflow)
{
	return unlikely(overflow);
}

/*
 * check_{add,sub,mul}_overflow(a, b, d): *d = a op b, computed in the type
 * of *d; true when the result does not fit (then *d holds it wrapped).
 */
#define check_add_overflow(a, b, d) \
	__must_check_overflow(__builtin_add_overflow(a, b, d))
#define check_sub_overflow(a, b, d) \
	__must_check_overflow(__builtin_sub_overflow(a, b, d))
#define check_mul_overflow(a, b, d) \
	__must_check_overflow(__builtin_mul_overflow(a, b, d))

/* a * b, or SIZE_MAX when that overflows (allocators then fail). */
static inline size_t __must_check size_mul(size_t factor1, size_t factor2)
{
	size_t bytes;

	if (check_mul_overflow(factor1, factor2, &bytes))
		return SIZE_MAX;
	return bytes;
}

/* a + b, or SIZE_MAX when that overflows. */
static inline size_t __must_check size_add(size_t addend1, size_t addend2)
{
	size_t bytes;

	if (check_add_overflow(addend1, addend2, &bytes))
		return SIZE_MAX;
	return bytes;
}

#define array_size(a, b)	size_mul(a, b)
#define array3_size(a, b, c)	size_mul(size_mul(a, b), c)

/* Bytes of @count elements of the flexible array @member of *@p. */
#define flex_array_size(p, member, count)				\
	size_mul(count, sizeof(*(p)->member) + __must_be_array((p)->member))

/*
 * Bytes of *@p with @count elements in its flexible array @member;
 * SIZE_MAX on overflow. @p is not evaluated.
 */
#define struct_size(p, member, count)					\
	size_add(sizeof(*(p)), flex_array_size(p, member, count))

#endif /* __LINUX_OVERFLOW_H */
