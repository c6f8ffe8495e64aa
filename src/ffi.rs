// SPDX-License-Identifier: GPL-2.0-only
//! The C entry points. No logic lives here: each function turns C pointers
//! into references (checking for NULL), calls the module that owns the
//! concept, and turns the answer back into C. None of them can panic.
//!
//! Safety contract, for every function: pointer arguments are NULL or point
//! at objects of the named kernel type that the caller owns, laid out as in
//! `include/linux/`; `struct page` / `struct folio` pointers come from this
//! library. That is the kernel's own contract for these APIs.
#![allow(clippy::missing_safety_doc)]

pub mod hmm;
pub mod migrate;
pub mod mm;
pub mod page_alloc;

use crate::pgmap::PgmapPtr;
use crate::types::{Completion, DevPagemap, Page, PercpuRef, VmemAltmap};
use crate::{memmap, page, percpu_ref, pgmap, request, slab, sync, warn};
use core::ffi::{c_char, c_int, c_long, c_uint, c_ulong, c_void, CStr};
use core::ptr::null_mut;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// `struct folio`: it overlays its head page.
#[repr(C)]
pub struct Folio {
    pub page: Page,
}

/// `struct device`: opaque to the library.
#[repr(C)]
pub struct Device {
    _private: [u8; 0],
}

/// `struct memremap_warn_record` (memremap/test.h).
#[repr(C)]
pub struct WarnRecord {
    pub file: [c_char; 128],
    pub function: [c_char; 64],
    pub message: [c_char; 512],
    pub line: c_int,
}

const ERR: c_ulong = c_ulong::MAX;

fn err_ptr(errno: i32) -> *mut c_void {
    (-(errno as isize)) as *mut c_void
}

/// A page reference from C, or a WARN naming `func`.
fn page_ref<'a>(func: &'static str, p: *const Page) -> Option<&'a Page> {
    // SAFETY: per the module contract, a non-null page pointer is a page of
    // this library's memmap (or its poison page); Page is all atomics.
    let r = unsafe { p.as_ref() };
    crate::warn_if!(func, r.is_none(), "{func}(NULL)");
    r
}

fn folio_ref<'a>(func: &'static str, f: *const Folio) -> Option<&'a Page> {
    page_ref(func, f as *const Page)
}

fn as_folio(p: &Page) -> *mut Folio {
    p as *const Page as *mut Folio
}

/// A pgmap pointer from C.
fn pg(p: *mut DevPagemap) -> PgmapPtr {
    // SAFETY: the module contract is PgmapPtr::new's: NULL or the caller's
    // pgmap, alive while the library may use it.
    unsafe { PgmapPtr::new(p) }
}

/// A folio pointer from C that may be NULL, without a WARN.
fn maybe_page<'a>(p: *const Page) -> Option<&'a Page> {
    // SAFETY: per the module contract, a non-null page pointer is a page of
    // this library's memmap (or its poison page); Page is all atomics.
    unsafe { p.as_ref() }
}

fn as_page(p: &Page) -> *mut Page {
    p as *const Page as *mut Page
}

fn ref_data(func: &'static str, r: *mut PercpuRef) -> Option<&'static percpu_ref::RefData> {
    // SAFETY: a non-null percpu_ref pointer is the caller's struct: two
    // atomic words, readable whatever they hold.
    let d = unsafe { r.as_ref() }.and_then(percpu_ref::data);
    crate::warn_if!(
        func,
        d.is_none(),
        "{func}() on a percpu_ref that is not initialised"
    );
    d
}

fn completion<'a>(func: &'static str, c: *mut Completion) -> Option<&'a Completion> {
    // SAFETY: a non-null completion pointer is the caller's struct; `done`
    // is an atomic word.
    let r = unsafe { c.as_ref() };
    crate::warn_if!(func, r.is_none(), "{func}(NULL)");
    r
}

// ---- include/linux/memremap.h ----

#[no_mangle]
pub unsafe extern "C" fn memremap_pages(pgmap: *mut DevPagemap, _nid: c_int) -> *mut c_void {
    match pgmap::memremap_pages(pg(pgmap)) {
        Ok(va) => va as *mut c_void,
        Err(e) => err_ptr(e),
    }
}

