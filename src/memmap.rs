// SPDX-License-Identifier: GPL-2.0-only
//! The memmap, on demand: `struct page`s exist from the first time anything
//! asks for them, a chunk of 512 (one 2 MiB subsection) at a time, for the
//! pfns of a span ([`spans`]) someone added, or of System RAM as the page
//! allocator reaches them ([`system`]).
//!
//! A three-level radix tree maps a chunk number (`pfn >> 9`) to its 32 KiB
//! array of pages, so `pfn_to_page()` is three loads. As in the kernel's
//! classic SPARSEMEM, each page keeps its chunk number in the high bits of
//! `flags`, and chunks are aligned to their size, so `page_to_pfn()` is
//! arithmetic. Chunk memory comes from [`arena`].

mod arena;
pub mod devmem;
mod spans;
mod system;

pub use arena::bytes;
pub use spans::{remove as remove_spans, spans, spans_mut, Span, Spans, SpansMut};
pub use system::{
    ensure_system_chunk, is_system, is_system_pfn, system_flags, SYSTEM_FIRST_PFN, SYSTEM_PFNS,
};

use crate::types::{Page, MAX_PFN_BITS};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, AtomicUsize, Ordering};

/// `PG_locked`.
pub const PG_LOCKED: u64 = 1 << 0;
/// `PG_waiters`.
pub const PG_WAITERS: u64 = 1 << 7;
/// `PG_reserved`.
pub const PG_RESERVED: u64 = 1 << 12;
/// `PG_head`.
pub const PG_HEAD: u64 = 1 << 16;
/// The zone number field of `flags`.
pub(crate) const ZONES_SHIFT: u32 = 28;
pub(crate) const ZONES_MASK: u64 = 7;
/// `ZONE_DEVICE` on x86_64 (DMA, DMA32, NORMAL, MOVABLE, DEVICE).
const ZONE_DEVICE: u64 = 4;
/// Chunk (section) number: the top 31 bits of `flags`.
pub(crate) const SECTION_SHIFT: u32 = 33;
pub(crate) const SECTION_MASK: u64 = (1 << 31) - 1;
/// Flags of a poisoned page: a chunk number no pfn has.
const POISON_FLAGS: u64 = SECTION_MASK << SECTION_SHIFT;
/// `TAIL_MAPPING` with x86_64's `POISON_POINTER_DELTA`.
const TAIL_MAPPING: usize = 0xdead_0000_0000_0400;
/// `COMPOUND_PAGE_DTOR`.
const COMPOUND_PAGE_DTOR: usize = 1;

/// Pages per chunk, and the chunk's shift.
pub const CHUNK_SHIFT: u32 = 9;
const CHUNK_PAGES: usize = 1 << CHUNK_SHIFT;
const CHUNK_BYTES: usize = CHUNK_PAGES * 64;
const LEVEL_BITS: u32 = 10;
const LEVEL: usize = 1 << LEVEL_BITS;
const TOP_BITS: u32 = MAX_PFN_BITS - CHUNK_SHIFT - 2 * LEVEL_BITS;
const TOP: usize = 1 << TOP_BITS;

type Node = [AtomicUsize; LEVEL];

static ROOT: [AtomicUsize; TOP] = [const { AtomicUsize::new(0) }; TOP];

/// A page that belongs to no pgmap, handed out for pfns nobody maps.
pub static POISON_PAGE: Page = Page {
    flags: AtomicU64::new(POISON_FLAGS),
    pgmap_or_compound_head: AtomicUsize::new(0),
    zone_device_data: AtomicUsize::new(0),
    mapping: AtomicUsize::new(0),
    index: AtomicUsize::new(0),
    private: AtomicUsize::new(0),
    mapcount: AtomicI32::new(-1),
    refcount: AtomicI32::new(0),
    memcg_data: AtomicUsize::new(0),
};

/// True for the poison page.
pub fn is_poison(page: &Page) -> bool {
    core::ptr::eq(page, &POISON_PAGE)
}

fn split(chunk: u64) -> (usize, usize, usize) {
    let c = chunk as usize;
    (
        c >> (2 * LEVEL_BITS),
        (c >> LEVEL_BITS) & (LEVEL - 1),
        c & (LEVEL - 1),
    )
}

