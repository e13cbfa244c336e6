//! jobportal: a self-hosted job portal in one binary.
//!
//! # Layout
//!
//! - [`cli`]: the command line; one module per command (`serve`, `migrate`, `admin`, …).
//! - [`app`]: the composition root: connects, migrates, builds the services context and starts
//!   (and stops) the workers and the catch-up loops, for every command and the tests.
//! - [`core`]: configuration, logging, passwords and secrets.
//! - [`api`]: the axum router, its layers and error body; `api::v1` holds the resources.
//! - [`schemas`]: request and response bodies (serde + OpenAPI), converted from `models`.
//! - [`models`]: stored domain types, plain data.
//! - [`repositories`]: every SurrealQL query, one file per model.
//! - [`services`]: business logic between `api`/`cli` and `repositories`, and the background
//!   tasks beside the services that enqueue them.
//! - [`queue`]: the durable task queue's contract (`Task`, enqueueing, the registry of kinds);
//!   below `services`, above `repositories`.
//! - [`db`]: connecting to SurrealDB and the embedded, versioned migrations.
//! - [`workers`]: the loops that run the queue's tasks, the scheduler, and the registry of
//!   every task kind.
//! - [`utils`]: validated newtypes and small helpers.
//!
//! Data flows `api` → `services` → `repositories` → SurrealDB; see docs/ARCHITECTURE.md.

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
pub mod utils;
pub mod workers;
