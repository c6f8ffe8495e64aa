// SPDX-License-Identifier: GPL-2.0-only
//! C entry points of linux/device.h: a device's references and its
//! managed resources.
#![allow(clippy::missing_safety_doc)]

use crate::device::{self, DevPtr, DeviceLayout};
use core::ffi::{c_char, c_int, c_uint, c_ulong, c_void};

fn dev(d: *mut DeviceLayout) -> DevPtr {
    // SAFETY: the module contract of crate::ffi: NULL or the caller's
    // device, laid out as linux/device.h has it, alive while in use.
    unsafe { DevPtr::new(d) }
}

#[no_mangle]
pub unsafe extern "C" fn device_initialize(d: *mut DeviceLayout) {
    device::initialize(dev(d))
}

#[no_mangle]
pub unsafe extern "C" fn get_device(d: *mut DeviceLayout) -> *mut DeviceLayout {
    device::get(dev(d));
    d
}

#[no_mangle]
pub unsafe extern "C" fn put_device(d: *mut DeviceLayout) {
    device::put(dev(d))
}

#[no_mangle]
pub unsafe extern "C" fn __devm_kmalloc_site(
    d: *mut DeviceLayout,
    size: usize,
    gfp: c_uint,
    file: *const c_char,
    line: c_int,
) -> *mut c_void {
    if crate::warn_if!("devm_kmalloc", d.is_null(), "devm_kmalloc(NULL device)") {
        return core::ptr::null_mut();
    }
    let file = super::c_str(file);
    device::kmalloc(
        dev(d).addr(),
        size,
        gfp & crate::slab::GFP_ZERO != 0,
        &file,
        line as u32,
    ) as *mut c_void
}

#[no_mangle]
pub unsafe extern "C" fn devm_kfree(d: *mut DeviceLayout, p: *const c_void) {
    device::kfree(dev(d).addr(), p as usize)
}

#[no_mangle]
pub unsafe extern "C" fn devm_add_action(
    d: *mut DeviceLayout,
    action: Option<unsafe extern "C" fn(*mut c_void)>,
    data: *mut c_void,
) -> c_int {
    let Some(action) = action else {
        crate::warn_if!("devm_add_action", true, "devm_add_action(NULL action)");
        return -libc::EINVAL;
    };
    match device::add_action(dev(d).addr(), action, data as usize) {
        Ok(()) => 0,
        Err(e) => -e,
    }
}

#[no_mangle]
pub unsafe extern "C" fn devm_remove_action(
    d: *mut DeviceLayout,
    action: Option<unsafe extern "C" fn(*mut c_void)>,
    data: *mut c_void,
) {
    if let Some(action) = action {
        device::remove_action(dev(d).addr(), action, data as usize, false)
    }
}

#[no_mangle]
pub unsafe extern "C" fn devm_release_action(
    d: *mut DeviceLayout,
    action: Option<unsafe extern "C" fn(*mut c_void)>,
    data: *mut c_void,
) {
    if let Some(action) = action {
        device::remove_action(dev(d).addr(), action, data as usize, true)
    }
}

/// Test probe: managed resources registered, over all devices.
#[no_mangle]
pub extern "C" fn memremap_devres_live() -> c_ulong {
    crate::devres::live_count() as c_ulong
}

/// Test probe: managed resources registered for `d`.
#[no_mangle]
pub unsafe extern "C" fn memremap_devres_count(dev: *mut DeviceLayout) -> c_ulong {
    crate::devres::count(self::dev(dev).addr()) as c_ulong
}
