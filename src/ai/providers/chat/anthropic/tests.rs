//! The Anthropic provider against a loopback server speaking the Messages API's streaming
//! events as Anthropic documents them (`ping`s and `error`s included).

use std::time::Duration;

use serde_json::{Value, json};

use super::*;
use crate::ai::providers::chat::provider::ChatEvent;
use crate::ai::providers::chat::test_server::{
    Ending, Reply, TestServer, collect, finished, texts, weather_tool,
};
use crate::ai::providers::chat::types::{GenerationParams, OutputFormat};
use crate::core::config::Secret;

const KEY: &str = "sk-ant-test-0123456789";

fn config(base_url: String, timeout: Duration) -> RemoteConfig {
    RemoteConfig {
        base_url,
        model: "claude-haiku-4-5".into(),
        api_key: Some(Secret::new(KEY)),
        timeout,
    }
}

async fn provider(replies: Vec<Reply>) -> (TestServer, AnthropicChat) {
    let server = TestServer::start(replies).await;
    let chat = AnthropicChat::new(config(server.url.clone(), Duration::from_secs(5))).unwrap();
    (server, chat)
}

/// One named event, as the Messages stream sends it.
fn event(data: Value) -> String {
    format!("event: {}\ndata: {data}\n\n", data["type"].as_str().unwrap())
}

fn message_start(input_tokens: u64) -> String {
    event(json!({
        "type": "message_start",
        "message": {
            "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
            "type": "message",
            "role": "assistant",
            "content": [],
            "model": "claude-haiku-4-5-20251001",
            "stop_reason": null,
            "stop_sequence": null,
            "usage": {"input_tokens": input_tokens, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, "output_tokens": 1},
        },
    }))
}

fn ping() -> String {
    event(json!({"type": "ping"}))
}

