//! A backup file: SurrealDB's export of the database (SurrealQL), then one line of our own, the
//! trailer, which says what the file is and lets a restore check that it is whole before it
//! touches anything.
//!
//! ```text
//! -- jobportal backup 1 schema=11 bytes=48213 sha256=9f2c… created=2026-03-01T04:00:00Z
//! ```
//!
//! `bytes` and `sha256` are those of everything before the trailer line. The trailer is a
//! SurrealQL comment, so the file is also what `surreal import` takes. Every function here
//! blocks (it reads or writes the whole file): callers run them on the blocking pool.

use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom, Write};
use std::path::Path;

use chrono::{DateTime, SecondsFormat, Utc};
use sha2::{Digest, Sha256};

use super::BackupError;

/// How every trailer starts.
const MARKER: &str = "-- jobportal backup ";

/// The version of the file's layout this binary writes and reads.
const FORMAT: u32 = 1;

/// The longest trailer line read back (it is about 170 bytes).
const TRAILER_MAX: u64 = 1024;

/// What a backup's trailer says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trailer {
    /// The newest migration applied to the database it was taken of (0: none).
    pub schema: u32,
    /// Length of the export before the trailer, in bytes.
    pub bytes: u64,
    /// SHA-256 of those bytes, lower-case hex.
    pub sha256: String,
    /// When it was taken.
    pub created: DateTime<Utc>,
}

impl Trailer {
    fn line(&self) -> String {
        format!(
            "{MARKER}{FORMAT} schema={} bytes={} sha256={} created={}\n",
            self.schema,
            self.bytes,
            self.sha256,
            self.created.to_rfc3339_opts(SecondsFormat::Secs, true)
        )
    }

    /// Reads a trailer line (without its newline); `None` when it is not one.
    fn parse(line: &str) -> Option<Trailer> {
        let mut words = line.strip_prefix(MARKER)?.split(' ');
        if words.next()?.parse::<u32>().ok()? != FORMAT {
            return None;
        }
        let (mut schema, mut bytes, mut sha256, mut created) = (None, None, None, None);
        for word in words {
            match word.split_once('=')? {
                ("schema", v) => schema = v.parse().ok(),
                ("bytes", v) => bytes = v.parse().ok(),
                ("sha256", v) if v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()) => {
                    sha256 = Some(v.to_ascii_lowercase())
                }
                ("created", v) => {
                    created = DateTime::parse_from_rfc3339(v).ok().map(|t| t.with_timezone(&Utc))
                }
                _ => {}
            }
        }
        Some(Trailer { schema: schema?, bytes: bytes?, sha256: sha256?, created: created? })
    }
}

/// Ends the export at `path` with its trailer: a newline first if the export lacks one (it is
/// then part of what the trailer counts), then the trailer line; flushed to disk.
pub(super) fn seal(path: &Path, schema: u32, created: DateTime<Utc>) -> io::Result<Trailer> {
    let mut file = File::options().read(true).append(true).open(path)?;
    let (mut bytes, mut hasher, last) = digest(&mut file, u64::MAX)?;
    if bytes > 0 && last != Some(b'\n') {
        file.write_all(b"\n")?;
        hasher.update(b"\n");
        bytes += 1;
    }
    let trailer = Trailer { schema, bytes, sha256: hex::encode(hasher.finalize()), created };
    file.write_all(trailer.line().as_bytes())?;
    file.sync_all()?;
    Ok(trailer)
}

/// Checks that `path` is a whole backup this binary can read: it ends with a trailer of our
/// format, and the bytes before it are as many, with the same SHA-256, as the trailer says.
pub fn verify(path: &Path) -> Result<Trailer, BackupError> {
    let read_error = |source| BackupError::Read { path: path.to_path_buf(), error: source };
    let mut file = File::open(path).map_err(read_error)?;
    let len = file.metadata().map_err(read_error)?.len();
    if len == 0 {
        return Err(BackupError::NotABackup {
            path: path.to_path_buf(),
            detail: "the file is empty".into(),
        });
    }
    let tail_len = len.min(TRAILER_MAX + 1);
    file.seek(SeekFrom::Start(len - tail_len)).map_err(read_error)?;
    let mut tail = Vec::with_capacity(tail_len as usize);
    (&mut file).take(tail_len).read_to_end(&mut tail).map_err(read_error)?;
    let trailer = (tail.last() == Some(&b'\n'))
        .then(|| {
            let body = &tail[..tail.len() - 1];
            let start = body.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
            std::str::from_utf8(&body[start..]).ok().and_then(Trailer::parse)
        })
        .flatten();
    let Some(trailer) = trailer else {
        return Err(BackupError::NotABackup {
            path: path.to_path_buf(),
            detail: "it does not end with the line every jobportal backup ends with (a file cut \
                     short, or not a backup)"
                .into(),
        });
    };
    let trailer_len = trailer.line().len() as u64;
    if trailer.bytes + trailer_len != len {
        return Err(BackupError::Damaged {
            path: path.to_path_buf(),
            detail: format!(
                "its trailer counts {} bytes before it, but the file holds {}",
                trailer.bytes,
                len.saturating_sub(trailer_len)
            ),
        });
    }
    file.seek(SeekFrom::Start(0)).map_err(read_error)?;
    let (_, hasher, _) = digest(&mut file, trailer.bytes).map_err(read_error)?;
    let actual = hex::encode(hasher.finalize());
    if actual != trailer.sha256 {
        return Err(BackupError::Damaged {
            path: path.to_path_buf(),
            detail: format!(
                "its content changed after it was written (SHA-256 {actual}, the trailer says {})",
                trailer.sha256
            ),
        });
    }
    Ok(trailer)
}

