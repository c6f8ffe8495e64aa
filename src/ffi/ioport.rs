// SPDX-License-Identifier: GPL-2.0-only
//! C entry points of linux/ioport.h: the iomem resource tree, under the
//! kernel's names (`iomem_resource` itself is in src/resource/craw.rs).
#![allow(clippy::missing_safety_doc)]

use crate::device::{DevPtr, DeviceLayout};
use crate::resource::{self, Resource};
use core::ffi::{c_char, c_int, c_ulong, c_ulonglong};
use core::ptr::null_mut;

fn err_ptr(errno: i32) -> *mut Resource {
    (-(errno as isize)) as *mut Resource
}

fn dev(d: *mut DeviceLayout) -> DevPtr {
    // SAFETY: the module contract of crate::ffi: NULL or the caller's
    // device, alive while it has managed resources.
    unsafe { DevPtr::new(d) }
}

/// The physical ranges of mapped pgmaps, which a free region must avoid.
fn mapped() -> Vec<(u64, u64)> {
    crate::pgmap::mapped_ranges()
}

#[no_mangle]
pub unsafe extern "C" fn request_free_mem_region(
    base: *mut Resource,
    size: c_ulong,
    name: *const c_char,
) -> *mut Resource {
    match resource::request_free(None, base as usize, size, name, &mapped()) {
        Ok(r) => r as *mut Resource,
        Err(e) => err_ptr(e),
    }
}

#[no_mangle]
pub unsafe extern "C" fn devm_request_free_mem_region(
    d: *mut DeviceLayout,
    base: *mut Resource,
    size: c_ulong,
) -> *mut Resource {
    if crate::warn_if!(
        "devm_request_free_mem_region",
        d.is_null(),
        "devm_request_free_mem_region(NULL device)"
    ) {
        return err_ptr(libc::EINVAL);
    }
    let dev = dev(d);
    match resource::request_free(
        Some(dev.addr()),
        base as usize,
        size,
        dev.name_ptr(),
        &mapped(),
    ) {
        Ok(r) => r as *mut Resource,
        Err(e) => err_ptr(e),
    }
}

#[no_mangle]
pub unsafe extern "C" fn __request_region(
    parent: *mut Resource,
    start: c_ulonglong,
    n: c_ulonglong,
    name: *const c_char,
    flags: c_int,
) -> *mut Resource {
    resource::request_region(parent as usize, start, n, name, flags as u32 as u64)
        .map_or(null_mut(), |r| r as *mut Resource)
}

#[no_mangle]
pub unsafe extern "C" fn __release_region(
    parent: *mut Resource,
    start: c_ulonglong,
    n: c_ulonglong,
) {
    resource::release_region(parent as usize, start, n);
}

#[no_mangle]
pub unsafe extern "C" fn __devm_request_region(
    d: *mut DeviceLayout,
    parent: *mut Resource,
    start: c_ulonglong,
    n: c_ulonglong,
    name: *const c_char,
) -> *mut Resource {
    resource::devm_request_region(dev(d).addr(), parent as usize, start, n, name)
        .map_or(null_mut(), |r| r as *mut Resource)
}

#[no_mangle]
pub unsafe extern "C" fn __devm_release_region(
    d: *mut DeviceLayout,
    parent: *mut Resource,
    start: c_ulonglong,
    n: c_ulonglong,
) {
    resource::devm_release_region(dev(d).addr(), parent as usize, start, n)
}

#[no_mangle]
pub unsafe extern "C" fn request_resource_conflict(
    root: *mut Resource,
    new: *mut Resource,
) -> *mut Resource {
    match resource::request_resource(root as usize, new as usize) {
        Ok(()) => null_mut(),
        Err(conflict) => conflict as *mut Resource,
    }
}

#[no_mangle]
pub unsafe extern "C" fn request_resource(root: *mut Resource, new: *mut Resource) -> c_int {
    match resource::request_resource(root as usize, new as usize) {
        Ok(()) => 0,
        Err(_) => -libc::EBUSY,
    }
}

#[no_mangle]
pub unsafe extern "C" fn release_resource(old: *mut Resource) -> c_int {
    match resource::release_resource(old as usize) {
        Ok(()) => 0,
        Err(e) => -e,
    }
}

#[no_mangle]
pub extern "C" fn region_intersects(
    start: c_ulonglong,
    size: usize,
    flags: c_ulong,
    desc: c_ulong,
) -> c_int {
    resource::region_intersects(start, size as u64, flags, desc)
}

/// Test probe: resources directly under `iomem_resource`.
#[no_mangle]
pub extern "C" fn memremap_iomem_regions() -> c_ulong {
    resource::top_level().len() as c_ulong
}