fn text_block(index: u64, pieces: &[&str]) -> Vec<String> {
    let mut events = vec![event(
        json!({"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}}),
    )];
    events.extend(pieces.iter().map(|text| {
        event(json!({"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": text}}))
    }));
    events.push(event(json!({"type": "content_block_stop", "index": index})));
    events
}

fn tool_block(index: u64, id: &str, name: &str, fragments: &[&str]) -> Vec<String> {
    let start = json!({
        "type": "content_block_start",
        "index": index,
        "content_block": {"type": "tool_use", "id": id, "name": name, "input": {}},
    });
    let mut events = vec![event(start)];
    events.extend(fragments.iter().map(|fragment| {
        event(json!({
            "type": "content_block_delta",
            "index": index,
            "delta": {"type": "input_json_delta", "partial_json": fragment},
        }))
    }));
    events.push(event(json!({"type": "content_block_stop", "index": index})));
    events
}

fn message_end(stop_reason: &str, output_tokens: u64) -> Vec<String> {
    vec![
        event(json!({
            "type": "message_delta",
            "delta": {"stop_reason": stop_reason, "stop_sequence": null},
            "usage": {"output_tokens": output_tokens},
        })),
        event(json!({"type": "message_stop"})),
    ]
}

fn text_answer(pieces: &[&str]) -> Vec<String> {
    let mut events = vec![message_start(25)];
    let mut block = text_block(0, pieces);
    block.insert(1, ping());
    events.extend(block);
    events.extend(message_end("end_turn", 15));
    events
}

#[tokio::test]
async fn a_streamed_answer_comes_in_pieces_with_its_usage_and_the_request_is_right() {
    let (server, chat) = provider(vec![Reply::events(&text_answer(&["Hel", "lo", "!"]))]).await;
    let mut request = ChatRequest::new(vec![
        Message::system("Be brief."),
        Message::system("Answer in English."),
        Message::user("Hi"),
    ]);
    request.params = GenerationParams {
        max_tokens: 64,
        temperature: 0.5,
        top_p: 0.9,
        top_k: 40,
        seed: 7,
        stop: vec!["END".into()],
        ..GenerationParams::default()
    };
    let (events, error) = collect(chat.chat(request).unwrap()).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(texts(&events), ["Hel", "lo", "!"]);
    let generation = finished(&events);
    assert_eq!(generation.text, "Hello!");
    assert_eq!(generation.finish, FinishReason::Stop);
    assert_eq!((generation.prompt_tokens, generation.generated_tokens), (25, 15));
    assert!(generation.seconds >= generation.first_token_seconds);

    let received = server.received();
    assert_eq!(received.len(), 1);
    let request = &received[0];
    assert_eq!(request.path, "/v1/messages");
    assert_eq!(request.header("x-api-key"), Some(KEY));
    assert_eq!(request.header("authorization"), None);
    assert_eq!(request.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(
        request.body,
        json!({
            "model": "claude-haiku-4-5",
            "max_tokens": 64,
            "stream": true,
            "system": "Be brief.\n\nAnswer in English.",
            "messages": [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}],
            "top_p": 0.9,
            "top_k": 40,
            "stop_sequences": ["END"],
        })
    );
}

#[tokio::test]
async fn a_tool_use_streamed_in_fragments_comes_whole_with_parsed_input() {
    let mut stream = vec![message_start(472)];
    stream.extend(text_block(0, &["Let me check."]));
    stream.extend(tool_block(
        1,
        "toolu_01T1x1fJ34qAmk2tNTrN7Up6",
        "get_weather",
        &["", "{\"ci", "ty\": \"Pa", "ris\"}"],
    ));
    stream.insert(6, ping());
    stream.extend(message_end("tool_use", 89));
    let (server, chat) = provider(vec![Reply::events(&stream)]).await;
    let mut request = ChatRequest::new(vec![Message::user("Weather in Paris?")]);
    request.tools = vec![weather_tool()];
    // The model must call one of the tools.
    request.format = OutputFormat::ToolCalls;
    let (events, error) = collect(chat.chat(request).unwrap()).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(server.received()[0].body["tool_choice"], json!({"type": "any"}));
    assert_eq!(
        events[..2],
        [
            ChatEvent::Text("Let me check.".into()),
            ChatEvent::ToolCall(ToolCall {
                id: "toolu_01T1x1fJ34qAmk2tNTrN7Up6".into(),
                name: "get_weather".into(),
                arguments: json!({"city": "Paris"}),
            }),
        ]
    );
    let generation = finished(&events);
    assert_eq!(generation.finish, FinishReason::ToolCalls);
    assert_eq!((generation.prompt_tokens, generation.generated_tokens), (472, 89));
    assert_eq!(
        server.received()[0].body["tools"],
        json!([{
            "name": "get_weather",
            "description": "The current weather in a city",
            "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        }])
    );
}

#[tokio::test]
async fn a_follow_up_pairs_tool_use_and_results_in_one_user_turn() {
    let (server, chat) =
        provider(vec![Reply::events(&text_answer(&["Paris 18°C, Oslo 4°C."]))]).await;
    let call = |id: &str, city: &str| ToolCall {
        id: id.into(),
        name: "get_weather".into(),
        arguments: json!({"city": city}),
    };
    let assistant = Message {
        tool_calls: vec![call("toolu_1", "Paris"), call("toolu_2", "Oslo")],
        ..Message::assistant("Let me check.")
    };
    let mut request = ChatRequest::new(vec![
        Message::system("Be brief."),
        Message::user("Weather in Paris and Oslo?"),
        assistant,
        Message::tool("toolu_1", "18°C"),
        Message::tool("toolu_2", "4°C"),
        Message::user("In one line, please."),
    ]);
    request.tools = vec![weather_tool()];
    let (events, error) = collect(chat.chat(request).unwrap()).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(finished(&events).text, "Paris 18°C, Oslo 4°C.");
    let body = &server.received()[0].body;
    assert_eq!(body["system"], "Be brief.");
    assert_eq!(
        body["messages"],
        json!([
            {"role": "user", "content": [{"type": "text", "text": "Weather in Paris and Oslo?"}]},
            {"role": "assistant", "content": [
                {"type": "text", "text": "Let me check."},
                {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}},
                {"type": "tool_use", "id": "toolu_2", "name": "get_weather", "input": {"city": "Oslo"}},
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "18°C"},
                {"type": "tool_result", "tool_use_id": "toolu_2", "content": "4°C"},
                {"type": "text", "text": "In one line, please."},
            ]},
        ])
    );
}

#[tokio::test]
async fn a_stream_cut_before_message_stop_is_an_error_not_a_finish() {
    let mut pieces = text_answer(&["Hel", "lo"]);
    pieces.truncate(5);
    for ending in [Ending::Cut, Ending::Complete] {
        let (_server, chat) =
            provider(vec![Reply::Events { pieces: pieces.clone(), ending }]).await;
        let (events, error) =
            collect(chat.chat(ChatRequest::new(vec![Message::user("Hi")])).unwrap()).await;
        assert_eq!(texts(&events), ["Hel", "lo"]);
        assert!(!events.iter().any(|event| matches!(event, ChatEvent::Finished(_))));
        assert!(
            matches!(error, Some(ChatError::Interrupted { provider: "anthropic", .. })),
            "{ending:?}: {error:?}"
        );
    }
}

#[tokio::test]
async fn an_error_event_ends_the_answer_with_its_message() {
    let mut stream = text_answer(&["Hel"]);
    stream.truncate(4);
    stream.push(event(
        json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
    ));
    let (_server, chat) =
        provider(vec![Reply::Events { pieces: stream, ending: Ending::Stall }]).await;
    let (events, error) =
        collect(chat.chat(ChatRequest::new(vec![Message::user("Hi")])).unwrap()).await;
    assert_eq!(texts(&events), ["Hel"]);
    let Some(ChatError::Interrupted { message, .. }) = error else { panic!("{error:?}") };
    assert_eq!(message, "overloaded_error: Overloaded");
}

fn anthropic_error(kind: &str, message: &str) -> String {
    json!({"type": "error", "error": {"type": kind, "message": message}, "request_id": "req_011CSHoEeqs5C35K2UUqR7Fy"})
        .to_string()
}

#[tokio::test]
async fn refusals_become_errors_with_the_providers_message() {
    let replies = vec![
        Reply::error(401, vec![], &anthropic_error("authentication_error", "invalid x-api-key")),
        Reply::error(
            429,
            vec![("retry-after", "12".into())],
            &anthropic_error(
                "rate_limit_error",
                "Number of request tokens has exceeded your per-minute rate limit",
            ),
        ),
        Reply::error(529, vec![], &anthropic_error("overloaded_error", "Overloaded")),
        Reply::error(500, vec![], &anthropic_error("api_error", "Internal server error")),
        Reply::error(
            400,
            vec![],
            &anthropic_error("invalid_request_error", "max_tokens: Field required"),
        ),
        Reply::error(
            403,
            vec![],
            &anthropic_error("permission_error", "Your API key does not have permission"),
        ),
    ];
    let (_server, chat) = provider(replies).await;
    let mut errors = Vec::new();
    for _ in 0..6 {
        let (events, error) =
            collect(chat.chat(ChatRequest::new(vec![Message::user("Hi")])).unwrap()).await;
        assert!(events.is_empty());
        errors.push(error.expect("an error"));
    }
    let [unauthorized, limited, overloaded, failed, rejected, forbidden] = &errors[..] else {
        unreachable!()
    };
    assert!(matches!(
        unauthorized,
        ChatError::Unauthorized { provider: "anthropic", status: 401, message }
            if message == "authentication_error: invalid x-api-key"
    ));
    assert_eq!(limited.retry_after(), Some(Duration::from_secs(12)));
    assert!(
        matches!(limited, ChatError::RateLimited { message, .. } if message.contains("per-minute rate limit"))
    );
    assert!(matches!(
        overloaded,
        ChatError::ProviderFailed { status: 529, message, .. } if message == "overloaded_error: Overloaded"
    ));
    assert_eq!(overloaded.provider_status(), Some(529));
    assert!(matches!(failed, ChatError::ProviderFailed { status: 500, .. }));
    assert!(matches!(
        rejected,
        ChatError::Rejected { status: 400, message, .. } if message == "invalid_request_error: max_tokens: Field required"
    ));
    assert!(matches!(forbidden, ChatError::Unauthorized { status: 403, .. }));
}

#[tokio::test]
async fn a_server_that_does_not_answer_or_stalls_times_out() {
    let mut pieces = text_answer(&["Hel", "lo"]);
    pieces.truncate(4);
    let server =
        TestServer::start(vec![Reply::Silent, Reply::Events { pieces, ending: Ending::Stall }])
            .await;
    let timeout = Duration::from_millis(300);
    let chat = AnthropicChat::new(config(server.url.clone(), timeout)).unwrap();
    for expected_texts in [vec![], vec!["Hel"]] {
        let (events, error) =
            collect(chat.chat(ChatRequest::new(vec![Message::user("Hi")])).unwrap()).await;
        assert_eq!(texts(&events), expected_texts);
        assert!(
            matches!(error, Some(ChatError::TimedOut { provider: "anthropic", after }) if after == timeout),
            "{error:?}"
        );
    }
}

#[tokio::test]
async fn dropping_the_stream_closes_the_connection() {
    let (gone, went) = tokio::sync::oneshot::channel();
    let piece = event(
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "more "}}),
    );
    let (_server, chat) = provider(vec![Reply::Endless { piece, gone }]).await;
    let mut stream = chat.chat(ChatRequest::new(vec![Message::user("Go on forever")])).unwrap();
    let first = tokio::time::timeout(Duration::from_secs(5), stream.recv()).await.unwrap();
    assert!(matches!(first, Some(Ok(ChatEvent::Text(_)))), "{first:?}");
    drop(stream);
    tokio::time::timeout(Duration::from_secs(5), went)
        .await
        .expect("the server saw its client go within 5 s")
        .unwrap();
}

