//! Small, dependency-free helpers: validated newtypes and skill names.

pub mod skills;
pub mod validators;
