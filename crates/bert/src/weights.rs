//! The tensors of a safetensors file: small ones read into memory, the word table mapped.

use std::collections::HashMap;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

use serde::Deserialize;

use crate::LoadError;

/// Where one tensor lies in the file, as its header says.
#[derive(Debug, Deserialize)]
struct Entry {
    dtype: String,
    shape: Vec<usize>,
    data_offsets: [usize; 2],
}

/// An open safetensors file of f32 tensors.
pub(crate) struct Weights {
    file: File,
    /// Where the tensor data begins (after the length and the header).
    start: u64,
    entries: HashMap<String, Entry>,
    /// Prepended to every name when the file has it ("bert." in some exports).
    prefix: &'static str,
}

impl Weights {
    pub(crate) fn open(path: &Path) -> Result<Self, LoadError> {
        let bad = |why: String| LoadError::Weights(format!("{}: {why}", path.display()));
        let file = File::open(path).map_err(|e| bad(e.to_string()))?;
        let mut length = [0u8; 8];
        file.read_exact_at(&mut length, 0).map_err(|e| bad(e.to_string()))?;
        let length = u64::from_le_bytes(length);
        if length > 100 << 20 {
            return Err(bad(format!("a header of {length} bytes")));
        }
        let mut header = vec![0u8; length as usize];
        file.read_exact_at(&mut header, 8).map_err(|e| bad(e.to_string()))?;
        let mut entries: HashMap<String, serde_json::Value> =
            serde_json::from_slice(&header).map_err(|e| bad(format!("header: {e}")))?;
        entries.remove("__metadata__");
        let entries = entries
            .into_iter()
            .map(|(name, value)| {
                serde_json::from_value::<Entry>(value)
                    .map(|entry| (name.clone(), entry))
                    .map_err(|e| bad(format!("{name}: {e}")))
            })
            .collect::<Result<HashMap<_, _>, _>>()?;
        let prefix = if entries.keys().any(|k| k.starts_with("bert.")) { "bert." } else { "" };
        Ok(Self { file, start: 8 + length, entries, prefix })
    }

    /// The entry of an f32 tensor of this shape.
    fn entry(&self, name: &str, shape: &[usize]) -> Result<&Entry, LoadError> {
        let full = format!("{}{name}", self.prefix);
        let entry = self
            .entries
            .get(&full)
            .ok_or_else(|| LoadError::Weights(format!("no tensor {full}")))?;
        let [begin, end] = entry.data_offsets;
        if entry.dtype != "F32"
            || entry.shape != shape
            || end < begin
            || end - begin != 4 * shape.iter().product::<usize>()
        {
            return Err(LoadError::Weights(format!(
                "{full} is {} {:?}, expected F32 {shape:?}",
                entry.dtype, entry.shape
            )));
        }
        Ok(entry)
    }

    /// Reads an f32 tensor of this shape, row-major.
    pub(crate) fn read(&self, name: &str, shape: &[usize]) -> Result<Vec<f32>, LoadError> {
        let entry = self.entry(name, shape)?;
        let [begin, end] = entry.data_offsets;
        let mut bytes = vec![0u8; end - begin];
        self.file
            .read_exact_at(&mut bytes, self.start + begin as u64)
            .map_err(|e| LoadError::Weights(format!("{name}: {e}")))?;
        Ok(bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect())
    }

    /// Maps an f32 tensor of this shape without reading it: only the rows used are loaded.
    pub(crate) fn map(&self, name: &str, shape: &[usize]) -> Result<Table, LoadError> {
        let entry = self.entry(name, shape)?;
        let [begin, end] = entry.data_offsets;
        // SAFETY: the file is only read; it is mapped for the life of the model and the models
        // folder is not rewritten while a process uses it (models.sh writes a new file and
        // renames it into place).
        let map = unsafe {
            memmap2::MmapOptions::new()
                .offset(self.start + begin as u64)
                .len(end - begin)
                .map(&self.file)
        }
        .map_err(|e| LoadError::Weights(format!("{name}: {e}")))?;
        Ok(Table { map, width: shape[1] })
    }
}

/// A mapped 2-D f32 tensor, read row by row.
pub(crate) struct Table {
    map: memmap2::Mmap,
    width: usize,
}

impl Table {
    pub(crate) fn rows(&self) -> usize {
        self.map.len() / (4 * self.width)
    }

    /// Copies row `row` into `out` (`width` values).
    pub(crate) fn row_into(&self, row: usize, out: &mut [f32]) {
        let bytes = &self.map[row * 4 * self.width..(row + 1) * 4 * self.width];
        for (o, b) in out.iter_mut().zip(bytes.chunks_exact(4)) {
            *o = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        }
    }
}
