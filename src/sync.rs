// SPDX-License-Identifier: GPL-2.0-only
//! Waiting, with a bound: `struct completion` on a futex, and the hashed
//! wait table behind `lock_page()`. Nothing here waits for ever: every wait
//! gives up after [`wait_bound`] so that a test can never hang.

use crate::types::Completion;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

/// The bound on any wait, in milliseconds (default 10 s).
static WAIT_BOUND_MS: AtomicU64 = AtomicU64::new(10_000);

/// Set the bound on waits (`memunmap_pages()`, `lock_page()`).
pub fn set_wait_bound(ms: u64) {
    WAIT_BOUND_MS.store(ms, Ordering::Relaxed);
}

/// The bound on waits.
pub fn wait_bound() -> Duration {
    Duration::from_millis(WAIT_BOUND_MS.load(Ordering::Relaxed))
}

const COMPLETE_ALL: u32 = u32::MAX;

fn futex_wait(word: &AtomicU32, expected: u32, timeout: Duration) {
    let ts = libc::timespec {
        tv_sec: timeout.as_secs().min(i64::MAX as u64) as libc::time_t,
        tv_nsec: timeout.subsec_nanos() as libc::c_long,
    };
    // SAFETY: `word` is a live, aligned u32 for the duration of the call and
    // `ts` outlives it; FUTEX_WAIT only reads them. Spurious returns are fine:
    // every caller re-checks its condition.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG,
            expected,
            &ts as *const libc::timespec,
        );
    }
}

fn futex_wake(word: &AtomicU32, n: i32) {
    // SAFETY: FUTEX_WAKE only uses the address as a key; it reads nothing.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG,
            n,
        );
    }
}

/// `init_completion()` / `reinit_completion()`.
pub fn init_completion(c: &Completion) {
    c.done.store(0, Ordering::Release);
}

/// `complete()`: wake one waiter.
pub fn complete(c: &Completion) {
    let mut v = c.done.load(Ordering::Acquire);
    while v != COMPLETE_ALL {
        match c
            .done
            .compare_exchange_weak(v, v + 1, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => break,
            Err(now) => v = now,
        }
    }
    futex_wake(&c.done, 1);
}

/// `complete_all()`: wake every waiter, now and later.
pub fn complete_all(c: &Completion) {
    c.done.store(COMPLETE_ALL, Ordering::Release);
    futex_wake(&c.done, i32::MAX);
}

/// `try_wait_for_completion()`: consume one completion if there is one.
pub fn try_wait(c: &Completion) -> bool {
    let mut v = c.done.load(Ordering::Acquire);
    loop {
        if v == 0 {
            return false;
        }
        if v == COMPLETE_ALL {
            return true;
        }
        match c
            .done
            .compare_exchange_weak(v, v - 1, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => return true,
            Err(now) => v = now,
        }
    }
}

/// `completion_done()`.
pub fn completion_done(c: &Completion) -> bool {
    c.done.load(Ordering::Acquire) != 0
}

/// A deadline `timeout` from now, never past the wait bound (so that no
/// wait outlives it, and no addition overflows).
pub fn deadline(timeout: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(timeout.min(wait_bound())).unwrap_or(now)
}

/// Wait for a completion for at most `timeout` (and never past the wait
/// bound); true if it came.
pub fn wait_timeout(c: &Completion, timeout: Duration) -> bool {
    let deadline = deadline(timeout);
    loop {
        if try_wait(c) {
            return true;
        }
        let now = Instant::now();
        if now >= deadline {
            return false;
        }
        futex_wait(&c.done, 0, deadline - now);
    }
}

/// `wait_for_completion_timeout()`: jiffies are milliseconds here
/// (HZ=1000). Returns the jiffies left, at least 1, or 0 on time-out, as
/// the kernel does. A timeout longer than the library's wait bound
/// (MAX_SCHEDULE_TIMEOUT, say) waits for the bound and WARNs if it runs
/// out, rather than hanging.
pub fn wait_for_completion_timeout(c: &Completion, timeout: u64) -> u64 {
    let asked = Duration::from_millis(timeout);
    let start = Instant::now();
    if !wait_timeout(c, asked) {
        crate::warn_if!(
            "wait_for_completion_timeout",
            asked > wait_bound(),
            "wait_for_completion_timeout({timeout}) gave up at the {} ms bound",
            wait_bound().as_millis()
        );
        return 0;
    }
    let spent = start.elapsed().as_millis() as u64;
    timeout.saturating_sub(spent).max(1)
}

/// `wait_for_completion()`: the kernel waits for ever; this waits for the
/// library's bound and WARNs.
pub fn wait_for_completion(c: &Completion) {
    let got = wait_timeout(c, wait_bound());
    crate::warn_if!(
        "wait_for_completion",
        !got,
        "wait_for_completion() gave up after {} ms",
        wait_bound().as_millis()
    );
}

/// The page-lock wait table: waiters on a locked page sleep on the bucket
/// its address hashes to, like the kernel's `folio_wait_table`.
struct Bucket {
    lock: Mutex<()>,
    cond: Condvar,
}

const BUCKETS: usize = 64;

static TABLE: [Bucket; BUCKETS] = [const {
    Bucket {
        lock: Mutex::new(()),
        cond: Condvar::new(),
    }
}; BUCKETS];

fn bucket(addr: usize) -> &'static Bucket {
    let h = (addr >> 6).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 58;
    &TABLE[h % BUCKETS]
}

/// Sleep on the bucket of `addr` until `ready()` holds, having announced
/// the wait with `announce()` under the bucket lock. Returns false when the
/// bound ran out first.
pub fn wait_on_bit(addr: usize, announce: impl Fn(), ready: impl Fn() -> bool) -> bool {
    let b = bucket(addr);
    let deadline = deadline(wait_bound());
    let mut guard = b.lock.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        announce();
        if ready() {
            return true;
        }
        let now = Instant::now();
        if now >= deadline {
            return false;
        }
        guard = match b.cond.wait_timeout(guard, deadline - now) {
            Ok((g, _)) => g,
            Err(e) => e.into_inner().0,
        };
    }
}

/// Wake every sleeper on the bucket of `addr`.
pub fn wake_bit(addr: usize) {
    let b = bucket(addr);
    let _guard = b.lock.lock().unwrap_or_else(|e| e.into_inner());
    b.cond.notify_all();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn completion() -> Completion {
        Completion {
            done: AtomicU32::new(0),
            wait: [0; 7],
        }
    }

    #[test]
    fn completion_counts_and_times_out() {
        let c = completion();
        assert!(!wait_timeout(&c, Duration::from_millis(5)));
        complete(&c);
        complete(&c);
        assert!(wait_timeout(&c, Duration::from_millis(5)));
        assert!(try_wait(&c));
        assert!(!try_wait(&c));
        complete_all(&c);
        assert!(try_wait(&c) && try_wait(&c));
    }

    #[test]
    fn completion_wakes_a_sleeper() {
        let c = std::sync::Arc::new(completion());
        let c2 = c.clone();
        let t = std::thread::spawn(move || wait_timeout(&c2, Duration::from_secs(5)));
        std::thread::sleep(Duration::from_millis(20));
        complete(&c);
        assert!(t.join().unwrap());
    }
}
