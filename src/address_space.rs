// SPDX-License-Identifier: GPL-2.0-only
//! Process address spaces, small enough to read at once (docs/DESIGN.md
//! §10): a `struct mm_struct` with its `vm_area_struct`s, and for each page
//! of them at most one entry, kept in a map instead of page tables:
//!
//! - `Present`: a system (or device coherent) page mapped for the CPU;
//! - `Swap`: a non-present entry in the kernel's `swp_entry_t` form, either
//!   a device-private entry (the page lives on the device) or a migration
//!   entry (the page is being migrated; `migrate_vma_*` installed it).
//!
//! Every `Present` or device-private entry holds one reference on its page
//! and one `_mapcount`, as a kernel pte does; a migration entry holds
//! none (the migration holds the page). A CPU access (`access()`) faults as
//! the kernel does: a hole gets a fresh zeroed system page, a device-private
//! entry calls its pgmap's `->migrate_to_ram()`. `mmput()` of the last user
//! tears every entry down, putting its page.
//!
//! The mm and its VMAs are `kmalloc()`s of the library's slab, so a leaked
//! mm shows in the ledger; the entries live here, keyed by the mm's address.

use crate::memmap;
use crate::page;
use crate::pgmap::{self, PgmapPtr};
pub use crate::pte::Pte;
use crate::slab;
use crate::types::{Page, MEMORY_DEVICE_COHERENT, MEMORY_DEVICE_PRIVATE};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicI32, AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

pub const PAGE_SIZE: u64 = 4096;

/// `vm_flags` bits (Linux 6.1, include/linux/mm.h).
pub const VM_READ: usize = 0x1;
pub const VM_WRITE: usize = 0x2;
pub const VM_PFNMAP: usize = 0x400;
pub const VM_IO: usize = 0x4000;
pub const VM_DONTEXPAND: usize = 0x40000;
pub const VM_HUGETLB: usize = 0x400000;
pub const VM_MIXEDMAP: usize = 0x1000_0000;
/// `VM_SPECIAL`.
pub const VM_SPECIAL: usize = VM_IO | VM_DONTEXPAND | VM_PFNMAP | VM_MIXEDMAP;

/// `struct mm_struct` as C sees it.
#[repr(C)]
pub struct MmStruct {
    pub mm_users: AtomicI32,
    pub mm_count: AtomicI32,
    pub map_count: AtomicI32,
    pub task_size: AtomicUsize,
}

/// `struct vm_area_struct` as C sees it (the fields drivers read).
#[repr(C)]
pub struct VmAreaStruct {
    pub vm_start: AtomicUsize,
    pub vm_end: AtomicUsize,
    pub vm_mm: AtomicUsize,
    pub vm_flags: AtomicUsize,
    pub vm_ops: AtomicUsize,
    pub vm_pgoff: AtomicUsize,
    pub vm_file: AtomicUsize,
    pub vm_private_data: AtomicUsize,
}

/// What the model reads of a VMA.
#[derive(Clone, Copy, Debug)]
pub struct Vma {
    pub ptr: usize,
    pub mm: usize,
    pub start: u64,
    pub end: u64,
    pub flags: usize,
    pub anonymous: bool,
    pub pgoff: u64,
    /// `vm_file` (0 for none) and `vm_ops`.
    pub file: usize,
    pub ops: usize,
}

struct MmState {
    vmas: Vec<usize>,
    ptes: BTreeMap<u64, Pte>,
    /// mmap_lock: readers, or -1 for a writer.
    lock: Arc<AtomicI64>,
}

static MMS: Mutex<Option<HashMap<usize, MmState>>> = Mutex::new(None);

fn mms() -> MutexGuard<'static, Option<HashMap<usize, MmState>>> {
    MMS.lock().unwrap_or_else(|e| e.into_inner())
}

fn with_mm<R>(mm: usize, f: impl FnOnce(&mut MmState) -> R) -> Option<R> {
    mms().as_mut()?.get_mut(&mm).map(f)
}

