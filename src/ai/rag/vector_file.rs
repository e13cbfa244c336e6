//! The job vector collection's file: `serve` writes the collection (codes, keys, text hashes and
//! the graph's links) when it stops and reads it when it starts, so the graph is not built
//! again (100k vectors: seconds of both cores).
//!
//! The file is `JPVECTORS` and a format version, the parameters it was built with (dimensions,
//! M, ef_construction), the body, and the SHA-256 of everything before it. It is never
//! trusted: a file of another version, other parameters, a wrong checksum or links that point
//! nowhere is refused with its reason, and the caller builds the graph from the database as if
//! there were none. What it holds may be stale (jobs changed while `serve` was down): every
//! key carries the hash of the text its vector was made from, and the first sync replaces what
//! changed and drops what is gone (`services::embeddings`).
//!
//! This module is the framing and the reading of plain values; the parts write and read
//! themselves (`int8::Codes`, `hnsw::Graph`, `vectorstore::VectorIndex`).

use std::io::Write;
use std::path::Path;

use sha2::{Digest, Sha256};

/// The first bytes of the file.
const MAGIC: &[u8; 9] = b"JPVECTORS";

/// The layout's version: a file of another is rebuilt.
pub const VERSION: u32 = 1;

/// A byte buffer being written, little-endian.
#[derive(Default)]
pub struct Out(pub Vec<u8>);

impl Out {
    pub fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    pub fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    pub fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    pub fn f32(&mut self, v: f32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    pub fn bytes(&mut self, v: &[u8]) {
        self.0.extend_from_slice(v);
    }
    /// A length (u32), then the bytes.
    pub fn sized(&mut self, v: &[u8]) {
        self.u32(v.len() as u32);
        self.bytes(v);
    }
}

/// A byte buffer being read: each read fails (with what was expected) past its end.
pub struct In<'a> {
    rest: &'a [u8],
}

impl<'a> In<'a> {
    pub fn new(bytes: &'a [u8]) -> In<'a> {
        In { rest: bytes }
    }

    pub fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], String> {
        if self.rest.len() < n {
            return Err(format!("it ends inside {what}"));
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }
    pub fn u8(&mut self, what: &str) -> Result<u8, String> {
        Ok(self.take(1, what)?[0])
    }
    pub fn u32(&mut self, what: &str) -> Result<u32, String> {
        Ok(u32::from_le_bytes(self.take(4, what)?.try_into().unwrap_or_default()))
    }
    pub fn u64(&mut self, what: &str) -> Result<u64, String> {
        Ok(u64::from_le_bytes(self.take(8, what)?.try_into().unwrap_or_default()))
    }
    pub fn f32(&mut self, what: &str) -> Result<f32, String> {
        Ok(f32::from_le_bytes(self.take(4, what)?.try_into().unwrap_or_default()))
    }
    pub fn sized(&mut self, what: &str) -> Result<&'a [u8], String> {
        let n = self.u32(what)? as usize;
        self.take(n, what)
    }
    /// `n` values of `size` bytes each: refused when the rest is too short for them (before
    /// anything is allocated for them).
    pub fn room(&self, n: usize, size: usize, what: &str) -> Result<(), String> {
        match n.checked_mul(size) {
            Some(bytes) if bytes <= self.rest.len() => Ok(()),
            _ => Err(format!("it claims more {what} than it holds")),
        }
    }
    pub fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }
}

/// What the collection was built with: a file made with other values is rebuilt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Built {
    pub dims: u32,
    pub m: u32,
    pub ef_construction: u32,
}

/// Frames `body` (with the parameters it was built with) and writes it to `path` whole or not
/// at all: a file beside it, flushed, renamed into place.
pub fn write(path: &Path, built: Built, body: &[u8]) -> std::io::Result<()> {
    let mut out = Out::default();
    out.bytes(MAGIC);
    out.u32(VERSION);
    out.u32(built.dims);
    out.u32(built.m);
    out.u32(built.ef_construction);
    out.bytes(body);
    let sum = Sha256::digest(&out.0);
    out.bytes(&sum);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let partial = path.with_extension("partial");
    let mut file = std::fs::File::create(&partial)?;
    file.write_all(&out.0)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&partial, path)
}

/// The body of the file at `path` when it is whole and was built with `built`; `Ok(None)`
/// when there is no file; otherwise why it is refused.
pub fn read(path: &Path, built: Built) -> Result<Option<Vec<u8>>, String> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(format!("cannot read it: {err}")),
    };
    let Some(split) = bytes.len().checked_sub(32) else {
        return Err("it is too short".into());
    };
    let (framed, sum) = bytes.split_at(split);
    if Sha256::digest(framed).as_slice() != sum {
        return Err("its checksum does not match (changed or cut short)".into());
    }
    let mut r = In::new(framed);
    if r.take(MAGIC.len(), "its header")? != MAGIC {
        return Err("it is not a vector file".into());
    }
    let version = r.u32("its header")?;
    if version != VERSION {
        return Err(format!("it is of format {version}, this binary writes {VERSION}"));
    }
    let found = Built {
        dims: r.u32("its header")?,
        m: r.u32("its header")?,
        ef_construction: r.u32("its header")?,
    };
    if found != built {
        return Err(format!("it was built with {found:?}, this binary builds with {built:?}"));
    }
    let header = framed.len() - r.rest.len();
    Ok(Some(framed[header..].to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BUILT: Built = Built { dims: 384, m: 16, ef_construction: 100 };

    #[test]
    fn a_file_is_read_back_only_whole_and_with_the_same_parameters() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vectors").join("jobs.bin");
        assert_eq!(read(&path, BUILT), Ok(None), "no file");
        write(&path, BUILT, b"the body").unwrap();
        assert_eq!(read(&path, BUILT).unwrap().as_deref(), Some(&b"the body"[..]));
        assert!(!path.with_extension("partial").exists());

        let other = Built { m: 32, ..BUILT };
        assert!(read(&path, other).unwrap_err().contains("built with"));

        let whole = std::fs::read(&path).unwrap();
        let mut changed = whole.clone();
        changed[MAGIC.len() + 20] ^= 1;
        std::fs::write(&path, &changed).unwrap();
        assert!(read(&path, BUILT).unwrap_err().contains("checksum"));
        std::fs::write(&path, &whole[..whole.len() - 1]).unwrap();
        assert!(read(&path, BUILT).unwrap_err().contains("checksum"));
        std::fs::write(&path, b"short").unwrap();
        assert!(read(&path, BUILT).is_err());
    }

    #[test]
    fn reads_past_the_end_fail_with_what_was_expected() {
        let mut out = Out::default();
        out.u32(7);
        out.sized(b"abc");
        let mut r = In::new(&out.0);
        assert_eq!(r.u32("a count"), Ok(7));
        assert_eq!(r.sized("a key"), Ok(&b"abc"[..]));
        assert!(r.is_empty());
        assert_eq!(r.u8("a flag"), Err("it ends inside a flag".into()));
        assert!(r.room(usize::MAX, 4, "points").is_err());
    }
}
