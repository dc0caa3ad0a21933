//! `GET /api/v1/campaigns/{slug}/signatures.csv`: a campaign's confirmed signers as
//! CSV, for a signed-in organizer or officer who gave their second factor, or for a
//! program with an API key (`Authorization: Bearer KEY`). What the caller may see is
//! decided by `rollcall::access`; this handler only finds out who is asking.

use app::state::{AppState, session_token};
use axum::{
    Json, Router,
    body::Body,
    extract::{Path, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use chrono::{DateTime, NaiveDate, Utc};
use rollcall::{
    access::{self, Caller},
    exporting::{self, ExportError, Filter, Preset, VerifiedBy},
};
use serde_json::json;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/campaigns/{slug}/signatures.csv", get(export_csv))
        .with_state(state)
}

/// Why an export was refused, with a message a person can act on.
#[derive(Debug)]
pub enum Refusal {
    /// Nobody we know: no key, no session, or a session without its second factor.
    Unauthorized(&'static str),
    Forbidden,
    NotFound,
    BadQuery(String),
    Unexpected(sea_orm::DbErr),
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let (status, error, message) = match self {
            Refusal::Unauthorized(message) => {
                let body = json!({"error": "unauthorized", "message": message});
                return (
                    StatusCode::UNAUTHORIZED,
                    [(header::WWW_AUTHENTICATE, "Bearer realm=\"rollcall\"")],
                    Json(body),
                )
                    .into_response();
            }
            Refusal::Forbidden => (
                StatusCode::FORBIDDEN,
                "forbidden",
                "your role does not cover these signers".to_owned(),
            ),
            Refusal::NotFound => (
                StatusCode::NOT_FOUND,
                "not_found",
                "no campaign with that slug".to_owned(),
            ),
            Refusal::BadQuery(message) => (StatusCode::BAD_REQUEST, "bad_request", message),
            Refusal::Unexpected(err) => {
                tracing::error!(error = ?err, "an export failed to start");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "unexpected",
                    "something went wrong on our side".to_owned(),
                )
            }
        };
        (status, Json(json!({"error": error, "message": message}))).into_response()
    }
}

impl From<sea_orm::DbErr> for Refusal {
    fn from(err: sea_orm::DbErr) -> Self {
        Refusal::Unexpected(err)
    }
}

/// Who is asking: an API key if one is sent, else the session cookie.
pub async fn caller(state: &AppState, headers: &HeaderMap) -> Result<Caller, Refusal> {
    let now = Utc::now();
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let key = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(Refusal::Unauthorized(
                "send the API key as Authorization: Bearer KEY",
            ))?;
        return access::key_caller(&state.db, key.trim())
            .await?
            .ok_or(Refusal::Unauthorized(
                "that API key is not valid, or was revoked",
            ));
    }
    let token = session_token(headers).ok_or(Refusal::Unauthorized(
        "sign in, or send an API key as Authorization: Bearer KEY",
    ))?;
    let user = rollcall::accounts::session(&state.db, &token, now)
        .await?
        .ok_or(Refusal::Unauthorized(
            "your session has ended; sign in again",
        ))?;
    if !user.second_factor {
        return Err(Refusal::Unauthorized(
            "finish signing in with the code from your authenticator app",
        ));
    }
    Ok(Caller::User(user))
}

/// The filters and preset from the query string; an unknown or malformed one is refused
/// rather than ignored, so nobody gets more rows than they asked for.
fn parse_query(pairs: &[(String, String)]) -> Result<(Filter, Preset), Refusal> {
    let mut filter = Filter::default();
    let mut preset = Preset::Full;
    for (key, value) in pairs {
        let value = value.trim();
        match key.as_str() {
            "union" => filter.union = Some(value.to_owned()),
            "local" if value == "community" => filter.supporters_only = true,
            "local" => {
                filter.local = Some(value.parse().map_err(|_| {
                    Refusal::BadQuery("local is a local's id, or `community`".into())
                })?);
            }
            "status" => {
                filter.verified_by = match value {
                    "confirmed" => None,
                    "email" => Some(VerifiedBy::Email),
                    "paper" => Some(VerifiedBy::Paper),
                    _ => {
                        return Err(Refusal::BadQuery(
                            "only confirmed signatures are exported: status is `confirmed`, \
                             `email` (confirmed by mail) or `paper` (entered by an officer)"
                                .into(),
                        ));
                    }
                };
            }
            "since" => filter.since = Some(time(value)?),
            "until" => filter.until = Some(time(value)?),
            "preset" => {
                preset = Preset::parse(value)
                    .ok_or_else(|| Refusal::BadQuery("preset is `full` or `organizing`".into()))?;
            }
            other => {
                return Err(Refusal::BadQuery(format!(
                    "unknown filter {other:?}; use union, local, status, since, until or preset"
                )));
            }
        }
    }
    Ok((filter, preset))
}

/// An RFC 3339 time, or a date (its midnight UTC).
fn time(value: &str) -> Result<DateTime<Utc>, Refusal> {
    DateTime::parse_from_rfc3339(value)
        .map(|t| t.with_timezone(&Utc))
        .or_else(|_| {
            NaiveDate::parse_from_str(value, "%Y-%m-%d")
                .map(|d| d.and_time(chrono::NaiveTime::MIN).and_utc())
        })
        .map_err(|_| {
            Refusal::BadQuery(format!(
                "{value:?} is not a date (YYYY-MM-DD) or an RFC 3339 time"
            ))
        })
}

async fn export_csv(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Result<Response, Refusal> {
    let caller = caller(&state, &headers).await?;
    let (filter, preset) = parse_query(&pairs)?;
    let export = exporting::export(
        &state.db,
        &state.export_db,
        &caller,
        &slug,
        &filter,
        preset,
        Utc::now(),
    )
    .await
    .map_err(|err| match err {
        ExportError::UnknownCampaign => Refusal::NotFound,
        ExportError::Forbidden => Refusal::Forbidden,
        ExportError::UnknownUnion(slug) => {
            Refusal::BadQuery(format!("no sponsoring union {slug:?}"))
        }
        ExportError::Db(err) => Refusal::Unexpected(err),
    })?;
    let disposition = format!("attachment; filename=\"{}\"", export.file_name);
    // A stream that may be polled again after its end (the compression layer does).
    let mut chunks = export.body;
    let body = Body::from_stream(futures::stream::poll_fn(move |cx| chunks.poll_recv(cx)));
    let mut response = (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        body,
    )
        .into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert("x-rollcall-rows", HeaderValue::from(export.rows));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(query: &str) -> Vec<(String, String)> {
        query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    #[test]
    fn filters_are_read_and_unknown_ones_refused() {
        let (filter, preset) = parse_query(&pairs(
            "union=utw&local=7&since=2026-11-01&preset=organizing",
        ))
        .unwrap();
        assert_eq!(filter.union.as_deref(), Some("utw"));
        assert_eq!(filter.local, Some(7));
        assert_eq!(
            filter.since.unwrap().to_rfc3339(),
            "2026-11-01T00:00:00+00:00"
        );
        assert_eq!(preset, Preset::Organizing);
        assert!(matches!(
            parse_query(&pairs("status=pending")),
            Err(Refusal::BadQuery(_))
        ));
        assert!(matches!(
            parse_query(&pairs("email=x")),
            Err(Refusal::BadQuery(_))
        ));
        assert!(
            parse_query(&pairs("local=community"))
                .unwrap()
                .0
                .supporters_only
        );
    }
}
