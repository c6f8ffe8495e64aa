// SPDX-License-Identifier: GPL-2.0-only
//! Where chunks of the memmap come from and go back to. Chunks come from
//! one reserved stretch of address space (`MAP_NORESERVE`, 16 GiB: half a
//! million chunks) and an address is never handed out twice while it
//! lasts: a retired chunk gives its memory back (`MADV_DONTNEED`) but keeps
//! its address, so a stale `struct page *` reads a zeroed page that matches
//! no pgmap — never freed memory, never another pgmap's page. Only once the
//! stretch is spent are retired chunks reused, oldest first.

use super::{write_page, CHUNK_BYTES, CHUNK_PAGES, POISON_FLAGS, POISON_PAGE};
use crate::types::Page;
use std::alloc::Layout;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

/// Chunks made but never published (a lost race): reusable at once.
static SPARE: Mutex<Vec<usize>> = Mutex::new(Vec::new());
/// Retired chunks, oldest first: reused only when the arena is spent.
static RETIRED: Mutex<VecDeque<usize>> = Mutex::new(VecDeque::new());
/// Address space reserved for chunks, and the next chunk of it to give.
const ARENA_BYTES: usize = 16 << 30;
static ARENA_NEXT: AtomicUsize = AtomicUsize::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);

/// Bytes of memmap and index allocated so far.
pub fn bytes() -> u64 {
    BYTES.load(Ordering::Relaxed)
}

/// Count `n` more bytes of memmap index.
pub(super) fn account(n: usize) {
    BYTES.fetch_add(n as u64, Ordering::Relaxed);
}

/// The arena's first chunk address (aligned to a chunk), if the
/// reservation could be made.
fn arena() -> Option<usize> {
    static BASE: OnceLock<usize> = OnceLock::new();
    let base = *BASE.get_or_init(|| {
        // Reserved inaccessible: chunks are opened one by one as handed
        // out, so tools that scan readable memory (valgrind's leak check)
        // see only the chunks in use, not 16 GiB.
        // SAFETY: a fresh private anonymous mapping at an address of the
        // kernel's choosing: it overlaps nothing, and is never unmapped.
        let p = unsafe {
            libc::mmap(
                core::ptr::null_mut(),
                ARENA_BYTES + CHUNK_BYTES,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            0
        } else {
            (p as usize + CHUNK_BYTES - 1) & !(CHUNK_BYTES - 1)
        }
    });
    (base != 0).then_some(base)
}

fn is_arena(chunk: usize) -> bool {
    arena().is_some_and(|base| chunk >= base && chunk < base + ARENA_BYTES)
}

/// A chunk's worth of memory, aligned to its size: spare, fresh from the
/// arena, retired, or (the arena spent or refused) from the heap.
pub(super) fn alloc_chunk() -> Option<usize> {
    if let Some(c) = SPARE.lock().unwrap_or_else(|e| e.into_inner()).pop() {
        return Some(c);
    }
    if let Some(base) = arena() {
        let i = ARENA_NEXT.fetch_add(1, Ordering::Relaxed);
        if i < ARENA_BYTES / CHUNK_BYTES {
            let chunk = base + i * CHUNK_BYTES;
            // SAFETY: `chunk` is a chunk-sized, page-aligned piece of the
            // arena's reservation that no one has been given yet.
            let opened = unsafe {
                libc::mprotect(
                    chunk as *mut libc::c_void,
                    CHUNK_BYTES,
                    libc::PROT_READ | libc::PROT_WRITE,
                )
            } == 0;
            if opened {
                BYTES.fetch_add(CHUNK_BYTES as u64, Ordering::Relaxed);
                return Some(chunk);
            }
        }
    }
    if let Some(c) = RETIRED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .pop_front()
    {
        return Some(c);
    }
    let layout = Layout::from_size_align(CHUNK_BYTES, CHUNK_BYTES).ok()?;
    // SAFETY: the layout has a non-zero size.
    let p = unsafe { std::alloc::alloc(layout) } as usize;
    if p == 0 {
        return None;
    }
    BYTES.fetch_add(CHUNK_BYTES as u64, Ordering::Relaxed);
    Some(p)
}

/// A chunk that lost the race to be published: reusable at once.
pub(super) fn spare(base: usize) {
    SPARE.lock().unwrap_or_else(|e| e.into_inner()).push(base);
}

/// Give a chunk taken out of the memmap back: its memory returned (or,
/// off the arena, its pages poisoned), its address kept for last.
pub(super) fn retire(base: usize) {
    if is_arena(base) {
        // SAFETY: `base` is a chunk of the arena, a private anonymous
        // mapping that stays mapped: MADV_DONTNEED only drops its memory,
        // and every later read of it sees zeroes, a page of no pgmap.
        unsafe {
            libc::madvise(base as *mut libc::c_void, CHUNK_BYTES, libc::MADV_DONTNEED);
        }
    } else {
        let poison = &POISON_PAGE as *const Page as usize;
        for i in 0..CHUNK_PAGES {
            write_page(super::chunk_page(base, i), POISON_FLAGS, poison, 0);
        }
    }
    RETIRED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push_back(base);
}
