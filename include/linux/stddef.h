/* SPDX-License-Identifier: GPL-2.0-only */
/* offsetof(), sizeof_field() and flexible arrays usable in unions. */
#ifndef _LINUX_STDDEF_H
#define _LINUX_STDDEF_H

/*
 * This file also stands in for the uapi <linux/stddef.h> that the system's
 * uapi headers include, so it provides __DECLARE_FLEX_ARRAY() and
 * __struct_group() as well.
 */
#include <stddef.h>
#include <linux/compiler_types.h>

#define sizeof_field(TYPE, MEMBER) sizeof((((TYPE *)0)->MEMBER))
#define offsetofend(TYPE, MEMBER) \
	(offsetof(TYPE, MEMBER) + sizeof_field(TYPE, MEMBER))

/*
 * A flexible array member may not be alone in a struct nor sit in a union;
 * an empty struct beside it in an anonymous struct makes both legal. The
 * result adds no size and may share a union with a fixed-size member.
 */
#define __DECLARE_FLEX_ARRAY(TYPE, NAME)				\
	struct {							\
		struct { } __empty_ ## NAME;				\
		TYPE NAME[];						\
	}
#define DECLARE_FLEX_ARRAY(TYPE, NAME) __DECLARE_FLEX_ARRAY(TYPE, NAME)

/* Members reachable both directly and as the named struct NAME. */
#define __struct_group(TAG, NAME, ATTRS, MEMBERS...)			\
	union {								\
		struct { MEMBERS } ATTRS;				\
		struct TAG { MEMBERS } ATTRS NAME;			\
	}
#define struct_group(NAME, MEMBERS...) \
	__struct_group(/* no tag */, NAME, /* no attrs */, MEMBERS)

#endif /* _LINUX_STDDEF_H */
