// SPDX-License-Identifier: GPL-2.0-only
//! The API generations' variants of the folio's life (docs/DESIGN.md §9):
//! `zone_device_page_init()` / `zone_device_folio_init()` of Linux 6.1,
//! 6.15, 6.19-rc and 6.19 (the variants of [`super::activate`]), the
//! large-folio metadata each generation writes, and each generation's free
//! contract (the variant of [`super::free_zone_device_page`], which calls
//! [`free`] for a pgmap tagged with a generation).
//!
//! `pgmap` tags a pgmap with its generation (in [`crate::generation`]) when
//! it is registered through the generation entry point
//! (`memremap_pages_gen()`, which the headers route `memremap_pages()` to
//! when `MEMREMAP_LINUX` is defined). An untagged pgmap is a seed pgmap and
//! this module leaves it alone. The module also records, per folio, the
//! pins `zone_device_page_init()` took, so that a free which drops other
//! than those (a folio initialised while its pgmap was dying, or over a
//! stale large folio of 6.19-rc) WARNs every time instead of silently
//! eating references that others hold.

use super::{head, is_tail, lock};
use crate::generation::{generation, Gen, FLAGS_ORDER_MASK, PG_HEAD_MODERN, TAIL_MAPPING};
use crate::memmap::{self, PG_LOCKED};
use crate::pgmap::{self, PgmapPtr};
use crate::types::*;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};

/// Folios live from `zone_device_page_init()`: the pins each one's init
/// took, by the address of its head page (0: none recorded). Every init
/// and every free of a generation folio reads or writes it, from any
/// thread, so it takes no lock: a table in four levels keyed by the
/// address's bits above the 64 bytes of a `struct page`, 512 pages (one
/// memmap chunk) to a leaf, made on first use and kept (2 KiB a leaf, for
/// each chunk whose folios were ever initialised). Each node is published
/// once through its `OnceLock`; a slot is one atomic word.
mod pins {
    use super::*;
    use std::cell::Cell;

    const LEAF_BITS: u32 = 9;
    const NODE_BITS: u32 = 10;
    const TOP_BITS: u32 = 12;
    /// Key bits: a user-space address below 2^47, less the 6 of a page.
    const KEY_BITS: u32 = LEAF_BITS + 2 * NODE_BITS + TOP_BITS;

    type Leaf = [AtomicU32; 1 << LEAF_BITS];
    type Node<T> = [OnceLock<Box<T>>; 1 << NODE_BITS];

    static TOP: [OnceLock<Box<Node<Node<Leaf>>>>; 1 << TOP_BITS] =
        [const { OnceLock::new() }; 1 << TOP_BITS];
    /// Pages at addresses the table does not cover (none on x86_64's
    /// 47-bit user space; kept so that no address goes unrecorded).
    static FAR: Mutex<BTreeMap<usize, u32>> = Mutex::new(BTreeMap::new());

    fn far() -> std::sync::MutexGuard<'static, BTreeMap<usize, u32>> {
        FAR.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn node<T>() -> Box<Node<T>> {
        Box::new([const { OnceLock::new() }; 1 << NODE_BITS])
    }

    fn leaf() -> Box<Leaf> {
        Box::new([const { AtomicU32::new(0) }; 1 << LEAF_BITS])
    }

    thread_local! {
        /// This thread's last leaf and its key (`addr >> 15`): a driver
        /// initialises and frees folios of one chunk after another.
        static LAST: Cell<(usize, Option<&'static Leaf>)> = const { Cell::new((usize::MAX, None)) };
    }

    /// The slot of the page at `addr`, made if `make`; None if it does not
    /// exist (not made) or lies beyond the table.
    #[inline(always)]
    fn slot(addr: usize, make: bool) -> Option<&'static AtomicU32> {
        let k = addr >> 6;
        if k >> KEY_BITS != 0 {
            return None;
        }
        let i = |shift: u32, bits: u32| (k >> shift) & ((1 << bits) - 1);
        let (key, last) = LAST.with(Cell::get);
        let l = match last {
            Some(l) if key == k >> LEAF_BITS => l,
            _ => walk(k, make)?,
        };
        Some(&l[i(0, LEAF_BITS)])
    }

