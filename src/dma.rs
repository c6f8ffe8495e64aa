// SPDX-License-Identifier: GPL-2.0-only
//! Streaming DMA mappings (`dma_map_page()` / `dma_unmap_page()`), each
//! one tracked with the checks the kernel's DMA-API debugging makes
//! (kernel/dma/debug.c, CONFIG_DMA_API_DEBUG): an unmap of an address not
//! mapped for that device, with another size or direction, or of a mapping
//! whose `dma_mapping_error()` was never checked WARNs; a device released
//! with mappings still live WARNs; live mappings are counted so that a
//! test can fail a leak.
//!
//! Addresses come from a private I/O virtual window, as behind an IOMMU:
//! unique per mapping and never reused, so a stale or foreign address is
//! caught rather than aliasing a live one.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// `DMA_MAPPING_ERROR`.
pub const DMA_MAPPING_ERROR: u64 = u64::MAX;
/// `enum dma_data_direction`: `DMA_NONE` is not valid for a mapping.
pub const DMA_NONE: u32 = 3;
/// Where the I/O virtual addresses start (above every physical address
/// the library hands out, below 2^64 - 1).
const IOVA_BASE: u64 = 1 << 56;
const PAGE_SIZE: u64 = 1 << crate::types::PAGE_SHIFT;

/// One live mapping.
#[derive(Clone, Debug)]
pub struct Mapping {
    pub dev: usize,
    pub page: usize,
    pub size: u64,
    pub dir: u32,
    /// `dma_mapping_error()` was called on it.
    pub checked: bool,
    pub file: String,
    pub line: u32,
}

/// Live mappings by the page-aligned I/O address.
static MAPS: Mutex<BTreeMap<u64, Mapping>> = Mutex::new(BTreeMap::new());
static NEXT: AtomicU64 = AtomicU64::new(IOVA_BASE);
static FAIL_NTH: AtomicU64 = AtomicU64::new(0);

fn maps() -> std::sync::MutexGuard<'static, BTreeMap<u64, Mapping>> {
    MAPS.lock().unwrap_or_else(|e| e.into_inner())
}

/// Make the `n`th mapping from now fail (1: the next); 0 disarms.
pub fn fail_nth(n: u64) {
    FAIL_NTH.store(n, Ordering::SeqCst);
}

fn inject() -> bool {
    FAIL_NTH
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok_and(|n| n == 1)
}

/// `dma_map_page_attrs()`: map `size` bytes at `offset` into `page` for
/// `dev`. `DMA_MAPPING_ERROR` for a NULL page, an invalid direction (the
/// kernel BUG()s) or an injected failure.
pub fn map_page(
    dev: usize,
    page: usize,
    offset: u64,
    size: u64,
    dir: u32,
    file: &str,
    line: u32,
) -> u64 {
    if crate::warn_if!("dma_map_page", page == 0, "dma_map_page() of a NULL page")
        || crate::warn_if!(
            "dma_map_page",
            dir >= DMA_NONE,
            "dma_map_page() with invalid direction {dir} (the kernel BUG()s)"
        )
    {
        return DMA_MAPPING_ERROR;
    }
    if inject() {
        return DMA_MAPPING_ERROR;
    }
    let span = (offset % PAGE_SIZE)
        .saturating_add(size)
        .saturating_add(PAGE_SIZE - 1)
        / PAGE_SIZE;
    let base = NEXT.fetch_add(span.max(1).saturating_mul(PAGE_SIZE), Ordering::Relaxed);
    maps().insert(
        base,
        Mapping {
            dev,
            page,
            size,
            dir,
            checked: false,
            file: file.to_owned(),
            line,
        },
    );
    base + offset % PAGE_SIZE
}

/// `dma_mapping_error()`: -ENOMEM for `DMA_MAPPING_ERROR`, else 0; marks
/// the mapping checked (`debug_dma_mapping_error()`).
pub fn mapping_error(dev: usize, addr: u64) -> i32 {
    if addr == DMA_MAPPING_ERROR {
        return -libc::ENOMEM;
    }
    if let Some(m) = maps().get_mut(&(addr & !(PAGE_SIZE - 1))) {
        if m.dev == dev {
            m.checked = true;
        }
    }
    0
}

/// `dma_unmap_page_attrs()`: end the mapping at `addr`, with the checks
/// of `check_unmap()`. A mapping unmapped with another size or direction
/// is still ended (after the WARN), as the kernel's is.
pub fn unmap_page(dev: usize, addr: u64, size: u64, dir: u32) {
    if crate::warn_if!(
        "dma_unmap_page",
        addr == DMA_MAPPING_ERROR,
        "DMA-API: device driver tries to free an invalid DMA memory address"
    ) {
        return;
    }
    let key = addr & !(PAGE_SIZE - 1);
    let m = {
        let mut all = maps();
        match all.get(&key) {
            Some(m) if m.dev == dev => all.remove(&key),
            _ => None,
        }
    };
    let Some(m) = m else {
        crate::warn_if!(
            "dma_unmap_page",
            true,
            "DMA-API: device driver tries to free DMA memory it has not allocated \
             [device address={addr:#018x}] [size={size} bytes]"
        );
        return;
    };
    crate::warn_if!(
        "dma_unmap_page",
        m.size != size,
        "DMA-API: device driver frees DMA memory with different size \
         [device address={addr:#018x}] [map size={} bytes] [unmap size={size} bytes]",
        m.size
    );
    crate::warn_if!(
        "dma_unmap_page",
        m.dir != dir,
        "DMA-API: device driver frees DMA memory with different direction \
         [device address={addr:#018x}] [mapped with {}] [unmapped with {}]",
        dir_name(m.dir),
        dir_name(dir)
    );
    crate::warn_if!(
        "dma_unmap_page",
        !m.checked,
        "DMA-API: device driver failed to check map error \
         [device address={addr:#018x}] [size={size} bytes] (mapped at {}:{})",
        m.file,
        m.line
    );
}

