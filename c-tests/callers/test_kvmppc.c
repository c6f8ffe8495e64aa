// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvmppc_uvmem_get_page() (arch/powerpc/kvm/book3s_hv_uvmem.c), before and
 * after the patch, driven through its real allocation and free paths: the
 * global DEVICE_PRIVATE pgmap kvmppc_uvmem_init() maps, the bitmap of used
 * pfns, the per-page pvt and kvmppc_uvmem_page_free().
 *
 * Every case runs the same scenario on both versions (the _after and
 * _before cases, or both inside one case for the A/B assertion and the
 * failure outcomes).
 */
#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/percpu-refcount.h>
#include <linux/bitmap.h>
#include <memremap/test.h>
#include "ktap.h"
#include "callers_test.h"
#include "kvm_book3s_uvmem.h"

/*
 * Secure memory: 128 MiB, one x86_64 memory section, which is what
 * request_free_mem_region() hands out (it rounds a size up to whole
 * sections; the bitmap and the pgmap span what it gave). A smaller size
 * would meet 6.1's init error path releasing the unrounded size: the
 * drivers suite shows that (driver_kvmppc_uvmem).
 */
#define SECMEM_PAGES	32768UL
#define SECMEM_SIZE	(SECMEM_PAGES << PAGE_SHIFT)

static unsigned long first_pfn(const struct kvmppc_uvmem_api *api)
{
	return api->pgmap->range.start >> PAGE_SHIFT;
}

static unsigned long used_bits(const struct kvmppc_uvmem_api *api)
{
	return bitmap_weight(*api->bitmap, SECMEM_PAGES);
}

static void setup(const struct kvmppc_uvmem_api *api)
{
	mock_kvmppc_secmem_size = SECMEM_SIZE;
	EXPECT_EQ(api->init(), 0);
	EXPECT_TRUE(memremap_pgmap_is_mapped(api->pgmap));
	EXPECT_EQ(range_len(&api->pgmap->range), SECMEM_SIZE);
}

/* kvmppc_uvmem_free(): memunmap_pages() must not have to wait. */
static void teardown(const struct kvmppc_uvmem_api *api)
{
	EXPECT_UNMAPS_PROMPTLY(api->free());
	EXPECT_FALSE(memremap_pgmap_is_mapped(api->pgmap));
	EXPECT_EQ(callers_regions_live(), 0);
}

static void success_path(const void *arg)
{
	const struct kvmppc_uvmem_api *api = arg;
	struct kvm kvm = { .id = 1 }, *owner = NULL;
	unsigned long gpa = 0;
	struct page *page;

	setup(api);
	page = api->get_page(5UL << PAGE_SHIFT, &kvm);
	EXPECT_NOT_NULL(page);
	if (page) {
		/* The first free bit is bit 0: the pgmap's first pfn. */
		EXPECT_EQ(page_to_pfn(page), first_pfn(api));
		EXPECT_TRUE(PageLocked(page));
		EXPECT_EQ(page_ref_count(page), 1);
		EXPECT_EQ(memremap_pgmap_pins(api->pgmap), 1);
		EXPECT_PTR_EQ(folio_pgmap(page_folio(page)), api->pgmap);
		EXPECT_TRUE(is_device_private_page(page));
		EXPECT_TRUE(api->pvt_of(page, &owner, &gpa));
		EXPECT_PTR_EQ(owner, &kvm);
		EXPECT_EQ(gpa, 5UL << PAGE_SHIFT);
		EXPECT_EQ(kvm.nr_uvmem_secured, 1);
		EXPECT_EQ(kvm.last_gfn, 5);
		EXPECT_EQ(kvm.last_uvmem_pfn, first_pfn(api));
		EXPECT_EQ(used_bits(api), 1);

		unlock_page(page);
		put_page(page);
		/* page_free ran once: gfn back to normal memory, bit clear. */
		EXPECT_EQ(kvm.nr_mem_secured, 1);
		EXPECT_EQ(kvm.nr_removed, 0);
		EXPECT_EQ(page_ref_count(page), 0);
		EXPECT_NULL(page->zone_device_data);
		EXPECT_EQ(used_bits(api), 0);
	}
	EXPECT_EQ(memremap_pgmap_pins(api->pgmap), 0);
	EXPECT_WARNS(0);
	teardown(api);
}

