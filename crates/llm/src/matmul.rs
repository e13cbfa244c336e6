//! Weight matrices kept in the GGUF's quantized blocks (Q5_0 ones interleaved eight rows at a
//! time when their rows come in eights), and their products with a batch of activation rows:
//! the activations are quantized once per row to the block type the weights pair with (Q8_1
//! for Q4_1, Q8_0 for Q4_0/Q8_0/Q5_x, Q8_K for k-quants, as GGML does), and the output rows
//! are split across the threads of the current rayon pool.

use std::io::{Read, Seek, SeekFrom};
use std::ops::Range;

use candle_core::quantized::GgmlDType;
use candle_core::quantized::gguf_file::Content;
use candle_core::quantized::k_quants::{
    BlockQ2K, BlockQ3K, BlockQ4_0, BlockQ4_1, BlockQ4K, BlockQ5_0, BlockQ5_1, BlockQ5K, BlockQ6K,
    BlockQ8_0, BlockQ8_1, BlockQ8K, GgmlType,
};
use rayon::prelude::*;

use crate::kernels::{self, Level};

/// A block type of weights, and how a row of it meets a row of activations.
pub trait Weight: GgmlType<VecDotType: Input> + Send + Sync + 'static {
    /// Σ x·y of one weight row and one activation row.
    fn dot(level: Level, x: &[Self], y: &[Self::VecDotType]) -> f32 {
        let _ = level;
        Self::vec_dot(x.len() * Self::BLCK_SIZE, x, y)
    }

    /// One weight row with four activation rows.
    fn dot4(level: Level, x: &[Self], y: [&[Self::VecDotType]; 4]) -> [f32; 4] {
        y.map(|y| Self::dot(level, x, y))
    }

    /// Four weight rows with four activation rows (`[row][activation row]`).
    fn dot4x4(level: Level, x: [&[Self]; 4], y: [&[Self::VecDotType]; 4]) -> [[f32; 4]; 4] {
        x.map(|x| Self::dot4(level, x, y))
    }
}

impl Weight for BlockQ4_1 {
    fn dot(level: Level, x: &[Self], y: &[BlockQ8_1]) -> f32 {
        kernels::dot_q4_1_q8_1(level, x, y)
    }

    fn dot4(level: Level, x: &[Self], y: [&[BlockQ8_1]; 4]) -> [f32; 4] {
        kernels::dot_q4_1_q8_1_x4(level, x, y)
    }
}

impl Weight for BlockQ4_0 {
    fn dot(level: Level, x: &[Self], y: &[BlockQ8_0]) -> f32 {
        kernels::dot_q4_0_q8_0(level, x, y)
    }
}

impl Weight for BlockQ8_0 {
    fn dot(level: Level, x: &[Self], y: &[BlockQ8_0]) -> f32 {
        kernels::dot_q8_0_q8_0(level, x, y)
    }

    fn dot4(level: Level, x: &[Self], y: [&[BlockQ8_0]; 4]) -> [f32; 4] {
        kernels::dot_q8_0_q8_0_x4(level, x, y)
    }
}

impl Weight for BlockQ5_0 {
    fn dot(level: Level, x: &[Self], y: &[BlockQ8_0]) -> f32 {
        kernels::dot_q5_0_q8_0(level, x, y)
    }

    fn dot4(level: Level, x: &[Self], y: [&[BlockQ8_0]; 4]) -> [f32; 4] {
        kernels::dot_q5_0_q8_0_x4(level, x, y)
    }

    fn dot4x4(level: Level, x: [&[Self]; 4], y: [&[BlockQ8_0]; 4]) -> [[f32; 4]; 4] {
        kernels::dot_q5_0_q8_0_4x4(level, x, y)
    }
}

impl Weight for BlockQ4K {
    fn dot(level: Level, x: &[Self], y: &[BlockQ8K]) -> f32 {
        kernels::dot_q4k_q8k(level, x, y)
    }

    fn dot4(level: Level, x: &[Self], y: [&[BlockQ8K]; 4]) -> [f32; 4] {
        kernels::dot_q4k_q8k_x4(level, x, y)
    }
}

