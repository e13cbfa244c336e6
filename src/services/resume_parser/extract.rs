//! What kind of file an upload is (by its bytes, never its name) and its text.
//!
//! Extraction never fails the upload: an encrypted, corrupt or text-less file gives a
//! [`ParseStatus`] and a message the candidate can act on, and no text.

use std::io::{Cursor, Read};

use quick_xml::Reader;

use super::pdf_streams::Verdict;
use quick_xml::events::Event;

/// The kinds of file a resume may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Pdf,
    Docx,
    Text,
}

impl FileKind {
    pub const fn content_type(self) -> &'static str {
        match self {
            FileKind::Pdf => "application/pdf",
            FileKind::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            FileKind::Text => "text/plain",
        }
    }

    pub fn from_content_type(value: &str) -> Option<FileKind> {
        [FileKind::Pdf, FileKind::Docx, FileKind::Text]
            .into_iter()
            .find(|k| k.content_type() == value)
    }
}

/// How extraction went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseStatus {
    /// Text was found and parsed.
    Parsed,
    /// The file is readable but holds no text (empty, or pages that are only images).
    NoText,
    /// The file needs a password.
    Encrypted,
    /// The file claims a format but is broken.
    Corrupt,
    /// The reader could not finish with this file: it crashed, ran past its time or memory,
    /// or could not be started. The file is kept; a re-parse may succeed after an upgrade.
    Failed,
}

impl ParseStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            ParseStatus::Parsed => "parsed",
            ParseStatus::NoText => "no_text",
            ParseStatus::Encrypted => "encrypted",
            ParseStatus::Corrupt => "corrupt",
            ParseStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<ParseStatus> {
        [
            ParseStatus::Parsed,
            ParseStatus::NoText,
            ParseStatus::Encrypted,
            ParseStatus::Corrupt,
            ParseStatus::Failed,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

/// Why an upload is not a resume we read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unsupported {
    #[error("the file is empty")]
    Empty,
    #[error("{0}")]
    Kind(String),
}

const OLE_MAGIC: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// Detects the kind of a file from its first bytes. A Word document saved with a password is
/// an OLE container holding an `EncryptionInfo` stream: that is a DOCX, encrypted.
pub fn detect(bytes: &[u8]) -> Result<FileKind, Unsupported> {
    if bytes.is_empty() {
        return Err(Unsupported::Empty);
    }
    let head = &bytes[..bytes.len().min(1024)];
    if head.windows(5).any(|w| w == b"%PDF-") {
        return Ok(FileKind::Pdf);
    }
    if bytes.starts_with(b"PK\x03\x04") {
        return if zip_has(bytes, "word/document.xml") {
            Ok(FileKind::Docx)
        } else if bytes.len() < 64 || zip::ZipArchive::new(Cursor::new(bytes)).is_err() {
            // A zip that does not open may still be a damaged DOCX: say so at parse time.
            Ok(FileKind::Docx)
        } else {
            Err(Unsupported::Kind("a zip archive that is not a Word (.docx) document".into()))
        };
    }
    if bytes.starts_with(OLE_MAGIC) {
        let marker: Vec<u8> = "EncryptionInfo".encode_utf16().flat_map(u16::to_le_bytes).collect();
        if bytes.windows(marker.len()).any(|w| w == marker.as_slice()) {
            return Ok(FileKind::Docx);
        }
        return Err(Unsupported::Kind(
            "a Word 97-2003 (.doc) or other legacy Office file: save it as .docx or PDF".into(),
        ));
    }
    if decode_text(bytes).is_some() {
        return Ok(FileKind::Text);
    }
    let what = match bytes {
        [0x89, b'P', b'N', b'G', ..] => "a PNG image",
        [0xFF, 0xD8, 0xFF, ..] => "a JPEG image",
        [b'G', b'I', b'F', b'8', ..] => "a GIF image",
        [0x7F, b'E', b'L', b'F', ..] => "an executable",
        [b'M', b'Z', ..] => "an executable",
        [0x1F, 0x8B, ..] => "a gzip archive",
        [b'{', b'\\', b'r', b't', b'f', ..] => "an RTF document: save it as .docx or PDF",
        _ => "not a PDF, DOCX or plain-text file",
    };
    Err(Unsupported::Kind(what.into()))
}

/// The kind a file claims by its first bytes alone, without opening it: what an upload is
/// stored as when the reader could not tell.
pub fn sniff(bytes: &[u8]) -> FileKind {
    let head = &bytes[..bytes.len().min(1024)];
    if head.windows(5).any(|w| w == b"%PDF-") {
        FileKind::Pdf
    } else if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(OLE_MAGIC) {
        FileKind::Docx
    } else {
        FileKind::Text
    }
}

fn zip_has(bytes: &[u8], name: &str) -> bool {
    zip::ZipArchive::new(Cursor::new(bytes)).is_ok_and(|mut z| z.by_name(name).is_ok())
}

/// Plain text: UTF-8 (with or without a BOM) or UTF-16 with a BOM, without NUL bytes or much
/// else that is not text.
pub fn decode_text(bytes: &[u8]) -> Option<String> {
    let text = if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        String::from_utf8(rest.to_vec()).ok()?
    } else if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        let units: Vec<u16> =
            rest.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
        String::from_utf16(&units).ok()?
    } else if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        let units: Vec<u16> =
            rest.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect();
        String::from_utf16(&units).ok()?
    } else {
        String::from_utf8(bytes.to_vec()).ok()?
    };
    let odd = text
        .chars()
        .filter(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t' | '\u{0c}'))
        .count();
    (odd == 0 || odd * 200 < text.chars().count()).then_some(text)
}