fn node(slot: &AtomicUsize, create: bool) -> Option<&'static Node> {
    let mut p = slot.load(Ordering::Acquire);
    if p == 0 {
        if !create {
            return None;
        }
        let fresh = Box::into_raw(Box::new([const { AtomicUsize::new(0) }; LEVEL])) as usize;
        match slot.compare_exchange(0, fresh, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => {
                arena::account(core::mem::size_of::<Node>());
                p = fresh;
            }
            Err(won) => {
                // SAFETY: `fresh` came from Box::into_raw just above and lost
                // the race, so nothing else ever saw it.
                drop(unsafe { Box::from_raw(fresh as *mut Node) });
                p = won;
            }
        }
    }
    // SAFETY: interior nodes are published once from Box::into_raw and never
    // freed, so a non-zero slot is a valid 'static node.
    Some(unsafe { &*(p as *const Node) })
}

fn leaf_slot(chunk: u64, create: bool) -> Option<&'static AtomicUsize> {
    let (t, m, l) = split(chunk);
    let mid = node(ROOT.get(t)?, create)?;
    let leaf = node(mid.get(m)?, create)?;
    leaf.get(l)
}

/// The page of `pfn` if its chunk exists; never creates anything. Three
/// dependent loads: this is the hot path of every request.
#[inline(always)]
pub fn lookup(pfn: u64) -> Option<&'static Page> {
    if pfn >> MAX_PFN_BITS != 0 {
        return None;
    }
    let chunk = (pfn >> CHUNK_SHIFT) as usize;
    let mid = ROOT[(chunk >> (2 * LEVEL_BITS)) & (TOP - 1)].load(Ordering::Acquire);
    if mid == 0 {
        return None;
    }
    // SAFETY: interior nodes are published once from Box::into_raw and
    // never freed, so a non-zero slot is a valid 'static node.
    let mid = unsafe { &*(mid as *const Node) };
    let leaf = mid[(chunk >> LEVEL_BITS) & (LEVEL - 1)].load(Ordering::Acquire);
    if leaf == 0 {
        return None;
    }
    // SAFETY: as above.
    let leaf = unsafe { &*(leaf as *const Node) };
    let base = leaf[chunk & (LEVEL - 1)].load(Ordering::Acquire);
    if base == 0 {
        return None;
    }
    let off = (pfn as usize & (CHUNK_PAGES - 1)) * 64;
    // SAFETY: `base` is a live chunk of CHUNK_PAGES initialised pages (see
    // `ensure_chunk`; chunks are never freed), and `off` is inside it.
    Some(unsafe { &*((base + off) as *const Page) })
}

/// The page of `pfn`, creating its chunk if a span holds `pfn`; None if
/// none does.
#[inline(always)]
pub fn page_of(pfn: u64) -> Option<&'static Page> {
    match lookup(pfn) {
        Some(p) => Some(p),
        None => create(pfn),
    }
}

#[cold]
#[inline(never)]
fn create(pfn: u64) -> Option<&'static Page> {
    let spans = spans();
    ensure_chunk(spans.entry(pfn)?, pfn >> CHUNK_SHIFT)?;
    lookup(pfn)
}

/// `pfn_to_page()`: WARN and the poison page for a pfn that no pgmap maps.
pub fn pfn_to_page(pfn: u64) -> &'static Page {
    match page_of(pfn) {
        Some(p) => p,
        None => {
            crate::warn_if!(
                "pfn_to_page",
                true,
                "pfn_to_page({pfn:#x}): no pgmap maps this pfn; returning a poison page"
            );
            &POISON_PAGE
        }
    }
}

/// `page_to_pfn()`: None for the poison page and for anything that is not a
/// page of a live chunk.
pub fn page_to_pfn(page: &Page) -> Option<u64> {
    if is_poison(page) {
        return None;
    }
    let addr = page as *const Page as usize;
    let section = (page.flags.load(Ordering::Relaxed) >> SECTION_SHIFT) & SECTION_MASK;
    let pfn = (section << CHUNK_SHIFT) | ((addr & (CHUNK_BYTES - 1)) / 64) as u64;
    match lookup(pfn) {
        Some(p) if core::ptr::eq(p, page) => Some(pfn),
        _ => None,
    }
}

/// The chunk's page at `i`; `base` must be a chunk from `alloc_chunk`.
fn chunk_page(base: usize, i: usize) -> &'static Page {
    // Callers pass i < CHUNK_PAGES and a base from alloc_chunk: memory
    // that is never unmapped.
    // SAFETY: inside a live chunk; Page is all atomic integers, valid for
    // any bit pattern, so even not-yet-initialised memory is a sound Page.
    unsafe { &*((base + i * 64) as *const Page) }
}

fn write_page(p: &Page, flags: u64, pgmap_or_head: usize, mapping: usize) {
    p.flags.store(flags, Ordering::Relaxed);
    p.pgmap_or_compound_head
        .store(pgmap_or_head, Ordering::Relaxed);
    p.zone_device_data.store(0, Ordering::Relaxed);
    p.mapping.store(mapping, Ordering::Relaxed);
    p.index.store(0, Ordering::Relaxed);
    p.private.store(0, Ordering::Relaxed);
    p.mapcount.store(-1, Ordering::Relaxed);
    p.refcount.store(0, Ordering::Relaxed);
    p.memcg_data.store(0, Ordering::Relaxed);
}

