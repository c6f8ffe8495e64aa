// SPDX-License-Identifier: GPL-2.0-only
//! The iomem resource tree (kernel/resource.c): `iomem_resource` and what
//! drivers of device memory claim under it. The tree is kept here, one
//! [`Node`] per `struct resource`; the C structs are kept in step (start,
//! end, name, flags, desc and the parent/sibling/child links), so C code
//! reading them sees what the kernel's would hold.
//!
//! This module knows nothing of pgmaps: `request_free()` is handed the
//! ranges mapped pgmaps cover, and `pgmap` asks `region_intersects()`.
//! It holds one resource from the start, as the kernel's boot code
//! registers RAM: "System RAM" over the page allocator's pfns
//! (`memmap::SYSTEM_*`), so no pgmap and no free region can meet them.

mod boot;
mod craw;

use crate::slab;
use crate::types::MAX_PHYSMEM_BITS;
use core::ffi::c_char;
pub use craw::{iomem_resource, Resource, Root};
use craw::{name_of, CRes};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// `IORESOURCE_TYPE_BITS`.
pub const IORESOURCE_TYPE_BITS: u64 = 0x0000_1f00;
/// `IORESOURCE_MEM`.
pub const IORESOURCE_MEM: u64 = 0x0000_0200;
/// `IORESOURCE_EXT_TYPE_BITS`.
pub const IORESOURCE_EXT_TYPE_BITS: u64 = 0x0100_0000;
/// `IORESOURCE_SYSRAM`.
pub const IORESOURCE_SYSRAM: u64 = 0x0100_0000;
/// `IORESOURCE_BUSY`.
pub const IORESOURCE_BUSY: u64 = 0x8000_0000;
/// `IORESOURCE_SYSTEM_RAM`.
pub const IORESOURCE_SYSTEM_RAM: u64 = IORESOURCE_MEM | IORESOURCE_SYSRAM;
/// `IORES_DESC_NONE`.
pub const IORES_DESC_NONE: u64 = 0;
/// `IORES_DESC_DEVICE_PRIVATE_MEMORY`.
pub const IORES_DESC_DEVICE_PRIVATE_MEMORY: u64 = 6;
/// `region_intersects()` answers.
pub const REGION_INTERSECTS: i32 = 0;
pub const REGION_DISJOINT: i32 = 1;
pub const REGION_MIXED: i32 = 2;
/// x86_64 `SECTION_SIZE_BITS` (`PA_SECTION_SHIFT`): `request_free_mem_region()`
/// rounds sizes up to, and aligns regions on, a memory-hotplug section.
pub const PA_SECTION_SHIFT: u32 = 27;

fn root() -> usize {
    iomem_resource.ptr() as usize
}

/// One resource of the tree.
#[derive(Debug)]
struct Node {
    start: u64,
    end: u64,
    flags: u64,
    desc: u64,
    /// The C struct.
    res: usize,
    /// Allocated here (by a `__request_region()`), freed on release.
    owned: bool,
    children: Vec<Node>,
}

/// The children of `iomem_resource`, by start.
static TREE: Mutex<Vec<Node>> = Mutex::new(Vec::new());

/// Whether the boot resources are in the tree yet.
static BOOTED: AtomicBool = AtomicBool::new(false);

fn tree() -> std::sync::MutexGuard<'static, Vec<Node>> {
    let mut t = TREE.lock().unwrap_or_else(|e| e.into_inner());
    if !BOOTED.swap(true, Ordering::Relaxed) {
        boot::boot(&mut t);
    }
    t
}

/// Bring the C links under `parent` in line with `nodes`.
fn relink(parent: usize, nodes: &[Node]) {
    CRes::link(parent, &nodes.iter().map(|n| n.res).collect::<Vec<_>>());
}

/// The path (child indices from the top) to the node for `res`.
fn path_to(nodes: &[Node], res: usize) -> Option<Vec<usize>> {
    for (i, n) in nodes.iter().enumerate() {
        if n.res == res {
            return Some(vec![i]);
        }
        if let Some(mut p) = path_to(&n.children, res) {
            p.insert(0, i);
            return Some(p);
        }
    }
    None
}

/// The children list of the node at `path` (the top list for `[]`), with
/// the node's C struct, bounds, flags and desc.
fn level<'a>(
    top: &'a mut Vec<Node>,
    path: &[usize],
) -> (&'a mut Vec<Node>, usize, u64, u64, u64, u64) {
    let mut nodes = top;
    let (mut res, mut start, mut end, mut flags, mut desc) =
        (root(), 0, u64::MAX, IORESOURCE_MEM, IORES_DESC_NONE);
    for &i in path {
        let n = &mut nodes[i];
        (res, start, end, flags, desc) = (n.res, n.start, n.end, n.flags, n.desc);
        nodes = &mut n.children;
    }
    (nodes, res, start, end, flags, desc)
}

