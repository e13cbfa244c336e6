//! The OpenAI-compatible provider against a loopback server speaking Chat Completions'
//! streaming format as OpenAI documents it.

use std::time::Duration;

use serde_json::{Value, json};

use super::*;
use crate::ai::providers::chat::provider::ChatEvent;
use crate::ai::providers::chat::test_server::{
    Ending, Reply, TestServer, collect, finished, texts, weather_tool,
};
use crate::ai::providers::chat::types::{GenerationParams, OutputFormat};
use crate::core::config::Secret;

const KEY: &str = "sk-test-0123456789";

fn config(base_url: String, timeout: Duration) -> RemoteConfig {
    RemoteConfig { base_url, model: "gpt-4o-mini".into(), api_key: Some(Secret::new(KEY)), timeout }
}

async fn provider(replies: Vec<Reply>) -> (TestServer, OpenAiChat) {
    let server = TestServer::start(replies).await;
    let chat =
        OpenAiChat::new(config(format!("{}/v1", server.url), Duration::from_secs(5))).unwrap();
    (server, chat)
}

/// A `chat.completion.chunk` event with one choice.
fn chunk(delta: Value, finish_reason: Option<&str>) -> String {
    let chunk = json!({
        "id": "chatcmpl-123",
        "object": "chat.completion.chunk",
        "created": 1694268190,
        "model": "gpt-4o-mini-2024-07-18",
        "system_fingerprint": "fp_44709d6fcb",
        "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish_reason}],
        "usage": null,
    });
    format!("data: {chunk}\n\n")
}

/// The last chunk of `stream_options.include_usage`: no choices, the usage.
fn usage(prompt: u64, completion: u64) -> String {
    let chunk = json!({
        "id": "chatcmpl-123",
        "object": "chat.completion.chunk",
        "created": 1694268190,
        "model": "gpt-4o-mini-2024-07-18",
        "system_fingerprint": "fp_44709d6fcb",
        "choices": [],
        "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion},
    });
    format!("data: {chunk}\n\n")
}

const DONE: &str = "data: [DONE]\n\n";

fn text_answer(pieces: &[&str]) -> Vec<String> {
    let mut events =
        vec![chunk(json!({"role": "assistant", "content": "", "refusal": null}), None)];
    events.extend(pieces.iter().map(|piece| chunk(json!({"content": piece}), None)));
    events.push(chunk(json!({}), Some("stop")));
    events.push(usage(19, pieces.len() as u64));
    events.push(DONE.into());
    events
}

#[tokio::test]
async fn a_streamed_answer_comes_in_pieces_with_its_usage_and_the_request_is_right() {
    let (server, chat) =
        provider(vec![Reply::events(&text_answer(&["Hel", "lo", " there", "!"]))]).await;
    let mut request = ChatRequest::new(vec![Message::system("Be brief."), Message::user("Hi")]);
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
    assert_eq!(texts(&events), ["Hel", "lo", " there", "!"]);
    let generation = finished(&events);
    assert_eq!(generation.text, "Hello there!");
    assert_eq!(generation.finish, FinishReason::Stop);
    assert_eq!((generation.prompt_tokens, generation.generated_tokens), (19, 4));
    assert!(generation.first_token_seconds > 0.0);
    assert!(generation.seconds >= generation.first_token_seconds);

    let received = server.received();
    assert_eq!(received.len(), 1);
    let request = &received[0];
    assert_eq!(request.path, "/v1/chat/completions");
    assert_eq!(request.header("authorization"), Some(format!("Bearer {KEY}").as_str()));
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(request.header("accept"), Some("text/event-stream"));
    assert_eq!(
        request.body,
        json!({
            "model": "gpt-4o-mini",
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Hi"},
            ],
            "stream": true,
            "stream_options": {"include_usage": true},
            "max_tokens": 64,
            "temperature": 0.5,
            "top_p": 0.9,
            "seed": 7,
            "stop": ["END"],
        })
    );
}

