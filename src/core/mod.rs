//! What every part of the program needs: configuration, logging, rate limits, security
//! primitives.

pub mod config;
pub mod logging;
pub mod metrics;
pub mod rate_limit;
pub mod security;
