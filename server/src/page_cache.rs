//! Public pages, kept for a moment. The front page, each campaign's page and its embed
//! are the same for every reader of a language, so each is kept as rendered and
//! compressed for `page_cache_ms` (a second by default), per address, language and
//! encoding. When a campaign goes viral, a hundred thousand readers then cost one render
//! a second per page instead of one each; the count on a kept page is at most that old,
//! and the live stream brings it up to date the moment the page is open.
//!
//! Readers who ask for a page that is not kept wait for one render together instead of
//! each starting their own. A kept page is the same bytes for everyone who gets it, its
//! CSP nonce included: the nonce is still made by the render that uses it, so markup
//! that found its way into a page could not know it (and campaign texts are sanitised).

use std::{sync::Arc, time::Duration};

use axum::{
    body::{Body, Bytes},
    extract::{Request, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use rollcall::domain::Language;

/// A rendered page larger than this is not kept (pages are tens of kilobytes).
const MOST_BYTES: usize = 2 << 20;
/// How many pages are kept at once, at most.
const MOST_PAGES: u64 = 10_000;

/// What tells two readers' pages apart: the page, the language it is in, whether a
/// `?lang=` link asked for it (the answer then remembers it in a cookie), and the
/// encoding. Other parameters (a referrer's `?fbclid=`) change nothing on these pages.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
struct Key {
    path: String,
    language: Language,
    asked: Option<Language>,
    gzip: bool,
}

/// A page as it was answered.
struct Kept {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Kept {
    /// Only a page that any reader may get: found or not found, and setting no cookie
    /// but the language one a `?lang=` link sets for everyone alike.
    fn may_be_kept(&self) -> bool {
        matches!(self.status, StatusCode::OK | StatusCode::NOT_FOUND)
            && self
                .headers
                .get_all(header::SET_COOKIE)
                .iter()
                .all(|cookie| {
                    cookie
                        .as_bytes()
                        .starts_with(format!("{}=", app::state::LANGUAGE_COOKIE).as_bytes())
                })
    }

    fn response(&self) -> Response {
        let mut response = Response::new(Body::from(self.body.clone()));
        *response.status_mut() = self.status;
        *response.headers_mut() = self.headers.clone();
        response
    }
}

/// The pages kept, each for a moment (none when that moment is zero).
pub struct PageCache {
    pages: Option<moka::future::Cache<Key, Arc<Kept>>>,
}

impl PageCache {
    pub fn new(keep_for: Duration) -> Self {
        let pages = (!keep_for.is_zero()).then(|| {
            moka::future::Cache::builder()
                .max_capacity(MOST_PAGES)
                .time_to_live(keep_for)
                .build()
        });
        Self { pages }
    }
}

/// The middleware: a kept page if there is one, else the render (shared by every reader
/// who asked for it meanwhile), kept when it may be.
pub async fn serve(
    State(cache): State<Arc<PageCache>>,
    mut request: Request,
    next: Next,
) -> Response {
    let Some(pages) = cache.pages.as_ref().filter(|_| public_page(&request)) else {
        return next.run(request).await;
    };
    let gzip = accepts_gzip(request.headers());
    // The render answers every reader of this key alike, so it is asked for exactly the
    // encoding the key names.
    let encoding = HeaderValue::from_static(if gzip { "gzip" } else { "identity" });
    request
        .headers_mut()
        .insert(header::ACCEPT_ENCODING, encoding);
    let key = Key {
        path: request.uri().path().to_owned(),
        language: app::state::language_of(request.uri(), request.headers()),
        asked: app::state::query_language(request.uri()),
        gzip,
    };
    let kept = pages
        .get_with(
            key.clone(),
            async move { render(next.run(request).await).await },
        )
        .await;
    if !kept.may_be_kept() {
        pages.invalidate(&key).await;
    }
    kept.response()
}

/// The response, read whole.
async fn render(response: Response) -> Arc<Kept> {
    let (parts, body) = response.into_parts();
    let kept = match axum::body::to_bytes(body, MOST_BYTES).await {
        Ok(body) => {
            let mut headers = parts.headers;
            // Shared caches must keep one copy per language and per encoding, too.
            headers.insert(
                header::VARY,
                HeaderValue::from_static("accept-encoding, accept-language, cookie"),
            );
            Kept {
                status: parts.status,
                headers,
                body,
            }
        }
        Err(err) => {
            tracing::error!(error = %err, "a page could not be read whole");
            let response = StatusCode::INTERNAL_SERVER_ERROR.into_response();
            Kept {
                status: response.status(),
                headers: response.headers().clone(),
                body: Bytes::new(),
            }
        }
    };
    Arc::new(kept)
}

/// A GET of the front page, a campaign's page or its embed.
fn public_page(request: &Request) -> bool {
    let path = request.uri().path();
    let one_slug = |prefix: &str| {
        path.strip_prefix(prefix)
            .is_some_and(|slug| !slug.is_empty() && !slug.contains('/'))
    };
    request.method() == Method::GET && (path == "/" || one_slug("/c/") || one_slug("/embed/"))
}

/// Whether the client takes gzip (`Accept-Encoding: gzip`, `gzip;q=0.5`, `*`), not
/// refused with `q=0`.
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            let name = parts.next().unwrap_or("");
            let refused = parts.any(|param| {
                param
                    .strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q == 0.0)
            });
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_encoding(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_str(value).unwrap(),
        );
        headers
    }

    #[test]
    fn gzip_is_taken_unless_refused() {
        assert!(accepts_gzip(&with_encoding("gzip, deflate, br")));
        assert!(accepts_gzip(&with_encoding("br;q=1.0, gzip;q=0.8")));
        assert!(accepts_gzip(&with_encoding("*")));
        assert!(!accepts_gzip(&with_encoding("gzip;q=0")));
        assert!(!accepts_gzip(&with_encoding("br, identity")));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    #[test]
    fn only_public_pages_are_kept() {
        let get = |uri: &str| Request::get(uri).body(Body::empty()).unwrap();
        assert!(public_page(&get("/")));
        assert!(public_page(&get("/c/general-strike")));
        assert!(public_page(&get("/embed/general-strike?lang=es")));
        assert!(public_page(&get("/c/general-strike?fbclid=x")));
        assert!(!public_page(&get("/c/general-strike/thanks")));
        assert!(!public_page(&get("/account")));
        assert!(!public_page(&get("/v/sometoken")));
        let post = Request::post("/c/general-strike")
            .body(Body::empty())
            .unwrap();
        assert!(!public_page(&post));
    }
}
