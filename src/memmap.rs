// SPDX-License-Identifier: GPL-2.0-only
//! The memmap, on demand: `struct page`s exist from the first time anything
//! asks for them, a chunk of 512 (one 2 MiB subsection) at a time.
//!
//! A three-level radix tree maps a chunk number (`pfn >> 9`) to its 32 KiB
//! array of pages, so `pfn_to_page()` is three loads. As in the kernel's
//! classic SPARSEMEM, each page keeps its chunk number in the high bits of
//! `flags`, and chunks are aligned to their size, so `page_to_pfn()` is
//! arithmetic. Chunks come from one reserved stretch of address space
//! (`MAP_NORESERVE`, 16 GiB: half a million chunks) and an address is never
//! handed out twice while it lasts: an unmapped pgmap's chunks give their
//! memory back (`MADV_DONTNEED`) but keep their addresses, so a stale
//! `struct page *` reads a zeroed page that matches no pgmap — never freed
//! memory, never another pgmap's page. Only once the stretch is spent are
//! retired chunks reused, oldest first.

use crate::pgmap::{self, PgmapState, Span};
use crate::types::{Page, MAX_PFN_BITS};
use std::alloc::Layout;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicI32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

/// `PG_locked`.
pub const PG_LOCKED: u64 = 1 << 0;
/// `PG_waiters`.
pub const PG_WAITERS: u64 = 1 << 7;
/// `PG_reserved`.
pub const PG_RESERVED: u64 = 1 << 12;
/// `PG_head`.
pub const PG_HEAD: u64 = 1 << 16;
/// The zone number field of `flags`.
const ZONES_SHIFT: u32 = 28;
const ZONES_MASK: u64 = 7;
/// `ZONE_DEVICE` on x86_64 (DMA, DMA32, NORMAL, MOVABLE, DEVICE).
const ZONE_DEVICE: u64 = 4;
/// Chunk (section) number: the top 31 bits of `flags`.
const SECTION_SHIFT: u32 = 33;
const SECTION_MASK: u64 = (1 << 31) - 1;
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
/// Chunks made but never published (a lost race): reusable at once.
static SPARE: Mutex<Vec<usize>> = Mutex::new(Vec::new());
/// Chunks of unmapped pgmaps, oldest first: reused only when the arena
/// is spent.
static RETIRED: Mutex<VecDeque<usize>> = Mutex::new(VecDeque::new());
/// Address space reserved for chunks, and the next chunk of it to give.
const ARENA_BYTES: usize = 16 << 30;
static ARENA_NEXT: AtomicUsize = AtomicUsize::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);

/// A page that belongs to no pgmap, handed out for pfns nobody maps.
pub static POISON_PAGE: Page = Page {
    flags: AtomicU64::new(POISON_FLAGS),
    w1: AtomicUsize::new(0),
    w2: AtomicUsize::new(0),
    mapping: AtomicUsize::new(0),
    index: AtomicUsize::new(0),
    private: AtomicUsize::new(0),
    mapcount: AtomicI32::new(-1),
    refcount: AtomicI32::new(0),
    memcg_data: AtomicUsize::new(0),
};

/// The address a poisoned page's `pgmap` holds: the poison page itself, so
/// that it is never a pgmap anybody mapped.
fn poison_pgmap() -> usize {
    &POISON_PAGE as *const Page as usize
}

/// True for the poison page.
pub fn is_poison(page: &Page) -> bool {
    core::ptr::eq(page, &POISON_PAGE)
}

