// SPDX-License-Identifier: GPL-2.0-only
//! Findings: each defect of the patch on its minimal input, one test each
//! (docs/FINDINGS.md numbers them), and the kill-against-request race run
//! for real on the library.

use crate::capi::{
    folio_at, pfn_of, put, ref_after_set_tryget_hook, ref_before_folio_span_valid, refcount,
    take_freed, warns, Api, Side,
};
use crate::common::serial;
use crate::fixture::{hold, in_child, last_warn_at, last_warn_says, measure, Fixture, Quiet};
use crate::{GIB_PFN, MINUS_ONE, SUB};
use memremap::ffi::{self, Folio};
use memremap::types::*;
use std::ptr::null_mut;

/// Finding 1. An offset past the end: pgmap_offset_to_pfn() says -1 and
/// the C goes on with pfn_to_page(-1), then WARNs that the page it got is
/// not the pgmap's. The library WARNs once, naming the offset.
#[test]
fn finding_offset_past_the_end() {
    let _s = serial();
    let _q = Quiet::new();
    let mut fx = Fixture::new(MEMORY_DEVICE_GENERIC, 0, &[(GIB_PFN, SUB)]);
    let (c, l) = (fx.api(Side::Ref), fx.api(Side::Lib));
    assert_eq!(c.offset_to_pfn(SUB), MINUS_ONE);
    // pfn_to_page(-1) alone: one WARN, the poison page.
    let (page, w, _) = measure(|| ffi::pfn_to_page(MINUS_ONE));
    assert_eq!((page, w), (ffi::memremap_poison_page(), 1));
    let (f, w, freed) = measure(|| c.request(SUB, 0));
    assert!(f.is_null());
    assert_eq!(w, 2, "pfn_to_page(-1)'s WARN and the seed's own");
    last_warn_at("after.c", "WARN_ON_ONCE(page->pgmap != pgmap)");
    assert!(freed.is_empty());
    let (f, w, freed) = measure(|| l.request(SUB, 0));
    assert!(f.is_null());
    assert_eq!(w, 1);
    last_warn_says("pgmap_request_folio", "past the end");
    assert!(freed.is_empty());
    assert_eq!(refcount(folio_at(GIB_PFN + SUB - 1)), 0);
    assert_eq!(fx.pins(), 0);
}

/// Finding 2. `PFN_PHYS()` wraps: offset `1 << 52` is offset 0 to the C,
/// which hands out (and pins) the pgmap's first folio; `(1 << 52) + 5` is
/// offset 5. The library says -1 and NULL.
#[test]
fn finding_offset_at_2_pow_52_aliases() {
    let _s = serial();
    let _q = Quiet::new();
    let mut fx = Fixture::new(MEMORY_DEVICE_GENERIC, 0, &[(GIB_PFN, SUB)]);
    let (c, l) = (fx.api(Side::Ref), fx.api(Side::Lib));
    for k in [0, 5] {
        let off = (1u64 << 52) + k;
        assert_eq!(c.offset_to_pfn(off), GIB_PFN + k);
        let (f, w, _) = measure(|| c.request(off, 0));
        assert!(!f.is_null());
        assert_eq!((pfn_of(f), refcount(f), w), (GIB_PFN + k, 1, 0));
        assert_eq!(fx.pins(), 1);
        put(f);
        assert_eq!(fx.pins(), 0);
        let (lw, w, _) = measure(|| l.offset_to_pfn(off));
        assert_eq!((lw, w), (MINUS_ONE, 0));
        let (f, w, _) = measure(|| l.request(off, 0));
        assert!(f.is_null());
        assert_eq!(w, 1);
        last_warn_says("pgmap_request_folio", "past the end");
        assert_eq!(refcount(folio_at(GIB_PFN + k)), 0);
        assert_eq!(fx.pins(), 0);
    }
}

