// SPDX-License-Identifier: GPL-2.0-only
//! File mappings of CPU-addressable device memory (docs/DESIGN.md §10),
//! as device-DAX uses them in Linux 6.15: a VMA with `vm_ops` and a
//! `vm_file` takes its faults through `vm_ops->fault()`, whose driver
//! installs a present entry of a ZONE_DEVICE page with
//! `vmf_insert_page_mkwrite()` (one folio reference and one mapcount per
//! entry, as `insert_page_into_pte_locked()` takes them);
//! `unmap_mapping_range()` zaps every entry of a file's mapping in every
//! mm, and `munmap()` a VMA's, each dropping the mapcount and the
//! reference. `cpu_address()` is `page_address()` for every page with CPU
//! memory: system pages, and MEMORY_DEVICE_GENERIC pages (the direct map
//! of device-DAX memory; the memory is the memmap's, `memmap::devmem`).
//!
//! Not modelled: PMD and PUD entries (a large folio cannot be PTE-mapped
//! here either: the 6.15 large-folio mapcounts are not kept), the page
//! cache path of `->fault()` (a `vmf->page` handed back for
//! `finish_fault()`), `->page_mkwrite()`/`->pfn_mkwrite()`.

use crate::address_space::{self as aspace, Pte, Vma, PAGE_SIZE, VM_WRITE};
use crate::fault::VmFault;
use crate::pgmap::{self, PgmapPtr};
use crate::types::{Page, MEMORY_DEVICE_GENERIC};
use crate::{memmap, mmu_notifier, page, page_alloc};
use core::ffi::{c_uint, c_void};
use std::sync::atomic::Ordering;

/// `VM_SHARED`.
pub const VM_SHARED: usize = 0x8;

/// `vm_fault_t` bits (include/linux/mm_types.h).
pub const VM_FAULT_SIGBUS: c_uint = 0x2;
pub const VM_FAULT_NOPAGE: c_uint = 0x100;
const VM_FAULT_ERROR: c_uint = 0x1 | 0x2 | 0x40 | 0x10 | 0x20 | 0x800;

/// Offset of `fault` in the C `struct vm_operations_struct` (after open,
/// close, may_split, mremap, mprotect; <linux/mm.h> asserts it).
const VM_OPS_FAULT: usize = 40;

/// `page_address()`: the CPU address of a page's memory, for system pages
/// and for MEMORY_DEVICE_GENERIC pages of a mapped pgmap; None (with the
/// page allocator's WARN) otherwise.
pub fn cpu_address(p: &Page) -> Option<usize> {
    if memmap::is_zone_device(p) {
        if let Some(pg) = page::pgmap_of(p) {
            let ptr = PgmapPtr::registered(pg);
            if pgmap::mapped(ptr).is_some() && ptr.type_() == Some(MEMORY_DEVICE_GENERIC) {
                return memmap::page_to_pfn(p).and_then(|pfn| memmap::devmem::address(pg, pfn));
            }
        }
    }
    page_alloc::page_address(p)
}

/// A shared writable VMA's `vm_page_prot` is writable (no write notify:
/// the device-DAX VMA has no `page_mkwrite`/`pfn_mkwrite`).
fn shared_writable(vma: &Vma) -> bool {
    vma.flags & (VM_SHARED | VM_WRITE) == VM_SHARED | VM_WRITE
}

/// `vmf_insert_page_mkwrite(vmf, page, write)` (Linux 6.15, mm/memory.c):
/// `VM_FAULT_NOPAGE` when the entry is in place (or another was: -EBUSY),
/// `VM_FAULT_SIGBUS` for an address outside the VMA or a page that may
/// not be inserted (refcount 0, anonymous, a large folio here).
pub fn insert_page_mkwrite(vmf: &VmFault, p: &Page, write: bool) -> c_uint {
    let Some(vma) = aspace::vma(vmf.vma) else {
        crate::warn_if!(
            "vmf_insert_page_mkwrite",
            true,
            "vmf->vma {:#x} is not a VMA of a live mm",
            vmf.vma
        );
        return VM_FAULT_SIGBUS;
    };
    let addr = vmf.address;
    if addr < vma.start || addr >= vma.end {
        return VM_FAULT_SIGBUS;
    }
    let addr = addr & !(PAGE_SIZE - 1);
    // validate_page_before_insert().
    let folio = page::head(p);
    if page::ref_count(folio) == 0 || folio.mapping.load(Ordering::Acquire) & 1 != 0 {
        return VM_FAULT_SIGBUS;
    }
    if crate::warn_page_if!(
        "vmf_insert_page_mkwrite",
        p,
        page::order(folio) > 0,
        "PTE-mapping a page of a large folio: not modelled"
    ) {
        return VM_FAULT_SIGBUS;
    }
    let Some(pfn) = memmap::page_to_pfn(p) else {
        return VM_FAULT_SIGBUS;
    };
    match aspace::entry(vma.mm, addr) {
        Some(old @ Pte::Present { pfn: mapped, .. }) if write => {
            if crate::warn_if!(
                "vmf_insert_page_mkwrite",
                mapped != pfn,
                "{addr:#x} maps pfn {mapped:#x}, not {pfn:#x}"
            ) {
                return VM_FAULT_SIGBUS;
            }
            aspace::replace(
                vma.mm,
                addr,
                Some(old),
                Some(Pte::Present { pfn, write: true }),
            );
            VM_FAULT_NOPAGE
        }
        Some(_) => VM_FAULT_NOPAGE,
        None => {
            let pte = Pte::Present {
                pfn,
                write: write || shared_writable(&vma),
            };
            page::get(folio);
            // folio_add_file_rmap_pte(): one more mapping of the page.
            p.mapcount.fetch_add(1, Ordering::AcqRel);
            if !aspace::replace(vma.mm, addr, None, Some(pte)) {
                aspace::rmap_remove(p);
                page::put(folio);
            }
            VM_FAULT_NOPAGE
        }
    }
}

