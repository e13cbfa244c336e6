//! The app's HTTP client of the API: JSON calls and the streamed answer, with the access token
//! renewed from the refresh token when the server says it expired (and the new refresh token
//! kept on disk), and failures sorted into what the user can act on.
//!
//! A refresh token works once: the server takes a second use as a stolen token and ends the
//! session. So renewals take turns, and a call that waited for another's renewal uses the token
//! it got instead of renewing again.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::session::SessionStore;
use super::sse::SseParser;
use crate::models::conversation::{Citation, ToolStep};
use crate::schemas::application::{ApplicationListBody, StageEventBody};
use crate::schemas::assistant::{
    ConversationBody, ConversationDetailBody, ConversationListBody, MessageBody, QueuedEventBody,
    TokenEventBody,
};
use crate::schemas::auth::{AuthBody, TokensBody};
use crate::schemas::error::{ErrorBody, ErrorDetail};
use crate::schemas::job::{JobBody, SearchBody, SearchQuery};
use crate::schemas::recommendation::JobRecommendationListBody;
use crate::schemas::user::UserBody;

/// Why a call failed, as the status line tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiFailure {
    /// No answer from the server at all (not running, wrong address, network down).
    Unreachable(String),
    /// 401: signed out (bad credentials, or a session that cannot be renewed).
    Unauthorized(String),
    /// 429, with the seconds to wait when the server said.
    RateLimited { retry_after: Option<u64>, message: String },
    /// 503 (the model is busy or unavailable), with the seconds to wait when the server said.
    Unavailable { retry_after: Option<u64>, message: String },
    /// Any other error answer, with its stable code.
    Api { status: u16, code: String, message: String },
}

/// One event of a streamed answer.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    /// The answer waits for the model behind this many answers.
    Queued(usize),
    Tool(ToolStep),
    Citation(Citation),
    Token(String),
    /// The answer as stored; the stream is over.
    Done(MessageBody),
    /// The answer failed after it started; the stream is over.
    Error {
        code: String,
        message: String,
    },
}

/// One event of a cover letter being drafted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LetterEvent {
    Token(String),
    /// The whole draft (what the pieces add up to) and who wrote it; the stream is over.
    Done {
        draft: String,
        from_model: bool,
    },
    /// The draft failed after it started; the stream is over.
    Error {
        code: String,
        message: String,
    },
}

#[derive(Debug, Default)]
struct Tokens {
    access: Option<String>,
    refresh: Option<String>,
}

/// A client of one server; cheap to clone (the tokens are shared).
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    // A std mutex: it is held only to read or swap the tokens, never across an await.
    tokens: Arc<Mutex<Tokens>>,
    /// Held for the whole of a renewal (an HTTP call), so one renewal runs at a time.
    renewing: Arc<tokio::sync::Mutex<()>>,
    store: Option<SessionStore>,
}

