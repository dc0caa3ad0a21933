//! Membership verification for pledges: a local's officers work through a queue of its
//! confirmed pledges and mark each a member or not, or upload the local's member list,
//! which is kept only as keyed hashes of the canonical addresses and matched against the
//! pledges. While a sealed pledge's local has not reached its threshold, the queue shows
//! no names: the member list is then the way to verify.
//!
//! A member list must not become a way to ask whether someone pledged. An upload's
//! answer carries only how many addresses it kept; a list must be plausible against the
//! local's member count (a quarter of it, and never fewer than [`MIN_MEMBERS`]); each
//! officer has [`UPLOADS_PER_DAY`]; and matches against pledges whose names are sealed
//! are applied only at the next sealed batch ([`apply_sealed_batch`], every
//! [`SEALED_BATCH_HOURS`] hours on the clock), from whatever list the local holds then,
//! so no count moves when an upload is made. Pledges whose names the officer can see
//! anyway are matched at once.

use std::collections::{BTreeSet, HashSet};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, DurationRound, SecondsFormat, Utc};
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
    accounts::access::{self, Caller},
    audit::audit_entry,
    domain::CampaignId,
    domain::{CampaignKind, SignatureStatus, SignerEmail, Verification},
    entities::{campaign, local, member_hash, member_list_batch, officer_allowance, signature},
    live::effects::Effects,
    pledges,
    store::campaigns,
    store::db,
    views::{QueueLine, VerificationQueue},
};

