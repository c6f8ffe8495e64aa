// SPDX-License-Identifier: GPL-2.0-only
//! `devm_memremap_pages()` and friends: mappings tied to a device, undone
//! newest first when the device goes away.

use super::{memremap_pages, memremap_pages_gen, memunmap_pages, PgmapPtr};
use crate::generation::Gen;
use std::sync::Mutex;

/// `struct device`: opaque to the library.
#[repr(C)]
pub struct Device {
    _private: [u8; 0],
}

/// `devm_memremap_pages()` registrations: (device, pgmap).
static DEVRES: Mutex<Vec<(usize, usize)>> = Mutex::new(Vec::new());

/// `devm_memremap_pages()`.
pub fn devm_memremap_pages(dev: usize, pgmap: PgmapPtr) -> Result<usize, i32> {
    let va = memremap_pages(pgmap)?;
    DEVRES
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push((dev, pgmap.addr()));
    Ok(va)
}

/// `devm_memremap_pages()` of API generation `gen` (docs/DESIGN.md §9).
pub fn devm_memremap_pages_gen(dev: usize, pgmap: PgmapPtr, gen: Gen) -> Result<usize, i32> {
    let va = memremap_pages_gen(pgmap, gen)?;
    DEVRES
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push((dev, pgmap.addr()));
    Ok(va)
}

/// `devm_memunmap_pages()`.
pub fn devm_memunmap_pages(dev: usize, pgmap: PgmapPtr) {
    let found = {
        let mut list = DEVRES.lock().unwrap_or_else(|e| e.into_inner());
        let at = list.iter().position(|&e| e == (dev, pgmap.addr()));
        at.map(|i| list.remove(i)).is_some()
    };
    if crate::warn_if!(
        "devm_memunmap_pages",
        !found,
        "pgmap {:p} was not mapped by devm_memremap_pages() for device {dev:#x}",
        pgmap.ptr()
    ) {
        return;
    }
    memunmap_pages(pgmap);
}

/// Release every `devm_memremap_pages()` of `dev`, newest first, as the
/// driver core does when the device goes away.
pub fn devres_release_all(dev: usize) {
    let mine: Vec<usize> = {
        let mut list = DEVRES.lock().unwrap_or_else(|e| e.into_inner());
        let mine = list.iter().filter(|e| e.0 == dev).map(|e| e.1).collect();
        list.retain(|e| e.0 != dev);
        mine
    };
    for pgmap in mine.into_iter().rev() {
        memunmap_pages(PgmapPtr::registered(pgmap));
    }
}
