// SPDX-License-Identifier: GPL-2.0-only
//! `include/linux/memremap.h`.
#![allow(clippy::missing_safety_doc)]

use super::{err_ptr, maybe_page, page_ref, pg, Device, Folio};
use crate::types::{DevPagemap, Page, VmemAltmap};
use crate::{page, pgmap, request};
use core::ffi::{c_int, c_ulong, c_void};

#[no_mangle]
pub unsafe extern "C" fn memremap_pages(pgmap: *mut DevPagemap, _nid: c_int) -> *mut c_void {
    match pgmap::memremap_pages(pg(pgmap)) {
        Ok(va) => va as *mut c_void,
        Err(e) => err_ptr(e),
    }
}

#[no_mangle]
pub unsafe extern "C" fn memunmap_pages(pgmap: *mut DevPagemap) {
    pgmap::memunmap_pages(pg(pgmap))
}

#[no_mangle]
pub unsafe extern "C" fn devm_memremap_pages(
    dev: *mut Device,
    pgmap: *mut DevPagemap,
) -> *mut c_void {
    match pgmap::devm_memremap_pages(dev as usize, pg(pgmap)) {
        Ok(va) => va as *mut c_void,
        Err(e) => err_ptr(e),
    }
}

#[no_mangle]
pub unsafe extern "C" fn devm_memunmap_pages(dev: *mut Device, pgmap: *mut DevPagemap) {
    pgmap::devm_memunmap_pages(dev as usize, pg(pgmap))
}

#[no_mangle]
pub unsafe extern "C" fn devres_release_all(dev: *mut Device) {
    crate::devres::release_all(dev as usize);
}

#[no_mangle]
pub unsafe extern "C" fn get_dev_pagemap(pfn: c_ulong, pgmap: *mut DevPagemap) -> *mut DevPagemap {
    pgmap::get_dev_pagemap(pfn, pg(pgmap))
}

#[no_mangle]
pub unsafe extern "C" fn put_dev_pagemap(pgmap: *mut DevPagemap) {
    pgmap::put_dev_pagemap(pg(pgmap))
}

#[no_mangle]
pub unsafe extern "C" fn pgmap_request_folio(
    pgmap: *mut DevPagemap,
    pgmap_offset: c_ulong,
    order: c_int,
) -> *mut Folio {
    request::request_folio(pg(pgmap), pgmap_offset, order) as *mut Folio
}

#[no_mangle]
pub unsafe extern "C" fn pgmap_request_folios(
    pgmap: *mut DevPagemap,
    folio: *mut Folio,
    nr_folios: c_int,
) -> bool {
    request::request_folios(pg(pgmap), maybe_page(folio as *const Page), nr_folios)
}

#[no_mangle]
pub unsafe extern "C" fn pgmap_release_folios(folio: *mut Folio, nr_folios: c_int) {
    request::release_folios(maybe_page(folio as *const Page), nr_folios)
}

#[no_mangle]
pub unsafe extern "C" fn pfn_to_pgmap_offset(pgmap: *mut DevPagemap, pfn: c_ulong) -> c_ulong {
    request::pfn_to_offset(pg(pgmap), pfn)
}

#[no_mangle]
pub unsafe extern "C" fn pgmap_offset_to_pfn(
    pgmap: *mut DevPagemap,
    pgmap_offset: c_ulong,
) -> c_ulong {
    request::offset_to_pfn(pg(pgmap), pgmap_offset)
}

#[no_mangle]
pub unsafe extern "C" fn pgmap_pfn_valid(pgmap: *mut DevPagemap, pfn: c_ulong) -> bool {
    pgmap::pfn_valid(pg(pgmap), pfn)
}

#[no_mangle]
pub unsafe extern "C" fn vmem_altmap_offset(altmap: *mut VmemAltmap) -> c_ulong {
    // SAFETY: module contract: NULL or the caller's altmap.
    match unsafe { altmap.as_ref() } {
        Some(a) => pgmap::altmap_offset(a.reserve, a.free),
        None => 0,
    }
}

#[no_mangle]
pub unsafe extern "C" fn vmem_altmap_free(altmap: *mut VmemAltmap, nr_pfns: c_ulong) {
    // SAFETY: module contract: NULL or the caller's altmap, which it owns.
    if let Some(a) = unsafe { altmap.as_mut() } {
        pgmap::altmap_free(a, nr_pfns)
    }
}

#[no_mangle]
pub extern "C" fn memremap_compat_align() -> c_ulong {
    pgmap::compat_align()
}

#[no_mangle]
pub unsafe extern "C" fn free_zone_device_page(page: *mut Page) {
    if let Some(p) = page_ref("free_zone_device_page", page) {
        page::free_zone_device_page_checked(p)
    }
}

#[no_mangle]
pub unsafe extern "C" fn is_device_private_page(page: *const Page) -> bool {
    page_ref("is_device_private_page", page).is_some_and(page::is_device_private)
}

#[no_mangle]
pub unsafe extern "C" fn is_device_coherent_page(page: *const Page) -> bool {
    page_ref("is_device_coherent_page", page).is_some_and(page::is_device_coherent)
}

#[no_mangle]
pub unsafe extern "C" fn is_pci_p2pdma_page(page: *const Page) -> bool {
    page_ref("is_pci_p2pdma_page", page).is_some_and(page::is_pci_p2pdma)
}