    /// The leaf of key `k`, through the levels (made if `make`).
    #[cold]
    #[inline(never)]
    fn walk(k: usize, make: bool) -> Option<&'static Leaf> {
        let i = |shift: u32, bits: u32| (k >> shift) & ((1 << bits) - 1);
        let top = &TOP[i(LEAF_BITS + 2 * NODE_BITS, TOP_BITS)];
        let mid = &top
            .get()
            .map_or_else(|| make.then(|| top.get_or_init(node)), Some)?
            [i(LEAF_BITS + NODE_BITS, NODE_BITS)];
        let low = &mid
            .get()
            .map_or_else(|| make.then(|| mid.get_or_init(node)), Some)?[i(LEAF_BITS, NODE_BITS)];
        let l: &'static Leaf = low
            .get()
            .map_or_else(|| make.then(|| low.get_or_init(leaf)), Some)?;
        LAST.with(|c| c.set((k >> LEAF_BITS, Some(l))));
        Some(l)
    }

    /// Record that the folio headed at `addr` took `n` (>= 1) pins.
    #[inline(always)]
    pub(super) fn record(addr: usize, n: u32) {
        match slot(addr, true) {
            Some(s) => s.store(n, Ordering::Release),
            None => {
                far().insert(addr, n);
            }
        }
    }

    /// Forget the folio headed at `addr`, returning the pins its init
    /// took (0 if none was recorded). Called by the folio's one free (the
    /// put that took its count to 0), which no init of the same folio can
    /// race: a load and a store, not an atomic exchange.
    #[inline(always)]
    pub(super) fn take(addr: usize) -> u32 {
        if (addr >> 6) >> KEY_BITS != 0 {
            return far().remove(&addr).unwrap_or(0);
        }
        slot(addr, false).map_or(0, |s| {
            let n = s.load(Ordering::Acquire);
            if n != 0 {
                s.store(0, Ordering::Release);
            }
            n
        })
    }
}

/// The largest folio this model builds at run time: one memmap chunk.
const MAX_RUNTIME_ORDER: u32 = memmap::CHUNK_SHIFT;

/// Page `i` of the folio headed by `head`: `head + i` in the memmap. The
/// caller has checked that the folio lies in one memmap chunk.
fn nth(head: &Page, i: usize) -> &Page {
    // `init` checks (`check_span`) that the folio is aligned to its size,
    // at most one chunk (512 pages) long and all pages of a mapped pgmap;
    // a chunk's memory stays mapped (a retired one reads as zeroes; see
    // memmap/arena.rs).
    // SAFETY: so `head + i` is a page of the same live chunk as `head`.
    unsafe { &*(head as *const Page).add(i) }
}

/// `folio_nr_pages()` in the 6.15+ layout: `_nr_pages`, the low half of the
/// first tail's `memcg_data` word, for a head; 1 otherwise.
fn nr_pages_modern(head: &Page) -> u64 {
    if head.flags.load(Ordering::Acquire) & PG_HEAD_MODERN == 0 {
        return 1;
    }
    memmap::first_tail(head).memcg_data.load(Ordering::Acquire) as u64 & 0xffff_ffff
}

