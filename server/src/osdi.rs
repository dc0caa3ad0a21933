//! `/osdi/v1`: the campaigns and their signers in the Open Supporter Data Interface's
//! shape (OSDI 1.1, HAL+JSON, as Action Network serves it), for a union's data team to
//! sync into their own systems. The same keys and scopes as the CSV export: an
//! organizer's key sees its campaign, an officer's its local; sealed locals never appear.
//! A key goes as `Authorization: Bearer KEY` or as `OSDI-API-Token: KEY`.

use axum::{
    Json, Router,
    extract::{Path, Query, State},
    http::{HeaderMap, HeaderValue, header},
    response::{IntoResponse, Response},
    routing::get,
};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::{export::caller, problem::ApiError};
use app::state::AppState;
use rollcall::{
    domain::{clock::rfc3339, markdown_to_plain, render_markdown},
    organizing::syncing::{self, DEFAULT_PER_PAGE, PageRequest, SignerChange, SyncedCampaign},
};

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/petitions", get(petitions))
        .route("/petitions/{slug}", get(petition))
        .route("/petitions/{slug}/signatures", get(signatures))
        .with_state(state)
}

const ORIGIN: &str = "Rollcall";

#[derive(Debug, Serialize)]
pub struct Link {
    pub href: String,
}

#[derive(Debug, Serialize)]
pub struct Target {
    pub name: String,
}

#[derive(Debug, Serialize)]
pub struct PetitionLinks {
    #[serde(rename = "self")]
    pub this: Link,
    #[serde(rename = "osdi:signatures")]
    pub signatures: Link,
}

/// A campaign as an OSDI petition (a strike pledge is one too: people sign it).
#[derive(Debug, Serialize)]
pub struct Petition {
    pub identifiers: Vec<String>,
    pub origin_system: &'static str,
    pub title: String,
    /// The campaign's text as HTML.
    pub description: String,
    pub summary: String,
    /// The campaign's text as plain text.
    pub petition_text: String,
    pub browser_url: String,
    pub total_signatures: u64,
    pub target: Vec<Target>,
    pub created_date: String,
    pub modified_date: String,
    #[serde(rename = "_links")]
    pub links: PetitionLinks,
}

#[derive(Debug, Serialize)]
pub struct EmailAddress {
    pub address: String,
    pub primary: bool,
    /// `subscribed` only when the signer asked for updates; nobody is assumed to.
    pub status: &'static str,
}

#[derive(Debug, Serialize)]
pub struct PostalAddress {
    pub postal_code: String,
}

#[derive(Debug, Serialize)]
pub struct PhoneNumber {
    pub number: String,
}

/// Ours, beside OSDI's own fields. A removal carries its `status` alone.
#[derive(Debug, Serialize)]
pub struct CustomFields {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub union: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local_id: Option<i64>,
    /// `email`, or `paper` when an officer entered it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verified_by: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text_version: Option<i32>,
    /// `confirmed`, or `withdrawn` or `invalidated`: a sync removes those.
    pub status: &'static str,
}

/// The signer. Once withdrawn or invalidated only the address to match them by is left.
#[derive(Debug, Serialize)]
pub struct OsdiPerson {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    pub email_addresses: Vec<EmailAddress>,
    pub postal_addresses: Vec<PostalAddress>,
    pub phone_numbers: Vec<PhoneNumber>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub employer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferred_language: Option<String>,
    pub custom_fields: CustomFields,
}

#[derive(Debug, Serialize)]
pub struct EmbeddedPerson {
    #[serde(rename = "osdi:person")]
    pub person: OsdiPerson,
}

#[derive(Debug, Serialize)]
pub struct SignatureLinks {
    #[serde(rename = "osdi:petition")]
    pub petition: Link,
}

#[derive(Debug, Serialize)]
pub struct Signature {
    pub identifiers: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_date: Option<String>,
    pub modified_date: String,
    /// When it was confirmed (it counts from then).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action_date: Option<String>,
    #[serde(rename = "_embedded")]
    pub embedded: EmbeddedPerson,
    #[serde(rename = "_links")]
    pub links: SignatureLinks,
}

