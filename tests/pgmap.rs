// SPDX-License-Identifier: GPL-2.0-only
//! The substrate's contract (docs/DESIGN.md §2) and its safe answers to
//! misuse (docs/DESIGN.md §5), driven through the C entry points from Rust.

mod common;
use common::*;
use memremap::ffi;
use memremap::types::*;
use std::sync::atomic::Ordering;
use std::time::Instant;

#[test]
fn request_put_pins_and_frees_once() {
    let _s = serial();
    memremap::warn::rearm();
    let w = warns();
    let mut p = pgmap::<0>(MEMORY_DEVICE_PRIVATE, &[(GIB, GIB + MIB2 - 1)]);
    p.pgmap.ops = &OPS;
    p.pgmap.owner = &OWNER as *const _ as *mut _;
    map(&mut p);
    assert_eq!(pins(&mut p), 0);
    let f = request(&mut p, 7, 0);
    assert!(!f.is_null());
    assert_eq!(pfn_of(f), (GIB >> 12) + 7);
    assert_eq!(refs(f), 1);
    assert_eq!(pins(&mut p), 1);
    let g = request(&mut p, 7, 0);
    assert_eq!(f, g);
    assert_eq!(refs(f), 2);
    assert_eq!(pins(&mut p), 1, "a folio in use pins once");
    let freed = FREED.load(Ordering::SeqCst);
    put(f);
    assert_eq!(FREED.load(Ordering::SeqCst), freed);
    put(f);
    assert_eq!(FREED.load(Ordering::SeqCst), freed + 1);
    assert_eq!(LAST_FREED.load(Ordering::SeqCst), f as usize);
    assert_eq!(refs(f), 0);
    assert_eq!(pins(&mut p), 0);
    assert_eq!(warns(), w);
    // A put of an idle folio WARNs and changes nothing.
    put(f);
    assert_eq!(warns(), w + 1);
    assert_eq!(refs(f), 0);
    assert_eq!(FREED.load(Ordering::SeqCst), freed + 1);
    unmap(&mut p);
    // SAFETY: valid pgmap.
    assert!(!unsafe { ffi::memremap_pgmap_is_mapped(&mut p.pgmap) });
    // Requests and a second unmap after unmap: WARN, NULL, nothing else.
    let w = warns();
    assert!(request(&mut p, 7, 0).is_null());
    unmap(&mut p);
    assert_eq!(warns(), w + 2);
}

#[test]
fn validation_table() {
    let _s = serial();
    memremap::warn::set_quiet(true);
    type Case<'a> = (u32, &'a [(u64, u64)], i64);
    let cases: &[Case] = &[
        (MEMORY_DEVICE_GENERIC, &[], -libc::EINVAL as i64),
        (
            MEMORY_DEVICE_GENERIC,
            &[(GIB, GIB - 1)],
            -libc::EINVAL as i64,
        ),
        (
            MEMORY_DEVICE_GENERIC,
            &[(GIB, GIB - 2)],
            -libc::EINVAL as i64,
        ),
        (
            MEMORY_DEVICE_GENERIC,
            &[(GIB + 4096, GIB + MIB2 + 4095)],
            -libc::EINVAL as i64,
        ),
        (
            MEMORY_DEVICE_GENERIC,
            &[(GIB, GIB + 4095)],
            -libc::EINVAL as i64,
        ),
        (
            MEMORY_DEVICE_GENERIC,
            &[(1 << 52, (1 << 52) + MIB2 - 1)],
            -libc::E2BIG as i64,
        ),
        (
            MEMORY_DEVICE_GENERIC,
            &[((1 << 52) - MIB2, (1 << 52) - 1)],
            0,
        ),
        (
            MEMORY_DEVICE_PRIVATE,
            &[(GIB, GIB + MIB2 - 1)],
            -libc::EINVAL as i64,
        ),
        (
            MEMORY_DEVICE_COHERENT,
            &[(GIB, GIB + MIB2 - 1)],
            -libc::EINVAL as i64,
        ),
        (99, &[(GIB, GIB + MIB2 - 1)], 0),
    ];
    for (i, (ty, ranges, want)) in cases.iter().enumerate() {
        let mut p = pgmap::<1>(*ty, ranges);
        let got = try_map(&mut p);
        assert_eq!(got, *want, "case {i}");
        if got == 0 {
            unmap(&mut p);
        }
    }
    // Conflicts: with another pgmap, and between a pgmap's own ranges; a
    // failure part-way leaves nothing mapped.
    let mut a = pgmap::<0>(MEMORY_DEVICE_GENERIC, &[(GIB, GIB + 4 * MIB2 - 1)]);
    map(&mut a);
    let mut b = pgmap::<1>(
        MEMORY_DEVICE_GENERIC,
        &[
            (8 * GIB, 8 * GIB + MIB2 - 1),
            (GIB + MIB2, GIB + 2 * MIB2 - 1),
        ],
    );
    assert_eq!(try_map(&mut b), -libc::ENOMEM as i64);
    assert!(ffi::memremap_pfn_owner((8 * GIB) >> 12).is_null());
    let mut c = pgmap::<1>(
        MEMORY_DEVICE_GENERIC,
        &[
            (8 * GIB, 8 * GIB + 2 * MIB2 - 1),
            (8 * GIB + MIB2, 8 * GIB + 3 * MIB2 - 1),
        ],
    );
    assert_eq!(try_map(&mut c), -libc::ENOMEM as i64);
    unmap(&mut a);
    memremap::warn::set_quiet(false);
}