/// The most addresses one member list may hold.
pub const MAX_MEMBERS: usize = 100_000;
/// The fewest: a list of one or two addresses would tell whether those people pledged,
/// which a sealed pledge must not. A local with a member count needs a quarter of it.
pub const MIN_MEMBERS: usize = 10;
/// Member-list uploads one officer (or admin) may make per UTC day, across processes.
pub const UPLOADS_PER_DAY: u32 = 5;
/// Sealed pledges take the member lists' matches at 00:00, 06:00, 12:00 and 18:00 UTC.
pub const SEALED_BATCH_HOURS: i64 = 6;
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
    #[error(
        "this local's member list needs at least {0} addresses (a quarter of its members, and never fewer than {MIN_MEMBERS})"
    )]
    TooShort(usize),
    #[error("you have uploaded {UPLOADS_PER_DAY} member lists today; try again tomorrow")]
    NoAllowance,
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
        .filter(signature::Column::Status.eq(SignatureStatus::Confirmed))
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
    let count = |verdict: Option<Verification>| {
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
        verified: count(Some(Verification::Verified)).count(db).await?,
        not_members: count(Some(Verification::NotMember)).count(db).await?,
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

impl Judged {
    pub fn effects(&self) -> Effects {
        let effects = Effects::none().judge_pledges();
        if self.crossed {
            effects.reread(CampaignId(self.campaign_id))
        } else {
            effects
        }
    }
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
        .filter(signature::Column::Status.eq(SignatureStatus::Confirmed))
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
        Verdict::Member => Verification::Verified,
        Verdict::NotMember => Verification::NotMember,
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

/// What uploading a member list did. Deliberately no count of matches: that would say
/// whether the addresses on it had pledged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberListReport {
    /// Distinct addresses kept (as hashes).
    pub members: u64,
    /// Campaigns where a local crossed its threshold because of it (only pledges whose
    /// names the officer sees anyway).
    pub crossed: Vec<i64>,
}

impl MemberListReport {
    pub fn effects(&self) -> Effects {
        self.crossed
            .iter()
            .fold(Effects::none().judge_pledges(), |effects, id| {
                effects.reread(CampaignId(*id))
            })
    }
}

fn hash(key: &[u8; 32], canonical: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key size");
    mac.update(b"rollcall member ");
    mac.update(canonical.as_bytes());
    URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

/// The fewest addresses a member list of a local with `member_count` members may hold.
pub fn fewest_addresses(member_count: Option<i64>) -> usize {
    let quarter = member_count
        .and_then(|count| usize::try_from(count).ok())
        .map_or(0, |count| count.div_ceil(4));
    quarter.max(MIN_MEMBERS)
}

/// Takes one upload from the officer's allowance for `now`'s UTC day; false when spent.
/// Call it in the upload's transaction, so a refused upload gives it back.
async fn take_upload(
    db: &impl ConnectionTrait,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    use sea_orm::sea_query::{ExprTrait, OnConflict, Query};
    let day = now
        .duration_trunc(chrono::TimeDelta::days(1))
        .unwrap_or(now);
    let table = officer_allowance::Entity;
    let count = officer_allowance::Column::Count;
    let insert = Query::insert()
        .into_table(table)
        .columns([
            officer_allowance::Column::Actor,
            officer_allowance::Column::Action,
            officer_allowance::Column::DayStart,
            count,
        ])
        .values_panic([actor.into(), "member_list".into(), day.into(), 1.into()])
        .on_conflict(
            OnConflict::columns([
                officer_allowance::Column::Actor,
                officer_allowance::Column::Action,
                officer_allowance::Column::DayStart,
            ])
            .value(count, Expr::col((table, count)).add(1))
            .action_and_where(Expr::col((table, count)).lt(i64::from(UPLOADS_PER_DAY)))
            .to_owned(),
        )
        .returning_col(count)
        .to_owned();
    let statement = db.get_database_backend().build(&insert);
    Ok(db.query_one_raw(statement).await?.is_some())
}

/// The pledges on which `local_id`'s pledgers are sealed.
async fn sealed_pledges(db: &impl ConnectionTrait, local_id: i64) -> Result<Vec<i64>, DbErr> {
    let mut sealed = Vec::new();
    for pledge in campaign::Entity::find()
        .filter(campaign::Column::Kind.eq(CampaignKind::Pledge))
        .filter(campaign::Column::SealedNames.eq(true))
        .all(db)
        .await?
    {
        let directory = campaigns::directory(db, &pledge).await?;
        if pledges::is_sealed(&pledge, &directory, local_id) {
            sealed.push(pledge.id);
        }
    }
    Ok(sealed)
}

/// Verifies the unreviewed confirmed pledges of `local_id` on `campaign_ids` whose
/// address is among `members`, and judges the local on each campaign that moved; the
/// campaigns where it crossed its threshold, and how many were verified.
async fn verify_matches(
    txn: &impl ConnectionTrait,
    key: &[u8; 32],
    local_id: i64,
    members: &HashSet<String>,
    campaign_ids: Vec<i64>,
    by: &str,
    now: DateTime<Utc>,
) -> Result<(Vec<i64>, usize), DbErr> {
    if campaign_ids.is_empty() || members.is_empty() {
        return Ok((Vec::new(), 0));
    }
    let unreviewed: Vec<(Uuid, i64, String)> = signature::Entity::find()
        .select_only()
        .columns([
            signature::Column::Id,
            signature::Column::CampaignId,
            signature::Column::CanonicalEmail,
        ])
        .filter(signature::Column::LocalId.eq(local_id))
        .filter(signature::Column::Status.eq(SignatureStatus::Confirmed))
        .filter(signature::Column::Verification.is_null())
        .filter(signature::Column::CampaignId.is_in(campaign_ids))
        .into_tuple()
        .all(txn)
        .await?;
    let matched: Vec<(Uuid, i64)> = unreviewed
        .into_iter()
        .filter(|(_, _, canonical)| members.contains(&hash(key, canonical)))
        .map(|(id, campaign_id, _)| (id, campaign_id))
        .collect();
    for ids in matched.chunks(500) {
        signature::Entity::update_many()
            .col_expr(
                signature::Column::Verification,
                Expr::value(Verification::Verified),
            )
            .col_expr(signature::Column::VerifiedBy, Expr::value(by))
            .col_expr(signature::Column::VerifiedAt, Expr::value(now))
            .filter(signature::Column::Id.is_in(ids.iter().map(|(id, _)| *id)))
            .exec(txn)
            .await?;
    }
    let campaigns: BTreeSet<i64> = matched.iter().map(|(_, c)| *c).collect();
    let mut crossed = Vec::new();
    for campaign_id in campaigns {
        if let Some(campaign) = campaign::Entity::find_by_id(campaign_id).one(txn).await?
            && pledges::check_local(txn, &campaign, local_id, now).await?
        {
            crossed.push(campaign_id);
        }
    }
    Ok((crossed, matched.len()))
}

/// Replaces the local's member list with the addresses in `text` (one a line; a CSV
/// line's first field that holds an `@`), kept only as keyed hashes, and verifies every
/// unreviewed confirmed pledge of the local whose address is on it: at once where the
/// officer sees the pledgers' names, at the next sealed batch where they are sealed.
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
    let found = local::Entity::find_by_id(local_id)
        .one(db)
        .await?
        .ok_or(VerifyError::NotFound)?;
    let key = crate::abuse::stamp::server_key(db, KEY_NAME).await?;
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
    let fewest = fewest_addresses(found.member_count);
    if hashes.len() < fewest {
        return Err(VerifyError::TooShort(fewest));
    }
    let pledge_ids: Vec<i64> = campaign::Entity::find()
        .select_only()
        .column(campaign::Column::Id)
        .filter(campaign::Column::Kind.eq(CampaignKind::Pledge))
        .into_tuple()
        .all(db)
        .await?;
    let sealed = sealed_pledges(db, local_id).await?;
    let seen: Vec<i64> = pledge_ids
        .into_iter()
        .filter(|id| !sealed.contains(id))
        .collect();

    let txn = db::begin_write(db).await?;
    if !take_upload(&txn, &caller.label(), now).await? {
        return Err(VerifyError::NoAllowance);
    }
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
    let members: HashSet<String> = hashes.iter().cloned().collect();
    let by = format!("member list, {}", caller.label());
    let (crossed, matched) = verify_matches(&txn, &key, local_id, &members, seen, &by, now).await?;
    audit_entry(
        &txn,
        &caller.label(),
        "local.member_list",
        // Matches on sealed pledges wait for the batch; those here the officer can see.
        json!({ "local": local_id, "members": hashes.len(), "matched_unsealed": matched }),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(MemberListReport {
        members: hashes.len() as u64,
        crossed,
    })
}

/// The sealed batch: once per [`SEALED_BATCH_HOURS`] window (whichever process claims
/// the window first), matches every local's member list against its unreviewed pledges
/// on the pledges where its names are sealed. The campaigns where a local crossed.
pub async fn apply_sealed_batch(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
) -> Result<Vec<i64>, DbErr> {
    use sea_orm::sea_query::{OnConflict, Query};
    let window = now
        .duration_trunc(chrono::TimeDelta::hours(SEALED_BATCH_HOURS))
        .unwrap_or(now);
    let claimed = member_list_batch::Entity::find_by_id(window)
        .one(db)
        .await?
        .is_some();
    if claimed {
        return Ok(Vec::new());
    }
    let key = crate::abuse::stamp::server_key(db, KEY_NAME).await?;
    let locals: Vec<i64> = member_hash::Entity::find()
        .select_only()
        .column(member_hash::Column::LocalId)
        .distinct()
        .into_tuple()
        .all(db)
        .await?;
    let mut work = Vec::new();
    for local_id in locals {
        let sealed = sealed_pledges(db, local_id).await?;
        if sealed.is_empty() {
            continue;
        }
        let members: HashSet<String> = member_hash::Entity::find()
            .select_only()
            .column(member_hash::Column::Hash)
            .filter(member_hash::Column::LocalId.eq(local_id))
            .into_tuple()
            .all(db)
            .await?
            .into_iter()
            .collect();
        work.push((local_id, members, sealed));
    }
    let txn = db::begin_write(db).await?;
    // The claim: a second process's insert does nothing, and it applies nothing.
    let claim = Query::insert()
        .into_table(member_list_batch::Entity)
        .columns([
            member_list_batch::Column::WindowStart,
            member_list_batch::Column::RanAt,
        ])
        .values_panic([window.into(), now.into()])
        .on_conflict(
            OnConflict::column(member_list_batch::Column::WindowStart)
                .do_nothing()
                .to_owned(),
        )
        .to_owned();
    let statement = txn.get_database_backend().build(&claim);
    if txn.execute_raw(statement).await?.rows_affected() != 1 {
        return Ok(Vec::new());
    }
    let mut crossed = BTreeSet::new();
    let mut matched = 0;
    for (local_id, members, sealed) in work {
        let (moved, count) =
            verify_matches(&txn, &key, local_id, &members, sealed, "member list", now).await?;
        crossed.extend(moved);
        matched += count;
    }
    audit_entry(
        &txn,
        "rollcall",
        "pledge.member_list_batch",
        json!({ "window": window.to_rfc3339(), "matched": matched }),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(crossed.into_iter().collect())
}

/// Runs the sealed batch a minute apart (it does its work once a window) until
/// `closing` turns true, refreshing the tallies of the pledges where a local crossed.
pub async fn run_batches(
    db: DatabaseConnection,
    bells: crate::live::effects::Bells,
    clock: crate::domain::clock::Clock,
    mut closing: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            () = tokio::time::sleep(std::time::Duration::from_secs(60)) => {}
            _ = closing.wait_for(|stop| *stop) => return,
        }
        match apply_sealed_batch(&db, clock.now()).await {
            Ok(crossed) => bells.apply(crossed.into_iter().fold(Effects::none(), |effects, id| {
                effects.reread(CampaignId(id))
            })),
            Err(err) => {
                tracing::warn!(error = %err, "the sealed member-list batch failed; retrying")
            }
        }
    }
}
