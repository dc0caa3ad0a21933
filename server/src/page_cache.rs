//! Public pages, kept for a moment. The front page, each campaign's page and its embed
//! are the same for every reader of a language, so each is kept as rendered and
//! compressed for `page_cache_ms` (a second by default), per address, language and
//! encoding. When a campaign goes viral, a hundred thousand readers then cost one render
//! a second per page instead of one each; the count on a kept page is at most that old,
//! and the live stream brings it up to date the moment the page is open.
//!
//! Only an address whose every parameter is `lang` or a referrer's tracking (`fbclid`,
//! `utm_source`...) is kept: anything else may show on the page (a form's error comes
//! back as `?__err=`, a list's place as `?before=`), so it is rendered for its reader.
//!
//! Readers who ask for a page that is not kept wait for one render together instead of
//! each starting their own; a render that may not be kept (an error, a cookie of its
//! own) goes to its reader only, and the others render theirs. A kept page is the same
//! bytes for everyone who gets it, its CSP nonce included: for `page_cache_ms` the nonce
//! is known to anyone who reads the page. It still guards the page, because nothing from
//! the request reaches a kept page and campaign texts are sanitised, so no markup in it
//! was written after its nonce became known.

use std::{sync::Arc, time::Duration};

use axum::{
    body::{Body, Bytes},
    extract::{Request, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use rollcall::domain::Language;

/// A rendered page larger than this is served but not kept (pages are tens of KiB).
const MOST_BYTES: usize = 2 << 20;
/// How much is kept at once, at most, in KiB of pages (addresses of campaigns that do
/// not exist are kept too, as "not found", so this bounds a crawl of made-up ones).
const MOST_KIB: u64 = 64 * 1024;
/// Parameters a referrer adds to a shared link; the page does not read them.
const TRACKING: &[&str] = &[
    "fbclid",
    "gclid",
    "igshid",
    "mc_cid",
    "mc_eid",
    "ref",
    "si",
    "utm_campaign",
    "utm_content",
    "utm_id",
    "utm_medium",
    "utm_source",
    "utm_term",
    "wa",
];

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
            && self.body.len() <= MOST_BYTES
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
                .weigher(|_: &Key, kept: &Arc<Kept>| (kept.body.len() / 1024 + 1) as u32)
                .max_capacity(MOST_KIB)
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
    // Whoever renders keeps the page if it may be kept; if not, it is theirs alone, and
    // a reader who waited on it renders their own.
    let mut to_render = Some((request, next));
    let mut own = None;
    let kept = pages
        .optionally_get_with(key, async {
            let (request, next) = to_render.take()?;
            let page = render(next.run(request).await).await;
            if page.may_be_kept() {
                Some(page)
            } else {
                own = Some(page);
                None
            }
        })
        .await;
    match (kept, own, to_render) {
        (Some(page), ..) | (None, Some(page), _) => page.response(),
        (None, None, Some((request, next))) => next.run(request).await,
        (None, None, None) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// The response, read whole.
async fn render(response: Response) -> Arc<Kept> {
    let (parts, body) = response.into_parts();
    let kept = match axum::body::to_bytes(body, usize::MAX).await {
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

/// A GET of the front page, a campaign's page or its embed, whose parameters are only
/// `lang` and a referrer's tracking.
fn public_page(request: &Request) -> bool {
    let path = request.uri().path();
    let one_slug = |prefix: &str| {
        path.strip_prefix(prefix)
            .is_some_and(|slug| !slug.is_empty() && !slug.contains('/'))
    };
    let plain = request.uri().query().is_none_or(|query| {
        query
            .split('&')
            .filter(|pair| !pair.is_empty())
            .all(|pair| {
                let name = pair.split_once('=').map_or(pair, |(name, _)| name);
                name == "lang" || TRACKING.contains(&name)
            })
    });
    request.method() == Method::GET
        && plain
        && (path == "/" || one_slug("/c/") || one_slug("/embed/"))
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
        assert!(public_page(&get(
            "/c/general-strike?fbclid=x&lang=es&utm_source=wa"
        )));
        assert!(!public_page(&get(
            "/c/general-strike?__path=/api/sign&__err=x"
        )));
        assert!(!public_page(&get("/c/general-strike?fbclid=x&before=abc")));
        assert!(!public_page(&get("/c/general-strike/thanks")));
        assert!(!public_page(&get("/account")));
        assert!(!public_page(&get("/v/sometoken")));
        let post = Request::post("/c/general-strike")
            .body(Body::empty())
            .unwrap();
        assert!(!public_page(&post));
    }
}
