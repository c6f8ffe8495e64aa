/* SPDX-License-Identifier: GPL-2.0-only */
/* Lock assertions; without lockdep they only type-check their argument. */
#ifndef __LINUX_LOCKDEP_H
#define __LINUX_LOCKDEP_H

#define lockdep_assert_held(l)		do { (void)(l); } while (0)
#define lockdep_assert_held_write(l)	do { (void)(l); } while (0)
#define lockdep_assert_held_read(l)	do { (void)(l); } while (0)
#define lockdep_assert_not_held(l)	do { (void)(l); } while (0)

#endif /* __LINUX_LOCKDEP_H */
