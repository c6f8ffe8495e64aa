// SPDX-License-Identifier: GPL-2.0-only
//! C entry points of the allocators beyond kmalloc()/kfree():
//! `krealloc()` (linux/slab.h), `kvfree()`, and `vmalloc()`/`vfree()`
//! (linux/vmalloc.h). The macros of the headers pass the call site.
#![allow(clippy::missing_safety_doc)]

use super::c_str;
use crate::slab::{self, GFP_ZERO};
use crate::vmalloc;
use core::ffi::{c_char, c_int, c_uint, c_void};

#[no_mangle]
pub unsafe extern "C" fn __krealloc_site(
    p: *const c_void,
    new_size: usize,
    flags: c_uint,
    file: *const c_char,
    line: c_int,
) -> *mut c_void {
    slab::realloc(
        p as usize,
        new_size,
        flags & GFP_ZERO != 0,
        &c_str(file),
        line as u32,
    ) as *mut c_void
}

#[no_mangle]
pub unsafe extern "C" fn kvfree(addr: *const c_void) {
    vmalloc::kvfree(addr as *mut u8)
}

#[no_mangle]
pub unsafe extern "C" fn __vmalloc_site(
    size: usize,
    flags: c_uint,
    file: *const c_char,
    line: c_int,
) -> *mut c_void {
    vmalloc::vmalloc(size, flags & GFP_ZERO != 0, &c_str(file), line as u32) as *mut c_void
}

#[no_mangle]
pub unsafe extern "C" fn vfree(addr: *const c_void) {
    vmalloc::vfree(addr as *mut u8)
}