#[test]
fn compound_folios_and_orders() {
    let _s = serial();
    memremap::warn::set_quiet(true);
    memremap::warn::rearm();
    let mut p = pgmap::<0>(MEMORY_DEVICE_GENERIC, &[(4 * GIB, 4 * GIB + 4 * MIB2 - 1)]);
    p.pgmap.vmemmap_shift = 9;
    map(&mut p);
    let f = request(&mut p, 512, 9);
    assert!(!f.is_null());
    // SAFETY: library folio.
    unsafe {
        assert_eq!(ffi::folio_order(f), 9);
        assert_eq!(ffi::folio_nr_pages(f), 512);
        let tail = ffi::folio_page(f, 100);
        assert_eq!(ffi::page_folio(tail), f);
        assert!(ffi::PageTail(tail));
        assert_eq!(ffi::page_to_pfn(tail), ffi::folio_pfn(f) + 100);
        assert_eq!(
            ffi::folio_next(f) as usize,
            ffi::folio_page(f, 512) as usize
        );
    }
    let w = warns();
    assert!(request(&mut p, 512, 0).is_null(), "wrong order");
    assert!(request(&mut p, 513, 9).is_null(), "a tail is not a folio");
    assert!(request(&mut p, 0, -1).is_null());
    assert!(request(&mut p, 0, i32::MAX).is_null());
    assert!(warns() > w);
    put(f);
    assert_eq!(pins(&mut p), 0);
    unmap(&mut p);
    // Folios larger than a memmap chunk (order 12: 16 MiB).
    let mut q = pgmap::<0>(
        MEMORY_DEVICE_GENERIC,
        &[(64 * GIB, 64 * GIB + 32 * MIB2 - 1)],
    );
    q.pgmap.vmemmap_shift = 12;
    map(&mut q);
    let f = request(&mut q, 4096, 12);
    assert!(!f.is_null());
    // SAFETY: library folio.
    unsafe {
        let tail = ffi::folio_page(f, 4000);
        assert_eq!(ffi::page_folio(tail), f);
        assert_eq!(ffi::folio_order(f), 12);
    }
    put(f);
    unmap(&mut q);
    memremap::warn::set_quiet(false);
}

