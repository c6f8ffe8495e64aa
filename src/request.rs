// SPDX-License-Identifier: GPL-2.0-only
//! The patch's API: `pgmap_request_folio()` and the two translations, and
//! the pre-patch `pgmap_request_folios()` / `pgmap_release_folios()` it
//! replaces, doing what they were meant to do.
//!
//! On valid input these agree with the seed's C. Where the C misbehaves
//! (see docs/DESIGN.md §5) they WARN and return NULL or -1 instead.

use crate::memmap;
use crate::page;
use crate::pgmap::{self, Mapped, PgmapPtr};
use crate::types::Page;

#[inline(always)]
fn live(func: &'static str, pgmap: PgmapPtr) -> Option<Mapped> {
    let found = pgmap::mapped(pgmap);
    if crate::warn_if!(
        func,
        found.is_none(),
        "{func}(): pgmap {pgmap:p} is not mapped"
    ) {
        return None;
    }
    found
}

/// `pfn_to_pgmap_offset()`: -1 for a pfn outside the pgmap, and (with a
/// WARN) for a pgmap that is not mapped or is dying.
#[inline]
pub fn pfn_to_offset(pgmap: PgmapPtr, pfn: u64) -> u64 {
    match pgmap::mapped(pgmap) {
        Some(m) if !m.is_dying() => m.index().pfn_to_offset_or_max(pfn),
        _ => refused("pfn_to_pgmap_offset", pgmap),
    }
}

/// `pgmap_offset_to_pfn()`: -1 past the end, and (with a WARN) for a pgmap
/// that is not mapped or is dying.
#[inline]
pub fn offset_to_pfn(pgmap: PgmapPtr, offset: u64) -> u64 {
    match pgmap::mapped(pgmap) {
        Some(m) if !m.is_dying() => m.index().offset_to_pfn_or_max(offset),
        _ => refused("pgmap_offset_to_pfn", pgmap),
    }
}

/// A translation on a pgmap that is not mapped or is dying: WARN, -1. Out
/// of line, so that the translations' fast path keeps no stack frame.
#[cold]
#[inline(never)]
fn refused(func: &'static str, pgmap: PgmapPtr) -> u64 {
    if let Some(m) = live(func, pgmap) {
        crate::warn_if!(
            func,
            m.is_dying(),
            "{func}(): pgmap {:p} is dying",
            pgmap.ptr()
        );
    }
    u64::MAX
}

/// `pgmap_request_folio()`: the folio at `offset`, of order `order`, with a
/// reference taken; NULL (with a WARN) when it cannot be had.
pub fn request_folio(pgmap: PgmapPtr, offset: u64, order: i32) -> *mut Page {
    const F: &str = "pgmap_request_folio";
    let Some(m) = live(F, pgmap) else {
        return core::ptr::null_mut();
    };
    let Some(pfn) = m.index().offset_to_pfn(offset) else {
        crate::warn_if!(
            F,
            true,
            "offset {offset:#x} is past the end of pgmap {:p} ({} pages)",
            pgmap.ptr(),
            m.index().total()
        );
        return core::ptr::null_mut();
    };
    let Some(page) = memmap::page_of(pfn) else {
        crate::warn_if!(F, true, "pfn {pfn:#x} has no page");
        return core::ptr::null_mut();
    };
    // The checks below read the page and activate() then changes its
    // count: take the line for writing once (docs/DESIGN.md §7).
    memmap::prefetch_for_write(page);
    if crate::warn_page_once_if!(
        F,
        page,
        page.pgmap() != pgmap.addr(),
        "page->pgmap != pgmap (pfn {pfn:#x})"
    ) {
        return core::ptr::null_mut();
    }
    if crate::warn_once_if!(F, m.is_dying(), "percpu_ref_is_dying(&pgmap->ref)") {
        return core::ptr::null_mut();
    }
    let have = page::order(page);
    if crate::warn_page_once_if!(
        F,
        page,
        i64::from(have) != i64::from(order),
        "folio_order(folio) != order ({have} != {order})"
    ) {
        return core::ptr::null_mut();
    }
    if !page::activate(F, m, page) {
        return core::ptr::null_mut();
    }
    page as *const Page as *mut Page
}

/// The folios of a pre-patch span: `nr_folios` folios of `folio`'s order
/// from `folio` on, each a ZONE_DEVICE head page of `pgmap` (the span may
/// run from one range of the pgmap into an adjacent one). None if any is
/// not, or if the span is empty or runs past the memmap.
fn span_folios(pgmap: PgmapPtr, folio: &Page, nr_folios: i32) -> Option<Vec<&'static Page>> {
    if nr_folios <= 0 || page::is_tail(folio) {
        return None;
    }
    let first = memmap::page_to_pfn(folio)?;
    let order = page::order(folio);
    let step = 1u64 << order;
    (0..nr_folios as u64)
        .map(|i| {
            let f = memmap::page_of(first.checked_add(i.checked_mul(step)?)?)?;
            let ok = !page::is_tail(f) && page::order(f) == order && f.pgmap() == pgmap.addr();
            ok.then_some(f)
        })
        .collect()
}

/// The pre-patch `pgmap_request_folios()`, as meant: every folio of the
/// span is checked (same pgmap, same order) before any count moves, and
/// the walk advances from folio to folio.
pub fn request_folios(pgmap: PgmapPtr, folio: Option<&Page>, nr_folios: i32) -> bool {
    const F: &str = "pgmap_request_folios";
    let Some(m) = live(F, pgmap) else {
        return false;
    };
    let Some(folio) = folio else {
        crate::warn_if!(F, true, "NULL folio");
        return false;
    };
    let Some(folios) = span_folios(pgmap, folio, nr_folios) else {
        crate::warn_page_once_if!(
            F,
            folio,
            true,
            "!folio_span_valid(pgmap, folio, {nr_folios})"
        );
        return false;
    };
    if crate::warn_once_if!(F, m.is_dying(), "percpu_ref_is_dying(&pgmap->ref)") {
        return false;
    }
    for (n, f) in folios.iter().enumerate() {
        if !page::activate(F, m, f) {
            for g in &folios[..n] {
                page::put(g);
            }
            return false;
        }
    }
    true
}

/// The pre-patch `pgmap_release_folios()`, as meant: one put per folio,
/// walking folio to folio.
pub fn release_folios(folio: Option<&Page>, nr_folios: i32) {
    let Some(folio) = folio else {
        crate::warn_if!("pgmap_release_folios", true, "NULL folio");
        return;
    };
    let Some(first) = memmap::page_to_pfn(folio) else {
        crate::warn_page_if!(
            "pgmap_release_folios",
            folio,
            true,
            "not a page of any pgmap"
        );
        return;
    };
    let step = 1u64 << page::order(folio);
    for i in 0..nr_folios.max(0) as u64 {
        match memmap::page_of(first + i * step) {
            Some(f) => page::put(f),
            None => {
                crate::warn_if!("pgmap_release_folios", true, "folio {i} has no page");
                return;
            }
        }
    }
}
