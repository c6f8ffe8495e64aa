// SPDX-License-Identifier: GPL-2.0-only
//! `struct device`'s life: the reference count in its kobject
//! (`device_initialize()`, `get_device()`, `put_device()`) and what the
//! last put does (drivers/base/core.c `device_release()`): release the
//! device's managed resources newest first, check it has no DMA mapping
//! left, and call its `release()`. Also the devres allocators and actions
//! (drivers/base/devres.c) on top of [`crate::devres`].

use crate::devres::{self, Tag};
use crate::{dma, slab};
use core::ffi::{c_char, c_int, c_void, CStr};
use core::ptr::addr_of;
use std::sync::atomic::{AtomicI32, AtomicU32, Ordering};

/// `struct device` as include/linux/device.h lays it out here (a subset of
/// the kernel's fields, in the kernel's order), with its `struct kobject`
/// inlined: name, parent, kref, then the state bits word.
#[repr(C)]
pub struct DeviceLayout {
    pub parent: *mut DeviceLayout,
    pub kobj_name: *const c_char,
    pub kobj_parent: *mut c_void,
    /// `kobj.kref.refcount.refs.counter`.
    pub kref: AtomicI32,
    /// `kobj.state_initialized` is bit 0.
    pub kobj_state: AtomicU32,
    pub init_name: *const c_char,
    pub driver_data: *mut c_void,
    pub numa_node: c_int,
    pub devt: u64,
    pub release: Option<unsafe extern "C" fn(*mut DeviceLayout)>,
}
static_assertions::const_assert_eq!(core::mem::offset_of!(DeviceLayout, kref), 24);
static_assertions::const_assert_eq!(core::mem::offset_of!(DeviceLayout, kobj_state), 28);
static_assertions::const_assert_eq!(core::mem::offset_of!(DeviceLayout, init_name), 32);
static_assertions::const_assert_eq!(core::mem::offset_of!(DeviceLayout, devt), 56);
static_assertions::const_assert_eq!(core::mem::offset_of!(DeviceLayout, release), 64);
static_assertions::const_assert_eq!(core::mem::size_of::<DeviceLayout>(), 72);

const STATE_INITIALIZED: u32 = 1;

/// A `struct device *` from C: null, or the caller's device, alive while
/// the library may use it (until its last `put_device()` returns).
#[derive(Clone, Copy)]
pub struct DevPtr(*mut DeviceLayout);

impl DevPtr {
    /// # Safety
    /// `p` is null or a `struct device` laid out as [`DeviceLayout`], kept
    /// allocated by the caller while the library uses it.
    pub unsafe fn new(p: *mut DeviceLayout) -> Self {
        DevPtr(p)
    }

    pub fn addr(self) -> usize {
        self.0 as usize
    }

    fn kref(self) -> Option<&'static AtomicI32> {
        // SAFETY: per `new`; the kref word is an atomic C may touch too.
        unsafe { self.0.as_ref().map(|d| &*addr_of!(d.kref)) }
    }

    fn state(self) -> Option<&'static AtomicU32> {
        // SAFETY: as in `kref`.
        unsafe { self.0.as_ref().map(|d| &*addr_of!(d.kobj_state)) }
    }

    /// `dev_name()`: the kobject's name, else `init_name`.
    pub fn name(self) -> String {
        if self.0.is_null() {
            return String::from("(NULL device *)");
        }
        // SAFETY: per `new`; the names are NULL or NUL-terminated strings
        // the caller keeps with the device.
        unsafe {
            let n = addr_of!((*self.0).kobj_name).read();
            let n = if n.is_null() {
                addr_of!((*self.0).init_name).read()
            } else {
                n
            };
            if n.is_null() {
                String::from("(unnamed device)")
            } else {
                CStr::from_ptr(n).to_string_lossy().into_owned()
            }
        }
    }

    /// `dev_name()` as the pointer C holds (it outlives what is named
    /// after it, as the kernel's does), or a static stand-in.
    pub fn name_ptr(self) -> *const c_char {
        if self.0.is_null() {
            return c"(NULL device *)".as_ptr();
        }
        // SAFETY: per `new`; plain reads of two pointer fields.
        let (k, i) = unsafe {
            (
                addr_of!((*self.0).kobj_name).read(),
                addr_of!((*self.0).init_name).read(),
            )
        };
        match (k.is_null(), i.is_null()) {
            (false, _) => k,
            (true, false) => i,
            _ => c"(unnamed device)".as_ptr(),
        }
    }

    fn release_fn(self) -> Option<unsafe extern "C" fn(*mut DeviceLayout)> {
        // SAFETY: per `new`; a plain read of the function pointer.
        unsafe {
            self.0
                .as_ref()
                .and_then(|_| addr_of!((*self.0).release).read())
        }
    }
}