#[no_mangle]
pub unsafe extern "C" fn memunmap_pages(pgmap: *mut DevPagemap) {
    pgmap::memunmap_pages(pg(pgmap))
}

#[no_mangle]
pub unsafe extern "C" fn devm_memremap_pages(
    dev: *mut Device,
    pgmap: *mut DevPagemap,
) -> *mut c_void {
    match pgmap::devm_memremap_pages(dev as usize, pg(pgmap)) {
        Ok(va) => va as *mut c_void,
        Err(e) => err_ptr(e),
    }
}

#[no_mangle]
pub unsafe extern "C" fn devm_memunmap_pages(dev: *mut Device, pgmap: *mut DevPagemap) {
    pgmap::devm_memunmap_pages(dev as usize, pg(pgmap))
}

#[no_mangle]
pub unsafe extern "C" fn devres_release_all(dev: *mut Device) {
    pgmap::devres_release_all(dev as usize)
}

#[no_mangle]
pub unsafe extern "C" fn get_dev_pagemap(pfn: c_ulong, pgmap: *mut DevPagemap) -> *mut DevPagemap {
    pgmap::get_dev_pagemap(pfn, pg(pgmap))
}

#[no_mangle]
pub unsafe extern "C" fn put_dev_pagemap(pgmap: *mut DevPagemap) {
    pgmap::put_dev_pagemap(pg(pgmap))
}

#[no_mangle]
pub unsafe extern "C" fn pgmap_request_folio(
    pgmap: *mut DevPagemap,
    pgmap_offset: c_ulong,
    order: c_int,
) -> *mut Folio {
    request::request_folio(pg(pgmap), pgmap_offset, order) as *mut Folio
}

#[no_mangle]
pub unsafe extern "C" fn pgmap_request_folios(
    pgmap: *mut DevPagemap,
    folio: *mut Folio,
    nr_folios: c_int,
) -> bool {
    request::request_folios(pg(pgmap), maybe_page(folio as *const Page), nr_folios)
}

#[no_mangle]
pub unsafe extern "C" fn pgmap_release_folios(folio: *mut Folio, nr_folios: c_int) {
    request::release_folios(maybe_page(folio as *const Page), nr_folios)
}

#[no_mangle]
pub unsafe extern "C" fn pfn_to_pgmap_offset(pgmap: *mut DevPagemap, pfn: c_ulong) -> c_ulong {
    request::pfn_to_offset(pg(pgmap), pfn)
}

#[no_mangle]
pub unsafe extern "C" fn pgmap_offset_to_pfn(
    pgmap: *mut DevPagemap,
    pgmap_offset: c_ulong,
) -> c_ulong {
    request::offset_to_pfn(pg(pgmap), pgmap_offset)
}

#[no_mangle]
pub unsafe extern "C" fn pgmap_pfn_valid(pgmap: *mut DevPagemap, pfn: c_ulong) -> bool {
    pgmap::pfn_valid(pg(pgmap), pfn)
}

#[no_mangle]
pub unsafe extern "C" fn vmem_altmap_offset(altmap: *mut VmemAltmap) -> c_ulong {
    // SAFETY: module contract: NULL or the caller's altmap.
    match unsafe { altmap.as_ref() } {
        Some(a) => pgmap::altmap_offset(a.reserve, a.free),
        None => 0,
    }
}

#[no_mangle]
pub unsafe extern "C" fn vmem_altmap_free(altmap: *mut VmemAltmap, nr_pfns: c_ulong) {
    // SAFETY: module contract: NULL or the caller's altmap, which it owns.
    if let Some(a) = unsafe { altmap.as_mut() } {
        a.alloc = a.alloc.wrapping_sub(nr_pfns);
    }
}

#[no_mangle]
pub extern "C" fn memremap_compat_align() -> c_ulong {
    1 << crate::types::SUBSECTION_SHIFT
}

#[no_mangle]
pub unsafe extern "C" fn free_zone_device_page(page: *mut Page) {
    if let Some(p) = page_ref("free_zone_device_page", page) {
        page::free_zone_device_page_checked(p)
    }
}

fn pgmap_type_of(p: &Page) -> Option<c_uint> {
    let pgmap = PgmapPtr::registered(page::pgmap_of(p)?);
    pgmap::state(pgmap)?;
    pgmap.type_()
}