impl Client {
    /// A client of `server` (e.g. `http://127.0.0.1:8080`); `store` keeps the refresh token.
    pub fn new(server: &str, store: Option<SessionStore>) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("jobportal-assistant/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            http,
            base: server.trim_end_matches('/').to_owned(),
            tokens: Arc::default(),
            renewing: Arc::default(),
            store,
        })
    }

    /// The server's address, as given.
    pub fn server(&self) -> &str {
        &self.base
    }

    fn url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.base)
    }

    fn set_tokens(&self, tokens: &TokensBody) {
        let mut t = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        t.access = Some(tokens.access_token.clone());
        t.refresh = Some(tokens.refresh_token.clone());
        if let Some(store) = &self.store
            && let Err(err) = store.save(&self.base, &tokens.refresh_token)
        {
            tracing::warn!(error = %err, "the session could not be kept");
        }
    }

    /// Signs in with a password; the session is kept for the next start.
    pub async fn login(&self, email: &str, password: &str) -> Result<UserBody, ApiFailure> {
        let req = self
            .http
            .post(self.url("/auth/login"))
            .json(&json!({"email": email, "password": password}));
        let auth: AuthBody = json_of(send(req).await?).await?;
        self.set_tokens(&auth.tokens);
        Ok(auth.user)
    }

    /// Resumes the session kept on disk (renewing it) and says whose it is.
    pub async fn resume(&self) -> Result<UserBody, ApiFailure> {
        let stored = self.store.as_ref().and_then(|s| s.load(&self.base));
        let Some(refresh) = stored else {
            return Err(ApiFailure::Unauthorized("not signed in".into()));
        };
        self.tokens.lock().unwrap_or_else(|e| e.into_inner()).refresh = Some(refresh);
        self.renew(None).await?;
        self.get("/users/me").await
    }

    /// Ends the session on the server, then forgets it here. The server ends a session by its
    /// access token, so one is renewed from the kept refresh token when there is none; the file
    /// is removed last, since a renewal writes it again.
    ///
    /// The outer error: the kept session could not be removed. The inner one: the server did
    /// not end the session (it is forgotten here all the same). A session the server no longer
    /// accepts counts as ended.
    pub async fn logout(&self) -> std::io::Result<Result<(), ApiFailure>> {
        let signed_in = {
            let mut t = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
            if t.refresh.is_none() {
                t.refresh = self.store.as_ref().and_then(|s| s.load(&self.base));
            }
            t.access.is_some() || t.refresh.is_some()
        };
        let ended = if signed_in {
            match self.renew(None).await {
                Ok(()) => self.call(Method::POST, "/auth/logout", None, false).await.map(drop),
                Err(failure) => Err(failure),
            }
        } else {
            Ok(())
        };
        *self.tokens.lock().unwrap_or_else(|e| e.into_inner()) = Tokens::default();
        if let Some(store) = &self.store {
            store.forget()?;
        }
        Ok(match ended {
            Err(ApiFailure::Unauthorized(_)) => Ok(()),
            other => other,
        })
    }

    /// Renews the access token unless it changed since `stale` was sent (another call renewed
    /// it meanwhile); `None` renews unless there is an access token already.
    async fn renew(&self, stale: Option<&str>) -> Result<(), ApiFailure> {
        let _turn = self.renewing.lock().await;
        let (access, token) = {
            let t = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
            (t.access.clone(), t.refresh.clone())
        };
        if access.is_some() && access.as_deref() != stale {
            return Ok(());
        }
        let Some(token) = token else {
            return Err(ApiFailure::Unauthorized("the session expired".into()));
        };
        let req = self.http.post(self.url("/auth/refresh")).json(&json!({"refresh_token": token}));
        match send(req).await {
            Ok(resp) => {
                let tokens: TokensBody = json_of(resp).await?;
                self.set_tokens(&tokens);
                Ok(())
            }
            Err(ApiFailure::Unauthorized(message)) => {
                // The session is over: the calls waiting for this renewal fail at once.
                *self.tokens.lock().unwrap_or_else(|e| e.into_inner()) = Tokens::default();
                if let Some(store) = &self.store {
                    let _ = store.forget();
                }
                Err(ApiFailure::Unauthorized(message))
            }
            Err(err) => Err(err),
        }
    }

    /// Sends an authorised request; a 401 `token_expired` renews the token once and sends again.
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        sse: bool,
    ) -> Result<Response, ApiFailure> {
        let build = |access: Option<String>| {
            let mut req = self.http.request(method.clone(), self.url(path));
            if let Some(token) = access {
                req = req.bearer_auth(token);
            }
            if let Some(body) = body {
                req = req.json(body);
            }
            if sse {
                req = req.header(reqwest::header::ACCEPT, "text/event-stream");
            } else {
                req = req.timeout(Duration::from_secs(120));
            }
            req
        };
        let access = self.tokens.lock().unwrap_or_else(|e| e.into_inner()).access.clone();
        let resp = build(access.clone()).send().await.map_err(unreachable)?;
        if resp.status() != StatusCode::UNAUTHORIZED {
            return check(resp).await;
        }
        let detail = error_detail(resp).await;
        if detail.code != "token_expired" {
            return Err(ApiFailure::Unauthorized(detail.message));
        }
        self.renew(access.as_deref()).await?;
        let access = self.tokens.lock().unwrap_or_else(|e| e.into_inner()).access.clone();
        check(build(access).send().await.map_err(unreachable)?).await
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ApiFailure> {
        json_of(self.call(Method::GET, path, None, false).await?).await
    }

    pub async fn conversations(&self) -> Result<Vec<ConversationBody>, ApiFailure> {
        let list: ConversationListBody = self.get("/assistant/conversations?limit=100").await?;
        Ok(list.items)
    }

    pub async fn create_conversation(&self) -> Result<ConversationBody, ApiFailure> {
        let resp = self.call(Method::POST, "/assistant/conversations", None, false).await?;
        json_of(resp).await
    }

    pub async fn conversation(&self, id: &str) -> Result<ConversationDetailBody, ApiFailure> {
        self.get(&format!("/assistant/conversations/{}", segment(id))).await
    }

    pub async fn delete_conversation(&self, id: &str) -> Result<(), ApiFailure> {
        let path = format!("/assistant/conversations/{}", segment(id));
        self.call(Method::DELETE, &path, None, false).await.map(drop)
    }

    /// Asks in a conversation and passes each event of the answer on as it arrives. Returns
    /// once `done` or `error` came (or the connection ended, which is an error).
    pub async fn ask(
        &self,
        conversation: &str,
        content: &str,
        mut on_event: impl FnMut(StreamEvent),
    ) -> Result<(), ApiFailure> {
        let path = format!("/assistant/conversations/{}/messages", segment(conversation));
        let body = json!({ "content": content });
        let resp = self.call(Method::POST, &path, Some(&body), true).await?;
        let is_sse = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        if !is_sse {
            let reply: crate::schemas::assistant::MessageReplyBody = json_of(resp).await?;
            on_event(StreamEvent::Done(reply.message));
            return Ok(());
        }
        let mut parser = SseParser::default();
        let mut bytes = resp.bytes_stream();
        while let Some(chunk) = bytes.next().await {
            let chunk = chunk.map_err(unreachable)?;
            for event in parser.feed(&chunk) {
                let Some(event) = stream_event(&event.event, &event.data) else { continue };
                let last = matches!(event, StreamEvent::Done(_) | StreamEvent::Error { .. });
                on_event(event);
                if last {
                    return Ok(());
                }
            }
        }
        Err(ApiFailure::Unreachable("the answer was cut off before it ended".into()))
    }

    /// Drafts a cover letter for a job from the default resume and passes each event on as it
    /// arrives. Returns once `done` or `error` came (or the connection ended: an error).
    pub async fn draft_cover_letter(
        &self,
        job_id: &str,
        mut on_event: impl FnMut(LetterEvent),
    ) -> Result<(), ApiFailure> {
        let path = format!("/jobs/{}/cover-letter", segment(job_id));
        let resp = self.call(Method::POST, &path, Some(&json!({})), true).await?;
        let is_sse = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        if !is_sse {
            let body: crate::schemas::writing::CoverLetterDraftBody = json_of(resp).await?;
            on_event(letter_done(body));
            return Ok(());
        }
        let mut parser = SseParser::default();
        let mut bytes = resp.bytes_stream();
        while let Some(chunk) = bytes.next().await {
            let chunk = chunk.map_err(unreachable)?;
            for event in parser.feed(&chunk) {
                let Some(event) = letter_event(&event.event, &event.data) else { continue };
                let last = !matches!(event, LetterEvent::Token(_));
                on_event(event);
                if last {
                    return Ok(());
                }
            }
        }
        Err(ApiFailure::Unreachable("the draft was cut off before it ended".into()))
    }

    pub async fn job(&self, id: &str) -> Result<JobBody, ApiFailure> {
        self.get(&format!("/jobs/{}", segment(id))).await
    }

    pub async fn save_job(&self, id: &str) -> Result<(), ApiFailure> {
        let path = format!("/saved-jobs/{}", segment(id));
        self.call(Method::PUT, &path, None, false).await.map(drop)
    }

    pub async fn recommendations(&self) -> Result<JobRecommendationListBody, ApiFailure> {
        self.get("/recommendations/jobs?limit=20").await
    }

    pub async fn search(&self, query: &SearchQuery) -> Result<SearchBody, ApiFailure> {
        self.get(&search_path(query)?).await
    }

    pub async fn applications(&self) -> Result<ApplicationListBody, ApiFailure> {
        self.get("/applications?limit=100").await
    }

    pub async fn application_history(&self, id: &str) -> Result<Vec<StageEventBody>, ApiFailure> {
        let value: Value = self.get(&format!("/applications/{}/history", segment(id))).await?;
        let items = value.get("items").cloned().unwrap_or(value);
        serde_json::from_value(items).map_err(|e| decode_failure(e.to_string()))
    }

    pub async fn apply(&self, job_id: &str, cover_letter: &str) -> Result<(), ApiFailure> {
        let path = format!("/jobs/{}/applications", segment(job_id));
        let body = if cover_letter.trim().is_empty() {
            json!({})
        } else {
            json!({ "cover_letter": cover_letter })
        };
        self.call(Method::POST, &path, Some(&body), false).await.map(drop)
    }
}

