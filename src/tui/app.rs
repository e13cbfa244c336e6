//! The app's state and the one function that changes it: `update(event) -> commands`. Keys,
//! pastes, resizes, ticks and network results go in; HTTP calls to run come out. Nothing here
//! waits or draws, so every behaviour is a unit test.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::client::{ApiFailure, LetterEvent, StreamEvent};
use super::search::{FormOutcome, SearchForm};
use crate::models::conversation::{Citation, CitationKind, MessageRole, ToolStep};
use crate::schemas::application::{ApplicationBody, StageEventBody};
use crate::schemas::assistant::{ConversationBody, ConversationDetailBody, MessageBody};
use crate::schemas::job::{JobBody, JobSummaryBody, SearchQuery};
use crate::schemas::recommendation::JobRecommendationBody;
use crate::schemas::user::UserBody;

/// What happens to the app.
// Events are moved once into `update`: the size of the largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Event {
    Key(KeyEvent),
    Paste(String),
    Resize(u16, u16),
    Tick,
    Net(Net),
}

/// The result of a command, reported back from its task.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Net {
    SignedIn(Result<UserBody, ApiFailure>),
    Resumed(Result<UserBody, ApiFailure>),
    Conversations(Result<Vec<ConversationBody>, ApiFailure>),
    Created(Result<ConversationBody, ApiFailure>),
    Loaded(Result<ConversationDetailBody, ApiFailure>),
    Deleted(String, Result<(), ApiFailure>),
    /// An event of the answer streaming under this number.
    Stream(u64, StreamEvent),
    /// The answer under this number could not start or was cut off.
    StreamFailed(u64, ApiFailure),
    /// The job asked for by this id.
    Job(String, Result<JobBody, ApiFailure>),
    JobSaved(String, Result<(), ApiFailure>),
    Recommendations(Result<Vec<JobRecommendationBody>, ApiFailure>),
    Search(Result<Vec<JobSummaryBody>, ApiFailure>),
    Applications(Result<Vec<ApplicationBody>, ApiFailure>),
    History(String, Result<Vec<StageEventBody>, ApiFailure>),
    Applied(String, Result<(), ApiFailure>),
    /// An event of the cover letter being drafted under this number.
    Letter(u64, LetterEvent),
    /// The draft under this number could not start or was cut off.
    LetterFailed(u64, ApiFailure),
}

/// An HTTP call (or the end) the app asks for; each reports back as a [`Net`] event.
// Commands are moved once into the runner: the size of a search costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    SignIn {
        email: String,
        password: String,
    },
    ListConversations,
    CreateConversation,
    LoadConversation(String),
    DeleteConversation(String),
    Ask {
        stream: u64,
        conversation: String,
        content: String,
    },
    /// Stop the answer streaming under this number (the connection is dropped).
    Cancel(u64),
    LoadJob(String),
    SaveJob(String),
    Recommendations,
    Search(SearchQuery),
    Applications,
    History(String),
    Apply {
        job_id: String,
        cover_letter: String,
    },
    /// Draft a cover letter for the job, streamed under this number.
    DraftLetter {
        stream: u64,
        job_id: String,
    },
    Quit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    SignIn,
    Chat,
    Jobs,
    Job,
    Applications,
}

/// Where the keys go on the chat screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Input,
    List,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Email,
    Password,
}

#[derive(Debug, Clone, Default)]
pub struct SignInForm {
    pub email: String,
    pub password: String,
    pub field: Option<Field>,
    pub busy: bool,
}

/// A line of the status bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub text: String,
    pub error: bool,
}

/// The answer being streamed.
#[derive(Debug, Clone, Default)]
pub struct Streaming {
    pub id: u64,
    pub text: String,
    pub tools: Vec<ToolStep>,
    pub citations: Vec<Citation>,
    /// While the answer waits for the model: how many answers come first.
    pub queued: Option<usize>,
}

/// A multi-line text being typed; `cursor` is a byte index on a character boundary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Input {
    pub text: String,
    pub cursor: usize,
}

impl Input {
    pub fn insert(&mut self, s: &str) {
        self.text.insert_str(self.cursor, s);
        self.cursor += s.len();
    }

    fn prev(&self) -> Option<usize> {
        self.text[..self.cursor].char_indices().next_back().map(|(i, _)| i)
    }

    fn next(&self) -> Option<usize> {
        self.text[self.cursor..].chars().next().map(|c| self.cursor + c.len_utf8())
    }

    /// One character to the left.
    pub fn left(&mut self) {
        self.cursor = self.prev().unwrap_or(0);
    }

    /// One character to the right.
    pub fn right(&mut self) {
        self.cursor = self.next().unwrap_or(self.cursor);
    }

    pub fn backspace(&mut self) {
        if let Some(i) = self.prev() {
            self.text.replace_range(i..self.cursor, "");
            self.cursor = i;
        }
    }

    pub fn delete(&mut self) {
        if let Some(i) = self.next() {
            self.text.replace_range(self.cursor..i, "");
        }
    }

    fn line_start(&self) -> usize {
        self.text[..self.cursor].rfind('\n').map_or(0, |i| i + 1)
    }

    fn line_end(&self) -> usize {
        self.text[self.cursor..].find('\n').map_or(self.text.len(), |i| self.cursor + i)
    }

