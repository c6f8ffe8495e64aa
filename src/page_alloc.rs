// SPDX-License-Identifier: GPL-2.0-only
//! The page allocator: `alloc_pages()` / `__free_pages()` over the
//! library's own system RAM (`memmap::SYSTEM_*`), see docs/DESIGN.md §10.
//!
//! A system page is a real `struct page` of the memmap (ZONE_NORMAL, so not
//! ZONE_DEVICE), with a pfn, and with a 4 KiB buffer that `page_address()`
//! returns. The buffer is a `kmalloc()` of the library's slab, made at the
//! caller's site, so the ledger counts a leaked page like a leaked
//! `kmalloc()` and fault injection fails page allocations too. A block of
//! order n is `1 << n` contiguous pfns, aligned to its size, with one
//! contiguous buffer; only its first page carries a reference (the kernel's
//! non-compound high-order page). Freed pfns are reused oldest first, so a
//! stale `struct page *` is not at once someone else's page.

use crate::memmap::{self, SYSTEM_FIRST_PFN, SYSTEM_PFNS};
use crate::slab;
use crate::types::Page;
use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::Mutex;

/// Orders `0..MAX_ORDER` can be allocated (Linux 6.1's `MAX_ORDER`, 11).
pub const MAX_ORDER: u32 = 11;
/// `__GFP_NOWARN`, `__GFP_NOFAIL`.
const GFP_NOWARN: u32 = 0x2000;
const GFP_NOFAIL: u32 = 0x8000;
/// Attempts of a `__GFP_NOFAIL` allocation that fault injection fails.
const NOFAIL_TRIES: u32 = 1000;
const PAGE_SIZE: usize = 4096;

struct Block {
    /// What the slab handed out, and its page-aligned start.
    raw: usize,
    addr: usize,
    order: u32,
}

struct Allocator {
    /// Next never-used pfn, as an offset from SYSTEM_FIRST_PFN.
    next: u64,
    /// Freed blocks per order, oldest first.
    free: Vec<VecDeque<u64>>,
    /// Live blocks by first pfn.
    live: BTreeMap<u64, Block>,
}

static ALLOC: Mutex<Allocator> = Mutex::new(Allocator {
    next: 0,
    free: Vec::new(),
    live: BTreeMap::new(),
});

fn allocator() -> std::sync::MutexGuard<'static, Allocator> {
    let mut a = ALLOC.lock().unwrap_or_else(|e| e.into_inner());
    if a.free.is_empty() {
        a.free = (0..MAX_ORDER).map(|_| VecDeque::new()).collect();
    }
    a
}

/// Reserve `1 << order` aligned pfns; None when system RAM is spent.
fn take_pfns(a: &mut Allocator, order: u32) -> Option<u64> {
    if let Some(pfn) = a.free.get_mut(order as usize)?.pop_front() {
        return Some(pfn);
    }
    let n = 1u64 << order;
    let off = (a.next + n - 1) & !(n - 1);
    if off + n > SYSTEM_PFNS {
        return None;
    }
    // The alignment gap goes to the free lists of its pieces' orders.
    let mut gap = a.next;
    while gap < off {
        let o = (0..order)
            .rev()
            .find(|&o| gap % (1 << o) == 0 && gap + (1 << o) <= off)
            .unwrap_or(0);
        if let Some(q) = a.free.get_mut(o as usize) {
            q.push_back(SYSTEM_FIRST_PFN + gap);
        }
        gap += 1 << o;
    }
    a.next = off + n;
    Some(SYSTEM_FIRST_PFN + off)
}

fn clear_page(p: &Page, pfn: u64) {
    p.flags.store(memmap::system_flags(pfn), Ordering::Relaxed);
    p.pgmap_or_compound_head.store(0, Ordering::Relaxed);
    p.zone_device_data.store(0, Ordering::Relaxed);
    p.mapping.store(0, Ordering::Relaxed);
    p.index.store(0, Ordering::Relaxed);
    p.private.store(0, Ordering::Relaxed);
    p.mapcount.store(-1, Ordering::Relaxed);
    p.memcg_data.store(0, Ordering::Relaxed);
}

