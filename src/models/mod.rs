//! Stored domain types: plain data, no I/O. What the database holds, not what the API answers
//! (`schemas/` converts).

pub mod audit;
pub mod company;
pub mod email;
pub mod job;
pub mod session;
pub mod task;
pub mod token;
pub mod user;
