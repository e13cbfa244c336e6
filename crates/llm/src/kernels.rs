//! Dot products between a row of quantized weights and a row of quantized activations, the
//! inner loop of every matrix multiplication of the model: Q4_1 × Q8_1, Q4_0 × Q8_0,
//! Q5_0 × Q8_0, Q8_0 × Q8_0, Q4_K × Q8_K and Q6_K × Q8_K (GGML's block formats), with an
//! AVX2 + FMA path, an AVX-512 VNNI path and a scalar fallback, picked once at run time from
//! what the CPU supports. Most have a four-row form (one weight row with four activation
//! rows, for prompt processing) that unpacks the weights once for all four, and Q5_0 has an
//! interleaved layout of eight weight rows ([`Q5_0x8`]) whose kernels sum one row per lane.
//!
//! The blocks are candle's (`candle_core::quantized::k_quants`), read through mirror structs
//! of the same `repr(C)` layout, because candle keeps their fields to itself.

use candle_core::quantized::k_quants::{
    BlockQ4_0, BlockQ4_1, BlockQ4K, BlockQ5_0, BlockQ6K, BlockQ8_0, BlockQ8_1, BlockQ8K,
};
use half::f16;
use std::sync::OnceLock;

/// GGML's Q4_1: 32 weights as 4-bit codes, `d * q + m`.
#[repr(C)]
struct Q4_1 {
    d: f16,
    m: f16,
    qs: [u8; 16],
}

/// GGML's Q4_0: 32 weights as 4-bit codes, `d * (q - 8)`.
#[repr(C)]
struct Q4_0 {
    d: f16,
    qs: [u8; 16],
}

/// GGML's Q8_0: 32 values as 8-bit codes, `d * q`.
#[repr(C)]
struct Q8_0 {
    d: f16,
    qs: [i8; 32],
}

/// GGML's Q8_1: Q8_0 with `s = d * Σq`, so a Q4_1 block's offset costs one multiplication.
#[repr(C)]
struct Q8_1 {
    d: f16,
    s: f16,
    qs: [i8; 32],
}

/// GGML's Q5_0: 32 weights as 5-bit codes, `d * (q - 16)`; bit 4 of code `i` is bit `i` of
/// `qh` (little-endian), the low four bits are nibbles as in Q4_0.
#[repr(C)]
struct Q5_0 {
    d: f16,
    qh: [u8; 4],
    qs: [u8; 16],
}

/// GGML's Q4_K: 256 weights in 8 sub-blocks of 32, `d * sc * q - dmin * m` with a 6-bit
/// scale `sc` and min `m` per sub-block (packed into 12 bytes) and 4-bit codes; each 32 bytes
/// of `qs` hold two sub-blocks, the first in the low nibbles.
#[repr(C)]
struct Q4K {
    d: f16,
    dmin: f16,
    scales: [u8; 12],
    qs: [u8; 128],
}

/// GGML's Q6_K: 256 weights in 16 sub-blocks of 16, `d * sc * (q - 32)` with an 8-bit signed
/// scale per sub-block and 6-bit codes (low four bits in `ql`, high two in `qh`).
#[repr(C)]
struct Q6K {
    ql: [u8; 128],
    qh: [u8; 64],
    scales: [i8; 16],
    d: f16,
}

/// GGML's Q8_K: 256 activations as 8-bit codes, `d * q`, with the sum of every 16 codes.
#[repr(C)]
struct Q8K {
    d: f32,
    qs: [i8; 256],
    bsums: [i16; 16],
}

macro_rules! mirror {
    ($fn:ident, $candle:ty, $ours:ty) => {
        const _: () = assert!(
            std::mem::size_of::<$candle>() == std::mem::size_of::<$ours>()
                && std::mem::align_of::<$candle>() == std::mem::align_of::<$ours>()
        );
        fn $fn(blocks: &[$candle]) -> &[$ours] {
            // SAFETY: both are `repr(C)` structs of the same fields in the same order (checked
            // in size and alignment above), so a slice of one is a valid slice of the other.
            unsafe { std::slice::from_raw_parts(blocks.as_ptr().cast::<$ours>(), blocks.len()) }
        }
    };
}

mirror!(q4_1, BlockQ4_1, Q4_1);
mirror!(q4_0, BlockQ4_0, Q4_0);
mirror!(q8_0, BlockQ8_0, Q8_0);
mirror!(q8_1, BlockQ8_1, Q8_1);
mirror!(q5_0, BlockQ5_0, Q5_0);
mirror!(q4k, BlockQ4K, Q4K);
mirror!(q6k, BlockQ6K, Q6K);
mirror!(q8k, BlockQ8K, Q8K);

/// Which instructions the kernels use, in the order each includes the one before. A level
/// above what this CPU has is run at the CPU's ([`Level::detected`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Scalar,
    Avx2,
    /// AVX2 with the AVX-512 VNNI byte dot product on 256-bit registers.
    Avx512Vnni,
}

impl Level {
    /// The best level this CPU runs (checked once).
    pub fn detected() -> Self {
        static LEVEL: OnceLock<Level> = OnceLock::new();
        *LEVEL.get_or_init(|| {
            #[cfg(target_arch = "x86_64")]
            {
                let avx2 = is_x86_feature_detected!("avx2")
                    && is_x86_feature_detected!("fma")
                    && is_x86_feature_detected!("f16c");
                let vnni = is_x86_feature_detected!("avx512vnni")
                    && is_x86_feature_detected!("avx512vl")
                    && is_x86_feature_detected!("avx512f");
                if avx2 && vnni {
                    return Level::Avx512Vnni;
                }
                if avx2 {
                    return Level::Avx2;
                }
            }
            Level::Scalar
        })
    }

    /// The levels this CPU runs, for tests.
    #[cfg(test)]
    pub fn available() -> Vec<Self> {
        match Self::detected() {
            Level::Scalar => vec![Level::Scalar],
            Level::Avx2 => vec![Level::Scalar, Level::Avx2],
            Level::Avx512Vnni => vec![Level::Scalar, Level::Avx2, Level::Avx512Vnni],
        }
    }
}

/// Σ x·y over Q4_1 weights and Q8_1 activations of the same length.
pub fn dot_q4_1_q8_1(level: Level, x: &[BlockQ4_1], y: &[BlockQ8_1]) -> f32 {
    assert_eq!(x.len(), y.len());
    let (x, y) = (q4_1(x), q8_1(y));
    match level.min(Level::detected()) {
        // SAFETY: the level is at most `Level::detected`, which only reports levels whose
        // instructions the CPU has.
        #[cfg(target_arch = "x86_64")]
        Level::Avx2 => unsafe { x86::avx2::q4_1_q8_1(x, y) },
        #[cfg(target_arch = "x86_64")]
        Level::Avx512Vnni => unsafe { x86::vnni::q4_1_q8_1(x, y) },
        _ => scalar::q4_1_q8_1(x, y),
    }
}

/// [`dot_q4_1_q8_1`] of one weight row with four activation rows: the row's codes are
/// unpacked once for all four (prompt processing).
pub fn dot_q4_1_q8_1_x4(level: Level, x: &[BlockQ4_1], y: [&[BlockQ8_1]; 4]) -> [f32; 4] {
    for y in y {
        assert_eq!(x.len(), y.len());
    }
    let (x, y) = (q4_1(x), y.map(q8_1));
    match level.min(Level::detected()) {
        // SAFETY: as above.
        #[cfg(target_arch = "x86_64")]
        Level::Avx2 => unsafe { x86::avx2::q4_1_q8_1_x4(x, y) },
        #[cfg(target_arch = "x86_64")]
        Level::Avx512Vnni => unsafe { x86::vnni::q4_1_q8_1_x4(x, y) },
        _ => y.map(|y| scalar::q4_1_q8_1(x, y)),
    }
}

/// Σ x·y over Q4_0 weights and Q8_0 activations of the same length.
pub fn dot_q4_0_q8_0(level: Level, x: &[BlockQ4_0], y: &[BlockQ8_0]) -> f32 {
    assert_eq!(x.len(), y.len());
    let (x, y) = (q4_0(x), q8_0(y));
    match level.min(Level::detected()) {
        // SAFETY: as above.
        #[cfg(target_arch = "x86_64")]
        Level::Avx2 => unsafe { x86::avx2::q4_0_q8_0(x, y) },
        #[cfg(target_arch = "x86_64")]
        Level::Avx512Vnni => unsafe { x86::vnni::q4_0_q8_0(x, y) },
        _ => scalar::q4_0_q8_0(x, y),
    }
}

