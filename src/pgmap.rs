// SPDX-License-Identifier: GPL-2.0-only
//! `struct dev_pagemap`: `memremap_pages()` and its validation, the registry
//! of mapped pfns (the kernel's `pgmap_array`), `get_dev_pagemap()`, pins,
//! and `memunmap_pages()` with a bounded wait.

use crate::offset::RangeIndex;
use crate::percpu_ref::{self, RefData};
use crate::types::*;
use std::collections::BTreeMap;
use std::ptr::addr_of;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, RwLock};

/// What the memmap needs to know about the range holding a pfn.
#[derive(Clone, Copy, Debug)]
pub struct Span {
    /// The `struct dev_pagemap *` (as an address).
    pub pgmap: usize,
    /// First and last pfn of the range.
    pub start_pfn: u64,
    pub end_pfn: u64,
    /// First pfn with a ZONE_DEVICE page (past the altmap's reservation).
    pub first_pfn: u64,
    /// `vmemmap_shift`: folio order.
    pub shift: u32,
}

/// The library's side of a mapped pgmap; it lives in the pgmap's
/// `percpu_ref` data, so it goes when `percpu_ref_exit()` does.
#[derive(Debug)]
pub struct PgmapState {
    pub pgmap: usize,
    pub index: RangeIndex,
    /// One per range, array order.
    pub spans: Vec<Span>,
    /// Memmap chunks created for this pgmap.
    pub chunks: Mutex<Vec<u64>>,
    unmapping: AtomicBool,
    abandoned: AtomicBool,
}

/// pfn ranges mapped by live pgmaps, keyed by first pfn.
static REGISTRY: RwLock<BTreeMap<u64, Span>> = RwLock::new(BTreeMap::new());
/// pgmaps whose `memunmap_pages()` gave up waiting (kept for the ledger).
static ABANDONED: Mutex<Vec<usize>> = Mutex::new(Vec::new());
/// `devm_memremap_pages()` registrations: (device, pgmap).
static DEVRES: Mutex<Vec<(usize, usize)>> = Mutex::new(Vec::new());

/// A `struct dev_pagemap *` as C passed it: null, or the caller's struct.
/// All reads of the C struct go through here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PgmapPtr(*mut DevPagemap);

impl PgmapPtr {
    /// `p` must stay allocated while the library may use it: until
    /// `memunmap_pages()` returns and its pages are all put.
    /// # Safety
    /// `p` is null or a `struct dev_pagemap` followed by its `nr_range`
    /// ranges, kept allocated as above (the kernel's rule too).
    pub unsafe fn new(p: *mut DevPagemap) -> Self {
        PgmapPtr(p)
    }

    /// A pgmap the library registered: a span's or a page's `pgmap`.
    pub(crate) fn registered(addr: usize) -> Self {
        // SAFETY: only memremap_pages() registers pgmaps, and it was given
        // one that obeys `new`'s contract.
        unsafe { Self::new(addr as *mut DevPagemap) }
    }

    pub fn ptr(self) -> *mut DevPagemap {
        self.0
    }

    pub fn addr(self) -> usize {
        self.0 as usize
    }