    /// Moves to the line above (`up`) or below at the same column; false on the first/last line.
    fn vertical(&mut self, up: bool) -> bool {
        let start = self.line_start();
        let column = self.text[start..self.cursor].chars().count();
        let target = if up {
            if start == 0 {
                return false;
            }
            self.text[..start - 1].rfind('\n').map_or(0, |i| i + 1)
        } else {
            let end = self.line_end();
            if end == self.text.len() {
                return false;
            }
            end + 1
        };
        let line_end = self.text[target..].find('\n').map_or(self.text.len(), |i| target + i);
        self.cursor = self.text[target..line_end]
            .char_indices()
            .nth(column)
            .map_or(line_end, |(i, _)| target + i);
        true
    }

    pub fn take(&mut self) -> String {
        self.cursor = 0;
        std::mem::take(&mut self.text)
    }
}

/// What the jobs screen lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobsTab {
    Recommended,
    Search,
}

#[derive(Debug)]
pub struct JobsState {
    pub tab: JobsTab,
    pub recommended: Vec<JobRecommendationBody>,
    pub results: Vec<JobSummaryBody>,
    pub selected: usize,
    /// The search being written (`/` opens it).
    pub form: SearchForm,
    /// The search the results answer.
    pub searched: Option<SearchQuery>,
    pub loading: bool,
}

impl Default for JobsState {
    fn default() -> Self {
        Self {
            tab: JobsTab::Recommended,
            recommended: Vec::new(),
            results: Vec::new(),
            selected: 0,
            form: SearchForm::default(),
            searched: None,
            loading: false,
        }
    }
}

/// The job open on the job screen and what is being done with it.
#[derive(Debug, Clone, Default)]
pub struct JobState {
    /// The id of the job open, loaded or not yet: answers about other jobs come too late.
    pub id: Option<String>,
    pub job: Option<JobBody>,
    pub loading: bool,
    pub saved: bool,
    pub scroll: u16,
    /// The apply form: the cover letter being written, and whether the y/n question is up.
    pub letter: Option<Input>,
    /// The draft streaming into the letter, by its number.
    pub drafting: Option<u64>,
    pub confirm_apply: bool,
    pub applied: bool,
    /// The screen to go back to.
    pub back: Option<Screen>,
}

#[derive(Debug, Clone, Default)]
pub struct ApplicationsState {
    pub items: Vec<ApplicationBody>,
    pub selected: usize,
    pub history: Option<(String, Vec<StageEventBody>)>,
    pub loading: bool,
}

/// The whole state of the app.
#[derive(Debug)]
pub struct App {
    pub server: String,
    pub screen: Screen,
    pub width: u16,
    pub height: u16,
    pub user: Option<UserBody>,
    pub sign_in: SignInForm,
    pub conversations: Vec<ConversationBody>,
    pub selected: usize,
    pub focus: Focus,
    /// The open conversation's id and title.
    pub current: Option<(String, String)>,
    pub messages: Vec<MessageBody>,
    pub streaming: Option<Streaming>,
    pub input: Input,
    /// The first transcript line shown; `None` follows the end (the view is pinned to it).
    pub scroll: Option<usize>,
    pub status: Option<Status>,
    pub help: bool,
    /// A conversation to delete once the user says yes.
    pub confirm_delete: Option<String>,
    /// A question waiting for its conversation to be created.
    pub queued: Option<String>,
    pub jobs: JobsState,
    pub job: JobState,
    pub applications: ApplicationsState,
    pub ticks: u64,
    next_stream: u64,
}

/// What the status line says about a failure, with what to do.
pub fn describe(failure: &ApiFailure, server: &str) -> String {
    match failure {
        ApiFailure::Unreachable(why) => format!(
            "Server {server} unreachable ({why}): start it with `jobportal serve` or pass --server"
        ),
        ApiFailure::Unauthorized(why) => format!("Signed out ({why}): sign in again"),
        ApiFailure::RateLimited { retry_after, .. } => match retry_after {
            Some(s) => format!("Too many requests: wait {s} s, then try again"),
            None => "Too many requests: wait a little, then try again".into(),
        },
        ApiFailure::Unavailable { retry_after, message } => match retry_after {
            Some(s) => format!("Server busy ({message}): try again in {s} s"),
            None => format!("Server unavailable ({message}): try again shortly"),
        },
        ApiFailure::Api { code, message, .. } => format!("{message} ({code})"),
    }
}

fn ctrl(key: &KeyEvent, c: char) -> bool {
    key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char(c)
}

fn plain(key: &KeyEvent) -> bool {
    !key.modifiers.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
}

/// A compact line for a tool step: `searching jobs: rust, remote`.
pub fn tool_line(step: &ToolStep) -> String {
    let verb = match step.name.as_str() {
        "search_jobs" => "searching jobs",
        "get_job" => "reading the job",
        "recommend_jobs" => "finding jobs for you",
        "my_applications" => "reading your applications",
        "application_status" => "checking the application",
        "draft_cover_letter" => "drafting a cover letter",
        "save_job" => "saving the job",
        "resume_feedback" => "comparing your resume",
        other => other,
    };
    let mut values = Vec::new();
    if let Some(map) = step.arguments.as_object() {
        for value in map.values() {
            match value {
                serde_json::Value::String(s) if !s.is_empty() && s.len() <= 40 => {
                    values.push(s.clone())
                }
                serde_json::Value::Bool(true) => {}
                serde_json::Value::Number(n) => values.push(n.to_string()),
                serde_json::Value::Array(items) => values
                    .extend(items.iter().filter_map(|v| v.as_str()).map(str::to_owned).take(4)),
                _ => {}
            }
        }
    }
    if values.is_empty() { verb.to_owned() } else { format!("{verb}: {}", values.join(", ")) }
}

