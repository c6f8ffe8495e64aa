// SPDX-License-Identifier: GPL-2.0-only
//! `kmalloc()` and friends over the C allocator, with a ledger of live
//! allocations (pointer, size, call site) and fault injection: make the Nth
//! allocation from now fail.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Where an allocation was made.
#[derive(Clone, Debug)]
pub struct Site {
    pub size: usize,
    pub file: String,
    pub line: u32,
    /// Which allocator handed it out, so the wrong free is caught.
    pub kind: Kind,
}

/// The allocator an allocation came from: `kmalloc()` (and `kvmalloc()`,
/// which the library always serves from kmalloc) or `vmalloc()`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Kmalloc,
    Vmalloc,
}

/// The free function a pointer is handed to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FreeAs {
    /// `kfree()`: kmalloc memory only.
    Kfree,
    /// `vfree()`: vmalloc memory only.
    Vfree,
    /// `kvfree()`: either.
    Kvfree,
}

/// The kernel's `ZERO_SIZE_PTR`: what `krealloc(p, 0)` returns; the free
/// functions ignore it, as they ignore NULL.
pub const ZERO_SIZE_PTR: usize = 16;

static LIVE: Mutex<Option<HashMap<usize, Site>>> = Mutex::new(None);
/// Countdown to the next injected failure; 0 when none is armed.
static FAIL_NTH: AtomicU64 = AtomicU64::new(0);
/// Fail every Nth allocation (0: off) ...
static FAIL_EVERY: AtomicU64 = AtomicU64::new(0);
static EVERY_COUNT: AtomicU64 = AtomicU64::new(0);
/// ... or each with probability RANDOM_PERMILLE / 1000, from a seeded
/// generator so that a failing run can be replayed.
static RANDOM_PERMILLE: AtomicU64 = AtomicU64::new(0);
static RANDOM_STATE: AtomicU64 = AtomicU64::new(0);
static INJECTED: AtomicU64 = AtomicU64::new(0);

/// Make the `n`th allocation from now fail (1: the next one); 0 disarms.
pub fn fail_nth(n: u64) {
    FAIL_NTH.store(n, Ordering::SeqCst);
}

/// Fail every `n`th allocation from now on; 0 disarms.
pub fn fail_every(n: u64) {
    EVERY_COUNT.store(0, Ordering::SeqCst);
    FAIL_EVERY.store(n, Ordering::SeqCst);
}

/// Fail each allocation with probability `permille / 1000`, drawing from a
/// generator seeded with `seed`; permille 0 disarms.
pub fn fail_random(seed: u64, permille: u64) {
    RANDOM_STATE.store(seed | 1, Ordering::SeqCst);
    RANDOM_PERMILLE.store(permille.min(1000), Ordering::SeqCst);
}

/// Disarm every kind of injected failure.
pub fn fail_none() {
    fail_nth(0);
    fail_every(0);
    fail_random(0, 0);
}

fn random_hit() -> bool {
    let p = RANDOM_PERMILLE.load(Ordering::Relaxed);
    if p == 0 {
        return false;
    }
    // xorshift64*, advanced atomically so threads draw distinct values.
    let mut x = RANDOM_STATE.load(Ordering::Relaxed);
    loop {
        let mut y = x;
        y ^= y >> 12;
        y ^= y << 25;
        y ^= y >> 27;
        match RANDOM_STATE.compare_exchange_weak(x, y, Ordering::AcqRel, Ordering::Relaxed) {
            Ok(_) => return y.wrapping_mul(0x2545_F491_4F6C_DD1D) % 1000 < p,
            Err(now) => x = now,
        }
    }
}

/// How many allocations were failed on purpose so far.
pub fn injected() -> u64 {
    INJECTED.load(Ordering::Relaxed)
}

/// True when this allocation is one to fail.
pub fn should_fail() -> bool {
    let every = FAIL_EVERY.load(Ordering::Relaxed);
    if (every != 0 && (EVERY_COUNT.fetch_add(1, Ordering::AcqRel) + 1) % every == 0) || random_hit()
    {
        INJECTED.fetch_add(1, Ordering::Relaxed);
        return true;
    }
    let mut n = FAIL_NTH.load(Ordering::SeqCst);
    while n != 0 {
        match FAIL_NTH.compare_exchange(n, n - 1, Ordering::SeqCst, Ordering::SeqCst) {
            Ok(_) if n == 1 => {
                INJECTED.fetch_add(1, Ordering::Relaxed);
                return true;
            }
            Ok(_) => return false,
            Err(now) => n = now,
        }
    }
    false
}

