// SPDX-License-Identifier: GPL-2.0-only
//! The memory behind CPU-addressable device pages (docs/DESIGN.md §10):
//! what the kernel's direct map shows at `page_address()` of a
//! MEMORY_DEVICE_GENERIC page (device-DAX memory, mapped like RAM by
//! `memremap_pages()`). Here it is a zeroed buffer per memmap chunk (512
//! pages, so a folio of up to order 9 is contiguous, as in the direct
//! map), made at the first `page_address()` of one of its pages and freed
//! when the pgmap's spans go (`memunmap_pages()`). The caller decides which
//! pages have such memory; this module only keeps it.

use super::{CHUNK_PAGES, CHUNK_SHIFT};
use std::alloc::{alloc_zeroed, dealloc, Layout};
use std::collections::BTreeMap;
use std::sync::Mutex;

const PAGE_SIZE: usize = 4096;

/// (pgmap, chunk) -> address of the chunk's memory.
static MEM: Mutex<BTreeMap<(usize, u64), usize>> = Mutex::new(BTreeMap::new());

fn mem() -> std::sync::MutexGuard<'static, BTreeMap<(usize, u64), usize>> {
    MEM.lock().unwrap_or_else(|e| e.into_inner())
}

fn layout() -> Option<Layout> {
    Layout::from_size_align(CHUNK_PAGES * PAGE_SIZE, PAGE_SIZE).ok()
}

/// The CPU address of pfn `pfn` of `pgmap`'s device memory; None if the
/// memory could not be had.
pub fn address(pgmap: usize, pfn: u64) -> Option<usize> {
    let key = (pgmap, pfn >> CHUNK_SHIFT);
    let mut m = mem();
    let base = match m.get(&key) {
        Some(&b) => b,
        None => {
            // SAFETY: a non-zero-sized layout; the block is freed only in
            // release(), with the same layout.
            let b = unsafe { alloc_zeroed(layout()?) } as usize;
            if b == 0 {
                return None;
            }
            m.insert(key, b);
            b
        }
    };
    Some(base + (pfn as usize & (CHUNK_PAGES - 1)) * PAGE_SIZE)
}

/// Free every chunk of device memory of `pgmap` (its spans are gone).
pub fn release(pgmap: usize) {
    let gone: Vec<usize> = {
        let mut m = mem();
        let keys: Vec<(usize, u64)> = m.keys().filter(|k| k.0 == pgmap).copied().collect();
        keys.iter().filter_map(|k| m.remove(k)).collect()
    };
    let Some(l) = layout() else {
        return;
    };
    for b in gone {
        // SAFETY: `b` came from alloc_zeroed(layout()) in address() and was
        // removed from the map above, so it is freed once.
        unsafe { dealloc(b as *mut u8, l) };
    }
}

/// Chunks of device memory alive (for tests).
pub fn live() -> usize {
    mem().len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chunk_is_contiguous_kept_and_freed_with_its_pgmap() {
        let _s = crate::test_serial();
        let (pg, other) = (0x7e57_d000usize, 0x7e57_e000usize);
        let before = live();
        let base = address(pg, 0x4_0000).unwrap();
        assert_eq!(base % PAGE_SIZE, 0);
        // Pages of one chunk are laid end to end; asking again gives the
        // same memory, which starts zeroed and keeps what is written.
        assert_eq!(address(pg, 0x4_01ff), Some(base + 511 * PAGE_SIZE));
        // SAFETY: `base` is the chunk's live, zeroed, writable memory.
        unsafe {
            assert_eq!(*(base as *const u64), 0);
            *(base as *mut u64) = 0x5a;
            assert_eq!(*(address(pg, 0x4_0000).unwrap() as *const u64), 0x5a);
        }
        // The next chunk, and another pgmap's same pfn, are memory of
        // their own.
        let next = address(pg, 0x4_0200).unwrap();
        let elsewhere = address(other, 0x4_0000).unwrap();
        assert!(next != base && elsewhere != base && next != elsewhere);
        assert_eq!(live(), before + 3);
        release(pg);
        assert_eq!(live(), before + 1);
        release(other);
        assert_eq!(live(), before);
    }
}
