// SPDX-License-Identifier: GPL-2.0-only
//! The C entry points, one file per header family under `src/ffi/`. No
//! logic lives there: each function turns C pointers into references
//! (checking them with the helpers below), calls the module that owns the
//! concept, and turns the answer back into C. None of them can panic.
//!
//! Safety contract, for every function: pointer arguments are NULL or point
//! at objects of the named kernel type that the caller owns, laid out as in
//! `include/linux/`; `struct page` / `struct folio` pointers come from this
//! library. That is the kernel's own contract for these APIs.
//!
//! A new header family is a new `src/ffi/<name>.rs` and one `pub mod` and
//! `pub use` line here; cbindgen reads it from there.

pub mod alloc;
pub mod bug;
pub mod device;
pub mod dma;
pub mod file_map;
pub mod hmm;
pub mod ioport;
pub mod memremap;
pub mod migrate;
pub mod mm;
pub mod page_alloc;
pub mod percpu_ref;
pub mod sched;
pub mod slab;
pub mod test;
pub mod zone_device;

pub use self::alloc::*;
pub use self::bug::*;
pub use self::device::*;
pub use self::dma::*;
pub use self::hmm::*;
pub use self::ioport::*;
pub use self::memremap::*;
pub use self::migrate::*;
pub use self::mm::*;
pub use self::page_alloc::*;
pub use self::percpu_ref::*;
pub use self::sched::*;
pub use self::slab::*;
pub use self::test::*;
pub use self::zone_device::*;
pub use crate::page::Folio;
pub use crate::pgmap::Device;
pub use crate::warn::WarnRecord;

use crate::pgmap::PgmapPtr;
use crate::types::{DevPagemap, Page};
use core::ffi::{c_char, c_void, CStr};

/// A page reference from C, or a WARN naming `func`.
fn page_ref<'a>(func: &'static str, p: *const Page) -> Option<&'a Page> {
    // SAFETY: per the module contract, a non-null page pointer is a page of
    // this library's memmap (or its poison page); Page is all atomics.
    let r = unsafe { p.as_ref() };
    crate::warn_if!(func, r.is_none(), "{func}(NULL)");
    r
}

/// A folio reference from C (as its head page), or a WARN naming `func`.
fn folio_ref<'a>(func: &'static str, f: *const Folio) -> Option<&'a Page> {
    page_ref(func, f as *const Page)
}

/// A page or folio pointer from C that may be NULL, without a WARN.
fn maybe_page<'a>(p: *const Page) -> Option<&'a Page> {
    // SAFETY: per the module contract, a non-null page pointer is a page of
    // this library's memmap (or its poison page); Page is all atomics.
    unsafe { p.as_ref() }
}

fn as_page(p: &Page) -> *mut Page {
    p as *const Page as *mut Page
}

fn as_folio(p: &Page) -> *mut Folio {
    p as *const Page as *mut Folio
}

/// A pgmap pointer from C.
fn pg(p: *mut DevPagemap) -> PgmapPtr {
    // SAFETY: the module contract is PgmapPtr::new's: NULL or the caller's
    // pgmap, alive while the library may use it.
    unsafe { PgmapPtr::new(p) }
}

/// `ERR_PTR(-errno)`.
fn err_ptr(errno: i32) -> *mut c_void {
    (-(errno as isize)) as *mut c_void
}

/// A C string the kernel-shaped macros pass (`__FILE__`, `__func__`).
fn c_str(s: *const c_char) -> String {
    if s.is_null() {
        return String::from("?");
    }
    // SAFETY: non-null strings from C are the __FILE__/__func__ literals the
    // kernel-shaped macros pass, NUL-terminated.
    unsafe { CStr::from_ptr(s) }.to_string_lossy().into_owned()
}
