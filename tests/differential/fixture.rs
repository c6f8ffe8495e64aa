// SPDX-License-Identifier: GPL-2.0-only
//! What the hand-written tests stand on: quiet WARNs, a mapped pgmap that
//! unmaps itself, the WARNs and frees of one call, the line of a WARN in
//! the reference's C, folios held, a child process for a crash.

use crate::capi::{pfn_of, take_freed, warns, Api, Side};
use crate::common;
use crate::generator::{Layout, OpsKind};
use crate::Pg;
use memremap::ffi::{self, Folio};
use memremap::types::*;

/// Quiet WARNs and a short wait bound for the length of a test.
pub struct Quiet;

impl Quiet {
    pub fn new() -> Self {
        memremap::warn::set_quiet(true);
        ffi::memremap_set_wait_bound_ms(1000);
        Quiet
    }
}

impl Drop for Quiet {
    fn drop(&mut self) {
        ffi::memremap_set_wait_bound_ms(10_000);
        memremap::warn::set_quiet(false);
    }
}

/// A mapped pgmap (ops with page_free and migrate_to_ram, an owner, so any
/// type maps); unmapped on drop, when every reference must be back.
pub struct Fixture {
    pub p: Box<Pg>,
}

impl Fixture {
    pub fn new(ty: u32, shift: u32, ranges: &[(u64, u64)]) -> Self {
        let layout = Layout {
            ty,
            ops: OpsKind::Full,
            shift,
            ranges: ranges.to_vec(),
            altmap: None,
        };
        let mut p = layout.build();
        assert_eq!(common::try_map(&mut p), 0, "memremap_pages() failed");
        Fixture { p }
    }

    pub fn ptr(&mut self) -> *mut DevPagemap {
        &mut self.p.pgmap
    }

    pub fn api(&mut self, side: Side) -> Api {
        Api {
            side,
            p: self.ptr(),
        }
    }

    pub fn pins(&mut self) -> i64 {
        self.api(Side::Lib).pins()
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        // SAFETY: the fixture's pgmap, mapped in new(); a second unmap (a
        // test that unmapped it itself) only WARNs.
        if unsafe { ffi::memremap_pgmap_is_mapped(self.ptr()) } {
            // SAFETY: as above.
            unsafe { ffi::memunmap_pages(self.ptr()) }
        }
    }
}

/// Run `f` with every ONCE site re-armed: what it returns, the WARNs it
/// made and the pages it freed (as pfns).
pub fn measure<T>(f: impl FnOnce() -> T) -> (T, u64, Vec<u64>) {
    take_freed();
    memremap::warn::rearm();
    let w0 = warns();
    let r = f();
    let w = warns() - w0;
    let freed = take_freed()
        .into_iter()
        .map(|p| pfn_of(p as *const Folio))
        .collect();
    (r, w, freed)
}

/// The line of a C reference file holding `pat` (once).
pub fn line_of(file: &str, pat: &str) -> u32 {
    let text = match file {
        "after.c" => include_str!("../../c-tests/reference/after.c"),
        _ => include_str!("../../c-tests/reference/before.c"),
    };
    let lines: Vec<usize> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains(pat))
        .map(|(i, _)| i + 1)
        .collect();
    assert_eq!(lines.len(), 1, "{pat:?} must appear once in {file}");
    lines[0] as u32
}

/// The last WARN came from `file` (a reference file) at the line of `pat`.
pub fn last_warn_at(file: &str, pat: &str) {
    let last = memremap::warn::last().expect("a WARN");
    assert!(last.file.ends_with(file), "last WARN from {}", last.file);
    assert_eq!(last.line, line_of(file, pat), "last WARN: {last:?}");
}

pub fn last_warn_says(function: &str, words: &str) {
    let last = memremap::warn::last().expect("a WARN");
    assert_eq!(last.function, function, "last WARN: {last:?}");
    assert!(last.message.contains(words), "last WARN: {last:?}");
}

/// Request folio `k` of the fixture `n` times through the library.
pub fn hold(fx: &mut Fixture, ks: &[u64], n: usize) -> Vec<*mut Folio> {
    let l = fx.api(Side::Lib);
    ks.iter()
        .map(|&k| {
            let f = l.request(k, 0);
            assert!(!f.is_null());
            for _ in 1..n {
                assert_eq!(l.request(k, 0), f);
            }
            f
        })
        .collect()
}

/// Run `f` in a child process: the signal that ended it, or None.
pub fn in_child(f: impl FnOnce()) -> Option<i32> {
    // SAFETY: fork() has no memory preconditions; the child only runs `f`
    // (one call into the C reference) and then _exit()s.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        f();
        // SAFETY: ends the child without running the parent's destructors.
        unsafe { libc::_exit(0) };
    }
    let mut status = 0;
    // SAFETY: waits for the child just forked, into a local int.
    let got = unsafe { libc::waitpid(pid, &mut status, 0) };
    assert_eq!(got, pid);
    libc::WIFSIGNALED(status).then(|| libc::WTERMSIG(status))
}
