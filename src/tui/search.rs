//! The jobs screen's search form: the words and the main filters (workplace, seniority,
//! employment type, location, least salary), edited a field at a time and sent as the API's own
//! [`SearchQuery`], so the app asks exactly what `GET /api/v1/jobs` reads.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::app::Input;
use crate::models::job::{EmploymentType, Seniority, Workplace};
use crate::schemas::job::SearchQuery;

/// How many jobs a search lists.
const PAGE: u32 = 20;

/// A field of the form, in the order Tab visits them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchField {
    Words,
    Workplace,
    Seniority,
    EmploymentType,
    Location,
    Salary,
}

impl SearchField {
    pub const ALL: [SearchField; 6] = [
        SearchField::Words,
        SearchField::Workplace,
        SearchField::Seniority,
        SearchField::EmploymentType,
        SearchField::Location,
        SearchField::Salary,
    ];

    pub fn label(self) -> &'static str {
        match self {
            SearchField::Words => "Words",
            SearchField::Workplace => "Workplace",
            SearchField::Seniority => "Seniority",
            SearchField::EmploymentType => "Type",
            SearchField::Location => "Location",
            SearchField::Salary => "Min salary",
        }
    }

    /// Whether the field is one of a few values (chosen with ← →) rather than typed.
    pub fn is_choice(self) -> bool {
        matches!(
            self,
            SearchField::Workplace | SearchField::Seniority | SearchField::EmploymentType
        )
    }

    fn step(self, by: isize) -> SearchField {
        let at = Self::ALL.iter().position(|f| *f == self).unwrap_or(0) as isize;
        Self::ALL[(at + by).rem_euclid(Self::ALL.len() as isize) as usize]
    }
}

/// What a key did to the form.
// Returned once per key: the size of a search costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum FormOutcome {
    /// The form changed (or the key meant nothing); it stays open.
    Edited,
    /// Enter: the search to run; the form is closed.
    Run(SearchQuery),
    /// Enter with a field that cannot be read: why; the focus is on that field.
    Invalid(String),
    /// Esc: closed, what was typed is kept for the next time.
    Closed,
}

/// The search being written; kept between openings of the form.
#[derive(Debug, Clone, Default)]
pub struct SearchForm {
    pub words: Input,
    pub workplace: Option<Workplace>,
    pub seniority: Option<Seniority>,
    pub employment_type: Option<EmploymentType>,
    /// A city or region.
    pub location: Input,
    /// The least yearly pay and its currency, as typed: `90000 EUR`, `90k eur`.
    pub salary: Input,
    /// The field with the focus while the form is open; `None`: closed.
    pub focus: Option<SearchField>,
}

/// The value after (`by` 1) or before (-1) `current` among `all`, through "any" (`None`).
fn cycle<T: Copy + PartialEq>(all: &[T], current: Option<T>, by: isize) -> Option<T> {
    let slots = all.len() as isize + 1;
    let at = current.and_then(|c| all.iter().position(|v| *v == c)).map_or(0, |i| i as isize + 1);
    match (at + by).rem_euclid(slots) {
        0 => None,
        i => Some(all[i as usize - 1]),
    }
}

/// Reads the least salary as typed: an amount (`90000`, `90,000`, `90k`) and a three-letter
/// currency, in either order; empty is no filter.
pub fn parse_salary(text: &str) -> Result<Option<(f64, String)>, String> {
    let bad =
        || format!("Min salary {:?}: type an amount and a currency, e.g. 90000 EUR", text.trim());
    let mut amount = None;
    let mut currency = None;
    for token in text.split_whitespace() {
        if token.len() == 3 && token.chars().all(|c| c.is_ascii_alphabetic()) {
            if currency.replace(token.to_ascii_uppercase()).is_some() {
                return Err(bad());
            }
            continue;
        }
        let digits: String = token.chars().filter(|c| !matches!(c, ',' | '_')).collect();
        let (digits, scale) = match digits.strip_suffix(['k', 'K']) {
            Some(rest) => (rest.to_owned(), 1000.0),
            None => (digits, 1.0),
        };
        let value = digits.parse::<f64>().ok().filter(|v| v.is_finite() && *v >= 0.0);
        match value {
            Some(v) if amount.is_none() => amount = Some(v * scale),
            _ => return Err(bad()),
        }
    }
    match (amount, currency) {
        (None, None) => Ok(None),
        (Some(amount), Some(currency)) => Ok(Some((amount, currency))),
        _ => Err(bad()),
    }
}

/// Trimmed, or `None` when blank.
fn text(input: &Input) -> Option<String> {
    Some(input.text.trim().to_owned()).filter(|t| !t.is_empty())
}

impl SearchForm {
    pub fn is_open(&self) -> bool {
        self.focus.is_some()
    }

    /// Opens the form on the words.
    pub fn open(&mut self) {
        self.focus = Some(SearchField::Words);
    }

    /// The text field with the focus.
    pub fn input_mut(&mut self) -> Option<&mut Input> {
        match self.focus? {
            SearchField::Words => Some(&mut self.words),
            SearchField::Location => Some(&mut self.location),
            SearchField::Salary => Some(&mut self.salary),
            _ => None,
        }
    }

