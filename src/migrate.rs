// SPDX-License-Identifier: GPL-2.0-only
//! Device migration: `migrate_vma_setup()/_pages()/_finalize()` and
//! `migrate_device_range()/_pages()/_finalize()`, written to the behaviour
//! of Linux 6.1's mm/migrate_device.c over the address-space model of
//! `address_space` (docs/DESIGN.md §10).
//!
//! Every reference is real: collecting a source page takes one (and its
//! lock), unmapping turns its mappings into migration entries and drops
//! theirs, installing a destination takes one per mapping, finalize drops
//! the migration's. A driver that forgets its part leaves a refcount, a
//! pgmap pin or a page lock behind, and the ledger or a WARN says so.

use crate::address_space::{self as aspace, Pte, Vma, PAGE_SIZE, VM_HUGETLB, VM_SPECIAL, VM_WRITE};
use crate::memmap;
use crate::mmu_notifier::{self as mmu, MMU_NOTIFY_CLEAR, MMU_NOTIFY_MIGRATE};
use crate::page;
use crate::types::Page;

/// `MIGRATE_PFN_*` (Linux 6.1 include/linux/migrate.h).
pub const MIGRATE_PFN_VALID: u64 = 1 << 0;
pub const MIGRATE_PFN_MIGRATE: u64 = 1 << 1;
pub const MIGRATE_PFN_WRITE: u64 = 1 << 3;
pub const MIGRATE_PFN_SHIFT: u32 = 6;
/// `enum migrate_vma_direction`.
pub const SELECT_SYSTEM: u64 = 1 << 0;
pub const SELECT_DEVICE_PRIVATE: u64 = 1 << 1;
pub const SELECT_DEVICE_COHERENT: u64 = 1 << 2;

/// `migrate_pfn()`.
pub fn migrate_pfn(pfn: u64) -> u64 {
    (pfn << MIGRATE_PFN_SHIFT) | MIGRATE_PFN_VALID
}

/// `migrate_pfn_to_page()`; a pfn no pgmap or allocator knows is None
/// (the kernel would hand out whatever struct page is there).
pub fn mpfn_page(mpfn: u64) -> Option<&'static Page> {
    if mpfn & MIGRATE_PFN_VALID == 0 {
        return None;
    }
    let pfn = mpfn >> MIGRATE_PFN_SHIFT;
    let p = memmap::page_of(pfn);
    crate::warn_if!(
        "migrate_pfn_to_page",
        p.is_none(),
        "migrate pfn {mpfn:#x}: pfn {pfn:#x} has no struct page"
    );
    p
}

fn pfn_of(p: &Page) -> u64 {
    memmap::page_to_pfn(p).unwrap_or(u64::MAX)
}

fn same(a: Option<&Page>, b: &Page) -> bool {
    a.is_some_and(|a| core::ptr::eq(a, b))
}

/// The fields of `struct migrate_vma` the migration reads.
pub struct Request {
    pub vma: usize,
    pub start: u64,
    pub end: u64,
    pub owner: usize,
    pub flags: u64,
    pub fault_page: Option<&'static Page>,
}

/// What `migrate_vma_setup()` writes back.
#[derive(Default)]
pub struct Collected {
    pub start: u64,
    pub end: u64,
    pub cpages: u64,
    pub npages: u64,
}

/// The page count the migration may see on a page it is about to move:
/// `migrate_vma_check_page()`.
fn check_page(p: &Page, fault_page: Option<&Page>) -> bool {
    let mut extra = 1 + i32::from(same(fault_page, p));
    if page::order(page::head(p)) > 0 {
        return false;
    }
    if memmap::is_zone_device(p) {
        extra += 1;
    }
    page::ref_count(p) - extra <= aspace::mapcount(p)
}

/// `try_to_migrate()`: every mapping of `p`, in every mm, becomes a
/// migration entry; each drops its mapcount and its reference.
fn try_to_migrate(p: &Page) {
    let pfn = pfn_of(p);
    for (mm, addr, pte) in aspace::entries_of(pfn) {
        if !pte.holds_page() {
            continue;
        }
        let vma = aspace::vma_lookup(mm, addr).unwrap_or(0);
        mmu::invalidate(mm, vma, addr, addr + PAGE_SIZE, MMU_NOTIFY_CLEAR, 0);
        if aspace::replace(mm, addr, Some(pte), Some(Pte::migration(pfn, pte.write()))) {
            aspace::rmap_remove(p);
            page::put(p);
        }
    }
}

