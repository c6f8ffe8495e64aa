// SPDX-License-Identifier: GPL-2.0-only
//! One page's entry in an address space: a present page, or a swap entry in
//! the kernel's `swp_entry_t` form (Linux 6.1 include/linux/swap.h and
//! swapops.h): device-private entries (types 27, 28) and migration
//! entries (24, 26), the pfn in the offset.

/// Swap entry types (Linux 6.1, include/linux/swap.h, every option on):
/// MAX_SWAPFILES = 32 - 4 device - 3 migration - 1 hwpoison - 1 marker.
const MAX_SWAPFILES: u64 = 23;
pub const SWP_MIGRATION_READ: u64 = MAX_SWAPFILES + 1;
pub const SWP_MIGRATION_WRITE: u64 = MAX_SWAPFILES + 3;
pub const SWP_DEVICE_WRITE: u64 = MAX_SWAPFILES + 1 + 3;
pub const SWP_DEVICE_READ: u64 = SWP_DEVICE_WRITE + 1;
/// `SWP_TYPE_SHIFT` = BITS_PER_XA_VALUE (63) - MAX_SWAPFILES_SHIFT (5).
const SWP_TYPE_SHIFT: u32 = 58;
/// `SWP_PFN_BITS` = MAX_PHYSMEM_BITS - PAGE_SHIFT.
const SWP_PFN_MASK: u64 = (1 << crate::types::MAX_PFN_BITS) - 1;

/// `swp_entry(type, offset)`.
pub fn swp_entry(ty: u64, offset: u64) -> u64 {
    (ty << SWP_TYPE_SHIFT) | (offset & ((1 << SWP_TYPE_SHIFT) - 1))
}

/// `swp_type()`, `swp_offset_pfn()`.
pub fn swp_type(e: u64) -> u64 {
    e >> SWP_TYPE_SHIFT
}
pub fn swp_pfn(e: u64) -> u64 {
    e & SWP_PFN_MASK
}

/// One page's entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pte {
    Present { pfn: u64, write: bool },
    Swap(u64),
}

impl Pte {
    /// A device-private entry for `pfn`.
    pub fn device_private(pfn: u64, write: bool) -> Self {
        let ty = if write {
            SWP_DEVICE_WRITE
        } else {
            SWP_DEVICE_READ
        };
        Pte::Swap(swp_entry(ty, pfn))
    }

    /// A migration entry for `pfn`.
    pub fn migration(pfn: u64, write: bool) -> Self {
        let ty = if write {
            SWP_MIGRATION_WRITE
        } else {
            SWP_MIGRATION_READ
        };
        Pte::Swap(swp_entry(ty, pfn))
    }

    /// The pfn it names.
    pub fn pfn(self) -> u64 {
        match self {
            Pte::Present { pfn, .. } => pfn,
            Pte::Swap(e) => swp_pfn(e),
        }
    }

    pub fn is_device_private(self) -> bool {
        matches!(self, Pte::Swap(e) if matches!(swp_type(e), SWP_DEVICE_WRITE | SWP_DEVICE_READ))
    }

    pub fn is_migration(self) -> bool {
        matches!(self, Pte::Swap(e)
            if (SWP_MIGRATION_READ..=SWP_MIGRATION_WRITE).contains(&swp_type(e)))
    }

    /// Writable: a writable pte, device-private or migration entry.
    pub fn write(self) -> bool {
        match self {
            Pte::Present { write, .. } => write,
            Pte::Swap(e) => matches!(swp_type(e), SWP_DEVICE_WRITE | SWP_MIGRATION_WRITE),
        }
    }

    /// Does it hold a page reference (and a mapcount)?
    pub fn holds_page(self) -> bool {
        !self.is_migration()
    }
}