/*
 * Fill the secure memory, then free every page: even pages with their gfn
 * removed, odd ones back to normal memory, so that each page_free shows in
 * exactly one counter.
 */
static void fill_then_free(const void *arg, struct trace *t)
{
	const struct kvmppc_uvmem_api *api = arg;
	unsigned long warns = ktap_warns();
	struct kvm kvm = { .id = 3 };
	struct page **pages = calloc(SECMEM_PAGES + 1, sizeof(*pages));
	unsigned long n = 0, i, bad = 0;
	struct page *page;

	setup(api);
	while (n <= SECMEM_PAGES) {
		page = api->get_page((0x1000 + n) << PAGE_SHIFT, &kvm);
		if (!page)
			break;
		pages[n++] = page;
	}
	EXPECT_EQ(n, SECMEM_PAGES);
	trace(t, "pages", n);
	trace(t, "pins when full", memremap_pgmap_pins(api->pgmap));
	trace(t, "bits when full", used_bits(api));
	trace(t, "gfns secured", kvm.nr_uvmem_secured);
	EXPECT_EQ(memremap_pgmap_pins(api->pgmap), SECMEM_PAGES);
	EXPECT_EQ(used_bits(api), SECMEM_PAGES);
	/* The call that found the bitmap full secured no gfn. */
	EXPECT_EQ(kvm.nr_uvmem_secured, SECMEM_PAGES);

	for (i = 0; i < n; i++) {
		struct kvm *owner = NULL;
		unsigned long gpa = 0;

		page = pages[i];
		api->pvt_of(page, &owner, &gpa);
		if (page_to_pfn(page) != first_pfn(api) + i ||
		    !PageLocked(page) || page_ref_count(page) != 1 ||
		    owner != &kvm || gpa != (0x1000 + i) << PAGE_SHIFT)
			bad++;
		trace(t, "pfn offset", page_to_pfn(page) - first_pfn(api));
		trace(t, "refcount", page_ref_count(page));
		trace(t, "locked", PageLocked(page));
		trace(t, "gfn", gpa >> PAGE_SHIFT);
	}
	EXPECT_EQ(bad, 0);

	for (i = 0; i < n; i++) {
		if (i % 2 == 0)
			api->set_remove_gfn(pages[i]);
		unlock_page(pages[i]);
		put_page(pages[i]);
	}
	for (i = 0, bad = 0; i < n; i++)
		bad += page_ref_count(pages[i]) != 0;
	EXPECT_EQ(bad, 0);
	EXPECT_EQ(kvm.nr_removed, SECMEM_PAGES / 2);
	EXPECT_EQ(kvm.nr_mem_secured, SECMEM_PAGES / 2);
	EXPECT_EQ(memremap_pgmap_pins(api->pgmap), 0);
	EXPECT_EQ(used_bits(api), 0);
	trace(t, "gfns removed", kvm.nr_removed);
	trace(t, "gfns back to memory", kvm.nr_mem_secured);
	trace(t, "pins when freed", memremap_pgmap_pins(api->pgmap));
	trace(t, "bits when freed", used_bits(api));

	/* The pool is whole again: the first pfn comes back first. */
	page = api->get_page(1UL << PAGE_SHIFT, &kvm);
	EXPECT_NOT_NULL(page);
	if (page) {
		EXPECT_EQ(page_to_pfn(page), first_pfn(api));
		unlock_page(page);
		put_page(page);
	}
	EXPECT_WARNS(0);
	trace(t, "warns", ktap_warns() - warns);
	free(pages);
	teardown(api);
}


