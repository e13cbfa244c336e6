//! The `jobportal` binary: parse the command line, then hand over to `cli::run`.

use std::process::ExitCode;

/// mimalloc instead of the system allocator: SurrealDB and tantivy allocate and free small
/// values at a high rate, and glibc's malloc took a quarter of a bulk import's CPU
/// (`scripts/bench.sh search` prints the import's records/s and peak RSS). Counted, so `serve`
/// can say how much of its memory is live heap and how much the allocator holds beyond it.
#[global_allocator]
static ALLOCATOR: jobportal::core::memory::Counting<mimalloc::MiMalloc> =
    jobportal::core::memory::Counting(mimalloc::MiMalloc);

// mimalloc's own option setter (in the library `mimalloc` links).
unsafe extern "C" {
    fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
}

/// `mi_option_purge_delay` in mimalloc 2's `mi_option_e` (libmimalloc-sys 0.1.49).
const MI_OPTION_PURGE_DELAY: std::ffi::c_int = 15;

/// For `serve`: mimalloc gives freed pages back to the system at once instead of 10 ms later
/// (unless `MIMALLOC_PURGE_DELAY` says otherwise). Under load the delayed pages pile up between
/// bursts: with 100k jobs, `serve`'s peak RSS was 1,059 MiB with the default delay and 799 MiB
/// with none, at the same search throughput (both servers side by side on copies of the same
/// data). The other commands keep the delay: a bulk import with none spent its time faulting
/// pages back in (100k jobs: 4,025 and 4,396 records/s against 5,269 and 4,948 with the delay,
/// alternating; a second, unchanged import took twice as long).
fn purge_freed_memory_at_once() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: a plain setter of a known option, called before the runtime starts a thread.
        unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, 0) };
    }
}

fn main() -> ExitCode {
    // SAFETY: no other thread runs yet.
    unsafe { jobportal::ai::fix_thread_count() };
    jobportal::cli::main(purge_freed_memory_at_once)
}
