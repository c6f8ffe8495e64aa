// SPDX-License-Identifier: GPL-2.0-only
//! Interval notifiers (Linux 6.1 include/linux/mmu_notifier.h): a driver
//! that mirrors part of an address space registers a
//! `struct mmu_interval_notifier` over it and is called back, before the
//! model changes a mapping there, to stop using its copy. Invalidations
//! come from `migrate_vma_setup()` and the holes `migrate_vma_pages()`
//! fills (MMU_NOTIFY_MIGRATE, with the migration's pgmap owner), from
//! unmapping a page for migration (MMU_NOTIFY_CLEAR) and from the last
//! `mmput()` (MMU_NOTIFY_UNMAP). Each invalidation has a fresh odd
//! sequence number, which the callback stores with `mmu_interval_set_seq()`
//! so that `mmu_interval_read_retry()` tells a reader to start again.

use core::ffi::c_ulong;
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

/// `enum mmu_notifier_event`.
pub const MMU_NOTIFY_UNMAP: u32 = 0;
pub const MMU_NOTIFY_CLEAR: u32 = 1;
pub const MMU_NOTIFY_MIGRATE: u32 = 6;
/// `MMU_NOTIFIER_RANGE_BLOCKABLE`.
const RANGE_BLOCKABLE: u32 = 1 << 0;

/// `struct mmu_interval_notifier` (with its `interval_tree_node`).
#[repr(C)]
pub struct MmuIntervalNotifier {
    pub rb: [AtomicUsize; 3],
    pub start: AtomicUsize,
    pub last: AtomicUsize,
    pub subtree_last: AtomicUsize,
    pub ops: AtomicUsize,
    pub mm: AtomicUsize,
    pub deferred_item: [AtomicUsize; 2],
    pub invalidate_seq: AtomicUsize,
}

/// `struct mmu_notifier_range` (6.1: still with its `vma`).
#[repr(C)]
pub struct MmuNotifierRange {
    pub vma: usize,
    pub mm: usize,
    pub start: u64,
    pub end: u64,
    pub flags: u32,
    pub event: u32,
    pub owner: usize,
}

type Invalidate =
    unsafe extern "C" fn(*mut MmuIntervalNotifier, *const MmuNotifierRange, c_ulong) -> bool;

/// `struct mmu_interval_notifier_ops`.
#[repr(C)]
struct Ops {
    invalidate: Option<Invalidate>,
}

/// Registered notifiers' addresses.
static SUBS: Mutex<Vec<usize>> = Mutex::new(Vec::new());
/// Sequence numbers: an invalidation takes `SEQ + 1` (odd) and moves
/// `SEQ` on by two; a notifier starts at the even `SEQ` of its insertion.
static SEQ: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// Inside an invalidation callback on this thread.
    static INVALIDATING: Cell<bool> = const { Cell::new(false) };
}

fn sub_ref(sub: usize) -> Option<&'static MmuIntervalNotifier> {
    if !SUBS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .contains(&sub)
    {
        return None;
    }
    // SAFETY: registered notifiers are the drivers' structs, which the
    // kernel's contract keeps alive until mmu_interval_notifier_remove();
    // the struct is all atomic words here.
    Some(unsafe { &*(sub as *const MmuIntervalNotifier) })
}

/// `mmu_interval_notifier_insert()`: the caller has taken an `mmgrab()` on
/// `mm` for the notifier, as the kernel does.
pub fn insert(sub: usize, mm: usize, start: u64, length: u64, ops: usize) -> Result<(), i32> {
    let last = start.checked_add(length).and_then(|e| e.checked_sub(1));
    let (Some(last), false) = (last, length == 0 || sub == 0 || ops == 0) else {
        return Err(libc::EINVAL);
    };
    let mut subs = SUBS.lock().unwrap_or_else(|e| e.into_inner());
    if crate::warn_if!(
        "mmu_interval_notifier_insert",
        subs.contains(&sub),
        "notifier {sub:#x} is already inserted"
    ) {
        return Err(libc::EBUSY);
    }
    // SAFETY: the caller's struct mmu_interval_notifier (the kernel's
    // contract), all atomic words here.
    let s = unsafe { &*(sub as *const MmuIntervalNotifier) };
    s.start.store(start as usize, Ordering::Relaxed);
    s.last.store(last as usize, Ordering::Relaxed);
    s.ops.store(ops, Ordering::Relaxed);
    s.mm.store(mm, Ordering::Relaxed);
    s.invalidate_seq
        .store(SEQ.load(Ordering::Acquire) as usize, Ordering::Release);
    subs.push(sub);
    Ok(())
}

