// SPDX-License-Identifier: GPL-2.0-only
//! Pages and folios: compound heads, orders, the page's pgmap and type,
//! reference counts with the folio lifecycle (activation from idle with a
//! pgmap pin, the free path back to the pgmap), and the page lock.
//!
//! The lifecycle is here, whole: [`activate`] (idle -> in use, taking the
//! pin) and [`free_zone_device_page`] (the last put: `page_free`, then the
//! pin dropped). Kernel generations that free or initialise differently
//! (`folio_free()`, `zone_device_page_init()`) are variants of these two,
//! in [`zone_device`] (docs/DESIGN.md §9).

pub mod zone_device;

pub mod dump;

use crate::counter::{self, Activate, DropRef};
use crate::memmap::{self, PG_HEAD, PG_LOCKED, PG_WAITERS};
use crate::pgmap::{self, Mapped, PgmapPtr};
use crate::types::{Page, MEMORY_DEVICE_COHERENT, MEMORY_DEVICE_PCI_P2PDMA, MEMORY_DEVICE_PRIVATE};
use std::sync::atomic::Ordering;

/// `struct folio`: it overlays its head page.
#[repr(C)]
pub struct Folio {
    pub page: Page,
}

/// `compound_head()` / `page_folio()`: the head of a tail page, else itself.
#[inline]
pub fn head(page: &Page) -> &Page {
    let head = page.compound_head();
    if head & 1 == 0 {
        return page;
    }
    // SAFETY: bit 0 of `compound_head` is set only in tail pages that the
    // memmap initialised, and then it holds the address of their live head.
    unsafe { &*((head - 1) as *const Page) }
}

/// `PageTail()`.
#[inline]
pub fn is_tail(page: &Page) -> bool {
    page.compound_head() & 1 != 0
}

/// `PG_head` of either layout: bit 16 (6.1, the seed), bit 6 (6.15 on,
/// pages of a generation pgmap; docs/DESIGN.md §9). A page has one or none.
pub const PG_HEAD_ANY: u64 = PG_HEAD | crate::generation::PG_HEAD_MODERN;

/// `PageHead()`, in either layout.
#[inline]
pub fn is_head(page: &Page) -> bool {
    page.flags.load(Ordering::Relaxed) & PG_HEAD_ANY != 0
}

/// `folio_order()` of a head page, in the layout its head flag says.
#[inline]
pub fn order(folio: &Page) -> u32 {
    let flags = folio.flags.load(Ordering::Relaxed);
    if flags & PG_HEAD_ANY == 0 {
        return 0;
    }
    let tail = memmap::first_tail(folio);
    if flags & PG_HEAD != 0 {
        return tail.compound_order();
    }
    // 6.15 on: the order is the low byte of the first tail's flags.
    (tail.flags.load(Ordering::Relaxed) & crate::generation::FLAGS_ORDER_MASK) as u32
}

/// `folio_nr_pages()`.
#[inline]
pub fn nr_pages(folio: &Page) -> i64 {
    1 << order(folio)
}

/// `page_to_pfn()`: -1 (with a WARN) for what is not a page of any pgmap.
pub fn to_pfn(page: &Page) -> u64 {
    match memmap::page_to_pfn(page) {
        Some(pfn) => pfn,
        None => {
            crate::warn_page_if!(
                "page_to_pfn",
                page,
                true,
                "page_to_pfn({:p}): not a page of any pgmap",
                page as *const Page
            );
            u64::MAX
        }
    }
}

/// `folio_page(folio, n)`: the folio's `n`th page, by pfn (the poison
/// page, with a WARN, past the memmap).
pub fn folio_page(folio: &Page, n: u64) -> &Page {
    if n == 0 {
        return folio;
    }
    match memmap::page_to_pfn(folio).and_then(|pfn| pfn.checked_add(n)) {
        Some(pfn) => memmap::pfn_to_page(pfn),
        None => memmap::pfn_to_page(u64::MAX),
    }
}

/// `folio_next()`.
pub fn folio_next(folio: &Page) -> &Page {
    folio_page(folio, 1 << order(folio))
}

/// The pgmap a page's folio belongs to (its head's `pgmap`), if it is a
/// ZONE_DEVICE page.
#[inline]
pub fn pgmap_of(page: &Page) -> Option<usize> {
    let h = head(page);
    if !memmap::is_zone_device(h) {
        return None;
    }
    Some(h.pgmap())
}

