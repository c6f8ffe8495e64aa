/* SPDX-License-Identifier: GPL-2.0-only */
/* vmalloc() and friends, recorded by call site in the library's ledger. */
#ifndef _LINUX_VMALLOC_H
#define _LINUX_VMALLOC_H

#include <linux/compiler.h>
#include <linux/gfp.h>
#include <linux/kconfig.h>
#include <linux/overflow.h>
#include <linux/types.h>

/*
 * The library's vmalloc: zeroed when @flags has __GFP_ZERO; NULL for size
 * 0 (after a WARN_ON_ONCE, as the kernel's) or when a test armed
 * memremap_kmalloc_fail_nth(): vmalloc memory shares kmalloc's ledger and
 * its fault injection. Free it with vfree() or kvfree(): kfree() of it
 * WARNs and frees nothing.
 */
void *__vmalloc_site(size_t size, gfp_t flags, const char *file, int line);

/* NULL is ignored; memory vmalloc() did not return WARNs, is left alone. */
void vfree(const void *addr);

#define vmalloc(size)	__vmalloc_site((size), GFP_KERNEL, __FILE__, __LINE__)
#define vzalloc(size) \
	__vmalloc_site((size), GFP_KERNEL | __GFP_ZERO, __FILE__, __LINE__)

static inline void *__vmalloc_array_site(size_t n, size_t size, gfp_t flags,
					 const char *file, int line)
{
	size_t bytes;

	if (unlikely(check_mul_overflow(n, size, &bytes)))
		return NULL;
	return __vmalloc_site(bytes, flags, file, line);
}

#define vmalloc_array(n, size) \
	__vmalloc_array_site((n), (size), GFP_KERNEL, __FILE__, __LINE__)
#define vcalloc(n, size) \
	__vmalloc_array_site((n), (size), GFP_KERNEL | __GFP_ZERO, \
			     __FILE__, __LINE__)

/* Cross-check the prototypes above against the library's. */
#ifdef CONFIG_ZONE_DEVICE
#include <memremap/abi.h>
#endif

#endif /* _LINUX_VMALLOC_H */
