//! The encoder against candle's BertModel (the reference it replaces) on the real
//! all-MiniLM-L6-v2 weights: the same vectors for texts of very different lengths in one batch,
//! and clear errors for token ids and lengths the model cannot take.

use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use jobportal_bert::{EncodeError, Encoder};
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

fn model_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/embed")
}

fn tokenizer() -> Tokenizer {
    let mut tokenizer = Tokenizer::from_file(model_dir().join("tokenizer.json"))
        .expect("models/embed/tokenizer.json (run scripts/models.sh)");
    tokenizer.with_padding(None);
    tokenizer
        .with_truncation(Some(TruncationParams { max_length: 256, ..Default::default() }))
        .unwrap();
    tokenizer
}

/// candle's BertModel on the batch padded to its longest text, mean-pooled over the mask and
/// scaled to unit length.
fn reference(texts: &[String]) -> Vec<Vec<f32>> {
    let dir = model_dir();
    let config: Config =
        serde_json::from_slice(&std::fs::read(dir.join("config.json")).unwrap()).unwrap();
    // SAFETY: the weights file is not written while the test reads it.
    let weights = unsafe {
        VarBuilder::from_mmaped_safetensors(
            &[dir.join("model.safetensors")],
            DType::F32,
            &Device::Cpu,
        )
    }
    .unwrap();
    let bert = BertModel::load(weights, &config).unwrap();
    let mut tokenizer = tokenizer();
    tokenizer.with_padding(Some(PaddingParams {
        strategy: PaddingStrategy::BatchLongest,
        ..Default::default()
    }));
    let encodings = tokenizer.encode_batch(texts.to_vec(), true).unwrap();
    let (rows, len) = (encodings.len(), encodings[0].get_ids().len());
    let ids: Vec<u32> = encodings.iter().flat_map(|e| e.get_ids().to_vec()).collect();
    let mask: Vec<u32> = encodings.iter().flat_map(|e| e.get_attention_mask().to_vec()).collect();
    let ids = Tensor::from_vec(ids, (rows, len), &Device::Cpu).unwrap();
    let mask = Tensor::from_vec(mask, (rows, len), &Device::Cpu).unwrap();
    let hidden = bert.forward(&ids, &ids.zeros_like().unwrap(), Some(&mask)).unwrap();
    let mask = mask.to_dtype(DType::F32).unwrap().unsqueeze(2).unwrap();
    let summed = hidden.broadcast_mul(&mask).unwrap().sum(1).unwrap();
    let mean = summed.broadcast_div(&mask.sum(1).unwrap()).unwrap();
    let norms = mean.sqr().unwrap().sum_keepdim(1).unwrap().sqrt().unwrap();
    mean.broadcast_div(&norms).unwrap().to_vec2().unwrap()
}

#[test]
fn vectors_match_candle_bert_for_a_batch_of_mixed_lengths() {
    let long = "Senior backend engineer for payment services in Rust and Go. ".repeat(40);
    let texts: Vec<String> = [
        "a",
        "Network Engineer at Cisco. Networking.",
        "This is an example sentence",
        "Remote data analyst, SQL and Python, part time, based anywhere in Europe with travel twice a year",
        long.as_str(),
        "",
    ]
    .iter()
    .map(|t| t.to_string())
    .collect();
    let expected = reference(&texts);
    let encoder = Encoder::load(&model_dir()).unwrap();
    let encodings = tokenizer().encode_batch(texts.clone(), true).unwrap();
    let ids: Vec<&[u32]> = encodings.iter().map(|e| e.get_ids()).collect();
    assert_eq!(ids[4].len(), 256, "the long text is cut at 256 tokens");
    let got = encoder.encode(&ids).unwrap();
    assert_eq!(got.len(), texts.len());
    for ((text, got), want) in texts.iter().zip(&got).zip(&expected) {
        assert_eq!(got.len(), 384);
        let cosine: f32 = got.iter().zip(want).map(|(a, b)| a * b).sum();
        let worst = got.iter().zip(want).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        assert!(
            cosine > 0.99999 && worst < 1e-4,
            "{text:.40}: cosine {cosine}, largest difference {worst}"
        );
    }
    // Each sequence alone gives what it gives in the batch: nothing leaks between sequences.
    let alone = encoder.encode(&ids[1..2]).unwrap();
    let cosine: f32 = alone[0].iter().zip(&got[1]).map(|(a, b)| a * b).sum();
    assert!(cosine > 0.99999, "alone and batched: {cosine}");
}

#[test]
fn token_ids_and_lengths_the_model_cannot_take_are_errors() {
    let encoder = Encoder::load(&model_dir()).unwrap();
    let unknown: &[u32] = &[101, 40_000, 102];
    assert_eq!(
        encoder.encode(&[unknown]),
        Err(EncodeError::UnknownToken { id: 40_000, vocabulary: 30_522 })
    );
    let long = vec![1000u32; 513];
    assert_eq!(encoder.encode(&[&long]), Err(EncodeError::TooLong { len: 513, max: 512 }));
    assert!(encoder.encode(&[]).unwrap().is_empty());
}

#[test]
fn a_missing_or_foreign_weights_file_is_a_load_error() {
    let dir = std::env::temp_dir().join(format!("jobportal-bert-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(model_dir().join("config.json"), dir.join("config.json")).unwrap();
    let missing = Encoder::load(&dir).err().expect("no weights file");
    assert!(missing.to_string().starts_with("model.safetensors"), "{missing}");
    std::fs::write(dir.join("model.safetensors"), b"not a safetensors file").unwrap();
    let garbage = Encoder::load(&dir).err().expect("not a weights file");
    assert!(garbage.to_string().starts_with("model.safetensors"), "{garbage}");
    std::fs::remove_dir_all(&dir).unwrap();
}