#[no_mangle]
pub unsafe extern "C" fn is_device_private_page(page: *const Page) -> bool {
    page_ref("is_device_private_page", page)
        .and_then(pgmap_type_of)
        .is_some_and(|t| t == crate::types::MEMORY_DEVICE_PRIVATE)
}

#[no_mangle]
pub unsafe extern "C" fn is_device_coherent_page(page: *const Page) -> bool {
    page_ref("is_device_coherent_page", page)
        .and_then(pgmap_type_of)
        .is_some_and(|t| t == crate::types::MEMORY_DEVICE_COHERENT)
}

#[no_mangle]
pub unsafe extern "C" fn is_pci_p2pdma_page(page: *const Page) -> bool {
    page_ref("is_pci_p2pdma_page", page)
        .and_then(pgmap_type_of)
        .is_some_and(|t| t == crate::types::MEMORY_DEVICE_PCI_P2PDMA)
}

// ---- include/linux/mm.h ----

#[no_mangle]
pub extern "C" fn pfn_to_page(pfn: c_ulong) -> *mut Page {
    as_page(memmap::pfn_to_page(pfn))
}

#[no_mangle]
pub unsafe extern "C" fn page_to_pfn(page: *const Page) -> c_ulong {
    let Some(p) = page_ref("page_to_pfn", page) else {
        return ERR;
    };
    match memmap::page_to_pfn(p) {
        Some(pfn) => pfn,
        None => {
            crate::warn_if!(
                "page_to_pfn",
                true,
                "page_to_pfn({page:p}): not a page of any pgmap"
            );
            ERR
        }
    }
}

#[no_mangle]
pub unsafe extern "C" fn page_folio(page: *const Page) -> *mut Folio {
    page_ref("page_folio", page).map_or(null_mut(), |p| as_folio(page::head(p)))
}

#[no_mangle]
pub unsafe extern "C" fn compound_head(page: *const Page) -> *mut Page {
    page_ref("compound_head", page).map_or(null_mut(), |p| as_page(page::head(p)))
}

#[no_mangle]
pub unsafe extern "C" fn folio_page(folio: *mut Folio, n: c_ulong) -> *mut Page {
    let Some(f) = folio_ref("folio_page", folio) else {
        return null_mut();
    };
    if n == 0 {
        return as_page(f);
    }
    match memmap::page_to_pfn(f).and_then(|pfn| pfn.checked_add(n)) {
        Some(pfn) => as_page(memmap::pfn_to_page(pfn)),
        None => as_page(memmap::pfn_to_page(ERR)),
    }
}

#[no_mangle]
pub unsafe extern "C" fn folio_next(folio: *mut Folio) -> *mut Folio {
    let Some(f) = folio_ref("folio_next", folio) else {
        return null_mut();
    };
    // SAFETY: forwarded contract; `folio` is non-null here.
    unsafe { folio_page(folio, 1 << page::order(f)) as *mut Folio }
}

#[no_mangle]
pub unsafe extern "C" fn folio_order(folio: *const Folio) -> c_uint {
    folio_ref("folio_order", folio).map_or(0, page::order)
}

#[no_mangle]
pub unsafe extern "C" fn folio_nr_pages(folio: *const Folio) -> c_long {
    folio_ref("folio_nr_pages", folio).map_or(0, |f| 1 << page::order(f))
}

#[no_mangle]
pub unsafe extern "C" fn folio_pfn(folio: *const Folio) -> c_ulong {
    // SAFETY: forwarded contract.
    unsafe { page_to_pfn(folio as *const Page) }
}

#[no_mangle]
pub unsafe extern "C" fn folio_ref_count(folio: *const Folio) -> c_int {
    folio_ref("folio_ref_count", folio).map_or(0, page::ref_count)
}

#[no_mangle]
pub unsafe extern "C" fn page_ref_count(page: *const Page) -> c_int {
    page_ref("page_ref_count", page).map_or(0, page::ref_count)
}

#[no_mangle]
pub unsafe extern "C" fn folio_ref_inc_return(folio: *mut Folio) -> c_int {
    folio_ref("folio_ref_inc_return", folio).map_or(0, page::ref_inc_return)
}

