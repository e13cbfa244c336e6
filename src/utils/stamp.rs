//! Stamps: numbers no other call in this process returns, so that a state stamped by one
//! object is never taken for a state of another (two search indexes, or two vector
//! collections, each counting from zero would give the same numbers).

use std::sync::atomic::{AtomicU64, Ordering};

/// A number larger than any returned before in this process.
pub fn next() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    #[test]
    fn stamps_are_never_repeated_across_threads() {
        let stamps: Vec<u64> = std::thread::scope(|s| {
            let takers: Vec<_> = (0..4)
                .map(|_| s.spawn(|| (0..1000).map(|_| super::next()).collect::<Vec<_>>()))
                .collect();
            takers.into_iter().flat_map(|t| t.join().unwrap()).collect()
        });
        let mut unique = stamps.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), stamps.len());
    }
}
