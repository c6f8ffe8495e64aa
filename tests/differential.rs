// SPDX-License-Identifier: GPL-2.0-only
//! Differential tests: the seed's own C (c-tests/reference/, linked under
//! `ref_*` names when the `reference` feature is on) against the library,
//! over the same substrate.
//!
//! The engine draws random pgmaps and random operation sequences, runs each
//! scenario twice on the same pfns (once through the library, once through
//! the reference, unmapping in between) and compares, after every step, what
//! came back (a folio as an offset into the pgmap, a word, a bool), every
//! touched folio's refcount, the pgmap's pins, the `page_free()` calls and
//! the WARNs of the step (`WARN_ON_ONCE` sites re-armed before each step).
//!
//! A small model of both sides (the seed's C and the library's contract)
//! classifies every step. On a step of class `Same` the two traces must be
//! equal: any difference is unexplained and fails the campaign, shrunk to a
//! minimal scenario. On a step where the seed's C misbehaves (DESIGN §5,
//! docs/FINDINGS.md) the reference must do exactly what the model of the C
//! says (it really misbehaves) and the library what its contract says (safe
//! and loud); the reference is then brought back to the library's state and
//! the scenario goes on.
//!
//! `make check` runs a fixed-seed campaign; `make fuzz SEED=.. COUNT=..` a
//! long one. The finding tests at the end show each defect on its minimal
//! input.
#![cfg(feature = "reference")]

mod common;

use common::{serial, zeroed, Pgmap};
use core::ffi::{c_int, c_ulong, c_void};
use memremap::ffi::{self, Folio};
use memremap::types::*;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use std::collections::BTreeMap;
use std::ptr::{addr_of_mut, null_mut};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Mutex;

extern "C" {
    fn ref_after_pgmap_request_folio(
        pgmap: *mut DevPagemap,
        pgmap_offset: c_ulong,
        order: c_int,
    ) -> *mut Folio;
    fn ref_after_pfn_to_pgmap_offset(pgmap: *mut DevPagemap, pfn: c_ulong) -> c_ulong;
    fn ref_after_pgmap_offset_to_pfn(pgmap: *mut DevPagemap, pgmap_offset: c_ulong) -> c_ulong;
    fn ref_after_set_tryget_hook(hook: Option<unsafe extern "C" fn(*mut PercpuRef)>);
    fn ref_before_pgmap_request_folios(
        pgmap: *mut DevPagemap,
        folio: *mut Folio,
        nr_folios: c_int,
    ) -> bool;
    fn ref_before_pgmap_release_folios(folio: *mut Folio, nr_folios: c_int);
    fn ref_before_folio_span_valid(
        pgmap: *mut DevPagemap,
        folio: *mut Folio,
        nr_folios: c_int,
    ) -> bool;
}

/// Does the library's pre-patch `pgmap_request_folios()` take a span that
/// crosses from one range into an adjacent one, as the C does? Not yet
/// (src/request.rs `span_valid()`); set this with the fix, which turns
/// [`Class::CrossRanges`] into [`Class::Same`].
const LIB_SPANS_CROSS_RANGES: bool = true;

/// `PFN_PHYS()` keeps the low 52 bits of a pfn or an offset.
const MASK52: u64 = (1 << 52) - 1;
/// Pages in a 2 MiB subsection.
const SUB: u64 = 512;
/// pfns of addressable memory are below this (2^52 bytes).
const PFN_LIMIT: u64 = 1 << 40;
/// -1 as `pgoff_t` / `unsigned long`.
const MINUS_ONE: u64 = u64::MAX;

type Pg = Pgmap<63>;

// ---- page_free() calls ----

static FREED: Mutex<Vec<usize>> = Mutex::new(Vec::new());

unsafe extern "C" fn log_free(page: *mut Page) {
    FREED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(page as usize);
}

fn take_freed() -> Vec<usize> {
    std::mem::take(&mut *FREED.lock().unwrap_or_else(|e| e.into_inner()))
}

static OPS_EMPTY: DevPagemapOps = DevPagemapOps {
    page_free: None,
    migrate_to_ram: None,
    memory_failure: None,
};
static OPS_FREE: DevPagemapOps = DevPagemapOps {
    page_free: Some(log_free),
    migrate_to_ram: None,
    memory_failure: None,
};
static OPS_FULL: DevPagemapOps = DevPagemapOps {
    page_free: Some(log_free),
    migrate_to_ram: Some(common::migrate),
    memory_failure: None,
};
static OWNER: AtomicU32 = AtomicU32::new(0);

// ---- the C entry points, library and reference ----

/// Which implementation a run goes through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Lib,
    Ref,
}

/// One mapped pgmap, driven through one side. Every pointer handed to C is
/// this pgmap (mapped for the whole life of the `Api`) or a page of it.
struct Api {
    side: Side,
    p: *mut DevPagemap,
}

impl Api {
    fn request(&self, off: u64, order: i32) -> *mut Folio {
        match self.side {
            // SAFETY: `p` is a mapped pgmap, alive for the run.
            Side::Lib => unsafe { ffi::pgmap_request_folio(self.p, off, order) },
            // SAFETY: as above; the reference reads only the pgmap and the
            // substrate's pages.
            Side::Ref => unsafe { ref_after_pgmap_request_folio(self.p, off, order) },
        }
    }

    fn pfn_to_offset(&self, pfn: u64) -> u64 {
        match self.side {
            // SAFETY: `p` is a mapped pgmap, alive for the run.
            Side::Lib => unsafe { ffi::pfn_to_pgmap_offset(self.p, pfn) },
            // SAFETY: as above; it reads `nr_range` and `ranges[]`.
            Side::Ref => unsafe { ref_after_pfn_to_pgmap_offset(self.p, pfn) },
        }
    }

    fn offset_to_pfn(&self, off: u64) -> u64 {
        match self.side {
            // SAFETY: `p` is a mapped pgmap, alive for the run.
            Side::Lib => unsafe { ffi::pgmap_offset_to_pfn(self.p, off) },
            // SAFETY: as above; it reads `nr_range` and `ranges[]`.
            Side::Ref => unsafe { ref_after_pgmap_offset_to_pfn(self.p, off) },
        }
    }

    fn request_folios(&self, folio: *mut Folio, nr: i32) -> bool {
        match self.side {
            // SAFETY: `p` is mapped and `folio` is a head page of it.
            Side::Lib => unsafe { ffi::pgmap_request_folios(self.p, folio, nr) },
            // SAFETY: as above; the engine passes only spans of mapped
            // folios, so the C's folio_next() walk stays on pages.
            Side::Ref => unsafe { ref_before_pgmap_request_folios(self.p, folio, nr) },
        }
    }

    fn release_folios(&self, folio: *mut Folio, nr: i32) {
        match self.side {
            // SAFETY: `folio` is a head page of the mapped pgmap.
            Side::Lib => unsafe { ffi::pgmap_release_folios(folio, nr) },
            // SAFETY: as above.
            Side::Ref => unsafe { ref_before_pgmap_release_folios(folio, nr) },
        }
    }

    fn kill(&self) {
        // SAFETY: `p` is a mapped pgmap; its ref is initialised.
        unsafe { ffi::percpu_ref_kill(addr_of_mut!((*self.p).ref_)) }
    }

    fn pins(&self) -> i64 {
        // SAFETY: `p` is a live pgmap struct.
        unsafe { ffi::memremap_pgmap_pins(self.p) }
    }

    fn ref_get(&self, n: u64) {
        // SAFETY: `p` is a mapped pgmap; its ref is initialised.
        unsafe { ffi::percpu_ref_get_many(addr_of_mut!((*self.p).ref_), n) }
    }

    fn ref_put(&self, n: u64) {
        // SAFETY: as in ref_get.
        unsafe { ffi::percpu_ref_put_many(addr_of_mut!((*self.p).ref_), n) }
    }
}

/// The page of a mapped pfn, as a folio pointer.
fn folio_at(pfn: u64) -> *mut Folio {
    ffi::pfn_to_page(pfn) as *mut Folio
}

fn refcount(f: *mut Folio) -> i32 {
    // SAFETY: `f` is a page of the substrate's memmap.
    unsafe { ffi::folio_ref_count(f) }
}

fn put(f: *mut Folio) {
    // SAFETY: `f` is a page of the substrate's memmap.
    unsafe { ffi::folio_put(f) }
}

fn ref_inc(f: *mut Folio) {
    // SAFETY: `f` is a page of the substrate's memmap.
    unsafe { ffi::folio_ref_inc(f) }
}

fn pfn_of(f: *const Folio) -> u64 {
    // SAFETY: `f` is non-null and came from the substrate (a page or its
    // poison page, for which it answers -1).
    unsafe { ffi::page_to_pfn(f as *const Page) }
}

fn warns() -> u64 {
    memremap::warn::count()
}

// ---- layouts ----

/// What a pgmap's `ops` points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum OpsKind {
    Null,
    Empty,
    Free,
    Full,
}

/// A pgmap to build: ranges as (first pfn, pages), in array order.
#[derive(Clone, Debug)]
struct Layout {
    ty: u32,
    ops: OpsKind,
    shift: u32,
    ranges: Vec<(u64, u64)>,
    /// (reserve, free) pfns of an altmap at the start of range 0.
    altmap: Option<(u64, u64)>,
}

impl Layout {
    fn build(&self) -> Box<Pg> {
        let mut p = zeroed::<63>();
        p.pgmap.type_ = self.ty;
        p.pgmap.vmemmap_shift = c_ulong::from(self.shift);
        p.pgmap.ops = match self.ops {
            OpsKind::Null => std::ptr::null(),
            OpsKind::Empty => &OPS_EMPTY,
            OpsKind::Free => &OPS_FREE,
            OpsKind::Full => &OPS_FULL,
        };
        p.pgmap.owner = &OWNER as *const AtomicU32 as *mut c_void;
        p.pgmap.nr_range = self.ranges.len() as c_int;
        for (i, &(start, pages)) in self.ranges.iter().enumerate() {
            let r = Range {
                start: start << PAGE_SHIFT,
                end: ((start + pages) << PAGE_SHIFT) - 1,
            };
            if i == 0 {
                p.pgmap.range = r;
            } else {
                p.more[i - 1] = r;
            }
        }
        if let Some((reserve, free)) = self.altmap {
            p.pgmap.flags = PGMAP_ALTMAP_VALID;
            p.pgmap.altmap.base_pfn = self.ranges[0].0;
            p.pgmap.altmap.end_pfn = self.ranges[0].0 + self.ranges[0].1 - 1;
            p.pgmap.altmap.reserve = reserve;
            p.pgmap.altmap.free = free;
        }
        p
    }
}