/// `alloc_pages(gfp, order)`: the first page of a fresh block, refcount 1;
/// None on an injected allocation failure or when system RAM is spent.
pub fn alloc_pages(gfp: u32, order: u32, file: &str, line: u32) -> Option<&'static Page> {
    if order >= MAX_ORDER {
        crate::warn_if!(
            "alloc_pages",
            gfp & GFP_NOWARN == 0,
            "alloc_pages() of order {order}: MAX_ORDER is {MAX_ORDER}"
        );
        return None;
    }
    let bytes = PAGE_SIZE << order;
    // Zeroed whatever `gfp` says (__GFP_ZERO or not), so that no test
    // reads uninitialised memory through a page a driver forgot to fill.
    let mut raw = slab::alloc(bytes + PAGE_SIZE, true, file, line) as usize;
    // __GFP_NOFAIL: the kernel retries for ever; injected failures are
    // retried here (a bounded number of times, then a WARN).
    let mut tries = 0;
    while raw == 0 && gfp & GFP_NOFAIL != 0 && tries < NOFAIL_TRIES {
        raw = slab::alloc(bytes + PAGE_SIZE, true, file, line) as usize;
        tries += 1;
    }
    if raw == 0 {
        crate::warn_if!(
            "alloc_pages",
            gfp & GFP_NOFAIL != 0,
            "__GFP_NOFAIL allocation failed {NOFAIL_TRIES} times"
        );
        return None;
    }
    let addr = (raw + PAGE_SIZE - 1) & !(PAGE_SIZE - 1);
    let mut a = allocator();
    let Some(pfn) = take_pfns(&mut a, order) else {
        drop(a);
        slab::free(raw as *mut u8);
        return None;
    };
    let n = 1u64 << order;
    let mut first = None;
    for i in 0..n {
        let Some(p) = memmap::ensure_system_chunk(pfn + i).and_then(|_| memmap::lookup(pfn + i))
        else {
            // No memory for the memmap, or a pgmap took these pfns:
            // leave them out of circulation.
            drop(a);
            slab::free(raw as *mut u8);
            return None;
        };
        clear_page(p, pfn + i);
        p.refcount.store(0, Ordering::Relaxed);
        first.get_or_insert(p);
    }
    let head = first?;
    head.refcount.store(1, Ordering::Release);
    a.live.insert(pfn, Block { raw, addr, order });
    Some(head)
}

/// The live block holding `pfn`: (first pfn, buffer address, order).
fn block_of(a: &Allocator, pfn: u64) -> Option<(u64, usize, u32)> {
    let (&first, b) = a.live.range(..=pfn).next_back()?;
    (pfn < first + (1u64 << b.order)).then_some((first, b.addr, b.order))
}

/// `page_address()` of a system page in use; None (with a WARN) for a free
/// page or one that is not system RAM (a DEVICE_PRIVATE page has no CPU
/// address at all).
pub fn page_address(page: &Page) -> Option<usize> {
    let pfn = memmap::page_to_pfn(page).filter(|_| memmap::is_system(page));
    let found = pfn.and_then(|pfn| {
        let a = allocator();
        block_of(&a, pfn).map(|(first, addr, _)| addr + (pfn - first) as usize * PAGE_SIZE)
    });
    crate::warn_if!(
        "page_address",
        found.is_none(),
        "page_address() of {}: no CPU address in this model",
        match pfn {
            Some(pfn) => format!("free system page pfn {pfn:#x}"),
            None if memmap::is_zone_device(page) => "a ZONE_DEVICE page".to_owned(),
            None => "a page that is not system RAM".to_owned(),
        }
    );
    found
}

