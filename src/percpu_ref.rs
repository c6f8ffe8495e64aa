// SPDX-License-Identifier: GPL-2.0-only
//! `struct percpu_ref`: per-CPU counters until `percpu_ref_kill()`, one
//! atomic count afterwards, as in the kernel. The counting itself is
//! [`crate::counter::PercpuCount`]; this module gives it the kernel's API,
//! the release callback and WARNs, and publishes it in the C struct.

use crate::counter::{PercpuCount, Put};
use crate::types::PercpuRef;
use std::cell::Cell;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

/// Counters per ref.
pub const NSLOTS: usize = 16;
/// `PERCPU_REF_INIT_ATOMIC`.
pub const INIT_ATOMIC: u32 = 1 << 0;
/// `PERCPU_REF_INIT_DEAD`.
pub const INIT_DEAD: u32 = 1 << 1;
/// `PERCPU_REF_ALLOW_REINIT`: keep the per-CPU counters after the switch
/// to atomic mode, so that the ref can go back to per-CPU mode. Every ref
/// here keeps its counters until `percpu_ref_exit()`, so the flag is met
/// by construction and needs no code (and there is no `percpu_ref_reinit()`
/// in the API to use it).
pub const ALLOW_REINIT: u32 = 1 << 2;

/// `percpu_count_ptr` holds `data ^ &ref ^ COOKIE`: garbage, a ref never
/// initialised, an exited one, or a byte copy of a live one at another
/// address all fail to match.
const COOKIE: usize = 0x5045_5243_5055_5246;

#[inline(always)]
fn check_word(r: &PercpuRef, data: usize) -> usize {
    data ^ (r as *const PercpuRef as usize) ^ COOKIE
}

/// Addresses of the refs initialised and not exited. `percpu_ref_init()`
/// reads a ref's words only when its address is here: C passes refs whose
/// memory it never initialised (as the kernel allows), and deciding on
/// such bytes is undefined behaviour (valgrind says so).
static LIVE: Mutex<BTreeSet<usize>> = Mutex::new(BTreeSet::new());

/// Is `r` initialised and not exited? For `percpu_ref_init()`.
pub fn is_live(r: &PercpuRef) -> bool {
    let known = LIVE
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .contains(&(r as *const PercpuRef as usize));
    known && data(r).is_some()
}

/// A release callback, as C gives it.
pub type ReleaseFn = unsafe extern "C" fn(*mut PercpuRef);

/// What `ref->data` points at.
pub struct RefData {
    counter: PercpuCount<NSLOTS>,
    release: Option<ReleaseFn>,
    ref_ptr: usize,
    /// An opaque token of the ref's owner (0: none, a ref C set up). The
    /// owner alone interprets it; an owned ref is exited by its owner.
    /// Today the pgmap is the one kind of owner (its token is its state);
    /// a second kind would have to tell its tokens from the pgmap's.
    owner: usize,
}

/// Countdown to an injected `percpu_ref_tryget()` failure; 0: none.
static TRYGET_FAIL_NTH: AtomicU64 = AtomicU64::new(0);

/// Make the `n`th `percpu_ref_tryget()` from now fail (1: the next); 0
/// disarms. For exercising the callers of tryget on their failure path.
pub fn tryget_fail_nth(n: u64) {
    TRYGET_FAIL_NTH.store(n, Ordering::SeqCst);
}

#[inline]
fn tryget_injected() -> bool {
    let mut n = TRYGET_FAIL_NTH.load(Ordering::Relaxed);
    while n != 0 {
        match TRYGET_FAIL_NTH.compare_exchange(n, n - 1, Ordering::SeqCst, Ordering::Relaxed) {
            Ok(_) => return n == 1,
            Err(now) => n = now,
        }
    }
    false
}

thread_local! {
    static MY_SLOT: Cell<usize> = const { Cell::new(usize::MAX) };
}
static NEXT_SLOT: AtomicUsize = AtomicUsize::new(0);

#[inline]
fn my_slot() -> usize {
    MY_SLOT.with(|s| {
        let v = s.get();
        if v != usize::MAX {
            return v;
        }
        let v = NEXT_SLOT.fetch_add(1, Ordering::Relaxed) % NSLOTS;
        s.set(v);
        v
    })
}

/// `percpu_ref_init()` as C calls it: a ref that is live is refused
/// (`EBUSY`, with a WARN) rather than leaked. Errors are positive errnos.
pub fn percpu_ref_init(r: &PercpuRef, release: Option<ReleaseFn>, flags: u32) -> Result<(), i32> {
    if crate::warn_if!(
        "percpu_ref_init",
        is_live(r),
        "percpu_ref_init() of a ref that is live: percpu_ref_exit() it first"
    ) {
        return Err(libc::EBUSY);
    }
    init(r, release, flags, 0)
}