impl Weight for BlockQ6K {
    fn dot(level: Level, x: &[Self], y: &[BlockQ8K]) -> f32 {
        kernels::dot_q6k_q8k(level, x, y)
    }

    fn dot4(level: Level, x: &[Self], y: [&[BlockQ8K]; 4]) -> [f32; 4] {
        kernels::dot_q6k_q8k_x4(level, x, y)
    }
}

// candle's own kernels (SIMD for Q2_K..Q5_K when the build enables AVX2; Q5_1 is scalar).
impl Weight for BlockQ5_1 {}
impl Weight for BlockQ2K {}
impl Weight for BlockQ3K {}
impl Weight for BlockQ5K {}

/// A block type activations are quantized to.
pub trait Input: GgmlType + Send + Sync {
    fn slot(acts: &Activations) -> &Quantized<Self>;
    fn slot_mut(acts: &mut Activations) -> &mut Quantized<Self>;

    /// Appends what kernels take of each block besides its codes (once per batch): its scale
    /// as f32 and the sum of its codes, for the types whose kernels use them.
    fn scales_and_sums(blocks: &[Self], scales: &mut Vec<f32>, sums: &mut Vec<i32>) {
        let _ = (blocks, scales, sums);
    }
}

macro_rules! input {
    ($block:ty, $field:ident $(, $extras:path)?) => {
        impl Input for $block {
            fn slot(acts: &Activations) -> &Quantized<Self> {
                &acts.$field
            }
            fn slot_mut(acts: &mut Activations) -> &mut Quantized<Self> {
                &mut acts.$field
            }
            $(
                fn scales_and_sums(blocks: &[Self], scales: &mut Vec<f32>, sums: &mut Vec<i32>) {
                    $extras(blocks, scales, sums)
                }
            )?
        }
    };
}

input!(BlockQ8_0, q8_0, kernels::q8_0_scales_and_sums);
input!(BlockQ8_1, q8_1);
input!(BlockQ8K, q8k);

/// Activation rows quantized to one block type (kept between calls to reuse the memory).
pub struct Quantized<B> {
    blocks: Vec<B>,
    /// Per block, for the types that have them ([`Input::scales_and_sums`]).
    scales: Vec<f32>,
    sums: Vec<i32>,
    fresh: bool,
}

impl<B> Default for Quantized<B> {
    fn default() -> Self {
        Self { blocks: Vec::new(), scales: Vec::new(), sums: Vec::new(), fresh: false }
    }
}

/// A batch of activation rows (one per token), and its quantized forms, made on demand.
#[derive(Default)]
pub struct Activations {
    rows: usize,
    cols: usize,
    values: Vec<f32>,
    q8_0: Quantized<BlockQ8_0>,
    q8_1: Quantized<BlockQ8_1>,
    q8k: Quantized<BlockQ8K>,
    /// The products of a batch of several rows, one per matrix, before they are turned
    /// (kept between calls to reuse the memory).
    transposed: Vec<Vec<f32>>,
}

impl Activations {
    /// Takes `rows` rows of `cols` values (row-major) as the next matmul input.
    pub fn set(&mut self, values: &[f32], rows: usize, cols: usize) {
        debug_assert_eq!(values.len(), rows * cols);
        self.rows = rows;
        self.cols = cols;
        self.values.clear();
        self.values.extend_from_slice(values);
        self.q8_0.fresh = false;
        self.q8_1.fresh = false;
        self.q8k.fresh = false;
    }

    fn prepare<B: Input>(&mut self) {
        let (rows, cols) = (self.rows, self.cols);
        let values = std::mem::take(&mut self.values);
        let slot = B::slot_mut(self);
        if !slot.fresh {
            slot.blocks.resize(rows * cols / B::BLCK_SIZE, B::zeros());
            let per_row = cols / B::BLCK_SIZE;
            for (x, q) in values.chunks_exact(cols).zip(slot.blocks.chunks_exact_mut(per_row)) {
                B::from_float(x, q);
            }
            slot.scales.clear();
            slot.sums.clear();
            B::scales_and_sums(&slot.blocks, &mut slot.scales, &mut slot.sums);
            slot.fresh = true;
        }
        self.values = values;
    }