/// `page->pgmap->type`, for a page of a mapped pgmap.
fn pgmap_type(page: &Page) -> Option<u32> {
    let pgmap = PgmapPtr::registered(pgmap_of(page)?);
    pgmap::mapped(pgmap)?;
    pgmap.type_()
}

/// `is_device_private_page()`.
pub fn is_device_private(page: &Page) -> bool {
    pgmap_type(page) == Some(MEMORY_DEVICE_PRIVATE)
}

/// `is_device_coherent_page()`.
pub fn is_device_coherent(page: &Page) -> bool {
    pgmap_type(page) == Some(MEMORY_DEVICE_COHERENT)
}

/// `is_pci_p2pdma_page()`.
pub fn is_pci_p2pdma(page: &Page) -> bool {
    pgmap_type(page) == Some(MEMORY_DEVICE_PCI_P2PDMA)
}

/// `folio_ref_count()`.
#[inline]
pub fn ref_count(folio: &Page) -> i32 {
    folio.refcount.load(Ordering::Acquire)
}

/// The poison page answers no change: WARN, and true so callers stop.
fn poisoned(func: &'static str, page: &Page) -> bool {
    crate::warn_page_if!(
        func,
        page,
        memmap::is_poison(page),
        "{func}() of the poison page (a pfn no pgmap maps): nothing done"
    )
}

/// `folio_ref_inc_return()`: the raw increment the kernel does, from any
/// value (the seed's C relies on it for the 0 -> 1 step). The poison page
/// stays at 0.
#[inline]
pub fn ref_inc_return(folio: &Page) -> i32 {
    if poisoned("folio_ref_inc_return", folio) {
        return 0;
    }
    let old = folio.refcount.fetch_add(1, Ordering::AcqRel);
    if old == 0 {
        memmap::note_referenced(folio);
    }
    old.wrapping_add(1)
}

/// Raise a folio's count for `func`; from idle, pin `pgmap` first (see
/// [`counter::activate`]), so no folio is in use without its pin.
#[inline(always)]
pub fn activate(func: &'static str, pgmap: Mapped, folio: &Page) -> bool {
    match counter::activate(&folio.refcount, || pgmap.tryget(), || pgmap.put()) {
        Activate::Done => true,
        Activate::Activated => {
            memmap::note_referenced(folio);
            true
        }
        Activate::Negative(v) => {
            crate::warn_page_if!(func, folio, true, "folio refcount is negative ({v})");
            false
        }
        Activate::NoPin => {
            crate::warn_page_once_if!(func, folio, true, "percpu_ref_tryget(&pgmap->ref) failed");
            false
        }
    }
}

/// `folio_get()`: a folio must be in use already; an idle one WARNs and is
/// left idle (only the pgmap may bring a ZONE_DEVICE folio to life).
pub fn get(folio: &Page) {
    if let Err(v) = counter::get_ref(&folio.refcount) {
        crate::warn_page_if!(
            "folio_get",
            folio,
            true,
            "folio_get() of a folio at refcount {v}: only its pgmap may activate it"
        );
    }
}

/// `folio_put()`: the last put frees the folio back to its pgmap. A put of
/// a folio already at 0 WARNs and changes nothing.
pub fn put(folio: &Page) {
    memmap::prefetch_for_write(folio);
    if crate::warn_page_if!(
        "folio_put",
        folio,
        is_tail(folio),
        "folio_put() of a tail page"
    ) {
        return;
    }
    match counter::drop_ref(&folio.refcount) {
        DropRef::Dropped => {}
        DropRef::Last => {
            if memmap::is_zone_device(folio) {
                // A head (not a tail, above) of ZONE_DEVICE: what
                // free_zone_device_page() would find out again.
                free_zone_device_head(folio, folio.pgmap());
            } else if memmap::is_system(folio) {
                release_system(folio);
            }
        }
        DropRef::Idle(v) => {
            crate::warn_page_if!(
                "folio_put",
                folio,
                true,
                "folio_put() of a folio at refcount {v}: nothing to drop"
            );
        }
    }
}

/// `free_zone_device_page()` as C may call it: a folio still in use is
/// refused with a WARN (freeing it would drop a pin its holders rely on).
pub fn free_zone_device_page_checked(page: &Page) {
    let refs = ref_count(head(page));
    if crate::warn_page_if!(
        "free_zone_device_page",
        page,
        refs != 0,
        "free_zone_device_page() of a folio still in use (refcount {refs})"
    ) {
        return;
    }
    free_zone_device_page(page)
}

