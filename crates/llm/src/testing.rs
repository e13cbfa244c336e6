//! Where the tests find the real models: `JOBPORTAL_MODELS_DIR`, or `models/` at the top of
//! the repository (`./scripts/models.sh` fetches them).

use std::path::PathBuf;

pub fn models_dir() -> PathBuf {
    std::env::var_os("JOBPORTAL_MODELS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models"))
}

/// The small default chat model.
pub fn smollm2() -> PathBuf {
    models_dir().join("llm/SmolLM2-135M-Instruct.Q4_1.gguf")
}

/// SmolLM2's tokenizer alone, from its GGUF's metadata (no weights read).
pub fn smollm2_tokenizer() -> crate::tokenizer::ChatTokenizer {
    let path = smollm2();
    let mut file = std::fs::File::open(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run ./scripts/models.sh)", path.display()));
    let content = candle_core::quantized::gguf_file::Content::read(&mut file)
        .expect("the GGUF's metadata reads");
    crate::tokenizer::ChatTokenizer::from_gguf(&content).expect("the tokenizer builds")
}
