//! Membership verification for pledges: a local's officers work through a queue of its
//! confirmed pledges and mark each a member or not, or upload the local's member list,
//! which is kept only as keyed hashes of the canonical addresses and matched against the
//! pledges. While a sealed pledge's local has not reached its threshold, the queue shows
//! no names: the member list is then the way to verify.

use std::collections::{BTreeSet, HashSet};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, SecondsFormat, Utc};
use hmac::{Hmac, Mac};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, sea_query::Expr,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::Sha256;
use uuid::Uuid;

use crate::{
    access::{self, Caller},
    accounts::audit_entry,
    campaigns, db,
    domain::{CampaignKind, SignatureStatus, SignerEmail},
    entities::{campaign, member_hash, signature},
    pledges::{self, NOT_MEMBER, VERIFIED},
    views::{QueueLine, VerificationQueue},
};

/// The most addresses one member list may hold.
pub const MAX_MEMBERS: usize = 100_000;
/// The fewest: a list of one or two addresses would tell whether those people pledged,
/// which a sealed pledge must not.
pub const MIN_MEMBERS: usize = 10;
/// Pledges the queue shows at once.
pub const QUEUE_PAGE: u64 = 100;
const KEY_NAME: &str = "member_list_key";

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("only the local's officers verify its pledges")]
    Forbidden,
    #[error("no such pledge")]
    NotFound,
    #[error("line {0} is not an email address")]
    BadLine(usize),
    #[error("a member list holds at most {MAX_MEMBERS} addresses")]
    TooLong,
    #[error("a member list holds at least {MIN_MEMBERS} addresses")]
    TooShort,
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// An officer's verdict on one pledge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Verdict {
    Member,
    NotMember,
}

async fn pledge_for_officer(
    db: &impl ConnectionTrait,
    caller: &Caller,
    slug: &str,
    local_id: i64,
) -> Result<campaign::Model, VerifyError> {
    if !access::keeps_local(caller, local_id) {
        return Err(VerifyError::Forbidden);
    }
    campaigns::by_slug(db, slug)
        .await?
        .filter(pledges::is_pledge)
        .ok_or(VerifyError::NotFound)
}

fn confirmed_in(campaign_id: i64, local_id: i64) -> sea_orm::Select<signature::Entity> {
    signature::Entity::find()
        .filter(signature::Column::CampaignId.eq(campaign_id))
        .filter(signature::Column::LocalId.eq(local_id))
        .filter(signature::Column::Status.eq(SignatureStatus::Confirmed.as_str()))
}

/// The pledges of `local_id` on `slug` that wait for a verdict, oldest first.
pub async fn queue(
    db: &impl ConnectionTrait,
    caller: &Caller,
    slug: &str,
    local_id: i64,
) -> Result<VerificationQueue, VerifyError> {
    let campaign = pledge_for_officer(db, caller, slug, local_id).await?;
    let directory = campaigns::directory(db, &campaign).await?;
    let sealed = pledges::is_sealed(&campaign, &directory, local_id);
    let count = |verdict: Option<&str>| {
        let query = confirmed_in(campaign.id, local_id);
        match verdict {
            Some(verdict) => query.filter(signature::Column::Verification.eq(verdict)),
            None => query.filter(signature::Column::Verification.is_null()),
        }
    };
    let lines = if sealed {
        Vec::new()
    } else {
        count(None)
            .order_by_asc(signature::Column::ConfirmedAt)
            .limit(QUEUE_PAGE)
            .all(db)
            .await?
            .into_iter()
            .map(|row| QueueLine {
                signature_id: row.id.to_string(),
                given_name: row.given_name,
                family_name: row.family_name,
                email: row.email,
                employer: row.employer,
                confirmed_at: row
                    .confirmed_at
                    .map(|at| at.to_rfc3339_opts(SecondsFormat::Secs, true))
                    .unwrap_or_default(),
            })
            .collect()
    };
    Ok(VerificationQueue {
        campaign_slug: campaign.slug.clone(),
        local_id,
        confirmed: confirmed_in(campaign.id, local_id).count(db).await?,
        verified: count(Some(VERIFIED)).count(db).await?,
        not_members: count(Some(NOT_MEMBER)).count(db).await?,
        unreviewed: count(None).count(db).await?,
        sealed,
        lines,
    })
}

/// What an officer's verdict did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Judged {
    pub campaign_id: i64,
    /// The verdict carried the local over a verified-only threshold.
    pub crossed: bool,
}

/// Marks one pledge of the officer's local a member or not. Names sealed from the
/// officer cannot be judged one by one.
pub async fn judge(
    db: &DatabaseConnection,
    caller: &Caller,
    slug: &str,
    signature_id: Uuid,
    verdict: Verdict,
    now: DateTime<Utc>,
) -> Result<Judged, VerifyError> {
    let campaign = campaigns::by_slug(db, slug)
        .await?
        .filter(pledges::is_pledge)
        .ok_or(VerifyError::NotFound)?;
    let found = signature::Entity::find_by_id(signature_id)
        .filter(signature::Column::CampaignId.eq(campaign.id))
        .filter(signature::Column::Status.eq(SignatureStatus::Confirmed.as_str()))
        .one(db)
        .await?
        .ok_or(VerifyError::NotFound)?;
    let local_id = found.local_id.ok_or(VerifyError::NotFound)?;
    if !access::keeps_local(caller, local_id) {
        return Err(VerifyError::Forbidden);
    }
    let directory = campaigns::directory(db, &campaign).await?;
    if pledges::is_sealed(&campaign, &directory, local_id) {
        return Err(VerifyError::NotFound);
    }
    let word = match verdict {
        Verdict::Member => VERIFIED,
        Verdict::NotMember => NOT_MEMBER,
    };
    let txn = db::begin_write(db).await?;
    signature::Entity::update_many()
        .col_expr(signature::Column::Verification, Expr::value(word))
        .col_expr(signature::Column::VerifiedBy, Expr::value(caller.label()))
        .col_expr(signature::Column::VerifiedAt, Expr::value(now))
        .filter(signature::Column::Id.eq(signature_id))
        .exec(&txn)
        .await?;
    audit_entry(
        &txn,
        &caller.label(),
        "pledge.verify",
        json!({ "campaign": campaign.slug, "signature": signature_id, "verdict": word }),
        now,
    )
    .await?;
    let crossed =
        verdict == Verdict::Member && pledges::check_local(&txn, &campaign, local_id, now).await?;
    txn.commit().await?;
    Ok(Judged {
        campaign_id: campaign.id,
        crossed,
    })
}