    /// Row `row` of the Q8_0 activations with their scales and sums.
    fn q8_0_row(&self, row: usize) -> kernels::Q8_0Row<'_> {
        let per_row = self.cols / BlockQ8_0::BLCK_SIZE;
        let at = row * per_row..(row + 1) * per_row;
        let q = &self.q8_0;
        kernels::Q8_0Row::new(&q.blocks[at.clone()], &q.scales[at.clone()], &q.sums[at])
    }

    fn row<B: Input>(&self, row: usize) -> &[B] {
        let per_row = self.cols / B::BLCK_SIZE;
        &B::slot(self).blocks[row * per_row..(row + 1) * per_row]
    }
}

/// A weight matrix of `rows` outputs by `cols` inputs, as quantized blocks.
pub trait Matrix: Send + Sync {
    fn rows(&self) -> usize;
    fn cols(&self) -> usize;
    /// Quantizes the activations to what this matrix pairs with (once per batch).
    fn prepare(&self, acts: &mut Activations);
    /// `out[(r - rows.start) * acts.rows + t]` = row `r` · activation row `t`.
    fn dot_rows(&self, level: Level, rows: Range<usize>, acts: &Activations, out: &mut [f32]);
    /// Row `row` as floats (an embedding lookup).
    fn row_f32(&self, row: usize, out: &mut [f32]);
}

/// Products with unquantized activations (f32 · dequantized weights): the reference the
/// quantized path is measured against.
#[cfg(test)]
pub fn matmul_exact(acts: &Activations, matrix: &dyn Matrix, out: &mut Vec<f32>) {
    let (rows, cols) = (matrix.rows(), matrix.cols());
    let mut transposed = vec![0f32; rows * acts.rows];
    transposed.par_chunks_mut(acts.rows).enumerate().for_each(|(r, column)| {
        let mut w = vec![0f32; cols];
        matrix.row_f32(r, &mut w);
        for (t, o) in column.iter_mut().enumerate() {
            *o = kernels::dot_f32(&acts.values[t * cols..(t + 1) * cols], &w);
        }
    });
    out.resize(acts.rows * rows, 0.0);
    for (r, column) in transposed.chunks_exact(acts.rows).enumerate() {
        for (t, &v) in column.iter().enumerate() {
            out[t * rows + r] = v;
        }
    }
}

struct Blocks<T> {
    rows: usize,
    cols: usize,
    blocks: Vec<T>,
}

impl<T: Weight> Matrix for Blocks<T> {
    fn rows(&self) -> usize {
        self.rows
    }

    fn cols(&self) -> usize {
        self.cols
    }

    fn prepare(&self, acts: &mut Activations) {
        acts.prepare::<T::VecDotType>();
    }

    fn dot_rows(&self, level: Level, rows: Range<usize>, acts: &Activations, out: &mut [f32]) {
        let per_row = self.cols / T::BLCK_SIZE;
        let tokens = acts.rows;
        let row = |r: usize| &self.blocks[r * per_row..(r + 1) * per_row];
        let four = |t: usize| [t, t + 1, t + 2, t + 3].map(|t| acts.row::<T::VecDotType>(t));
        // Four rows by four tokens at a time while there are four tokens, then row by row.
        let mut r = rows.start;
        let mut out = out;
        if tokens >= 4 {
            while r + 4 <= rows.end {
                let (here, rest) = out.split_at_mut(4 * tokens);
                let w = [r, r + 1, r + 2, r + 3].map(row);
                let mut t = 0;
                while t + 4 <= tokens {
                    let tile = T::dot4x4(level, w, four(t));
                    for (i, values) in tile.iter().enumerate() {
                        here[i * tokens + t..i * tokens + t + 4].copy_from_slice(values);
                    }
                    t += 4;
                }
                for (i, &w) in w.iter().enumerate() {
                    for t in t..tokens {
                        here[i * tokens + t] = T::dot(level, w, acts.row::<T::VecDotType>(t));
                    }
                }
                out = rest;
                r += 4;
            }
        }
        for (r, out) in (r..rows.end).zip(out.chunks_exact_mut(tokens)) {
            let w = row(r);
            // Four tokens at a time while the row is at hand, then the rest one by one.
            let mut t = 0;
            while t + 4 <= tokens {
                out[t..t + 4].copy_from_slice(&T::dot4(level, w, four(t)));
                t += 4;
            }
            for (t, slot) in out.iter_mut().enumerate().skip(t) {
                *slot = T::dot(level, w, acts.row::<T::VecDotType>(t));
            }
        }
    }

