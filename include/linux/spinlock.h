/* SPDX-License-Identifier: GPL-2.0-only */
/* Spinlocks over the __atomic builtins; waiters yield the CPU. */
#ifndef __LINUX_SPINLOCK_H
#define __LINUX_SPINLOCK_H

#include <sched.h>
#include <linux/bug.h>
#include <linux/compiler.h>
#include <linux/lockdep.h>
#include <linux/spinlock_types.h>

/* Interrupts do not exist here: the _irq and _irqsave forms only lock. */

static inline void raw_spin_lock_init(raw_spinlock_t *lock)
{
	__atomic_store_n(&lock->locked, 0, __ATOMIC_RELAXED);
}

static inline int raw_spin_trylock(raw_spinlock_t *lock)
{
	return !__atomic_exchange_n(&lock->locked, 1, __ATOMIC_ACQUIRE);
}

static inline void raw_spin_lock(raw_spinlock_t *lock)
{
	while (!raw_spin_trylock(lock))
		while (__atomic_load_n(&lock->locked, __ATOMIC_RELAXED))
			sched_yield();
}

static inline void raw_spin_unlock(raw_spinlock_t *lock)
{
	__atomic_store_n(&lock->locked, 0, __ATOMIC_RELEASE);
}

static inline int raw_spin_is_locked(raw_spinlock_t *lock)
{
	return __atomic_load_n(&lock->locked, __ATOMIC_RELAXED);
}

static inline void spin_lock_init(spinlock_t *lock)
{
	raw_spin_lock_init(&lock->rlock);
}

static inline void spin_lock(spinlock_t *lock)
{
	raw_spin_lock(&lock->rlock);
}

static inline void spin_unlock(spinlock_t *lock)
{
	raw_spin_unlock(&lock->rlock);
}

/* 1 when the lock was taken. */
static inline int spin_trylock(spinlock_t *lock)
{
	return raw_spin_trylock(&lock->rlock);
}

static inline int spin_is_locked(spinlock_t *lock)
{
	return raw_spin_is_locked(&lock->rlock);
}

static inline void spin_lock_irq(spinlock_t *lock)
{
	spin_lock(lock);
}

static inline void spin_unlock_irq(spinlock_t *lock)
{
	spin_unlock(lock);
}

static inline void spin_lock_bh(spinlock_t *lock)
{
	spin_lock(lock);
}

static inline void spin_unlock_bh(spinlock_t *lock)
{
	spin_unlock(lock);
}

#define spin_lock_irqsave(lock, flags)					\
	do {								\
		(flags) = 0;						\
		spin_lock(lock);					\
	} while (0)

#define spin_unlock_irqrestore(lock, flags)				\
	do {								\
		(void)(flags);						\
		spin_unlock(lock);					\
	} while (0)

/* Held by somebody: a lock cannot tell by whom. */
#define assert_spin_locked(lock)	BUG_ON(!spin_is_locked(lock))
#define assert_raw_spin_locked(lock)	BUG_ON(!raw_spin_is_locked(lock))

#endif /* __LINUX_SPINLOCK_H */
