// SPDX-License-Identifier: GPL-2.0-only
//! The two sides' C entry points: the library's (`memremap::ffi`) and the
//! seed's C reference (`ref_after_*`, `ref_before_*`), behind one `Api` per
//! mapped pgmap; the driver callbacks (`page_free()` calls, logged) and the
//! substrate calls both sides share.

use crate::common;
use crate::common::serial;
use crate::fixture::{measure, Fixture, Quiet};
use crate::{GIB_PFN, SUB};
use core::ffi::{c_int, c_ulong};
use memremap::ffi::{self, Folio};
use memremap::types::*;
use std::ptr::addr_of_mut;
use std::sync::atomic::AtomicU32;
use std::sync::Mutex;

extern "C" {
    pub fn ref_after_pgmap_request_folio(
        pgmap: *mut DevPagemap,
        pgmap_offset: c_ulong,
        order: c_int,
    ) -> *mut Folio;
    pub fn ref_after_pfn_to_pgmap_offset(pgmap: *mut DevPagemap, pfn: c_ulong) -> c_ulong;
    pub fn ref_after_pgmap_offset_to_pfn(pgmap: *mut DevPagemap, pgmap_offset: c_ulong) -> c_ulong;
    pub fn ref_after_set_tryget_hook(hook: Option<unsafe extern "C" fn(*mut PercpuRef)>);
    pub fn ref_before_pgmap_request_folios(
        pgmap: *mut DevPagemap,
        folio: *mut Folio,
        nr_folios: c_int,
    ) -> bool;
    pub fn ref_before_pgmap_release_folios(folio: *mut Folio, nr_folios: c_int);
    pub fn ref_before_folio_span_valid(
        pgmap: *mut DevPagemap,
        folio: *mut Folio,
        nr_folios: c_int,
    ) -> bool;
}

// ---- page_free() calls ----

pub static FREED: Mutex<Vec<usize>> = Mutex::new(Vec::new());

pub unsafe extern "C" fn log_free(page: *mut Page) {
    FREED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(page as usize);
}

pub fn take_freed() -> Vec<usize> {
    std::mem::take(&mut *FREED.lock().unwrap_or_else(|e| e.into_inner()))
}

pub static OPS_EMPTY: DevPagemapOps = DevPagemapOps {
    page_free: None,
    migrate_to_ram: None,
    memory_failure: None,
};
pub static OPS_FREE: DevPagemapOps = DevPagemapOps {
    page_free: Some(log_free),
    migrate_to_ram: None,
    memory_failure: None,
};
pub static OPS_FULL: DevPagemapOps = DevPagemapOps {
    page_free: Some(log_free),
    migrate_to_ram: Some(common::migrate),
    memory_failure: None,
};
pub static OWNER: AtomicU32 = AtomicU32::new(0);

// ---- the C entry points, library and reference ----

/// Which implementation a run goes through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Lib,
    Ref,
}

/// One mapped pgmap, driven through one side. Every pointer handed to C is
/// this pgmap (mapped for the whole life of the `Api`) or a page of it.
pub struct Api {
    pub side: Side,
    pub p: *mut DevPagemap,
}

impl Api {
    pub fn request(&self, off: u64, order: i32) -> *mut Folio {
        match self.side {
            // SAFETY: `p` is a mapped pgmap, alive for the run.
            Side::Lib => unsafe { ffi::pgmap_request_folio(self.p, off, order) },
            // SAFETY: as above; the reference reads only the pgmap and the
            // substrate's pages.
            Side::Ref => unsafe { ref_after_pgmap_request_folio(self.p, off, order) },
        }
    }

    pub fn pfn_to_offset(&self, pfn: u64) -> u64 {
        match self.side {
            // SAFETY: `p` is a mapped pgmap, alive for the run.
            Side::Lib => unsafe { ffi::pfn_to_pgmap_offset(self.p, pfn) },
            // SAFETY: as above; it reads `nr_range` and `ranges[]`.
            Side::Ref => unsafe { ref_after_pfn_to_pgmap_offset(self.p, pfn) },
        }
    }

    pub fn offset_to_pfn(&self, off: u64) -> u64 {
        match self.side {
            // SAFETY: `p` is a mapped pgmap, alive for the run.
            Side::Lib => unsafe { ffi::pgmap_offset_to_pfn(self.p, off) },
            // SAFETY: as above; it reads `nr_range` and `ranges[]`.
            Side::Ref => unsafe { ref_after_pgmap_offset_to_pfn(self.p, off) },
        }
    }