/// Create chunk `chunk` of `entry`'s span if it does not exist yet. Called
/// with the span table read-locked, so the span cannot go meanwhile.
fn ensure_chunk(entry: &spans::Entry, chunk: u64) -> Option<()> {
    let span = &entry.span;
    let slot = leaf_slot(chunk, true)?;
    if slot.load(Ordering::Acquire) != 0 {
        return Some(());
    }
    let first = chunk << CHUNK_SHIFT;
    let shift = span.shift;
    // For folios larger than a chunk, the head lives in an earlier chunk
    // that must exist first (it holds the head and its first tail).
    let head_of =
        |pfn: u64| -> u64 { span.first_pfn + (((pfn - span.first_pfn) >> shift) << shift) };
    if shift > CHUNK_SHIFT && first >= span.first_pfn {
        let head_chunk = head_of(first) >> CHUNK_SHIFT;
        if head_chunk != chunk {
            ensure_chunk(entry, head_chunk)?;
        }
    }
    let base = arena::alloc_chunk((span.pgmap, chunk))?;
    // A compound pgmap registered for 6.15 or later has its pages laid out
    // as those kernels lay them out (docs/DESIGN.md §9).
    let modern = shift > 0 && crate::generation::modern_layout(span.pgmap);
    let head_flag = if modern {
        crate::generation::PG_HEAD_MODERN
    } else {
        PG_HEAD
    };
    let section = (chunk & SECTION_MASK) << SECTION_SHIFT;
    let device = section | (ZONE_DEVICE << ZONES_SHIFT) | PG_RESERVED;
    // Device-DAX memory of a generation pgmap idles at refcount 1, as the
    // kernel's memmap_init_zone_device() leaves MEMORY_DEVICE_GENERIC pages
    // (heads and single pages; tails at 0).
    let idle = crate::generation::idle_refcount(span.pgmap);
    // Pages come in runs of identical ones (the altmap's pfns, order-0
    // pages, the tails of a folio after its first, from 6.15 on after its
    // second): the first page of a run is written, then copied over the
    // rest (tests.rs checks it against writing them one by one).
    let chunk_end = first + CHUNK_PAGES as u64;
    let mut i = 0usize;
    while i < CHUNK_PAGES {
        let pfn = first + i as u64;
        let p = chunk_page(base, i);
        let run_end = if pfn < span.first_pfn || pfn > span.end_pfn {
            // The altmap's pfns: memory, but no ZONE_DEVICE page.
            write_page(p, section, 0, 0);
            if pfn < span.first_pfn {
                span.first_pfn.min(chunk_end)
            } else {
                chunk_end
            }
        } else if shift == 0 {
            write_page(p, device, span.pgmap, 0);
            p.refcount.store(idle, Ordering::Relaxed);
            (span.end_pfn + 1).min(chunk_end)
        } else {
            let head = head_of(pfn);
            if head == pfn {
                write_page(p, device | head_flag, span.pgmap, 0);
                p.refcount.store(idle, Ordering::Relaxed);
                i += 1;
                continue;
            }
            let head_page = if head >> CHUNK_SHIFT == chunk {
                chunk_page(base, (head - first) as usize)
            } else {
                lookup(head)?
            };
            let head_addr = head_page as *const Page as usize;
            write_page(p, device, head_addr | 1, TAIL_MAPPING);
            // The first tail (from 6.15 on also the second) holds folio
            // fields; the tails after it are plain and form the run.
            if modern && pfn - head <= 2 {
                crate::generation::prep_tail_modern(p, head_addr, pfn - head, shift);
                i += 1;
                continue;
            }
            if !modern && pfn == head + 1 {
                // prep_compound_head(): dtor, order and mapcount in word 2,
                // pincount and nr_pages over the first tail's mapping.
                p.zone_device_data.store(
                    COMPOUND_PAGE_DTOR | ((shift as usize) << 8) | (0xffff_ffff << 32),
                    Ordering::Relaxed,
                );
                p.mapping.store(1usize << (shift + 32), Ordering::Relaxed);
                i += 1;
                continue;
            }
            (head + (1u64 << shift))
                .min(span.end_pfn + 1)
                .min(chunk_end)
        };
        let end = (run_end - first) as usize;
        arena::replicate_page(base, i, end);
        i = end.max(i + 1);
    }
    // Not yet published: the hint is seen with the chunk.
    if idle != 0 {
        if let Some(h) = chunk_hint(chunk_page(base, 0)) {
            crate::counter::hint_after_store(h);
        }
    }
    match slot.compare_exchange(0, base, Ordering::AcqRel, Ordering::Acquire) {
        Ok(_) => spans::record(entry, chunk),
        // Lost the race: the chunk may be this identity's own (kept from
        // its last life), so it goes back as its own, never to another.
        Err(_) => arena::retire(base, (span.pgmap, chunk)),
    }
    Some(())
}