/// Raw draws for a layout, made valid by `normalize`. Fixed-size vectors,
/// of which the first `n` count: no flat_map, so that a failing layout
/// shrinks well (to fewer ranges, shorter, closer, in address order).
fn layout_strategy() -> impl Strategy<Value = Layout> {
    (
        (
            prop_oneof![6 => 1usize..=4, 3 => 5usize..=16, 1 => 17usize..=64],
            1u32..=5,
            0u8..4,
            0u32..=9,
        ),
        vec(prop_oneof![8 => 1u64..=4, 1 => 5u64..=(1 << 12)], 64),
        vec(
            prop_oneof![3 => Just(0u64), 4 => 1u64..=4, 1 => 5u64..=(1 << 12)],
            64,
        ),
        vec(any::<u16>(), 64),
        // Near pfn 0, at 1 GiB, in one of 16 windows spread over the pfn
        // space, or at its very top. Few places: the memmap's radix nodes
        // are never freed, so a million scenarios must reuse them.
        prop_oneof![
            Just(0u64),
            Just(SUB),
            (0u64..16, 0u64..4096).prop_map(|(w, k)| (w << 27) + k),
            Just(u64::MAX)
        ],
        proptest::option::weighted(0.5, (any::<u64>(), any::<u64>())),
    )
        .prop_map(|((n, ty, ops, shift), lens, gaps, keys, base, alt)| {
            // Array order: address order sorted by the keys (all 0: the same).
            let mut perm: Vec<usize> = (0..n).collect();
            perm.sort_by_key(|&i| (keys[i], i));
            normalize(ty, ops, shift, &lens[..n], &gaps[..n], base, &perm, alt)
        })
}

/// Lengths and gaps in 2 MiB units, laid out in address order from `base`
/// (clamped below 2^52 bytes), then put in array order by `perm`.
#[allow(clippy::too_many_arguments)]
fn normalize(
    ty: u32,
    ops: u8,
    shift: u32,
    lens: &[u64],
    gaps: &[u64],
    base: u64,
    perm: &[usize],
    alt: Option<(u64, u64)>,
) -> Layout {
    let span: u64 = lens.iter().chain(gaps).sum();
    let mut cursor = base.min(PFN_LIMIT / SUB - span) * SUB;
    let mut by_addr = Vec::with_capacity(lens.len());
    for (len, gap) in lens.iter().zip(gaps) {
        cursor += gap * SUB;
        by_addr.push((cursor, len * SUB));
        cursor += len * SUB;
    }
    let ranges: Vec<(u64, u64)> = perm.iter().map(|&i| by_addr[i]).collect();
    let ops = match (ty, ops) {
        (MEMORY_DEVICE_PRIVATE, _) => OpsKind::Full,
        (MEMORY_DEVICE_COHERENT, 3) => OpsKind::Full,
        (MEMORY_DEVICE_COHERENT, _) => OpsKind::Free,
        (_, 0) => OpsKind::Null,
        (_, 1) => OpsKind::Empty,
        (_, 2) => OpsKind::Free,
        _ => OpsKind::Full,
    };
    let altmap = match alt {
        Some((a, b)) if ranges.len() == 1 => {
            let folios = ranges[0].1 >> shift;
            let total = (a % (folios + 1)) << shift;
            let reserve = b % (total + 1);
            Some((reserve, total - reserve))
        }
        _ => None,
    };
    Layout {
        ty,
        ops,
        shift,
        ranges,
        altmap,
    }
}

// ---- operations ----

/// An offset, chosen relative to the pgmap.
#[derive(Clone, Debug)]
enum OffSel {
    /// The k-th folio head (mod their number).
    Head(u64),
    /// Any offset (mod the pgmap's size).
    Any(u64),
    /// Range r (mod nr_range): its first offset, its last, one past it.
    Edge(u16, u8),
    /// The pgmap's size plus k.
    PastEnd(u64),
    /// `(pgoff_t)-1`.
    MinusOne,
    /// `(m << 52)` plus an offset inside (mod the size).
    Alias(u64, u64),
    /// Anything at or above 2^52.
    Big(u64),
}

/// A pfn, chosen relative to the pgmap.
#[derive(Clone, Debug)]
enum PfnSel {
    Head(u64),
    Any(u64),
    /// Range r (mod nr_range): start - 1, start, end, end + 1.
    Edge(u16, u8),
    /// Any pfn below 2^40 (mostly outside the pgmap).
    Outside(u64),
    /// `(m << 52)` plus a pfn inside.
    Alias(u64, u64),
    /// Anything at or above 2^40.
    Above(u64),
}

#[derive(Clone, Debug)]
enum OrderSel {
    /// The pgmap's `vmemmap_shift`.
    Right,
    Raw(i32),
}

#[derive(Clone, Debug)]
enum Op {
    Request(OffSel, OrderSel),
    /// The callers' idiom: request(pfn_to_pgmap_offset(pfn)).
    RequestPfn(PfnSel, OrderSel),
    /// `folio_put()` of a folio in use (mod their number).
    Put(u64),
    Kill,
    PfnToOffset(PfnSel),
    OffsetToPfn(OffSel),
    /// Pre-patch: request `nr` folios from the k-th head.
    RequestFolios(u64, i32),
    /// Pre-patch: release `nr` folios from a folio in use.
    ReleaseFolios(u64, i32),
}

fn off_sel() -> impl Strategy<Value = OffSel> {
    prop_oneof![
        4 => any::<u64>().prop_map(OffSel::Head),
        2 => any::<u64>().prop_map(OffSel::Any),
        2 => (any::<u16>(), 0u8..3).prop_map(|(r, e)| OffSel::Edge(r, e)),
        1 => (0u64..4).prop_map(OffSel::PastEnd),
        1 => Just(OffSel::MinusOne),
        1 => (1u64..4096, any::<u64>()).prop_map(|(m, k)| OffSel::Alias(m, k)),
        1 => ((1u64 << 52)..=u64::MAX).prop_map(OffSel::Big),
    ]
}

fn pfn_sel() -> impl Strategy<Value = PfnSel> {
    prop_oneof![
        3 => any::<u64>().prop_map(PfnSel::Head),
        2 => any::<u64>().prop_map(PfnSel::Any),
        3 => (any::<u16>(), 0u8..4).prop_map(|(r, e)| PfnSel::Edge(r, e)),
        1 => (0u64..PFN_LIMIT).prop_map(PfnSel::Outside),
        2 => (1u64..4096, any::<u64>()).prop_map(|(m, k)| PfnSel::Alias(m, k)),
        1 => (PFN_LIMIT..=u64::MAX).prop_map(PfnSel::Above),
    ]
}

fn order_sel() -> impl Strategy<Value = OrderSel> {
    prop_oneof![
        6 => Just(OrderSel::Right),
        2 => (0i32..=10).prop_map(OrderSel::Raw),
        1 => prop_oneof![Just(-1), Just(i32::MIN), Just(i32::MAX), Just(256)]
            .prop_map(OrderSel::Raw),
    ]
}

fn nr_sel() -> impl Strategy<Value = i32> {
    prop_oneof![8 => 1i32..=6, 1 => -3i32..=0]
}

fn op_strategy() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (off_sel(), order_sel()).prop_map(|(o, r)| Op::Request(o, r)),
        2 => (pfn_sel(), order_sel()).prop_map(|(p, r)| Op::RequestPfn(p, r)),
        5 => any::<u64>().prop_map(Op::Put),
        1 => Just(Op::Kill),
        3 => pfn_sel().prop_map(Op::PfnToOffset),
        3 => off_sel().prop_map(Op::OffsetToPfn),
        2 => (any::<u64>(), nr_sel()).prop_map(|(k, n)| Op::RequestFolios(k, n)),
        2 => (any::<u64>(), nr_sel()).prop_map(|(k, n)| Op::ReleaseFolios(k, n)),
    ]
}

/// A scenario: a pgmap and what is done to it.
#[derive(Clone, Debug)]
struct Scenario {
    layout: Layout,
    ops: Vec<Op>,
}

/// Operations first: proptest shrinks a tuple's members in order, so a
/// failure loses the operations it does not need before its layout shrinks.
fn scenario_strategy() -> impl Strategy<Value = Scenario> {
    (vec(op_strategy(), 1..=24), layout_strategy())
        .prop_map(|(ops, layout)| Scenario { layout, ops })
}

/// An operation resolved against the pgmap: offsets and pfns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Conc {
    Request(u64, i32),
    RequestPfn(u64, i32),
    Put(u64),
    Kill,
    PfnToOffset(u64),
    OffsetToPfn(u64),
    RequestFolios(u64, i32),
    ReleaseFolios(u64, i32),
    /// Nothing to act on (a pgmap with no folio at all).
    Nop,
}

// ---- the model ----

/// Why the seed's C and the library may differ on a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Class {
    /// They must agree exactly.
    Same,
    /// An offset past the end: the C does `pfn_to_page(-1)`.
    PastEnd,
    /// `(pgoff_t)-1` passed in (pfn_to_pgmap_offset()'s failure value).
    MinusOne,
    /// An offset at or above 2^52 that `PFN_PHYS()` wraps into the pgmap.
    Alias,
    /// A pfn at or above 2^52 that `PFN_PHYS()` wraps into the pgmap.
    AliasPfn,
    /// A translation on a dying pgmap: the C translates, the library WARNs.
    Dying,
    /// Pre-patch: `nr_folios <= 0`: the C says yes having done nothing.
    NonPositive,
    /// Pre-patch: `pgmap_release_folios()` with 3 or more folios.
    ReleaseLoop,
    /// Ours, not the patch's: a pre-patch span that runs from one range of
    /// the pgmap into the next, adjacent, one. The C takes it (its folios
    /// are all the pgmap's); the library refuses it with a WARN (its
    /// `span_valid()` wants one range), until [`LIB_SPANS_CROSS_RANGES`].
    CrossRanges,
    /// Ours, not the patch's: the C's loops compute `folio_next()` one past
    /// the span; the substrate's `folio_next()` goes through
    /// `pfn_to_page()`, which WARNs when no pgmap maps that pfn (the
    /// kernel's is pointer arithmetic).
    NextPastSpan,
}

