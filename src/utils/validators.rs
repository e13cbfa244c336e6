//! Domain newtypes that can only hold valid values: parse once at the edge, trust afterwards.

use std::fmt;

/// A normalised email address: trimmed, lower case, ASCII, and accepted by the same parser the
/// database asserts with, so a value that passes here never fails the schema.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("email is empty")]
    Empty,
    #[error("email is longer than 254 characters")]
    TooLong,
    #[error(
        "email must be plain ASCII (write an international domain in its xn-- form) with no \
         spaces or control characters"
    )]
    NotAscii,
    #[error("email is not a valid address such as name@example.com")]
    Invalid,
}

impl Email {
    pub fn parse(raw: &str) -> Result<Self, EmailError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(EmailError::Empty);
        }
        // Reject before normalising: lowercasing or trimming must never turn a look-alike
        // (fullwidth letters, zero-width spaces, a Kelvin sign) into somebody else's address.
        if !trimmed.chars().all(|c| c.is_ascii_graphic()) {
            return Err(EmailError::NotAscii);
        }
        if trimmed.len() > 254 {
            return Err(EmailError::TooLong);
        }
        let normalised = trimmed.to_ascii_lowercase();
        let (local, domain) = normalised.rsplit_once('@').ok_or(EmailError::Invalid)?;
        if local.is_empty() || local.len() > 64 || !domain.contains('.') || local.contains('@') {
            return Err(EmailError::Invalid);
        }
        addr::parse_email_address(&normalised).map_err(|_| EmailError::Invalid)?;
        Ok(Self(normalised))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A password that meets the policy: 8 to 128 characters and not the account's own email.
/// It is never printed: `Debug` redacts it.
#[derive(Clone)]
pub struct Password(crate::core::config::Secret);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("password must be at least {} characters long", Password::MIN_CHARS)]
    TooShort,
    #[error("password must be at most {} characters long", Password::MAX_CHARS)]
    TooLong,
    #[error("password must not be the email address")]
    IsEmail,
    #[error("password is one of the most common passwords; choose another")]
    Common,
}

impl Password {
    pub const MIN_CHARS: usize = 8;
    pub const MAX_CHARS: usize = 128;

    pub fn parse(raw: &str, email: &Email) -> Result<Self, PasswordError> {
        let chars = raw.chars().count();
        if chars < Self::MIN_CHARS {
            return Err(PasswordError::TooShort);
        }
        if chars > Self::MAX_CHARS {
            return Err(PasswordError::TooLong);
        }
        if raw.trim().eq_ignore_ascii_case(email.as_str()) {
            return Err(PasswordError::IsEmail);
        }
        if is_common_password(raw) {
            return Err(PasswordError::Common);
        }
        Ok(Self(crate::core::config::Secret::new(raw)))
    }

    pub fn into_secret(self) -> crate::core::config::Secret {
        self.0
    }
}

/// The 10,000 most common passwords of 8+ characters (see common_passwords.NOTICE.md).
fn is_common_password(raw: &str) -> bool {
    static COMMON: std::sync::OnceLock<std::collections::HashSet<&'static str>> =
        std::sync::OnceLock::new();
    let set = COMMON.get_or_init(|| include_str!("common_passwords.txt").lines().collect());
    set.contains(raw.trim().to_lowercase().as_str())
}

/// Whether `raw` can be the id of a stored record: ids are UUIDs (v7) that the portal made.
/// Anything else names nothing, and is answered as not found without asking the database.
pub fn is_record_id(raw: &str) -> bool {
    uuid::Uuid::try_parse(raw).is_ok()
}

/// A person's name as shown to others: trimmed, 1 to 200 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FullName(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("full name must be 1 to 200 characters without control characters")]
pub struct FullNameError;

impl FullName {
    pub fn parse(raw: &str) -> Result<Self, FullNameError> {
        let name = raw.trim();
        let chars = name.chars().count();
        if chars == 0 || chars > 200 || name.chars().any(char::is_control) {
            return Err(FullNameError);
        }
        Ok(Self(name.to_owned()))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ada() -> Email {
        Email::parse("ada@example.com").unwrap()
    }

    #[test]
    fn a_password_between_8_and_128_characters_is_accepted() {
        assert!(Password::parse("correct horse", &ada()).is_ok());
        assert!(Password::parse(&"é".repeat(128), &ada()).is_ok());
    }

    #[test]
    fn a_password_of_7_or_129_characters_is_rejected() {
        assert_eq!(Password::parse("1234567", &ada()).unwrap_err(), PasswordError::TooShort);
        assert_eq!(Password::parse(&"a".repeat(129), &ada()).unwrap_err(), PasswordError::TooLong);
    }

    #[test]
    fn the_email_is_not_a_password() {
        assert_eq!(Password::parse("ADA@example.com", &ada()).unwrap_err(), PasswordError::IsEmail);
    }

    #[test]
    fn a_common_password_is_rejected_in_any_letter_case() {
        assert_eq!(Password::parse("Password123", &ada()).unwrap_err(), PasswordError::Common);
        assert_eq!(Password::parse("QWERTYUIOP", &ada()).unwrap_err(), PasswordError::Common);
        assert!(Password::parse("lighthouse keeper 42", &ada()).is_ok());
    }

    #[test]
    fn a_full_name_is_trimmed_and_bounded() {
        assert_eq!(FullName::parse("  Ada Lovelace ").unwrap().into_inner(), "Ada Lovelace");
        assert!(FullName::parse("   ").is_err());
        assert!(FullName::parse("Ada\u{0}").is_err());
        assert!(FullName::parse(&"x".repeat(201)).is_err());
    }

    #[test]
    fn a_password_is_redacted_in_debug_output() {
        let p = Password::parse("correct horse", &ada()).unwrap();
        assert!(!format!("{p:?}").contains("horse"));
    }

    #[test]
    fn an_email_is_trimmed_and_lower_cased() {
        assert_eq!(
            Email::parse("  Ada.Lovelace@Example.COM ").unwrap().as_str(),
            "ada.lovelace@example.com"
        );
    }

    #[test]
    fn plus_addressing_and_subdomains_are_accepted() {
        assert!(Email::parse("ada+jobs@mail.example.co.uk").is_ok());
    }

    #[test]
    fn addresses_without_a_proper_domain_are_rejected() {
        for bad in
            ["ada", "ada@", "@example.com", "ada@example", "ada@@example.com", "ada@exa mple.com"]
        {
            assert!(Email::parse(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn unicode_look_alikes_are_rejected() {
        // Fullwidth letters, a zero-width space, the Kelvin sign and a Cyrillic 'а'.
        for bad in [
            "ａda@example.com",
            "ada\u{200b}@example.com",
            "\u{212a}ate@example.com",
            "\u{430}da@example.com",
        ] {
            assert_eq!(Email::parse(bad), Err(EmailError::NotAscii), "{bad:?}");
        }
    }

    #[test]
    fn an_email_longer_than_254_characters_is_rejected() {
        let long = format!("{}@example.com", "a".repeat(250));
        assert_eq!(Email::parse(&long), Err(EmailError::TooLong));
    }
}
