/* SPDX-License-Identifier: GPL-2.0-only */
/* refcount_t: an atomic count that saturates instead of wrapping. */
#ifndef _LINUX_REFCOUNT_H
#define _LINUX_REFCOUNT_H

#include <linux/atomic.h>
#include <linux/bug.h>
#include <linux/compiler.h>
#include <limits.h>
#include <linux/types.h>

/*
 * Linux 6.1, include/linux/refcount.h and lib/refcount.c: a misuse
 * (an increment from 0, an overflow, a decrement below 0) WARNs once per
 * kind and pins the count at REFCOUNT_SATURATED, where it stays.
 */
typedef struct refcount_struct {
	atomic_t refs;
} refcount_t;

#define REFCOUNT_INIT(n)	{ .refs = { .counter = (n) }, }
#define REFCOUNT_MAX		INT_MAX
#define REFCOUNT_SATURATED	(INT_MIN / 2)

enum refcount_saturation_type {
	REFCOUNT_ADD_NOT_ZERO_OVF,
	REFCOUNT_ADD_OVF,
	REFCOUNT_ADD_UAF,
	REFCOUNT_SUB_UAF,
	REFCOUNT_DEC_LEAK,
};

/* The kernel builds with -fno-strict-overflow: sums wrap, as here. */
static inline int __refcount_wrap(int a, int b)
{
	return (int)((unsigned int)a + (unsigned int)b);
}

/* lib/refcount.c: saturate, and say why (each reason once). */
static inline void refcount_warn_saturate(refcount_t *r,
					  enum refcount_saturation_type t)
{
	atomic_set(&r->refs, REFCOUNT_SATURATED);
	switch (t) {
	case REFCOUNT_ADD_NOT_ZERO_OVF:
	case REFCOUNT_ADD_OVF:
		WARN_ONCE(1, "refcount_t: saturated; leaking memory.\n");
		break;
	case REFCOUNT_ADD_UAF:
		WARN_ONCE(1, "refcount_t: addition on 0; use-after-free.\n");
		break;
	case REFCOUNT_SUB_UAF:
		WARN_ONCE(1, "refcount_t: underflow; use-after-free.\n");
		break;
	case REFCOUNT_DEC_LEAK:
		WARN_ONCE(1, "refcount_t: decrement hit 0; leaking memory.\n");
		break;
	default:
		WARN_ONCE(1, "refcount_t: unknown saturation event!?\n");
	}
}

static inline void refcount_set(refcount_t *r, int n)
{
	atomic_set(&r->refs, n);
}

static inline unsigned int refcount_read(const refcount_t *r)
{
	return atomic_read(&r->refs);
}

/* Add @i unless the count is 0; true if it was not. */
static inline __must_check bool refcount_add_not_zero(int i, refcount_t *r)
{
	int old = refcount_read(r);

	do {
		if (!old)
			break;
	} while (!__atomic_compare_exchange_n(&r->refs.counter, &old,
					      __refcount_wrap(old, i), false,
					      __ATOMIC_RELAXED,
					      __ATOMIC_RELAXED));
	if (unlikely(old < 0 || __refcount_wrap(old, i) < 0))
		refcount_warn_saturate(r, REFCOUNT_ADD_NOT_ZERO_OVF);
	return old;
}

static inline __must_check bool refcount_inc_not_zero(refcount_t *r)
{
	return refcount_add_not_zero(1, r);
}

static inline void refcount_add(int i, refcount_t *r)
{
	int old = __atomic_fetch_add(&r->refs.counter, i, __ATOMIC_RELAXED);

	if (unlikely(!old))
		refcount_warn_saturate(r, REFCOUNT_ADD_UAF);
	else if (unlikely(old < 0 || __refcount_wrap(old, i) < 0))
		refcount_warn_saturate(r, REFCOUNT_ADD_OVF);
}

static inline void refcount_inc(refcount_t *r)
{
	refcount_add(1, r);
}

/* Subtract @i; true when that brought the count to 0. */
static inline __must_check bool refcount_sub_and_test(int i, refcount_t *r)
{
	int old = __atomic_fetch_sub(&r->refs.counter, i, __ATOMIC_RELEASE);

	if (old == i) {
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		return true;
	}
	if (unlikely(old < 0 || __refcount_wrap(old, -i) < 0))
		refcount_warn_saturate(r, REFCOUNT_SUB_UAF);
	return false;
}

static inline __must_check bool refcount_dec_and_test(refcount_t *r)
{
	return refcount_sub_and_test(1, r);
}

/* A decrement that must not reach 0 (that would leak the object). */
static inline void refcount_dec(refcount_t *r)
{
	if (unlikely(__atomic_fetch_sub(&r->refs.counter, 1,
					__ATOMIC_RELEASE) <= 1))
		refcount_warn_saturate(r, REFCOUNT_DEC_LEAK);
}

#endif /* _LINUX_REFCOUNT_H */
