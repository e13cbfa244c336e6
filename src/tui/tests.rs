//! The app's behaviour, events in and state out, and its screens as text (ratatui's
//! TestBackend, snapshots with insta).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde_json::json;

use super::app::{App, Command, Event, Focus, JobsTab, Net, Screen};
use super::client::{ApiFailure, LetterEvent, StreamEvent};
use super::search::SearchField;
use super::view;
use crate::models::conversation::{Citation, CitationKind, MessageRole, PendingAction, ToolStep};
use crate::schemas::assistant::{ConversationBody, ConversationDetailBody, MessageBody};
use crate::schemas::job::{JobBody, JobSummaryBody, SearchQuery};
use crate::schemas::user::UserBody;

fn at() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(1_780_000_000, 0).unwrap()
}

fn user() -> UserBody {
    UserBody {
        id: "user:ada".into(),
        email: "ada@example.com".into(),
        full_name: "Ada Lovelace".into(),
        role: "candidate".into(),
        email_verified: true,
        disabled: false,
        discoverable: false,
        created_at: at(),
        updated_at: at(),
    }
}

fn conversation(id: &str, title: &str) -> ConversationBody {
    ConversationBody { id: id.into(), title: title.into(), created_at: at(), updated_at: at() }
}

fn key(code: KeyCode) -> Event {
    Event::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn with(code: KeyCode, modifiers: KeyModifiers) -> Event {
    Event::Key(KeyEvent::new(code, modifiers))
}

fn typed(app: &mut App, text: &str) {
    for c in text.chars() {
        assert!(app.update(key(KeyCode::Char(c))).is_empty());
    }
}

fn citation(n: u32, id: &str, title: &str) -> Citation {
    Citation { n, kind: CitationKind::Job, id: id.into(), title: title.into() }
}

fn answer(content: &str, citations: Vec<Citation>) -> MessageBody {
    MessageBody {
        id: "m2".into(),
        role: MessageRole::Assistant,
        content: content.into(),
        citations,
        tool_calls: vec![ToolStep {
            name: "search_jobs".into(),
            arguments: json!({"q": "rust", "workplace": "remote"}),
        }],
        pending_action: None,
        created_at: at(),
    }
}

/// Signed in, with one open conversation and nothing in it.
fn chat_app(width: u16, height: u16) -> App {
    let (mut app, commands) = App::new("http://127.0.0.1:8080", width, height).signed_in(user());
    assert_eq!(commands, vec![Command::ListConversations]);
    let commands = app.update(Event::Net(Net::Conversations(Ok(vec![
        conversation("c1", "Remote Rust jobs?"),
        conversation("c2", "My applications"),
    ]))));
    assert_eq!(commands, vec![Command::LoadConversation("c1".into())]);
    app.update(Event::Net(Net::Loaded(Ok(ConversationDetailBody {
        conversation: conversation("c1", "Remote Rust jobs?"),
        messages: Vec::new(),
    }))));
    app
}

/// Sends `question` and returns the stream's number.
fn ask(app: &mut App, question: &str) -> u64 {
    typed(app, question);
    match app.update(key(KeyCode::Enter)).as_slice() {
        [Command::Ask { stream, conversation, content }] => {
            assert_eq!(conversation, "c1");
            assert_eq!(content, question);
            *stream
        }
        other => panic!("expected one Ask, got {other:?}"),
    }
}

fn stream(app: &mut App, id: u64, event: StreamEvent) {
    // A finished first answer asks for the list again (its title); nothing else is asked for.
    let commands = app.update(Event::Net(Net::Stream(id, event)));
    assert!(commands.iter().all(|c| *c == Command::ListConversations), "{commands:?}");
}

fn render(app: &App) -> String {
    let mut terminal = Terminal::new(TestBackend::new(app.width, app.height)).unwrap();
    terminal.draw(|f| view::view(app, f)).unwrap();
    let buffer = terminal.backend().buffer();
    let mut out = String::new();
    for y in 0..buffer.area.height {
        let line: String =
            (0..buffer.area.width).map(|x| buffer[(x, y)].symbol().to_owned()).collect();
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

const ANSWER: &str = "Two remote **Rust** jobs match:\n\n- Backend engineer at Acme [1]\n- Platform engineer at Globex [2]\n\n```\ncargo run\n```";

#[test]
fn a_stream_arriving_in_pieces_gives_the_text_once_without_loss_or_duplicates() {
    let mut app = chat_app(80, 24);
    let id = ask(&mut app, "remote rust jobs");
    assert!(app.is_streaming());
    // Split at every few bytes (on character boundaries), including inside markup and "[1]".
    let chars: Vec<char> = ANSWER.chars().collect();
    for piece in chars.chunks(3) {
        stream(&mut app, id, StreamEvent::Token(piece.iter().collect()));
    }
    assert_eq!(app.streaming.as_ref().unwrap().text, ANSWER);
    let screen = render(&app);
    assert_eq!(screen.matches("Backend engineer at Acme").count(), 1, "{screen}");
    stream(
        &mut app,
        id,
        StreamEvent::Done(answer(ANSWER, vec![citation(1, "job:acme", "Backend engineer")])),
    );
    assert!(!app.is_streaming());
    let last = app.messages.last().unwrap();
    assert_eq!(last.content, ANSWER);
    assert_eq!(app.messages.len(), 2);
    let screen = render(&app);
    assert_eq!(screen.matches("Backend engineer at Acme").count(), 1, "{screen}");
    // A late token of the finished answer changes nothing.
    stream(&mut app, id, StreamEvent::Token("again".into()));
    assert_eq!(app.messages.len(), 2);
    assert!(!render(&app).contains("again"));
}

#[test]
fn tool_steps_and_citations_arrive_before_the_text_and_show_compactly() {
    let mut app = chat_app(80, 24);
    let id = ask(&mut app, "remote rust jobs");
    stream(
        &mut app,
        id,
        StreamEvent::Tool(ToolStep {
            name: "search_jobs".into(),
            arguments: json!({"q": "rust", "workplace": "remote"}),
        }),
    );
    stream(&mut app, id, StreamEvent::Citation(citation(1, "job:acme", "Backend engineer")));
    stream(&mut app, id, StreamEvent::Citation(citation(1, "job:acme", "Backend engineer")));
    stream(&mut app, id, StreamEvent::Token("See [1].".into()));
    let s = app.streaming.as_ref().unwrap();
    assert_eq!(s.citations.len(), 1, "a citation repeated is listed once");
    let screen = render(&app);
    assert!(screen.contains("⚙ searching jobs: rust, remote"), "{screen}");
    assert!(screen.contains("[1] Backend engineer (job)"), "{screen}");
}

#[test]
fn an_answer_waiting_for_the_model_shows_its_place_until_it_starts() {
    let mut app = chat_app(80, 24);
    let id = ask(&mut app, "rust jobs");
    assert!(render(&app).contains("answering… Esc stops"));
    stream(&mut app, id, StreamEvent::Queued(2));
    assert!(render(&app).contains("waiting for the model: 2 answers first… Esc stops"));
    stream(&mut app, id, StreamEvent::Queued(1));
    assert!(render(&app).contains("waiting for the model: 1 answer first…"));
    stream(&mut app, id, StreamEvent::Token("Two jobs".into()));
    let screen = render(&app);
    assert!(screen.contains("answering…") && !screen.contains("waiting"), "{screen}");
}

#[test]
fn esc_stops_a_stream_keeps_its_text_and_ignores_what_comes_after() {
    let mut app = chat_app(80, 24);
    let id = ask(&mut app, "remote rust jobs");
    stream(&mut app, id, StreamEvent::Token("Two jobs".into()));
    assert_eq!(app.update(key(KeyCode::Esc)), vec![Command::Cancel(id)]);
    assert!(!app.is_streaming());
    assert_eq!(app.messages.last().unwrap().content, "Two jobs [stopped]");
    stream(&mut app, id, StreamEvent::Token(" more".into()));
    stream(&mut app, id, StreamEvent::Done(answer("Two jobs more", vec![])));
    assert_eq!(app.messages.len(), 2);
    // Ctrl+C stops too, and only quits when nothing streams.
    let id = ask(&mut app, "again");
    assert_eq!(
        app.update(with(KeyCode::Char('c'), KeyModifiers::CONTROL)),
        vec![Command::Cancel(id)]
    );
    assert_eq!(app.update(with(KeyCode::Char('c'), KeyModifiers::CONTROL)), vec![Command::Quit]);
}

#[test]
fn a_second_question_while_streaming_is_refused_and_kept() {
    let mut app = chat_app(80, 24);
    ask(&mut app, "first");
    typed(&mut app, "second");
    assert!(app.update(key(KeyCode::Enter)).is_empty());
    assert_eq!(app.input.text, "second");
    let status = app.status.as_ref().unwrap();
    assert!(status.error && status.text.contains("Esc to stop it"), "{status:?}");
}

#[test]
fn enter_sends_while_alt_enter_ctrl_j_and_pastes_insert_newlines() {
    let mut app = chat_app(80, 24);
    typed(&mut app, "line one");
    app.update(with(KeyCode::Enter, KeyModifiers::ALT));
    typed(&mut app, "two");
    app.update(with(KeyCode::Char('j'), KeyModifiers::CONTROL));
    app.update(Event::Paste("three\r\nfour".into()));
    assert_eq!(app.input.text, "line one\ntwo\nthree\nfour");
    match app.update(key(KeyCode::Enter)).as_slice() {
        [Command::Ask { content, .. }] => assert_eq!(content, "line one\ntwo\nthree\nfour"),
        other => panic!("{other:?}"),
    }
    assert!(app.input.text.is_empty());
}

#[test]
fn the_header_takes_the_title_the_server_gave_the_open_conversation() {
    let mut app = chat_app(80, 24);
    app.update(Event::Net(Net::Conversations(Ok(vec![
        conversation("c1", "Remote Rust jobs in Berlin"),
        conversation("c2", "My applications"),
    ]))));
    assert_eq!(app.current, Some(("c1".into(), "Remote Rust jobs in Berlin".into())));
    assert!(render(&app).contains("assistant · Remote Rust jobs in Berlin"));
}

#[test]
fn a_first_question_without_a_conversation_creates_one_then_asks() {
    let (mut app, _) = App::new("http://s", 80, 24).signed_in(user());
    app.update(Event::Net(Net::Conversations(Ok(Vec::new()))));
    typed(&mut app, "hello");
    assert_eq!(app.update(key(KeyCode::Enter)), vec![Command::CreateConversation]);
    let commands = app.update(Event::Net(Net::Created(Ok(conversation("c9", "New conversation")))));
    assert!(
        matches!(commands.as_slice(), [Command::Ask { conversation, content, .. }] if conversation == "c9" && content == "hello")
    );
    assert_eq!(app.conversations[0].id, "c9");
}

#[test]
fn a_pending_confirmation_is_answered_with_y_or_n() {
    let mut app = chat_app(80, 24);
    let id = ask(&mut app, "save the acme job");
    let mut message = answer("Save “Backend engineer” to your saved jobs?", vec![]);
    message.pending_action = Some(PendingAction {
        tool: "save_job".into(),
        arguments: json!({"job_id": "job:acme"}),
        summary: "Save “Backend engineer” to your saved jobs?".into(),
    });
    stream(&mut app, id, StreamEvent::Done(message));
    assert!(app.pending_confirmation().is_some());
    assert!(render(&app).contains("y: yes  n: no"));
    assert!(
        matches!(app.update(key(KeyCode::Char('y'))).as_slice(), [Command::Ask { content, .. }] if content == "yes")
    );
}

#[test]
fn conversations_are_switched_and_deleted_after_a_yes() {
    let mut app = chat_app(80, 24);
    app.update(key(KeyCode::Tab));
    assert_eq!(app.focus, Focus::List);
    app.update(key(KeyCode::Down));
    assert_eq!(app.update(key(KeyCode::Enter)), vec![Command::LoadConversation("c2".into())]);
    assert_eq!(app.current.as_ref().unwrap().0, "c2");
    app.update(key(KeyCode::Tab));
    assert!(app.update(key(KeyCode::Char('d'))).is_empty());
    assert!(app.update(key(KeyCode::Char('x'))).is_empty(), "anything but y keeps it");
    app.update(key(KeyCode::Char('d')));
    assert_eq!(app.update(key(KeyCode::Char('y'))), vec![Command::DeleteConversation("c2".into())]);
    app.update(Event::Net(Net::Deleted("c2".into(), Ok(()))));
    assert_eq!(app.conversations.len(), 1);
    assert!(app.current.is_none());
    assert_eq!(
        app.update(with(KeyCode::Char('n'), KeyModifiers::CONTROL)),
        vec![Command::CreateConversation]
    );
}

#[test]
fn the_view_stays_where_the_user_scrolled_while_text_arrives_and_follows_at_the_bottom() {
    let mut app = chat_app(80, 24);
    let id = ask(&mut app, "long");
    let long: String = (1..=60).map(|i| format!("line {i}\n\n")).collect();
    stream(&mut app, id, StreamEvent::Token(long));
    assert!(app.scroll.is_none(), "pinned to the bottom");
    assert!(render(&app).contains("line 60"));
    app.update(key(KeyCode::PageUp));
    let top = app.scroll.expect("scrolled up");
    let before = render(&app);
    stream(&mut app, id, StreamEvent::Token("line 61\n".into()));
    assert_eq!(app.scroll, Some(top));
    assert_eq!(render(&app).lines().nth(3), before.lines().nth(3), "what the user reads stays put");
    assert!(render(&app).contains("more lines (PgDn)"));
    for _ in 0..20 {
        app.update(key(KeyCode::PageDown));
    }
    assert!(app.scroll.is_none(), "back at the bottom, pinned again");
    stream(&mut app, id, StreamEvent::Token("\nline 62".into()));
    assert!(render(&app).contains("line 62"));
}

#[test]
fn failures_become_a_status_line_with_what_to_do() {
    let mut app = chat_app(80, 24);
    let id = ask(&mut app, "hi");
    app.update(Event::Net(Net::StreamFailed(
        id,
        ApiFailure::Unavailable { retry_after: Some(7), message: "the model is busy".into() },
    )));
    assert!(app.status.as_ref().unwrap().text.contains("try again in 7 s"));
    assert!(!app.is_streaming());
    app.update(Event::Net(Net::Conversations(Err(ApiFailure::Unreachable(
        "cannot connect".into(),
    )))));
    assert!(app.status.as_ref().unwrap().text.contains("jobportal serve"));
    app.update(Event::Net(Net::Conversations(Err(ApiFailure::RateLimited {
        retry_after: Some(30),
        message: String::new(),
    }))));
    assert!(app.status.as_ref().unwrap().text.contains("wait 30 s"));
    let id = ask(&mut app, "again");
    stream(&mut app, id, StreamEvent::Error { code: "model_busy".into(), message: "busy".into() });
    assert!(app.status.as_ref().unwrap().text.contains("busy"));
    app.update(Event::Net(Net::Conversations(Err(ApiFailure::Unauthorized(
        "session ended".into(),
    )))));
    assert_eq!(app.screen, Screen::SignIn);
    assert!(app.status.as_ref().unwrap().text.contains("sign in again"));
}

#[test]
fn the_sign_in_form_sends_the_credentials_and_shows_a_wrong_password() {
    let mut app = App::new("http://s", 80, 24);
    typed(&mut app, "ada@example.com");
    app.update(key(KeyCode::Enter));
    typed(&mut app, "secret pw");
    assert_eq!(
        app.update(key(KeyCode::Enter)),
        vec![Command::SignIn { email: "ada@example.com".into(), password: "secret pw".into() }]
    );
    app.update(Event::Net(Net::SignedIn(Err(ApiFailure::Unauthorized("bad".into())))));
    assert_eq!(app.screen, Screen::SignIn);
    assert!(app.sign_in.password.is_empty());
    assert!(app.status.as_ref().unwrap().text.contains("Wrong email or password"));
    typed(&mut app, "right");
    app.update(key(KeyCode::Enter));
    assert_eq!(app.update(Event::Net(Net::SignedIn(Ok(user())))), vec![Command::ListConversations]);
    assert_eq!(app.screen, Screen::Chat);
}

#[test]
fn alt_number_opens_the_cited_job_and_s_saves_it() {
    let mut app = chat_app(80, 24);
    let id = ask(&mut app, "rust");
    stream(
        &mut app,
        id,
        StreamEvent::Done(answer(ANSWER, vec![citation(1, "job:acme", "Backend engineer")])),
    );
    assert!(app.update(with(KeyCode::Char('2'), KeyModifiers::ALT)).is_empty());
    assert_eq!(
        app.update(with(KeyCode::Char('1'), KeyModifiers::ALT)),
        vec![Command::LoadJob("job:acme".into())]
    );
    assert_eq!(app.screen, Screen::Job);
    assert!(app.update(key(KeyCode::Char('s'))).is_empty(), "nothing to save before it loaded");
}

#[test]
fn help_lists_every_key_and_closes_with_esc() {
    let mut app = chat_app(80, 24);
    app.update(key(KeyCode::Char('?')));
    assert!(app.help);
    let screen = render(&app);
    for (k, _) in view::help_keys(Screen::Chat) {
        assert!(screen.contains(k), "{k} missing from\n{screen}");
    }
    app.update(key(KeyCode::Esc));
    assert!(!app.help);
    typed(&mut app, "what?");
    assert!(!app.help, "? in a message is a character");
    assert_eq!(app.input.text, "what?");
}

fn finished_chat(width: u16, height: u16) -> App {
    let mut app = chat_app(width, height);
    let id = ask(&mut app, "remote rust jobs");
    stream(
        &mut app,
        id,
        StreamEvent::Tool(ToolStep {
            name: "search_jobs".into(),
            arguments: json!({"q": "rust", "workplace": "remote"}),
        }),
    );
    stream(
        &mut app,
        id,
        StreamEvent::Done(answer(
            ANSWER,
            vec![
                citation(1, "job:acme", "Backend engineer"),
                citation(2, "job:globex", "Platform engineer"),
            ],
        )),
    );
    app
}

#[test]
fn snapshot_chat_80x24() {
    insta::assert_snapshot!(render(&finished_chat(80, 24)));
}

#[test]
fn snapshot_chat_streaming_80x24() {
    let mut app = chat_app(80, 24);
    let id = ask(&mut app, "remote rust jobs");
    stream(
        &mut app,
        id,
        StreamEvent::Tool(ToolStep { name: "search_jobs".into(), arguments: json!({"q": "rust"}) }),
    );
    for piece in
        ["Two remote **Ru", "st** jobs match:\n\n- Backend engi", "neer at Acme [1]\n```\ncargo"]
    {
        stream(&mut app, id, StreamEvent::Token(piece.into()));
    }
    insta::assert_snapshot!(render(&app));
}

#[test]
fn snapshot_chat_after_resize() {
    let mut app = finished_chat(80, 24);
    app.update(Event::Resize(60, 16));
    insta::assert_snapshot!(render(&app));
    app.update(Event::Resize(100, 30));
    insta::assert_snapshot!("snapshot_chat_after_resize_wide", render(&app));
}

#[test]
fn snapshot_help_80x24() {
    let mut app = chat_app(80, 24);
    app.update(key(KeyCode::F(1)));
    insta::assert_snapshot!(render(&app));
}

#[test]
fn snapshot_sign_in_80x24() {
    let mut app = App::new("http://127.0.0.1:8080", 80, 24);
    typed(&mut app, "ada@example.com");
    app.update(key(KeyCode::Tab));
    typed(&mut app, "secret");
    insta::assert_snapshot!(render(&app));
}

/// A job as the API answers it.
fn job() -> crate::schemas::job::JobBody {
    serde_json::from_value(json!({
        "id": "job:evenup", "title": "Senior Data Engineer - Analytics",
        "company": {"id": "co:evenup", "slug": "evenup", "name": "EvenUp", "verified": false},
        "location": {"city": "San Francisco", "region": "CA", "country_code": "US"},
        "locations": [{"city": "San Francisco", "region": "CA", "country_code": "US"}],
        "workplace": "hybrid", "employment_type": "full_time", "seniority": "senior",
        "salary": {"min": 180000.0, "max": 220000.0, "currency": "USD", "period": "year"},
        "skills": ["sql", "data models", "python"], "category": "ai-ml", "tags": [],
        "apply_url": null, "posted_at": null, "expires_at": null,
        "description": "What you will do:\n- Develop data models for applications.\n- Design data pipelines in **Python**.",
        "remote_regions": [], "view_count": 3, "status": null, "review": null, "source": null,
        "created_at": null, "updated_at": null
    }))
    .expect("a job body")
}

/// The chat app with the cited job open on the job screen.
fn job_app(width: u16, height: u16) -> App {
    let mut app = chat_app(width, height);
    let id = ask(&mut app, "data jobs");
    stream(
        &mut app,
        id,
        StreamEvent::Done(answer(
            "[1] Senior Data Engineer",
            vec![citation(1, "job:evenup", "Senior Data Engineer - Analytics")],
        )),
    );
    assert_eq!(
        app.update(with(KeyCode::Char('1'), KeyModifiers::ALT)),
        vec![Command::LoadJob("job:evenup".into())]
    );
    app.update(Event::Net(Net::Job("job:evenup".into(), Ok(job()))));
    app
}

/// Presses `c` on the job screen and returns the draft's stream number.
fn draft(app: &mut App) -> u64 {
    match app.update(key(KeyCode::Char('c'))).as_slice() {
        [Command::DraftLetter { stream, job_id }] => {
            assert_eq!(job_id, "job:evenup");
            *stream
        }
        other => panic!("expected one DraftLetter, got {other:?}"),
    }
}

#[test]
fn c_drafts_a_letter_that_streams_into_the_form_then_is_edited_and_applied_with() {
    let mut app = job_app(80, 24);
    let id = draft(&mut app);
    for piece in ["Dear Even", "Up team,\n", "I design data"] {
        assert!(
            app.update(Event::Net(Net::Letter(id, LetterEvent::Token(piece.into())))).is_empty()
        );
    }
    assert_eq!(app.job.letter.as_ref().unwrap().text, "Dear EvenUp team,\nI design data");
    typed(&mut app, "xyz");
    assert_eq!(
        app.job.letter.as_ref().unwrap().text,
        "Dear EvenUp team,\nI design data",
        "no typing into a draft being written"
    );
    let whole = "Dear EvenUp team,\nI design data models.";
    app.update(Event::Net(Net::Letter(
        id,
        LetterEvent::Done { draft: whole.into(), from_model: true },
    )));
    assert_eq!(app.job.drafting, None);
    assert!(app.status.as_ref().unwrap().text.contains("written by the model"));
    typed(&mut app, " Thanks.");
    assert!(app.update(with(KeyCode::Char('s'), KeyModifiers::CONTROL)).is_empty());
    assert_eq!(
        app.update(key(KeyCode::Char('y'))),
        vec![Command::Apply {
            job_id: "job:evenup".into(),
            cover_letter: format!("{whole} Thanks.")
        }]
    );
}

#[test]
fn esc_stops_a_draft_keeps_its_text_and_ignores_what_comes_after() {
    let mut app = job_app(80, 24);
    let id = draft(&mut app);
    app.update(Event::Net(Net::Letter(id, LetterEvent::Token("Dear EvenUp".into()))));
    assert_eq!(app.update(key(KeyCode::Esc)), vec![Command::Cancel(id)]);
    app.update(Event::Net(Net::Letter(id, LetterEvent::Token(" team".into()))));
    app.update(Event::Net(Net::Letter(
        id,
        LetterEvent::Done { draft: "other".into(), from_model: false },
    )));
    assert_eq!(app.job.letter.as_ref().unwrap().text, "Dear EvenUp");
    typed(&mut app, "!");
    assert_eq!(app.job.letter.as_ref().unwrap().text, "Dear EvenUp!", "editable once stopped");
    // A draft that fails says why and leaves the form.
    app.update(key(KeyCode::Esc));
    let id = draft(&mut app);
    app.update(Event::Net(Net::Letter(
        id,
        LetterEvent::Error { code: "model_busy".into(), message: "the chat model is busy".into() },
    )));
    assert_eq!(app.job.drafting, None);
    assert!(app.status.as_ref().unwrap().error);
}

#[test]
fn snapshot_job_with_a_letter_drafting_80x24() {
    let mut app = job_app(80, 24);
    let id = draft(&mut app);
    app.update(Event::Net(Net::Letter(
        id,
        LetterEvent::Token("Dear EvenUp team,\n\nI design data models in Python".into()),
    )));
    insta::assert_snapshot!(render(&app));
}

/// A job's summary as lists answer it.
fn summary(id: &str, title: &str, company: &str) -> serde_json::Value {
    json!({
        "id": id, "title": title,
        "company": {"id": format!("co:{company}"), "slug": company.to_lowercase(), "name": company, "verified": true},
        "location": {"city": "Berlin", "region": null, "country_code": "DE"},
        "locations": [{"city": "Berlin", "region": null, "country_code": "DE"}],
        "workplace": "remote", "employment_type": "full_time", "seniority": "senior",
        "salary": null, "skills": ["rust", "postgresql"], "category": null, "tags": [],
        "apply_url": null, "posted_at": null, "expires_at": null
    })
}

#[test]
fn snapshot_jobs_recommended_80x24() {
    let mut app = chat_app(80, 24);
    assert_eq!(app.update(key(KeyCode::F(3))), vec![Command::Recommendations]);
    let recommended = serde_json::from_value(json!([
        {
            "job": summary("job:acme", "Backend Engineer (Rust)", "Acme"),
            "score": 0.82,
            "explanation": {
                "similarity": 0.71, "matched_skills": ["rust", "postgresql"],
                "missing_skills": ["kubernetes"], "skills_summary": "2 of 3 skills match",
                "reasons": [{"factor": "skills", "effect": 0.4, "detail": "you know rust and postgresql"}]
            }
        },
        {
            "job": summary("job:globex", "Platform Engineer", "Globex"),
            "score": 0.64,
            "explanation": {
                "similarity": 0.58, "matched_skills": ["rust"], "missing_skills": ["go", "terraform"],
                "skills_summary": "1 of 3 skills match", "reasons": []
            }
        }
    ]))
    .expect("recommendation bodies");
    app.update(Event::Net(Net::Recommendations(Ok(recommended))));
    insta::assert_snapshot!(render(&app));
}

#[test]
fn snapshot_applications_with_a_history_80x24() {
    let mut app = chat_app(80, 24);
    assert_eq!(app.update(key(KeyCode::F(4))), vec![Command::Applications]);
    let application = |id: &str, job: serde_json::Value, stage: &str| {
        json!({
            "id": id, "job_id": job["id"], "company_id": job["company"]["id"], "resume_id": "r1",
            "stage": stage, "rejection_reason": null, "cover_letter": "", "cover_letter_editable": false,
            "viewed_at": "2026-01-03T09:00:00Z", "created_at": "2026-01-02T09:00:00Z",
            "updated_at": "2026-01-04T09:00:00Z", "job": job, "candidate": null
        })
    };
    let items = serde_json::from_value(json!([
        application("a1", summary("job:acme", "Backend Engineer (Rust)", "Acme"), "interview"),
        application("a2", summary("job:globex", "Platform Engineer", "Globex"), "applied"),
    ]))
    .expect("application bodies");
    app.update(Event::Net(Net::Applications(Ok(items))));
    assert_eq!(app.update(key(KeyCode::Enter)), vec![Command::History("a1".into())]);
    let history = serde_json::from_value(json!([
        {"from": null, "to": "applied", "by": "candidate", "actor_id": null, "reason": null, "note": null, "at": "2026-01-02T09:00:00Z"},
        {"from": "applied", "to": "screening", "by": "employer", "actor_id": null, "reason": null, "note": null, "at": "2026-01-03T10:00:00Z"},
        {"from": "screening", "to": "interview", "by": "employer", "actor_id": null, "reason": null, "note": "Call on Friday", "at": "2026-01-04T09:00:00Z"}
    ]))
    .expect("stage event bodies");
    app.update(Event::Net(Net::History("a1".into(), Ok(history))));
    insta::assert_snapshot!(render(&app));
}

/// The chat app switched to the jobs screen, with nothing recommended.
fn jobs_app() -> App {
    let mut app = chat_app(80, 24);
    assert_eq!(app.update(key(KeyCode::F(3))), vec![Command::Recommendations]);
    app.update(Event::Net(Net::Recommendations(Ok(Vec::new()))));
    app
}

/// Opens the search form and fills every field: rust, remote, senior, full time, Berlin and
/// 90k EUR; the focus stays on the salary.
fn fill_search(app: &mut App) {
    assert!(app.update(key(KeyCode::Char('/'))).is_empty());
    assert_eq!(app.jobs.form.focus, Some(SearchField::Words));
    // `r` and `j` are keys of the list; in the form they are letters.
    typed(app, "rust");
    app.update(key(KeyCode::Tab));
    for _ in 0..3 {
        app.update(key(KeyCode::Right)); // onsite, hybrid, remote
    }
    app.update(key(KeyCode::Tab));
    for _ in 0..4 {
        app.update(key(KeyCode::Right)); // intern, junior, mid, senior
    }
    app.update(key(KeyCode::Down));
    app.update(key(KeyCode::Char(' '))); // full time
    app.update(key(KeyCode::Tab));
    typed(app, "Berlin");
    app.update(key(KeyCode::Tab));
    typed(app, "90k eur");
}

/// What [`fill_search`] asks for.
fn filtered_query() -> SearchQuery {
    SearchQuery {
        q: Some("rust".into()),
        location: Some("Berlin".into()),
        workplace: Some("remote".into()),
        seniority: Some("senior".into()),
        employment_type: Some("full_time".into()),
        salary_min: Some(90_000.0),
        salary_currency: Some("EUR".into()),
        limit: Some(20),
        ..SearchQuery::default()
    }
}

/// Search results: two job summaries.
fn results() -> Vec<JobSummaryBody> {
    serde_json::from_value(json!([
        summary("job:acme", "Backend Engineer (Rust)", "Acme"),
        summary("job:globex", "Platform Engineer", "Globex"),
    ]))
    .expect("job summaries")
}

#[test]
fn the_search_form_sends_the_words_and_the_filters_chosen() {
    let mut app = jobs_app();
    fill_search(&mut app);
    assert_eq!(app.update(key(KeyCode::Enter)), vec![Command::Search(filtered_query())]);
    assert!(!app.jobs.form.is_open());
    assert_eq!(app.jobs.tab, JobsTab::Search);
    assert_eq!(app.jobs.searched, Some(filtered_query()));

    // Opened again, the form has what was chosen: up from the words wraps to the salary,
    // Ctrl+U empties it, and ← takes the type back to any.
    app.update(key(KeyCode::Char('/')));
    app.update(key(KeyCode::Up));
    assert_eq!(app.jobs.form.focus, Some(SearchField::Salary));
    app.update(with(KeyCode::Char('u'), KeyModifiers::CONTROL));
    app.update(with(KeyCode::BackTab, KeyModifiers::SHIFT));
    app.update(key(KeyCode::Up));
    assert_eq!(app.jobs.form.focus, Some(SearchField::EmploymentType));
    app.update(key(KeyCode::Left));
    let expected = SearchQuery {
        employment_type: None,
        salary_min: None,
        salary_currency: None,
        ..filtered_query()
    };
    assert_eq!(app.update(key(KeyCode::Enter)), vec![Command::Search(expected)]);
}

#[test]
fn esc_closes_the_search_form_without_searching_and_keeps_what_was_typed() {
    let mut app = jobs_app();
    fill_search(&mut app);
    assert!(app.update(key(KeyCode::Esc)).is_empty());
    assert!(!app.jobs.form.is_open());
    assert_eq!(app.jobs.searched, None);
    assert_eq!(app.screen, Screen::Jobs, "Esc leaves the form, not the screen");
    app.update(key(KeyCode::Char('/')));
    assert_eq!(app.update(key(KeyCode::Enter)), vec![Command::Search(filtered_query())]);
}

#[test]
fn a_salary_without_a_currency_is_refused_before_anything_is_sent() {
    let mut app = jobs_app();
    app.update(key(KeyCode::Char('/')));
    app.update(with(KeyCode::BackTab, KeyModifiers::SHIFT));
    typed(&mut app, "90000");
    app.update(key(KeyCode::Up));
    assert!(app.update(key(KeyCode::Enter)).is_empty());
    assert_eq!(app.jobs.form.focus, Some(SearchField::Salary), "the focus goes to the salary");
    let status = app.status.as_ref().unwrap();
    assert!(status.error && status.text.contains("e.g. 90000 EUR"), "{status:?}");
    app.update(key(KeyCode::End));
    typed(&mut app, " EUR");
    match app.update(key(KeyCode::Enter)).as_slice() {
        [Command::Search(query)] => {
            assert_eq!(query.salary_min, Some(90_000.0));
            assert_eq!(query.salary_currency.as_deref(), Some("EUR"));
        }
        other => panic!("expected one Search, got {other:?}"),
    }
}

/// A job as the API answers it, under another id and title.
fn job_with(id: &str, title: &str) -> JobBody {
    let mut body = job();
    body.summary.id = id.into();
    body.summary.title = title.into();
    body
}

#[test]
fn answers_about_a_job_left_behind_do_not_change_the_job_open() {
    let mut app = jobs_app();
    app.update(key(KeyCode::Char('/')));
    app.update(key(KeyCode::Enter));
    app.update(Event::Net(Net::Search(Ok(results()))));
    assert_eq!(app.update(key(KeyCode::Enter)), vec![Command::LoadJob("job:acme".into())]);
    app.update(key(KeyCode::Esc));
    app.update(key(KeyCode::Down));
    assert_eq!(app.update(key(KeyCode::Enter)), vec![Command::LoadJob("job:globex".into())]);

    // The first job's answers, late: neither its body nor its failure is the open job's.
    let status = app.status.clone();
    app.update(Event::Net(Net::Job("job:acme".into(), Ok(job_with("job:acme", "Acme job")))));
    app.update(Event::Net(Net::Job("job:acme".into(), Err(ApiFailure::Unreachable("x".into())))));
    assert!(app.job.job.is_none() && app.job.loading, "still loading the second job");
    assert_eq!(app.status, status);
    app.update(Event::Net(Net::Job("job:globex".into(), Ok(job_with("job:globex", "Globex job")))));
    assert_eq!(app.job.job.as_ref().unwrap().summary.id, "job:globex");

    // A save of the first job, answered now, does not mark the second saved.
    app.update(Event::Net(Net::JobSaved("job:acme".into(), Ok(()))));
    assert!(!app.job.saved);
    assert_eq!(app.update(key(KeyCode::Char('s'))), vec![Command::SaveJob("job:globex".into())]);
    app.update(Event::Net(Net::JobSaved("job:globex".into(), Ok(()))));
    assert!(app.job.saved);
}

#[test]
fn help_on_every_screen_lists_all_its_keys() {
    let mut jobs = jobs_app();
    jobs.update(key(KeyCode::Char('?')));
    let mut job = job_app(80, 24);
    job.update(key(KeyCode::Char('?')));
    let mut applications = chat_app(80, 24);
    applications.update(key(KeyCode::F(4)));
    applications.update(key(KeyCode::Char('?')));
    for app in [jobs, job, applications] {
        assert!(app.help);
        let screen = render(&app);
        for (k, what) in view::help_keys(app.screen) {
            assert!(screen.contains(k) && screen.contains(what), "{k} missing from\n{screen}");
        }
    }
}

#[test]
fn snapshot_jobs_search_form_80x24() {
    let mut app = jobs_app();
    fill_search(&mut app);
    for _ in 0..3 {
        app.update(key(KeyCode::Up));
    }
    assert_eq!(app.jobs.form.focus, Some(SearchField::Seniority));
    insta::assert_snapshot!(render(&app));
}

#[test]
fn snapshot_jobs_search_results_with_filters_80x24() {
    let mut app = jobs_app();
    fill_search(&mut app);
    app.update(key(KeyCode::Enter));
    app.update(Event::Net(Net::Search(Ok(results()))));
    insta::assert_snapshot!(render(&app));
}

#[test]
fn snapshot_job_saved_and_applied_80x24() {
    let mut app = job_app(80, 24);
    assert_eq!(app.update(key(KeyCode::Char('s'))), vec![Command::SaveJob("job:evenup".into())]);
    app.update(Event::Net(Net::JobSaved("job:evenup".into(), Ok(()))));
    app.update(key(KeyCode::Char('a')));
    app.update(with(KeyCode::Char('s'), KeyModifiers::CONTROL));
    assert!(matches!(app.update(key(KeyCode::Char('y'))).as_slice(), [Command::Apply { .. }]));
    app.update(Event::Net(Net::Applied("job:evenup".into(), Ok(()))));
    insta::assert_snapshot!(render(&app));
}

#[test]
fn snapshot_job_apply_confirmation_80x24() {
    let mut app = job_app(80, 24);
    app.update(key(KeyCode::Char('a')));
    typed(&mut app, "Dear EvenUp team,");
    app.update(key(KeyCode::Enter));
    typed(&mut app, "I build data models in Python.");
    assert!(app.update(with(KeyCode::Char('s'), KeyModifiers::CONTROL)).is_empty());
    assert!(app.job.confirm_apply);
    insta::assert_snapshot!(render(&app));
}

#[test]
fn snapshot_conversations_focused_asking_to_delete_80x24() {
    let mut app = finished_chat(80, 24);
    app.update(key(KeyCode::Tab));
    app.update(key(KeyCode::Down));
    assert!(app.update(key(KeyCode::Char('d'))).is_empty());
    assert_eq!(app.confirm_delete.as_deref(), Some("c2"));
    insta::assert_snapshot!(render(&app));
}

#[test]
fn snapshot_error_status_80x24() {
    let mut app = finished_chat(80, 24);
    app.update(Event::Net(Net::Conversations(Err(ApiFailure::Unreachable(
        "cannot connect".into(),
    )))));
    insta::assert_snapshot!(render(&app));
}

#[test]
fn snapshot_help_jobs_80x24() {
    let mut app = jobs_app();
    app.update(key(KeyCode::Char('?')));
    insta::assert_snapshot!(render(&app));
}

#[test]
fn snapshot_help_job_80x24() {
    let mut app = job_app(80, 24);
    app.update(key(KeyCode::Char('?')));
    insta::assert_snapshot!(render(&app));
}

#[test]
fn snapshot_help_applications_80x24() {
    let mut app = chat_app(80, 24);
    app.update(key(KeyCode::F(4)));
    app.update(Event::Net(Net::Applications(Ok(Vec::new()))));
    app.update(key(KeyCode::Char('?')));
    insta::assert_snapshot!(render(&app));
}