/// One SSE event as the app's event; unknown names are skipped.
pub fn stream_event(name: &str, data: &str) -> Option<StreamEvent> {
    let bad = |e: serde_json::Error| StreamEvent::Error {
        code: "bad_event".into(),
        message: format!("the server sent a `{name}` event that could not be read: {e}"),
    };
    Some(match name {
        "queued" => serde_json::from_str::<QueuedEventBody>(data)
            .map(|q| StreamEvent::Queued(q.ahead))
            .unwrap_or_else(bad),
        "tool" => serde_json::from_str(data).map(StreamEvent::Tool).unwrap_or_else(bad),
        "citation" => serde_json::from_str(data).map(StreamEvent::Citation).unwrap_or_else(bad),
        "token" => serde_json::from_str::<TokenEventBody>(data)
            .map(|t| StreamEvent::Token(t.text))
            .unwrap_or_else(bad),
        "done" => serde_json::from_str(data).map(StreamEvent::Done).unwrap_or_else(bad),
        "error" => serde_json::from_str::<ErrorDetail>(data)
            .map(|e| StreamEvent::Error { code: e.code, message: e.message })
            .unwrap_or_else(bad),
        _ => return None,
    })
}

/// The end of a draft from its JSON body.
fn letter_done(body: crate::schemas::writing::CoverLetterDraftBody) -> LetterEvent {
    LetterEvent::Done {
        draft: body.draft,
        from_model: matches!(body.source, crate::schemas::writing::WrittenBy::Model),
    }
}

