/* SPDX-License-Identifier: GPL-2.0-only */
/* x86_64 page size: 4 KiB. */
#ifndef _ASM_X86_PAGE_H
#define _ASM_X86_PAGE_H

/*
 * Spelt exactly as glibc's <sys/user.h> spells them, so that a program
 * including both sees identical (hence legal) redefinitions.
 */
#define PAGE_SHIFT		12
#define PAGE_SIZE		(1UL << PAGE_SHIFT)
#define PAGE_MASK		(~(PAGE_SIZE-1))

#endif /* _ASM_X86_PAGE_H */
