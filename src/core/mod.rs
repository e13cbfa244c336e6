//! What every part of the program needs: configuration, logging, rate limits, security
//! primitives, child processes under hard limits for work on untrusted input, and where the
//! process's memory goes.

pub mod config;
pub mod logging;
pub mod memory;
pub mod metrics;
pub mod rate_limit;
pub mod sandbox;
pub mod security;
