/* SPDX-License-Identifier: GPL-2.0-only */
/* The mmap lock: mmap_read_lock() and friends (declared in mm_types.h). */
#ifndef _LINUX_MMAP_LOCK_H
#define _LINUX_MMAP_LOCK_H

#include <linux/mm_types.h>

#endif /* _LINUX_MMAP_LOCK_H */