/// Σ x·y over Q8_0 weights and Q8_0 activations of the same length.
pub fn dot_q8_0_q8_0(level: Level, x: &[BlockQ8_0], y: &[BlockQ8_0]) -> f32 {
    assert_eq!(x.len(), y.len());
    let (x, y) = (q8_0(x), q8_0(y));
    match level.min(Level::detected()) {
        // SAFETY: as above.
        #[cfg(target_arch = "x86_64")]
        Level::Avx2 => unsafe { x86::avx2::q8_0_q8_0(x, y) },
        #[cfg(target_arch = "x86_64")]
        Level::Avx512Vnni => unsafe { x86::vnni::q8_0_q8_0(x, y) },
        _ => scalar::q8_0_q8_0(x, y),
    }
}

/// [`dot_q8_0_q8_0`] of one weight row with four activation rows.
pub fn dot_q8_0_q8_0_x4(level: Level, x: &[BlockQ8_0], y: [&[BlockQ8_0]; 4]) -> [f32; 4] {
    for y in y {
        assert_eq!(x.len(), y.len());
    }
    let (x, y) = (q8_0(x), y.map(q8_0));
    match level.min(Level::detected()) {
        // SAFETY: as above.
        #[cfg(target_arch = "x86_64")]
        Level::Avx2 => unsafe { x86::avx2::q8_0_q8_0_n(x, y) },
        #[cfg(target_arch = "x86_64")]
        Level::Avx512Vnni => unsafe { x86::vnni::q8_0_q8_0_n(x, y) },
        _ => y.map(|y| scalar::q8_0_q8_0(x, y)),
    }
}

/// Eight rows of Q5_0 weights at one block index, interleaved so that one register holds
/// four codes of each of the eight rows (one i32 lane per row): the layout of the eight-row
/// kernels. The same 176 bytes as the eight blocks it is made from.
#[derive(Clone)]
#[repr(C)]
pub struct Q5_0x8 {
    /// The rows' scales.
    d: [f16; 8],
    /// The codes' fifth bits: byte `4r + t` has bit `c` set when code `4c + t` of row `r`
    /// has it, and bit `4 + c` when code `16 + 4c + t` has it (`c` < 4).
    qh: [u8; 32],
    /// The rows' nibbles, four bytes at a time: byte `32c + 4r + t` is byte `4c + t` of row
    /// `r` (low nibble: code `4c + t`, high nibble: code `16 + 4c + t`).
    qs: [u8; 128],
}

impl Q5_0x8 {
    /// Interleaves block `i` of each of eight rows.
    pub fn interleave(rows: [&BlockQ5_0; 8]) -> Self {
        let rows = rows.map(|b| &q5_0(std::slice::from_ref(b))[0]);
        let mut out = Self { d: [f16::ZERO; 8], qh: [0; 32], qs: [0; 128] };
        for (r, b) in rows.iter().enumerate() {
            out.d[r] = b.d;
            let qh = u32::from_le_bytes(b.qh);
            for c in 0..4 {
                for t in 0..4 {
                    out.qs[32 * c + 4 * r + t] = b.qs[4 * c + t];
                    let low = (qh >> (4 * c + t)) & 1;
                    let high = (qh >> (16 + 4 * c + t)) & 1;
                    out.qh[4 * r + t] |= ((low << c) | (high << (4 + c))) as u8;
                }
            }
        }
        out
    }

    /// Code `m` (0..32) of row `r`: 16 more than the value it stands for.
    fn code(&self, r: usize, m: usize) -> i32 {
        let (c, t, high) = ((m % 16) / 4, m % 4, m >= 16);
        let byte = self.qs[32 * c + 4 * r + t];
        let nibble = if high { byte >> 4 } else { byte & 0x0F };
        let bit = (self.qh[4 * r + t] >> (c + if high { 4 } else { 0 })) & 1;
        (nibble | (bit << 4)) as i32
    }

    /// Row `r` of a run of interleaved blocks, as floats.
    pub fn dequantize(blocks: &[Self], r: usize, out: &mut [f32]) {
        for (block, out) in blocks.iter().zip(out.chunks_exact_mut(32)) {
            let d = block.d[r].to_f32();
            for (m, o) in out.iter_mut().enumerate() {
                *o = d * (block.code(r, m) - 16) as f32;
            }
        }
    }
}

/// A row of Q8_0 activations with what the eight-row kernels take of each block besides its
/// codes, worked out once per batch: its scale as f32 and the sum of its codes.
#[derive(Clone, Copy)]
pub struct Q8_0Row<'a> {
    blocks: &'a [BlockQ8_0],
    scales: &'a [f32],
    sums: &'a [i32],
}

impl<'a> Q8_0Row<'a> {
    /// `scales` and `sums` as [`q8_0_scales_and_sums`] makes them for `blocks`.
    pub fn new(blocks: &'a [BlockQ8_0], scales: &'a [f32], sums: &'a [i32]) -> Self {
        assert!(scales.len() == blocks.len() && sums.len() == blocks.len());
        Self { blocks, scales, sums }
    }
}

/// Appends the scale (as f32) and the sum of the codes of every block.
pub fn q8_0_scales_and_sums(blocks: &[BlockQ8_0], scales: &mut Vec<f32>, sums: &mut Vec<i32>) {
    for block in q8_0(blocks) {
        scales.push(block.d.to_f32());
        sums.push(block.qs.iter().map(|&q| q as i32).sum());
    }
}

/// Eight interleaved Q5_0 weight rows with one activation row: the eight products.
pub fn dot_q5_0x8_q8_0(level: Level, x: &[Q5_0x8], y: Q8_0Row) -> [f32; 8] {
    let [out] = dot_q5_0x8(level, x, [y]);
    out
}

/// [`dot_q5_0x8_q8_0`] with four activation rows (`[activation row][weight row]`): the
/// weights are unpacked once for all four (prompt processing).
pub fn dot_q5_0x8_q8_0_x4(level: Level, x: &[Q5_0x8], y: [Q8_0Row; 4]) -> [[f32; 8]; 4] {
    dot_q5_0x8(level, x, y)
}

/// [`dot_q5_0x8_q8_0`] with eight activation rows (`[activation row][weight row]`).
pub fn dot_q5_0x8_q8_0_x8(level: Level, x: &[Q5_0x8], y: [Q8_0Row; 8]) -> [[f32; 8]; 8] {
    match level.min(Level::detected()) {
        // Four at a time: the sixteen AVX2 registers hold eight rows' codes and four sums.
        Level::Avx2 => {
            let [a, b, c, d] = dot_q5_0x8(level, x, [y[0], y[1], y[2], y[3]]);
            let [e, f, g, h] = dot_q5_0x8(level, x, [y[4], y[5], y[6], y[7]]);
            [a, b, c, d, e, f, g, h]
        }
        // With AVX-512's 32 registers, all eight.
        _ => dot_q5_0x8(level, x, y),
    }
}

fn dot_q5_0x8<const N: usize>(level: Level, x: &[Q5_0x8], y: [Q8_0Row; N]) -> [[f32; 8]; N] {
    for y in y {
        assert_eq!(x.len(), y.blocks.len());
    }
    let (d, sums) = (y.map(|y| y.scales), y.map(|y| y.sums));
    let y = y.map(|y| q8_0(y.blocks));
    match level.min(Level::detected()) {
        // SAFETY: as above.
        #[cfg(target_arch = "x86_64")]
        Level::Avx2 => unsafe { x86::avx2::q5_0x8_q8_0(x, y, d, sums) },
        #[cfg(target_arch = "x86_64")]
        Level::Avx512Vnni => unsafe { x86::vnni::q5_0x8_q8_0(x, y, d, sums) },
        _ => y.map(|y| scalar::q5_0x8_q8_0(x, y)),
    }
}