/// The free path, whole: `free_zone_device_page()` clears `mapping`, calls
/// the pgmap's `page_free` if it has one, then drops the pgmap pin the
/// 0 -> 1 step took, validating the pgmap once. The last put calls it; a
/// request racing that put may already have brought the folio back (with a
/// pin of its own), so no count is checked.
pub fn free_zone_device_page(page: &Page) {
    let page = head(page);
    let Some(pgmap) = pgmap_of(page) else {
        crate::warn_page_if!(
            "free_zone_device_page",
            page,
            true,
            "free_zone_device_page() of a page that is not ZONE_DEVICE"
        );
        return;
    };
    free_zone_device_head(page, pgmap)
}

/// [`free_zone_device_page`] of the head page `page` of the ZONE_DEVICE
/// pgmap at `pgmap` (its `pgmap` word).
#[inline(never)]
fn free_zone_device_head(page: &Page, pgmap: usize) {
    // A generation pgmap frees as its generation does (docs/DESIGN.md §9);
    // a seed program never tagged one, and pays one load for asking.
    if crate::generation::any_tagged() && zone_device::free(pgmap, page) {
        return;
    }
    page.mapping.store(0, Ordering::Release);
    let pgmap = PgmapPtr::registered(pgmap);
    let Some(m) = pgmap::mapped(pgmap) else {
        crate::warn_page_if!(
            "put_dev_pagemap",
            page,
            true,
            "put_dev_pagemap() of pgmap {pgmap:p}, which is not mapped"
        );
        return;
    };
    pgmap.page_free(page);
    m.put();
}

/// `trylock_page()`; the poison page is never locked.
pub fn trylock(page: &Page) -> bool {
    if poisoned("trylock_page", page) {
        return false;
    }
    page.flags.fetch_or(PG_LOCKED, Ordering::AcqRel) & PG_LOCKED == 0
}

/// `lock_page()`: sleeps while another holder has the page locked. After
/// the wait bound it WARNs (a likely deadlock) and returns without the lock.
pub fn lock(page: &Page) {
    let page = head(page);
    if poisoned("lock_page", page) || trylock(page) {
        return;
    }
    let addr = page as *const Page as usize;
    let got = crate::sync::wait_on_bit(
        addr,
        || {
            page.flags.fetch_or(PG_WAITERS, Ordering::AcqRel);
        },
        || trylock(page),
    );
    crate::warn_page_if!(
        "lock_page",
        page,
        !got,
        "lock_page() waited past the bound for page {addr:#x}: deadlock? Not locked"
    );
}

/// `unlock_page()`: a page that is not locked WARNs.
pub fn unlock(page: &Page) {
    let page = head(page);
    let old = page.flags.fetch_and(!PG_LOCKED, Ordering::AcqRel);
    if crate::warn_page_if!(
        "unlock_page",
        page,
        old & PG_LOCKED == 0,
        "unlock_page() of a page that is not locked"
    ) {
        return;
    }
    if old & PG_WAITERS != 0 {
        page.flags.fetch_and(!PG_WAITERS, Ordering::AcqRel);
        crate::sync::wake_bit(page as *const Page as usize);
    }
}

/// `PageLocked()`.
pub fn is_locked(page: &Page) -> bool {
    head(page).flags.load(Ordering::Acquire) & PG_LOCKED != 0
}

/// `__free_pages(page, order)`: drop the caller's reference on the first
/// page of a system block; the last one frees the block. Misuse WARNs with
/// the page's dump and changes nothing.
pub fn free_system_pages(page: &Page, order: u32) {
    if let Err(why) = crate::page_alloc::check_free(page, order) {
        crate::warn_page_if!("__free_pages", page, true, "{why}");
        return;
    }
    match counter::drop_ref(&page.refcount) {
        DropRef::Last => release_system(page),
        DropRef::Dropped => {}
        DropRef::Idle(v) => {
            crate::warn_page_if!(
                "__free_pages",
                page,
                true,
                "__free_pages() of a page at refcount {v}"
            );
        }
    }
}

/// The last reference on a system page is gone: the kernel's free-path
/// checks ("Bad page state", with the page's dump), then the allocator.
fn release_system(page: &Page) {
    let locked = page.flags.load(Ordering::Acquire) & memmap::PG_LOCKED != 0;
    let mapped = page.mapcount.load(Ordering::Acquire) + 1;
    crate::warn_page_if!(
        "free_pages",
        page,
        locked,
        "Bad page state: freeing a locked page"
    );
    crate::warn_page_if!(
        "free_pages",
        page,
        mapped != 0,
        "Bad page state: freeing a page still mapped {mapped} time(s)"
    );
    crate::page_alloc::release(page);
}
