// SPDX-License-Identifier: GPL-2.0-only
//! `include/linux/bug.h`: the WARN macros' calls into the library, and
//! `include/linux/mmdebug.h`'s `dump_page()` that its `VM_*_PAGE()` checks
//! call.
#![allow(clippy::missing_safety_doc)]

use super::{c_str, page_ref, Folio};
use crate::page::dump;
use crate::types::Page;
use crate::warn;
use core::ffi::{c_char, c_int, c_ulong};
use std::sync::atomic::AtomicU64;

#[no_mangle]
pub unsafe extern "C" fn __memremap_warn(
    file: *const c_char,
    line: c_int,
    func: *const c_char,
    msg: *const c_char,
) {
    warn::report(
        &c_str(file),
        line as u32,
        &c_str(func),
        format_args!("{}", c_str(msg)),
    );
}

#[no_mangle]
pub unsafe extern "C" fn __memremap_warn_once_claim(site: *mut c_ulong) -> bool {
    if site.is_null() {
        return false;
    }
    // SAFETY: `site` is the per-call-site static the WARN_ON_ONCE macro
    // declares: aligned, 8 bytes, alive for the whole program.
    let a = unsafe { AtomicU64::from_ptr(site) };
    warn::once_claim(a)
}

#[no_mangle]
pub unsafe extern "C" fn dump_page(page: *const Page, reason: *const c_char) {
    let reason = (!reason.is_null()).then(|| c_str(reason));
    if let Some(p) = page_ref("dump_page", page) {
        dump::dump_page(p, reason.as_deref())
    }
}

#[no_mangle]
pub unsafe extern "C" fn dump_folio(folio: *const Folio, reason: *const c_char) {
    // SAFETY: the module contract: a folio pointer is its head page's.
    unsafe { dump_page(folio as *const Page, reason) }
}
