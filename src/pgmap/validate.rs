// SPDX-License-Identifier: GPL-2.0-only
//! What `memremap_pages()` checks of the caller's struct before anything
//! is registered (docs/DESIGN.md §2): the type's required ops and owner,
//! each range's alignment and bounds, the altmap, the folio order.

use super::ptr::{Config, PgmapPtr};
use crate::memmap::Span;
use crate::types::*;

const SUBSECTION_BYTES: u64 = 1 << SUBSECTION_SHIFT;
/// The largest `vmemmap_shift` this model supports.
pub(super) const MAX_SHIFT: u64 = 30;

/// `memremap_compat_align()`: the alignment `memremap_pages()` asks of a
/// range (a subsection, on x86_64).
pub fn compat_align() -> u64 {
    SUBSECTION_BYTES
}

/// The type's requirements: ops and owner. An unknown type WARNs and
/// passes, as in the kernel.
pub(super) fn check_type(c: &Config, pgmap: PgmapPtr) -> Result<(), i32> {
    let (page_free, migrate_to_ram) = pgmap.has_ops();
    match c.ty {
        MEMORY_DEVICE_PRIVATE => {
            if crate::warn_if!(
                "memremap_pages",
                !migrate_to_ram,
                "Missing migrate_to_ram method"
            ) || crate::warn_if!("memremap_pages", !page_free, "Missing page_free method")
                || crate::warn_if!("memremap_pages", c.owner == 0, "Missing owner")
            {
                return Err(libc::EINVAL);
            }
        }
        MEMORY_DEVICE_COHERENT => {
            if crate::warn_if!("memremap_pages", !page_free, "Missing page_free method")
                || crate::warn_if!("memremap_pages", c.owner == 0, "Missing owner")
            {
                return Err(libc::EINVAL);
            }
        }
        MEMORY_DEVICE_FS_DAX | MEMORY_DEVICE_GENERIC | MEMORY_DEVICE_PCI_P2PDMA => {}
        other => {
            crate::warn_if!("memremap_pages", true, "Invalid pgmap type {other}");
        }
    }
    Ok(())
}

/// Check range `i` and compute its span (no registry access).
pub(super) fn check_range(r: Range, i: usize, c: &Config, pgmap: usize) -> Result<Span, i32> {
    let len = r.end.wrapping_sub(r.start).wrapping_add(1);
    if r.end < r.start || len == 0 {
        return Err(libc::EINVAL);
    }
    if crate::warn_if!(
        "memremap_pages",
        r.start % SUBSECTION_BYTES != 0 || len % SUBSECTION_BYTES != 0,
        "range {i} [{:#x}-{:#x}] is not aligned to a 2 MiB subsection",
        r.start,
        r.end
    ) {
        return Err(libc::EINVAL);
    }
    if crate::warn_if!(
        "memremap_pages",
        r.end >> MAX_PHYSMEM_BITS != 0,
        "Hotplug memory [{:#x}-{:#x}] exceeds maximum addressable address {:#x}",
        r.start,
        r.end,
        (1u64 << MAX_PHYSMEM_BITS) - 1
    ) {
        return Err(libc::E2BIG);
    }
    let start_pfn = r.start >> PAGE_SHIFT;
    let end_pfn = r.end >> PAGE_SHIFT;
    let reserved = if i == 0 && c.flags & PGMAP_ALTMAP_VALID != 0 {
        c.altmap_offset
    } else {
        0
    };
    if crate::warn_if!(
        "memremap_pages",
        reserved > end_pfn - start_pfn + 1,
        "altmap reserves {reserved} pfns, more than range {i} holds"
    ) {
        return Err(libc::EINVAL);
    }
    let first_pfn = start_pfn + reserved;
    let folio = 1u64 << c.shift;
    if crate::warn_if!(
        "memremap_pages",
        first_pfn % folio != 0 || (end_pfn + 1 - first_pfn) % folio != 0,
        "range {i}: usable pfns [{first_pfn:#x}-{end_pfn:#x}] are not whole order-{} folios",
        c.shift
    ) {
        return Err(libc::EINVAL);
    }
    Ok(Span {
        pgmap,
        start_pfn,
        end_pfn,
        first_pfn,
        shift: c.shift as u32,
    })
}

/// mm/memremap.c pagemap_range(): no range may meet System RAM in the
/// iomem resource tree; one that does WARNs once and fails with ENXIO.
pub(super) fn check_not_ram(r: Range) -> Result<(), i32> {
    use crate::resource::{
        region_intersects, IORESOURCE_SYSTEM_RAM, IORES_DESC_NONE, REGION_DISJOINT, REGION_MIXED,
    };
    let hit = region_intersects(
        r.start,
        r.end - r.start + 1,
        IORESOURCE_SYSTEM_RAM,
        IORES_DESC_NONE,
    );
    if crate::warn_once_if!(
        "memremap_pages",
        hit != REGION_DISJOINT,
        "attempted on {} region {:#x}-{:#x}",
        if hit == REGION_MIXED { "mixed" } else { "ram" },
        r.start,
        r.end
    ) {
        return Err(libc::ENXIO);
    }
    Ok(())
}
