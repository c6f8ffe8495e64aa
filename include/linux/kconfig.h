/* SPDX-License-Identifier: GPL-2.0-only */
/* The kernel configuration the headers model, and IS_ENABLED(). */
#ifndef _LINUX_KCONFIG_H
#define _LINUX_KCONFIG_H

/*
 * A 6.1 x86_64 kernel with ZONE_DEVICE. Define MEMREMAP_NO_ZONE_DEVICE
 * (before any include) to build against the !CONFIG_ZONE_DEVICE stubs,
 * MEMREMAP_NO_DEBUG_VM for a kernel without CONFIG_DEBUG_VM.
 */
#ifndef MEMREMAP_NO_ZONE_DEVICE
#define CONFIG_ZONE_DEVICE 1
#define CONFIG_DEVICE_PRIVATE 1
#endif
#ifndef MEMREMAP_NO_DEBUG_VM
#define CONFIG_DEBUG_VM 1
#endif
#define CONFIG_64BIT 1
#define CONFIG_MEMCG 1
#define CONFIG_X86_64 1

/*
 * IS_ENABLED(CONFIG_FOO) is 1 when CONFIG_FOO (or CONFIG_FOO_MODULE) is
 * defined to 1, else 0, and is usable in #if and in C expressions alike:
 * pasting the value onto __ARG_PLACEHOLDER_ yields "0," only for 1, which
 * shifts the 1 into the second argument position.
 */
#define __ARG_PLACEHOLDER_1 0,
#define __take_second_arg(__ignored, val, ...) val
#define __is_defined(x)			___is_defined(x)
#define ___is_defined(val)		____is_defined(__ARG_PLACEHOLDER_##val)
#define ____is_defined(arg1_or_junk)	__take_second_arg(arg1_or_junk 1, 0)

#define IS_BUILTIN(option)	__is_defined(option)
#define IS_MODULE(option)	__is_defined(option##_MODULE)
#define IS_ENABLED(option)	(IS_BUILTIN(option) || IS_MODULE(option))
#define IS_REACHABLE(option)	IS_ENABLED(option)

#endif /* _LINUX_KCONFIG_H */
