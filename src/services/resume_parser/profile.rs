//! From a resume's text to a [`Profile`]: contact details from the header, sections found by
//! their headings, skills matched against the taxonomy, work history from date ranges,
//! education from degree names. Rules, not a model: each value keeps the line it came from,
//! and a field the rules do not find stays empty.

use std::sync::LazyLock;

use regex::Regex;

use super::taxonomy;
use crate::models::resume::{Education, Experience, Profile, Source, Sourced};

/// The kinds of section a resume has, found by their headings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Header,
    Summary,
    Skills,
    Experience,
    Education,
    /// Hobbies and interests: no skills are read there.
    Interests,
    Other,
}

const HEADINGS: &[(&str, Section)] = &[
    ("summary", Section::Summary),
    ("professional summary", Section::Summary),
    ("career summary", Section::Summary),
    ("profile", Section::Summary),
    ("professional profile", Section::Summary),
    ("personal profile", Section::Summary),
    ("objective", Section::Summary),
    ("career objective", Section::Summary),
    ("about me", Section::Summary),
    ("about", Section::Summary),
    ("skills", Section::Skills),
    ("skill set", Section::Skills),
    ("skillset", Section::Skills),
    ("technical skills", Section::Skills),
    ("key skills", Section::Skills),
    ("core skills", Section::Skills),
    ("it skills", Section::Skills),
    ("core competencies", Section::Skills),
    ("competencies", Section::Skills),
    ("technologies", Section::Skills),
    ("tools", Section::Skills),
    ("areas of expertise", Section::Skills),
    ("expertise", Section::Skills),
    ("additional information", Section::Skills),
    ("experience", Section::Experience),
    ("work experience", Section::Experience),
    ("professional experience", Section::Experience),
    ("employment", Section::Experience),
    ("employment history", Section::Experience),
    ("work history", Section::Experience),
    ("career history", Section::Experience),
    ("relevant experience", Section::Experience),
    ("education", Section::Education),
    ("educational qualifications", Section::Education),
    ("education and training", Section::Education),
    ("academic qualifications", Section::Education),
    ("academic background", Section::Education),
    ("qualifications", Section::Education),
    ("academics", Section::Education),
    ("projects", Section::Other),
    ("certifications", Section::Other),
    ("certificates", Section::Other),
    ("awards", Section::Other),
    ("achievements", Section::Other),
    ("publications", Section::Other),
    ("languages", Section::Other),
    ("interests", Section::Interests),
    ("hobbies", Section::Interests),
    ("hobbies and interests", Section::Interests),
    ("personal interests", Section::Interests),
    ("references", Section::Other),
    ("volunteering", Section::Other),
    ("personal details", Section::Other),
    ("links", Section::Other),
    ("summary of skills", Section::Skills),
    ("technical expertise", Section::Skills),
    ("technical proficiency", Section::Skills),
    ("tools and technologies", Section::Skills),
    ("technologies used", Section::Skills),
    ("skills and abilities", Section::Skills),
    ("internships", Section::Experience),
    ("internship", Section::Experience),
    ("experience summary", Section::Experience),
    ("professional background", Section::Experience),
    ("education and qualifications", Section::Education),
    ("profile overview", Section::Summary),
    ("career profile", Section::Summary),
    ("achievements and certifications", Section::Other),
    ("achievements certifications", Section::Other),
    ("certifications and achievements", Section::Other),
    ("certifications licenses", Section::Other),
    ("accomplishments", Section::Other),
    ("projects profile", Section::Other),
    ("project profile", Section::Other),
    ("project details", Section::Other),
    ("academic projects", Section::Other),
    ("key projects", Section::Other),
    ("personal projects", Section::Other),
    ("training", Section::Other),
    ("trainings", Section::Other),
    ("courses", Section::Other),
    ("extracurricular activities", Section::Interests),
    ("activities", Section::Interests),
    ("strengths", Section::Other),
    ("declaration", Section::Other),
    ("personal information", Section::Other),
    ("personal data", Section::Other),
    ("contact", Section::Other),
    ("contact information", Section::Other),
    ("groups", Section::Other),
    ("military service", Section::Other),
    ("patents", Section::Other),
];

/// A line of the text with its 1-based number and section.
#[derive(Debug, Clone)]
struct Line<'a> {
    number: usize,
    text: &'a str,
    section: Section,
    heading: bool,
}

