/* SPDX-License-Identifier: GPL-2.0-only */
/* The C library's string functions, as the kernel's <linux/string.h>. */
#ifndef _LINUX_STRING_H_
#define _LINUX_STRING_H_

#include <string.h>
#include <linux/types.h>

/* memset() that the compiler may not drop as a dead store. */
static inline void memzero_explicit(void *s, size_t count)
{
	memset(s, 0, count);
	__asm__ __volatile__("" : : "r"(s) : "memory");
}

#endif /* _LINUX_STRING_H_ */
