// SPDX-License-Identifier: GPL-2.0-only
//! The C side of the resource tree: `struct resource` as C lays it out,
//! the `iomem_resource` root C links hang off, and raw reads and writes of
//! the structs (the tree itself is in the parent module).

use super::boot::SYSTEM_RAM;
use super::{IORESOURCE_MEM, IORES_DESC_NONE};
use core::cell::UnsafeCell;
use core::ffi::{c_char, c_ulong};
use core::ptr::{addr_of, addr_of_mut, null_mut};

/// `struct resource` (include/linux/ioport.h), 64 bytes on x86_64.
#[repr(C)]
pub struct Resource {
    pub start: u64,
    pub end: u64,
    pub name: *const c_char,
    pub flags: c_ulong,
    pub desc: c_ulong,
    pub parent: *mut Resource,
    pub sibling: *mut Resource,
    pub child: *mut Resource,
}
static_assertions::const_assert_eq!(core::mem::size_of::<Resource>(), 64);

/// A `struct resource` of the library's own, in static memory: the root
/// `iomem_resource`, which C code reads and links hang off, and the boot
/// resources under it.
pub struct Root(pub(super) UnsafeCell<Resource>);

// SAFETY: the struct is written only with TREE locked (its child link);
// C reads it as the kernel's code reads iomem_resource.
unsafe impl Sync for Root {}

impl Root {
    /// An `iomem_resource` with no children.
    pub const fn new() -> Self {
        Self::with_child(null_mut())
    }

    /// `iomem_resource` with its first child.
    const fn with_child(child: *mut Resource) -> Self {
        Root(UnsafeCell::new(Resource {
            start: 0,
            end: u64::MAX,
            name: c"PCI mem".as_ptr(),
            flags: IORESOURCE_MEM as c_ulong,
            desc: IORES_DESC_NONE as c_ulong,
            parent: null_mut(),
            sibling: null_mut(),
            child,
        }))
    }

    pub const fn ptr(&self) -> *mut Resource {
        self.0.get()
    }
}

impl Default for Root {
    fn default() -> Self {
        Self::new()
    }
}

/// `iomem_resource`, the root of physical memory, under the kernel's name
/// (include/linux/ioport.h declares it as the kernel does).
#[no_mangle]
#[allow(non_upper_case_globals)]
pub static iomem_resource: Root = Root::with_child(SYSTEM_RAM.ptr());

/// Raw access to a C `struct resource`.
#[derive(Clone, Copy)]
pub(super) struct CRes(pub(super) *mut Resource);

impl CRes {
    /// (start, end, flags, desc) as C holds them now.
    pub(super) fn read(self) -> Option<(u64, u64, u64, u64)> {
        if self.0.is_null() {
            return None;
        }
        // SAFETY: non-null resource pointers are the caller's struct
        // resource (or ours), alive while it is in use: the kernel's rule.
        unsafe {
            Some((
                addr_of!((*self.0).start).read(),
                addr_of!((*self.0).end).read(),
                addr_of!((*self.0).flags).read(),
                addr_of!((*self.0).desc).read(),
            ))
        }
    }

    /// Fill in a resource this module allocated.
    pub(super) fn fill(self, start: u64, end: u64, name: *const c_char, flags: u64, desc: u64) {
        // SAFETY: `self` is a zeroed, 64-byte block slab::alloc just made.
        unsafe {
            addr_of_mut!((*self.0).start).write(start);
            addr_of_mut!((*self.0).end).write(end);
            addr_of_mut!((*self.0).name).write(name);
            addr_of_mut!((*self.0).flags).write(flags as c_ulong);
            addr_of_mut!((*self.0).desc).write(desc as c_ulong);
        }
    }

    pub(super) fn set_desc(self, desc: u64) {
        // SAFETY: as in `read`; the struct is one of ours, in the tree.
        unsafe { addr_of_mut!((*self.0).desc).write(desc as c_ulong) }
    }

    /// Point `parent`'s child link and its children's parent and sibling
    /// links at `children` (their C structs, in order).
    pub(super) fn link(parent: usize, children: &[usize]) {
        let ptr = |n: Option<&usize>| n.map_or(null_mut(), |&n| n as *mut Resource);
        // SAFETY: `parent` and every child are live struct resources in the
        // tree (ours, or the caller's, which it keeps while requested);
        // only the link fields are written, with TREE held.
        unsafe {
            addr_of_mut!((*(parent as *mut Resource)).child).write(ptr(children.first()));
            for (i, &c) in children.iter().enumerate() {
                let r = c as *mut Resource;
                addr_of_mut!((*r).parent).write(parent as *mut Resource);
                addr_of_mut!((*r).sibling).write(ptr(children.get(i + 1)));
            }
        }
    }

    /// Unlink a resource that left the tree.
    pub(super) fn detach(self) {
        // SAFETY: as in `link`; the struct is still allocated.
        unsafe {
            addr_of_mut!((*self.0).parent).write(null_mut());
            addr_of_mut!((*self.0).sibling).write(null_mut());
        }
    }
}

impl CRes {
    pub(super) fn name(self) -> *const c_char {
        // SAFETY: as in `read`.
        unsafe { addr_of!((*self.0).name).read() }
    }
}

pub(super) fn name_of(p: *const c_char) -> String {
    if p.is_null() {
        return String::from("<BAD>");
    }
    // SAFETY: resource names are the caller's NUL-terminated strings, kept
    // as long as the resource (the kernel stores the pointer too).
    unsafe { core::ffi::CStr::from_ptr(p) }
        .to_string_lossy()
        .into_owned()
}