/// The state a step can change.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct World {
    /// Folio refcounts by head offset (absent: 0).
    counts: BTreeMap<u64, i32>,
    pins: i64,
    dying: bool,
    /// The ref reached zero after the kill (its release ran).
    released: bool,
}

/// What a call returned.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Ret {
    #[default]
    Unit,
    /// A folio, as its offset in the pgmap; None for NULL.
    Folio(Option<u64>),
    /// A folio that is no page of this pgmap.
    Foreign(u64),
    Word(u64),
    Bool(bool),
}

/// What one step did, as compared between sides.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Obs {
    ret: Ret,
    warns: u64,
    /// `page_free()` calls, as offsets, in call order.
    freed: Vec<u64>,
    /// Refcounts of every folio the scenario touches, by offset.
    counts: Vec<(u64, i32)>,
    pins: i64,
}

/// The pgmap as the model sees it; everything in pfns.
struct Model {
    l: Layout,
    /// First offset of each range, array order.
    prefix: Vec<u64>,
    total: u64,
    reserved: u64,
    /// Folio heads per range, and their prefix sums.
    heads: Vec<u64>,
    nheads: u64,
}

impl Model {
    fn new(l: &Layout) -> Self {
        let reserved = l.altmap.map_or(0, |(r, f)| r + f);
        let mut prefix = Vec::new();
        let mut heads = Vec::new();
        let mut total = 0;
        for (i, &(_, pages)) in l.ranges.iter().enumerate() {
            prefix.push(total);
            total += pages;
            let usable = pages - if i == 0 { reserved } else { 0 };
            heads.push(usable >> l.shift);
        }
        let nheads = heads.iter().sum();
        Model {
            l: l.clone(),
            prefix,
            total,
            reserved,
            heads,
            nheads,
        }
    }

    fn fsize(&self) -> u64 {
        1 << self.l.shift
    }

    fn o2p(&self, o: u64) -> Option<u64> {
        self.l
            .ranges
            .iter()
            .zip(&self.prefix)
            .find(|(&(_, pages), &pre)| o >= pre && o - pre < pages)
            .map(|(&(start, _), &pre)| start + (o - pre))
    }

    fn range_of(&self, pfn: u64) -> Option<usize> {
        self.l
            .ranges
            .iter()
            .position(|&(start, pages)| pfn >= start && pfn - start < pages)
    }

    fn p2o(&self, pfn: u64) -> Option<u64> {
        let r = self.range_of(pfn)?;
        Some(self.prefix[r] + pfn - self.l.ranges[r].0)
    }

    /// Does a pgmap (this one: the engine maps no other) map `pfn`?
    fn mapped(&self, pfn: u64) -> bool {
        self.range_of(pfn).is_some()
    }

    fn first_usable(&self, r: usize) -> u64 {
        self.l.ranges[r].0 + if r == 0 { self.reserved } else { 0 }
    }

    /// Is `pfn` a folio head of this pgmap (not altmap, not a tail)?
    fn is_head(&self, pfn: u64) -> bool {
        let Some(r) = self.range_of(pfn) else {
            return false;
        };
        let first = self.first_usable(r);
        pfn >= first && (pfn - first) % self.fsize() == 0
    }

    /// The offset of the k-th folio head (mod their number).
    fn head(&self, k: u64) -> Option<u64> {
        if self.nheads == 0 {
            return None;
        }
        let mut k = k % self.nheads;
        for (r, &n) in self.heads.iter().enumerate() {
            if k < n {
                let pfn = self.first_usable(r) + (k << self.l.shift);
                return self.p2o(pfn);
            }
            k -= n;
        }
        None
    }

    /// Folio heads of this pgmap that follow each other from `pfn` (at
    /// most 8): how long a span of mapped folios can be.
    fn run_len(&self, pfn: u64) -> i32 {
        let mut n = 0;
        while n < 8 && self.is_head(pfn + n as u64 * self.fsize()) {
            n += 1;
        }
        n
    }

    /// Does a span of `nr` folios from offset `o` leave its first range?
    fn crosses(&self, o: u64, nr: i32) -> bool {
        let p = self.pfn_at(o);
        !LIB_SPANS_CROSS_RANGES
            && nr >= 2
            && self.range_of(p) != self.range_of(p + (nr as u64 - 1) * self.fsize())
    }

    fn has_page_free(&self) -> bool {
        matches!(self.l.ops, OpsKind::Free | OpsKind::Full)
    }

    fn off(&self, s: &OffSel) -> u64 {
        let t = self.total;
        match *s {
            OffSel::Head(k) => self.head(k).unwrap_or(k % t),
            OffSel::Any(k) => k % t,
            OffSel::Edge(r, e) => {
                let r = r as usize % self.l.ranges.len();
                let (pre, pages) = (self.prefix[r], self.l.ranges[r].1);
                match e {
                    0 => pre,
                    1 => pre + pages - 1,
                    _ => pre + pages,
                }
            }
            OffSel::PastEnd(k) => t + k,
            OffSel::MinusOne => MINUS_ONE,
            OffSel::Alias(m, k) => (m << 52) + k % t,
            OffSel::Big(x) => x,
        }
    }

    fn pfn(&self, s: &PfnSel) -> u64 {
        let inside = |k: u64| self.o2p(k % self.total).unwrap_or(0);
        match *s {
            PfnSel::Head(k) => self.head(k).and_then(|o| self.o2p(o)).unwrap_or(0),
            PfnSel::Any(k) => inside(k),
            PfnSel::Edge(r, e) => {
                let (start, pages) = self.l.ranges[r as usize % self.l.ranges.len()];
                match e {
                    0 => start.wrapping_sub(1),
                    1 => start,
                    2 => start + pages - 1,
                    _ => start + pages,
                }
            }
            PfnSel::Outside(x) => x % PFN_LIMIT,
            PfnSel::Alias(m, k) => (m << 52) + inside(k),
            PfnSel::Above(x) => x.max(PFN_LIMIT),
        }
    }

    fn order(&self, s: &OrderSel) -> i32 {
        match *s {
            OrderSel::Right => self.l.shift as i32,
            OrderSel::Raw(o) => o,
        }
    }

    /// Clamp a positive span length to the mapped folios from `pfn`.
    fn span(&self, pfn: u64, nr: i32) -> i32 {
        if nr <= 0 {
            nr
        } else {
            nr.min(self.run_len(pfn))
        }
    }

    fn resolve(&self, op: &Op, w: &World) -> Conc {
        let active: Vec<u64> = w
            .counts
            .iter()
            .filter(|(_, &c)| c > 0)
            .map(|(&o, _)| o)
            .collect();
        match op {
            Op::Request(o, r) => Conc::Request(self.off(o), self.order(r)),
            Op::RequestPfn(p, r) => Conc::RequestPfn(self.pfn(p), self.order(r)),
            Op::Put(k) => {
                let all: Vec<u64> = w.counts.keys().copied().collect();
                let from = if active.is_empty() { &all } else { &active };
                match from.len() {
                    0 => Conc::Nop,
                    n => Conc::Put(from[(k % n as u64) as usize]),
                }
            }
            Op::Kill => Conc::Kill,
            Op::PfnToOffset(p) => Conc::PfnToOffset(self.pfn(p)),
            Op::OffsetToPfn(o) => Conc::OffsetToPfn(self.off(o)),
            Op::RequestFolios(k, nr) => match self.head(*k) {
                Some(o) => Conc::RequestFolios(o, self.span(self.pfn_at(o), *nr)),
                None => Conc::Nop,
            },
            Op::ReleaseFolios(k, nr) => {
                let start = match active.len() {
                    0 => self.head(*k),
                    n => Some(active[(k % n as u64) as usize]),
                };
                match start {
                    Some(o) => Conc::ReleaseFolios(o, self.span(self.pfn_at(o), *nr)),
                    None => Conc::Nop,
                }
            }
        }
    }

    /// The pfn of an offset inside the pgmap.
    fn pfn_at(&self, o: u64) -> u64 {
        self.o2p(o).unwrap_or(MINUS_ONE)
    }

    fn classify(&self, op: &Conc, w: &World) -> Class {
        let t = self.total;
        let pfn_class = |pfn: u64| {
            if self.p2o(pfn) != self.p2o(pfn & MASK52) {
                Class::AliasPfn
            } else {
                Class::Same
            }
        };
        let next_unmapped = |pfn: u64, n: i32| !self.mapped(pfn + n as u64 * self.fsize());
        match *op {
            Conc::Request(o, _) if o < t => Class::Same,
            Conc::Request(MINUS_ONE, _) => Class::MinusOne,
            Conc::Request(o, _) if o & MASK52 < t => Class::Alias,
            Conc::Request(..) => Class::PastEnd,
            Conc::RequestPfn(..) if w.dying => Class::Dying,
            Conc::RequestPfn(pfn, _) => match pfn_class(pfn) {
                Class::Same if self.p2o(pfn).is_none() => Class::MinusOne,
                c => c,
            },
            Conc::PfnToOffset(_) | Conc::OffsetToPfn(_) if w.dying => Class::Dying,
            Conc::PfnToOffset(pfn) => pfn_class(pfn),
            Conc::OffsetToPfn(o) if o >= t && o & MASK52 < t => Class::Alias,
            Conc::RequestFolios(_, nr) if nr <= 0 => Class::NonPositive,
            Conc::RequestFolios(o, nr) if self.crosses(o, nr) => Class::CrossRanges,
            Conc::RequestFolios(o, nr) => {
                let p = self.pfn_at(o);
                if !w.dying && ((nr == 1 && next_unmapped(p, 1)) || next_unmapped(p, nr)) {
                    Class::NextPastSpan
                } else {
                    Class::Same
                }
            }
            Conc::ReleaseFolios(_, nr) if nr >= 3 => Class::ReleaseLoop,
            Conc::ReleaseFolios(o, 1) if next_unmapped(self.pfn_at(o), 1) => Class::NextPastSpan,
            _ => Class::Same,
        }
    }

    // -- effects shared by both sides: the substrate's own functions --

    /// `folio_put()`.
    fn put(&self, w: &mut World, o: u64, obs: &mut Obs) {
        let c = w.counts.entry(o).or_insert(0);
        if *c <= 0 {
            obs.warns += 1;
            return;
        }
        *c -= 1;
        if *c == 0 {
            if self.has_page_free() {
                obs.freed.push(o);
            }
            w.pins -= 1;
            if w.dying && w.pins == 0 {
                w.released = true;
            }
        }
    }

