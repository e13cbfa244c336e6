//! Emails: templates compiled into the binary, rendered with minijinja, queued in the outbox
//! together with the task that delivers them ([`SendEmail`]), and delivered by that task
//! through [`Mailer`].
//!
//! Each email is three templates in `templates/`: `NAME.subject.txt`, `NAME.txt` and
//! `NAME.html` (which extends `layout.html`; values in it are HTML-escaped). Rendering is
//! strict: a template that names a value the code did not pass fails, and the unit tests render
//! every template, so a typo cannot reach a user.

pub mod mailer;

use std::sync::{Arc, OnceLock};

use minijinja::{AutoEscape, Environment, UndefinedBehavior, Value};
use serde::{Deserialize, Serialize};

pub use mailer::{DeliveryError, Mailer};

use super::{ServiceError, TaskContext};
use crate::db::Executor;
use crate::models::email::OutgoingEmail;
use crate::queue::{self, Attempt, Permanent, Queue, Task};
use crate::repositories;

/// The emails the portal sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Template {
    VerifyEmail,
    ResetPassword,
    PasswordChanged,
    CompanyInvite,
    /// To the company: a candidate applied to one of its jobs.
    ApplicationReceived,
    /// To the candidate: the company moved their application.
    ApplicationStatus,
    /// A saved search's digest of new jobs, with a one-click unsubscribe.
    JobAlert,
}

impl Template {
    pub const ALL: [Template; 7] = [
        Template::VerifyEmail,
        Template::ResetPassword,
        Template::PasswordChanged,
        Template::CompanyInvite,
        Template::ApplicationReceived,
        Template::ApplicationStatus,
        Template::JobAlert,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            Template::VerifyEmail => "verify_email",
            Template::ResetPassword => "reset_password",
            Template::PasswordChanged => "password_changed",
            Template::CompanyInvite => "company_invite",
            Template::ApplicationReceived => "application_received",
            Template::ApplicationStatus => "application_status",
            Template::JobAlert => "job_alert",
        }
    }
}

macro_rules! templates {
    ($($file:literal),* $(,)?) => {
        &[$(($file, include_str!(concat!("templates/", $file)))),*]
    };
}

const TEMPLATES: &[(&str, &str)] = templates!(
    "layout.html",
    "verify_email.subject.txt",
    "verify_email.txt",
    "verify_email.html",
    "reset_password.subject.txt",
    "reset_password.txt",
    "reset_password.html",
    "password_changed.subject.txt",
    "password_changed.txt",
    "password_changed.html",
    "company_invite.subject.txt",
    "company_invite.txt",
    "company_invite.html",
    "application_received.subject.txt",
    "application_received.txt",
    "application_received.html",
    "application_status.subject.txt",
    "application_status.txt",
    "application_status.html",
    "job_alert.subject.txt",
    "job_alert.txt",
    "job_alert.html",
);

fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_auto_escape_callback(|name| {
            if name.ends_with(".html") { AutoEscape::Html } else { AutoEscape::None }
        });
        for (name, source) in TEMPLATES {
            env.add_template(name, source).expect("email templates compiled into the binary parse");
        }
        env
    })
}

/// Renders one email. `context` must hold every value its templates use; `portal_url` is added.
pub fn render(
    template: Template,
    to: &str,
    public_url: &str,
    context: Value,
) -> Result<OutgoingEmail, ServiceError> {
    let env = environment();
    let context = minijinja::context! { portal_url => public_url, ..context };
    let render = |suffix: &str| -> Result<String, ServiceError> {
        let name = format!("{}.{suffix}", template.name());
        env.get_template(&name)
            .and_then(|t| t.render(&context))
            .map_err(|err| ServiceError::Internal(anyhow::anyhow!("rendering {name}: {err:#}")))
    };
    let subject = render("subject.txt")?.trim().to_owned();
    let host = public_url
        .split("://")
        .nth(1)
        .unwrap_or("localhost")
        .split(['/', ':'])
        .next()
        .unwrap_or("localhost");
    Ok(OutgoingEmail {
        to: to.to_owned(),
        template: template.name().to_owned(),
        subject,
        text: render("txt")?,
        html: render("html")?,
        message_id: format!("<{}@{}>", uuid::Uuid::now_v7(), host),
        headers: Vec::new(),
    })
}

/// Renders an email and puts it in the outbox with the task that delivers it, in the caller's
/// transaction: the email exists exactly when what it announces does.
pub async fn queue(
    ex: &impl Executor,
    template: Template,
    to: &str,
    public_url: &str,
    context: Value,
) -> Result<(), ServiceError> {
    let email = render(template, to, public_url, context)?;
    queue_rendered(ex, &email).await
}