/// The mm at `mm`, if the library made it and it is alive.
fn mm_ref(mm: usize) -> Option<&'static MmStruct> {
    if !mms().as_ref().is_some_and(|m| m.contains_key(&mm)) {
        return None;
    }
    // SAFETY: registered mms are slab allocations of an MmStruct that stay
    // allocated until mmdrop() unregisters them; MmStruct is all atomics.
    Some(unsafe { &*(mm as *const MmStruct) })
}

fn vma_ref(vma: usize) -> &'static VmAreaStruct {
    // SAFETY: only called with the address of a VMA a live mm lists: a
    // slab allocation of a VmAreaStruct (all atomics) freed only when the
    // mm is torn down.
    unsafe { &*(vma as *const VmAreaStruct) }
}

fn read_vma(vma: usize) -> Vma {
    let v = vma_ref(vma);
    Vma {
        ptr: vma,
        mm: v.vm_mm.load(Ordering::Acquire),
        start: v.vm_start.load(Ordering::Acquire) as u64,
        end: v.vm_end.load(Ordering::Acquire) as u64,
        flags: v.vm_flags.load(Ordering::Acquire),
        anonymous: v.vm_ops.load(Ordering::Acquire) == 0,
        pgoff: v.vm_pgoff.load(Ordering::Acquire) as u64,
        file: v.vm_file.load(Ordering::Acquire),
        ops: v.vm_ops.load(Ordering::Acquire),
    }
}

/// Number of live mms.
pub fn live() -> u64 {
    mms().as_ref().map_or(0, |m| m.len() as u64)
}

/// A new mm: one user, one count, no VMA.
pub fn create() -> Option<usize> {
    let p = slab::alloc(
        core::mem::size_of::<MmStruct>(),
        true,
        "memremap_mm_create",
        0,
    ) as usize;
    if p == 0 {
        return None;
    }
    // SAFETY: a fresh, zeroed, suitably aligned (malloc) allocation of an
    // MmStruct's size; all-zero is a valid MmStruct.
    let mm = unsafe { &*(p as *const MmStruct) };
    mm.mm_users.store(1, Ordering::Relaxed);
    mm.mm_count.store(1, Ordering::Relaxed);
    mm.task_size.store(0x7fff_ffff_f000, Ordering::Relaxed);
    mms().get_or_insert_with(HashMap::new).insert(
        p,
        MmState {
            vmas: Vec::new(),
            ptes: BTreeMap::new(),
            lock: Arc::new(AtomicI64::new(0)),
        },
    );
    Some(p)
}

/// Add an anonymous VMA `[start, end)` to `mm`.
pub fn add_vma(mm: usize, start: u64, end: u64, flags: usize) -> Result<usize, i32> {
    if crate::warn_if!(
        "memremap_mm_add_vma",
        start % PAGE_SIZE != 0 || end % PAGE_SIZE != 0 || start >= end,
        "VMA [{start:#x}, {end:#x}) is not a page-aligned, non-empty range"
    ) {
        return Err(libc::EINVAL);
    }
    let Some(mm_s) = mm_ref(mm) else {
        crate::warn_if!("memremap_mm_add_vma", true, "{mm:#x} is not a live mm");
        return Err(libc::EINVAL);
    };
    let clash = with_mm(mm, |st| {
        st.vmas.iter().any(|&v| {
            let v = read_vma(v);
            v.start < end && start < v.end
        })
    })
    .unwrap_or(true);
    if crate::warn_if!(
        "memremap_mm_add_vma",
        clash,
        "VMA [{start:#x}, {end:#x}) overlaps another"
    ) {
        return Err(libc::EEXIST);
    }
    let p = slab::alloc(
        core::mem::size_of::<VmAreaStruct>(),
        true,
        "memremap_mm_add_vma",
        0,
    ) as usize;
    if p == 0 {
        return Err(libc::ENOMEM);
    }
    let v = vma_ref(p);
    v.vm_start.store(start as usize, Ordering::Relaxed);
    v.vm_end.store(end as usize, Ordering::Relaxed);
    v.vm_mm.store(mm, Ordering::Relaxed);
    v.vm_flags.store(flags, Ordering::Relaxed);
    v.vm_pgoff
        .store((start / PAGE_SIZE) as usize, Ordering::Release);
    with_mm(mm, |st| st.vmas.push(p));
    mm_s.map_count.fetch_add(1, Ordering::Relaxed);
    Ok(p)
}

