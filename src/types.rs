// SPDX-License-Identifier: GPL-2.0-only
//! The structures shared with C, laid out as the kernel lays them out on
//! x86_64 (Linux 6.1), and the constants that go with them.
//!
//! Every field C may write concurrently with Rust is an atomic here, so that
//! Rust never holds a plain reference to memory C mutates; the one struct
//! that is not all atomics, `struct dev_pagemap`, is read field by field
//! through raw pointers, only by `pgmap::PgmapPtr`.

use core::ffi::{c_int, c_uint, c_ulong, c_void};
use core::mem::{offset_of, size_of};
use core::sync::atomic::{AtomicI32, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use static_assertions::const_assert_eq;

/// `PAGE_SHIFT`, `PAGE_SIZE`.
pub const PAGE_SHIFT: u32 = 12;
/// x86_64 `MAX_PHYSMEM_BITS` with 5-level paging.
pub const MAX_PHYSMEM_BITS: u32 = 52;
/// Highest pfn bit count: pfns of addressable memory are below `1 << MAX_PFN_BITS`.
pub const MAX_PFN_BITS: u32 = MAX_PHYSMEM_BITS - PAGE_SHIFT;
/// A sparsemem subsection: the unit `add_pages()` insists on (2 MiB).
pub const SUBSECTION_SHIFT: u32 = 21;

/// `enum memory_type`.
pub const MEMORY_DEVICE_PRIVATE: c_uint = 1;
/// `MEMORY_DEVICE_COHERENT`.
pub const MEMORY_DEVICE_COHERENT: c_uint = 2;
/// `MEMORY_DEVICE_FS_DAX`.
pub const MEMORY_DEVICE_FS_DAX: c_uint = 3;
/// `MEMORY_DEVICE_GENERIC`.
pub const MEMORY_DEVICE_GENERIC: c_uint = 4;
/// `MEMORY_DEVICE_PCI_P2PDMA`.
pub const MEMORY_DEVICE_PCI_P2PDMA: c_uint = 5;

/// `PGMAP_ALTMAP_VALID`.
pub const PGMAP_ALTMAP_VALID: c_uint = 1 << 0;

/// `struct range`: `end` is inclusive.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Range {
    pub start: u64,
    pub end: u64,
}

/// `struct vmem_altmap`.
#[repr(C)]
#[derive(Debug)]
pub struct VmemAltmap {
    pub base_pfn: c_ulong,
    pub end_pfn: c_ulong,
    pub reserve: c_ulong,
    pub free: c_ulong,
    pub align: c_ulong,
    pub alloc: c_ulong,
}

/// `struct percpu_ref`: two words, both owned by the library.
#[repr(C)]
pub struct PercpuRef {
    /// A check word derived from `data`; it tells a live ref from garbage.
    pub percpu_count_ptr: AtomicUsize,
    /// The library's `percpu_ref_data`.
    pub data: AtomicUsize,
}

/// `struct completion`: `done` is the futex word; `wait` stands in for the
/// kernel's `struct swait_queue_head` and is never read.
#[repr(C)]
pub struct Completion {
    pub done: AtomicU32,
    pub wait: [u32; 7],
}

/// `struct dev_pagemap_ops`.
#[repr(C)]
pub struct DevPagemapOps {
    pub page_free: Option<unsafe extern "C" fn(page: *mut Page)>,
    pub migrate_to_ram: Option<unsafe extern "C" fn(vmf: *mut c_void) -> c_uint>,
    pub memory_failure: Option<
        unsafe extern "C" fn(
            pgmap: *mut DevPagemap,
            pfn: c_ulong,
            nr: c_ulong,
            flags: c_int,
        ) -> c_int,
    >,
}

