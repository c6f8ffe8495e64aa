/* SPDX-License-Identifier: GPL-2.0-only */
/* __stringify(): a macro argument as a string, after expansion. */
#ifndef __LINUX_STRINGIFY_H
#define __LINUX_STRINGIFY_H

#define __stringify_1(x...)	#x
#define __stringify(x...)	__stringify_1(x)

#define __PASTE(a, b)		___PASTE(a, b)
#define ___PASTE(a, b)		a##b

#endif /* __LINUX_STRINGIFY_H */
