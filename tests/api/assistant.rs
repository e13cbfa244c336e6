//! Conversations with the assistant through the real API: their life (create, list, read,
//! delete) and who may see them, messages answered by the real default chat model as JSON and
//! as server-sent events (the events in order, `done` carrying what was stored), the limits
//! (size, rate, a busy model), and the account data (export, deletion, pruning).
//!
//! The answer's wording and sources come from the assistant, which these tests do not judge:
//! they check the protocol and what is stored.

use std::path::Path;
use std::time::{Duration, Instant};

use jobportal::core::config::{
    AssistantConfig, ChatBackend, ChatDefaults, ChatSettings, Rate, RateLimitConfig, ServeConfig,
};
use serde_json::{Value, json};

use jobportal::ai::providers::chat::message::Message;
use jobportal::ai::providers::chat::provider::{ChatEvent, ChatRequest, ChatStream};
use jobportal::db::Executor;

use crate::helpers::{
    PASSWORD, TestApp, assert_error, spawn_app, spawn_app_with, spawn_app_with_chat,
};

const CONVERSATIONS: &str = "/api/v1/assistant/conversations";

/// A question the default model answers at length (hundreds of tokens, seconds of writing).
const LONG_ANSWER: &str =
    "Write a long, detailed guide on how to write a good resume and cover letter.";

fn conversation(id: &str) -> String {
    format!("{CONVERSATIONS}/{id}")
}

fn messages(id: &str) -> String {
    format!("{CONVERSATIONS}/{id}/messages")
}

/// The real default model (SmolLM2-135M) on two threads, answering at most `max_tokens`.
fn chat(max_tokens: usize, queue_size: usize) -> ChatSettings {
    ChatSettings {
        backend: ChatBackend::Local { model: None },
        defaults: ChatDefaults { max_tokens, ..ChatDefaults::default() },
        queue_size,
        threads: 2,
    }
}

fn with_models(config: ServeConfig) -> ServeConfig {
    ServeConfig { models_dir: Path::new(env!("CARGO_MANIFEST_DIR")).join("models"), ..config }
}