/// Bytes of memmap and index allocated so far.
pub fn bytes() -> u64 {
    BYTES.load(Ordering::Relaxed)
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
                BYTES.fetch_add(core::mem::size_of::<Node>() as u64, Ordering::Relaxed);
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

/// The page of `pfn`, creating its chunk if a pgmap maps `pfn`; None if
/// no pgmap does.
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
    pgmap::with_span(pfn, |span, st| ensure_chunk(span, st, pfn >> CHUNK_SHIFT)).flatten()?;
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

/// The arena's first chunk address (aligned to a chunk), if the
/// reservation could be made.
fn arena() -> Option<usize> {
    static BASE: OnceLock<usize> = OnceLock::new();
    let base = *BASE.get_or_init(|| {
        // Reserved inaccessible: chunks are opened one by one as handed
        // out, so tools that scan readable memory (valgrind's leak check)
        // see only the chunks in use, not 16 GiB.
        // SAFETY: a fresh private anonymous mapping at an address of the
        // kernel's choosing: it overlaps nothing, and is never unmapped.
        let p = unsafe {
            libc::mmap(
                core::ptr::null_mut(),
                ARENA_BYTES + CHUNK_BYTES,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            0
        } else {
            (p as usize + CHUNK_BYTES - 1) & !(CHUNK_BYTES - 1)
        }
    });
    (base != 0).then_some(base)
}

fn is_arena(chunk: usize) -> bool {
    arena().is_some_and(|base| chunk >= base && chunk < base + ARENA_BYTES)
}

fn alloc_chunk() -> Option<usize> {
    if let Some(c) = SPARE.lock().unwrap_or_else(|e| e.into_inner()).pop() {
        return Some(c);
    }
    if let Some(base) = arena() {
        let i = ARENA_NEXT.fetch_add(1, Ordering::Relaxed);
        if i < ARENA_BYTES / CHUNK_BYTES {
            let chunk = base + i * CHUNK_BYTES;
            // SAFETY: `chunk` is a chunk-sized, page-aligned piece of the
            // arena's reservation that no one has been given yet.
            let opened = unsafe {
                libc::mprotect(
                    chunk as *mut libc::c_void,
                    CHUNK_BYTES,
                    libc::PROT_READ | libc::PROT_WRITE,
                )
            } == 0;
            if opened {
                BYTES.fetch_add(CHUNK_BYTES as u64, Ordering::Relaxed);
                return Some(chunk);
            }
        }
    }
    if let Some(c) = RETIRED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .pop_front()
    {
        return Some(c);
    }
    let layout = Layout::from_size_align(CHUNK_BYTES, CHUNK_BYTES).ok()?;
    // SAFETY: the layout has a non-zero size.
    let p = unsafe { std::alloc::alloc(layout) } as usize;
    if p == 0 {
        return None;
    }
    BYTES.fetch_add(CHUNK_BYTES as u64, Ordering::Relaxed);
    Some(p)
}

/// The chunk's page at `i`; `base` must be a chunk from `alloc_chunk`.
fn chunk_page(base: usize, i: usize) -> &'static Page {
    // Callers pass i < CHUNK_PAGES and a base from alloc_chunk: memory
    // that is never unmapped.
    // SAFETY: inside a live chunk; Page is all atomic integers, valid for
    // any bit pattern, so even not-yet-initialised memory is a sound Page.
    unsafe { &*((base + i * 64) as *const Page) }
}

fn write_page(p: &Page, flags: u64, w1: usize, mapping: usize) {
    p.flags.store(flags, Ordering::Relaxed);
    p.w1.store(w1, Ordering::Relaxed);
    p.w2.store(0, Ordering::Relaxed);
    p.mapping.store(mapping, Ordering::Relaxed);
    p.index.store(0, Ordering::Relaxed);
    p.private.store(0, Ordering::Relaxed);
    p.mapcount.store(-1, Ordering::Relaxed);
    p.refcount.store(0, Ordering::Relaxed);
    p.memcg_data.store(0, Ordering::Relaxed);
}

/// Create chunk `chunk` of `span` if it does not exist yet. Called with the
/// pgmap registry read-locked, so the span cannot be unmapped meanwhile.
pub fn ensure_chunk(span: &Span, st: &PgmapState, chunk: u64) -> Option<()> {
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
            ensure_chunk(span, st, head_chunk)?;
        }
    }
    let base = alloc_chunk()?;
    let section = (chunk & SECTION_MASK) << SECTION_SHIFT;
    let device = section | (ZONE_DEVICE << ZONES_SHIFT) | PG_RESERVED;
    for i in 0..CHUNK_PAGES {
        let pfn = first + i as u64;
        let p = chunk_page(base, i);
        if pfn < span.first_pfn || pfn > span.end_pfn {
            // The altmap's pfns: memory, but no ZONE_DEVICE page.
            write_page(p, section, 0, 0);
            continue;
        }
        if shift == 0 {
            write_page(p, device, span.pgmap, 0);
            continue;
        }
        let head = head_of(pfn);
        if head == pfn {
            write_page(p, device | PG_HEAD, span.pgmap, 0);
            continue;
        }
        let head_page = if head >> CHUNK_SHIFT == chunk {
            chunk_page(base, (head - first) as usize)
        } else {
            lookup(head)?
        };
        let head_addr = head_page as *const Page as usize;
        write_page(p, device, head_addr | 1, TAIL_MAPPING);
        if pfn == head + 1 {
            // prep_compound_head(): dtor, order and mapcount in word 2,
            // pincount and nr_pages over the first tail's mapping.
            p.w2.store(
                COMPOUND_PAGE_DTOR | ((shift as usize) << 8) | (0xffff_ffff << 32),
                Ordering::Relaxed,
            );
            p.mapping.store(1usize << (shift + 32), Ordering::Relaxed);
        }
    }
    match slot.compare_exchange(0, base, Ordering::AcqRel, Ordering::Acquire) {
        Ok(_) => {
            st.chunks
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(chunk);
        }
        Err(_) => SPARE.lock().unwrap_or_else(|e| e.into_inner()).push(base),
    }
    Some(())
}

