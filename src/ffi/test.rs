// SPDX-License-Identifier: GPL-2.0-only
//! `include/memremap/test.h`: what test programs ask of and tell the
//! library beyond the kernel's API (WARN records, fault injection, wait
//! bounds, the state of pgmaps, the ledger).
#![allow(clippy::missing_safety_doc)]

use super::percpu_ref::ref_data;
use super::{as_page, pg, WarnRecord};
use crate::types::{DevPagemap, Page, PercpuRef};
use crate::{ledger, memmap, percpu_ref, pgmap, slab, sync, warn};
use core::ffi::{c_char, c_long, c_ulong};
use core::ptr::null_mut;

#[no_mangle]
pub extern "C" fn memremap_warn_count() -> c_ulong {
    warn::count()
}

#[no_mangle]
pub unsafe extern "C" fn memremap_warn_last(out: *mut WarnRecord) -> bool {
    // SAFETY: module contract: NULL or the caller's record.
    let (Some(out), Some(rec)) = (unsafe { out.as_mut() }, warn::last()) else {
        return false;
    };
    out.fill(&rec);
    true
}

#[no_mangle]
pub extern "C" fn memremap_warn_rearm() {
    warn::rearm()
}

#[no_mangle]
pub extern "C" fn memremap_warn_quiet(quiet: bool) {
    warn::set_quiet(quiet)
}

#[no_mangle]
pub extern "C" fn memremap_warn_set_traces(on: bool) {
    crate::trace::set_enabled(on)
}

#[no_mangle]
pub extern "C" fn memremap_warn_traces() -> bool {
    crate::trace::enabled()
}

#[no_mangle]
pub extern "C" fn memremap_warn_capture(on: bool) {
    warn::capture(on)
}

#[no_mangle]
pub unsafe extern "C" fn memremap_warn_captured(buf: *mut c_char, size: usize) -> usize {
    let text = warn::captured();
    if buf.is_null() || size == 0 {
        return text.len();
    }
    let n = text.len().min(size - 1);
    // SAFETY: per the module contract, a non-null `buf` is the caller's
    // buffer of `size` bytes; n + 1 <= size bytes are written.
    let out = unsafe { core::slice::from_raw_parts_mut(buf, n + 1) };
    for (d, b) in out.iter_mut().zip(text.bytes()) {
        *d = b as c_char;
    }
    out[n] = 0;
    text.len()
}

#[no_mangle]
pub extern "C" fn memremap_kmalloc_live() -> c_ulong {
    slab::live_count()
}

#[no_mangle]
pub extern "C" fn memremap_kmalloc_fail_nth(n: c_ulong) {
    slab::fail_nth(n)
}

#[no_mangle]
pub extern "C" fn memremap_kmalloc_injected() -> c_ulong {
    slab::injected()
}

#[no_mangle]
pub extern "C" fn memremap_set_wait_bound_ms(ms: c_ulong) {
    sync::set_wait_bound(ms)
}

#[no_mangle]
pub unsafe extern "C" fn memremap_pgmap_pins(pgmap: *mut DevPagemap) -> c_long {
    pgmap::pins(pg(pgmap))
}

#[no_mangle]
pub unsafe extern "C" fn memremap_pgmap_busy_pages(pgmap: *mut DevPagemap) -> c_ulong {
    pgmap::busy_pages(pg(pgmap)) as c_ulong
}

#[no_mangle]
pub unsafe extern "C" fn memremap_pgmap_is_mapped(pgmap: *mut DevPagemap) -> bool {
    pgmap::mapped(pg(pgmap)).is_some()
}

#[no_mangle]
pub unsafe extern "C" fn memremap_pgmap_is_abandoned(pgmap: *mut DevPagemap) -> bool {
    pgmap::is_abandoned(pg(pgmap))
}

#[no_mangle]
pub extern "C" fn memremap_unmap_waits() -> c_ulong {
    pgmap::unmap_waits() as c_ulong
}

#[no_mangle]
pub extern "C" fn memremap_pfn_owner(pfn: c_ulong) -> *mut DevPagemap {
    pgmap::lookup_pfn(pfn).map_or(null_mut(), |p| p as *mut DevPagemap)
}

#[no_mangle]
pub extern "C" fn memremap_memmap_bytes() -> c_ulong {
    memmap::bytes()
}

#[no_mangle]
pub extern "C" fn memremap_poison_page() -> *mut Page {
    as_page(&memmap::POISON_PAGE)
}

#[no_mangle]
pub unsafe extern "C" fn memremap_percpu_ref_count(r: *mut PercpuRef) -> c_long {
    ref_data("memremap_percpu_ref_count", r).map_or(-1, |d| d.count())
}

#[no_mangle]
pub extern "C" fn memremap_mapped_pgmaps() -> c_ulong {
    pgmap::mapped_pgmaps().len() as c_ulong
}

#[no_mangle]
pub extern "C" fn memremap_kmalloc_fail_every(n: c_ulong) {
    slab::fail_every(n)
}

#[no_mangle]
pub extern "C" fn memremap_kmalloc_fail_random(seed: c_ulong, permille: c_ulong) {
    slab::fail_random(seed, permille)
}

#[no_mangle]
pub extern "C" fn memremap_fail_none() {
    slab::fail_none();
    crate::dma::fail_nth(0);
    percpu_ref::tryget_fail_nth(0);
}

#[no_mangle]
pub extern "C" fn memremap_percpu_tryget_fail_nth(n: c_ulong) {
    percpu_ref::tryget_fail_nth(n)
}

#[no_mangle]
pub extern "C" fn memremap_ledger_count() -> c_ulong {
    ledger::take().len() as c_ulong
}

#[no_mangle]
pub extern "C" fn memremap_ledger_print() -> c_ulong {
    ledger::print() as c_ulong
}

#[no_mangle]
pub extern "C" fn memremap_ledger_at_exit(on: bool) {
    ledger::at_exit(on)
}
