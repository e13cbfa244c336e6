//! Business logic. Services validate input into domain types, enforce the rules and call
//! `repositories/`; they know neither HTTP nor SurrealDB.

pub mod health;
pub mod users;
