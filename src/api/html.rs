//! The few HTML pages the binary serves itself, for the links that emails carry (unsubscribe,
//! email verification, password reset, invitations): one document shape, its headers and the
//! escaping every value passes through.
//!
//! The pages work without JavaScript and load nothing: the policy allows only the page's own
//! stylesheet (by hash) and forms posted back to this origin. The token is in the address, so
//! nothing is cached and no `Referer` leaves the page.

use std::sync::LazyLock;

use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY, RETRY_AFTER,
    X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};

/// The one stylesheet of every page, inline so the page needs no second request.
const STYLE: &str = "body{font-family:sans-serif;max-width:480px;margin:48px auto;padding:0 16px;\
line-height:1.5}label{display:block;margin-top:12px}input{display:block;width:100%;\
box-sizing:border-box;padding:6px;margin-top:4px}button{margin-top:16px;padding:8px 16px}\
.error{color:#a00}";

/// The policy every page is served with: the stylesheet above by its hash, forms posted to
/// this origin only, and nothing else (no scripts, images, frames or other hosts).
static CONTENT_SECURITY: LazyLock<HeaderValue> = LazyLock::new(|| {
    let hash = STANDARD.encode(Sha256::digest(STYLE.as_bytes()));
    let policy = format!(
        "default-src 'none'; style-src 'sha256-{hash}'; form-action 'self'; \
         frame-ancestors 'none'; base-uri 'none'"
    );
    HeaderValue::from_str(&policy).expect("the policy is ASCII")
});

/// Marks a response as one of these pages, so the error-body layer keeps an HTML page with a
/// 4xx status as it is instead of replacing it with the JSON error body.
#[derive(Debug, Clone, Copy)]
pub struct HtmlPage;

/// Text made safe to place in an element or a quoted attribute.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A paragraph of plain text.
pub fn paragraph(text: &str) -> String {
    format!("<p>{}</p>", escape(text))
}

/// A form that posts `hidden` values (and whatever `fields` holds) to `action` on this origin.
/// `fields` is markup the caller built with [`escape`] or [`password_input`].
pub fn form(action: &str, hidden: &[(&str, &str)], fields: &str, button: &str) -> String {
    let mut out = format!("<form method=\"post\" action=\"{}\">", escape(action));
    for (name, value) in hidden {
        out.push_str(&format!(
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
            escape(name),
            escape(value)
        ));
    }
    out.push_str(fields);
    out.push_str(&format!("<button type=\"submit\">{}</button></form>", escape(button)));
    out
}

/// A labelled password field that never carries a value back to the browser.
pub fn password_input(name: &str, label: &str, autocomplete: &str) -> String {
    let name = escape(name);
    format!(
        "<label for=\"{name}\">{}<input type=\"password\" id=\"{name}\" name=\"{name}\" \
         autocomplete=\"{}\" required></label>",
        escape(label),
        escape(autocomplete)
    )
}

/// One page: a status, a title and its body markup.
#[derive(Debug, Clone)]
pub struct Page {
    status: StatusCode,
    title: String,
    body: String,
    retry_after: Option<u64>,
}

impl Page {
    /// A page whose `body` is markup built from this module's helpers (every value escaped).
    pub fn new(status: StatusCode, title: &str, body: String) -> Self {
        Self { status, title: title.to_owned(), body, retry_after: None }
    }

    /// A page that says, in one paragraph, why nothing happened.
    pub fn message(status: StatusCode, title: &str, text: &str) -> Self {
        Self::new(status, title, paragraph(text))
    }

    /// Adds a `Retry-After` header (a 429 page).
    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    fn document(&self) -> String {
        let title = escape(&self.title);
        format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <meta name=\"referrer\" content=\"no-referrer\">\
             <title>{title}</title><style>{STYLE}</style></head>\
             <body><h1>{title}</h1>{}</body></html>",
            self.body
        )
    }
}

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        let mut response = (self.status, self.document()).into_response();
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
        headers.insert(CONTENT_SECURITY_POLICY, CONTENT_SECURITY.clone());
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
        headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
        headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        if let Some(seconds) = self.retry_after {
            headers.insert(RETRY_AFTER, HeaderValue::from(seconds));
        }
        response.extensions_mut().insert(HtmlPage);
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_leaves_no_markup_or_attribute_breakout() {
        let escaped = escape(r#"<script>alert('x')</script> & "quoted""#);
        assert_eq!(
            escaped,
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;quoted&quot;"
        );
    }

    #[test]
    fn the_policy_names_the_hash_of_the_stylesheet_the_page_carries() {
        let policy = CONTENT_SECURITY.to_str().unwrap().to_owned();
        let hash = STANDARD.encode(Sha256::digest(STYLE.as_bytes()));
        assert!(policy.contains(&format!("'sha256-{hash}'")), "{policy}");
        let page = Page::message(StatusCode::OK, "t", "x").document();
        assert!(page.contains(&format!("<style>{STYLE}</style>")));
        assert!(!policy.contains("unsafe"), "{policy}");
    }

    #[test]
    fn a_page_escapes_its_title_and_paragraphs() {
        let page = Page::message(StatusCode::OK, "<b>", "<i>").document();
        assert!(page.contains("<title>&lt;b&gt;</title>") && page.contains("<p>&lt;i&gt;</p>"));
        assert!(!page.contains("<b>") && !page.contains("<i>"));
    }
}
