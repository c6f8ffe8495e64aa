// SPDX-License-Identifier: GPL-2.0-only
//! memremap: the Linux kernel's ZONE_DEVICE page-map (pgmap) API as a
//! userspace library, for testing pgmap patches and their callers in C.
//!
//! One module per kernel concept, in one-way layers (docs/DESIGN.md §6;
//! a module uses only those listed before it here):
//!
//! - leaves: [`types`], [`trace`], [`warn`]; [`counter`], [`offset`], [`slab`],
//!   [`sync`]
//! - [`memmap`] and [`percpu_ref`], side by side
//! - [`pgmap`] -> [`page`] -> [`request`] -> [`ledger`]
//! - [`ffi`], the C boundary, one file per header family, holding no logic.
//!
//! See docs/DESIGN.md for the contract.

// The C boundary must never unwind: every profile sets panic = "abort".
// Test builds (debug assertions on) are the one exception cargo imposes.
#[cfg(all(not(panic = "abort"), not(debug_assertions), not(loom)))]
compile_error!("memremap must be built with panic = \"abort\" (see Cargo.toml profiles)");

/// The atomics `counter` is written against (loom's, in tests/loom.rs).
mod atomics {
    pub use std::sync::atomic::{AtomicBool, AtomicI32, AtomicI64, Ordering};
}

// Layer 0, the leaves: the C structs, WARNs, then what uses only those.
pub mod trace;
pub mod types;
pub mod warn;

pub mod counter;
pub mod offset;
pub mod slab;
pub mod sync;

// Layer 1: what a pgmap is made of, neither knowing the other.
pub mod memmap;
pub mod percpu_ref;

// Layer 2: the pgmap.
pub mod pgmap;

// Layer 3: pages and folios, their lifecycle.
pub mod page;

// Layer 4: the patch's API.
pub mod request;

// Layer 5: the ledger of what is alive.
pub mod ledger;

// Layer 6: the C boundary.
pub mod ffi;

/// Unit tests that read global counters (WARNs, allocations) take this.
#[cfg(test)]
pub(crate) fn test_serial() -> std::sync::MutexGuard<'static, ()> {
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}
