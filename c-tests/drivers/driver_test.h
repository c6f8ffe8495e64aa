/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the whole-driver programs share: the process side. A test's "CPU"
 * reads and writes a word at a user address of a process, through the
 * library's page tables, faulting as a CPU would (a device-private entry
 * goes to the driver's ->migrate_to_ram()).
 */
#ifndef _DRIVERS_DRIVER_TEST_H
#define _DRIVERS_DRIVER_TEST_H

#include <linux/mm_types.h>
#include <memremap/test.h>

/* The word at @addr as the process reads it; ~0 if the access fails. */
static inline unsigned long proc_read(struct mm_struct *mm,
				      unsigned long addr)
{
	unsigned long v = ~0UL;

	if (memremap_mm_access(mm, addr, &v, sizeof(v), false))
		return ~0UL;
	return v;
}

/* The process writes @v at @addr: 0, or the access's error. */
static inline int proc_write(struct mm_struct *mm, unsigned long addr,
			     unsigned long v)
{
	return memremap_mm_access(mm, addr, &v, sizeof(v), true);
}

#endif /* _DRIVERS_DRIVER_TEST_H */