#[derive(Debug, Serialize)]
pub struct PageLinks {
    #[serde(rename = "self")]
    pub this: Link,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<Link>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<Link>,
}

#[derive(Debug, Serialize)]
pub struct EmbeddedSignatures {
    #[serde(rename = "osdi:signatures")]
    pub signatures: Vec<Signature>,
}

#[derive(Debug, Serialize)]
pub struct SignaturePage {
    pub total_pages: u64,
    pub per_page: u64,
    pub page: u64,
    pub total_records: u64,
    #[serde(rename = "_links")]
    pub links: PageLinks,
    #[serde(rename = "_embedded")]
    pub embedded: EmbeddedSignatures,
}

#[derive(Debug, Serialize)]
pub struct EmbeddedPetitions {
    #[serde(rename = "osdi:petitions")]
    pub petitions: Vec<Petition>,
}

#[derive(Debug, Serialize)]
pub struct PetitionList {
    pub total_records: u64,
    #[serde(rename = "_links")]
    pub links: PageLinks,
    #[serde(rename = "_embedded")]
    pub embedded: EmbeddedPetitions,
}

/// HAL+JSON, never kept by a cache: it names people.
fn hal<T: Serialize>(body: T) -> Response {
    let mut response = Json(body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/hal+json"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn petitions(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = caller(&state, &headers).await?;
    let found = syncing::campaigns_for(&state.db, &caller).await?;
    let base = &state.public_url;
    Ok(hal(PetitionList {
        total_records: found.len() as u64,
        links: PageLinks {
            this: Link {
                href: format!("{base}/osdi/v1/petitions"),
            },
            next: None,
            previous: None,
        },
        embedded: EmbeddedPetitions {
            petitions: found.into_iter().map(|c| petition_of(base, c)).collect(),
        },
    }))
}

async fn petition(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(slug): Path<String>,
) -> Result<Response, ApiError> {
    let caller = caller(&state, &headers).await?;
    let found = syncing::campaign_for(&state.db, &caller, &slug).await?;
    Ok(hal(petition_of(&state.public_url, found)))
}

fn petition_of(base: &str, found: SyncedCampaign) -> Petition {
    let slug = &found.campaign.slug;
    Petition {
        identifiers: vec![format!("rollcall:{slug}")],
        origin_system: ORIGIN,
        title: found.text.title.clone(),
        description: render_markdown(&found.text.body_md),
        summary: found.text.summary.clone(),
        petition_text: markdown_to_plain(&found.text.body_md),
        browser_url: format!("{base}/c/{slug}"),
        total_signatures: found.total_signatures,
        target: vec![Target {
            name: found.campaign.addressee.clone(),
        }],
        created_date: rfc3339(found.campaign.created_at),
        modified_date: rfc3339(found.modified_at),
        links: PetitionLinks {
            this: Link {
                href: format!("{base}/osdi/v1/petitions/{slug}"),
            },
            signatures: Link {
                href: format!("{base}/osdi/v1/petitions/{slug}/signatures"),
            },
        },
    }
}

/// `page`, `per_page` (at most 100) and `filter=modified_date gt 'WHEN'`, as Action
/// Network reads them.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct PageQuery {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_page: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
}

async fn signatures(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Query(query): Query<PageQuery>,
) -> Result<Response, ApiError> {
    let since = query.filter.as_deref().map(modified_since).transpose()?;
    let per_page = query.per_page.unwrap_or(DEFAULT_PER_PAGE);
    let page =
        PageRequest::new(query.page.unwrap_or(1), per_page).ok_or(ApiError::BadQuery(format!(
            "page is 1 to {}, and per_page is 1 to {}",
            syncing::MAX_PAGE,
            syncing::MAX_PER_PAGE
        )))?;
    let caller = caller(&state, &headers).await?;
    let found = syncing::signers(&state.db, &caller, &slug, since, page, Utc::now()).await?;
    let base = &state.public_url;
    let total_pages = found.total_records.div_ceil(page.per_page);
    let href = |number: u64| {
        let query = PageQuery {
            page: Some(number),
            per_page: Some(page.per_page),
            filter: query.filter.clone(),
        };
        Link {
            href: format!(
                "{base}/osdi/v1/petitions/{slug}/signatures?{}",
                serde_urlencoded::to_string(&query).unwrap_or_default()
            ),
        }
    };
    let petition_href = format!("{base}/osdi/v1/petitions/{slug}");
    Ok(hal(SignaturePage {
        total_pages,
        per_page: page.per_page,
        page: page.page,
        total_records: found.total_records,
        links: PageLinks {
            this: href(page.page),
            next: (page.page < total_pages).then(|| href(page.page + 1)),
            previous: (page.page > 1).then(|| href(page.page - 1)),
        },
        embedded: EmbeddedSignatures {
            signatures: found
                .signers
                .into_iter()
                .map(|signer| signature_of(signer, &petition_href))
                .collect(),
        },
    }))
}

