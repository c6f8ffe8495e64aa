/* SPDX-License-Identifier: GPL-2.0-only */
/* Percpu refcounts: cheap get/put until killed, then one atomic count. */
#ifndef _LINUX_PERCPU_REFCOUNT_H
#define _LINUX_PERCPU_REFCOUNT_H

#include <linux/compiler.h>
#include <linux/gfp.h>
#include <linux/stddef.h>
#include <linux/types.h>

struct percpu_ref;
typedef void (percpu_ref_func_t)(struct percpu_ref *);

/* percpu_ref_init() flags */
enum {
	/* start in atomic mode */
	PERCPU_REF_INIT_ATOMIC	= 1 << 0,
	/* start killed: percpu_ref_is_dying() from the start */
	PERCPU_REF_INIT_DEAD	= 1 << 1,
	/* may be re-initialised after release */
	PERCPU_REF_ALLOW_REINIT	= 1 << 2,
};

/* The library's side of the ref; opaque here. */
struct percpu_ref_data;

/*
 * Both words belong to the library from percpu_ref_init() until
 * percpu_ref_exit(); callers embed the struct and never touch its fields.
 */
struct percpu_ref {
	unsigned long		percpu_count_ptr;
	struct percpu_ref_data	*data;
};

_Static_assert(sizeof(struct percpu_ref) == 16,
	       "struct percpu_ref is 16 bytes");
_Static_assert(offsetof(struct percpu_ref, data) == 8,
	       "percpu_ref.data at 8");

int __must_check percpu_ref_init(struct percpu_ref *ref,
				 percpu_ref_func_t *release,
				 unsigned int flags, gfp_t gfp);
void percpu_ref_exit(struct percpu_ref *ref);

/* Mark dying and drop the initial reference; a second kill WARNs. */
void percpu_ref_kill(struct percpu_ref *ref);

void percpu_ref_get(struct percpu_ref *ref);
void percpu_ref_get_many(struct percpu_ref *ref, unsigned long nr);

/* Succeed unless the count is zero, dying or not. */
bool percpu_ref_tryget(struct percpu_ref *ref);
bool percpu_ref_tryget_many(struct percpu_ref *ref, unsigned long nr);

/* Succeed only while the ref is not dying. */
bool percpu_ref_tryget_live(struct percpu_ref *ref);

/* The release callback runs when a killed ref's count reaches zero. */
void percpu_ref_put(struct percpu_ref *ref);
void percpu_ref_put_many(struct percpu_ref *ref, unsigned long nr);

bool percpu_ref_is_dying(struct percpu_ref *ref);
bool percpu_ref_is_zero(struct percpu_ref *ref);

/* Cross-check the prototypes above against the library's. */
#ifdef CONFIG_ZONE_DEVICE
#include <memremap/abi.h>
#endif

#endif /* _LINUX_PERCPU_REFCOUNT_H */