impl App {
    pub fn new(server: &str, width: u16, height: u16) -> Self {
        Self {
            server: server.to_owned(),
            screen: Screen::SignIn,
            width,
            height,
            user: None,
            sign_in: SignInForm { field: Some(Field::Email), ..SignInForm::default() },
            conversations: Vec::new(),
            selected: 0,
            focus: Focus::Input,
            current: None,
            messages: Vec::new(),
            streaming: None,
            input: Input::default(),
            scroll: None,
            status: None,
            help: false,
            confirm_delete: None,
            queued: None,
            jobs: JobsState::default(),
            job: JobState::default(),
            applications: ApplicationsState::default(),
            ticks: 0,
            next_stream: 1,
        }
    }

    /// The app as it starts for a user already signed in (a kept session or `--email`).
    pub fn signed_in(mut self, user: UserBody) -> (Self, Vec<Command>) {
        let commands = self.enter_chat(user);
        (self, commands)
    }

    fn enter_chat(&mut self, user: UserBody) -> Vec<Command> {
        self.user = Some(user);
        self.screen = Screen::Chat;
        self.sign_in = SignInForm::default();
        self.status = None;
        vec![Command::ListConversations]
    }

    fn error(&mut self, text: impl Into<String>) {
        self.status = Some(Status { text: text.into(), error: true });
    }

    fn info(&mut self, text: impl Into<String>) {
        self.status = Some(Status { text: text.into(), error: false });
    }

    fn failed(&mut self, failure: &ApiFailure) {
        let text = describe(failure, &self.server);
        if matches!(failure, ApiFailure::Unauthorized(_)) && self.screen != Screen::SignIn {
            self.screen = Screen::SignIn;
            self.user = None;
            self.sign_in = SignInForm { field: Some(Field::Email), ..SignInForm::default() };
        }
        self.error(text);
    }

    /// Whether an answer is streaming.
    pub fn is_streaming(&self) -> bool {
        self.streaming.is_some()
    }

    /// The last assistant message's write waiting for a yes or no, when nothing streams.
    pub fn pending_confirmation(&self) -> Option<&str> {
        if self.streaming.is_some() {
            return None;
        }
        let last = self.messages.last()?;
        (last.role == MessageRole::Assistant)
            .then_some(last.pending_action.as_ref())
            .flatten()
            .map(|p| p.summary.as_str())
    }

    /// The citations a number key opens: the streaming answer's, else the last answer's.
    pub fn latest_citations(&self) -> &[Citation] {
        if let Some(s) = &self.streaming
            && !s.citations.is_empty()
        {
            return &s.citations;
        }
        self.messages
            .iter()
            .rev()
            .find(|m| m.role == MessageRole::Assistant && !m.citations.is_empty())
            .map_or(&[], |m| &m.citations)
    }

    /// Handles one event; returns the calls to make.
    pub fn update(&mut self, event: Event) -> Vec<Command> {
        match event {
            Event::Tick => {
                self.ticks = self.ticks.wrapping_add(1);
                Vec::new()
            }
            Event::Resize(w, h) => {
                self.width = w;
                self.height = h;
                self.clamp_scroll();
                Vec::new()
            }
            Event::Paste(text) => {
                self.paste(&text);
                Vec::new()
            }
            Event::Key(key) if key.kind == KeyEventKind::Release => Vec::new(),
            Event::Key(key) => self.key(key),
            Event::Net(net) => self.net(net),
        }
    }

    fn paste(&mut self, text: &str) {
        let text = text.replace("\r\n", "\n").replace('\r', "\n");
        match self.screen {
            Screen::SignIn => {
                let line = text.lines().next().unwrap_or_default();
                match self.sign_in.field {
                    Some(Field::Password) => self.sign_in.password.push_str(line),
                    _ => self.sign_in.email.push_str(line.trim()),
                }
            }
            Screen::Chat => {
                self.focus = Focus::Input;
                self.input.insert(&text);
            }
            Screen::Jobs => {
                if let Some(input) = self.jobs.form.input_mut() {
                    input.insert(text.lines().next().unwrap_or_default())
                }
            }
            Screen::Job => {
                if let Some(letter) = &mut self.job.letter {
                    letter.insert(&text);
                }
            }
            _ => {}
        }
    }

    fn key(&mut self, key: KeyEvent) -> Vec<Command> {
        if ctrl(&key, 'q') {
            return self.quit();
        }
        if self.help {
            if matches!(
                key.code,
                KeyCode::Esc | KeyCode::Char('?') | KeyCode::F(1) | KeyCode::Enter
            ) || ctrl(&key, 'c')
            {
                self.help = false;
            }
            return Vec::new();
        }
        if key.code == KeyCode::F(1) {
            self.help = true;
            return Vec::new();
        }
        match self.screen {
            Screen::SignIn => self.sign_in_key(key),
            Screen::Chat => self.chat_key(key),
            Screen::Jobs => self.jobs_key(key),
            Screen::Job => self.job_key(key),
            Screen::Applications => self.applications_key(key),
        }
    }

    fn quit(&mut self) -> Vec<Command> {
        let mut commands = Vec::new();
        if let Some(s) = self.streaming.take() {
            commands.push(Command::Cancel(s.id));
        }
        commands.push(Command::Quit);
        commands
    }

