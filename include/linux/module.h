/* SPDX-License-Identifier: GPL-2.0-only */
/* Module metadata and entry points; tests call the functions themselves. */
#ifndef _LINUX_MODULE_H
#define _LINUX_MODULE_H

#include <linux/compiler.h>
#include <linux/export.h>
#include <linux/init.h>

struct module;

/* Each needs a string literal and ends with the caller's semicolon. */
#define MODULE_LICENSE(license)		_Static_assert(1, license)
#define MODULE_AUTHOR(author)		_Static_assert(1, author)
#define MODULE_DESCRIPTION(desc)	_Static_assert(1, desc)
#define MODULE_VERSION(version)		_Static_assert(1, version)
#define MODULE_ALIAS(alias)		_Static_assert(1, alias)
#define MODULE_IMPORT_NS(ns)		_Static_assert(1, #ns)
#define MODULE_PARM_DESC(parm, desc)	_Static_assert(1, desc)

/*
 * Keep a reference to the init and exit functions, so that they are not
 * unused statics; a test calls them by name.
 */
#define module_init(initfn)						\
	static int (* const __memremap_module_init)(void) __maybe_unused = \
		initfn
#define module_exit(exitfn)						\
	static void (* const __memremap_module_exit)(void) __maybe_unused = \
		exitfn

#endif /* _LINUX_MODULE_H */
