//! The encoder's element-wise and per-row kernels: layer norm, GELU and one sequence's
//! attention, each compiled for AVX-512, for AVX2 + FMA and for plain x86-64 and picked by what
//! the CPU has (the matrix products are gemm's).
//!
//! Sums run in 16 independent lanes that are added at the end, so the compiler can vectorise
//! them without reordering any one lane's additions.

/// The vector instructions the kernels use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Simd {
    Avx512,
    Avx2,
    Plain,
}

impl Simd {
    /// The best this CPU has.
    pub fn detect() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            if is_x86_feature_detected!("avx512f")
                && is_x86_feature_detected!("avx512bw")
                && is_x86_feature_detected!("avx512vl")
                && is_x86_feature_detected!("avx2")
                && is_x86_feature_detected!("fma")
            {
                return Self::Avx512;
            }
            if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
                return Self::Avx2;
            }
        }
        Self::Plain
    }
}

/// Defines `pub fn $name(simd: Simd, args...)` that runs `$body` compiled for the instruction
/// set `simd` names.
macro_rules! dispatch {
    ($(#[$doc:meta])* fn $name:ident($($arg:ident: $ty:ty),*) $body:block) => {
        $(#[$doc])*
        pub fn $name(simd: Simd, $($arg: $ty),*) {
            #[inline(always)]
            fn body($($arg: $ty),*) $body
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx2,fma")]
            fn avx512($($arg: $ty),*) { body($($arg),*) }
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2,fma")]
            fn avx2($($arg: $ty),*) { body($($arg),*) }
            match simd {
                // SAFETY: `Simd::detect` saw these instructions on this CPU.
                #[cfg(target_arch = "x86_64")]
                Simd::Avx512 => unsafe { avx512($($arg),*) },
                // SAFETY: as above.
                #[cfg(target_arch = "x86_64")]
                Simd::Avx2 => unsafe { avx2($($arg),*) },
                _ => body($($arg),*),
            }
        }
    };
}

const LANES: usize = 16;

/// The sum of `a[i] * b[i]`.
#[inline(always)]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0f32; LANES];
    let (a_body, a_tail) = a.split_at(a.len() / LANES * LANES);
    let (b_body, b_tail) = b.split_at(a_body.len());
    for (x, y) in a_body.chunks_exact(LANES).zip(b_body.chunks_exact(LANES)) {
        for l in 0..LANES {
            lanes[l] = x[l].mul_add(y[l], lanes[l]);
        }
    }
    let mut sum = lanes.iter().sum::<f32>();
    for (x, y) in a_tail.iter().zip(b_tail) {
        sum = x.mul_add(*y, sum);
    }
    sum
}

/// The sum of `f(a[i])`.
#[inline(always)]
fn sum_of(a: &[f32], f: impl Fn(f32) -> f32) -> f32 {
    let mut lanes = [0f32; LANES];
    let (body, tail) = a.split_at(a.len() / LANES * LANES);
    for x in body.chunks_exact(LANES) {
        for l in 0..LANES {
            lanes[l] += f(x[l]);
        }
    }
    lanes.iter().sum::<f32>() + tail.iter().map(|&x| f(x)).sum::<f32>()
}

/// e^x in single precision (within 2 ulp; 0 below -87.3), without a call, so that a loop of it
/// vectorises.
#[inline(always)]
fn exp(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    let x = x.clamp(-87.3, 88.7);
    let n = (x * LOG2E).round();
    let r = n.mul_add(-LN2_LO, n.mul_add(-LN2_HI, x));
    // e^r on [-ln2/2, ln2/2] (Cephes' expf polynomial).
    let mut p = 1.987_569_1e-4f32;
    p = p.mul_add(r, 1.398_2e-3);
    p = p.mul_add(r, 8.333_452e-3);
    p = p.mul_add(r, 4.166_579_6e-2);
    p = p.mul_add(r, 0.166_666_55);
    p = p.mul_add(r, 0.5);
    let e = (p * r).mul_add(r, r) + 1.0;
    e * f32::from_bits(((n as i32 + 127) as u32) << 23)
}

/// erf(x) in single precision as a rational function of x² on [-4, 4] (±1 beyond), without a
/// call or a branch.
#[inline(always)]
fn erf(x: f32) -> f32 {
    let x = x.clamp(-4.0, 4.0);
    let x2 = x * x;
    let mut p = -2.726_142_3e-10f32;
    p = p.mul_add(x2, 2.770_681_4e-8);
    p = p.mul_add(x2, -2.101_024e-6);
    p = p.mul_add(x2, -5.692_506_4e-5);
    p = p.mul_add(x2, -7.349_906e-4);
    p = p.mul_add(x2, -2.954_6e-3);
    p = p.mul_add(x2, -1.609_603_3e-2);
    let mut q = -1.456_607_2e-5f32;
    q = q.mul_add(x2, -2.133_740_6e-4);
    q = q.mul_add(x2, -1.682_827e-3);
    q = q.mul_add(x2, -7.373_329_3e-3);
    q = q.mul_add(x2, -1.426_474e-2);
    x * p / q
}

dispatch! {
    /// Normalises each row of `rows` (`weight.len()` wide) in place to mean 0 and variance 1,
    /// then scales by `weight` and shifts by `bias`.
    fn layer_norm(rows: &mut [f32], weight: &[f32], bias: &[f32], eps: f32) {
        let width = weight.len();
        for row in rows.chunks_exact_mut(width) {
            let mean = sum_of(row, |x| x) / width as f32;
            let var = sum_of(row, |x| (x - mean) * (x - mean)) / width as f32;
            let scale = 1.0 / (var + eps).sqrt();
            for ((x, w), b) in row.iter_mut().zip(weight).zip(bias) {
                *x = ((*x - mean) * scale).mul_add(*w, *b);
            }
        }
    }
}

dispatch! {
    /// GELU with the exact erf form, in place: x · (1 + erf(x / √2)) / 2.
    fn gelu(values: &mut [f32]) {
        for x in values.iter_mut() {
            *x = 0.5 * *x * (1.0 + erf(*x * std::f32::consts::FRAC_1_SQRT_2));
        }
    }
}

dispatch! {
    /// Self-attention of one sequence of `len` tokens. `qkv` holds their queries, keys and
    /// values (each row `3 × hidden`: all heads' queries, then keys, then values); each token's
    /// attended values, all heads side by side, go to its row of `out` (`hidden` wide).
    /// `scores` is scratch of at least `len`.
    fn attention(qkv: &[f32], out: &mut [f32], len: usize, heads: usize, scores: &mut [f32]) {
        let hidden = out.len() / len;
        let size = hidden / heads;
        let stride = 3 * hidden;
        let scale = 1.0 / (size as f32).sqrt();
        let scores = &mut scores[..len];
        for head in 0..heads {
            let q_at = head * size;
            let k_at = hidden + head * size;
            let v_at = 2 * hidden + head * size;
            for i in 0..len {
                let q = &qkv[i * stride + q_at..i * stride + q_at + size];
                let mut max = f32::NEG_INFINITY;
                for (j, score) in scores.iter_mut().enumerate() {
                    let k = &qkv[j * stride + k_at..j * stride + k_at + size];
                    *score = dot(q, k) * scale;
                    max = max.max(*score);
                }
                for score in scores.iter_mut() {
                    *score = exp(*score - max);
                }
                let total = 1.0 / sum_of(scores, |x| x);
                let row = &mut out[i * hidden + head * size..i * hidden + (head + 1) * size];
                row.fill(0.0);
                for (j, &p) in scores.iter().enumerate() {
                    let v = &qkv[j * stride + v_at..j * stride + v_at + size];
                    let p = p * total;
                    for (o, &v) in row.iter_mut().zip(v) {
                        *o = p.mul_add(v, *o);
                    }
                }
            }
        }
    }
}