fn heading_of(line: &str) -> Option<Section> {
    let cleaned: String = line
        .trim()
        .trim_end_matches([':', '-', '–', '|'])
        .trim()
        .chars()
        .map(|c| if matches!(c, '&' | '/') { ' ' } else { c })
        .collect::<String>()
        .to_lowercase();
    let words: Vec<&str> = cleaned.split_whitespace().collect();
    if words.is_empty() || words.len() > 4 {
        return None;
    }
    let joined = words.join(" ");
    HEADINGS.iter().find(|(h, _)| *h == joined).map(|(_, s)| *s)
}

fn lines(text: &str) -> Vec<Line<'_>> {
    let mut section = Section::Header;
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let heading = heading_of(raw);
        if let Some(s) = heading {
            section = s;
        }
        out.push(Line { number: i + 1, text: raw, section, heading: heading.is_some() });
    }
    out
}

macro_rules! re {
    ($name:ident, $pattern:expr) => {
        static $name: LazyLock<Regex> =
            LazyLock::new(|| Regex::new($pattern).expect("a valid pattern"));
    };
}

re!(EMAIL, r"(?i)\b[a-z0-9][a-z0-9._%+-]*@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}\b");
re!(PHONE, r"(?:\+\d{1,3}[\s.-]?)?(?:\(\d{1,5}\)[\s.-]?)?\d[\d\s.-]{6,16}\d");
re!(
    URL,
    r"(?i)\b(?:https?://[^\s<>()|,]+|(?:www\.)?(?:linkedin\.com|github\.com|gitlab\.com|indeed\.com|stackoverflow\.com|behance\.net|dribbble\.com)/[^\s<>()|,]+)"
);
re!(
    DATE_RANGE,
    r"(?i)((?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?\s*,?\s*'?\d{2,4}|\d{1,2}\s*[/.]\s*(?:19|20)\d{2}|(?:19|20)\d{2}\s*[/.-]\s*\d{1,2}\b|(?:19|20)\d{2})\s*(?:-|–|—|to|till|until)\s*((?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?\s*,?\s*'?\d{2,4}|\d{1,2}\s*[/.]\s*(?:19|20)\d{2}|(?:19|20)\d{2}\s*[/.-]\s*\d{1,2}\b|(?:19|20)\d{2}|present|current(?:ly)?|now|today|till\s+date|to\s+date|date)"
);
re!(YEAR, r"\b(?:19[5-9]\d|20\d{2})\b");
re!(
    DEGREE,
    r"(?i)(?:\b(?:bachelor(?:'s|s)?|master(?:'s|s)?|doctor(?:ate)?|ph\.?\s?d|mba|mca|bca|bba|b\.\s?tech|b\s?tech|m\.\s?tech|m\s?tech|b\.\s?e\b|m\.\s?e\b|b\.\s?sc|bsc|m\.\s?sc|msc|b\.\s?com|bcom|m\.\s?com|b\.\s?a\b|m\.\s?a\b|b\.\s?s\b|m\.\s?s\b|ba\b|bs\b|ms\b|be\b|associate(?:'s)?\s+degree|diploma|post\s*graduat\w*|graduat(?:e|ion)\b|high\s+school|higher\s+secondary|secondary\s+school|hsc\b|ssc\b|12th|10th|a-levels?|gcse|pgdm|llb|llm|mbbs|b\.?\s?pharm|m\.?\s?pharm)[^,|;\n]*)"
);
re!(
    SCHOOL,
    r"(?i)\b(?:university|universit[éà]|college|institute|institution|school|academy|polytechnic|vidyalaya|iit|nit|iiit|bits)\b"
);
re!(YEARS_EXPERIENCE, r"(?i)\b(\d{1,2}(?:\.\d)?)\+?\s*(?:years?|yrs?)\b[^.\n]{0,20}?\bexperience");
re!(LOCATION_LABEL, r"(?i)^\s*(?:location|address|city|based in)\s*[:\-–]\s*(.+)$");
re!(CITY_REGION, r"^\s*([A-Z][A-Za-zÀ-ÿ.'\- ]{1,40}),\s*([A-Z][A-Za-zÀ-ÿ.'\- ]{1,40})\s*$");
re!(NAME_LABEL, r"(?i)^\s*(?:full\s+)?name\s*[:\-–]\s*(.+)$");

