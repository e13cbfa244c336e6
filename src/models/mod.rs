//! Stored domain types: plain data, no I/O. What the database holds, not what the API answers
//! (`schemas/` converts).

pub mod user;
