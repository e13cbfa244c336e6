//! Reading an uploaded document in a child process, so that no document can take the server
//! down.
//!
//! The PDF and DOCX readers parse whatever a candidate uploads. A PDF whose form draws itself
//! recurses in the PDF reader until the stack overflows, which aborts the whole process (no
//! `catch_unwind` can stop that), and a bomb takes the memory the server needs. So the bytes go
//! to `jobportal parse-document` (this same binary, a hidden command) on its standard input,
//! under the hard limits of [`crate::core::sandbox`], and the kind and text come back as JSON
//! on its standard output. Whatever the child does, the server sees a [`Reading`]: a crash, a
//! hang or a limit becomes `failed` with a message the candidate can act on, and the upload is
//! kept as it came.
//!
//! Everything that reads the document's structure runs in the child: telling the kind (which
//! opens zip archives) and extracting the text. The profile rules run in the server, on the
//! text that came back.

use std::ffi::OsString;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;

use super::MAX_TEXT_CHARS;
use super::extract::{self, Extracted, FileKind, ParseStatus, Unsupported};
use crate::core::config::DocumentsConfig;
use crate::core::sandbox::{self, Limits, SandboxError};

/// The hidden command that reads one document.
pub const COMMAND: &str = "parse-document";

/// The document reader of a server: its settings and the permits that bound how many children
/// run at once (a full set of permits makes uploads wait, not pile up children).
#[derive(Debug)]
pub struct DocumentReader {
    program: Option<PathBuf>,
    limits: Limits,
    permits: Semaphore,
}

/// What reading a document gave.
#[derive(Debug, Clone)]
pub struct Reading {
    pub kind: FileKind,
    pub extracted: Extracted,
}

impl DocumentReader {
    pub fn new(config: &DocumentsConfig) -> Self {
        let concurrency = config
            .concurrency
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
        Self {
            program: config.program.clone(),
            limits: config.limits,
            permits: Semaphore::new(concurrency.max(1)),
        }
    }

    /// Reads a document in a child process: its kind (from the bytes, or `kind` when the
    /// stored upload already has one) and its text.
    pub async fn read(&self, bytes: &[u8], kind: Option<FileKind>) -> Result<Reading, Unsupported> {
        let _permit = self.permits.acquire().await.expect("the permits are never closed");
        let mut args: Vec<OsString> = vec![COMMAND.into()];
        if let Some(kind) = kind {
            args.push("--kind".into());
            args.push(kind.content_type().into());
        }
        let program = match &self.program {
            Some(program) => program.clone(),
            None => match sandbox::this_executable() {
                Ok(program) => program,
                Err(err) => return Ok(self.failed(bytes, kind, &SandboxError::Spawn(err))),
            },
        };
        let reply = sandbox::run(&program, &args, bytes, &self.limits).await.and_then(|output| {
            serde_json::from_slice::<Reply>(&output.stdout)
                .map_err(|err| {
                    SandboxError::Failed(format!("an answer that is not a reply: {err}"))
                })
                .and_then(Reply::into_reading)
        });
        match reply {
            Ok(reading) => reading,
            Err(err) => Ok(self.failed(bytes, kind, &err)),
        }
    }

    fn failed(&self, bytes: &[u8], kind: Option<FileKind>, err: &SandboxError) -> Reading {
        let message = match err {
            SandboxError::OutOfMemory => {
                format!(
                    "reading this file needed more than the {} MB a resume may use",
                    self.limits.memory >> 20
                )
            }
            SandboxError::CpuTime | SandboxError::WallTime => {
                "reading this file took too long".to_owned()
            }
            SandboxError::OutputTooLarge(_) => {
                "this file holds far more text than a resume".to_owned()
            }
            SandboxError::StackOverflow | SandboxError::Crashed(_) => {
                "this file made the document reader fail".to_owned()
            }
            SandboxError::Spawn(_) | SandboxError::Failed(_) => {
                tracing::error!(error = %err, "the document reader could not run");
                "the document reader could not run; the file is kept and can be parsed again later"
                    .to_owned()
            }
        };
        if !matches!(err, SandboxError::Spawn(_) | SandboxError::Failed(_)) {
            tracing::warn!(error = %err, "a document was not read");
        }
        let message = match err {
            SandboxError::Spawn(_) | SandboxError::Failed(_) => message,
            _ => format!(
                "{message}: export it again (e.g. \"Save as PDF\") or upload a DOCX or text file"
            ),
        };
        Reading {
            kind: kind.unwrap_or_else(|| extract::sniff(bytes)),
            extracted: Extracted {
                status: ParseStatus::Failed,
                message: Some(message),
                text: String::new(),
            },
        }
    }
}

/// What the child answers, as JSON on its standard output.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Reply {
    Read { content_type: String, status: String, message: Option<String>, text: String },
    Unsupported { empty: bool, what: String },
}

impl Reply {
    /// The reading the child reported; `Err` when the answer names a kind or status this
    /// server does not know (a child of another version).
    fn into_reading(self) -> Result<Result<Reading, Unsupported>, SandboxError> {
        Ok(match self {
            Reply::Read { content_type, status, message, text } => {
                match (FileKind::from_content_type(&content_type), ParseStatus::parse(&status)) {
                    (Some(kind), Some(status)) => {
                        Ok(Reading { kind, extracted: Extracted { status, message, text } })
                    }
                    _ => {
                        return Err(SandboxError::Failed(format!(
                            "an unknown answer ({content_type}, {status})"
                        )));
                    }
                }
            }
            Reply::Unsupported { empty: true, .. } => Err(Unsupported::Empty),
            Reply::Unsupported { what, .. } => Err(Unsupported::Kind(what)),
        })
    }
}

/// The child's side: reads the document in `bytes` (of `kind`, or detected) and answers.
pub fn answer(bytes: &[u8], kind: Option<FileKind>) -> Reply {
    let kind = match kind.map_or_else(|| extract::detect(bytes), Ok) {
        Ok(kind) => kind,
        Err(Unsupported::Empty) => {
            return Reply::Unsupported { empty: true, what: "the file is empty".into() };
        }
        Err(Unsupported::Kind(what)) => return Reply::Unsupported { empty: false, what },
    };
    let extracted = extract::extract(kind, bytes);
    let text = if extracted.text.chars().count() > MAX_TEXT_CHARS {
        extracted.text.chars().take(MAX_TEXT_CHARS).collect()
    } else {
        extracted.text
    };
    Reply::Read {
        content_type: kind.content_type().to_owned(),
        status: extracted.status.as_str().to_owned(),
        message: extracted.message,
        text,
    }
}
