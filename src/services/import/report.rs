//! What an import reports: its summary, its progress as it goes, and where a bad record is.

use serde_json::Value;

use super::formats::Format;
use super::mapping::shown;

/// How an import went.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ImportSummary {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub invalid: u64,
    /// The first problems, as `file:line: record N (external_id "…"): reason` (JSON Lines, CSV)
    /// or `file: record N (…): reason` (JSON).
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
}

impl ImportSummary {
    pub fn records(&self) -> u64 {
        self.created + self.updated + self.unchanged + self.invalid
    }
}

/// At most this many problems are kept in the summary (all are reported as they happen).
pub(super) const KEPT_ERRORS: usize = 100;

/// Events an import reports as it goes.
pub trait Progress: Send {
    /// A record was read (valid or not).
    fn record(&mut self) {}
    /// A record is invalid: where it is (see [`ImportSummary::errors`]) and why.
    fn problem(&mut self, _message: &str) {}
    /// A batch was written.
    fn batch(&mut self, _summary: &ImportSummary) {}
}

impl Progress for () {}

/// Where a record is, for its error messages: `jobs.jsonl:18: record 17 (external_id "gh:1")`.
/// Every record is numbered from 1 in its file (the postings of a JSON-LD `@graph` too), and its
/// identifier is named when it has one. JSON Lines and CSV put one record on a line, so the
/// line leads, as editors expect; a JSON document may hold all its records on one line, so there
/// the number is what finds it.
pub(super) fn record_place(
    file: &str,
    format: Format,
    index: u64,
    line: u64,
    value: Option<&Value>,
) -> String {
    let at = match format {
        Format::JsonLines | Format::Csv => format!("{file}:{line}: record {index}"),
        Format::Json => format!("{file}: record {index}"),
    };
    match value.and_then(record_identifier) {
        Some((key, id)) => format!("{at} ({key} {})", shown(&id)),
        None => at,
    }
}

/// The identifier a record gives itself, if any: `external_id` (ours) or schema.org's
/// `identifier` (a text or a PropertyValue's `value`).
fn record_identifier(value: &Value) -> Option<(&'static str, String)> {
    let text = |v: &Value| match v {
        Value::String(s) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    if let Some(id) = value.get("external_id").and_then(text) {
        return Some(("external_id", id));
    }
    let identifier = value.get("identifier")?;
    identifier.get("value").and_then(text).or_else(|| text(identifier)).map(|id| ("identifier", id))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_record_is_named_by_its_number_its_line_where_lines_name_it_and_its_identifier() {
        let ours = json!({"external_id": "greenhouse:123"});
        assert_eq!(
            record_place("jobs.json", Format::Json, 17, 1, Some(&ours)),
            "jobs.json: record 17 (external_id \"greenhouse:123\")"
        );
        assert_eq!(record_place("jobs.csv", Format::Csv, 4, 5, None), "jobs.csv:5: record 4");
        let posting =
            json!({"@type": "JobPosting", "identifier": {"@type": "PropertyValue", "value": 42}});
        assert_eq!(
            record_place("-", Format::JsonLines, 1, 1, Some(&posting)),
            "-:1: record 1 (identifier \"42\")"
        );
    }
}
