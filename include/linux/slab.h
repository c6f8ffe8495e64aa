/* SPDX-License-Identifier: GPL-2.0-only */
/* kmalloc() and friends, recorded by call site in the library's ledger. */
#ifndef _LINUX_SLAB_H
#define _LINUX_SLAB_H

#include <linux/compiler.h>
#include <linux/gfp.h>
#include <linux/overflow.h>
#include <linux/string.h>
#include <linux/types.h>

/*
 * The library's allocator: zeroed memory when @flags has __GFP_ZERO; NULL
 * when a test armed memremap_kmalloc_fail_nth(). Every live allocation
 * is kept with its @file and @line, so the wrappers below are macros.
 */
void *__kmalloc_site(size_t size, gfp_t flags, const char *file, int line);

/* Free what kmalloc() returned; NULL is ignored, anything else WARNs. */
void kfree(const void *objp);

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

/* No vmalloc() fallback is needed here: kv*() is kmalloc(). */
#define kvmalloc(size, flags)		kmalloc((size), (flags))
#define kvzalloc(size, flags)		kzalloc((size), (flags))
#define kvmalloc_array(n, size, flags)	kmalloc_array((n), (size), (flags))
#define kvcalloc(n, size, flags)	kcalloc((n), (size), (flags))

#define kmemdup(src, len, flags) \
	__kmemdup_site((src), (len), (flags), __FILE__, __LINE__)

static inline void kvfree(const void *addr)
{
	kfree(addr);
}

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