/// Whether `__free_pages(page, order)` names the first page of a live
/// block of that order: the misuse, said, if not. The page layer WARNs it
/// (with the page's dump) and drops the reference (`page::free_system_pages`).
pub fn check_free(page: &Page, order: u32) -> Result<(), String> {
    let pfn = memmap::page_to_pfn(page).filter(|_| memmap::is_system(page));
    let block = pfn.and_then(|pfn| block_of(&allocator(), pfn));
    match (pfn, block) {
        (Some(pfn), Some((first, _, o))) if pfn == first && o == order => Ok(()),
        (None, _) => Err(format!(
            "__free_pages(order {order}) of a page that is not system RAM"
        )),
        (Some(pfn), None) => Err(format!(
            "__free_pages(order {order}) of pfn {pfn:#x}, which is not allocated"
        )),
        (Some(pfn), Some((first, _, o))) => Err(format!(
            "__free_pages(order {order}) of pfn {pfn:#x}, allocated as the order-{o} \
             block at {first:#x}"
        )),
    }
}

/// The last reference on a system block's first page is gone (`put_page()`
/// or `__free_pages()`; the page layer has checked it as the kernel's free
/// path does): give its buffer back and its pfns to the free lists.
pub fn release(page: &Page) {
    let Some(pfn) = memmap::page_to_pfn(page).filter(|_| memmap::is_system(page)) else {
        return;
    };
    let mut a = allocator();
    let Some(b) = a.live.remove(&pfn) else {
        drop(a);
        crate::warn_if!(
            "free_pages",
            true,
            "freeing pfn {pfn:#x}, which is not the first page of a live block"
        );
        return;
    };
    for i in 0..1u64 << b.order {
        if let Some(p) = memmap::lookup(pfn + i) {
            clear_page(p, pfn + i);
        }
    }
    if let Some(q) = a.free.get_mut(b.order as usize) {
        q.push_back(pfn);
    }
    drop(a);
    slab::free(b.raw as *mut u8);
}

/// System blocks allocated and not freed.
pub fn live_blocks() -> u64 {
    allocator().live.len() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_have_pfns_buffers_and_ledger_entries() {
        let _serial = crate::test_serial();
        let base = slab::live_count();
        let p = alloc_pages(0, 0, file!(), line!()).expect("a page");
        let pfn = memmap::page_to_pfn(p).expect("a pfn");
        assert!(memmap::is_system_pfn(pfn));
        assert!(!memmap::is_zone_device(p));
        assert_eq!(p.refcount.load(Ordering::Relaxed), 1);
        assert_eq!(slab::live_count(), base + 1);
        let va = page_address(p).expect("an address");
        assert_eq!(va % PAGE_SIZE, 0);
        let q = alloc_pages(0, 2, file!(), line!()).expect("a block");
        let qpfn = memmap::page_to_pfn(q).unwrap();
        assert_eq!(qpfn % 4, 0);
        let tail = memmap::lookup(qpfn + 3).unwrap();
        assert_eq!(
            page_address(tail).unwrap(),
            page_address(q).unwrap() + 3 * PAGE_SIZE
        );
        crate::page::free_system_pages(q, 2);
        crate::page::free_system_pages(p, 0);
        assert_eq!(slab::live_count(), base);
        assert_eq!(p.refcount.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn injected_failure_and_bad_frees() {
        let _serial = crate::test_serial();
        crate::warn::set_quiet(true);
        slab::fail_nth(1);
        assert!(alloc_pages(0, 0, file!(), line!()).is_none());
        let p = alloc_pages(0, 0, file!(), line!()).unwrap();
        let w = crate::warn::count();
        crate::page::free_system_pages(p, 1);
        assert_eq!(crate::warn::count(), w + 1, "wrong order WARNs");
        crate::page::free_system_pages(p, 0);
        crate::page::free_system_pages(p, 0);
        assert_eq!(crate::warn::count(), w + 2, "double free WARNs");
        crate::warn::set_quiet(false);
    }
}