/// The VMA at `vma`, if a live mm lists it.
pub fn vma(vma: usize) -> Option<Vma> {
    let g = mms();
    let found = g.as_ref()?.values().any(|st| st.vmas.contains(&vma));
    found.then(|| read_vma(vma))
}

/// `find_vma()`: the first VMA ending above `addr`.
pub fn find_vma(mm: usize, addr: u64) -> Option<usize> {
    with_mm(mm, |st| {
        st.vmas
            .iter()
            .map(|&v| read_vma(v))
            .filter(|v| v.end > addr)
            .min_by_key(|v| v.start)
            .map(|v| v.ptr)
    })
    .flatten()
}

/// `vma_lookup()`: the VMA holding `addr`.
pub fn vma_lookup(mm: usize, addr: u64) -> Option<usize> {
    find_vma(mm, addr).filter(|&v| read_vma(v).start <= addr)
}

/// Is `mm` a live mm of the library?
pub fn is_mm(mm: usize) -> bool {
    mm_ref(mm).is_some()
}

// ---- references on the mm ----

/// `mmget()`.
pub fn mmget(mm: usize) {
    if let Some(m) = mm_ref(mm) {
        let old = m.mm_users.fetch_add(1, Ordering::AcqRel);
        crate::warn_if!("mmget", old <= 0, "mmget() of an mm with no users");
    }
}

/// `mmget_not_zero()`.
pub fn mmget_not_zero(mm: usize) -> bool {
    let Some(m) = mm_ref(mm) else {
        return false;
    };
    let mut v = m.mm_users.load(Ordering::Acquire);
    while v > 0 {
        match m
            .mm_users
            .compare_exchange(v, v + 1, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => return true,
            Err(now) => v = now,
        }
    }
    false
}

/// `mmgrab()`.
pub fn mmgrab(mm: usize) {
    if let Some(m) = mm_ref(mm) {
        m.mm_count.fetch_add(1, Ordering::AcqRel);
    }
}

/// `mmput()`: the last user tears the address space down (`exit_mmap()`).
pub fn mmput(mm: usize) {
    let Some(m) = mm_ref(mm) else {
        crate::warn_if!("mmput", true, "mmput() of {mm:#x}, not a live mm");
        return;
    };
    let old = m.mm_users.fetch_sub(1, Ordering::AcqRel);
    if crate::warn_if!("mmput", old <= 0, "mmput() of an mm with no users") {
        m.mm_users.fetch_add(1, Ordering::AcqRel);
        return;
    }
    if old == 1 {
        exit_mmap(mm);
        mmdrop(mm);
    }
}

/// `mmdrop()`: the last count frees the mm.
pub fn mmdrop(mm: usize) {
    let Some(m) = mm_ref(mm) else {
        crate::warn_if!("mmdrop", true, "mmdrop() of {mm:#x}, not a live mm");
        return;
    };
    let old = m.mm_count.fetch_sub(1, Ordering::AcqRel);
    if old != 1 {
        return;
    }
    let st = mms().as_mut().and_then(|g| g.remove(&mm));
    if let Some(st) = st {
        crate::warn_if!(
            "mmdrop",
            st.lock.load(Ordering::Acquire) != 0,
            "mm {mm:#x} freed with its mmap_lock held"
        );
        for v in st.vmas {
            slab::free(v as *mut u8);
        }
    }
    slab::free(mm as *mut u8);
}

