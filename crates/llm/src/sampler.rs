//! Picking each next token from the model's scores: the repetition penalty, then the answer's
//! constraint (a token it does not allow gets a score of minus infinity, so it can never be
//! picked), then the most likely token or a sample.

use candle_core::{DType, Tensor};
use candle_transformers::generation::{LogitsProcessor, Sampling};

use crate::constraint::Constraint;
use crate::types::{GenerationParams, ModelError};

/// Picks the tokens of one answer.
pub struct Sampler {
    processor: LogitsProcessor,
    repetition_penalty: f32,
    repeat_last_n: usize,
}

impl Sampler {
    pub fn new(params: &GenerationParams) -> Self {
        Self {
            processor: LogitsProcessor::from_sampling(params.seed, sampling(params)),
            repetition_penalty: params.repetition_penalty,
            repeat_last_n: params.repeat_last_n,
        }
    }

    /// The next token, from the scores of every token (`logits`, one dimension) after the
    /// answer's tokens so far (`generated`), among those `constraint` allows.
    pub fn sample(
        &mut self,
        logits: &Tensor,
        generated: &[u32],
        constraint: Option<&mut Constraint>,
    ) -> Result<u32, ModelError> {
        let logits = if self.repetition_penalty == 1.0 {
            logits.clone()
        } else {
            // Over the answer only: the prompt's words and turn markers are not repetition.
            let start = generated.len().saturating_sub(self.repeat_last_n);
            candle_transformers::utils::apply_repeat_penalty(
                logits,
                self.repetition_penalty,
                &generated[start..],
            )?
        };
        let logits = match constraint {
            None => logits,
            // The scores themselves, not the probabilities: greedy decoding looks at nothing
            // else.
            Some(constraint) => {
                let mut scores = logits.to_dtype(DType::F32)?.to_vec1::<f32>()?;
                constraint.mask(&mut scores)?;
                Tensor::from_vec(scores, logits.dims1()?, logits.device())?
            }
        };
        Ok(self.processor.sample(&logits)?)
    }
}

fn sampling(params: &GenerationParams) -> Sampling {
    let temperature = params.temperature;
    if temperature <= 0.0 {
        return Sampling::ArgMax;
    }
    let top_p = params.top_p < 1.0;
    match (params.top_k > 0, top_p) {
        (true, true) => Sampling::TopKThenTopP { k: params.top_k, p: params.top_p, temperature },
        (true, false) => Sampling::TopK { k: params.top_k, temperature },
        (false, true) => Sampling::TopP { p: params.top_p, temperature },
        (false, false) => Sampling::All { temperature },
    }
}
