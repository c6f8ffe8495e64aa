// SPDX-License-Identifier: GPL-2.0-only
//! `include/linux/mm.h`, `include/linux/page_ref.h` and the folio calls.
#![allow(clippy::missing_safety_doc)]

use super::{as_folio, as_page, folio_ref, page_ref, Folio};
use crate::types::{DevPagemap, Page};
use crate::{memmap, page};
use core::ffi::{c_int, c_long, c_uint, c_ulong};
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