#[no_mangle]
pub unsafe extern "C" fn folio_ref_inc(folio: *mut Folio) {
    if let Some(f) = folio_ref("folio_ref_inc", folio) {
        page::ref_inc_return(f);
    }
}

#[no_mangle]
pub unsafe extern "C" fn folio_get(folio: *mut Folio) {
    if let Some(f) = folio_ref("folio_get", folio) {
        page::get(f)
    }
}

#[no_mangle]
pub unsafe extern "C" fn folio_put(folio: *mut Folio) {
    if let Some(f) = folio_ref("folio_put", folio) {
        page::put(f)
    }
}

#[no_mangle]
pub unsafe extern "C" fn get_page(page: *mut Page) {
    if let Some(p) = page_ref("get_page", page) {
        page::get(page::head(p))
    }
}

#[no_mangle]
pub unsafe extern "C" fn put_page(page: *mut Page) {
    if let Some(p) = page_ref("put_page", page) {
        page::put(page::head(p))
    }
}

#[no_mangle]
pub unsafe extern "C" fn is_zone_device_page(page: *const Page) -> bool {
    page_ref("is_zone_device_page", page).is_some_and(memmap::is_zone_device)
}

#[no_mangle]
pub unsafe extern "C" fn folio_is_zone_device(folio: *const Folio) -> bool {
    folio_ref("folio_is_zone_device", folio).is_some_and(memmap::is_zone_device)
}

#[no_mangle]
pub unsafe extern "C" fn folio_pgmap(folio: *const Folio) -> *mut DevPagemap {
    folio_ref("folio_pgmap", folio)
        .and_then(page::pgmap_of)
        .map_or(null_mut(), |p| p as *mut DevPagemap)
}

#[no_mangle]
#[allow(non_snake_case)]
pub unsafe extern "C" fn PageHead(page: *const Page) -> bool {
    page_ref("PageHead", page)
        .is_some_and(|p| p.flags.load(Ordering::Relaxed) & memmap::PG_HEAD != 0)
}

#[no_mangle]
#[allow(non_snake_case)]
pub unsafe extern "C" fn PageTail(page: *const Page) -> bool {
    page_ref("PageTail", page).is_some_and(page::is_tail)
}

#[no_mangle]
#[allow(non_snake_case)]
pub unsafe extern "C" fn PageLocked(page: *const Page) -> bool {
    page_ref("PageLocked", page).is_some_and(page::is_locked)
}

#[no_mangle]
pub unsafe extern "C" fn lock_page(page: *mut Page) {
    if let Some(p) = page_ref("lock_page", page) {
        page::lock(p)
    }
}

#[no_mangle]
pub unsafe extern "C" fn unlock_page(page: *mut Page) {
    if let Some(p) = page_ref("unlock_page", page) {
        page::unlock(p)
    }
}

#[no_mangle]
pub unsafe extern "C" fn trylock_page(page: *mut Page) -> bool {
    page_ref("trylock_page", page).is_some_and(|p| page::trylock(page::head(p)))
}

#[no_mangle]
pub unsafe extern "C" fn folio_lock(folio: *mut Folio) {
    // SAFETY: forwarded contract.
    unsafe { lock_page(folio as *mut Page) }
}

#[no_mangle]
pub unsafe extern "C" fn folio_unlock(folio: *mut Folio) {
    // SAFETY: forwarded contract.
    unsafe { unlock_page(folio as *mut Page) }
}

#[no_mangle]
pub unsafe extern "C" fn folio_trylock(folio: *mut Folio) -> bool {
    // SAFETY: forwarded contract.
    unsafe { trylock_page(folio as *mut Page) }
}

#[no_mangle]
pub unsafe extern "C" fn folio_test_locked(folio: *const Folio) -> bool {
    // SAFETY: forwarded contract.
    unsafe { PageLocked(folio as *const Page) }
}

// ---- include/linux/percpu-refcount.h ----

