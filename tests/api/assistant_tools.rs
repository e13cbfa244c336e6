//! The assistant's tools with the real default chat model and the real embedding model,
//! through `services::assistant::answer`: a realistic message routes to each of the eight
//! tools; a write waits for a yes (and a no cancels it); citations resolve to the jobs the
//! fixtures created (ids read from the fixtures, not written here); a question nothing
//! answers gets "nothing found" and no citation.
//!
//! The model's wording is not judged: the tests check what code guarantees (which tool ran,
//! with which arguments, what is cited, what is stored, the events).

use std::path::Path;
use std::time::Instant;

use jobportal::core::config::{ChatBackend, ChatSettings, ServeConfig};
use jobportal::models::conversation::{CitationKind, ConversationMessage, MessageRole};
use jobportal::models::user::Role;
use jobportal::services::Principal;
use jobportal::services::assistant::{self, AssistantEvent, Reply};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::helpers::{Account, TestApp, fixture, spawn_app_with_chat};

/// The portal of these tests: one company's jobs, a candidate with a resume and one
/// application.
struct Portal {
    app: TestApp,
    candidate: Principal,
    rust_job: String,
    nurse_job: String,
    data_job: String,
    application: String,
}

async fn portal() -> Portal {
    let config = ServeConfig {
        models_dir: Path::new(env!("CARGO_MANIFEST_DIR")).join("models"),
        ..ServeConfig::default()
    };
    let chat = ChatSettings {
        backend: ChatBackend::Local { model: None },
        threads: 2,
        ..ChatSettings::default()
    };
    let app = spawn_app_with_chat(config, chat).await;
    let state = app.ctx.ai.load_embedder().await;
    assert_eq!(state.name(), "loaded", "the embedding model loads from models/embed");
    let owner = app.company_owner("owner@globex.test", "Globex").await;
    let mut ids = Vec::new();
    for (title, description, skills, workplace, city) in [
        (
            "Senior Rust Engineer",
            "Build streaming services in Rust on Kubernetes with PostgreSQL. The team is based in Berlin.",
            vec!["rust", "postgresql", "kubernetes"],
            "remote",
            "Berlin",
        ),
        ("Registered Nurse", "Night shifts on the cardiology ward.", vec![], "onsite", "Lisbon"),
        (
            "Python Data Engineer",
            "Data pipelines in Python and Airflow.",
            vec!["python", "airflow"],
            "hybrid",
            "Berlin",
        ),
    ] {
        let body = json!({
            "company": "globex", "title": title, "description": description, "workplace": workplace,
            "employment_type": "full_time", "skills": skills, "city": city, "country_code": "DE",
            "salary": {"min": 60000, "max": 80000, "currency": "EUR", "period": "year"}, "salary_public": true,
        });
        ids.push(app.post_job(&owner, &body).await);
    }
    jobportal::services::embeddings::sync_jobs(&app.ctx, |_| {})
        .await
        .expect("sync runs")
        .expect("model loaded");
    let account = app.register_verified("ann@candidates.test", "candidate").await;
    app.upload_resume(&account.access, "sample-resume.txt", &fixture("resumes/sample-resume.txt"))
        .await;
    let application = app.applied(&account, &ids[1]).await;
    let candidate = principal(&account);
    Portal {
        app,
        candidate,
        rust_job: ids[0].clone(),
        nurse_job: ids[1].clone(),
        data_job: ids[2].clone(),
        application,
    }
}

fn principal(account: &Account) -> Principal {
    Principal { user_id: account.id.clone(), role: Role::Candidate, session_id: "test".into() }
}

/// A conversation kept as the conversations service keeps it: each question, then the reply.
#[derive(Default)]
struct Chat {
    history: Vec<ConversationMessage>,
}

/// One turn's reply and the events it sent, in order.
struct Turn {
    reply: Reply,
    events: Vec<AssistantEvent>,
    seconds: f64,
}

impl Turn {
    fn tool(&self) -> Option<&str> {
        self.reply.tool_calls.first().map(|t| t.name.as_str())
    }

    fn cited(&self, kind: CitationKind) -> Vec<String> {
        self.reply.citations.iter().filter(|c| c.kind == kind).map(|c| c.id.clone()).collect()
    }
}