fn signature_of(signer: SignerChange, petition_href: &str) -> Signature {
    let email_addresses = vec![EmailAddress {
        address: signer.email,
        primary: true,
        status: "unsubscribed",
    }];
    let status = signer.status.as_str();
    let (person, created_date, action_date) = match signer.signed {
        Some(signed) => (
            OsdiPerson {
                given_name: Some(signed.given_name),
                family_name: Some(signed.family_name),
                email_addresses,
                postal_addresses: signed
                    .postal_code
                    .map(|postal_code| PostalAddress { postal_code })
                    .into_iter()
                    .collect(),
                phone_numbers: signed
                    .phone
                    .map(|number| PhoneNumber { number })
                    .into_iter()
                    .collect(),
                employer: signed.employer,
                preferred_language: Some(signed.language),
                custom_fields: CustomFields {
                    union: Some(signed.union),
                    local: Some(signed.local),
                    local_id: signed.local_id,
                    verified_by: Some(signed.verified_by),
                    text_version: signed.text_version,
                    status,
                },
            },
            Some(rfc3339(signed.signed_at)),
            Some(rfc3339(signed.confirmed_at.unwrap_or(signed.signed_at))),
        ),
        // A removal: the address to match them by, and that they are gone.
        None => (
            OsdiPerson {
                given_name: None,
                family_name: None,
                email_addresses,
                postal_addresses: Vec::new(),
                phone_numbers: Vec::new(),
                employer: None,
                preferred_language: None,
                custom_fields: CustomFields {
                    union: None,
                    local: None,
                    local_id: None,
                    verified_by: None,
                    text_version: None,
                    status,
                },
            },
            None,
            None,
        ),
    };
    Signature {
        identifiers: vec![format!("rollcall:{}", signer.id)],
        created_date,
        modified_date: rfc3339(signer.modified_at),
        action_date,
        embedded: EmbeddedPerson { person },
        links: SignatureLinks {
            petition: Link {
                href: petition_href.to_owned(),
            },
        },
    }
}

/// `modified_date gt '2026-12-01T00:00:00Z'` (or a date alone, from its midnight UTC).
fn modified_since(filter: &str) -> Result<DateTime<Utc>, ApiError> {
    let bad = || {
        ApiError::BadQuery(
            "filter is modified_date gt 'WHEN', WHEN an RFC 3339 time or a date".into(),
        )
    };
    let mut words = filter.split_whitespace();
    let (Some("modified_date"), Some("gt")) = (words.next(), words.next()) else {
        return Err(bad());
    };
    let value = words.collect::<Vec<_>>().join(" ");
    let value = value
        .strip_prefix('\'')
        .and_then(|v| v.strip_suffix('\''))
        .ok_or_else(bad)?;
    if let Ok(at) = DateTime::parse_from_rfc3339(value) {
        return Ok(at.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .map(|day| day.and_time(chrono::NaiveTime::MIN).and_utc())
        .map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_modified_date_filter_reads_as_action_network_writes_it() {
        assert_eq!(
            modified_since("modified_date gt '2026-12-01T10:00:00Z'").unwrap(),
            "2026-12-01T10:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        assert_eq!(
            modified_since("modified_date gt '2026-12-01'").unwrap(),
            "2026-12-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        assert!(modified_since("modified_date lt '2026-12-01'").is_err());
        assert!(modified_since("created_date gt '2026-12-01'").is_err());
        assert!(modified_since("modified_date gt 2026-12-01").is_err());
    }
}
