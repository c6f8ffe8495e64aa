/* SPDX-License-Identifier: GPL-2.0-only */
/* kmalloc() and friends, recorded by call site in the library's ledger. */
#ifndef _LINUX_SLAB_H
#define _LINUX_SLAB_H

#include <linux/compiler.h>
#include <linux/gfp.h>
#include <linux/overflow.h>
#include <linux/string.h>
#include <linux/types.h>
#include <linux/version.h>

/*
 * The library's allocator: zeroed memory when @flags has __GFP_ZERO; NULL
 * when a test armed memremap_kmalloc_fail_nth(). Every live allocation
 * is kept with its @file and @line, so the wrappers below are macros.
 */
void *__kmalloc_site(size_t size, gfp_t flags, const char *file, int line);

/*
 * Free what kmalloc() returned; NULL and ZERO_SIZE_PTR are ignored, memory
 * kmalloc() did not return (vmalloc() memory among it) WARNs.
 */
void kfree(const void *objp);

/* What a zero-size krealloc() answers; the free functions ignore it. */
#define ZERO_SIZE_PTR ((void *)16)
#define ZERO_OR_NULL_PTR(x) ((unsigned long)(x) <= \
			     (unsigned long)ZERO_SIZE_PTR)

/*
 * krealloc(): NULL (or ZERO_SIZE_PTR) allocates; size 0 frees and answers
 * ZERO_SIZE_PTR; shrinking keeps the block; growing always moves it (the
 * old pointer is freed: use it and ASan or valgrind say so), zeroing the
 * new tail with __GFP_ZERO, and may fail under fault injection, leaving
 * @p as it was. A @p kmalloc() did not return WARNs and answers NULL.
 */
void *__krealloc_site(const void *p, size_t new_size, gfp_t flags,
		      const char *file, int line);

/* kvmalloc() memory or vmalloc() memory; NULL is ignored. */
void kvfree(const void *addr);

static inline void *__kmalloc_array_site(size_t n, size_t size, gfp_t flags,
					 const char *file, int line)
{
	size_t bytes;

	if (unlikely(check_mul_overflow(n, size, &bytes)))
		return NULL;
	return __kmalloc_site(bytes, flags, file, line);
}

static inline void *__kmemdup_site(const void *src, size_t len, gfp_t flags,
				   const char *file, int line)
{
	void *p = __kmalloc_site(len, flags, file, line);

	if (p)
		memcpy(p, src, len);
	return p;
}

#define kmalloc(size, flags) \
	__kmalloc_site((size), (flags), __FILE__, __LINE__)
#define kzalloc(size, flags)		kmalloc((size), (flags) | __GFP_ZERO)

/* n * size bytes, or NULL when that overflows. */
#define kmalloc_array(n, size, flags) \
	__kmalloc_array_site((n), (size), (flags), __FILE__, __LINE__)
#define kcalloc(n, size, flags) \
	kmalloc_array((n), (size), (flags) | __GFP_ZERO)

/*
 * The kernel's kvmalloc() falls back to vmalloc() only when kmalloc()
 * fails; here it never falls back: kv*() is kmalloc(), one allocation
 * (one fault-injection point). Free with kvfree() (or kfree()).
 */
#define kvmalloc(size, flags)		kmalloc((size), (flags))
#define kvzalloc(size, flags)		kzalloc((size), (flags))
#define kvmalloc_array(n, size, flags)	kmalloc_array((n), (size), (flags))
#define kvcalloc(n, size, flags)	kcalloc((n), (size), (flags))

#define kmemdup(src, len, flags) \
	__kmemdup_site((src), (len), (flags), __FILE__, __LINE__)

#define krealloc(p, new_size, flags) \
	__krealloc_site((p), (new_size), (flags), __FILE__, __LINE__)

static inline void *__krealloc_array_site(void *p, size_t new_n,
					  size_t new_size, gfp_t flags,
					  const char *file, int line)
{
	size_t bytes;

	if (unlikely(check_mul_overflow(new_n, new_size, &bytes)))
		return NULL;
	return __krealloc_site(p, bytes, flags, file, line);
}

#define krealloc_array(p, new_n, new_size, flags) \
	__krealloc_array_site((p), (new_n), (new_size), (flags), \
			      __FILE__, __LINE__)

