// SPDX-License-Identifier: GPL-2.0-only
//! The model: the pgmap as both sides see it (in pfns), the state a step
//! can change (`World`), what a step returns and shows (`Ret`, `Obs`),
//! operations resolved against the pgmap (`Conc`), and the classification
//! of each step (`Class`): where the seed's C and the library must agree,
//! and why they may not. What each side does on a step is in
//! `model/sides.rs`.

mod sides;

use crate::generator::{Layout, OffSel, Op, OpsKind, OrderSel, PfnSel};
use crate::{LIB_SPANS_CROSS_RANGES, MASK52, MINUS_ONE, PFN_LIMIT};
use std::collections::BTreeMap;

/// An operation resolved against the pgmap: offsets and pfns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Conc {
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
pub enum Class {
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
pub struct World {
    /// Folio refcounts by head offset (absent: 0).
    pub counts: BTreeMap<u64, i32>,
    pub pins: i64,
    pub dying: bool,
    /// The ref reached zero after the kill (its release ran).
    pub released: bool,
}

/// What a call returned.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Ret {
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
pub struct Obs {
    pub ret: Ret,
    pub warns: u64,
    /// `page_free()` calls, as offsets, in call order.
    pub freed: Vec<u64>,
    /// Refcounts of every folio the scenario touches, by offset.
    pub counts: Vec<(u64, i32)>,
    pub pins: i64,
}

/// The pgmap as the model sees it; everything in pfns.
pub struct Model {
    pub l: Layout,
    /// First offset of each range, array order.
    pub prefix: Vec<u64>,
    pub total: u64,
    pub reserved: u64,
    /// Folio heads per range, and their prefix sums.
    pub heads: Vec<u64>,
    pub nheads: u64,
}

impl Model {
    pub fn new(l: &Layout) -> Self {
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

    pub fn fsize(&self) -> u64 {
        1 << self.l.shift
    }

    pub fn o2p(&self, o: u64) -> Option<u64> {
        self.l
            .ranges
            .iter()
            .zip(&self.prefix)
            .find(|(&(_, pages), &pre)| o >= pre && o - pre < pages)
            .map(|(&(start, _), &pre)| start + (o - pre))
    }

    pub fn range_of(&self, pfn: u64) -> Option<usize> {
        self.l
            .ranges
            .iter()
            .position(|&(start, pages)| pfn >= start && pfn - start < pages)
    }

    pub fn p2o(&self, pfn: u64) -> Option<u64> {
        let r = self.range_of(pfn)?;
        Some(self.prefix[r] + pfn - self.l.ranges[r].0)
    }

    /// Does a pgmap (this one: the engine maps no other) map `pfn`?
    pub fn mapped(&self, pfn: u64) -> bool {
        self.range_of(pfn).is_some()
    }

    pub fn first_usable(&self, r: usize) -> u64 {
        self.l.ranges[r].0 + if r == 0 { self.reserved } else { 0 }
    }

    /// Is `pfn` a folio head of this pgmap (not altmap, not a tail)?
    pub fn is_head(&self, pfn: u64) -> bool {
        let Some(r) = self.range_of(pfn) else {
            return false;
        };
        let first = self.first_usable(r);
        pfn >= first && (pfn - first) % self.fsize() == 0
    }

    /// The offset of the k-th folio head (mod their number).
    pub fn head(&self, k: u64) -> Option<u64> {
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
    pub fn run_len(&self, pfn: u64) -> i32 {
        let mut n = 0;
        while n < 8 && self.is_head(pfn + n as u64 * self.fsize()) {
            n += 1;
        }
        n
    }

    /// Does a span of `nr` folios from offset `o` leave its first range?
    pub fn crosses(&self, o: u64, nr: i32) -> bool {
        let p = self.pfn_at(o);
        !LIB_SPANS_CROSS_RANGES
            && nr >= 2
            && self.range_of(p) != self.range_of(p + (nr as u64 - 1) * self.fsize())
    }

    pub fn has_page_free(&self) -> bool {
        matches!(self.l.ops, OpsKind::Free | OpsKind::Full)
    }

    pub fn off(&self, s: &OffSel) -> u64 {
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

    pub fn pfn(&self, s: &PfnSel) -> u64 {
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

    pub fn order(&self, s: &OrderSel) -> i32 {
        match *s {
            OrderSel::Right => self.l.shift as i32,
            OrderSel::Raw(o) => o,
        }
    }

    /// Clamp a positive span length to the mapped folios from `pfn`.
    pub fn span(&self, pfn: u64, nr: i32) -> i32 {
        if nr <= 0 {
            nr
        } else {
            nr.min(self.run_len(pfn))
        }
    }

    pub fn resolve(&self, op: &Op, w: &World) -> Conc {
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
    pub fn pfn_at(&self, o: u64) -> u64 {
        self.o2p(o).unwrap_or(MINUS_ONE)
    }

    pub fn classify(&self, op: &Conc, w: &World) -> Class {
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
}
