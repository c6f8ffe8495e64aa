// SPDX-License-Identifier: GPL-2.0-only
//! A pgmap's offset space: its ranges concatenated in array order.
//!
//! The kernel walks every range on each translation; here an index built
//! once at `memremap_pages()` time, in O(nr_range) time and space, answers
//! in O(log nr_range) and usually O(1): prefix sums in array order for
//! offset -> pfn, the ranges sorted by address for pfn -> offset, and over
//! each a bucket table that narrows the binary search to the few ranges
//! near the answer. Everything is in pfns, so nothing wraps at 2^52.

/// Buckets over a sorted key array: bucket `b` covers keys from
/// `base + (b << shift)`, and `first[b]` is the last key at or below that
/// start, so a search for `x` only looks between `first[b]` and
/// `first[b + 1]`. At most one bucket per key: O(n) to build and keep.
#[derive(Debug, Default)]
struct Buckets {
    base: u64,
    shift: u32,
    first: Vec<u32>,
}

impl Buckets {
    /// `keys` sorted, non-empty, all in `[base, base + span)`.
    fn new(keys: &[u64], base: u64, span: u64) -> Self {
        let want = keys.len().next_power_of_two() as u64;
        let mut shift = 0;
        while (span.saturating_sub(1) >> shift) >= want {
            shift += 1;
        }
        let nbuckets = (span.saturating_sub(1) >> shift) as usize + 1;
        let mut first = Vec::with_capacity(nbuckets + 1);
        let mut i = 0usize;
        for b in 0..nbuckets as u64 {
            let start = base + (b << shift);
            while keys.get(i + 1).is_some_and(|&k| k <= start) {
                i += 1;
            }
            first.push(i as u32);
        }
        first.push(keys.len().saturating_sub(1) as u32);
        Buckets { base, shift, first }
    }

    /// The index of the last key `<= x` among `keys` (those `new` saw);
    /// `x` must be at least the first key.
    #[inline(always)]
    fn find(&self, keys: &[u64], x: u64) -> Option<usize> {
        let b = ((x - self.base) >> self.shift) as usize;
        let lo = *self.first.get(b)? as usize;
        let hi = *self.first.get(b + 1)? as usize;
        let window = keys.get(lo..=hi)?;
        Some(lo + count_le(window, x).checked_sub(1)?)
    }
}