#[no_mangle]
pub unsafe extern "C" fn percpu_ref_init(
    r: *mut PercpuRef,
    release: Option<unsafe extern "C" fn(*mut PercpuRef)>,
    flags: c_uint,
    _gfp: c_uint,
) -> c_int {
    // SAFETY: module contract: NULL or the caller's percpu_ref.
    let Some(r) = (unsafe { r.as_ref() }) else {
        crate::warn_if!("percpu_ref_init", true, "percpu_ref_init(NULL)");
        return -libc::EINVAL;
    };
    if crate::warn_if!(
        "percpu_ref_init",
        percpu_ref::is_live(r),
        "percpu_ref_init() of a ref that is live: percpu_ref_exit() it first"
    ) {
        return -libc::EBUSY;
    }
    match percpu_ref::init(r, release, flags, None) {
        Ok(()) => 0,
        Err(e) => -e,
    }
}

#[no_mangle]
pub unsafe extern "C" fn percpu_ref_exit(r: *mut PercpuRef) {
    // SAFETY: module contract.
    if let Some(r) = unsafe { r.as_ref() } {
        if percpu_ref::data(r).is_some_and(|d| d.pgmap.is_some()) {
            crate::warn_if!(
                "percpu_ref_exit",
                true,
                "a pgmap's ref is exited by memunmap_pages()"
            );
            return;
        }
        percpu_ref::exit(r)
    }
}

#[no_mangle]
pub unsafe extern "C" fn percpu_ref_get_many(r: *mut PercpuRef, nr: c_ulong) {
    if let Some(d) = ref_data("percpu_ref_get_many", r) {
        d.get(nr as i64)
    }
}

#[no_mangle]
pub unsafe extern "C" fn percpu_ref_get(r: *mut PercpuRef) {
    if let Some(d) = ref_data("percpu_ref_get", r) {
        d.get(1)
    }
}

#[no_mangle]
pub unsafe extern "C" fn percpu_ref_tryget_many(r: *mut PercpuRef, nr: c_ulong) -> bool {
    ref_data("percpu_ref_tryget_many", r).is_some_and(|d| d.tryget(nr as i64))
}

#[no_mangle]
pub unsafe extern "C" fn percpu_ref_tryget(r: *mut PercpuRef) -> bool {
    ref_data("percpu_ref_tryget", r).is_some_and(|d| d.tryget(1))
}

#[no_mangle]
pub unsafe extern "C" fn percpu_ref_tryget_live(r: *mut PercpuRef) -> bool {
    ref_data("percpu_ref_tryget_live", r).is_some_and(|d| d.tryget_live())
}

#[no_mangle]
pub unsafe extern "C" fn percpu_ref_put_many(r: *mut PercpuRef, nr: c_ulong) {
    if let Some(d) = ref_data("percpu_ref_put_many", r) {
        d.put(nr as i64)
    }
}

#[no_mangle]
pub unsafe extern "C" fn percpu_ref_put(r: *mut PercpuRef) {
    if let Some(d) = ref_data("percpu_ref_put", r) {
        d.put(1)
    }
}

#[no_mangle]
pub unsafe extern "C" fn percpu_ref_kill(r: *mut PercpuRef) {
    if let Some(d) = ref_data("percpu_ref_kill", r) {
        d.kill();
    }
}

#[no_mangle]
pub unsafe extern "C" fn percpu_ref_is_dying(r: *mut PercpuRef) -> bool {
    ref_data("percpu_ref_is_dying", r).is_some_and(|d| d.is_dying())
}

#[no_mangle]
pub unsafe extern "C" fn percpu_ref_is_zero(r: *mut PercpuRef) -> bool {
    ref_data("percpu_ref_is_zero", r).is_some_and(|d| d.is_zero())
}

// ---- include/linux/completion.h ----

#[no_mangle]
pub unsafe extern "C" fn init_completion(x: *mut Completion) {
    if let Some(c) = completion("init_completion", x) {
        sync::init_completion(c)
    }
}

#[no_mangle]
pub unsafe extern "C" fn reinit_completion(x: *mut Completion) {
    if let Some(c) = completion("reinit_completion", x) {
        sync::init_completion(c)
    }
}

#[no_mangle]
pub unsafe extern "C" fn complete(x: *mut Completion) {
    if let Some(c) = completion("complete", x) {
        sync::complete(c)
    }
}

#[no_mangle]
pub unsafe extern "C" fn complete_all(x: *mut Completion) {
    if let Some(c) = completion("complete_all", x) {
        sync::complete_all(c)
    }
}

