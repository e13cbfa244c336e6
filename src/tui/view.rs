//! Drawing: one function per screen from the app's state, plus the help overlay, the status line
//! and the footer. Only named colours, so terminals with 16 colours show it as meant.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use super::app::{App, Field, Focus, Input, JobsTab, Screen, tool_line};
use super::markdown;
use super::search::SearchField;
use crate::models::conversation::MessageRole;
use crate::schemas::assistant::MessageBody;
use crate::schemas::job::SearchQuery;

const DIM: Style = Style::new().fg(Color::DarkGray);
const ACCENT: Style = Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD);
const USER: Style = Style::new().fg(Color::Green).add_modifier(Modifier::BOLD);
const SELECTED: Style = Style::new().add_modifier(Modifier::REVERSED);
const SPINNER: [&str; 4] = ["⠋", "⠙", "⠹", "⠸"];

/// The chat screen's areas at the app's size.
pub struct ChatLayout {
    pub header: Rect,
    pub list: Rect,
    pub transcript: Rect,
    pub input: Rect,
    pub status: Rect,
    pub footer: Rect,
}

/// The lines the input box shows, wrapped to `width`, and the cursor's row and column.
fn input_lines(input: &Input, width: u16) -> (Vec<String>, (u16, u16)) {
    let width = width.max(1) as usize;
    let mut lines = vec![String::new()];
    let mut used = 0;
    let mut cursor = (0, 0);
    for (i, c) in input.text.char_indices() {
        if i == input.cursor {
            cursor = (lines.len() - 1, used);
        }
        if c == '\n' {
            lines.push(String::new());
            used = 0;
            continue;
        }
        let w = c.width().unwrap_or(0);
        if used + w > width {
            lines.push(String::new());
            used = 0;
        }
        lines.last_mut().expect("a line").push(c);
        used += w;
    }
    if input.cursor >= input.text.len() {
        if used >= width {
            lines.push(String::new());
            used = 0;
        }
        cursor = (lines.len() - 1, used);
    }
    (lines, (cursor.0 as u16, cursor.1 as u16))
}

pub fn chat_layout(app: &App) -> ChatLayout {
    let area = Rect::new(0, 0, app.width, app.height);
    let inner_width = app.width.saturating_sub(2);
    let (lines, _) = input_lines(&app.input, inner_width);
    let input_height = (lines.len() as u16).clamp(1, 6) + 2;
    let [header, body, input, status, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(input_height),
        Constraint::Length(status_height(app, app.width)),
        Constraint::Length(1),
    ])
    .areas(area);
    let list_width = if app.width >= 70 { 24 } else { 0 };
    let [list, transcript] =
        Layout::horizontal([Constraint::Length(list_width), Constraint::Min(1)]).areas(body);
    let transcript =
        Rect { x: transcript.x + 1, width: transcript.width.saturating_sub(1), ..transcript };
    ChatLayout { header, list, transcript, input, status, footer }
}

fn message_lines(message: &MessageBody, width: u16, out: &mut Vec<Line<'static>>) {
    match message.role {
        MessageRole::User => {
            out.push(Line::styled("You", USER));
            for line in message.content.split('\n') {
                out.extend(markdown::wrap(
                    vec![Span::raw(line.to_owned())],
                    width as usize,
                    Vec::new(),
                    0,
                ));
            }
        }
        MessageRole::Assistant => {
            out.push(Line::styled("Assistant", ACCENT));
            for step in &message.tool_calls {
                out.push(Line::styled(format!("⚙ {}", tool_line(step)), DIM));
            }
            out.extend(markdown::render(&message.content, width));
            citation_lines(&message.citations, width, out);
            if let Some(pending) = &message.pending_action {
                out.push(Line::from(vec![
                    Span::styled("? ", Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD)),
                    Span::raw(pending.summary.clone()),
                ]));
            }
        }
    }
}