/// Drop one entry taken out of an mm: its mapcount and its reference.
fn zap_one(mm: usize, addr: u64, pte: Pte) {
    if crate::warn_if!(
        "zap_pte_range",
        pte.is_migration(),
        "zapping {addr:#x} of mm {mm:#x} under a migration in flight"
    ) {
        aspace::replace(mm, addr, None, Some(pte));
        return;
    }
    if let Some(p) = memmap::page_of(pte.pfn()) {
        aspace::rmap_remove(p);
        page::put(page::head(p));
    }
}

/// Zap `[start, end)` of `vma` in `mm`, notifying with `event`.
fn zap_range(mm: usize, vma: &Vma, start: u64, end: u64, event: u32) -> u64 {
    mmu_notifier::invalidate(mm, vma.ptr, start, end, event, 0);
    let gone = aspace::take_entries(mm, start, end);
    let n = gone.len() as u64;
    for (addr, pte) in gone {
        zap_one(mm, addr, pte);
    }
    n
}

/// `unmap_mapping_range()` with the page range `[first, last]` of the
/// file mapping `mapping`: every VMA of every mm whose file's mapping
/// (read by `f_mapping` from its `vm_file`) is `mapping` loses its
/// entries for those pages. Returns the number of entries zapped.
pub fn unmap_mapping_pages(
    mapping: usize,
    first: u64,
    last: u64,
    f_mapping: impl Fn(usize) -> usize,
) -> u64 {
    let mut n = 0;
    for (mm, vma) in aspace::all_vmas() {
        if vma.file == 0 || f_mapping(vma.file) != mapping {
            continue;
        }
        let npages = (vma.end - vma.start) / PAGE_SIZE;
        let (lo, hi) = (vma.pgoff, vma.pgoff + npages - 1);
        if last < lo || first > hi {
            continue;
        }
        let start = vma.start + (first.max(lo) - lo) * PAGE_SIZE;
        let end = vma.start + (last.min(hi) - lo + 1) * PAGE_SIZE;
        n += zap_range(mm, &vma, start, end, mmu_notifier::MMU_NOTIFY_CLEAR);
    }
    n
}

/// `munmap()` of the whole VMA `vma` of `mm`: its entries are zapped and
/// the VMA freed. False if `vma` is not a VMA of `mm`.
pub fn munmap(mm: usize, vma: usize) -> bool {
    let Some(v) = aspace::vma(vma).filter(|v| v.mm == mm) else {
        return false;
    };
    zap_range(mm, &v, v.start, v.end, mmu_notifier::MMU_NOTIFY_UNMAP);
    aspace::remove_vma(mm, vma)
}

/// The fault of a hole in a VMA with `vm_ops` (`do_fault()`): call its
/// `->fault()`; Ok once it has installed an entry (`VM_FAULT_NOPAGE`).
pub fn fault(vma: &Vma, addr: u64, real: u64, flags: c_uint) -> Result<(), i32> {
    // SAFETY: `vma.ops` is the VMA's `vm_ops`, set by C to a live
    // `struct vm_operations_struct` (its `fault` slot at VM_OPS_FAULT, as
    // <linux/mm.h> asserts); the slot is read by value.
    let f = unsafe { ((vma.ops + VM_OPS_FAULT) as *const usize).read() };
    if f == 0 {
        return Err(libc::EFAULT);
    }
    let mut vmf = VmFault {
        vma: vma.ptr,
        gfp_mask: 0,
        pgoff: vma.pgoff + (addr - vma.start) / PAGE_SIZE,
        address: addr,
        real_address: real,
        flags,
        cow_page: 0,
        page: 0,
    };
    // Called as handle_mm_fault() calls it, with a vm_fault for this VMA
    // and address that lives across the call.
    // SAFETY: a non-NULL `fault` slot of the VMA's operations is the
    // driver's `vm_fault_t (*)(struct vm_fault *)`.
    let f: unsafe extern "C" fn(*mut c_void) -> c_uint = unsafe { core::mem::transmute(f) };
    // SAFETY: as above.
    let ret = unsafe { f(&mut vmf as *mut VmFault as *mut c_void) };
    if ret & VM_FAULT_ERROR != 0 {
        return Err(libc::EFAULT);
    }
    if crate::warn_if!(
        "do_fault",
        ret & VM_FAULT_NOPAGE == 0,
        "->fault() at {addr:#x} returned {ret:#x} without installing an entry: \
         the page cache path (finish_fault()) is not modelled"
    ) {
        return Err(libc::EFAULT);
    }
    Ok(())
}