/// Unmap everything: each entry drops its page's mapcount and reference,
/// then the VMAs go, as 6.1's `exit_mmap()` removes them and destroys the
/// tree (an `mmgrab()` holder's `find_vma()` finds none; `map_count` is
/// left as the kernel leaves it).
fn exit_mmap(mm: usize) {
    let vmas = with_mm(mm, |st| st.vmas.clone()).unwrap_or_default();
    for v in vmas.into_iter().map(read_vma) {
        crate::mmu_notifier::invalidate(
            mm,
            v.ptr,
            v.start,
            v.end,
            crate::mmu_notifier::MMU_NOTIFY_UNMAP,
            0,
        );
    }
    let ptes = with_mm(mm, |st| std::mem::take(&mut st.ptes)).unwrap_or_default();
    for (addr, pte) in ptes {
        if crate::warn_if!(
            "exit_mmap",
            pte.is_migration(),
            "mm {mm:#x} torn down with a migration in flight at {addr:#x}"
        ) {
            continue;
        }
        if let Some(p) = memmap::page_of(pte.pfn()) {
            rmap_remove(p);
            page::put(page::head(p));
        }
    }
    let vmas = with_mm(mm, |st| std::mem::take(&mut st.vmas)).unwrap_or_default();
    for v in vmas {
        slab::free(v as *mut u8);
    }
}

// ---- mmap_lock ----

fn lock_of(mm: usize) -> Option<Arc<AtomicI64>> {
    with_mm(mm, |st| st.lock.clone())
}