fn citation_lines(
    citations: &[crate::models::conversation::Citation],
    width: u16,
    out: &mut Vec<Line<'static>>,
) {
    if citations.is_empty() {
        return;
    }
    out.push(Line::styled("Sources (Alt+number opens a job)", DIM));
    for c in citations {
        let first = vec![Span::styled(format!("[{}] ", c.n), ACCENT)];
        let hang = format!("[{}] ", c.n).len();
        let text = format!("{} ({})", c.title, c.kind.as_str());
        out.extend(markdown::wrap(vec![Span::raw(text)], width as usize, first, hang));
    }
}

/// Every line of the transcript at `width`, the streaming answer last.
pub fn transcript_lines(app: &App, width: u16) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    if app.messages.is_empty() && app.streaming.is_none() {
        out.push(Line::styled("Ask about jobs, your applications or the portal, e.g.", DIM));
        out.push(Line::styled("  “remote rust jobs”, “what did I apply to?”", DIM));
        return out;
    }
    for (i, message) in app.messages.iter().enumerate() {
        if i > 0 {
            out.push(Line::default());
        }
        message_lines(message, width, &mut out);
    }
    if let Some(s) = &app.streaming {
        if !app.messages.is_empty() {
            out.push(Line::default());
        }
        out.push(Line::styled("Assistant", ACCENT));
        for step in &s.tools {
            out.push(Line::styled(format!("⚙ {}", tool_line(step)), DIM));
        }
        let mut body = markdown::render(&s.text, width);
        let cursor = Span::styled("▌", DIM);
        match body.last_mut() {
            Some(last) if last.width() < width as usize => last.spans.push(cursor),
            _ => body.push(Line::from(cursor)),
        }
        out.extend(body);
        citation_lines(&s.citations, width, &mut out);
    }
    out
}

/// Draws the app.
pub fn view(app: &App, frame: &mut Frame) {
    match app.screen {
        Screen::SignIn => sign_in(app, frame),
        Screen::Chat => chat(app, frame),
        Screen::Jobs => jobs(app, frame),
        Screen::Job => job(app, frame),
        Screen::Applications => applications(app, frame),
    }
    if app.help {
        help(app, frame);
    }
}

fn header(app: &App, frame: &mut Frame, area: Rect, title: &str) {
    let who = app.user.as_ref().map(|u| u.email.as_str()).unwrap_or("");
    let left = format!(" jobportal · {title}");
    let pad = (area.width as usize).saturating_sub(left.chars().count() + who.chars().count() + 1);
    let line = Line::from(vec![
        Span::styled(left, Style::new().add_modifier(Modifier::BOLD)),
        Span::raw(" ".repeat(pad)),
        Span::styled(who.to_owned(), DIM),
    ]);
    frame.render_widget(
        Paragraph::new(line).style(Style::new().bg(Color::Blue).fg(Color::White)),
        area,
    );
}

/// The rows the status line takes at `width`: two when its message does not fit in one (a
/// failure says what to do at its end).
fn status_height(app: &App, width: u16) -> u16 {
    let fits = app.status.as_ref().is_none_or(|s| s.text.width() < width as usize);
    if fits { 1 } else { 2 }
}

fn status_line(app: &App, frame: &mut Frame, area: Rect) {
    let line = if let Some(status) = &app.status {
        let style = if status.error {
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD)
        } else {
            Style::new().fg(Color::Yellow)
        };
        Line::styled(status.text.clone(), style)
    } else if let Some(streaming) = &app.streaming {
        let spin = SPINNER[(app.ticks / 2) as usize % SPINNER.len()];
        let doing = match streaming.queued {
            Some(1) => "waiting for the model: 1 answer first…".to_owned(),
            Some(ahead) => format!("waiting for the model: {ahead} answers first…"),
            None => "answering…".to_owned(),
        };
        Line::styled(format!("{spin} {doing} Esc stops"), Style::new().fg(Color::Yellow))
    } else if let Some(question) = app.pending_confirmation() {
        Line::styled(
            format!("{question}  y: yes  n: no"),
            Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
        )
    } else {
        Line::default()
    };
    // One column in from the edge, a second row included.
    let inset = Rect { x: area.x + 1, width: area.width.saturating_sub(1), ..area };
    frame.render_widget(Paragraph::new(line).wrap(Wrap { trim: true }), inset);
}

