//! The `surreal` binary: SurrealDB 3.3.5's own command line (`surreal start …`), with the
//! community storage engines, from the `surrealdb-server` library.
#![recursion_limit = "256"]

fn main() -> std::process::ExitCode {
    surrealdb_server::init(surrealdb_server::core::CommunityComposer())
}
