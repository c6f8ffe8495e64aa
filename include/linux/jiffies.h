/* SPDX-License-Identifier: GPL-2.0-only */
/* Jiffies: here HZ is 1000, so a jiffy is a millisecond. */
#ifndef _LINUX_JIFFIES_H
#define _LINUX_JIFFIES_H

#include <limits.h>
#include <linux/types.h>

/* The uapi <asm/param.h> offers HZ 100 unless HZ is already defined. */
#undef HZ
#define HZ		1000

/* The longest timeout a wait accepts. */
#define MAX_JIFFY_OFFSET	((LONG_MAX >> 1) - 1)

static inline unsigned int jiffies_to_msecs(const unsigned long j)
{
	return (unsigned int)j;
}

/* A negative @m (as int) means "wait as long as possible". */
static inline unsigned long msecs_to_jiffies(const unsigned int m)
{
	if ((int)m < 0)
		return MAX_JIFFY_OFFSET;
	return m;
}

static inline unsigned long usecs_to_jiffies(const unsigned int u)
{
	return (u + 999) / 1000;
}

#endif /* _LINUX_JIFFIES_H */
