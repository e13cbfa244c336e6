//! jobportal: a self-hosted job portal in one binary.
//!
//! # Layout
//!
//! From the top layer down; a module imports only modules below it (docs/ARCHITECTURE.md).
//!
//! - [`cli`]: the command line; one module per command (`serve`, `migrate`, `admin`, …).
//! - [`app`]: the composition root: connects, migrates, builds the services context and starts
//!   (and stops) the workers and the catch-up loops, for every command and the tests.
//! - [`api`]: the axum router, its layers and error body; `api::v1` holds the resources.
//! - [`workers`]: the loops that run the queue's tasks, the scheduler, and the registry of
//!   every task kind.
//! - [`services`]: business logic between `api`/`cli` and `repositories`, and the background
//!   tasks beside the services that enqueue them.
//! - [`queue`]: the durable task queue's contract (`Task`, enqueueing, the registry of kinds).
//! - [`repositories`]: every SurrealQL query, one file per model, and the job search index.
//! - [`db`]: connecting to SurrealDB and the embedded, versioned migrations.
//! - [`schemas`]: request and response bodies (serde + OpenAPI), converted from `models`; they
//!   import nothing above `models`, so an API client can share them.
//! - [`ai`]: the local models (embeddings, the chat model), the vector collections built
//!   from them, the prompt templates and the chains that phrase the portal's facts.
//! - [`core`]: configuration, logging, metrics, security, rate limits and the sandbox for
//!   child processes.
//! - [`models`]: stored domain types, plain data.
//! - [`utils`]: validated newtypes and small helpers.
//!
//! Data flows `api` → `services` → `repositories` → SurrealDB.

pub mod ai;
pub mod api;
pub mod app;
pub mod cli;
pub mod core;
pub mod db;
pub mod models;
pub mod queue;
pub mod repositories;
pub mod schemas;
pub mod services;
pub mod tui;
pub mod utils;
pub mod workers;

/// The unit tests count their heap as the binary does ([`crate::core::memory::Counting`]), so
/// a test can set what a part of the program says it holds beside what it really holds.
#[cfg(test)]
#[global_allocator]
static ALLOCATOR: crate::core::memory::Counting<std::alloc::System> =
    crate::core::memory::Counting(std::alloc::System);
