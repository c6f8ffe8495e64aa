/* SPDX-License-Identifier: GPL-2.0-only */
/* Sleeping locks over pthread mutexes. */
#ifndef __LINUX_MUTEX_H
#define __LINUX_MUTEX_H

#include <pthread.h>
#include <linux/lockdep.h>

struct mutex {
	pthread_mutex_t lock;
};

#define __MUTEX_INITIALIZER(lockname) { .lock = PTHREAD_MUTEX_INITIALIZER }

#define DEFINE_MUTEX(mutexname) \
	struct mutex mutexname = __MUTEX_INITIALIZER(mutexname)

static inline void mutex_init(struct mutex *lock)
{
	pthread_mutex_init(&lock->lock, NULL);
}

static inline void mutex_destroy(struct mutex *lock)
{
	pthread_mutex_destroy(&lock->lock);
}

static inline void mutex_lock(struct mutex *lock)
{
	pthread_mutex_lock(&lock->lock);
}

/* 1 when the lock was taken, as in the kernel. */
static inline int mutex_trylock(struct mutex *lock)
{
	return pthread_mutex_trylock(&lock->lock) == 0;
}

static inline void mutex_unlock(struct mutex *lock)
{
	pthread_mutex_unlock(&lock->lock);
}

#endif /* __LINUX_MUTEX_H */