/// `prep_compound_page()` in the 6.15+ layout (x86_64, CONFIG_64BIT,
/// CONFIG_PAGE_MAPCOUNT and CONFIG_MM_ID): the head flag; in each tail
/// `TAIL_MAPPING`, `compound_head` = head | 1 over the pgmap word, private
/// 0; then the head's folio fields in the first tail (order in the low byte
/// of `_flags_1`, `_large_mapcount` -1, `_nr_pages_mapped` 0,
/// `_entire_mapcount` -1, `_pincount` 0 over its mapping, `_mm_id_mapcount`
/// -1 -1 over its index, `_mm_ids` 0 over its private, `_nr_pages` over the
/// low half of its memcg word) and, for order > 1, `_deferred_list` in the
/// second tail, initialised empty (its words 2 and 3).
fn prep_compound_modern(head: &Page, order: u32) {
    let nr = 1usize << order;
    // `__SetPageHead()`: a plain read-modify-write, as the kernel's (the
    // folio is not yet anyone else's; its lock bit in this word is ours).
    let flags = head.flags.load(Ordering::Relaxed);
    head.flags.store(flags | PG_HEAD_MODERN, Ordering::Release);
    let head_addr = head as *const Page as usize;
    for i in 1..nr {
        let t = nth(head, i);
        t.mapping.store(TAIL_MAPPING, Ordering::Relaxed);
        t.pgmap_or_compound_head
            .store(head_addr | 1, Ordering::Release);
        t.private.store(0, Ordering::Relaxed);
    }
    let t1 = nth(head, 1);
    let f1 = t1.flags.load(Ordering::Relaxed);
    t1.flags
        .store((f1 & !FLAGS_ORDER_MASK) | order as u64, Ordering::Relaxed);
    let memcg = t1.memcg_data.load(Ordering::Relaxed);
    t1.memcg_data
        .store((memcg & !0xffff_ffff) | nr, Ordering::Relaxed);
    // _large_mapcount = -1 (low half), _nr_pages_mapped = 0 (high half).
    t1.zone_device_data.store(0xffff_ffff, Ordering::Relaxed);
    // _entire_mapcount = -1 (low half), _pincount = 0 (high half).
    t1.mapping.store(0xffff_ffff, Ordering::Relaxed);
    // _mm_id_mapcount[0] = _mm_id_mapcount[1] = -1.
    t1.index.store(usize::MAX, Ordering::Relaxed);
    // _mm_ids = 0.
    t1.private.store(0, Ordering::Relaxed);
    if order > 1 {
        let t2 = nth(head, 2);
        let list = head_addr + 2 * 64 + 16;
        t2.zone_device_data.store(list, Ordering::Relaxed);
        t2.mapping.store(list, Ordering::Relaxed);
    }
}

/// 6.19's reset of each page a folio is about to be built from: the low
/// flags byte (order, head, lock bits), `_nr_pages` as a previous folio
/// headed one page earlier would have left it, the mapping, the pgmap word
/// (which also clears a stale compound head) and the fsdax share count. A
/// page still referenced, or not ZONE_DEVICE, WARNs (VM_WARN_ON_FOLIO) and
/// is reset all the same.
///
/// The flags are cleared as the kernel clears them (`new_page->flags.f &=
/// ~0xffUL`, a plain read-modify-write, not an atomic one: the pages are
/// free, and their one user is the caller), so a folio of 512 pages costs
/// no locked instruction per page.
fn reset_619(head: &Page, nr: usize, pgmap: usize) {
    for i in 0..nr {
        let p = nth(head, i);
        let flags = p.flags.load(Ordering::Relaxed);
        p.flags.store(flags & !FLAGS_ORDER_MASK, Ordering::Relaxed);
        let memcg = p.memcg_data.load(Ordering::Relaxed);
        p.memcg_data.store(memcg & !0xffff_ffff, Ordering::Relaxed);
        p.mapping.store(0, Ordering::Relaxed);
        p.pgmap_or_compound_head.store(pgmap, Ordering::Release);
        p.index.store(0, Ordering::Relaxed);
        let refs = p.refcount.load(Ordering::Acquire);
        crate::warn_page_if!(
            "zone_device_page_init",
            p,
            refs != 0,
            "zone_device_page_init(): page {i} of the new folio has refcount {refs}"
        );
        crate::warn_page_if!(
            "zone_device_page_init",
            p,
            !memmap::is_zone_device(p),
            "zone_device_page_init(): page {i} of the new folio is not ZONE_DEVICE"
        );
    }
}

/// `lock_page()` of the head page `init` has just brought to refcount 1,
/// proved a memmap page that is not the poison page, and (6.19) reset.
///
/// 6.19 reset the low flags byte of this very word a moment ago with a
/// plain read-modify-write, as the kernel does, on the ground that the
/// pages are free and their one user is the caller; on the same ground the
/// lock bit is set the same way (a load and a store, not a locked
/// `fetch_or`, ~20 cycles saved a folio). Before 6.19 the word was not
/// reset, so the lock is taken with the atomic `fetch_or` of
/// `trylock_page()` without asking again what `init` proved. A page found
/// locked all the same (a caller that locked a free page) takes
/// `lock_page()`'s whole path: it waits, or WARNs past the bound.
#[inline(always)]
fn lock_new(gen: Gen, page: &Page) {
    if gen == Gen::V6_19 {
        let flags = page.flags.load(Ordering::Relaxed);
        if flags & PG_LOCKED == 0 {
            page.flags.store(flags | PG_LOCKED, Ordering::Release);
            return;
        }
    } else if !is_tail(page) && page.flags.fetch_or(PG_LOCKED, Ordering::AcqRel) & PG_LOCKED == 0 {
        return;
    }
    lock(page);
}

