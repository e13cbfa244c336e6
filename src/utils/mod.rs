//! Small helpers: validated newtypes, skill names, stamps, and a table of recent entries.

pub mod recent;
pub mod skills;
pub mod stamp;
pub mod validators;
