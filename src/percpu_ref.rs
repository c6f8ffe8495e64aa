// SPDX-License-Identifier: GPL-2.0-only
//! `struct percpu_ref`: per-CPU counters until `percpu_ref_kill()`, one
//! atomic count afterwards, as in the kernel.
//!
//! Threads stand in for CPUs: each thread adds to one of [`NSLOTS`] padded
//! counters, so gets and puts from different threads touch different cache
//! lines. The kernel relies on RCU to switch modes; here each slot switches
//! by itself: `kill` swaps a far-negative sentinel into every slot and moves
//! what it held into the atomic count, and an operation that finds the
//! sentinel in its slot undoes itself there and goes to the atomic count.
//! A bias keeps the atomic count off zero while the slots are collected.

use crate::types::PercpuRef;
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};

/// Counters per ref.
pub const NSLOTS: usize = 16;
/// `PERCPU_REF_INIT_ATOMIC`.
pub const INIT_ATOMIC: u32 = 1 << 0;
/// `PERCPU_REF_INIT_DEAD`.
pub const INIT_DEAD: u32 = 1 << 1;
/// `PERCPU_REF_ALLOW_REINIT`.
pub const ALLOW_REINIT: u32 = 1 << 2;

const DEAD: i64 = i64::MIN / 2;
const DEAD_BELOW: i64 = i64::MIN / 4;
const BIAS: i64 = 1 << 60;
const COOKIE: usize = 0x5045_5243_5055_5246;

/// A release callback, as C gives it.
pub type ReleaseFn = unsafe extern "C" fn(*mut PercpuRef);

#[repr(align(128))]
struct Slot(AtomicI64);

/// What `ref->data` points at.
pub struct RefData {
    slots: [Slot; NSLOTS],
    count: AtomicI64,
    dying: AtomicBool,
    released: AtomicBool,
    release: Option<ReleaseFn>,
    ref_ptr: usize,
    /// The pgmap this ref belongs to, for the refs `memremap_pages()` makes.
    pub pgmap: Option<crate::pgmap::PgmapState>,
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

/// `percpu_ref_init()`: allocate the counters and publish them in `r`.
/// `-ENOMEM` when an injected allocation failure hits.
pub fn init(
    r: &PercpuRef,
    release: Option<ReleaseFn>,
    flags: u32,
    pgmap: Option<crate::pgmap::PgmapState>,
) -> Result<(), i32> {
    if crate::slab::should_fail() {
        return Err(libc::ENOMEM);
    }
    let atomic = flags & (INIT_ATOMIC | INIT_DEAD) != 0;
    let dead = flags & INIT_DEAD != 0;
    let data = Box::new(RefData {
        slots: std::array::from_fn(|_| Slot(AtomicI64::new(if atomic { DEAD } else { 0 }))),
        count: AtomicI64::new(match (atomic, dead) {
            (_, true) => 0,
            (true, false) => 1,
            (false, false) => BIAS + 1,
        }),
        dying: AtomicBool::new(dead),
        released: AtomicBool::new(false),
        release,
        ref_ptr: r as *const PercpuRef as usize,
        pgmap,
    });
    let addr = Box::into_raw(data) as usize;
    r.data.store(addr, Ordering::Release);
    r.percpu_count_ptr.store(addr ^ COOKIE, Ordering::Release);
    Ok(())
}

/// The counters behind `r`, if `r` was initialised and not exited.
///
/// The reference is valid until `exit(r)`; callers must not race `exit`,
/// which is the kernel's rule too.
#[inline]
pub fn data(r: &PercpuRef) -> Option<&'static RefData> {
    let addr = r.data.load(Ordering::Acquire);
    if addr == 0 || r.percpu_count_ptr.load(Ordering::Acquire) != addr ^ COOKIE {
        return None;
    }
    // SAFETY: `addr` was published by `init` from Box::into_raw together with
    // its check word, and is freed only by `exit`, which clears both first.
    Some(unsafe { &*(addr as *const RefData) })
}

/// `percpu_ref_exit()`: free the counters; `r` reads as uninitialised after.
pub fn exit(r: &PercpuRef) {
    let addr = r.data.load(Ordering::Acquire);
    if data(r).is_none() {
        return;
    }
    r.percpu_count_ptr.store(0, Ordering::Release);
    r.data.store(0, Ordering::Release);
    // SAFETY: `addr` is the Box `init` leaked (checked by `data` above), and
    // the check word is cleared, so no later lookup can reach it again.
    drop(unsafe { Box::from_raw(addr as *mut RefData) });
}

impl RefData {
    #[inline]
    fn slot(&self) -> &AtomicI64 {
        // my_slot() < NSLOTS by construction; `get` keeps this panic-free.
        match self.slots.get(my_slot()) {
            Some(s) => &s.0,
            None => &self.slots[0].0,
        }
    }