#[tokio::test]
async fn a_json_schema_is_asked_as_structured_output_and_streams_through() {
    let schema = json!({
        "type": "object",
        "properties": {"title": {"type": "string"}},
        "required": ["title"],
        "additionalProperties": false,
    });
    let mut stream = vec![message_start(30)];
    stream.extend(text_block(0, &["{\"title\"", ": \"Chef\"}"]));
    stream.extend(message_end("end_turn", 9));
    let (server, chat) = provider(vec![Reply::events(&stream)]).await;
    let mut request = ChatRequest::new(vec![Message::user("The job as JSON")]);
    request.format = OutputFormat::JsonSchema(schema.clone());
    let (events, error) = collect(chat.chat(request).unwrap()).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(texts(&events).len(), 2);
    assert_eq!(
        serde_json::from_str::<Value>(&finished(&events).text).unwrap(),
        json!({"title": "Chef"})
    );
    let body = &server.received()[0].body;
    assert_eq!(body["output_config"], json!({"format": {"type": "json_schema", "schema": schema}}));
    assert!(body.get("tool_choice").is_none());
}

#[tokio::test]
async fn a_choice_is_asked_as_a_wrapped_enum_and_unwrapped() {
    let mut stream = vec![message_start(30)];
    stream.extend(text_block(0, &["{\"value\": ", "\"yes\"}"]));
    stream.extend(message_end("end_turn", 6));
    let (server, chat) = provider(vec![Reply::events(&stream)]).await;
    let mut request = ChatRequest::new(vec![Message::user("Is it remote?")]);
    request.format = OutputFormat::Choice(vec!["yes".into(), "no".into()]);
    let (events, error) = collect(chat.chat(request).unwrap()).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(texts(&events), ["yes"]);
    assert_eq!(finished(&events).text, "yes");
    assert_eq!(
        server.received()[0].body["output_config"]["format"]["schema"],
        json!({
            "type": "object",
            "properties": {"value": {"type": "string", "enum": ["yes", "no"]}},
            "required": ["value"],
            "additionalProperties": false,
        })
    );
}

