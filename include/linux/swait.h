/* SPDX-License-Identifier: GPL-2.0-only */
/* Simple wait queues: only the head, for struct completion's layout. */
#ifndef _LINUX_SWAIT_H
#define _LINUX_SWAIT_H

#include <linux/stddef.h>
#include <linux/spinlock_types.h>
#include <linux/types.h>

struct swait_queue_head {
	raw_spinlock_t		lock;
	struct list_head	task_list;
};

_Static_assert(sizeof(struct swait_queue_head) == 24,
	       "struct swait_queue_head is 24 bytes");
_Static_assert(offsetof(struct swait_queue_head, task_list) == 8,
	       "swait_queue_head.task_list at 8");

#define __SWAIT_QUEUE_HEAD_INITIALIZER(name) {				\
	.lock		= __RAW_SPIN_LOCK_UNLOCKED(name.lock),		\
	.task_list	= { &(name).task_list, &(name).task_list },	\
}

#endif /* _LINUX_SWAIT_H */
