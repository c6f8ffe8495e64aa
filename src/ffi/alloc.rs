// SPDX-License-Identifier: GPL-2.0-only
//! C entry points of the allocators beyond kmalloc()/kfree():
//! `krealloc()` (linux/slab.h), `kvfree()`, and `vmalloc()`/`vfree()`
//! (linux/vmalloc.h). The macros of the headers pass the call site.

use crate::{slab, vmalloc};
use core::ffi::{c_char, c_int, c_uint, c_void, CStr};

/// `__GFP_ZERO`.
const GFP_ZERO: c_uint = 0x100;

/// A `__FILE__` from C, or "?".
pub(crate) fn site(file: *const c_char) -> String {
    if file.is_null() {
        return String::from("?");
    }
    // SAFETY: non-null file names from C are the __FILE__ literals the
    // kernel-shaped macros pass, NUL-terminated.
    unsafe { CStr::from_ptr(file) }
        .to_string_lossy()
        .into_owned()
}

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
        &site(file),
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
    vmalloc::vmalloc(size, flags & GFP_ZERO != 0, &site(file), line as u32) as *mut c_void
}

#[no_mangle]
pub unsafe extern "C" fn vfree(addr: *const c_void) {
    vmalloc::vfree(addr as *mut u8)
}
