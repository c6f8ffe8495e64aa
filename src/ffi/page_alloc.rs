// SPDX-License-Identifier: GPL-2.0-only
//! C entry points of the page allocator (linux/gfp.h, page_address() of
//! linux/mm.h) and its test queries: pointer checks, then `page_alloc`.
#![allow(clippy::missing_safety_doc)]

use crate::page_alloc;
use crate::types::Page;
use core::ffi::{c_char, c_int, c_uint, c_ulong, c_void, CStr};
use core::ptr::null_mut;

fn site(file: *const c_char) -> String {
    if file.is_null() {
        return String::from("alloc_pages");
    }
    // SAFETY: a non-null file is the __FILE__ literal alloc_pages() passes.
    unsafe { CStr::from_ptr(file) }
        .to_string_lossy()
        .into_owned()
}

fn page_in<'a>(func: &'static str, p: *const Page) -> Option<&'a Page> {
    // SAFETY: per the ffi contract, a non-null page pointer is a page of
    // this library's memmap (or its poison page); Page is all atomics.
    let r = unsafe { p.as_ref() };
    crate::warn_if!(func, r.is_none(), "{func}(NULL)");
    r
}

fn out(p: Option<&Page>) -> *mut Page {
    p.map_or(null_mut(), |p| p as *const Page as *mut Page)
}

#[no_mangle]
pub unsafe extern "C" fn __alloc_pages_site(
    gfp: c_uint,
    order: c_uint,
    file: *const c_char,
    line: c_int,
) -> *mut Page {
    out(page_alloc::alloc_pages(
        gfp,
        order,
        &site(file),
        line as u32,
    ))
}

/// `alloc_page()`: `alloc_pages(gfp, 0)`, recorded at no caller's site.
#[no_mangle]
pub extern "C" fn alloc_page(gfp: c_uint) -> *mut Page {
    out(page_alloc::alloc_pages(gfp, 0, "alloc_page", 0))
}

#[no_mangle]
pub unsafe extern "C" fn __free_pages(page: *mut Page, order: c_uint) {
    if let Some(p) = page_in("__free_pages", page) {
        crate::page::free_system_pages(p, order)
    }
}

/// `__free_page()`: `__free_pages(page, 0)`.
#[no_mangle]
pub unsafe extern "C" fn __free_page(page: *mut Page) {
    if let Some(p) = page_in("__free_page", page) {
        crate::page::free_system_pages(p, 0)
    }
}

#[no_mangle]
pub unsafe extern "C" fn page_address(page: *const Page) -> *mut c_void {
    page_in("page_address", page)
        .and_then(crate::file_map::cpu_address)
        .map_or(null_mut(), |a| a as *mut c_void)
}

#[no_mangle]
pub extern "C" fn memremap_system_pages_live() -> c_ulong {
    page_alloc::live_blocks()
}
