//! Syncing a campaign's signers into another system, a page at a time (the OSDI read API
//! serves it): the confirmed signers the caller may see. `since` asks only for what
//! changed after a moment, and then those who withdrew or were invalidated after it
//! (having confirmed) come too, as removals with the address alone, so a sync can take
//! them off; a full walk never names them. Sealed locals do not appear at all, and every
//! page read is audited as an export is.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde_json::json;
use uuid::Uuid;

use super::exporting::ExportError;
use crate::{
    accounts::access::{Caller, SignerScope, signer_scope},
    audit::audit_entry,
    domain::SignatureStatus,
    entities::{campaign, campaign_text, signature},
    store::campaigns,
    store::tally::Directory,
};

/// The most signers on one page.
pub const MAX_PER_PAGE: u64 = 100;
/// Signers on a page when the caller does not say.
pub const DEFAULT_PER_PAGE: u64 = 25;

/// The last page a caller may ask for (a billion signers at the largest page size).
pub const MAX_PAGE: u64 = 10_000_000;

/// Which page, of how many signers (1 to [`MAX_PER_PAGE`]); pages count from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub page: u64,
    pub per_page: u64,
}

impl PageRequest {
    /// `None` for page 0 or a page size out of range.
    pub fn new(page: u64, per_page: u64) -> Option<Self> {
        ((1..=MAX_PAGE).contains(&page) && (1..=MAX_PER_PAGE).contains(&per_page))
            .then_some(Self { page, per_page })
    }
}

/// A signer as a sync sees them. `signed` is `None` for a removal (withdrawn or
/// invalidated): the change says so, and only the address to match them by goes with it.
#[derive(Debug, Clone, PartialEq)]
pub struct SignerChange {
    pub id: Uuid,
    pub status: SignatureStatus,
    pub email: String,
    /// The latest of signing, confirming, withdrawing, invalidating and verifying.
    pub modified_at: DateTime<Utc>,
    pub signed: Option<Signed>,
}