/// Finding 3. `PFN_PHYS()` wraps in pfn_to_pgmap_offset() too: pfn
/// `(1 << 52) + p` is pfn p to the C. With the callers' idiom,
/// `pgmap_request_folio(pgmap, pfn_to_pgmap_offset(pgmap, pfn), 0)`, a
/// bogus pfn gets someone's folio. The library says -1, and the request
/// fails with a WARN.
#[test]
fn finding_pfn_above_2_pow_52_aliases() {
    let _s = serial();
    let _q = Quiet::new();
    let mut fx = Fixture::new(MEMORY_DEVICE_GENERIC, 0, &[(GIB_PFN, SUB)]);
    let (c, l) = (fx.api(Side::Ref), fx.api(Side::Lib));
    let pfn = (1u64 << 52) + GIB_PFN + 7;
    assert_eq!(c.pfn_to_offset(pfn), 7);
    let (f, w, _) = measure(|| c.request(c.pfn_to_offset(pfn), 0));
    assert!(!f.is_null());
    assert_eq!((pfn_of(f), refcount(f), w), (GIB_PFN + 7, 1, 0));
    put(f);
    let (o, w, _) = measure(|| l.pfn_to_offset(pfn));
    assert_eq!((o, w), (MINUS_ONE, 0));
    let (f, w, _) = measure(|| l.request(l.pfn_to_offset(pfn), 0));
    assert!(f.is_null());
    assert_eq!(w, 1);
    assert_eq!(refcount(folio_at(GIB_PFN + 7)), 0);
    assert_eq!(fx.pins(), 0);
}

/// Finding 4. The converted callers pass pfn_to_pgmap_offset()'s -1 straight
/// in: for a pfn outside the pgmap the C goes to pfn_to_page(-1) (two
/// WARNs, NULL) and the callers then use `&folio->page`. The library WARNs
/// once and returns NULL.
#[test]
fn finding_callers_pass_minus_one() {
    let _s = serial();
    let _q = Quiet::new();
    let mut fx = Fixture::new(MEMORY_DEVICE_PRIVATE, 0, &[(GIB_PFN, SUB)]);
    let (c, l) = (fx.api(Side::Ref), fx.api(Side::Lib));
    let outside = GIB_PFN - 1;
    assert_eq!(c.pfn_to_offset(outside), MINUS_ONE);
    let (f, w, freed) = measure(|| c.request(c.pfn_to_offset(outside), 0));
    assert!(f.is_null());
    assert_eq!(w, 2, "pfn_to_page(-1)'s WARN and the seed's own");
    last_warn_at("after.c", "WARN_ON_ONCE(page->pgmap != pgmap)");
    assert!(freed.is_empty());
    assert_eq!(l.pfn_to_offset(outside), MINUS_ONE);
    let (f, w, freed) = measure(|| l.request(l.pfn_to_offset(outside), 0));
    assert!(f.is_null());
    assert_eq!(w, 1);
    last_warn_says("pgmap_request_folio", "0xffffffffffffffff");
    assert!(freed.is_empty());
    assert_eq!(fx.pins(), 0);
}

/// Finding 5. The pre-patch pgmap_release_folios() advances with
/// `folio_next(folio)`: for 3 folios it puts the first once, the second
/// twice and never the third. With each folio held twice, the second is
/// freed back to the driver while its holder still has it (silently),
/// and the third keeps a reference no one holds. With each held once, the
/// second is put at 0 and the third leaks its pin. The library puts each
/// folio once.
#[test]
fn finding_pre_patch_release_walks_the_second_folio() {
    let _s = serial();
    let _q = Quiet::new();
    for held in [2usize, 1] {
        let mut fx = Fixture::new(MEMORY_DEVICE_GENERIC, 0, &[(GIB_PFN, SUB)]);
        let f = hold(&mut fx, &[0, 1, 2], held);
        let ((), w, freed) = measure(|| fx.api(Side::Ref).release_folios(f[0], 3));
        let h = held as i32;
        let counts: Vec<i32> = f.iter().map(|&g| refcount(g)).collect();
        if held == 2 {
            assert_eq!(counts, [1, 0, 2]);
            assert_eq!(freed, [GIB_PFN + 1], "a folio in use is freed");
            assert_eq!(w, 0, "silently");
            assert_eq!(fx.pins(), 2);
        } else {
            assert_eq!(counts, [0, 0, 1]);
            assert_eq!(freed, [GIB_PFN, GIB_PFN + 1]);
            assert_eq!(w, 1, "the second put of folio 1, at 0");
            last_warn_says("folio_put", "nothing to drop");
            assert_eq!(fx.pins(), 1, "folio 2's pin leaks");
        }
        for (g, n) in f.iter().zip(counts) {
            for _ in 0..n {
                put(*g);
            }
        }
        drop(fx);
        let mut fx = Fixture::new(MEMORY_DEVICE_GENERIC, 0, &[(GIB_PFN, SUB)]);
        let f = hold(&mut fx, &[0, 1, 2], held);
        let ((), w, freed) = measure(|| fx.api(Side::Lib).release_folios(f[0], 3));
        let counts: Vec<i32> = f.iter().map(|&g| refcount(g)).collect();
        assert_eq!(counts, [h - 1; 3]);
        assert_eq!(w, 0);
        let want: Vec<u64> = if held == 1 {
            (0..3).map(|k| GIB_PFN + k).collect()
        } else {
            Vec::new()
        };
        assert_eq!(freed, want);
        assert_eq!(fx.pins(), 3 * i64::from(h - 1));
        for g in &f {
            for _ in 1..held {
                put(*g);
            }
        }
    }
}

