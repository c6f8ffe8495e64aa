/* SPDX-License-Identifier: GPL-2.0-only */
/* NUMA topology: the node of the running CPU (one node here). */
#ifndef _LINUX_TOPOLOGY_H
#define _LINUX_TOPOLOGY_H

/*
 * The modelled kernel has no CONFIG_NUMA: asm-generic/topology.h makes
 * cpu_to_node() 0, so numa_node_id(), cpu_to_node(raw_smp_processor_id())
 * in include/linux/topology.h, is node 0 on every CPU. Drivers pass it
 * as the nid of memremap_pages() and of node-local allocations.
 */
static inline int numa_node_id(void)
{
	return 0;
}

#endif /* _LINUX_TOPOLOGY_H */
