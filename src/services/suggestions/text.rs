//! Words as suggestions compare them: lower case, split at punctuation (keeping `+`, `#` and
//! inner dots: "c++", "c#", "node.js"), seniority abbreviations spelt out, and the edit
//! distances that allow a typo.

/// Abbreviations of titles spelt out, so "Sr. Engineer" and "Senior Engineer" are one title.
const SPELT_OUT: &[(&str, &str)] =
    &[("sr", "senior"), ("snr", "senior"), ("jr", "junior"), ("jnr", "junior"), ("mgr", "manager")];

/// The words of `text`, lower case, with the abbreviations of [`SPELT_OUT`] spelt out.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_alphanumeric() || matches!(c, '+' | '#' | '.')))
        .map(|w| w.trim_matches('.'))
        .filter(|w| !w.is_empty())
        .map(|w| {
            let lower = w.to_lowercase();
            match SPELT_OUT.iter().find(|(short, _)| *short == lower) {
                Some((_, long)) => (*long).to_owned(),
                None => lower,
            }
        })
        .collect()
}

/// The key a text is counted under: its [`words`] joined by one space.
pub fn key(text: &str) -> String {
    words(text).join(" ")
}

/// A title as shown: the words as written, one space apart, abbreviations spelt out with a
/// capital ("Sr. Rust Engineer" → "Senior Rust Engineer").
pub fn title_form(title: &str) -> String {
    title
        .split_whitespace()
        .map(|token| {
            let bare = token.trim_end_matches(['.', ',']).to_lowercase();
            match SPELT_OUT.iter().find(|(short, _)| *short == bare) {
                Some((_, long)) => capitalised(long),
                None => token.to_owned(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// How `typed` begins `text` (both as chars): `Some(None)` when it is a prefix as typed,
/// `Some(Some(i))` when it is a prefix after one edit (a letter changed, missing, extra, or two
/// swapped) at `typed[i]`, `None` otherwise.
pub fn prefix_edit(typed: &[char], text: &[char]) -> Option<Option<usize>> {
    let same = typed.iter().zip(text).take_while(|(a, b)| a == b).count();
    if same == typed.len() {
        return Some(None);
    }
    let (q, t) = (&typed[same..], &text[same..]);
    let begins = |a: &[char], b: &[char]| b.len() >= a.len() && b[..a.len()] == *a;
    let changed = !t.is_empty() && begins(&q[1..], &t[1..]);
    let extra = begins(&q[1..], t);
    let missing = !t.is_empty() && begins(q, &t[1..]);
    let swapped =
        q.len() >= 2 && t.len() >= 2 && q[0] == t[1] && q[1] == t[0] && begins(&q[2..], &t[2..]);
    (changed || extra || missing || swapped).then_some(Some(same))
}

/// The length of the word of `typed` (chars, words split by spaces) that holds `typed[at]`.
pub fn word_len_at(typed: &[char], at: usize) -> usize {
    let at = at.min(typed.len().saturating_sub(1));
    let start = typed[..at].iter().rposition(|c| *c == ' ').map_or(0, |p| p + 1);
    let end = typed[at..].iter().position(|c| *c == ' ').map_or(typed.len(), |p| at + p);
    end - start
}

/// The optimal string alignment distance of `a` and `b` (changes, insertions, deletions and
/// swaps of neighbours), or `None` when it is above `max`. `rows` is scratch space, kept by a
/// caller that compares many words so that each comparison allocates nothing.
pub fn distance(a: &[char], b: &[char], max: usize, rows: &mut Vec<usize>) -> Option<usize> {
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    let width = b.len() + 1;
    rows.clear();
    rows.resize(3 * width, 0);
    let (mut before, mut prev, mut cur) = (0, width, 2 * width);
    for j in 0..width {
        rows[prev + j] = j;
    }
    for i in 1..=a.len() {
        rows[cur] = i;
        let mut best = i;
        for j in 1..width {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d =
                (rows[prev + j] + 1).min(rows[cur + j - 1] + 1).min(rows[prev + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(rows[before + j - 2] + 1);
            }
            rows[cur + j] = d;
            best = best.min(d);
        }
        if best > max {
            return None;
        }
        (before, prev, cur) = (prev, cur, before);
    }
    let d = rows[prev + b.len()];
    (d <= max).then_some(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chars(s: &str) -> Vec<char> {
        s.chars().collect()
    }

    #[test]
    fn words_keep_language_names_and_spell_out_abbreviations() {
        assert_eq!(
            words("Sr. C++/Node.js Dev, (Remote)"),
            ["senior", "c++", "node.js", "dev", "remote"]
        );
        assert_eq!(key("Jr  C# Developer"), "junior c# developer");
        assert_eq!(title_form("Sr.  Rust   Engineer"), "Senior Rust Engineer");
        assert_eq!(key(&title_form("Sr. Rust Engineer")), key("senior rust engineer"));
    }

    #[test]
    fn a_prefix_allows_one_edit_and_says_where() {
        let edit = |q: &str, t: &str| prefix_edit(&chars(q), &chars(t));
        assert_eq!(edit("pyth", "python developer"), Some(None));
        assert_eq!(edit("pyhton", "python developer"), Some(Some(2)), "swapped");
        assert_eq!(edit("pyton", "python"), Some(Some(3)), "missing");
        assert_eq!(edit("pythhon", "python"), Some(Some(4)), "extra");
        assert_eq!(edit("pxthon", "python"), Some(Some(1)), "changed");
        assert_eq!(edit("pxthxn", "python"), None, "two edits");
        assert_eq!(word_len_at(&chars("go pyhton"), 5), 6);
        assert_eq!(word_len_at(&chars("go pyhton"), 0), 2);
    }

    #[test]
    fn distance_is_bounded() {
        let d = |a: &str, b: &str, max| distance(&chars(a), &chars(b), max, &mut Vec::new());
        assert_eq!(d("pyhton", "python", 1), Some(1));
        assert_eq!(d("developr", "developer", 1), Some(1));
        assert_eq!(d("kubernets", "kubernetes", 2), Some(1));
        assert_eq!(d("java", "javascript", 2), None);
        assert_eq!(d("rust", "rust", 0), Some(0));
        assert_eq!(d("abcd", "badc", 1), None);
        assert_eq!(d("abcd", "badc", 2), Some(2));
        // One scratch space for words of every length answers as a fresh one does.
        let mut rows = Vec::new();
        let pairs = [("kubernets", "kubernetes"), ("pyhton", "python"), ("ab", "abcd")];
        for (a, b) in pairs.iter().chain(pairs.iter().rev()) {
            for max in 0..3 {
                assert_eq!(distance(&chars(a), &chars(b), max, &mut rows), d(a, b, max), "{a} {b}");
            }
        }
    }
}
