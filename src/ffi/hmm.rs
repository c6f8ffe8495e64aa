// SPDX-License-Identifier: GPL-2.0-only
//! C entry points of linux/mmu_notifier.h (interval notifiers) and
//! linux/hmm.h (`hmm_range_fault()`): pointer checks, then
//! `mmu_notifier` and `hmm`.
#![allow(clippy::missing_safety_doc)]

use crate::address_space::{self as aspace, MmStruct};
use crate::hmm::{self, Range};
use crate::mmu_notifier::{self, MmuIntervalNotifier};
use core::ffi::{c_int, c_ulong, c_void};

/// `struct mmu_interval_notifier_ops`: read by `mmu_notifier`.
#[repr(C)]
pub struct MmuIntervalNotifierOps {
    _private: [u8; 0],
}

/// `struct hmm_range` (Linux 6.1).
#[repr(C)]
pub struct HmmRange {
    pub notifier: *mut MmuIntervalNotifier,
    pub notifier_seq: c_ulong,
    pub start: c_ulong,
    pub end: c_ulong,
    pub hmm_pfns: *mut c_ulong,
    pub default_flags: c_ulong,
    pub pfn_flags_mask: c_ulong,
    pub dev_private_owner: *mut c_void,
}

#[no_mangle]
pub unsafe extern "C" fn mmu_interval_notifier_insert(
    interval_sub: *mut MmuIntervalNotifier,
    mm: *mut MmStruct,
    start: c_ulong,
    length: c_ulong,
    ops: *const MmuIntervalNotifierOps,
) -> c_int {
    let mm = mm as usize;
    if crate::warn_if!(
        "mmu_interval_notifier_insert",
        !aspace::is_mm(mm),
        "mmu_interval_notifier_insert(): {mm:#x} is not a live mm"
    ) {
        return -libc::EINVAL;
    }
    aspace::mmgrab(mm);
    match mmu_notifier::insert(interval_sub as usize, mm, start, length, ops as usize) {
        Ok(()) => 0,
        Err(e) => {
            aspace::mmdrop(mm);
            -e
        }
    }
}

#[no_mangle]
pub unsafe extern "C" fn mmu_interval_notifier_remove(interval_sub: *mut MmuIntervalNotifier) {
    if let Some(mm) = mmu_notifier::remove(interval_sub as usize) {
        aspace::mmdrop(mm);
    }
}

#[no_mangle]
pub unsafe extern "C" fn mmu_interval_read_begin(
    interval_sub: *mut MmuIntervalNotifier,
) -> c_ulong {
    mmu_notifier::read_begin(interval_sub as usize)
}

#[no_mangle]
pub unsafe extern "C" fn hmm_range_fault(range: *mut HmmRange) -> c_int {
    // SAFETY: NULL or the caller's struct hmm_range.
    let Some(r) = (unsafe { range.as_mut() }) else {
        crate::warn_if!("hmm_range_fault", true, "hmm_range_fault(NULL)");
        return -libc::EINVAL;
    };
    let req = Range {
        notifier: r.notifier as usize,
        notifier_seq: r.notifier_seq,
        start: r.start,
        end: r.end,
        default_flags: r.default_flags,
        pfn_flags_mask: r.pfn_flags_mask,
        dev_private_owner: r.dev_private_owner as usize,
    };
    let n = r.end.saturating_sub(r.start) >> 12;
    if r.hmm_pfns.is_null() || n == 0 || n > 1 << 36 || r.start % 4096 != 0 {
        return -libc::EINVAL;
    }
    // SAFETY: the hmm API's contract: hmm_pfns holds one entry per page of
    // [start, end).
    let pfns = unsafe { core::slice::from_raw_parts_mut(r.hmm_pfns, n as usize) };
    hmm::range_fault(&req, pfns)
}

#[no_mangle]
pub extern "C" fn memremap_mmu_notifiers_live() -> c_ulong {
    mmu_notifier::live()
}
