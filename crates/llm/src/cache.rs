//! The attention keys and values of the tokens seen so far, per layer, and the token ids they
//! came from: generation continues from them, and a new prompt that starts with the same
//! tokens reuses them instead of processing its beginning again.

/// Keys and values of `len` positions for every layer: per layer two row-major
/// `len × kv_dim` f32 buffers, grown in steps as positions are added.
#[derive(Debug, Clone)]
pub struct KvCache {
    kv_dim: usize,
    layers: Vec<(Vec<f32>, Vec<f32>)>,
    tokens: Vec<u32>,
}

/// Positions added at a time when the buffers grow (keeps the unused tail small).
const GROW: usize = 256;

impl KvCache {
    pub fn new(layers: usize, kv_dim: usize) -> Self {
        Self { kv_dim, layers: vec![(Vec::new(), Vec::new()); layers], tokens: Vec::new() }
    }

    /// Positions held.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// The token ids whose keys and values are held, in order.
    pub fn tokens(&self) -> &[u32] {
        &self.tokens
    }

    /// Keeps the first `len` positions only.
    pub fn truncate(&mut self, len: usize) {
        self.tokens.truncate(len);
        for (k, v) in &mut self.layers {
            k.truncate(len * self.kv_dim);
            v.truncate(len * self.kv_dim);
        }
    }

    /// Forgets everything and frees the memory.
    pub fn clear(&mut self) {
        self.tokens = Vec::new();
        for layer in &mut self.layers {
            *layer = (Vec::new(), Vec::new());
        }
    }

    /// Records the tokens of a forward pass (after every layer appended their rows).
    pub(crate) fn push_tokens(&mut self, tokens: &[u32]) {
        self.tokens.extend_from_slice(tokens);
    }

    /// Appends keys and values (`n × kv_dim` each) to a layer.
    pub(crate) fn append(&mut self, layer: usize, keys: &[f32], values: &[f32]) {
        let (k, v) = &mut self.layers[layer];
        for (buffer, rows) in [(k, keys), (v, values)] {
            let needed = buffer.len() + rows.len();
            if needed > buffer.capacity() {
                let positions = (needed / self.kv_dim).next_multiple_of(GROW);
                buffer.reserve_exact(positions * self.kv_dim - buffer.len());
            }
            buffer.extend_from_slice(rows);
        }
    }

    /// A layer's keys and values, `positions × kv_dim` each.
    pub(crate) fn layer(&self, layer: usize) -> (&[f32], &[f32]) {
        let (k, v) = &self.layers[layer];
        (k, v)
    }

    /// Bytes held by the buffers (their capacity).
    pub fn bytes(&self) -> usize {
        self.layers.iter().map(|(k, v)| (k.capacity() + v.capacity()) * 4).sum::<usize>()
            + self.tokens.capacity() * 4
    }
}

/// How many tokens two sequences share at their start.
pub fn common_prefix(a: &[u32], b: &[u32]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncating_keeps_the_first_positions_and_clearing_frees_everything() {
        let mut cache = KvCache::new(2, 3);
        for layer in 0..2 {
            cache.append(layer, &[1.0; 6], &[2.0; 6]);
        }
        cache.push_tokens(&[7, 8]);
        assert_eq!((cache.len(), cache.tokens()), (2, &[7, 8][..]));
        cache.truncate(1);
        assert_eq!(cache.layer(1).0.len(), 3);
        assert_eq!(cache.tokens(), &[7]);
        assert!(cache.bytes() >= 2 * 2 * GROW * 3 * 4);
        cache.clear();
        assert_eq!((cache.len(), cache.bytes()), (0, 0));
        assert_eq!(common_prefix(&[1, 2, 3], &[1, 2, 4, 5]), 2);
        assert_eq!(common_prefix(&[], &[1]), 0);
    }
}
