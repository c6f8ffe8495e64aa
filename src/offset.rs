// SPDX-License-Identifier: GPL-2.0-only
//! A pgmap's offset space: its ranges concatenated in array order.
//!
//! The kernel walks every range on each translation; here an index built
//! once at `memremap_pages()` time answers in O(log nr_range): prefix sums in
//! array order for offset -> pfn, and the ranges sorted by address for
//! pfn -> offset. Everything is in pfns, so nothing wraps at 2^52.

/// The translation index of one pgmap: dense key arrays, so that a
/// binary search over thousands of ranges stays in cache.
#[derive(Debug, Default)]
pub struct RangeIndex {
    /// Array order: first offset of each range (increasing), and its pfn.
    off_key: Vec<u64>,
    off_pfn: Vec<u64>,
    /// Address order: first and last pfn of each range, and its offset.
    addr_key: Vec<u64>,
    addr_end: Vec<u64>,
    addr_off: Vec<u64>,
    /// Range 0, for the common one-range pgmap.
    single: bool,
    first_pfn: u64,
    first_end: u64,
    total: u64,
}

/// How many keys are `<= x`, branch-free.
#[inline(always)]
fn count_le(keys: &[u64], x: u64) -> usize {
    let mut base = 0usize;
    let mut len = keys.len();
    if len == 0 {
        return 0;
    }
    while len > 1 {
        let half = len / 2;
        if keys.get(base + half).is_some_and(|&k| k <= x) {
            base += half;
        }
        len -= half;
    }
    base + usize::from(keys.get(base).is_some_and(|&k| k <= x))
}

impl RangeIndex {
    /// Build from `(first pfn, last pfn)` pairs in array order; every pair
    /// must have `first <= last`, and pairs must not overlap.
    pub fn new(ranges: &[(u64, u64)]) -> Self {
        let mut idx = RangeIndex::default();
        let mut order: Vec<(u64, u64, u64)> = Vec::with_capacity(ranges.len());
        for &(start, end) in ranges {
            idx.off_key.push(idx.total);
            idx.off_pfn.push(start);
            order.push((start, end, idx.total));
            idx.total = idx.total.saturating_add(end - start + 1);
        }
        order.sort_unstable();
        for (start, end, off) in order {
            idx.addr_key.push(start);
            idx.addr_end.push(end);
            idx.addr_off.push(off);
        }
        idx.single = ranges.len() == 1;
        idx.first_pfn = ranges.first().map_or(0, |r| r.0);
        idx.first_end = ranges.first().map_or(0, |r| r.1);
        idx
    }

    /// Pages in the offset space.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// `pgmap_offset_to_pfn()`: None past the end.
    #[inline(always)]
    pub fn offset_to_pfn(&self, offset: u64) -> Option<u64> {
        if offset >= self.total {
            return None;
        }
        if self.single {
            return Some(self.first_pfn + offset);
        }
        let i = count_le(&self.off_key, offset).checked_sub(1)?;
        Some(self.off_pfn.get(i)? + (offset - self.off_key.get(i)?))
    }

    /// `pfn_to_pgmap_offset()`: None for a pfn in no range.
    #[inline(always)]
    pub fn pfn_to_offset(&self, pfn: u64) -> Option<u64> {
        if self.single {
            let inside = pfn >= self.first_pfn && pfn <= self.first_end;
            return inside.then(|| pfn - self.first_pfn);
        }
        let i = count_le(&self.addr_key, pfn).checked_sub(1)?;
        let start = *self.addr_key.get(i)?;
        if pfn > *self.addr_end.get(i)? {
            return None;
        }
        Some(self.addr_off.get(i)? + (pfn - start))
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