/// Check that the order-`order` folio at `page` can be built here: aligned
/// to its size, within one memmap chunk, every page mapped by `pgmap`;
/// the mapped pgmap if so.
fn check_span(page: &Page, order: u32, pgmap: usize) -> Option<pgmap::Mapped> {
    if crate::warn_page_if!(
        "zone_device_page_init",
        page,
        order > MAX_RUNTIME_ORDER,
        "zone_device_page_init(): order {order} is larger than this model builds \
         at run time ({MAX_RUNTIME_ORDER})"
    ) {
        return None;
    }
    let Some(pfn) = memmap::page_to_pfn(page) else {
        crate::warn_page_if!(
            "zone_device_page_init",
            page,
            true,
            "zone_device_page_init() of a page that is not in the memmap"
        );
        return None;
    };
    let nr = 1u64 << order;
    if crate::warn_page_if!(
        "zone_device_page_init",
        page,
        pfn % nr != 0,
        "zone_device_page_init(): pfn {pfn:#x} is not aligned to an order-{order} folio"
    ) {
        return None;
    }
    let last = pfn + nr - 1;
    // Pages of `pgmap`: pfns in one of its ranges, it being mapped (its own
    // offset index: no lock, no search of the table of every span). An
    // aligned folio of at most a chunk lies in `page`'s chunk, which
    // exists (page_to_pfn() found it), so its last page exists too.
    let m = pgmap::mapped(PgmapPtr::registered(pgmap));
    let owned = |p: u64| m.is_some_and(|m| m.index().pfn_to_offset(p).is_some());
    if crate::warn_page_if!(
        "zone_device_page_init",
        page,
        !owned(pfn)
            || !owned(last)
            || (last >> memmap::CHUNK_SHIFT != pfn >> memmap::CHUNK_SHIFT
                && memmap::page_of(last).is_none()),
        "zone_device_page_init(): pfns {pfn:#x}-{last:#x} are not all pages of pgmap {pgmap:#x}"
    ) {
        return None;
    }
    m
}

/// `zone_device_page_init()` of generation `gen`; `pgmap_arg` is 6.19's
/// pgmap argument (0 before 6.19). The order is checked to lie in one
/// pgmap range and one memmap chunk (the kernel does not check it).
pub fn init(gen: Gen, page: &Page, pgmap_arg: usize, order: u32) {
    let func = "zone_device_page_init";
    if crate::warn_page_if!(
        func,
        page,
        memmap::is_poison(page) || !memmap::is_zone_device(page),
        "zone_device_page_init() of a page that is not ZONE_DEVICE: nothing done"
    ) {
        return;
    }
    if crate::warn_page_if!(
        func,
        page,
        gen < Gen::V6_19Rc && order != 0,
        "zone_device_page_init(): order {order} before 6.19-rc"
    ) {
        return;
    }
    // The pgmap as the generation finds it: 6.1 reads page->pgmap, 6.15
    // and 6.19-rc page_pgmap(page) (the folio's: the head's word), 6.19
    // is told.
    let pgmap = match gen {
        Gen::V6_1 => page.pgmap(),
        Gen::V6_15 | Gen::V6_19Rc => head(page).pgmap(),
        Gen::V6_19 => pgmap_arg,
    };
    let tagged = generation(pgmap);
    if crate::warn_page_if!(
        func,
        page,
        tagged != Some(gen),
        "zone_device_page_init() of {gen:?} on a page of pgmap {pgmap:#x}, registered \
         for {tagged:?}: nothing done"
    ) {
        return;
    }
    // Mapped, or check_span() said why not.
    let Some(m) = check_span(page, order, pgmap) else {
        return;
    };
    let nr = 1usize << order;
    if gen == Gen::V6_19 {
        reset_619(page, nr, pgmap);
    }
    // 6.1 and 6.15 take a live reference; 6.19-rc and 6.19 take 1 << order
    // with percpu_ref_tryget_many(), which succeeds on a dying pgmap while
    // references remain.
    let got = if gen.folio_free() {
        m.tryget_many(nr as i64)
    } else {
        m.tryget_live()
    };
    if crate::warn_page_if!(
        func,
        page,
        !got,
        "zone_device_page_init(): no reference on pgmap {pgmap:#x} (dying: memunmap_pages() \
         was called); carrying on as the kernel does"
    ) {
        // Nothing recorded: the free path's drop will be unmatched.
        pins::take(page as *const Page as usize);
    } else {
        pins::record(page as *const Page as usize, nr as u32);
    }
    memmap::set_refcount(page, 1);
    lock_new(gen, page);
    if order > 0 {
        prep_compound_modern(page, order);
    }
}