#[no_mangle]
pub unsafe extern "C" fn try_wait_for_completion(x: *mut Completion) -> bool {
    completion("try_wait_for_completion", x).is_some_and(sync::try_wait)
}

#[no_mangle]
pub unsafe extern "C" fn completion_done(x: *mut Completion) -> bool {
    completion("completion_done", x).is_some_and(sync::completion_done)
}

/// Jiffies are milliseconds here (HZ=1000). Returns the jiffies left, at
/// least 1, or 0 on time-out, as the kernel does. A timeout longer than
/// the library's wait bound (MAX_SCHEDULE_TIMEOUT, say) waits for the
/// bound and WARNs if it runs out, rather than hanging.
#[no_mangle]
pub unsafe extern "C" fn wait_for_completion_timeout(
    x: *mut Completion,
    timeout: c_ulong,
) -> c_ulong {
    let Some(c) = completion("wait_for_completion_timeout", x) else {
        return 0;
    };
    let asked = Duration::from_millis(timeout);
    let start = std::time::Instant::now();
    if !sync::wait_timeout(c, asked) {
        crate::warn_if!(
            "wait_for_completion_timeout",
            asked > sync::wait_bound(),
            "wait_for_completion_timeout({timeout}) gave up at the {} ms bound",
            sync::wait_bound().as_millis()
        );
        return 0;
    }
    let spent = start.elapsed().as_millis() as c_ulong;
    timeout.saturating_sub(spent).max(1)
}

/// The kernel waits for ever; this waits for the library's bound and WARNs.
#[no_mangle]
pub unsafe extern "C" fn wait_for_completion(x: *mut Completion) {
    if let Some(c) = completion("wait_for_completion", x) {
        let got = sync::wait_timeout(c, sync::wait_bound());
        crate::warn_if!(
            "wait_for_completion",
            !got,
            "wait_for_completion() gave up after {} ms",
            sync::wait_bound().as_millis()
        );
    }
}

// ---- include/linux/slab.h ----

fn c_str(s: *const c_char) -> String {
    if s.is_null() {
        return String::from("?");
    }
    // SAFETY: non-null strings from C are the __FILE__/__func__ literals the
    // kernel-shaped macros pass, NUL-terminated.
    unsafe { CStr::from_ptr(s) }.to_string_lossy().into_owned()
}

/// `__GFP_ZERO`.
const GFP_ZERO: c_uint = 0x100;

#[no_mangle]
pub unsafe extern "C" fn __kmalloc_site(
    size: usize,
    flags: c_uint,
    file: *const c_char,
    line: c_int,
) -> *mut c_void {
    slab::alloc(size, flags & GFP_ZERO != 0, &c_str(file), line as u32) as *mut c_void
}

#[no_mangle]
pub unsafe extern "C" fn kfree(p: *const c_void) {
    slab::free(p as *mut u8)
}

// ---- include/linux/bug.h ----

#[no_mangle]
pub unsafe extern "C" fn __memremap_warn(
    file: *const c_char,
    line: c_int,
    func: *const c_char,
    msg: *const c_char,
) {
    warn::report(
        &c_str(file),
        line as u32,
        &c_str(func),
        format_args!("{}", c_str(msg)),
    );
}

#[no_mangle]
pub unsafe extern "C" fn __memremap_warn_once_claim(site: *mut c_ulong) -> bool {
    if site.is_null() {
        return false;
    }
    // SAFETY: `site` is the per-call-site static the WARN_ON_ONCE macro
    // declares: aligned, 8 bytes, alive for the whole program.
    let a = unsafe { AtomicU64::from_ptr(site) };
    warn::once_claim(a)
}

// ---- include/memremap/test.h ----

#[no_mangle]
pub extern "C" fn memremap_warn_count() -> c_ulong {
    warn::count()
}

fn copy_str(dst: &mut [c_char], s: &str) {
    let n = s.len().min(dst.len().saturating_sub(1));
    for (d, b) in dst.iter_mut().zip(s.bytes().take(n)) {
        *d = b as c_char;
    }
    if let Some(end) = dst.get_mut(n) {
        *end = 0;
    }
}

