/* SPDX-License-Identifier: GPL-2.0-only */
/* Conversions between physical addresses and page frame numbers. */
#ifndef _LINUX_PFN_H_
#define _LINUX_PFN_H_

#include <linux/types.h>
#include <asm/page.h>

#define PFN_ALIGN(x)	(((unsigned long)(x) + (PAGE_SIZE - 1)) & PAGE_MASK)
#define PFN_UP(x)	(((x) + PAGE_SIZE - 1) >> PAGE_SHIFT)
#define PFN_DOWN(x)	((x) >> PAGE_SHIFT)
/* A u64: it wraps for pfns at or above 2^52. */
#define PFN_PHYS(x)	((phys_addr_t)(x) << PAGE_SHIFT)
#define PHYS_PFN(x)	((unsigned long)((x) >> PAGE_SHIFT))

#endif /* _LINUX_PFN_H_ */
