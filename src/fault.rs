// SPDX-License-Identifier: GPL-2.0-only
//! The CPU's view of an address space (docs/DESIGN.md §10): an access
//! faults as the kernel's `handle_mm_fault()` does. A hole gets a fresh
//! zeroed system page (`do_anonymous_page()`); a device-private entry calls
//! its pgmap's `->migrate_to_ram()` with a `struct vm_fault`, the page
//! referenced across the call (`do_swap_page()`); a migration entry, which
//! the kernel would wait on, fails the access.

use crate::address_space::{
    entry, mmap_lock, mmap_unlock, replace, rmap_add, vma_at, Pte, Vma, PAGE_SIZE, VM_READ,
    VM_WRITE,
};
use crate::pgmap::PgmapPtr;
use crate::types::Page;
use crate::{memmap, page, page_alloc};
use core::ffi::{c_uint, c_void};

/// `struct vm_fault` (include/linux/mm_types.h).
#[repr(C)]
pub struct VmFault {
    pub vma: usize,
    pub gfp_mask: c_uint,
    pub pgoff: u64,
    pub address: u64,
    pub real_address: u64,
    pub flags: c_uint,
    pub cow_page: usize,
    pub page: usize,
}

/// `FAULT_FLAG_WRITE`, `_ALLOW_RETRY`, `_KILLABLE`, `_USER`.
const FAULT_FLAG_WRITE: c_uint = 1 << 0;
const FAULT_FLAG_DEFAULT: c_uint = (1 << 2) | (1 << 4) | (1 << 6);
/// `GFP_HIGHUSER_MOVABLE`: what a user fault allocates with.
const GFP_HIGHUSER_MOVABLE: c_uint = 0x400 | 0x800 | 0x40 | 0x80 | 0x100000 | 0x02 | 0x08;
/// `VM_FAULT_ERROR`.
const VM_FAULT_ERROR: c_uint = 0x1 | 0x2 | 0x40 | 0x10 | 0x20 | 0x800;
/// Faults on one device-private entry before giving up.
const FAULT_RETRIES: usize = 4;

/// What one fault step found.
enum Step {
    Done(u64),
    Err(i32),
    DevicePrivate(u64, Vma),
    /// A hole in a VMA with `vm_ops`: its `->fault()` fills it.
    File(Vma),
}

fn fault_step(mm: usize, addr: u64, write: bool) -> Step {
    let Some(vma) = vma_at(mm, addr) else {
        return Step::Err(libc::EFAULT);
    };
    let need = if write { VM_WRITE } else { VM_READ };
    if vma.flags & need == 0 {
        return Step::Err(libc::EFAULT);
    }
    match entry(mm, addr) {
        None if !vma.anonymous => Step::File(vma),
        None => {
            // do_anonymous_page(): a fresh zeroed page.
            let Some(p) = page_alloc::alloc_pages(0, 0, "page fault", 0) else {
                return Step::Err(libc::ENOMEM);
            };
            let pfn = memmap::page_to_pfn(p).unwrap_or(0);
            let pte = Pte::Present {
                pfn,
                write: vma.flags & VM_WRITE != 0,
            };
            if !replace(mm, addr, None, Some(pte)) {
                page::put(p);
                return fault_step(mm, addr, write);
            }
            rmap_add(p, &vma, addr);
            Step::Done(pfn)
        }
        Some(Pte::Present { pfn, write: w }) => {
            if write && !w {
                // An exclusive anonymous page: write-enable it in place.
                replace(
                    mm,
                    addr,
                    Some(Pte::Present { pfn, write: w }),
                    Some(Pte::Present { pfn, write: true }),
                );
            }
            Step::Done(pfn)
        }
        Some(pte) if pte.is_device_private() => Step::DevicePrivate(pte.pfn(), vma),
        // A migration entry: the kernel waits for the migration to end;
        // one thread here cannot, so the access fails.
        Some(_) => Step::Err(libc::EBUSY),
    }
}

