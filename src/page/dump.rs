// SPDX-License-Identifier: GPL-2.0-only
//! `dump_page()`: a page's state in the shape Linux 6.1's mm/debug.c
//! prints it, for WARNs about one page and for tests.
//!
//! ```text
//! page:<addr> refcount:R mapcount:M mapping:<addr> index:0xI pfn:0xP
//! head:<addr> order:O compound_mapcount:C compound_pincount:N   (compound)
//! memcg:<hex>                                                  (if set)
//! pgmap:<addr> zone_device_data:<addr>                         (ZONE_DEVICE)
//! flags: 0xF(name|name|section=S|zone=Z)
//! raw: four words of the page, twice
//! head: the head page's words, when the page is a tail
//! page dumped because: reason
//! ```
//!
//! The `pgmap:` line is ours (docs/DESIGN.md §5): the kernel's dump does
//! not print a ZONE_DEVICE page's pgmap or zone_device_data, and here they
//! are what a pgmap test asks about first. Pointers print in full (the
//! kernel's `%p` hashes them).

use super::{head, is_head, is_tail};
use crate::memmap::{self, SECTION_MASK, SECTION_SHIFT, ZONES_MASK, ZONES_SHIFT};
use crate::types::Page;
use std::fmt::Write;
use std::sync::atomic::Ordering;

/// Linux 6.1's `enum pageflags` names (x86_64), in the order
/// include/trace/events/mmflags.h lists them, with their bits.
const PAGEFLAG_NAMES: [(u32, &str); 24] = [
    (0, "locked"),
    (7, "waiters"),
    (8, "error"),
    (1, "referenced"),
    (2, "uptodate"),
    (3, "dirty"),
    (4, "lru"),
    (5, "active"),
    (6, "workingset"),
    (9, "slab"),
    (10, "owner_priv_1"),
    (11, "arch_1"),
    (12, "reserved"),
    (13, "private"),
    (14, "private_2"),
    (15, "writeback"),
    (16, "head"),
    (17, "mappedtodisk"),
    (18, "reclaim"),
    (19, "swapbacked"),
    (20, "unevictable"),
    (21, "mlocked"),
    (22, "uncached"),
    (23, "hwpoison"),
];

/// `NR_PAGEFLAGS`: the bits below it are flags, the fields sit above.
const NR_PAGEFLAGS: u32 = 24;

/// `%pGp`: the flags word, then its flags by name and its fields.
fn flags_string(flags: u64) -> String {
    let mut s = format!("{flags:#x}(");
    let mut main = flags & ((1 << NR_PAGEFLAGS) - 1);
    let mut names = Vec::new();
    for (bit, name) in PAGEFLAG_NAMES {
        if main & (1 << bit) != 0 {
            names.push(name.to_owned());
            main &= !(1 << bit);
        }
    }
    if main != 0 {
        names.push(format!("{main:#x}"));
    }
    names.push(format!(
        "section={}",
        (flags >> SECTION_SHIFT) & SECTION_MASK
    ));
    names.push(format!("zone={}", (flags >> ZONES_SHIFT) & ZONES_MASK));
    s.push_str(&names.join("|"));
    s.push(')');
    s
}

/// The eight words of `struct page`, as `print_hex_dump()` shows them.
fn raw_words(p: &Page) -> [u64; 8] {
    let mapcount = p.mapcount.load(Ordering::Relaxed) as u32 as u64;
    let refcount = p.refcount.load(Ordering::Relaxed) as u32 as u64;
    [
        p.flags.load(Ordering::Relaxed),
        p.pgmap_or_compound_head.load(Ordering::Relaxed) as u64,
        p.zone_device_data.load(Ordering::Relaxed) as u64,
        p.mapping.load(Ordering::Relaxed) as u64,
        p.index.load(Ordering::Relaxed) as u64,
        p.private.load(Ordering::Relaxed) as u64,
        refcount << 32 | mapcount,
        p.memcg_data.load(Ordering::Relaxed) as u64,
    ]
}

fn hex_dump(out: &mut String, prefix: &str, p: &Page) {
    for row in raw_words(p).chunks(4) {
        let words: Vec<String> = row.iter().map(|w| format!("{w:016x}")).collect();
        let _ = writeln!(out, "{prefix}{}", words.join(" "));
    }
}

fn addr(p: &Page) -> usize {
    p as *const Page as usize
}

/// `dump_page(page, reason)`, as text (each line ending in a newline).
pub fn render(page: &Page, reason: Option<&str>) -> String {
    let mut out = String::new();
    if memmap::is_poison(page) {
        let _ = writeln!(
            out,
            "page:{:016x} is uninitialized and poisoned",
            addr(page)
        );
    } else {
        body(&mut out, page);
    }
    if let Some(reason) = reason {
        let _ = writeln!(out, "page dumped because: {reason}");
    }
    out
}