/// Take the mmap lock for reading (`write` false) or writing, waiting up to
/// the library's bound; false (and a WARN) if it could not be had.
pub fn mmap_lock(mm: usize, write: bool, wait: bool) -> bool {
    let Some(l) = lock_of(mm) else {
        crate::warn_if!("mmap_lock", true, "mmap lock of {mm:#x}, not a live mm");
        return false;
    };
    let deadline = crate::sync::deadline(crate::sync::wait_bound());
    loop {
        let v = l.load(Ordering::Acquire);
        let (ok, new) = if write { (v == 0, -1) } else { (v >= 0, v + 1) };
        if ok
            && l.compare_exchange(v, new, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
        {
            return true;
        }
        if !wait {
            return false;
        }
        if std::time::Instant::now() >= deadline {
            crate::warn_if!(
                "mmap_lock",
                true,
                "mmap lock of {mm:#x} not had within the wait bound: deadlock?"
            );
            return false;
        }
        std::thread::yield_now();
    }
}

/// Release the mmap lock taken for reading or writing.
pub fn mmap_unlock(mm: usize, write: bool) {
    let Some(l) = lock_of(mm) else {
        crate::warn_if!("mmap_unlock", true, "mmap unlock of {mm:#x}, not a live mm");
        return;
    };
    let r = if write {
        l.compare_exchange(-1, 0, Ordering::AcqRel, Ordering::Acquire)
    } else {
        l.fetch_update(Ordering::AcqRel, Ordering::Acquire, |v| {
            (v > 0).then_some(v - 1)
        })
    };
    crate::warn_if!(
        "mmap_unlock",
        r.is_err(),
        "mmap_{}_unlock() of {mm:#x}, which is not so locked",
        if write { "write" } else { "read" }
    );
}

/// Is the mmap lock held (either way)?
pub fn mmap_is_locked(mm: usize) -> bool {
    lock_of(mm).is_some_and(|l| l.load(Ordering::Acquire) != 0)
}

// ---- entries ----

/// The entry at `addr` (page-aligned).
pub fn entry(mm: usize, addr: u64) -> Option<Pte> {
    with_mm(mm, |st| st.ptes.get(&addr).copied()).flatten()
}

/// Replace the entry at `addr` if it is `old` (None: no entry) with `new`.
pub fn replace(mm: usize, addr: u64, old: Option<Pte>, new: Option<Pte>) -> bool {
    with_mm(mm, |st| {
        if st.ptes.get(&addr).copied() != old {
            return false;
        }
        match new {
            Some(n) => st.ptes.insert(addr, n),
            None => st.ptes.remove(&addr),
        };
        true
    })
    .unwrap_or(false)
}

/// Every entry naming `pfn`, in every mm: (mm, address, entry).
pub fn entries_of(pfn: u64) -> Vec<(usize, u64, Pte)> {
    let g = mms();
    let mut out = Vec::new();
    for (&mm, st) in g.iter().flat_map(|m| m.iter()) {
        for (&addr, &pte) in &st.ptes {
            if pte.pfn() == pfn {
                out.push((mm, addr, pte));
            }
        }
    }
    out
}

/// The VMA of `mm` holding `addr`, read.
pub fn vma_at(mm: usize, addr: u64) -> Option<Vma> {
    vma_lookup(mm, addr).map(read_vma)
}

/// Every VMA of every live mm, read: (mm, VMA).
pub fn all_vmas() -> Vec<(usize, Vma)> {
    let vmas: Vec<(usize, usize)> = mms()
        .iter()
        .flat_map(|m| m.iter())
        .flat_map(|(&mm, st)| st.vmas.iter().map(move |&v| (mm, v)))
        .collect();
    vmas.into_iter().map(|(mm, v)| (mm, read_vma(v))).collect()
}

/// Take the entries of `mm` in `[start, end)` out of its map.
pub fn take_entries(mm: usize, start: u64, end: u64) -> Vec<(u64, Pte)> {
    with_mm(mm, |st| {
        let keys: Vec<u64> = st.ptes.range(start..end).map(|(&a, _)| a).collect();
        keys.into_iter()
            .filter_map(|a| st.ptes.remove(&a).map(|p| (a, p)))
            .collect()
    })
    .unwrap_or_default()
}

/// Unlink `vma` from `mm` and free it (its entries are gone already).
pub fn remove_vma(mm: usize, vma: usize) -> bool {
    let found = with_mm(mm, |st| {
        let n = st.vmas.len();
        st.vmas.retain(|&v| v != vma);
        n != st.vmas.len()
    })
    .unwrap_or(false);
    if found {
        if let Some(m) = mm_ref(mm) {
            m.map_count.fetch_sub(1, Ordering::Relaxed);
        }
        slab::free(vma as *mut u8);
    }
    found
}

/// Entries of `mm` that are not none.
pub fn entry_count(mm: usize) -> u64 {
    with_mm(mm, |st| st.ptes.len() as u64).unwrap_or(0)
}

// ---- rmap: mapcount and the anon mapping ----

/// `page_add_anon_rmap()`: one more mapping; a page mapped for the first
/// time becomes anonymous (`mapping` = the VMA | PAGE_MAPPING_ANON) at the
/// VMA's linear index.
pub fn rmap_add(p: &Page, vma: &Vma, addr: u64) {
    p.mapcount.fetch_add(1, Ordering::AcqRel);
    if p.mapping.load(Ordering::Acquire) == 0 {
        p.index.store(
            (vma.pgoff + (addr - vma.start) / PAGE_SIZE) as usize,
            Ordering::Relaxed,
        );
        p.mapping.store(vma.ptr | 1, Ordering::Release);
    }
}

/// `page_remove_rmap()`.
pub fn rmap_remove(p: &Page) {
    let old = p.mapcount.fetch_sub(1, Ordering::AcqRel);
    if crate::warn_page_if!(
        "page_remove_rmap",
        p,
        old < 0,
        "page_remove_rmap() of a page that is not mapped"
    ) {
        p.mapcount.fetch_add(1, Ordering::AcqRel);
    }
}

/// `page_mapcount()`.
pub fn mapcount(p: &Page) -> i32 {
    p.mapcount.load(Ordering::Acquire) + 1
}

/// The pgmap type and owner of a ZONE_DEVICE page.
pub fn pgmap_type_owner(p: &Page) -> Option<(u32, usize)> {
    let pg = PgmapPtr::registered(page::pgmap_of(p)?);
    pgmap::mapped(pg)?;
    Some((pg.type_()?, pg.owner()?))
}

pub fn is_device_private(p: &Page) -> bool {
    pgmap_type_owner(p).is_some_and(|(t, _)| t == MEMORY_DEVICE_PRIVATE)
}

pub fn is_device_coherent(p: &Page) -> bool {
    pgmap_type_owner(p).is_some_and(|(t, _)| t == MEMORY_DEVICE_COHERENT)
}