    fn row_f32(&self, row: usize, out: &mut [f32]) {
        let per_row = self.cols / T::BLCK_SIZE;
        T::to_float(&self.blocks[row * per_row..(row + 1) * per_row], out);
    }
}

/// A Q5_0 matrix whose rows are interleaved eight at a time ([`kernels::Q5_0x8`]): block
/// `i` of rows `8g..8g+8` is `groups[g * blocks_per_row + i]`.
struct Interleaved {
    rows: usize,
    cols: usize,
    groups: Vec<kernels::Q5_0x8>,
}

impl Interleaved {
    /// The interleaved form of a Q5_0 matrix whose rows come in eights.
    fn new(matrix: &Blocks<BlockQ5_0>) -> Option<Self> {
        if !matrix.rows.is_multiple_of(8) {
            return None;
        }
        let per_row = matrix.cols / BlockQ5_0::BLCK_SIZE;
        let mut groups = Vec::with_capacity(matrix.blocks.len() / 8);
        for g in 0..matrix.rows / 8 {
            for i in 0..per_row {
                let block = |r: usize| &matrix.blocks[(8 * g + r) * per_row + i];
                groups.push(kernels::Q5_0x8::interleave(std::array::from_fn(block)));
            }
        }
        Some(Self { rows: matrix.rows, cols: matrix.cols, groups })
    }
}

impl Matrix for Interleaved {
    fn rows(&self) -> usize {
        self.rows
    }

    fn cols(&self) -> usize {
        self.cols
    }

    fn prepare(&self, acts: &mut Activations) {
        acts.prepare::<BlockQ8_0>();
    }

    fn dot_rows(&self, level: Level, rows: Range<usize>, acts: &Activations, out: &mut [f32]) {
        assert!(rows.start.is_multiple_of(8) && rows.end.is_multiple_of(8));
        let per_row = self.cols / BlockQ5_0::BLCK_SIZE;
        let tokens = acts.rows;
        for (g, out) in (rows.start / 8..rows.end / 8).zip(out.chunks_exact_mut(8 * tokens)) {
            let x = &self.groups[g * per_row..(g + 1) * per_row];
            // Eight rows by eight tokens at a time, then four, then the others one by one.
            let mut t = 0;
            while t + 8 <= tokens {
                let y = std::array::from_fn(|k| acts.q8_0_row(t + k));
                for (k, values) in kernels::dot_q5_0x8_q8_0_x8(level, x, y).iter().enumerate() {
                    for (r, &v) in values.iter().enumerate() {
                        out[r * tokens + t + k] = v;
                    }
                }
                t += 8;
            }
            while t + 4 <= tokens {
                let y = [t, t + 1, t + 2, t + 3].map(|t| acts.q8_0_row(t));
                for (k, values) in kernels::dot_q5_0x8_q8_0_x4(level, x, y).iter().enumerate() {
                    for (r, &v) in values.iter().enumerate() {
                        out[r * tokens + t + k] = v;
                    }
                }
                t += 4;
            }
            for t in t..tokens {
                let values = kernels::dot_q5_0x8_q8_0(level, x, acts.q8_0_row(t));
                for (r, &v) in values.iter().enumerate() {
                    out[r * tokens + t] = v;
                }
            }
        }
    }

    fn row_f32(&self, row: usize, out: &mut [f32]) {
        let per_row = self.cols / BlockQ5_0::BLCK_SIZE;
        let g = row / 8;
        kernels::Q5_0x8::dequantize(&self.groups[g * per_row..(g + 1) * per_row], row % 8, out);
    }
}

