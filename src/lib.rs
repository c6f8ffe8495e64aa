// SPDX-License-Identifier: GPL-2.0-only
//! memremap: the Linux kernel's ZONE_DEVICE page-map (pgmap) API as a
//! userspace library, for testing pgmap patches and their callers in C.
//!
//! One module per kernel concept, in one-way layers (docs/DESIGN.md §6;
//! a module uses only those listed before it here):
//!
//! - leaves: [`types`], [`trace`], [`warn`]; [`counter`], [`offset`], [`slab`],
//!   [`sync`], [`generation`]
//! - [`memmap`], [`percpu_ref`], [`devres`], [`dma`], [`vmalloc`],
//!   [`pte`], [`mmu_notifier`], side by side
//! - [`resource`], [`device`] and [`page_alloc`], side by side
//! - [`pgmap`] -> [`page`] (with `page::zone_device`, the API generations'
//!   variants of its init and free, and `page::dump`) -> [`request`] ->
//!   [`ledger`]
//! - [`address_space`] -> [`fault`] and [`migrate`], side by side -> [`hmm`]
//! - [`ffi`], the C boundary, one file per header family, holding no logic.
//!
//! See docs/DESIGN.md for the contract.

// The C boundary must never unwind: every profile sets panic = "abort".
// Test builds (debug assertions on) are the one exception cargo imposes.
#[cfg(all(not(panic = "abort"), not(debug_assertions), not(loom)))]
compile_error!("memremap must be built with panic = \"abort\" (see Cargo.toml profiles)");

/// The atomics `counter` is written against (loom's, in loom/tests/loom.rs).
mod atomics {
    pub use std::sync::atomic::{AtomicBool, AtomicI32, AtomicI64, Ordering};
    pub use std::thread::yield_now;
}

// Layer 0, the leaves: the C structs, WARNs, then what uses only those.
pub mod trace;
pub mod types;
pub mod warn;

pub mod counter;
pub mod offset;
pub mod slab;
pub mod sync;

// Which API generation a pgmap speaks, and that generation's page layout.
pub mod generation;

// Layer 1: what a pgmap and a driver are made of, none knowing another:
// the struct pages, the refcount, a device's managed resources, DMA
// mappings, vmalloc, the swap-entry form of a pte, interval notifiers.
pub mod devres;
pub mod dma;
pub mod memmap;
pub mod mmu_notifier;
pub mod percpu_ref;
pub mod pte;
pub mod vmalloc;

// Layer 2: the iomem resource tree and devices, on devres; the page
// allocator over the memmap's System RAM (page's free path ends there).
pub mod device;
pub mod page_alloc;
pub mod resource;

// Layer 3: the pgmap.
pub mod pgmap;

// Layer 4: pages and folios, their lifecycle.
pub mod page;

// Layer 5: the patch's API.
pub mod request;

// Layer 6: the ledger of what is alive.
pub mod ledger;

// Layer 7: process address spaces, on pages and pgmaps.
pub mod address_space;

// Layer 8: what moves pages between them and devices, side by side: CPU
// faults, migration.
pub mod fault;
pub mod file_map;
pub mod migrate;

// Layer 9: mirroring an address space (hmm_range_fault()).
pub mod hmm;

// Layer 10: the C boundary.
pub mod ffi;

/// Unit tests that read global counters (WARNs, allocations) take this.
#[cfg(test)]
pub(crate) fn test_serial() -> std::sync::MutexGuard<'static, ()> {
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}