/// The outcome of reading a file's text.
#[derive(Debug, Clone)]
pub struct Extracted {
    pub status: ParseStatus,
    /// For the candidate, when the status is not `parsed`.
    pub message: Option<String>,
    pub text: String,
}

impl Extracted {
    fn text(text: String, empty_message: &str) -> Extracted {
        if text.trim().is_empty() {
            Extracted {
                status: ParseStatus::NoText,
                message: Some(empty_message.into()),
                text: String::new(),
            }
        } else {
            Extracted { status: ParseStatus::Parsed, message: None, text }
        }
    }

    fn failed(status: ParseStatus, message: impl Into<String>) -> Extracted {
        Extracted { status, message: Some(message.into()), text: String::new() }
    }
}

/// Reads the text of a file of a detected kind. CPU-bound: call it off the async threads.
pub fn extract(kind: FileKind, bytes: &[u8]) -> Extracted {
    match kind {
        FileKind::Text => match decode_text(bytes) {
            Some(text) => Extracted::text(text, "the file holds no text"),
            None => Extracted::failed(
                ParseStatus::Corrupt,
                "the file is not valid UTF-8 or UTF-16 text",
            ),
        },
        FileKind::Pdf => pdf_text(bytes),
        FileKind::Docx => docx_text(bytes),
    }
}

/// The most all the streams of one PDF may decode to. The PDF reader decodes without a limit,
/// so a small file that decodes to gigabytes (a "bomb") is refused here first.
pub const MAX_PDF_DECODED: u64 = 128 * 1024 * 1024;

