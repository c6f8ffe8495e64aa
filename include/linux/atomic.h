/* SPDX-License-Identifier: GPL-2.0-only */
/* atomic_t and atomic_long_t operations over the __atomic builtins. */
#ifndef _LINUX_ATOMIC_H
#define _LINUX_ATOMIC_H

#include <linux/compiler.h>
#include <linux/types.h>

/*
 * As in the kernel: plain reads and sets are relaxed, operations that
 * return a value are fully ordered, the others are relaxed.
 */
#define __ATOMIC_OPS(prefix, atype, ctype)				\
static inline ctype prefix##_read(const atype *v)			\
{									\
	return __atomic_load_n(&v->counter, __ATOMIC_RELAXED);		\
}									\
static inline void prefix##_set(atype *v, ctype i)			\
{									\
	__atomic_store_n(&v->counter, i, __ATOMIC_RELAXED);		\
}									\
static inline void prefix##_add(ctype i, atype *v)			\
{									\
	__atomic_fetch_add(&v->counter, i, __ATOMIC_RELAXED);		\
}									\
static inline void prefix##_sub(ctype i, atype *v)			\
{									\
	__atomic_fetch_sub(&v->counter, i, __ATOMIC_RELAXED);		\
}									\
static inline void prefix##_inc(atype *v)				\
{									\
	prefix##_add(1, v);						\
}									\
static inline void prefix##_dec(atype *v)				\
{									\
	prefix##_sub(1, v);						\
}									\
static inline ctype prefix##_add_return(ctype i, atype *v)		\
{									\
	return __atomic_add_fetch(&v->counter, i, __ATOMIC_SEQ_CST);	\
}									\
static inline ctype prefix##_sub_return(ctype i, atype *v)		\
{									\
	return __atomic_sub_fetch(&v->counter, i, __ATOMIC_SEQ_CST);	\
}									\
static inline ctype prefix##_inc_return(atype *v)			\
{									\
	return prefix##_add_return(1, v);				\
}									\
static inline ctype prefix##_dec_return(atype *v)			\
{									\
	return prefix##_sub_return(1, v);				\
}									\
static inline ctype prefix##_fetch_add(ctype i, atype *v)		\
{									\
	return __atomic_fetch_add(&v->counter, i, __ATOMIC_SEQ_CST);	\
}									\
static inline bool prefix##_dec_and_test(atype *v)			\
{									\
	return prefix##_sub_return(1, v) == 0;				\
}									\
static inline bool prefix##_inc_and_test(atype *v)			\
{									\
	return prefix##_add_return(1, v) == 0;				\
}									\
static inline bool prefix##_sub_and_test(ctype i, atype *v)		\
{									\
	return prefix##_sub_return(i, v) == 0;				\
}									\
static inline ctype prefix##_xchg(atype *v, ctype i)			\
{									\
	return __atomic_exchange_n(&v->counter, i, __ATOMIC_SEQ_CST);	\
}									\
/* Returns the old value; it equals @old when @new was stored. */	\
static inline ctype prefix##_cmpxchg(atype *v, ctype old, ctype new)	\
{									\
	__atomic_compare_exchange_n(&v->counter, &old, new, false,	\
				    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST); \
	return old;							\
}

__ATOMIC_OPS(atomic, atomic_t, int)
__ATOMIC_OPS(atomic_long, atomic_long_t, long)

#undef __ATOMIC_OPS

#endif /* _LINUX_ATOMIC_H */
