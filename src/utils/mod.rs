//! Small, dependency-free helpers: validated newtypes, skill names and stamps.

pub mod skills;
pub mod stamp;
pub mod validators;
