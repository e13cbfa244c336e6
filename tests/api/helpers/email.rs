//! What the application sent by email: the outbox, the tokens in its links, quoted-printable
//! bodies and the headers of raw messages.

use super::TestApp;

impl TestApp {
    /// Every email in the outbox to an address, oldest first.
    pub async fn emails_to(&self, email: &str) -> Vec<jobportal::models::email::QueuedEmail> {
        jobportal::repositories::emails::list_to(&self.db, email).await.expect("outbox readable")
    }

    /// The token in the newest email of `template` to an address.
    pub async fn token_sent_to(&self, email: &str, template: &str) -> String {
        let emails = self.emails_to(email).await;
        let last = emails
            .iter()
            .rev()
            .find(|e| e.template == template)
            .unwrap_or_else(|| panic!("no {template} email to {email}: {emails:?}"));
        token_in(&last.text)
    }
}

/// The value of `token=` in the first link of a plain-text email body.
pub fn token_in(text: &str) -> String {
    let start = text.find("token=").expect("a link with a token") + "token=".len();
    text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

/// The token in a raw message as the SMTP server received it (quoted-printable body).
pub fn token_in_message(raw: &str) -> String {
    token_in(&decode_quoted_printable(raw))
}

/// Undoes quoted-printable: soft line breaks go, `=XX` becomes its byte. Plain text passes
/// through unchanged (an `=` not followed by two hex digits stays).
pub fn decode_quoted_printable(text: &str) -> String {
    let joined = text.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz");
            if let Ok(byte) = u8::from_str_radix(hex, 16) {
                out.push(byte);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The value of a header in a raw message.
pub fn header<'a>(message: &'a str, name: &str) -> Option<&'a str> {
    message.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.eq_ignore_ascii_case(name).then(|| value.trim())
    })
}