impl Chat {
    async fn ask(&mut self, portal: &Portal, content: &str) -> Turn {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let started = Instant::now();
        // The events are read while the answer is written: the first token's time is known.
        let answering = async {
            let reply =
                assistant::answer(&portal.app.ctx, &portal.candidate, &self.history, content, &tx)
                    .await;
            drop(tx);
            reply
        };
        let reading = async {
            let mut events = Vec::new();
            let mut first_token = None;
            while let Some(event) = rx.recv().await {
                if first_token.is_none() && matches!(event, AssistantEvent::Token(_)) {
                    first_token = Some(started.elapsed().as_secs_f64());
                }
                events.push(event);
            }
            (events, first_token)
        };
        let (reply, (events, first_token)) = tokio::join!(answering, reading);
        let reply = reply.unwrap_or_else(|e| panic!("{content:?}: {e}"));
        let seconds = started.elapsed().as_secs_f64();
        eprintln!(
            "{content:?} (first token {:.2} s, all {seconds:.2} s) → {:?}\n{}",
            first_token.unwrap_or(f64::NAN),
            reply.tool_calls,
            reply.content
        );
        check_events(content, &reply, &events);
        for (role, text) in [
            (MessageRole::User, content.to_owned()),
            (MessageRole::Assistant, reply.content.clone()),
        ] {
            let assistant = role == MessageRole::Assistant;
            self.history.push(ConversationMessage {
                id: format!("message:{}", self.history.len()),
                conversation_id: "conversation:test".into(),
                role,
                content: text,
                citations: if assistant { reply.citations.clone() } else { Vec::new() },
                tool_calls: if assistant { reply.tool_calls.clone() } else { Vec::new() },
                pending_action: if assistant { reply.pending_action.clone() } else { None },
                created_at: chrono::Utc::now(),
            });
        }
        Turn { reply, events, seconds }
    }
}