#[tokio::test]
async fn describe_and_debug_never_show_the_key() {
    let chat =
        AnthropicChat::new(config(ANTHROPIC_BASE_URL.into(), Duration::from_secs(30))).unwrap();
    assert_eq!(chat.describe(), "anthropic claude-haiku-4-5 at https://api.anthropic.com");
    assert_eq!(chat.state(), ChatModelState::Ready);
    let debug = format!("{chat:?}");
    assert!(!debug.contains(KEY) && debug.contains("redacted"), "{debug}");
    assert!(debug.contains("https://api.anthropic.com/v1/messages"), "{debug}");
    // A base URL with the version is taken as it is.
    let versioned =
        AnthropicChat::new(config("https://api.anthropic.com/v1/".into(), Duration::from_secs(30)))
            .unwrap();
    assert!(format!("{versioned:?}").contains("\"https://api.anthropic.com/v1/messages\""));
}

#[tokio::test]
async fn requests_the_api_cannot_take_are_refused_before_sending() {
    let (server, chat) = provider(vec![]).await;
    let mut no_tokens = ChatRequest::new(vec![Message::user("Hi")]);
    no_tokens.params.max_tokens = 0;
    let bad_call = ToolCall { id: "toolu_1".into(), name: "f".into(), arguments: json!([1]) };
    let not_an_object = ChatRequest::new(vec![
        Message::user("Hi"),
        Message { tool_calls: vec![bad_call], ..Message::assistant("") },
    ]);
    let mut empty_choice = ChatRequest::new(vec![Message::user("Hi")]);
    empty_choice.format = OutputFormat::Choice(vec![]);
    for request in [no_tokens, not_an_object, empty_choice] {
        let refused = chat.chat(request);
        assert!(matches!(refused, Err(ChatError::InvalidRequest(_))), "{refused:?}");
    }
    assert!(server.received().is_empty());
}

