//! What server functions and pages find in context on the server.

use std::sync::Arc;

use rollcall::domain::Language;
use sea_orm::DatabaseConnection;
use tokio::sync::Notify;

/// Shared by every request: the pool, the settings pages need, and the outbox's bell.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    /// The base of links in mail, without a trailing slash.
    pub public_url: Arc<str>,
    pub confirm_ttl: chrono::Duration,
    /// Rung after a transaction wrote mail, so the outbox worker sends it at once.
    pub mail_wake: Arc<Notify>,
    /// Every campaign's live tally.
    pub hub: Arc<rollcall::hub::TallyHub>,
    pub mail_limits: rollcall::mail::MailLimits,
    pub blocks: Arc<rollcall::blocks::BlockList>,
    /// Signs the sign form's render time.
    pub form_key: Arc<rollcall::stamp::FormKey>,
    pub form_min_age: chrono::Duration,
}

/// The language a page is rendered in: `?lang=` first, then the browser's
/// Accept-Language.
pub fn request_language() -> Language {
    let Some(parts) = leptos::prelude::use_context::<http::request::Parts>() else {
        return Language::default();
    };
    if let Some(query) = parts.uri.query() {
        for pair in query.split('&') {
            if let Some(code) = pair.strip_prefix("lang=")
                && let Ok(language) = Language::parse(code)
            {
                return language;
            }
        }
    }
    parts
        .headers
        .get(http::header::ACCEPT_LANGUAGE)
        .and_then(|value| value.to_str().ok())
        .map(Language::from_accept_language)
        .unwrap_or_default()
}

/// The client's address, as the server's client rule worked it out (see
/// `rollcall::client`).
pub fn client_ip() -> Option<std::net::IpAddr> {
    leptos::prelude::use_context::<http::request::Parts>()?
        .extensions
        .get::<rollcall::client::ClientIp>()
        .map(|client| client.0)
}
