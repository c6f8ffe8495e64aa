// SPDX-License-Identifier: GPL-2.0-only
//! `include/linux/mm.h`, `include/linux/page_ref.h` and the folio calls;
//! then the address-space model's mm and VMA functions (linux/sched/mm.h,
//! linux/mmap_lock.h, find_vma() of linux/mm.h) and the test API that
//! builds an mm and touches it as a CPU would (memremap/test.h).
#![allow(clippy::missing_safety_doc)]

use super::{as_folio, as_page, folio_ref, page_ref, Folio};
use crate::address_space::{self as aspace, MmStruct, Pte, VmAreaStruct};
use crate::types::{DevPagemap, Page};
use crate::{memmap, page};
use core::ffi::{c_int, c_long, c_uint, c_ulong, c_void};
use core::ptr::null_mut;

#[no_mangle]
pub extern "C" fn pfn_to_page(pfn: c_ulong) -> *mut Page {
    as_page(memmap::pfn_to_page(pfn))
}

#[no_mangle]
pub unsafe extern "C" fn page_to_pfn(page: *const Page) -> c_ulong {
    page_ref("page_to_pfn", page).map_or(c_ulong::MAX, page::to_pfn)
}

#[no_mangle]
pub unsafe extern "C" fn page_folio(page: *const Page) -> *mut Folio {
    page_ref("page_folio", page).map_or(null_mut(), |p| as_folio(page::head(p)))
}

#[no_mangle]
pub unsafe extern "C" fn compound_head(page: *const Page) -> *mut Page {
    page_ref("compound_head", page).map_or(null_mut(), |p| as_page(page::head(p)))
}

#[no_mangle]
pub unsafe extern "C" fn folio_page(folio: *mut Folio, n: c_ulong) -> *mut Page {
    folio_ref("folio_page", folio).map_or(null_mut(), |f| as_page(page::folio_page(f, n)))
}

#[no_mangle]
pub unsafe extern "C" fn folio_next(folio: *mut Folio) -> *mut Folio {
    folio_ref("folio_next", folio).map_or(null_mut(), |f| as_folio(page::folio_next(f)))
}

#[no_mangle]
pub unsafe extern "C" fn folio_order(folio: *const Folio) -> c_uint {
    folio_ref("folio_order", folio).map_or(0, page::order)
}

#[no_mangle]
pub unsafe extern "C" fn folio_nr_pages(folio: *const Folio) -> c_long {
    folio_ref("folio_nr_pages", folio).map_or(0, page::nr_pages)
}

#[no_mangle]
pub unsafe extern "C" fn folio_pfn(folio: *const Folio) -> c_ulong {
    // SAFETY: forwarded contract.
    unsafe { page_to_pfn(folio as *const Page) }
}

#[no_mangle]
pub unsafe extern "C" fn folio_ref_count(folio: *const Folio) -> c_int {
    folio_ref("folio_ref_count", folio).map_or(0, page::ref_count)
}

#[no_mangle]
pub unsafe extern "C" fn page_ref_count(page: *const Page) -> c_int {
    page_ref("page_ref_count", page).map_or(0, page::ref_count)
}

#[no_mangle]
pub unsafe extern "C" fn folio_ref_inc_return(folio: *mut Folio) -> c_int {
    folio_ref("folio_ref_inc_return", folio).map_or(0, page::ref_inc_return)
}

#[no_mangle]
pub unsafe extern "C" fn folio_ref_inc(folio: *mut Folio) {
    if let Some(f) = folio_ref("folio_ref_inc", folio) {
        page::ref_inc_return(f);
    }
}

#[no_mangle]
pub unsafe extern "C" fn folio_get(folio: *mut Folio) {
    if let Some(f) = folio_ref("folio_get", folio) {
        page::get(f)
    }
}

#[no_mangle]
pub unsafe extern "C" fn folio_put(folio: *mut Folio) {
    if let Some(f) = folio_ref("folio_put", folio) {
        page::put(f)
    }
}

#[no_mangle]
pub unsafe extern "C" fn get_page(page: *mut Page) {
    if let Some(p) = page_ref("get_page", page) {
        page::get(page::head(p))
    }
}

