// SPDX-License-Identifier: GPL-2.0-only
//! `struct dev_pagemap`: `memremap_pages()` and its validation, the pgmap's
//! own state, `get_dev_pagemap()`, pins, and `memunmap_pages()` with a
//! bounded wait. The pgmap's pfns are spans of the memmap
//! ([`crate::memmap::Span`]): the memmap creates and retires their pages.

mod devres;
mod ptr;
mod validate;

pub use devres::{devm_memremap_pages, devm_memremap_pages_gen, devm_memunmap_pages, Device};
pub use ptr::{altmap_free, altmap_offset, PgmapPtr};
pub use validate::compat_align;

use crate::generation::{self, Gen};
use crate::memmap::{self, Span};
use crate::offset::RangeIndex;
use crate::percpu_ref::{self, RefData};
use crate::types::*;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// The library's side of a mapped pgmap, owned here: made by
/// `memremap_pages()`, freed by `memunmap_pages()`. The pgmap's ref carries
/// its address as the ref's opaque owner token, so finding it from the C
/// struct is the ref's check and one load.
#[derive(Debug)]
struct PgmapState {
    /// The offset space: ranges in array order.
    index: RangeIndex,
    /// One per range, array order.
    spans: Vec<Span>,
    unmapping: AtomicBool,
    abandoned: AtomicBool,
}

/// A mapped pgmap: the C struct, its ref and its state. Valid until
/// `memunmap_pages()` of it succeeds; callers must not race that (the
/// kernel's rule: whoever uses a pgmap keeps it live).
#[derive(Clone, Copy)]
pub struct Mapped {
    ptr: PgmapPtr,
    ref_: &'static RefData,
    st: &'static PgmapState,
}

/// The pgmap behind `pgmap`, if it is mapped. A pgmap reads as mapped from
/// `memremap_pages()` until `memunmap_pages()` succeeds. The ref's check
/// word ties it to its own address, so a byte copy of a mapped pgmap is
/// not one.
#[inline(always)]
pub fn mapped(pgmap: PgmapPtr) -> Option<Mapped> {
    let d = percpu_ref::data(pgmap.ref_()?)?;
    let token = d.owner();
    if token == 0 {
        return None;
    }
    // A non-zero owner token is set only by memremap_pages(), from
    // Box::into_raw of this pgmap's state, and the state is freed only by
    // memunmap_pages() after percpu_ref::exit() cleared the ref.
    // SAFETY: so a ref that still checks out holds a live state.
    let st = unsafe { &*(token as *const PgmapState) };
    Some(Mapped {
        ptr: pgmap,
        ref_: d,
        st,
    })
}

impl Mapped {
    pub fn ptr(self) -> PgmapPtr {
        self.ptr
    }

    pub fn addr(self) -> usize {
        self.ptr.addr()
    }

    /// `percpu_ref_is_dying(&pgmap->ref)`.
    #[inline(always)]
    pub fn is_dying(self) -> bool {
        self.ref_.is_dying()
    }

    /// `percpu_ref_tryget(&pgmap->ref)`: a pin, unless the pgmap is dead.
    #[inline(always)]
    pub fn tryget(self) -> bool {
        self.ref_.tryget(1)
    }

    /// `percpu_ref_put(&pgmap->ref)`: drop a pin.
    #[inline(always)]
    pub fn put(self) {
        self.ref_.put(1)
    }

    /// `percpu_ref_tryget_live(&pgmap->ref)`: a pin, unless the pgmap is
    /// dying.
    pub fn tryget_live(self) -> bool {
        self.ref_.tryget_live()
    }

    /// `percpu_ref_tryget_many(&pgmap->ref, n)`: `n` pins, unless the
    /// pgmap is dead (a dying one still gives them while references
    /// remain).
    pub fn tryget_many(self, n: i64) -> bool {
        self.ref_.tryget(n)
    }

    /// `percpu_ref_put_many(&pgmap->ref, n)`: drop `n` pins.
    pub fn put_many(self, n: i64) {
        self.ref_.put(n)
    }

    /// The pgmap's offset space.
    #[inline(always)]
    pub fn index(self) -> &'static RangeIndex {
        &self.st.index
    }

    /// References held by pages and `get_dev_pagemap()` callers: the
    /// ref's count less the initial reference (while not killed).
    pub fn pins(self) -> i64 {
        let (count, dying) = self.ref_.settled();
        count - i64::from(!dying)
    }

    /// Has `memunmap_pages()` given up on this pgmap?
    pub fn is_abandoned(self) -> bool {
        self.st.abandoned.load(Ordering::Acquire)
    }

    /// ZONE_DEVICE pages of this pgmap whose folio is referenced:
    /// (pfn, refcount), in pfn order.
    pub fn held_pfns(self) -> Vec<(u64, i32)> {
        held_in(&memmap::spans(), self.addr())
    }
}

