/* SPDX-License-Identifier: GPL-2.0-only */
/* mm references: mmget(), mmput(), mmgrab(), mmdrop() (in mm_types.h). */
#ifndef _LINUX_SCHED_MM_H
#define _LINUX_SCHED_MM_H

#include <linux/mm_types.h>
#include <linux/sched.h>

#endif /* _LINUX_SCHED_MM_H */