const NOT_NAME_WORDS: &[&str] = &[
    "resume",
    "curriculum",
    "vitae",
    "cv",
    "profile",
    "summary",
    "contact",
    "email",
    "phone",
    "address",
    "objective",
    "experience",
    "education",
    "skills",
    "page",
    "linkedin",
    "github",
    "mobile",
    "engineer",
    "developer",
    "manager",
    "analyst",
    "consultant",
    "associate",
    "specialist",
    "intern",
    "university",
];

const TITLE_WORDS: &[&str] = &[
    "engineer",
    "developer",
    "manager",
    "analyst",
    "consultant",
    "intern",
    "associate",
    "lead",
    "director",
    "architect",
    "designer",
    "administrator",
    "specialist",
    "officer",
    "executive",
    "scientist",
    "head",
    "president",
    "coordinator",
    "assistant",
    "trainee",
    "tester",
    "programmer",
    "representative",
    "teacher",
    "accountant",
    "technician",
    "supervisor",
    "owner",
    "founder",
    "advisor",
    "agent",
    "clerk",
    "operator",
    "professor",
    "lecturer",
    "researcher",
    "nurse",
    "writer",
    "editor",
    "sales",
    "recruiter",
    "partner",
    "vp",
    "cto",
    "ceo",
    "cfo",
    "sde",
    "member",
    "staff",
    "fellow",
    "freelance",
    "freelancer",
    "contractor",
];

const COMPANY_WORDS: &[&str] = &[
    "inc",
    "inc.",
    "ltd",
    "ltd.",
    "llc",
    "llp",
    "gmbh",
    "corp",
    "corp.",
    "corporation",
    "company",
    "co.",
    "technologies",
    "technology",
    "solutions",
    "services",
    "pvt",
    "pvt.",
    "limited",
    "bank",
    "group",
    "systems",
    "labs",
    "software",
    "consulting",
    "consultancy",
    "infotech",
    "industries",
    "enterprises",
    "ag",
    "sa",
    "plc",
    "bv",
    "agency",
    "studio",
    "studios",
    "partners",
    "international",
    "global",
];

