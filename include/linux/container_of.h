/* SPDX-License-Identifier: GPL-2.0-only */
/* container_of(): from a member's address to its containing struct. */
#ifndef _LINUX_CONTAINER_OF_H
#define _LINUX_CONTAINER_OF_H

#include <linux/stddef.h>
#include <linux/build_bug.h>

/*
 * container_of - the struct @type whose @member is at @ptr
 * @ptr: pointer to the member (or void *)
 * @type: type of the containing struct
 * @member: name of the member within @type
 */
#define container_of(ptr, type, member) ({				\
	void *__mptr = (void *)(ptr);					\
	_Static_assert(__same_type(*(ptr), ((type *)0)->member) ||	\
		       __same_type(*(ptr), void),			\
		       "pointer type mismatch in container_of()");	\
	((type *)((char *)__mptr - offsetof(type, member))); })

#endif /* _LINUX_CONTAINER_OF_H */
