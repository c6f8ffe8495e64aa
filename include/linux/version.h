/* SPDX-License-Identifier: GPL-2.0-only */
/* Kernel version numbers: the generation a program is written against. */
#ifndef _LINUX_VERSION_H
#define _LINUX_VERSION_H

#define KERNEL_VERSION(a, b, c) \
	(((a) << 16) + ((b) << 8) + ((c) > 255 ? 255 : (c)))

/*
 * The kernel's <generated/uapi/linux/version.h> says which kernel this is.
 * Here the program says it, with -DMEMREMAP_LINUX=KERNEL_VERSION(a,b,c)
 * (see <memremap/generation.h>); without it the headers are the seed's,
 * a 6.1 kernel with the seed patch.
 */
#ifdef MEMREMAP_LINUX
#define LINUX_VERSION_CODE (MEMREMAP_LINUX)
#define LINUX_VERSION_MAJOR ((MEMREMAP_LINUX) >> 16)
#define LINUX_VERSION_PATCHLEVEL (((MEMREMAP_LINUX) >> 8) & 0xff)
#define LINUX_VERSION_SUBLEVEL ((MEMREMAP_LINUX) & 0xff)
#else
#define LINUX_VERSION_CODE KERNEL_VERSION(6, 1, 0)
#define LINUX_VERSION_MAJOR 6
#define LINUX_VERSION_PATCHLEVEL 1
#define LINUX_VERSION_SUBLEVEL 0
#endif

#endif /* _LINUX_VERSION_H */