/// `__GFP_ZERO`.
pub const GFP_ZERO: u32 = 0x100;

/// `kmalloc(size, gfp)` from `file:line`: zeroed for `__GFP_ZERO`; null on
/// injected failure.
pub fn kmalloc(size: usize, gfp: u32, file: &str, line: u32) -> *mut u8 {
    alloc(size, gfp & GFP_ZERO != 0, file, line)
}

/// The largest allocation tried (1 TiB, the sanitizers' own limit).
const MAX_BYTES: usize = 1 << 40;

/// Allocate `size` bytes, zeroed when `zero`; null on injected failure.
pub fn alloc(size: usize, zero: bool, file: &str, line: u32) -> *mut u8 {
    alloc_kind(size, zero, Kind::Kmalloc, file, line)
}

/// `alloc()` for the allocator `kind`.
pub fn alloc_kind(size: usize, zero: bool, kind: Kind, file: &str, line: u32) -> *mut u8 {
    if should_fail() {
        return core::ptr::null_mut();
    }
    // More than any machine has (an overflowed size_mul() is SIZE_MAX):
    // fail as the C allocator would, before ASan aborts on the request.
    if size > MAX_BYTES {
        return core::ptr::null_mut();
    }
    let bytes = size.max(1);
    // SAFETY: malloc/calloc accept any size and return null or a fresh
    // allocation that we record below before handing it out.
    let p = unsafe {
        if zero {
            libc::calloc(1, bytes)
        } else {
            libc::malloc(bytes)
        }
    } as *mut u8;
    if !p.is_null() {
        let site = Site {
            size,
            file: file.to_owned(),
            line,
            kind,
        };
        let mut live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
        live.get_or_insert_with(HashMap::new)
            .insert(p as usize, site);
    }
    p
}

/// Free what `alloc` returned. A pointer it did not hand out (or one already
/// freed) WARNs and is left alone rather than corrupting the C heap.
pub fn free(p: *mut u8) {
    free_as(p, FreeAs::Kfree)
}

/// Free `p` with the free function `how`. Memory of the other allocator
/// WARNs and is left alone (the kernel would crash on `kfree()` of vmalloc
/// memory; its `vfree()` of anything else WARNs "Trying to vfree()
/// nonexistent vm area").
pub fn free_as(p: *mut u8, how: FreeAs) {
    if p.is_null() || p as usize == ZERO_SIZE_PTR {
        return;
    }
    let (func, owner) = match how {
        FreeAs::Kfree => ("kfree", "kmalloc()"),
        FreeAs::Vfree => ("vfree", "vmalloc()"),
        FreeAs::Kvfree => ("kvfree", "kvmalloc() or vmalloc()"),
    };
    let kind = {
        let mut live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
        let m = live.get_or_insert_with(HashMap::new);
        let kind = m.get(&(p as usize)).map(|s| s.kind);
        let fits = matches!(
            (how, kind),
            (FreeAs::Kfree, Some(Kind::Kmalloc))
                | (FreeAs::Vfree, Some(Kind::Vmalloc))
                | (FreeAs::Kvfree, Some(_))
        );
        if fits {
            m.remove(&(p as usize));
        }
        kind.map(|k| (k, fits))
    };
    match kind {
        Some((_, true)) => {}
        Some((k, false)) => {
            crate::warn_if!(
                func,
                true,
                "{}{func}() of {p:p}, which {} returned: left allocated",
                vfree_words(how, p),
                if k == Kind::Vmalloc {
                    "vmalloc()"
                } else {
                    "kmalloc()"
                }
            );
            return;
        }
        None => {
            crate::warn_if!(
                func,
                true,
                "{}{func}() of {p:p}, which {owner} did not return or which was already freed",
                vfree_words(how, p)
            );
            return;
        }
    }
    // SAFETY: `p` came from malloc/calloc in `alloc` and was live until the
    // ledger entry removed just above, so it is freed exactly once.
    unsafe { libc::free(p as *mut libc::c_void) }
}