/// Drop `n` pins of `pgmap` on behalf of the freed folio `head`; a drop
/// other than the pins its `zone_device_page_init()` took WARNs (and is
/// made, as the kernel makes it).
#[inline(always)]
fn drop_pins(pgmap: usize, head: &Page, n: i64) {
    let taken = i64::from(pins::take(head as *const Page as usize));
    crate::warn_page_if!(
        "free_zone_device_folio",
        head,
        n != taken,
        "free of folio {:p} of pgmap {pgmap:#x} drops {n} pgmap pins, but its \
         zone_device_page_init() took {taken}: the difference belongs to others",
        head
    );
    match pgmap::mapped(PgmapPtr::registered(pgmap)) {
        Some(m) => m.put_many(n),
        None => {
            crate::warn_if!(
                "put_dev_pagemap",
                true,
                "put_dev_pagemap() of pgmap {pgmap:#x}, which is not mapped"
            );
        }
    }
}

/// The last put of a folio of a generation pgmap: the free of that
/// generation. Returns false for a seed pgmap (the caller frees it).
/// Out of line: the seed's free path only calls it.
#[inline(never)]
pub fn free(pgmap: usize, head: &Page) -> bool {
    // The caller asked any_tagged() first.
    let Some(gen) = crate::generation::generation_of_tagged(pgmap) else {
        return false;
    };
    let p = PgmapPtr::registered(pgmap);
    let ty = p.type_().unwrap_or(0);
    let nr = if gen.modern() {
        nr_pages_modern(head)
    } else {
        1
    };
    let name = || {
        if gen.folio_free() {
            "folio_free"
        } else {
            "page_free"
        }
    };
    let private = ty == MEMORY_DEVICE_PRIVATE || ty == MEMORY_DEVICE_COHERENT;
    if gen == Gen::V6_1 {
        // 6.1: every type needs ->page_free; device-private and coherent
        // pages drop their pin, the others idle again at refcount 1.
        if !p.has_page_free() {
            crate::warn_page_if!(
                "free_zone_device_page",
                head,
                true,
                "pgmap without ->page_free"
            );
            return true;
        }
        head.mapping.store(0, Ordering::Release);
        p.page_free(head);
        if private {
            drop_pins(pgmap, head, 1);
        } else {
            memmap::set_refcount(head, 1);
        }
        return true;
    }
    if ty != MEMORY_DEVICE_FS_DAX && ty != MEMORY_DEVICE_GENERIC {
        head.mapping.store(0, Ordering::Release);
    }
    match ty {
        MEMORY_DEVICE_PRIVATE | MEMORY_DEVICE_COHERENT | MEMORY_DEVICE_PCI_P2PDMA => {
            // `->folio_free` from 6.19-rc on: the same slot as `page_free`.
            let Some(folio_free) = p.page_free_fn() else {
                crate::warn_page_if!(
                    "free_zone_device_folio",
                    head,
                    true,
                    "pgmap {pgmap:#x} without ->{}: the folio's pins stay held",
                    name()
                );
                return true;
            };
            // SAFETY: the driver's `->folio_free` for this pgmap, called as
            // the kernel calls it, with the folio whose last reference went.
            unsafe { folio_free(head as *const Page as *mut Page) };
            if private {
                drop_pins(pgmap, head, if gen.folio_free() { nr as i64 } else { 1 });
            }
        }
        MEMORY_DEVICE_GENERIC => {
            memmap::set_refcount(head, 1);
        }
        _ => {}
    }
    true
}
