//! Paper sign-up sheets: an officer enters the signatures their local collected on
//! paper, one by one or as a CSV (docs/formats.md). Each is recorded as confirmed on
//! the officer's word (`attested_by`), counted in the tally like an emailed one, and
//! shown and exported apart from them.
//!
//! A sheet is all or nothing: if any line has a problem, nothing is written and every
//! problem is reported by line. A line whose email already signed is skipped and
//! reported, never counted twice.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use crate::{
    access::{self, Caller},
    accounts::audit_entry,
    campaigns, db,
    domain::{FieldErrors, Language, PaperInput, PaperSignature, SignatureStatus},
    entities::signature,
    tally,
};

/// The most lines one sheet may have.
pub const MAX_LINES: usize = 5_000;

#[derive(Debug, thiserror::Error)]
pub enum PaperError {
    #[error("no campaign with that slug")]
    UnknownCampaign,
    #[error("only the local's officers and admins enter its paper sheets")]
    Forbidden,
    #[error("this local does not sign this campaign")]
    NotSigning,
    #[error("this campaign is not taking signatures")]
    Closed,
    #[error("the sheet could not be read: {0}")]
    Unreadable(String),
    #[error("the sheet has more than {MAX_LINES} lines")]
    TooLong,
    #[error("some lines need attention")]
    Invalid(Vec<(usize, FieldErrors)>),
    #[error(transparent)]
    Db(#[from] DbErr),
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Entered {
    pub campaign_id: i64,
    pub entered: u64,
    /// Lines (counted from 1) whose email had already signed.
    pub already_signed: Vec<usize>,
}

/// Reads a sheet's CSV: a header line naming the columns of [`PaperInput`].
pub fn read_sheet(text: &str) -> Result<Vec<PaperInput>, PaperError> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut lines = Vec::new();
    for record in reader.deserialize::<PaperInput>() {
        if lines.len() == MAX_LINES {
            return Err(PaperError::TooLong);
        }
        lines.push(record.map_err(|err| PaperError::Unreadable(err.to_string()))?);
    }
    Ok(lines)
}

/// Enters a sheet's lines for `local_id` on the campaign `slug`, in one transaction.
pub async fn enter(
    db: &DatabaseConnection,
    caller: &Caller,
    slug: &str,
    local_id: i64,
    lines: &[PaperInput],
    now: DateTime<Utc>,
) -> Result<Entered, PaperError> {
    if !access::keeps_local(caller, local_id) {
        return Err(PaperError::Forbidden);
    }
    let campaign = campaigns::by_slug(db, slug)
        .await?
        .ok_or(PaperError::UnknownCampaign)?;
    if !campaigns::local_can_sign(db, campaign.id, local_id).await? {
        return Err(PaperError::NotSigning);
    }
    if !campaigns::accepts_confirmations(&campaign, now) {
        return Err(PaperError::Closed);
    }
    if lines.len() > MAX_LINES {
        return Err(PaperError::TooLong);
    }
    let mut parsed = Vec::with_capacity(lines.len());
    let mut problems = Vec::new();
    for (number, line) in lines.iter().enumerate() {
        match PaperSignature::parse(line) {
            Ok(signature) => parsed.push(signature),
            Err(errors) => problems.push((number + 1, errors)),
        }
    }
    if !problems.is_empty() {
        return Err(PaperError::Invalid(problems));
    }
    let language = Language::parse(&campaign.default_language).unwrap_or_default();
    let text = campaigns::current_text(db, &campaign, language)
        .await?
        .ok_or(PaperError::UnknownCampaign)?;
    let attested_by = caller.label();
    let mut entered = Entered {
        campaign_id: campaign.id,
        ..Entered::default()
    };
    let txn = db::begin_write(db).await?;
    for (number, line) in parsed.iter().enumerate() {
        let id = Uuid::now_v7();
        // Without an email, a line is its own signer.
        let (email, canonical) = match &line.email {
            Some(email) => (
                email.as_str().to_owned(),
                email.canonical().as_str().to_owned(),
            ),
            None => (String::new(), format!("paper:{id}")),
        };
        let exists = signature::Entity::find()
            .filter(signature::Column::CampaignId.eq(campaign.id))
            .filter(signature::Column::CanonicalEmail.eq(canonical.as_str()))
            .one(&txn)
            .await?
            .is_some();
        if exists {
            entered.already_signed.push(number + 1);
            continue;
        }
        signature::Entity::insert(signature::ActiveModel {
            id: Set(id),
            campaign_id: Set(campaign.id),
            local_id: Set(Some(local_id)),
            given_name: Set(line.given_name.as_str().to_owned()),
            family_name: Set(line.family_name.as_str().to_owned()),
            email: Set(email),
            canonical_email: Set(canonical),
            employer: Set(line.employer.as_ref().map(|e| e.as_str().to_owned())),
            postal_code: Set(line.postal_code.as_ref().map(|p| p.as_str().to_owned())),
            phone: Set(line.phone.as_ref().map(|p| p.as_str().to_owned())),
            language: Set(campaign.default_language.clone()),
            text_id: Set(text.id),
            show_name: Set(false),
            status: Set(SignatureStatus::Confirmed.as_str().to_owned()),
            confirm_token_hash: Set(None),
            confirm_expires_at: Set(None),
            withdraw_token_hash: Set(None),
            created_at: Set(now),
            confirmed_at: Set(Some(now)),
            withdrawn_at: Set(None),
            invalidated_at: Set(None),
            ip: Set(None),
            attested_by: Set(Some(attested_by.clone())),
            // The officer who collected the sheet vouches for the signer's membership.
            verification: Set(Some(crate::pledges::VERIFIED.to_owned())),
            verified_by: Set(Some(attested_by.clone())),
            verified_at: Set(Some(now)),
        })
        .exec_without_returning(&txn)
        .await?;
        tally::add(&txn, campaign.id, Some(local_id), id, 1).await?;
        entered.entered += 1;
    }
    crate::pledges::check_local(&txn, &campaign, local_id, now).await?;
    audit_entry(
        &txn,
        &attested_by,
        "paper.enter",
        json!({
            "campaign": campaign.slug,
            "local": local_id,
            "entered": entered.entered,
            "already_signed": entered.already_signed.len(),
        }),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(entered)
}