/// Why a weight could not be read from the file.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("the model file has no tensor {0}")]
    Missing(String),
    #[error("tensor {name} is {dtype:?}, which this model code does not run")]
    Type { name: String, dtype: GgmlDType },
    #[error("tensor {name} has shape {shape:?}, expected {expected:?}")]
    Shape { name: String, shape: Vec<usize>, expected: Vec<usize> },
    #[error("cannot read tensor {name}: {source}")]
    Io { name: String, source: std::io::Error },
    /// The model's shape, as its metadata gives it, cannot be run.
    #[error("the model's shape does not work: {0}")]
    Config(String),
}

fn seek_to<R: Seek>(content: &Content, name: &str, file: &mut R) -> Result<Vec<usize>, LoadError> {
    let info = content.tensor_infos.get(name).ok_or_else(|| LoadError::Missing(name.to_owned()))?;
    file.seek(SeekFrom::Start(content.tensor_data_offset + info.offset))
        .map_err(|source| LoadError::Io { name: name.to_owned(), source })?;
    Ok(info.shape.dims().to_vec())
}

fn read_blocks<T: GgmlType, R: Read>(
    file: &mut R,
    name: &str,
    count: usize,
) -> Result<Vec<T>, LoadError> {
    let mut blocks = vec![T::zeros(); count];
    // SAFETY: the block types are `repr(C)` plain data (integers and f16s: every bit pattern
    // is valid), and the file holds them in exactly this layout (GGML's).
    let bytes = unsafe {
        std::slice::from_raw_parts_mut(blocks.as_mut_ptr().cast::<u8>(), count * size_of::<T>())
    };
    file.read_exact(bytes).map_err(|source| LoadError::Io { name: name.to_owned(), source })?;
    Ok(blocks)
}

/// Reads a weight matrix of `rows × cols`, kept in the file's block type.
pub fn load_matrix<R: Read + Seek>(
    content: &Content,
    file: &mut R,
    name: &str,
    rows: usize,
    cols: usize,
) -> Result<Box<dyn Matrix>, LoadError> {
    let shape = seek_to(content, name, file)?;
    if shape != [rows, cols] {
        return Err(LoadError::Shape { name: name.to_owned(), shape, expected: vec![rows, cols] });
    }
    let dtype = content.tensor_infos[name].ggml_dtype;
    fn typed<T: Weight, R: Read>(
        file: &mut R,
        name: &str,
        rows: usize,
        cols: usize,
    ) -> Result<Box<dyn Matrix>, LoadError> {
        if !cols.is_multiple_of(T::BLCK_SIZE) {
            return Err(LoadError::Type { name: name.to_owned(), dtype: T::DTYPE });
        }
        let values = rows.checked_mul(cols).ok_or_else(|| {
            LoadError::Config(format!("tensor {name} of {rows} x {cols} values is too big"))
        })?;
        let blocks = read_blocks::<T, R>(file, name, values / T::BLCK_SIZE)?;
        Ok(Box::new(Blocks { rows, cols, blocks }))
    }
    match dtype {
        GgmlDType::Q4_0 => typed::<BlockQ4_0, R>(file, name, rows, cols),
        GgmlDType::Q4_1 => typed::<BlockQ4_1, R>(file, name, rows, cols),
        GgmlDType::Q5_0 => {
            // Interleaved when the rows come in eights (the eight-row kernels).
            let blocks = read_blocks::<BlockQ5_0, R>(file, name, rows * cols / 32)?;
            let matrix = Blocks { rows, cols, blocks };
            match Interleaved::new(&matrix) {
                Some(interleaved) => Ok(Box::new(interleaved)),
                None => Ok(Box::new(matrix)),
            }
        }
        GgmlDType::Q5_1 => typed::<BlockQ5_1, R>(file, name, rows, cols),
        GgmlDType::Q8_0 => typed::<BlockQ8_0, R>(file, name, rows, cols),
        GgmlDType::Q2K => typed::<BlockQ2K, R>(file, name, rows, cols),
        GgmlDType::Q3K => typed::<BlockQ3K, R>(file, name, rows, cols),
        GgmlDType::Q4K => typed::<BlockQ4K, R>(file, name, rows, cols),
        GgmlDType::Q5K => typed::<BlockQ5K, R>(file, name, rows, cols),
        GgmlDType::Q6K => typed::<BlockQ6K, R>(file, name, rows, cols),
        dtype => Err(LoadError::Type { name: name.to_owned(), dtype }),
    }
}