/// The translation index of one pgmap: dense key arrays and bucket tables,
/// so that a search over thousands of ranges touches a few cache lines.
#[derive(Debug, Default)]
pub struct RangeIndex {
    /// Array order: first offset of each range (increasing), and its pfn.
    off_key: Vec<u64>,
    off_pfn: Vec<u64>,
    /// Address order: first and last pfn of each range, and its offset.
    addr_key: Vec<u64>,
    addr_end: Vec<u64>,
    addr_off: Vec<u64>,
    off_buckets: Buckets,
    addr_buckets: Buckets,
    /// A one-range pgmap's range: offsets `[0, first_len)` are pfns from
    /// `first_pfn` on; its search tables stay empty. Zero length in a
    /// pgmap of several ranges, so that the fast path's one compare
    /// sends every translation to the search.
    first_pfn: u64,
    first_len: u64,
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
        if let [(start, end)] = *ranges {
            // One range: the fields the fast paths read, nothing to search.
            idx.first_pfn = start;
            idx.first_len = end - start + 1;
            idx.total = idx.first_len;
            return idx;
        }
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
        if let (Some(&lo), Some(&hi)) = (idx.addr_key.first(), idx.addr_end.iter().max()) {
            idx.off_buckets = Buckets::new(&idx.off_key, 0, idx.total);
            idx.addr_buckets = Buckets::new(&idx.addr_key, lo, hi - lo + 1);
        }
        idx
    }

    /// Pages in the offset space.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// `pgmap_offset_to_pfn()`: None past the end.
    #[inline(always)]
    pub fn offset_to_pfn(&self, offset: u64) -> Option<u64> {
        if offset < self.first_len {
            return Some(self.first_pfn + offset);
        }
        Some(self.offset_to_pfn_far(offset)).filter(|&p| p != u64::MAX)
    }

    /// [`Self::offset_to_pfn`] with -1 for None: the fast path inline,
    /// the rest a tail call, so that the caller keeps no stack frame.
    #[inline(always)]
    pub fn offset_to_pfn_or_max(&self, offset: u64) -> u64 {
        if offset < self.first_len {
            return self.first_pfn + offset;
        }
        self.offset_to_pfn_far(offset)
    }

    #[inline(never)]
    fn offset_to_pfn_far(&self, offset: u64) -> u64 {
        self.offset_to_pfn_search(offset).unwrap_or(u64::MAX)
    }

    /// [`Self::pfn_to_offset`] with -1 for None, likewise.
    #[inline(always)]
    pub fn pfn_to_offset_or_max(&self, pfn: u64) -> u64 {
        let d = pfn.wrapping_sub(self.first_pfn);
        if d < self.first_len {
            return d;
        }
        self.pfn_to_offset_far(pfn)
    }

    #[inline(never)]
    fn pfn_to_offset_far(&self, pfn: u64) -> u64 {
        self.pfn_to_offset_search(pfn).unwrap_or(u64::MAX)
    }

    /// The search of a pgmap of several ranges (None for one range: its
    /// tables are empty).
    #[inline(always)]
    fn offset_to_pfn_search(&self, offset: u64) -> Option<u64> {
        if offset >= self.total {
            return None;
        }
        let i = self.off_buckets.find(&self.off_key, offset)?;
        Some(self.off_pfn.get(i)? + (offset - self.off_key.get(i)?))
    }

    /// `pfn_to_pgmap_offset()`: None for a pfn in no range.
    #[inline(always)]
    pub fn pfn_to_offset(&self, pfn: u64) -> Option<u64> {
        // One compare: below range 0, the difference wraps past its length.
        let d = pfn.wrapping_sub(self.first_pfn);
        if d < self.first_len {
            return Some(d);
        }
        Some(self.pfn_to_offset_far(pfn)).filter(|&o| o != u64::MAX)
    }

    /// The search of a pgmap of several ranges, likewise.
    #[inline(always)]
    fn pfn_to_offset_search(&self, pfn: u64) -> Option<u64> {
        if pfn < self.addr_buckets.base {
            return None;
        }
        let i = self.addr_buckets.find(&self.addr_key, pfn)?;
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
    fn buckets_agree_with_a_plain_search() {
        // Uneven ranges, clustered and spread, against a linear walk.
        let mut ranges = Vec::new();
        let mut next = 1u64 << 20;
        let mut x = 12345u64;
        for i in 0..300u64 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let len = 512 * (1 + (x >> 60));
            let gap = if i % 7 == 0 { 512 << (x >> 61) } else { 0 };
            ranges.push((next + gap, next + gap + len - 1));
            next += gap + len + 512 * (x >> 62);
        }
        ranges.reverse();
        ranges.swap(3, 200);
        let idx = RangeIndex::new(&ranges);
        let walk_to_pfn = |off: u64| {
            let mut sum = 0;
            for &(s, e) in &ranges {
                if off < sum + (e - s + 1) {
                    return Some(s + off - sum);
                }
                sum += e - s + 1;
            }
            None
        };
        for off in (0..idx.total() + 600).step_by(37) {
            let pfn = walk_to_pfn(off);
            assert_eq!(idx.offset_to_pfn(off), pfn, "offset {off}");
            if let Some(pfn) = pfn {
                assert_eq!(idx.pfn_to_offset(pfn), Some(off));
            }
        }
        let lo = ranges.iter().map(|r| r.0).min().unwrap();
        let hi = ranges.iter().map(|r| r.1).max().unwrap();
        for pfn in (lo.saturating_sub(2000)..hi + 2000).step_by(61) {
            let inside = ranges.iter().any(|&(s, e)| pfn >= s && pfn <= e);
            assert_eq!(idx.pfn_to_offset(pfn).is_some(), inside, "pfn {pfn}");
        }
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
