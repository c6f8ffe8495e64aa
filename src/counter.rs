// SPDX-License-Identifier: GPL-2.0-only
//! The counting at the heart of the library, kept free of everything else
//! so that the same source is model-checked with loom (loom/tests/loom.rs):
//!
//! - [`PercpuCount`]: `percpu_ref`'s counters. Threads stand in for CPUs:
//!   each adds to its own padded slot, so gets and puts on different
//!   threads touch different cache lines. The kernel switches to atomic
//!   mode under RCU; here each slot switches by itself: `kill` swaps a
//!   far-negative sentinel into every slot and moves what the slot held
//!   into the atomic count, and an operation that finds the sentinel in its
//!   slot undoes itself there and goes to the atomic count instead. A bias
//!   keeps the atomic count off zero while the slots are collected.
//! - [`activate`] / [`drop_ref`]: a folio's refcount, whose 0 -> 1 step
//!   takes a pgmap pin first, so no folio is ever in use without its pin.
//! - [`read_hinted`]: reading a group of counts (a memmap chunk's pages)
//!   for the nonzero ones, skipping the group while its hint says none
//!   left 0 since the last read found them all 0.
//!
//! It reports; it never prints. Callers turn the results into WARNs.

use super::atomics::{yield_now, AtomicBool, AtomicI32, AtomicI64, Ordering};

/// What a dead slot holds (and stays near).
const DEAD: i64 = i64::MIN / 2;
/// Any slot value at or below this is dead.
const DEAD_BELOW: i64 = i64::MIN / 4;
/// Added to the atomic count while slots are live.
const BIAS: i64 = 1 << 60;

#[repr(align(128))]
struct Slot(AtomicI64);

/// What a put did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Put {
    /// The count is still above zero (or the ref is in per-CPU mode).
    Alive,
    /// The count reached zero: run the release, once.
    Released,
    /// The count reached zero again after the release already ran.
    ReleasedAgain,
    /// The put would take the count below zero (shown): it was undone.
    Underflow(i64),
}

/// The counters of one `percpu_ref`.
pub struct PercpuCount<const N: usize> {
    slots: [Slot; N],
    count: AtomicI64,
    dying: AtomicBool,
    /// Kills under way (folding the slots, dropping the initial reference).
    killing: AtomicI32,
    released: AtomicBool,
}

impl<const N: usize> PercpuCount<N> {
    /// A ref holding its initial reference: per-CPU, or atomic (for
    /// `PERCPU_REF_INIT_ATOMIC`); `dead` starts it killed at zero.
    pub fn new(atomic: bool, dead: bool) -> Self {
        let atomic = atomic || dead;
        PercpuCount {
            slots: std::array::from_fn(|_| Slot(AtomicI64::new(if atomic { DEAD } else { 0 }))),
            count: AtomicI64::new(match (atomic, dead) {
                (_, true) => 0,
                (true, false) => 1,
                (false, false) => BIAS + 1,
            }),
            dying: AtomicBool::new(dead),
            killing: AtomicI32::new(0),
            released: AtomicBool::new(false),
        }
    }

    #[inline]
    fn slot(&self, slot: usize) -> &AtomicI64 {
        &self.slots[slot % N].0
    }

    /// Add `n` to a slot; false if it is dead (and the add was undone).
    #[inline]
    fn slot_add(&self, slot: usize, n: i64) -> bool {
        let s = self.slot(slot);
        let prev = s.fetch_add(n, Ordering::AcqRel);
        if prev <= DEAD_BELOW {
            s.fetch_sub(n, Ordering::AcqRel);
            return false;
        }
        true
    }