/// Four Q5_0 weight rows with four activation rows (`[row][activation row]`): each weight
/// block is unpacked once for the four activations and each activation block loaded once for
/// the four rows (prompt processing).
pub fn dot_q5_0_q8_0_4x4(
    level: Level,
    x: [&[BlockQ5_0]; 4],
    y: [&[BlockQ8_0]; 4],
) -> [[f32; 4]; 4] {
    let n = x[0].len();
    assert!(x.iter().all(|x| x.len() == n) && y.iter().all(|y| y.len() == n));
    let (x, y) = (x.map(q5_0), y.map(q8_0));
    match level.min(Level::detected()) {
        // SAFETY: as above.
        #[cfg(target_arch = "x86_64")]
        Level::Avx2 => unsafe {
            // Two rows at a time: eight accumulators in the sixteen AVX2 registers.
            let [a, b] = x86::avx2::q5_0_q8_0_tile([x[0], x[1]], y);
            let [c, d] = x86::avx2::q5_0_q8_0_tile([x[2], x[3]], y);
            [a, b, c, d]
        },
        // With AVX-512 the 32 registers hold all sixteen.
        #[cfg(target_arch = "x86_64")]
        Level::Avx512Vnni => unsafe { x86::vnni::q5_0_q8_0_tile(x, y) },
        _ => x.map(|x| y.map(|y| scalar::q5_0_q8_0(x, y))),
    }
}

