// SPDX-License-Identifier: GPL-2.0-only
//! The C boundary of the API generations (`<memremap/generation.h>`): the
//! generation-tagged registration and `zone_device_page_init()` of every
//! generation. The headers map each generation's kernel names onto these.
#![allow(clippy::missing_safety_doc)]

use super::{devm_memremap_pages, memremap_pages, Device};
use crate::types::{DevPagemap, Page};
use crate::zone_device::{self, Gen};
use core::ffi::{c_int, c_uint, c_void};

/// An error pointer (`IS_ERR()`): -4095..-1 as an address.
fn is_err(p: *mut c_void) -> bool {
    (p as usize) >= usize::MAX - 4094
}

fn gen_of(func: &'static str, gen: c_uint) -> Option<Gen> {
    let g = Gen::from_c(gen);
    crate::warn_if!(func, g.is_none(), "{func}(): unknown generation {gen}");
    g
}

/// `memremap_pages()` of a generation: register, then tag the pgmap.
#[no_mangle]
pub unsafe extern "C" fn memremap_pages_gen(
    pgmap: *mut DevPagemap,
    nid: c_int,
    gen: c_uint,
) -> *mut c_void {
    let Some(g) = gen_of("memremap_pages", gen) else {
        return (-(libc::EINVAL as isize)) as *mut c_void;
    };
    // SAFETY: forwarded contract (ffi module: NULL or the caller's pgmap).
    let va = unsafe { memremap_pages(pgmap, nid) };
    if !is_err(va) {
        zone_device::register(pgmap as usize, g);
    }
    va
}

/// `devm_memremap_pages()` of a generation.
#[no_mangle]
pub unsafe extern "C" fn devm_memremap_pages_gen(
    dev: *mut Device,
    pgmap: *mut DevPagemap,
    gen: c_uint,
) -> *mut c_void {
    let Some(g) = gen_of("devm_memremap_pages", gen) else {
        return (-(libc::EINVAL as isize)) as *mut c_void;
    };
    // SAFETY: forwarded contract.
    let va = unsafe { devm_memremap_pages(dev, pgmap) };
    if !is_err(va) {
        zone_device::register(pgmap as usize, g);
    }
    va
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
    // SAFETY: per the ffi module contract, a non-null page pointer is a
    // page of this library's memmap (or its poison page).
    let Some(p) = (unsafe { page.as_ref() }) else {
        crate::warn_if!("zone_device_page_init", true, "zone_device_page_init(NULL)");
        return;
    };
    zone_device::init(g, p, pgmap as usize, order)
}

/// The generation a pgmap was registered for (`MEMREMAP_GEN_*`), 0 for a
/// seed pgmap.
#[no_mangle]
pub unsafe extern "C" fn memremap_pgmap_generation(pgmap: *mut DevPagemap) -> c_uint {
    zone_device::generation(pgmap as usize).map_or(0, |g| g as c_uint)
}
