/* SPDX-License-Identifier: GPL-2.0-only */
/* Symbol exports: everything is linked statically here. */
#ifndef _LINUX_EXPORT_H
#define _LINUX_EXPORT_H

/*
 * A redundant declaration, so that the symbol must exist and the
 * semicolon after the macro has something to end.
 */
#define EXPORT_SYMBOL(sym)		extern typeof(sym) sym
#define EXPORT_SYMBOL_GPL(sym)		extern typeof(sym) sym
#define EXPORT_SYMBOL_NS(sym, ns)	extern typeof(sym) sym
#define EXPORT_SYMBOL_NS_GPL(sym, ns)	extern typeof(sym) sym

#define THIS_MODULE ((struct module *)0)

#endif /* _LINUX_EXPORT_H */
