//! A bounded map for the caches that requests fill: capped in entries and in the bytes its
//! values hold, so that no input can make a node's memory grow without limit. When full, the
//! oldest entries make room.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;

/// A map with at most `max_entries` entries whose values weigh at most `max_bytes` together.
#[derive(Debug)]
pub(crate) struct BoundedCache<K, V> {
    map: HashMap<K, (V, usize)>,
    /// Keys in insertion order, oldest first.
    order: VecDeque<K>,
    bytes: usize,
    max_entries: usize,
    max_bytes: usize,
}

impl<K: Clone + Eq + Hash, V> BoundedCache<K, V> {
    /// An empty cache with these caps.
    pub(crate) fn new(max_entries: usize, max_bytes: usize) -> Self {
        Self {
            map: HashMap::new(),
            order: VecDeque::new(),
            bytes: 0,
            max_entries,
            max_bytes,
        }
    }

    /// The value under `key`, if cached.
    pub(crate) fn get(&self, key: &K) -> Option<&V> {
        self.map.get(key).map(|(value, _)| value)
    }

    /// Caches `value`, which weighs `weight` bytes, under `key`, evicting the oldest entries
    /// until both caps hold. A value heavier than the whole byte cap is not cached; a key
    /// already cached keeps its value.
    pub(crate) fn insert(&mut self, key: K, value: V, weight: usize) {
        if weight > self.max_bytes || self.max_entries == 0 || self.map.contains_key(&key) {
            return;
        }
        while self.map.len() >= self.max_entries || self.bytes + weight > self.max_bytes {
            let Some(oldest) = self.order.pop_front() else {
                break;
            };
            if let Some((_, evicted)) = self.map.remove(&oldest) {
                self.bytes -= evicted;
            }
        }
        self.bytes += weight;
        self.order.push_back(key.clone());
        self.map.insert(key, (value, weight));
    }

    /// How many entries are cached.
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    /// How many bytes the cached values weigh.
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_entries_and_bytes_evicting_the_oldest() {
        let mut cache = BoundedCache::new(3, 100);
        cache.insert(1, "a", 10);
        cache.insert(2, "b", 10);
        cache.insert(3, "c", 10);
        cache.insert(4, "d", 10);
        assert_eq!(cache.len(), 3);
        assert!(cache.get(&1).is_none());
        assert_eq!(cache.get(&4), Some(&"d"));
        cache.insert(5, "e", 90);
        assert!(cache.bytes() <= 100);
        assert_eq!(cache.get(&5), Some(&"e"));
        assert!(cache.get(&3).is_none() && cache.get(&2).is_none());
    }

    #[test]
    fn refuses_what_cannot_fit_and_keeps_the_first_value() {
        let mut cache = BoundedCache::new(10, 100);
        cache.insert(1, "too big", 101);
        assert_eq!(cache.len(), 0);
        cache.insert(2, "first", 1);
        cache.insert(2, "second", 1);
        assert_eq!(cache.get(&2), Some(&"first"));
        assert_eq!(cache.bytes(), 1);
        let mut none = BoundedCache::new(0, 100);
        none.insert(1, "x", 1);
        assert_eq!(none.len(), 0);
    }
}
