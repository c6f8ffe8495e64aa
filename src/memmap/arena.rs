// SPDX-License-Identifier: GPL-2.0-only
//! Where chunks of the memmap come from and go back to (docs/DESIGN.md §7).
//!
//! Chunks come from one reserved stretch of address space (`PROT_NONE`,
//! `MAP_NORESERVE`, 16 GiB: half a million chunks), opened a step of
//! [`OPEN_STEP`] chunks at a time, so that tools which scan readable memory
//! (valgrind's leak check) see about what is in use, never 16 GiB.
//!
//! The rule that keeps a stale `struct page *` honest: a chunk's address
//! belongs to one *identity*, the pair (pgmap address, chunk number), from
//! its first use until its memory is given back. A retired chunk is
//! poisoned at once (every page reads as the poison page: a page of
//! no pgmap) and kept, and only the same identity
//! takes it again: the same `struct dev_pagemap` mapping the same pfns,
//! whose pages the stale pointer then names, exactly as the kernel's fixed
//! vmemmap names the same pfn's page. So the common cycle (a test maps,
//! uses and unmaps the same pgmap at the same place, again and again)
//! costs no system call and no page fault. Retired chunks no identity came
//! back for are evicted oldest first, in batches, once more than
//! [`KEEP`] are kept: their memory is given back (`MADV_DONTNEED`, one call
//! per run of adjacent chunks; the address stays mapped and reads zeroes,
//! a page of no pgmap) and the address is reused by anyone only when the
//! arena is spent, oldest first.

use super::{write_page, CHUNK_BYTES, CHUNK_PAGES, POISON_FLAGS, POISON_PAGE};
use crate::types::Page;
use std::alloc::Layout;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

/// Address space reserved for chunks.
const ARENA_BYTES: usize = 16 << 30;
const ARENA_CHUNKS: usize = ARENA_BYTES / CHUNK_BYTES;
/// Chunks opened (made readable and writable) by one `mprotect()`: 2 MiB.
const OPEN_STEP: usize = 64;
/// Retired chunks kept for their identity before eviction starts: 16 MiB.
const KEEP: usize = 512;
/// Chunks evicted at once when over [`KEEP`].
const EVICT_BATCH: usize = 64;

static BYTES: AtomicU64 = AtomicU64::new(0);

/// Who a chunk's address belongs to: (pgmap address, chunk number).
pub(super) type Identity = (usize, u64);

#[derive(Default)]
struct State {
    /// Next never-used arena chunk, and how many are open.
    next: usize,
    opened: usize,
    /// Retired chunks by identity, poisoned, waiting for it to come back,
    /// with the number of their retirement.
    kept: HashMap<Identity, (usize, u64)>,
    /// The same, in retirement order (an entry whose identity took its
    /// chunk back since is stale, and skipped).
    kept_order: VecDeque<(Identity, u64)>,
    retirements: u64,
    /// Evicted chunks, memory given back, oldest first: reused only when
    /// the arena is spent.
    evicted: VecDeque<usize>,
}

static STATE: Mutex<Option<State>> = Mutex::new(None);

fn with_state<R>(f: impl FnOnce(&mut State) -> R) -> R {
    let mut g = STATE.lock().unwrap_or_else(|e| e.into_inner());
    f(g.get_or_insert_with(State::default))
}

/// Bytes of memmap and index allocated so far.
pub fn bytes() -> u64 {
    BYTES.load(Ordering::Relaxed)
}

/// Count `n` more bytes of memmap index.
pub(super) fn account(n: usize) {
    BYTES.fetch_add(n as u64, Ordering::Relaxed);
}

/// The arena's first chunk address, once reserved (0: refused).
static BASE: OnceLock<usize> = OnceLock::new();

/// The arena's first chunk address (aligned to a chunk), if the
/// reservation could be made.
fn arena() -> Option<usize> {
    let base = *BASE.get_or_init(|| {
        // Reserved inaccessible: chunks are opened a step at a time as
        // handed out (see the module comment).
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
            let base = (p as usize + CHUNK_BYTES - 1) & !(CHUNK_BYTES - 1);
            HINT_BASE.store(base, Ordering::Release);
            base
        }
    });
    (base != 0).then_some(base)
}

/// One "may hold a referenced page" hint per arena chunk (512 KiB of
/// zeroes until touched): see [`crate::counter::read_hinted`].
static HINTS: [AtomicBool; ARENA_CHUNKS] = [const { AtomicBool::new(false) }; ARENA_CHUNKS];

/// [`BASE`] once reserved, for the hint's one load (0 before, or if the
/// reservation was refused: no chunk is the arena's then).
static HINT_BASE: AtomicUsize = AtomicUsize::new(0);

/// The hint of the arena chunk at `chunk` (a chunk's first byte); None for
/// a chunk from the heap, which readers then always read.
#[inline(always)]
pub(super) fn hint(chunk: usize) -> Option<&'static AtomicBool> {
    let base = HINT_BASE.load(Ordering::Relaxed);
    if base == 0 {
        return None;
    }
    HINTS.get(chunk.wrapping_sub(base) / CHUNK_BYTES)
}