    /// F2/F3/F4 switch screens from anywhere but the sign-in form.
    fn switch_screen(&mut self, key: &KeyEvent) -> Option<Vec<Command>> {
        match key.code {
            KeyCode::F(2) => {
                self.screen = Screen::Chat;
                Some(Vec::new())
            }
            KeyCode::F(3) => {
                self.screen = Screen::Jobs;
                if self.jobs.recommended.is_empty() && self.jobs.tab == JobsTab::Recommended {
                    self.jobs.loading = true;
                    return Some(vec![Command::Recommendations]);
                }
                Some(Vec::new())
            }
            KeyCode::F(4) => {
                self.screen = Screen::Applications;
                self.applications.loading = true;
                Some(vec![Command::Applications])
            }
            _ => None,
        }
    }

    fn sign_in_key(&mut self, key: KeyEvent) -> Vec<Command> {
        let form = &mut self.sign_in;
        if ctrl(&key, 'c') || key.code == KeyCode::Esc {
            return vec![Command::Quit];
        }
        if form.busy {
            return Vec::new();
        }
        match key.code {
            KeyCode::Tab | KeyCode::Down | KeyCode::BackTab | KeyCode::Up => {
                form.field = Some(match form.field {
                    Some(Field::Email) => Field::Password,
                    _ => Field::Email,
                });
            }
            KeyCode::Enter => {
                if form.field == Some(Field::Email) && form.password.is_empty() {
                    form.field = Some(Field::Password);
                } else if form.email.trim().is_empty() || form.password.is_empty() {
                    self.error("Type your email and password, then press Enter");
                } else {
                    form.busy = true;
                    self.info("Signing in…");
                    let form = &self.sign_in;
                    return vec![Command::SignIn {
                        email: form.email.trim().to_owned(),
                        password: form.password.clone(),
                    }];
                }
            }
            KeyCode::Backspace => {
                match form.field {
                    Some(Field::Password) => form.password.pop(),
                    _ => form.email.pop(),
                };
            }
            KeyCode::Char(c) if plain(&key) => match form.field {
                Some(Field::Password) => form.password.push(c),
                _ => form.email.push(c),
            },
            _ => {}
        }
        Vec::new()
    }

    fn chat_key(&mut self, key: KeyEvent) -> Vec<Command> {
        // Stopping a stream comes first, whatever has the focus.
        if (key.code == KeyCode::Esc || ctrl(&key, 'c')) && self.streaming.is_some() {
            return self.stop();
        }
        if let Some(id) = self.confirm_delete.clone() {
            return match key.code {
                KeyCode::Char('y') | KeyCode::Char('Y') => {
                    self.confirm_delete = None;
                    self.info("Deleting the conversation…");
                    vec![Command::DeleteConversation(id)]
                }
                _ => {
                    self.confirm_delete = None;
                    self.info("Kept the conversation");
                    Vec::new()
                }
            };
        }
        if ctrl(&key, 'c') {
            return self.quit();
        }
        if let Some(commands) = self.switch_screen(&key) {
            return commands;
        }
        if ctrl(&key, 'n') {
            return self.new_conversation();
        }
        if key.code == KeyCode::Tab || key.code == KeyCode::BackTab {
            self.focus = if self.focus == Focus::Input { Focus::List } else { Focus::Input };
            return Vec::new();
        }
        match key.code {
            KeyCode::PageUp => return self.scroll_by(-(self.page() as isize)),
            KeyCode::PageDown => return self.scroll_by(self.page() as isize),
            _ => {}
        }
        if key.modifiers.contains(KeyModifiers::ALT)
            && let KeyCode::Char(c @ '1'..='9') = key.code
        {
            return self.open_citation(c as u32 - '0' as u32);
        }
        match self.focus {
            Focus::List => self.list_key(key),
            Focus::Input => self.input_key(key),
        }
    }

    fn page(&self) -> usize {
        (self.height.saturating_sub(8) as usize).max(1)
    }

    fn new_conversation(&mut self) -> Vec<Command> {
        if self.streaming.is_some() {
            self.error("An answer is streaming: wait for it, or press Esc to stop it");
            return Vec::new();
        }
        self.info("Starting a new conversation…");
        vec![Command::CreateConversation]
    }

    fn open_citation(&mut self, n: u32) -> Vec<Command> {
        let Some(citation) = self.latest_citations().iter().find(|c| c.n == n).cloned() else {
            self.error(format!("No source [{n}] in the last answer"));
            return Vec::new();
        };
        if citation.kind != CitationKind::Job {
            self.info(format!(
                "[{n}] is a {} ({}): only jobs open here",
                citation.kind.as_str(),
                citation.title
            ));
            return Vec::new();
        }
        self.open_job(&citation.id, Screen::Chat)
    }

    fn open_job(&mut self, id: &str, back: Screen) -> Vec<Command> {
        // A draft still streaming for the job left behind is stopped.
        let mut commands: Vec<Command> =
            self.job.drafting.map(Command::Cancel).into_iter().collect();
        self.job = JobState {
            id: Some(id.to_owned()),
            loading: true,
            back: Some(back),
            ..JobState::default()
        };
        self.screen = Screen::Job;
        commands.push(Command::LoadJob(id.to_owned()));
        commands
    }

