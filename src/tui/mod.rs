//! `jobportal assistant`: the candidate's terminal app, an HTTP client of the API (it never
//! opens the database). A pure [`app::App`] changes only in `update(event) -> commands`; the
//! commands (HTTP calls) run in tasks that report back over a channel, so the network never
//! blocks the screen; [`view::view`] draws the state, at most once per batch of events.

pub mod app;
pub mod client;
pub mod markdown;
pub mod search;
pub mod session;
pub mod sse;
pub mod view;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::io::Stdout;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crossterm::event::{DisableBracketedPaste, EnableBracketedPaste};
use crossterm::terminal::{EnterAlternateScreen, LeaveAlternateScreen};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};
use tokio::task::AbortHandle;

use self::app::{App, Command, Event, Net};
use self::client::{ApiFailure, Client};
use crate::schemas::user::UserBody;

/// How often the screen may be redrawn while an answer streams (redraws are coalesced).
const FRAME: Duration = Duration::from_millis(40);

/// How the app starts: signed in already, or on the sign-in form with an optional message.
pub enum Start {
    SignedIn(UserBody),
    SignIn(Option<ApiFailure>),
}

/// Puts the terminal back as it was: leaves the alternate screen, raw mode and bracketed paste.
fn restore() {
    let _ = crossterm::terminal::disable_raw_mode();
    let _ = crossterm::execute!(
        std::io::stdout(),
        DisableBracketedPaste,
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
}

/// Restores the terminal when dropped, however the app ends.
struct TerminalGuard;

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}

/// Runs the app until the user quits or the process gets SIGTERM; the terminal is restored on
/// every way out, a panic included.
pub async fn run(client: Client, start: Start) -> anyhow::Result<()> {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        previous(info);
    }));
    crossterm::terminal::enable_raw_mode()?;
    let _guard = TerminalGuard;
    crossterm::execute!(std::io::stdout(), EnterAlternateScreen, EnableBracketedPaste)?;
    let mut terminal = Terminal::new(CrosstermBackend::new(std::io::stdout()))?;
    let size = terminal.size()?;
    let result = event_loop(&mut terminal, client, start, size.width, size.height).await;
    terminal.show_cursor().ok();
    result
}

async fn event_loop(
    terminal: &mut Terminal<CrosstermBackend<Stdout>>,
    client: Client,
    start: Start,
    width: u16,
    height: u16,
) -> anyhow::Result<()> {
    let (tx, mut rx) = unbounded_channel::<Event>();
    let stop = Arc::new(AtomicBool::new(false));
    let reader = spawn_reader(tx.clone(), stop.clone());
    let ticker = {
        let tx = tx.clone();
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(Duration::from_millis(50));
            loop {
                interval.tick().await;
                if tx.send(Event::Tick).is_err() {
                    break;
                }
            }
        })
    };
    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let mut runner = Runner { client: client.clone(), tx, streams: HashMap::new() };
    let mut app = App::new(client.server(), width, height);
    match start {
        Start::SignedIn(user) => {
            let (signed_in, commands) = app.signed_in(user);
            app = signed_in;
            for command in commands {
                runner.run(command);
            }
        }
        Start::SignIn(Some(failure)) => {
            app.update(Event::Net(Net::SignedIn(Err(failure))));
        }
        Start::SignIn(None) => {}
    }
    let mut dirty = true;
    let mut last_draw = Instant::now() - FRAME;
    'outer: loop {
        if dirty && last_draw.elapsed() >= FRAME {
            terminal.draw(|frame| view::view(&app, frame))?;
            last_draw = Instant::now();
            dirty = false;
        }
        let first = tokio::select! {
            event = rx.recv() => match event { Some(e) => e, None => break },
            _ = sigterm.recv() => break,
        };
        let mut batch = vec![first];
        while let Ok(event) = rx.try_recv() {
            batch.push(event);
        }
        for event in batch {
            let immediate = matches!(event, Event::Key(_) | Event::Paste(_) | Event::Resize(..));
            let tick = matches!(event, Event::Tick);
            if tick {
                dirty |= app.is_streaming();
            } else {
                dirty = true;
            }
            if immediate {
                last_draw = Instant::now() - FRAME;
            }
            if let Event::Resize(..) = event {
                terminal.autoresize()?;
            }
            for command in app.update(event) {
                if command == Command::Quit {
                    break 'outer;
                }
                runner.run(command);
            }
        }
    }
    for handle in runner.streams.values() {
        handle.abort();
    }
    ticker.abort();
    stop.store(true, Ordering::Relaxed);
    let _ = reader.join();
    Ok(())
}

