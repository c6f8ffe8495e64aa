// SPDX-License-Identifier: GPL-2.0-only
//! System RAM: the pfns the page allocator (src/page_alloc.rs) hands out,
//! and their pages. They are ordinary struct pages of the memmap
//! (ZONE_NORMAL, so not ZONE_DEVICE), created a chunk at a time as the
//! allocator first reaches them; no span holds them and they are never
//! retired. The window is also a "System RAM" resource of the iomem tree
//! (src/resource.rs), so no pgmap and no free-region search meets it.

use super::{
    chunk_page, leaf_slot, lookup, write_page, CHUNK_PAGES, CHUNK_SHIFT, SECTION_MASK,
    SECTION_SHIFT, ZONES_MASK, ZONES_SHIFT,
};
use crate::types::Page;
use std::sync::atomic::Ordering;

/// First pfn of System RAM: physical 128 TiB. Not low, as a machine's
/// RAM would be: the suites map pgmaps low (from pfn 0, at 1 GiB, 4, 8, 16,
/// 40, 64 GiB, ..., 2^39-2^46 bytes) and the differential campaign draws
/// layouts from pfn 0 and 1 GiB up to 1 TiB, and at multiples of 2^48
/// bytes; nothing maps at 2^47, and `request_free_mem_region()`, which
/// searches down from 2^52, never gets this far.
pub const SYSTEM_FIRST_PFN: u64 = 1 << 35;
/// Pfns of System RAM: 512 MiB.
pub const SYSTEM_PFNS: u64 = 0x2_0000;
/// `ZONE_NORMAL` on x86_64.
const ZONE_NORMAL: u64 = 2;

/// True for a pfn of System RAM.
pub fn is_system_pfn(pfn: u64) -> bool {
    pfn.wrapping_sub(SYSTEM_FIRST_PFN) < SYSTEM_PFNS
}

/// True for a page of System RAM (ZONE_NORMAL, in a system chunk).
pub fn is_system(page: &Page) -> bool {
    !super::is_poison(page)
        && (page.flags.load(Ordering::Relaxed) >> ZONES_SHIFT) & ZONES_MASK == ZONE_NORMAL
}

/// `flags` of a free system page of `pfn`: its chunk number and its zone.
pub fn system_flags(pfn: u64) -> u64 {
    (((pfn >> CHUNK_SHIFT) & SECTION_MASK) << SECTION_SHIFT) | (ZONE_NORMAL << ZONES_SHIFT)
}

/// Create the memmap chunk holding System RAM pfn `pfn`, its pages free
/// system pages (refcount 0, not ZONE_DEVICE), unless it exists. None if
/// `pfn` is not System RAM, memory ran out, or its chunk is not system
/// pages.
pub fn ensure_system_chunk(pfn: u64) -> Option<()> {
    if !is_system_pfn(pfn) {
        return None;
    }
    let chunk = pfn >> CHUNK_SHIFT;
    let slot = leaf_slot(chunk, true)?;
    if slot.load(Ordering::Acquire) == 0 {
        // System RAM is no pgmap's: its chunks' identity is pgmap 0.
        let id = (0, chunk);
        let base = super::arena::alloc_chunk(id)?;
        // Its pages are alike (the flags carry only chunk and zone): one
        // is written, then copied over the rest.
        let flags = system_flags(chunk << CHUNK_SHIFT);
        write_page(chunk_page(base, 0), flags, 0, 0);
        super::arena::replicate_page(base, 0, CHUNK_PAGES);
        if slot
            .compare_exchange(0, base, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            super::arena::retire(base, id);
        }
    }
    lookup(pfn).filter(|p| is_system(p)).map(|_| ())
}