/// `mmu_interval_notifier_remove()`: the notifier's mm, whose `mmgrab()`
/// the caller now drops.
pub fn remove(sub: usize) -> Option<usize> {
    let mut subs = SUBS.lock().unwrap_or_else(|e| e.into_inner());
    let at = subs.iter().position(|&s| s == sub);
    if crate::warn_if!(
        "mmu_interval_notifier_remove",
        at.is_none(),
        "notifier {sub:#x} is not inserted"
    ) {
        return None;
    }
    subs.retain(|&s| s != sub);
    drop(subs);
    // SAFETY: as in sub_ref(): it was registered until just now.
    let s = unsafe { &*(sub as *const MmuIntervalNotifier) };
    Some(s.mm.load(Ordering::Acquire))
}

/// `mmu_interval_read_begin()`: the sequence a reader compares against.
pub fn read_begin(sub: usize) -> u64 {
    let Some(s) = sub_ref(sub) else {
        crate::warn_if!(
            "mmu_interval_read_begin",
            true,
            "notifier {sub:#x} is not inserted"
        );
        return 0;
    };
    crate::warn_if!(
        "mmu_interval_read_begin",
        INVALIDATING.with(|c| c.get()),
        "mmu_interval_read_begin() inside an invalidation: the kernel would deadlock"
    );
    s.invalidate_seq.load(Ordering::Acquire) as u64
}

/// The notifier's mm and current sequence, if it is inserted.
pub fn mm_and_seq(sub: usize) -> Option<(usize, u64)> {
    sub_ref(sub).map(|s| {
        (
            s.mm.load(Ordering::Acquire),
            s.invalidate_seq.load(Ordering::Acquire) as u64,
        )
    })
}

/// Tell every notifier of `mm` overlapping `[start, end)` that the
/// mappings there are about to change.
pub fn invalidate(mm: usize, vma: usize, start: u64, end: u64, event: u32, owner: usize) {
    let hit: Vec<usize> = SUBS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .copied()
        .filter(|&sub| {
            // SAFETY: registered, as in sub_ref().
            let s = unsafe { &*(sub as *const MmuIntervalNotifier) };
            s.mm.load(Ordering::Acquire) == mm
                && (s.start.load(Ordering::Acquire) as u64) < end
                && start <= s.last.load(Ordering::Acquire) as u64
        })
        .collect();
    if hit.is_empty() {
        return;
    }
    let cur_seq = SEQ.fetch_add(2, Ordering::AcqRel) + 1;
    let range = MmuNotifierRange {
        vma,
        mm,
        start,
        end,
        flags: RANGE_BLOCKABLE,
        event,
        owner,
    };
    for sub in hit {
        // SAFETY: registered, as in sub_ref(); `ops` is the driver's table,
        // alive while the notifier is inserted.
        let f = unsafe {
            let s = &*(sub as *const MmuIntervalNotifier);
            (s.ops.load(Ordering::Acquire) as *const Ops)
                .as_ref()
                .and_then(|o| o.invalidate)
        };
        let Some(f) = f else { continue };
        INVALIDATING.with(|c| c.set(true));
        // SAFETY: the driver's invalidate op, called as the kernel calls
        // it: its notifier, the range, and the invalidation's sequence.
        unsafe { f(sub as *mut MmuIntervalNotifier, &range, cur_seq as c_ulong) };
        INVALIDATING.with(|c| c.set(false));
    }
}

/// Notifiers inserted.
pub fn live() -> u64 {
    SUBS.lock().unwrap_or_else(|e| e.into_inner()).len() as u64
}
