//! Reading job records from files, streaming: JSON Lines, a JSON array, CSV, and schema.org
//! JobPosting JSON-LD (one object, an array, or an `@graph`). Every record comes with the line
//! it starts on, so a bad one is reported as `file:line: reason`; memory stays flat however big
//! the file (a JSON array is split into its elements as it is read, never parsed whole).

use std::collections::BTreeSet;
use std::io::{BufRead, Read};

use serde_json::{Map, Value};

/// The input formats. Named `json`, `jsonl` or `csv` (also `jsonld` and `ndjson`) wherever a
/// format is given by name: the command line, the admin upload, the import task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    JsonLines,
    /// A JSON array of records (ours or JobPostings), or one JSON-LD object (possibly `@graph`).
    Json,
    Csv,
}

/// A format name that is none of [`Format`]'s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown format {0:?}")]
pub struct UnknownFormat(pub String);

impl Format {
    /// The format's name (also the extension of an uploaded file).
    pub fn as_str(self) -> &'static str {
        match self {
            Format::JsonLines => "jsonl",
            Format::Json => "json",
            Format::Csv => "csv",
        }
    }

    /// From the file name, else from the first character of the content.
    pub fn detect(name: &str, first: Option<u8>) -> Format {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".jsonl") || lower.ends_with(".ndjson") {
            Format::JsonLines
        } else if lower.ends_with(".csv") {
            Format::Csv
        } else if lower.ends_with(".json") || lower.ends_with(".jsonld") {
            Format::Json
        } else {
            match first {
                Some(b'[') => Format::Json,
                Some(b'{') => Format::JsonLines,
                _ => Format::Csv,
            }
        }
    }

    /// From a request's content type: CSV, JSON (or JSON-LD), else JSON Lines.
    pub fn from_content_type(content_type: &str) -> Format {
        if content_type.starts_with("text/csv") {
            Format::Csv
        } else if content_type.starts_with("application/json")
            || content_type.starts_with("application/ld+json")
        {
            Format::Json
        } else {
            Format::JsonLines
        }
    }
}

impl std::str::FromStr for Format {
    type Err = UnknownFormat;