/// Finding 6. The pre-patch pgmap_request_folios() checks the order of the
/// second folio `nr_folios - 1` times and never the third: a span whose
/// third folio is another pgmap's (order 0 after two of order 9) is taken.
/// The C raises the foreign folio and pins its own pgmap for it; putting
/// that folio back then drops a pin of the other pgmap that was never
/// taken, and leaves one on this pgmap that no folio holds. Its only
/// warning is the VM_WARN_ON_ONCE of folio_span_valid() (CONFIG_DEBUG_VM),
/// which does not stop it. The library refuses the span.
#[test]
fn finding_pre_patch_request_checks_the_second_folio_only() {
    let _s = serial();
    let _q = Quiet::new();
    let x = GIB_PFN;
    let mut a = Fixture::new(MEMORY_DEVICE_GENERIC, 9, &[(x, 2 * SUB)]);
    let mut b = Fixture::new(MEMORY_DEVICE_GENERIC, 0, &[(x + 2 * SUB, SUB)]);
    let f: Vec<*mut Folio> = [x, x + SUB, x + 2 * SUB].map(folio_at).to_vec();
    let (ok, w, _) = measure(|| a.api(Side::Ref).request_folios(f[0], 3));
    assert!(ok);
    assert_eq!(w, 1);
    last_warn_at(
        "before.c",
        "VM_WARN_ON_ONCE(!folio_span_valid(pgmap, folio, nr_folios));",
    );
    assert_eq!(
        f.iter().map(|&g| refcount(g)).collect::<Vec<_>>(),
        [1, 1, 1]
    );
    assert_eq!((a.pins(), b.pins()), (3, 0));
    let ((), _, freed) = measure(|| put(f[2]));
    assert_eq!(freed, [x + 2 * SUB]);
    assert_eq!(b.pins(), -1, "the other pgmap lost a pin it never gave");
    put(f[0]);
    put(f[1]);
    assert_eq!(a.pins(), 1, "a pin no folio holds");
    a.api(Side::Lib).ref_put(1);
    b.api(Side::Lib).ref_get(1);
    let (ok, w, freed) = measure(|| a.api(Side::Lib).request_folios(f[0], 3));
    assert!(!ok);
    assert_eq!(w, 1);
    last_warn_says("pgmap_request_folios", "folio_span_valid");
    assert!(freed.is_empty());
    assert_eq!(
        f.iter().map(|&g| refcount(g)).collect::<Vec<_>>(),
        [0, 0, 0]
    );
    assert_eq!((a.pins(), b.pins()), (0, 0));
}

/// Finding 7. folio_span_valid() looks at the span's two ends only: a span
/// from the pgmap's first range to its second, across another pgmap
/// mapped between them, is "valid"; so is any span of `nr_folios <= 0`
/// (and pgmap_request_folios() then says it succeeded). The library
/// refuses both, with a WARN.
#[test]
fn finding_folio_span_valid_checks_only_the_ends() {
    let _s = serial();
    let _q = Quiet::new();
    let x = GIB_PFN;
    let mut a = Fixture::new(MEMORY_DEVICE_GENERIC, 0, &[(x, SUB), (x + 2 * SUB, SUB)]);
    let _b = Fixture::new(MEMORY_DEVICE_GENERIC, 0, &[(x + SUB, SUB)]);
    let f = folio_at(x);
    for nr in [3 * SUB as i32, 0, -1] {
        // SAFETY: `a` is mapped and `f` is its first folio; the function
        // only reads the memmap and the registry.
        assert!(unsafe { ref_before_folio_span_valid(a.ptr(), f, nr) });
    }
    let (ok, w, _) = measure(|| a.api(Side::Ref).request_folios(f, 0));
    assert!(ok, "nothing requested, success reported");
    assert_eq!(w, 0);
    for nr in [3 * SUB as i32, 0, -1] {
        let (ok, w, freed) = measure(|| a.api(Side::Lib).request_folios(f, nr));
        assert!(!ok);
        assert_eq!(w, 1);
        assert!(freed.is_empty());
        assert_eq!(refcount(f), 0);
        assert_eq!(a.pins(), 0);
    }
}

pub unsafe extern "C" fn kill_before_tryget(r: *mut PercpuRef) {
    // SAFETY: the reference passes `&pgmap->ref` of a mapped pgmap.
    unsafe { ffi::percpu_ref_kill(r) }
}