/// What uploading a member list did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberListReport {
    /// Distinct addresses kept (as hashes).
    pub members: u64,
    /// Unreviewed pledges, on every pledge the local is in, now verified by the list.
    pub matched: u64,
    /// Campaigns where a local crossed its threshold because of it.
    pub crossed: Vec<i64>,
}

fn hash(key: &[u8; 32], canonical: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key size");
    mac.update(b"rollcall member ");
    mac.update(canonical.as_bytes());
    URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

/// Replaces the local's member list with the addresses in `text` (one a line; a CSV
/// line's first field that holds an `@`), kept only as keyed hashes, and verifies every
/// unreviewed confirmed pledge of the local whose address is on it.
pub async fn upload_member_list(
    db: &DatabaseConnection,
    caller: &Caller,
    local_id: i64,
    text: &str,
    now: DateTime<Utc>,
) -> Result<MemberListReport, VerifyError> {
    if !access::keeps_local(caller, local_id) {
        return Err(VerifyError::Forbidden);
    }
    let key = crate::stamp::server_key(db, KEY_NAME).await?;
    let mut hashes = BTreeSet::new();
    for (number, line) in text.lines().enumerate() {
        let address = line
            .split([',', ';', '\t'])
            .map(|field| field.trim().trim_matches('"'))
            .find(|field| field.contains('@'));
        let Some(address) = address else {
            // A header line, or a blank one.
            if line.trim().is_empty() || number == 0 {
                continue;
            }
            return Err(VerifyError::BadLine(number + 1));
        };
        let email = SignerEmail::parse(address).map_err(|_| VerifyError::BadLine(number + 1))?;
        hashes.insert(hash(&key, email.canonical().as_str()));
        if hashes.len() > MAX_MEMBERS {
            return Err(VerifyError::TooLong);
        }
    }
    if hashes.len() < MIN_MEMBERS {
        return Err(VerifyError::TooShort);
    }

    let txn = db::begin_write(db).await?;
    member_hash::Entity::delete_many()
        .filter(member_hash::Column::LocalId.eq(local_id))
        .exec(&txn)
        .await?;
    let rows: Vec<member_hash::ActiveModel> = hashes
        .iter()
        .map(|hash| member_hash::ActiveModel {
            local_id: Set(local_id),
            hash: Set(hash.clone()),
            uploaded_at: Set(now),
        })
        .collect();
    for chunk in rows.chunks(1_000) {
        member_hash::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await?;
    }
    let pledge_ids: Vec<i64> = campaign::Entity::find()
        .select_only()
        .column(campaign::Column::Id)
        .filter(campaign::Column::Kind.eq(CampaignKind::Pledge.as_str()))
        .into_tuple()
        .all(&txn)
        .await?;
    let unreviewed: Vec<(Uuid, i64, String)> = signature::Entity::find()
        .select_only()
        .columns([
            signature::Column::Id,
            signature::Column::CampaignId,
            signature::Column::CanonicalEmail,
        ])
        .filter(signature::Column::LocalId.eq(local_id))
        .filter(signature::Column::Status.eq(SignatureStatus::Confirmed.as_str()))
        .filter(signature::Column::Verification.is_null())
        .filter(signature::Column::CampaignId.is_in(pledge_ids))
        .into_tuple()
        .all(&txn)
        .await?;
    let members: HashSet<&String> = hashes.iter().collect();
    let matched: Vec<(Uuid, i64)> = unreviewed
        .into_iter()
        .filter(|(_, _, canonical)| members.contains(&hash(&key, canonical)))
        .map(|(id, campaign_id, _)| (id, campaign_id))
        .collect();
    let by = format!("member list, {}", caller.label());
    for ids in matched.chunks(500) {
        signature::Entity::update_many()
            .col_expr(signature::Column::Verification, Expr::value(VERIFIED))
            .col_expr(signature::Column::VerifiedBy, Expr::value(by.clone()))
            .col_expr(signature::Column::VerifiedAt, Expr::value(now))
            .filter(signature::Column::Id.is_in(ids.iter().map(|(id, _)| *id)))
            .exec(&txn)
            .await?;
    }
    let campaigns: BTreeSet<i64> = matched.iter().map(|(_, c)| *c).collect();
    let mut crossed = Vec::new();
    for campaign_id in campaigns {
        if let Some(campaign) = campaign::Entity::find_by_id(campaign_id).one(&txn).await?
            && pledges::check_local(&txn, &campaign, local_id, now).await?
        {
            crossed.push(campaign_id);
        }
    }
    audit_entry(
        &txn,
        &caller.label(),
        "local.member_list",
        json!({ "local": local_id, "members": hashes.len(), "matched": matched.len() }),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(MemberListReport {
        members: hashes.len() as u64,
        matched: matched.len() as u64,
        crossed,
    })
}
