//! Every refusal under `/api/v1` (the handlers', the export's and the guard's) as one
//! type with one JSON shape: `{"error": CODE, "message": TEXT}`, plus `fields` for an
//! invalid body and `retry_after` (seconds, also as `Retry-After`) when waiting helps.

use axum::{
    Json,
    extract::rejection::JsonRejection,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use rollcall::domain::{FieldErrors, Language};
use serde::Serialize;

#[derive(Debug)]
pub enum ApiError {
    /// The body's fields, each with its problem in the asker's language.
    Invalid(FieldErrors, Language),
    /// Not JSON, too large, or malformed.
    BadBody(JsonRejection),
    BadQuery(String),
    NotFound,
    /// The campaign takes no signatures now.
    Closed,
    /// Nobody we know: no key, no session, or a session without its second factor.
    Unauthorized(&'static str),
    /// Someone we know whose role does not cover these signers.
    Forbidden,
    /// Over a per-address limit.
    RateLimited {
        seconds: u64,
    },
    /// This address holds as many live streams as it may.
    TooManyStreams {
        seconds: u64,
    },
    Unexpected(Box<dyn std::error::Error + Send + Sync>),
}

impl ApiError {
    /// The JSON sign API without a live partner key.
    pub const NO_PARTNER_KEY: &'static str = "signing through the API is for partner sites: send Authorization: Bearer KEY with a partner key (rollcall api-key create --role partner); people sign on the campaign's page";
}

#[derive(Serialize)]
struct FieldMessage {
    field: &'static str,
    problem: rollcall::domain::FieldProblem,
    message: String,
}

#[derive(Serialize)]
struct Body {
    error: &'static str,
    message: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    fields: Vec<FieldMessage>,
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_after: Option<u64>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut fields = Vec::new();
        let mut retry_after = None;
        let (status, error, message) = match self {
            ApiError::Invalid(errors, language) => {
                fields = errors
                    .iter()
                    .map(|e| FieldMessage {
                        field: e.field.name(),
                        problem: e.problem,
                        message: e.problem.message(e.field, language),
                    })
                    .collect();
                let message = "some fields need another look".to_owned();
                (StatusCode::UNPROCESSABLE_ENTITY, "invalid", message)
            }
            ApiError::BadBody(rejection) => {
                let message = match &rejection {
                    JsonRejection::MissingJsonContentType(_) => {
                        "send the body as JSON, with Content-Type: application/json".to_owned()
                    }
                    JsonRejection::BytesRejection(_) => "the body is too large".to_owned(),
                    _ => rejection.body_text(),
                };
                (rejection.status(), "bad_request", message)
            }
            ApiError::BadQuery(message) => (StatusCode::BAD_REQUEST, "bad_request", message),
            ApiError::NotFound => (
                StatusCode::NOT_FOUND,
                "not_found",
                "no campaign with that slug".to_owned(),
            ),
            ApiError::Closed => (
                StatusCode::CONFLICT,
                "closed",
                "the campaign is not taking signatures".to_owned(),
            ),
            ApiError::Unauthorized(message) => {
                (StatusCode::UNAUTHORIZED, "unauthorized", message.to_owned())
            }
            ApiError::Forbidden => (
                StatusCode::FORBIDDEN,
                "forbidden",
                "your role does not cover these signers".to_owned(),
            ),
            ApiError::RateLimited { seconds } => {
                retry_after = Some(seconds);
                let message =
                    format!("too many requests from this address; try again in {seconds} s");
                (StatusCode::TOO_MANY_REQUESTS, "rate_limited", message)
            }
            ApiError::TooManyStreams { seconds } => {
                retry_after = Some(seconds);
                let message = format!(
                    "this address already follows the count on as many streams as it may; \
                     try again in {seconds} s"
                );
                (StatusCode::TOO_MANY_REQUESTS, "too_many_streams", message)
            }
            ApiError::Unexpected(err) => {
                tracing::error!(error = ?err, "an API request failed");
                let message = "something went wrong on our side".to_owned();
                (StatusCode::INTERNAL_SERVER_ERROR, "unexpected", message)
            }
        };
        let unauthorized = status == StatusCode::UNAUTHORIZED;
        let body = Json(Body {
            error,
            message,
            fields,
            retry_after,
        });
        let mut response = (status, body).into_response();
        if unauthorized {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(err: sea_orm::DbErr) -> Self {
        ApiError::Unexpected(Box::new(err))
    }
}