/// `percpu_ref_exit()` as C calls it: an owned ref (a pgmap's, today) is
/// refused with a WARN; its owner exits it.
pub fn percpu_ref_exit(r: &PercpuRef) {
    if data(r).is_some_and(|d| d.owner != 0) {
        crate::warn_if!(
            "percpu_ref_exit",
            true,
            "a pgmap's ref is exited by memunmap_pages()"
        );
        return;
    }
    exit(r)
}

/// Allocate the counters and publish them in `r`, for `owner` (an opaque
/// token, 0 for none). `ENOMEM` when an injected allocation failure hits.
pub fn init(
    r: &PercpuRef,
    release: Option<ReleaseFn>,
    flags: u32,
    owner: usize,
) -> Result<(), i32> {
    if crate::slab::should_fail() {
        return Err(libc::ENOMEM);
    }
    let data = Box::new(RefData {
        counter: PercpuCount::new(flags & INIT_ATOMIC != 0, flags & INIT_DEAD != 0),
        release,
        ref_ptr: r as *const PercpuRef as usize,
        owner,
    });
    let addr = Box::into_raw(data) as usize;
    LIVE.lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(r as *const PercpuRef as usize);
    r.data.store(addr, Ordering::Release);
    r.percpu_count_ptr
        .store(check_word(r, addr), Ordering::Release);
    Ok(())
}

/// The counters behind `r`, if `r` was initialised and not exited.
///
/// The reference is valid until `exit(r)`; callers must not race `exit`,
/// which is the kernel's rule too.
#[inline(always)]
pub fn data(r: &PercpuRef) -> Option<&'static RefData> {
    let addr = r.data.load(Ordering::Acquire);
    // A zero `data` cannot pass: its check word would be `&ref ^ COOKIE`
    // with `&ref == COOKIE`, which is not a canonical x86-64 address.
    if r.percpu_count_ptr.load(Ordering::Acquire) != check_word(r, addr) || addr == 0 {
        return None;
    }
    // SAFETY: `addr` was published by `init` from Box::into_raw together with
    // its check word, and is freed only by `exit`, which clears both first.
    Some(unsafe { &*(addr as *const RefData) })
}

/// Free the counters; `r` reads as uninitialised after.
pub fn exit(r: &PercpuRef) {
    let addr = r.data.load(Ordering::Acquire);
    if data(r).is_none() {
        return;
    }
    r.percpu_count_ptr.store(0, Ordering::Release);
    r.data.store(0, Ordering::Release);
    LIVE.lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&(r as *const PercpuRef as usize));
    // SAFETY: `addr` is the Box `init` leaked (checked by `data` above), and
    // the check word is cleared, so no later lookup can reach it again.
    drop(unsafe { Box::from_raw(addr as *mut RefData) });
}

impl RefData {
    /// The owner token given to [`init`].
    #[inline(always)]
    pub fn owner(&self) -> usize {
        self.owner
    }

    /// `percpu_ref_get_many()`.
    #[inline]
    pub fn get(&self, n: i64) {
        if !self.counter.get(my_slot(), n) {
            crate::warn_once_if!(
                "percpu_ref_get_many",
                true,
                "percpu_ref_get() of ref ({:#x}) after its release",
                self.ref_ptr
            );
        }
    }

    /// `percpu_ref_tryget_many()`: succeeds on a dying ref that is not zero.
    #[inline]
    pub fn tryget(&self, n: i64) -> bool {
        !tryget_injected() && self.counter.tryget(my_slot(), n)
    }

    /// `percpu_ref_tryget_live()`: fails once the ref is dying.
    #[inline]
    pub fn tryget_live(&self) -> bool {
        self.counter.tryget_live(my_slot())
    }

    /// `percpu_ref_put_many()`: the release runs when the count reaches 0.
    #[inline]
    pub fn put(&self, n: i64) {
        let done = self.counter.put(my_slot(), n);
        self.after_put(done);
    }

    fn after_put(&self, done: Put) {
        match done {
            Put::Alive => {}
            Put::Released => {
                if let Some(f) = self.release {
                    // SAFETY: `f` is the release callback given to
                    // percpu_ref_init() for this very ref, called once
                    // with that ref, as the kernel does.
                    unsafe { f(self.ref_ptr as *mut PercpuRef) }
                }
            }
            Put::ReleasedAgain => {
                crate::warn_if!(
                    "percpu_ref_put_many",
                    true,
                    "percpu ref ({:#x}) reached zero again after its release",
                    self.ref_ptr
                );
            }
            Put::Underflow(now) => {
                crate::warn_once_if!(
                    "percpu_ref_put_many",
                    true,
                    "percpu ref ({:#x}) <= 0 ({now}) after put: the put is ignored",
                    self.ref_ptr
                );
            }
        }
    }

