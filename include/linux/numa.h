/* SPDX-License-Identifier: GPL-2.0-only */
/* NUMA node numbers (include/linux/numa.h). There are no NUMA nodes here. */
#ifndef _LINUX_NUMA_H
#define _LINUX_NUMA_H

/* "Any node": memremap_pages(), alloc_pages_node() and friends. */
#define NUMA_NO_NODE	(-1)
#define NUMA_NO_MEMBLK	(-1)

#endif /* _LINUX_NUMA_H */