/// Resolve a parent pointer C passed: the root, or a resource in the tree.
fn parent_path(top: &[Node], parent: usize) -> Option<Vec<usize>> {
    if parent == root() {
        Some(Vec::new())
    } else {
        path_to(top, parent)
    }
}

/// `__request_resource()` at one level: the conflicting child's index, or
/// where the new one goes. `Err(None)` when out of the parent's bounds.
fn slot(
    nodes: &[Node],
    pstart: u64,
    pend: u64,
    start: u64,
    end: u64,
) -> Result<usize, Option<usize>> {
    if end < start || start < pstart || end > pend {
        return Err(None);
    }
    match nodes.iter().position(|n| n.end >= start) {
        Some(i) if nodes[i].start <= end => Err(Some(i)),
        Some(i) => Ok(i),
        None => Ok(nodes.len()),
    }
}

/// Insert a busy region under `parent` as `__request_region_locked()`
/// does: into the first non-busy resource that conflicts, else beside.
/// `res` is our own zeroed struct; on success it is filled in and linked.
fn request_locked(
    top: &mut Vec<Node>,
    parent: usize,
    start: u64,
    n: u64,
    name: *const c_char,
    flags: u64,
    res: usize,
) -> Result<(), i32> {
    let Some(mut path) = parent_path(top, parent) else {
        return Err(libc::EINVAL);
    };
    let end = start.wrapping_add(n).wrapping_sub(1);
    loop {
        let (nodes, pres, pstart, pend, pflags, pdesc) = level(top, &path);
        let nflags =
            (pflags & (IORESOURCE_TYPE_BITS | IORESOURCE_EXT_TYPE_BITS)) | IORESOURCE_BUSY | flags;
        match slot(nodes, pstart, pend, start, end) {
            Ok(i) => {
                CRes(res as *mut Resource).fill(start, end, name, nflags, pdesc);
                nodes.insert(
                    i,
                    Node {
                        start,
                        end,
                        flags: nflags,
                        desc: pdesc,
                        res,
                        owned: true,
                        children: Vec::new(),
                    },
                );
                relink(pres, nodes);
                return Ok(());
            }
            Err(Some(i)) if nodes[i].flags & IORESOURCE_BUSY == 0 => path.push(i),
            Err(Some(i)) => {
                if pres == root() && nodes[i].desc == IORES_DESC_DEVICE_PRIVATE_MEMORY {
                    // The kernel's pr_warn() (only under iomem_resource
                    // since a July 2025 fix sent to stable): not a WARN.
                    eprintln!(
                        "Unaddressable device {} [mem {:#x}-{:#x}] conflicts with [mem {start:#x}-{end:#x}]",
                        name_of(CRes(nodes[i].res as *mut Resource).name()),
                        nodes[i].start,
                        nodes[i].end
                    );
                }
                return Err(libc::EBUSY);
            }
            Err(None) => return Err(libc::EBUSY),
        }
    }
}

/// A zeroed `struct resource` from the slab, in the ledger under a name
/// that says what it is for.
fn alloc_resource(name: *const c_char) -> Option<usize> {
    let what = format!("struct resource \"{}\"", name_of(name));
    let p = slab::alloc(core::mem::size_of::<Resource>(), true, &what, 0);
    (!p.is_null()).then_some(p as usize)
}

/// `__request_region()`: a busy region `[start, start + n)` under `parent`,
/// or None (allocation failed or the range is taken).
pub fn request_region(
    parent: usize,
    start: u64,
    n: u64,
    name: *const c_char,
    flags: u64,
) -> Option<usize> {
    let res = alloc_resource(name)?;
    let r = request_locked(&mut tree(), parent, start, n, name, flags, res);
    if r.is_err() {
        slab::free(res as *mut u8);
        return None;
    }
    Some(res)
}

