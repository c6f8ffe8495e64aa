// SPDX-License-Identifier: GPL-2.0-only
//! The span table: which pfns have a memmap, and what their pages are.
//! It plays the part of the kernel's sparsemem section table (a section is
//! present, its pages described) and, keyed by pfn, of `pgmap_array`.
//!
//! A span's chunks are recorded here as the memmap creates them, and
//! retired when the span is removed: the owner of a span never sees them.

use super::for_each_referenced;
use crate::types::Page;
use std::collections::BTreeMap;
use std::sync::{Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// What the memmap needs to know about a stretch of pfns to create its
/// pages on demand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    /// What ZONE_DEVICE head pages hold in their `pgmap` word: the
    /// `struct dev_pagemap *` owning the span, as an address. Opaque to
    /// the memmap, and the key its spans are removed by.
    pub pgmap: usize,
    /// First and last pfn of the range.
    pub start_pfn: u64,
    pub end_pfn: u64,
    /// First pfn with a ZONE_DEVICE page (past the altmap's reservation).
    pub first_pfn: u64,
    /// `vmemmap_shift`: folio order.
    pub shift: u32,
}

pub(super) struct Entry {
    pub(super) span: Span,
    /// Chunks created for this span.
    pub(super) chunks: Mutex<Vec<u64>>,
}

type Table = BTreeMap<u64, Entry>;

/// Spans keyed by first pfn.
static SPANS: RwLock<Table> = RwLock::new(BTreeMap::new());

fn find(t: &Table, pfn: u64) -> Option<&Entry> {
    let (_, e) = t.range(..=pfn).next_back()?;
    (pfn <= e.span.end_pfn).then_some(e)
}

/// The table read-locked: no span can be removed (and its owner's state
/// freed) while this lives. Do not take a second one on the same thread.
pub struct Spans(RwLockReadGuard<'static, Table>);

/// Read-lock the table.
pub fn spans() -> Spans {
    Spans(SPANS.read().unwrap_or_else(|e| e.into_inner()))
}

impl Spans {
    /// The span holding `pfn`.
    pub fn find(&self, pfn: u64) -> Option<&Span> {
        find(&self.0, pfn).map(|e| &e.span)
    }

    /// The distinct `pgmap` words of the spans, in address order.
    pub fn pgmaps(&self) -> Vec<usize> {
        let mut v: Vec<usize> = self.0.values().map(|e| e.span.pgmap).collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// Visit every page created so far in the spans of `pgmap` whose
    /// refcount is not 0, with that count. One reader at a time (a chunk's
    /// hint is cleared by the read that finds it idle).
    pub fn for_each_referenced_page_of(&self, pgmap: usize, mut f: impl FnMut(u64, &Page, i32)) {
        static READER: Mutex<()> = Mutex::new(());
        let _one = READER.lock().unwrap_or_else(|e| e.into_inner());
        for e in self.0.values().filter(|e| e.span.pgmap == pgmap) {
            let chunks = e.chunks.lock().unwrap_or_else(|e| e.into_inner()).clone();
            for c in chunks {
                for_each_referenced(c, &mut f);
            }
        }
    }

    /// Chunks created so far for the spans of `pgmap`.
    #[cfg(test)]
    pub fn chunks_of(&self, pgmap: usize) -> usize {
        self.0
            .values()
            .filter(|e| e.span.pgmap == pgmap)
            .map(|e| e.chunks.lock().unwrap_or_else(|e| e.into_inner()).len())
            .sum()
    }

    pub(super) fn entry(&self, pfn: u64) -> Option<&Entry> {
        find(&self.0, pfn)
    }
}

/// The table write-locked, for adding spans: an owner checks and adds all
/// its spans under one lock, so that no other can slip in between.
pub struct SpansMut(RwLockWriteGuard<'static, Table>);

/// Write-lock the table.
pub fn spans_mut() -> SpansMut {
    SpansMut(SPANS.write().unwrap_or_else(|e| e.into_inner()))
}

impl SpansMut {
    /// A span overlapping `[start, end]` (pfns), if any.
    pub fn overlap(&self, start: u64, end: u64) -> Option<Span> {
        let (_, e) = self.0.range(..=end).next_back()?;
        (e.span.end_pfn >= start).then_some(e.span)
    }

    /// Add `span`: its pages are created when first asked for.
    pub fn add(&mut self, span: Span) {
        let entry = Entry {
            span,
            chunks: Mutex::new(Vec::new()),
        };
        self.0.insert(span.start_pfn, entry);
    }
}

/// Remove every span of `pgmap` and retire the chunks made for them: their
/// pages are gone, and nothing can create them again.
pub fn remove(pgmap: usize) {
    let gone: Vec<Entry> = {
        let mut t = SPANS.write().unwrap_or_else(|e| e.into_inner());
        let keys: Vec<u64> = t
            .iter()
            .filter(|(_, e)| e.span.pgmap == pgmap)
            .map(|(k, _)| *k)
            .collect();
        keys.iter().filter_map(|k| t.remove(k)).collect()
    };
    for e in gone {
        for c in e.chunks.into_inner().unwrap_or_else(|e| e.into_inner()) {
            super::retire_chunk(c, pgmap);
        }
    }
    super::devmem::release(pgmap);
}

/// Record that chunk `chunk` was created for `e`.
pub(super) fn record(e: &Entry, chunk: u64) {
    e.chunks
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(chunk);
}