fn pdf_text(bytes: &[u8]) -> Extracted {
    match super::pdf_streams::scan(bytes, MAX_PDF_DECODED) {
        Verdict::Within => {}
        Verdict::Over => {
            return Extracted::failed(
                ParseStatus::Corrupt,
                format!(
                    "the PDF expands to more than {} MB when opened; export it again or upload a DOCX",
                    MAX_PDF_DECODED >> 20
                ),
            );
        }
        Verdict::TooDeep => {
            return Extracted::failed(
                ParseStatus::Corrupt,
                "the PDF is nested deeper than any document; export it again or upload a DOCX",
            );
        }
    }
    // The PDF reader panics on some malformed input; a panic here is a corrupt file.
    let outcome = std::panic::catch_unwind(|| pdf_extract::extract_text_from_mem(bytes));
    let encrypted = bytes.windows(8).any(|w| w == b"/Encrypt");
    match outcome {
        Ok(Ok(text)) => Extracted::text(
            clean_pdf_text(&text),
            "the PDF has no text layer (a scanned image?): export it from the program that made it, or upload a DOCX",
        ),
        Ok(Err(_)) | Err(_) if encrypted => Extracted::failed(
            ParseStatus::Encrypted,
            "the PDF is protected by a password: upload a copy without one",
        ),
        Ok(Err(err)) => {
            Extracted::failed(ParseStatus::Corrupt, format!("the PDF could not be read ({err})"))
        }
        Err(_) => {
            Extracted::failed(ParseStatus::Corrupt, "the PDF could not be read (it is damaged)")
        }
    }
}