/// An app serving the real default chat model, once the model has loaded.
async fn app_with_model(config: ServeConfig, settings: ChatSettings) -> TestApp {
    let app = spawn_app_with_chat(with_models(config), settings).await;
    let started = Instant::now();
    loop {
        let body: Value = app.get_readyz().await.json().await.unwrap();
        let state = &body["models"]["chat"]["state"];
        if state == "loaded" {
            return app;
        }
        assert!(state == "loading", "the chat model did not load: {body}");
        assert!(started.elapsed() < Duration::from_secs(120), "still loading");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn create(app: &TestApp, token: &str) -> Value {
    let response = app.post_authed(CONVERSATIONS, token, &json!({})).await;
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

async fn get_conversation(app: &TestApp, token: &str, id: &str) -> Value {
    let response = app.get_authed(&conversation(id), token).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn post_message(app: &TestApp, token: &str, id: &str, content: &str) -> reqwest::Response {
    app.post_authed(&messages(id), token, &json!({ "content": content })).await
}

async fn post_streamed(app: &TestApp, token: &str, id: &str, content: &str) -> reqwest::Response {
    app.authed(reqwest::Method::POST, &messages(id), token)
        .header("accept", "text/event-stream")
        .json(&json!({ "content": content }))
        .send()
        .await
        .expect("request is answered")
}

/// The events of a server-sent event stream, in order: (name, data as JSON). Comments (the
/// keep-alives) are skipped.
fn parse_events(text: &str) -> Vec<(String, Value)> {
    let mut events = Vec::new();
    for block in text.split("\n\n").filter(|b| !b.trim().is_empty()) {
        let mut name = "message".to_owned();
        let mut data = Vec::new();
        for line in block.lines() {
            if let Some(value) = line.strip_prefix("event:") {
                name = value.trim().to_owned();
            } else if let Some(value) = line.strip_prefix("data:") {
                data.push(value.strip_prefix(' ').unwrap_or(value));
            } else {
                assert!(line.starts_with(':'), "not an SSE line: {line:?}");
            }
        }
        if data.is_empty() {
            continue;
        }
        let data: Value = serde_json::from_str(&data.join("\n"))
            .unwrap_or_else(|e| panic!("event {name} carries no JSON ({e}): {block}"));
        events.push((name, data));
    }
    events
}

/// Checks a stream's events: any number of `queued`, `tool`, `citation` and `token`, then
/// exactly one `done`, last. Returns the tokens joined and the `done` message.
fn check_protocol(events: &[(String, Value)]) -> (String, Value) {
    let (last, before) = events.split_last().expect("at least the done event");
    assert_eq!(last.0, "done", "the stream ends with done: {events:?}");
    let mut text = String::new();
    for (name, data) in before {
        match name.as_str() {
            "token" => text.push_str(data["text"].as_str().expect("a token's text")),
            "tool" => {
                assert!(data["name"].is_string(), "{data}");
                assert!(data.get("arguments").is_some(), "{data}");
            }
            "queued" => {
                assert!(data["ahead"].as_u64().is_some_and(|n| n > 0), "{data}");
                assert!(text.is_empty(), "queued comes before the text: {events:?}");
            }
            "citation" => {
                assert!(data["n"].is_u64(), "{data}");
                for field in ["kind", "id", "title"] {
                    assert!(data[field].is_string(), "{data}");
                }
            }
            other => panic!("unexpected event {other} before done: {events:?}"),
        }
    }
    (text, last.1.clone())
}

#[tokio::test]
async fn conversations_are_created_listed_read_and_deleted_by_their_owner_only() {
    let app = spawn_app().await;
    let ada = app.register("ada@example.com", "candidate").await;
    let bob = app.register("bob@example.com", "candidate").await;

    let created = create(&app, &ada.access).await;
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["title"], "New conversation");
    assert!(created["created_at"].is_string(), "{created}");
    let second = create(&app, &ada.access).await;

    let list: Value = app.get_authed(CONVERSATIONS, &ada.access).await.json().await.unwrap();
    assert_eq!(list["total"], 2);
    let ids: Vec<&str> =
        list["items"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [second["id"].as_str().unwrap(), id.as_str()], "newest first");
    let page: Value = app
        .get_authed(&format!("{CONVERSATIONS}?limit=1&offset=1"), &ada.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!((page["total"].as_u64(), page["limit"].as_u64()), (Some(2), Some(1)));
    assert_eq!(page["items"][0]["id"], id.as_str());
    assert_error(
        app.get_authed(&format!("{CONVERSATIONS}?limit=0"), &ada.access).await,
        400,
        "invalid_parameter",
    )
    .await;

    let read = get_conversation(&app, &ada.access, &id).await;
    assert_eq!(read["id"], id.as_str());
    assert_eq!(read["messages"], json!([]));

    // Another candidate is told it does not exist, whatever they try.
    let theirs: Value = app.get_authed(CONVERSATIONS, &bob.access).await.json().await.unwrap();
    assert_eq!(theirs["total"], 0);
    assert_error(app.get_authed(&conversation(&id), &bob.access).await, 404, "not_found").await;
    assert_error(post_message(&app, &bob.access, &id, "what did ada ask?").await, 404, "not_found")
        .await;
    assert_error(
        post_streamed(&app, &bob.access, &id, "what did ada ask?").await,
        404,
        "not_found",
    )
    .await;
    assert_error(app.delete_authed(&conversation(&id), &bob.access, None).await, 404, "not_found")
        .await;
    assert_eq!(get_conversation(&app, &ada.access, &id).await["messages"], json!([]));

    // Employers and admins have no assistant yet.
    let employer = app.register("erin@example.com", "employer").await;
    let admin = app.admin("root@example.com").await;
    for account in [&employer, &admin] {
        assert_error(
            app.post_authed(CONVERSATIONS, &account.access, &json!({})).await,
            403,
            "forbidden",
        )
        .await;
        assert_error(app.get_authed(CONVERSATIONS, &account.access).await, 403, "forbidden").await;
        assert_error(app.get_authed(&conversation(&id), &account.access).await, 403, "forbidden")
            .await;
    }

    // Without a token: 401 everywhere.
    for response in [
        app.get(CONVERSATIONS).await,
        app.post_json(CONVERSATIONS, &json!({})).await,
        app.get(&conversation(&id)).await,
        app.post_json(&messages(&id), &json!({ "content": "hi" })).await,
        app.client.delete(app.url(&conversation(&id))).send().await.unwrap(),
    ] {
        assert_error(response, 401, "unauthorized").await;
    }

    let deleted = app.delete_authed(&conversation(&id), &ada.access, None).await;
    assert_eq!(deleted.status(), 204);
    assert_error(app.get_authed(&conversation(&id), &ada.access).await, 404, "not_found").await;
    assert_error(app.delete_authed(&conversation(&id), &ada.access, None).await, 404, "not_found")
        .await;
    let list: Value = app.get_authed(CONVERSATIONS, &ada.access).await.json().await.unwrap();
    assert_eq!(list["total"], 1);
}

#[tokio::test]
async fn a_failed_answer_keeps_the_question_stores_no_answer_and_names_the_conversation() {
    // No chat model runs in this app: every answer fails with model_unavailable.
    let app = spawn_app().await;
    let ada = app.register("ada@example.com", "candidate").await;
    let id = create(&app, &ada.access).await["id"].as_str().unwrap().to_owned();
    let question = "  Which remote Rust jobs are there\nfor a junior developer?  ";
    assert_error(post_message(&app, &ada.access, &id, question).await, 503, "model_unavailable")
        .await;
    // Streamed, the same error is a plain JSON error, not a 200 stream.
    assert_error(
        post_streamed(&app, &ada.access, &id, "and in Berlin?").await,
        503,
        "model_unavailable",
    )
    .await;
    let read = get_conversation(&app, &ada.access, &id).await;
    assert_eq!(read["title"], "Which remote Rust jobs are there");
    let stored = read["messages"].as_array().unwrap();
    assert_eq!(stored.len(), 2, "{read}");
    assert!(stored.iter().all(|m| m["role"] == "user"), "{read}");
    assert_eq!(stored[0]["content"], question.trim());
    assert_eq!(stored[1]["content"], "and in Berlin?");
}

#[tokio::test]
async fn empty_or_oversized_messages_are_refused_and_nothing_is_stored() {
    let config = ServeConfig {
        assistant: AssistantConfig { max_message_chars: 50 },
        ..ServeConfig::default()
    };
    let app = spawn_app_with(config).await;
    let ada = app.register("ada@example.com", "candidate").await;
    let id = create(&app, &ada.access).await["id"].as_str().unwrap().to_owned();
    for empty in ["", "   \n\t "] {
        assert_error(post_message(&app, &ada.access, &id, empty).await, 422, "validation_failed")
            .await;
    }
    let message = assert_error(
        post_message(&app, &ada.access, &id, &"a".repeat(51)).await,
        422,
        "message_too_long",
    )
    .await;
    assert!(message.contains("50"), "{message}");
    // Streamed, the refusal is the same plain JSON error.
    assert_error(
        post_streamed(&app, &ada.access, &id, &"a".repeat(51)).await,
        422,
        "message_too_long",
    )
    .await;
    assert_error(
        app.post_authed(
            &messages(&id),
            &ada.access,
            &json!({ "content": "hi", "role": "assistant" }),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(get_conversation(&app, &ada.access, &id).await["messages"], json!([]));
    // The limit counts characters, not bytes: 50 of them fit (and reach the missing model).
    assert_error(
        post_message(&app, &ada.access, &id, &"é".repeat(50)).await,
        503,
        "model_unavailable",
    )
    .await;
}

#[tokio::test]
async fn messages_past_the_per_user_limit_are_429_with_retry_after() {
    let config = ServeConfig {
        rate_limits: RateLimitConfig {
            assistant_per_user: Rate::new(3, Duration::from_secs(3600)),
            ..RateLimitConfig::default()
        },
        ..ServeConfig::default()
    };
    let app = spawn_app_with(config).await;
    let ada = app.register("ada@example.com", "candidate").await;
    let bob = app.register("bob@example.com", "candidate").await;
    let id = create(&app, &ada.access).await["id"].as_str().unwrap().to_owned();
    let bobs = create(&app, &bob.access).await["id"].as_str().unwrap().to_owned();
    for _ in 0..3 {
        assert_error(post_message(&app, &ada.access, &id, "").await, 422, "validation_failed")
            .await;
    }
    for response in [
        post_message(&app, &ada.access, &id, "").await,
        post_streamed(&app, &ada.access, &id, "hi").await,
    ] {
        let retry_after: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=3600).contains(&retry_after), "{retry_after}");
        assert_error(response, 429, "rate_limited").await;
    }
    // The limit is per user.
    assert_error(post_message(&app, &bob.access, &bobs, "").await, 422, "validation_failed").await;
    // Reading is not limited.
    get_conversation(&app, &ada.access, &id).await;
}

#[tokio::test]
async fn a_streamed_answer_is_events_in_order_ending_with_done_which_is_what_is_stored() {
    let app = app_with_model(ServeConfig::default(), chat(48, 4)).await;
    let ada = app.register("ada@example.com", "candidate").await;
    let id = create(&app, &ada.access).await["id"].as_str().unwrap().to_owned();

    let response = post_streamed(&app, &ada.access, &id, "Hello! What can you help me with?").await;
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("text/event-stream"), "{content_type}");
    let events = parse_events(&response.text().await.unwrap());
    let (text, done) = check_protocol(&events);
    assert_eq!(done["role"], "assistant");
    assert_eq!(done["content"], text.as_str(), "done carries the text the tokens spelled");
    assert!(!text.is_empty(), "the model said nothing: {events:?}");
    for (name, data) in &events {
        if name == "citation" {
            assert!(done["citations"].as_array().unwrap().contains(data), "{done}");
        }
    }

    let read = get_conversation(&app, &ada.access, &id).await;
    assert_eq!(read["title"], "Hello! What can you help me with?");
    let stored = read["messages"].as_array().unwrap();
    assert_eq!(stored.len(), 2, "{read}");
    assert_eq!(stored[0]["role"], "user");
    assert_eq!(stored[0]["content"], "Hello! What can you help me with?");
    assert_eq!(stored[1], done, "done is the stored message");

    // The JSON variant answers the stored message too, after the conversation so far.
    let response =
        post_message(&app, &ada.access, &id, "Thanks. And how do I apply to a job?").await;
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
    let body: Value = response.json().await.unwrap();
    let message = &body["message"];
    assert_eq!(message["role"], "assistant");
    assert!(message["content"].is_string() && message["id"].is_string(), "{body}");
    assert!(message["citations"].is_array() && message["tool_calls"].is_array(), "{body}");
    let read = get_conversation(&app, &ada.access, &id).await;
    let stored = read["messages"].as_array().unwrap();
    assert_eq!(stored.len(), 4, "{read}");
    assert_eq!(stored[2]["content"], "Thanks. And how do I apply to a job?");
    assert_eq!(&stored[3], message);
    assert_eq!(read["title"], "Hello! What can you help me with?", "the first message names it");
    let list: Value = app.get_authed(CONVERSATIONS, &ada.access).await.json().await.unwrap();
    let time = |field: &str| {
        chrono::DateTime::parse_from_rfc3339(list["items"][0][field].as_str().unwrap()).unwrap()
    };
    assert!(time("updated_at") > time("created_at"), "a message makes it active: {list}");
}

#[tokio::test]
async fn a_client_that_goes_away_leaves_what_was_written_stored() {
    let app = app_with_model(ServeConfig::default(), chat(300, 4)).await;
    let ada = app.register("ada@example.com", "candidate").await;
    // A question with a long answer (about four seconds of writing here).
    let question = LONG_ANSWER;
    // The whole answer (the same every time: the temperature is 0).
    let whole_id = create(&app, &ada.access).await["id"].as_str().unwrap().to_owned();
    let response = post_message(&app, &ada.access, &whole_id, question).await;
    assert_eq!(response.status(), 200);
    let whole: Value = response.json().await.unwrap();
    let whole = whole["message"]["content"].as_str().unwrap().to_owned();

    let id = create(&app, &ada.access).await["id"].as_str().unwrap().to_owned();
    let mut response = post_streamed(&app, &ada.access, &id, question).await;
    assert_eq!(response.status(), 200);
    let mut received = String::new();
    while !received.contains("event: token") {
        let chunk = response.chunk().await.unwrap().expect("a token before the end");
        received.push_str(&String::from_utf8_lossy(&chunk));
    }
    drop(response);

    let started = Instant::now();
    let stored = loop {
        let read = get_conversation(&app, &ada.access, &id).await;
        if read["messages"].as_array().unwrap().len() == 2 {
            break read["messages"].clone();
        }
        assert!(started.elapsed() < Duration::from_secs(60), "the answer was not stored: {read}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let partial = stored[1]["content"].as_str().unwrap();
    assert_eq!(stored[1]["role"], "assistant");
    // Each answer quotes its documents between delimiters of its own, so the model's words may
    // differ from one answer to the next (stopping a generation whose reader went away is
    // tested on the model itself): what the client received before it left is the start of
    // what was stored.
    let complete = &received[..received.rfind("\n\n").map_or(0, |i| i + 2)];
    let received: String = parse_events(complete)
        .iter()
        .filter(|(event, _)| event == "token")
        .map(|(_, data)| data["text"].as_str().unwrap().to_owned())
        .collect();
    assert!(!received.is_empty() && !whole.is_empty());
    assert!(
        partial.starts_with(&received),
        "what was sent is the start of what was stored:\n{received:?}\n{partial:?}"
    );
}

/// A long answer for someone else, asked of the idle chat model directly: once this returns,
/// its first piece has come and the model is writing the rest.
async fn long_answer_started(app: &TestApp) -> ChatStream {
    let model = app.ctx.ai.chat().expect("the chat model is started");
    let mut request = ChatRequest::new(vec![Message::user(LONG_ANSWER)]);
    request.params = app.ctx.ai.chat_params();
    let mut running = model.chat(request).expect("an idle model takes the first answer");
    match running.recv().await {
        Some(Ok(ChatEvent::Text(_))) => {}
        other => panic!("the long answer did not start: {other:?}"),
    }
    running
}

#[tokio::test]
async fn a_busy_model_answers_503_model_busy_with_retry_after_and_never_hangs() {
    // No answer may wait: while the model writes, a question that needs it is refused at once.
    let app = app_with_model(ServeConfig::default(), chat(300, 0)).await;
    let bob = app.register("bob@example.com", "candidate").await;
    let id = create(&app, &bob.access).await["id"].as_str().unwrap().to_owned();
    // Messages are routed to tools by the embedding model.
    assert_eq!(app.ctx.ai.load_embedder().await.name(), "loaded");

    // The model is writing a long answer for someone else.
    let mut running = long_answer_started(&app).await;
    // A search's filters are filled by the model: the question needs it.
    let question = "Find data analyst jobs in London";
    for response in [
        post_message(&app, &bob.access, &id, question).await,
        post_streamed(&app, &bob.access, &id, question).await,
    ] {
        assert_eq!(response.headers()["retry-after"], "5");
        assert_error(response, 503, "model_busy").await;
    }
    let mut finished = false;
    while let Some(event) = running.recv().await {
        finished |= matches!(event, Ok(ChatEvent::Finished(_)));
    }
    assert!(finished, "the running answer ends normally");
    // The refused questions stay, unanswered.
    let read = get_conversation(&app, &bob.access, &id).await;
    let stored = read["messages"].as_array().unwrap();
    assert!(stored.iter().all(|m| m["role"] == "user") && stored.len() == 2, "{read}");
    // Once it is free, the model answers.
    let response = post_message(&app, &bob.access, &id, question).await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
}

#[tokio::test]
async fn an_answer_that_waits_for_the_model_streams_its_place_then_the_answer() {
    let app = app_with_model(ServeConfig::default(), chat(300, 2)).await;
    let bob = app.register("bob@example.com", "candidate").await;
    let id = create(&app, &bob.access).await["id"].as_str().unwrap().to_owned();
    assert_eq!(app.ctx.ai.load_embedder().await.name(), "loaded");

    // The model is writing a long answer for someone else.
    let mut running = long_answer_started(&app).await;
    // A search's filters are filled by the model: the question waits behind the long answer
    // and says so before anything else.
    let mut response = post_streamed(&app, &bob.access, &id, "Find data analyst jobs").await;
    assert_eq!(response.status(), 200);
    let mut received = String::new();
    while !received.contains("\n\n") {
        let chunk = response.chunk().await.unwrap().expect("the stream goes on");
        received.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    let first = parse_events(&received);
    assert_eq!(first.first().map(|e| e.0.as_str()), Some("queued"), "{received}");
    assert_eq!(first[0].1, json!({"ahead": 1}));
    // The long answer goes on to its end; then the question is answered.
    while running.recv().await.is_some() {}
    while let Some(chunk) = response.chunk().await.unwrap() {
        received.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    let events = parse_events(&received);
    let (_, done) = check_protocol(&events);
    assert_eq!(done["role"], "assistant", "{done}");
    assert!(!done["content"].as_str().unwrap().is_empty(), "{done}");
    assert_eq!(events.iter().filter(|e| e.0 == "queued").count(), 1, "{events:?}");
}

#[tokio::test]
async fn conversations_are_exported_deleted_with_the_account_and_pruned_when_old() {
    let app = spawn_app().await;
    let ada = app.register("ada@example.com", "candidate").await;
    let bob = app.register("bob@example.com", "candidate").await;
    let id = create(&app, &ada.access).await["id"].as_str().unwrap().to_owned();
    // The question is stored though no model answers it here.
    assert_error(
        post_message(&app, &ada.access, &id, "Rust jobs in Lisbon?").await,
        503,
        "model_unavailable",
    )
    .await;
    let bobs = create(&app, &bob.access).await["id"].as_str().unwrap().to_owned();

    let export: Value =
        app.get_authed("/api/v1/users/me/export", &ada.access).await.json().await.unwrap();
    let exported = export["conversations"].as_array().unwrap();
    assert_eq!(exported.len(), 1, "only the caller's: {export}");
    assert_eq!(exported[0]["id"], id.as_str());
    assert_eq!(exported[0]["title"], "Rust jobs in Lisbon?");
    assert_eq!(exported[0]["messages"][0]["content"], "Rust jobs in Lisbon?");
    assert_eq!(exported[0], get_conversation(&app, &ada.access, &id).await);

    let deleted = app
        .delete_authed("/api/v1/users/me", &ada.access, Some(&json!({ "password": PASSWORD })))
        .await;
    assert_eq!(deleted.status(), 204);
    let count = |table: &'static str| {
        let db = app.db.clone();
        async move {
            let mut response =
                db.query(format!("SELECT count() AS n FROM {table} GROUP ALL")).await.unwrap();
            let row: Option<Value> = response.take(0).unwrap();
            row.map_or(0, |r| r["n"].as_u64().unwrap())
        }
    };
    assert_eq!(count("conversation").await, 1, "only bob's is left");
    assert_eq!(count("conversation_message").await, 0, "ada's messages went with her");
    get_conversation(&app, &bob.access, &bobs).await;

    // Pruning: a conversation quiet for longer than the retention goes, with its messages.
    let carol = app.register("carol@example.com", "candidate").await;
    let old = create(&app, &carol.access).await["id"].as_str().unwrap().to_owned();
    assert_error(
        post_message(&app, &carol.access, &old, "old question").await,
        503,
        "model_unavailable",
    )
    .await;
    let recent = create(&app, &carol.access).await["id"].as_str().unwrap().to_owned();
    app.db
        .query("UPDATE type::record('conversation', $id) SET updated_at = time::now() - 200d")
        .bind(("id", old.clone()))
        .await
        .unwrap()
        .check()
        .unwrap();
    let prune = jobportal::services::housekeeping::prune;
    let kept = Duration::from_secs(180 * 86_400);
    assert_eq!(prune(&app.ctx, None).await.unwrap().conversations, 0, "no retention: all kept");
    assert_eq!(prune(&app.ctx, Some(kept)).await.unwrap().conversations, 1);
    assert_eq!(prune(&app.ctx, Some(kept)).await.unwrap().conversations, 0, "twice: no more");
    assert_error(app.get_authed(&conversation(&old), &carol.access).await, 404, "not_found").await;
    assert_eq!(count("conversation_message").await, 0, "its messages went with it");
    get_conversation(&app, &carol.access, &recent).await;
    get_conversation(&app, &bob.access, &bobs).await;
}

#[tokio::test]
async fn a_message_keeps_its_citations_tool_steps_and_pending_write_as_stored() {
    use jobportal::models::conversation::MessageRole;
    use jobportal::models::conversation::{Citation, CitationKind, PendingAction, ToolStep};
    use jobportal::repositories::conversations::{self, NewMessage};

    let app = spawn_app().await;
    let ada = app.register("ada@example.com", "candidate").await;
    let id = create(&app, &ada.access).await["id"].as_str().unwrap().to_owned();
    let citations = vec![
        Citation { n: 1, kind: CitationKind::Job, id: "j1".into(), title: "Rust Developer".into() },
        Citation {
            n: 2,
            kind: CitationKind::Help,
            id: "applying".into(),
            title: "Applying".into(),
        },
    ];
    let tool_calls = vec![
        ToolStep {
            name: "search_jobs".into(),
            arguments: json!({ "q": "rust", "workplace": ["remote"], "salary": { "min": 50000 } }),
        },
        ToolStep { name: "my_applications".into(), arguments: json!({}) },
    ];
    let pending = PendingAction {
        tool: "save_job".into(),
        arguments: json!({ "job_id": "j1", "note": { "why": ["rust", 1] } }),
        summary: "Save Rust Developer?".into(),
    };
    let stored = conversations::insert_message(
        &app.db,
        "m1",
        &id,
        &NewMessage {
            role: MessageRole::Assistant,
            content: "Two jobs match [1].",
            citations: &citations,
            tool_calls: &tool_calls,
            pending_action: Some(&pending),
        },
    )
    .await
    .unwrap();
    assert_eq!(stored.citations, citations);
    assert_eq!(stored.tool_calls, tool_calls);
    assert_eq!(stored.pending_action.as_ref(), Some(&pending));
    let read = conversations::messages(&app.db, &id).await.unwrap();
    assert_eq!(read, std::slice::from_ref(&stored));

    let body = get_conversation(&app, &ada.access, &id).await;
    let message = &body["messages"][0];
    assert_eq!(
        message["citations"][1],
        json!({ "n": 2, "kind": "help", "id": "applying", "title": "Applying" })
    );
    assert_eq!(message["tool_calls"][0]["arguments"]["salary"]["min"], 50000);
    assert_eq!(message["pending_action"]["arguments"]["note"]["why"], json!(["rust", 1]));
    assert_eq!(message["pending_action"]["summary"], "Save Rust Developer?");
    // Without a pending write, the field is left out.
    let plain = conversations::insert_message(
        &app.db,
        "m2",
        &id,
        &NewMessage {
            role: MessageRole::User,
            content: "yes",
            citations: &[],
            tool_calls: &[],
            pending_action: None,
        },
    )
    .await
    .unwrap();
    assert_eq!(plain.pending_action, None);
    let body = get_conversation(&app, &ada.access, &id).await;
    assert!(body["messages"][1].get("pending_action").is_none(), "{body}");
}