#[test]
fn altmap_pfns_are_not_pages() {
    let _s = serial();
    memremap::warn::set_quiet(true);
    let mut p = pgmap::<0>(MEMORY_DEVICE_FS_DAX, &[(2 * GIB, 2 * GIB + MIB2 - 1)]);
    p.pgmap.flags = PGMAP_ALTMAP_VALID;
    p.pgmap.altmap.reserve = 8;
    p.pgmap.altmap.free = 8;
    map(&mut p);
    let base = (2 * GIB) >> 12;
    // SAFETY: valid pgmap.
    unsafe {
        assert!(!ffi::pgmap_pfn_valid(&mut p.pgmap, base + 15));
        assert!(ffi::pgmap_pfn_valid(&mut p.pgmap, base + 16));
        assert_eq!(ffi::pfn_to_pgmap_offset(&mut p.pgmap, base + 15), 15);
    }
    assert!(request(&mut p, 3, 0).is_null());
    let f = request(&mut p, 16, 0);
    assert!(!f.is_null());
    put(f);
    unmap(&mut p);
    memremap::warn::set_quiet(false);
}

#[test]
fn a_tebibyte_maps_fast_and_small() {
    let _s = serial();
    let mut p = pgmap::<0>(
        MEMORY_DEVICE_GENERIC,
        &[(1 << 44, (1 << 44) + (1 << 40) - 1)],
    );
    let bytes = ffi::memremap_memmap_bytes();
    let t = Instant::now();
    map(&mut p);
    let took = t.elapsed();
    let f = request(&mut p, (1 << 28) - 1, 0);
    assert!(!f.is_null());
    let grown = ffi::memremap_memmap_bytes() - bytes;
    assert!(grown < 4 << 20, "memmap grew by {grown} bytes");
    put(f);
    unmap(&mut p);
    // Generous bound: the point is O(nr_range), not O(pages).
    assert!(took.as_millis() < 50, "memremap_pages took {took:?}");
}

#[test]
fn get_dev_pagemap_and_kill() {
    let _s = serial();
    memremap::warn::set_quiet(true);
    let mut p = pgmap::<0>(MEMORY_DEVICE_GENERIC, &[(3 * GIB, 3 * GIB + MIB2 - 1)]);
    map(&mut p);
    let pfn = (3 * GIB) >> 12;
    let me = &mut p.pgmap as *mut DevPagemap;
    let got = ffi::memremap_pfn_owner(pfn);
    assert_eq!(got, me);
    // SAFETY: valid pgmap pointers.
    unsafe {
        assert_eq!(ffi::get_dev_pagemap(pfn + 1, std::ptr::null_mut()), me);
        assert_eq!(pins(&mut p), 1);
        assert_eq!(ffi::get_dev_pagemap(pfn + 2, me), me);
        assert_eq!(pins(&mut p), 1);
        assert!(ffi::get_dev_pagemap(pfn + 512, me).is_null());
        assert_eq!(pins(&mut p), 0);
        assert!(ffi::get_dev_pagemap(pfn - 1, std::ptr::null_mut()).is_null());
        let f = request(&mut p, 1, 0);
        ffi::percpu_ref_kill(&mut p.pgmap.ref_);
        assert!(ffi::get_dev_pagemap(pfn, std::ptr::null_mut()).is_null());
        let w = warns();
        assert!(request(&mut p, 2, 0).is_null(), "dying");
        assert!(warns() > w);
        put(f);
    }
    unmap(&mut p);
    memremap::warn::set_quiet(false);
}

#[test]
fn unmap_with_references_gives_up_and_late_puts_are_safe() {
    let _s = serial();
    memremap::warn::set_quiet(true);
    ffi::memremap_set_wait_bound_ms(50);
    let mut p = pgmap::<0>(MEMORY_DEVICE_GENERIC, &[(5 * GIB, 5 * GIB + MIB2 - 1)]);
    map(&mut p);
    let f = request(&mut p, 9, 0);
    let w = warns();
    let t = Instant::now();
    unmap(&mut p);
    assert!(t.elapsed().as_millis() < 5000);
    assert_eq!(warns(), w + 1);
    let last = memremap::warn::last().unwrap();
    assert!(
        last.message
            .contains(&format!("{:#x}", ((5 * GIB) >> 12) + 9)),
        "{}",
        last.message
    );
    // SAFETY: valid pgmap.
    assert!(unsafe { ffi::memremap_pgmap_is_abandoned(&mut p.pgmap) });
    put(f);
    assert_eq!(refs(f), 0);
    ffi::memremap_set_wait_bound_ms(10_000);
    memremap::warn::set_quiet(false);
    // The pgmap stays dead but registered: keep its memory for the process.
    std::mem::forget(p);
}

