/* SPDX-License-Identifier: GPL-2.0-only */
/* Device numbers: MAJOR(), MINOR(), MKDEV() with the kernel's 12/20 split. */
#ifndef _LINUX_KDEV_T_H
#define _LINUX_KDEV_T_H

#include <linux/types.h>

/*
 * dev_t here is the C library's (<sys/types.h>, 64 bits on x86_64), as
 * <linux/types.h> must include that header; the kernel's is 32 bits. The
 * encoding is the kernel's: 12 bits of major above 20 bits of minor.
 */
#define MINORBITS	20
#define MINORMASK	((1U << MINORBITS) - 1)

#define MAJOR(dev)	((unsigned int)((dev) >> MINORBITS))
#define MINOR(dev)	((unsigned int)((dev) & MINORMASK))
#define MKDEV(ma, mi)	((dev_t)(((dev_t)(ma) << MINORBITS) | (mi)))

#endif /* _LINUX_KDEV_T_H */