    /// The search the form says, or why it cannot be sent.
    pub fn query(&self) -> Result<SearchQuery, String> {
        let salary = parse_salary(&self.salary.text)?;
        Ok(SearchQuery {
            q: text(&self.words),
            location: text(&self.location),
            workplace: self.workplace.map(|w| w.as_str().to_owned()),
            seniority: self.seniority.map(|s| s.as_str().to_owned()),
            employment_type: self.employment_type.map(|t| t.as_str().to_owned()),
            salary_min: salary.as_ref().map(|(amount, _)| *amount),
            salary_currency: salary.map(|(_, currency)| currency),
            limit: Some(PAGE),
            ..SearchQuery::default()
        })
    }

    /// Moves the choice with the focus by `by` values.
    fn choose(&mut self, by: isize) {
        match self.focus {
            Some(SearchField::Workplace) => {
                self.workplace = cycle(Workplace::ALL, self.workplace, by)
            }
            Some(SearchField::Seniority) => {
                self.seniority = cycle(Seniority::ALL, self.seniority, by)
            }
            Some(SearchField::EmploymentType) => {
                self.employment_type = cycle(EmploymentType::ALL, self.employment_type, by)
            }
            _ => {}
        }
    }

    /// Empties the field with the focus (a choice goes back to any).
    fn clear(&mut self) {
        match self.focus {
            Some(SearchField::Workplace) => self.workplace = None,
            Some(SearchField::Seniority) => self.seniority = None,
            Some(SearchField::EmploymentType) => self.employment_type = None,
            _ => {
                if let Some(input) = self.input_mut() {
                    *input = Input::default();
                }
            }
        }
    }

    /// Handles a key while the form is open.
    pub fn key(&mut self, key: KeyEvent) -> FormOutcome {
        let Some(field) = self.focus else { return FormOutcome::Closed };
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Enter => {
                return match self.query() {
                    Ok(query) => {
                        self.focus = None;
                        FormOutcome::Run(query)
                    }
                    Err(why) => {
                        self.focus = Some(SearchField::Salary);
                        FormOutcome::Invalid(why)
                    }
                };
            }
            KeyCode::Esc => {
                self.focus = None;
                return FormOutcome::Closed;
            }
            KeyCode::Tab | KeyCode::Down => self.focus = Some(field.step(1)),
            KeyCode::BackTab | KeyCode::Up => self.focus = Some(field.step(-1)),
            KeyCode::Char('u') if ctrl => self.clear(),
            KeyCode::Left if field.is_choice() => self.choose(-1),
            KeyCode::Right | KeyCode::Char(' ') if field.is_choice() => self.choose(1),
            KeyCode::Backspace | KeyCode::Delete if field.is_choice() => self.clear(),
            _ => {
                let plain = !key.modifiers.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT);
                if let Some(input) = self.input_mut() {
                    match key.code {
                        KeyCode::Backspace => input.backspace(),
                        KeyCode::Delete => input.delete(),
                        KeyCode::Left => input.left(),
                        KeyCode::Right => input.right(),
                        KeyCode::Home => input.cursor = 0,
                        KeyCode::End => input.cursor = input.text.len(),
                        KeyCode::Char(c) if plain => {
                            let mut buf = [0u8; 4];
                            input.insert(c.encode_utf8(&mut buf));
                        }
                        _ => {}
                    }
                }
            }
        }
        FormOutcome::Edited
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_least_salary_is_an_amount_and_a_currency_in_either_order() {
        assert_eq!(parse_salary("  "), Ok(None));
        assert_eq!(parse_salary("90000 EUR"), Ok(Some((90_000.0, "EUR".into()))));
        assert_eq!(parse_salary("90k eur"), Ok(Some((90_000.0, "EUR".into()))));
        assert_eq!(parse_salary("usd 120,000"), Ok(Some((120_000.0, "USD".into()))));
        for bad in ["90000", "EUR", "lots EUR", "1 2 EUR", "90000 EUR GBP", "-5 EUR"] {
            assert!(parse_salary(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_choice_cycles_through_its_values_and_any_both_ways() {
        assert_eq!(cycle(Workplace::ALL, None, 1), Some(Workplace::Onsite));
        assert_eq!(cycle(Workplace::ALL, Some(Workplace::Remote), 1), None);
        assert_eq!(cycle(Workplace::ALL, None, -1), Some(Workplace::Remote));
        assert_eq!(cycle(Workplace::ALL, Some(Workplace::Onsite), -1), None);
    }

    #[test]
    fn tab_visits_every_field_and_comes_back_round() {
        let mut field = SearchField::Words;
        for expected in SearchField::ALL.iter().cycle().skip(1).take(6) {
            field = field.step(1);
            assert_eq!(field, *expected);
        }
        assert_eq!(SearchField::Words.step(-1), SearchField::Salary);
    }

    #[test]
    fn a_query_names_only_the_filters_set() {
        let query = SearchForm::default().query().unwrap();
        assert_eq!(query, SearchQuery { limit: Some(PAGE), ..SearchQuery::default() });
    }
}