fn body(out: &mut String, page: &Page) {
    // Only a page of a live chunk has fields worth decoding (and a head
    // that may be followed): anything else gets its words alone.
    let Some(pfn) = memmap::page_to_pfn(page) else {
        let _ = writeln!(out, "page:{:016x} is not a page of any pgmap", addr(page));
        hex_dump(out, "raw: ", page);
        return;
    };
    let head = head(page);
    let compound = is_tail(page) || is_head(page);
    let idx = ((addr(page) as u64).wrapping_sub(addr(head) as u64)) / 64;
    // In a compound page, word 2 of the first tail holds the order and
    // the compound mapcount, word 3 the pincount (Linux 6.1's layout).
    let (order, compound_mapcount, pincount) = if is_head(head) {
        let t = memmap::first_tail(head);
        let w2 = t.zone_device_data.load(Ordering::Relaxed) as u64;
        let w3 = t.mapping.load(Ordering::Relaxed) as u64;
        (
            t.compound_order(),
            (w2 >> 32) as u32 as i32 + 1,
            w3 as u32 as i32,
        )
    } else {
        (0, 0, 0)
    };
    let mut mapcount = page.mapcount.load(Ordering::Relaxed).wrapping_add(1);
    if compound {
        mapcount = mapcount.wrapping_add(compound_mapcount);
    }
    let _ = writeln!(
        out,
        "page:{:016x} refcount:{} mapcount:{mapcount} mapping:{:016x} index:{:#x} pfn:{pfn:#x}",
        addr(page),
        head.refcount.load(Ordering::Relaxed),
        head.mapping.load(Ordering::Relaxed),
        (head.index.load(Ordering::Relaxed) as u64).wrapping_add(idx),
    );
    if compound {
        let _ = writeln!(
            out,
            "head:{:016x} order:{order} compound_mapcount:{compound_mapcount} compound_pincount:{pincount}",
            addr(head)
        );
    }
    let memcg = head.memcg_data.load(Ordering::Relaxed);
    if memcg != 0 {
        let _ = writeln!(out, "memcg:{memcg:x}");
    }
    if memmap::is_zone_device(head) {
        // The first tail's word 2 is the compound fields, not its own.
        let first_tail = is_tail(page) && idx == 1;
        let zdd = if first_tail { head } else { page };
        let _ = writeln!(
            out,
            "pgmap:{:016x} zone_device_data:{:016x}",
            head.pgmap(),
            zdd.zone_device_data.load(Ordering::Relaxed)
        );
    }
    let _ = writeln!(
        out,
        "flags: {}",
        flags_string(page.flags.load(Ordering::Relaxed))
    );
    hex_dump(out, "raw: ", page);
    if !core::ptr::eq(head, page) {
        hex_dump(out, "head: ", head);
    }
}

/// Print `dump_page(page, reason)` on stderr (quiet or not: it was asked
/// for), captured like a WARN's text.
pub fn dump_page(page: &Page, reason: Option<&str>) {
    crate::warn::print(&render(page, reason));
}

/// `WARN(cond, fmt, ...)` about one page: when `cond` holds, the WARN
/// prints the page's `dump_page()` (the message its reason) before its
/// `cut here` line, as the kernel's `VM_WARN_ON_PAGE()` does; evaluates
/// to `cond`.
#[macro_export]
macro_rules! warn_page_if {
    ($func:expr, $page:expr, $cond:expr, $($fmt:tt)+) => {{
        let c: bool = $cond;
        if c {
            let page: &$crate::types::Page = $page;
            $crate::warn::cold(move || {
                let dump = |why: &str| $crate::page::dump::render(page, Some(why));
                $crate::warn::report_with(file!(), line!(), $func, &dump, format_args!($($fmt)+))
            });
        }
        c
    }};
}

/// `WARN_ONCE(cond, fmt, ...)` about one page, once per site (until
/// re-armed), with the page's `dump_page()`; evaluates to `cond`.
#[macro_export]
macro_rules! warn_page_once_if {
    ($func:expr, $page:expr, $cond:expr, $($fmt:tt)+) => {{
        static SITE: ::std::sync::atomic::AtomicU64 = ::std::sync::atomic::AtomicU64::new(0);
        let c: bool = $cond;
        if c {
            let page: &$crate::types::Page = $page;
            $crate::warn::cold(move || {
                if $crate::warn::once_claim(&SITE) {
                    let dump = |why: &str| $crate::page::dump::render(page, Some(why));
                    $crate::warn::report_with(file!(), line!(), $func, &dump, format_args!($($fmt)+));
                }
            });
        }
        c
    }};
}