    /// `&pgmap->ref`.
    #[inline(always)]
    fn ref_(self) -> Option<&'static PercpuRef> {
        // SAFETY: per `new`, a pointer `raw` lets through is a live struct;
        // `ref` is two atomic words, valid to read whatever they hold.
        unsafe { self.raw()?.as_ref().map(|p| &*addr_of!(p.ref_)) }
    }

    /// The pointer, unless NULL or misaligned: a misaligned one (a tail
    /// page's `pgmap` word is `head | 1`) is no pgmap, and nothing is read.
    #[inline(always)]
    fn raw(self) -> Option<*const DevPagemap> {
        let aligned = self.addr() % core::mem::align_of::<DevPagemap>() == 0;
        (aligned && !self.0.is_null()).then_some(self.0 as *const DevPagemap)
    }

    /// `&pgmap->done`.
    fn done(self) -> Option<&'static Completion> {
        // SAFETY: as in ref_(); `done` starts with its atomic futex word.
        unsafe { self.raw()?.as_ref().map(|p| &*addr_of!(p.done)) }
    }

    /// `pgmap->ranges[i]`, for `i < nr_range` (range 0 always exists).
    fn range(self, i: usize) -> Option<Range> {
        // SAFETY: per `new`, the struct is followed by nr_range ranges, and
        // callers stay below nr_range (or read range 0, inside the struct).
        unsafe {
            self.raw()?
                .as_ref()
                .map(|p| addr_of!(p.range).add(i).read())
        }
    }

    /// `pgmap->ops`, read now (as the kernel does).
    fn ops(self) -> Option<&'static DevPagemapOps> {
        // SAFETY: per `new`; `ops` is null or the caller's ops table, which
        // outlives the pgmap.
        unsafe {
            self.0
                .as_ref()
                .and_then(|p| addr_of!(p.ops).read().as_ref())
        }
    }

    /// `pgmap->type`.
    pub fn type_(self) -> Option<u32> {
        // SAFETY: per `new`; a plain field read by value.
        unsafe { self.raw()?.as_ref().map(|p| addr_of!(p.type_).read()) }
    }

    /// `pgmap->owner`.
    pub fn owner(self) -> Option<usize> {
        // SAFETY: per `new`; a plain field read by value.
        unsafe {
            self.raw()?
                .as_ref()
                .map(|p| addr_of!(p.owner).read() as usize)
        }
    }

    /// `pgmap->ops->migrate_to_ram`, read now.
    pub fn migrate_to_ram(self) -> Option<unsafe extern "C" fn(*mut core::ffi::c_void) -> u32> {
        self.ops().and_then(|o| o.migrate_to_ram)
    }

    /// What `memremap_pages()` reads from the caller's struct.
    fn config(self) -> Option<Config> {
        let p = self.raw()?;
        // SAFETY: per `new`, `p` is a live struct; fields are read by value
        // through raw pointers, never referenced.
        unsafe {
            Some(Config {
                ty: addr_of!((*p).type_).read(),
                flags: addr_of!((*p).flags).read(),
                shift: addr_of!((*p).vmemmap_shift).read(),
                owner: addr_of!((*p).owner).read() as usize,
                nr_range: addr_of!((*p).nr_range).read(),
                altmap_offset: altmap_offset(
                    addr_of!((*p).altmap.reserve).read(),
                    addr_of!((*p).altmap.free).read(),
                ),
            })
        }
    }
}

impl std::fmt::Pointer for PgmapPtr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Pointer::fmt(&self.0, f)
    }
}

/// A pgmap reads as live from `memremap_pages()` until `memunmap_pages()`
/// succeeds. Callers must not race `memunmap_pages()` on the same pgmap
/// (the kernel's rule: the caller keeps it live). The ref's check word
/// ties it to its own address, so a byte copy of a mapped pgmap is not one.
#[inline(always)]
pub fn state(pgmap: PgmapPtr) -> Option<(&'static RefData, &'static PgmapState)> {
    let d = percpu_ref::data(pgmap.ref_()?)?;
    Some((d, d.pgmap.as_ref()?))
}

/// Run `f` on the span holding `pfn` and its pgmap's state, with the
/// registry read-locked (so the pgmap stays mapped meanwhile).
pub fn with_span<R>(pfn: u64, f: impl FnOnce(&Span, &PgmapState) -> R) -> Option<R> {
    let reg = REGISTRY.read().unwrap_or_else(|e| e.into_inner());
    let (_, span) = reg.range(..=pfn).next_back()?;
    if pfn > span.end_pfn {
        return None;
    }
    let (_, st) = state(PgmapPtr::registered(span.pgmap))?;
    Some(f(span, st))
}

/// The pgmap mapping `pfn`, without taking a reference (`xa_load()` on the
/// kernel's `pgmap_array`).
pub fn lookup_pfn(pfn: u64) -> Option<usize> {
    with_span(pfn, |span, _| span.pgmap)
}

