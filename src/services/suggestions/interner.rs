//! Strings held once, each under a small number (its id), with how many holders it has. The
//! copy of the public jobs repeats the same few tens of thousands of words and forms across
//! every job, so a job holds 4-byte ids where it held strings.
//!
//! A string whose last holder lets go is freed at once and its id reused by the next new
//! string, so jobs leaving and new ones arriving with words of their own never grow an
//! interner past the most strings it held at one time.

use std::hash::{BuildHasher, RandomState};

use hashbrown::HashTable;

#[derive(Debug, Default)]
pub struct Interner {
    /// The string of each id; empty (no allocation) for a free id.
    strings: Vec<Box<str>>,
    /// How many holders each id has; 0 for a free id.
    counts: Vec<u32>,
    /// The free ids, reused before `strings` grows.
    free: Vec<u32>,
    /// The id of each string held, found by the string's hash: the table holds only ids, so
    /// each string is stored once.
    ids: HashTable<u32>,
    hasher: RandomState,
}

impl Interner {
    /// The id of `string`, which gets one holder more (it is added when new).
    pub fn hold(&mut self, string: &str) -> u32 {
        let hash = self.hasher.hash_one(string);
        let Interner { strings, counts, free, ids, hasher } = self;
        if let Some(&id) = ids.find(hash, |&id| *strings[id as usize] == *string) {
            counts[id as usize] += 1;
            return id;
        }
        let id = match free.pop() {
            Some(id) => {
                strings[id as usize] = string.into();
                counts[id as usize] = 1;
                id
            }
            None => {
                let id = u32::try_from(strings.len()).expect("fewer than 2^32 strings");
                strings.push(string.into());
                counts.push(1);
                id
            }
        };
        ids.insert_unique(hash, id, |&id| hasher.hash_one(&*strings[id as usize]));
        id
    }

    /// One holder fewer for `id`; the last one frees the string and the id.
    pub fn release(&mut self, id: u32) {
        let at = id as usize;
        self.counts[at] -= 1;
        if self.counts[at] > 0 {
            return;
        }
        let hash = self.hasher.hash_one(&*self.strings[at]);
        if let Ok(entry) = self.ids.find_entry(hash, |&other| other == id) {
            entry.remove();
        }
        self.strings[at] = Box::default();
        self.free.push(id);
    }

    /// The id of `string`, when held.
    pub fn id(&self, string: &str) -> Option<u32> {
        let hash = self.hasher.hash_one(string);
        self.ids.find(hash, |&id| *self.strings[id as usize] == *string).copied()
    }

    /// The string of a held id.
    pub fn string(&self, id: u32) -> &str {
        &self.strings[id as usize]
    }

    /// How many holders a held id has.
    pub fn count(&self, id: u32) -> u32 {
        self.counts[id as usize]
    }

    /// How many holders `string` has (0 when it is not held).
    pub fn count_of(&self, string: &str) -> u32 {
        self.id(string).map_or(0, |id| self.count(id))
    }

    /// Every string held, with its count of holders.
    pub fn iter(&self) -> impl Iterator<Item = (&str, u32)> {
        self.iter_held_by(1)
    }

    /// The strings held by at least `min` holders (at least one), with their counts: the
    /// counts are read first, and only the strings that pass are looked at (a scan for the
    /// common words of a large vocabulary reads a fifth of the memory).
    pub fn iter_held_by(&self, min: u32) -> impl Iterator<Item = (&str, u32)> {
        let min = min.max(1);
        (self.counts.iter().enumerate())
            .filter(move |(_, n)| **n >= min)
            .map(|(id, n)| (&*self.strings[id], *n))
    }

    /// How many strings are held.
    pub fn len(&self) -> usize {
        self.strings.len() - self.free.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The heap held, counted from capacities and the strings' lengths.
    pub fn heap_bytes(&self) -> u64 {
        let strings: usize = self.strings.iter().map(|s| s.len()).sum();
        (self.strings.capacity() * std::mem::size_of::<Box<str>>()
            + strings
            + 4 * (self.counts.capacity() + self.free.capacity())
            + self.ids.allocation_size()) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_string_is_held_once_and_freed_with_its_last_holder() {
        let mut words = Interner::default();
        let rust = words.hold("rust");
        assert_eq!(words.hold("rust"), rust);
        let go = words.hold("go");
        assert_eq!((words.string(rust), words.count(rust), words.len()), ("rust", 2, 2));
        words.release(rust);
        assert_eq!(words.id("rust"), Some(rust));
        words.release(rust);
        assert_eq!((words.id("rust"), words.count_of("rust"), words.len()), (None, 0, 1));
        assert_eq!(words.iter().collect::<Vec<_>>(), [("go", 1)]);
        assert_eq!(words.hold("python"), rust, "a freed id is reused");
        assert_eq!(words.id("go"), Some(go));
        words.hold("go");
        let held_by = |min| words.iter_held_by(min).collect::<Vec<_>>();
        assert_eq!(held_by(2), [("go", 2)]);
        assert_eq!(held_by(0), held_by(1), "a free id is never listed");
        assert_eq!(held_by(1), [("python", 1), ("go", 2)]);
        assert_eq!(held_by(3), []);
    }

    #[test]
    fn strings_coming_and_going_never_grow_an_interner_past_its_most_held() {
        let mut words = Interner::default();
        let mut most = 0;
        for round in 0..50 {
            let held: Vec<u32> =
                (0..1000).map(|i| words.hold(&format!("{round:03}-{i:04}"))).collect();
            if round == 0 {
                most = words.heap_bytes();
            }
            assert!(words.heap_bytes() <= 2 * most, "{} > 2 × {most}", words.heap_bytes());
            for id in held {
                words.release(id);
            }
        }
        assert!(words.is_empty());
        assert_eq!(words.strings.len(), 1000, "no more ids than the most held at once");
    }
}