#[tokio::test]
async fn temperature_goes_alone_within_anthropics_range_when_top_p_is_not_set() {
    let replies = vec![Reply::events(&text_answer(&["a"])), Reply::events(&text_answer(&["b"]))];
    let (server, chat) = provider(replies).await;
    for temperature in [0.3, 1.7] {
        let mut request = ChatRequest::new(vec![Message::user("Hi")]);
        request.params.temperature = temperature;
        request.params.top_p = 1.0;
        let (_, error) = collect(chat.chat(request).unwrap()).await;
        assert!(error.is_none(), "{error:?}");
    }
    let received = server.received();
    let sent: Vec<_> = received.iter().map(|r| r.body["temperature"].as_f64().unwrap()).collect();
    assert!((sent[0] - 0.3).abs() < 1e-6 && sent[1] == 1.0, "{sent:?}");
    assert!(received.iter().all(|r| r.body.get("top_p").is_none()));
}

#[tokio::test]
async fn a_redirect_is_not_followed_and_the_key_never_reaches_its_target() {
    let elsewhere = TestServer::start(vec![Reply::events(&text_answer(&["leaked"]))]).await;
    let target = format!("{}/v1/messages", elsewhere.url);
    let (server, chat) =
        provider(vec![Reply::error(307, vec![("location", target.clone())], "")]).await;
    let (events, error) =
        collect(chat.chat(ChatRequest::new(vec![Message::user("Hi")])).unwrap()).await;
    assert!(events.is_empty(), "{events:?}");
    assert!(elsewhere.received().is_empty(), "the redirect was followed");
    assert_eq!(server.received().len(), 1);
    let Some(ChatError::Rejected { status: 307, message, .. }) = error else { panic!("{error:?}") };
    assert!(message.contains(&target) && message.contains("not followed"), "{message}");
}

#[tokio::test]
async fn an_open_schema_is_sent_closed_and_its_answer_comes_back_as_it_is() {
    let schema = json!({
        "type": "object",
        "properties": {
            "title": {"type": "string"},
            "skills": {"type": "array", "items": {"type": "object", "properties": {"name": {"type": "string"}}}},
        },
        "required": ["title"],
    });
    let mut stream = vec![message_start(30)];
    stream.extend(text_block(
        0,
        &["{\"title\": \"Chef\", ", "\"skills\": [{\"name\": \"knives\"}]}"],
    ));
    stream.extend(message_end("end_turn", 9));
    let (server, chat) = provider(vec![Reply::events(&stream)]).await;
    let mut request = ChatRequest::new(vec![Message::user("The job as JSON")]);
    request.format = OutputFormat::JsonSchema(schema);
    let (events, error) = collect(chat.chat(request).unwrap()).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(
        serde_json::from_str::<Value>(&finished(&events).text).unwrap(),
        json!({"title": "Chef", "skills": [{"name": "knives"}]})
    );
    let sent = &server.received()[0].body["output_config"]["format"]["schema"];
    assert_eq!(sent["additionalProperties"], json!(false));
    assert_eq!(sent["properties"]["skills"]["items"]["additionalProperties"], json!(false));
    // Anthropic takes optional properties: they stay optional.
    assert_eq!(sent["required"], json!(["title"]));
}

#[tokio::test]
async fn a_refusal_finishes_as_refused_and_a_paused_turn_is_an_error() {
    let mut refused = vec![message_start(30)];
    refused.extend(text_block(0, &["I can't help with that."]));
    refused.extend(message_end("refusal", 7));
    let mut paused = vec![message_start(30)];
    paused.extend(text_block(0, &["Searching"]));
    paused.extend(message_end("pause_turn", 3));
    let (_server, chat) = provider(vec![Reply::events(&refused), Reply::events(&paused)]).await;
    let (events, error) =
        collect(chat.chat(ChatRequest::new(vec![Message::user("Hi")])).unwrap()).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(finished(&events).finish, FinishReason::Refused);
    let (events, error) =
        collect(chat.chat(ChatRequest::new(vec![Message::user("Hi")])).unwrap()).await;
    assert!(!events.iter().any(|e| matches!(e, ChatEvent::Finished(_))), "{events:?}");
    let Some(ChatError::Interrupted { message, .. }) = error else { panic!("{error:?}") };
    assert!(message.contains("pause_turn"), "{message}");
}

#[tokio::test]
async fn a_wrapped_answer_with_no_text_is_an_error_not_an_empty_value() {
    let mut stream = vec![message_start(30)];
    stream.extend(message_end("end_turn", 0));
    let (_server, chat) = provider(vec![Reply::events(&stream)]).await;
    let mut request = ChatRequest::new(vec![Message::user("Is it remote?")]);
    request.format = OutputFormat::Choice(vec!["yes".into(), "no".into()]);
    let (events, error) = collect(chat.chat(request).unwrap()).await;
    assert!(events.is_empty(), "{events:?}");
    let Some(ChatError::Interrupted { message, .. }) = error else { panic!("{error:?}") };
    assert!(message.contains("no answer"), "{message}");
}
