// SPDX-License-Identifier: GPL-2.0-only
//! C entry points of linux/migrate.h: `struct migrate_vma` read and written
//! field by field, the pfn arrays checked, then `migrate`.
#![allow(clippy::missing_safety_doc)]

use crate::address_space::{self as aspace, VmAreaStruct};
use crate::migrate::{self, Request};
use crate::types::Page;
use core::ffi::{c_int, c_ulong, c_void};

/// `struct migrate_vma` (Linux 6.1).
#[repr(C)]
pub struct MigrateVma {
    pub vma: *mut VmAreaStruct,
    pub dst: *mut c_ulong,
    pub src: *mut c_ulong,
    pub cpages: c_ulong,
    pub npages: c_ulong,
    pub start: c_ulong,
    pub end: c_ulong,
    pub pgmap_owner: *mut c_void,
    pub flags: c_ulong,
    pub fault_page: *mut Page,
}

/// More entries than any range of the model's address space holds.
const MAX_ENTRIES: u64 = 1 << 36;

/// `n` entries of the caller's array, or None for NULL or an absurd `n`.
///
/// # Safety
/// A non-NULL `p` points at `n` `unsigned long`s the caller owns (the
/// kernel's contract for `struct migrate_vma`'s `src` and `dst`).
unsafe fn array<'a>(p: *mut c_ulong, n: u64) -> Option<&'a mut [u64]> {
    if p.is_null() || n > MAX_ENTRIES {
        return None;
    }
    // SAFETY: the migrate API's contract: the caller's array holds at
    // least `n` entries (npages, or (end - start) >> PAGE_SHIFT for setup).
    Some(unsafe { core::slice::from_raw_parts_mut(p, n as usize) })
}

fn page_opt(p: *mut Page) -> Option<&'static Page> {
    // SAFETY: per the ffi contract, NULL or a page of the memmap.
    unsafe { p.as_ref() }
}

#[no_mangle]
pub unsafe extern "C" fn migrate_vma_setup(args: *mut MigrateVma) -> c_int {
    // SAFETY: NULL or the caller's struct migrate_vma.
    let Some(a) = (unsafe { args.as_mut() }) else {
        crate::warn_if!("migrate_vma_setup", true, "migrate_vma_setup(NULL)");
        return -libc::EINVAL;
    };
    let req = Request {
        vma: a.vma as usize,
        start: a.start,
        end: a.end,
        owner: a.pgmap_owner as usize,
        flags: a.flags,
        fault_page: page_opt(a.fault_page),
    };
    a.start &= !(aspace::PAGE_SIZE - 1);
    a.end &= !(aspace::PAGE_SIZE - 1);
    let nr = (req.end.wrapping_sub(req.start) as i64 >> 12).max(0) as u64;
    // SAFETY: forwarded contract (the arrays hold nr entries).
    let (src, dst) = unsafe { (array(a.src, nr), array(a.dst, nr)) };
    let (Some(src), Some(dst)) = (src, dst) else {
        return -libc::EINVAL;
    };
    match migrate::vma_setup(&req, src, dst) {
        Ok(c) => {
            a.cpages = c.cpages;
            a.npages = c.npages;
            a.end = c.end;
            0
        }
        Err(e) => -e,
    }
}

#[no_mangle]
pub unsafe extern "C" fn migrate_vma_pages(args: *mut MigrateVma) {
    // SAFETY: NULL or the caller's struct migrate_vma.
    let Some(a) = (unsafe { args.as_mut() }) else {
        crate::warn_if!("migrate_vma_pages", true, "migrate_vma_pages(NULL)");
        return;
    };
    let vma_ptr = a.vma;
    let vma = aspace::vma(vma_ptr as usize);
    crate::warn_if!(
        "migrate_vma_pages",
        vma.is_none(),
        "migrate_vma_pages(): vma {vma_ptr:p} is no VMA of a live mm"
    );
    // SAFETY: forwarded contract (npages entries, as setup left them).
    let (src, dst) = unsafe { (array(a.src, a.npages), array(a.dst, a.npages)) };
    let (Some(src), Some(dst)) = (src, dst) else {
        return;
    };
    let fault = page_opt(a.fault_page);
    let owner = a.pgmap_owner as usize;
    migrate::pages(src, dst, vma.as_ref().map(|v| (v, a.start, fault, owner)));
}

#[no_mangle]
pub unsafe extern "C" fn migrate_vma_finalize(args: *mut MigrateVma) {
    // SAFETY: NULL or the caller's struct migrate_vma.
    let Some(a) = (unsafe { args.as_mut() }) else {
        crate::warn_if!("migrate_vma_finalize", true, "migrate_vma_finalize(NULL)");
        return;
    };
    let n = a.npages;
    // SAFETY: forwarded contract.
    unsafe { migrate_device_finalize(a.src, a.dst, n) }
}

#[no_mangle]
pub unsafe extern "C" fn migrate_device_range(
    src_pfns: *mut c_ulong,
    start: c_ulong,
    npages: c_ulong,
) -> c_int {
    // SAFETY: forwarded contract (src_pfns holds npages entries).
    let Some(src) = (unsafe { array(src_pfns, npages) }) else {
        crate::warn_if!(
            "migrate_device_range",
            true,
            "migrate_device_range(): no array for {npages} pfns"
        );
        return -libc::EINVAL;
    };
    migrate::device_range(src, start);
    0
}

/// `migrate_device_pfns()`: `src_pfns` holds `npages` raw pfns on entry.
#[no_mangle]
pub unsafe extern "C" fn migrate_device_pfns(src_pfns: *mut c_ulong, npages: c_ulong) -> c_int {
    // SAFETY: forwarded contract (src_pfns holds npages entries).
    let Some(src) = (unsafe { array(src_pfns, npages) }) else {
        crate::warn_if!(
            "migrate_device_pfns",
            true,
            "migrate_device_pfns(): no array for {npages} pfns"
        );
        return -libc::EINVAL;
    };
    migrate::device_pfns(src);
    0
}

#[no_mangle]
pub unsafe extern "C" fn migrate_device_pages(
    src_pfns: *mut c_ulong,
    dst_pfns: *mut c_ulong,
    npages: c_ulong,
) {
    // SAFETY: forwarded contract.
    let (src, dst) = unsafe { (array(src_pfns, npages), array(dst_pfns, npages)) };
    if let (Some(src), Some(dst)) = (src, dst) {
        migrate::pages(src, dst, None);
    }
}

#[no_mangle]
pub unsafe extern "C" fn migrate_device_finalize(
    src_pfns: *mut c_ulong,
    dst_pfns: *mut c_ulong,
    npages: c_ulong,
) {
    // SAFETY: forwarded contract.
    let (src, dst) = unsafe { (array(src_pfns, npages), array(dst_pfns, npages)) };
    if let (Some(src), Some(dst)) = (src, dst) {
        migrate::finalize(src, dst);
    }
}
