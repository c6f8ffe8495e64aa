// SPDX-License-Identifier: GPL-2.0-only
//! `include/linux/percpu-refcount.h`.
#![allow(clippy::missing_safety_doc)]

use crate::percpu_ref::{self, RefData};
use crate::types::PercpuRef;
use core::ffi::{c_int, c_uint, c_ulong};

/// The counters of an initialised ref from C, or a WARN naming `func`.
pub(super) fn ref_data(func: &'static str, r: *mut PercpuRef) -> Option<&'static RefData> {
    // SAFETY: a non-null percpu_ref pointer is the caller's struct: two
    // atomic words, readable whatever they hold.
    let d = unsafe { r.as_ref() }.and_then(percpu_ref::data);
    crate::warn_if!(
        func,
        d.is_none(),
        "{func}() on a percpu_ref that is not initialised"
    );
    d
}

#[no_mangle]
pub unsafe extern "C" fn percpu_ref_init(
    r: *mut PercpuRef,
    release: Option<unsafe extern "C" fn(*mut PercpuRef)>,
    flags: c_uint,
    _gfp: c_uint,
) -> c_int {
    // SAFETY: module contract: NULL or the caller's percpu_ref.
    let Some(r) = (unsafe { r.as_ref() }) else {
        crate::warn_if!("percpu_ref_init", true, "percpu_ref_init(NULL)");
        return -libc::EINVAL;
    };
    match percpu_ref::percpu_ref_init(r, release, flags) {
        Ok(()) => 0,
        Err(e) => -e,
    }
}

#[no_mangle]
pub unsafe extern "C" fn percpu_ref_exit(r: *mut PercpuRef) {
    // SAFETY: module contract.
    if let Some(r) = unsafe { r.as_ref() } {
        percpu_ref::percpu_ref_exit(r)
    }
}

#[no_mangle]
pub unsafe extern "C" fn percpu_ref_get_many(r: *mut PercpuRef, nr: c_ulong) {
    if let Some(d) = ref_data("percpu_ref_get_many", r) {
        d.get(nr as i64)
    }
}

#[no_mangle]
pub unsafe extern "C" fn percpu_ref_get(r: *mut PercpuRef) {
    if let Some(d) = ref_data("percpu_ref_get", r) {
        d.get(1)
    }
}

#[no_mangle]
pub unsafe extern "C" fn percpu_ref_tryget_many(r: *mut PercpuRef, nr: c_ulong) -> bool {
    ref_data("percpu_ref_tryget_many", r).is_some_and(|d| d.tryget(nr as i64))
}

#[no_mangle]
pub unsafe extern "C" fn percpu_ref_tryget(r: *mut PercpuRef) -> bool {
    ref_data("percpu_ref_tryget", r).is_some_and(|d| d.tryget(1))
}

#[no_mangle]
pub unsafe extern "C" fn percpu_ref_tryget_live(r: *mut PercpuRef) -> bool {
    ref_data("percpu_ref_tryget_live", r).is_some_and(|d| d.tryget_live())
}

#[no_mangle]
pub unsafe extern "C" fn percpu_ref_put_many(r: *mut PercpuRef, nr: c_ulong) {
    if let Some(d) = ref_data("percpu_ref_put_many", r) {
        d.put(nr as i64)
    }
}

#[no_mangle]
pub unsafe extern "C" fn percpu_ref_put(r: *mut PercpuRef) {
    if let Some(d) = ref_data("percpu_ref_put", r) {
        d.put(1)
    }
}

#[no_mangle]
pub unsafe extern "C" fn percpu_ref_kill(r: *mut PercpuRef) {
    if let Some(d) = ref_data("percpu_ref_kill", r) {
        d.kill();
    }
}

#[no_mangle]
pub unsafe extern "C" fn percpu_ref_is_dying(r: *mut PercpuRef) -> bool {
    ref_data("percpu_ref_is_dying", r).is_some_and(|d| d.is_dying())
}

#[no_mangle]
pub unsafe extern "C" fn percpu_ref_is_zero(r: *mut PercpuRef) -> bool {
    ref_data("percpu_ref_is_zero", r).is_some_and(|d| d.is_zero())
}
