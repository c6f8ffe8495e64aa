/* SPDX-License-Identifier: GPL-2.0-only */
/* The scheduler, as far as drivers call it: cond_resched(). */
#ifndef _LINUX_SCHED_H
#define _LINUX_SCHED_H

#include <sched.h>

/* Give other threads a chance; the kernel's returns 1 if it rescheduled. */
static inline int cond_resched(void)
{
	sched_yield();
	return 0;
}

#endif /* _LINUX_SCHED_H */
