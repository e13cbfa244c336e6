//! The test harness: a real server on a random port over a fresh in-memory database, with one
//! method per endpoint, and a way to run the real binary. Dropping a [`TestApp`] fails the test
//! when a background task was left dead, unless the test called
//! [`TestApp::expect_dead_tasks`].

mod accounts;
mod assertions;
mod client;
mod dead_tasks;
mod email;
mod endpoints;
mod fixtures;
mod process;
mod smtp;
mod spawn;
mod surreal;

pub use accounts::*;
pub use assertions::*;
pub use email::*;
pub use endpoints::*;
pub use fixtures::*;
pub use process::*;
pub use smtp::*;
pub use spawn::*;
pub use surreal::*;
