// SPDX-License-Identifier: GPL-2.0-only
//! C entry points of linux/dma-mapping.h: tracked streaming mappings.
#![allow(clippy::missing_safety_doc)]

use crate::device::DeviceLayout;
use crate::dma;
use crate::types::Page;
use core::ffi::{c_char, c_int, c_uint, c_ulong, c_ulonglong};

#[no_mangle]
pub unsafe extern "C" fn __dma_map_page_site(
    dev: *mut DeviceLayout,
    page: *mut Page,
    offset: usize,
    size: usize,
    dir: c_uint,
    _attrs: c_ulong,
    file: *const c_char,
    line: c_int,
) -> c_ulonglong {
    let file = super::c_str(file);
    dma::map_page(
        dev as usize,
        page as usize,
        offset as u64,
        size as u64,
        dir,
        &file,
        line as u32,
    )
}

#[no_mangle]
pub unsafe extern "C" fn dma_map_page_attrs(
    dev: *mut DeviceLayout,
    page: *mut Page,
    offset: usize,
    size: usize,
    dir: c_uint,
    attrs: c_ulong,
) -> c_ulonglong {
    // SAFETY: forwarded contract; a null site reads as "?".
    unsafe { __dma_map_page_site(dev, page, offset, size, dir, attrs, core::ptr::null(), 0) }
}

#[no_mangle]
pub unsafe extern "C" fn dma_unmap_page_attrs(
    dev: *mut DeviceLayout,
    addr: c_ulonglong,
    size: usize,
    dir: c_uint,
    _attrs: c_ulong,
) {
    dma::unmap_page(dev as usize, addr, size as u64, dir)
}

#[no_mangle]
pub unsafe extern "C" fn debug_dma_mapping_error(
    dev: *mut DeviceLayout,
    addr: c_ulonglong,
) -> c_int {
    dma::mapping_error(dev as usize, addr)
}

#[no_mangle]
pub extern "C" fn memremap_dma_live() -> c_ulong {
    dma::live_count()
}

#[no_mangle]
pub extern "C" fn memremap_dma_fail_nth(n: c_ulong) {
    dma::fail_nth(n)
}

/// `memremap_dma_page()`: the page `dev` reaches at `addr` for `len` bytes
/// (reading, or writing if `write`), with the byte offset in `*offset`;
/// NULL (and `*offset` untouched) when no live mapping of `dev` allows it.
#[no_mangle]
pub unsafe extern "C" fn memremap_dma_page(
    dev: *mut DeviceLayout,
    addr: c_ulonglong,
    len: usize,
    write: bool,
    offset: *mut usize,
) -> *mut Page {
    let Some((page, off)) = dma::device_access(dev as usize, addr, len as u64, write) else {
        return core::ptr::null_mut();
    };
    // SAFETY: NULL or the caller's size_t.
    if let Some(o) = unsafe { offset.as_mut() } {
        *o = off as usize;
    }
    page as *mut Page
}
