//! Running an import: each input read on a blocking thread, its records checked and gathered
//! into batches for the writer, problems counted and reported, the audit record at the end.

use std::io::Read;

use serde_json::json;

use super::formats::{self, Format};
use super::mapping::{ImportRecord, to_record};
use super::report::{ImportSummary, KEPT_ERRORS, Progress, record_place};
use super::writer::Writes;
use crate::models::audit::AuditAction;
use crate::services::{Context, RequestMeta, ServiceError, audit};

#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Only check the records.
    pub dry_run: bool,
    pub batch_size: usize,
    /// The source of records that do not name one.
    pub default_source: String,
}

impl Default for ImportOptions {
    fn default() -> Self {
        Self { dry_run: false, batch_size: 500, default_source: "import".into() }
    }
}

/// One input: a name for messages (the file name, or `-` for standard input) and its bytes.
pub struct Input {
    pub name: String,
    pub reader: Box<dyn Read + Send>,
    pub format: Option<Format>,
}

/// Imports every input in turn. Invalid records are counted and reported; a database failure
/// stops the import (batches already written stay, and a rerun continues where it stopped).
pub async fn import(
    ctx: &Context,
    inputs: Vec<Input>,
    options: &ImportOptions,
    progress: &mut dyn Progress,
) -> Result<ImportSummary, ServiceError> {
    let mut summary = ImportSummary::default();
    let mut writes = Writes::default();
    for input in inputs {
        let name = input.name.clone();
        let (tx, mut rx) =
            tokio::sync::mpsc::channel::<Result<Result<ImportRecord, String>, String>>(4096);
        let default_source = options.default_source.clone();
        let reader_name = name.clone();
        let reader = tokio::task::spawn_blocking(move || {
            let mut reader = std::io::BufReader::with_capacity(1 << 16, input.reader);
            let first = std::io::BufRead::fill_buf(&mut reader)
                .ok()
                .and_then(|b| b.iter().copied().find(|c| !c.is_ascii_whitespace()));
            let format = input.format.unwrap_or_else(|| Format::detect(&reader_name, first));
            let warn_tx = tx.clone();
            let mut index = 0u64;
            let result = formats::read(
                format,
                reader,
                |(line, item)| {
                    index += 1;
                    let record = match item {
                        Ok(value) => to_record(&value, &default_source).map_err(|reason| {
                            format!(
                                "{}: {reason}",
                                record_place(&reader_name, format, index, line, Some(&value))
                            )
                        }),
                        Err(reason) => Err(format!(
                            "{}: {reason}",
                            record_place(&reader_name, format, index, line, None)
                        )),
                    };
                    tx.blocking_send(Ok(record)).is_ok()
                },
                |warning| {
                    let _ = warn_tx.blocking_send(Err(format!("warning: {warning}")));
                },
            );
            if let Err(e) = result {
                let _ = tx.blocking_send(Err(format!("fatal: {e}")));
            }
        });
        let mut batch = Vec::with_capacity(options.batch_size);
        while let Some(message) = rx.recv().await {
            match message {
                Err(text) if text.starts_with("warning: ") => {
                    summary.warnings.push(format!("{name}: {}", &text["warning: ".len()..]));
                }
                Err(text) => {
                    // What was acknowledged as written is written (and indexed) first.
                    writes.finish(ctx, &mut summary, progress).await?;
                    return Err(ServiceError::validation(format!(
                        "{name}: {}",
                        text.trim_start_matches("fatal: ")
                    )));
                }
                Ok(record) => {
                    progress.record();
                    match record {
                        Ok(record) => batch.push(record),
                        Err(message) => {
                            summary.invalid += 1;
                            progress.problem(&message);
                            if summary.errors.len() < KEPT_ERRORS {
                                summary.errors.push(message);
                            }
                        }
                    }
                    if batch.len() >= options.batch_size {
                        let full =
                            std::mem::replace(&mut batch, Vec::with_capacity(options.batch_size));
                        if !options.dry_run {
                            writes.start(ctx, full, &mut summary, progress).await?;
                        } else {
                            summary.created += full.len() as u64;
                            progress.batch(&summary);
                        }
                    }
                }
            }
        }
        reader.await.map_err(|e| ServiceError::Internal(e.into()))?;
        if !batch.is_empty() {
            let last = std::mem::take(&mut batch);
            if !options.dry_run {
                writes.start(ctx, last, &mut summary, progress).await?;
            } else {
                summary.created += last.len() as u64;
                progress.batch(&summary);
            }
        }
    }
    writes.finish(ctx, &mut summary, progress).await?;
    if !options.dry_run {
        let meta = RequestMeta::default();
        let details = json!({ "created": summary.created, "updated": summary.updated, "unchanged": summary.unchanged, "invalid": summary.invalid });
        audit::record(&ctx.db, None, AuditAction::JobsImported, None, &meta, details).await?;
    }
    Ok(summary)
}