    /// A reference on a folio of a live pgmap; the 0 -> 1 step pins it.
    fn activate(&self, w: &mut World, o: u64) {
        let c = w.counts.entry(o).or_insert(0);
        *c += 1;
        if *c == 1 {
            w.pins += 1;
        }
    }

    fn kill(&self, w: &mut World, obs: &mut Obs) {
        if w.dying {
            obs.warns += 1;
            return;
        }
        w.dying = true;
        if w.pins == 0 {
            w.released = true;
        }
    }

    /// `pgmap_request_folio()` at an offset inside the pgmap (both sides).
    fn request_inside(&self, w: &mut World, o: u64, order: i32, obs: &mut Obs) -> Ret {
        let pfn = self.pfn_at(o);
        if !self.is_head(pfn) || w.dying || order != self.l.shift as i32 {
            obs.warns += 1;
            return Ret::Folio(None);
        }
        self.activate(w, o);
        Ret::Folio(Some(o))
    }

    // -- the library's contract --

    fn lib_request(&self, w: &mut World, o: u64, order: i32, obs: &mut Obs) -> Ret {
        if o >= self.total {
            obs.warns += 1;
            return Ret::Folio(None);
        }
        self.request_inside(w, o, order, obs)
    }

    fn lib_p2o(&self, w: &World, pfn: u64, obs: &mut Obs) -> u64 {
        if w.dying {
            obs.warns += 1;
            return MINUS_ONE;
        }
        self.p2o(pfn).unwrap_or(MINUS_ONE)
    }

    fn lib_o2p(&self, w: &World, o: u64, obs: &mut Obs) -> u64 {
        if w.dying {
            obs.warns += 1;
            return MINUS_ONE;
        }
        self.o2p(o).unwrap_or(MINUS_ONE)
    }

    fn lib_step(&self, op: &Conc, w: &mut World) -> Obs {
        let mut obs = Obs::default();
        let s = self.fsize();
        obs.ret = match *op {
            Conc::Request(o, order) => self.lib_request(w, o, order, &mut obs),
            Conc::RequestPfn(pfn, order) => {
                let o = self.lib_p2o(w, pfn, &mut obs);
                self.lib_request(w, o, order, &mut obs)
            }
            Conc::Put(o) => {
                self.put(w, o, &mut obs);
                Ret::Unit
            }
            Conc::Kill => {
                self.kill(w, &mut obs);
                Ret::Unit
            }
            Conc::PfnToOffset(pfn) => Ret::Word(self.lib_p2o(w, pfn, &mut obs)),
            Conc::OffsetToPfn(o) => Ret::Word(self.lib_o2p(w, o, &mut obs)),
            Conc::RequestFolios(o, nr) => {
                let p = self.pfn_at(o);
                if nr <= 0 || self.run_len(p) < nr || self.crosses(o, nr) || w.dying {
                    obs.warns += 1;
                    Ret::Bool(false)
                } else {
                    for i in 0..nr as u64 {
                        let oi = self.p2o(p + i * s).unwrap_or(MINUS_ONE);
                        self.activate(w, oi);
                    }
                    Ret::Bool(true)
                }
            }
            Conc::ReleaseFolios(o, nr) => {
                let p = self.pfn_at(o);
                for i in 0..nr.max(0) as u64 {
                    let oi = self.p2o(p + i * s).unwrap_or(MINUS_ONE);
                    self.put(w, oi, &mut obs);
                }
                Ret::Unit
            }
            Conc::Nop => Ret::Unit,
        };
        obs
    }

    // -- the seed's C --

    fn c_request(&self, w: &mut World, o: u64, order: i32, obs: &mut Obs) -> Ret {
        let o = o & MASK52;
        if o >= self.total {
            // pfn_to_page(-1): the substrate's WARN, then the seed's
            // WARN_ON_ONCE(page->pgmap != pgmap).
            obs.warns += 2;
            return Ret::Folio(None);
        }
        self.request_inside(w, o, order, obs)
    }

    fn c_p2o(&self, pfn: u64) -> u64 {
        self.p2o(pfn & MASK52).unwrap_or(MINUS_ONE)
    }

    fn c_o2p(&self, o: u64) -> u64 {
        self.o2p(o & MASK52).unwrap_or(MINUS_ONE)
    }

    /// `folio_next()` of the folio at `pfn`, in the C's loops.
    fn c_next(&self, pfn: u64, obs: &mut Obs) {
        if !self.mapped(pfn + self.fsize()) {
            obs.warns += 1;
        }
    }

    fn c_step(&self, op: &Conc, w: &mut World) -> Obs {
        let mut obs = Obs::default();
        let s = self.fsize();
        obs.ret = match *op {
            Conc::Request(o, order) => self.c_request(w, o, order, &mut obs),
            Conc::RequestPfn(pfn, order) => self.c_request(w, self.c_p2o(pfn), order, &mut obs),
            Conc::Put(o) => {
                self.put(w, o, &mut obs);
                Ret::Unit
            }
            Conc::Kill => {
                self.kill(w, &mut obs);
                Ret::Unit
            }
            Conc::PfnToOffset(pfn) => Ret::Word(self.c_p2o(pfn)),
            Conc::OffsetToPfn(o) => Ret::Word(self.c_o2p(o)),
            Conc::RequestFolios(o, nr) => {
                let p = self.pfn_at(o);
                // VM_WARN_ON_ONCE(!folio_span_valid(...)): the ends only.
                let delta = (s as i32).wrapping_mul(nr).wrapping_sub(1);
                let end = p.wrapping_add(delta as i64 as u64);
                if !self.mapped(p) || (end > p && !self.mapped(end)) {
                    obs.warns += 1;
                }
                if w.dying {
                    obs.warns += 1;
                    Ret::Bool(false)
                } else {
                    // The order loop computes folio_next(folio) max(nr, 1)
                    // times; the spans drawn are uniform, so it passes.
                    for _ in 0..nr.max(1) {
                        self.c_next(p, &mut obs);
                    }
                    for i in 0..nr.max(0) as u64 {
                        let pi = p + i * s;
                        self.activate(w, self.p2o(pi).unwrap_or(MINUS_ONE));
                        self.c_next(pi, &mut obs);
                    }
                    Ret::Bool(true)
                }
            }
            Conc::ReleaseFolios(o, nr) => {
                let p = self.pfn_at(o);
                let second = self.p2o(p + s).unwrap_or(MINUS_ONE);
                for i in 0..nr.max(0) {
                    self.put(w, if i == 0 { o } else { second }, &mut obs);
                    self.c_next(p, &mut obs);
                }
                Ret::Unit
            }
            Conc::Nop => Ret::Unit,
        };
        obs
    }
}

/// One step as planned by the model.
#[derive(Debug)]
struct Planned {
    op: Conc,
    class: Class,
    lib: Obs,
    c: Obs,
    /// The library's state after the step, which the reference is brought
    /// back to after a step where it misbehaved.
    after: World,
}

/// The scenario as the model runs it: every step, and every folio touched.
struct Plan {
    steps: Vec<Planned>,
    touched: Vec<u64>,
}

fn snapshot(w: &World, touched: &[u64]) -> Vec<(u64, i32)> {
    touched
        .iter()
        .map(|o| (*o, w.counts.get(o).copied().unwrap_or(0)))
        .collect()
}

fn plan(m: &Model, ops: &[Op]) -> Result<Plan, TestCaseError> {
    let mut w = World::default();
    let mut raw = Vec::new();
    let mut touched = std::collections::BTreeSet::new();
    for op in ops {
        let op = m.resolve(op, &w);
        let class = m.classify(&op, &w);
        let (mut lw, mut cw) = (w.clone(), w.clone());
        let lib = m.lib_step(&op, &mut lw);
        let c = m.c_step(&op, &mut cw);
        if class == Class::Same {
            prop_assert_eq!(
                (&lib, &lw),
                (&c, &cw),
                "model bug: step {:?} is unclassified but the models differ",
                op
            );
        }
        touched.extend(lw.counts.keys().chain(cw.counts.keys()).copied());
        let stop = cw.released && !lw.released;
        raw.push((op, class, lib, lw.clone(), c, cw));
        w = lw;
        if stop {
            // The reference dropped the last pin of a dying pgmap that the
            // library still holds: its release ran and cannot be undone,
            // so the scenario ends at this (checked) step.
            break;
        }
    }
    let touched: Vec<u64> = touched.into_iter().collect();
    let steps = raw
        .into_iter()
        .map(|(op, class, mut lib, lw, mut c, cw)| {
            lib.counts = snapshot(&lw, &touched);
            lib.pins = lw.pins;
            c.counts = snapshot(&cw, &touched);
            c.pins = cw.pins;
            Planned {
                op,
                class,
                lib,
                c,
                after: lw,
            }
        })
        .collect();
    Ok(Plan { steps, touched })
}

// ---- running a scenario ----

impl Api {
    fn folio(&self, m: &Model, o: u64) -> *mut Folio {
        folio_at(m.pfn_at(o))
    }

    fn ret_folio(&self, m: &Model, f: *mut Folio) -> Ret {
        if f.is_null() {
            return Ret::Folio(None);
        }
        let pfn = pfn_of(f);
        match m.p2o(pfn) {
            Some(o) if m.is_head(pfn) => Ret::Folio(Some(o)),
            _ => Ret::Foreign(pfn),
        }
    }

    fn observe(&self, m: &Model, touched: &[u64]) -> (Vec<(u64, i32)>, i64) {
        let counts = touched
            .iter()
            .map(|&o| (o, refcount(self.folio(m, o))))
            .collect();
        (counts, self.pins())
    }