/// The event of a streamed draft named `name` with its `data`; `None` for a name it does not
/// have.
pub fn letter_event(name: &str, data: &str) -> Option<LetterEvent> {
    let bad = |e: serde_json::Error| LetterEvent::Error {
        code: "bad_event".into(),
        message: format!("the server sent a `{name}` event that could not be read: {e}"),
    };
    Some(match name {
        "token" => serde_json::from_str::<crate::schemas::writing::TextPieceEvent>(data)
            .map(|t| LetterEvent::Token(t.text))
            .unwrap_or_else(bad),
        "done" => serde_json::from_str(data).map(letter_done).unwrap_or_else(bad),
        "error" => serde_json::from_str::<ErrorDetail>(data)
            .map(|e| LetterEvent::Error { code: e.code, message: e.message })
            .unwrap_or_else(bad),
        _ => return None,
    })
}

/// The path of a search: the query as `GET /jobs` reads it, the unset fields left out.
fn search_path(query: &SearchQuery) -> Result<String, ApiFailure> {
    let params = serde_urlencoded::to_string(query).map_err(|e| ApiFailure::Api {
        status: 400,
        code: "bad_query".into(),
        message: format!("the search could not be written as a query: {e}"),
    })?;
    Ok(format!("/jobs?{params}"))
}

/// A path segment with the characters that would change the path escaped.
fn segment(id: &str) -> String {
    id.chars()
        .map(|c| match c {
            '/' => "%2F".to_owned(),
            '?' => "%3F".to_owned(),
            '#' => "%23".to_owned(),
            '%' => "%25".to_owned(),
            c => c.to_string(),
        })
        .collect()
}

fn unreachable(err: reqwest::Error) -> ApiFailure {
    let what = if err.is_connect() {
        "cannot connect"
    } else if err.is_timeout() {
        "no answer in time"
    } else {
        "the connection failed"
    };
    ApiFailure::Unreachable(what.to_owned())
}

fn decode_failure(message: String) -> ApiFailure {
    ApiFailure::Api { status: 200, code: "bad_response".into(), message }
}

async fn send(req: RequestBuilder) -> Result<Response, ApiFailure> {
    check(req.timeout(Duration::from_secs(30)).send().await.map_err(unreachable)?).await
}

