// SPDX-License-Identifier: GPL-2.0-only
//! The memmap's unit tests.

use super::*;

#[test]
fn a_span_makes_pages_on_demand_and_takes_them_away() {
    // A pfn stretch no other test uses, past what C tests map.
    let start = 1u64 << 38;
    let span = Span {
        pgmap: 0x1000,
        start_pfn: start,
        end_pfn: start + 2 * CHUNK_PAGES as u64 - 1,
        first_pfn: start + 2,
        shift: 1,
    };
    {
        let mut t = spans_mut();
        assert_eq!(t.overlap(start, start), None);
        t.add(span);
        assert_eq!(t.overlap(start + 5, start + 5), Some(span));
    }
    assert!(
        lookup(start + 700).is_none(),
        "nothing before it is asked for"
    );
    let head = page_of(start + 700).unwrap();
    assert_eq!(page_to_pfn(head), Some(start + 700));
    assert!(is_zone_device(head));
    assert_eq!(head.pgmap(), 0x1000);
    assert_eq!(first_tail(head).compound_order(), 1);
    let tail = page_of(start + 701).unwrap();
    assert_eq!(tail.compound_head(), head as *const Page as usize | 1);
    assert_eq!(
        spans().chunks_of(0x1000),
        1,
        "only the chunk asked for exists"
    );
    let altmap = page_of(start).unwrap();
    assert!(
        !is_zone_device(altmap),
        "the altmap's pfns are no ZONE_DEVICE page"
    );
    assert!(page_of(start + 2 * CHUNK_PAGES as u64).is_none());
    remove_spans(0x1000);
    assert!(lookup(start + 700).is_none());
    assert!(
        page_of(start + 700).is_none(),
        "a removed span makes nothing"
    );
    assert_eq!(page_to_pfn(head), None);
}

#[test]
fn a_chunk_comes_back_only_to_its_own_identity() {
    let _g = crate::test_serial();
    let start = 3u64 << 38;
    let span = |pgmap| Span {
        pgmap,
        start_pfn: start,
        end_pfn: start + CHUNK_PAGES as u64 - 1,
        first_pfn: start,
        shift: 0,
    };
    let map = |pgmap| {
        spans_mut().add(span(pgmap));
        let p = page_of(start + 9).unwrap();
        assert_eq!(p.pgmap(), pgmap);
        assert!(is_zone_device(p));
        assert_eq!(p.refcount.load(Ordering::Relaxed), 0);
        p as *const Page as usize
    };
    let a = map(0x2000);
    // A driver scribbles on its page; the next life must not see it.
    page_of(start + 9)
        .unwrap()
        .zone_device_data
        .store(77, Ordering::Relaxed);
    remove_spans(0x2000);
    // SAFETY: `a` is a page of an arena chunk, memory never unmapped.
    let stale = unsafe { &*(a as *const Page) };
    assert!(!is_zone_device(stale), "a retired page is no one's");
    assert_ne!(stale.pgmap(), 0x2000);
    assert_eq!(page_to_pfn(stale), None);
    // Another pgmap on the same pfns gets other memory...
    let b = map(0x3000);
    assert_ne!(a, b, "a stale page never becomes another pgmap's");
    assert!(!is_zone_device(stale));
    remove_spans(0x3000);
    // ...and the same one its own, rewritten whole.
    let again = map(0x2000);
    assert_eq!(again, a);
    assert_eq!(stale.zone_device_data.load(Ordering::Relaxed), 0);
    assert_eq!(page_to_pfn(stale), Some(start + 9));
    remove_spans(0x2000);
}

/// A page's words, `_mapcount` and `_refcount` as the one word they share.
fn words(p: &Page) -> [u64; 8] {
    let r = Ordering::Relaxed;
    [
        p.flags.load(r),
        p.pgmap_or_compound_head.load(r) as u64,
        p.zone_device_data.load(r) as u64,
        p.mapping.load(r) as u64,
        p.index.load(r) as u64,
        p.private.load(r) as u64,
        p.mapcount.load(r) as u32 as u64 | (p.refcount.load(r) as u32 as u64) << 32,
        p.memcg_data.load(r) as u64,
    ]
}

