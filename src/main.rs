//! The `jobportal` binary: parse the command line, then hand over to `cli::run`.

use std::process::ExitCode;

fn main() -> ExitCode {
    // SAFETY: the first line of the only thread.
    unsafe { jobportal::ai::fix_thread_count() };
    jobportal::cli::main()
}