/// `__release_region()`: find the busy region `[start, start + n)` under
/// `parent`, descending through non-busy resources that contain it, unlink
/// and free it. A range not held WARNs (the kernel prints the same words
/// with pr_warn()). Returns whether it was found.
pub fn release_region(parent: usize, start: u64, n: u64) -> bool {
    let end = start.wrapping_add(n).wrapping_sub(1);
    let found = {
        let mut top = tree();
        let mut path = parent_path(&top, parent);
        let mut found = None;
        while let Some(p) = path.take() {
            let (nodes, pres, ..) = level(&mut top, &p);
            let Some(i) = nodes.iter().position(|c| c.start <= start && c.end >= end) else {
                break;
            };
            if nodes[i].flags & IORESOURCE_BUSY == 0 {
                let mut deeper = p;
                deeper.push(i);
                path = Some(deeper);
                continue;
            }
            if nodes[i].start == start && nodes[i].end == end {
                let node = nodes.remove(i);
                relink(pres, nodes);
                CRes(node.res as *mut Resource).detach();
                found = Some(node);
            }
        }
        found
    };
    match found {
        Some(node) => {
            drop_node(node);
            true
        }
        None => {
            crate::warn_if!(
                "__release_region",
                true,
                "Trying to free nonexistent resource <{start:#018x}-{end:#018x}>"
            );
            false
        }
    }
}

/// Free what this module allocated of a node that left the tree.
fn drop_node(node: Node) {
    for c in node.children {
        drop_node(c);
    }
    if node.owned {
        slab::free(node.res as *mut u8);
    }
}

/// `request_resource_conflict()`: insert the caller's `new` under `root`
/// (no descent); the conflicting resource on failure.
pub fn request_resource(parent: usize, new: usize) -> Result<(), usize> {
    let Some((start, end, flags, desc)) = CRes(new as *mut Resource).read() else {
        return Err(parent);
    };
    let mut top = tree();
    let Some(path) = parent_path(&top, parent) else {
        return Err(parent);
    };
    let (nodes, pres, pstart, pend, ..) = level(&mut top, &path);
    match slot(nodes, pstart, pend, start, end) {
        Ok(i) => {
            nodes.insert(
                i,
                Node {
                    start,
                    end,
                    flags,
                    desc,
                    res: new,
                    owned: false,
                    children: Vec::new(),
                },
            );
            relink(pres, nodes);
            Ok(())
        }
        Err(Some(i)) => Err(nodes[i].res),
        Err(None) => Err(pres),
    }
}

/// `release_resource()`: unlink `old` and everything under it; EINVAL if
/// it is not in the tree.
pub fn release_resource(old: usize) -> Result<(), i32> {
    let node = {
        let mut top = tree();
        let Some(mut path) = path_to(&top, old) else {
            return Err(libc::EINVAL);
        };
        let i = path.pop().unwrap_or(0);
        let (nodes, pres, ..) = level(&mut top, &path);
        let node = nodes.remove(i);
        relink(pres, nodes);
        CRes(node.res as *mut Resource).detach();
        node
    };
    // The caller owns `old`; what we allocated under it goes.
    for c in node.children {
        drop_node(c);
    }
    Ok(())
}

fn overlaps(n: &Node, start: u64, end: u64) -> bool {
    n.start <= end && n.end >= start
}

/// `region_intersects()`: how `[start, start + size)` meets the top-level
/// resources with `flags` (and `desc`, unless IORES_DESC_NONE).
pub fn region_intersects(start: u64, size: u64, flags: u64, desc: u64) -> i32 {
    let end = start.wrapping_add(size).wrapping_sub(1);
    let (mut ty, mut other) = (0, 0);
    for n in tree().iter().filter(|n| overlaps(n, start, end)) {
        if n.flags & flags == flags && (desc == IORES_DESC_NONE || desc == n.desc) {
            ty += 1;
        } else {
            other += 1;
        }
    }
    match (ty, other) {
        (0, 0) => REGION_DISJOINT,
        (_, 0) => REGION_INTERSECTS,
        (0, _) => REGION_DISJOINT,
        _ => REGION_MIXED,
    }
}