    pub fn request_folios(&self, folio: *mut Folio, nr: i32) -> bool {
        match self.side {
            // SAFETY: `p` is mapped and `folio` is a head page of it.
            Side::Lib => unsafe { ffi::pgmap_request_folios(self.p, folio, nr) },
            // SAFETY: as above; the engine passes only spans of mapped
            // folios, so the C's folio_next() walk stays on pages.
            Side::Ref => unsafe { ref_before_pgmap_request_folios(self.p, folio, nr) },
        }
    }

    pub fn release_folios(&self, folio: *mut Folio, nr: i32) {
        match self.side {
            // SAFETY: `folio` is a head page of the mapped pgmap.
            Side::Lib => unsafe { ffi::pgmap_release_folios(folio, nr) },
            // SAFETY: as above.
            Side::Ref => unsafe { ref_before_pgmap_release_folios(folio, nr) },
        }
    }

    pub fn kill(&self) {
        // SAFETY: `p` is a mapped pgmap; its ref is initialised.
        unsafe { ffi::percpu_ref_kill(addr_of_mut!((*self.p).ref_)) }
    }

    pub fn pins(&self) -> i64 {
        // SAFETY: `p` is a live pgmap struct.
        unsafe { ffi::memremap_pgmap_pins(self.p) }
    }

    pub fn ref_get(&self, n: u64) {
        // SAFETY: `p` is a mapped pgmap; its ref is initialised.
        unsafe { ffi::percpu_ref_get_many(addr_of_mut!((*self.p).ref_), n) }
    }

    pub fn ref_put(&self, n: u64) {
        // SAFETY: as in ref_get.
        unsafe { ffi::percpu_ref_put_many(addr_of_mut!((*self.p).ref_), n) }
    }
}

/// The page of a mapped pfn, as a folio pointer.
pub fn folio_at(pfn: u64) -> *mut Folio {
    ffi::pfn_to_page(pfn) as *mut Folio
}

pub fn refcount(f: *mut Folio) -> i32 {
    // SAFETY: `f` is a page of the substrate's memmap.
    unsafe { ffi::folio_ref_count(f) }
}

pub fn put(f: *mut Folio) {
    // SAFETY: `f` is a page of the substrate's memmap.
    unsafe { ffi::folio_put(f) }
}

pub fn ref_inc(f: *mut Folio) {
    // SAFETY: `f` is a page of the substrate's memmap.
    unsafe { ffi::folio_ref_inc(f) }
}

pub fn pfn_of(f: *const Folio) -> u64 {
    // SAFETY: `f` is non-null and came from the substrate (a page or its
    // poison page, for which it answers -1).
    unsafe { ffi::page_to_pfn(f as *const Page) }
}

pub fn warns() -> u64 {
    memremap::warn::count()
}

// ---- the reference is other code ----

/// The `ref_*` names resolve to the seed's C, not to the library: other
/// addresses, and other behaviour on an offset past the end.
#[test]
fn reference_is_other_code() {
    let _s = serial();
    let _q = Quiet::new();
    let pairs = [
        (
            ffi::pgmap_request_folio as *const () as usize,
            ref_after_pgmap_request_folio as *const () as usize,
        ),
        (
            ffi::pfn_to_pgmap_offset as *const () as usize,
            ref_after_pfn_to_pgmap_offset as *const () as usize,
        ),
        (
            ffi::pgmap_offset_to_pfn as *const () as usize,
            ref_after_pgmap_offset_to_pfn as *const () as usize,
        ),
        (
            ffi::pgmap_request_folios as *const () as usize,
            ref_before_pgmap_request_folios as *const () as usize,
        ),
        (
            ffi::pgmap_release_folios as *const () as usize,
            ref_before_pgmap_release_folios as *const () as usize,
        ),
    ];
    for (lib, c) in pairs {
        assert_ne!(lib, c, "a reference name resolves to the library");
    }
    let mut fx = Fixture::new(MEMORY_DEVICE_GENERIC, 0, &[(GIB_PFN, SUB)]);
    let (f, lib_warns, _) = measure(|| fx.api(Side::Lib).request(SUB, 0));
    assert!(f.is_null());
    let (g, ref_warns, _) = measure(|| fx.api(Side::Ref).request(SUB, 0));
    assert!(g.is_null());
    assert_eq!((lib_warns, ref_warns), (1, 2));
}
