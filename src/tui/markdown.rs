//! The answers' markdown as terminal lines, wrapped to a width: paragraphs, headings, bullet and
//! numbered lists, emphasis, inline code, fenced code blocks (an unclosed fence, as in an answer
//! still streaming, is closed virtually) and citation marks `[n]`.

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

const CODE: Style = Style::new().fg(Color::Yellow);
const CITATION: Style = Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD);

/// Renders `text` as lines at most `width` columns wide.
pub fn render(text: &str, width: u16) -> Vec<Line<'static>> {
    let width = (width as usize).max(8);
    let mut out = Vec::new();
    let mut in_code = false;
    for raw in text.trim_end_matches('\n').split('\n') {
        let trimmed = raw.trim_start();
        if trimmed.starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            let prefix = Span::styled("│ ", Style::new().fg(Color::DarkGray));
            for chunk in hard_wrap(raw, width.saturating_sub(2).max(1)) {
                out.push(Line::from(vec![prefix.clone(), Span::styled(chunk, CODE)]));
            }
            continue;
        }
        if trimmed.is_empty() {
            out.push(Line::default());
            continue;
        }
        let indent = raw.len() - trimmed.len();
        if let Some(heading) = heading(trimmed) {
            let spans = inline(heading, Style::new().add_modifier(Modifier::BOLD));
            out.extend(wrap(spans, width, Vec::new(), 0));
        } else if let Some((marker, rest)) = list_item(trimmed) {
            let lead = " ".repeat(indent.min(8));
            let first = vec![Span::raw(format!("{lead}{marker} "))];
            let hang = lead.width() + marker.width() + 1;
            out.extend(wrap(inline(rest, Style::new()), width, first, hang));
        } else {
            out.extend(wrap(inline(trimmed, Style::new()), width, Vec::new(), 0));
        }
    }
    while out.last().is_some_and(|l: &Line| l.spans.is_empty()) {
        out.pop();
    }
    out
}

fn heading(line: &str) -> Option<&str> {
    let hashes = line.chars().take_while(|&c| c == '#').count();
    (1..=6).contains(&hashes).then(|| line[hashes..].strip_prefix(' ')).flatten()
}

/// `- x`, `* x`, `+ x` (shown as a bullet) and `1. x` / `1) x` (numbered).
fn list_item(line: &str) -> Option<(String, &str)> {
    for bullet in ["- ", "* ", "+ "] {
        if let Some(rest) = line.strip_prefix(bullet) {
            return Some(("•".into(), rest));
        }
    }
    let digits = line.chars().take_while(char::is_ascii_digit).count();
    if (1..=3).contains(&digits) {
        let rest = &line[digits..];
        for end in [". ", ") "] {
            if let Some(rest) = rest.strip_prefix(end) {
                return Some((format!("{}.", &line[..digits]), rest));
            }
        }
    }
    None
}

/// Emphasis (`**`, `*`, `_` at word edges), inline code and `[n]` as styled spans.
fn inline(text: &str, base: Style) -> Vec<Span<'static>> {
    let chars: Vec<char> = text.chars().collect();
    let mut spans = Vec::new();
    let mut current = String::new();
    let (mut bold, mut italic, mut code) = (false, false, false);
    let style = |bold: bool, italic: bool, code: bool| {
        if code {
            return CODE;
        }
        let mut s = base;
        if bold {
            s = s.add_modifier(Modifier::BOLD);
        }
        if italic {
            s = s.add_modifier(Modifier::ITALIC);
        }
        s
    };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let prev = i.checked_sub(1).map(|j| chars[j]);
        let next = chars.get(i + 1).copied();
        let mut flush = |current: &mut String, s: Style| {
            if !current.is_empty() {
                spans.push(Span::styled(std::mem::take(current), s));
            }
        };
        if c == '`' {
            flush(&mut current, style(bold, italic, code));
            code = !code;
            i += 1;
            continue;
        }
        if !code {
            if c == '*' && next == Some('*') {
                flush(&mut current, style(bold, italic, code));
                bold = !bold;
                i += 2;
                continue;
            }
            let opens = prev.is_none_or(|p| !p.is_alphanumeric())
                && next.is_some_and(|n| !n.is_whitespace());
            let closes = italic
                && prev.is_some_and(|p| !p.is_whitespace())
                && next.is_none_or(|n| !n.is_alphanumeric());
            if (c == '*' || c == '_') && ((opens && !italic) || closes) {
                flush(&mut current, style(bold, italic, code));
                italic = !italic;
                i += 1;
                continue;
            }
            if c == '['
                && let Some(len) = citation_len(&chars[i..])
            {
                flush(&mut current, style(bold, italic, code));
                spans.push(Span::styled(chars[i..i + len].iter().collect::<String>(), CITATION));
                i += len;
                continue;
            }
        }
        current.push(c);
        i += 1;
    }
    if !current.is_empty() {
        spans.push(Span::styled(current, style(bold, italic, code)));
    }
    spans
}

