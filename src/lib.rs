// SPDX-License-Identifier: GPL-2.0-only
//! memremap: the Linux kernel's ZONE_DEVICE page-map (pgmap) API as a
//! userspace library, for testing pgmap patches and their callers in C.
//!
//! One module per kernel concept; the C entry points live in [`ffi`] and
//! hold no logic. See `docs/` and DESIGN.md for the contract.

// The C boundary must never unwind: every profile sets panic = "abort".
// Test builds (debug assertions on) are the one exception cargo imposes.
#[cfg(all(not(panic = "abort"), not(debug_assertions), not(loom)))]
compile_error!("memremap must be built with panic = \"abort\" (see Cargo.toml profiles)");

pub mod warn;

/// The atomics `counter` is written against (loom's, in tests/loom.rs).
mod atomics {
    pub use std::sync::atomic::{AtomicBool, AtomicI32, AtomicI64, Ordering};
}

pub mod address_space;
pub mod counter;
pub mod fault;
pub mod ffi;
pub mod hmm;
pub mod ledger;
pub mod memmap;
pub mod migrate;
pub mod mmu_notifier;
pub mod offset;
pub mod page;
pub mod page_alloc;
pub mod percpu_ref;
pub mod pgmap;
pub mod pte;
pub mod request;
pub mod slab;
pub mod sync;
pub mod types;

/// Unit tests that read global counters (WARNs, allocations) take this.
#[cfg(test)]
pub(crate) fn test_serial() -> std::sync::MutexGuard<'static, ()> {
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}
