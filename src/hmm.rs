// SPDX-License-Identifier: GPL-2.0-only
//! `hmm_range_fault()` (Linux 6.1 mm/hmm.c, docs/DESIGN.md §10): snapshot
//! the CPU's view of a range into `hmm_pfns`, faulting in what the caller
//! requires, for a driver to mirror. Device-private pages of the caller's
//! own pgmap owner are reported as they are; any other entry that must be
//! valid is faulted (a device-private one through its `->migrate_to_ram()`),
//! and then the walk restarts; a notifier invalidated meanwhile makes the
//! whole call return -EBUSY, for the caller to begin again.

use crate::address_space::{self as aspace, Pte, VM_READ, VM_WRITE};
use crate::{fault, memmap, mmu_notifier};

/// `enum hmm_pfn_flags`.
pub const HMM_PFN_VALID: u64 = 1 << 63;
pub const HMM_PFN_WRITE: u64 = 1 << 62;
pub const HMM_PFN_ERROR: u64 = 1 << 61;
const HMM_PFN_REQ_FAULT: u64 = HMM_PFN_VALID;
const HMM_PFN_REQ_WRITE: u64 = HMM_PFN_WRITE;

/// The request, as `struct hmm_range` gives it.
pub struct Range {
    pub notifier: usize,
    pub notifier_seq: u64,
    pub start: u64,
    pub end: u64,
    pub default_flags: u64,
    pub pfn_flags_mask: u64,
    pub dev_private_owner: usize,
}

enum Walk {
    Done,
    /// A fault was taken: walk again from this address.
    Restart(u64),
}

/// `hmm_pte_need_fault()`: (fault, write fault).
fn need_fault(r: &Range, req: u64, cpu: u64) -> (bool, bool) {
    let req = (req & r.pfn_flags_mask) | r.default_flags;
    if req & HMM_PFN_REQ_FAULT == 0 {
        return (false, false);
    }
    if req & HMM_PFN_REQ_WRITE != 0 && cpu & HMM_PFN_WRITE == 0 {
        return (true, true);
    }
    (cpu & HMM_PFN_VALID == 0, false)
}

fn walk(r: &Range, mm: usize, from: u64, pfns: &mut [u64]) -> Result<Walk, i32> {
    let mut addr = from;
    while addr < r.end {
        let i = ((addr - r.start) >> 12) as usize;
        let Some(slot) = pfns.get_mut(i) else {
            return Err(libc::EINVAL);
        };
        let vma = aspace::vma_at(mm, addr).filter(|v| v.flags & VM_READ != 0);
        let Some(vma) = vma else {
            if need_fault(r, *slot, 0).0 {
                return Err(libc::EFAULT);
            }
            *slot = HMM_PFN_ERROR;
            addr += aspace::PAGE_SIZE;
            continue;
        };
        let (pfn, cpu) = match aspace::entry(mm, addr) {
            None => (0, 0),
            Some(Pte::Present { pfn, write }) => {
                (pfn, HMM_PFN_VALID | if write { HMM_PFN_WRITE } else { 0 })
            }
            Some(pte) if pte.is_device_private() => {
                let owner = memmap::page_of(pte.pfn())
                    .and_then(aspace::pgmap_type_owner)
                    .map(|(_, o)| o);
                if owner == Some(r.dev_private_owner) {
                    let w = if pte.write() { HMM_PFN_WRITE } else { 0 };
                    *slot = pte.pfn() | HMM_PFN_VALID | w;
                    addr += aspace::PAGE_SIZE;
                    continue;
                }
                (0, 0)
            }
            // A migration entry: the kernel waits for it, then retries.
            Some(_) => return Err(libc::EBUSY),
        };
        let (fault, write) = need_fault(r, *slot, cpu);
        if fault {
            if write && vma.flags & VM_WRITE == 0 {
                return Err(libc::EPERM);
            }
            fault::handle_mm_fault(mm, addr, write).map_err(|_| libc::EFAULT)?;
            return Ok(Walk::Restart(addr));
        }
        *slot = if cpu & HMM_PFN_VALID != 0 {
            pfn | cpu
        } else {
            0
        };
        addr += aspace::PAGE_SIZE;
    }
    Ok(Walk::Done)
}

/// `hmm_range_fault()`: 0, or -EBUSY (the notifier was invalidated: begin
/// again), -EFAULT, -EPERM, -EINVAL.
pub fn range_fault(r: &Range, pfns: &mut [u64]) -> i32 {
    let Some((mm, _)) = mmu_notifier::mm_and_seq(r.notifier) else {
        crate::warn_if!(
            "hmm_range_fault",
            true,
            "hmm_range_fault(): notifier {:#x} is not inserted",
            r.notifier
        );
        return -libc::EINVAL;
    };
    crate::warn_if!(
        "hmm_range_fault",
        !aspace::mmap_is_locked(mm),
        "hmm_range_fault() without the mmap lock of mm {mm:#x}"
    );
    let mut from = r.start;
    // Each restart follows a fault that made one more entry valid.
    let mut budget = (r.end.saturating_sub(r.start) >> 12).saturating_mul(4) + 16;
    loop {
        budget -= 1;
        if crate::warn_if!(
            "hmm_range_fault",
            budget == 0,
            "hmm_range_fault() made no progress after its faults"
        ) {
            return -libc::EBUSY;
        }
        if mmu_notifier::mm_and_seq(r.notifier).map(|(_, s)| s) != Some(r.notifier_seq) {
            return -libc::EBUSY;
        }
        match walk(r, mm, from, pfns) {
            Ok(Walk::Done) => return 0,
            Ok(Walk::Restart(at)) => from = at,
            Err(e) => return -e,
        }
    }
}
