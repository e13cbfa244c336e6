//! Skill names in one canonical form, so "Postgres", "PostgreSQL" and "postgresql " are the
//! same skill for filters, facets and matching.

/// Spellings that mean the same skill, mapped to the canonical name.
const ALIASES: &[(&str, &str)] = &[
    ("postgres", "postgresql"),
    ("psql", "postgresql"),
    ("golang", "go"),
    ("js", "javascript"),
    ("ecmascript", "javascript"),
    ("ts", "typescript"),
    ("node", "node.js"),
    ("nodejs", "node.js"),
    ("node js", "node.js"),
    ("react.js", "react"),
    ("reactjs", "react"),
    ("vue", "vue.js"),
    ("vuejs", "vue.js"),
    ("k8s", "kubernetes"),
    ("aws", "amazon web services"),
    ("gcp", "google cloud"),
    ("google cloud platform", "google cloud"),
    ("ml", "machine learning"),
    ("ai", "artificial intelligence"),
    ("c sharp", "c#"),
    ("csharp", "c#"),
    ("cpp", "c++"),
    ("dotnet", ".net"),
    ("py", "python"),
    ("rb", "ruby"),
    ("ror", "ruby on rails"),
    ("rails", "ruby on rails"),
    ("mongo", "mongodb"),
    ("tf", "terraform"),
];

/// The canonical form of one skill: trimmed, lower case, inner whitespace collapsed, aliases
/// resolved. `None` for an empty or absurdly long name.
pub fn normalize(raw: &str) -> Option<String> {
    let lowered = raw.trim().to_lowercase();
    let collapsed = lowered.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.is_empty()
        || collapsed.chars().count() > 60
        || collapsed.chars().any(char::is_control)
    {
        return None;
    }
    let canonical = ALIASES
        .iter()
        .find(|(alias, _)| *alias == collapsed)
        .map_or(collapsed.clone(), |(_, c)| (*c).to_owned());
    Some(canonical)
}

/// Normalises a list, dropping empties and duplicates, keeping the first order.
pub fn normalize_all<'a>(raw: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for skill in raw.into_iter().filter_map(normalize) {
        if !out.contains(&skill) {
            out.push(skill);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_of_one_skill_become_one_name() {
        assert_eq!(normalize(" PostgreSQL ").as_deref(), Some("postgresql"));
        assert_eq!(normalize("Postgres").as_deref(), Some("postgresql"));
        assert_eq!(normalize("Node.js").as_deref(), Some("node.js"));
        assert_eq!(normalize("NodeJS").as_deref(), Some("node.js"));
        assert_eq!(normalize("Machine   Learning").as_deref(), Some("machine learning"));
        assert_eq!(normalize("C++").as_deref(), Some("c++"));
        assert_eq!(normalize("   "), None);
    }

    #[test]
    fn a_list_loses_duplicates_but_keeps_its_order() {
        assert_eq!(normalize_all(["Rust", "golang", "rust", "Go", ""]), vec!["rust", "go"]);
    }
}
