// SPDX-License-Identifier: GPL-2.0-only
//! `devm_memremap_pages()` and `devm_memunmap_pages()`: mappings tied to a
//! device, entries of its managed resources ([`crate::devres`]), undone
//! newest first with the rest when the device goes away.

use super::{memremap_pages, memremap_pages_gen, memunmap_pages, PgmapPtr};
use crate::devres::{self, Tag};
use crate::generation::Gen;

/// `struct device`: opaque to the pgmap.
#[repr(C)]
pub struct Device {
    _private: [u8; 0],
}

/// `devm_memremap_pages()`: the mapping joins `dev`'s managed resources.
/// Unlike the kernel's devm_add_action_or_reset(), the entry draws no
/// allocation fault injection, so that the failure points existing tests
/// count stay where they were.
pub fn devm_memremap_pages(dev: usize, pgmap: PgmapPtr) -> Result<usize, i32> {
    let va = memremap_pages(pgmap)?;
    manage(dev, pgmap);
    Ok(va)
}

/// `devm_memremap_pages()` of API generation `gen` (docs/DESIGN.md §9).
pub fn devm_memremap_pages_gen(dev: usize, pgmap: PgmapPtr, gen: Gen) -> Result<usize, i32> {
    let va = memremap_pages_gen(pgmap, gen)?;
    manage(dev, pgmap);
    Ok(va)
}

/// Make a mapped pgmap one of `dev`'s managed resources.
fn manage(dev: usize, pgmap: PgmapPtr) {
    let addr = pgmap.addr();
    devres::add_unfailing(
        dev,
        Tag::Pgmap,
        (addr, 0),
        Box::new(move || memunmap_pages(PgmapPtr::registered(addr))),
    );
}

/// `devm_memunmap_pages()`: unmap now and drop the managed entry.
pub fn devm_memunmap_pages(dev: usize, pgmap: PgmapPtr) {
    let Some(release) = devres::remove(dev, Tag::Pgmap, (pgmap.addr(), 0)) else {
        crate::warn_if!(
            "devm_memunmap_pages",
            true,
            "pgmap {:p} was not mapped by devm_memremap_pages() for device {dev:#x}",
            pgmap.ptr()
        );
        return;
    };
    release();
}