async fn json_of<T: DeserializeOwned>(resp: Response) -> Result<T, ApiFailure> {
    let bytes = resp.bytes().await.map_err(unreachable)?;
    serde_json::from_slice(&bytes).map_err(|e| decode_failure(e.to_string()))
}

async fn error_detail(resp: Response) -> ErrorDetail {
    let status = resp.status();
    let fallback = || ErrorDetail {
        code: "http_".to_owned() + status.as_str(),
        message: status.canonical_reason().unwrap_or("error").to_owned(),
    };
    match resp.bytes().await {
        Ok(bytes) => serde_json::from_slice::<ErrorBody>(&bytes)
            .map(|b| b.error)
            .unwrap_or_else(|_| fallback()),
        Err(_) => fallback(),
    }
}

/// A success passes; an error answer becomes its failure.
async fn check(resp: Response) -> Result<Response, ApiFailure> {
    let status = resp.status();
    if status.is_success() {
        return Ok(resp);
    }
    let retry_after = resp
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok());
    let detail = error_detail(resp).await;
    Err(match status {
        StatusCode::UNAUTHORIZED => ApiFailure::Unauthorized(detail.message),
        StatusCode::TOO_MANY_REQUESTS => {
            ApiFailure::RateLimited { retry_after, message: detail.message }
        }
        StatusCode::SERVICE_UNAVAILABLE => {
            ApiFailure::Unavailable { retry_after, message: detail.message }
        }
        _ => {
            ApiFailure::Api { status: status.as_u16(), code: detail.code, message: detail.message }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letter_events_are_read_from_their_json() {
        assert_eq!(
            letter_event("token", r#"{"text":"Dear"}"#),
            Some(LetterEvent::Token("Dear".into()))
        );
        assert_eq!(
            letter_event("done", r#"{"draft":"Dear Acme","source":"template"}"#),
            Some(LetterEvent::Done { draft: "Dear Acme".into(), from_model: false })
        );
        assert!(matches!(
            letter_event("error", r#"{"code":"model_busy","message":"busy"}"#),
            Some(LetterEvent::Error { code, .. }) if code == "model_busy"
        ));
        assert!(
            matches!(letter_event("done", "{}"), Some(LetterEvent::Error { code, .. }) if code == "bad_event")
        );
        assert_eq!(letter_event("ping", "{}"), None);
    }

    #[test]
    fn stream_events_are_read_from_their_json() {
        assert_eq!(
            stream_event("token", r#"{"text":"Hi"}"#),
            Some(StreamEvent::Token("Hi".into()))
        );
        assert_eq!(stream_event("queued", r#"{"ahead":2}"#), Some(StreamEvent::Queued(2)));
        assert!(matches!(
            stream_event("citation", r#"{"n":1,"kind":"job","id":"j1","title":"Rust"}"#),
            Some(StreamEvent::Citation(c)) if c.n == 1 && c.id == "j1"
        ));
        assert_eq!(
            stream_event("error", r#"{"code":"model_busy","message":"busy"}"#),
            Some(StreamEvent::Error { code: "model_busy".into(), message: "busy".into() })
        );
        assert!(
            matches!(stream_event("token", "nope"), Some(StreamEvent::Error { code, .. }) if code == "bad_event")
        );
        assert_eq!(stream_event("ping", "{}"), None);
    }

    #[test]
    fn a_search_path_carries_the_filters_set_as_the_server_reads_them() {
        let query = SearchQuery {
            q: Some("rust & go".into()),
            workplace: Some("remote".into()),
            seniority: Some("senior".into()),
            employment_type: Some("full_time".into()),
            location: Some("São Paulo".into()),
            salary_min: Some(90_000.0),
            salary_currency: Some("EUR".into()),
            limit: Some(20),
            ..SearchQuery::default()
        };
        let path = search_path(&query).unwrap();
        let params = path.strip_prefix("/jobs?").expect("the jobs path");
        assert!(!params.contains("skills") && !params.contains("sort"), "{params}");
        let read: SearchQuery = serde_urlencoded::from_str(params).unwrap();
        assert_eq!(read, query);
        assert_eq!(search_path(&SearchQuery::default()).unwrap(), "/jobs?");
    }

    #[test]
    fn ids_stay_one_path_segment() {
        assert_eq!(segment("job:abc"), "job:abc");
        assert_eq!(segment("a/b?c"), "a%2Fb%3Fc");
    }
}
