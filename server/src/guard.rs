//! What every request passes before it reaches a page or the API: who the client is
//! (`rollcall::abuse::client`), a refusal of cross-site form posts, and the per-address limits
//! on signing and confirming. A limited request is answered `429` with `Retry-After`, in
//! JSON for programs and as a page for people, and nothing is written.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use axum::{
    Json,
    extract::{ConnectInfo, Request, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::{Html, IntoResponse, Response},
};
use rollcall::{
    abuse::client::{ClientIp, ClientRule},
    abuse::limits::Limiter,
    accounts::partners::PartnerKeys,
};

use crate::Settings;

pub struct Guard {
    clients: ClientRule,
    pub sign: Limiter,
    pub confirm: Limiter,
    pub sign_in: Limiter,
    partners: Arc<PartnerKeys>,
}

/// Which allowance a request draws on.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Allowance {
    Sign,
    Confirm,
    SignIn,
}

fn allowance(method: &Method, path: &str) -> Option<Allowance> {
    if method != Method::POST {
        return None;
    }
    use app::{account_fns as account, server_fns as public};
    use leptos::server_fn::ServerFn;
    // Each server function's own path, as its `#[server]` declares it.
    let signing = [<public::Sign as ServerFn>::PATH];
    let confirming = [
        <public::Confirm as ServerFn>::PATH,
        <public::Withdraw as ServerFn>::PATH,
    ];
    let signing_in = [
        <account::SignIn as ServerFn>::PATH,
        <account::CheckCode as ServerFn>::PATH,
        <account::Enrol as ServerFn>::PATH,
        <account::AcceptInvitation as ServerFn>::PATH,
        <account::ChangePassword as ServerFn>::PATH,
    ];
    if signing.contains(&path) || is_json_sign(method, path) {
        Some(Allowance::Sign)
    } else if confirming.contains(&path) {
        Some(Allowance::Confirm)
    } else if signing_in.contains(&path) {
        Some(Allowance::SignIn)
    } else {
        None
    }
}

/// The visitor's address and the key a request to the JSON sign API names, if it names
/// both.
fn visitor_claim(request: &Request) -> Option<(std::net::IpAddr, String)> {
    if !is_json_sign(request.method(), request.uri().path()) {
        return None;
    }
    let headers = request.headers();
    let visitor = headers
        .get("x-visitor-ip")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())?;
    let key = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(rollcall::accounts::partners::bearer)?;
    Some((visitor, key.to_owned()))
}

/// The JSON sign API, where a partner key may name the visitor it signs for.
fn is_json_sign(method: &Method, path: &str) -> bool {
    method == Method::POST
        && path.starts_with("/api/v1/campaigns/")
        && path.ends_with("/signatures")
}

impl Guard {
    pub fn new(settings: &Settings, partners: Arc<PartnerKeys>) -> anyhow::Result<Self> {
        Ok(Self {
            clients: ClientRule::new(&settings.trusted_proxies)?,
            sign: Limiter::new(settings.sign_limit(), settings.clock.clone()),
            confirm: Limiter::new(settings.confirm_limit(), settings.clock.clone()),
            sign_in: Limiter::new(settings.sign_in_limit(), settings.clock.clone()),
            partners,
        })
    }

    /// Forgets addresses whose allowance is full again, every minute, until dropped.
    pub async fn forget_idle(guard: std::sync::Weak<Guard>) {
        loop {
            tokio::time::sleep(Duration::from_secs(60)).await;
            let Some(guard) = guard.upgrade() else { return };
            guard.sign.forget_idle();
            guard.confirm.forget_idle();
            guard.sign_in.forget_idle();
        }
    }

    /// A partner site signing through the JSON API on a visitor's behalf names the
    /// visitor: believed only there, and only with a live partner key.
    async fn visitor(&self, claim: Option<(std::net::IpAddr, String)>) -> Option<ClientIp> {
        let (visitor, key) = claim?;
        let accepted = self.partners.accepts(&key).await.unwrap_or_else(|err| {
            tracing::error!(error = %err, "the partner keys could not be read");
            false
        });
        accepted.then_some(ClientIp(visitor))
    }

    fn client(&self, peer: Option<SocketAddr>, headers: &HeaderMap) -> ClientIp {
        let peer = peer.map_or(std::net::IpAddr::from([0, 0, 0, 0]), |p| p.ip());
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok());
        ClientIp(self.clients.client_ip(peer, forwarded))
    }
}

/// A form post from another site: the browser says so (`Sec-Fetch-Site`), or its
/// `Origin` names a host other than the one it is talking to.
fn cross_site(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return !matches!(site, "same-origin" | "none");
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        // Programs and old browsers send none; SameSite cookies and JSON-only bodies
        // cover those.
        return false;
    };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let origin_host = origin.split_once("://").map(|(_, rest)| rest);
    origin == "null" || origin_host != host
}

