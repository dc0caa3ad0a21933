//! Paper sign-up sheets: an officer enters the signatures their local collected on
//! paper, one by one or as a CSV (docs/formats.md). Each is recorded as confirmed on
//! the officer's word (`attested_by`), counted in the tally like an emailed one, and
//! shown and exported apart from them.
//!
//! A sheet is all or nothing: if any line has a problem, nothing is written and every
//! problem is reported by line.
//!
//! The answer never says whether an address had signed: an officer could otherwise test
//! any address against the whole campaign, sealed pledges included. A line whose address
//! already signed is entered and counted like a fresh one, goes to the campaign's review
//! list (`collisions`), which only its organizers see, and the address's owner is told
//! by mail.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use crate::{
    accounts::access::{self, Caller},
    audit::audit_entry,
    domain::{CampaignId, LocalId},
    domain::{FieldErrors, Language, PaperInput, PaperSignature, SignatureStatus},
    entities::{paper_collision, signature},
    live::effects::Effects,
    mail::{self, MailLimits},
    store::campaigns,
    store::db,
    store::tally,
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
    /// Not CSV with the expected header (near this line, when known).
    #[error("the sheet could not be read (line {line:?})")]
    Unreadable { line: Option<u64> },
    #[error("the sheet has more than {MAX_LINES} lines")]
    TooLong,
    #[error("some lines need attention")]
    Invalid(Vec<(usize, FieldErrors)>),
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// What entering a sheet did: only how many lines were received and counted, the same
/// whoever the addresses belong to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Entered {
    pub campaign_id: i64,
    pub local_id: i64,
    pub entered: u64,
}

impl Entered {
    /// The lines counted, the pledge judged again, and mail to the owners of addresses
    /// that had signed (written or not: the caller cannot tell, and must not).
    pub fn effects(&self) -> Effects {
        let campaign = CampaignId(self.campaign_id);
        let delta = i64::try_from(self.entered).unwrap_or(i64::MAX);
        Effects::none()
            .moved(campaign, Some(LocalId(self.local_id)), delta)
            .reread(campaign)
            .judge_pledges()
            .mail()
    }
}

/// What the mail to an address entered on paper that had already signed needs.
#[derive(Debug, Clone, Copy)]
pub struct Notice<'a> {
    pub public_url: &'a str,
    pub limits: MailLimits,
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
        lines.push(record.map_err(|err| PaperError::Unreadable {
            line: err.position().map(|at| at.line()),
        })?);
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
    notice: Notice<'_>,
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
        local_id,
        ..Entered::default()
    };
    let campaign_url = format!("{}/c/{}", notice.public_url, campaign.slug);
    let mut collisions = 0_u64;
    let txn = db::begin_write(db).await?;
    for line in &parsed {
        let id = Uuid::now_v7();
        // Without an email, a line is its own signer.
        let (email, canonical) = match &line.email {
            Some(email) => (
                email.as_str().to_owned(),
                email.canonical().as_str().to_owned(),
            ),
            None => (String::new(), format!("paper:{id}")),
        };
        let earlier = signature::Entity::find()
            .filter(signature::Column::CampaignId.eq(campaign.id))
            .filter(signature::Column::CanonicalEmail.eq(canonical.as_str()))
            .one(&txn)
            .await?;
        // A line whose address already signed keeps its own row (the campaign's one
        // row per address stays the earlier one) and waits for an organizer.
        let canonical = match &earlier {
            Some(_) => format!("paper:{id}"),
            None => canonical,
        };
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
            status: Set(SignatureStatus::Confirmed),
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
            verification: Set(Some(crate::domain::Verification::Verified)),
            verified_by: Set(Some(attested_by.clone())),
            verified_at: Set(Some(now)),
        })
        .exec_without_returning(&txn)
        .await?;
        tally::add(&txn, campaign.id, Some(local_id), id, 1).await?;
        entered.entered += 1;
        if let Some(earlier) = earlier {
            collisions += 1;
            record_collision(
                &txn,
                &campaign,
                id,
                &earlier,
                &attested_by,
                &campaign_url,
                notice.limits,
                now,
            )
            .await?;
        }
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
            "for_review": collisions,
        }),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(entered)
}

/// Puts a paper line whose address had already signed on the campaign's review list and
/// tells the address's owner, within the sheet's transaction. The mail is skipped when
/// the mailbox's hourly allowance is spent (nobody can bomb an inbox from a sheet).
async fn record_collision(
    txn: &impl sea_orm::ConnectionTrait,
    campaign: &crate::entities::campaign::Model,
    signature_id: Uuid,
    earlier: &signature::Model,
    entered_by: &str,
    campaign_url: &str,
    limits: MailLimits,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    paper_collision::Entity::insert(paper_collision::ActiveModel {
        campaign_id: Set(campaign.id),
        signature_id: Set(signature_id),
        earlier_id: Set(earlier.id),
        entered_by: Set(entered_by.to_owned()),
        entered_at: Set(now),
        resolved_at: Set(None),
        resolved_by: Set(None),
        resolution: Set(None),
        ..Default::default()
    })
    .exec_without_returning(txn)
    .await?;
    if !mail::quota::take_mailbox(txn, campaign.id, &earlier.canonical_email, now, limits).await? {
        return Ok(());
    }
    let language = Language::parse(&earlier.language).unwrap_or_default();
    let title = campaigns::current_text(txn, campaign, language)
        .await?
        .map(|text| text.title)
        .unwrap_or_else(|| campaign.slug.clone());
    let draft = mail::entered_on_paper(
        &earlier.email,
        language,
        &earlier.given_name,
        &title,
        campaign_url,
    );
    mail::enqueue(txn, draft, now).await
}