/// ZONE_DEVICE pages of `pgmap` whose folio is referenced: (pfn,
/// refcount), in pfn order.
fn held_in(spans: &memmap::Spans, pgmap: usize) -> Vec<(u64, i32)> {
    let mut list = Vec::new();
    spans.for_each_referenced_page_of(pgmap, |pfn, p, n| {
        if memmap::is_zone_device(p) {
            list.push((pfn, n));
        }
    });
    list.sort_unstable();
    list
}

/// The pgmap mapping `pfn`, without taking a reference (`xa_load()` on the
/// kernel's `pgmap_array`).
pub fn lookup_pfn(pfn: u64) -> Option<usize> {
    let spans = memmap::spans();
    let span = spans.find(pfn)?;
    mapped(PgmapPtr::registered(span.pgmap))?;
    Some(span.pgmap)
}

unsafe extern "C" fn dev_pagemap_percpu_release(r: *mut PercpuRef) {
    // This release is installed only on the `ref` embedded in a mapped
    // struct dev_pagemap, which the caller keeps allocated while
    // references exist.
    if let Some(done) = PgmapPtr::of_ref(r).done() {
        crate::sync::complete(done);
    }
}

/// `memremap_pages()`: validate and register `pgmap`; the kernel's return
/// value is the direct-map address of range 0, which we imitate (it is
/// never dereferenceable here). Errors are positive errno values.
pub fn memremap_pages(pgmap: PgmapPtr) -> Result<usize, i32> {
    register(pgmap, None)
}

/// `memremap_pages()` of a program written against API generation `gen`
/// (docs/DESIGN.md §9): as above, with the pgmap tagged for `gen`, so its
/// memmap is laid out and its folios freed as that generation does.
pub fn memremap_pages_gen(pgmap: PgmapPtr, gen: Gen) -> Result<usize, i32> {
    register(pgmap, Some(gen))
}

/// Register `pgmap`; on success it is tagged for `gen` (untagged for the
/// seed), before its spans are added, so no page of it is ever made in
/// another generation's layout.
fn register(pgmap: PgmapPtr, gen: Option<Gen>) -> Result<usize, i32> {
    let Some(c) = pgmap.config() else {
        crate::warn_if!("memremap_pages", true, "NULL pgmap");
        return Err(libc::EINVAL);
    };
    if crate::warn_if!(
        "memremap_pages",
        mapped(pgmap).is_some(),
        "pgmap {:p} is already mapped",
        pgmap.ptr()
    ) {
        return Err(libc::EBUSY);
    }
    if crate::warn_if!(
        "memremap_pages",
        c.nr_range <= 0,
        "nr_range must be specified"
    ) {
        return Err(libc::EINVAL);
    }
    validate::check_type(&c, pgmap)?;
    let nr = c.nr_range as usize;
    if crate::warn_if!(
        "memremap_pages",
        c.flags & PGMAP_ALTMAP_VALID != 0 && nr > 1,
        "altmap not supported for multiple ranges"
    ) || crate::warn_if!(
        "memremap_pages",
        c.shift > validate::MAX_SHIFT,
        "vmemmap_shift {} is larger than this model supports ({})",
        c.shift,
        validate::MAX_SHIFT
    ) {
        return Err(libc::EINVAL);
    }
    let ranges: Vec<Range> = (0..nr).filter_map(|i| pgmap.range(i)).collect();

    let mut table = memmap::spans_mut();
    let mut spans: Vec<Span> = Vec::with_capacity(nr);
    for (i, r) in ranges.iter().enumerate() {
        let span = validate::check_range(*r, i, &c, pgmap.addr())?;
        let clash = table.overlap(span.start_pfn, span.end_pfn).or_else(|| {
            spans
                .iter()
                .copied()
                .find(|s| s.start_pfn <= span.end_pfn && span.start_pfn <= s.end_pfn)
        });
        if crate::warn_if!(
            "memremap_pages",
            clash.is_some(),
            "Conflicting mapping in same section: range {i} [{:#x}-{:#x}]",
            r.start,
            r.end
        ) {
            return Err(libc::ENOMEM);
        }
        validate::check_not_ram(*r)?;
        spans.push(span);
    }
    let pairs: Vec<(u64, u64)> = spans.iter().map(|s| (s.start_pfn, s.end_pfn)).collect();
    let (Some(r), Some(done)) = (pgmap.ref_(), pgmap.done()) else {
        return Err(libc::EINVAL);
    };
    let st = Box::new(PgmapState {
        index: RangeIndex::new(&pairs),
        spans: spans.clone(),
        unmapping: AtomicBool::new(false),
        abandoned: AtomicBool::new(false),
    });
    let token = Box::into_raw(st) as usize;
    if let Err(e) = percpu_ref::init(r, Some(dev_pagemap_percpu_release), 0, token) {
        // SAFETY: `token` came from Box::into_raw just above and the ref
        // did not take it, so nothing else holds it.
        drop(unsafe { Box::from_raw(token as *mut PgmapState) });
        return Err(e);
    }
    crate::sync::init_completion(done);
    // A tag an earlier registration at this address left goes now.
    let generic = gen.is_some() && c.ty == MEMORY_DEVICE_GENERIC;
    generation::set(pgmap.addr(), gen, generic);
    let pages = lifetime_pins(&spans);
    for s in spans {
        table.add(s);
    }
    drop(table);
    // pagemap_range() of every generation: a pgmap whose pages are not
    // handed out by zone_device_page_init() holds one pin per page
    // (pfn_len()) for as long as it is mapped; memunmap_pages() drops them.
    // For generation MEMORY_DEVICE_GENERIC pgmaps (device-DAX) here.
    if generic {
        if let Some(m) = mapped(pgmap) {
            m.tryget_many(pages);
        }
    }
    let first = ranges.first().map_or(0, |r| r.start);
    Ok(0xffff_8880_0000_0000usize.wrapping_add(first as usize))
}

