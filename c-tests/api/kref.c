// SPDX-License-Identifier: GPL-2.0-only
/*
 * <linux/kref.h> and <linux/refcount.h> as Linux 6.1 has them: a kref's
 * release runs on the last put and only then; misuse (a get from 0, a put
 * past 0, an overflow) WARNs with lib/refcount.c's words and saturates.
 */
#include <linux/container_of.h>
#include <linux/kref.h>
#include <linux/refcount.h>
#include <string.h>
#include <memremap/test.h>
#include "ktap.h"

struct obj {
	struct kref kref;
	int released;
};

static void obj_release(struct kref *kref)
{
	container_of(kref, struct obj, kref)->released++;
}

/* The message of the last WARN contains @what. */
static bool last_warn_says(const char *what)
{
	struct memremap_warn_record rec;

	return memremap_warn_last(&rec) && strstr(rec.message, what);
}

KTAP_CASE(release_runs_on_the_last_put_only)
{
	struct obj o = { .released = 0 };
	int i;

	kref_init(&o.kref);
	EXPECT_EQ(kref_read(&o.kref), 1);
	for (i = 0; i < 3; i++)
		kref_get(&o.kref);
	EXPECT_EQ(kref_read(&o.kref), 4);
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(kref_put(&o.kref, obj_release), 0);
		EXPECT_EQ(o.released, 0);
	}
	EXPECT_EQ(kref_put(&o.kref, obj_release), 1);
	EXPECT_EQ(o.released, 1);
	EXPECT_EQ(kref_read(&o.kref), 0);
	EXPECT_WARNS(0);
}

KTAP_CASE(get_unless_zero)
{
	struct obj o = { .kref = KREF_INIT(1) };

	EXPECT_TRUE(kref_get_unless_zero(&o.kref));
	EXPECT_EQ(kref_read(&o.kref), 2);
	EXPECT_EQ(kref_put(&o.kref, obj_release), 0);
	EXPECT_EQ(kref_put(&o.kref, obj_release), 1);
	/* Going: no new reference, and no WARN for asking. */
	EXPECT_FALSE(kref_get_unless_zero(&o.kref));
	EXPECT_EQ(kref_read(&o.kref), 0);
	EXPECT_EQ(o.released, 1);
	EXPECT_WARNS(0);
}

KTAP_CASE(put_past_zero_warns_and_saturates)
{
	struct obj o = { .kref = KREF_INIT(1) };

	memremap_warn_quiet(true);
	EXPECT_EQ(kref_put(&o.kref, obj_release), 1);
	EXPECT_EQ(kref_put(&o.kref, obj_release), 0);	/* no second release */
	EXPECT_EQ(o.released, 1);
	EXPECT_WARNS(1);
	EXPECT_TRUE(last_warn_says("refcount_t: underflow; use-after-free."));
	EXPECT_EQ((int)kref_read(&o.kref), REFCOUNT_SATURATED);
	/* Saturated stays saturated: puts never release again. */
	EXPECT_EQ(kref_put(&o.kref, obj_release), 0);
	EXPECT_EQ(o.released, 1);
	EXPECT_EQ((int)kref_read(&o.kref), REFCOUNT_SATURATED);
	memremap_warn_quiet(false);
}

KTAP_CASE(get_from_zero_warns_use_after_free)
{
	struct obj o = { .kref = KREF_INIT(0) };

	memremap_warn_quiet(true);
	kref_get(&o.kref);
	EXPECT_WARNS(1);
	EXPECT_TRUE(last_warn_says("refcount_t: addition on 0; "
				   "use-after-free."));
	EXPECT_EQ((int)kref_read(&o.kref), REFCOUNT_SATURATED);
	memremap_warn_quiet(false);
}

KTAP_CASE(overflow_saturates)
{
	refcount_t r = REFCOUNT_INIT(REFCOUNT_MAX);

	memremap_warn_quiet(true);
	refcount_inc(&r);
	EXPECT_WARNS(1);
	EXPECT_TRUE(last_warn_says("refcount_t: saturated; leaking memory."));
	EXPECT_EQ((int)refcount_read(&r), REFCOUNT_SATURATED);
	refcount_set(&r, 1);
	refcount_dec(&r);			/* would leak the object */
	EXPECT_WARNS(2);
	EXPECT_TRUE(last_warn_says("refcount_t: decrement hit 0; leaking"));
	memremap_warn_quiet(false);
}

KTAP_MAIN("kref",
	  KTAP_ENTRY(release_runs_on_the_last_put_only),
	  KTAP_ENTRY(get_unless_zero),
	  KTAP_ENTRY(put_past_zero_warns_and_saturates),
	  KTAP_ENTRY(get_from_zero_warns_use_after_free),
	  KTAP_ENTRY(overflow_saturates))