    fn step(&self, m: &Model, op: &Conc, touched: &[u64]) -> Obs {
        // Pointers first: pfn_to_page() of a mapped pfn never WARNs.
        let (f, nr) = match *op {
            Conc::Put(o) => (self.folio(m, o), 0),
            Conc::RequestFolios(o, nr) | Conc::ReleaseFolios(o, nr) => (self.folio(m, o), nr),
            _ => (null_mut(), 0),
        };
        take_freed();
        memremap::warn::rearm();
        let w0 = warns();
        // A folio is turned into an offset only once the WARNs are counted.
        let (ret, folio) = match *op {
            Conc::Request(o, order) => (Ret::Unit, self.request(o, order)),
            Conc::RequestPfn(pfn, order) => {
                (Ret::Unit, self.request(self.pfn_to_offset(pfn), order))
            }
            Conc::Put(_) => {
                put(f);
                (Ret::Unit, null_mut())
            }
            Conc::Kill => {
                self.kill();
                (Ret::Unit, null_mut())
            }
            Conc::PfnToOffset(pfn) => (Ret::Word(self.pfn_to_offset(pfn)), null_mut()),
            Conc::OffsetToPfn(o) => (Ret::Word(self.offset_to_pfn(o)), null_mut()),
            Conc::RequestFolios(..) => (Ret::Bool(self.request_folios(f, nr)), null_mut()),
            Conc::ReleaseFolios(..) => {
                self.release_folios(f, nr);
                (Ret::Unit, null_mut())
            }
            Conc::Nop => (Ret::Unit, null_mut()),
        };
        let warns = warns() - w0;
        let freed = take_freed()
            .into_iter()
            .map(|p| m.p2o(pfn_of(p as *const Folio)).unwrap_or(MINUS_ONE))
            .collect();
        let ret = match op {
            Conc::Request(..) | Conc::RequestPfn(..) => self.ret_folio(m, folio),
            _ => ret,
        };
        let (counts, pins) = self.observe(m, touched);
        Obs {
            ret,
            warns,
            freed,
            counts,
            pins,
        }
    }

    /// Bring the pgmap to `want` with the substrate's own calls.
    fn resync(&self, m: &Model, want: &World, touched: &[u64]) -> Result<(), TestCaseError> {
        for &o in touched {
            let f = self.folio(m, o);
            let target = want.counts.get(&o).copied().unwrap_or(0);
            let mut now = refcount(f);
            while now > target {
                put(f);
                now -= 1;
            }
            if now < target && now == 0 {
                self.ref_get(1);
            }
            while now < target {
                ref_inc(f);
                now += 1;
            }
        }
        take_freed();
        let (counts, pins) = self.observe(m, touched);
        prop_assert_eq!(
            (counts, pins),
            (snapshot(want, touched), want.pins),
            "engine bug: the reference could not be brought back to the library's state"
        );
        Ok(())
    }

    /// Put every folio back, check the pins are gone, unmap.
    fn finish(&self, m: &Model, touched: &[u64]) -> Result<(), String> {
        for &o in touched {
            let f = self.folio(m, o);
            while refcount(f) > 0 {
                put(f);
            }
        }
        take_freed();
        let pins = self.pins();
        if pins > 0 {
            self.ref_put(pins as u64);
        } else if pins < 0 {
            self.ref_get(pins.unsigned_abs());
        }
        // SAFETY: `p` is a live, mapped pgmap struct.
        unsafe { ffi::memunmap_pages(self.p) };
        // SAFETY: as above.
        if unsafe { ffi::memremap_pgmap_is_mapped(self.p) } {
            return Err(format!("{:?}: the pgmap could not be unmapped", self.side));
        }
        if pins != 0 {
            return Err(format!(
                "{:?}: {pins} pins left once every folio was put",
                self.side
            ));
        }
        Ok(())
    }
}

/// Run the plan through one side; the reference is resynced after every
/// step where it is expected to misbehave.
fn run(m: &Model, plan: &Plan, side: Side) -> Result<Vec<Obs>, TestCaseError> {
    let mut p = m.l.build();
    let rc = common::try_map(&mut p);
    prop_assert_eq!(rc, 0, "memremap_pages() refused a drawn layout");
    let api = Api {
        side,
        p: &mut p.pgmap,
    };
    let mut out = Vec::with_capacity(plan.steps.len());
    // Touching each folio once creates its memmap before the first step.
    api.observe(m, &plan.touched);
    let mut result = Ok(());
    for s in &plan.steps {
        out.push(api.step(m, &s.op, &plan.touched));
        if side == Side::Ref && s.class != Class::Same {
            if let Err(e) = api.resync(m, &s.after, &plan.touched) {
                result = Err(e);
                break;
            }
        }
    }
    let finished = api.finish(m, &plan.touched);
    if finished.is_err() {
        // Still registered: its memory must outlive the process.
        std::mem::forget(p);
    }
    result?;
    finished.map_err(TestCaseError::fail)?;
    Ok(out)
}

/// Classes seen by the campaign, for its coverage check.
static SEEN: Mutex<BTreeMap<Class, u64>> = Mutex::new(BTreeMap::new());

/// What the campaign's agreeing steps did, for its coverage check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Event {
    /// A request returned a folio.
    Granted,
    /// A pre-patch request took a span.
    SpanGranted,
    /// A translation found its pfn or offset.
    Translated,
    /// A step freed folios back to the driver.
    Freed,
}

static EVENTS: Mutex<BTreeMap<Event, u64>> = Mutex::new(BTreeMap::new());

/// Scenarios checked so far, and whether to say so every 100,000 (fuzz).
static CHECKED: AtomicU64 = AtomicU64::new(0);
static PROGRESS: AtomicBool = AtomicBool::new(false);

/// One scenario: plan, run both sides, compare.
fn check(sc: &Scenario) -> Result<(), TestCaseError> {
    let n = CHECKED.fetch_add(1, Ordering::Relaxed) + 1;
    if PROGRESS.load(Ordering::Relaxed) && n % 100_000 == 0 {
        eprintln!("differential fuzz: {n} scenarios checked");
    }
    let m = Model::new(&sc.layout);
    let plan = plan(&m, &sc.ops)?;
    let lib = run(&m, &plan, Side::Lib)?;
    let refc = run(&m, &plan, Side::Ref)?;
    let start = Obs {
        counts: snapshot(&World::default(), &plan.touched),
        ..Obs::default()
    };
    for (k, s) in plan.steps.iter().enumerate() {
        let at = format!("step {k}: {:?} (class {:?})", s.op, s.class);
        if s.class == Class::Same {
            prop_assert_eq!(
                &lib[k],
                &refc[k],
                "unexplained difference, library vs reference, at {}",
                at
            );
        }
        prop_assert_eq!(&lib[k], &s.lib, "the library breaks its contract at {}", at);
        prop_assert_eq!(
            &refc[k],
            &s.c,
            "the reference is not the seed's C as modelled at {}",
            at
        );
        let before = match k {
            0 => &start,
            _ => &lib[k - 1],
        };
        library_is_safe(s.class, &s.op, &lib[k], before)
            .map_err(|e| TestCaseError::fail(format!("{e} at {at}")))?;
    }
    let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
    let mut events = EVENTS.lock().unwrap_or_else(|e| e.into_inner());
    for s in &plan.steps {
        *seen.entry(s.class).or_insert(0) += 1;
        let event = match (s.class, s.lib.ret) {
            (Class::Same, Ret::Folio(Some(_))) => Some(Event::Granted),
            (Class::Same, Ret::Bool(true)) => Some(Event::SpanGranted),
            (Class::Same, Ret::Word(w)) if w != MINUS_ONE => Some(Event::Translated),
            _ => None,
        };
        if let Some(e) = event {
            *events.entry(e).or_insert(0) += 1;
        }
        if s.class == Class::Same && !s.lib.freed.is_empty() {
            *events.entry(Event::Freed).or_insert(0) += 1;
        }
    }
    Ok(())
}

/// Where the seed's C misbehaves, the library refuses: no folio, no count
/// moved, no page freed, a WARN; translations answer -1 (with a WARN when
/// the pgmap is dying). Where the C's pre-patch loops go wrong (or the
/// substrate's folio_next() is loud), the library does what its contract
/// says, which the model check covers.
fn library_is_safe(class: Class, op: &Conc, obs: &Obs, before: &Obs) -> Result<(), String> {
    let unchanged = obs.counts == before.counts && obs.pins == before.pins && obs.freed.is_empty();
    let safe = match (class, op) {
        (Class::Same | Class::ReleaseLoop | Class::NextPastSpan, _) => true,
        (_, Conc::PfnToOffset(_) | Conc::OffsetToPfn(_)) => {
            obs.ret == Ret::Word(MINUS_ONE)
                && unchanged
                && (obs.warns >= 1) == (class == Class::Dying)
        }
        _ => matches!(obs.ret, Ret::Folio(None) | Ret::Bool(false)) && obs.warns >= 1 && unchanged,
    };
    if safe {
        Ok(())
    } else {
        Err(format!("the library is not safe and loud here: {obs:?}"))
    }
}

fn run_campaign(seed: u64, cases: u32) -> Result<(), String> {
    // XorShift: ChaCha, unoptimized as tests are built, would take most of
    // the campaign's time.
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    bytes[8..].copy_from_slice(&(!seed).to_le_bytes());
    let config = Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: 8192,
        ..Config::default()
    };
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::XorShift, &bytes));
    memremap::warn::set_quiet(true);
    ffi::memremap_set_wait_bound_ms(1000);
    let r = runner.run(&scenario_strategy(), |sc| check(&sc));
    ffi::memremap_set_wait_bound_ms(10_000);
    memremap::warn::set_quiet(false);
    match r {
        Ok(()) => Ok(()),
        Err(TestError::Fail(why, sc)) => Err(format!(
            "differential campaign failed (replay: make fuzz SEED={seed} COUNT={cases})\n\
             {why}\nminimal scenario:\n{sc:#?}"
        )),
        Err(TestError::Abort(why)) => Err(format!("campaign aborted (seed {seed}): {why}")),
    }
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| {
        let v = v.trim();
        v.strip_prefix("0x")
            .map_or_else(|| v.parse().ok(), |h| u64::from_str_radix(h, 16).ok())
    })
}

/// A step after which the reference has released a dying pgmap the library
/// still holds cannot be undone: the scenario is checked up to that step,
/// and both runs still end clean.
#[test]
fn engine_stops_where_the_reference_cannot_come_back() {
    let _s = serial();
    let _q = Quiet::new();
    let layout = Layout {
        ty: MEMORY_DEVICE_GENERIC,
        ops: OpsKind::Free,
        shift: 0,
        ranges: vec![(GIB_PFN, SUB)],
        altmap: None,
    };
    let req = |k| Op::Request(OffSel::Head(k), OrderSel::Right);
    // Folio 0 held once, folio 1 twice; the C's release of 3 folios puts
    // folio 0 once and folio 1 twice: the last pin goes while dying.
    let ops = vec![
        req(0),
        req(1),
        req(1),
        Op::Kill,
        Op::ReleaseFolios(0, 3),
        req(2),
    ];
    let m = Model::new(&layout);
    let p = plan(&m, &ops).expect("a plan");
    assert_eq!(p.steps.len(), 5);
    assert_eq!(p.steps[4].op, Conc::ReleaseFolios(0, 3));
    assert_eq!(p.steps[4].class, Class::ReleaseLoop);
    check(&Scenario { layout, ops }).expect("checked up to the step");
}