#[tokio::test]
async fn tool_calls_streamed_in_fragments_come_whole_with_parsed_arguments() {
    let call = |index: u64, id: &str, name: &str| json!({"tool_calls": [{"index": index, "id": id, "type": "function", "function": {"name": name, "arguments": ""}}]});
    let arguments = |index: u64, fragment: &str| json!({"tool_calls": [{"index": index, "function": {"arguments": fragment}}]});
    let stream = vec![
        chunk(json!({"role": "assistant", "content": null}), None),
        chunk(call(0, "call_abc", "get_weather"), None),
        chunk(arguments(0, "{\"ci"), None),
        chunk(arguments(0, "ty\": \"Par"), None),
        chunk(arguments(0, "is\"}"), None),
        chunk(call(1, "call_def", "get_weather"), None),
        chunk(arguments(1, "{\"city\": \"Oslo\"}"), None),
        chunk(json!({}), Some("tool_calls")),
        usage(80, 40),
        DONE.into(),
    ];
    let (server, chat) = provider(vec![Reply::events(&stream)]).await;
    let mut request = ChatRequest::new(vec![Message::user("Weather in Paris and Oslo?")]);
    request.tools = vec![weather_tool()];
    let (events, error) = collect(chat.chat(request).unwrap()).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(
        events[..2],
        [
            ChatEvent::ToolCall(ToolCall {
                id: "call_abc".into(),
                name: "get_weather".into(),
                arguments: json!({"city": "Paris"}),
            }),
            ChatEvent::ToolCall(ToolCall {
                id: "call_def".into(),
                name: "get_weather".into(),
                arguments: json!({"city": "Oslo"}),
            }),
        ]
    );
    assert_eq!(events.len(), 3);
    assert_eq!(finished(&events).finish, FinishReason::ToolCalls);
    assert_eq!(finished(&events).text, "");
    assert_eq!(finished(&events).tool_calls.len(), 2);

    let body = &server.received()[0].body;
    assert!(body.get("tool_choice").is_none(), "the model chooses: {body}");
    assert_eq!(
        body["tools"],
        json!([{
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "The current weather in a city",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
            },
        }])
    );
}

