/* SPDX-License-Identifier: GPL-2.0-only */
/* The kernel's basic types (x86_64: u64 is unsigned long long). */
#ifndef _LINUX_TYPES_H
#define _LINUX_TYPES_H

/*
 * The system's uapi headers include <linux/types.h> and find this one, so
 * it also declares the uapi types: __u8 ... __u64 and __kernel_* come from
 * the system's <asm/types.h> and <linux/posix_types.h>; the little- and
 * big-endian types are below.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <asm/types.h>
#include <linux/posix_types.h>
#include <linux/compiler_types.h>

typedef __u16 __bitwise __le16;
typedef __u16 __bitwise __be16;
typedef __u32 __bitwise __le32;
typedef __u32 __bitwise __be32;
typedef __u64 __bitwise __le64;
typedef __u64 __bitwise __be64;
typedef __u16 __bitwise __sum16;
typedef __u32 __bitwise __wsum;
typedef unsigned __bitwise __poll_t;
#define __aligned_u64 __u64 __attribute__((aligned(8)))
#define __aligned_s64 __s64 __attribute__((aligned(8)))

typedef __u8 u8;
typedef __s8 s8;
typedef __u16 u16;
typedef __s16 s16;
typedef __u32 u32;
typedef __s32 s32;
typedef __u64 u64;
typedef __s64 s64;

typedef u64 phys_addr_t;
typedef phys_addr_t resource_size_t;
typedef u64 dma_addr_t;
typedef u64 sector_t;

/* Page offsets; the library's C ABI spells it unsigned long. */
typedef unsigned long pgoff_t;

/* Allocation flags (linux/gfp.h) and page fault results (linux/mm.h). */
typedef unsigned int __bitwise gfp_t;
typedef unsigned int __bitwise vm_fault_t;

typedef struct {
	int counter;
} atomic_t;

#define ATOMIC_INIT(i) { (i) }

typedef struct {
	long counter;
} atomic_long_t;

#define ATOMIC_LONG_INIT(i) { (i) }

struct list_head {
	struct list_head *next, *prev;
};

struct hlist_head {
	struct hlist_node *first;
};

struct hlist_node {
	struct hlist_node *next, **pprev;
};

#define DECLARE_BITMAP(name, bits)					\
	unsigned long name[((bits) + 8 * sizeof(long) - 1) / (8 * sizeof(long))]

#endif /* _LINUX_TYPES_H */