    /// `percpu_ref_get_many()`. False if the ref was at zero already (a
    /// get after the release: the caller's bug, as in the kernel).
    #[inline]
    pub fn get(&self, slot: usize, n: i64) -> bool {
        self.slot_add(slot, n) || self.count.fetch_add(n, Ordering::AcqRel) > 0
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

    /// `percpu_ref_tryget_many()`: succeeds on a dying ref not yet at zero.
    #[inline]
    pub fn tryget(&self, slot: usize, n: i64) -> bool {
        self.slot_add(slot, n) || self.atomic_inc_not_zero(n)
    }

    /// `percpu_ref_tryget_live()`: fails once the ref is dying.
    #[inline]
    pub fn tryget_live(&self, slot: usize) -> bool {
        if self.dying.load(Ordering::Acquire) {
            return false;
        }
        if self.slot_add(slot, 1) {
            return true;
        }
        // Atomic mode that is not dying: a PERCPU_REF_INIT_ATOMIC ref.
        !self.dying.load(Ordering::Acquire) && self.atomic_inc_not_zero(1)
    }

    /// `percpu_ref_put_many()`.
    #[inline]
    pub fn put(&self, slot: usize, n: i64) -> Put {
        if self.slot_add(slot, -n) {
            return Put::Alive;
        }
        self.atomic_sub(n)
    }

    fn atomic_sub(&self, n: i64) -> Put {
        let now = self.count.fetch_sub(n, Ordering::AcqRel) - n;
        if now > 0 {
            return Put::Alive;
        }
        if now < 0 {
            self.count.fetch_add(n, Ordering::AcqRel);
            return Put::Underflow(now);
        }
        if self.released.swap(true, Ordering::AcqRel) {
            Put::ReleasedAgain
        } else {
            Put::Released
        }
    }

    /// `percpu_ref_kill()`: mark dying, fold the slots into the atomic
    /// count and drop the initial reference. None if it was dying already.
    pub fn kill(&self) -> Option<Put> {
        self.killing.fetch_add(1, Ordering::AcqRel);
        if self.dying.swap(true, Ordering::AcqRel) {
            self.killing.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        // Each slot's value moves into the atomic count as the slot dies,
        // so an observer ([`Self::count`]) never misses it; the bias keeps
        // the count off zero until every slot is in, then goes.
        let mut was_percpu = false;
        for s in &self.slots {
            let v = s.0.swap(DEAD, Ordering::AcqRel);
            if v > DEAD_BELOW {
                was_percpu = true;
                self.count.fetch_add(v, Ordering::AcqRel);
            }
        }
        if was_percpu {
            // The bias came in at creation.
            self.count.fetch_sub(BIAS, Ordering::AcqRel);
        }
        let put = self.atomic_sub(1);
        self.killing.fetch_sub(1, Ordering::AcqRel);
        Some(put)
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

    /// The count and whether the ref is dying, read together: never in
    /// the middle of a kill, which sets `dying` first and drops the initial
    /// reference last (the reader waits the kill out). A kill that overlaps
    /// the read either shows `killing` on one side of it or, begun and
    /// ended within it, changes `dying` across it. (Not in loom/tests/loom.rs:
    /// its retry loop makes loom's search unbounded; `count()` is there.)
    pub fn settled(&self) -> (i64, bool) {
        loop {
            let d1 = self.dying.load(Ordering::Acquire);
            let k1 = self.killing.load(Ordering::Acquire);
            let n = self.count();
            let k2 = self.killing.load(Ordering::Acquire);
            let d2 = self.dying.load(Ordering::Acquire);
            if k1 == 0 && k2 == 0 && d1 == d2 {
                return (n, d1);
            }
            yield_now();
        }
    }

    /// The count, the initial reference included while the ref is alive:
    /// exact when nothing else runs, and during a kill too (the bias stays
    /// in the atomic count until every slot has been folded into it).
    pub fn count(&self) -> i64 {
        // A kill moves slot values into the atomic count while we read: read
        // the slots between two equal reads of the atomic count, so no value
        // is missed or counted twice.
        let mut atomic = self.count.load(Ordering::Acquire);
        loop {
            let mut sum = atomic;
            for s in &self.slots {
                let v = s.0.load(Ordering::Acquire);
                if v > DEAD_BELOW {
                    sum += v;
                }
            }
            let again = self.count.load(Ordering::Acquire);
            if again == atomic {
                return if sum >= BIAS / 2 { sum - BIAS } else { sum };
            }
            atomic = again;
        }
    }
}

/// What [`activate`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activate {
    /// The folio, in use already, gained a reference.
    Done,
    /// The folio was idle: this call took its pin and made its 0 -> 1
    /// step (so its chunk's hint is the caller's to set, see
    /// [`hint_after_rmw`]).
    Activated,
    /// The refcount was negative (shown): nothing changed.
    Negative(i32),
    /// The folio was idle and no pin could be had: nothing changed.
    NoPin,
}

/// Raise a folio's refcount. From 0 the pin comes first (`tryget`), then
/// the 0 -> 1 step; if another thread won that step, the pin goes back
/// (`unpin`) and the folio is taken as in use.
#[inline(always)]
pub fn activate(
    refcount: &AtomicI32,
    mut tryget: impl FnMut() -> bool,
    mut unpin: impl FnMut(),
) -> Activate {
    let mut v = refcount.load(Ordering::Acquire);
    loop {
        if v > 0 {
            match refcount.compare_exchange_weak(v, v + 1, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => return Activate::Done,
                Err(now) => v = now,
            }
            continue;
        }
        if v < 0 {
            return Activate::Negative(v);
        }
        if !tryget() {
            return Activate::NoPin;
        }
        match refcount.compare_exchange(0, 1, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => return Activate::Activated,
            Err(now) => {
                unpin();
                v = now;
            }
        }
    }
}

/// What [`drop_ref`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DropRef {
    /// Still in use.
    Dropped,
    /// That was the last reference: free the folio and drop its pin.
    Last,
    /// The folio was idle already (its count shown): nothing changed.
    Idle(i32),
}

/// Drop one reference on a folio.
#[inline(always)]
pub fn drop_ref(refcount: &AtomicI32) -> DropRef {
    let mut v = refcount.load(Ordering::Acquire);
    loop {
        if v <= 0 {
            return DropRef::Idle(v);
        }
        match refcount.compare_exchange_weak(v, v - 1, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) if v == 1 => return DropRef::Last,
            Ok(_) => return DropRef::Dropped,
            Err(now) => v = now,
        }
    }
}