/// `krealloc()`: a null (or `ZERO_SIZE_PTR`) `p` allocates; size 0 frees
/// and answers `ZERO_SIZE_PTR`; shrinking keeps the block (the kernel
/// keeps it while the slab object is large enough); growing moves it to a
/// new block, zeroing the new tail when `zero`, and is where fault
/// injection may fail it (null, `p` untouched). A `p` that kmalloc() did
/// not hand out WARNs and answers null.
pub fn realloc(addr: usize, size: usize, zero: bool, file: &str, line: u32) -> *mut u8 {
    let p = addr as *mut u8;
    if addr == 0 || addr == ZERO_SIZE_PTR {
        if size == 0 {
            return ZERO_SIZE_PTR as *mut u8;
        }
        return alloc(size, zero, file, line);
    }
    let old = {
        let live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
        live.as_ref().and_then(|m| m.get(&addr).cloned())
    };
    let old = match old {
        Some(s) if s.kind == Kind::Kmalloc => s,
        other => {
            crate::warn_if!(
                "krealloc",
                true,
                "krealloc() of {p:p}, which {}",
                if other.is_some() {
                    "vmalloc() returned"
                } else {
                    "kmalloc() did not return or which was already freed"
                }
            );
            return core::ptr::null_mut();
        }
    };
    if size == 0 {
        free(p);
        return ZERO_SIZE_PTR as *mut u8;
    }
    if size <= old.size {
        let mut live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(s) = live.as_mut().and_then(|m| m.get_mut(&addr)) {
            s.size = size;
        }
        return p;
    }
    let q = alloc(size, false, file, line);
    if q.is_null() {
        return q;
    }
    // SAFETY: `p` is a live kmalloc block of `old.size` bytes (checked in
    // the ledger above) and `q` a fresh one of `size > old.size` bytes.
    unsafe {
        core::ptr::copy_nonoverlapping(p, q, old.size);
        if zero {
            core::ptr::write_bytes(q.add(old.size), 0, size - old.size);
        }
    }
    free(p);
    q
}

/// The kernel's own words when vfree() finds no vm area at `p`.
fn vfree_words(how: FreeAs, p: *mut u8) -> String {
    if how == FreeAs::Vfree {
        format!("Trying to vfree() nonexistent vm area ({p:p}): ")
    } else {
        String::new()
    }
}

/// Number of allocations not yet freed.
pub fn live_count() -> u64 {
    let live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
    live.as_ref().map_or(0, |m| m.len() as u64)
}

/// The live allocations, oldest site order not kept.
pub fn live_sites() -> Vec<(usize, Site)> {
    let live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
    live.as_ref()
        .map(|m| m.iter().map(|(k, v)| (*k, v.clone())).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nth_failure_and_ledger() {
        let _serial = crate::test_serial();
        let base = live_count();
        fail_nth(2);
        let a = alloc(8, true, file!(), line!());
        let b = alloc(8, false, file!(), line!());
        assert!(!a.is_null());
        assert!(b.is_null());
        assert_eq!(live_count(), base + 1);
        free(a);
        assert_eq!(live_count(), base);
    }

    #[test]
    fn every_nth_and_random_failures() {
        let _serial = crate::test_serial();
        fail_every(3);
        let hits: Vec<bool> = (0..9).map(|_| should_fail()).collect();
        assert_eq!(
            hits,
            [false, false, true, false, false, true, false, false, true]
        );
        fail_every(0);
        fail_random(42, 500);
        let a: Vec<bool> = (0..64).map(|_| should_fail()).collect();
        fail_random(42, 500);
        let b: Vec<bool> = (0..64).map(|_| should_fail()).collect();
        assert_eq!(a, b, "the same seed replays the same failures");
        let n = a.iter().filter(|&&x| x).count();
        assert!((10..54).contains(&n), "{n} of 64 failed at 50%");
        fail_none();
        assert!(!should_fail());
    }

    #[test]
    fn double_free_warns_and_is_harmless() {
        let _serial = crate::test_serial();
        crate::warn::set_quiet(true);
        let a = alloc(16, false, file!(), line!());
        free(a);
        let w = crate::warn::count();
        free(a);
        assert_eq!(crate::warn::count(), w + 1);
        crate::warn::set_quiet(false);
    }
}