/* Pages got and freed in a mixed order, the device filled on the way. */
static void mixed(const void *arg, struct trace *t)
{
	const struct kvmppc_uvmem_api *api = arg;
	unsigned long warns = ktap_warns();
	struct kvm kvm = { .id = 4 };
	struct page *pages[64] = { 0 };
	unsigned long i, gpa;
	struct kvm *owner;

	setup(api);
	for (i = 0; i < 64; i++)
		pages[i] = api->get_page((0x2000 + i) << PAGE_SHIFT, &kvm);
	for (i = 0; i < 64; i += 3) {
		unlock_page(pages[i]);
		put_page(pages[i]);
		trace(t, "pins", memremap_pgmap_pins(api->pgmap));
	}
	/* The freed bits are taken again, lowest first. */
	for (i = 0; i < 64; i += 3) {
		pages[i] = api->get_page((0x3000 + i) << PAGE_SHIFT, &kvm);
		api->pvt_of(pages[i], &owner, &gpa);
		trace(t, "pfn offset", page_to_pfn(pages[i]) - first_pfn(api));
		trace(t, "gfn", gpa >> PAGE_SHIFT);
		trace(t, "refcount", page_ref_count(pages[i]));
	}
	for (i = 0; i < 64; i++) {
		trace(t, "locked", PageLocked(pages[i]));
		unlock_page(pages[i]);
		put_page(pages[i]);
	}
	trace(t, "secured", kvm.nr_uvmem_secured);
	trace(t, "freed", kvm.nr_mem_secured + kvm.nr_removed);
	trace(t, "pins", memremap_pgmap_pins(api->pgmap));
	trace(t, "bits", used_bits(api));
	trace(t, "warns", ktap_warns() - warns);
	teardown(api);
}

/*
 * Every allocation the code can meet fails in turn: kvmppc_uvmem_init()
 * allocates the region's resource, then memremap_pages() the pgmap's
 * percpu_ref (percpu_ref_init(), as in the kernel), then the bitmap;
 * kvmppc_uvmem_get_page() allocates the pvt. Each failure takes the
 * caller's own error path and leaks nothing (the harness checks kmalloc();
 * this checks regions and pins).
 */
static void allocation_failures(const void *arg)
{
	const struct kvmppc_uvmem_api *api = arg;
	unsigned long n, sites = 0, live = memremap_kmalloc_live();
	struct kvm kvm = { .id = 5 };
	struct page *page;
	int ret;

	mock_kvmppc_secmem_size = SECMEM_SIZE;
	for (n = 1; n < 10; n++) {
		if (!FAILED_NTH_ALLOCATION(n, ret = api->init())) {
			EXPECT_EQ(ret, 0);
			teardown(api);
			break;
		}
		sites++;
		EXPECT_EQ(ret, -ENOMEM);
		EXPECT_FALSE(memremap_pgmap_is_mapped(api->pgmap));
		EXPECT_EQ(callers_regions_live(), 0);
		EXPECT_EQ(memremap_kmalloc_live(), live);
	}
	EXPECT_EQ(sites, 3);

	/* memremap_pages() fails: the region goes back. */
	mock_memremap_fail_nth(1);
	EXPECT_EQ(api->init(), -ENOMEM);
	EXPECT_FALSE(memremap_pgmap_is_mapped(api->pgmap));
	EXPECT_EQ(callers_regions_live(), 0);

	/* No free physical address space. */
	callers_fence(SECMEM_SIZE / 2);
	EXPECT_EQ(api->init(), -ERANGE);
	callers_unfence();
	EXPECT_EQ(callers_regions_live(), 0);

	/* The pvt cannot be had: out_clear gives the bit back. */
	setup(api);
	memremap_kmalloc_fail_nth(1);
	page = api->get_page(9UL << PAGE_SHIFT, &kvm);
	memremap_kmalloc_fail_nth(0);
	EXPECT_NULL(page);
	EXPECT_EQ(used_bits(api), 0);
	EXPECT_EQ(kvm.nr_uvmem_secured, 0);
	EXPECT_EQ(memremap_pgmap_pins(api->pgmap), 0);
	/* It was the only allocation: the next call gets bit 0. */
	memremap_kmalloc_fail_nth(2);
	page = api->get_page(9UL << PAGE_SHIFT, &kvm);
	memremap_kmalloc_fail_nth(0);
	EXPECT_NOT_NULL(page);
	if (page) {
		EXPECT_EQ(page_to_pfn(page), first_pfn(api));
		unlock_page(page);
		put_page(page);
	}
	EXPECT_WARNS(0);
	teardown(api);
}

