//! The JSON API under `/api/v1`: campaigns, tallies and signing, for integrations.
//! Handlers parse, call a `rollcall` service, and map its error once.

use app::state::AppState;
use axum::{
    Extension, Json, Router,
    extract::{Path, Query, State, rejection::JsonRejection},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use rollcall::{
    abuse::client::ClientIp,
    domain::{Language, SignatureInput},
    signing::{SignContext, SignError},
};
use serde::Deserialize;
use serde_json::json;

use crate::problem::ApiError;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/campaigns", get(list_campaigns))
        .route("/campaigns/{slug}", get(campaign))
        .route("/campaigns/{slug}/tally", get(tally))
        .route("/campaigns/{slug}/tally/stream", get(tally_stream))
        .route("/campaigns/{slug}/signatures", post(sign))
        .route("/campaigns/{slug}/signers", get(signers))
        .route("/campaigns/{slug}/qr.svg", get(flyer_qr))
        .with_state(state)
}

fn language(headers: &HeaderMap) -> Language {
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|value| value.to_str().ok())
        .map(Language::from_accept_language)
        .unwrap_or_default()
}

async fn list_campaigns(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(
        rollcall::live::public::open_campaigns(&state.db, &state.hub, language(&headers)).await?,
    ))
}

async fn campaign(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
) -> Result<impl IntoResponse, ApiError> {
    rollcall::live::public::campaign_detail(
        &state.db,
        &state.hub,
        &slug,
        language(&headers),
        chrono::Utc::now(),
        &state.public_url,
    )
    .await?
    .map(Json)
    .ok_or(ApiError::NotFound)
}

/// The campaign's address as a QR code for printed flyers: an SVG that prints sharp at
/// any size, cached for a day (the address never changes).
async fn flyer_qr(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let campaign = public_campaign(&state, &slug).await?;
    let url = format!(
        "{}/c/{}",
        state.public_url.trim_end_matches('/'),
        campaign.slug
    );
    let svg =
        rollcall::domain::qr::svg(&url, 600).map_err(|err| ApiError::Unexpected(Box::new(err)))?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        svg,
    ))
}

/// A campaign the public may see (not a draft), or 404.
async fn public_campaign(
    state: &AppState,
    slug: &str,
) -> Result<rollcall::entities::campaign::Model, ApiError> {
    state
        .hub
        .public_campaign(slug)
        .await?
        .ok_or(ApiError::NotFound)
}

#[derive(Debug, Deserialize)]
struct NamesQuery {
    before: Option<String>,
}

/// The signers who chose to show their name, newest first, a page at a time: follow
/// `next` as `?before=`.
async fn signers(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Query(query): Query<NamesQuery>,
) -> Result<Response, ApiError> {
    let campaign = public_campaign(&state, &slug).await?;
    let before = match query.before.as_deref() {
        None | Some("") => None,
        Some(text) => Some(
            rollcall::organizing::names::Cursor::parse(text)
                .ok_or_else(|| ApiError::BadQuery("before is not a value from next".into()))?,
        ),
    };
    let page = rollcall::organizing::names::page(&state.db, &state.hub, &campaign, before).await?;
    Ok((
        [(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=10"),
        )],
        Json(page),
    )
        .into_response())
}

/// The tally from the hub's memory: cacheable for a second, with an ETag, and `304` when
/// the client already has this version.
async fn tally(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let campaign = public_campaign(&state, &slug).await?;
    let gzip = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|accepted| {
            accepted
                .split(',')
                .any(|coding| coding.split(';').next().is_some_and(|c| c.trim() == "gzip"))
        });
    let snapshot = state.hub.snapshot(&campaign, gzip).await?;
    let etag =
        HeaderValue::from_str(&snapshot.etag).map_err(|e| ApiError::Unexpected(Box::new(e)))?;
    let cache = [
        (
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=1"),
        ),
        (header::ETAG, etag),
        (header::VARY, HeaderValue::from_static("accept-encoding")),
    ];
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|tags| {
            // Proxies that compress weaken ETags (`W/"..."`); `*` matches any version.
            tags.split(',')
                .map(|tag| tag.trim().trim_start_matches("W/"))
                .any(|tag| tag == snapshot.etag || tag == "*")
        });
    if matches {
        return Ok((StatusCode::NOT_MODIFIED, cache).into_response());
    }
    let mut response = (
        cache,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        snapshot.body,
    )
        .into_response();
    if snapshot.gzip {
        // Compressed once per version by the hub; the compression layer passes it on.
        response
            .headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    Ok(response)
}

/// Server-sent events: a snapshot on connect, then what changed. Each event's bytes are
/// built once by the hub and shared by every subscriber.
async fn tally_stream(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Response, ApiError> {
    let campaign = public_campaign(&state, &slug).await?;
    let events = state.hub.subscribe(&campaign).await?;
    let body = axum::body::Body::from_stream(futures::StreamExt::map(
        events,
        Ok::<_, std::convert::Infallible>,
    ));
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/event-stream"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        body,
    )
        .into_response())
}

/// `POST /api/v1/campaigns/{slug}/signatures`: the sign form's fields as JSON, from a
/// partner site (`Authorization: Bearer KEY`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignBody {
    given_name: String,
    family_name: String,
    email: String,
    /// Null for a community supporter.
    local_id: Option<i64>,
    #[serde(default)]
    employer: Option<String>,
    #[serde(default)]
    postal_code: Option<String>,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    show_name: bool,
    #[serde(default)]
    lang: Option<String>,
}

impl From<SignBody> for SignatureInput {
    fn from(body: SignBody) -> Self {
        SignatureInput {
            given_name: body.given_name,
            family_name: body.family_name,
            email: body.email,
            local: body
                .local_id
                .map_or_else(|| "community".to_owned(), |id| id.to_string()),
            employer: body.employer.unwrap_or_default(),
            postal_code: body.postal_code.unwrap_or_default(),
            phone: body.phone.unwrap_or_default(),
            show_name: body.show_name,
            lang: body.lang.unwrap_or_default(),
        }
    }
}

async fn sign(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Extension(client): Extension<ClientIp>,
    headers: HeaderMap,
    body: Result<Json<SignBody>, JsonRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let key = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(rollcall::accounts::partners::bearer);
    match key {
        Some(key) if state.partners.accepts(key).await? => {}
        _ => return Err(ApiError::Unauthorized(ApiError::NO_PARTNER_KEY)),
    }
    let Json(body) = body.map_err(ApiError::BadBody)?;
    let mut input = SignatureInput::from(body);
    if input.lang.is_empty() {
        input.lang = language(&headers).code().to_owned();
    }
    let reply_language = Language::parse(&input.lang).unwrap_or_default();
    let blocks = state.blocks.current().await?;
    let ctx = SignContext {
        now: chrono::Utc::now(),
        public_url: &state.public_url,
        ip: Some(client.0),
        confirm_ttl: state.confirm_ttl,
        mail_limits: state.mail_limits,
        blocks: &blocks,
    };
    match rollcall::signing::sign(&state.db, &slug, &input, &ctx).await {
        Ok(effects) => {
            state.bells().apply(effects);
            Ok((StatusCode::ACCEPTED, Json(json!({"status": "pending"}))))
        }
        Err(SignError::Invalid(errors)) => Err(ApiError::Invalid(errors, reply_language)),
        Err(SignError::UnknownCampaign) => Err(ApiError::NotFound),
        Err(SignError::NotOpen) => Err(ApiError::Closed),
        Err(err @ SignError::Unexpected(_)) => Err(ApiError::Unexpected(Box::new(err))),
    }
}