/// What a confirmed signer told us, and where they signed.
#[derive(Debug, Clone, PartialEq)]
pub struct Signed {
    pub given_name: String,
    pub family_name: String,
    pub postal_code: Option<String>,
    pub phone: Option<String>,
    pub employer: Option<String>,
    pub language: String,
    pub union: String,
    pub local: String,
    pub local_id: Option<i64>,
    /// `email`, or `paper` when an officer entered it.
    pub verified_by: &'static str,
    pub text_version: Option<i32>,
    pub signed_at: DateTime<Utc>,
    pub confirmed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SignerPage {
    pub total_records: u64,
    pub signers: Vec<SignerChange>,
}

/// A campaign as a sync lists it, for a caller who may see some of its signers.
#[derive(Debug, Clone)]
pub struct SyncedCampaign {
    pub campaign: campaign::Model,
    pub text: campaign_text::Model,
    /// Confirmed signatures in all (the public total).
    pub total_signatures: u64,
    /// When its newest text was written, or it opened or ended, whichever is latest.
    pub modified_at: DateTime<Utc>,
}

/// The campaigns out of draft whose signers the caller may see some of, oldest first.
pub async fn campaigns_for(
    db: &DatabaseConnection,
    caller: &Caller,
) -> Result<Vec<SyncedCampaign>, ExportError> {
    let mut found = Vec::new();
    let all = campaign::Entity::find()
        .order_by_asc(campaign::Column::Id)
        .all(db)
        .await?;
    for campaign in all {
        if campaign.status == crate::domain::CampaignStatus::Draft {
            continue;
        }
        let directory = campaigns::directory(db, &campaign).await?;
        if signer_scope(caller, &campaign, &directory).is_some() {
            found.push(described(db, campaign).await?);
        }
    }
    Ok(found)
}

/// One campaign, if the caller may see some of its signers.
pub async fn campaign_for(
    db: &DatabaseConnection,
    caller: &Caller,
    slug: &str,
) -> Result<SyncedCampaign, ExportError> {
    let campaign = campaigns::by_slug(db, slug)
        .await?
        .filter(|c| c.status != crate::domain::CampaignStatus::Draft)
        .ok_or(ExportError::UnknownCampaign)?;
    let directory = campaigns::directory(db, &campaign).await?;
    signer_scope(caller, &campaign, &directory).ok_or(ExportError::Forbidden)?;
    described(db, campaign).await
}

async fn described(
    db: &DatabaseConnection,
    campaign: campaign::Model,
) -> Result<SyncedCampaign, ExportError> {
    let language = crate::domain::Language::parse(&campaign.default_language).unwrap_or_default();
    let text = campaigns::current_text(db, &campaign, language)
        .await?
        .ok_or(ExportError::UnknownCampaign)?;
    let total_signatures = crate::store::tally::counts(db, campaign.id).await?.total();
    let modified_at = [Some(text.created_at), campaign.opens_at, campaign.ended_at]
        .into_iter()
        .flatten()
        .fold(campaign.created_at, DateTime::max);
    Ok(SyncedCampaign {
        campaign,
        text,
        total_signatures,
        modified_at,
    })
}

/// A page of `slug`'s signers for `caller`, changed after `since` if given, oldest first.
pub async fn signers(
    db: &DatabaseConnection,
    caller: &Caller,
    slug: &str,
    since: Option<DateTime<Utc>>,
    page: PageRequest,
    now: DateTime<Utc>,
) -> Result<SignerPage, ExportError> {
    let campaign = campaigns::by_slug(db, slug)
        .await?
        .filter(|c| c.status != crate::domain::CampaignStatus::Draft)
        .ok_or(ExportError::UnknownCampaign)?;
    let directory = campaigns::directory(db, &campaign).await?;
    let scope = signer_scope(caller, &campaign, &directory).ok_or(ExportError::Forbidden)?;
    let confirmed = signature::Column::Status.eq(SignatureStatus::Confirmed);
    let wanted = match since {
        None => Condition::all().add(confirmed),
        // What changed: confirmed signers signed, confirmed or verified since, and those
        // who had confirmed and were taken off since.
        Some(since) => Condition::any()
            .add(
                Condition::all().add(confirmed).add(
                    Condition::any()
                        .add(signature::Column::CreatedAt.gt(since))
                        .add(signature::Column::ConfirmedAt.gt(since))
                        .add(signature::Column::VerifiedAt.gt(since)),
                ),
            )
            .add(
                Condition::all()
                    .add(signature::Column::Status.eq(SignatureStatus::Withdrawn))
                    .add(signature::Column::WithdrawnAt.gt(since)),
            )
            .add(
                Condition::all()
                    .add(signature::Column::Status.eq(SignatureStatus::Invalidated))
                    .add(signature::Column::InvalidatedAt.gt(since)),
            ),
    };
    let mut query = signature::Entity::find()
        .filter(signature::Column::CampaignId.eq(campaign.id))
        // Confirmed once: a pending row is only an address someone typed.
        .filter(signature::Column::ConfirmedAt.is_not_null())
        .filter(wanted);
    if let SignerScope::Locals(locals) = &scope {
        query = query.filter(signature::Column::LocalId.is_in(locals.iter().copied()));
    }
    // A sealed pledge names nobody in a local that has not reached its threshold.
    if let Some(open) = crate::pledges::unsealed_locals(&campaign, &directory) {
        query = query.filter(signature::Column::LocalId.is_in(open));
    }
    let total_records = query.clone().count(db).await?;
    let rows = query
        .order_by_asc(signature::Column::Id)
        .offset((page.page - 1) * page.per_page)
        .limit(page.per_page)
        .all(db)
        .await?;
    audit_entry(
        db,
        &caller.label(),
        "sync",
        json!({
            "campaign": campaign.slug,
            "since": since,
            "page": page.page,
            "per_page": page.per_page,
            "rows": rows.len(),
            "scope": match &scope {
                SignerScope::Everyone => json!("everyone"),
                SignerScope::Locals(locals) => json!(locals),
            },
        }),
        now,
    )
    .await?;
    let versions = versions(db, &rows).await?;
    let signers = rows
        .into_iter()
        .map(|row| change(row, &directory, &versions))
        .collect();
    Ok(SignerPage {
        total_records,
        signers,
    })
}

async fn versions(
    db: &DatabaseConnection,
    rows: &[signature::Model],
) -> Result<HashMap<i64, i32>, ExportError> {
    let ids: BTreeSet<i64> = rows.iter().map(|row| row.text_id).collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(campaign_text::Entity::find()
        .filter(campaign_text::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|text| (text.id, text.version))
        .collect())
}

fn change(
    row: signature::Model,
    directory: &Directory,
    versions: &HashMap<i64, i32>,
) -> SignerChange {
    let local = row.local_id.and_then(|id| directory.locals.get(&id));
    let modified_at = [
        row.confirmed_at,
        row.withdrawn_at,
        row.invalidated_at,
        row.verified_at,
    ]
    .into_iter()
    .flatten()
    .fold(row.created_at, DateTime::max);
    let signed = (row.status == SignatureStatus::Confirmed).then(|| Signed {
        given_name: row.given_name,
        family_name: row.family_name,
        postal_code: row.postal_code,
        phone: row.phone,
        employer: row.employer,
        language: row.language,
        union: local.map_or_else(String::new, |l| l.union_short_name.clone()),
        local: local.map_or_else(|| "Community supporter".to_owned(), |l| l.name.clone()),
        local_id: row.local_id,
        verified_by: if row.attested_by.is_some() {
            "paper"
        } else {
            "email"
        },
        text_version: versions.get(&row.text_id).copied(),
        signed_at: row.created_at,
        confirmed_at: row.confirmed_at,
    });
    SignerChange {
        id: row.id,
        status: row.status,
        email: row.email,
        modified_at,
        signed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_is_one_or_more_and_at_most_a_hundred_signers() {
        assert_eq!(
            PageRequest::new(1, 25),
            Some(PageRequest {
                page: 1,
                per_page: 25
            })
        );
        assert!(PageRequest::new(0, 25).is_none());
        assert!(PageRequest::new(1, 0).is_none());
        assert!(PageRequest::new(1, MAX_PER_PAGE + 1).is_none());
        assert!(
            PageRequest::new(MAX_PAGE + 1, 1).is_none(),
            "an offset too far to ask"
        );
        assert!(PageRequest::new(MAX_PAGE, MAX_PER_PAGE).is_some());
    }
}