/// Page `pfn` of `span` (its chunk live) written the plain way, alone, with
/// no copy: what `ensure_chunk()`'s runs must reproduce word for word.
fn plain(span: &Span, modern: bool, pfn: u64) -> [u64; 8] {
    let z = || AtomicUsize::new(0);
    let p = Page {
        flags: AtomicU64::new(0),
        pgmap_or_compound_head: z(),
        zone_device_data: z(),
        mapping: z(),
        index: z(),
        private: z(),
        mapcount: AtomicI32::new(0),
        refcount: AtomicI32::new(0),
        memcg_data: z(),
    };
    let section = ((pfn >> CHUNK_SHIFT) & SECTION_MASK) << SECTION_SHIFT;
    let device = section | (ZONE_DEVICE << ZONES_SHIFT) | PG_RESERVED;
    let shift = span.shift;
    let head = span.first_pfn + (((pfn.max(span.first_pfn) - span.first_pfn) >> shift) << shift);
    if pfn < span.first_pfn || pfn > span.end_pfn {
        write_page(&p, section, 0, 0);
    } else if shift == 0 {
        write_page(&p, device, span.pgmap, 0);
    } else if head == pfn {
        let flag = if modern {
            crate::generation::PG_HEAD_MODERN
        } else {
            PG_HEAD
        };
        write_page(&p, device | flag, span.pgmap, 0);
    } else {
        let head_addr = lookup(head).unwrap() as *const Page as usize;
        write_page(&p, device, head_addr | 1, TAIL_MAPPING);
        if modern {
            crate::generation::prep_tail_modern(&p, head_addr, pfn - head, shift);
        } else if pfn == head + 1 {
            let order = (shift as usize) << 8;
            p.zone_device_data.store(
                COMPOUND_PAGE_DTOR | order | 0xffff_ffff << 32,
                Ordering::Relaxed,
            );
            p.mapping.store(1 << (shift + 32), Ordering::Relaxed);
        }
    }
    words(&p)
}

#[test]
fn runs_write_every_page_as_writing_it_alone_would() {
    use crate::generation::{tag, untag, Gen};
    let _g = crate::test_serial();
    let mut case = 0u64;
    for shift in [0u32, 1, 2, 3, 5, 9, 10, 11] {
        for modern in [false, true] {
            for reserve in [0u64, 64.max(1 << shift), 3 << shift] {
                case += 1;
                let (pgmap, start) = (0x9000 + case as usize * 0x100, (2 << 38) + (case << 16));
                let n = (4u64 << shift).max(4 * CHUNK_PAGES as u64);
                let span = Span {
                    pgmap,
                    start_pfn: start,
                    end_pfn: start + n - 1,
                    first_pfn: start + reserve,
                    shift,
                };
                if modern {
                    tag(pgmap, Gen::V6_15, false);
                }
                // Twice: a fresh chunk, then the same identity's own,
                // poisoned since.
                for life in 0..2 {
                    spans_mut().add(span);
                    for pfn in start..=span.end_pfn {
                        page_of(pfn).unwrap();
                    }
                    for pfn in start..=span.end_pfn {
                        assert_eq!(
                            words(lookup(pfn).unwrap()),
                            plain(&span, modern, pfn),
                            "shift {shift}, modern {modern}, reserve {reserve}, life {life}, \
                             page {}",
                            pfn - start
                        );
                    }
                    remove_spans(pgmap);
                }
                untag(pgmap);
            }
        }
    }
}

#[test]
fn a_chunk_is_read_while_its_hint_says_a_page_may_be_referenced() {
    let start = (1u64 << 38) + (1 << 30);
    let pgmap = 0x3000;
    spans_mut().add(Span {
        pgmap,
        start_pfn: start,
        end_pfn: start + CHUNK_PAGES as u64 - 1,
        first_pfn: start,
        shift: 0,
    });
    let read = || {
        let mut v = Vec::new();
        spans().for_each_referenced_page_of(pgmap, |pfn, _, n| v.push((pfn, n)));
        v
    };
    let p = page_of(start + 7).unwrap();
    let hint = chunk_hint(p).expect("an arena chunk has a hint");
    assert_eq!(read(), []);
    // The way every library path takes a count from 0: an RMW, then note.
    assert_eq!(p.refcount.fetch_add(1, Ordering::AcqRel), 0);
    note_referenced(p);
    assert!(hint.load(Ordering::Acquire));
    assert_eq!(read(), [(start + 7, 1)]);
    assert!(
        hint.load(Ordering::Acquire),
        "a read that finds one keeps it"
    );
    p.refcount.fetch_sub(1, Ordering::AcqRel);
    assert_eq!(read(), []);
    assert!(!hint.load(Ordering::Acquire), "an idle chunk's hint clears");
    // Skipped now: a count written without the note is not seen (the rule
    // the library's writers keep), and the next noted step shows both.
    page_of(start + 9)
        .unwrap()
        .refcount
        .fetch_add(2, Ordering::AcqRel);
    assert_eq!(read(), []);
    assert_eq!(p.refcount.fetch_add(1, Ordering::AcqRel), 0);
    note_referenced(p);
    assert_eq!(read(), [(start + 7, 1), (start + 9, 2)]);
    remove_spans(pgmap);
}