    fn from_str(name: &str) -> Result<Self, UnknownFormat> {
        match name {
            "json" | "jsonld" => Ok(Format::Json),
            "jsonl" | "ndjson" => Ok(Format::JsonLines),
            "csv" => Ok(Format::Csv),
            other => Err(UnknownFormat(other.to_owned())),
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Format {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Format {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

/// One record as read: the line it starts on and its fields, or why it could not be read.
pub type Item = (u64, Result<Value, String>);

/// The CSV columns we read, in our import format's names.
pub const CSV_COLUMNS: &[&str] = &[
    "source",
    "external_id",
    "title",
    "description",
    "company",
    "company_website",
    "city",
    "region",
    "country_code",
    "workplace",
    "remote_regions",
    "employment_type",
    "seniority",
    "salary_min",
    "salary_max",
    "salary_currency",
    "salary_period",
    "salary_public",
    "skills",
    "category",
    "tags",
    "apply_url",
    "posted_at",
    "expires_at",
    "status",
];

/// Reads `input` in `format`, calling `each` per record (it returns false to stop). Unknown CSV
/// columns are reported once through `warn`.
pub fn read(
    format: Format,
    input: impl Read,
    mut each: impl FnMut(Item) -> bool,
    mut warn: impl FnMut(String),
) -> Result<(), String> {
    match format {
        Format::JsonLines => read_lines(input, &mut each),
        Format::Json => read_json(input, &mut each),
        Format::Csv => read_csv(input, &mut each, &mut warn),
    }
}

fn read_lines(input: impl Read, each: &mut impl FnMut(Item) -> bool) -> Result<(), String> {
    let mut reader = std::io::BufReader::with_capacity(1 << 16, input);
    let mut line = Vec::new();
    let mut number = 0u64;
    loop {
        line.clear();
        let n = (&mut reader)
            .take(MAX_RECORD_BYTES as u64 + 1)
            .read_until(b'\n', &mut line)
            .map_err(|e| format!("reading: {e}"))?;
        if n == 0 {
            return Ok(());
        }
        number += 1;
        if line.len() > MAX_RECORD_BYTES {
            skip_line(&mut reader).map_err(|e| format!("reading: {e}"))?;
            if !each((number, Err(too_large()))) {
                return Ok(());
            }
            continue;
        }
        let text = match std::str::from_utf8(&line) {
            Ok(text) => text.trim(),
            Err(_) => {
                if !each((number, Err("not valid UTF-8".into()))) {
                    return Ok(());
                }
                continue;
            }
        };
        if text.is_empty() {
            continue;
        }
        let item = serde_json::from_str::<Value>(text).map_err(|e| format!("not valid JSON: {e}"));
        let items: Vec<Item> = match item {
            Ok(value) => expand(value).into_iter().map(|v| (number, v)).collect(),
            Err(e) => vec![(number, Err(e))],
        };
        for item in items {
            if !each(item) {
                return Ok(());
            }
        }
    }
}

/// The largest record read (a job's description is at most 100,000 characters): a bigger one
/// is reported and skipped, so one broken line cannot fill the memory.
pub const MAX_RECORD_BYTES: usize = 16 << 20;

/// The largest JSON document that is not an array (read whole, then split).
const MAX_DOCUMENT_BYTES: usize = 64 << 20;

fn too_large() -> String {
    format!("the record is larger than {} MiB", MAX_RECORD_BYTES >> 20)
}

/// Consumes the rest of a line without keeping it.
fn skip_line(reader: &mut impl BufRead) -> std::io::Result<()> {
    loop {
        let buffer = reader.fill_buf()?;
        if buffer.is_empty() {
            return Ok(());
        }
        match buffer.iter().position(|&b| b == b'\n') {
            Some(at) => {
                reader.consume(at + 1);
                return Ok(());
            }
            None => {
                let n = buffer.len();
                reader.consume(n);
            }
        }
    }
}

/// Adds a byte to a record unless it is already over the limit (then it is only measured).
fn keep(element: &mut Vec<u8>, b: u8) {
    if element.len() <= MAX_RECORD_BYTES {
        element.push(b);
    }
}

/// A JSON-LD `@graph` becomes its postings; anything else is one record.
fn expand(value: Value) -> Vec<Result<Value, String>> {
    match value {
        Value::Object(mut map) if map.contains_key("@graph") => match map.remove("@graph") {
            Some(Value::Array(items)) => items.into_iter().map(Ok).collect(),
            Some(other) => vec![Ok(other)],
            None => vec![],
        },
        Value::Array(items) => items.into_iter().map(Ok).collect(),
        other => vec![Ok(other)],
    }
}

/// Splits a JSON document into its top-level array elements as it reads (or takes one object
/// whole), tracking lines, nesting and strings byte by byte.
fn read_json(input: impl Read, each: &mut impl FnMut(Item) -> bool) -> Result<(), String> {
    let mut bytes = std::io::BufReader::with_capacity(1 << 16, input).bytes();
    let mut line = 1u64;
    let mut next = |line: &mut u64| -> Result<Option<u8>, String> {
        match bytes.next() {
            None => Ok(None),
            Some(Err(e)) => Err(format!("reading: {e}")),
            Some(Ok(b)) => {
                if b == b'\n' {
                    *line += 1;
                }
                Ok(Some(b))
            }
        }
    };
    // Skip to the first significant byte.
    let first = loop {
        match next(&mut line)? {
            None => return Ok(()),
            Some(b) if b.is_ascii_whitespace() => continue,
            Some(0xEF) => continue, // a UTF-8 byte order mark
            Some(0xBB) | Some(0xBF) => continue,
            Some(b) => break b,
        }
    };
    if first != b'[' {
        // One object (or a value): read it all; JSON-LD documents are small.
        let start = line;
        let mut buffer = vec![first];
        while let Some(b) = next(&mut line)? {
            if buffer.len() >= MAX_DOCUMENT_BYTES {
                return Err(format!(
                    "a JSON document that is not an array must be under {} MiB; split it into JSON Lines",
                    MAX_DOCUMENT_BYTES >> 20
                ));
            }
            buffer.push(b);
        }
        match serde_json::from_slice::<Value>(&buffer) {
            Ok(value) => {
                for v in expand(value) {
                    if !each((start, v)) {
                        break;
                    }
                }
            }
            // Several objects one after another: JSON Lines under a .json name.
            Err(e) if e.is_data() || e.to_string().contains("trailing characters") => {
                return read_lines(&buffer[..], each);
            }
            Err(e) => {
                each((start, Err(format!("not valid JSON: {e}"))));
            }
        }
        return Ok(());
    }
    let mut element = Vec::new();
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut start_line = line;
    loop {
        let Some(b) = next(&mut line)? else {
            if !element.iter().all(|b: &u8| b.is_ascii_whitespace()) {
                each((start_line, Err("the array is not closed".into())));
            }
            return Ok(());
        };
        if in_string {
            keep(&mut element, b);
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => {
                in_string = true;
                keep(&mut element, b);
            }
            b'{' | b'[' => {
                if depth == 0 && element.iter().all(|b| b.is_ascii_whitespace()) {
                    element.clear();
                    start_line = line;
                }
                depth += 1;
                keep(&mut element, b);
            }
            b'}' | b']' if depth > 0 => {
                depth -= 1;
                keep(&mut element, b);
            }
            b']' => {
                flush(&mut element, start_line, each);
                return Ok(());
            }
            b',' if depth == 0 => {
                if !flush(&mut element, start_line, each) {
                    return Ok(());
                }
                start_line = line;
            }
            _ => {
                if depth == 0
                    && element.iter().all(|b| b.is_ascii_whitespace())
                    && !b.is_ascii_whitespace()
                {
                    start_line = line;
                }
                keep(&mut element, b);
            }
        }
    }
}

fn flush(element: &mut Vec<u8>, line: u64, each: &mut impl FnMut(Item) -> bool) -> bool {
    let bytes = std::mem::take(element);
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return true;
    }
    if bytes.len() > MAX_RECORD_BYTES {
        return each((line, Err(too_large())));
    }
    let item = match std::str::from_utf8(&bytes) {
        Err(_) => Err("not valid UTF-8".to_owned()),
        Ok(text) => serde_json::from_str::<Value>(text).map_err(|e| format!("not valid JSON: {e}")),
    };
    each((line, item))
}

fn read_csv(
    input: impl Read,
    each: &mut impl FnMut(Item) -> bool,
    warn: &mut impl FnMut(String),
) -> Result<(), String> {
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(input);
    let headers: Vec<String> = reader
        .byte_headers()
        .map_err(|e| format!("the header row: {e}"))?
        .iter()
        .map(|h| {
            String::from_utf8_lossy(h).trim().trim_start_matches('\u{feff}').to_ascii_lowercase()
        })
        .collect();
    let unknown: BTreeSet<&String> =
        headers.iter().filter(|h| !CSV_COLUMNS.contains(&h.as_str())).collect();
    if !unknown.is_empty() {
        warn(format!(
            "ignoring unknown columns: {} (known: {})",
            unknown.into_iter().map(String::as_str).collect::<Vec<_>>().join(", "),
            CSV_COLUMNS.join(", ")
        ));
    }
    let mut record = csv::ByteRecord::new();
    loop {
        let line = reader.position().line();
        match reader.read_byte_record(&mut record) {
            Ok(false) => return Ok(()),
            Ok(true) => {
                let line = record.position().map_or(line, |p| p.line());
                let item = csv_record(&headers, &record);
                if !each((line, item)) {
                    return Ok(());
                }
            }
            Err(err) => {
                let line = err.position().map_or(line, |p| p.line());
                let message = match err.kind() {
                    csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
                        format!(
                            "{len} fields where the header has {expected_len} (check the quoting)"
                        )
                    }
                    _ => format!("unreadable CSV: {err}"),
                };
                if !each((line, Err(message))) {
                    return Ok(());
                }
                // After a broken record the reader carries on with the next line.
            }
        }
    }
}

fn csv_record(headers: &[String], record: &csv::ByteRecord) -> Result<Value, String> {
    let mut map = Map::new();
    let mut company = Map::new();
    let mut location = Map::new();
    let mut salary = Map::new();
    for (header, raw) in headers.iter().zip(record.iter()) {
        let value = std::str::from_utf8(raw)
            .map_err(|_| format!("column {header} is not valid UTF-8"))?
            .trim();
        if value.is_empty() || !CSV_COLUMNS.contains(&header.as_str()) {
            continue;
        }
        let text = Value::String(value.to_owned());
        let list = || {
            Value::Array(
                value
                    .split([';', ','])
                    .map(|s| Value::String(s.trim().to_owned()))
                    .filter(|v| v != "")
                    .collect(),
            )
        };
        match header.as_str() {
            "company" => {
                company.insert("name".into(), text);
            }
            "company_website" => {
                company.insert("website".into(), text);
            }
            "city" | "region" | "country_code" => {
                location.insert(header.clone(), text);
            }
            "salary_min" | "salary_max" => {
                let number = value
                    .parse::<f64>()
                    .map_err(|_| format!("{header} {value:?} is not a number"))?;
                salary.insert(header.trim_start_matches("salary_").into(), Value::from(number));
            }
            "salary_currency" | "salary_period" => {
                salary.insert(header.trim_start_matches("salary_").into(), text);
            }
            "salary_public" => {
                let flag = matches!(value.to_ascii_lowercase().as_str(), "true" | "yes" | "1");
                salary.insert("public".into(), Value::Bool(flag));
            }
            "skills" | "tags" | "remote_regions" => {
                map.insert(header.clone(), list());
            }
            _ => {
                map.insert(header.clone(), text);
            }
        }
    }
    if !company.is_empty() {
        map.insert("company".into(), Value::Object(company));
    }
    if !location.is_empty() {
        map.insert("location".into(), Value::Object(location));
    }
    if !salary.is_empty() {
        map.insert("salary".into(), Value::Object(salary));
    }
    Ok(Value::Object(map))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(format: Format, text: &str) -> (Vec<Item>, Vec<String>) {
        let mut items = Vec::new();
        let mut warnings = Vec::new();
        read(
            format,
            text.as_bytes(),
            |i| {
                items.push(i);
                true
            },
            |w| warnings.push(w),
        )
        .unwrap();
        (items, warnings)
    }

    #[test]
    fn a_json_array_is_split_into_elements_with_their_lines() {
        let text = "[\n  {\"title\": \"A, with [brackets] and \\\"quotes\\\"\"},\n  {\"title\": \"B\"}\n,\n {\"title\": \"C\"}]";
        let (items, _) = collect(Format::Json, text);
        let lines: Vec<u64> = items.iter().map(|(l, _)| *l).collect();
        assert_eq!(lines, vec![2, 3, 5]);
        assert_eq!(items[0].1.as_ref().unwrap()["title"], "A, with [brackets] and \"quotes\"");
    }

    #[test]
    fn a_broken_element_is_reported_and_the_rest_read() {
        let (items, _) =
            collect(Format::Json, "[{\"title\": \"A\"}, {\"title\": }, {\"title\": \"C\"}]");
        assert!(items[0].1.is_ok());
        assert!(items[1].1.is_err());
        assert_eq!(items[2].1.as_ref().unwrap()["title"], "C");
    }

    #[test]
    fn a_json_ld_graph_yields_its_postings() {
        let text = r#"{"@context": "https://schema.org", "@graph": [{"@type": "JobPosting", "title": "A"}, {"@type": "JobPosting", "title": "B"}]}"#;
        let (items, _) = collect(Format::Json, text);
        assert_eq!(items.len(), 2);
        assert_eq!(items[1].1.as_ref().unwrap()["title"], "B");
    }

    #[test]
    fn json_lines_skip_blank_lines_and_report_broken_ones() {
        let (items, _) =
            collect(Format::JsonLines, "{\"title\": \"A\"}\n\n{broken\n{\"title\": \"C\"}\n");
        assert_eq!(
            items.iter().map(|(l, r)| (*l, r.is_ok())).collect::<Vec<_>>(),
            vec![(1, true), (3, false), (4, true)]
        );
    }

    #[test]
    fn a_record_over_the_limit_is_reported_and_skipped_in_lines_and_arrays() {
        let huge = format!("{{\"title\": \"{}\"}}", "x".repeat(MAX_RECORD_BYTES));
        let lines = format!("{{\"title\": \"A\"}}\n{huge}\n{{\"title\": \"C\"}}\n");
        let (items, _) = collect(Format::JsonLines, &lines);
        assert_eq!(
            items.iter().map(|(l, r)| (*l, r.is_ok())).collect::<Vec<_>>(),
            vec![(1, true), (2, false), (3, true)]
        );
        assert!(items[1].1.as_ref().unwrap_err().contains("larger than"));
        let array = format!("[{{\"title\": \"A\"}},\n{huge},\n{{\"title\": \"C\"}}]");
        let (items, _) = collect(Format::Json, &array);
        assert_eq!(
            items.iter().map(|(l, r)| (*l, r.is_ok())).collect::<Vec<_>>(),
            vec![(1, true), (2, false), (3, true)]
        );
    }

    #[test]
    fn csv_maps_columns_reports_unknown_ones_once_and_survives_bad_quoting() {
        let text = "title,company,city,salary_min,skills,mood\nRust dev,Acme,Lisbon,50000,rust;sql,happy\n\"broken,Acme\nGo dev,Beta,Porto,x,,sad\n";
        let (items, warnings) = collect(Format::Csv, text);
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("mood"));
        let first = items[0].1.as_ref().unwrap();
        assert_eq!(first["company"]["name"], "Acme");
        assert_eq!(first["location"]["city"], "Lisbon");
        assert_eq!(first["salary"]["min"], 50000.0);
        assert_eq!(first["skills"], serde_json::json!(["rust", "sql"]));
        assert!(items.iter().any(|(_, r)| r.is_err()), "{items:?}");
    }

    #[test]
    fn the_format_comes_from_the_name_or_the_content() {
        assert_eq!(Format::detect("jobs.jsonl", None), Format::JsonLines);
        assert_eq!(Format::detect("jobs.CSV", None), Format::Csv);
        assert_eq!(Format::detect("-", Some(b'[')), Format::Json);
        assert_eq!(Format::detect("-", Some(b'{')), Format::JsonLines);
        assert_eq!(Format::from_content_type("text/csv; charset=utf-8"), Format::Csv);
        assert_eq!(Format::from_content_type("application/ld+json"), Format::Json);
        assert_eq!(Format::from_content_type("application/x-ndjson"), Format::JsonLines);
    }

    #[test]
    fn a_format_has_one_name_and_takes_its_other_spellings() {
        for format in [Format::Json, Format::JsonLines, Format::Csv] {
            assert_eq!(format.as_str().parse(), Ok(format));
            let json = serde_json::to_value(format).unwrap();
            assert_eq!(json, Value::String(format.as_str().into()));
            assert_eq!(serde_json::from_value::<Format>(json).unwrap(), format);
        }
        assert_eq!("jsonld".parse(), Ok(Format::Json));
        assert_eq!("ndjson".parse(), Ok(Format::JsonLines));
        assert_eq!("xml".parse::<Format>(), Err(UnknownFormat("xml".into())));
        assert!(serde_json::from_value::<Format>(Value::String("xml".into())).is_err());
    }
}
