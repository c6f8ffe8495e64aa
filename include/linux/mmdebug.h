/* SPDX-License-Identifier: GPL-2.0-only */
/* VM_BUG_ON(), VM_WARN_ON() and friends: see linux/bug.h. */
#ifndef LINUX_MM_DEBUG_H
#define LINUX_MM_DEBUG_H 1

#include <linux/bug.h>

#endif /* LINUX_MM_DEBUG_H */