/// `get_free_mem_region()` as `request_free_mem_region()` runs it: from the
/// top of `base` (capped at the highest address MAX_PHYSMEM_BITS allows)
/// downwards, a section-aligned hole of `size` rounded up to a section
/// that meets no resource under `base` and none of `mapped` (physical
/// ranges of mapped pgmaps, inclusive); claimed as a busy region of
/// `iomem_resource` with the device-private descriptor. ERANGE when there
/// is none, ENOMEM when the allocation fails. With `dev`, the region is
/// released when the device goes (devres).
pub fn request_free(
    dev: Option<usize>,
    base: usize,
    size: u64,
    name: *const c_char,
    mapped: &[(u64, u64)],
) -> Result<usize, i32> {
    let align = 1u64 << PA_SECTION_SHIFT;
    let Some((bstart, bend, ..)) = CRes(base as *mut Resource).read() else {
        return Err(libc::EINVAL);
    };
    let res = alloc_resource(name).ok_or(libc::ENOMEM)?;
    // Then the devres entry, as the kernel allocates both before looking.
    if dev.is_some() && slab::should_fail() {
        slab::free(res as *mut u8);
        return Err(libc::ENOMEM);
    }
    let Some(size) = size
        .checked_add(align - 1)
        .map(|s| s & !(align - 1))
        .filter(|&s| s != 0)
    else {
        slab::free(res as *mut u8);
        return Err(libc::ERANGE);
    };
    let top = bend.min((1u64 << MAX_PHYSMEM_BITS) - 1);
    let mut addr = top.checked_add(1).and_then(|t| t.checked_sub(size));
    let mut top_tree = tree();
    let claimed = loop {
        let Some(a) = addr.filter(|&a| a > align && a >= bstart) else {
            break None;
        };
        let end = a + size - 1;
        // The lowest start of what the candidate meets: every aligned
        // candidate above the highest one ending below it meets it too,
        // so the walk goes there at once (the kernel steps a section at a
        // time to the same answer).
        let conflict = {
            let under = match parent_path(&top_tree, base) {
                Some(p) => &*level(&mut top_tree, &p).0,
                None => &[][..],
            };
            under
                .iter()
                .filter(|n| overlaps(n, a, end))
                .map(|n| n.start)
                .chain(
                    mapped
                        .iter()
                        .filter(|&&(s, e)| s <= end && e >= a)
                        .map(|&(s, _)| s),
                )
                .min()
        };
        let Some(conflict) = conflict else {
            let ok = request_locked(&mut top_tree, root(), a, size, name, 0, res).is_ok();
            break ok.then_some(a);
        };
        addr = conflict.checked_sub(size).map(|t| t & !(align - 1));
    };
    drop(top_tree);
    let Some(start) = claimed else {
        slab::free(res as *mut u8);
        return Err(libc::ERANGE);
    };
    CRes(res as *mut Resource).set_desc(IORES_DESC_DEVICE_PRIVATE_MEMORY);
    set_desc_in_tree(res, IORES_DESC_DEVICE_PRIVATE_MEMORY);
    if let Some(dev) = dev {
        devm_region(dev, root(), start, size);
    }
    Ok(res)
}

fn set_desc_in_tree(res: usize, desc: u64) {
    let mut top = tree();
    if let Some(p) = path_to(&top, res) {
        let (parent, last) = p.split_at(p.len() - 1);
        let (nodes, ..) = level(&mut top, parent);
        if let Some(n) = last.first().and_then(|&i| nodes.get_mut(i)) {
            n.desc = desc;
        }
    }
}

/// Tie the busy region `[start, start + n)` under `parent` to `dev` (its
/// entry's allocation was already accounted for).
fn devm_region(dev: usize, parent: usize, start: u64, n: u64) {
    crate::devres::add_unfailing(
        dev,
        crate::devres::Tag::Region,
        (start as usize, n as usize),
        Box::new(move || {
            release_region(parent, start, n);
        }),
    )
}

/// `__devm_request_region()`: `request_region()` released with `dev`.
pub fn devm_request_region(
    dev: usize,
    parent: usize,
    start: u64,
    n: u64,
    name: *const c_char,
) -> Option<usize> {
    // The kernel allocates the devres entry first: fault injection too.
    if slab::should_fail() {
        return None;
    }
    let res = request_region(parent, start, n, name, 0)?;
    devm_region(dev, parent, start, n);
    Some(res)
}

/// `__devm_release_region()`: release the region, then drop its devres
/// entry, WARNing (as the kernel's WARN_ON(devres_destroy())) if `dev`
/// held none.
pub fn devm_release_region(dev: usize, parent: usize, start: u64, n: u64) {
    release_region(parent, start, n);
    let had = crate::devres::remove(
        dev,
        crate::devres::Tag::Region,
        (start as usize, n as usize),
    );
    crate::warn_if!(
        "__devm_release_region",
        had.is_none(),
        "WARN_ON(devres_destroy()): device {dev:#x} has no managed region [{start:#x}-{:#x}]",
        start.wrapping_add(n).wrapping_sub(1)
    );
}

/// Top-level resources now (a probe for tests): (start, end, flags, desc).
pub fn top_level() -> Vec<(u64, u64, u64, u64)> {
    tree()
        .iter()
        .map(|n| (n.start, n.end, n.flags, n.desc))
        .collect()
}
