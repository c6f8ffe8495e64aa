/* SPDX-License-Identifier: GPL-2.0-only */
/* spinlock_t and raw_spinlock_t: one int each, as on x86_64. */
#ifndef __LINUX_SPINLOCK_TYPES_H
#define __LINUX_SPINLOCK_TYPES_H

typedef struct raw_spinlock {
	int locked;
} raw_spinlock_t;

_Static_assert(sizeof(raw_spinlock_t) == 4, "raw_spinlock_t is 4 bytes");

typedef struct spinlock {
	struct raw_spinlock rlock;
} spinlock_t;

#define __RAW_SPIN_LOCK_UNLOCKED(lockname)	{ .locked = 0 }
#define __SPIN_LOCK_UNLOCKED(lockname) \
	{ .rlock = __RAW_SPIN_LOCK_UNLOCKED(lockname) }

#define DEFINE_RAW_SPINLOCK(x)	raw_spinlock_t x = __RAW_SPIN_LOCK_UNLOCKED(x)
#define DEFINE_SPINLOCK(x)	spinlock_t x = __SPIN_LOCK_UNLOCKED(x)

#endif /* __LINUX_SPINLOCK_TYPES_H */
