/* SPDX-License-Identifier: GPL-2.0-only */
/* Completions: wait for an event that may already have happened. */
#ifndef __LINUX_COMPLETION_H
#define __LINUX_COMPLETION_H

#include <linux/stddef.h>
#include <linux/swait.h>
#include <linux/types.h>

/*
 * The library keeps the state in @done (a futex word) and never reads
 * @wait, which is there for the kernel's layout.
 */
struct completion {
	unsigned int		done;
	struct swait_queue_head	wait;
};

_Static_assert(sizeof(struct completion) == 32,
	       "struct completion is 32 bytes");
_Static_assert(offsetof(struct completion, wait) == 8,
	       "completion.wait at 8");

#define COMPLETION_INITIALIZER(work) \
	{ 0, __SWAIT_QUEUE_HEAD_INITIALIZER((work).wait) }

#define COMPLETION_INITIALIZER_ONSTACK(work) \
	(*({ init_completion(&work); &work; }))

#define DECLARE_COMPLETION(work) \
	struct completion work = COMPLETION_INITIALIZER(work)
#define DECLARE_COMPLETION_ONSTACK(work) DECLARE_COMPLETION(work)

void init_completion(struct completion *x);
void reinit_completion(struct completion *x);
void complete(struct completion *x);
void complete_all(struct completion *x);

/*
 * The kernel waits for ever; the library waits for its bound
 * (memremap_set_wait_bound_ms()), then WARNs and returns.
 */
void wait_for_completion(struct completion *x);

/*
 * @timeout in jiffies (milliseconds here): the jiffies left, at least 1,
 * or 0 on time-out.
 */
unsigned long wait_for_completion_timeout(struct completion *x,
					  unsigned long timeout);
bool try_wait_for_completion(struct completion *x);
bool completion_done(struct completion *x);

/* Cross-check the prototypes above against the library's. */
#ifdef CONFIG_ZONE_DEVICE
#include <memremap/abi.h>
#endif

#endif /* __LINUX_COMPLETION_H */