/// Reads an f32 vector of `len` values (norm weights, biases).
pub fn load_vector<R: Read + Seek>(
    content: &Content,
    file: &mut R,
    name: &str,
    len: usize,
) -> Result<Vec<f32>, LoadError> {
    let shape = seek_to(content, name, file)?;
    if shape != [len] {
        return Err(LoadError::Shape { name: name.to_owned(), shape, expected: vec![len] });
    }
    match content.tensor_infos[name].ggml_dtype {
        GgmlDType::F32 => read_blocks::<f32, R>(file, name, len),
        dtype => Err(LoadError::Type { name: name.to_owned(), dtype }),
    }
}

#[cfg(test)]
thread_local! {
    /// Makes [`matmul`] on this thread use [`matmul_exact`].
    pub static EXACT: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// One product of a matmul batch: a matrix and where its output goes (`acts.rows × rows`,
/// row-major: one output row per activation row).
pub struct Product<'a> {
    pub matrix: &'a dyn Matrix,
    pub out: &'a mut Vec<f32>,
}

/// Computes every product over the same activations in one parallel pass, the output rows of
/// all matrices split into pieces across the threads of the current rayon pool.
pub fn matmul(level: Level, acts: &mut Activations, products: &mut [Product<'_>]) {
    #[cfg(test)]
    if EXACT.with(|e| e.get()) {
        for p in products.iter_mut() {
            matmul_exact(acts, p.matrix, p.out);
        }
        return;
    }
    for p in products.iter() {
        debug_assert_eq!(p.matrix.cols(), acts.cols);
        p.matrix.prepare(acts);
    }
    let mut transposed = std::mem::take(&mut acts.transposed);
    let acts_mut = acts;
    let acts = &*acts_mut;
    let tokens = acts.rows;
    let total_rows: usize = products.iter().map(|p| p.matrix.rows()).sum();
    let pieces = rayon::current_num_threads() * 4;
    // Rows per piece: a multiple of 8 (interleaved matrices take rows in eights), at least 16.
    let chunk = total_rows.div_ceil(pieces).next_multiple_of(8).max(16);
    // With one token the output is already row-major; with more, each matrix's output is
    // computed transposed (rows × tokens, so pieces own contiguous parts) and turned after.
    let mut tasks: Vec<(&dyn Matrix, usize, &mut [f32])> = Vec::new();
    if tokens == 1 {
        for p in products.iter_mut() {
            p.out.resize(p.matrix.rows(), 0.0);
            for (i, piece) in p.out.chunks_mut(chunk).enumerate() {
                tasks.push((p.matrix, i * chunk, piece));
            }
        }
    } else {
        transposed.resize_with(products.len(), Vec::new);
        for (p, buffer) in products.iter().zip(transposed.iter_mut()) {
            buffer.clear();
            buffer.resize(p.matrix.rows() * tokens, 0.0);
        }
        for (p, buffer) in products.iter().zip(transposed.iter_mut()) {
            for (i, piece) in buffer.chunks_mut(chunk * tokens).enumerate() {
                tasks.push((p.matrix, i * chunk, piece));
            }
        }
    }
    tasks.into_par_iter().for_each(|(matrix, start, out)| {
        let rows = start..start + out.len() / tokens;
        matrix.dot_rows(level, rows, acts, out);
    });
    if tokens > 1 {
        for (p, buffer) in products.iter_mut().zip(&transposed) {
            let rows = p.matrix.rows();
            p.out.resize(rows * tokens, 0.0);
            // Eight tokens' rows per task: each reads eight values in a run per matrix row
            // and writes eight output rows front to back.
            p.out.par_chunks_mut(8 * rows).enumerate().for_each(|(g, out)| {
                let first = 8 * g;
                let count = out.len() / rows;
                for (r, column) in buffer.chunks_exact(tokens).enumerate() {
                    for (k, &v) in column[first..first + count].iter().enumerate() {
                        out[k * rows + r] = v;
                    }
                }
            });
        }
    }
    acts_mut.transposed = transposed;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn floats(n: usize, seed: u64) -> Vec<f32> {
        let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                (s >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0
            })
            .collect()
    }

    fn matrix<T: Weight>(rows: usize, cols: usize, seed: u64) -> Blocks<T> {
        let values = floats(rows * cols, seed);
        let mut blocks = vec![T::zeros(); rows * cols / T::BLCK_SIZE];
        T::from_float(&values, &mut blocks);
        Blocks { rows, cols, blocks }
    }

    /// Batched and single-row products give what the block dot product gives row by row,
    /// for every weight type the model files use, in one pass over several matrices.
    fn check<T: Weight>() {
        let (cols, tokens) = (512, 7);
        let a: Blocks<T> = matrix(37, cols, 1);
        let b: Blocks<T> = matrix(130, cols, 2);
        let x = floats(tokens * cols, 3);
        for n in [1, tokens] {
            let mut acts = Activations::default();
            acts.set(&x[..n * cols], n, cols);
            let (mut out_a, mut out_b) = (Vec::new(), Vec::new());
            matmul(
                Level::detected(),
                &mut acts,
                &mut [
                    Product { matrix: &a, out: &mut out_a },
                    Product { matrix: &b, out: &mut out_b },
                ],
            );
            for (m, out) in [(&a, &out_a), (&b, &out_b)] {
                assert_eq!(out.len(), n * m.rows);
                for t in 0..n {
                    let mut q = vec![
                        <T::VecDotType as GgmlType>::zeros();
                        cols / <T::VecDotType as GgmlType>::BLCK_SIZE
                    ];
                    <T::VecDotType as GgmlType>::from_float(&x[t * cols..(t + 1) * cols], &mut q);
                    for r in 0..m.rows {
                        let per_row = cols / T::BLCK_SIZE;
                        let w = &m.blocks[r * per_row..(r + 1) * per_row];
                        let want = T::vec_dot_unopt(cols, w, &q);
                        let got = out[t * m.rows + r];
                        assert!(
                            (got - want).abs() < 1e-3 * (1.0 + want.abs()),
                            "{:?} t={t} r={r}: {got} vs {want}",
                            T::DTYPE
                        );
                    }
                }
            }
        }
    }

    /// The interleaved Q5_0 matrix gives what the plain one gives (checked against candle
    /// above), in one pass with it, and the same rows as floats.
    #[test]
    fn interleaved_q5_0_matches_the_plain_matrix() {
        let (cols, tokens) = (608, 13);
        let plain: Blocks<BlockQ5_0> = matrix(136, cols, 4);
        let interleaved = Interleaved::new(&plain).expect("136 rows are 17 eights");
        assert!(Interleaved::new(&matrix::<BlockQ5_0>(36, cols, 5)).is_none());
        let x = floats(tokens * cols, 6);
        for n in [1, 2, 4, 7, 8, tokens] {
            let mut acts = Activations::default();
            acts.set(&x[..n * cols], n, cols);
            let (mut want, mut got) = (Vec::new(), Vec::new());
            matmul(
                Level::detected(),
                &mut acts,
                &mut [
                    Product { matrix: &plain, out: &mut want },
                    Product { matrix: &interleaved, out: &mut got },
                ],
            );
            assert_eq!(got.len(), want.len());
            for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                assert!((g - w).abs() < 1e-4 * (1.0 + w.abs()), "n={n} at {i}: {g} vs {w}");
            }
        }
        for row in [0, 7, 8, 77, 135] {
            let (mut want, mut got) = (vec![0f32; cols], vec![0f32; cols]);
            plain.row_f32(row, &mut want);
            interleaved.row_f32(row, &mut got);
            assert_eq!(got, want, "row {row}");
        }
    }

    #[test]
    fn products_match_candle_for_every_weight_type() {
        check::<BlockQ4_0>();
        check::<BlockQ4_1>();
        check::<BlockQ5_0>();
        check::<BlockQ5_1>();
        check::<BlockQ8_0>();
        check::<BlockQ2K>();
        check::<BlockQ3K>();
        check::<BlockQ4K>();
        check::<BlockQ5K>();
        check::<BlockQ6K>();
    }
}
