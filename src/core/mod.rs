//! What every part of the program needs: configuration, logging, rate limits, security
//! primitives, and child processes under hard limits for work on untrusted input.

pub mod config;
pub mod logging;
pub mod metrics;
pub mod rate_limit;
pub mod sandbox;
pub mod security;
