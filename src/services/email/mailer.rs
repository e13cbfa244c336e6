//! Where email goes: an SMTP server (lettre), `.eml` files in a directory, or memory (unit
//! tests only). The message built for an email is the same on every attempt: its Message-ID,
//! Date and multipart boundary come from the stored email, so a resend after a crash is
//! recognisably the same message.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::core::config::{EmailBackendConfig, EmailConfig};
use crate::models::email::QueuedEmail;

/// Why a delivery failed, and whether trying again can help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// Connection refused, timeout, a 4xx reply: the next attempt may succeed.
    #[error("temporary delivery failure: {0}")]
    Transient(String),
    /// A 5xx reply or a message that cannot be built: retrying cannot help.
    #[error("permanent delivery failure: {0}")]
    Permanent(String),
}

enum Backend {
    Smtp {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        timeout: Duration,
    },
    File {
        dir: PathBuf,
    },
    #[cfg(test)]
    Memory(std::sync::Arc<std::sync::Mutex<Vec<Vec<u8>>>>),
}

pub struct Mailer {
    backend: Backend,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match &self.backend {
            Backend::Smtp { .. } => "smtp",
            Backend::File { .. } => "file",
            #[cfg(test)]
            Backend::Memory(_) => "memory",
        };
        f.debug_struct("Mailer")
            .field("backend", &kind)
            .field("from", &self.from.to_string())
            .finish()
    }
}

impl Mailer {
    pub fn from_config(config: &EmailConfig) -> Result<Self, String> {
        let from: Mailbox =
            config.from.parse().map_err(|e| format!("the sender address does not parse: {e}"))?;
        let backend = match &config.backend {
            EmailBackendConfig::Smtp { url, timeout } => {
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose())
                    .map_err(|e| format!("JOBPORTAL_SMTP_URL is not usable: {e}"))?
                    .timeout(Some(*timeout))
                    .build();
                Backend::Smtp { transport, timeout: *timeout }
            }
            EmailBackendConfig::File { dir } => Backend::File { dir: dir.clone() },
        };
        Ok(Self { backend, from })
    }

    /// A mailer that keeps messages in memory, for unit tests.
    #[cfg(test)]
    pub fn memory() -> (Self, std::sync::Arc<std::sync::Mutex<Vec<Vec<u8>>>>) {
        let store = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let from = "jobportal <noreply@localhost>".parse().expect("a valid test sender");
        (Self { backend: Backend::Memory(store.clone()), from }, store)
    }

    /// A short description for logs and readiness (never the SMTP credentials).
    pub fn describe(&self) -> String {
        match &self.backend {
            Backend::Smtp { .. } => "smtp".into(),
            Backend::File { dir } => format!("files in {}", dir.display()),
            #[cfg(test)]
            Backend::Memory(_) => "memory".into(),
        }
    }

    /// Delivers an email. `Ok` means the server answered 250 (or the file is on disk).
    pub async fn send(&self, email: &QueuedEmail) -> Result<(), DeliveryError> {
        let message = self.build(email)?;
        match &self.backend {
            Backend::Smtp { transport, timeout } => {
                // lettre bounds only the TCP connect; bound the whole conversation here.
                let limit = *timeout * 3;
                match tokio::time::timeout(limit, transport.send(message)).await {
                    Err(_) => Err(DeliveryError::Transient(format!(
                        "no answer from the SMTP server within {limit:?}"
                    ))),
                    Ok(Ok(_)) => Ok(()),
                    Ok(Err(err)) if err.is_permanent() => {
                        Err(DeliveryError::Permanent(err.to_string()))
                    }
                    Ok(Err(err)) => Err(DeliveryError::Transient(err.to_string())),
                }
            }
            Backend::File { dir } => {
                let bytes = message.formatted();
                let name = format!("{}-{}.eml", email.created_at.format("%Y%m%dT%H%M%S"), email.id);
                let dir = dir.clone();
                tokio::task::spawn_blocking(move || {
                    std::fs::create_dir_all(&dir)?;
                    let tmp = dir.join(format!(".{name}.tmp"));
                    std::fs::write(&tmp, &bytes)?;
                    std::fs::rename(&tmp, dir.join(&name))
                })
                .await
                .map_err(|e| DeliveryError::Transient(e.to_string()))?
                .map_err(|e| DeliveryError::Transient(format!("writing the .eml file: {e}")))
            }
            #[cfg(test)]
            Backend::Memory(store) => {
                store.lock().expect("test mailbox lock").push(message.formatted());
                Ok(())
            }
        }
    }

    fn build(&self, email: &QueuedEmail) -> Result<Message, DeliveryError> {
        let permanent = |what: &str, err: &dyn std::fmt::Display| {
            DeliveryError::Permanent(format!("{what}: {err}"))
        };
        let to: Mailbox =
            email.to.parse().map_err(|e| permanent("the recipient does not parse", &e))?;
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(email.subject.clone())
            .message_id(Some(email.message_id.clone()))
            .date(SystemTime::from(email.created_at));
        for (name, value) in &email.headers {
            let name = HeaderName::new_from_ascii(name.clone())
                .map_err(|e| permanent("a header name", &e))?;
            builder = builder.raw_header(HeaderValue::new(name, value.clone()));
        }
        let body = MultiPart::alternative()
            .boundary(format!("=_jobportal_{}", email.id.replace('-', "")))
            .singlepart(SinglePart::plain(email.text.clone()))
            .singlepart(SinglePart::html(email.html.clone()));
        builder.multipart(body).map_err(|e| permanent("building the message", &e))
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;

    fn email() -> QueuedEmail {
        QueuedEmail {
            id: "0192-abc".into(),
            to: "ada@example.com".into(),
            template: "verify_email".into(),
            subject: "Confirm your email address".into(),
            text: "Hello Ada".into(),
            html: "<p>Hello Ada</p>".into(),
            message_id: "<0192-abc@jobs.example>".into(),
            headers: vec![
                ("List-Unsubscribe".into(), "<https://jobs.example/u?t=x>".into()),
                ("List-Unsubscribe-Post".into(), "List-Unsubscribe=One-Click".into()),
            ],
            status: "queued".into(),
            attempts: 0,
            last_error: None,
            created_at: Utc::now(),
            sent_at: None,
        }
    }

    #[tokio::test]
    async fn the_same_email_makes_the_same_message_every_time() {
        let (mailer, store) = Mailer::memory();
        mailer.send(&email()).await.unwrap();
        mailer.send(&email()).await.unwrap();
        let sent = store.lock().unwrap();
        assert_eq!(sent.len(), 2);
        assert_eq!(sent[0], sent[1], "a resend is byte for byte the same message");
        let text = String::from_utf8_lossy(&sent[0]);
        assert!(text.contains("Message-ID: <0192-abc@jobs.example>"), "{text}");
        assert!(text.contains("List-Unsubscribe: <https://jobs.example/u?t=x>"), "{text}");
        assert!(text.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"), "{text}");
        assert!(text.contains("multipart/alternative") && text.contains("text/html"), "{text}");
    }

    #[tokio::test]
    async fn an_unusable_recipient_is_a_permanent_failure() {
        let (mailer, _) = Mailer::memory();
        let bad = QueuedEmail { to: "not an address".into(), ..email() };
        assert!(matches!(mailer.send(&bad).await, Err(DeliveryError::Permanent(_))));
    }
}
