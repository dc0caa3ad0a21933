//! What server functions and pages find in context on the server.

use std::sync::Arc;

use rollcall::domain::Language;
use sea_orm::DatabaseConnection;
use tokio::sync::Notify;

/// Shared by every request: the pool, the settings pages need, and the outbox's bell.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    /// Exports only: they hold a connection for as long as they stream.
    pub export_db: DatabaseConnection,
    /// Whether session cookies are marked `Secure` (the site is served over https).
    pub secure_cookies: bool,
    /// The base of links in mail, without a trailing slash.
    pub public_url: Arc<str>,
    pub confirm_ttl: chrono::Duration,
    /// Rung after a transaction wrote mail, so the outbox worker sends it at once.
    pub mail_wake: Arc<Notify>,
    /// Rung after a pledge's counts moved, so the pledge worker judges it at once.
    pub pledge_wake: Arc<Notify>,
    /// Every campaign's live tally.
    pub hub: Arc<rollcall::live::hub::TallyHub>,
    pub mail_limits: rollcall::mail::MailLimits,
    pub blocks: Arc<rollcall::abuse::blocks::BlockList>,
    /// Partner sites' keys for the JSON sign API.
    pub partners: Arc<rollcall::accounts::partners::PartnerKeys>,
    /// Signs the sign form's render time.
    pub form_key: Arc<rollcall::abuse::stamp::FormKey>,
    pub form_min_age: chrono::Duration,
    /// The time for what runs on a schedule (sealed batches, daily allowances, cadence
    /// ticks): the system's, moved forward only in tests.
    pub clock: rollcall::domain::clock::Clock,
}

impl AppState {
    /// Where a committed change's effects go: the hub and the workers' bells.
    pub fn bells(&self) -> rollcall::live::effects::Bells {
        rollcall::live::effects::Bells {
            hub: self.hub.clone(),
            mail: self.mail_wake.clone(),
            pledges: self.pledge_wake.clone(),
        }
    }
}

/// The cookie that remembers the language a reader chose on the page.
pub const LANGUAGE_COOKIE: &str = "rollcall_lang";

/// The language a link asks for with `?lang=`, if any.
pub fn query_language(uri: &http::Uri) -> Option<Language> {
    uri.query()?
        .split('&')
        .find_map(|pair| pair.strip_prefix("lang="))
        .and_then(|code| Language::parse(code).ok())
}

/// The language a page is rendered in: `?lang=` first (a shared link), then the one
/// the reader chose before (a cookie), then the browser's Accept-Language.
pub fn request_language() -> Language {
    leptos::prelude::use_context::<http::request::Parts>()
        .map(|parts| language_of(&parts.uri, &parts.headers))
        .unwrap_or_default()
}

/// `request_language` for a request in hand (the server's own layers use it).
pub fn language_of(uri: &http::Uri, headers: &http::HeaderMap) -> Language {
    if let Some(language) = query_language(uri) {
        return language;
    }
    let chosen = cookie_value(headers, LANGUAGE_COOKIE);
    if let Some(language) = chosen.and_then(|code| Language::parse(&code).ok()) {
        return language;
    }
    headers
        .get(http::header::ACCEPT_LANGUAGE)
        .and_then(|value| value.to_str().ok())
        .map(Language::from_accept_language)
        .unwrap_or_default()
}

/// Remembers a language chosen by `?lang=` for the reader's next pages (a year, not
/// readable by scripts, as the session cookie).
pub fn remember_language(secure: bool) {
    use leptos::prelude::use_context;
    let (Some(parts), Some(response)) = (
        use_context::<http::request::Parts>(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) else {
        return;
    };
    let Some(language) = query_language(&parts.uri) else {
        return;
    };
    let cookie = cookie::Cookie::build((LANGUAGE_COOKIE, language.code()))
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(cookie::SameSite::Lax)
        .max_age(cookie::time::Duration::days(365))
        .build()
        .to_string();
    if let Ok(value) = http::HeaderValue::from_str(&cookie) {
        response.append_header(http::header::SET_COOKIE, value);
    }
}

/// The client's address, as the server's client rule worked it out (see
/// `rollcall::abuse::client`).
pub fn client_ip() -> Option<std::net::IpAddr> {
    leptos::prelude::use_context::<http::request::Parts>()?
        .extensions
        .get::<rollcall::abuse::client::ClientIp>()
        .map(|client| client.0)
}

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "rollcall_session";

/// The session token a request's cookies carry, if any.
pub fn session_token(headers: &http::HeaderMap) -> Option<String> {
    cookie_value(headers, SESSION_COOKIE)
}

/// The value of the cookie `name` among a request's cookies, if any.
fn cookie_value(headers: &http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

/// The `Set-Cookie` value that opens a session: unreadable by scripts, sent on top-level
/// navigation from other sites (so a link in a mail lands signed in) but never on their
/// posts, and only over https when the site is served so.
pub fn session_cookie(token: &str, secure: bool) -> String {
    cookie::Cookie::build((SESSION_COOKIE, token.to_owned()))
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(cookie::SameSite::Lax)
        .max_age(cookie::time::Duration::seconds(
            rollcall::accounts::SESSION_LIFETIME.num_seconds(),
        ))
        .build()
        .to_string()
}

/// The `Set-Cookie` value that forgets the session.
pub fn clear_session_cookie(secure: bool) -> String {
    cookie::Cookie::build((SESSION_COOKIE, ""))
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(cookie::SameSite::Lax)
        .max_age(cookie::time::Duration::ZERO)
        .build()
        .to_string()
}

/// The session cookie of the request being served, if any.
pub fn request_session_token() -> Option<String> {
    session_token(&leptos::prelude::use_context::<http::request::Parts>()?.headers)
}
