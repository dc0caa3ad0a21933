//! `GET /api/v1/campaigns/{slug}/signatures.csv`: a campaign's confirmed signers as
//! CSV, for a signed-in organizer or officer who gave their second factor, or for a
//! program with an API key (`Authorization: Bearer KEY`). What the caller may see is
//! decided by `rollcall::accounts::access`; this handler only finds out who is asking.

use crate::problem::ApiError;
use app::state::{AppState, session_token};
use axum::{
    Router,
    body::Body,
    extract::{Path, Query, State},
    http::{HeaderMap, HeaderValue, header},
    response::{IntoResponse, Response},
    routing::get,
};
use chrono::{DateTime, NaiveDate, Utc};
use rollcall::{
    accounts::access::{self, Caller},
    organizing::exporting::{self, ExportError, Filter, Preset, VerifiedBy},
};

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/campaigns/{slug}/signatures.csv", get(export_csv))
        .with_state(state)
}

impl From<ExportError> for ApiError {
    fn from(err: ExportError) -> Self {
        match err {
            ExportError::UnknownCampaign => ApiError::NotFound,
            ExportError::Forbidden => ApiError::Forbidden,
            ExportError::UnknownUnion(slug) => {
                ApiError::BadQuery(format!("no sponsoring union {slug:?}"))
            }
            ExportError::Db(err) => ApiError::Unexpected(Box::new(err)),
        }
    }
}

/// Who is asking: an API key if one is sent (`Authorization: Bearer KEY`, or the
/// `OSDI-API-Token` header Action Network's clients send), else the session cookie.
pub async fn caller(state: &AppState, headers: &HeaderMap) -> Result<Caller, ApiError> {
    let now = Utc::now();
    if let Some(value) = headers.get("osdi-api-token") {
        let key = value
            .to_str()
            .map_err(|_| ApiError::Unauthorized("that API key is not valid, or was revoked"))?;
        return access::key_caller(&state.db, key.trim())
            .await?
            .ok_or(ApiError::Unauthorized(
                "that API key is not valid, or was revoked",
            ));
    }
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let key = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(ApiError::Unauthorized(
                "send the API key as Authorization: Bearer KEY",
            ))?;
        return access::key_caller(&state.db, key.trim())
            .await?
            .ok_or(ApiError::Unauthorized(
                "that API key is not valid, or was revoked",
            ));
    }
    let token = session_token(headers).ok_or(ApiError::Unauthorized(
        "sign in, or send an API key as Authorization: Bearer KEY",
    ))?;
    let user = rollcall::accounts::session(&state.db, &token, now)
        .await?
        .ok_or(ApiError::Unauthorized(
            "your session has ended; sign in again",
        ))?;
    if !user.second_factor {
        return Err(ApiError::Unauthorized(
            "finish signing in with the code from your authenticator app",
        ));
    }
    Ok(Caller::User(user))
}

/// The filters and preset from the query string; an unknown or malformed one is refused
/// rather than ignored, so nobody gets more rows than they asked for.
fn parse_query(pairs: &[(String, String)]) -> Result<(Filter, Preset), ApiError> {
    let mut filter = Filter::default();
    let mut preset = Preset::Full;
    for (key, value) in pairs {
        let value = value.trim();
        match key.as_str() {
            "union" => filter.union = Some(value.to_owned()),
            "local" if value == "community" => filter.supporters_only = true,
            "local" => {
                filter.local = Some(value.parse().map_err(|_| {
                    ApiError::BadQuery("local is a local's id, or `community`".into())
                })?);
            }
            "status" => {
                filter.verified_by = match value {
                    "confirmed" => None,
                    "email" => Some(VerifiedBy::Email),
                    "paper" => Some(VerifiedBy::Paper),
                    _ => {
                        return Err(ApiError::BadQuery(
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
                preset = Preset::parse(value).ok_or_else(|| {
                    ApiError::BadQuery("preset is `full`, `organizing` or `action_network`".into())
                })?;
            }
            other => {
                return Err(ApiError::BadQuery(format!(
                    "unknown filter {other:?}; use union, local, status, since, until or preset"
                )));
            }
        }
    }
    Ok((filter, preset))
}

/// An RFC 3339 time, or a date (its midnight UTC).
fn time(value: &str) -> Result<DateTime<Utc>, ApiError> {
    DateTime::parse_from_rfc3339(value)
        .map(|t| t.with_timezone(&Utc))
        .or_else(|_| {
            NaiveDate::parse_from_str(value, "%Y-%m-%d")
                .map(|d| d.and_time(chrono::NaiveTime::MIN).and_utc())
        })
        .map_err(|_| {
            ApiError::BadQuery(format!(
                "{value:?} is not a date (YYYY-MM-DD) or an RFC 3339 time"
            ))
        })
}

async fn export_csv(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
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
    .await?;
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
            Err(ApiError::BadQuery(_))
        ));
        assert!(matches!(
            parse_query(&pairs("email=x")),
            Err(ApiError::BadQuery(_))
        ));
        assert!(
            parse_query(&pairs("local=community"))
                .unwrap()
                .0
                .supporters_only
        );
    }
}