/*
 * The typed allocators of Linux 7.0: the type of @VAR_OR_TYPE (a type, or
 * an expression such as *p) sizes the allocation and types the result;
 * the gfp flags may be left out (GFP_KERNEL). Only when the selected API
 * generation is 7.0 or later (MEMREMAP_LINUX >= KERNEL_VERSION(7, 0, 0)).
 */
#if defined(MEMREMAP_LINUX) && MEMREMAP_LINUX >= KERNEL_VERSION(7, 0, 0)
#ifndef default_gfp
#define __default_gfp(a, ...) a
#define default_gfp(...) __default_gfp(__VA_ARGS__ __VA_OPT__(,) GFP_KERNEL)
#endif

#define __alloc_objs(KMALLOC, GFP, TYPE, COUNT)			\
({									\
	const size_t __obj_size = size_mul(sizeof(TYPE), COUNT);	\
	(TYPE *)KMALLOC(__obj_size, GFP);				\
})

/* The flexible array's counter is not set: no __counted_by here. */
#define __alloc_flex(KMALLOC, GFP, TYPE, FAM, COUNT)			\
({									\
	const size_t __count = (COUNT);					\
	const size_t __obj_size =					\
		struct_size((TYPE *)NULL, FAM, __count);		\
	(TYPE *)KMALLOC(__obj_size, GFP);				\
})

#define kmalloc_obj(VAR_OR_TYPE, ...) \
	__alloc_objs(kmalloc, default_gfp(__VA_ARGS__), typeof(VAR_OR_TYPE), 1)
#define kmalloc_objs(VAR_OR_TYPE, COUNT, ...) \
	__alloc_objs(kmalloc, default_gfp(__VA_ARGS__), typeof(VAR_OR_TYPE), \
		     COUNT)
#define kmalloc_flex(VAR_OR_TYPE, FAM, COUNT, ...) \
	__alloc_flex(kmalloc, default_gfp(__VA_ARGS__), typeof(VAR_OR_TYPE), \
		     FAM, COUNT)
#define kzalloc_obj(VAR_OR_TYPE, ...) \
	__alloc_objs(kzalloc, default_gfp(__VA_ARGS__), typeof(VAR_OR_TYPE), 1)
#define kzalloc_objs(VAR_OR_TYPE, COUNT, ...) \
	__alloc_objs(kzalloc, default_gfp(__VA_ARGS__), typeof(VAR_OR_TYPE), \
		     COUNT)
#define kzalloc_flex(VAR_OR_TYPE, FAM, COUNT, ...) \
	__alloc_flex(kzalloc, default_gfp(__VA_ARGS__), typeof(VAR_OR_TYPE), \
		     FAM, COUNT)
#define kvmalloc_obj(VAR_OR_TYPE, ...) \
	__alloc_objs(kvmalloc, default_gfp(__VA_ARGS__), \
		     typeof(VAR_OR_TYPE), 1)
#define kvmalloc_objs(VAR_OR_TYPE, COUNT, ...) \
	__alloc_objs(kvmalloc, default_gfp(__VA_ARGS__), \
		     typeof(VAR_OR_TYPE), COUNT)
#define kvmalloc_flex(VAR_OR_TYPE, FAM, COUNT, ...) \
	__alloc_flex(kvmalloc, default_gfp(__VA_ARGS__), \
		     typeof(VAR_OR_TYPE), FAM, COUNT)
#define kvzalloc_obj(VAR_OR_TYPE, ...) \
	__alloc_objs(kvzalloc, default_gfp(__VA_ARGS__), \
		     typeof(VAR_OR_TYPE), 1)
#define kvzalloc_objs(VAR_OR_TYPE, COUNT, ...) \
	__alloc_objs(kvzalloc, default_gfp(__VA_ARGS__), \
		     typeof(VAR_OR_TYPE), COUNT)
#define kvzalloc_flex(VAR_OR_TYPE, FAM, COUNT, ...) \
	__alloc_flex(kvzalloc, default_gfp(__VA_ARGS__), \
		     typeof(VAR_OR_TYPE), FAM, COUNT)
#endif /* MEMREMAP_LINUX >= 7.0 */

/*
 * The kernel wipes the whole allocation first; the library does not tell
 * its size, so this only frees.
 */
static inline void kfree_sensitive(const void *objp)
{
	kfree(objp);
}

/* Cross-check the prototypes above against the library's. */
#ifdef CONFIG_ZONE_DEVICE
#include <memremap/abi.h>
#endif

#endif /* _LINUX_SLAB_H */
