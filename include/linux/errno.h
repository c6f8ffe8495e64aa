/* SPDX-License-Identifier: GPL-2.0-only */
/* Error codes: the uapi ones and those the kernel keeps to itself. */
#ifndef _LINUX_ERRNO_H
#define _LINUX_ERRNO_H

/*
 * glibc's <errno.h> includes <linux/errno.h> for the codes and finds this
 * file, so the uapi codes come first, from the system's <asm/errno.h>.
 */
#include <asm/errno.h>
#include <errno.h>

/* Never seen by user space. */
#define ERESTARTSYS		512
#define ERESTARTNOINTR		513
#define ERESTARTNOHAND		514
#define ENOIOCTLCMD		515
#define ERESTART_RESTARTBLOCK	516
#define EPROBE_DEFER		517
#define EOPENSTALE		518
#define ENOPARAM		519
#define EBADHANDLE		521
#define ENOTSYNC		522
#define EBADCOOKIE		523
#define ENOTSUPP		524
#define ETOOSMALL		525
#define ESERVERFAULT		526
#define EBADTYPE		527
#define EJUKEBOX		528
#define EIOCBQUEUED		529
#define ERECALLCONFLICT		530

#endif /* _LINUX_ERRNO_H */