fn dir_name(dir: u32) -> &'static str {
    match dir {
        0 => "DMA_BIDIRECTIONAL",
        1 => "DMA_TO_DEVICE",
        2 => "DMA_FROM_DEVICE",
        3 => "DMA_NONE",
        _ => "DMA_INVALID",
    }
}

/// A device goes away: WARN if it still has mappings (they stay counted).
pub fn device_gone(dev: usize) {
    let live: Vec<Mapping> = maps().values().filter(|m| m.dev == dev).cloned().collect();
    let count = live.len();
    if let Some(first) = live.into_iter().next() {
        crate::warn_if!(
            "dma_debug_device_change",
            true,
            "DMA-API: device driver has pending DMA allocations while released \
             from device [count={count}]; one mapped at {}:{}",
            first.file,
            first.line
        );
    }
}

/// Live mappings, all devices.
pub fn live_count() -> u64 {
    maps().len() as u64
}

/// Live mappings of `dev`.
pub fn live_of(dev: usize) -> u64 {
    maps().values().filter(|m| m.dev == dev).count() as u64
}

/// What `dev` reaches at I/O address `addr` through its IOMMU, for `len`
/// bytes: the mapped page and the byte offset of `addr` from its start,
/// if a live mapping of `dev` covers the bytes and its direction lets the
/// device read them (`DMA_TO_DEVICE`, `DMA_BIDIRECTIONAL`) or, for
/// `write`, write them (`DMA_FROM_DEVICE`, `DMA_BIDIRECTIONAL`). Anything
/// else is an IOMMU fault: `None`.
pub fn device_access(dev: usize, addr: u64, len: u64, write: bool) -> Option<(usize, u64)> {
    if addr == DMA_MAPPING_ERROR || len == 0 {
        return None;
    }
    let all = maps();
    let (&base, m) = all.range(..=addr).next_back()?;
    let off = addr - base;
    let span = m.size.div_ceil(PAGE_SIZE).max(1).saturating_mul(PAGE_SIZE);
    let allowed = if write { m.dir != 1 } else { m.dir != 2 };
    (m.dev == dev && allowed && off.checked_add(len)? <= span).then_some((m.page, off))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_check_unmap_and_misuse() {
        let _serial = crate::test_serial();
        crate::warn::set_quiet(true);
        let w = crate::warn::count();
        let a = map_page(0x10, 0x1000, 0x20, 64, 1, file!(), line!());
        assert_ne!(a, DMA_MAPPING_ERROR);
        assert_eq!(a % PAGE_SIZE, 0x20);
        assert_eq!(live_of(0x10), 1);
        assert_eq!(mapping_error(0x10, a), 0);
        unmap_page(0x10, a, 64, 1);
        assert_eq!(crate::warn::count(), w);
        unmap_page(0x10, a, 64, 1);
        assert_eq!(crate::warn::count(), w + 1, "double unmap");
        fail_nth(1);
        assert_eq!(
            map_page(0x10, 0x1000, 0, 64, 1, file!(), line!()),
            DMA_MAPPING_ERROR
        );
        assert_eq!(live_of(0x10), 0);
        crate::warn::set_quiet(false);
    }

    #[test]
    fn the_device_reaches_what_is_mapped_in_its_direction() {
        let _serial = crate::test_serial();
        let to_dev = map_page(0x20, 0x2000, 0, PAGE_SIZE, 1, file!(), line!());
        let from_dev = map_page(0x20, 0x3000, 0, PAGE_SIZE, 2, file!(), line!());
        assert_eq!(device_access(0x20, to_dev + 8, 8, false), Some((0x2000, 8)));
        assert_eq!(device_access(0x20, to_dev, 8, true), None, "read-only");
        assert_eq!(device_access(0x20, from_dev, 8, true), Some((0x3000, 0)));
        assert_eq!(device_access(0x20, from_dev, 8, false), None, "write-only");
        assert_eq!(device_access(0x21, to_dev, 8, false), None, "other device");
        assert_eq!(device_access(0x20, to_dev, PAGE_SIZE + 1, false), None);
        for a in [to_dev, from_dev] {
            mapping_error(0x20, a);
        }
        unmap_page(0x20, to_dev, PAGE_SIZE, 1);
        unmap_page(0x20, from_dev, PAGE_SIZE, 2);
        assert_eq!(device_access(0x20, to_dev, 8, false), None, "unmapped");
    }
}
