//! Bulk import of jobs: from the `import-jobs` command and from the admin API (as a task).
//!
//! Records are read as a stream ([`formats`]), checked one by one (a bad record is reported
//! with its file, number, line and identifier, and skipped), and written in batches, each in one transaction. A job's
//! id is derived from its (source, external_id) and a company's from its slug, so importing
//! the same file again — after a clean run or after a SIGKILL halfway — converges on the same
//! database: existing jobs are updated only when their content changed.

pub mod formats;
mod mapping;
mod report;
mod run;
pub mod task;
mod writer;

pub use mapping::{ImportRecord, to_record};
pub use report::{ImportSummary, Progress};
pub use run::{ImportOptions, Input, import};