/// What `memremap_pages()` reads from the caller's struct.
struct Config {
    ty: u32,
    flags: u32,
    shift: u64,
    owner: usize,
    nr_range: i32,
    altmap_offset: u64,
}

/// `vmem_altmap_offset()`.
pub fn altmap_offset(reserve: u64, free: u64) -> u64 {
    reserve.wrapping_add(free)
}

const SUBSECTION_BYTES: u64 = 1 << SUBSECTION_SHIFT;
const MAX_SHIFT: u64 = 30;

fn check_type(c: &Config, pgmap: PgmapPtr) -> Result<(), i32> {
    let ops = pgmap.ops();
    let has = |f: fn(&DevPagemapOps) -> bool| ops.is_some_and(f);
    match c.ty {
        MEMORY_DEVICE_PRIVATE => {
            if crate::warn_if!(
                "memremap_pages",
                !has(|o| o.migrate_to_ram.is_some()),
                "Missing migrate_to_ram method"
            ) || crate::warn_if!(
                "memremap_pages",
                !has(|o| o.page_free.is_some()),
                "Missing page_free method"
            ) || crate::warn_if!("memremap_pages", c.owner == 0, "Missing owner")
            {
                return Err(libc::EINVAL);
            }
        }
        MEMORY_DEVICE_COHERENT => {
            if crate::warn_if!(
                "memremap_pages",
                !has(|o| o.page_free.is_some()),
                "Missing page_free method"
            ) || crate::warn_if!("memremap_pages", c.owner == 0, "Missing owner")
            {
                return Err(libc::EINVAL);
            }
        }
        MEMORY_DEVICE_FS_DAX | MEMORY_DEVICE_GENERIC | MEMORY_DEVICE_PCI_P2PDMA => {}
        other => {
            crate::warn_if!("memremap_pages", true, "Invalid pgmap type {other}");
        }
    }
    Ok(())
}

/// Check range `i` and compute its span (no registry access).
fn check_range(r: Range, i: usize, c: &Config, pgmap: usize) -> Result<Span, i32> {
    let len = r.end.wrapping_sub(r.start).wrapping_add(1);
    if r.end < r.start || len == 0 {
        return Err(libc::EINVAL);
    }
    if crate::warn_if!(
        "memremap_pages",
        r.start % SUBSECTION_BYTES != 0 || len % SUBSECTION_BYTES != 0,
        "range {i} [{:#x}-{:#x}] is not aligned to a 2 MiB subsection",
        r.start,
        r.end
    ) {
        return Err(libc::EINVAL);
    }
    if crate::warn_if!(
        "memremap_pages",
        r.end >> MAX_PHYSMEM_BITS != 0,
        "Hotplug memory [{:#x}-{:#x}] exceeds maximum addressable address {:#x}",
        r.start,
        r.end,
        (1u64 << MAX_PHYSMEM_BITS) - 1
    ) {
        return Err(libc::E2BIG);
    }
    let start_pfn = r.start >> PAGE_SHIFT;
    let end_pfn = r.end >> PAGE_SHIFT;
    let reserved = if i == 0 && c.flags & PGMAP_ALTMAP_VALID != 0 {
        c.altmap_offset
    } else {
        0
    };
    if crate::warn_if!(
        "memremap_pages",
        reserved > end_pfn - start_pfn + 1,
        "altmap reserves {reserved} pfns, more than range {i} holds"
    ) {
        return Err(libc::EINVAL);
    }
    let first_pfn = start_pfn + reserved;
    let folio = 1u64 << c.shift;
    if crate::warn_if!(
        "memremap_pages",
        first_pfn % folio != 0 || (end_pfn + 1 - first_pfn) % folio != 0,
        "range {i}: usable pfns [{first_pfn:#x}-{end_pfn:#x}] are not whole order-{} folios",
        c.shift
    ) {
        return Err(libc::EINVAL);
    }
    Ok(Span {
        pgmap,
        start_pfn,
        end_pfn,
        first_pfn,
        shift: c.shift as u32,
    })
}