/// The pins a pgmap whose pages idle at 1 holds while mapped: one per page
/// of its spans (`pagemap_range()`'s `percpu_ref_get_many(pfn_len)`).
fn lifetime_pins(spans: &[Span]) -> i64 {
    spans
        .iter()
        .map(|s| (s.end_pfn + 1 - s.first_pfn) as i64)
        .sum()
}

/// `memunmap_pages()`: kill the pgmap's ref, wait (bounded) for every
/// reference to go, then remove its spans (which retires its memmap) and
/// free its state.
pub fn memunmap_pages(pgmap: PgmapPtr) {
    let (Some(m), Some(done), Some(r)) = (mapped(pgmap), pgmap.done(), pgmap.ref_()) else {
        crate::warn_if!(
            "memunmap_pages",
            true,
            "memunmap_pages() of pgmap {:p}, which is not mapped",
            pgmap.ptr()
        );
        return;
    };
    if crate::warn_if!(
        "memunmap_pages",
        m.st.unmapping.swap(true, Ordering::AcqRel),
        "memunmap_pages() of pgmap {:p} while it is already being unmapped",
        pgmap.ptr()
    ) {
        return;
    }
    if !m.is_dying() {
        m.ref_.kill();
    }
    // The lifetime pins pagemap_range() took (see register()).
    if generation::idle_refcount(pgmap.addr()) == 1 {
        m.put_many(lifetime_pins(&m.st.spans));
    }
    if !m.ref_.is_zero() {
        UNMAP_WAITS.fetch_add(1, Ordering::Relaxed);
    }
    // A completion that comes while references remain is a stray
    // complete() of pgmap->done (C can reach it): keep waiting.
    let bound = crate::sync::wait_bound();
    let deadline = crate::sync::deadline(bound);
    let mut drained = false;
    while !drained {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if !crate::sync::wait_timeout(done, left) {
            break;
        }
        drained = m.ref_.is_zero();
    }
    if !drained {
        let held = m.held_pfns();
        let mut list = String::new();
        for (pfn, count) in held.iter().take(16) {
            list.push_str(&format!("\n  pfn {pfn:#x} refcount {count}"));
        }
        if held.len() > 16 {
            list.push_str(&format!("\n  ... and {} more", held.len() - 16));
        }
        crate::warn_if!(
            "memunmap_pages",
            true,
            "memunmap_pages(): {} pgmap references still held after {} ms; \
             leaving pgmap {:p} dead but mapped.{list}",
            m.ref_.count(),
            bound.as_millis(),
            pgmap.ptr()
        );
        m.st.abandoned.store(true, Ordering::Release);
        return;
    }
    memmap::remove_spans(pgmap.addr());
    let token = m.ref_.owner();
    // After this the pgmap reads as never mapped.
    percpu_ref::exit(r);
    // SAFETY: `token` is the Box::into_raw of memremap_pages(); the ref
    // that carried it is exited, so no lookup can reach the state again.
    drop(unsafe { Box::from_raw(token as *mut PgmapState) });
}

