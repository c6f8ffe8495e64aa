/* SPDX-License-Identifier: GPL-2.0-only */
/* Init and exit section annotations: nothing is discarded here. */
#ifndef _LINUX_INIT_H
#define _LINUX_INIT_H

#define __init
#define __exit
#define __initdata
#define __exitdata
#define __initconst
#define __ref

#endif /* _LINUX_INIT_H */