/// The main keys of a screen, as many as fit whole; the last (the help key) always shows.
fn footer(frame: &mut Frame, area: Rect, keys: &[(&str, &str)]) {
    let width = |(key, what): &(&str, &str)| key.chars().count() + what.chars().count() + 3;
    let last = keys.last().map_or(0, width);
    let mut used = last;
    let mut shown: Vec<&(&str, &str)> = Vec::new();
    for entry in &keys[..keys.len().saturating_sub(1)] {
        if used + width(entry) > area.width as usize {
            break;
        }
        used += width(entry);
        shown.push(entry);
    }
    shown.extend(keys.last());
    let mut spans = Vec::new();
    for (key, what) in shown {
        spans.push(Span::styled(format!(" {key}"), ACCENT));
        spans.push(Span::styled(format!(" {what} "), DIM));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn chat(app: &App, frame: &mut Frame) {
    let layout = chat_layout(app);
    let title = app.current.as_ref().map(|(_, t)| t.as_str()).unwrap_or("new conversation");
    header(app, frame, layout.header, &format!("assistant · {title}"));
    if layout.list.width > 0 {
        let mut lines = vec![Line::styled(
            "Conversations",
            if app.focus == Focus::List {
                ACCENT
            } else {
                Style::new().add_modifier(Modifier::BOLD)
            },
        )];
        let rows = layout.list.height.saturating_sub(1) as usize;
        let first = app.selected.saturating_sub(rows.saturating_sub(1));
        for (i, c) in app.conversations.iter().enumerate().skip(first).take(rows) {
            let current = app.current.as_ref().is_some_and(|(id, _)| *id == c.id);
            let mark = if current { "▸ " } else { "  " };
            let mut title: String =
                c.title.chars().take(layout.list.width.saturating_sub(3) as usize).collect();
            if title.chars().count() < c.title.chars().count() {
                title.pop();
                title.push('…');
            }
            let style = if i == app.selected && app.focus == Focus::List {
                SELECTED
            } else if current {
                Style::new().add_modifier(Modifier::BOLD)
            } else {
                Style::new()
            };
            lines.push(Line::styled(format!("{mark}{title}"), style));
        }
        if app.conversations.is_empty() {
            lines.push(Line::styled("  none yet", DIM));
        }
        frame.render_widget(
            Paragraph::new(lines).block(Block::new().borders(Borders::RIGHT).border_style(DIM)),
            layout.list,
        );
    }
    let lines = transcript_lines(app, layout.transcript.width);
    let height = layout.transcript.height as usize;
    let bottom = lines.len().saturating_sub(height);
    let top = app.scroll.map_or(bottom, |t| t.min(bottom));
    let shown: Vec<Line> = lines.into_iter().skip(top).take(height).collect();
    frame.render_widget(Paragraph::new(shown), layout.transcript);
    if top < bottom {
        let more = format!(" ↓ {} more lines (PgDn) ", bottom - top);
        let w = more.chars().count() as u16;
        let r = layout.transcript;
        if r.width > w && r.height > 0 {
            frame.render_widget(
                Paragraph::new(Line::styled(more, Style::new().fg(Color::Black).bg(Color::Yellow))),
                Rect::new(r.x + r.width - w, r.y + r.height - 1, w, 1),
            );
        }
    }
    let block = Block::bordered().title(" Message ").border_style(if app.focus == Focus::Input {
        Style::new().fg(Color::Cyan)
    } else {
        DIM
    });
    let inner = block.inner(layout.input);
    let (input, (row, col)) = input_lines(&app.input, inner.width);
    let skip = (row as usize + 1).saturating_sub(inner.height as usize);
    let text: Vec<Line> = input.into_iter().skip(skip).map(Line::raw).collect();
    frame.render_widget(Paragraph::new(text).block(block), layout.input);
    if app.focus == Focus::Input && !app.help {
        frame.set_cursor_position((inner.x + col, inner.y + row - skip as u16));
    }
    status_line(app, frame, layout.status);
    let keys: &[(&str, &str)] = if app.is_streaming() {
        &[("Esc", "stop"), ("PgUp/PgDn", "scroll"), ("?", "help")]
    } else {
        &[
            ("Enter", "send"),
            ("Alt+Enter", "newline"),
            ("Tab", "list"),
            ("^N", "new"),
            ("F3", "jobs"),
            ("F4", "applications"),
            ("?", "help"),
        ]
    };
    footer(frame, layout.footer, keys);
}

fn screen_areas(app: &App, frame: &Frame) -> (Rect, Rect, Rect, Rect) {
    let [header, body, status, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(status_height(app, frame.area().width)),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    (header, body, status, footer)
}

fn sign_in(app: &App, frame: &mut Frame) {
    let (head, body, status, foot) = screen_areas(app, frame);
    header(app, frame, head, "sign in");
    let width = body.width.min(64);
    let area = Rect::new(
        body.x + (body.width - width) / 2,
        body.y + body.height.saturating_sub(11) / 2,
        width,
        body.height.min(11),
    );
    let form = &app.sign_in;
    let field = |label: &str, value: String, active: bool| {
        let style = if active {
            Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD)
        } else {
            Style::new()
        };
        Line::from(vec![Span::styled(format!("{label:>9}: "), style), Span::raw(value)])
    };
    let lines = vec![
        Line::raw(""),
        field("Email", form.email.clone(), form.field == Some(Field::Email)),
        field(
            "Password",
            "•".repeat(form.password.chars().count()),
            form.field == Some(Field::Password),
        ),
        Line::raw(""),
        Line::styled("No account? Register as a candidate with the API:", DIM),
        Line::styled(format!("POST {}/api/v1/auth/register", app.server), DIM),
        Line::styled("(email, password, full_name, role \"candidate\"; see README)", DIM),
        Line::styled(format!("Server: {}", app.server), DIM),
    ];
    let block = Block::bordered()
        .title(" Sign in to jobportal ")
        .border_style(Style::new().fg(Color::Cyan));
    let inner = block.inner(area);
    frame.render_widget(Paragraph::new(lines).block(block), area);
    if !app.help && !form.busy {
        let (row, len) = match form.field {
            Some(Field::Password) => (2, form.password.chars().count()),
            _ => (1, form.email.chars().count()),
        };
        let x = (inner.x + 11 + len as u16).min(inner.right().saturating_sub(1));
        frame.set_cursor_position((x, inner.y + row));
    }
    status_line(app, frame, status);
    footer(
        frame,
        foot,
        &[("Tab", "next field"), ("Enter", "sign in"), ("Esc", "quit"), ("F1", "help")],
    );
}

/// The filters of a search sent, in words: `remote · senior · in Berlin`.
fn active_filters(query: &SearchQuery) -> Vec<String> {
    let mut out = Vec::new();
    out.extend(query.workplace.clone());
    out.extend(query.seniority.clone());
    out.extend(query.employment_type.as_ref().map(|t| t.replace('_', " ")));
    out.extend(query.location.as_ref().map(|l| format!("in {l}")));
    if let (Some(min), Some(currency)) = (query.salary_min, &query.salary_currency) {
        out.push(format!("from {} {currency} a year", thousands(min)));
    }
    out
}

/// The search form over the top of the jobs screen, one field a line; the cursor is put in the
/// text field with the focus.
fn search_form(app: &App, frame: &mut Frame, area: Rect) {
    let form = &app.jobs.form;
    let block = Block::bordered()
        .title(" Search jobs (Enter search, Esc close) ")
        .border_style(Style::new().fg(Color::Cyan));
    let inner = block.inner(area);
    let mut lines = Vec::new();
    let mut cursor = None;
    for (row, field) in SearchField::ALL.into_iter().enumerate() {
        let focused = form.focus == Some(field);
        let label = Span::styled(
            format!(" {:>10}: ", field.label()),
            if focused { Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD) } else { DIM },
        );
        let choice = match field {
            SearchField::Workplace => Some(form.workplace.map(|w| w.as_str())),
            SearchField::Seniority => Some(form.seniority.map(|s| s.as_str())),
            SearchField::EmploymentType => Some(form.employment_type.map(|t| t.as_str())),
            _ => None,
        };
        let value = match choice {
            Some(value) => {
                let text = value.unwrap_or("any").replace('_', " ");
                let style = if value.is_some() { Style::new() } else { DIM };
                if focused {
                    Span::styled(format!("‹ {text} ›"), style.add_modifier(Modifier::BOLD))
                } else {
                    Span::styled(text, style)
                }
            }
            None => {
                let (input, hint) = match field {
                    SearchField::Words => (&form.words, "e.g. rust backend"),
                    SearchField::Location => (&form.location, "a city or region"),
                    _ => (&form.salary, "a year, e.g. 90000 EUR"),
                };
                if focused {
                    let before = input.text[..input.cursor].chars().count() as u16;
                    cursor = Some((inner.x + 13 + before, inner.y + row as u16));
                }
                if input.text.is_empty() {
                    Span::styled(hint, DIM)
                } else {
                    Span::raw(input.text.clone())
                }
            }
        };
        lines.push(Line::from(vec![label, value]));
    }
    frame.render_widget(Clear, area);
    frame.render_widget(Paragraph::new(lines).block(block), area);
    if let Some((x, y)) = cursor
        && !app.help
    {
        frame.set_cursor_position((x.min(inner.right().saturating_sub(1)), y));
    }
}

fn jobs(app: &App, frame: &mut Frame) {
    let (head, body, status, foot) = screen_areas(app, frame);
    header(app, frame, head, "jobs");
    let body = if app.jobs.form.is_open() {
        let [form, rest] =
            Layout::vertical([Constraint::Length(8), Constraint::Min(1)]).areas(body);
        search_form(app, frame, form);
        rest
    } else {
        body
    };
    let tab =
        |name: &str, on: bool| Span::styled(format!(" {name} "), if on { SELECTED } else { DIM });
    let searched = app.jobs.searched.as_ref();
    let words = searched.and_then(|q| q.q.as_deref()).map(|w| format!("  search: {w}"));
    let mut lines = vec![Line::from(vec![
        tab("Recommended", app.jobs.tab == JobsTab::Recommended),
        Span::raw(" "),
        tab("Search", app.jobs.tab == JobsTab::Search),
        Span::styled(words.unwrap_or_default(), Style::new().fg(Color::Yellow)),
    ])];
    if app.jobs.tab == JobsTab::Search {
        lines.push(match searched.map(active_filters) {
            None => Line::styled(" / searches by words and filters", DIM),
            Some(filters) if filters.is_empty() => {
                Line::styled(" Filters: none (/ adds some)", DIM)
            }
            Some(filters) => Line::from(vec![
                Span::styled(" Filters: ", DIM),
                Span::styled(filters.join(" · "), Style::new().fg(Color::Yellow)),
            ]),
        });
    }
    lines.push(Line::default());
    let width = body.width as usize;
    let mut selected_row = 0;
    if app.jobs.loading {
        lines.push(Line::styled("Loading…", DIM));
    }
    match app.jobs.tab {
        JobsTab::Recommended => {
            for (i, r) in app.jobs.recommended.iter().enumerate() {
                if i == app.jobs.selected {
                    selected_row = lines.len();
                }
                let style = if i == app.jobs.selected {
                    SELECTED
                } else {
                    Style::new().add_modifier(Modifier::BOLD)
                };
                let e = &r.explanation;
                let total = e.matched_skills.len() + e.missing_skills.len();
                lines.push(Line::styled(
                    format!(
                        "{:>3}%  {} · {}",
                        (r.score * 100.0).round() as i64,
                        r.job.title,
                        r.job.company.name
                    ),
                    style,
                ));
                let mut facts =
                    format!("      {} of {} skills match", e.matched_skills.len(), total);
                if !e.missing_skills.is_empty() {
                    facts.push_str(&format!(" · missing: {}", e.missing_skills.join(", ")));
                }
                lines.extend(markdown::wrap(vec![Span::raw(facts)], width, Vec::new(), 6));
                let reasons: Vec<&str> = e.reasons.iter().map(|r| r.detail.as_str()).collect();
                if !reasons.is_empty() {
                    lines.extend(markdown::wrap(
                        vec![Span::styled(format!("      {}", reasons.join("; ")), DIM)],
                        width,
                        Vec::new(),
                        6,
                    ));
                }
            }
        }
        JobsTab::Search => {
            for (i, j) in app.jobs.results.iter().enumerate() {
                if i == app.jobs.selected {
                    selected_row = lines.len();
                }
                let style = if i == app.jobs.selected {
                    SELECTED
                } else {
                    Style::new().add_modifier(Modifier::BOLD)
                };
                lines.push(Line::styled(format!("{} · {}", j.title, j.company.name), style));
                let place = [j.location.city.clone(), j.workplace.clone()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(", ");
                lines.push(Line::styled(format!("  {place}  {}", j.skills.join(", ")), DIM));
            }
            if app.jobs.results.is_empty() && !app.jobs.loading && searched.is_some() {
                lines.push(Line::styled("No jobs match: / changes the search", DIM));
            }
        }
    }
    let height = body.height as usize;
    let skip = (selected_row + 3).saturating_sub(height);
    frame.render_widget(
        Paragraph::new(lines.into_iter().skip(skip).take(height).collect::<Vec<_>>()),
        body,
    );
    status_line(app, frame, status);
    let keys: &[(&str, &str)] = if app.jobs.form.is_open() {
        &[
            ("Tab/↑↓", "field"),
            ("←→", "choose"),
            ("Enter", "search"),
            ("Esc", "close"),
            ("^U", "clear"),
            ("F1", "help"),
        ]
    } else {
        &[
            ("↑↓", "select"),
            ("Enter", "open"),
            ("/", "search, filters"),
            ("Tab", "tab"),
            ("r", "recommended"),
            ("?", "help"),
        ]
    };
    footer(frame, foot, keys);
}

fn job(app: &App, frame: &mut Frame) {
    let (head, body, status, foot) = screen_areas(app, frame);
    let Some(j) = &app.job.job else {
        header(app, frame, head, "job");
        let text = if app.job.loading { "Loading the job…" } else { "No job open" };
        frame.render_widget(Paragraph::new(Line::styled(text, DIM)), body);
        status_line(app, frame, status);
        footer(frame, foot, &[("Esc", "back")]);
        return;
    };
    let s = &j.summary;
    header(app, frame, head, &format!("job · {}", s.title));
    let width = body.width;
    let mut lines = vec![Line::styled(s.title.clone(), ACCENT)];
    let mut company = s.company.name.clone();
    if s.company.verified {
        company.push_str(" ✓");
    }
    lines.push(Line::styled(company, Style::new().add_modifier(Modifier::BOLD)));
    let place = [
        s.location.city.clone(),
        s.location.country_code.clone(),
        s.workplace.clone(),
        s.employment_type.as_ref().map(|t| t.replace('_', " ")),
        s.seniority.clone(),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" · ");
    lines.push(Line::raw(place));
    if let Some(salary) = &s.salary {
        let fmt = |v: Option<f64>| v.map(thousands).unwrap_or_else(|| "…".into());
        let period = salary.period.as_deref().map(|p| format!(" a {p}")).unwrap_or_default();
        lines.push(Line::raw(format!(
            "Salary: {}–{} {}{period}",
            fmt(salary.min),
            fmt(salary.max),
            salary.currency.clone().unwrap_or_default(),
        )));
    }
    if !s.skills.is_empty() {
        lines.extend(markdown::wrap(
            vec![Span::raw(format!("Skills: {}", s.skills.join(", ")))],
            width as usize,
            Vec::new(),
            8,
        ));
    }
    if app.job.saved {
        lines.push(Line::styled("★ saved", Style::new().fg(Color::Green)));
    }
    if app.job.applied {
        lines.push(Line::styled("✓ applied", Style::new().fg(Color::Green)));
    }
    lines.push(Line::default());
    lines.extend(markdown::render(&j.description, width));
    let mut body_area = body;
    if let Some(letter) = &app.job.letter {
        let [top, bottom] = Layout::vertical([
            Constraint::Min(3),
            Constraint::Length(8.min(body.height / 2).max(3)),
        ])
        .areas(body);
        body_area = top;
        let title = if app.job.drafting.is_some() {
            " Cover letter: drafting… (Esc stops) "
        } else {
            " Cover letter (Ctrl+S apply, Esc cancel) "
        };
        let block = Block::bordered().title(title).border_style(Style::new().fg(Color::Cyan));
        let inner = block.inner(bottom);
        let (text, (row, col)) = input_lines(letter, inner.width);
        let skip = (row as usize + 1).saturating_sub(inner.height as usize);
        frame.render_widget(
            Paragraph::new(text.into_iter().skip(skip).map(Line::raw).collect::<Vec<_>>())
                .block(block),
            bottom,
        );
        if !app.help {
            frame.set_cursor_position((inner.x + col, inner.y + row - skip as u16));
        }
    }
    let max = lines.len().saturating_sub(body_area.height as usize) as u16;
    frame.render_widget(Paragraph::new(lines).scroll((app.job.scroll.min(max), 0)), body_area);
    status_line(app, frame, status);
    footer(
        frame,
        foot,
        &[
            ("s", "save"),
            ("c", "draft letter"),
            ("a", "apply"),
            ("↑↓", "scroll"),
            ("Esc", "back"),
            ("?", "help"),
        ],
    );
}

fn applications(app: &App, frame: &mut Frame) {
    let (head, body, status, foot) = screen_areas(app, frame);
    header(app, frame, head, "applications");
    let a = &app.applications;
    let [list, detail] =
        Layout::vertical([Constraint::Percentage(55), Constraint::Min(3)]).areas(body);
    let mut lines = Vec::new();
    if a.loading {
        lines.push(Line::styled("Loading…", DIM));
    } else if a.items.is_empty() {
        lines.push(Line::styled("No applications yet: open a job (F3) and press a to apply", DIM));
    }
    for (i, item) in a.items.iter().enumerate() {
        let title = item
            .job
            .as_ref()
            .map(|j| format!("{} · {}", j.title, j.company.name))
            .unwrap_or_else(|| item.job_id.clone());
        let style = if i == a.selected { SELECTED } else { Style::new() };
        lines.push(Line::styled(
            format!("{:<12} {}  {}", item.stage, item.created_at.format("%Y-%m-%d"), title),
            style,
        ));
    }
    let skip = (a.selected + 1).saturating_sub(list.height as usize);
    frame.render_widget(Paragraph::new(lines.into_iter().skip(skip).collect::<Vec<_>>()), list);
    let mut history = Vec::new();
    match &a.history {
        Some((_, events)) => {
            for e in events {
                let from = e.from.clone().unwrap_or_else(|| "—".into());
                let mut line =
                    format!("{}  {from} → {}  by {}", e.at.format("%Y-%m-%d %H:%M"), e.to, e.by);
                if let Some(reason) = &e.reason {
                    line.push_str(&format!(" ({reason})"));
                }
                history.push(Line::raw(line));
            }
        }
        None => {
            history.push(Line::styled("Enter shows the history of the selected application", DIM))
        }
    }
    frame.render_widget(
        Paragraph::new(history)
            .block(Block::new().borders(Borders::TOP).title(" History ").border_style(DIM)),
        detail,
    );
    status_line(app, frame, status);
    footer(
        frame,
        foot,
        &[
            ("↑↓", "select"),
            ("Enter", "history"),
            ("o", "open job"),
            ("r", "reload"),
            ("F2", "chat"),
            ("?", "help"),
        ],
    );
}

/// Every key of the screen shown.
pub fn help_keys(screen: Screen) -> &'static [(&'static str, &'static str)] {
    match screen {
        Screen::SignIn => &[
            ("Tab / ↑ / ↓", "next field"),
            ("Enter", "next field, then sign in"),
            ("Esc / Ctrl+C / Ctrl+Q", "quit"),
            ("F1", "this help"),
        ],
        Screen::Chat => &[
            ("Enter", "send the message"),
            ("Alt+Enter / Ctrl+J", "new line in the message"),
            ("Esc / Ctrl+C", "stop the answer while it streams"),
            ("y / n", "answer the assistant's question (empty message)"),
            ("Alt+1…9", "open the job a source [n] points at"),
            ("PgUp / PgDn", "scroll the conversation"),
            ("↑ / ↓", "move in the message; scroll at its edges"),
            ("End", "back to the newest (empty message)"),
            ("Ctrl+U", "clear the message"),
            ("Tab", "conversation list / message"),
            ("↑↓ Enter (list)", "choose and open a conversation"),
            ("n / d (list)", "new / delete a conversation"),
            ("Ctrl+N", "new conversation"),
            ("F3 / F4", "jobs / applications"),
            ("? / F1", "this help (? on an empty message)"),
            ("Ctrl+C / Ctrl+Q", "quit"),
        ],
        Screen::Jobs => &[
            ("↑ / ↓ / j / k", "select a job"),
            ("Enter", "open the job"),
            ("/", "search by words and filters (the form)"),
            ("Tab / ↑ / ↓ (form)", "next / previous field"),
            ("← / → (form)", "choose the workplace, seniority or type"),
            ("Ctrl+U (form)", "clear the field (a choice: any)"),
            ("Enter (form)", "search; Esc closes, keeping what is typed"),
            ("Tab", "recommended / search results"),
            ("r", "reload the recommendations"),
            ("F2 / F4", "chat / applications"),
            ("Esc", "back to the chat"),
            ("? / F1", "this help (F1 in the form)"),
            ("Ctrl+C / Ctrl+Q", "quit"),
        ],
        Screen::Job => &[
            ("s", "save the job"),
            ("c", "draft a cover letter from your resume to edit"),
            ("a", "apply: write a letter, Ctrl+S, then y"),
            ("↑ ↓ PgUp PgDn", "scroll"),
            ("Esc / q", "back"),
            ("F2 / F3 / F4", "chat / jobs / applications"),
            ("? / F1", "this help"),
            ("Ctrl+C / Ctrl+Q", "quit"),
        ],
        Screen::Applications => &[
            ("↑ / ↓ / j / k", "select an application"),
            ("Enter", "show its history"),
            ("o", "open its job"),
            ("r", "reload"),
            ("F2 / F3", "chat / jobs"),
            ("Esc", "back to the chat"),
            ("? / F1", "this help"),
            ("Ctrl+C / Ctrl+Q", "quit"),
        ],
    }
}

fn help(app: &App, frame: &mut Frame) {
    let keys = help_keys(app.screen);
    let area = frame.area();
    let width = area.width.saturating_sub(4).min(70);
    let height = (keys.len() as u16 + 4).min(area.height);
    let rect = Rect::new(
        area.x + (area.width - width) / 2,
        area.y + (area.height - height) / 2,
        width,
        height,
    );
    let key_width = keys.iter().map(|(k, _)| k.chars().count()).max().unwrap_or(0);
    let mut lines: Vec<Line> = keys
        .iter()
        .map(|(k, what)| {
            Line::from(vec![Span::styled(format!(" {k:<key_width$}  "), ACCENT), Span::raw(*what)])
        })
        .collect();
    lines.push(Line::default());
    lines.push(Line::styled(" Esc closes this help", DIM));
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines)
            .block(Block::bordered().title(" Keys ").border_style(Style::new().fg(Color::Cyan))),
        rect,
    );
}

/// A whole amount with thousands separators: `180,000`.
fn thousands(value: f64) -> String {
    let digits = format!("{:.0}", value.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if value < 0.0 { format!("-{out}") } else { out }
}