/// Take chunk `chunk` out of the memmap and retire its memory. Its span
/// is removed, so nothing can recreate it meanwhile.
fn retire_chunk(chunk: u64, pgmap: usize) {
    let Some(slot) = leaf_slot(chunk, false) else {
        return;
    };
    let base = slot.swap(0, Ordering::AcqRel);
    if base != 0 {
        arena::retire(base, (pgmap, chunk));
    }
}

/// Visit the pages of a live chunk whose refcount is not 0: one lookup
/// for the chunk (a chunk is one array of CHUNK_PAGES pages), nothing
/// more while its hint says none is referenced (see
/// [`note_referenced`]). Callers serialise these reads.
fn for_each_referenced(chunk: u64, mut f: impl FnMut(u64, &Page, i32)) {
    let first = chunk << CHUNK_SHIFT;
    let Some(p0) = lookup(first) else {
        return;
    };
    // SAFETY: `p0` is the first page of a live chunk of CHUNK_PAGES
    // initialised pages (see `ensure_chunk`; chunks are never freed), so
    // the whole array is valid for 'static.
    let pages = unsafe { core::slice::from_raw_parts(p0 as *const Page, CHUNK_PAGES) };
    // A chunk from the heap has no hint: read it as if its hint were set.
    let unhinted = AtomicBool::new(true);
    let hint = chunk_hint(p0).unwrap_or(&unhinted);
    crate::counter::read_hinted(
        hint,
        CHUNK_PAGES,
        |i| &pages[i].refcount,
        |i, v| f(first + i as u64, &pages[i], v),
    );
}

/// The hint of the chunk holding `page`, if it has one.
#[inline(always)]
fn chunk_hint(page: &Page) -> Option<&'static AtomicBool> {
    arena::hint(page as *const Page as usize & !(CHUNK_BYTES - 1))
}

/// `page`'s refcount just went from 0 to nonzero by a read-modify-write:
/// tell the readers of its chunk (the ledger, busy-page counts) to look
/// (see [`crate::counter::hint_after_rmw`]).
#[inline(always)]
pub fn note_referenced(page: &Page) {
    if let Some(h) = chunk_hint(page) {
        crate::counter::hint_after_rmw(h);
    }
}

/// `set_page_count(page, v)`: a plain store of `page`'s refcount, which a
/// nonzero `v` tells the readers of its chunk to look at (see
/// [`crate::counter::hint_after_store`]).
#[inline(always)]
pub fn set_refcount(page: &Page, v: i32) {
    page.refcount.store(v, Ordering::Release);
    if v != 0 {
        if let Some(h) = chunk_hint(page) {
            crate::counter::hint_after_store(h);
        }
    }
}

/// Ask for `page`'s cache line in exclusive state before it is read: a
/// caller that will read the page and then change its count pays one
/// cache-line transfer instead of two (a shared fetch for the reads, then
/// an upgrade for the atomic) when another CPU is using the same folio.
/// A hint only: it changes no memory and cannot fault.
#[inline(always)]
pub fn prefetch_for_write(page: &Page) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: PREFETCHW reads no memory architecturally, writes none and
    // never faults; `page` is a valid reference besides. (On x86_64 CPUs
    // without PRFCHW the instruction is a NOP.)
    unsafe {
        core::arch::asm!(
            "prefetchw [{0}]",
            in(reg) page as *const Page,
            options(nostack, preserves_flags, readonly)
        );
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = page;
}

/// True for a ZONE_DEVICE page.
#[inline]
pub fn is_zone_device(page: &Page) -> bool {
    (page.flags.load(Ordering::Relaxed) >> ZONES_SHIFT) & ZONES_MASK == ZONE_DEVICE
}

/// The first tail of a head page: `&page[1]`.
#[inline]
pub fn first_tail(head: &Page) -> &Page {
    // SAFETY: only called for pages with PG_head set; a head page's first
    // tail is the next page of the same chunk (heads are aligned to their
    // folio size, which is at least 2 pages), so it is live memory.
    unsafe { &*(head as *const Page).add(1) }
}

#[cfg(test)]
mod tests;
