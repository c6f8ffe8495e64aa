/* SPDX-License-Identifier: GPL-2.0-only */
/* Poison values: addresses that fault when a stale pointer is followed. */
#ifndef _LINUX_POISON_H
#define _LINUX_POISON_H

/* x86_64: a non-canonical base, so every poison address faults. */
#define POISON_POINTER_DELTA	0xdead000000000000UL

/* What list_del() leaves in an entry's links. */
#define LIST_POISON1	((void *)(0x100 + POISON_POINTER_DELTA))
#define LIST_POISON2	((void *)(0x122 + POISON_POINTER_DELTA))

/* The mapping of tail pages. */
#define TAIL_MAPPING	((void *)(0x400 + POISON_POINTER_DELTA))

#endif /* _LINUX_POISON_H */
