//! The `jobportal` binary: parse the command line, then hand over to `cli::run`.

use std::process::ExitCode;

/// mimalloc instead of the system allocator: SurrealDB and tantivy allocate and free small
/// values at a high rate, and glibc's malloc took a quarter of a bulk import's CPU
/// (`scripts/bench.sh search` prints the import's records/s and peak RSS). Counted, so `serve`
/// can say how much of its memory is live heap and how much the allocator holds beyond it.
#[global_allocator]
static ALLOCATOR: jobportal::core::memory::Counting<mimalloc::MiMalloc> =
    jobportal::core::memory::Counting(mimalloc::MiMalloc);

fn main() -> ExitCode {
    // SAFETY: the first line of the only thread.
    unsafe { jobportal::ai::fix_thread_count() };
    jobportal::cli::main()
}
