//! What every part of the program needs: configuration, logging, security primitives.

pub mod config;
pub mod logging;
pub mod security;
