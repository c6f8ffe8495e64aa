// SPDX-License-Identifier: GPL-2.0-only
//! [`PgmapPtr`]: the one door to the caller's `struct dev_pagemap`. C owns
//! that memory and may write it at any time, so no reference to the struct
//! is ever made: each field is read by value through a raw pointer, or (the
//! ref and the completion, which are all atomics) referenced on its own.
//! Every access goes through [`PgmapPtr::raw`], the one check.

use crate::types::{Completion, DevPagemap, DevPagemapOps, Page, PercpuRef, Range, VmemAltmap};
use std::ptr::addr_of;

/// A `struct dev_pagemap *` as C passed it: null, or the caller's struct.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PgmapPtr(*mut DevPagemap);

/// What `memremap_pages()` reads from the caller's struct, read once.
pub(super) struct Config {
    pub(super) ty: u32,
    pub(super) flags: u32,
    pub(super) shift: u64,
    pub(super) owner: usize,
    pub(super) nr_range: i32,
    pub(super) altmap_offset: u64,
}

/// `vmem_altmap_offset()`.
pub fn altmap_offset(reserve: u64, free: u64) -> u64 {
    reserve.wrapping_add(free)
}

/// `vmem_altmap_free()`: `nr_pfns` of the altmap's allocations given back.
pub fn altmap_free(altmap: &mut VmemAltmap, nr_pfns: u64) {
    altmap.alloc = altmap.alloc.wrapping_sub(nr_pfns);
}

impl PgmapPtr {
    /// `p` must stay allocated while the library may use it: until
    /// `memunmap_pages()` returns and its pages are all put.
    /// # Safety
    /// `p` is null or a `struct dev_pagemap` followed by its `nr_range`
    /// ranges, kept allocated as above (the kernel's rule too).
    pub unsafe fn new(p: *mut DevPagemap) -> Self {
        PgmapPtr(p)
    }

    /// A pgmap the library registered: a span's or a page's `pgmap`.
    pub(crate) fn registered(addr: usize) -> Self {
        // SAFETY: only memremap_pages() registers pgmaps, and it was given
        // one that obeys `new`'s contract.
        unsafe { Self::new(addr as *mut DevPagemap) }
    }

    /// The pgmap whose `ref` is `r`: `container_of(r, dev_pagemap, ref)`.
    pub(super) fn of_ref(r: *mut PercpuRef) -> Self {
        let addr = (r as usize).wrapping_sub(core::mem::offset_of!(DevPagemap, ref_));
        Self::registered(addr)
    }

    pub fn ptr(self) -> *mut DevPagemap {
        self.0
    }

    pub fn addr(self) -> usize {
        self.0 as usize
    }

    /// The pointer, unless NULL or misaligned: a misaligned one (a tail
    /// page's `pgmap` word is `head | 1`) is no pgmap, and nothing is read.
    /// The one check every access below goes through.
    #[inline(always)]
    fn raw(self) -> Option<*const DevPagemap> {
        let aligned = self.addr() % core::mem::align_of::<DevPagemap>() == 0;
        (aligned && !self.0.is_null()).then_some(self.0 as *const DevPagemap)
    }

    /// `&pgmap->ref`.
    #[inline(always)]
    pub(super) fn ref_(self) -> Option<&'static PercpuRef> {
        let p = self.raw()?;
        // SAFETY: per `new`, a pointer `raw` lets through is a live struct;
        // `ref` is two atomic words, valid to reference whatever they hold.
        Some(unsafe { &*addr_of!((*p).ref_) })
    }

    /// `&pgmap->done`.
    pub(super) fn done(self) -> Option<&'static Completion> {
        let p = self.raw()?;
        // SAFETY: as in ref_(); `done` is an atomic futex word and padding
        // that is never read.
        Some(unsafe { &*addr_of!((*p).done) })
    }

    /// `pgmap->ranges[i]`, for `i < nr_range` (range 0 always exists).
    pub(super) fn range(self, i: usize) -> Option<Range> {
        let p = self.raw()?;
        // SAFETY: per `new`, the struct is followed by nr_range ranges, and
        // callers stay below nr_range (or read range 0, inside the struct);
        // the range is read by value.
        Some(unsafe { addr_of!((*p).range).add(i).read() })
    }

    /// `pgmap->ops`, read now (as the kernel does).
    fn ops(self) -> Option<&'static DevPagemapOps> {
        let p = self.raw()?;
        // SAFETY: per `new`; `ops` is read by value, and is null or the
        // caller's ops table, which outlives the pgmap.
        unsafe { addr_of!((*p).ops).read().as_ref() }
    }

    /// Has `pgmap->ops` a `page_free`? Has it a `migrate_to_ram`?
    pub(super) fn has_ops(self) -> (bool, bool) {
        let ops = self.ops();
        (
            ops.is_some_and(|o| o.page_free.is_some()),
            ops.is_some_and(|o| o.migrate_to_ram.is_some()),
        )
    }

    /// Has `pgmap->ops` a `page_free` (`folio_free` from Linux 6.19-rc on,
    /// the same slot)?
    pub fn has_page_free(self) -> bool {
        self.has_ops().0
    }

    /// `pgmap->ops->page_free` (`folio_free` from Linux 6.19-rc on), if the
    /// pgmap has one: [`Self::has_page_free`] and [`Self::page_free`] from
    /// one read of `ops`.
    #[inline(always)]
    pub fn page_free_fn(self) -> Option<unsafe extern "C" fn(page: *mut Page)> {
        self.ops().and_then(|o| o.page_free)
    }

    /// `pgmap->ops->page_free(page)`, if the pgmap has one.
    pub fn page_free(self, page: &Page) {
        if let Some(f) = self.ops().and_then(|o| o.page_free) {
            // SAFETY: `f` is the driver's page_free for this pgmap, called
            // as the kernel does, with the page whose last reference went.
            unsafe { f(page as *const Page as *mut Page) }
        }
    }

    /// `pgmap->type`.
    pub fn type_(self) -> Option<u32> {
        let p = self.raw()?;
        // SAFETY: per `new`; a plain field read by value.
        Some(unsafe { addr_of!((*p).type_).read() })
    }

    /// `pgmap->owner`.
    pub fn owner(self) -> Option<usize> {
        let p = self.raw()?;
        // SAFETY: per `new`; a plain field read by value.
        Some(unsafe { addr_of!((*p).owner).read() } as usize)
    }

    /// `pgmap->ops->migrate_to_ram`, read now.
    pub fn migrate_to_ram(self) -> Option<unsafe extern "C" fn(*mut core::ffi::c_void) -> u32> {
        self.ops().and_then(|o| o.migrate_to_ram)
    }

    /// What `memremap_pages()` reads from the caller's struct.
    pub(super) fn config(self) -> Option<Config> {
        let p = self.raw()?;
        // SAFETY: per `new`, `p` is a live struct; fields are read by value
        // through raw pointers, never referenced.
        unsafe {
            Some(Config {
                ty: addr_of!((*p).type_).read(),
                flags: addr_of!((*p).flags).read(),
                shift: addr_of!((*p).vmemmap_shift).read(),
                owner: addr_of!((*p).owner).read() as usize,
                nr_range: addr_of!((*p).nr_range).read(),
                altmap_offset: altmap_offset(
                    addr_of!((*p).altmap.reserve).read(),
                    addr_of!((*p).altmap.free).read(),
                ),
            })
        }
    }
}

impl std::fmt::Pointer for PgmapPtr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Pointer::fmt(&self.0, f)
    }
}
