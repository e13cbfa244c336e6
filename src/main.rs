//! The `jobportal` binary: parse the command line, then hand over to `cli::run`.

use std::process::ExitCode;

fn main() -> ExitCode {
    jobportal::cli::main()
}
