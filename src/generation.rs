// SPDX-License-Identifier: GPL-2.0-only
//! Which API generation a pgmap was registered for (docs/DESIGN.md §9),
//! and the parts of that generation's page layout the memmap writes. A
//! leaf: `pgmap` tags a pgmap when it registers it, the memmap lays out its
//! pages by the tag, and `page` (its `zone_device` part: each generation's
//! `zone_device_page_init()` and free) reads it.

use crate::types::Page;
use core::mem::{offset_of, size_of};
use static_assertions::const_assert_eq;
use std::cell::Cell;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

/// The generations, as `MEMREMAP_GEN_*` in `<memremap/generation.h>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Gen {
    /// Linux 6.1: `zone_device_page_init(page)`, `->page_free(page)`.
    V6_1 = 1,
    /// Linux 6.15: `page_pgmap()`, `folio->pgmap`; otherwise as 6.1.
    V6_15 = 2,
    /// Linux 6.19-rc: large device-private folios, `->folio_free(folio)`.
    V6_19Rc = 3,
    /// Linux 6.19 and 7.0: the pgmap passed in, pages reset before use.
    V6_19 = 4,
}

impl Gen {
    /// The generation of a C `MEMREMAP_GEN_*` value (0, the seed, is none).
    pub fn from_c(v: u32) -> Option<Gen> {
        match v {
            1 => Some(Gen::V6_1),
            2 => Some(Gen::V6_15),
            3 => Some(Gen::V6_19Rc),
            4 => Some(Gen::V6_19),
            _ => None,
        }
    }

    /// 6.15 and later lay folios out with `PG_head` at bit 6 and the order
    /// in the first tail's flags.
    pub fn modern(self) -> bool {
        self >= Gen::V6_15
    }

    /// 6.19-rc and later free through `->folio_free()` and drop one pin
    /// per page.
    pub fn folio_free(self) -> bool {
        self >= Gen::V6_19Rc
    }
}

/// A generation pgmap's tag: its generation, and whether its pages idle at
/// refcount 1 (MEMORY_DEVICE_GENERIC: every generation's
/// `__init_zone_device_page()` leaves them at `init_page_count()`'s 1, and
/// their free sets 1 again).
#[derive(Clone, Copy)]
struct Tag {
    gen: Gen,
    idle_one: bool,
}

/// Generation pgmaps: address -> tag.
static TAGS: Mutex<BTreeMap<usize, Tag>> = Mutex::new(BTreeMap::new());
/// Whether any pgmap was ever tagged: a seed program's frees never take
/// the lock above.
static ANY_TAGGED: AtomicBool = AtomicBool::new(false);

/// Bumped, under the lock of [`TAGS`], after every change to it: a
/// thread's cached answer read at an unchanged version is still the
/// table's (see [`generation`]).
static VERSION: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// This thread's last answer: (version, pgmap, generation). Version 0
    /// is never current.
    static LAST: Cell<(u64, usize, Option<Gen>)> = const { Cell::new((0, 0, None)) };
}

