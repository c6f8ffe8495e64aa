// SPDX-License-Identifier: GPL-2.0-only
//! `include/linux/slab.h`.
#![allow(clippy::missing_safety_doc)]

use super::c_str;
use crate::slab;
use core::ffi::{c_char, c_int, c_uint, c_void};

#[no_mangle]
pub unsafe extern "C" fn __kmalloc_site(
    size: usize,
    flags: c_uint,
    file: *const c_char,
    line: c_int,
) -> *mut c_void {
    slab::kmalloc(size, flags, &c_str(file), line as u32) as *mut c_void
}

#[no_mangle]
pub unsafe extern "C" fn kfree(p: *const c_void) {
    slab::free(p as *mut u8)
}