/// The SHA-256 of the first `limit` bytes read from `file` (its position onwards), how many
/// were read, and the last of them.
fn digest(file: &mut File, limit: u64) -> io::Result<(u64, Sha256, Option<u8>)> {
    let mut reader = BufReader::with_capacity(1 << 20, file.take(limit));
    let mut hasher = Sha256::new();
    let (mut bytes, mut last) = (0u64, None);
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            return Ok((bytes, hasher, last));
        }
        hasher.update(&buf[..n]);
        bytes += n as u64;
        last = Some(buf[n - 1]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealed(dir: &Path, body: &str) -> std::path::PathBuf {
        let path = dir.join("backup.surql");
        std::fs::write(&path, body).unwrap();
        let created = DateTime::parse_from_rfc3339("2026-03-01T04:00:00Z").unwrap().to_utc();
        seal(&path, 11, created).unwrap();
        path
    }

    #[test]
    fn a_sealed_export_verifies_and_says_what_it_holds() {
        let dir = tempfile::tempdir().unwrap();
        let path = sealed(dir.path(), "OPTION IMPORT;\nINSERT [ { id: t:1 } ];");
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with("OPTION IMPORT;\nINSERT [ { id: t:1 } ];\n-- jobportal backup 1 ")
        );
        let trailer = verify(&path).unwrap();
        assert_eq!(trailer.schema, 11);
        assert_eq!(trailer.bytes, "OPTION IMPORT;\nINSERT [ { id: t:1 } ];\n".len() as u64);
        assert_eq!(trailer.created.to_rfc3339(), "2026-03-01T04:00:00+00:00");
        assert_eq!(Trailer::parse(trailer.line().trim_end()), Some(trailer));
    }

    #[test]
    fn a_file_cut_short_changed_or_foreign_is_refused_with_its_reason() {
        let dir = tempfile::tempdir().unwrap();
        let path = sealed(dir.path(), "OPTION IMPORT;\nINSERT [ { id: t:1, n: 1 } ];\n");
        let whole = std::fs::read(&path).unwrap();

        // Cut anywhere: the trailer is gone or broken.
        for cut in [whole.len() - 1, whole.len() - 20, whole.len() / 2, 1] {
            std::fs::write(&path, &whole[..cut]).unwrap();
            let err = verify(&path).unwrap_err();
            assert!(matches!(err, BackupError::NotABackup { .. }), "cut at {cut}: {err}");
            assert!(err.to_string().contains("cut short"), "{err}");
        }
        // One byte of the export changed: the checksum says so.
        let mut changed = whole.clone();
        changed[30] = b'2';
        std::fs::write(&path, &changed).unwrap();
        let err = verify(&path).unwrap_err();
        assert!(matches!(err, BackupError::Damaged { .. }) && err.to_string().contains("SHA-256"));
        // Bytes lost from the middle: the length says so.
        let mut shorter = whole.clone();
        shorter.remove(5);
        std::fs::write(&path, &shorter).unwrap();
        assert!(matches!(verify(&path).unwrap_err(), BackupError::Damaged { .. }));
        // Not a backup at all, and an empty file.
        std::fs::write(&path, "name,title\nada,engineer\n").unwrap();
        assert!(matches!(verify(&path).unwrap_err(), BackupError::NotABackup { .. }));
        std::fs::write(&path, "").unwrap();
        assert!(verify(&path).unwrap_err().to_string().contains("empty"));
        // A file that is not there.
        let err = verify(&dir.path().join("absent.surql")).unwrap_err();
        assert!(matches!(err, BackupError::Read { .. }) && err.to_string().contains("absent"));
    }

    #[test]
    fn a_trailer_of_another_format_or_with_a_field_missing_is_not_read() {
        assert!(
            Trailer::parse("-- jobportal backup 2 schema=1 bytes=1 sha256=x created=x").is_none()
        );
        let sha = "a".repeat(64);
        let ok = format!(
            "-- jobportal backup 1 schema=3 bytes=10 sha256={sha} created=2026-01-01T00:00:00Z"
        );
        assert!(Trailer::parse(&ok).is_some());
        assert!(Trailer::parse(&ok.replace(" schema=3", "")).is_none());
        assert!(Trailer::parse(&ok.replace(&sha, "abc")).is_none());
        assert!(Trailer::parse("-- ------------------------------").is_none());
    }
}
