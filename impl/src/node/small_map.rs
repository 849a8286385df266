//! [`SmallMap`]: the ordered maps of a node's state, as one sorted vector.
//!
//! A round holds a handful of proposals, blocks and tallies: a few per
//! attempt, whatever the registry's size. A `BTreeMap` allocates a node
//! for eleven entries on its first insert and copies it whole on every
//! clone, and the model checker clones and keeps a node's state once per
//! state it explores (spec/properties.md, "Where the time and the memory
//! go"). An insert shifts the entries after it, so maps that grow with the
//! registry (pooled votes, messages kept early) stay `BTreeMap`s. It
//! hashes, compares and prints exactly as the `BTreeMap` it replaces, so
//! every fingerprint, and so every pinned count and trace, is the same.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::{Bound, Index, RangeBounds};

/// An ordered map kept as a vector sorted by key, without duplicates.
#[derive(Clone, PartialEq, Eq)]
pub struct SmallMap<K, V>(Vec<(K, V)>);

impl<K, V> Default for SmallMap<K, V> {
    fn default() -> Self {
        SmallMap(Vec::new())
    }
}

impl<K: Ord, V> SmallMap<K, V> {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    fn find<Q: Ord + ?Sized>(&self, k: &Q) -> Result<usize, usize>
    where
        K: Borrow<Q>,
    {
        self.0.binary_search_by(|(x, _)| x.borrow().cmp(k))
    }

    /// The value at `k`.
    pub fn get<Q: Ord + ?Sized>(&self, k: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        self.find(k).ok().map(|i| &self.0[i].1)
    }

    /// Whether `k` has a value.
    pub fn contains_key<Q: Ord + ?Sized>(&self, k: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        self.find(k).is_ok()
    }

    /// Sets `k` to `v`, returning the value it replaces.
    pub fn insert(&mut self, k: K, v: V) -> Option<V> {
        match self.find(&k) {
            Ok(i) => Some(std::mem::replace(&mut self.0[i].1, v)),
            Err(i) => {
                grow_exact(&mut self.0);
                self.0.insert(i, (k, v));
                None
            }
        }
    }

    /// The value at `k`, made by `f` first if there is none.
    pub fn get_or_insert_with(&mut self, k: K, f: impl FnOnce() -> V) -> &mut V {
        let i = match self.find(&k) {
            Ok(i) => i,
            Err(i) => {
                grow_exact(&mut self.0);
                self.0.insert(i, (k, f()));
                i
            }
        };
        &mut self.0[i].1
    }

    /// The entries whose keys are in `range`, in key order (none for an
    /// inverted range, where `BTreeMap` panics).
    pub fn range<R: RangeBounds<K>>(&self, range: R) -> impl DoubleEndedIterator<Item = (&K, &V)> {
        let start = match range.start_bound() {
            Bound::Included(k) => self.0.partition_point(|(x, _)| x < k),
            Bound::Excluded(k) => self.0.partition_point(|(x, _)| x <= k),
            Bound::Unbounded => 0,
        };
        let end = match range.end_bound() {
            Bound::Included(k) => self.0.partition_point(|(x, _)| x <= k),
            Bound::Excluded(k) => self.0.partition_point(|(x, _)| x < k),
            Bound::Unbounded => self.0.len(),
        };
        self.0[start..end.max(start)].iter().map(|(k, v)| (k, v))
    }
}

/// Makes room for one more entry: exactly one while the vector is short
/// (a state is kept with the room it was made with, and a doubled vector
/// is room for entries most states never get), geometrically beyond.
pub(crate) fn grow_exact<T>(v: &mut Vec<T>) {
    if v.len() < 16 {
        v.reserve_exact(1);
    }
}

impl<K, V> SmallMap<K, V> {
    /// Number of entries.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether it has no entry.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The entries in key order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&K, &V)> + ExactSizeIterator {
        self.0.iter().map(|(k, v)| (k, v))
    }

    /// The keys in order.
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &K> + ExactSizeIterator {
        self.0.iter().map(|(k, _)| k)
    }

    /// The values in key order.
    pub fn values(&self) -> impl DoubleEndedIterator<Item = &V> + ExactSizeIterator {
        self.0.iter().map(|(_, v)| v)
    }

    /// The entry with the greatest key.
    pub fn last_key_value(&self) -> Option<(&K, &V)> {
        self.0.last().map(|(k, v)| (k, v))
    }
}

impl<K: Ord + Borrow<Q>, Q: Ord + ?Sized, V> Index<&Q> for SmallMap<K, V> {
    type Output = V;
    /// Panics if `k` has no value, as `BTreeMap`'s index does.
    fn index(&self, k: &Q) -> &V {
        self.get(k).expect("a key of the map")
    }
}

impl<K: Hash, V: Hash> Hash for SmallMap<K, V> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // As `BTreeMap` hashes: the length, then each (key, value).
        state.write_usize(self.0.len());
        for (k, v) in &self.0 {
            k.hash(state);
            v.hash(state);
        }
    }
}

impl<K: fmt::Debug, V: fmt::Debug> fmt::Debug for SmallMap<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::hash_map::DefaultHasher;
    use std::collections::BTreeMap;

    fn digest<T: Hash>(t: &T) -> u64 {
        let mut h = DefaultHasher::new();
        t.hash(&mut h);
        h.finish()
    }

    /// Same entries, hash, printing and ranges as a `BTreeMap` fed the
    /// same inserts (keys repeated and out of order).
    #[test]
    fn behaves_as_a_btree_map() {
        let keys = [5u32, 1, 9, 5, 3, 7, 1, 0, 12, 9];
        let mut b = BTreeMap::new();
        let mut s = SmallMap::new();
        for (i, k) in keys.iter().enumerate() {
            assert_eq!(b.insert(*k, i), s.insert(*k, i));
            assert_eq!(digest(&b), digest(&s));
            assert_eq!(format!("{b:?}"), format!("{s:?}"));
        }
        assert_eq!(b.len(), s.len());
        for lo in 0..14 {
            for hi in lo..14 {
                let x: Vec<_> = b.range(lo..hi).collect();
                let y: Vec<_> = s.range(lo..hi).collect();
                assert_eq!(x, y, "{lo}..{hi}");
                let x: Vec<_> = b.range(lo..=hi).collect();
                let y: Vec<_> = s.range(lo..=hi).collect();
                assert_eq!(x, y, "{lo}..={hi}");
            }
            let x: Vec<_> = b.range(lo..).collect();
            let y: Vec<_> = s.range(lo..).collect();
            assert_eq!(x, y, "{lo}..");
        }
        assert_eq!(b.last_key_value(), s.last_key_value());
        assert_eq!(s[&7], 5);
        assert!(s.get(&2).is_none() && !s.contains_key(&2));
        *s.get_or_insert_with(2, || 40) += 2;
        assert_eq!(s.get(&2), Some(&42));
        assert_eq!(*s.get_or_insert_with(2, || 0), 42);
    }
}