    fn list_key(&mut self, key: KeyEvent) -> Vec<Command> {
        let count = self.conversations.len();
        match key.code {
            KeyCode::Up | KeyCode::Char('k') => self.selected = self.selected.saturating_sub(1),
            KeyCode::Down | KeyCode::Char('j') => {
                self.selected = (self.selected + 1).min(count.saturating_sub(1));
            }
            KeyCode::Enter => {
                if let Some(c) = self.conversations.get(self.selected) {
                    if self.streaming.is_some() {
                        self.error("An answer is streaming: wait for it, or press Esc to stop it");
                        return Vec::new();
                    }
                    let id = c.id.clone();
                    self.current = Some((id.clone(), c.title.clone()));
                    self.messages.clear();
                    self.scroll = None;
                    self.focus = Focus::Input;
                    return vec![Command::LoadConversation(id)];
                }
            }
            KeyCode::Char('n') => return self.new_conversation(),
            KeyCode::Char('d') | KeyCode::Delete => {
                if let Some(c) = self.conversations.get(self.selected) {
                    if self.streaming.is_some() {
                        self.error("An answer is streaming: wait for it, or press Esc to stop it");
                        return Vec::new();
                    }
                    self.confirm_delete = Some(c.id.clone());
                    let title = c.title.clone();
                    self.info(format!("Delete “{title}”? y: yes, any other key: no"));
                }
            }
            KeyCode::Esc => self.focus = Focus::Input,
            KeyCode::Char('?') => self.help = true,
            _ => {}
        }
        Vec::new()
    }

