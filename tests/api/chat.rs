//! The chat model as `serve` serves it: chosen by the settings, loading in the background
//! without holding up the start, and reported truthfully by `/readyz` (loading, loaded,
//! missing with the command that fetches it, failed with the reason); once loaded it answers
//! through `Ai::chat`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use jobportal::ai::providers::chat::message::Message;
use jobportal::ai::providers::chat::provider::{ChatEvent, ChatRequest};
use jobportal::core::config::{ChatBackend, ChatSettings, ServeConfig};
use serde_json::Value;

use crate::helpers::{TestApp, spawn_app_with_chat};

fn models() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("models")
}

fn with_models(dir: &Path) -> ServeConfig {
    ServeConfig { models_dir: dir.to_owned(), ..ServeConfig::default() }
}

/// The settings of a local model on two threads (the tests share the machine).
fn local(model: Option<PathBuf>) -> ChatSettings {
    ChatSettings { backend: ChatBackend::Local { model }, threads: 2, ..ChatSettings::default() }
}

async fn chat_model(app: &TestApp) -> (u16, Value) {
    let response = app.get_readyz().await;
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    (status, body["models"]["chat"].clone())
}

/// Polls `/readyz` until the chat model leaves `loading`; returns what it became.
async fn settled(app: &TestApp) -> Value {
    let started = Instant::now();
    loop {
        let (status, chat) = chat_model(app).await;
        assert_eq!(status, 200, "the chat model never decides readiness: {chat}");
        if chat["state"] != "loading" {
            return chat;
        }
        assert!(started.elapsed() < Duration::from_secs(120), "still loading: {chat}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_models_directory_without_a_gguf_is_missing_with_the_command_that_fetches_it() {
    let empty = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(empty.path().join("llm")).unwrap();
    let app = spawn_app_with_chat(with_models(empty.path()), local(None)).await;
    let (status, chat) = chat_model(&app).await;
    assert_eq!(status, 200, "a missing chat model does not make the portal unready");
    assert_eq!(chat["state"], "missing", "{chat}");
    let detail = chat["detail"].as_str().unwrap();
    assert!(detail.contains("./scripts/models.sh") && detail.contains(".gguf"), "{detail}");
    // Asking it anyway is refused at once with the same reason.
    let model = app.ctx.ai.chat().expect("serve has a chat model");
    let refused = model.chat(ChatRequest::new(vec![Message::user("hello")])).unwrap_err();
    assert!(refused.to_string().contains("./scripts/models.sh"), "{refused}");

    // A file named explicitly that is not there is missing too, and says which.
    let named = empty.path().join("llm/Other-1B.gguf");
    let app = spawn_app_with_chat(with_models(empty.path()), local(Some(named.clone()))).await;
    let (_, chat) = chat_model(&app).await;
    assert_eq!(chat["state"], "missing", "{chat}");
    assert!(chat["detail"].as_str().unwrap().contains(&*named.to_string_lossy()), "{chat}");
}

#[tokio::test]
async fn the_real_model_loads_in_the_background_then_is_loaded_and_answers() {
    let started = Instant::now();
    let app = spawn_app_with_chat(with_models(&models()), local(None)).await;
    let (_, first) = chat_model(&app).await;
    assert!(first["state"] == "loading" || first["state"] == "loaded", "{first}");
    let chat = settled(&app).await;
    assert_eq!(chat["state"], "loaded", "{chat}");
    assert_eq!(chat["detail"], "local SmolLM2-135M-Instruct.Q4_1.gguf", "{chat}");
    assert!(started.elapsed() < Duration::from_secs(120));

    // The model the settings chose answers through the runtime the services share.
    let model = app.ctx.ai.chat().unwrap();
    let request = ChatRequest {
        params: app.ctx.ai.chat_params(),
        ..ChatRequest::new(vec![
            Message::system("Answer in one short sentence."),
            Message::user("What is the capital of France?"),
        ])
    };
    let mut stream = model.chat(request).unwrap();
    let mut text = String::new();
    loop {
        match stream.recv().await.expect("the answer ends with Finished").unwrap() {
            ChatEvent::Text(piece) => text.push_str(&piece),
            ChatEvent::Finished(generation) => {
                assert_eq!(generation.text, text);
                break;
            }
            ChatEvent::ToolCall(call) => panic!("no tools were offered: {call:?}"),
            ChatEvent::Queued(ahead) => panic!("nothing came before it, yet {ahead} did"),
        }
    }
    assert!(text.to_lowercase().contains("paris"), "{text}");
}

#[tokio::test]
async fn a_file_that_is_not_a_model_is_failed_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("llm")).unwrap();
    std::fs::write(dir.path().join("llm/notes.gguf"), "these are not weights").unwrap();
    let app = spawn_app_with_chat(with_models(dir.path()), local(None)).await;
    let chat = settled(&app).await;
    assert_eq!(chat["state"], "failed", "{chat}");
    let detail = chat["detail"].as_str().unwrap();
    assert!(
        detail.contains("notes.gguf") && detail.contains("cannot read the model file"),
        "{detail}"
    );
}

/// Commands that need no chat model (the tests' default app, like import and worker) start
/// none, and `/readyz` lists only the embedder.
#[tokio::test]
async fn an_app_without_a_chat_model_loads_none_and_reports_none() {
    let app = crate::helpers::spawn_app().await;
    assert!(app.ctx.ai.chat().is_none());
    let body: Value = app.get_readyz().await.json().await.unwrap();
    assert!(body["models"].get("chat").is_none(), "{body}");
    assert_eq!(body["models"]["embeddings"]["state"], "not_loaded", "{body}");
}
