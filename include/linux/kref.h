/* SPDX-License-Identifier: GPL-2.0-only */
/* struct kref: a reference count with a release callback. */
#ifndef _KREF_H_
#define _KREF_H_

#include <linux/refcount.h>

/*
 * Linux 6.1, include/linux/kref.h: static inlines over refcount_t, so a
 * get from 0 or a put past 0 WARNs (refcount_t: ...) and saturates.
 */
struct kref {
	refcount_t refcount;
};

#define KREF_INIT(n)	{ .refcount = REFCOUNT_INIT(n), }

static inline void kref_init(struct kref *kref)
{
	refcount_set(&kref->refcount, 1);
}

static inline unsigned int kref_read(const struct kref *kref)
{
	return refcount_read(&kref->refcount);
}

static inline void kref_get(struct kref *kref)
{
	refcount_inc(&kref->refcount);
}

/*
 * Drop a reference; the last one calls @release(@kref) and answers 1,
 * any other answers 0.
 */
static inline int kref_put(struct kref *kref,
			   void (*release)(struct kref *kref))
{
	if (refcount_dec_and_test(&kref->refcount)) {
		release(kref);
		return 1;
	}
	return 0;
}

/* A reference unless the count is already 0 (the object is going). */
static inline int __must_check kref_get_unless_zero(struct kref *kref)
{
	return refcount_inc_not_zero(&kref->refcount);
}

#endif /* _KREF_H_ */
