//! A hash table of at most a given number of entries that, when full, forgets the entry kept
//! longest ago: one at a time, never all at once. Forgetting everything when full dropped
//! a thousand remembered search answers (and their cards) in one call, under the lock every
//! search takes, and gave their memory back to the system only to fault it in again as the
//! table filled up; it also made the front page's answer go whenever the table filled.

use std::collections::VecDeque;

use hashbrown::HashTable;

/// The table. The caller hashes (and compares) its own keys, which live in the values.
pub struct RecentTable<T> {
    entries: HashTable<Slot<T>>,
    /// Every insertion, oldest first, as `(hash, stamp)`; an item whose entry was replaced or
    /// cleared since is stale and skipped.
    order: VecDeque<(u64, u64)>,
    next_stamp: u64,
    max: usize,
}

struct Slot<T> {
    hash: u64,
    stamp: u64,
    value: T,
}

impl<T> RecentTable<T> {
    /// An empty table that holds at most `max` entries (at least one).
    pub fn new(max: usize) -> Self {
        Self { entries: HashTable::new(), order: VecDeque::new(), next_stamp: 0, max: max.max(1) }
    }

    /// The entry with this hash for which `is` holds.
    pub fn find(&self, hash: u64, is: impl Fn(&T) -> bool) -> Option<&T> {
        self.entries.find(hash, |slot| is(&slot.value)).map(|slot| &slot.value)
    }

    /// Keeps `value` (with this hash, equal to the entries for which `is` holds), and returns
    /// the entry that left for it: the one it replaces, or else the one kept longest ago when
    /// the table is full. The caller drops it where dropping costs no one a wait.
    pub fn insert(&mut self, hash: u64, value: T, is: impl Fn(&T) -> bool) -> Option<T> {
        let stamp = self.next_stamp;
        self.next_stamp += 1;
        let slot = Slot { hash, stamp, value };
        if let Some(old) = self.entries.find_mut(hash, |s| is(&s.value)) {
            let old = std::mem::replace(old, slot).value;
            self.order.push_back((hash, stamp));
            self.compact();
            return Some(old);
        }
        let mut left = None;
        while self.entries.len() >= self.max {
            let Some((hash, stamp)) = self.order.pop_front() else { break };
            if let Ok(oldest) = self.entries.find_entry(hash, |s| s.stamp == stamp) {
                left = Some(oldest.remove().0.value);
            }
        }
        self.entries.insert_unique(hash, slot, |s| s.hash);
        self.order.push_back((hash, stamp));
        left
    }

    /// Drops the stale items of the insertion order once they are as many as the entries
    /// could be: the order stays within twice the bound, at O(1) per insertion over time.
    fn compact(&mut self) {
        if self.order.len() <= 2 * self.max {
            return;
        }
        let entries = &self.entries;
        let live = |&(hash, stamp): &(u64, u64)| entries.find(hash, |s| s.stamp == stamp).is_some();
        self.order.retain(live);
    }

    /// Forgets every entry, and hands them over (to be dropped where it costs no one a wait).
    pub fn take_all(&mut self) -> Vec<T> {
        self.order.clear();
        let entries = std::mem::take(&mut self.entries);
        entries.into_iter().map(|slot| slot.value).collect()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.entries.iter().map(|slot| &slot.value)
    }
}

impl<T> std::fmt::Debug for RecentTable<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecentTable").field("len", &self.len()).field("max", &self.max).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Entries are `(key, value)`, hashed by a hash that collides on purpose for keys that
    /// share their last digit, so that entries are told apart by `is`, not by their hash.
    fn put(t: &mut RecentTable<(u32, &'static str)>, key: u32, v: &'static str) -> Option<u32> {
        t.insert(u64::from(key % 10), (key, v), |&(k, _)| k == key).map(|(k, _)| k)
    }

    fn get(t: &RecentTable<(u32, &'static str)>, key: u32) -> Option<&'static str> {
        t.find(u64::from(key % 10), |&(k, _)| k == key).map(|&(_, v)| v)
    }

    #[test]
    fn when_full_the_entry_kept_longest_ago_leaves_and_only_it() {
        let mut t = RecentTable::new(3);
        assert_eq!(put(&mut t, 1, "a"), None);
        assert_eq!(put(&mut t, 11, "b"), None, "same hash, another key");
        assert_eq!(put(&mut t, 2, "c"), None);
        assert_eq!((get(&t, 1), get(&t, 11), get(&t, 2)), (Some("a"), Some("b"), Some("c")));

        assert_eq!(put(&mut t, 3, "d"), Some(1), "the oldest leaves");
        assert_eq!(t.len(), 3);
        assert_eq!((get(&t, 1), get(&t, 11), get(&t, 3)), (None, Some("b"), Some("d")));

        // Kept again, an entry is replaced (nothing else leaves) and becomes the newest.
        assert_eq!(put(&mut t, 11, "b2"), Some(11));
        assert_eq!(get(&t, 11), Some("b2"));
        assert_eq!(put(&mut t, 4, "e"), Some(2), "11 was kept again after 2");
        assert_eq!(put(&mut t, 5, "f"), Some(3));
        assert_eq!(put(&mut t, 6, "g"), Some(11));
        assert_eq!(t.iter().map(|&(k, _)| k).collect::<std::collections::BTreeSet<_>>().len(), 3);
    }

    #[test]
    fn replacing_one_entry_again_and_again_keeps_the_order_bounded() {
        let mut t = RecentTable::new(4);
        for key in [1, 2, 3] {
            put(&mut t, key, "x");
        }
        for _ in 0..1000 {
            assert_eq!(put(&mut t, 2, "y"), Some(2));
        }
        assert!(t.order.len() <= 2 * 4 + 1, "{}", t.order.len());
        assert_eq!(put(&mut t, 4, "z"), None, "room for a fourth");
        assert_eq!(put(&mut t, 5, "z"), Some(1), "then the oldest, 1, leaves");
        assert_eq!(put(&mut t, 6, "z"), Some(3), "and 3: 2 was kept after it");
    }

    #[test]
    fn taking_all_empties_the_table_and_its_order() {
        let mut t = RecentTable::new(2);
        put(&mut t, 1, "a");
        put(&mut t, 2, "b");
        let mut all: Vec<u32> = t.take_all().into_iter().map(|(k, _)| k).collect();
        all.sort_unstable();
        assert_eq!(all, [1, 2]);
        assert!(t.is_empty() && get(&t, 1).is_none());
        assert_eq!(put(&mut t, 3, "c"), None);
        assert_eq!(put(&mut t, 4, "d"), None);
        assert_eq!(put(&mut t, 5, "e"), Some(3));
    }
}