/// Finding 8. When percpu_ref_tryget() fails after the 0 -> 1 increment,
/// the C's failure path folio_put()s the folio: page_free() runs for a
/// page never handed out, and put_dev_pagemap() drops a pin that was never
/// taken. Shown two ways: the race itself (memunmap_pages()'s kill landing
/// between the dying check and the tryget, through the reference's test
/// hook), and an injected tryget failure on a live pgmap, where the lost
/// pin leaves the pgmap's count one short. The library takes the pin
/// before it moves the count, so neither happens.
#[test]
fn finding_failed_tryget_frees_a_folio_never_handed_out() {
    let _s = serial();
    let _q = Quiet::new();
    let mut fx = Fixture::new(MEMORY_DEVICE_PRIVATE, 0, &[(GIB_PFN, SUB)]);
    let c = fx.api(Side::Ref);
    // SAFETY: installs a hook the reference calls with &pgmap->ref.
    unsafe { ref_after_set_tryget_hook(Some(kill_before_tryget)) };
    let (f, w, freed) = measure(|| c.request(0, 0));
    // SAFETY: removes it.
    unsafe { ref_after_set_tryget_hook(None) };
    assert!(f.is_null());
    assert_eq!(freed, [GIB_PFN], "page_free() of a page never handed out");
    assert_eq!(w, 2, "the seed's WARN and the ref's underflow");
    last_warn_says("percpu_ref_put_many", "<= 0");
    assert_eq!(fx.pins(), 0);
    drop(fx);

    let mut fx = Fixture::new(MEMORY_DEVICE_PRIVATE, 0, &[(GIB_PFN, SUB)]);
    ffi::memremap_percpu_tryget_fail_nth(1);
    let (f, w, freed) = measure(|| fx.api(Side::Ref).request(0, 0));
    ffi::memremap_fail_none();
    assert!(f.is_null());
    assert_eq!(freed, [GIB_PFN], "page_free() of a page never handed out");
    assert_eq!(w, 1);
    last_warn_at("after.c", "WARN_ON_ONCE(!percpu_ref_tryget(&pgmap->ref))");
    assert_eq!(fx.pins(), -1, "a pin dropped that was never taken");
    fx.api(Side::Lib).ref_get(1);
    drop(fx);

    let mut fx = Fixture::new(MEMORY_DEVICE_PRIVATE, 0, &[(GIB_PFN, SUB)]);
    let l = fx.api(Side::Lib);
    ffi::memremap_percpu_tryget_fail_nth(1);
    let (f, w, freed) = measure(|| l.request(0, 0));
    ffi::memremap_fail_none();
    assert!(f.is_null());
    assert!(freed.is_empty());
    assert_eq!(w, 1);
    last_warn_says("pgmap_request_folio", "percpu_ref_tryget");
    assert_eq!(refcount(folio_at(GIB_PFN)), 0);
    assert_eq!(fx.pins(), 0);
    // The race's outcome for the library: the kill first, then NULL.
    l.kill();
    let (f, w, freed) = measure(|| l.request(0, 0));
    assert!(f.is_null());
    assert!(freed.is_empty());
    assert_eq!(w, 1);
    assert_eq!(refcount(folio_at(GIB_PFN)), 0);
}

/// Finding 9. A dying pgmap: the C translates pfns and offsets as if it
/// were live; the library WARNs and answers -1. (Requests agree: NULL and
/// one WARN on both sides.)
#[test]
fn finding_dying_pgmap_translates_in_c() {
    let _s = serial();
    let _q = Quiet::new();
    let mut fx = Fixture::new(MEMORY_DEVICE_FS_DAX, 0, &[(GIB_PFN, SUB)]);
    let (c, l) = (fx.api(Side::Ref), fx.api(Side::Lib));
    l.kill();
    let (o, w, _) = measure(|| c.pfn_to_offset(GIB_PFN + 3));
    assert_eq!((o, w), (3, 0));
    let (p, w, _) = measure(|| c.offset_to_pfn(3));
    assert_eq!((p, w), (GIB_PFN + 3, 0));
    let (o, w, _) = measure(|| l.pfn_to_offset(GIB_PFN + 3));
    assert_eq!((o, w), (MINUS_ONE, 1));
    last_warn_says("pfn_to_pgmap_offset", "dying");
    let (p, w, _) = measure(|| l.offset_to_pfn(3));
    assert_eq!((p, w), (MINUS_ONE, 1));
    last_warn_says("pgmap_offset_to_pfn", "dying");
    for api in [&c, &l] {
        let (f, w, _) = measure(|| api.request(3, 0));
        assert!(f.is_null());
        assert_eq!(w, 1);
    }
}