#[no_mangle]
pub unsafe extern "C" fn put_page(page: *mut Page) {
    if let Some(p) = page_ref("put_page", page) {
        page::put(page::head(p))
    }
}

#[no_mangle]
pub unsafe extern "C" fn is_zone_device_page(page: *const Page) -> bool {
    page_ref("is_zone_device_page", page).is_some_and(memmap::is_zone_device)
}

#[no_mangle]
pub unsafe extern "C" fn folio_is_zone_device(folio: *const Folio) -> bool {
    folio_ref("folio_is_zone_device", folio).is_some_and(memmap::is_zone_device)
}

#[no_mangle]
pub unsafe extern "C" fn folio_pgmap(folio: *const Folio) -> *mut DevPagemap {
    folio_ref("folio_pgmap", folio)
        .and_then(page::pgmap_of)
        .map_or(null_mut(), |p| p as *mut DevPagemap)
}

#[no_mangle]
#[allow(non_snake_case)]
pub unsafe extern "C" fn PageHead(page: *const Page) -> bool {
    page_ref("PageHead", page).is_some_and(page::is_head)
}

#[no_mangle]
#[allow(non_snake_case)]
pub unsafe extern "C" fn PageTail(page: *const Page) -> bool {
    page_ref("PageTail", page).is_some_and(page::is_tail)
}

// ---- The address-space model ----

fn mm_in(func: &'static str, mm: *mut MmStruct) -> Option<usize> {
    let a = mm as usize;
    let ok = aspace::is_mm(a);
    crate::warn_if!(func, !ok, "{func}({mm:p}): not a live mm of the library");
    ok.then_some(a)
}

fn vma_out(v: Option<usize>) -> *mut VmAreaStruct {
    v.map_or(null_mut(), |v| v as *mut VmAreaStruct)
}

#[no_mangle]
pub unsafe extern "C" fn mmget(mm: *mut MmStruct) {
    if let Some(mm) = mm_in("mmget", mm) {
        aspace::mmget(mm)
    }
}

#[no_mangle]
pub unsafe extern "C" fn mmget_not_zero(mm: *mut MmStruct) -> bool {
    mm_in("mmget_not_zero", mm).is_some_and(aspace::mmget_not_zero)
}

#[no_mangle]
pub unsafe extern "C" fn mmput(mm: *mut MmStruct) {
    if let Some(mm) = mm_in("mmput", mm) {
        aspace::mmput(mm)
    }
}

#[no_mangle]
pub unsafe extern "C" fn mmgrab(mm: *mut MmStruct) {
    if let Some(mm) = mm_in("mmgrab", mm) {
        aspace::mmgrab(mm)
    }
}

#[no_mangle]
pub unsafe extern "C" fn mmdrop(mm: *mut MmStruct) {
    if let Some(mm) = mm_in("mmdrop", mm) {
        aspace::mmdrop(mm)
    }
}

#[no_mangle]
pub unsafe extern "C" fn mmap_read_lock(mm: *mut MmStruct) {
    if let Some(mm) = mm_in("mmap_read_lock", mm) {
        aspace::mmap_lock(mm, false, true);
    }
}

#[no_mangle]
pub unsafe extern "C" fn mmap_read_trylock(mm: *mut MmStruct) -> bool {
    mm_in("mmap_read_trylock", mm).is_some_and(|mm| aspace::mmap_lock(mm, false, false))
}

#[no_mangle]
pub unsafe extern "C" fn mmap_read_unlock(mm: *mut MmStruct) {
    if let Some(mm) = mm_in("mmap_read_unlock", mm) {
        aspace::mmap_unlock(mm, false)
    }
}

#[no_mangle]
pub unsafe extern "C" fn mmap_write_lock(mm: *mut MmStruct) {
    if let Some(mm) = mm_in("mmap_write_lock", mm) {
        aspace::mmap_lock(mm, true, true);
    }
}

#[no_mangle]
pub unsafe extern "C" fn mmap_write_unlock(mm: *mut MmStruct) {
    if let Some(mm) = mm_in("mmap_write_unlock", mm) {
        aspace::mmap_unlock(mm, true)
    }
}

