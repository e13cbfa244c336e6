//! Integration tests: the real router on a random port, the real database, the real binary.

mod helpers;

mod admin;
mod ai;
mod applications;
mod assistant;
mod assistant_safety;
mod assistant_tools;
mod auth;
mod authz;
mod backups;
mod bad_input;
mod chat;
mod cli;
mod companies;
mod docs;
mod documents;
mod errors;
mod faults;
mod health;
mod import;
mod jobs;
mod layers;
mod metrics;
mod migrations;
mod pages;
mod rate_limits;
mod resumes;
mod retrieval;
mod saved;
mod search;
mod suggest;
mod terminal_app;
mod users;
mod workers;
mod writing;