/// `struct dev_pagemap`; `ranges[]` continues past `range` when `nr_range > 1`.
#[repr(C)]
pub struct DevPagemap {
    pub altmap: VmemAltmap,
    pub ref_: PercpuRef,
    pub done: Completion,
    pub type_: c_uint,
    pub flags: c_uint,
    pub vmemmap_shift: c_ulong,
    pub ops: *const DevPagemapOps,
    pub owner: *mut c_void,
    pub nr_range: c_int,
    pub range: Range,
}

/// `struct page`, 64 bytes. Words 1 and 2 are unions in the kernel; here
/// each is one field named for both members, read through the accessors
/// named as the kernel names the members.
#[repr(C)]
pub struct Page {
    pub flags: AtomicU64,
    /// Offset 8: `pgmap` in a ZONE_DEVICE (head) page, `compound_head`
    /// (the head's address with bit 0 set) in a tail page. See
    /// [`Page::pgmap`], [`Page::compound_head`].
    pub pgmap_or_compound_head: AtomicUsize,
    /// Offset 16: `zone_device_data` in a ZONE_DEVICE page; in the first
    /// tail page of a folio, `compound_dtor`, `compound_order` and
    /// `compound_mapcount` (see [`Page::compound_order`]).
    pub zone_device_data: AtomicUsize,
    pub mapping: AtomicUsize,
    pub index: AtomicUsize,
    pub private: AtomicUsize,
    pub mapcount: AtomicI32,
    pub refcount: AtomicI32,
    pub memcg_data: AtomicUsize,
}

impl Page {
    /// `page->pgmap`: meaningful in a ZONE_DEVICE page that is not a tail.
    #[inline(always)]
    pub fn pgmap(&self) -> usize {
        self.pgmap_or_compound_head.load(Ordering::Acquire)
    }

    /// `page->compound_head`: the head's address with bit 0 set in a tail
    /// page; bit 0 clear means the page is no tail.
    #[inline(always)]
    pub fn compound_head(&self) -> usize {
        self.pgmap_or_compound_head.load(Ordering::Acquire)
    }

    /// `compound_order` of a first tail page (bits 8..16 of word 2).
    #[inline(always)]
    pub fn compound_order(&self) -> u32 {
        ((self.zone_device_data.load(Ordering::Relaxed) >> 8) & 0xff) as u32
    }
}

// Kernel sizes and offsets (x86_64, Linux 6.1). C asserts the same.
const_assert_eq!(size_of::<Range>(), 16);
const_assert_eq!(size_of::<VmemAltmap>(), 48);
const_assert_eq!(size_of::<PercpuRef>(), 16);
const_assert_eq!(size_of::<Completion>(), 32);
const_assert_eq!(size_of::<DevPagemapOps>(), 24);
const_assert_eq!(offset_of!(DevPagemap, altmap), 0);
const_assert_eq!(offset_of!(DevPagemap, ref_), 48);
const_assert_eq!(offset_of!(DevPagemap, done), 64);
const_assert_eq!(offset_of!(DevPagemap, type_), 96);
const_assert_eq!(offset_of!(DevPagemap, flags), 100);
const_assert_eq!(offset_of!(DevPagemap, vmemmap_shift), 104);
const_assert_eq!(offset_of!(DevPagemap, ops), 112);
const_assert_eq!(offset_of!(DevPagemap, owner), 120);
const_assert_eq!(offset_of!(DevPagemap, nr_range), 128);
const_assert_eq!(offset_of!(DevPagemap, range), 136);
const_assert_eq!(size_of::<DevPagemap>(), 152);
const_assert_eq!(size_of::<Page>(), 64);
const_assert_eq!(offset_of!(Page, flags), 0);
const_assert_eq!(offset_of!(Page, pgmap_or_compound_head), 8);
const_assert_eq!(offset_of!(Page, zone_device_data), 16);
const_assert_eq!(offset_of!(Page, mapping), 24);
const_assert_eq!(offset_of!(Page, index), 32);
const_assert_eq!(offset_of!(Page, mapcount), 48);
const_assert_eq!(offset_of!(Page, refcount), 52);
const_assert_eq!(offset_of!(Page, memcg_data), 56);
