//! `jobportal parse-document` (hidden): reads one document from standard input and writes its
//! kind and text as JSON to standard output. The server runs it as a child process under hard
//! limits (`services::resume_parser::isolated`); it reads no configuration, opens no database
//! and starts no runtime.

use std::io::{Read, Write};

use clap::Args;

use crate::services::resume_parser::{FileKind, isolated};

/// The most read from standard input: more than any upload the server accepts.
const MAX_INPUT: u64 = 64 * 1024 * 1024;

#[derive(Args, Debug)]
pub struct ParseDocumentArgs {
    /// The document's kind by content type, when it is already known (a stored upload)
    #[arg(long, value_name = "CONTENT_TYPE")]
    pub kind: Option<String>,
}

pub fn run(args: &ParseDocumentArgs) -> anyhow::Result<()> {
    let kind = match args.kind.as_deref() {
        None => None,
        Some(value) => Some(
            FileKind::from_content_type(value)
                .ok_or_else(|| anyhow::anyhow!("unknown kind {value:?}"))?,
        ),
    };
    let mut bytes = Vec::new();
    std::io::stdin().lock().take(MAX_INPUT).read_to_end(&mut bytes)?;
    let reply = isolated::answer(&bytes, kind);
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, &reply)?;
    out.flush()?;
    Ok(())
}
