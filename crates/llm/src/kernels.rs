//! Dot products between a row of quantized weights and a row of quantized activations, the
//! inner loop of every matrix multiplication of the model: Q4_1 × Q8_1, Q4_0 × Q8_0 and
//! Q8_0 × Q8_0 (GGML's block formats), with an AVX2 + FMA path, an AVX-512 VNNI path and a
//! scalar fallback, picked once at run time from what the CPU supports.
//!
//! The blocks are candle's (`candle_core::quantized::k_quants`), read through mirror structs
//! of the same `repr(C)` layout, because candle keeps their fields to itself.

use candle_core::quantized::k_quants::{BlockQ4_0, BlockQ4_1, BlockQ8_0, BlockQ8_1};
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

mod scalar {
    use super::{Q4_0, Q4_1, Q8_0, Q8_1};

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
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    //! The 32 codes of a block are multiplied as unsigned × signed bytes, summed in pairs
    //! (`maddubs`: at most 2·255·127, no overflow for 4-bit or sign-moved 8-bit codes) and
    //! then in quads into eight i32 lanes; with VNNI one `vpdpbusd` does both steps. The same
    //! loops are compiled twice, once per instruction set, so every helper inlines.

    macro_rules! kernels {
        ($module:ident, $features:literal, ($a:ident, $b:ident) => $sum:block) => {
            pub mod $module {
                use super::super::{Q4_0, Q4_1, Q8_0, Q8_1};
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

                /// Eight i32 sums of 4 products of unsigned `a` and signed `b` bytes, as floats.
                #[target_feature(enable = $features)]
                #[inline]
                fn sum_us8($a: __m256i, $b: __m256i) -> __m256 $sum

                /// Asks for the weights `AHEAD` bytes on: the rows stream from memory once per
                /// token, faster than the hardware prefetcher alone brings them.
                #[target_feature(enable = $features)]
                #[inline]
                fn prefetch<T>(block: &T) {
                    let at = (block as *const T).cast::<i8>().wrapping_add(super::super::AHEAD);
                    // A prefetch never faults, whatever the address.
                    _mm_prefetch::<_MM_HINT_T0>(at)
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
            }
        };
    }

    kernels!(avx2, "avx2,fma,f16c", (a, b) => {
        let pairs = _mm256_maddubs_epi16(a, b);
        _mm256_cvtepi32_ps(_mm256_madd_epi16(pairs, _mm256_set1_epi16(1)))
    });
    kernels!(vnni, "avx2,fma,f16c,avx512f,avx512vl,avx512vnni", (a, b) => {
        _mm256_cvtepi32_ps(_mm256_dpbusd_epi32(_mm256_setzero_si256(), a, b))
    });
}

#[cfg(test)]
mod tests {
    use super::*;
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

    /// The reference: candle's own block dot product (`vec_dot_unopt`, the plain loop).
    fn check<W: GgmlType>(ours: impl Fn(Level, &[W], &[W::VecDotType]) -> f32) {
        for (case, n) in [64usize, 576, 1536, 4096].into_iter().enumerate() {
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