#[no_mangle]
pub unsafe extern "C" fn memremap_warn_last(out: *mut WarnRecord) -> bool {
    // SAFETY: module contract: NULL or the caller's record.
    let (Some(out), Some(rec)) = (unsafe { out.as_mut() }, warn::last()) else {
        return false;
    };
    copy_str(&mut out.file, &rec.file);
    copy_str(&mut out.function, &rec.function);
    copy_str(&mut out.message, &rec.message);
    out.line = rec.line as c_int;
    true
}

#[no_mangle]
pub extern "C" fn memremap_warn_rearm() {
    warn::rearm()
}

#[no_mangle]
pub extern "C" fn memremap_warn_quiet(quiet: bool) {
    warn::set_quiet(quiet)
}

#[no_mangle]
pub extern "C" fn memremap_kmalloc_live() -> c_ulong {
    slab::live_count()
}

#[no_mangle]
pub extern "C" fn memremap_kmalloc_fail_nth(n: c_ulong) {
    slab::fail_nth(n)
}

#[no_mangle]
pub extern "C" fn memremap_kmalloc_injected() -> c_ulong {
    slab::injected()
}

#[no_mangle]
pub extern "C" fn memremap_set_wait_bound_ms(ms: c_ulong) {
    sync::set_wait_bound(ms)
}

#[no_mangle]
pub unsafe extern "C" fn memremap_pgmap_pins(pgmap: *mut DevPagemap) -> c_long {
    pgmap::pins(pg(pgmap))
}

#[no_mangle]
pub unsafe extern "C" fn memremap_pgmap_busy_pages(pgmap: *mut DevPagemap) -> c_ulong {
    pgmap::state(pg(pgmap)).map_or(0, |(_, st)| pgmap::held_pfns(st).len() as c_ulong)
}

#[no_mangle]
pub unsafe extern "C" fn memremap_pgmap_is_mapped(pgmap: *mut DevPagemap) -> bool {
    pgmap::state(pg(pgmap)).is_some()
}

#[no_mangle]
pub unsafe extern "C" fn memremap_pgmap_is_abandoned(pgmap: *mut DevPagemap) -> bool {
    pgmap::is_abandoned(pg(pgmap))
}

#[no_mangle]
pub extern "C" fn memremap_pfn_owner(pfn: c_ulong) -> *mut DevPagemap {
    pgmap::lookup_pfn(pfn).map_or(null_mut(), |p| p as *mut DevPagemap)
}

#[no_mangle]
pub extern "C" fn memremap_memmap_bytes() -> c_ulong {
    memmap::bytes()
}

#[no_mangle]
pub extern "C" fn memremap_poison_page() -> *mut Page {
    as_page(&memmap::POISON_PAGE)
}

#[no_mangle]
pub unsafe extern "C" fn memremap_percpu_ref_count(r: *mut PercpuRef) -> c_long {
    ref_data("memremap_percpu_ref_count", r).map_or(-1, |d| d.count())
}

#[no_mangle]
pub extern "C" fn memremap_mapped_pgmaps() -> c_ulong {
    pgmap::mapped_pgmaps().len() as c_ulong
}

#[no_mangle]
pub extern "C" fn memremap_kmalloc_fail_every(n: c_ulong) {
    slab::fail_every(n)
}

#[no_mangle]
pub extern "C" fn memremap_kmalloc_fail_random(seed: c_ulong, permille: c_ulong) {
    slab::fail_random(seed, permille)
}

#[no_mangle]
pub extern "C" fn memremap_fail_none() {
    slab::fail_none();
    percpu_ref::tryget_fail_nth(0);
}

#[no_mangle]
pub extern "C" fn memremap_percpu_tryget_fail_nth(n: c_ulong) {
    percpu_ref::tryget_fail_nth(n)
}

#[no_mangle]
pub extern "C" fn memremap_ledger_count() -> c_ulong {
    crate::ledger::take().len() as c_ulong
}

#[no_mangle]
pub extern "C" fn memremap_ledger_print() -> c_ulong {
    crate::ledger::print() as c_ulong
}

#[no_mangle]
pub extern "C" fn memremap_ledger_at_exit(on: bool) {
    crate::ledger::at_exit(on)
}