/// Puts a rendered email (with any extra headers) in the outbox with its delivery task.
pub async fn queue_rendered(ex: &impl Executor, email: &OutgoingEmail) -> Result<(), ServiceError> {
    let id = repositories::emails::queue(ex, email).await?;
    queue::enqueue(ex, &SendEmail { email_id: id }).await?;
    Ok(())
}

/// Delivers one email from the outbox. Sent already, or gone (its account was deleted): done.
/// A permanent failure marks the email failed; a transient one is returned so the task is
/// retried, and on the `last_attempt` it marks the email failed too.
pub async fn deliver(
    db: &crate::db::Database,
    mailer: &Mailer,
    email_id: &str,
    last_attempt: bool,
) -> Result<(), DeliveryError> {
    let storage = |e: repositories::RepoError| {
        DeliveryError::Transient(format!("the outbox is unreachable: {e}"))
    };
    let Some(email) = repositories::emails::find(db, email_id).await.map_err(storage)? else {
        return Ok(());
    };
    if email.status != "queued" {
        return Ok(());
    }
    match mailer.send(&email).await {
        Ok(()) => {
            repositories::emails::mark_sent(db, &email.id).await.map_err(storage)?;
            tracing::info!(email = %email.id, template = %email.template, "email sent");
            Ok(())
        }
        Err(err) => {
            let give_up = last_attempt || matches!(err, DeliveryError::Permanent(_));
            repositories::emails::record_failure(db, &email.id, &err.to_string(), give_up)
                .await
                .map_err(storage)?;
            Err(err)
        }
    }
}

/// The task that delivers one email from the outbox.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SendEmail {
    pub email_id: String,
}

impl Task for SendEmail {
    const KIND: &'static str = "send_email";
    const QUEUE: Queue = Queue::Email;
    const MAX_ATTEMPTS: u32 = 10;
    type Context = Arc<TaskContext>;

    /// One delivery task per email, ever.
    fn dedup_key(&self) -> Option<String> {
        Some(self.email_id.clone())
    }

    async fn run(self, ctx: Arc<TaskContext>, attempt: Attempt) -> anyhow::Result<()> {
        match deliver(&ctx.services.db, &ctx.mailer, &self.email_id, attempt.is_last()).await {
            Ok(()) => Ok(()),
            Err(DeliveryError::Permanent(reason)) => Err(Permanent(reason).into()),
            Err(err) => Err(err.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use minijinja::context;

    use super::*;

    fn full_context() -> Value {
        context! {
            name => "Ada <script>",
            email => "ada@example.com",
            link => "https://jobs.example/verify-email?token=abc&x=1",
            token => "abc",
            hours => 48,
            minutes => 60,
            days => 7,
            how => "changed",
            when => "2026-01-01 10:00",
            forgot_link => "https://jobs.example/forgot-password",
            inviter => "Grace",
            company => "Acme & Co",
            role => "recruiter",
            job_title => "Rust Engineer",
            candidate => "Grace Hopper",
            count => 3,
            stage_text => "invited to interview",
            reason => "the position was filled",
            search => "Remote Rust",
            frequency => "daily",
            unsubscribe => "https://jobs.example/api/v1/saved-searches/unsubscribe?token=abc",
            jobs => vec![context! { title => "Rust Engineer", company => "Acme", location => "Lisbon, PT", link => "https://jobs.example/jobs/1" }],
        }
    }

    #[test]
    fn every_template_renders_with_its_values() {
        for template in Template::ALL {
            let email = render(template, "ada@example.com", "https://jobs.example", full_context())
                .unwrap();
            assert!(!email.subject.is_empty() && !email.subject.contains('\n'), "{template:?}");
            assert!(email.text.len() > 40, "{template:?}");
            assert!(email.html.contains("<html"), "{template:?}");
            assert!(
                email.message_id.starts_with('<') && email.message_id.ends_with("@jobs.example>")
            );
        }
    }

    #[test]
    fn html_bodies_escape_values_and_text_bodies_do_not() {
        let email = render(
            Template::VerifyEmail,
            "ada@example.com",
            "https://jobs.example",
            full_context(),
        )
        .unwrap();
        assert!(email.html.contains("Ada &lt;script&gt;"), "{}", email.html);
        assert!(email.text.contains("Ada <script>"));
    }

    #[test]
    fn a_missing_value_is_an_error_not_an_empty_string() {
        let err = render(
            Template::VerifyEmail,
            "a@example.com",
            "https://jobs.example",
            context! { name => "Ada" },
        );
        assert!(err.is_err());
    }
}