#[no_mangle]
pub unsafe extern "C" fn mmap_assert_locked(mm: *mut MmStruct) {
    if let Some(a) = mm_in("mmap_assert_locked", mm) {
        crate::warn_if!(
            "mmap_assert_locked",
            !aspace::mmap_is_locked(a),
            "mmap lock of {mm:p} is not held"
        );
    }
}

#[no_mangle]
pub unsafe extern "C" fn find_vma(mm: *mut MmStruct, addr: c_ulong) -> *mut VmAreaStruct {
    vma_out(mm_in("find_vma", mm).and_then(|mm| aspace::find_vma(mm, addr)))
}

#[no_mangle]
pub unsafe extern "C" fn vma_lookup(mm: *mut MmStruct, addr: c_ulong) -> *mut VmAreaStruct {
    vma_out(mm_in("vma_lookup", mm).and_then(|mm| aspace::vma_lookup(mm, addr)))
}

// ---- include/memremap/test.h ----

#[no_mangle]
pub extern "C" fn memremap_mm_create() -> *mut MmStruct {
    aspace::create().map_or(null_mut(), |p| p as *mut MmStruct)
}

#[no_mangle]
pub unsafe extern "C" fn memremap_mm_add_vma(
    mm: *mut MmStruct,
    start: c_ulong,
    end: c_ulong,
    vm_flags: c_ulong,
) -> *mut VmAreaStruct {
    match aspace::add_vma(mm as usize, start, end, vm_flags as usize) {
        Ok(v) => v as *mut VmAreaStruct,
        Err(_) => null_mut(),
    }
}

#[no_mangle]
pub unsafe extern "C" fn memremap_mm_access(
    mm: *mut MmStruct,
    addr: c_ulong,
    buf: *mut c_void,
    len: c_ulong,
    write: bool,
) -> c_int {
    let Some(mm) = mm_in("memremap_mm_access", mm) else {
        return -libc::EINVAL;
    };
    if buf.is_null() || len == 0 {
        return crate::fault::access(mm, addr, None, write);
    }
    if len > aspace::PAGE_SIZE {
        return -libc::EINVAL;
    }
    // SAFETY: the caller's buffer of `len` bytes (test API contract).
    let b = unsafe { core::slice::from_raw_parts_mut(buf as *mut u8, len as usize) };
    crate::fault::access(mm, addr, Some(b), write)
}

/// The `enum memremap_pte_kind` values.
const PTE_NONE: c_int = 0;
const PTE_PRESENT: c_int = 1;
const PTE_SWAP: c_int = 2;

#[no_mangle]
pub unsafe extern "C" fn memremap_mm_entry(
    mm: *mut MmStruct,
    addr: c_ulong,
    page: *mut *mut Page,
    val: *mut c_ulong,
) -> c_int {
    let Some(mm) = mm_in("memremap_mm_entry", mm) else {
        return PTE_NONE;
    };
    let e = aspace::entry(mm, addr & !(aspace::PAGE_SIZE - 1));
    let (kind, v) = match e {
        None => (PTE_NONE, 0),
        Some(Pte::Present { pfn, write }) => (PTE_PRESENT, pfn << 12 | u64::from(write) << 1 | 1),
        Some(Pte::Swap(v)) => (PTE_SWAP, v),
    };
    let pg = e
        .and_then(|e| memmap::page_of(e.pfn()))
        .map_or(null_mut(), |p| p as *const Page as *mut Page);
    // SAFETY: NULL or the caller's out-parameters.
    unsafe {
        if let Some(out) = page.as_mut() {
            *out = pg;
        }
        if let Some(out) = val.as_mut() {
            *out = v;
        }
    }
    kind
}

#[no_mangle]
pub unsafe extern "C" fn memremap_mm_nr_entries(mm: *mut MmStruct) -> c_ulong {
    mm_in("memremap_mm_nr_entries", mm).map_or(0, aspace::entry_count)
}

#[no_mangle]
pub extern "C" fn memremap_mm_live() -> c_ulong {
    aspace::live()
}

#[no_mangle]
pub unsafe extern "C" fn memremap_page_mapcount(page: *const Page) -> c_int {
    // SAFETY: per the ffi contract, NULL or a page of the memmap.
    unsafe { page.as_ref() }.map_or(0, aspace::mapcount)
}