fn words_lower(s: &str) -> Vec<String> {
    s.split(|c: char| c.is_whitespace() || c == ',' || c == '(' || c == ')')
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

fn has_any(s: &str, list: &[&str]) -> bool {
    words_lower(s).iter().any(|w| list.contains(&w.as_str()))
}

/// The resume's parse, with every value's line.
pub fn parse(text: &str) -> Profile {
    let lines = lines(text);
    let mut profile = Profile::default();
    contact(&lines, &mut profile);
    profile.name = name(&lines);
    profile.location = location(&lines);
    profile.summary = summary(&lines);
    profile.skills = skills(&lines);
    profile.experience = experience(&lines);
    profile.education = education(&lines);
    profile.years_experience = years_experience(&lines, &profile.experience);
    profile
}

fn contact(lines: &[Line<'_>], profile: &mut Profile) {
    for line in lines {
        if profile.email.is_none()
            && let Some(m) = EMAIL.find(line.text)
        {
            profile.email =
                Some(Sourced::new(m.as_str().to_lowercase(), Source::line(line.number, line.text)));
        }
        if profile.phone.is_none()
            && (line.section == Section::Header
                || line.number <= 15
                || line.text.to_lowercase().contains("phone"))
        {
            for m in PHONE.find_iter(line.text) {
                let digits = m.as_str().chars().filter(char::is_ascii_digit).count();
                let s = m.as_str().trim();
                // A date range or a lone year range is not a phone number.
                if (9..=15).contains(&digits) && !DATE_RANGE.is_match(s) && !looks_like_years(s) {
                    profile.phone =
                        Some(Sourced::new(s.to_owned(), Source::line(line.number, line.text)));
                    break;
                }
            }
        }
        for m in URL.find_iter(line.text) {
            let url = m.as_str().trim_end_matches(['.', ';', ':']).to_owned();
            if profile.links.len() < 10 && !profile.links.iter().any(|l| l.value == url) {
                profile.links.push(Sourced::new(url, Source::line(line.number, line.text)));
            }
        }
    }
}

fn looks_like_years(s: &str) -> bool {
    let years = YEAR.find_iter(s).count();
    years >= 2 && s.chars().filter(char::is_ascii_digit).count() == years * 4
}

fn name(lines: &[Line<'_>]) -> Option<Sourced<String>> {
    for line in lines.iter().take(40) {
        if let Some(c) = NAME_LABEL.captures(line.text) {
            let value = c[1].trim();
            if plausible_name(value) {
                return Some(Sourced::new(value.to_owned(), Source::line(line.number, line.text)));
            }
        }
    }
    // Otherwise the first line of the header that reads like a person's name.
    for line in lines.iter().filter(|l| !l.text.trim().is_empty()).take(5) {
        if line.heading {
            break;
        }
        let candidate = line.text.split(['|', '•', '\t']).next().unwrap_or("").trim();
        let candidate = candidate.split(" - ").next().unwrap_or("").trim();
        if plausible_name(candidate) {
            return Some(Sourced::new(
                title_case_if_shouting(candidate),
                Source::line(line.number, line.text),
            ));
        }
    }
    None
}

fn plausible_name(s: &str) -> bool {
    let words: Vec<&str> = s.split_whitespace().collect();
    (2..=4).contains(&words.len())
        && s.chars().count() <= 60
        && !EMAIL.is_match(s)
        && !has_any(s, NOT_NAME_WORDS)
        && words.iter().all(|w| {
            let mut chars = w.chars();
            chars.next().is_some_and(char::is_uppercase)
                && w.chars().all(|c| c.is_alphabetic() || matches!(c, '.' | '\'' | '-' | '’'))
        })
}

fn title_case_if_shouting(s: &str) -> String {
    if s.chars().any(char::is_lowercase) {
        return s.to_owned();
    }
    s.split_whitespace()
        .map(|w| {
            let mut chars = w.chars();
            match chars.next() {
                Some(first) => {
                    first.to_uppercase().chain(chars.flat_map(char::to_lowercase)).collect()
                }
                None => String::new(),
            }
        })
        .collect::<Vec<String>>()
        .join(" ")
}

fn location(lines: &[Line<'_>]) -> Option<Sourced<String>> {
    for line in lines.iter().take(60) {
        if let Some(c) = LOCATION_LABEL.captures(line.text) {
            let value = c[1].trim();
            if !value.is_empty() && value.chars().count() <= 120 {
                return Some(Sourced::new(value.to_owned(), Source::line(line.number, line.text)));
            }
        }
    }
    for line in lines.iter().filter(|l| l.section == Section::Header).take(12) {
        for part in line.text.split(['|', '•', '·', '\t']).flat_map(|p| p.split(" - ")) {
            if let Some(c) = CITY_REGION.captures(part) {
                let value = format!("{}, {}", c[1].trim(), c[2].trim());
                if !has_any(&value, TITLE_WORDS)
                    && !has_any(&value, COMPANY_WORDS)
                    && !EMAIL.is_match(part)
                {
                    return Some(Sourced::new(value, Source::line(line.number, line.text)));
                }
            }
        }
    }
    None
}

fn summary(lines: &[Line<'_>]) -> Option<Sourced<String>> {
    let body: Vec<&Line<'_>> = lines
        .iter()
        .filter(|l| l.section == Section::Summary && !l.heading && !l.text.trim().is_empty())
        .take(6)
        .collect();
    let first = body.first()?;
    let text: String = body.iter().map(|l| l.text.trim()).collect::<Vec<_>>().join(" ");
    Some(Sourced::new(text.chars().take(1000).collect(), Source::line(first.number, first.text)))
}

fn skills(lines: &[Line<'_>]) -> Vec<Sourced<String>> {
    let mut found: Vec<Sourced<String>> = Vec::new();
    let mut add = |skill: String, line: &Line<'_>| {
        if !found.iter().any(|s| s.value == skill) {
            found.push(Sourced::new(skill, Source::line(line.number, line.text)));
        }
    };
    // The skills sections first (where an everyday name such as "go" or "r" counts as a short
    // list item), then the rest of the text, where it needs a list of other skills or to be
    // written as an acronym (see `ambiguity`).
    for line in lines.iter().filter(|l| l.section == Section::Skills && !l.heading) {
        for skill in taxonomy::find(line.text, true) {
            add(skill, line);
        }
    }
    // Not in education (a field of study is not a skill) nor in hobbies.
    for line in lines
        .iter()
        .filter(|l| !matches!(l.section, Section::Skills | Section::Education | Section::Interests))
    {
        for skill in taxonomy::find(line.text, false) {
            add(skill, line);
        }
    }
    found.truncate(200);
    found
}

/// `YYYY-MM` or `YYYY` from a date as written, or `None` for "present".
fn normalize_date(raw: &str) -> Option<String> {
    let lower = raw.trim().to_lowercase();
    const MONTHS: [&str; 12] =
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
    let year = YEAR.find(&lower).map(|m| m.as_str().to_owned()).or_else(|| {
        // "Jan '19"
        let digits: String = lower.chars().filter(char::is_ascii_digit).collect();
        (digits.len() == 2).then(|| format!("20{digits}"))
    })?;
    if let Some(month) = MONTHS.iter().position(|m| lower.starts_with(m)) {
        return Some(format!("{year}-{:02}", month + 1));
    }
    let numbers: Vec<u32> =
        lower.split(|c: char| !c.is_ascii_digit()).filter_map(|n| n.parse().ok()).collect();
    match numbers.as_slice() {
        [m, y] if (1..=12).contains(m) && y.to_string() == year => Some(format!("{year}-{m:02}")),
        [y, m] if (1..=12).contains(m) && y.to_string() == year => Some(format!("{year}-{m:02}")),
        _ => Some(year),
    }
}

fn is_present(raw: &str) -> bool {
    let lower = raw.trim().to_lowercase();
    ["present", "current", "now", "today", "date"].iter().any(|w| lower.contains(w))
}

const SEPARATORS: &[&str] = &[" at ", " @ ", " | ", " – ", " — ", " - ", ", "];

fn split_title_company(s: &str) -> (Option<String>, Option<String>) {
    let s = s.trim().trim_matches(|c: char| {
        matches!(c, '-' | '–' | '|' | ',' | '(' | ')' | ':') || c.is_whitespace()
    });
    if s.is_empty() {
        return (None, None);
    }
    for sep in SEPARATORS {
        if let Some((a, b)) = s.split_once(sep) {
            let (a, b) = (clean(a), clean(b));
            // "Acme Ltd - Engineer" reads the other way round.
            if has_any(&a, COMPANY_WORDS) && !has_any(&a, TITLE_WORDS)
                || has_any(&b, TITLE_WORDS) && !has_any(&a, TITLE_WORDS)
            {
                return (non_empty(b), non_empty(a));
            }
            return (non_empty(a), non_empty(b));
        }
    }
    if has_any(s, COMPANY_WORDS) && !has_any(s, TITLE_WORDS) {
        (None, non_empty(clean(s)))
    } else {
        (non_empty(clean(s)), None)
    }
}

fn clean(s: &str) -> String {
    s.trim()
        .trim_matches(|c: char| {
            matches!(c, '-' | '–' | '|' | ',' | '(' | ')' | ':' | '•' | '*') || c.is_whitespace()
        })
        .to_owned()
}

fn non_empty(s: String) -> Option<String> {
    (!s.is_empty() && s.chars().count() <= 150).then_some(s)
}

fn experience(lines: &[Line<'_>]) -> Vec<Sourced<Experience>> {
    let has_section = lines.iter().any(|l| l.heading && l.section == Section::Experience);
    let in_scope = |l: &Line<'_>| {
        if has_section {
            l.section == Section::Experience
        } else {
            !matches!(l.section, Section::Education)
        }
    };
    let mut entries: Vec<Sourced<Experience>> = Vec::new();
    let mut previous_entry_line = 0usize;
    for (i, line) in lines.iter().enumerate() {
        if !in_scope(line) || line.heading {
            continue;
        }
        let Some(c) = DATE_RANGE.captures(line.text) else { continue };
        let whole = c.get(0).expect("group 0");
        let start = normalize_date(&c[1]);
        let current = is_present(&c[2]);
        let end = if current { None } else { normalize_date(&c[2]) };
        let before = &line.text[..whole.start()];
        let after = &line.text[whole.end()..];
        let (mut title, mut company) = split_title_company(before);
        if title.is_none() || company.is_none() {
            // The lines just above, back to the previous entry or the heading.
            let above: Vec<&Line<'_>> = lines[..i]
                .iter()
                .rev()
                .take_while(|l| l.number > previous_entry_line && !l.heading && in_scope(l))
                .filter(|l| !l.text.trim().is_empty())
                .take(2)
                .collect();
            match above.as_slice() {
                [only] if title.is_none() && company.is_none() => {
                    (title, company) = split_title_company(only.text)
                }
                [only] if title.is_none() => title = non_empty(clean(only.text)),
                [only] => {
                    company = company
                        .or_else(|| non_empty(clean(only.text.split(" - ").next().unwrap_or(""))))
                }
                [nearest, farther, ..] => {
                    let (near, far) = (clean(nearest.text), clean(farther.text));
                    // Title above company (the common order) unless the words say otherwise.
                    let (t, co) = if has_any(&near, TITLE_WORDS) && !has_any(&far, TITLE_WORDS) {
                        (far.clone(), near.clone())
                    } else {
                        (far, near)
                    };
                    let (t, co) = if has_any(&t, COMPANY_WORDS) && has_any(&co, TITLE_WORDS) {
                        (co, t)
                    } else {
                        (t, co)
                    };
                    if title.is_none() {
                        title = non_empty(t);
                    }
                    if company.is_none() {
                        company = non_empty(co.split(" - ").next().unwrap_or("").trim().to_owned());
                    }
                }
                [] => {}
            }
        }
        // Text after the dates names the job only when nothing above did, and is not a place.
        let after = clean(after);
        if title.is_none()
            && company.is_none()
            && !after.is_empty()
            && !CITY_REGION.is_match(&after)
        {
            (title, company) = split_title_company(&after);
        }
        previous_entry_line = line.number;
        entries.push(Sourced::new(
            Experience { title, company, start, end, current },
            Source::line(line.number, line.text),
        ));
        if entries.len() >= 30 {
            break;
        }
    }
    entries
}

fn education(lines: &[Line<'_>]) -> Vec<Sourced<Education>> {
    let has_section = lines.iter().any(|l| l.heading && l.section == Section::Education);
    let mut entries: Vec<Sourced<Education>> = Vec::new();
    let scope: Vec<&Line<'_>> = lines
        .iter()
        .filter(|l| {
            !l.heading && (if has_section { l.section == Section::Education } else { true })
        })
        .collect();
    for (i, line) in scope.iter().enumerate() {
        let Some(m) = DEGREE.find(line.text) else { continue };
        // Outside an education section, only unambiguous degree names count.
        if !has_section && m.as_str().split_whitespace().next().is_some_and(|w| w.len() <= 3) {
            continue;
        }
        let degree = clean(
            m.as_str().split(" from ").next().unwrap_or("").split(" - ").next().unwrap_or(""),
        );
        let degree = degree
            .trim_end_matches(|c: char| {
                c.is_ascii_digit() || c.is_whitespace() || c == '-' || c == '–'
            })
            .to_owned();
        let near: Vec<&&Line<'_>> = scope[i..scope.len().min(i + 3)].iter().collect();
        let school = std::iter::once(line)
            .chain(near.iter().skip(1).copied())
            .chain(i.checked_sub(1).map(|j| &scope[j]))
            .flat_map(|l| l.text.split(['|', ',', '\t']).flat_map(|p| p.split(" - ")))
            .find(|part| {
                SCHOOL.is_match(part)
                    && DEGREE.find(part).is_none_or(|d| d.as_str().len() < part.len() / 2)
            })
            .map(clean)
            .filter(|s| !s.is_empty());
        let year = near
            .iter()
            .take(2)
            .flat_map(|l| YEAR.find_iter(l.text).map(|y| y.as_str().parse::<i32>().ok()))
            .flatten()
            .max();
        if degree.is_empty() {
            continue;
        }
        entries.push(Sourced::new(
            Education { degree: Some(degree), school, year },
            Source::line(line.number, line.text),
        ));
        if entries.len() >= 10 {
            break;
        }
    }
    entries
}

fn months(date: &str) -> Option<i32> {
    let mut parts = date.split('-');
    let year: i32 = parts.next()?.parse().ok()?;
    let month: i32 = parts.next().and_then(|m| m.parse().ok()).unwrap_or(1);
    Some(year * 12 + month - 1)
}

fn years_experience(
    lines: &[Line<'_>],
    experience: &[Sourced<Experience>],
) -> Option<Sourced<f32>> {
    for line in lines.iter().filter(|l| matches!(l.section, Section::Header | Section::Summary)) {
        if let Some(c) = YEARS_EXPERIENCE.captures(line.text)
            && let Ok(years) = c[1].parse::<f32>()
            && years <= 60.0
        {
            return Some(Sourced::new(years, Source::line(line.number, line.text)));
        }
    }
    // Otherwise the union of the dated jobs, overlaps counted once.
    let now = chrono::Utc::now();
    let now_months = chrono::Datelike::year(&now) * 12 + chrono::Datelike::month0(&now) as i32;
    let mut spans: Vec<(i32, i32)> = experience
        .iter()
        .filter_map(|e| {
            let start = months(e.value.start.as_deref()?)?;
            let end = if e.value.current { now_months } else { months(e.value.end.as_deref()?)? };
            (start <= end && end <= now_months + 1).then_some((start, end))
        })
        .collect();
    if spans.is_empty() {
        return None;
    }
    spans.sort_unstable();
    let mut total = 0;
    let mut current = spans[0];
    for &(s, e) in &spans[1..] {
        if s <= current.1 {
            current.1 = current.1.max(e);
        } else {
            total += current.1 - current.0;
            current = (s, e);
        }
    }
    total += current.1 - current.0;
    let years = (total as f32 / 12.0 * 10.0).round() / 10.0;
    Some(Sourced::new(
        years,
        Source::computed(format!(
            "the dates of {} jobs in the work history, overlaps counted once",
            spans.len()
        )),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const RESUME: &str = "ADA EXAMPLE\nLondon, UK | ada@example.com | +44 20 7946 0958\nhttps://github.com/ada-example\n\nSummary\nBackend engineer with 7 years of experience building data systems.\n\nSkills\nRust, PostgreSQL, Kubernetes, Go\n\nExperience\nSenior Engineer at Acme Ltd, Jan 2019 – Present\nBuilt a billing pipeline in Rust.\nSoftware Developer\nInitech Solutions - Leeds\nMarch 2015 to December 2018\n\nEducation\nMSc Computer Science, University of Edinburgh, 2016\n";

    #[test]
    fn a_plain_resume_gives_every_field_with_its_line() {
        let p = parse(RESUME);
        assert_eq!(p.name.as_ref().unwrap().value, "Ada Example");
        assert_eq!(p.name.as_ref().unwrap().source.line, Some(1));
        assert_eq!(p.email.as_ref().unwrap().value, "ada@example.com");
        assert_eq!(p.phone.as_ref().unwrap().value, "+44 20 7946 0958");
        assert_eq!(p.location.as_ref().unwrap().value, "London, UK");
        assert_eq!(p.links[0].value, "https://github.com/ada-example");
        assert!(p.summary.as_ref().unwrap().value.starts_with("Backend engineer"));
        let skills: Vec<&str> = p.skills.iter().map(|s| s.value.as_str()).collect();
        for wanted in ["rust", "postgresql", "kubernetes", "go"] {
            assert!(skills.contains(&wanted), "{wanted} in {skills:?}");
        }
        assert_eq!(p.experience.len(), 2, "{:?}", p.experience);
        let first = &p.experience[0].value;
        assert_eq!(first.title.as_deref(), Some("Senior Engineer"));
        assert_eq!(first.company.as_deref(), Some("Acme Ltd"));
        assert_eq!(first.start.as_deref(), Some("2019-01"));
        assert!(first.current);
        let second = &p.experience[1].value;
        assert_eq!(second.title.as_deref(), Some("Software Developer"));
        assert_eq!(second.company.as_deref(), Some("Initech Solutions"));
        assert_eq!(
            (second.start.as_deref(), second.end.as_deref()),
            (Some("2015-03"), Some("2018-12"))
        );
        assert_eq!(p.education.len(), 1);
        assert_eq!(p.education[0].value.degree.as_deref(), Some("MSc Computer Science"));
        assert_eq!(p.education[0].value.school.as_deref(), Some("University of Edinburgh"));
        assert_eq!(p.education[0].value.year, Some(2016));
        assert_eq!(p.years_experience.as_ref().unwrap().value, 7.0);
    }

    #[test]
    fn nothing_is_invented_for_text_without_a_resume_in_it() {
        let p = parse("lorem ipsum dolor sit amet\nconsectetur adipiscing elit");
        assert_eq!(p, Profile::default());
    }

    #[test]
    fn years_are_computed_from_dates_when_not_stated() {
        let p =
            parse("Experience\nEngineer, Acme Ltd, 2010 - 2014\nAnalyst, Initech, 2012 - 2016\n");
        let years = p.years_experience.unwrap();
        assert_eq!(years.value, 6.0);
        assert_eq!(years.source.origin, "computed");
    }

    #[test]
    fn a_date_range_is_not_a_phone_number() {
        let p = parse("Jane Doe\n2014 - 2019 2020\n");
        assert!(p.phone.is_none());
    }
}
