/* SPDX-License-Identifier: GPL-2.0-only */
/* Temporary CPU mappings of pages: every system page is mapped here. */
#ifndef _LINUX_HIGHMEM_H
#define _LINUX_HIGHMEM_H

#include <linux/mm.h>
#include <linux/string.h>
#include <asm/page.h>

/*
 * x86_64 has no highmem: kmap*() is page_address(), kunmap*() does
 * nothing. A page with no CPU address (a free page, a ZONE_DEVICE page)
 * makes page_address() WARN and return NULL; the helpers below then do
 * nothing rather than touch NULL.
 */
static inline void *kmap_local_page(struct page *page)
{
	return page_address(page);
}

static inline void __kunmap_local(const void *addr)
{
	(void)addr;
}
#define kunmap_local(addr)	__kunmap_local(addr)

static inline void *kmap(struct page *page)
{
	return page_address(page);
}

static inline void kunmap(struct page *page)
{
	(void)page;
}

static inline void *kmap_atomic(struct page *page)
{
	return page_address(page);
}
#define kunmap_atomic(addr)	__kunmap_local(addr)

static inline void copy_highpage(struct page *to, struct page *from)
{
	void *vto = kmap_local_page(to);
	void *vfrom = kmap_local_page(from);

	if (vto && vfrom)
		memcpy(vto, vfrom, PAGE_SIZE);
	kunmap_local(vfrom);
	kunmap_local(vto);
}

static inline void clear_highpage(struct page *page)
{
	void *kaddr = kmap_local_page(page);

	if (kaddr)
		memset(kaddr, 0, PAGE_SIZE);
	kunmap_local(kaddr);
}

static inline void memcpy_from_page(char *to, struct page *page,
				    size_t offset, size_t len)
{
	char *from = kmap_local_page(page);

	if (from && !WARN_ON(offset + len > PAGE_SIZE))
		memcpy(to, from + offset, len);
	kunmap_local(from);
}

static inline void memcpy_to_page(struct page *page, size_t offset,
				  const char *from, size_t len)
{
	char *to = kmap_local_page(page);

	if (to && !WARN_ON(offset + len > PAGE_SIZE))
		memcpy(to + offset, from, len);
	kunmap_local(to);
}

#endif /* _LINUX_HIGHMEM_H */