/// Find a registered span overlapping `[start, end]`.
fn overlap(reg: &BTreeMap<u64, Span>, start: u64, end: u64) -> Option<Span> {
    let (_, s) = reg.range(..=end).next_back()?;
    (s.end_pfn >= start).then_some(*s)
}

unsafe extern "C" fn dev_pagemap_percpu_release(r: *mut PercpuRef) {
    let pgmap = (r as usize).wrapping_sub(core::mem::offset_of!(DevPagemap, ref_));
    // SAFETY: this release is installed only on the `ref` embedded in a
    // mapped struct dev_pagemap, so stepping back to its start is in bounds,
    // and the caller keeps the pgmap allocated while references exist.
    let done = unsafe { &*addr_of!((*(pgmap as *const DevPagemap)).done) };
    crate::sync::complete(done);
}

/// `memremap_pages()`: validate and register `pgmap`; the kernel's return
/// value is the direct-map address of range 0, which we imitate (it is
/// never dereferenceable here). Errors are positive errno values.
pub fn memremap_pages(pgmap: PgmapPtr) -> Result<usize, i32> {
    let Some(c) = pgmap.config() else {
        crate::warn_if!("memremap_pages", true, "NULL pgmap");
        return Err(libc::EINVAL);
    };
    if crate::warn_if!(
        "memremap_pages",
        state(pgmap).is_some(),
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
    check_type(&c, pgmap)?;
    let nr = c.nr_range as usize;
    if crate::warn_if!(
        "memremap_pages",
        c.flags & PGMAP_ALTMAP_VALID != 0 && nr > 1,
        "altmap not supported for multiple ranges"
    ) || crate::warn_if!(
        "memremap_pages",
        c.shift > MAX_SHIFT,
        "vmemmap_shift {} is larger than this model supports ({MAX_SHIFT})",
        c.shift
    ) {
        return Err(libc::EINVAL);
    }
    let ranges: Vec<Range> = (0..nr).filter_map(|i| pgmap.range(i)).collect();

    let mut reg = REGISTRY.write().unwrap_or_else(|e| e.into_inner());
    let mut spans = Vec::with_capacity(nr);
    let mut result = Ok(());
    for (i, r) in ranges.iter().enumerate() {
        let span = match check_range(*r, i, &c, pgmap.addr()) {
            Ok(s) => s,
            Err(e) => {
                result = Err(e);
                break;
            }
        };
        let clash = overlap(&reg, span.start_pfn, span.end_pfn).or_else(|| {
            spans
                .iter()
                .copied()
                .find(|s: &Span| s.start_pfn <= span.end_pfn && span.start_pfn <= s.end_pfn)
        });
        if crate::warn_if!(
            "memremap_pages",
            crate::memmap::system_overlaps(span.start_pfn, span.end_pfn),
            "attempted on System RAM region {:#x}-{:#x}",
            r.start,
            r.end
        ) {
            result = Err(libc::ENXIO);
            break;
        }
        if crate::warn_if!(
            "memremap_pages",
            clash.is_some(),
            "Conflicting mapping in same section: range {i} [{:#x}-{:#x}]",
            r.start,
            r.end
        ) {
            result = Err(libc::ENOMEM);
            break;
        }
        spans.push(span);
    }
    result?;
    let pairs: Vec<(u64, u64)> = spans.iter().map(|s| (s.start_pfn, s.end_pfn)).collect();
    let st = PgmapState {
        pgmap: pgmap.addr(),
        index: RangeIndex::new(&pairs),
        spans: spans.clone(),
        chunks: Mutex::new(Vec::new()),
        unmapping: AtomicBool::new(false),
        abandoned: AtomicBool::new(false),
    };
    let (Some(r), Some(done)) = (pgmap.ref_(), pgmap.done()) else {
        return Err(libc::EINVAL);
    };
    percpu_ref::init(r, Some(dev_pagemap_percpu_release), 0, Some(st))?;
    crate::sync::init_completion(done);
    for s in spans {
        reg.insert(s.start_pfn, s);
    }
    let first = ranges.first().map_or(0, |r| r.start);
    Ok(0xffff_8880_0000_0000usize.wrapping_add(first as usize))
}

/// `memunmap_pages()`: kill the pgmap's ref, wait (bounded) for every
/// reference to go, then unregister its pfns and retire its memmap.
pub fn memunmap_pages(pgmap: PgmapPtr) {
    let (Some((d, st)), Some(done), Some(r)) = (state(pgmap), pgmap.done(), pgmap.ref_()) else {
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
        st.unmapping.swap(true, Ordering::AcqRel),
        "memunmap_pages() of pgmap {:p} while it is already being unmapped",
        pgmap.ptr()
    ) {
        return;
    }
    if !d.is_dying() {
        d.kill();
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
        drained = d.is_zero();
    }
    if !drained {
        let held = held_pfns(st);
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
            d.count(),
            bound.as_millis(),
            pgmap.ptr()
        );
        st.abandoned.store(true, Ordering::Release);
        ABANDONED
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(pgmap.addr());
        return;
    }
    {
        let mut reg = REGISTRY.write().unwrap_or_else(|e| e.into_inner());
        for s in &st.spans {
            reg.remove(&s.start_pfn);
        }
    }
    let chunks = std::mem::take(&mut *st.chunks.lock().unwrap_or_else(|e| e.into_inner()));
    for c in chunks {
        crate::memmap::retire_chunk(c);
    }
    // After this the pgmap reads as never mapped.
    percpu_ref::exit(r);
}

