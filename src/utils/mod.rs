//! Small, dependency-free helpers: validated newtypes.

pub mod validators;