/// Physical ranges (inclusive) of every mapped pgmap, for the resource
/// tree's free-region search.
pub fn mapped_ranges() -> Vec<(u64, u64)> {
    let spans = memmap::spans();
    let mut out = Vec::new();
    for p in spans.pgmaps() {
        if let Some(m) = mapped(PgmapPtr::registered(p)) {
            out.extend(m.st.spans.iter().map(|s| {
                (
                    s.start_pfn << PAGE_SHIFT,
                    ((s.end_pfn + 1) << PAGE_SHIFT) - 1,
                )
            }));
        }
    }
    out
}

/// `get_dev_pagemap()`: the live pgmap holding `pfn`, with a reference;
/// `cached` itself if its first range holds `pfn` (its reference is
/// reused), else `cached`'s reference is dropped.
pub fn get_dev_pagemap(pfn: u64, cached: PgmapPtr) -> *mut DevPagemap {
    if let Some(r) = cached.range(0) {
        if mapped(cached).is_some() && pfn >= r.start >> PAGE_SHIFT && pfn <= r.end >> PAGE_SHIFT {
            return cached.ptr();
        }
        put_dev_pagemap(cached);
    }
    let spans = memmap::spans();
    let Some(span) = spans.find(pfn) else {
        return core::ptr::null_mut();
    };
    match mapped(PgmapPtr::registered(span.pgmap)) {
        Some(m) if m.ref_.tryget_live() => span.pgmap as *mut DevPagemap,
        _ => core::ptr::null_mut(),
    }
}

/// `put_dev_pagemap()`.
#[inline]
pub fn put_dev_pagemap(pgmap: PgmapPtr) {
    if pgmap.ptr().is_null() {
        return;
    }
    match mapped(pgmap) {
        Some(m) => m.put(),
        None => {
            crate::warn_if!(
                "put_dev_pagemap",
                true,
                "put_dev_pagemap() of pgmap {:p}, which is not mapped",
                pgmap.ptr()
            );
        }
    }
}

/// `pgmap_pfn_valid()`.
pub fn pfn_valid(pgmap: PgmapPtr, pfn: u64) -> bool {
    let Some(m) = mapped(pgmap) else {
        crate::warn_if!(
            "pgmap_pfn_valid",
            true,
            "pgmap_pfn_valid() on pgmap {:p}, which is not mapped",
            pgmap.ptr()
        );
        return false;
    };
    m.st.spans
        .iter()
        .find(|s| pfn >= s.start_pfn && pfn <= s.end_pfn)
        .is_some_and(|s| pfn >= s.first_pfn)
}

/// References held on a pgmap by pages and `get_dev_pagemap()` callers;
/// -1 if it is not mapped.
pub fn pins(pgmap: PgmapPtr) -> i64 {
    mapped(pgmap).map_or(-1, Mapped::pins)
}

/// `memunmap_pages()` calls that found references left after the kill and
/// so had to wait for them (whether they then came or not).
static UNMAP_WAITS: AtomicU64 = AtomicU64::new(0);

pub fn unmap_waits() -> u64 {
    UNMAP_WAITS.load(Ordering::Relaxed)
}

/// Is this pgmap's `memunmap_pages()` given up on?
pub fn is_abandoned(pgmap: PgmapPtr) -> bool {
    mapped(pgmap).is_some_and(Mapped::is_abandoned)
}

/// Referenced ZONE_DEVICE pages of a mapped pgmap (0 if not mapped).
pub fn busy_pages(pgmap: PgmapPtr) -> usize {
    mapped(pgmap).map_or(0, |m| m.held_pfns().len())
}

/// One mapped pgmap, as the ledger reports it.
#[derive(Debug)]
pub struct MappedReport {
    pub addr: usize,
    pub pins: i64,
    pub abandoned: bool,
    /// Referenced pages: (pfn, refcount).
    pub held: Vec<(u64, i32)>,
}

/// Every mapped pgmap, read with the span table locked, so that none can
/// finish `memunmap_pages()` (and free its state) meanwhile.
pub fn report() -> Vec<MappedReport> {
    let spans = memmap::spans();
    let mut out = Vec::new();
    for addr in spans.pgmaps() {
        if let Some(m) = mapped(PgmapPtr::registered(addr)) {
            out.push(MappedReport {
                addr,
                pins: m.pins(),
                abandoned: m.is_abandoned(),
                held: held_in(&spans, addr),
            });
        }
    }
    out
}

/// Distinct pgmaps currently registered.
pub fn mapped_pgmaps() -> Vec<usize> {
    memmap::spans().pgmaps()
}
