//! The error of a setting whose value cannot be used, and the one way settings are parsed into
//! it.

/// A setting whose value could not be used; displays as one line naming the variable and flag.
#[derive(Debug, thiserror::Error)]
#[error("invalid {var} (--{flag}) {value:?}: {reason}")]
pub struct ConfigError {
    pub var: &'static str,
    pub flag: &'static str,
    pub value: String,
    pub reason: String,
}

impl ConfigError {
    pub(super) fn new(
        var: &'static str,
        flag: &'static str,
        value: &str,
        reason: impl Into<String>,
    ) -> Self {
        Self { var, flag, value: value.to_owned(), reason: reason.into() }
    }
}

/// Parses the raw text of the setting of `var` and `flag`; a failure names both beside `raw`.
pub(super) fn setting<T, E: Into<String>>(
    var: &'static str,
    flag: &'static str,
    raw: &str,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Result<T, ConfigError> {
    parse(raw).map_err(|reason| ConfigError::new(var, flag, raw, reason))
}
