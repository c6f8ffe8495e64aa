// SPDX-License-Identifier: GPL-2.0-only
/*
 * An outside program: only the kernel's documented pgmap API, built
 * against the installed headers with pkg-config (make check-install).
 * It exits 0 when docs/DESIGN.md §2's rules hold, and says which one failed.
 */
#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/err.h>
#include <stdio.h>

static int frees;

static void page_free(struct page *page)
{
	(void)page;
	frees++;
}

static vm_fault_t migrate_to_ram(struct vm_fault *vmf)
{
	(void)vmf;
	return 0;
}

static const struct dev_pagemap_ops ops = {
	.page_free = page_free,
	.migrate_to_ram = migrate_to_ram,
};

#define CHECK(cond)							\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "example: %s:%d: %s\n",		\
				__FILE__, __LINE__, #cond);		\
			return 1;					\
		}							\
	} while (0)

int main(void)
{
	static int owner;
	static struct dev_pagemap pgmap = {
		.type = MEMORY_DEVICE_PRIVATE,
		.ops = &ops,
		.owner = &owner,
		.nr_range = 1,
		.range = { .start = 1UL << 32,
			   .end = (1UL << 32) + (4UL << 20) - 1 },
	};
	unsigned long pfn = (1UL << 32) >> PAGE_SHIFT;
	struct dev_pagemap *found;
	struct folio *folio;

	CHECK(!IS_ERR_OR_NULL(memremap_pages(&pgmap, 0)));
	/* Rule 1: pages idle at refcount 0. */
	CHECK(page_ref_count(pfn_to_page(pfn + 100)) == 0);
	/* Rule 2: a request raises the count and pins the pgmap. */
	folio = pgmap_request_folio(&pgmap, 100, 0);
	CHECK(folio && folio_ref_count(folio) == 1);
	CHECK(folio_pfn(folio) == pfn + 100);
	CHECK(pfn_to_pgmap_offset(&pgmap, pfn + 100) == 100);
	/* Rule 6: get_dev_pagemap finds it, with a reference. */
	found = get_dev_pagemap(pfn + 100, NULL);
	CHECK(found == &pgmap);
	put_dev_pagemap(found);
	/* Rule 3: the last put frees the page back through page_free. */
	folio_put(folio);
	CHECK(frees == 1 && folio_ref_count(folio) == 0);
	/* Rule 4: unmap waits for nothing, the pgmap is gone. */
	memunmap_pages(&pgmap);
	CHECK(get_dev_pagemap(pfn, NULL) == NULL);
	printf("example: docs/DESIGN.md §2 rules 1-4 and 6 hold\n");
	return 0;
}
