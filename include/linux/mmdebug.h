/* SPDX-License-Identifier: GPL-2.0-only */
/* dump_page() and the VM_* checks (VM_BUG_ON(), VM_WARN_ON() ...). */
#ifndef LINUX_MM_DEBUG_H
#define LINUX_MM_DEBUG_H 1

struct page;
struct folio;

/*
 * Print @page's state on stderr as Linux 6.1's mm/debug.c does (refcount,
 * mapcount, mapping, index, pfn; order and head of a compound page; pgmap
 * and zone_device_data; flags by name; the raw words), then "page dumped
 * because: @reason" when @reason is not NULL, whether WARNs are quiet or
 * not. dump_folio() dumps the folio's head page.
 */
void dump_page(const struct page *page, const char *reason);
void dump_folio(const struct folio *folio, const char *reason);

#include <linux/bug.h>
#include <linux/stringify.h>

/*
 * The checks are live with CONFIG_DEBUG_VM, otherwise type-checked and
 * never evaluated. The _PAGE and _FOLIO ones print the page's dump_page()
 * before their WARN or BUG, as the kernel's do.
 */
#ifdef CONFIG_DEBUG_VM
#define VM_BUG_ON(cond)			BUG_ON(cond)
#define VM_BUG_ON_PAGE(cond, page) do {					\
	if (unlikely(cond)) {						\
		dump_page(page, "VM_BUG_ON_PAGE(" __stringify(cond) ")"); \
		BUG();							\
	}								\
} while (0)
#define VM_BUG_ON_FOLIO(cond, folio) do {				\
	if (unlikely(cond)) {						\
		dump_folio(folio, "VM_BUG_ON_FOLIO(" __stringify(cond) ")"); \
		BUG();							\
	}								\
} while (0)
#define VM_WARN_ON(cond)		(void)WARN_ON(cond)
#define VM_WARN_ON_ONCE(cond)		(void)WARN_ON_ONCE(cond)
#define VM_WARN_ON_ONCE_PAGE(cond, page) ({				\
	static unsigned long __warned_site;				\
	int __ret_warn_once = !!(cond);					\
	if (unlikely(__ret_warn_once) &&				\
	    __memremap_warn_once_claim(&__warned_site)) {		\
		dump_page(page,						\
			  "VM_WARN_ON_ONCE_PAGE(" __stringify(cond) ")");\
		WARN_ON(1);						\
	}								\
	unlikely(__ret_warn_once);					\
})
#define VM_WARN_ON_FOLIO(cond, folio) ({				\
	int __ret_warn = !!(cond);					\
	if (unlikely(__ret_warn)) {					\
		dump_folio(folio,					\
			   "VM_WARN_ON_FOLIO(" __stringify(cond) ")");	\
		WARN_ON(1);						\
	}								\
	unlikely(__ret_warn);						\
})
#define VM_WARN_ON_ONCE_FOLIO(cond, folio) ({				\
	static unsigned long __warned_site;				\
	int __ret_warn_once = !!(cond);					\
	if (unlikely(__ret_warn_once) &&				\
	    __memremap_warn_once_claim(&__warned_site)) {		\
		dump_folio(folio,					\
			   "VM_WARN_ON_ONCE_FOLIO(" __stringify(cond) ")");\
		WARN_ON(1);						\
	}								\
	unlikely(__ret_warn_once);					\
})
#define VM_WARN_ONCE(cond, format...)	(void)WARN_ONCE(cond, format)
#define VM_WARN(cond, format...)	(void)WARN(cond, format)
#else
#define VM_BUG_ON(cond)			BUILD_BUG_ON_INVALID(cond)
#define VM_BUG_ON_PAGE(cond, page)	VM_BUG_ON(cond)
#define VM_BUG_ON_FOLIO(cond, folio)	VM_BUG_ON(cond)
#define VM_WARN_ON(cond)		BUILD_BUG_ON_INVALID(cond)
#define VM_WARN_ON_ONCE(cond)		BUILD_BUG_ON_INVALID(cond)
#define VM_WARN_ON_ONCE_PAGE(cond, page)	BUILD_BUG_ON_INVALID(cond)
#define VM_WARN_ON_FOLIO(cond, folio)	BUILD_BUG_ON_INVALID(cond)
#define VM_WARN_ON_ONCE_FOLIO(cond, folio)	BUILD_BUG_ON_INVALID(cond)
#define VM_WARN_ONCE(cond, format...)	BUILD_BUG_ON_INVALID(cond)
#define VM_WARN(cond, format...)	BUILD_BUG_ON_INVALID(cond)
#endif

#endif /* LINUX_MM_DEBUG_H */