pub async fn guard(State(guard): State<Arc<Guard>>, mut request: Request, next: Next) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let visitor = guard.visitor(visitor_claim(&request)).await;
    let client = visitor.unwrap_or_else(|| guard.client(peer, request.headers()));
    request.extensions_mut().insert(client);

    let unsafe_method = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if unsafe_method && cross_site(request.headers()) {
        let language = app::state::language_of(request.uri(), request.headers());
        return (StatusCode::FORBIDDEN, app::refusals::cross_site(language)).into_response();
    }
    if let Some(allowance) = allowance(request.method(), request.uri().path()) {
        let limiter = match allowance {
            Allowance::Sign => &guard.sign,
            Allowance::Confirm => &guard.confirm,
            Allowance::SignIn => &guard.sign_in,
        };
        if let Err(wait) = limiter.check(client.0) {
            return too_many(&request, wait);
        }
    }
    next.run(request).await
}

fn too_many(request: &Request, wait: Duration) -> Response {
    // Rounded up: a client that waits as long as told is let through.
    let seconds = (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1);
    let retry_after = [(header::RETRY_AFTER, HeaderValue::from(seconds))];
    let path = request.uri().path();
    let wants_html = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    if path.starts_with("/api/v1/") {
        return crate::problem::ApiError::RateLimited { seconds }.into_response();
    }
    if wants_html {
        let referer = request
            .headers()
            .get(header::REFERER)
            .and_then(|v| v.to_str().ok());
        let back = back_link(referer, host(request));
        let language = app::state::language_of(request.uri(), request.headers());
        let page = app::refusals::busy_page(language, seconds, &back);
        return (StatusCode::TOO_MANY_REQUESTS, retry_after, Html(page)).into_response();
    }
    // A server function called from the page's script: its error type as JSON. Every
    // form's error carries the same `Failure`, so this reads as any of them.
    let error = app::server_fns::SignFormError::Failed(app::failure::Failure::TooMany {
        retry_after_secs: seconds,
    });
    (StatusCode::TOO_MANY_REQUESTS, retry_after, Json(error)).into_response()
}

/// Back to the page the form was on, if it was one of ours: only a path on this site
/// (one `/`, not `//host` or `/\\host`, which browsers take to another site).
fn back_link(referer: Option<&str>, host: &str) -> String {
    referer
        .and_then(|r| {
            r.strip_prefix("https://")
                .or_else(|| r.strip_prefix("http://"))
        })
        .and_then(|rest| rest.strip_prefix(host))
        .filter(|path| rollcall::domain::is_same_site_path(path))
        .unwrap_or("/")
        .replace(['"', '<', '>'], "")
}

fn host(request: &Request) -> &str {
    request
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| {
                (
                    header::HeaderName::from_static(k),
                    HeaderValue::from_static(v),
                )
            })
            .collect()
    }

    #[test]
    fn posts_from_other_sites_are_told_apart() {
        assert!(cross_site(&headers(&[("sec-fetch-site", "cross-site")])));
        assert!(cross_site(&headers(&[("sec-fetch-site", "same-site")])));
        assert!(!cross_site(&headers(&[("sec-fetch-site", "same-origin")])));
        assert!(cross_site(&headers(&[
            ("origin", "https://evil.example"),
            ("host", "rollcall.example")
        ])));
        assert!(!cross_site(&headers(&[
            ("origin", "https://rollcall.example"),
            ("host", "rollcall.example")
        ])));
        assert!(cross_site(&headers(&[
            ("origin", "null"),
            ("host", "rollcall.example")
        ])));
        assert!(
            !cross_site(&headers(&[("host", "rollcall.example")])),
            "programs send no origin"
        );
    }

    #[test]
    fn the_wait_page_links_back_only_to_a_path_on_this_site() {
        let host = "rollcall.example";
        let back = |referer| back_link(Some(referer), host);
        assert_eq!(back("https://rollcall.example/c/x?lang=es"), "/c/x?lang=es");
        assert_eq!(back("http://rollcall.example/c/x"), "/c/x");
        for elsewhere in [
            "https://rollcall.example//evil.example/",
            "https://rollcall.example/\\evil.example/",
            "https://rollcall.example/\t/evil.example/",
            "https://rollcall.example.evil.example/c/x",
            "https://evil.example/?://rollcall.example/c/x",
            "javascript:alert(1)",
        ] {
            assert_eq!(back(elsewhere), "/", "{elsewhere}");
        }
        assert_eq!(back_link(None, host), "/");
        assert_eq!(back("https://rollcall.example/c/\"><script>"), "/c/script");
    }

    #[test]
    fn only_signing_and_confirming_draw_on_an_allowance() {
        assert!(allowance(&Method::POST, "/api/sign") == Some(Allowance::Sign));
        assert!(
            allowance(&Method::POST, "/api/v1/campaigns/x/signatures") == Some(Allowance::Sign)
        );
        assert!(allowance(&Method::POST, "/api/confirm") == Some(Allowance::Confirm));
        assert!(allowance(&Method::POST, "/api/sign_in") == Some(Allowance::SignIn));
        assert!(allowance(&Method::GET, "/api/v1/campaigns/x/tally").is_none());
    }
}
