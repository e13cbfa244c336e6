//! Request and response bodies of the API: serde, OpenAPI schemas and conversions from
//! `models/`. A stored model is never sent as it is.

pub mod error;
pub mod health;
