// SPDX-License-Identifier: GPL-2.0-only
//! Device-managed resources (`devres`): each device's list of release
//! actions, run newest first when the device goes away, as the driver
//! core's `devres_release_all()` does (drivers/base/devres.c).
//!
//! The list is keyed by the device's address, so a `struct device` that
//! was never `device_initialize()`d (a zeroed static, as the callers' mocks
//! use) still collects actions. Every entry is told apart by a [`Tag`] and
//! a key of two words, the way the kernel matches a devres by its release
//! function and match data (`devres_find()` / `devres_destroy()`).

use std::sync::Mutex;

/// What kind of managed resource an entry is; with the key it names the
/// entry for `devm_*_release()`-style removal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tag {
    /// `devm_add_action()`: key (action, data).
    Action,
    /// `devm_kmalloc()`: key (pointer, 0).
    Kmalloc,
    /// `devm_memremap_pages()`: key (pgmap, 0).
    Pgmap,
    /// `__devm_request_region()` and `devm_request_free_mem_region()`:
    /// key (start, size).
    Region,
}

/// A release action; it runs with no lock of this module held.
pub type Release = Box<dyn FnOnce() + Send>;

struct Entry {
    dev: usize,
    tag: Tag,
    key: (usize, usize),
    release: Release,
}

/// Every device's entries, oldest first.
static LIST: Mutex<Vec<Entry>> = Mutex::new(Vec::new());

fn list() -> std::sync::MutexGuard<'static, Vec<Entry>> {
    LIST.lock().unwrap_or_else(|e| e.into_inner())
}

/// Register `release` for `dev`. Fails with ENOMEM where the kernel's
/// `devres_alloc()` would, that is when allocation fault injection says so
/// (the entry is the allocation the kernel makes).
pub fn add(dev: usize, tag: Tag, key: (usize, usize), release: Release) -> Result<(), i32> {
    if crate::slab::should_fail() {
        return Err(libc::ENOMEM);
    }
    add_unfailing(dev, tag, key, release);
    Ok(())
}

/// `add()` for a caller that already drew its allocation's fault
/// injection (the kernel's `devres_alloc()` before `devres_add()`).
pub fn add_unfailing(dev: usize, tag: Tag, key: (usize, usize), release: Release) {
    list().push(Entry {
        dev,
        tag,
        key,
        release,
    });
}

/// Unlink the newest entry of `dev` with this tag and key, without running
/// it (`devres_remove()`); its action is returned so the caller may.
pub fn remove(dev: usize, tag: Tag, key: (usize, usize)) -> Option<Release> {
    let mut l = list();
    let at = l
        .iter()
        .rposition(|e| e.dev == dev && e.tag == tag && e.key == key)?;
    Some(l.remove(at).release)
}

/// Is there an entry of `dev` with this tag and key?
pub fn contains(dev: usize, tag: Tag, key: (usize, usize)) -> bool {
    list()
        .iter()
        .any(|e| e.dev == dev && e.tag == tag && e.key == key)
}

/// Run and drop every entry of `dev`, newest first (`devres_release_all()`).
/// Entries an action adds for the same device meanwhile are run too.
/// Returns how many ran.
pub fn release_all(dev: usize) -> usize {
    let mut ran = 0;
    loop {
        let next = {
            let mut l = list();
            l.iter()
                .rposition(|e| e.dev == dev)
                .map(|at| l.remove(at).release)
        };
        match next {
            Some(release) => {
                release();
                ran += 1;
            }
            None => return ran,
        }
    }
}

/// Entries still registered, over all devices.
pub fn live_count() -> usize {
    list().len()
}

/// Entries still registered for `dev`.
pub fn count(dev: usize) -> usize {
    list().iter().filter(|e| e.dev == dev).count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex as M};

    #[test]
    fn release_all_runs_newest_first_and_only_that_device() {
        let _serial = crate::test_serial();
        let order = Arc::new(M::new(Vec::new()));
        for i in 0..3 {
            let o = order.clone();
            add(
                0x1000,
                Tag::Action,
                (i, 0),
                Box::new(move || o.lock().unwrap().push(i)),
            )
            .unwrap();
        }
        let o = order.clone();
        add(
            0x2000,
            Tag::Action,
            (9, 0),
            Box::new(move || o.lock().unwrap().push(9)),
        )
        .unwrap();
        assert_eq!(release_all(0x1000), 3);
        assert_eq!(*order.lock().unwrap(), [2, 1, 0]);
        assert_eq!(count(0x2000), 1);
        assert!(remove(0x2000, Tag::Action, (9, 0)).is_some());
        assert!(remove(0x2000, Tag::Action, (9, 0)).is_none());
        assert_eq!(count(0x2000), 0);
    }

    #[test]
    fn add_fails_under_fault_injection() {
        let _serial = crate::test_serial();
        crate::slab::fail_nth(1);
        assert_eq!(
            add(0x3000, Tag::Action, (1, 1), Box::new(|| {})),
            Err(libc::ENOMEM)
        );
        assert_eq!(count(0x3000), 0);
    }
}