/// Take a reference on a folio already in use; Err(count) if it is idle.
#[inline]
pub fn get_ref(refcount: &AtomicI32) -> Result<(), i32> {
    let mut v = refcount.load(Ordering::Acquire);
    loop {
        if v <= 0 {
            return Err(v);
        }
        match refcount.compare_exchange_weak(v, v + 1, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => return Ok(()),
            Err(now) => v = now,
        }
    }
}

/// A writer that took a count of the group from 0 to nonzero by a
/// read-modify-write (a CAS, a fetch_add) sets the group's hint after it.
/// A load first: the hint is usually set already, and a store would
/// bounce its cache line between CPUs for nothing.
#[inline(always)]
pub fn hint_after_rmw(hint: &AtomicBool) {
    if !hint.load(Ordering::Acquire) {
        hint.store(true, Ordering::Release);
    }
}

/// A writer that *stored* a nonzero count (no read-modify-write) sets the
/// hint after it by a store, whatever it holds: no load, which could read
/// a set hint just before a reader clears it.
#[inline(always)]
pub fn hint_after_store(hint: &AtomicBool) {
    hint.store(true, Ordering::Release);
}

/// Call `seen(i, v)` for each nonzero count `v` of a group of `n`
/// (`count(i)`), skipping the whole group when its hint is clear. Readers
/// of one group must not run at the same time (the caller serialises
/// them); writers may, if they set the hint as above after every step of
/// a count from 0.
///
/// A read that finds a nonzero count keeps the hint. One that finds all
/// zero clears it with a swap, then reads the counts again with
/// read-modify-writes, which read the latest value of each:
/// - a writer's RMW step from 0 that this second read does not see comes
///   after it in the count's order and reads from it, so the writer's
///   hint load comes after the clear and sets the hint again;
/// - a writer's hint store either comes after the clearing swap (and the
///   hint ends set) or is what the swap read, and then its count store is
///   seen by the second read.
///
/// So once its writer is done, a nonzero count is never behind a clear
/// hint.
pub fn read_hinted<'a>(
    hint: &AtomicBool,
    n: usize,
    count: impl Fn(usize) -> &'a AtomicI32,
    mut seen: impl FnMut(usize, i32),
) {
    // One pass over the counts, each read by `read`: were any nonzero?
    let mut pass = |read: &dyn Fn(&AtomicI32) -> i32| {
        let mut busy = false;
        for i in 0..n {
            let v = read(count(i));
            if v != 0 {
                busy = true;
                seen(i, v);
            }
        }
        busy
    };
    if !hint.load(Ordering::Acquire) || pass(&|c| c.load(Ordering::Acquire)) {
        return;
    }
    hint.swap(false, Ordering::AcqRel);
    if pass(&|c| c.fetch_add(0, Ordering::AcqRel)) {
        hint.store(true, Ordering::Release);
    }
}
