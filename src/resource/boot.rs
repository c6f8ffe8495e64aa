// SPDX-License-Identifier: GPL-2.0-only
//! What the tree holds from the start, as the kernel's boot code fills
//! `iomem_resource` before any driver runs.

use super::craw::{iomem_resource, CRes, Resource, Root};
use super::{relink, root, Node, IORESOURCE_BUSY, IORESOURCE_SYSTEM_RAM, IORES_DESC_NONE};
use crate::memmap::{SYSTEM_FIRST_PFN, SYSTEM_PFNS};
use crate::types::PAGE_SHIFT;
use core::cell::UnsafeCell;
use core::ffi::c_ulong;
use core::ptr::null_mut;

/// The page allocator's System RAM (memmap's window) as the kernel's e820
/// code registers RAM at boot (`e820__reserve_resources()`): a busy
/// "System RAM" resource directly under `iomem_resource`, linked there
/// from the start; the tree takes it in on first use (`boot`).
pub(super) static SYSTEM_RAM: Root = Root(UnsafeCell::new(Resource {
    start: SYSTEM_FIRST_PFN << PAGE_SHIFT,
    end: ((SYSTEM_FIRST_PFN + SYSTEM_PFNS) << PAGE_SHIFT) - 1,
    name: c"System RAM".as_ptr(),
    flags: (IORESOURCE_SYSTEM_RAM | IORESOURCE_BUSY) as c_ulong,
    desc: IORES_DESC_NONE as c_ulong,
    parent: iomem_resource.ptr(),
    sibling: null_mut(),
    child: null_mut(),
}));

/// Take in the boot resources, whose C structs are linked from the start:
/// System RAM (a static struct, never freed; release_resource() may still
/// take it out, as the kernel's would).
pub(super) fn boot(top: &mut Vec<Node>) {
    let res = SYSTEM_RAM.ptr();
    if let Some((start, end, flags, desc)) = CRes(res).read() {
        let i = top.iter().position(|n| n.start > end).unwrap_or(top.len());
        top.insert(
            i,
            Node {
                start,
                end,
                flags,
                desc,
                res: res as usize,
                owned: false,
                children: Vec::new(),
            },
        );
        relink(root(), top);
    }
}
