//! Integration tests: the real router on a random port, the real database, the real binary.

mod helpers;

mod auth;
mod cli;
mod docs;
mod errors;
mod health;
mod layers;
mod metrics;
mod migrations;