/// Call the pgmap's `->migrate_to_ram()` for the device-private page at
/// `addr`, with a reference held across the call as `do_swap_page()` does.
/// Err(errno) if the fault failed.
fn device_fault(addr: u64, real: u64, pfn: u64, vma: &Vma, write: bool) -> Result<(), i32> {
    let Some(p) = memmap::page_of(pfn) else {
        return Err(libc::EFAULT);
    };
    let Some(f) = page::pgmap_of(p).and_then(|pg| PgmapPtr::registered(pg).migrate_to_ram()) else {
        crate::warn_if!(
            "do_swap_page",
            true,
            "device-private pfn {pfn:#x} has no pgmap with migrate_to_ram"
        );
        return Err(libc::EFAULT);
    };
    page::get(page::head(p));
    let mut vmf = VmFault {
        vma: vma.ptr,
        gfp_mask: GFP_HIGHUSER_MOVABLE,
        pgoff: vma.pgoff + (addr - vma.start) / PAGE_SIZE,
        address: addr,
        real_address: real,
        flags: FAULT_FLAG_DEFAULT | if write { FAULT_FLAG_WRITE } else { 0 },
        cow_page: 0,
        page: p as *const Page as usize,
    };
    // SAFETY: `f` is the driver's migrate_to_ram for this page's pgmap,
    // called as a fault calls it: with a vm_fault naming the VMA, the
    // faulting address and the page, which holds a reference meanwhile.
    let ret = unsafe { f(&mut vmf as *mut VmFault as *mut c_void) };
    page::put(page::head(p));
    if ret & VM_FAULT_ERROR != 0 {
        return Err(libc::EFAULT);
    }
    Ok(())
}

/// A CPU access of `len` bytes at `addr` (within one page) of `mm`,
/// faulting as needed, copying into or out of `buf` (may be empty). Takes
/// the mmap lock for reading, as a fault does. 0 or -errno.
/// `handle_mm_fault()` at `addr` of `mm`, the mmap lock held by the
/// caller: the pfn now mapped there for the access, or the errno of the
/// failed fault (EAGAIN: still device-private after a few faults).
pub fn handle_mm_fault(mm: usize, addr: u64, write: bool) -> Result<u64, i32> {
    let base = addr - addr % PAGE_SIZE;
    for _ in 0..FAULT_RETRIES {
        match fault_step(mm, base, write) {
            Step::Done(pfn) => return Ok(pfn),
            Step::Err(e) => return Err(e),
            Step::DevicePrivate(pfn, vma) => device_fault(base, addr, pfn, &vma, write)?,
            Step::File(vma) => crate::file_map::fault(
                &vma,
                base,
                addr,
                FAULT_FLAG_DEFAULT | if write { FAULT_FLAG_WRITE } else { 0 },
            )?,
        }
    }
    crate::warn_if!(
        "handle_mm_fault",
        true,
        "{addr:#x} is still device-private after {FAULT_RETRIES} faults: \
         migrate_to_ram() returned without migrating"
    );
    Err(libc::EAGAIN)
}

/// A CPU access of `len` bytes at `addr` (within one page) of `mm`,
/// faulting as needed, copying into or out of `buf` (may be empty). Takes
/// the mmap lock for reading, as a fault does. 0 or -errno.
pub fn access(mm: usize, addr: u64, buf: Option<&mut [u8]>, write: bool) -> i32 {
    let len = buf.as_ref().map_or(0, |b| b.len() as u64);
    let off = addr % PAGE_SIZE;
    if off + len > PAGE_SIZE {
        return -libc::EINVAL;
    }
    if !mmap_lock(mm, false, true) {
        return -libc::EINVAL;
    }
    let result = handle_mm_fault(mm, addr, write);
    mmap_unlock(mm, false);
    let pfn = match result {
        Ok(pfn) => pfn,
        Err(e) => return -e,
    };
    let Some(va) = memmap::page_of(pfn).and_then(crate::file_map::cpu_address) else {
        return -libc::EFAULT;
    };
    if let Some(b) = buf {
        let at = (va as u64 + off) as *mut u8;
        // SAFETY: `va` is the live buffer of the system page mapped at
        // `addr` (PAGE_SIZE bytes) and off + len <= PAGE_SIZE was checked;
        // `b` is the caller's buffer of len bytes.
        unsafe {
            if write {
                core::ptr::copy_nonoverlapping(b.as_ptr(), at, b.len());
            } else {
                core::ptr::copy_nonoverlapping(at, b.as_mut_ptr(), b.len());
            }
        }
    }
    0
}