/// Take chunk `chunk` out of the memmap and give its memory back (or, off
/// the arena, poison its pages). Its pgmap is no longer registered, so
/// nothing can recreate it meanwhile.
pub fn retire_chunk(chunk: u64) {
    let Some(slot) = leaf_slot(chunk, false) else {
        return;
    };
    let base = slot.swap(0, Ordering::AcqRel);
    if base == 0 {
        return;
    }
    if is_arena(base) {
        // SAFETY: `base` is a chunk of the arena, a private anonymous
        // mapping that stays mapped: MADV_DONTNEED only drops its memory,
        // and every later read of it sees zeroes, a page of no pgmap.
        unsafe {
            libc::madvise(base as *mut libc::c_void, CHUNK_BYTES, libc::MADV_DONTNEED);
        }
    } else {
        for i in 0..CHUNK_PAGES {
            write_page(chunk_page(base, i), POISON_FLAGS, poison_pgmap(), 0);
        }
    }
    RETIRED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push_back(base);
}

/// Visit every page of a live chunk.
pub fn for_each_page(chunk: u64, mut f: impl FnMut(u64, &Page)) {
    let first = chunk << CHUNK_SHIFT;
    for i in 0..CHUNK_PAGES as u64 {
        if let Some(p) = lookup(first + i) {
            f(first + i, p);
        }
    }
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

// ---- System RAM: the page allocator's pfns (src/page_alloc.rs) ----

/// First pfn of system RAM (256 MiB): below every pgmap the tests map and
/// far below where `request_free_mem_region()` searches (from the top).
pub const SYSTEM_FIRST_PFN: u64 = 0x1_0000;
/// Pfns of system RAM: 512 MiB.
pub const SYSTEM_PFNS: u64 = 0x2_0000;
/// `ZONE_NORMAL` on x86_64.
const ZONE_NORMAL: u64 = 2;

/// True for a pfn of system RAM.
pub fn is_system_pfn(pfn: u64) -> bool {
    pfn.wrapping_sub(SYSTEM_FIRST_PFN) < SYSTEM_PFNS
}

/// True for a page of system RAM (ZONE_NORMAL, in a system chunk).
pub fn is_system(page: &Page) -> bool {
    !is_poison(page)
        && (page.flags.load(Ordering::Relaxed) >> ZONES_SHIFT) & ZONES_MASK == ZONE_NORMAL
}

/// `flags` of a free system page of `pfn`: its chunk number and its zone.
pub fn system_flags(pfn: u64) -> u64 {
    (((pfn >> CHUNK_SHIFT) & SECTION_MASK) << SECTION_SHIFT) | (ZONE_NORMAL << ZONES_SHIFT)
}

/// Create the memmap chunk holding system pfn `pfn`, its pages free system
/// pages (refcount 0, not ZONE_DEVICE), unless it exists. None if `pfn` is
/// not system RAM or its chunk belongs to a pgmap.
pub fn ensure_system_chunk(pfn: u64) -> Option<()> {
    if !is_system_pfn(pfn) {
        return None;
    }
    let chunk = pfn >> CHUNK_SHIFT;
    let slot = leaf_slot(chunk, true)?;
    if slot.load(Ordering::Acquire) == 0 {
        let base = alloc_chunk()?;
        for i in 0..CHUNK_PAGES {
            let flags = system_flags((chunk << CHUNK_SHIFT) + i as u64);
            write_page(chunk_page(base, i), flags, 0, 0);
        }
        if slot
            .compare_exchange(0, base, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            SPARE.lock().unwrap_or_else(|e| e.into_inner()).push(base);
        }
    }
    lookup(pfn).filter(|p| is_system(p)).map(|_| ())
}

/// True when a system chunk (one the page allocator created) holds a pfn
/// of `[start, end]`: a pgmap there would share its struct pages.
pub fn system_overlaps(start: u64, end: u64) -> bool {
    let lo = start.max(SYSTEM_FIRST_PFN);
    let hi = end.min(SYSTEM_FIRST_PFN + SYSTEM_PFNS - 1);
    (lo <= hi)
        && ((lo >> CHUNK_SHIFT)..=(hi >> CHUNK_SHIFT))
            .any(|c| lookup(c << CHUNK_SHIFT).is_some_and(is_system))
}
