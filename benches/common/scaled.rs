//! Vectors scaled from real embeddings: a real vector plus a little noise, unit length again,
//! so a large set keeps the clusters of the real data.

use std::sync::Arc;

use rand::Rng;

/// `base` plus noise of about `scale` in length, normalised.
pub fn noisy(base: &[f32], rng: &mut impl Rng, scale: f32) -> Arc<[f32]> {
    let sigma = scale / (base.len() as f32).sqrt();
    let mut v: Vec<f32> = base
        .iter()
        .map(|x| {
            // A sum of four uniforms is close enough to a normal for this.
            let n: f32 = (0..4).map(|_| rng.random_range(-1.0f32..1.0)).sum::<f32>() * 0.866;
            x + n * sigma
        })
        .collect();
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.iter_mut().for_each(|x| *x /= norm);
    v.into()
}