/// The tag table, locked. Every change made through the guard is published
/// by [`Tags::drop`] bumping [`VERSION`] before the lock is released.
struct Tags(std::sync::MutexGuard<'static, BTreeMap<usize, Tag>>);

impl Drop for Tags {
    fn drop(&mut self) {
        VERSION.fetch_add(1, Ordering::AcqRel);
    }
}

fn tags() -> Tags {
    Tags(TAGS.lock().unwrap_or_else(|e| e.into_inner()))
}

/// Whether any generation pgmap was ever registered (one load: the seed's
/// free path asks this first).
#[inline(always)]
pub fn any_tagged() -> bool {
    ANY_TAGGED.load(Ordering::Relaxed)
}

/// Record that `pgmap` was registered for generation `gen` (replacing any
/// tag a previous registration at that address left), its pages idling at
/// refcount 1 if `idle_one`.
pub fn tag(pgmap: usize, gen: Gen, idle_one: bool) {
    tags().0.insert(pgmap, Tag { gen, idle_one });
    ANY_TAGGED.store(true, Ordering::Release);
}

/// Forget `pgmap`'s tag (it is being registered by the seed's entry
/// point, or was never registered).
pub fn untag(pgmap: usize) {
    if ANY_TAGGED.load(Ordering::Acquire) {
        tags().0.remove(&pgmap);
    }
}

/// The refcount `pgmap`'s single pages and folio heads idle at.
pub fn idle_refcount(pgmap: usize) -> i32 {
    if !ANY_TAGGED.load(Ordering::Acquire) {
        return 0;
    }
    let t = TAGS.lock().unwrap_or_else(|e| e.into_inner());
    i32::from(t.get(&pgmap).is_some_and(|t| t.idle_one))
}

/// Tag `pgmap` for `gen` (idling at 1 if `idle_one`), or untag it for the
/// seed (`None`).
pub fn set(pgmap: usize, gen: Option<Gen>, idle_one: bool) {
    match gen {
        Some(g) => tag(pgmap, g, idle_one),
        None => untag(pgmap),
    }
}

/// The generation `pgmap` was registered for; None for a seed pgmap.
///
/// Asked twice in every folio's life (its init and its free), so the
/// answer is cached per thread: a thread that asks again about the pgmap
/// it asked about last, with no tag changed since (one load of
/// [`VERSION`]), takes no lock. A change is made and [`VERSION`] bumped
/// under the table's lock, so a cached answer read at an unchanged version
/// is the table's, or one a change still in progress has not replaced yet.
#[inline]
pub fn generation(pgmap: usize) -> Option<Gen> {
    if !ANY_TAGGED.load(Ordering::Acquire) {
        return None;
    }
    generation_of_tagged(pgmap)
}

/// [`generation`], for a caller that saw [`any_tagged`] true already (the
/// answer is the same either way: this only skips asking again).
#[inline(always)]
pub fn generation_of_tagged(pgmap: usize) -> Option<Gen> {
    let version = VERSION.load(Ordering::Acquire);
    let (v, p, g) = LAST.with(Cell::get);
    if v == version && p == pgmap {
        return g;
    }
    generation_slow(pgmap)
}

#[cold]
#[inline(never)]
fn generation_slow(pgmap: usize) -> Option<Gen> {
    let t = TAGS.lock().unwrap_or_else(|e| e.into_inner());
    // Under the lock: no change is in progress, so this version and this
    // answer belong together.
    let version = VERSION.load(Ordering::Acquire);
    let g = t.get(&pgmap).map(|t| t.gen);
    LAST.with(|c| c.set((version, pgmap, g)));
    g
}

/// True if `pgmap` was registered for 6.15 or later (its memmap is laid
/// out as those kernels lay it out).
pub fn modern_layout(pgmap: usize) -> bool {
    generation(pgmap).is_some_and(Gen::modern)
}

/// `PG_head` from 6.15 on (6.1 and the seed have it at bit 16).
pub const PG_HEAD_MODERN: u64 = 1 << 6;
/// `PG_large_rmappable` (= `PG_workingset`, bit 9 from 6.15 on), in the
/// first tail's flags.
pub const PG_LARGE_RMAPPABLE: u64 = 1 << 9;
/// The low byte of the flags: the order in a first tail, `PG_head` and
/// the lock bits in every page; what 6.19 clears in each page it reuses.
pub const FLAGS_ORDER_MASK: u64 = 0xff;
/// `TAIL_MAPPING` with x86_64's `POISON_POINTER_DELTA`.
pub const TAIL_MAPPING: usize = 0xdead_0000_0000_0400;
// The 6.15+ folio fields this module writes, as words of `Page` (C asserts
// the same offsets on struct folio in <linux/mm_types.h>): `pgmap` is the
// head's word 1; `_flags_1` the first tail's flags; `_large_mapcount` and
// `_nr_pages_mapped` its word 2, `_entire_mapcount` and `_pincount` its
// mapping, `_mm_id_mapcount` its index, `_mm_ids` its private, `_nr_pages`
// the low half of its memcg word; `_deferred_list` the second tail's word 2
// and mapping.
const_assert_eq!(offset_of!(Page, pgmap_or_compound_head), 8);
const_assert_eq!(size_of::<Page>() + offset_of!(Page, flags), 64);
const_assert_eq!(size_of::<Page>() + offset_of!(Page, zone_device_data), 80);
const_assert_eq!(size_of::<Page>() + offset_of!(Page, mapping), 88);
const_assert_eq!(size_of::<Page>() + offset_of!(Page, index), 96);
const_assert_eq!(size_of::<Page>() + offset_of!(Page, private), 104);
const_assert_eq!(size_of::<Page>() + offset_of!(Page, memcg_data), 120);
const_assert_eq!(
    2 * size_of::<Page>() + offset_of!(Page, zone_device_data),
    144
);
const_assert_eq!(2 * size_of::<Page>() + offset_of!(Page, mapping), 152);

/// The memmap of a compound pgmap (`vmemmap_shift` > 0) registered for
/// 6.15 or later: what `memmap_init_compound()` leaves in the page that is
/// page `i` (> 0) of the folio whose head is at `head_addr`, after the
/// memmap wrote it as a plain tail (`TAIL_MAPPING`, compound head): the
/// first tail carries the folio's fields, the second its deferred list.
pub fn prep_tail_modern(p: &Page, head_addr: usize, i: u64, order: u32) {
    if i == 1 {
        let f1 = p.flags.load(Ordering::Relaxed);
        p.flags
            .store((f1 & !FLAGS_ORDER_MASK) | order as u64, Ordering::Relaxed);
        p.memcg_data.store(1usize << order, Ordering::Relaxed);
        p.zone_device_data.store(0xffff_ffff, Ordering::Relaxed);
        p.mapping.store(0xffff_ffff, Ordering::Relaxed);
        p.index.store(usize::MAX, Ordering::Relaxed);
        p.private.store(0, Ordering::Relaxed);
    } else if i == 2 && order > 1 {
        let list = head_addr + 2 * 64 + 16;
        p.zone_device_data.store(list, Ordering::Relaxed);
        p.mapping.store(list, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generations_from_c() {
        assert_eq!(Gen::from_c(0), None);
        assert_eq!(Gen::from_c(3), Some(Gen::V6_19Rc));
        assert_eq!(Gen::from_c(5), None);
        assert!(!Gen::V6_1.modern() && Gen::V6_15.modern());
        assert!(!Gen::V6_15.folio_free() && Gen::V6_19Rc.folio_free());
    }

    #[test]
    fn tags_replace_and_go() {
        tag(0x7e57_1000, Gen::V6_15, false);
        tag(0x7e57_1000, Gen::V6_19, false);
        assert_eq!(generation(0x7e57_1000), Some(Gen::V6_19));
        untag(0x7e57_1000);
        assert_eq!(generation(0x7e57_1000), None);
    }
}