/* ---- pgmap_request_folio() failing under the converted caller ---- */

/*
 * In the child: map, break the pgmap one way (FAIL_DYING, FAIL_ORDER,
 * FAIL_TRYGET), get a page.
 */
static void get_page_child(void *arg, long out[CHILD_OUT])
{
	const struct fail_arg *a = arg;
	const struct kvmppc_uvmem_api *api = a->api;
	struct kvm kvm = { .id = 6 };
	struct page *page;

	mock_kvmppc_secmem_size = SECMEM_SIZE;
	if (a->mode == FAIL_ORDER)
		mock_memremap_vmemmap_shift(1);
	if (api->init())
		_exit(4);
	if (a->mode == FAIL_DYING)
		percpu_ref_kill(&api->pgmap->ref);
	if (a->mode == FAIL_TRYGET)
		memremap_percpu_tryget_fail_nth(1);
	page = api->get_page(7UL << PAGE_SHIFT, &kvm);
	out[0] = page != NULL;
	out[1] = page ? page_ref_count(page) : -1;
	out[2] = page ? PageLocked(page) : -1;
	out[3] = memremap_pgmap_pins(api->pgmap);
}

/*
 * The scenarios, each on both versions. Failing requests: after the patch,
 * kvmppc_uvmem_get_page() writes through the folio it did not check
 * (dpage = &folio->page; dpage->zone_device_data = pvt): a NULL
 * dereference, after the library's WARN says why the request failed.
 * Before it, the request's failure was ignored as well, but the page came
 * from pfn_to_page(): on a dying pgmap it was handed out at refcount 0,
 * with no pgmap pin; on order-1 folios (the pre-patch request takes the
 * folio, whatever its order) with its folio referenced.
 */
static const struct scenario scenarios[] = {
	{ .name = "success_path", .run = success_path },
	{
		.name = "fill_then_free",
		.traced = fill_then_free,
		.min_trace = 4 * SECMEM_PAGES,
	},
	/* In the A/B case only. */
	{ .name = "mixed", .traced = mixed, .min_trace = 64 },
	{ .name = "allocation_failures", .run = allocation_failures },
	{
		.name = "request_fails_on_dying_pgmap",
		.mode = FAIL_DYING,
		.side[AFTER] = {
			.end = CRASHES, .warns = 2,
			.warned_in = { "pgmap_request_folio",
				       "pfn_to_pgmap_offset" },
		},
		.side[BEFORE] = {
			.end = RETURNS, .warns = 1,
			.warned_in = { "pgmap_request_folios" },
			.out = { OUT(1), OUT(0), OUT(1), OUT(0) },
		},
		.finding = "kvmppc_uvmem_get_page() does not check "
			"pgmap_request_folio() for NULL: on a dying pgmap it "
			"writes through a NULL folio (dpage->zone_device_data "
			"= pvt) and oopses [%s]; before the patch it handed "
			"out a locked page at refcount 0 with no pgmap pin",
	},
	{
		.name = "request_fails_on_wrong_order",
		.mode = FAIL_ORDER,
		.side[AFTER] = {
			.end = CRASHES, .warns = 1,
			.warned_in = { "folio_order" },
		},
		.side[BEFORE] = {
			.end = RETURNS, .warns = 0,
			.out = { OUT(1), OUT(1), OUT(1), OUT(1) },
		},
		.finding = "kvmppc_uvmem_get_page() asks for order 0 whatever "
			"the pgmap's folios are: on a pgmap of order-1 folios "
			"pgmap_request_folio() fails and the caller "
			"dereferences NULL [%s]; before the patch the same "
			"page was handed out with its folio referenced",
	},
	{
		.name = "request_fails_on_tryget_race",
		.mode = FAIL_TRYGET,
		.side[AFTER] = {
			.end = CRASHES, .warns = 1,
			.warned_in = { "percpu_ref_tryget" },
		},
		.side[BEFORE] = {
			.end = RETURNS, .warns = 1,
			.warned_in = { "percpu_ref_tryget" },
			.out = { [1] = OUT(0), [3] = OUT(0) },
		},
		.finding = "a percpu_ref_tryget() that loses a race with "
			"memunmap_pages() makes pgmap_request_folio() WARN "
			"and return NULL, which kvmppc_uvmem_get_page() "
			"dereferences [%s]",
	},
};

