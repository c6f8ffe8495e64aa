// SPDX-License-Identifier: GPL-2.0-only
//! `include/memremap/generation.h`: the C boundary of the API generations
//! (docs/DESIGN.md §9), the generation-tagged registration and
//! `zone_device_page_init()` of every generation. The headers map each
//! generation's kernel names onto these.
#![allow(clippy::missing_safety_doc)]

use super::{err_ptr, page_ref, pg, Device};
use crate::generation::{self, Gen};
use crate::page::zone_device;
use crate::pgmap;
use crate::types::{DevPagemap, Page};
use core::ffi::{c_int, c_uint, c_void};

/// A `MEMREMAP_GEN_*` value from C, or a WARN naming `func`.
fn gen_of(func: &'static str, gen: c_uint) -> Option<Gen> {
    let g = Gen::from_c(gen);
    crate::warn_if!(func, g.is_none(), "{func}(): unknown generation {gen}");
    g
}

/// `memremap_pages()` of a generation.
#[no_mangle]
pub unsafe extern "C" fn memremap_pages_gen(
    pgmap: *mut DevPagemap,
    _nid: c_int,
    gen: c_uint,
) -> *mut c_void {
    let Some(g) = gen_of("memremap_pages", gen) else {
        return err_ptr(libc::EINVAL);
    };
    match pgmap::memremap_pages_gen(pg(pgmap), g) {
        Ok(va) => va as *mut c_void,
        Err(e) => err_ptr(e),
    }
}

/// `devm_memremap_pages()` of a generation.
#[no_mangle]
pub unsafe extern "C" fn devm_memremap_pages_gen(
    dev: *mut Device,
    pgmap: *mut DevPagemap,
    gen: c_uint,
) -> *mut c_void {
    let Some(g) = gen_of("devm_memremap_pages", gen) else {
        return err_ptr(libc::EINVAL);
    };
    match pgmap::devm_memremap_pages_gen(dev as usize, pg(pgmap), g) {
        Ok(va) => va as *mut c_void,
        Err(e) => err_ptr(e),
    }
}

/// `zone_device_page_init()` of generation `gen`: `pgmap` is 6.19's
/// argument (NULL before), `order` 0 before 6.19-rc.
#[no_mangle]
pub unsafe extern "C" fn memremap_zone_device_init(
    page: *mut Page,
    pgmap: *mut DevPagemap,
    order: c_uint,
    gen: c_uint,
) {
    let Some(g) = gen_of("zone_device_page_init", gen) else {
        return;
    };
    if let Some(p) = page_ref("zone_device_page_init", page) {
        zone_device::init(g, p, pgmap as usize, order)
    }
}

/// The generation a pgmap was registered for (`MEMREMAP_GEN_*`), 0 for a
/// seed pgmap.
#[no_mangle]
pub unsafe extern "C" fn memremap_pgmap_generation(pgmap: *mut DevPagemap) -> c_uint {
    generation::generation(pgmap as usize).map_or(0, |g| g as c_uint)
}