    fn input_key(&mut self, key: KeyEvent) -> Vec<Command> {
        let newline = (key.code == KeyCode::Enter
            && key.modifiers.intersects(KeyModifiers::ALT | KeyModifiers::SHIFT))
            || ctrl(&key, 'j');
        if newline {
            self.input.insert("\n");
            return Vec::new();
        }
        if self.input.text.is_empty()
            && plain(&key)
            && let KeyCode::Char(c) = key.code
        {
            if self.pending_confirmation().is_some() && matches!(c, 'y' | 'Y' | 'n' | 'N') {
                let answer = if c.eq_ignore_ascii_case(&'y') { "yes" } else { "no" };
                return self.send(answer.to_owned());
            }
            if c == '?' {
                self.help = true;
                return Vec::new();
            }
        }
        match key.code {
            KeyCode::Enter => {
                if self.input.text.trim().is_empty() {
                    return Vec::new();
                }
                if self.streaming.is_some() {
                    self.error("An answer is streaming: wait for it, or press Esc to stop it (your message is kept)");
                    return Vec::new();
                }
                let text = self.input.take();
                return self.send(text.trim_end().to_owned());
            }
            KeyCode::Esc => self.status = None,
            KeyCode::Backspace => self.input.backspace(),
            KeyCode::Delete => self.input.delete(),
            KeyCode::Left => self.input.cursor = self.input.prev().unwrap_or(0),
            KeyCode::Right => self.input.cursor = self.input.next().unwrap_or(self.input.cursor),
            KeyCode::Home => self.input.cursor = self.input.line_start(),
            KeyCode::End => {
                if self.input.text.is_empty() {
                    self.scroll = None;
                } else {
                    self.input.cursor = self.input.line_end();
                }
            }
            KeyCode::Up | KeyCode::Down => {
                let up = key.code == KeyCode::Up;
                if !self.input.vertical(up) {
                    return self.scroll_by(if up { -1 } else { 1 });
                }
            }
            KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                self.input = Input::default();
            }
            KeyCode::Char(c) if plain(&key) => {
                let mut buf = [0u8; 4];
                self.input.insert(c.encode_utf8(&mut buf));
            }
            _ => {}
        }
        Vec::new()
    }

    /// Asks `content` in the open conversation (created first when there is none).
    fn send(&mut self, content: String) -> Vec<Command> {
        if self.streaming.is_some() {
            self.error("An answer is streaming: wait for it, or press Esc to stop it");
            return Vec::new();
        }
        let Some((conversation, _)) = self.current.clone() else {
            if self.queued.is_some() {
                self.error("Still starting the conversation: a moment");
                return Vec::new();
            }
            self.queued = Some(content);
            self.info("Starting a new conversation…");
            return vec![Command::CreateConversation];
        };
        self.messages.push(MessageBody {
            id: String::new(),
            role: MessageRole::User,
            content: content.clone(),
            citations: Vec::new(),
            tool_calls: Vec::new(),
            pending_action: None,
            created_at: chrono::DateTime::UNIX_EPOCH,
        });
        let stream = self.next_stream;
        self.next_stream += 1;
        self.streaming = Some(Streaming { id: stream, ..Streaming::default() });
        self.scroll = None;
        self.status = None;
        vec![Command::Ask { stream, conversation, content }]
    }

    /// Stops the streaming answer; what arrived stays, marked as stopped.
    fn stop(&mut self) -> Vec<Command> {
        let Some(s) = self.streaming.take() else { return Vec::new() };
        self.finish_partial(&s, "stopped");
        self.info("Stopped the answer");
        vec![Command::Cancel(s.id)]
    }

    fn finish_partial(&mut self, s: &Streaming, why: &str) {
        let mut content = s.text.trim_end().to_owned();
        if !content.is_empty() {
            content.push(' ');
        }
        content.push_str(&format!("[{why}]"));
        self.messages.push(MessageBody {
            id: String::new(),
            role: MessageRole::Assistant,
            content,
            citations: s.citations.clone(),
            tool_calls: s.tools.clone(),
            pending_action: None,
            created_at: chrono::DateTime::UNIX_EPOCH,
        });
    }

    /// Scrolls the transcript by `delta` lines; reaching the end pins the view to it again.
    fn scroll_by(&mut self, delta: isize) -> Vec<Command> {
        let (total, height) = self.transcript_extent();
        let bottom = total.saturating_sub(height);
        let top = self.scroll.unwrap_or(bottom) as isize + delta;
        let top = top.clamp(0, bottom as isize) as usize;
        self.scroll = if top >= bottom { None } else { Some(top) };
        Vec::new()
    }

    fn clamp_scroll(&mut self) {
        if let Some(top) = self.scroll {
            let (total, height) = self.transcript_extent();
            let bottom = total.saturating_sub(height);
            self.scroll = if top >= bottom { None } else { Some(top) };
        }
    }

    /// The transcript's length in lines at the current size, and the lines the view shows.
    pub fn transcript_extent(&self) -> (usize, usize) {
        let layout = super::view::chat_layout(self);
        (
            super::view::transcript_lines(self, layout.transcript.width).len(),
            layout.transcript.height as usize,
        )
    }

    fn jobs_key(&mut self, key: KeyEvent) -> Vec<Command> {
        if self.jobs.form.is_open() && !ctrl(&key, 'c') {
            match self.jobs.form.key(key) {
                FormOutcome::Run(query) => {
                    self.jobs.tab = JobsTab::Search;
                    self.jobs.selected = 0;
                    self.jobs.loading = true;
                    self.jobs.searched = Some(query.clone());
                    self.info("Searching…");
                    return vec![Command::Search(query)];
                }
                FormOutcome::Invalid(why) => self.error(why),
                FormOutcome::Edited | FormOutcome::Closed => {}
            }
            return Vec::new();
        }
        if ctrl(&key, 'c') {
            return self.quit();
        }
        if let Some(commands) = self.switch_screen(&key) {
            return commands;
        }
        let count = match self.jobs.tab {
            JobsTab::Recommended => self.jobs.recommended.len(),
            JobsTab::Search => self.jobs.results.len(),
        };
        match key.code {
            KeyCode::Up | KeyCode::Char('k') => {
                self.jobs.selected = self.jobs.selected.saturating_sub(1)
            }
            KeyCode::Down | KeyCode::Char('j') => {
                self.jobs.selected = (self.jobs.selected + 1).min(count.saturating_sub(1));
            }
            KeyCode::Char('/') => self.jobs.form.open(),
            KeyCode::Char('r') => {
                self.jobs.tab = JobsTab::Recommended;
                self.jobs.selected = 0;
                self.jobs.loading = true;
                return vec![Command::Recommendations];
            }
            KeyCode::Tab => {
                self.jobs.tab = match self.jobs.tab {
                    JobsTab::Recommended => JobsTab::Search,
                    JobsTab::Search => JobsTab::Recommended,
                };
                self.jobs.selected = 0;
            }
            KeyCode::Enter => {
                let id = match self.jobs.tab {
                    JobsTab::Recommended => {
                        self.jobs.recommended.get(self.jobs.selected).map(|r| r.job.id.clone())
                    }
                    JobsTab::Search => {
                        self.jobs.results.get(self.jobs.selected).map(|j| j.id.clone())
                    }
                };
                if let Some(id) = id {
                    return self.open_job(&id, Screen::Jobs);
                }
            }
            KeyCode::Esc => self.screen = Screen::Chat,
            KeyCode::Char('?') => self.help = true,
            _ => {}
        }
        Vec::new()
    }

    fn job_key(&mut self, key: KeyEvent) -> Vec<Command> {
        let id = self.job.job.as_ref().map(|j| j.summary.id.clone());
        if let Some(stream) = self.job.drafting {
            if key.code == KeyCode::Esc || ctrl(&key, 'c') {
                self.job.drafting = None;
                self.info("Draft stopped: edit what was written, Ctrl+S to apply, Esc to cancel");
                return vec![Command::Cancel(stream)];
            }
            return Vec::new();
        }
        if let Some(letter) = &mut self.job.letter {
            if self.job.confirm_apply {
                return match key.code {
                    KeyCode::Char('y') | KeyCode::Char('Y') => {
                        self.job.confirm_apply = false;
                        let cover_letter = letter.text.clone();
                        self.info("Applying…");
                        match id {
                            Some(job_id) => vec![Command::Apply { job_id, cover_letter }],
                            None => Vec::new(),
                        }
                    }
                    _ => {
                        self.job.confirm_apply = false;
                        self.info("Not applied: edit the letter, Ctrl+S to apply, Esc to cancel");
                        Vec::new()
                    }
                };
            }
            let newline = key.code == KeyCode::Enter || ctrl(&key, 'j');
            match key.code {
                _ if newline => letter.insert("\n"),
                _ if ctrl(&key, 's') => {
                    self.job.confirm_apply = true;
                    self.info(
                        "Apply with your default resume and this letter? y: yes, any other key: no",
                    );
                }
                KeyCode::Esc => {
                    self.job.letter = None;
                    self.info("Application cancelled");
                }
                KeyCode::Backspace => letter.backspace(),
                KeyCode::Delete => letter.delete(),
                KeyCode::Left => letter.cursor = letter.prev().unwrap_or(0),
                KeyCode::Right => letter.cursor = letter.next().unwrap_or(letter.cursor),
                KeyCode::Up => {
                    letter.vertical(true);
                }
                KeyCode::Down => {
                    letter.vertical(false);
                }
                KeyCode::Char(c) if plain(&key) => {
                    let mut buf = [0u8; 4];
                    letter.insert(c.encode_utf8(&mut buf));
                }
                _ => {}
            }
            return Vec::new();
        }
        if ctrl(&key, 'c') {
            return self.quit();
        }
        if let Some(commands) = self.switch_screen(&key) {
            return commands;
        }
        match key.code {
            KeyCode::Esc | KeyCode::Char('q') | KeyCode::Backspace => {
                self.screen = self.job.back.unwrap_or(Screen::Chat);
            }
            KeyCode::Char('s') => {
                if let Some(id) = id {
                    self.info("Saving…");
                    return vec![Command::SaveJob(id)];
                }
            }
            KeyCode::Char('c') => {
                if let Some(job_id) = id {
                    if self.job.applied {
                        self.info("You have applied to this job: see F4 Applications");
                        return Vec::new();
                    }
                    let stream = self.next_stream;
                    self.next_stream += 1;
                    self.job.letter = Some(Input::default());
                    self.job.drafting = Some(stream);
                    self.info("Drafting a cover letter from the job and your resume… Esc stops");
                    return vec![Command::DraftLetter { stream, job_id }];
                }
            }
            KeyCode::Char('a') if id.is_some() => {
                if self.job.applied {
                    self.info("You have applied to this job: see F4 Applications");
                } else {
                    self.job.letter = Some(Input::default());
                    self.info("Write a cover letter (optional), then Ctrl+S to apply; Esc cancels");
                }
            }
            KeyCode::Up | KeyCode::Char('k') => self.job.scroll = self.job.scroll.saturating_sub(1),
            KeyCode::Down | KeyCode::Char('j') => {
                self.job.scroll = self.job.scroll.saturating_add(1)
            }
            KeyCode::PageUp => self.job.scroll = self.job.scroll.saturating_sub(10),
            KeyCode::PageDown => self.job.scroll = self.job.scroll.saturating_add(10),
            KeyCode::Char('?') => self.help = true,
            _ => {}
        }
        Vec::new()
    }

    fn applications_key(&mut self, key: KeyEvent) -> Vec<Command> {
        if ctrl(&key, 'c') {
            return self.quit();
        }
        if let Some(commands) = self.switch_screen(&key) {
            return commands;
        }
        let count = self.applications.items.len();
        match key.code {
            KeyCode::Up | KeyCode::Char('k') => {
                self.applications.selected = self.applications.selected.saturating_sub(1)
            }
            KeyCode::Down | KeyCode::Char('j') => {
                self.applications.selected =
                    (self.applications.selected + 1).min(count.saturating_sub(1));
            }
            KeyCode::Enter => {
                if let Some(a) = self.applications.items.get(self.applications.selected) {
                    return vec![Command::History(a.id.clone())];
                }
            }
            KeyCode::Char('o') => {
                if let Some(a) = self.applications.items.get(self.applications.selected) {
                    let id = a.job_id.clone();
                    return self.open_job(&id, Screen::Applications);
                }
            }
            KeyCode::Char('r') => {
                self.applications.loading = true;
                return vec![Command::Applications];
            }
            KeyCode::Esc => self.screen = Screen::Chat,
            KeyCode::Char('?') => self.help = true,
            _ => {}
        }
        Vec::new()
    }

    fn net(&mut self, net: Net) -> Vec<Command> {
        match net {
            Net::SignedIn(result) | Net::Resumed(result) => match result {
                Ok(user) => return self.enter_chat(user),
                Err(failure) => {
                    self.sign_in.busy = false;
                    self.sign_in.password.clear();
                    self.sign_in.field = Some(Field::Password);
                    self.screen = Screen::SignIn;
                    let text = match &failure {
                        ApiFailure::Unauthorized(_) => "Wrong email or password: try again".into(),
                        other => describe(other, &self.server),
                    };
                    self.error(text);
                }
            },
            Net::Conversations(result) => match result {
                Ok(items) => {
                    self.conversations = items;
                    self.selected = self.selected.min(self.conversations.len().saturating_sub(1));
                    // The open conversation's title as the server has it now (a new one is
                    // titled after its first question).
                    if let Some((id, title)) = self.current.as_mut()
                        && let Some(listed) = self.conversations.iter().find(|c| c.id == *id)
                    {
                        title.clone_from(&listed.title);
                    }
                    if self.current.is_none()
                        && self.queued.is_none()
                        && let Some(first) = self.conversations.first()
                    {
                        self.current = Some((first.id.clone(), first.title.clone()));
                        self.selected = 0;
                        return vec![Command::LoadConversation(first.id.clone())];
                    }
                }
                Err(f) => self.failed(&f),
            },
            Net::Created(result) => match result {
                Ok(c) => {
                    self.current = Some((c.id.clone(), c.title.clone()));
                    self.conversations.insert(0, c);
                    self.selected = 0;
                    self.messages.clear();
                    self.scroll = None;
                    self.focus = Focus::Input;
                    self.status = None;
                    if let Some(content) = self.queued.take() {
                        return self.send(content);
                    }
                }
                Err(f) => {
                    if let Some(content) = self.queued.take()
                        && self.input.text.is_empty()
                    {
                        self.input.insert(&content);
                    }
                    self.failed(&f);
                }
            },
            Net::Loaded(result) => match result {
                Ok(detail) => {
                    if self.current.as_ref().is_some_and(|(id, _)| *id == detail.conversation.id)
                        && self.streaming.is_none()
                    {
                        self.current = Some((
                            detail.conversation.id.clone(),
                            detail.conversation.title.clone(),
                        ));
                        self.messages = detail.messages;
                        self.scroll = None;
                    }
                }
                Err(f) => self.failed(&f),
            },
            Net::Deleted(id, result) => match result {
                Ok(()) => {
                    self.conversations.retain(|c| c.id != id);
                    self.selected = self.selected.min(self.conversations.len().saturating_sub(1));
                    if self.current.as_ref().is_some_and(|(c, _)| *c == id) {
                        self.current = None;
                        self.messages.clear();
                    }
                    self.info("Deleted the conversation");
                }
                Err(f) => self.failed(&f),
            },
            Net::Stream(id, event) => return self.stream_event(id, event),
            Net::StreamFailed(id, failure) => {
                if let Some(s) = self.streaming.take_if(|s| s.id == id) {
                    if !s.text.is_empty() || !s.tools.is_empty() {
                        self.finish_partial(&s, "cut off");
                    }
                    self.failed(&failure);
                }
            }
            Net::Job(id, result) => {
                if self.job.id.as_deref() != Some(id.as_str()) {
                    // A job left before it loaded.
                    return Vec::new();
                }
                self.job.loading = false;
                match result {
                    Ok(job) => {
                        self.job.job = Some(job);
                        self.job.scroll = 0;
                    }
                    Err(f) => self.failed(&f),
                }
            }
            Net::JobSaved(id, result) => match result {
                Ok(()) => {
                    // The mark is for the job saved; another may be open by now.
                    if self.job.id.as_deref() == Some(id.as_str()) {
                        self.job.saved = true;
                    }
                    self.info("Saved: find it among your saved jobs");
                }
                Err(f) => self.failed(&f),
            },
            Net::Recommendations(result) => {
                self.jobs.loading = false;
                match result {
                    Ok(items) => {
                        self.jobs.recommended = items;
                        self.jobs.selected = 0;
                        if self.jobs.recommended.is_empty() {
                            self.info("No recommendations yet: upload a resume to get some, or search with /");
                        }
                    }
                    Err(f) => self.failed(&f),
                }
            }
            Net::Search(result) => {
                self.jobs.loading = false;
                match result {
                    Ok(items) => {
                        self.info(format!("{} jobs found", items.len()));
                        self.jobs.results = items;
                        self.jobs.selected = 0;
                    }
                    Err(f) => self.failed(&f),
                }
            }
            Net::Applications(result) => {
                self.applications.loading = false;
                match result {
                    Ok(items) => {
                        self.applications.items = items;
                        self.applications.selected = 0;
                        self.applications.history = None;
                    }
                    Err(f) => self.failed(&f),
                }
            }
            Net::History(id, result) => match result {
                Ok(events) => self.applications.history = Some((id, events)),
                Err(f) => self.failed(&f),
            },
            Net::Letter(id, event) => self.letter_event(id, event),
            Net::LetterFailed(id, failure) => {
                if self.job.drafting == Some(id) {
                    self.job.drafting = None;
                    self.failed(&failure);
                }
            }
            Net::Applied(id, result) => match result {
                Ok(()) => {
                    if self.job.id.as_deref() == Some(id.as_str()) {
                        self.job.letter = None;
                        self.job.applied = true;
                    }
                    self.info("Applied: follow it on F4 Applications");
                }
                Err(f) => self.failed(&f),
            },
        }
        Vec::new()
    }

    fn letter_event(&mut self, id: u64, event: LetterEvent) {
        if self.job.drafting != Some(id) {
            // A stopped draft's late pieces.
            return;
        }
        let Some(letter) = self.job.letter.as_mut() else {
            self.job.drafting = None;
            return;
        };
        match event {
            LetterEvent::Token(text) => {
                letter.text.push_str(&text);
                letter.cursor = letter.text.len();
            }
            LetterEvent::Done { draft, from_model } => {
                self.job.drafting = None;
                letter.text = draft;
                letter.cursor = letter.text.len();
                let by = if from_model { "written by the model" } else { "the portal's template" };
                self.info(format!("Draft ready ({by}): edit it, Ctrl+S to apply, Esc to cancel"));
            }
            LetterEvent::Error { code, message } => {
                self.job.drafting = None;
                let failure = match code.as_str() {
                    "model_busy" | "model_unavailable" | "unavailable" | "timeout" => {
                        ApiFailure::Unavailable { retry_after: None, message }
                    }
                    _ => ApiFailure::Api { status: 200, code, message },
                };
                self.failed(&failure);
            }
        }
    }

    fn stream_event(&mut self, id: u64, event: StreamEvent) -> Vec<Command> {
        let Some(s) = self.streaming.as_mut().filter(|s| s.id == id) else {
            // A stopped or finished answer's late events.
            return Vec::new();
        };
        match event {
            StreamEvent::Queued(ahead) => s.queued = Some(ahead),
            StreamEvent::Tool(step) => {
                s.queued = None;
                s.tools.push(step);
            }
            StreamEvent::Citation(c) => {
                if !s.citations.iter().any(|x| x.n == c.n) {
                    s.citations.push(c);
                }
            }
            StreamEvent::Token(text) => {
                s.queued = None;
                s.text.push_str(&text);
            }
            StreamEvent::Done(message) => {
                self.streaming = None;
                self.messages.push(message);
                let first_answer = self.messages.len() <= 2;
                if first_answer {
                    // The conversation is titled after its first question.
                    return vec![Command::ListConversations];
                }
            }
            StreamEvent::Error { code, message } => {
                let s = self.streaming.take().unwrap_or_default();
                if !s.text.is_empty() || !s.tools.is_empty() {
                    self.finish_partial(&s, "failed");
                }
                let failure = match code.as_str() {
                    "rate_limited" => ApiFailure::RateLimited { retry_after: None, message },
                    "model_busy" | "model_unavailable" | "unavailable" | "timeout" => {
                        ApiFailure::Unavailable { retry_after: None, message }
                    }
                    _ => ApiFailure::Api { status: 200, code, message },
                };
                self.failed(&failure);
            }
        }
        Vec::new()
    }
}