/// The kernels of a weight type with `Q8_0` or `Q8_K` activations: one row, and four.
macro_rules! dispatch {
    ($(#[$one:meta])* $fn:ident, $(#[$four:meta])* $fn4:ident, $kernel:ident, $n:ident,
     $wb:ty => $w:ident, $ab:ty => $a:ident) => {
        $(#[$one])*
        pub fn $fn(level: Level, x: &[$wb], y: &[$ab]) -> f32 {
            assert_eq!(x.len(), y.len());
            let (x, y) = ($w(x), [$a(y)]);
            let [sum] = match level.min(Level::detected()) {
                // SAFETY: as above.
                #[cfg(target_arch = "x86_64")]
                Level::Avx2 => unsafe { x86::avx2::$n(x, y) },
                #[cfg(target_arch = "x86_64")]
                Level::Avx512Vnni => unsafe { x86::vnni::$n(x, y) },
                _ => y.map(|y| scalar::$kernel(x, y)),
            };
            sum
        }

        $(#[$four])*
        pub fn $fn4(level: Level, x: &[$wb], y: [&[$ab]; 4]) -> [f32; 4] {
            for y in y {
                assert_eq!(x.len(), y.len());
            }
            let (x, y) = ($w(x), y.map($a));
            match level.min(Level::detected()) {
                // SAFETY: as above.
                #[cfg(target_arch = "x86_64")]
                Level::Avx2 => unsafe { x86::avx2::$n(x, y) },
                #[cfg(target_arch = "x86_64")]
                Level::Avx512Vnni => unsafe { x86::vnni::$n(x, y) },
                _ => y.map(|y| scalar::$kernel(x, y)),
            }
        }
    };
}

dispatch!(
    /// Σ x·y over Q5_0 weights and Q8_0 activations of the same length.
    dot_q5_0_q8_0,
    /// [`dot_q5_0_q8_0`] of one weight row with four activation rows.
    dot_q5_0_q8_0_x4,
    q5_0_q8_0, q5_0_q8_0_n, BlockQ5_0 => q5_0, BlockQ8_0 => q8_0
);
dispatch!(
    /// Σ x·y over Q4_K weights and Q8_K activations of the same length.
    dot_q4k_q8k,
    /// [`dot_q4k_q8k`] of one weight row with four activation rows.
    dot_q4k_q8k_x4,
    q4k_q8k, q4k_q8k_n, BlockQ4K => q4k, BlockQ8K => q8k
);
dispatch!(
    /// Σ x·y over Q6_K weights and Q8_K activations of the same length.
    dot_q6k_q8k,
    /// [`dot_q6k_q8k`] of one weight row with four activation rows.
    dot_q6k_q8k_x4,
    q6k_q8k, q6k_q8k_n, BlockQ6K => q6k, BlockQ8K => q8k
);

/// f32 dot product (attention scores), written so the compiler vectorises it.
pub fn dot_f32(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0f32; 16];
    let chunks = n / 16;
    for c in 0..chunks {
        let (a, b) = (&a[c * 16..c * 16 + 16], &b[c * 16..c * 16 + 16]);
        for i in 0..16 {
            acc[i] = a[i].mul_add(b[i], acc[i]);
        }
    }
    let mut sum: f32 = acc.iter().sum();
    for i in chunks * 16..n {
        sum += a[i] * b[i];
    }
    sum
}

/// `y += a * x`, vectorised by the compiler.
pub fn axpy(a: f32, x: &[f32], y: &mut [f32]) {
    for (y, x) in y.iter_mut().zip(x) {
        *y = x.mul_add(a, *y);
    }
}

/// How far ahead of the block being multiplied the SIMD kernels prefetch weights.
const AHEAD: usize = 1024;

/// The 6-bit scale and min of sub-block `j` of a Q4_K block (GGML's `get_scale_min_k4`).
fn q4k_scale_min(scales: &[u8; 12], j: usize) -> (u8, u8) {
    if j < 4 {
        (scales[j] & 63, scales[j + 4] & 63)
    } else {
        (
            (scales[j + 4] & 0x0F) | ((scales[j - 4] >> 6) << 4),
            (scales[j + 4] >> 4) | ((scales[j] >> 6) << 4),
        )
    }
}

mod scalar {
    use super::{Q4_0, Q4_1, Q4K, Q5_0, Q6K, Q8_0, Q8_1, Q8K};

    pub fn q4_1_q8_1(x: &[Q4_1], y: &[Q8_1]) -> f32 {
        let mut sum = 0f32;
        for (x, y) in x.iter().zip(y) {
            let mut sumi = 0i32;
            for j in 0..16 {
                let lo = (x.qs[j] & 0x0F) as i32;
                let hi = (x.qs[j] >> 4) as i32;
                sumi += lo * y.qs[j] as i32 + hi * y.qs[j + 16] as i32;
            }
            sum += sumi as f32 * x.d.to_f32() * y.d.to_f32() + x.m.to_f32() * y.s.to_f32();
        }
        sum
    }

    pub fn q4_0_q8_0(x: &[Q4_0], y: &[Q8_0]) -> f32 {
        let mut sum = 0f32;
        for (x, y) in x.iter().zip(y) {
            let mut sumi = 0i32;
            for j in 0..16 {
                let lo = (x.qs[j] & 0x0F) as i32 - 8;
                let hi = (x.qs[j] >> 4) as i32 - 8;
                sumi += lo * y.qs[j] as i32 + hi * y.qs[j + 16] as i32;
            }
            sum += sumi as f32 * x.d.to_f32() * y.d.to_f32();
        }
        sum
    }

    pub fn q8_0_q8_0(x: &[Q8_0], y: &[Q8_0]) -> f32 {
        let mut sum = 0f32;
        for (x, y) in x.iter().zip(y) {
            let sumi: i32 = x.qs.iter().zip(&y.qs).map(|(&a, &b)| a as i32 * b as i32).sum();
            sum += sumi as f32 * x.d.to_f32() * y.d.to_f32();
        }
        sum
    }

    pub fn q5_0_q8_0(x: &[Q5_0], y: &[Q8_0]) -> f32 {
        let mut sum = 0f32;
        for (x, y) in x.iter().zip(y) {
            let qh = u32::from_le_bytes(x.qh);
            let mut sumi = 0i32;
            for j in 0..16 {
                let lo = ((x.qs[j] & 0x0F) as u32 | ((qh >> j) & 1) << 4) as i32 - 16;
                let hi = ((x.qs[j] >> 4) as u32 | ((qh >> (j + 16)) & 1) << 4) as i32 - 16;
                sumi += lo * y.qs[j] as i32 + hi * y.qs[j + 16] as i32;
            }
            sum += sumi as f32 * x.d.to_f32() * y.d.to_f32();
        }
        sum
    }

    pub fn q5_0x8_q8_0(x: &[super::Q5_0x8], y: &[Q8_0]) -> [f32; 8] {
        let mut sum = [0f32; 8];
        for (x, y) in x.iter().zip(y) {
            for (r, sum) in sum.iter_mut().enumerate() {
                let sumi: i32 = (0..32).map(|m| (x.code(r, m) - 16) * y.qs[m] as i32).sum();
                *sum += sumi as f32 * x.d[r].to_f32() * y.d.to_f32();
            }
        }
        sum
    }

    pub fn q4k_q8k(x: &[Q4K], y: &[Q8K]) -> f32 {
        let mut sum = 0f32;
        for (x, y) in x.iter().zip(y) {
            let (mut sumi, mut summ) = (0i32, 0i32);
            for j in 0..8 {
                let (sc, m) = super::q4k_scale_min(&x.scales, j);
                let qs = &x.qs[(j / 2) * 32..(j / 2) * 32 + 32];
                let shift = (j % 2) * 4;
                let dot: i32 = qs
                    .iter()
                    .zip(&y.qs[j * 32..j * 32 + 32])
                    .map(|(&q, &a)| ((q >> shift) & 0x0F) as i32 * a as i32)
                    .sum();
                sumi += sc as i32 * dot;
                summ += m as i32 * (y.bsums[2 * j] as i32 + y.bsums[2 * j + 1] as i32);
            }
            sum += y.d * (x.d.to_f32() * sumi as f32 - x.dmin.to_f32() * summ as f32);
        }
        sum
    }

    pub fn q6k_q8k(x: &[Q6K], y: &[Q8K]) -> f32 {
        let mut sum = 0f32;
        for (x, y) in x.iter().zip(y) {
            let mut sumi = 0i32;
            for half in 0..2 {
                let (ql, qh) = (&x.ql[half * 64..half * 64 + 64], &x.qh[half * 32..half * 32 + 32]);
                let (a, sc) =
                    (&y.qs[half * 128..half * 128 + 128], &x.scales[half * 8..half * 8 + 8]);
                for l in 0..32 {
                    let q = [
                        (ql[l] & 0x0F) | (qh[l] & 3) << 4,
                        (ql[l + 32] & 0x0F) | ((qh[l] >> 2) & 3) << 4,
                        (ql[l] >> 4) | ((qh[l] >> 4) & 3) << 4,
                        (ql[l + 32] >> 4) | ((qh[l] >> 6) & 3) << 4,
                    ];
                    for (k, q) in q.into_iter().enumerate() {
                        let s = sc[l / 16 + 2 * k] as i32;
                        sumi += s * (q as i32 - 32) * a[l + 32 * k] as i32;
                    }
                }
            }
            sum += x.d.to_f32() * y.d * sumi as f32;
        }
        sum
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    //! The 32 codes of a block are multiplied as unsigned × signed bytes, summed in pairs
    //! (`maddubs`: at most 2·255·127, no overflow for 4-bit or sign-moved 8-bit codes) and
    //! then in quads into eight i32 lanes; with VNNI one `vpdpbusd` does both steps. The same
    //! loops are compiled twice, once per instruction set, so every helper inlines.

    macro_rules! kernels {
        ($module:ident, $features:literal, ($s:ident, $a:ident, $b:ident) => $dot:block,
         ($acc:ident, $c:ident, $e:ident) => $madd:block) => {
            pub mod $module {
                use super::super::{Q4_0, Q4_1, Q4K, Q5_0, Q6K, Q8_0, Q8_1, Q8K};
                use half::f16;
                use std::arch::x86_64::*;

                #[target_feature(enable = $features)]
                #[inline]
                fn nibbles(qs: &[u8; 16]) -> __m256i {
                    // Low nibbles are codes 0..16, high nibbles codes 16..32.
                    // SAFETY: 16 readable bytes.
                    let tmp = unsafe { _mm_loadu_si128(qs.as_ptr().cast()) };
                    let both = _mm256_set_m128i(_mm_srli_epi16(tmp, 4), tmp);
                    _mm256_and_si256(both, _mm256_set1_epi8(0x0F))
                }

                #[target_feature(enable = $features)]
                #[inline]
                fn load(qs: &[i8; 32]) -> __m256i {
                    // SAFETY: 32 readable bytes.
                    unsafe { _mm256_loadu_si256(qs.as_ptr().cast()) }
                }

                /// `s` plus the eight i32 sums of 4 products of unsigned `a` and signed `b`
                /// bytes.
                #[target_feature(enable = $features)]
                #[inline]
                fn dot_acc($s: __m256i, $a: __m256i, $b: __m256i) -> __m256i $dot

                /// Eight i32 sums of 4 products of unsigned `a` and signed `b` bytes, as floats.
                #[target_feature(enable = $features)]
                #[inline]
                fn sum_us8(a: __m256i, b: __m256i) -> __m256 {
                    _mm256_cvtepi32_ps(dot_acc(_mm256_setzero_si256(), a, b))
                }

                /// `acc` plus the sums of pairs of products of the i16 lanes of `c` and `e`.
                #[target_feature(enable = $features)]
                #[inline]
                fn madd_acc($acc: __m256i, $c: __m256i, $e: __m256i) -> __m256i $madd

                /// 32 bytes, each 0xFF where its bit of `bits` (little-endian) is set, else 0.
                #[target_feature(enable = $features)]
                #[inline]
                fn bytes_from_bits(bits: [u8; 4]) -> __m256i {
                    // Byte i gets byte i/8 of the bits, then every bit but bit i%8 set.
                    let spread = _mm256_shuffle_epi8(
                        _mm256_set1_epi32(i32::from_le_bytes(bits)),
                        _mm256_set_epi64x(
                            0x0303_0303_0303_0303,
                            0x0202_0202_0202_0202,
                            0x0101_0101_0101_0101,
                            0,
                        ),
                    );
                    let others = _mm256_set1_epi64x(0x7FBF_DFEF_F7FB_FDFE);
                    _mm256_cmpeq_epi8(_mm256_or_si256(spread, others), _mm256_set1_epi8(-1))
                }

                #[target_feature(enable = $features)]
                #[inline]
                fn load256<T>(bytes: &[T]) -> __m256i {
                    assert!(size_of_val(bytes) >= 32);
                    // SAFETY: at least 32 readable bytes (checked above).
                    unsafe { _mm256_loadu_si256(bytes.as_ptr().cast()) }
                }

                #[target_feature(enable = $features)]
                #[inline]
                fn load128<T>(bytes: &[T]) -> __m128i {
                    assert!(size_of_val(bytes) >= 16);
                    // SAFETY: at least 16 readable bytes (checked above).
                    unsafe { _mm_loadu_si128(bytes.as_ptr().cast()) }
                }

                /// Asks for the weights `AHEAD` bytes on: the rows stream from memory once per
                /// token, faster than the hardware prefetcher alone brings them.
                #[target_feature(enable = $features)]
                #[inline]
                fn prefetch<T>(block: &T) {
                    let at = (block as *const T).cast::<i8>().wrapping_add(super::super::AHEAD);
                    // A prefetch never faults, whatever the address.
                    _mm_prefetch::<_MM_HINT_T0>(at)
                }

                /// [`prefetch`] for every cache line of a block larger than one.
                #[target_feature(enable = $features)]
                #[inline]
                fn prefetch_lines<T>(block: &T) {
                    let at = (block as *const T).cast::<i8>().wrapping_add(super::super::AHEAD);
                    for line in (0..size_of::<T>()).step_by(64) {
                        // A prefetch never faults, whatever the address.
                        _mm_prefetch::<_MM_HINT_T0>(at.wrapping_add(line))
                    }
                }

                #[target_feature(enable = $features)]
                #[inline]
                fn hsum128(v: __m128) -> f32 {
                    let s = _mm_add_ps(v, _mm_movehl_ps(v, v));
                    let s = _mm_add_ss(s, _mm_movehdup_ps(s));
                    _mm_cvtss_f32(s)
                }

                #[target_feature(enable = $features)]
                #[inline]
                fn hsum(v: __m256) -> f32 {
                    let lo = _mm256_castps256_ps128(v);
                    let hi = _mm256_extractf128_ps(v, 1);
                    let s = _mm_add_ps(lo, hi);
                    let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
                    let s = _mm_add_ss(s, _mm_movehdup_ps(s));
                    _mm_cvtss_f32(s)
                }

                #[target_feature(enable = $features)]
                pub fn q4_1_q8_1(x: &[Q4_1], y: &[Q8_1]) -> f32 {
                    let mut acc = _mm256_setzero_ps();
                    let mut offsets = 0f32;
                    for (x, y) in x.iter().zip(y) {
                        prefetch(x);
                        offsets += x.m.to_f32() * y.s.to_f32();
                        let d = _mm256_set1_ps(x.d.to_f32() * y.d.to_f32());
                        let xy = sum_us8(nibbles(&x.qs), load(&y.qs));
                        acc = _mm256_fmadd_ps(d, xy, acc);
                    }
                    hsum(acc) + offsets
                }

                #[target_feature(enable = $features)]
                pub fn q4_1_q8_1_x4(x: &[Q4_1], y: [&[Q8_1]; 4]) -> [f32; 4] {
                    let mut acc = [_mm256_setzero_ps(); 4];
                    let mut offsets = [0f32; 4];
                    for (i, x) in x.iter().enumerate() {
                        prefetch(x);
                        let qx = nibbles(&x.qs);
                        let (d, m) = (x.d.to_f32(), x.m.to_f32());
                        for k in 0..4 {
                            let y = &y[k][i];
                            offsets[k] += m * y.s.to_f32();
                            let dk = _mm256_set1_ps(d * y.d.to_f32());
                            acc[k] = _mm256_fmadd_ps(dk, sum_us8(qx, load(&y.qs)), acc[k]);
                        }
                    }
                    [
                        hsum(acc[0]) + offsets[0],
                        hsum(acc[1]) + offsets[1],
                        hsum(acc[2]) + offsets[2],
                        hsum(acc[3]) + offsets[3],
                    ]
                }

                #[target_feature(enable = $features)]
                pub fn q4_0_q8_0(x: &[Q4_0], y: &[Q8_0]) -> f32 {
                    let mut acc = _mm256_setzero_ps();
                    for (x, y) in x.iter().zip(y) {
                        prefetch(x);
                        let d = _mm256_set1_ps(x.d.to_f32() * y.d.to_f32());
                        let qx = _mm256_sub_epi8(nibbles(&x.qs), _mm256_set1_epi8(8));
                        let qy = load(&y.qs);
                        // Move the sign of x onto y so the left factor is unsigned.
                        let xy = sum_us8(_mm256_sign_epi8(qx, qx), _mm256_sign_epi8(qy, qx));
                        acc = _mm256_fmadd_ps(d, xy, acc);
                    }
                    hsum(acc)
                }

                #[target_feature(enable = $features)]
                pub fn q8_0_q8_0(x: &[Q8_0], y: &[Q8_0]) -> f32 {
                    let mut acc = _mm256_setzero_ps();
                    for (x, y) in x.iter().zip(y) {
                        prefetch(x);
                        let d = _mm256_set1_ps(x.d.to_f32() * y.d.to_f32());
                        let (qx, qy) = (load(&x.qs), load(&y.qs));
                        let xy = sum_us8(_mm256_sign_epi8(qx, qx), _mm256_sign_epi8(qy, qx));
                        acc = _mm256_fmadd_ps(d, xy, acc);
                    }
                    hsum(acc)
                }

                /// One Q8_0 weight row with `N` activation rows.
                #[target_feature(enable = $features)]
                pub fn q8_0_q8_0_n<const N: usize>(x: &[Q8_0], y: [&[Q8_0]; N]) -> [f32; N] {
                    let y = y.map(|y| &y[..x.len()]);
                    let mut acc = [_mm256_setzero_ps(); N];
                    for (i, x) in x.iter().enumerate() {
                        prefetch(x);
                        let qx = load(&x.qs);
                        let ax = _mm256_sign_epi8(qx, qx);
                        let d = x.d.to_f32();
                        for k in 0..N {
                            let y = &y[k][i];
                            let dk = _mm256_set1_ps(d * y.d.to_f32());
                            let xy = sum_us8(ax, _mm256_sign_epi8(load(&y.qs), qx));
                            acc[k] = _mm256_fmadd_ps(dk, xy, acc[k]);
                        }
                    }
                    let mut out = [0f32; N];
                    for k in 0..N {
                        out[k] = hsum(acc[k]);
                    }
                    out
                }

                /// The 32 codes of a Q5_0 block (0..32, 16 more than the value they stand
                /// for): the nibbles with 0x10 or'ed on where the fifth bit is set.
                #[target_feature(enable = $features)]
                #[inline]
                fn q5_0_codes(x: &Q5_0) -> __m256i {
                    let high = _mm256_and_si256(bytes_from_bits(x.qh), _mm256_set1_epi8(0x10));
                    _mm256_or_si256(nibbles(&x.qs), high)
                }

                /// One Q5_0 weight row with `N` activation rows.
                #[target_feature(enable = $features)]
                pub fn q5_0_q8_0_n<const N: usize>(x: &[Q5_0], y: [&[Q8_0]; N]) -> [f32; N] {
                    let [out] = q5_0_q8_0_tile([x], y);
                    out
                }

                /// `R` Q5_0 weight rows with `N` activation rows (`[row][activation row]`):
                /// each block's codes are unpacked once for the `N` activations, each
                /// activation block loaded once for the `R` rows. The codes are multiplied
                /// unsigned, and the 16 they are offset by taken off through the sum of
                /// the activations, once per activation block: Σ(q-16)·y = Σq·y - 16·Σy.
                ///
                /// Blocks go in pairs: the first halves of both blocks in one register and
                /// the second halves in another, so the lower four i32 lanes sum block `i`
                /// and the upper four block `i + 1`, and one conversion and two float
                /// operations scale both.
                #[target_feature(enable = $features)]
                pub fn q5_0_q8_0_tile<const R: usize, const N: usize>(
                    x: [&[Q5_0]; R],
                    y: [&[Q8_0]; N],
                ) -> [[f32; N]; R] {
                    let len = x.first().map_or(0, |x| x.len());
                    // Every row of the same length, so indexing below needs no checks.
                    let (x, y) = (x.map(|x| &x[..len]), y.map(|y| &y[..len]));
                    let (zero, sixteen) = (_mm256_setzero_si256(), _mm256_set1_epi8(16));
                    let (m4, fifth) = (_mm256_set1_epi8(0x0F), _mm256_set1_epi8(0x10));
                    // Two scales, one per half.
                    let halves = |a: f16, b: f16| {
                        _mm256_set_m128(_mm_set1_ps(b.to_f32()), _mm_set1_ps(a.to_f32()))
                    };
                    let mut acc = [[_mm256_setzero_ps(); N]; R];
                    for i in (0..len / 2).map(|p| 2 * p) {
                        let mut lo = [zero; R];
                        let mut hi = [zero; R];
                        let mut dx = [_mm256_setzero_ps(); R];
                        for r in 0..R {
                            let (a, b) = (&x[r][i], &x[r][i + 1]);
                            prefetch(a);
                            // Codes 0..16 of both blocks, then codes 16..32 of both.
                            let qs = _mm256_set_m128i(load128(&b.qs), load128(&a.qs));
                            let (ha, hb) = (u32::from_le_bytes(a.qh), u32::from_le_bytes(b.qh));
                            let bits_lo = (ha & 0xFFFF) | (hb << 16);
                            let bits_hi = (ha >> 16) | (hb & 0xFFFF_0000);
                            let top_lo = _mm256_and_si256(bytes_from_bits(bits_lo.to_le_bytes()), fifth);
                            let top_hi = _mm256_and_si256(bytes_from_bits(bits_hi.to_le_bytes()), fifth);
                            lo[r] = _mm256_or_si256(_mm256_and_si256(qs, m4), top_lo);
                            let high_nibbles = _mm256_and_si256(_mm256_srli_epi16::<4>(qs), m4);
                            hi[r] = _mm256_or_si256(high_nibbles, top_hi);
                            dx[r] = halves(a.d, b.d);
                        }
                        for k in 0..N {
                            let (a, b) = (&y[k][i], &y[k][i + 1]);
                            let (u, v) = (load(&a.qs), load(&b.qs));
                            let y_lo = _mm256_permute2x128_si256::<0x20>(u, v);
                            let y_hi = _mm256_permute2x128_si256::<0x31>(u, v);
                            let sums = dot_acc(dot_acc(zero, sixteen, y_lo), sixteen, y_hi);
                            let offset = _mm256_sub_epi32(zero, sums);
                            let dy = halves(a.d, b.d);
                            for r in 0..R {
                                let xy = dot_acc(dot_acc(offset, lo[r], y_lo), hi[r], y_hi);
                                let scaled = _mm256_mul_ps(_mm256_cvtepi32_ps(xy), dx[r]);
                                acc[r][k] = _mm256_fmadd_ps(scaled, dy, acc[r][k]);
                            }
                        }
                    }
                    if len % 2 == 1 {
                        // The last block of an odd count, alone.
                        let i = len - 1;
                        for r in 0..R {
                            let x = &x[r][i];
                            let qx = q5_0_codes(x);
                            let dx = _mm256_set1_ps(x.d.to_f32());
                            for k in 0..N {
                                let y = &y[k][i];
                                let qy = load(&y.qs);
                                let offset = _mm256_sub_epi32(zero, dot_acc(zero, sixteen, qy));
                                let xy = _mm256_cvtepi32_ps(dot_acc(offset, qx, qy));
                                let dy = _mm256_set1_ps(y.d.to_f32());
                                acc[r][k] = _mm256_fmadd_ps(_mm256_mul_ps(xy, dx), dy, acc[r][k]);
                            }
                        }
                    }
                    let mut out = [[0f32; N]; R];
                    for r in 0..R {
                        for k in 0..N {
                            out[r][k] = hsum(acc[r][k]);
                        }
                    }
                    out
                }

                /// Eight interleaved Q5_0 rows with `N` activation rows
                /// (`[activation row][weight row]`): each i32 lane sums one weight row, the
                /// activations' four-byte pieces broadcast to all lanes. The codes are
                /// multiplied unsigned and 16·Σy taken off, as in [`q5_0_q8_0_tile`].
                #[target_feature(enable = $features)]
                pub fn q5_0x8_q8_0<const N: usize>(
                    x: &[super::super::Q5_0x8],
                    y: [&[Q8_0]; N],
                    dy: [&[f32]; N],
                    sums: [&[i32]; N],
                ) -> [[f32; 8]; N] {
                    let len = x.len();
                    let (y, dy, sums) =
                        (y.map(|y| &y[..len]), dy.map(|d| &d[..len]), sums.map(|s| &s[..len]));
                    let zero = _mm256_setzero_si256();
                    let (m4, fifth) = (_mm256_set1_epi8(0x0F), _mm256_set1_epi8(0x10));
                    let mut acc = [_mm256_setzero_ps(); N];
                    for (i, x) in x.iter().enumerate() {
                        prefetch_lines(x);
                        let dx = _mm256_cvtph_ps(load128(&x.d));
                        let h = load256(&x.qh);
                        // Codes 4c..4c+4 of every row in `codes[c]`, 16+4c.. in `codes[4 + c]`.
                        let mut codes = [zero; 8];
                        for c in 0..4 {
                            let v = load256(&x.qs[32 * c..]);
                            // Bit c of the fifth bits to bit 4, and bit 4 + c.
                            let (top_lo, top_hi) = match c {
                                0 => (_mm256_slli_epi16::<4>(h), h),
                                1 => (_mm256_slli_epi16::<3>(h), _mm256_srli_epi16::<1>(h)),
                                2 => (_mm256_slli_epi16::<2>(h), _mm256_srli_epi16::<2>(h)),
                                _ => (_mm256_slli_epi16::<1>(h), _mm256_srli_epi16::<3>(h)),
                            };
                            let lo = _mm256_and_si256(v, m4);
                            let hi = _mm256_and_si256(_mm256_srli_epi16::<4>(v), m4);
                            codes[c] = _mm256_or_si256(lo, _mm256_and_si256(top_lo, fifth));
                            codes[4 + c] = _mm256_or_si256(hi, _mm256_and_si256(top_hi, fifth));
                        }
                        for k in 0..N {
                            // -16·Σy in every lane.
                            let mut sum = _mm256_set1_epi32(-16 * sums[k][i]);
                            let y = &y[k][i];
                            for c in 0..8 {
                                let at = if c < 4 { 4 * c } else { 16 + 4 * (c - 4) };
                                let piece = [y.qs[at], y.qs[at + 1], y.qs[at + 2], y.qs[at + 3]];
                                let piece = _mm256_set1_epi32(i32::from_le_bytes(piece.map(|b| b as u8)));
                                sum = dot_acc(sum, codes[c], piece);
                            }
                            let scaled = _mm256_mul_ps(_mm256_cvtepi32_ps(sum), dx);
                            acc[k] = _mm256_fmadd_ps(scaled, _mm256_set1_ps(dy[k][i]), acc[k]);
                        }
                    }
                    let mut out = [[0f32; 8]; N];
                    for k in 0..N {
                        // SAFETY: eight writable floats.
                        unsafe { _mm256_storeu_ps(out[k].as_mut_ptr(), acc[k]) };
                    }
                    out
                }

                /// The eight scales (low half) and eight mins (high half) of a Q4_K block as
                /// i16 lanes (GGML's unpacking of the 12 bytes).
                #[target_feature(enable = $features)]
                #[inline]
                fn q4k_scales_mins(scales: &[u8; 12]) -> __m256i {
                    const KMASK1: u32 = 0x3f3f_3f3f;
                    const KMASK2: u32 = 0x0f0f_0f0f;
                    const KMASK3: u32 = 0x0303_0303;
                    let word = |i: usize| {
                        u32::from_le_bytes([scales[4 * i], scales[4 * i + 1], scales[4 * i + 2], scales[4 * i + 3]])
                    };
                    let (u0, u1, u2) = (word(0), word(1), word(2));
                    let mins_hi = ((u2 >> 4) & KMASK2) | (((u1 >> 6) & KMASK3) << 4);
                    let mins_lo = u1 & KMASK1;
                    let scales_hi = (u2 & KMASK2) | (((u0 >> 6) & KMASK3) << 4);
                    let scales_lo = u0 & KMASK1;
                    _mm256_cvtepu8_epi16(_mm_set_epi32(
                        mins_hi as i32,
                        mins_lo as i32,
                        scales_hi as i32,
                        scales_lo as i32,
                    ))
                }

                /// One Q4_K weight row with `N` activation rows.
                #[target_feature(enable = $features)]
                pub fn q4k_q8k_n<const N: usize>(x: &[Q4K], y: [&[Q8K]; N]) -> [f32; N] {
                    let y = y.map(|y| &y[..x.len()]);
                    let m4 = _mm256_set1_epi8(0x0F);
                    let mut acc = [_mm256_setzero_ps(); N];
                    let mut acc_m = [_mm_setzero_ps(); N];
                    for (i, x) in x.iter().enumerate() {
                        prefetch_lines(x);
                        let scales_mins = q4k_scales_mins(&x.scales);
                        let scales128 = _mm256_castsi256_si128(scales_mins);
                        let scales = _mm256_set_m128i(scales128, scales128);
                        let mins = _mm256_extracti128_si256::<1>(scales_mins);
                        let mut sumi = [_mm256_setzero_si256(); N];
                        for j in 0..4 {
                            // Sub-blocks 2j (low nibbles) and 2j + 1 (high nibbles).
                            // The bytes of i16 lane s in every lane: s = 2j and 2j + 1.
                            let (s, t) = (4 * j as i16, 4 * j as i16 + 2);
                            let pick_lo = _mm256_set1_epi16(((s + 1) << 8) | s);
                            let pick_hi = _mm256_set1_epi16(((t + 1) << 8) | t);
                            let scale_lo = _mm256_shuffle_epi8(scales, pick_lo);
                            let scale_hi = _mm256_shuffle_epi8(scales, pick_hi);
                            let bits = load256(&x.qs[32 * j..]);
                            let lo = _mm256_and_si256(bits, m4);
                            let hi = _mm256_and_si256(_mm256_srli_epi16::<4>(bits), m4);
                            for k in 0..N {
                                let q8 = &y[k][i].qs[64 * j..];
                                let p = _mm256_maddubs_epi16(lo, load256(q8));
                                sumi[k] = madd_acc(sumi[k], scale_lo, p);
                                let p = _mm256_maddubs_epi16(hi, load256(&q8[32..]));
                                sumi[k] = madd_acc(sumi[k], scale_hi, p);
                            }
                        }
                        let (d, dmin) = (x.d.to_f32(), x.dmin.to_f32());
                        for k in 0..N {
                            let y = &y[k][i];
                            // The mins times the sums of each sub-block's activations.
                            let bsums = load256(&y.bsums);
                            let sums = _mm_hadd_epi16(
                                _mm256_castsi256_si128(bsums),
                                _mm256_extracti128_si256::<1>(bsums),
                            );
                            let offsets = _mm_cvtepi32_ps(_mm_madd_epi16(mins, sums));
                            acc_m[k] = _mm_fmadd_ps(_mm_set1_ps(-dmin * y.d), offsets, acc_m[k]);
                            let dk = _mm256_set1_ps(d * y.d);
                            acc[k] = _mm256_fmadd_ps(dk, _mm256_cvtepi32_ps(sumi[k]), acc[k]);
                        }
                    }
                    let mut out = [0f32; N];
                    for k in 0..N {
                        out[k] = hsum(acc[k]) + hsum128(acc_m[k]);
                    }
                    out
                }

                /// One Q6_K weight row with `N` activation rows. The codes are multiplied
                /// unsigned (0..64) and the 32 they are offset by is taken off once per block
                /// through the activations' sums: Σ sc·(q-32)·y = Σ sc·q·y - 32·Σ sc·Σy.
                #[target_feature(enable = $features)]
                pub fn q6k_q8k_n<const N: usize>(x: &[Q6K], y: [&[Q8K]; N]) -> [f32; N] {
                    let y = y.map(|y| &y[..x.len()]);
                    let (m4, m2) = (_mm256_set1_epi8(0x0F), _mm256_set1_epi8(3));
                    let mut acc = [_mm256_setzero_ps(); N];
                    for (i, x) in x.iter().enumerate() {
                        prefetch_lines(x);
                        let scales8 = load128(&x.scales);
                        let scales16 = _mm256_cvtepi8_epi16(scales8);
                        let mut sumi = [_mm256_setzero_si256(); N];
                        for half in 0..2 {
                            let ql1 = load256(&x.ql[64 * half..]);
                            let ql2 = load256(&x.ql[64 * half + 32..]);
                            let qh = load256(&x.qh[32 * half..]);
                            for v in 0..4 {
                                // Codes 32v..32v+32 of this half: low four bits from ql1 or
                                // ql2, low or high nibbles; high two bits from qh at 2v.
                                let ql = if v % 2 == 0 { ql1 } else { ql2 };
                                let low = match v / 2 {
                                    0 => _mm256_and_si256(ql, m4),
                                    _ => _mm256_and_si256(_mm256_srli_epi16::<4>(ql), m4),
                                };
                                let top = match v {
                                    0 => _mm256_and_si256(qh, m2),
                                    1 => _mm256_and_si256(_mm256_srli_epi16::<2>(qh), m2),
                                    2 => _mm256_and_si256(_mm256_srli_epi16::<4>(qh), m2),
                                    _ => _mm256_and_si256(_mm256_srli_epi16::<6>(qh), m2),
                                };
                                let q = _mm256_or_si256(low, _mm256_slli_epi16::<4>(top));
                                // Sub-blocks 8·half + 2v (first 16 codes) and the next one.
                                let s = (8 * half + 2 * v) as i8;
                                let pick = _mm_set_epi8(
                                    s + 1, s + 1, s + 1, s + 1, s + 1, s + 1, s + 1, s + 1,
                                    s, s, s, s, s, s, s, s,
                                );
                                let scale = _mm256_cvtepi8_epi16(_mm_shuffle_epi8(scales8, pick));
                                for k in 0..N {
                                    let a = load256(&y[k][i].qs[128 * half + 32 * v..]);
                                    let p = _mm256_maddubs_epi16(q, a);
                                    sumi[k] = madd_acc(sumi[k], scale, p);
                                }
                            }
                        }
                        let d = x.d.to_f32();
                        for k in 0..N {
                            let y = &y[k][i];
                            let offset = _mm256_madd_epi16(scales16, load256(&y.bsums));
                            let sumi = _mm256_sub_epi32(sumi[k], _mm256_slli_epi32::<5>(offset));
                            let dk = _mm256_set1_ps(d * y.d);
                            acc[k] = _mm256_fmadd_ps(dk, _mm256_cvtepi32_ps(sumi), acc[k]);
                        }
                    }
                    let mut out = [0f32; N];
                    for k in 0..N {
                        out[k] = hsum(acc[k]);
                    }
                    out
                }
            }
        };
    }

    kernels!(avx2, "avx2,fma,f16c", (s, a, b) => {
        let pairs = _mm256_maddubs_epi16(a, b);
        _mm256_add_epi32(s, _mm256_madd_epi16(pairs, _mm256_set1_epi16(1)))
    }, (acc, c, e) => {
        _mm256_add_epi32(acc, _mm256_madd_epi16(c, e))
    });
    kernels!(vnni, "avx2,fma,f16c,avx512f,avx512vl,avx512vnni", (s, a, b) => {
        _mm256_dpbusd_epi32(s, a, b)
    }, (acc, c, e) => {
        _mm256_dpwssd_epi32(acc, c, e)
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::quantized::GgmlDType;
    use candle_core::quantized::k_quants::GgmlType;

    /// Deterministic pseudo-random floats in [-scale, scale) (xorshift).
    fn floats(n: usize, seed: u64, scale: f32) -> Vec<f32> {
        let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                ((s >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * scale
            })
            .collect()
    }

    fn quantize<T: GgmlType>(xs: &[f32]) -> Vec<T> {
        let mut blocks = vec![T::zeros(); xs.len() / T::BLCK_SIZE];
        T::from_float(xs, &mut blocks);
        blocks
    }

    /// Row lengths of the tests: those of the models' matrices and a few more (odd numbers
    /// of blocks too), in whole blocks of `W` (256 values for the k-quants).
    fn lengths<W: GgmlType>() -> impl Iterator<Item = (usize, usize)> {
        [64usize, 96, 256, 576, 608, 896, 1536, 4096, 4864]
            .into_iter()
            .filter(|n| n.is_multiple_of(W::BLCK_SIZE))
            // candle's Q4_1 reference asserts an even number of blocks.
            .filter(|n| W::DTYPE != GgmlDType::Q4_1 || (n / W::BLCK_SIZE).is_multiple_of(2))
            .enumerate()
    }

    /// The reference: candle's own block dot product (`vec_dot_unopt`, the plain loop).
    fn check<W: GgmlType>(ours: impl Fn(Level, &[W], &[W::VecDotType]) -> f32) {
        for (case, n) in lengths::<W>() {
            for seed in 0..8u64 {
                let scale = [0.01f32, 1.0, 30.0][seed as usize % 3];
                let w: Vec<W> = quantize(&floats(n, seed * 31 + case as u64, 1.0));
                let a: Vec<W::VecDotType> = quantize(&floats(n, seed * 17 + 5, scale));
                let reference = W::vec_dot_unopt(n, &w, &a);
                for level in Level::available() {
                    let got = ours(level, &w, &a);
                    let tolerance = 1e-5 * (1.0 + reference.abs()) * (n as f32).sqrt();
                    assert!(
                        (got - reference).abs() <= tolerance,
                        "{level:?} n={n} seed={seed}: {got} vs {reference}"
                    );
                }
            }
        }
    }

    /// A four-row kernel against candle's product of the weight row with each of four
    /// different activation rows (of different scales).
    fn check4<W: GgmlType>(ours: impl Fn(Level, &[W], [&[W::VecDotType]; 4]) -> [f32; 4]) {
        for (case, n) in lengths::<W>() {
            for seed in 0..6u64 {
                let w: Vec<W> = quantize(&floats(n, seed * 31 + case as u64, 1.0));
                let rows: Vec<Vec<W::VecDotType>> = (0..4u64)
                    .map(|k| {
                        let scale = [0.01f32, 1.0, 30.0, 3.0][((seed + k) % 4) as usize];
                        quantize(&floats(n, seed * 17 + k * 1001 + 5, scale))
                    })
                    .collect();
                let y = [&rows[0][..], &rows[1][..], &rows[2][..], &rows[3][..]];
                for level in Level::available() {
                    let got = ours(level, &w, y);
                    for k in 0..4 {
                        let reference = W::vec_dot_unopt(n, &w, y[k]);
                        let tolerance = 1e-5 * (1.0 + reference.abs()) * (n as f32).sqrt();
                        assert!(
                            (got[k] - reference).abs() <= tolerance,
                            "{level:?} n={n} seed={seed} row {k}: {} vs {reference}",
                            got[k]
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn q5_0_times_q8_0_matches_candle_on_every_level() {
        check::<BlockQ5_0>(dot_q5_0_q8_0);
        check4::<BlockQ5_0>(dot_q5_0_q8_0_x4);
    }

    #[test]
    fn four_q5_0_rows_times_four_q8_0_rows_match_candle_on_every_level() {
        for (case, n) in lengths::<BlockQ5_0>() {
            for seed in 0..4u64 {
                let w: Vec<Vec<BlockQ5_0>> = (0..4u64)
                    .map(|r| quantize(&floats(n, seed * 31 + r * 7 + case as u64, 1.0)))
                    .collect();
                let a: Vec<Vec<BlockQ8_0>> = (0..4u64)
                    .map(|k| {
                        let scale = [0.01f32, 1.0, 30.0, 3.0][((seed + k) % 4) as usize];
                        quantize(&floats(n, seed * 17 + k * 1001 + 5, scale))
                    })
                    .collect();
                let x = [&w[0][..], &w[1][..], &w[2][..], &w[3][..]];
                let y = [&a[0][..], &a[1][..], &a[2][..], &a[3][..]];
                for level in Level::available() {
                    let got = dot_q5_0_q8_0_4x4(level, x, y);
                    for (r, k) in (0..4).flat_map(|r| (0..4).map(move |k| (r, k))) {
                        let reference = BlockQ5_0::vec_dot_unopt(n, x[r], y[k]);
                        let tolerance = 1e-5 * (1.0 + reference.abs()) * (n as f32).sqrt();
                        assert!(
                            (got[r][k] - reference).abs() <= tolerance,
                            "{level:?} n={n} seed={seed} [{r}][{k}]: {} vs {reference}",
                            got[r][k]
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn interleaved_q5_0_rows_match_candle_on_every_level() {
        for (case, n) in lengths::<BlockQ5_0>() {
            for seed in 0..3u64 {
                let rows: Vec<Vec<BlockQ5_0>> = (0..8u64)
                    .map(|r| quantize(&floats(n, seed * 31 + r * 7 + case as u64, 1.0)))
                    .collect();
                let interleaved: Vec<Q5_0x8> = (0..n / 32)
                    .map(|i| Q5_0x8::interleave(std::array::from_fn(|r| &rows[r][i])))
                    .collect();
                // The layout keeps every code: each row comes back as it went in.
                for (r, row) in rows.iter().enumerate() {
                    let (mut want, mut got) = (vec![0f32; n], vec![0f32; n]);
                    BlockQ5_0::to_float(row, &mut want);
                    Q5_0x8::dequantize(&interleaved, r, &mut got);
                    assert_eq!(got, want, "row {r}");
                }
                let acts: Vec<Vec<BlockQ8_0>> = (0..4u64)
                    .map(|k| {
                        let scale = [0.01f32, 1.0, 30.0, 3.0][((seed + k) % 4) as usize];
                        quantize(&floats(n, seed * 17 + k * 1001 + 5, scale))
                    })
                    .collect();
                let extras: Vec<(Vec<f32>, Vec<i32>)> = acts
                    .iter()
                    .map(|a| {
                        let (mut scales, mut sums) = (Vec::new(), Vec::new());
                        q8_0_scales_and_sums(a, &mut scales, &mut sums);
                        (scales, sums)
                    })
                    .collect();
                let row = |k: usize| Q8_0Row::new(&acts[k], &extras[k].0, &extras[k].1);
                let y = [&acts[0][..], &acts[1][..], &acts[2][..], &acts[3][..]];
                let (rows4, rows8) = ([0, 1, 2, 3].map(row), [0, 1, 2, 3, 3, 2, 1, 0].map(row));
                for level in Level::available() {
                    let four = dot_q5_0x8_q8_0_x4(level, &interleaved, rows4);
                    let eight = dot_q5_0x8_q8_0_x8(level, &interleaved, rows8);
                    for k in 0..4 {
                        let one = dot_q5_0x8_q8_0(level, &interleaved, row(k));
                        for r in 0..8 {
                            let reference = BlockQ5_0::vec_dot_unopt(n, &rows[r], y[k]);
                            let tolerance = 1e-5 * (1.0 + reference.abs()) * (n as f32).sqrt();
                            for got in [one[r], four[k][r], eight[k][r], eight[7 - k][r]] {
                                assert!(
                                    (got - reference).abs() <= tolerance,
                                    "{level:?} n={n} seed={seed} row {r} act {k}: {got} vs {reference}"
                                );
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn q8_0_times_four_q8_0_rows_matches_candle_on_every_level() {
        check4::<BlockQ8_0>(dot_q8_0_q8_0_x4);
    }

    #[test]
    fn q4k_times_q8k_matches_candle_on_every_level() {
        check::<BlockQ4K>(dot_q4k_q8k);
        check4::<BlockQ4K>(dot_q4k_q8k_x4);
    }

    #[test]
    fn q6k_times_q8k_matches_candle_on_every_level() {
        check::<BlockQ6K>(dot_q6k_q8k);
        check4::<BlockQ6K>(dot_q6k_q8k_x4);
    }

    /// The k-quant kernels on blocks at the ends of their ranges: weights that use the
    /// largest codes and scales, activations at ±127 (sums near the i16 and i32 limits of
    /// the SIMD steps).
    #[test]
    fn k_quants_at_the_ends_of_their_ranges_match_candle() {
        let n = 4864;
        let mut spiky = floats(n, 7, 1.0);
        for (i, v) in spiky.iter_mut().enumerate() {
            // Every sub-block has one large value, so its scale is the largest.
            if i % 16 == 3 {
                *v = if i % 32 == 3 { 100.0 } else { -100.0 };
            }
        }
        let ones: Vec<f32> = (0..n).map(|i| if i % 3 == 0 { -1.0 } else { 1.0 }).collect();
        let (q4k, q6k): (Vec<BlockQ4K>, Vec<BlockQ6K>) = (quantize(&spiky), quantize(&spiky));
        let act: Vec<BlockQ8K> = quantize(&ones);
        for level in Level::available() {
            for (got, reference) in [
                (dot_q4k_q8k(level, &q4k, &act), BlockQ4K::vec_dot_unopt(n, &q4k, &act)),
                (dot_q6k_q8k(level, &q6k, &act), BlockQ6K::vec_dot_unopt(n, &q6k, &act)),
                (dot_q4k_q8k_x4(level, &q4k, [&act; 4])[2], BlockQ4K::vec_dot_unopt(n, &q4k, &act)),
                (dot_q6k_q8k_x4(level, &q6k, [&act; 4])[3], BlockQ6K::vec_dot_unopt(n, &q6k, &act)),
            ] {
                let tolerance = 1e-5 * (1.0 + reference.abs()) * (n as f32).sqrt();
                assert!((got - reference).abs() <= tolerance, "{level:?}: {got} vs {reference}");
            }
        }
    }

    #[test]
    fn q4_1_times_q8_1_matches_candle_on_every_level() {
        check::<BlockQ4_1>(dot_q4_1_q8_1);
    }

    #[test]
    fn q4_1_times_four_q8_1_rows_matches_candle_on_every_level() {
        check::<BlockQ4_1>(|level, x, y| {
            // The same row four times, each lane checked against the single product.
            let four = dot_q4_1_q8_1_x4(level, x, [y, y, y, y]);
            assert!(four.iter().all(|v| v.to_bits() == four[0].to_bits()), "{four:?}");
            four[0]
        });
    }

    #[test]
    fn q4_0_times_q8_0_matches_candle_on_every_level() {
        check::<BlockQ4_0>(dot_q4_0_q8_0);
    }

    #[test]
    fn q8_0_times_q8_0_matches_candle_on_every_level() {
        check::<BlockQ8_0>(dot_q8_0_q8_0);
    }

    #[test]
    fn this_machine_gets_a_simd_level() {
        // The build and test machines have AVX2; a scalar-only result here means the
        // detection is broken, not that the CPU is old.
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx2") {
            assert_ne!(Level::detected(), Level::Scalar);
        }
    }

    #[test]
    fn float_helpers_match_plain_loops() {
        let a = floats(37, 1, 1.0);
        let b = floats(37, 2, 1.0);
        let plain: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        assert!((dot_f32(&a, &b) - plain).abs() < 1e-5);
        let mut y = b.clone();
        axpy(0.5, &a, &mut y);
        assert!(y.iter().zip(a.iter().zip(&b)).all(|(y, (a, b))| (y - (b + 0.5 * a)).abs() < 1e-6));
    }
}
