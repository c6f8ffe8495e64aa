// SPDX-License-Identifier: GPL-2.0-only
//! The ledger: everything still alive — pgmaps still mapped, folios still
//! referenced, allocations not freed — so a harness can assert a clean end.

use crate::pgmap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};

/// What is alive now.
#[derive(Debug, Default)]
pub struct Ledger {
    /// Mapped pgmaps: address, pins, and whether memunmap_pages() gave up.
    pub pgmaps: Vec<(usize, i64, bool)>,
    /// Referenced folios: pfn, refcount, owning pgmap.
    pub folios: Vec<(u64, i32, usize)>,
    /// Live allocations: address and where they were made.
    pub allocations: Vec<(usize, crate::slab::Site)>,
}

impl Ledger {
    /// Items alive.
    pub fn len(&self) -> usize {
        self.pgmaps.len() + self.folios.len() + self.allocations.len()
    }

    /// Nothing alive.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Take the ledger now.
pub fn take() -> Ledger {
    let mut l = Ledger::default();
    for m in pgmap::report() {
        l.pgmaps.push((m.addr, m.pins, m.abandoned));
        for (pfn, n) in m.held {
            l.folios.push((pfn, n, m.addr));
        }
    }
    let mut allocs = crate::slab::live_sites();
    allocs.sort_by_key(|a| a.0);
    l.allocations = allocs;
    l
}

/// The ledger as text, one line an item.
pub fn render(l: &Ledger) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "memremap ledger: {} pgmap(s) mapped, {} folio(s) referenced, {} allocation(s) live",
        l.pgmaps.len(),
        l.folios.len(),
        l.allocations.len()
    );
    for (addr, pins, abandoned) in &l.pgmaps {
        let _ = writeln!(
            s,
            "  pgmap {addr:#x}: {pins} pin(s){}",
            if *abandoned {
                ", memunmap_pages() gave up on it"
            } else {
                ""
            }
        );
    }
    for (pfn, n, owner) in &l.folios {
        let _ = writeln!(s, "  folio pfn {pfn:#x}: refcount {n} (pgmap {owner:#x})");
    }
    for (addr, site) in &l.allocations {
        let _ = writeln!(
            s,
            "  allocation {addr:#x}: {} bytes from {}:{}",
            site.size, site.file, site.line
        );
    }
    s
}

/// Print the ledger on stderr; returns the number of items alive.
pub fn print() -> usize {
    let l = take();
    let _ = std::io::stderr().write_all(render(&l).as_bytes());
    l.len()
}

static AT_EXIT: AtomicBool = AtomicBool::new(false);

extern "C" fn print_at_exit() {
    if AT_EXIT.load(Ordering::Acquire) && !take().is_empty() {
        print();
    }
}

/// Print the ledger at process exit, when something is still alive.
pub fn at_exit(on: bool) {
    static REGISTERED: AtomicBool = AtomicBool::new(false);
    AT_EXIT.store(on, Ordering::Release);
    if on && !REGISTERED.swap(true, Ordering::AcqRel) {
        // SAFETY: atexit takes a plain extern "C" fn with no arguments,
        // which print_at_exit is; it runs once, at exit, on one thread.
        unsafe {
            libc::atexit(print_at_exit);
        }
    }
}
