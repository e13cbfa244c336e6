//! Vectors as 8-bit codes: each vector is its largest magnitude over 127 (the scale) and one
//! signed byte per dimension, a quarter of its f32 size. Dot products between codes run on
//! integers; a query's exact f32 dot against a code is [`Codes::dot_f32`].
//!
//! For the unit vectors of a sentence model (384 dimensions, no dimension dominating) the
//! rounding moves a cosine by about 0.002; `scripts/bench.sh vectors` prints the recall@10 of
//! search over codes against exact f32 search.

use super::vector_file::{In, Out};

/// A vector quantized: its scale and codes.
pub fn quantize(vector: &[f32], codes: &mut Vec<i8>) -> f32 {
    let largest = vector.iter().fold(0f32, |m, v| m.max(v.abs()));
    let scale = if largest > 0.0 && largest.is_finite() { largest / 127.0 } else { 1.0 };
    codes.extend(vector.iter().map(|v| {
        let q = (v / scale).round();
        if q.is_nan() { 0 } else { q.clamp(-127.0, 127.0) as i8 }
    }));
    scale
}

/// The integer dot product of two codes of the same length.
#[inline]
pub fn dot_codes(a: &[i8], b: &[i8]) -> i32 {
    // Sixteen running sums of widened products: the compiler turns this into SIMD
    // multiply-adds.
    let mut sums = [0i32; 16];
    let (xs, ys) = (a.chunks_exact(16), b.chunks_exact(16));
    let (x_rest, y_rest) = (xs.remainder(), ys.remainder());
    for (x, y) in xs.zip(ys) {
        for lane in 0..16 {
            sums[lane] += i32::from(x[lane]) * i32::from(y[lane]);
        }
    }
    let mut total: i32 = sums.iter().sum();
    for (x, y) in x_rest.iter().zip(y_rest) {
        total += i32::from(*x) * i32::from(*y);
    }
    total
}

/// The f32 dot product of a query with codes (their scale not applied).
#[inline]
pub fn dot_query(query: &[f32], codes: &[i8]) -> f32 {
    let mut sums = [0f32; 16];
    let (xs, ys) = (query.chunks_exact(16), codes.chunks_exact(16));
    let (x_rest, y_rest) = (xs.remainder(), ys.remainder());
    for (x, y) in xs.zip(ys) {
        for lane in 0..16 {
            sums[lane] += x[lane] * f32::from(y[lane]);
        }
    }
    let mut total: f32 = sums.iter().sum();
    for (x, y) in x_rest.iter().zip(y_rest) {
        total += x * f32::from(*y);
    }
    total
}

/// Many vectors of one length as codes, by position, in one allocation.
#[derive(Debug, Default)]
pub struct Codes {
    dims: usize,
    codes: Vec<i8>,
    scales: Vec<f32>,
}

impl Codes {
    pub fn new(dims: usize) -> Codes {
        Codes { dims, codes: Vec::new(), scales: Vec::new() }
    }

    pub fn dims(&self) -> usize {
        self.dims
    }

    pub fn len(&self) -> usize {
        self.scales.len()
    }

    pub fn is_empty(&self) -> bool {
        self.scales.is_empty()
    }

    /// Appends a vector of [`Self::dims`] values; answers its position.
    pub fn push(&mut self, vector: &[f32]) -> usize {
        debug_assert_eq!(vector.len(), self.dims);
        let scale = quantize(vector, &mut self.codes);
        self.scales.push(scale);
        self.scales.len() - 1
    }

    /// Appends codes and their scale as they are (from another collection of the same
    /// length); answers their position.
    pub fn push_codes(&mut self, (codes, scale): (&[i8], f32)) -> usize {
        debug_assert_eq!(codes.len(), self.dims);
        self.codes.extend_from_slice(codes);
        self.scales.push(scale);
        self.scales.len() - 1
    }

    /// The codes and scale at `at`.
    #[inline]
    pub fn get(&self, at: usize) -> (&[i8], f32) {
        (&self.codes[at * self.dims..(at + 1) * self.dims], self.scales[at])
    }

