// SPDX-License-Identifier: GPL-2.0-only
//! `vmalloc()` and `vfree()` (mm/vmalloc.c): in the slab's ledger as
//! vmalloc memory, so that a leak fails a test as a leaked kmalloc() does,
//! fault injection covers them, and the wrong free function is caught.

use crate::slab::{self, FreeAs, Kind};

/// `vmalloc()` / `vzalloc()`: null for size 0 (with the kernel's
/// WARN_ON_ONCE) and on an injected failure.
pub fn vmalloc(size: usize, zero: bool, file: &str, line: u32) -> *mut u8 {
    if crate::warn_once_if!("__vmalloc_node_range", size == 0, "vmalloc() of 0 bytes") {
        return core::ptr::null_mut();
    }
    slab::alloc_kind(size, zero, Kind::Vmalloc, file, line)
}

/// `vfree()`: NULL is ignored; memory vmalloc() did not return WARNs
/// ("Trying to vfree() nonexistent vm area") and is left alone.
pub fn vfree(p: *mut u8) {
    slab::free_as(p, FreeAs::Vfree)
}

/// `kvfree()`: kmalloc or vmalloc memory.
pub fn kvfree(p: *mut u8) {
    slab::free_as(p, FreeAs::Kvfree)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_free_warns_and_keeps_the_block() {
        let _serial = crate::test_serial();
        crate::warn::set_quiet(true);
        let base = slab::live_count();
        let w = crate::warn::count();
        let v = vmalloc(100, true, file!(), line!());
        assert!(!v.is_null());
        slab::free(v);
        assert_eq!(crate::warn::count(), w + 1, "kfree() of vmalloc memory");
        assert_eq!(slab::live_count(), base + 1);
        let k = slab::alloc(8, false, file!(), line!());
        vfree(k);
        assert_eq!(crate::warn::count(), w + 2, "vfree() of kmalloc memory");
        kvfree(k);
        vfree(v);
        assert_eq!(slab::live_count(), base);
        assert_eq!(crate::warn::count(), w + 2);
        crate::warn::set_quiet(false);
    }
}