/// `remove_migration_ptes(src, dst)`: every migration entry of `src`
/// becomes a mapping of `dst` (device-private if `dst` is), each with a
/// reference and a mapcount on `dst`.
fn remove_migration_ptes(src: &Page, dst: &Page) {
    let spfn = pfn_of(src);
    let dpfn = pfn_of(dst);
    let private = aspace::is_device_private(dst);
    for (mm, addr, pte) in aspace::entries_of(spfn) {
        if !pte.is_migration() {
            continue;
        }
        let Some(vma) = aspace::vma_at(mm, addr) else {
            continue;
        };
        let write = pte.write() && (private || vma.flags & VM_WRITE != 0);
        let new = if private {
            Pte::device_private(dpfn, write)
        } else {
            Pte::Present { pfn: dpfn, write }
        };
        if aspace::replace(mm, addr, Some(pte), Some(new)) {
            page::get(dst);
            aspace::rmap_add(dst, &vma, addr);
        }
    }
}

/// One page of the range: `migrate_vma_collect_pmd()`'s loop body.
fn collect_one(req: &Request, vma: &Vma, addr: u64, cpages: &mut u64) -> u64 {
    let Some(pte) = aspace::entry(vma.mm, addr) else {
        if vma.anonymous {
            *cpages += 1;
            return MIGRATE_PFN_MIGRATE;
        }
        return 0;
    };
    let Some(p) = memmap::page_of(pte.pfn()) else {
        return 0;
    };
    let owner = aspace::pgmap_type_owner(p).map(|(_, o)| o);
    let mpfn = if pte.is_device_private() {
        if req.flags & SELECT_DEVICE_PRIVATE == 0 || owner != Some(req.owner) {
            return 0;
        }
        migrate_pfn(pte.pfn()) | MIGRATE_PFN_MIGRATE
    } else if let Pte::Present { pfn, .. } = pte {
        if !memmap::is_zone_device(p) && req.flags & SELECT_SYSTEM == 0 {
            return 0;
        }
        if aspace::is_device_coherent(p)
            && (req.flags & SELECT_DEVICE_COHERENT == 0 || owner != Some(req.owner))
        {
            return 0;
        }
        migrate_pfn(pfn) | MIGRATE_PFN_MIGRATE
    } else {
        // A migration entry: someone else is migrating this page.
        return 0;
    };
    let mpfn = mpfn | if pte.write() { MIGRATE_PFN_WRITE } else { 0 };
    if p.mapping.load(core::sync::atomic::Ordering::Acquire) == 0 || page::order(page::head(p)) > 0
    {
        return 0;
    }
    page::get(p);
    if !page::trylock(p) {
        page::put(p);
        return 0;
    }
    let mig = Pte::migration(pte.pfn(), mpfn & MIGRATE_PFN_WRITE != 0);
    if !aspace::replace(vma.mm, addr, Some(pte), Some(mig)) {
        page::unlock(p);
        page::put(p);
        return 0;
    }
    *cpages += 1;
    aspace::rmap_remove(p);
    page::put(p);
    mpfn
}