/// The `make check` campaign: a fixed seed, 10,000 scenarios.
#[test]
fn campaign() {
    let _s = serial();
    let seed = env_u64("DIFF_SEED").unwrap_or(0x6d65_6d72_656d_6170);
    let cases = env_u64("DIFF_CASES").unwrap_or(10_000) as u32;
    SEEN.lock().unwrap_or_else(|e| e.into_inner()).clear();
    EVENTS.lock().unwrap_or_else(|e| e.into_inner()).clear();
    let t = std::time::Instant::now();
    if let Err(e) = run_campaign(seed, cases) {
        panic!("{e}");
    }
    let seen = SEEN.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let events = EVENTS.lock().unwrap_or_else(|e| e.into_inner()).clone();
    eprintln!(
        "differential campaign: seed {seed:#x}, {cases} scenarios, {:?}; steps by class: \
         {seen:?}; agreeing steps that: {events:?}",
        t.elapsed()
    );
    // Every known divergence is drawn, and checked, by the fixed campaign.
    if cases >= 2000 {
        for c in [
            Class::Same,
            Class::PastEnd,
            Class::MinusOne,
            Class::Alias,
            Class::AliasPfn,
            Class::Dying,
            Class::NonPositive,
            Class::ReleaseLoop,
            Class::CrossRanges,
            Class::NextPastSpan,
        ] {
            // Cross-range spans are drawn all the same; once the library
            // takes them they count as Same.
            if c == Class::CrossRanges && LIB_SPANS_CROSS_RANGES {
                continue;
            }
            assert!(
                seen.get(&c).copied().unwrap_or(0) > 0,
                "no step of class {c:?} drawn"
            );
        }
        for e in [
            Event::Granted,
            Event::SpanGranted,
            Event::Translated,
            Event::Freed,
        ] {
            assert!(events.get(&e).copied().unwrap_or(0) > 0, "no step {e:?}");
        }
    }
}

/// `make fuzz SEED=.. COUNT=..`: a long campaign; prints its seed.
#[test]
#[ignore]
fn fuzz() {
    let _s = serial();
    let seed = env_u64("DIFF_SEED").unwrap_or_else(|| {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        t ^ u64::from(std::process::id()) << 32
    });
    let cases = env_u64("DIFF_CASES").unwrap_or(1_000_000) as u32;
    eprintln!("differential fuzz: seed {seed} ({seed:#x}), {cases} scenarios");
    PROGRESS.store(true, Ordering::Relaxed);
    let t = std::time::Instant::now();
    if let Err(e) = run_campaign(seed, cases) {
        panic!("{e}");
    }
    eprintln!(
        "differential fuzz: seed {seed}: {cases} scenarios passed in {:?}",
        t.elapsed()
    );
}

// ---- the reference is other code ----

/// The `ref_*` names resolve to the seed's C, not to the library: other
/// addresses, and other behaviour on an offset past the end.
#[test]
fn reference_is_other_code() {
    let _s = serial();
    let _q = Quiet::new();
    let pairs = [
        (
            ffi::pgmap_request_folio as *const () as usize,
            ref_after_pgmap_request_folio as *const () as usize,
        ),
        (
            ffi::pfn_to_pgmap_offset as *const () as usize,
            ref_after_pfn_to_pgmap_offset as *const () as usize,
        ),
        (
            ffi::pgmap_offset_to_pfn as *const () as usize,
            ref_after_pgmap_offset_to_pfn as *const () as usize,
        ),
        (
            ffi::pgmap_request_folios as *const () as usize,
            ref_before_pgmap_request_folios as *const () as usize,
        ),
        (
            ffi::pgmap_release_folios as *const () as usize,
            ref_before_pgmap_release_folios as *const () as usize,
        ),
    ];
    for (lib, c) in pairs {
        assert_ne!(lib, c, "a reference name resolves to the library");
    }
    let mut fx = Fixture::new(MEMORY_DEVICE_GENERIC, 0, &[(GIB_PFN, SUB)]);
    let (f, lib_warns, _) = measure(|| fx.api(Side::Lib).request(SUB, 0));
    assert!(f.is_null());
    let (g, ref_warns, _) = measure(|| fx.api(Side::Ref).request(SUB, 0));
    assert!(g.is_null());
    assert_eq!((lib_warns, ref_warns), (1, 2));
}

// ---- findings: each defect of the patch on its minimal input ----

/// 1 GiB, as a pfn.
const GIB_PFN: u64 = 1 << 18;

/// Quiet WARNs and a short wait bound for the length of a test.
struct Quiet;

impl Quiet {
    fn new() -> Self {
        memremap::warn::set_quiet(true);
        ffi::memremap_set_wait_bound_ms(1000);
        Quiet
    }
}

impl Drop for Quiet {
    fn drop(&mut self) {
        ffi::memremap_set_wait_bound_ms(10_000);
        memremap::warn::set_quiet(false);
    }
}

/// A mapped pgmap (ops with page_free and migrate_to_ram, an owner, so any
/// type maps); unmapped on drop, when every reference must be back.
struct Fixture {
    p: Box<Pg>,
}

impl Fixture {
    fn new(ty: u32, shift: u32, ranges: &[(u64, u64)]) -> Self {
        let layout = Layout {
            ty,
            ops: OpsKind::Full,
            shift,
            ranges: ranges.to_vec(),
            altmap: None,
        };
        let mut p = layout.build();
        assert_eq!(common::try_map(&mut p), 0, "memremap_pages() failed");
        Fixture { p }
    }

    fn ptr(&mut self) -> *mut DevPagemap {
        &mut self.p.pgmap
    }

    fn api(&mut self, side: Side) -> Api {
        Api {
            side,
            p: self.ptr(),
        }
    }

    fn pins(&mut self) -> i64 {
        self.api(Side::Lib).pins()
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        // SAFETY: the fixture's pgmap, mapped in new(); a second unmap (a
        // test that unmapped it itself) only WARNs.
        if unsafe { ffi::memremap_pgmap_is_mapped(self.ptr()) } {
            // SAFETY: as above.
            unsafe { ffi::memunmap_pages(self.ptr()) }
        }
    }
}

/// Run `f` with every ONCE site re-armed: what it returns, the WARNs it
/// made and the pages it freed (as pfns).
fn measure<T>(f: impl FnOnce() -> T) -> (T, u64, Vec<u64>) {
    take_freed();
    memremap::warn::rearm();
    let w0 = warns();
    let r = f();
    let w = warns() - w0;
    let freed = take_freed()
        .into_iter()
        .map(|p| pfn_of(p as *const Folio))
        .collect();
    (r, w, freed)
}

/// The line of a C reference file holding `pat` (once).
fn line_of(file: &str, pat: &str) -> u32 {
    let text = match file {
        "after.c" => include_str!("../c-tests/reference/after.c"),
        _ => include_str!("../c-tests/reference/before.c"),
    };
    let lines: Vec<usize> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains(pat))
        .map(|(i, _)| i + 1)
        .collect();
    assert_eq!(lines.len(), 1, "{pat:?} must appear once in {file}");
    lines[0] as u32
}

/// The last WARN came from `file` (a reference file) at the line of `pat`.
fn last_warn_at(file: &str, pat: &str) {
    let last = memremap::warn::last().expect("a WARN");
    assert!(last.file.ends_with(file), "last WARN from {}", last.file);
    assert_eq!(last.line, line_of(file, pat), "last WARN: {last:?}");
}

fn last_warn_says(function: &str, words: &str) {
    let last = memremap::warn::last().expect("a WARN");
    assert_eq!(last.function, function, "last WARN: {last:?}");
    assert!(last.message.contains(words), "last WARN: {last:?}");
}

/// Finding 1. An offset past the end: pgmap_offset_to_pfn() says -1 and
/// the C goes on with pfn_to_page(-1), then WARNs that the page it got is
/// not the pgmap's. The library WARNs once, naming the offset.
#[test]
fn finding_offset_past_the_end() {
    let _s = serial();
    let _q = Quiet::new();
    let mut fx = Fixture::new(MEMORY_DEVICE_GENERIC, 0, &[(GIB_PFN, SUB)]);
    let (c, l) = (fx.api(Side::Ref), fx.api(Side::Lib));
    assert_eq!(c.offset_to_pfn(SUB), MINUS_ONE);
    // pfn_to_page(-1) alone: one WARN, the poison page.
    let (page, w, _) = measure(|| ffi::pfn_to_page(MINUS_ONE));
    assert_eq!((page, w), (ffi::memremap_poison_page(), 1));
    let (f, w, freed) = measure(|| c.request(SUB, 0));
    assert!(f.is_null());
    assert_eq!(w, 2, "pfn_to_page(-1)'s WARN and the seed's own");
    last_warn_at("after.c", "WARN_ON_ONCE(page->pgmap != pgmap)");
    assert!(freed.is_empty());
    let (f, w, freed) = measure(|| l.request(SUB, 0));
    assert!(f.is_null());
    assert_eq!(w, 1);
    last_warn_says("pgmap_request_folio", "past the end");
    assert!(freed.is_empty());
    assert_eq!(refcount(folio_at(GIB_PFN + SUB - 1)), 0);
    assert_eq!(fx.pins(), 0);
}

