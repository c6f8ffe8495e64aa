// SPDX-License-Identifier: GPL-2.0-only
//! Helpers shared by the integration tests: pgmaps built in Rust the way a
//! C caller builds them.
#![allow(dead_code)]

use memremap::ffi;
use memremap::types::*;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::Mutex;

/// A `struct dev_pagemap` followed by room for more ranges.
#[repr(C)]
pub struct Pgmap<const N: usize> {
    pub pgmap: DevPagemap,
    pub more: [Range; N],
}

/// Tests that read process-wide counters (WARNs, allocations) run one at a time.
pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

pub fn zeroed<const N: usize>() -> Box<Pgmap<N>> {
    // SAFETY: every field of DevPagemap and Range is an integer, an atomic
    // integer, a nullable pointer or an Option of a fn pointer: all-zero is
    // a valid value for each.
    unsafe { Box::new(std::mem::zeroed()) }
}

pub const MIB2: u64 = 2 << 20;
pub const GIB: u64 = 1 << 30;

/// A pgmap of `type_` over `ranges` (byte addresses, inclusive end).
pub fn pgmap<const N: usize>(type_: u32, ranges: &[(u64, u64)]) -> Box<Pgmap<N>> {
    assert!(ranges.len() <= N + 1);
    let mut p = zeroed::<N>();
    p.pgmap.type_ = type_;
    p.pgmap.nr_range = ranges.len() as i32;
    for (i, &(start, end)) in ranges.iter().enumerate() {
        let r = Range { start, end };
        if i == 0 {
            p.pgmap.range = r;
        } else {
            p.more[i - 1] = r;
        }
    }
    p
}

pub static FREED: AtomicUsize = AtomicUsize::new(0);
pub static LAST_FREED: AtomicUsize = AtomicUsize::new(0);

pub unsafe extern "C" fn count_free(page: *mut Page) {
    FREED.fetch_add(1, Ordering::SeqCst);
    LAST_FREED.store(page as usize, Ordering::SeqCst);
}

pub unsafe extern "C" fn migrate(_vmf: *mut core::ffi::c_void) -> u32 {
    0
}

pub static OPS: DevPagemapOps = DevPagemapOps {
    page_free: Some(count_free),
    migrate_to_ram: Some(migrate),
    memory_failure: None,
};

pub static OWNER: AtomicU32 = AtomicU32::new(0);

/// Map it; panics with the errno on failure.
pub fn map<const N: usize>(p: &mut Pgmap<N>) {
    let e = try_map(p);
    assert_eq!(e, 0, "memremap_pages failed: {e}");
}

/// Map it; 0 or the negative errno.
pub fn try_map<const N: usize>(p: &mut Pgmap<N>) -> i64 {
    // SAFETY: `p` is a valid pgmap with nr_range ranges, alive for the test.
    let r = unsafe { ffi::memremap_pages(&mut p.pgmap, 0) } as isize;
    if (-4095..0).contains(&r) {
        r as i64
    } else {
        assert_ne!(r, 0);
        0
    }
}

pub fn unmap<const N: usize>(p: &mut Pgmap<N>) {
    // SAFETY: as in try_map.
    unsafe { ffi::memunmap_pages(&mut p.pgmap) }
}

pub fn request<const N: usize>(p: &mut Pgmap<N>, off: u64, order: i32) -> *mut ffi::Folio {
    // SAFETY: as in try_map.
    unsafe { ffi::pgmap_request_folio(&mut p.pgmap, off, order) }
}

pub fn put(f: *mut ffi::Folio) {
    // SAFETY: `f` came from the library.
    unsafe { ffi::folio_put(f) }
}

pub fn refs(f: *mut ffi::Folio) -> i32 {
    // SAFETY: `f` came from the library.
    unsafe { ffi::folio_ref_count(f) }
}

pub fn pins<const N: usize>(p: &mut Pgmap<N>) -> i64 {
    // SAFETY: as in try_map.
    unsafe { ffi::memremap_pgmap_pins(&mut p.pgmap) }
}

pub fn pfn_of(f: *mut ffi::Folio) -> u64 {
    // SAFETY: `f` came from the library.
    unsafe { ffi::folio_pfn(f) }
}

pub fn warns() -> u64 {
    memremap::warn::count()
}