/// `migrate_vma_setup()`: check the request, collect the range's pages
/// into `src` (locked, referenced, unmapped) and clear `dst`.
pub fn vma_setup(req: &Request, src: &mut [u64], dst: &mut [u64]) -> Result<Collected, i32> {
    let start = req.start & !(PAGE_SIZE - 1);
    let end = req.end & !(PAGE_SIZE - 1);
    let nr = (req.end.wrapping_sub(req.start) as i64) >> 12;
    let Some(vma) = aspace::vma(req.vma) else {
        crate::warn_if!(
            "migrate_vma_setup",
            req.vma != 0,
            "migrate_vma_setup(): vma {:#x} is no VMA of a live mm",
            req.vma
        );
        return Err(libc::EINVAL);
    };
    if vma.flags & (VM_SPECIAL | VM_HUGETLB) != 0
        || nr <= 0
        || start < vma.start
        || start >= vma.end
        || end <= vma.start
        || end > vma.end
    {
        return Err(libc::EINVAL);
    }
    if req
        .fault_page
        .is_some_and(|p| !aspace::is_device_private(p))
    {
        return Err(libc::EINVAL);
    }
    let nr = nr as usize;
    if src.len() < nr || dst.len() < nr {
        return Err(libc::EINVAL);
    }
    crate::warn_if!(
        "migrate_vma_setup",
        !aspace::mmap_is_locked(vma.mm),
        "migrate_vma_setup() without the mmap lock of mm {:#x}",
        vma.mm
    );
    mmu::invalidate(vma.mm, vma.ptr, start, end, MMU_NOTIFY_MIGRATE, req.owner);
    let mut out = Collected {
        start,
        ..Default::default()
    };
    let mut addr = start;
    while addr < end && (out.npages as usize) < nr {
        let i = out.npages as usize;
        src[i] = collect_one(req, &vma, addr, &mut out.cpages);
        dst[i] = 0;
        out.npages += 1;
        addr += PAGE_SIZE;
    }
    out.end = start + out.npages * PAGE_SIZE;
    if out.cpages != 0 {
        out.cpages = unmap(&mut src[..out.npages as usize], req.fault_page);
    }
    Ok(out)
}

/// `migrate_device_unmap()`: unmap every source still selected; those that
/// cannot move are restored, unlocked, put and cleared. Returns how many
/// entries can still migrate (holes included).
pub fn unmap(src: &mut [u64], fault_page: Option<&Page>) -> u64 {
    let mut unmapped = 0;
    let mut restore = false;
    for m in src.iter_mut() {
        let Some(p) = mpfn_page(*m) else {
            if *m & MIGRATE_PFN_MIGRATE != 0 {
                unmapped += 1;
            }
            continue;
        };
        // A system page would come off the LRU here, its isolation taking
        // the collection's reference: no LRU in this model, same count.
        if aspace::mapcount(p) > 0 {
            try_to_migrate(p);
        }
        if aspace::mapcount(p) > 0 || !check_page(p, fault_page) {
            *m &= !MIGRATE_PFN_MIGRATE;
            restore = true;
            continue;
        }
        unmapped += 1;
    }
    if restore {
        for m in src.iter_mut() {
            let Some(p) = mpfn_page(*m) else { continue };
            if *m & MIGRATE_PFN_MIGRATE != 0 {
                continue;
            }
            remove_migration_ptes(p, p);
            *m = 0;
            page::unlock(p);
            page::put(p);
        }
    }
    unmapped
}

/// `migrate_vma_insert_page()`: map the driver's `newpage` into a hole.
fn insert_page(vma: &Vma, addr: u64, newpage: &Page, src: &mut u64) {
    let private = aspace::is_device_private(newpage);
    if !vma.anonymous
        || (memmap::is_zone_device(newpage) && !private && !aspace::is_device_coherent(newpage))
    {
        *src &= !MIGRATE_PFN_MIGRATE;
        return;
    }
    let pfn = pfn_of(newpage);
    let write = vma.flags & VM_WRITE != 0;
    let pte = if private {
        Pte::device_private(pfn, write)
    } else {
        Pte::Present { pfn, write }
    };
    if !aspace::replace(vma.mm, addr, None, Some(pte)) {
        *src &= !MIGRATE_PFN_MIGRATE;
        return;
    }
    aspace::rmap_add(newpage, vma, addr);
    page::get(newpage);
    *src = MIGRATE_PFN_MIGRATE;
}