/// Finding 2. `PFN_PHYS()` wraps: offset `1 << 52` is offset 0 to the C,
/// which hands out (and pins) the pgmap's first folio; `(1 << 52) + 5` is
/// offset 5. The library says -1 and NULL.
#[test]
fn finding_offset_at_2_pow_52_aliases() {
    let _s = serial();
    let _q = Quiet::new();
    let mut fx = Fixture::new(MEMORY_DEVICE_GENERIC, 0, &[(GIB_PFN, SUB)]);
    let (c, l) = (fx.api(Side::Ref), fx.api(Side::Lib));
    for k in [0, 5] {
        let off = (1u64 << 52) + k;
        assert_eq!(c.offset_to_pfn(off), GIB_PFN + k);
        let (f, w, _) = measure(|| c.request(off, 0));
        assert!(!f.is_null());
        assert_eq!((pfn_of(f), refcount(f), w), (GIB_PFN + k, 1, 0));
        assert_eq!(fx.pins(), 1);
        put(f);
        assert_eq!(fx.pins(), 0);
        let (lw, w, _) = measure(|| l.offset_to_pfn(off));
        assert_eq!((lw, w), (MINUS_ONE, 0));
        let (f, w, _) = measure(|| l.request(off, 0));
        assert!(f.is_null());
        assert_eq!(w, 1);
        last_warn_says("pgmap_request_folio", "past the end");
        assert_eq!(refcount(folio_at(GIB_PFN + k)), 0);
        assert_eq!(fx.pins(), 0);
    }
}

/// Finding 3. `PFN_PHYS()` wraps in pfn_to_pgmap_offset() too: pfn
/// `(1 << 52) + p` is pfn p to the C. With the callers' idiom,
/// `pgmap_request_folio(pgmap, pfn_to_pgmap_offset(pgmap, pfn), 0)`, a
/// bogus pfn gets someone's folio. The library says -1, and the request
/// fails with a WARN.
#[test]
fn finding_pfn_above_2_pow_52_aliases() {
    let _s = serial();
    let _q = Quiet::new();
    let mut fx = Fixture::new(MEMORY_DEVICE_GENERIC, 0, &[(GIB_PFN, SUB)]);
    let (c, l) = (fx.api(Side::Ref), fx.api(Side::Lib));
    let pfn = (1u64 << 52) + GIB_PFN + 7;
    assert_eq!(c.pfn_to_offset(pfn), 7);
    let (f, w, _) = measure(|| c.request(c.pfn_to_offset(pfn), 0));
    assert!(!f.is_null());
    assert_eq!((pfn_of(f), refcount(f), w), (GIB_PFN + 7, 1, 0));
    put(f);
    let (o, w, _) = measure(|| l.pfn_to_offset(pfn));
    assert_eq!((o, w), (MINUS_ONE, 0));
    let (f, w, _) = measure(|| l.request(l.pfn_to_offset(pfn), 0));
    assert!(f.is_null());
    assert_eq!(w, 1);
    assert_eq!(refcount(folio_at(GIB_PFN + 7)), 0);
    assert_eq!(fx.pins(), 0);
}

/// Finding 4. The converted callers pass pfn_to_pgmap_offset()'s -1 straight
/// in: for a pfn outside the pgmap the C goes to pfn_to_page(-1) (two
/// WARNs, NULL) and the callers then use `&folio->page`. The library WARNs
/// once and returns NULL.
#[test]
fn finding_callers_pass_minus_one() {
    let _s = serial();
    let _q = Quiet::new();
    let mut fx = Fixture::new(MEMORY_DEVICE_PRIVATE, 0, &[(GIB_PFN, SUB)]);
    let (c, l) = (fx.api(Side::Ref), fx.api(Side::Lib));
    let outside = GIB_PFN - 1;
    assert_eq!(c.pfn_to_offset(outside), MINUS_ONE);
    let (f, w, freed) = measure(|| c.request(c.pfn_to_offset(outside), 0));
    assert!(f.is_null());
    assert_eq!(w, 2, "pfn_to_page(-1)'s WARN and the seed's own");
    last_warn_at("after.c", "WARN_ON_ONCE(page->pgmap != pgmap)");
    assert!(freed.is_empty());
    assert_eq!(l.pfn_to_offset(outside), MINUS_ONE);
    let (f, w, freed) = measure(|| l.request(l.pfn_to_offset(outside), 0));
    assert!(f.is_null());
    assert_eq!(w, 1);
    last_warn_says("pgmap_request_folio", "0xffffffffffffffff");
    assert!(freed.is_empty());
    assert_eq!(fx.pins(), 0);
}

/// Request folio `k` of the fixture `n` times through the library.
fn hold(fx: &mut Fixture, ks: &[u64], n: usize) -> Vec<*mut Folio> {
    let l = fx.api(Side::Lib);
    ks.iter()
        .map(|&k| {
            let f = l.request(k, 0);
            assert!(!f.is_null());
            for _ in 1..n {
                assert_eq!(l.request(k, 0), f);
            }
            f
        })
        .collect()
}

/// Finding 5. The pre-patch pgmap_release_folios() advances with
/// `folio_next(folio)`: for 3 folios it puts the first once, the second
/// twice and never the third. With each folio held twice, the second is
/// freed back to the driver while its holder still has it (silently),
/// and the third keeps a reference no one holds. With each held once, the
/// second is put at 0 and the third leaks its pin. The library puts each
/// folio once.
#[test]
fn finding_pre_patch_release_walks_the_second_folio() {
    let _s = serial();
    let _q = Quiet::new();
    for held in [2usize, 1] {
        let mut fx = Fixture::new(MEMORY_DEVICE_GENERIC, 0, &[(GIB_PFN, SUB)]);
        let f = hold(&mut fx, &[0, 1, 2], held);
        let ((), w, freed) = measure(|| fx.api(Side::Ref).release_folios(f[0], 3));
        let h = held as i32;
        let counts: Vec<i32> = f.iter().map(|&g| refcount(g)).collect();
        if held == 2 {
            assert_eq!(counts, [1, 0, 2]);
            assert_eq!(freed, [GIB_PFN + 1], "a folio in use is freed");
            assert_eq!(w, 0, "silently");
            assert_eq!(fx.pins(), 2);
        } else {
            assert_eq!(counts, [0, 0, 1]);
            assert_eq!(freed, [GIB_PFN, GIB_PFN + 1]);
            assert_eq!(w, 1, "the second put of folio 1, at 0");
            last_warn_says("folio_put", "nothing to drop");
            assert_eq!(fx.pins(), 1, "folio 2's pin leaks");
        }
        for (g, n) in f.iter().zip(counts) {
            for _ in 0..n {
                put(*g);
            }
        }
        drop(fx);
        let mut fx = Fixture::new(MEMORY_DEVICE_GENERIC, 0, &[(GIB_PFN, SUB)]);
        let f = hold(&mut fx, &[0, 1, 2], held);
        let ((), w, freed) = measure(|| fx.api(Side::Lib).release_folios(f[0], 3));
        let counts: Vec<i32> = f.iter().map(|&g| refcount(g)).collect();
        assert_eq!(counts, [h - 1; 3]);
        assert_eq!(w, 0);
        let want: Vec<u64> = if held == 1 {
            (0..3).map(|k| GIB_PFN + k).collect()
        } else {
            Vec::new()
        };
        assert_eq!(freed, want);
        assert_eq!(fx.pins(), 3 * i64::from(h - 1));
        for g in &f {
            for _ in 1..held {
                put(*g);
            }
        }
    }
}

/// Finding 6. The pre-patch pgmap_request_folios() checks the order of the
/// second folio `nr_folios - 1` times and never the third: a span whose
/// third folio is another pgmap's (order 0 after two of order 9) is taken.
/// The C raises the foreign folio and pins its own pgmap for it; putting
/// that folio back then drops a pin of the other pgmap that was never
/// taken, and leaves one on this pgmap that no folio holds. Its only
/// warning is the VM_WARN_ON_ONCE of folio_span_valid() (CONFIG_DEBUG_VM),
/// which does not stop it. The library refuses the span.
#[test]
fn finding_pre_patch_request_checks_the_second_folio_only() {
    let _s = serial();
    let _q = Quiet::new();
    let x = GIB_PFN;
    let mut a = Fixture::new(MEMORY_DEVICE_GENERIC, 9, &[(x, 2 * SUB)]);
    let mut b = Fixture::new(MEMORY_DEVICE_GENERIC, 0, &[(x + 2 * SUB, SUB)]);
    let f: Vec<*mut Folio> = [x, x + SUB, x + 2 * SUB].map(folio_at).to_vec();
    let (ok, w, _) = measure(|| a.api(Side::Ref).request_folios(f[0], 3));
    assert!(ok);
    assert_eq!(w, 1);
    last_warn_at(
        "before.c",
        "VM_WARN_ON_ONCE(!folio_span_valid(pgmap, folio, nr_folios));",
    );
    assert_eq!(
        f.iter().map(|&g| refcount(g)).collect::<Vec<_>>(),
        [1, 1, 1]
    );
    assert_eq!((a.pins(), b.pins()), (3, 0));
    let ((), _, freed) = measure(|| put(f[2]));
    assert_eq!(freed, [x + 2 * SUB]);
    assert_eq!(b.pins(), -1, "the other pgmap lost a pin it never gave");
    put(f[0]);
    put(f[1]);
    assert_eq!(a.pins(), 1, "a pin no folio holds");
    a.api(Side::Lib).ref_put(1);
    b.api(Side::Lib).ref_get(1);
    let (ok, w, freed) = measure(|| a.api(Side::Lib).request_folios(f[0], 3));
    assert!(!ok);
    assert_eq!(w, 1);
    last_warn_says("pgmap_request_folios", "folio_span_valid");
    assert!(freed.is_empty());
    assert_eq!(
        f.iter().map(|&g| refcount(g)).collect::<Vec<_>>(),
        [0, 0, 0]
    );
    assert_eq!((a.pins(), b.pins()), (0, 0));
}

/// Finding 7. folio_span_valid() looks at the span's two ends only: a span
/// from the pgmap's first range to its second, across another pgmap
/// mapped between them, is "valid"; so is any span of `nr_folios <= 0`
/// (and pgmap_request_folios() then says it succeeded). The library
/// refuses both, with a WARN.
#[test]
fn finding_folio_span_valid_checks_only_the_ends() {
    let _s = serial();
    let _q = Quiet::new();
    let x = GIB_PFN;
    let mut a = Fixture::new(MEMORY_DEVICE_GENERIC, 0, &[(x, SUB), (x + 2 * SUB, SUB)]);
    let _b = Fixture::new(MEMORY_DEVICE_GENERIC, 0, &[(x + SUB, SUB)]);
    let f = folio_at(x);
    for nr in [3 * SUB as i32, 0, -1] {
        // SAFETY: `a` is mapped and `f` is its first folio; the function
        // only reads the memmap and the registry.
        assert!(unsafe { ref_before_folio_span_valid(a.ptr(), f, nr) });
    }
    let (ok, w, _) = measure(|| a.api(Side::Ref).request_folios(f, 0));
    assert!(ok, "nothing requested, success reported");
    assert_eq!(w, 0);
    for nr in [3 * SUB as i32, 0, -1] {
        let (ok, w, freed) = measure(|| a.api(Side::Lib).request_folios(f, nr));
        assert!(!ok);
        assert_eq!(w, 1);
        assert!(freed.is_empty());
        assert_eq!(refcount(f), 0);
        assert_eq!(a.pins(), 0);
    }
}

