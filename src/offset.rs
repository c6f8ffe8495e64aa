// SPDX-License-Identifier: GPL-2.0-only
//! A pgmap's offset space: its ranges concatenated in array order.
//!
//! The kernel walks every range on each translation; here an index built
//! once at `memremap_pages()` time answers in O(log nr_range): prefix sums in
//! array order for offset -> pfn, and the ranges sorted by address for
//! pfn -> offset. Everything is in pfns, so nothing wraps at 2^52.

/// One range of the index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Piece {
    /// First offset of the range (sum of the lengths before it).
    offset: u64,
    /// First and last pfn.
    start: u64,
    end: u64,
}

/// The translation index of one pgmap.
#[derive(Debug, Default)]
pub struct RangeIndex {
    /// Array order; `offset` is increasing.
    by_offset: Vec<Piece>,
    /// Address order; ranges do not overlap.
    by_addr: Vec<Piece>,
    total: u64,
}

impl RangeIndex {
    /// Build from `(first pfn, last pfn)` pairs in array order; every pair
    /// must have `first <= last`, and pairs must not overlap.
    pub fn new(ranges: &[(u64, u64)]) -> Self {
        let mut by_offset = Vec::with_capacity(ranges.len());
        let mut total = 0u64;
        for &(start, end) in ranges {
            by_offset.push(Piece {
                offset: total,
                start,
                end,
            });
            total = total.saturating_add(end - start + 1);
        }
        let mut by_addr = by_offset.clone();
        by_addr.sort_unstable_by_key(|p| p.start);
        RangeIndex {
            by_offset,
            by_addr,
            total,
        }
    }

    /// Pages in the offset space.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// `pgmap_offset_to_pfn()`: None past the end.
    #[inline]
    pub fn offset_to_pfn(&self, offset: u64) -> Option<u64> {
        if offset >= self.total {
            return None;
        }
        let i = self.by_offset.partition_point(|p| p.offset <= offset);
        let p = self.by_offset.get(i.checked_sub(1)?)?;
        Some(p.start + (offset - p.offset))
    }

    /// `pfn_to_pgmap_offset()`: None for a pfn in no range.
    #[inline]
    pub fn pfn_to_offset(&self, pfn: u64) -> Option<u64> {
        let i = self.by_addr.partition_point(|p| p.start <= pfn);
        let p = self.by_addr.get(i.checked_sub(1)?)?;
        if pfn > p.end {
            return None;
        }
        Some(p.offset + (pfn - p.start))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn array_order_not_address_order() {
        // Range 0 sits above range 1 in memory.
        let idx = RangeIndex::new(&[(1024, 1535), (0, 511), (4096, 5119)]);
        assert_eq!(idx.total(), 512 + 512 + 1024);
        assert_eq!(idx.offset_to_pfn(0), Some(1024));
        assert_eq!(idx.offset_to_pfn(511), Some(1535));
        assert_eq!(idx.offset_to_pfn(512), Some(0));
        assert_eq!(idx.offset_to_pfn(1024), Some(4096));
        assert_eq!(idx.offset_to_pfn(2047), Some(5119));
        assert_eq!(idx.offset_to_pfn(2048), None);
        assert_eq!(idx.offset_to_pfn(u64::MAX), None);
        assert_eq!(idx.pfn_to_offset(0), Some(512));
        assert_eq!(idx.pfn_to_offset(1024), Some(0));
        assert_eq!(idx.pfn_to_offset(5119), Some(2047));
        assert_eq!(idx.pfn_to_offset(512), None);
        assert_eq!(idx.pfn_to_offset(5120), None);
        assert_eq!(idx.pfn_to_offset(u64::MAX), None);
    }

    #[test]
    fn round_trip_every_offset() {
        let idx = RangeIndex::new(&[(2048, 2559), (512, 1023), (0, 511)]);
        for off in 0..idx.total() {
            let pfn = idx.offset_to_pfn(off).unwrap();
            assert_eq!(idx.pfn_to_offset(pfn), Some(off));
        }
    }
}