fn is_arena(chunk: usize) -> bool {
    arena().is_some_and(|base| chunk >= base && chunk < base + ARENA_BYTES)
}

/// A never-used chunk of the arena, opening the next step if need be.
fn fresh(s: &mut State) -> Option<usize> {
    let base = arena()?;
    if s.next >= ARENA_CHUNKS {
        return None;
    }
    if s.next >= s.opened {
        let n = OPEN_STEP.min(ARENA_CHUNKS - s.opened);
        // SAFETY: chunks [opened, opened + n) are a page-aligned piece of
        // the arena's reservation that no one has been given yet.
        let ok = unsafe {
            libc::mprotect(
                (base + s.opened * CHUNK_BYTES) as *mut libc::c_void,
                n * CHUNK_BYTES,
                libc::PROT_READ | libc::PROT_WRITE,
            )
        } == 0;
        if !ok {
            return None;
        }
        s.opened += n;
    }
    let chunk = base + s.next * CHUNK_BYTES;
    s.next += 1;
    BYTES.fetch_add(CHUNK_BYTES as u64, Ordering::Relaxed);
    Some(chunk)
}

/// A chunk's worth of memory for identity `id`, aligned to its size: its
/// own kept chunk, fresh from the arena, an evicted one (the
/// arena spent), or from the heap (the arena refused).
pub(super) fn alloc_chunk(id: Identity) -> Option<usize> {
    let got = with_state(|s| {
        if let Some((c, _)) = s.kept.remove(&id) {
            return Some(c);
        }
        fresh(s).or_else(|| s.evicted.pop_front())
    });
    if got.is_some() {
        return got;
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

/// Pages `i + 1 .. end` of the chunk at `base` made equal to page `i`:
/// block copies, each twice the last up to 2 KiB (what `memcpy()` does
/// with vector stores; longer ones go to `rep movsb`, which callgrind
/// counts a byte at a time and which gains nothing at this size).
pub(super) fn replicate_page(base: usize, i: usize, end: usize) {
    const MAX_COPY: usize = 2048;
    let end = end.min(CHUNK_PAGES) * 64;
    let from = base + i * 64;
    let mut done = 64usize;
    while i * 64 + done < end {
        let n = done.min(MAX_COPY).min(end - i * 64 - done);
        // `base` is a chunk (CHUNK_BYTES of live memory, never unmapped)
        // that no lookup reaches: unpublished, or taken out of the memmap.
        // A stale pointer kept past memunmap_pages() may read it meanwhile
        // (the caller's bug); it sees each aligned word as it was or as
        // written, a page of this identity or of none.
        // SAFETY: [from, from + n) and [from + done, from + done + n) are
        // inside that chunk (below base + end) and disjoint (n <= done).
        unsafe {
            core::ptr::copy_nonoverlapping(from as *const u8, (from + done) as *mut u8, n);
        }
        done += n;
    }
}

/// Give back a chunk that identity `id` took out of the memmap: poisoned
/// now, kept for `id`, its memory returned later (see the module comment).
pub(super) fn retire(base: usize, id: Identity) {
    let poison = &POISON_PAGE as *const Page as usize;
    write_page(super::chunk_page(base, 0), POISON_FLAGS, poison, 0);
    replicate_page(base, 0, CHUNK_PAGES);
    let evict: Vec<usize> = with_state(|s| {
        let mut out = Vec::new();
        // An identity has one chunk at a time; were there an older one,
        // it would go the evicted way.
        s.retirements += 1;
        let n = s.retirements;
        out.extend(s.kept.insert(id, (base, n)).map(|(c, _)| c));
        s.kept_order.push_back((id, n));
        if s.kept_order.len() > 4 * KEEP {
            let State {
                kept, kept_order, ..
            } = s;
            kept_order.retain(|(k, n)| kept.get(k).is_some_and(|e| e.1 == *n));
        }
        if s.kept.len() > KEEP {
            while out.len() < EVICT_BATCH {
                let Some((k, n)) = s.kept_order.pop_front() else {
                    break;
                };
                // Still kept since then? Else its identity took it back.
                if s.kept.get(&k).is_some_and(|e| e.1 == n) {
                    out.extend(s.kept.remove(&k).map(|(c, _)| c));
                }
            }
        }
        out
    });
    if !evict.is_empty() {
        give_back(evict);
    }
}

/// Return evicted chunks' memory, one call per run of adjacent arena
/// chunks, and queue their addresses for reuse when the arena is spent.
fn give_back(mut chunks: Vec<usize>) {
    chunks.sort_unstable();
    let mut i = 0;
    while i < chunks.len() {
        let start = chunks[i];
        let mut end = start + CHUNK_BYTES;
        i += 1;
        if !is_arena(start) {
            continue;
        }
        while i < chunks.len() && chunks[i] == end && is_arena(end) {
            end += CHUNK_BYTES;
            i += 1;
        }
        // MADV_DONTNEED only drops the chunks' memory (already poisoned,
        // reached by no lookup); every later read sees zeroes, a page of no
        // pgmap.
        // SAFETY: [start, end) is a run of whole arena chunks, a private
        // anonymous mapping that stays mapped.
        unsafe {
            libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED);
        }
    }
    with_state(|s| s.evicted.extend(chunks));
}
