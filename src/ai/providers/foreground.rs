//! Model work someone is waiting for. The local chat model counts the answers it is computing;
//! background model work (a backfill of job vectors) waits between its slices while any is,
//! so a person's answer gets the cores instead of sharing them with a backfill.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The longest background work defers to foreground work at once: it makes progress even
/// while answers follow one another without a pause.
pub const LONGEST_DEFERRAL: Duration = Duration::from_secs(5);

/// The count of foreground model work running, shared by the models of one process. Cheap
/// to clone.
#[derive(Debug, Clone, Default)]
pub struct Foreground(Arc<AtomicUsize>);

/// Held while foreground model work runs.
#[must_use]
pub struct Running(Arc<AtomicUsize>);

impl Foreground {
    /// Foreground work starts; it ends when the result is dropped.
    pub fn begin(&self) -> Running {
        self.0.fetch_add(1, Ordering::SeqCst);
        Running(self.0.clone())
    }

    /// Whether foreground model work is running.
    pub fn busy(&self) -> bool {
        self.0.load(Ordering::SeqCst) > 0
    }

    /// Blocks the calling (background) thread while foreground work runs, for at most
    /// [`LONGEST_DEFERRAL`].
    pub fn defer(&self) {
        let started = Instant::now();
        while self.busy() && started.elapsed() < LONGEST_DEFERRAL {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn background_work_waits_for_foreground_work_and_goes_on_after() {
        let foreground = Foreground::default();
        assert!(!foreground.busy());
        let running = foreground.begin();
        assert!(foreground.busy());
        let released = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            drop(running);
        });
        let started = Instant::now();
        foreground.defer();
        let waited = started.elapsed();
        released.join().unwrap();
        assert!(!foreground.busy());
        assert!(waited >= Duration::from_millis(90), "{waited:?}");
        assert!(waited < LONGEST_DEFERRAL, "{waited:?}");
    }
}