    /// Add `n` to this thread's slot; false if the slot is dead (and the
    /// add was undone).
    #[inline]
    fn slot_add(&self, n: i64) -> bool {
        let s = self.slot();
        let prev = s.fetch_add(n, Ordering::AcqRel);
        if prev <= DEAD_BELOW {
            s.fetch_sub(n, Ordering::AcqRel);
            return false;
        }
        true
    }

    /// `percpu_ref_get_many()`.
    #[inline]
    pub fn get(&self, n: i64) {
        if !self.slot_add(n) {
            self.count.fetch_add(n, Ordering::AcqRel);
        }
    }

    fn atomic_inc_not_zero(&self, n: i64) -> bool {
        let mut v = self.count.load(Ordering::Acquire);
        while v > 0 {
            match self
                .count
                .compare_exchange_weak(v, v + n, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return true,
                Err(now) => v = now,
            }
        }
        false
    }

    /// `percpu_ref_tryget_many()`: succeeds on a dying ref that is not zero.
    #[inline]
    pub fn tryget(&self, n: i64) -> bool {
        if tryget_injected() {
            return false;
        }
        self.slot_add(n) || self.atomic_inc_not_zero(n)
    }

    /// `percpu_ref_tryget_live()`: fails once the ref is dying.
    #[inline]
    pub fn tryget_live(&self) -> bool {
        if self.dying.load(Ordering::Acquire) {
            return false;
        }
        if self.slot_add(1) {
            return true;
        }
        // Atomic mode that is not dying: only PERCPU_REF_INIT_ATOMIC refs.
        !self.dying.load(Ordering::Acquire) && self.atomic_inc_not_zero(1)
    }

    /// `percpu_ref_put_many()`: the release runs when the count reaches 0.
    #[inline]
    pub fn put(&self, n: i64) {
        if self.slot_add(-n) {
            return;
        }
        self.atomic_sub(n);
    }

    fn atomic_sub(&self, n: i64) {
        let now = self.count.fetch_sub(n, Ordering::AcqRel) - n;
        if now == 0 {
            self.run_release();
        } else if now < 0 {
            self.count.fetch_add(n, Ordering::AcqRel);
            crate::warn_once_if!(
                "percpu_ref_put_many",
                true,
                "percpu ref ({:#x}) <= 0 ({}) after put: the put is ignored",
                self.ref_ptr,
                now
            );
        }
    }

    fn run_release(&self) {
        if self.released.swap(true, Ordering::AcqRel) {
            crate::warn_if!(
                "percpu_ref_put_many",
                true,
                "percpu ref ({:#x}) released twice",
                self.ref_ptr
            );
            return;
        }
        if let Some(f) = self.release {
            // SAFETY: `f` is the release callback given to percpu_ref_init()
            // for this very ref, called once with that ref, as the kernel does.
            unsafe { f(self.ref_ptr as *mut PercpuRef) }
        }
    }

    /// `percpu_ref_kill()`: mark dying, fold the slots into the atomic count
    /// and drop the initial reference. False (with a WARN) if already dying.
    pub fn kill(&self) -> bool {
        if crate::warn_once_if!(
            "percpu_ref_kill_and_confirm",
            self.dying.swap(true, Ordering::AcqRel),
            "percpu_ref_kill() called more than once on ({:#x})!",
            self.ref_ptr
        ) {
            return false;
        }
        let mut folded = 0i64;
        let mut was_percpu = false;
        for s in &self.slots {
            let v = s.0.swap(DEAD, Ordering::AcqRel);
            if v > DEAD_BELOW {
                was_percpu = true;
                folded += v;
            }
        }
        if was_percpu {
            // The bias came in at init; take it out with what the slots held.
            self.count.fetch_add(folded, Ordering::AcqRel);
            self.atomic_sub(BIAS);
        }
        self.atomic_sub(1);
        true
    }

    /// `percpu_ref_is_dying()`.
    #[inline]
    pub fn is_dying(&self) -> bool {
        self.dying.load(Ordering::Acquire)
    }

    /// `percpu_ref_is_zero()`: only an atomic-mode ref can be zero.
    pub fn is_zero(&self) -> bool {
        self.slots
            .iter()
            .all(|s| s.0.load(Ordering::Acquire) <= DEAD_BELOW)
            && self.count.load(Ordering::Acquire) == 0
    }

    /// The count as a quiescent observer sees it: the initial reference
    /// included while the ref is alive.
    pub fn count(&self) -> i64 {
        let mut sum = self.count.load(Ordering::Acquire);
        let mut percpu = false;
        for s in &self.slots {
            let v = s.0.load(Ordering::Acquire);
            if v > DEAD_BELOW {
                percpu = true;
                sum += v;
            }
        }
        if percpu {
            sum -= BIAS;
        }
        sum
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
        init(&r, Some(release), 0, None).unwrap();
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
        init(&r, None, 0, None).unwrap();
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
            init(&r, Some(release), 0, None).unwrap();
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
}