#[test]
fn two_threads_racing_request_and_put() {
    let _s = serial();
    let mut p = pgmap::<0>(MEMORY_DEVICE_GENERIC, &[(6 * GIB, 6 * GIB + MIB2 - 1)]);
    map(&mut p);
    let addr = &mut p.pgmap as *mut DevPagemap as usize;
    std::thread::scope(|s| {
        for t in 0..2u64 {
            s.spawn(move || {
                for i in 0..20_000u64 {
                    // Half the time the same folio, half distinct ones.
                    let off = if i % 2 == 0 { 0 } else { 1 + t };
                    // SAFETY: the pgmap outlives the scope.
                    let f = unsafe { ffi::pgmap_request_folio(addr as *mut DevPagemap, off, 0) };
                    assert!(!f.is_null());
                    put(f);
                }
            });
        }
    });
    assert_eq!(pins(&mut p), 0);
    for off in 0..3 {
        let f = request(&mut p, off, 0);
        assert_eq!(refs(f), 1);
        put(f);
    }
    unmap(&mut p);
}

#[test]
fn pfn_to_page_of_nothing_is_the_poison_page() {
    let _s = serial();
    memremap::warn::set_quiet(true);
    let w = warns();
    let p = ffi::pfn_to_page(u64::MAX);
    assert_eq!(p, ffi::memremap_poison_page());
    let q = ffi::pfn_to_page(12345);
    assert_eq!(q, p);
    assert_eq!(warns(), w + 2);
    // SAFETY: the poison page is a valid page.
    unsafe {
        assert!(!ffi::is_zone_device_page(p));
        assert_eq!(ffi::page_to_pfn(p), u64::MAX);
        assert_eq!(ffi::page_folio(p) as usize, p as usize);
    }
    memremap::warn::set_quiet(false);
}

#[test]
fn a_generation_tag_follows_successful_registrations_only() {
    let _s = serial();
    memremap::warn::set_quiet(true);
    let mut p = pgmap::<0>(MEMORY_DEVICE_GENERIC, &[(5 * GIB, 5 * GIB + MIB2 - 1)]);
    let gen_of = |p: &mut Pgmap<0>| {
        // SAFETY: `p` is a valid pgmap, alive for the test.
        unsafe { ffi::memremap_pgmap_generation(&mut p.pgmap) }
    };
    let map_gen = |p: &mut Pgmap<0>, gen: u32| {
        // SAFETY: as above.
        unsafe { ffi::memremap_pages_gen(&mut p.pgmap, 0, gen) as isize }
    };
    // MEMREMAP_GEN_6_15 = 2, MEMREMAP_GEN_6_19 = 4.
    let r = map_gen(&mut p, 2);
    assert!(
        r != 0 && !(-4095..0).contains(&r),
        "memremap_pages_gen: {r}"
    );
    assert_eq!(gen_of(&mut p), 2);
    // Refused registrations of the mapped pgmap leave its tag alone.
    let w = warns();
    assert_eq!(try_map(&mut p), -libc::EBUSY as i64);
    assert_eq!(map_gen(&mut p, 4), -libc::EBUSY as isize);
    assert_eq!(warns(), w + 2);
    assert_eq!(gen_of(&mut p), 2, "a refused registration changed the tag");
    unmap(&mut p);
    // The seed's registration of the same struct makes a seed pgmap.
    map(&mut p);
    assert_eq!(gen_of(&mut p), 0);
    unmap(&mut p);
    memremap::warn::set_quiet(false);
}
