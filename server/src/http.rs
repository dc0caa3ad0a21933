//! The HTTP router: Leptos pages and server functions, the JSON API, operations
//! endpoints, and the layers every response passes through.

use std::{sync::Arc, time::Duration};

use app::{App, shell, state::AppState};
use axum::{
    Router,
    extract::{MatchedPath, Request, State},
    http::{HeaderValue, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::get,
};
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list};
use rollcall::{abuse::blocks::BlockList, abuse::stamp::FormKey, live::hub::TallyHub};
use sea_orm::DatabaseConnection;
use tokio::sync::Notify;
use tower_http::{
    compression::CompressionLayer, services::ServeDir, set_header::SetResponseHeaderLayer,
    timeout::TimeoutLayer, trace::TraceLayer,
};

use crate::{
    Settings, api, export,
    guard::{self, Guard},
    osdi,
    page_cache::{self, PageCache},
    streams::{self, StreamSlots},
};

/// What the router is built from besides the settings.
pub struct Parts {
    pub db: DatabaseConnection,
    /// Exports only: they hold a connection for as long as they stream.
    pub export_db: DatabaseConnection,
    pub mail_wake: Arc<Notify>,
    pub pledge_wake: Arc<Notify>,
    pub hub: Arc<TallyHub>,
    pub guard: Arc<Guard>,
    pub partners: Arc<rollcall::accounts::partners::PartnerKeys>,
    pub form_key: FormKey,
}

/// Builds the whole router for `settings`.
pub fn router(settings: &Settings, parts: Parts) -> anyhow::Result<Router> {
    let options = settings.leptos_options();
    let state = AppState {
        blocks: Arc::new(BlockList::new(parts.db.clone())),
        partners: parts.partners,
        db: parts.db,
        export_db: parts.export_db,
        secure_cookies: settings.secure_cookies(),
        public_url: settings.public_url().into(),
        confirm_ttl: chrono::Duration::days(settings.confirm_ttl_days),
        mail_wake: parts.mail_wake,
        pledge_wake: parts.pledge_wake,
        hub: parts.hub,
        mail_limits: settings.mail_limits(),
        form_key: Arc::new(parts.form_key),
        form_min_age: chrono::Duration::seconds(settings.form_min_seconds),
        clock: settings.clock.clone(),
    };
    let page_cache = Arc::new(PageCache::new(Duration::from_millis(
        settings.page_cache_ms,
    )));
    let routes = generate_route_list(App);
    let context = {
        let state = state.clone();
        move || provide_context(state.clone())
    };
    let pages = Router::new()
        .leptos_routes_with_context(&options, routes, context.clone(), {
            let options = options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context(
            context, shell,
        ))
        .with_state(options);

    // The wasm, its JavaScript and the rest under hashed names: compressed once at build
    // time (`cargo leptos build --release --precompress` writes .br and .gz beside each
    // file; without them the compression layer compresses as it sends) and cached for
    // good, since a new build is a new name.
    let assets = Router::new()
        .nest_service(
            "/pkg",
            ServeDir::new(std::path::Path::new(&settings.site_root).join("pkg"))
                .precompressed_br()
                .precompressed_gzip(),
        )
        .layer(middleware::from_fn(cached_for_good));

    let operations = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .with_state(state.clone());

    Ok(Router::new()
        .nest(
            "/api/v1",
            api::router(state.clone()).merge(export::router(state.clone())),
        )
        .nest("/osdi/v1", osdi::router(state))
        .merge(operations)
        .merge(assets)
        .merge(pages)
        // Inside the guard, which finds the client's address.
        .layer(middleware::from_fn_with_state(
            StreamSlots::new(settings.streams_per_client),
            streams::cap,
        ))
        // Innermost of the layers but one, so its refusals carry the security headers too.
        .layer(middleware::from_fn_with_state(parts.guard, guard::guard))
        .layer(CompressionLayer::new())
        // Outside the compression, so a kept page is kept compressed.
        .layer(middleware::from_fn_with_state(
            page_cache,
            page_cache::serve,
        ))
        .layer(middleware::from_fn_with_state(
            BodyLimits {
                body: settings.body_limit_bytes,
                upload: settings.upload_limit_bytes,
            },
            body_limit,
        ))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            // Same-origin keeps the Referer the no-JavaScript form flow needs, and never
            // sends a confirmation page's address to another site.
            HeaderValue::from_static("same-origin"),
        ))
        .layer(middleware::from_fn(frame_policy))
        // None (no header) unless `public_url` is https.
        .layer(SetResponseHeaderLayer::overriding(
            header::STRICT_TRANSPORT_SECURITY,
            settings.hsts(),
        ))
        .layer(
            // Spans name the route's pattern, never the path: paths carry tokens.
            TraceLayer::new_for_http().make_span_with(|request: &Request| {
                let route = request
                    .extensions()
                    .get::<MatchedPath>()
                    .map_or("unmatched", MatchedPath::as_str);
                tracing::info_span!("request", method = %request.method(), route)
            }),
        ))
}

/// The server functions that take a paper sheet or a member list: a local's list of
/// 10,000 members must fit, while every other request keeps the small limit.
pub const UPLOAD_PATHS: [&str; 2] = [
    <app::account_fns::UploadPaper as leptos::server_fn::ServerFn>::PATH,
    <app::pledge_fns::UploadMemberList as leptos::server_fn::ServerFn>::PATH,
];

#[derive(Debug, Clone, Copy)]
struct BodyLimits {
    body: usize,
    upload: usize,
}

/// Refuses with 413 a body past its route's limit: by its length header at once, or,
/// streamed without one, by a read that stops at the limit (as tower-http's layer does).
async fn body_limit(State(limits): State<BodyLimits>, request: Request, next: Next) -> Response {
    let limit = if UPLOAD_PATHS.contains(&request.uri().path()) {
        limits.upload
    } else {
        limits.body
    };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    }
    let request =
        request.map(|body| axum::body::Body::new(http_body_util::Limited::new(body, limit)));
    next.run(request).await
}

/// Only the embed page may be framed, by any site; every other page by none, so no site
/// can dress our sign form in its own clothes. The rule joins the page's own policy.
async fn frame_policy(request: Request, next: Next) -> Response {
    let embed = request.uri().path().starts_with("/embed/");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let ancestors = if embed {
        "frame-ancestors *"
    } else {
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        "frame-ancestors 'none'"
    };
    let policy = match headers
        .get(header::CONTENT_SECURITY_POLICY)
        .and_then(|v| v.to_str().ok())
    {
        Some(page) => format!("{page}; {ancestors}"),
        None => ancestors.to_owned(),
    };
    if let Ok(value) = HeaderValue::from_str(&policy) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}

/// A found asset under a hashed name (`rollcall.<hash>.wasm`) may be kept for a year:
/// its name changes with its content. Whatever the encoding, caches must keep one copy
/// per `Accept-Encoding`, or a Brotli file could reach a browser that cannot read it.
async fn cached_for_good(request: Request, next: Next) -> Response {
    let hashed = request
        .uri()
        .path()
        .rsplit('/')
        .next()
        .is_some_and(|name| name.split('.').nth(1).is_some_and(|hash| hash.len() == 22));
    let mut response = next.run(request).await;
    let found = response.status().is_success();
    let headers = response.headers_mut();
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if hashed && found {
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=31536000, immutable"),
        );
    }
    response
}

/// Ready when the database answers.
async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    if rollcall::store::db::ping(&state.db).await {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
    }
}