/// `__migrate_device_pages()`: move each selected source to the
/// destination the driver gave; `vma` (with the range start and the fault
/// page) only for `migrate_vma_pages()`.
pub fn pages(src: &mut [u64], dst: &[u64], vma: Option<(&Vma, u64, Option<&Page>, usize)>) {
    let end = vma.map_or(0, |v| v.1 + src.len() as u64 * PAGE_SIZE);
    let mut notified = false;
    for (i, (s, &d)) in src.iter_mut().zip(dst).enumerate() {
        let Some(newpage) = mpfn_page(d) else {
            *s &= !MIGRATE_PFN_MIGRATE;
            continue;
        };
        let Some(p) = mpfn_page(*s) else {
            if *s & MIGRATE_PFN_MIGRATE == 0 {
                continue;
            }
            match vma {
                Some((v, start, _, owner)) => {
                    let addr = start + i as u64 * PAGE_SIZE;
                    if !notified {
                        notified = true;
                        mmu::invalidate(v.mm, v.ptr, addr, end, MMU_NOTIFY_MIGRATE, owner);
                    }
                    insert_page(v, addr, newpage, s)
                }
                None => {
                    crate::warn_if!(
                        "migrate_device_pages",
                        true,
                        "entry {i}: a hole to fill, but no VMA (migrate_device_*())"
                    );
                    *s &= !MIGRATE_PFN_MIGRATE;
                }
            }
            continue;
        };
        if memmap::is_zone_device(newpage)
            && !aspace::is_device_private(newpage)
            && !aspace::is_device_coherent(newpage)
        {
            *s &= !MIGRATE_PFN_MIGRATE;
            continue;
        }
        // migrate_folio(MIGRATE_SYNC_NO_COPY) of an anonymous folio: only
        // the migration's reference (and the fault's) may be left.
        let extra = vma.and_then(|v| v.2).is_some_and(|f| core::ptr::eq(f, p));
        if page::ref_count(p) != 1 + i32::from(extra) {
            *s &= !MIGRATE_PFN_MIGRATE;
            continue;
        }
        let order = core::sync::atomic::Ordering::Release;
        newpage
            .index
            .store(p.index.load(core::sync::atomic::Ordering::Acquire), order);
        newpage
            .mapping
            .store(p.mapping.load(core::sync::atomic::Ordering::Acquire), order);
    }
}

/// `migrate_device_finalize()`: each source that moved is replaced by its
/// destination in every mapping; what lost (the source, or a destination
/// that was not used) is unlocked and put.
pub fn finalize(src: &[u64], dst: &[u64]) {
    for (&s, &d) in src.iter().zip(dst) {
        let mut newpage = mpfn_page(d);
        let Some(p) = mpfn_page(s) else {
            if let Some(n) = newpage {
                page::unlock(n);
                page::put(n);
            }
            continue;
        };
        if s & MIGRATE_PFN_MIGRATE == 0 || newpage.is_none() {
            if let Some(n) = newpage {
                page::unlock(n);
                page::put(n);
            }
            newpage = Some(p);
        }
        let n = newpage.unwrap_or(p);
        remove_migration_ptes(p, n);
        page::unlock(p);
        page::put(p);
        if !core::ptr::eq(n, p) {
            page::unlock(n);
            page::put(n);
        }
    }
}

/// `migrate_device_range()`: collect every page of `[start, start + n)`
/// in use, lock it and unmap it wherever it is mapped.
pub fn device_range(src: &mut [u64], start: u64) {
    for (i, m) in src.iter_mut().enumerate() {
        *m = device_pfn_lock(start + i as u64);
    }
    unmap(src, None);
}

/// `migrate_device_pfns()` (since 6.15): as `device_range()`, for the
/// pfns the caller put in `src` (raw pfns, not migrate pfns), each entry
/// replaced by its migrate pfn or 0.
pub fn device_pfns(src: &mut [u64]) {
    for m in src.iter_mut() {
        *m = device_pfn_lock(*m);
    }
    unmap(src, None);
}

/// `migrate_device_pfn_lock()`: reference and trylock the page of `pfn`
/// if it is in use; its migrate pfn, or 0.
fn device_pfn_lock(pfn: u64) -> u64 {
    let Some(p) = memmap::page_of(pfn) else {
        return 0;
    };
    if crate::counter::get_ref(&p.refcount).is_err() {
        return 0;
    }
    if !page::trylock(p) {
        page::put(p);
        return 0;
    }
    migrate_pfn(pfn) | MIGRATE_PFN_MIGRATE
}