#[tokio::test]
async fn required_calls_are_asked_with_tool_choice_and_need_a_tool() {
    let whole = json!({"tool_calls": [{"index": 0, "id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}]});
    let stream = vec![chunk(whole, None), chunk(json!({}), Some("tool_calls")), DONE.into()];
    let (server, chat) = provider(vec![Reply::events(&stream)]).await;
    let request = ChatRequest {
        tools: vec![weather_tool()],
        format: OutputFormat::ToolCalls,
        ..ChatRequest::new(vec![Message::user("Weather in Paris?")])
    };
    let (events, error) = collect(chat.chat(request.clone()).unwrap()).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(finished(&events).tool_calls[0].arguments, json!({"city": "Paris"}));
    assert_eq!(server.received()[0].body["tool_choice"], json!("required"));
    let none = ChatRequest { tools: Vec::new(), ..request };
    assert!(matches!(chat.chat(none), Err(ChatError::InvalidRequest(_))));
}

#[tokio::test]
async fn a_follow_up_carries_the_calls_and_their_results_paired_by_id() {
    let (server, chat) = provider(vec![Reply::events(&text_answer(&["18°C in Paris."]))]).await;
    let call = ToolCall {
        id: "call_abc".into(),
        name: "get_weather".into(),
        arguments: json!({"city": "Paris"}),
    };
    let assistant = Message { tool_calls: vec![call], ..Message::assistant("") };
    let mut request = ChatRequest::new(vec![
        Message::user("Weather in Paris?"),
        assistant,
        Message::tool("call_abc", "{\"celsius\": 18}"),
    ]);
    request.tools = vec![weather_tool()];
    let (events, error) = collect(chat.chat(request).unwrap()).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(finished(&events).text, "18°C in Paris.");
    assert_eq!(
        server.received()[0].body["messages"],
        json!([
            {"role": "user", "content": "Weather in Paris?"},
            {
                "role": "assistant",
                "content": null,
                "tool_calls": [{
                    "id": "call_abc",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"},
                }],
            },
            {"role": "tool", "tool_call_id": "call_abc", "content": "{\"celsius\": 18}"},
        ])
    );
}

#[tokio::test]
async fn without_a_key_no_authorization_is_sent() {
    let server = TestServer::start(vec![
        Reply::events(&text_answer(&["a"])),
        Reply::events(&text_answer(&["b"])),
    ])
    .await;
    for api_key in [None, Some(Secret::new(""))] {
        let keyless = RemoteConfig {
            api_key,
            ..config(format!("{}/v1", server.url), Duration::from_secs(5))
        };
        let chat = OpenAiChat::new(keyless).unwrap();
        let (events, error) =
            collect(chat.chat(ChatRequest::new(vec![Message::user("Hi")])).unwrap()).await;
        assert!(
            error.is_none() && matches!(events.last(), Some(ChatEvent::Finished(_))),
            "{error:?}"
        );
    }
    let received = server.received();
    assert_eq!(received.len(), 2);
    assert!(received.iter().all(|request| request.header("authorization").is_none()));
}

#[tokio::test]
async fn a_tool_result_without_its_call_id_is_refused_before_sending() {
    let (server, chat) = provider(vec![]).await;
    let mut result = Message::tool("x", "18");
    result.tool_call_id = None;
    let refused = chat.chat(ChatRequest::new(vec![Message::user("Hi"), result]));
    assert!(matches!(refused, Err(ChatError::InvalidRequest(_))), "{refused:?}");
    assert!(server.received().is_empty());
}

#[tokio::test]
async fn a_stream_cut_before_its_end_is_an_error_not_a_finish() {
    let mut pieces = text_answer(&["Hel", "lo"]);
    pieces.truncate(3);
    for ending in [Ending::Cut, Ending::Complete] {
        let (_server, chat) =
            provider(vec![Reply::Events { pieces: pieces.clone(), ending }]).await;
        let (events, error) =
            collect(chat.chat(ChatRequest::new(vec![Message::user("Hi")])).unwrap()).await;
        assert_eq!(texts(&events), ["Hel", "lo"]);
        assert!(!events.iter().any(|event| matches!(event, ChatEvent::Finished(_))));
        assert!(
            matches!(error, Some(ChatError::Interrupted { provider: "openai", .. })),
            "{ending:?}: {error:?}"
        );
    }
}

#[tokio::test]
async fn an_error_in_the_stream_ends_the_answer_with_its_message() {
    let stream = vec![
        chunk(json!({"content": "Par"}), None),
        "data: {\"error\": {\"message\": \"The server had an error while processing your request.\", \"type\": \"server_error\", \"param\": null, \"code\": null}}\n\n".to_owned(),
    ];
    let (_server, chat) =
        provider(vec![Reply::Events { pieces: stream, ending: Ending::Stall }]).await;
    let (events, error) =
        collect(chat.chat(ChatRequest::new(vec![Message::user("Hi")])).unwrap()).await;
    assert_eq!(texts(&events), ["Par"]);
    let Some(ChatError::Interrupted { message, .. }) = error else { panic!("{error:?}") };
    assert_eq!(message, "server_error: The server had an error while processing your request.");
}

fn openai_error(message: &str, kind: &str, code: &str) -> String {
    json!({"error": {"message": message, "type": kind, "param": null, "code": code}}).to_string()
}

#[tokio::test]
async fn refusals_become_errors_with_the_providers_message() {
    let replies = vec![
        Reply::error(
            401,
            vec![],
            &openai_error(
                "Incorrect API key provided: sk-test-***6789.",
                "invalid_request_error",
                "invalid_api_key",
            ),
        ),
        Reply::error(
            429,
            vec![("retry-after", "7".into())],
            &openai_error("Rate limit reached for gpt-4o-mini.", "requests", "rate_limit_exceeded"),
        ),
        Reply::error(
            429,
            vec![("retry-after-ms", "1500".into()), ("retry-after", "2".into())],
            &openai_error("Slow down.", "requests", "rate_limit_exceeded"),
        ),
        Reply::error(500, vec![], &openai_error("The server had an error.", "server_error", "")),
        Reply::error(503, vec![], "upstream connect error"),
        Reply::error(
            400,
            vec![],
            &openai_error(
                "Invalid schema for response_format 'answer'.",
                "invalid_request_error",
                "",
            ),
        ),
        Reply::error(
            404,
            vec![],
            "{\"error\":\"model \\\"llama9\\\" not found, try pulling it first\"}",
        ),
    ];
    let (_server, chat) = provider(replies).await;
    let mut errors = Vec::new();
    for _ in 0..7 {
        let (events, error) =
            collect(chat.chat(ChatRequest::new(vec![Message::user("Hi")])).unwrap()).await;
        assert!(events.is_empty());
        errors.push(error.expect("an error"));
    }
    let [unauthorized, limited, limited_ms, failed, unavailable, rejected, missing] = &errors[..]
    else {
        unreachable!()
    };
    assert!(matches!(
        unauthorized,
        ChatError::Unauthorized { status: 401, message, .. }
            if message == "invalid_request_error: Incorrect API key provided: sk-test-***6789."
    ));
    assert!(matches!(limited, ChatError::RateLimited { .. }));
    assert_eq!(limited.retry_after(), Some(Duration::from_secs(7)));
    assert_eq!(limited.provider_status(), Some(429));
    assert!(limited.to_string().contains("retry after 7s"), "{limited}");
    assert_eq!(limited_ms.retry_after(), Some(Duration::from_millis(1500)));
    assert!(matches!(
        failed,
        ChatError::ProviderFailed { status: 500, message, .. } if message == "server_error: The server had an error."
    ));
    assert!(matches!(
        unavailable,
        ChatError::ProviderFailed { status: 503, message, .. } if message == "upstream connect error"
    ));
    assert!(
        matches!(rejected, ChatError::Rejected { status: 400, message, .. } if message.contains("Invalid schema"))
    );
    assert!(matches!(
        missing,
        ChatError::Rejected { status: 404, message, .. } if message == "model \"llama9\" not found, try pulling it first"
    ));
    assert_eq!(missing.retry_after(), None);
}

#[tokio::test]
async fn a_server_that_does_not_answer_or_stalls_times_out() {
    let mut pieces = text_answer(&["Hel", "lo"]);
    pieces.truncate(2);
    let server =
        TestServer::start(vec![Reply::Silent, Reply::Events { pieces, ending: Ending::Stall }])
            .await;
    let timeout = Duration::from_millis(300);
    let chat = OpenAiChat::new(config(format!("{}/v1", server.url), timeout)).unwrap();
    for expected_texts in [vec![], vec!["Hel"]] {
        let started = std::time::Instant::now();
        let (events, error) =
            collect(chat.chat(ChatRequest::new(vec![Message::user("Hi")])).unwrap()).await;
        assert_eq!(texts(&events), expected_texts);
        assert!(
            matches!(error, Some(ChatError::TimedOut { after, .. }) if after == timeout),
            "{error:?}"
        );
        assert!(started.elapsed() >= timeout);
    }
}

#[tokio::test]
async fn the_timeout_bounds_each_wait_not_the_whole_answer() {
    let pieces: Vec<String> = (0..100).map(|i| format!("{i} ")).collect();
    let pieces: Vec<&str> = pieces.iter().map(String::as_str).collect();
    let server = TestServer::start(vec![Reply::events(&text_answer(&pieces))]).await;
    let timeout = Duration::from_millis(250);
    let chat = OpenAiChat::new(config(format!("{}/v1", server.url), timeout)).unwrap();
    let started = std::time::Instant::now();
    let (events, error) =
        collect(chat.chat(ChatRequest::new(vec![Message::user("Count")])).unwrap()).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(texts(&events).len(), 100);
    // The server pauses before each of its 104 events: the answer outlasts the timeout.
    assert!(started.elapsed() > timeout * 2, "{:?}", started.elapsed());
}

#[tokio::test]
async fn a_provider_that_cannot_be_reached_is_unreachable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let chat =
        OpenAiChat::new(config(format!("http://{address}/v1"), Duration::from_secs(5))).unwrap();
    let (events, error) =
        collect(chat.chat(ChatRequest::new(vec![Message::user("Hi")])).unwrap()).await;
    assert!(events.is_empty());
    assert!(matches!(error, Some(ChatError::Unreachable { provider: "openai", .. })), "{error:?}");
}

#[tokio::test]
async fn dropping_the_stream_closes_the_connection() {
    let (gone, went) = tokio::sync::oneshot::channel();
    let piece = chunk(json!({"content": "more "}), None);
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
async fn a_json_schema_is_asked_strictly_and_its_answer_streams_through() {
    let schema = json!({
        "type": "object",
        "properties": {"title": {"type": "string"}, "remote": {"type": "boolean"}},
        "required": ["title", "remote"],
        "additionalProperties": false,
    });
    let (server, chat) = provider(vec![Reply::events(&text_answer(&[
        "{\"title\":",
        " \"Chef\", \"remote\": false}",
    ]))])
    .await;
    let mut request = ChatRequest::new(vec![Message::user("The job as JSON")]);
    request.format = OutputFormat::JsonSchema(schema.clone());
    let (events, error) = collect(chat.chat(request).unwrap()).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(texts(&events).len(), 2);
    let answer: Value = serde_json::from_str(&finished(&events).text).unwrap();
    assert_eq!(answer, json!({"title": "Chef", "remote": false}));
    assert_eq!(
        server.received()[0].body["response_format"],
        json!({"type": "json_schema", "json_schema": {"name": "answer", "schema": schema, "strict": true}})
    );
}

#[tokio::test]
async fn a_choice_is_asked_as_a_wrapped_enum_and_unwrapped() {
    let (server, chat) =
        provider(vec![Reply::events(&text_answer(&["{\"va", "lue\":\"n", "o\"}"]))]).await;
    let mut request = ChatRequest::new(vec![Message::user("Is it remote?")]);
    request.format = OutputFormat::Choice(vec!["yes".into(), "no".into()]);
    let (events, error) = collect(chat.chat(request).unwrap()).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(texts(&events), ["no"]);
    assert_eq!(finished(&events).text, "no");
    assert_eq!(
        server.received()[0].body["response_format"],
        json!({
            "type": "json_schema",
            "json_schema": {
                "name": "answer",
                "strict": true,
                "schema": {
                    "type": "object",
                    "properties": {"value": {"type": "string", "enum": ["yes", "no"]}},
                    "required": ["value"],
                    "additionalProperties": false,
                },
            },
        })
    );
}

#[tokio::test]
async fn a_wrapped_answer_that_does_not_parse_is_an_error() {
    let mut stream =
        vec![chunk(json!({"content": "{\"value\":\"ye"}), None), chunk(json!({}), Some("length"))];
    stream.push(usage(10, 3));
    stream.push(DONE.into());
    let (_server, chat) = provider(vec![Reply::events(&stream)]).await;
    let mut request = ChatRequest::new(vec![Message::user("Is it remote?")]);
    request.format = OutputFormat::Choice(vec!["yes".into(), "no".into()]);
    let (events, error) = collect(chat.chat(request).unwrap()).await;
    assert!(events.is_empty(), "{events:?}");
    let Some(ChatError::Interrupted { message, .. }) = error else { panic!("{error:?}") };
    assert!(message.contains("max_tokens"), "{message}");
}

#[tokio::test]
async fn describe_and_debug_never_show_the_key() {
    let chat = OpenAiChat::new(config(OPENAI_BASE_URL.into(), Duration::from_secs(30))).unwrap();
    assert_eq!(chat.describe(), "openai gpt-4o-mini at https://api.openai.com/v1");
    assert_eq!(chat.state(), ChatModelState::Ready);
    let debug = format!("{chat:?}");
    assert!(!debug.contains(KEY) && debug.contains("redacted"), "{debug}");
    // OpenAI's own API takes the newer name of the token limit.
    assert_eq!(chat.max_tokens_field, "max_completion_tokens");
}

#[test]
fn a_configuration_that_cannot_work_is_refused() {
    let timeout = Duration::from_secs(5);
    for base_url in ["", "api.openai.com/v1", "ftp://example.com/v1", "http://"] {
        let refused = OpenAiChat::new(config(base_url.into(), timeout));
        assert!(matches!(refused, Err(ChatError::Unavailable(_))), "{base_url:?}: {refused:?}");
    }
    let mut bad_key = config(OPENAI_BASE_URL.into(), timeout);
    bad_key.api_key = Some(Secret::new("sk-\nx"));
    let Err(ChatError::Unavailable(message)) = OpenAiChat::new(bad_key) else { panic!() };
    assert!(!message.contains("sk-"), "{message}");
    let keyless =
        RemoteConfig { api_key: None, ..config("http://127.0.0.1:11434/v1/".into(), timeout) };
    let chat = OpenAiChat::new(keyless).unwrap();
    assert_eq!(chat.describe(), "openai gpt-4o-mini at http://127.0.0.1:11434/v1");
    let with_password = config("https://proxy:hunter2@llm.example.com/v1".into(), timeout);
    let chat = OpenAiChat::new(with_password).unwrap();
    assert_eq!(chat.describe(), "openai gpt-4o-mini at https://llm.example.com/v1");
    assert!(!format!("{chat:?}").contains("hunter2"));
}

#[tokio::test]
async fn a_server_that_answers_without_streaming_is_reported_with_what_it_said() {
    let body = openai_error("The model is loading.", "server_error", "");
    let whole = Reply::Whole { status: 200, headers: vec![], body };
    let (_server, chat) = provider(vec![whole]).await;
    let (events, error) =
        collect(chat.chat(ChatRequest::new(vec![Message::user("Hi")])).unwrap()).await;
    assert!(events.is_empty());
    let Some(ChatError::Interrupted { message, .. }) = error else { panic!("{error:?}") };
    assert_eq!(
        message,
        "the answer is not a stream of events: server_error: The model is loading."
    );
}

#[tokio::test]
async fn a_refusal_is_the_answers_text_and_finishes_as_refused() {
    let stream = vec![
        chunk(json!({"role": "assistant", "content": null, "refusal": ""}), None),
        chunk(json!({"refusal": "I'm sorry, "}), None),
        chunk(json!({"refusal": "I can't help with that."}), None),
        chunk(json!({}), Some("stop")),
        usage(12, 9),
        DONE.into(),
    ];
    let (_server, chat) = provider(vec![Reply::events(&stream)]).await;
    let (events, error) =
        collect(chat.chat(ChatRequest::new(vec![Message::user("?")])).unwrap()).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(finished(&events).text, "I'm sorry, I can't help with that.");
    assert_eq!(finished(&events).finish, FinishReason::Refused);
}

#[tokio::test]
async fn an_error_event_from_a_compatible_server_ends_the_answer() {
    let stream = vec![
        chunk(json!({"content": "Par"}), None),
        "event: error\ndata: {\"error\": {\"message\": \"out of memory\", \"type\": \"server_error\"}}\n\n"
            .to_owned(),
    ];
    let (_server, chat) =
        provider(vec![Reply::Events { pieces: stream, ending: Ending::Stall }]).await;
    let (events, error) =
        collect(chat.chat(ChatRequest::new(vec![Message::user("Hi")])).unwrap()).await;
    assert_eq!(texts(&events), ["Par"]);
    let Some(ChatError::Interrupted { message, .. }) = error else { panic!("{error:?}") };
    assert_eq!(message, "server_error: out of memory");
}

#[tokio::test]
async fn whole_tool_calls_without_index_or_id_each_count_once() {
    // Some compatible servers send each call whole, with no index, and no id.
    let whole = |name: &str, arguments: Value| json!({"tool_calls": [{"function": {"name": name, "arguments": arguments}}]});
    let stream = vec![
        chunk(whole("get_weather", json!({"city": "Paris"})), None),
        chunk(whole("get_time", json!("{\"zone\": \"CET\"}")), None),
        chunk(json!({}), Some("stop")),
        DONE.into(),
    ];
    let (_server, chat) = provider(vec![Reply::events(&stream)]).await;
    let (events, error) =
        collect(chat.chat(ChatRequest::new(vec![Message::user("?")])).unwrap()).await;
    assert!(error.is_none(), "{error:?}");
    let calls: Vec<_> = events
        .iter()
        .filter_map(|event| match event {
            ChatEvent::ToolCall(call) => {
                Some((call.id.as_str(), call.name.as_str(), call.arguments.clone()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        calls,
        [
            ("call_0", "get_weather", json!({"city": "Paris"})),
            ("call_1", "get_time", json!({"zone": "CET"})),
        ]
    );
    let generation = finished(&events);
    assert_eq!(generation.finish, FinishReason::ToolCalls);
    assert_eq!((generation.prompt_tokens, generation.generated_tokens), (0, 0));
}

#[tokio::test]
async fn calls_sent_whole_at_the_same_index_with_their_own_ids_stay_apart() {
    let whole = |id: &str, city: &str| {
        let arguments = json!({"city": city}).to_string();
        json!({"tool_calls": [{"index": 0, "id": id, "type": "function", "function": {"name": "get_weather", "arguments": arguments}}]})
    };
    let stream = vec![
        chunk(json!({"role": "assistant", "content": null}), None),
        chunk(whole("call_1", "Paris"), None),
        chunk(whole("call_2", "Oslo"), None),
        chunk(json!({}), Some("tool_calls")),
        DONE.into(),
    ];
    let (_server, chat) = provider(vec![Reply::events(&stream)]).await;
    let mut request = ChatRequest::new(vec![Message::user("Weather in Paris and Oslo?")]);
    request.tools = vec![weather_tool()];
    let (events, error) = collect(chat.chat(request).unwrap()).await;
    assert!(error.is_none(), "{error:?}");
    let calls: Vec<_> = events
        .iter()
        .filter_map(|event| match event {
            ChatEvent::ToolCall(call) => Some((call.id.as_str(), call.arguments.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(calls, [("call_1", json!({"city": "Paris"})), ("call_2", json!({"city": "Oslo"}))]);
    assert_eq!(finished(&events).finish, FinishReason::ToolCalls);
}

#[tokio::test]
async fn a_filtered_or_refused_answer_finishes_as_refused() {
    let mut filtered = vec![chunk(json!({"content": "The story beg"}), None)];
    filtered.push(chunk(json!({}), Some("content_filter")));
    filtered.push(DONE.into());
    let refused = vec![
        chunk(json!({"role": "assistant", "content": null, "refusal": ""}), None),
        chunk(json!({"refusal": "I'm sorry, I can't help with that."}), None),
        chunk(json!({}), Some("stop")),
        DONE.into(),
    ];
    let (_server, chat) = provider(vec![Reply::events(&filtered), Reply::events(&refused)]).await;
    for said in ["The story beg", "I'm sorry, I can't help with that."] {
        let (events, error) =
            collect(chat.chat(ChatRequest::new(vec![Message::user("Hi")])).unwrap()).await;
        assert!(error.is_none(), "{error:?}");
        assert_eq!(finished(&events).text, said);
        assert_eq!(finished(&events).finish, FinishReason::Refused);
    }
}

#[tokio::test]
async fn an_open_schema_is_sent_closed_with_every_property_required_and_answers_as_asked() {
    let schema = json!({
        "type": "object",
        "properties": {
            "title": {"type": "string"},
            "salary": {"type": ["integer", "null"]},
            "skills": {"type": "array", "items": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}},
        },
        "required": ["title", "skills"],
    });
    let answer = r#"{"title": "Chef", "salary": null, "skills": [{"name": "knives"}]}"#;
    let (server, chat) = provider(vec![Reply::events(&text_answer(&[answer]))]).await;
    let mut request = ChatRequest::new(vec![Message::user("The job as JSON")]);
    request.format = OutputFormat::JsonSchema(schema);
    let (events, error) = collect(chat.chat(request).unwrap()).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(finished(&events).text, answer);
    let sent = &server.received()[0].body["response_format"]["json_schema"]["schema"];
    assert_eq!(sent["additionalProperties"], json!(false));
    assert_eq!(sent["properties"]["skills"]["items"]["additionalProperties"], json!(false));
    assert_eq!(sent["required"], json!(["title", "skills", "salary"]));

    // An optional property that cannot be null has no strict form: refused before sending.
    let optional = json!({"type": "object", "properties": {"title": {"type": "string"}}});
    let mut request = ChatRequest::new(vec![Message::user("The job as JSON")]);
    request.format = OutputFormat::JsonSchema(optional);
    let refused = chat.chat(request);
    let Err(ChatError::InvalidRequest(message)) = refused else { panic!("{refused:?}") };
    assert!(message.contains("\"title\"") && message.contains("required"), "{message}");
    assert_eq!(server.received().len(), 1);
}

#[tokio::test]
async fn a_wrapped_answer_with_no_text_is_an_error_not_an_empty_value() {
    let stream = vec![chunk(json!({}), Some("stop")), usage(10, 0), DONE.into()];
    let (_server, chat) = provider(vec![Reply::events(&stream)]).await;
    let mut request = ChatRequest::new(vec![Message::user("How many?")]);
    request.format = OutputFormat::JsonSchema(json!({"type": "integer"}));
    let (events, error) = collect(chat.chat(request).unwrap()).await;
    assert!(events.is_empty(), "{events:?}");
    let Some(ChatError::Interrupted { message, .. }) = error else { panic!("{error:?}") };
    assert!(message.contains("the provider sent no answer"), "{message}");
}