/// The length of `[12]` at the start of `chars`, if it is a citation mark.
fn citation_len(chars: &[char]) -> Option<usize> {
    let digits = chars[1..].iter().take_while(|c| c.is_ascii_digit()).count();
    ((1..=3).contains(&digits) && chars.get(1 + digits) == Some(&']')).then_some(digits + 2)
}

/// Splits a line into pieces of at most `width` columns (code is not wrapped at words).
fn hard_wrap(text: &str, width: usize) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > width {
            out.push(String::new());
            used = 0;
        }
        out.last_mut().expect("one line at least").push(c);
        used += w;
    }
    out
}

/// Greedy word wrap of styled spans; `first` starts the first line, later lines start with
/// `hang` spaces.
pub fn wrap(
    spans: Vec<Span<'static>>,
    width: usize,
    first: Vec<Span<'static>>,
    hang: usize,
) -> Vec<Line<'static>> {
    let width = width.max(hang + 4);
    let mut lines = Vec::new();
    let mut line: Vec<Span<'static>> = first;
    let mut used: usize = line.iter().map(|s| s.content.width()).sum();
    let start = used;
    let mut at_start = true;
    let push_piece =
        |line: &mut Vec<Span<'static>>, piece: &str, style: Style| match line.last_mut() {
            Some(last) if last.style == style => last.content.to_mut().push_str(piece),
            _ => line.push(Span::styled(piece.to_owned(), style)),
        };
    for span in spans {
        let style = span.style;
        for piece in pieces(&span.content) {
            let is_space = piece.chars().all(char::is_whitespace);
            let w = piece.width();
            if is_space {
                if at_start || used + w > width {
                    continue;
                }
                push_piece(&mut line, piece, style);
                used += w;
                continue;
            }
            if used + w > width && !at_start {
                trim_end(&mut line);
                lines.push(Line::from(std::mem::take(&mut line)));
                line.push(Span::raw(" ".repeat(hang)));
                used = hang;
            }
            if w > width - used {
                // A word longer than the line: cut it.
                for chunk in hard_wrap(piece, width - hang) {
                    if used + chunk.width() > width {
                        lines.push(Line::from(std::mem::take(&mut line)));
                        line.push(Span::raw(" ".repeat(hang)));
                        used = hang;
                    }
                    used += chunk.width();
                    push_piece(&mut line, &chunk, style);
                }
            } else {
                push_piece(&mut line, piece, style);
                used += w;
            }
            at_start = false;
        }
    }
    if used > start || lines.is_empty() {
        trim_end(&mut line);
        lines.push(Line::from(line));
    }
    lines
}

fn trim_end(line: &mut Vec<Span<'static>>) {
    while let Some(last) = line.last() {
        let trimmed = last.content.trim_end().len();
        if trimmed == 0 && line.len() > 1 {
            line.pop();
            continue;
        }
        if let Some(last) = line.last_mut() {
            last.content.to_mut().truncate(trimmed);
        }
        break;
    }
}

/// Words and runs of spaces, in order.
fn pieces(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut space = None;
    for (i, c) in text.char_indices() {
        let s = c.is_whitespace();
        if space.is_some_and(|prev| prev != s) {
            out.push(&text[start..i]);
            start = i;
        }
        space = Some(s);
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(lines: &[Line]) -> Vec<String> {
        lines.iter().map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect()).collect()
    }

    #[test]
    fn paragraphs_wrap_at_words_within_the_width() {
        let lines = render("one two three four five six seven", 14);
        assert_eq!(text(&lines), ["one two three", "four five six", "seven"]);
        assert!(lines.iter().all(|l| l.width() <= 14));
    }

    #[test]
    fn lists_hang_under_their_text() {
        let lines = render("- alpha beta gamma delta\n2. one", 14);
        assert_eq!(text(&lines), ["• alpha beta", "  gamma delta", "2. one"]);
    }

    #[test]
    fn emphasis_code_and_citations_are_styled_and_their_marks_removed() {
        let lines = render("**Rust** at *Acme* uses `tokio` [1], snake_case stays", 80);
        assert_eq!(text(&lines), ["Rust at Acme uses tokio [1], snake_case stays"]);
        let spans = &lines[0].spans;
        assert!(spans[0].style.add_modifier.contains(Modifier::BOLD));
        assert!(
            spans
                .iter()
                .any(|s| s.content == "Acme" && s.style.add_modifier.contains(Modifier::ITALIC))
        );
        assert!(spans.iter().any(|s| s.content == "tokio" && s.style == CODE));
        assert!(spans.iter().any(|s| s.content == "[1]" && s.style == CITATION));
    }

    #[test]
    fn code_blocks_keep_their_lines_and_an_open_fence_is_closed() {
        let lines = render("Run:\n```\nlet x = 1;\n  y()\n", 40);
        assert_eq!(text(&lines), ["Run:", "│ let x = 1;", "│   y()"]);
    }

    #[test]
    fn a_word_longer_than_the_line_is_cut() {
        let lines = render("abcdefghijklmnop", 8);
        assert_eq!(text(&lines), ["abcdefgh", "ijklmnop"]);
    }
}
