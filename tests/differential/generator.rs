// SPDX-License-Identifier: GPL-2.0-only
//! What the campaign draws: a pgmap's layout (ranges, type, ops, order,
//! altmap), operations chosen relative to the pgmap, and scenarios (a
//! layout and up to 24 operations), as proptest strategies that shrink well.

use crate::capi::{OPS_EMPTY, OPS_FREE, OPS_FULL, OWNER};
use crate::common::zeroed;
use crate::{Pg, PFN_LIMIT, SUB};
use core::ffi::{c_int, c_ulong, c_void};
use memremap::types::*;
use proptest::collection::vec;
use proptest::prelude::*;
use std::sync::atomic::AtomicU32;

// ---- layouts ----

/// What a pgmap's `ops` points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpsKind {
    Null,
    Empty,
    Free,
    Full,
}

/// A pgmap to build: ranges as (first pfn, pages), in array order.
#[derive(Clone, Debug)]
pub struct Layout {
    pub ty: u32,
    pub ops: OpsKind,
    pub shift: u32,
    pub ranges: Vec<(u64, u64)>,
    /// (reserve, free) pfns of an altmap at the start of range 0.
    pub altmap: Option<(u64, u64)>,
}

impl Layout {
    pub fn build(&self) -> Box<Pg> {
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
pub fn layout_strategy() -> impl Strategy<Value = Layout> {
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
pub fn normalize(
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
pub enum OffSel {
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
pub enum PfnSel {
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
pub enum OrderSel {
    /// The pgmap's `vmemmap_shift`.
    Right,
    Raw(i32),
}

#[derive(Clone, Debug)]
pub enum Op {
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

pub fn off_sel() -> impl Strategy<Value = OffSel> {
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

pub fn pfn_sel() -> impl Strategy<Value = PfnSel> {
    prop_oneof![
        3 => any::<u64>().prop_map(PfnSel::Head),
        2 => any::<u64>().prop_map(PfnSel::Any),
        3 => (any::<u16>(), 0u8..4).prop_map(|(r, e)| PfnSel::Edge(r, e)),
        1 => (0u64..PFN_LIMIT).prop_map(PfnSel::Outside),
        2 => (1u64..4096, any::<u64>()).prop_map(|(m, k)| PfnSel::Alias(m, k)),
        1 => (PFN_LIMIT..=u64::MAX).prop_map(PfnSel::Above),
    ]
}

pub fn order_sel() -> impl Strategy<Value = OrderSel> {
    prop_oneof![
        6 => Just(OrderSel::Right),
        2 => (0i32..=10).prop_map(OrderSel::Raw),
        1 => prop_oneof![Just(-1), Just(i32::MIN), Just(i32::MAX), Just(256)]
            .prop_map(OrderSel::Raw),
    ]
}

pub fn nr_sel() -> impl Strategy<Value = i32> {
    prop_oneof![8 => 1i32..=6, 1 => -3i32..=0]
}

pub fn op_strategy() -> impl Strategy<Value = Op> {
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
pub struct Scenario {
    pub layout: Layout,
    pub ops: Vec<Op>,
}

/// Operations first: proptest shrinks a tuple's members in order, so a
/// failure loses the operations it does not need before its layout shrinks.
pub fn scenario_strategy() -> impl Strategy<Value = Scenario> {
    (vec(op_strategy(), 1..=24), layout_strategy())
        .prop_map(|(ops, layout)| Scenario { layout, ops })
}