/// `device_initialize()`: one reference, the kobject marked initialised.
/// Initialising one that already is reports as the kernel's
/// `kobject_init()` does, then initialises it anyway.
pub fn initialize(dev: DevPtr) {
    let (Some(kref), Some(state)) = (dev.kref(), dev.state()) else {
        crate::warn_if!("device_initialize", true, "device_initialize(NULL)");
        return;
    };
    crate::warn_if!(
        "kobject_init",
        state.load(Ordering::Acquire) & STATE_INITIALIZED != 0,
        "kobject ({:#x}): tried to init an initialized object, something is seriously wrong.",
        dev.addr() + 8
    );
    kref.store(1, Ordering::Release);
    state.fetch_or(STATE_INITIALIZED, Ordering::AcqRel);
}

fn initialized(dev: DevPtr, func: &'static str) -> bool {
    let ok = dev
        .state()
        .is_some_and(|s| s.load(Ordering::Acquire) & STATE_INITIALIZED != 0);
    !crate::warn_if!(
        func,
        !ok,
        "kobject: '{}' ({:#x}): is not initialized, yet {func}() is being called.",
        dev.name(),
        dev.addr() + 8
    )
}

/// `get_device()`: one more reference. On a count of 0 (a released
/// device) the kernel's refcount_t WARNs and saturates; here it WARNs and
/// leaves the count at 0.
pub fn get(dev: DevPtr) {
    let Some(kref) = dev.kref() else { return };
    if !initialized(dev, "kobject_get") {
        return;
    }
    let took = kref
        .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
            (n > 0).then(|| n.saturating_add(1))
        })
        .is_ok();
    crate::warn_if!(
        "kobject_get",
        !took,
        "refcount_t: addition on 0; use-after-free."
    );
}

/// `put_device()`: drop a reference; the last one releases the device.
pub fn put(dev: DevPtr) {
    let Some(kref) = dev.kref() else { return };
    if !initialized(dev, "kobject_put") {
        return;
    }
    let Ok(old) = kref.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
        (n > 0).then(|| n - 1)
    }) else {
        crate::warn_if!(
            "kobject_put",
            true,
            "refcount_t: underflow; use-after-free."
        );
        return;
    };
    if old == 1 {
        release(dev);
    }
}

/// `device_release()`: managed resources first (newest first), then the
/// DMA-API check, then the device's own `release()`.
fn release(dev: DevPtr) {
    devres::release_all(dev.addr());
    dma::device_gone(dev.addr());
    match dev.release_fn() {
        // SAFETY: the driver's release for its own device, called once,
        // as the kernel calls it, after the last reference went.
        Some(f) => unsafe { f(dev.0) },
        None => {
            crate::warn_if!(
                "device_release",
                true,
                "Device '{}' does not have a release() function, it is broken and must be fixed. \
                 See Documentation/core-api/kobject.rst.",
                dev.name()
            );
        }
    }
}

/// A C `void (*)(void *)` action.
pub type Action = unsafe extern "C" fn(*mut c_void);

fn action_entry(action: Action, data: usize) -> devres::Release {
    // SAFETY: the driver's action with the data it registered it with,
    // run once, as the kernel's devm_action_release() runs it.
    Box::new(move || unsafe { action(data as *mut c_void) })
}

/// `devm_add_action()`: ENOMEM when the entry's allocation fails.
pub fn add_action(dev: usize, action: Action, data: usize) -> Result<(), i32> {
    devres::add(
        dev,
        Tag::Action,
        (action as usize, data),
        action_entry(action, data),
    )
}

/// `devm_remove_action()` (run = false) and `devm_release_action()` (run
/// = true): WARN, as the kernel's WARN_ON(), when no such action is there.
pub fn remove_action(dev: usize, action: Action, data: usize, run: bool) {
    let func = if run {
        "devm_release_action"
    } else {
        "devm_remove_action"
    };
    match devres::remove(dev, Tag::Action, (action as usize, data)) {
        Some(r) if run => r(),
        Some(_) => {}
        None => {
            crate::warn_if!(
                func,
                true,
                "{func}(): device {dev:#x} has no action {:#x} with data {data:#x}",
                action as usize
            );
        }
    }
}

/// `devm_kmalloc()`: slab memory freed with the device. Size 0 answers
/// `ZERO_SIZE_PTR`, as the kernel's does.
pub fn kmalloc(dev: usize, size: usize, zero: bool, file: &str, line: u32) -> *mut u8 {
    if size == 0 {
        return slab::ZERO_SIZE_PTR as *mut u8;
    }
    let p = slab::alloc(size, zero, file, line);
    if !p.is_null() {
        let addr = p as usize;
        devres::add_unfailing(
            dev,
            Tag::Kmalloc,
            (addr, 0),
            Box::new(move || slab::free(addr as *mut u8)),
        );
    }
    p
}

/// `devm_kfree()`: free managed memory now. NULL and `ZERO_SIZE_PTR` are
/// ignored; memory `dev` does not manage WARNs and is left alone.
pub fn kfree(dev: usize, p: usize) {
    if p == 0 || p == slab::ZERO_SIZE_PTR {
        return;
    }
    match devres::remove(dev, Tag::Kmalloc, (p, 0)) {
        Some(r) => r(),
        None => {
            crate::warn_if!(
                "devm_kfree",
                true,
                "WARN_ON(devres_destroy()): {p:#x} is not memory devm_kmalloc() gave device {dev:#x}"
            );
        }
    }
}
