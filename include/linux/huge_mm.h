/* SPDX-License-Identifier: GPL-2.0-only */
/* PMD-sized folios: the order device-private drivers allocate (x86_64). */
#ifndef _LINUX_HUGE_MM_H
#define _LINUX_HUGE_MM_H

#include <asm/page.h>

/* x86_64: a PMD maps 2 MiB. */
#define HPAGE_PMD_SHIFT		21
#define HPAGE_PMD_ORDER		(HPAGE_PMD_SHIFT - PAGE_SHIFT)
#define HPAGE_PMD_NR		(1 << HPAGE_PMD_ORDER)
#define HPAGE_PMD_SIZE		((1UL) << HPAGE_PMD_SHIFT)
#define HPAGE_PMD_MASK		(~(HPAGE_PMD_SIZE - 1))

#endif /* _LINUX_HUGE_MM_H */