/// Finding 10. An unmapped pgmap (its struct still allocated): the C
/// translates as if it were mapped, and a request reaches pfn_to_page() of
/// a pfn nobody maps (two WARNs; a stale page in the kernel). The library
/// WARNs that the pgmap is not mapped.
#[test]
fn finding_unmapped_pgmap() {
    let _s = serial();
    let _q = Quiet::new();
    let mut fx = Fixture::new(MEMORY_DEVICE_GENERIC, 0, &[(GIB_PFN, SUB)]);
    let (c, l) = (fx.api(Side::Ref), fx.api(Side::Lib));
    // SAFETY: the fixture's mapped pgmap.
    unsafe { ffi::memunmap_pages(fx.ptr()) };
    let (o, w, _) = measure(|| c.pfn_to_offset(GIB_PFN + 3));
    assert_eq!((o, w), (3, 0));
    let (p, w, _) = measure(|| c.offset_to_pfn(3));
    assert_eq!((p, w), (GIB_PFN + 3, 0));
    let (f, w, _) = measure(|| c.request(3, 0));
    assert!(f.is_null());
    assert_eq!(
        w, 2,
        "pfn_to_page() of an unmapped pfn, and the seed's WARN"
    );
    last_warn_at("after.c", "WARN_ON_ONCE(page->pgmap != pgmap)");
    let (o, w, _) = measure(|| l.pfn_to_offset(GIB_PFN + 3));
    assert_eq!((o, w), (MINUS_ONE, 1));
    let (p, w, _) = measure(|| l.offset_to_pfn(3));
    assert_eq!((p, w), (MINUS_ONE, 1));
    let (f, w, _) = measure(|| l.request(3, 0));
    assert!(f.is_null());
    assert_eq!(w, 1);
    last_warn_says("pgmap_request_folio", "not mapped");
}

/// Finding 11. A NULL pgmap: the C dereferences it (in a child process
/// here; the kernel oopses); the library WARNs and returns NULL or -1.
#[test]
fn finding_null_pgmap_crashes_the_c() {
    let _s = serial();
    let _q = Quiet::new();
    let c = Api {
        side: Side::Ref,
        p: null_mut(),
    };
    let l = Api {
        side: Side::Lib,
        p: null_mut(),
    };
    assert_eq!(
        in_child(|| {
            c.request(0, 0);
        }),
        Some(libc::SIGSEGV)
    );
    assert_eq!(
        in_child(|| {
            c.pfn_to_offset(GIB_PFN);
        }),
        Some(libc::SIGSEGV)
    );
    let (f, w, _) = measure(|| l.request(0, 0));
    assert!(f.is_null());
    assert_eq!(w, 1);
    let (o, w, _) = measure(|| l.pfn_to_offset(GIB_PFN));
    assert_eq!((o, w), (MINUS_ONE, 1));
}

/// Finding 8, raced for real, on the library: one thread requests an idle
/// folio while another kills the pgmap (what memunmap_pages() does first).
/// Whatever the interleaving, the library hands out a folio (freed once,
/// when put) or returns NULL with one WARN, having freed nothing and
/// dropped no pin. (Run on the C, 2000 such rounds never hit its window
/// between the dying check and the tryget; finding 8 opens it on purpose.)
#[test]
fn race_kill_against_request() {
    let _s = serial();
    let _q = Quiet::new();
    for _ in 0..500 {
        let mut fx = Fixture::new(MEMORY_DEVICE_PRIVATE, 0, &[(GIB_PFN, SUB)]);
        let p = fx.ptr() as usize;
        let barrier = std::sync::Barrier::new(2);
        take_freed();
        memremap::warn::rearm();
        let w0 = warns();
        let api = |p: usize| Api {
            side: Side::Lib,
            p: p as *mut DevPagemap,
        };
        let null = std::thread::scope(|s| {
            s.spawn(|| {
                barrier.wait();
                api(p).kill();
            });
            barrier.wait();
            let f = api(p).request(0, 0);
            if !f.is_null() {
                put(f);
            }
            f.is_null()
        });
        let w = warns() - w0;
        let freed = take_freed();
        if null {
            assert_eq!((w, freed.len()), (1, 0), "a NULL must leave nothing behind");
        } else {
            assert_eq!((w, freed), (0, vec![folio_at(GIB_PFN) as usize]));
        }
        assert_eq!(fx.pins(), 0);
    }
}