unsafe extern "C" fn kill_before_tryget(r: *mut PercpuRef) {
    // SAFETY: the reference passes `&pgmap->ref` of a mapped pgmap.
    unsafe { ffi::percpu_ref_kill(r) }
}

/// Finding 8. When percpu_ref_tryget() fails after the 0 -> 1 increment,
/// the C's failure path folio_put()s the folio: page_free() runs for a
/// page never handed out, and put_dev_pagemap() drops a pin that was never
/// taken. Shown two ways: the race itself (memunmap_pages()'s kill landing
/// between the dying check and the tryget, through the reference's test
/// hook), and an injected tryget failure on a live pgmap, where the lost
/// pin leaves the pgmap's count one short. The library takes the pin
/// before it moves the count, so neither happens.
#[test]
fn finding_failed_tryget_frees_a_folio_never_handed_out() {
    let _s = serial();
    let _q = Quiet::new();
    let mut fx = Fixture::new(MEMORY_DEVICE_PRIVATE, 0, &[(GIB_PFN, SUB)]);
    let c = fx.api(Side::Ref);
    // SAFETY: installs a hook the reference calls with &pgmap->ref.
    unsafe { ref_after_set_tryget_hook(Some(kill_before_tryget)) };
    let (f, w, freed) = measure(|| c.request(0, 0));
    // SAFETY: removes it.
    unsafe { ref_after_set_tryget_hook(None) };
    assert!(f.is_null());
    assert_eq!(freed, [GIB_PFN], "page_free() of a page never handed out");
    assert_eq!(w, 2, "the seed's WARN and the ref's underflow");
    last_warn_says("percpu_ref_put_many", "<= 0");
    assert_eq!(fx.pins(), 0);
    drop(fx);

    let mut fx = Fixture::new(MEMORY_DEVICE_PRIVATE, 0, &[(GIB_PFN, SUB)]);
    ffi::memremap_percpu_tryget_fail_nth(1);
    let (f, w, freed) = measure(|| fx.api(Side::Ref).request(0, 0));
    ffi::memremap_fail_none();
    assert!(f.is_null());
    assert_eq!(freed, [GIB_PFN], "page_free() of a page never handed out");
    assert_eq!(w, 1);
    last_warn_at("after.c", "WARN_ON_ONCE(!percpu_ref_tryget(&pgmap->ref))");
    assert_eq!(fx.pins(), -1, "a pin dropped that was never taken");
    fx.api(Side::Lib).ref_get(1);
    drop(fx);

    let mut fx = Fixture::new(MEMORY_DEVICE_PRIVATE, 0, &[(GIB_PFN, SUB)]);
    let l = fx.api(Side::Lib);
    ffi::memremap_percpu_tryget_fail_nth(1);
    let (f, w, freed) = measure(|| l.request(0, 0));
    ffi::memremap_fail_none();
    assert!(f.is_null());
    assert!(freed.is_empty());
    assert_eq!(w, 1);
    last_warn_says("pgmap_request_folio", "percpu_ref_tryget");
    assert_eq!(refcount(folio_at(GIB_PFN)), 0);
    assert_eq!(fx.pins(), 0);
    // The race's outcome for the library: the kill first, then NULL.
    l.kill();
    let (f, w, freed) = measure(|| l.request(0, 0));
    assert!(f.is_null());
    assert!(freed.is_empty());
    assert_eq!(w, 1);
    assert_eq!(refcount(folio_at(GIB_PFN)), 0);
}

/// Finding 9. A dying pgmap: the C translates pfns and offsets as if it
/// were live; the library WARNs and answers -1. (Requests agree: NULL and
/// one WARN on both sides.)
#[test]
fn finding_dying_pgmap_translates_in_c() {
    let _s = serial();
    let _q = Quiet::new();
    let mut fx = Fixture::new(MEMORY_DEVICE_FS_DAX, 0, &[(GIB_PFN, SUB)]);
    let (c, l) = (fx.api(Side::Ref), fx.api(Side::Lib));
    l.kill();
    let (o, w, _) = measure(|| c.pfn_to_offset(GIB_PFN + 3));
    assert_eq!((o, w), (3, 0));
    let (p, w, _) = measure(|| c.offset_to_pfn(3));
    assert_eq!((p, w), (GIB_PFN + 3, 0));
    let (o, w, _) = measure(|| l.pfn_to_offset(GIB_PFN + 3));
    assert_eq!((o, w), (MINUS_ONE, 1));
    last_warn_says("pfn_to_pgmap_offset", "dying");
    let (p, w, _) = measure(|| l.offset_to_pfn(3));
    assert_eq!((p, w), (MINUS_ONE, 1));
    last_warn_says("pgmap_offset_to_pfn", "dying");
    for api in [&c, &l] {
        let (f, w, _) = measure(|| api.request(3, 0));
        assert!(f.is_null());
        assert_eq!(w, 1);
    }
}

/// Finding 10. An unmapped pgmap (its struct still allocated): the C
/// translates as if it were mapped, and a request reaches pfn_to_page() of
/// a pfn nobody maps (two WARNs; a stale page in the kernel). The library
/// WARNs that the pgmap is not mapped.
#[test]
fn finding_unmapped_pgmap() {
    let _s = serial();
    let _q = Quiet::new();
    let mut fx = Fixture::new(MEMORY_DEVICE_GENERIC, 0, &[(GIB_PFN, SUB)]);
    let (c, l) = (fx.api(Side::Ref), fx.api(Side::Lib));
    // SAFETY: the fixture's mapped pgmap.
    unsafe { ffi::memunmap_pages(fx.ptr()) };
    let (o, w, _) = measure(|| c.pfn_to_offset(GIB_PFN + 3));
    assert_eq!((o, w), (3, 0));
    let (p, w, _) = measure(|| c.offset_to_pfn(3));
    assert_eq!((p, w), (GIB_PFN + 3, 0));
    let (f, w, _) = measure(|| c.request(3, 0));
    assert!(f.is_null());
    assert_eq!(
        w, 2,
        "pfn_to_page() of an unmapped pfn, and the seed's WARN"
    );
    last_warn_at("after.c", "WARN_ON_ONCE(page->pgmap != pgmap)");
    let (o, w, _) = measure(|| l.pfn_to_offset(GIB_PFN + 3));
    assert_eq!((o, w), (MINUS_ONE, 1));
    let (p, w, _) = measure(|| l.offset_to_pfn(3));
    assert_eq!((p, w), (MINUS_ONE, 1));
    let (f, w, _) = measure(|| l.request(3, 0));
    assert!(f.is_null());
    assert_eq!(w, 1);
    last_warn_says("pgmap_request_folio", "not mapped");
}

/// Run `f` in a child process: the signal that ended it, or None.
fn in_child(f: impl FnOnce()) -> Option<i32> {
    // SAFETY: fork() has no memory preconditions; the child only runs `f`
    // (one call into the C reference) and then _exit()s.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        f();
        // SAFETY: ends the child without running the parent's destructors.
        unsafe { libc::_exit(0) };
    }
    let mut status = 0;
    // SAFETY: waits for the child just forked, into a local int.
    let got = unsafe { libc::waitpid(pid, &mut status, 0) };
    assert_eq!(got, pid);
    libc::WIFSIGNALED(status).then(|| libc::WTERMSIG(status))
}

/// Finding 11. A NULL pgmap: the C dereferences it (in a child process
/// here; the kernel oopses); the library WARNs and returns NULL or -1.
#[test]
fn finding_null_pgmap_crashes_the_c() {
    let _s = serial();
    let _q = Quiet::new();
    let c = Api {
        side: Side::Ref,
        p: null_mut(),
    };
    let l = Api {
        side: Side::Lib,
        p: null_mut(),
    };
    assert_eq!(
        in_child(|| {
            c.request(0, 0);
        }),
        Some(libc::SIGSEGV)
    );
    assert_eq!(
        in_child(|| {
            c.pfn_to_offset(GIB_PFN);
        }),
        Some(libc::SIGSEGV)
    );
    let (f, w, _) = measure(|| l.request(0, 0));
    assert!(f.is_null());
    assert_eq!(w, 1);
    let (o, w, _) = measure(|| l.pfn_to_offset(GIB_PFN));
    assert_eq!((o, w), (MINUS_ONE, 1));
}

/// Finding 8, raced for real, on the library: one thread requests an idle
/// folio while another kills the pgmap (what memunmap_pages() does first).
/// Whatever the interleaving, the library hands out a folio (freed once,
/// when put) or returns NULL with one WARN, having freed nothing and
/// dropped no pin. (Run on the C, 2000 such rounds never hit its window
/// between the dying check and the tryget; finding 8 opens it on purpose.)
#[test]
fn race_kill_against_request() {
    let _s = serial();
    let _q = Quiet::new();
    for _ in 0..500 {
        let mut fx = Fixture::new(MEMORY_DEVICE_PRIVATE, 0, &[(GIB_PFN, SUB)]);
        let p = fx.ptr() as usize;
        let barrier = std::sync::Barrier::new(2);
        take_freed();
        memremap::warn::rearm();
        let w0 = warns();
        let api = |p: usize| Api {
            side: Side::Lib,
            p: p as *mut DevPagemap,
        };
        let null = std::thread::scope(|s| {
            s.spawn(|| {
                barrier.wait();
                api(p).kill();
            });
            barrier.wait();
            let f = api(p).request(0, 0);
            if !f.is_null() {
                put(f);
            }
            f.is_null()
        });
        let w = warns() - w0;
        let freed = take_freed();
        if null {
            assert_eq!((w, freed.len()), (1, 0), "a NULL must leave nothing behind");
        } else {
            assert_eq!((w, freed), (0, vec![folio_at(GIB_PFN) as usize]));
        }
        assert_eq!(fx.pins(), 0);
    }
}
