/* SPDX-License-Identifier: GPL-2.0-only */
/* struct range: an inclusive [start, end] span of physical addresses. */
#ifndef _LINUX_RANGE_H
#define _LINUX_RANGE_H

#include <linux/stddef.h>
#include <linux/types.h>

struct range {
	u64	start;
	u64	end;	/* inclusive */
};

_Static_assert(sizeof(struct range) == 16, "struct range is 16 bytes");
_Static_assert(offsetof(struct range, end) == 8, "range.end at 8");

static inline u64 range_len(const struct range *range)
{
	return range->end - range->start + 1;
}

/* Does r1 contain all of r2? */
static inline bool range_contains(struct range *r1, struct range *r2)
{
	return r1->start <= r2->start && r1->end >= r2->end;
}

/* Do r1 and r2 share at least one address? */
static inline bool range_overlaps(struct range *r1, struct range *r2)
{
	return r1->start <= r2->end && r1->end >= r2->start;
}

#endif /* _LINUX_RANGE_H */
