//! jobportal: a self-hosted job portal in one binary.
//!
//! # Layout
//!
//! - [`cli`]: the command line; one module per command (`serve`, `migrate`, `admin`, …).
//! - [`core`]: configuration, logging, passwords and secrets.
//! - [`api`]: the axum router, its layers and error body; `api::v1` holds the resources.
//! - [`schemas`]: request and response bodies (serde + OpenAPI), converted from `models`.
//! - [`models`]: stored domain types, plain data.
//! - [`repositories`]: every SurrealQL query, one file per model.
//! - [`services`]: business logic between `api`/`cli` and `repositories`.
//! - [`db`]: connecting to SurrealDB and the embedded, versioned migrations.
//! - [`workers`]: the durable task queue, its worker loops, the scheduler and the tasks.
//! - [`utils`]: validated newtypes and small helpers.
//!
//! Data flows `api` → `services` → `repositories` → SurrealDB; see docs/ARCHITECTURE.md.

pub mod ai;
pub mod api;
pub mod cli;
pub mod core;
pub mod db;
pub mod models;
pub mod repositories;
pub mod schemas;
pub mod services;
pub mod utils;
pub mod workers;