/// What every turn guarantees: tools announced before anything else, the tokens add up to
/// the reply, each citation sent once and before the token that shows its number, every
/// `[n]` of the text a citation and every citation in the text.
fn check_events(content: &str, reply: &Reply, events: &[AssistantEvent]) {
    let tools: Vec<_> = events
        .iter()
        .take_while(|e| matches!(e, AssistantEvent::Tool(_)))
        .map(|e| match e {
            AssistantEvent::Tool(step) => step.clone(),
            _ => unreachable!(),
        })
        .collect();
    assert_eq!(tools, reply.tool_calls, "{content:?}: tools first, as stored");
    let text: String = events
        .iter()
        .filter_map(|e| match e {
            AssistantEvent::Token(t) => Some(t.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(text.trim_end(), reply.content, "{content:?}: the tokens are the stored text");
    let citations: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            AssistantEvent::Citation(c) => Some(c.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(citations, reply.citations, "{content:?}: citation events are the stored citations");
    let mut shown = String::new();
    for event in events {
        match event {
            AssistantEvent::Token(t) => shown.push_str(t),
            AssistantEvent::Citation(c) => {
                assert!(
                    !shown.contains(&format!("[{}]", c.n)),
                    "{content:?}: [{}] shown before its citation",
                    c.n
                )
            }
            AssistantEvent::Tool(_) | AssistantEvent::Queued(_) => {}
        }
    }
    let numbers: Vec<u32> = regex::Regex::new(r"\[(\d+)(?:, (\d+))*\]")
        .unwrap()
        .captures_iter(&reply.content)
        .flat_map(|c| {
            c.iter().skip(1).flatten().map(|m| m.as_str().parse().unwrap()).collect::<Vec<u32>>()
        })
        .collect();
    for n in &numbers {
        assert!(
            reply.citations.iter().any(|c| c.n == *n),
            "{content:?}: [{n}] in the text but not cited: {}",
            reply.content
        );
    }
    for c in &reply.citations {
        assert!(numbers.contains(&c.n), "{content:?}: [{}] cited but not in the text", c.n);
    }
}

async fn saved_ids(portal: &Portal) -> Vec<String> {
    jobportal::services::saved::saved_jobs(&portal.app.ctx, &portal.candidate)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.saved.job_id)
        .collect()
}

#[tokio::test]
async fn a_realistic_message_routes_to_each_tool() {
    let portal = portal().await;
    let mut chat = Chat::default();
    let mut wrong = Vec::new();
    let mut expect = |turn: &Turn, message: &str, tool: &str| {
        if turn.tool() != Some(tool) {
            wrong.push(format!(
                "{message:?}: wanted {tool}, ran {:?}: {}",
                turn.reply.tool_calls, turn.reply.content
            ));
        }
        eprintln!("{tool}: {:.1} s", turn.seconds);
    };

    let message = "Are there any remote Rust jobs?";
    let turn = chat.ask(&portal, message).await;
    expect(&turn, message, "search_jobs");
    assert_eq!(
        turn.reply.tool_calls[0].arguments["workplace"], "remote",
        "{:?}",
        turn.reply.tool_calls
    );
    assert_eq!(
        turn.cited(CitationKind::Job),
        vec![portal.rust_job.clone()],
        "{}",
        turn.reply.content
    );

    let message = "Tell me more about [1]";
    let turn = chat.ask(&portal, message).await;
    expect(&turn, message, "get_job");
    assert_eq!(turn.cited(CitationKind::Job), vec![portal.rust_job.clone()]);

    let message = "Which jobs would you recommend for me?";
    let turn = chat.ask(&portal, message).await;
    expect(&turn, message, "recommend_jobs");
    // Recommendations leave out the job applied to.
    let recommended = turn.cited(CitationKind::Job);
    assert!(
        recommended.contains(&portal.rust_job) && !recommended.contains(&portal.nurse_job),
        "{recommended:?}"
    );

    let message = "What have I applied for so far?";
    let turn = chat.ask(&portal, message).await;
    expect(&turn, message, "my_applications");
    assert_eq!(turn.cited(CitationKind::Application), vec![portal.application.clone()]);

    let message = "Any update on my application to Globex?";
    let turn = chat.ask(&portal, message).await;
    expect(&turn, message, "application_status");
    assert_eq!(turn.cited(CitationKind::Application), vec![portal.application.clone()]);
    assert!(
        turn.reply.content.contains("applied"),
        "the stage comes from the record: {}",
        turn.reply.content
    );

    let message = "Find Python data engineering jobs in Berlin";
    let turn = chat.ask(&portal, message).await;
    expect(&turn, message, "search_jobs");
    assert_eq!(
        turn.cited(CitationKind::Job).first(),
        Some(&portal.data_job),
        "{}",
        turn.reply.content
    );

    let message = "What does my CV lack for job 1?";
    let turn = chat.ask(&portal, message).await;
    expect(&turn, message, "resume_feedback");
    assert_eq!(turn.cited(CitationKind::Job), vec![portal.data_job.clone()]);

    let message = "Please draft a cover letter for the first one";
    let turn = chat.ask(&portal, message).await;
    expect(&turn, message, "draft_cover_letter");
    assert!(turn.reply.content.len() > 100, "a letter: {}", turn.reply.content);
    // No application to that job: nothing to save it to, so nothing waits.
    assert_eq!(turn.reply.pending_action, None);

    let message = "Bookmark the first job for me";
    let turn = chat.ask(&portal, message).await;
    expect(&turn, message, "save_job");
    assert!(turn.reply.pending_action.is_some());

    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[tokio::test]
async fn a_write_waits_for_a_yes_and_a_no_cancels_it() {
    let portal = portal().await;
    let mut chat = Chat::default();
    let found = chat.ask(&portal, "Find full-time jobs in Berlin").await;
    let jobs = found.cited(CitationKind::Job);
    assert!(
        jobs.contains(&portal.rust_job) && jobs.contains(&portal.data_job),
        "{jobs:?}: {}",
        found.reply.content
    );
    let second =
        found.reply.citations.iter().find(|c| c.n == 2).expect("two jobs found").id.clone();

    // Asked to save: nothing saved yet, the question stored with the job's id.
    let asked = chat.ask(&portal, "Save [2]").await;
    assert_eq!(asked.tool(), Some("save_job"));
    let pending = asked.reply.pending_action.clone().expect("the save waits for a yes");
    assert_eq!(pending.tool, "save_job");
    assert_eq!(pending.arguments, json!({"job_id": second}));
    assert!(saved_ids(&portal).await.is_empty(), "saved before the yes");

    // Yes: saved, with the stored arguments (not re-read from "yes").
    let done = chat.ask(&portal, "yes").await;
    assert_eq!(done.reply.tool_calls.len(), 1);
    assert_eq!(done.reply.tool_calls[0].arguments, json!({"job_id": second}));
    assert_eq!(done.reply.pending_action, None);
    assert_eq!(saved_ids(&portal).await, vec![second.clone()]);
    assert!(
        done.events.iter().any(|e| matches!(e, AssistantEvent::Tool(s) if s.name == "save_job"))
    );

    // A second yes has nothing to confirm.
    let again = chat.ask(&portal, "yes").await;
    assert!(again.reply.tool_calls.is_empty());
    assert_eq!(again.reply.content, assistant::reply::NOTHING_TO_CONFIRM);

    // No cancels; the first job stays unsaved.
    let first = found.reply.citations.iter().find(|c| c.n == 1).unwrap().id.clone();
    let asked = chat.ask(&portal, "Save job 1").await;
    assert_eq!(
        asked.reply.pending_action.as_ref().map(|p| p.arguments.clone()),
        Some(json!({"job_id": first}))
    );
    let cancelled = chat.ask(&portal, "No").await;
    assert!(cancelled.reply.tool_calls.is_empty());
    let yes_later = chat.ask(&portal, "yes").await;
    assert!(yes_later.reply.tool_calls.is_empty(), "a cancelled write does not come back");
    assert_eq!(saved_ids(&portal).await, vec![second.clone()]);

    // Another question instead of an answer drops the write.
    chat.ask(&portal, "Save job 1").await;
    chat.ask(&portal, "What have I applied for so far?").await;
    chat.ask(&portal, "yes").await;
    assert_eq!(saved_ids(&portal).await, vec![second]);
}

#[tokio::test]
async fn citations_resolve_to_the_jobs_found_and_a_question_without_a_match_finds_nothing() {
    let portal = portal().await;
    let mut chat = Chat::default();
    let turn = chat.ask(&portal, "Show me jobs for a registered nurse").await;
    assert_eq!(turn.tool(), Some("search_jobs"));
    let first = turn.reply.citations.first().expect("a citation");
    assert_eq!(
        (first.n, first.kind, first.id.as_str()),
        (1, CitationKind::Job, portal.nurse_job.as_str())
    );
    assert_eq!(first.title, "Registered Nurse");
    // The facts of the list come from the record.
    assert!(
        turn.reply.content.contains("[1] Registered Nurse at Globex"),
        "{}",
        turn.reply.content
    );
    assert!(turn.reply.content.contains("60,000–80,000 EUR a year"), "{}", turn.reply.content);
    let numbers: Vec<u32> = turn.reply.citations.iter().map(|c| c.n).collect();
    assert_eq!(numbers, (1..=numbers.len() as u32).collect::<Vec<_>>(), "numbered from 1 in order");

    // "based" is in one description and no title: prose, which the search may leave out when
    // no job has every word; "registered nurse" must still match.
    let turn = chat.ask(&portal, "Find registered nurse roles based in Lisbon").await;
    assert_eq!(turn.tool(), Some("search_jobs"));
    assert_eq!(
        turn.cited(CitationKind::Job),
        vec![portal.nurse_job.clone()],
        "{}",
        turn.reply.content
    );

    let turn = chat.ask(&portal, "Find underwater basket weaving jobs in Antarctica").await;
    assert!(turn.reply.citations.is_empty(), "{:?}", turn.reply.citations);
    assert!(
        [assistant::reply::NOTHING_FOUND, assistant::tools::search_jobs::NO_MATCH]
            .contains(&turn.reply.content.as_str()),
        "{}",
        turn.reply.content
    );
    let value: Value = serde_json::to_value(&turn.reply.tool_calls).unwrap();
    eprintln!("no match: {value}");
}
