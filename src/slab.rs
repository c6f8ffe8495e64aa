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
}

static LIVE: Mutex<Option<HashMap<usize, Site>>> = Mutex::new(None);
/// Countdown to the next injected failure; 0 when none is armed.
static FAIL_NTH: AtomicU64 = AtomicU64::new(0);
static INJECTED: AtomicU64 = AtomicU64::new(0);

/// Make the `n`th allocation from now fail (1: the next one); 0 disarms.
pub fn fail_nth(n: u64) {
    FAIL_NTH.store(n, Ordering::SeqCst);
}

/// How many allocations were failed on purpose so far.
pub fn injected() -> u64 {
    INJECTED.load(Ordering::Relaxed)
}

/// True when this allocation is the one to fail.
pub fn should_fail() -> bool {
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

/// Allocate `size` bytes, zeroed when `zero`; null on injected failure.
pub fn alloc(size: usize, zero: bool, file: &str, line: u32) -> *mut u8 {
    if should_fail() {
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
    if p.is_null() {
        return;
    }
    let known = {
        let mut live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
        live.as_mut()
            .and_then(|m| m.remove(&(p as usize)))
            .is_some()
    };
    if crate::warn_if!(
        "kfree",
        !known,
        "kfree() of {p:p}, which kmalloc() did not return or which was already freed"
    ) {
        return;
    }
    // SAFETY: `p` came from malloc/calloc in `alloc` and was live until the
    // ledger entry removed just above, so it is freed exactly once.
    unsafe { libc::free(p as *mut libc::c_void) }
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
