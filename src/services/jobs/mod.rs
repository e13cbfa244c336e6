//! Jobs from the employer's side (create, edit, publish, close, archive), the public view of a
//! job, moderation, and keeping the search index in step with every write.
//!
//! Lifecycle: draft → published ⇄ closed, and any of them → archived (final). Publishing needs
//! the fields a candidate relies on. With moderation on, a job of an unverified company is
//! published as `pending` and becomes public when an admin approves it.
//!
//! - `input`: a job's fields as somebody typed them, checked and normalised; its content hash.
//! - `index`: the search index kept in step with the database.
//! - `listing`: a job as the index stores it for search pages.
//! - `lifecycle`: creating, editing and moving jobs along the lifecycle; reading them.
//! - `expiry`: the scheduled task that closes jobs past their expiry.

pub mod expiry;
mod index;
mod input;
mod lifecycle;
pub mod listing;

pub use crate::models::job::{JobInput, LocationInput};
pub use index::{
    Reindex, catch_up_index, ensure_index, index_doc, rebuild_index, reindex, sync_company,
    sync_imported, sync_index,
};
pub use input::{content_hash, validate};
pub use lifecycle::{
    close_expired, create, get, list_for_company, pending_review, review, transition, update, view,
};

/// The source of jobs made in the portal (imports name their own).
pub const PORTAL_SOURCE: &str = "portal";