/// ZONE_DEVICE pages of `st` whose folio is referenced: (pfn, refcount).
pub fn held_pfns(st: &PgmapState) -> Vec<(u64, i32)> {
    let chunks = st.chunks.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let mut held = Vec::new();
    for c in chunks {
        crate::memmap::for_each_page(c, |pfn, p| {
            let n = p.refcount.load(Ordering::Acquire);
            if n != 0 && crate::memmap::is_zone_device(p) {
                held.push((pfn, n));
            }
        });
    }
    held.sort_unstable();
    held
}

/// `devm_memremap_pages()`.
pub fn devm_memremap_pages(dev: usize, pgmap: PgmapPtr) -> Result<usize, i32> {
    let va = memremap_pages(pgmap)?;
    DEVRES
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push((dev, pgmap.addr()));
    Ok(va)
}

/// `devm_memunmap_pages()`.
pub fn devm_memunmap_pages(dev: usize, pgmap: PgmapPtr) {
    let found = {
        let mut list = DEVRES.lock().unwrap_or_else(|e| e.into_inner());
        let at = list.iter().position(|&e| e == (dev, pgmap.addr()));
        at.map(|i| list.remove(i)).is_some()
    };
    if crate::warn_if!(
        "devm_memunmap_pages",
        !found,
        "pgmap {:p} was not mapped by devm_memremap_pages() for device {dev:#x}",
        pgmap.ptr()
    ) {
        return;
    }
    memunmap_pages(pgmap);
}

/// Release every `devm_memremap_pages()` of `dev`, newest first, as the
/// driver core does when the device goes away.
pub fn devres_release_all(dev: usize) {
    let mine: Vec<usize> = {
        let mut list = DEVRES.lock().unwrap_or_else(|e| e.into_inner());
        let mine = list.iter().filter(|e| e.0 == dev).map(|e| e.1).collect();
        list.retain(|e| e.0 != dev);
        mine
    };
    for pgmap in mine.into_iter().rev() {
        memunmap_pages(PgmapPtr::registered(pgmap));
    }
}

