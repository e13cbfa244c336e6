//! Resume parsing: the file's kind from its bytes ([`extract::detect`]), its text
//! ([`extract::extract`]), and a structured profile from the text ([`profile::parse`]).
//! The server reads uploads in a child process ([`isolated`]) and parses the profile from the
//! text that comes back; [`analyse`] does both in this process, for benchmarks and tests.
//! Everything here but [`isolated`] is CPU-bound and synchronous.

pub mod ambiguity;
pub mod extract;
pub mod isolated;
pub mod pdf_streams;
pub mod profile;
pub mod taxonomy;

pub use extract::{FileKind, ParseStatus, Unsupported};

use crate::models::resume::Profile;

/// Bumped whenever the rules change what a parse gives, so stored resumes can be re-parsed.
pub const PARSER_VERSION: u32 = 2;

/// The longest text kept and parsed (a resume is a few pages; past this it is not one).
pub const MAX_TEXT_CHARS: usize = 200_000;

/// What reading one file gave.
#[derive(Debug, Clone)]
pub struct Analysis {
    pub kind: FileKind,
    pub status: ParseStatus,
    pub message: Option<String>,
    pub text: String,
    pub profile: Profile,
}

/// Reads a file of a known kind: text, then the profile when there is text.
pub fn analyse_kind(kind: FileKind, bytes: &[u8]) -> Analysis {
    analyse_text(kind, extract::extract(kind, bytes))
}

/// The profile of an extracted text (line ends made plain, the text cut at
/// [`MAX_TEXT_CHARS`]); no profile when the extraction found no text.
pub fn analyse_text(kind: FileKind, extracted: extract::Extracted) -> Analysis {
    let mut text = extracted.text.replace("\r\n", "\n").replace('\r', "\n");
    if text.chars().count() > MAX_TEXT_CHARS {
        text = text.chars().take(MAX_TEXT_CHARS).collect();
    }
    let profile = if extracted.status == ParseStatus::Parsed {
        profile::parse(&text)
    } else {
        Profile::default()
    };
    Analysis { kind, status: extracted.status, message: extracted.message, text, profile }
}

/// Detects the kind of a file, then reads it.
pub fn analyse(bytes: &[u8]) -> Result<Analysis, Unsupported> {
    Ok(analyse_kind(extract::detect(bytes)?, bytes))
}