/// The PDF text extractor pads with runs of blank lines and form feeds between pages.
fn clean_pdf_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank = 0;
    for line in text.replace('\u{0c}', "\n").lines() {
        let line = line.trim_end();
        if line.trim().is_empty() {
            blank += 1;
            if blank > 1 {
                continue;
            }
        } else {
            blank = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    out.trim_matches('\n').to_owned()
}

/// The largest `word/document.xml` read: a resume's is well under a megabyte, and a zip bomb
/// stops here, said as such.
pub const MAX_DOCX_XML: u64 = 16 * 1024 * 1024;

fn docx_text(bytes: &[u8]) -> Extracted {
    if bytes.starts_with(OLE_MAGIC) {
        return Extracted::failed(
            ParseStatus::Encrypted,
            "the Word document is protected by a password: upload a copy without one",
        );
    }
    let mut archive = match zip::ZipArchive::new(Cursor::new(bytes)) {
        Ok(archive) => archive,
        Err(err) => {
            return Extracted::failed(
                ParseStatus::Corrupt,
                format!("the DOCX file could not be opened ({err})"),
            );
        }
    };
    let mut xml = Vec::new();
    let read = match archive.by_name("word/document.xml") {
        Ok(entry) => entry.take(MAX_DOCX_XML + 1).read_to_end(&mut xml),
        Err(_) => {
            return Extracted::failed(ParseStatus::Corrupt, "the DOCX file has no document body");
        }
    };
    if let Err(err) = read {
        return Extracted::failed(
            ParseStatus::Corrupt,
            format!("the DOCX file is damaged ({err})"),
        );
    }
    if xml.len() as u64 > MAX_DOCX_XML {
        return Extracted::failed(
            ParseStatus::Corrupt,
            format!(
                "the Word document expands to more than {} MB when opened; save it again or upload a PDF",
                MAX_DOCX_XML >> 20
            ),
        );
    }
    match document_xml_text(&xml) {
        Ok(text) => Extracted::text(text, "the Word document holds no text"),
        Err(err) => {
            Extracted::failed(ParseStatus::Corrupt, format!("the DOCX file is damaged ({err})"))
        }
    }
}

/// The text of `word/document.xml`: one line per paragraph, table cells separated by " | ",
/// tabs and breaks kept.
fn document_xml_text(xml: &[u8]) -> Result<String, quick_xml::Error> {
    let mut reader = Reader::from_reader(xml);
    let mut out = String::new();
    let mut line = String::new();
    let mut in_text = false;
    let mut cell_started = false;
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf)? {
            Event::Start(e) => match e.local_name().as_ref() {
                b"t" => in_text = true,
                b"tc" => cell_started = false,
                _ => {}
            },
            Event::Empty(e) => match e.local_name().as_ref() {
                b"tab" => line.push('\t'),
                b"br" | b"cr" => {
                    out.push_str(line.trim_end());
                    out.push('\n');
                    line.clear();
                }
                _ => {}
            },
            Event::Text(t) if in_text => {
                let decoded = t.decode().map_err(quick_xml::Error::from)?;
                let unescaped =
                    quick_xml::escape::unescape(&decoded).map_err(quick_xml::Error::from)?;
                line.push_str(&unescaped);
            }
            Event::GeneralRef(r) if in_text => {
                let name = r.decode().map_err(quick_xml::Error::from)?;
                match quick_xml::escape::resolve_predefined_entity(&name) {
                    Some(s) => line.push_str(s),
                    None => {
                        if let Ok(Some(c)) = r.resolve_char_ref() {
                            line.push(c);
                        }
                    }
                }
            }
            Event::End(e) => match e.local_name().as_ref() {
                b"t" => in_text = false,
                b"p" => {
                    // A paragraph inside a table cell joins the row's line.
                    if !line.trim().is_empty() || !cell_started {
                        out.push_str(line.trim_end());
                        out.push('\n');
                    }
                    line.clear();
                }
                b"tc" => {
                    cell_started = true;
                    // The cell's paragraphs were written as lines: join them with " | ".
                    if out.ends_with('\n') {
                        out.pop();
                    }
                    out.push_str(" | ");
                }
                b"tr" => {
                    if out.ends_with(" | ") {
                        out.truncate(out.len() - 3);
                    }
                    out.push('\n');
                }
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    out.push_str(line.trim_end());
    Ok(out.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_come_from_the_bytes_not_the_name() {
        assert_eq!(detect(b"%PDF-1.7\n...").unwrap(), FileKind::Pdf);
        assert_eq!(detect("Ada Example\nada@example.com\n".as_bytes()).unwrap(), FileKind::Text);
        assert_eq!(detect(b"").unwrap_err(), Unsupported::Empty);
        assert!(
            matches!(detect(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0]), Err(Unsupported::Kind(m)) if m.contains("PNG"))
        );
        let mut doc = OLE_MAGIC.to_vec();
        doc.extend_from_slice(&[0u8; 100]);
        assert!(matches!(detect(&doc), Err(Unsupported::Kind(m)) if m.contains(".doc")));
        let mut encrypted = OLE_MAGIC.to_vec();
        encrypted.extend("EncryptionInfo".encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(detect(&encrypted).unwrap(), FileKind::Docx);
        assert_eq!(extract(FileKind::Docx, &encrypted).status, ParseStatus::Encrypted);
    }

    #[test]
    fn utf16_text_with_a_bom_is_text_and_binary_noise_is_not() {
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend("Grace Hopper\nCOBOL".encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(decode_text(&bytes).unwrap(), "Grace Hopper\nCOBOL");
        assert!(decode_text(&[b'a', 0, 0, 0, 1, 2, 3]).is_none());
    }

    #[test]
    fn document_xml_paragraphs_tables_and_entities() {
        let xml = br#"<w:document xmlns:w="x"><w:body>
            <w:p><w:r><w:t>Ada</w:t></w:r><w:r><w:t xml:space="preserve"> Example</w:t></w:r></w:p>
            <w:p><w:r><w:t>R&amp;D lead</w:t></w:r></w:p>
            <w:tbl><w:tr><w:tc><w:p><w:r><w:t>Rust</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>Go</w:t></w:r></w:p></w:tc></w:tr></w:tbl>
            <w:p><w:r><w:t>End</w:t></w:r></w:p></w:body></w:document>"#;
        assert_eq!(document_xml_text(xml).unwrap(), "Ada Example\nR&D lead\nRust | Go\nEnd");
    }

    #[test]
    fn broken_files_get_a_status_not_a_panic() {
        assert_eq!(extract(FileKind::Pdf, b"%PDF-1.4\n garbage").status, ParseStatus::Corrupt);
        assert_eq!(
            extract(FileKind::Pdf, b"%PDF-1.4\n/Encrypt 5 0 R garbage").status,
            ParseStatus::Encrypted
        );
        assert_eq!(extract(FileKind::Docx, b"PK\x03\x04 truncated").status, ParseStatus::Corrupt);
        assert_eq!(extract(FileKind::Text, b"  \n\n ").status, ParseStatus::NoText);
    }
}
