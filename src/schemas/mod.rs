//! Request and response bodies of the API: serde, OpenAPI schemas and conversions from
//! `models/`. A stored model is never sent as it is. Request bodies refuse unknown fields, so
//! a client cannot slip in a field it may not set (a role, a verified flag).

pub mod admin;
pub mod application;
pub mod assistant;
pub mod auth;
pub mod company;
pub mod error;
pub mod health;
pub mod job;
pub mod pages;
pub mod recommendation;
pub mod resume;
pub mod saved;
pub mod suggestion;
pub mod user;
pub mod writing;