/// Reads the terminal's events on a thread of its own (crossterm's reader blocks).
fn spawn_reader(tx: UnboundedSender<Event>, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        use crossterm::event::{self, Event as Term};
        while !stop.load(Ordering::Relaxed) {
            match event::poll(Duration::from_millis(100)) {
                Ok(true) => {}
                Ok(false) => continue,
                Err(_) => break,
            }
            let event = match event::read() {
                Ok(Term::Key(key)) => Event::Key(key),
                Ok(Term::Paste(text)) => Event::Paste(text),
                Ok(Term::Resize(w, h)) => Event::Resize(w, h),
                Ok(_) => continue,
                Err(_) => break,
            };
            if tx.send(event).is_err() {
                break;
            }
        }
    })
}

/// Runs commands in tasks that report back as events.
struct Runner {
    client: Client,
    tx: UnboundedSender<Event>,
    streams: HashMap<u64, AbortHandle>,
}

impl Runner {
    fn spawn<F>(&self, call: F)
    where
        F: std::future::Future<Output = Net> + Send + 'static,
    {
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let _ = tx.send(Event::Net(call.await));
        });
    }

    fn run(&mut self, command: Command) {
        let c = self.client.clone();
        self.streams.retain(|_, h| !h.is_finished());
        match command {
            Command::SignIn { email, password } => {
                self.spawn(async move { Net::SignedIn(c.login(&email, &password).await) })
            }
            Command::ListConversations => {
                self.spawn(async move { Net::Conversations(c.conversations().await) })
            }
            Command::CreateConversation => {
                self.spawn(async move { Net::Created(c.create_conversation().await) })
            }
            Command::LoadConversation(id) => {
                self.spawn(async move { Net::Loaded(c.conversation(&id).await) })
            }
            Command::DeleteConversation(id) => self.spawn(async move {
                let result = c.delete_conversation(&id).await;
                Net::Deleted(id, result)
            }),
            Command::Ask { stream, conversation, content } => {
                let tx = self.tx.clone();
                let handle = tokio::spawn(async move {
                    let events = tx.clone();
                    let result = c
                        .ask(&conversation, &content, move |event| {
                            let _ = events.send(Event::Net(Net::Stream(stream, event)));
                        })
                        .await;
                    if let Err(failure) = result {
                        let _ = tx.send(Event::Net(Net::StreamFailed(stream, failure)));
                    }
                });
                self.streams.insert(stream, handle.abort_handle());
            }
            Command::Cancel(stream) => {
                if let Some(handle) = self.streams.remove(&stream) {
                    handle.abort();
                }
            }
            Command::LoadJob(id) => self.spawn(async move {
                let result = c.job(&id).await;
                Net::Job(id, result)
            }),
            Command::SaveJob(id) => self.spawn(async move {
                let result = c.save_job(&id).await;
                Net::JobSaved(id, result)
            }),
            Command::Recommendations => self.spawn(async move {
                Net::Recommendations(c.recommendations().await.map(|l| l.items))
            }),
            Command::Search(query) => {
                self.spawn(async move { Net::Search(c.search(&query).await.map(|b| b.items)) })
            }
            Command::Applications => self
                .spawn(async move { Net::Applications(c.applications().await.map(|l| l.items)) }),
            Command::History(id) => self.spawn(async move {
                let result = c.application_history(&id).await;
                Net::History(id, result)
            }),
            Command::Apply { job_id, cover_letter } => self.spawn(async move {
                let result = c.apply(&job_id, &cover_letter).await;
                Net::Applied(job_id, result)
            }),
            Command::DraftLetter { stream, job_id } => {
                let tx = self.tx.clone();
                let handle = tokio::spawn(async move {
                    let events = tx.clone();
                    let result = c
                        .draft_cover_letter(&job_id, move |event| {
                            let _ = events.send(Event::Net(Net::Letter(stream, event)));
                        })
                        .await;
                    if let Err(failure) = result {
                        let _ = tx.send(Event::Net(Net::LetterFailed(stream, failure)));
                    }
                });
                self.streams.insert(stream, handle.abort_handle());
            }
            Command::Quit => {}
        }
    }
}