/// `get_dev_pagemap()`: the live pgmap holding `pfn`, with a reference;
/// `cached` itself if its first range holds `pfn` (its reference is
/// reused), else `cached`'s reference is dropped.
pub fn get_dev_pagemap(pfn: u64, cached: PgmapPtr) -> *mut DevPagemap {
    if let Some(r) = cached.range(0) {
        if state(cached).is_some() && pfn >= r.start >> PAGE_SHIFT && pfn <= r.end >> PAGE_SHIFT {
            return cached.ptr();
        }
        put_dev_pagemap(cached);
    }
    let reg = REGISTRY.read().unwrap_or_else(|e| e.into_inner());
    let Some((_, span)) = reg.range(..=pfn).next_back() else {
        return core::ptr::null_mut();
    };
    if pfn > span.end_pfn {
        return core::ptr::null_mut();
    }
    match state(PgmapPtr::registered(span.pgmap)) {
        Some((d, _)) if d.tryget_live() => span.pgmap as *mut DevPagemap,
        _ => core::ptr::null_mut(),
    }
}

/// `put_dev_pagemap()`.
#[inline]
pub fn put_dev_pagemap(pgmap: PgmapPtr) {
    if pgmap.ptr().is_null() {
        return;
    }
    match state(pgmap) {
        Some((d, _)) => d.put(1),
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

/// The end of the free path: the pgmap's `page_free` for `page` (if it has
/// one), then the pin the 0 -> 1 step took, validating the pgmap once.
pub fn free_page(pgmap: usize, page: &Page) {
    let pgmap = PgmapPtr::registered(pgmap);
    let Some((d, _)) = state(pgmap) else {
        crate::warn_if!(
            "put_dev_pagemap",
            true,
            "put_dev_pagemap() of pgmap {pgmap:p}, which is not mapped"
        );
        return;
    };
    if let Some(f) = pgmap.ops().and_then(|o| o.page_free) {
        // SAFETY: `f` is the driver's page_free for this pgmap, called as
        // the kernel does, with the page whose last reference just went.
        unsafe { f(page as *const Page as *mut Page) }
    }
    d.put(1);
}

/// `pgmap_pfn_valid()`.
pub fn pfn_valid(pgmap: PgmapPtr, pfn: u64) -> bool {
    let Some((_, st)) = state(pgmap) else {
        crate::warn_if!(
            "pgmap_pfn_valid",
            true,
            "pgmap_pfn_valid() on pgmap {:p}, which is not mapped",
            pgmap.ptr()
        );
        return false;
    };
    st.spans
        .iter()
        .find(|s| pfn >= s.start_pfn && pfn <= s.end_pfn)
        .is_some_and(|s| pfn >= s.first_pfn)
}

/// References held on a pgmap by pages and `get_dev_pagemap()` callers:
/// its count less the initial reference (while not killed). -1 if unmapped.
pub fn pins(pgmap: PgmapPtr) -> i64 {
    match state(pgmap) {
        Some((d, _)) => d.count() - i64::from(!d.is_dying()),
        None => -1,
    }
}

/// Is this pgmap's `memunmap_pages()` given up on?
pub fn is_abandoned(pgmap: PgmapPtr) -> bool {
    state(pgmap).is_some_and(|(_, st)| st.abandoned.load(Ordering::Acquire))
}

/// Visit each mapped pgmap with the registry read-locked, so that none can
/// finish `memunmap_pages()` (and free its state) meanwhile.
pub fn for_each_mapped(mut f: impl FnMut(PgmapPtr, &PgmapState)) {
    let reg = REGISTRY.read().unwrap_or_else(|e| e.into_inner());
    for addr in distinct(&reg) {
        let p = PgmapPtr::registered(addr);
        if let Some((_, st)) = state(p) {
            f(p, st);
        }
    }
}

fn distinct(reg: &BTreeMap<u64, Span>) -> Vec<usize> {
    let mut v: Vec<usize> = reg.values().map(|s| s.pgmap).collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// Distinct pgmaps currently registered.
pub fn mapped_pgmaps() -> Vec<usize> {
    distinct(&REGISTRY.read().unwrap_or_else(|e| e.into_inner()))
}
