// SPDX-License-Identifier: GPL-2.0-only
//! The calls that sleep: `include/linux/completion.h`, and the page lock
//! of `include/linux/pagemap.h`.
#![allow(clippy::missing_safety_doc)]

use super::{page_ref, Folio};
use crate::types::{Completion, Page};
use crate::{page, sync};
use core::ffi::c_ulong;

fn completion<'a>(func: &'static str, c: *mut Completion) -> Option<&'a Completion> {
    // SAFETY: a non-null completion pointer is the caller's struct; `done`
    // is an atomic word.
    let r = unsafe { c.as_ref() };
    crate::warn_if!(func, r.is_none(), "{func}(NULL)");
    r
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

#[no_mangle]
pub unsafe extern "C" fn wait_for_completion_timeout(
    x: *mut Completion,
    timeout: c_ulong,
) -> c_ulong {
    completion("wait_for_completion_timeout", x)
        .map_or(0, |c| sync::wait_for_completion_timeout(c, timeout))
}

#[no_mangle]
pub unsafe extern "C" fn wait_for_completion(x: *mut Completion) {
    if let Some(c) = completion("wait_for_completion", x) {
        sync::wait_for_completion(c)
    }
}

// ---- include/linux/pagemap.h: the page lock ----

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
