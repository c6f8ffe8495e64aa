// SPDX-License-Identifier: GPL-2.0-only
//! Pages and folios: compound heads, orders, reference counts, the free
//! path back to the pgmap, and the page lock.

use crate::counter::{self, DropRef};
use crate::memmap::{self, PG_HEAD, PG_LOCKED, PG_WAITERS};
use crate::types::Page;
use std::sync::atomic::Ordering;

/// `compound_head()` / `page_folio()`: the head of a tail page, else itself.
#[inline]
pub fn head(page: &Page) -> &Page {
    let w1 = page.w1.load(Ordering::Acquire);
    if w1 & 1 == 0 {
        return page;
    }
    // SAFETY: bit 0 of word 1 is set only in tail pages that `ensure_chunk`
    // initialised, and then it holds the address of their live head page.
    unsafe { &*((w1 - 1) as *const Page) }
}

/// True for a tail page.
#[inline]
pub fn is_tail(page: &Page) -> bool {
    page.w1.load(Ordering::Acquire) & 1 != 0
}

/// `folio_order()` of a head page.
#[inline]
pub fn order(folio: &Page) -> u32 {
    if folio.flags.load(Ordering::Relaxed) & PG_HEAD == 0 {
        return 0;
    }
    ((memmap::first_tail(folio).w2.load(Ordering::Relaxed) >> 8) & 0xff) as u32
}

/// The pgmap a page's folio belongs to (its head's `pgmap`), if it is a
/// ZONE_DEVICE page.
#[inline]
pub fn pgmap_of(page: &Page) -> Option<usize> {
    let h = head(page);
    if !memmap::is_zone_device(h) {
        return None;
    }
    Some(h.w1.load(Ordering::Acquire))
}

/// `folio_ref_count()`.
#[inline]
pub fn ref_count(folio: &Page) -> i32 {
    folio.refcount.load(Ordering::Acquire)
}

/// The poison page answers no change: WARN, and true so callers stop.
fn poisoned(func: &'static str, page: &Page) -> bool {
    crate::warn_if!(
        func,
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
    folio
        .refcount
        .fetch_add(1, Ordering::AcqRel)
        .wrapping_add(1)
}

/// `folio_get()`: a folio must be in use already; an idle one WARNs and is
/// left idle (only the pgmap may bring a ZONE_DEVICE folio to life).
pub fn get(folio: &Page) {
    if let Err(v) = counter::get_ref(&folio.refcount) {
        crate::warn_if!(
            "folio_get",
            true,
            "folio_get() of a folio at refcount {v}: only its pgmap may activate it"
        );
    }
}

/// `folio_put()`: the last put frees the folio back to its pgmap. A put of
/// a folio already at 0 WARNs and changes nothing.
pub fn put(folio: &Page) {
    if crate::warn_if!("folio_put", is_tail(folio), "folio_put() of a tail page") {
        return;
    }
    match counter::drop_ref(&folio.refcount) {
        DropRef::Dropped => {}
        DropRef::Last => {
            if memmap::is_zone_device(folio) {
                free_zone_device_page(folio);
            } else if memmap::is_system(folio) {
                crate::page_alloc::release(folio);
            }
        }
        DropRef::Idle(v) => {
            crate::warn_if!(
                "folio_put",
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
    if crate::warn_if!(
        "free_zone_device_page",
        refs != 0,
        "free_zone_device_page() of a folio still in use (refcount {refs})"
    ) {
        return;
    }
    free_zone_device_page(page)
}

/// `free_zone_device_page()`: clear `mapping`, call the pgmap's
/// `page_free` if it has one, then drop the pgmap pin the 0 -> 1 step took.
/// The last put calls it; a request racing that put may already have
/// brought the folio back (with a pin of its own), so no count is checked.
pub fn free_zone_device_page(page: &Page) {
    let page = head(page);
    let Some(pgmap) = pgmap_of(page) else {
        crate::warn_if!(
            "free_zone_device_page",
            true,
            "free_zone_device_page() of a page that is not ZONE_DEVICE"
        );
        return;
    };
    page.mapping.store(0, Ordering::Release);
    crate::pgmap::free_page(pgmap, page);
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
    crate::warn_if!(
        "lock_page",
        !got,
        "lock_page() waited past the bound for page {addr:#x}: deadlock? Not locked"
    );
}

/// `unlock_page()`: a page that is not locked WARNs.
pub fn unlock(page: &Page) {
    let page = head(page);
    let old = page.flags.fetch_and(!PG_LOCKED, Ordering::AcqRel);
    if crate::warn_if!(
        "unlock_page",
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