    /// Starts fetching the codes at `at` into the cache, for a read soon after (a vector is
    /// several cache lines, far apart from the last one read: without this each read waits
    /// for memory in turn).
    #[inline]
    pub fn warm(&self, at: usize) {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
            let codes = &self.codes[at * self.dims..(at + 1) * self.dims];
            for line in codes.chunks(64) {
                // SAFETY: a prefetch is a hint that reads nothing and cannot fault; the
                // address is inside the codes.
                unsafe { _mm_prefetch::<_MM_HINT_T0>(line.as_ptr()) };
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = at;
    }

    /// The vector at `at`, decoded.
    pub fn decode(&self, at: usize) -> Vec<f32> {
        let (codes, scale) = self.get(at);
        codes.iter().map(|&c| f32::from(c) * scale).collect()
    }

    /// The dot product of the vectors at `a` and `b`, from their codes.
    #[inline]
    pub fn dot(&self, a: usize, b: usize) -> f32 {
        let ((x, sx), (y, sy)) = (self.get(a), self.get(b));
        dot_codes(x, y) as f32 * sx * sy
    }

    /// The f32 dot product of `query` with the decoded vector at `at`.
    #[inline]
    pub fn dot_f32(&self, query: &[f32], at: usize) -> f32 {
        let (codes, scale) = self.get(at);
        dot_query(query, codes) * scale
    }

    /// Appends the codes to `out` (for [`super::vector_file`]).
    pub fn write(&self, out: &mut Out) {
        out.u32(self.dims as u32);
        out.u32(self.len() as u32);
        out.bytes(&self.codes.iter().map(|&c| c as u8).collect::<Vec<u8>>());
        self.scales.iter().for_each(|&s| out.f32(s));
    }

    /// Codes written by [`Self::write`], of `dims` values each.
    pub fn read(r: &mut In<'_>, dims: usize) -> Result<Codes, String> {
        let found = r.u32("the codes")? as usize;
        if found != dims {
            return Err(format!("its vectors have {found} dimensions, not {dims}"));
        }
        let len = r.u32("the codes")? as usize;
        r.room(len, dims + 4, "vectors")?;
        let codes = r.take(len * dims, "the codes")?.iter().map(|&c| c as i8).collect();
        let mut scales = Vec::with_capacity(len);
        for _ in 0..len {
            let scale = r.f32("the codes")?;
            if !scale.is_finite() {
                return Err("a vector's scale is not a number".into());
            }
            scales.push(scale);
        }
        Ok(Codes { dims, codes, scales })
    }

    /// The heap held, in bytes.
    pub fn heap_bytes(&self) -> u64 {
        (self.codes.capacity() + 4 * self.scales.capacity()) as u64
    }

    /// Frees what pushes reserved beyond the vectors held.
    pub fn shrink_to_fit(&mut self) {
        self.codes.shrink_to_fit();
        self.scales.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(seed: u64, dims: usize) -> Vec<f32> {
        let mut x = seed;
        let v: Vec<f32> = (0..dims)
            .map(|_| {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                ((x >> 40) as f32 / (1u64 << 24) as f32) - 0.5
            })
            .collect();
        let norm = v.iter().map(|a| a * a).sum::<f32>().sqrt();
        v.into_iter().map(|a| a / norm).collect()
    }

    #[test]
    fn codes_keep_dot_products_within_a_hundredth() {
        let mut codes = Codes::new(384);
        let vectors: Vec<Vec<f32>> = (0..20).map(|i| unit(i, 384)).collect();
        for v in &vectors {
            codes.push(v);
        }
        for (i, a) in vectors.iter().enumerate() {
            let decoded = codes.decode(i);
            for (j, b) in vectors.iter().enumerate() {
                let exact: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
                assert!((codes.dot(i, j) - exact).abs() < 0.01, "{i} {j}");
                assert!((codes.dot_f32(b, i) - exact).abs() < 0.01, "{i} {j}");
                let through_decoded: f32 = decoded.iter().zip(b).map(|(x, y)| x * y).sum();
                assert!((codes.dot_f32(b, i) - through_decoded).abs() < 1e-5);
            }
        }
        assert_eq!(
            codes.heap_bytes() as usize,
            codes.codes.capacity() + 4 * codes.scales.capacity()
        );
    }

    #[test]
    fn zero_and_odd_lengths_quantize_without_dividing_by_zero() {
        let mut out = Vec::new();
        assert_eq!(quantize(&[0.0; 5], &mut out), 1.0);
        assert_eq!(out, vec![0; 5]);
        let a = [0.5f32, -0.25, 0.125];
        let mut qa = Vec::new();
        let scale = quantize(&a, &mut qa);
        assert_eq!(qa, vec![127, -64, 32]);
        assert!((dot_query(&a, &qa) * scale - 0.328_125).abs() < 1e-3);
        assert_eq!(dot_codes(&qa, &qa), 127 * 127 + 64 * 64 + 32 * 32);
    }
}