DEFINE_CALLER_SUITE(suite, "kvmppc", &kvmppc_after, &kvmppc_before,
		    get_page_child, scenarios);

SCENARIO_CASES(suite, success_path)
SCENARIO_CASES(suite, fill_then_free)
SCENARIO_CASES(suite, allocation_failures)

KTAP_CASE(same_state_before_and_after)
{
	/* Two builds of one file: really two different functions. */
	EXPECT_TRUE(kvmppc_after.get_page != kvmppc_before.get_page);
	expect_same_state(&suite);
}
FAIL_CASE(suite, request_fails_on_dying_pgmap)
FAIL_CASE(suite, request_fails_on_wrong_order)
FAIL_CASE(suite, request_fails_on_tryget_race)

/*
 * An out-of-range pfn cannot reach the request here: the bitmap spans
 * exactly the pgmap's one range, and a full bitmap returns NULL before
 * any request. Shown on the boundary.
 */
KTAP_CASE(out_of_range_pfn_is_unreachable)
{
	const struct kvmppc_uvmem_api *api = &kvmppc_after;
	struct kvm kvm = { .id = 7 };
	unsigned long n = 0, last = 0;
	struct page *page, **pages = calloc(SECMEM_PAGES, sizeof(*pages));

	setup(api);
	EXPECT_EQ(pfn_to_pgmap_offset(api->pgmap,
				      first_pfn(api) + SECMEM_PAGES - 1),
		  SECMEM_PAGES - 1);
	EXPECT_EQ(pfn_to_pgmap_offset(api->pgmap,
				      first_pfn(api) + SECMEM_PAGES), -1UL);
	while (n < SECMEM_PAGES &&
	       (page = api->get_page(n << PAGE_SHIFT, &kvm))) {
		pages[n++] = page;
		last = page_to_pfn(page);
	}
	EXPECT_EQ(last, first_pfn(api) + SECMEM_PAGES - 1);
	/* Full: NULL, and no request with a bad offset was made. */
	EXPECT_NULL(api->get_page(0, &kvm));
	EXPECT_WARNS(0);
	while (n--) {
		unlock_page(pages[n]);
		put_page(pages[n]);
	}
	free(pages);
	teardown(api);
	printf("    # kvmppc: an out-of-range pfn cannot reach "
	       "pgmap_request_folio(): the bitmap spans the pgmap's range\n");
}

KTAP_MAIN("callers_kvmppc",
	  SCENARIO_ENTRIES(success_path),
	  SCENARIO_ENTRIES(fill_then_free),
	  KTAP_ENTRY(same_state_before_and_after),
	  SCENARIO_ENTRIES(allocation_failures),
	  KTAP_ENTRY(request_fails_on_dying_pgmap),
	  KTAP_ENTRY(request_fails_on_wrong_order),
	  KTAP_ENTRY(request_fails_on_tryget_race),
	  KTAP_ENTRY(out_of_range_pfn_is_unreachable))