    /// `percpu_ref_kill()`: mark dying, switch to atomic mode and drop the
    /// initial reference. False (with a WARN) if already dying.
    pub fn kill(&self) -> bool {
        match self.counter.kill() {
            Some(done) => {
                self.after_put(done);
                true
            }
            None => {
                crate::warn_once_if!(
                    "percpu_ref_kill_and_confirm",
                    true,
                    "percpu_ref_kill() called more than once on ({:#x})!",
                    self.ref_ptr
                );
                false
            }
        }
    }

    /// `percpu_ref_is_dying()`.
    #[inline]
    pub fn is_dying(&self) -> bool {
        self.counter.is_dying()
    }

    /// `percpu_ref_is_zero()`.
    pub fn is_zero(&self) -> bool {
        self.counter.is_zero()
    }

    /// The count as a quiescent observer sees it: the initial reference
    /// included while the ref is alive.
    pub fn count(&self) -> i64 {
        self.counter.count()
    }

    /// The count and whether the ref is dying, never read mid-kill.
    pub fn settled(&self) -> (i64, bool) {
        self.counter.settled()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize as Counter;

    static RELEASED: Counter = Counter::new(0);
    unsafe extern "C" fn release(_r: *mut PercpuRef) {
        RELEASED.fetch_add(1, Ordering::SeqCst);
    }

    fn fresh() -> Box<PercpuRef> {
        Box::new(PercpuRef {
            percpu_count_ptr: AtomicUsize::new(0),
            data: AtomicUsize::new(0),
        })
    }

    #[test]
    fn lifecycle_releases_once_after_kill() {
        let _serial = crate::test_serial();
        let r = fresh();
        assert!(data(&r).is_none());
        init(&r, Some(release), 0, 0).unwrap();
        let d = data(&r).unwrap();
        let base = RELEASED.load(Ordering::SeqCst);
        d.get(3);
        assert!(d.tryget_live());
        assert_eq!(d.count(), 5);
        d.put(2);
        assert!(!d.is_zero());
        assert!(d.kill());
        assert!(d.is_dying());
        assert!(!d.tryget_live());
        assert!(d.tryget(1));
        assert_eq!(d.count(), 3);
        d.put(3);
        assert!(d.is_zero());
        assert_eq!(RELEASED.load(Ordering::SeqCst), base + 1);
        assert!(!d.tryget(1));
        exit(&r);
        assert!(data(&r).is_none());
    }

    #[test]
    fn kill_twice_warns() {
        let _serial = crate::test_serial();
        crate::warn::set_quiet(true);
        crate::warn::rearm();
        let r = fresh();
        init(&r, None, 0, 0).unwrap();
        let d = data(&r).unwrap();
        assert!(d.kill());
        let w = crate::warn::count();
        assert!(!d.kill());
        assert_eq!(crate::warn::count(), w + 1);
        exit(&r);
        crate::warn::set_quiet(false);
    }

    #[test]
    fn racing_kill_against_get_put_releases_exactly_once() {
        let _serial = crate::test_serial();
        for _ in 0..200 {
            let r = fresh();
            init(&r, Some(release), 0, 0).unwrap();
            let d = data(&r).unwrap();
            let base = RELEASED.load(Ordering::SeqCst);
            std::thread::scope(|s| {
                for _ in 0..2 {
                    s.spawn(|| {
                        for _ in 0..500 {
                            if d.tryget(1) {
                                d.put(1);
                            }
                        }
                    });
                }
                s.spawn(|| d.kill());
            });
            assert_eq!(RELEASED.load(Ordering::SeqCst), base + 1);
            assert!(d.is_zero());
            exit(&r);
        }
    }

    #[test]
    fn allow_reinit_keeps_counters_until_exit() {
        let _serial = crate::test_serial();
        let r = fresh();
        percpu_ref_init(&r, None, ALLOW_REINIT).unwrap();
        let d = data(&r).unwrap();
        assert!(d.kill());
        assert!(d.is_zero());
        // The counters are still there to read: only exit frees them.
        assert_eq!(data(&r).unwrap().count(), 0);
        percpu_ref_exit(&r);
        assert!(data(&r).is_none());
    }

    #[test]
    fn c_rules_refuse_live_init_and_owned_exit() {
        let _serial = crate::test_serial();
        crate::warn::set_quiet(true);
        let r = fresh();
        percpu_ref_init(&r, None, 0).unwrap();
        let w = crate::warn::count();
        assert_eq!(percpu_ref_init(&r, None, 0), Err(libc::EBUSY));
        assert_eq!(crate::warn::count(), w + 1);
        exit(&r);
        init(&r, None, 0, 42).unwrap();
        percpu_ref_exit(&r);
        assert_eq!(crate::warn::count(), w + 2);
        assert_eq!(data(&r).map(RefData::owner), Some(42));
        exit(&r);
        assert!(data(&r).is_none());
        crate::warn::set_quiet(false);
    }
}
