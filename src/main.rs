//! The `jobportal` binary: parse the command line, then hand over to `cli::run`.

use std::process::ExitCode;

fn main() -> ExitCode {
    // The model code asks for its thread count on every matrix product; when RAYON_NUM_THREADS
    // is unset that means reading /proc/cpuinfo each time (a quarter of an embedding's time).
    if std::env::var_os("RAYON_NUM_THREADS").is_none() {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        // SAFETY: nothing else runs yet: this is the first line of the only thread.
        unsafe { std::env::set_var("RAYON_NUM_THREADS", threads.to_string()) };
    }
    jobportal::cli::main()
}
