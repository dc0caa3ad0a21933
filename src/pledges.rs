//! Strike pledges that bind when enough have pledged. A pledge's rule holds still once it
//! opens, and so does each local's member count: it is frozen into the campaign's locals
//! then, and an officer's later count waits for an organizer to accept it. A local
//! crosses its threshold once, by a conditional update (`reached_at` set only where it is
//! still empty) in the transaction whose confirmation (or verification) carried it over;
//! [`evaluate`] is the one idempotent judge of everything else: locals a race left
//! behind, the campaign's own rule, and the deadline.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, sea_query::Expr,
};
use serde_json::json;

use crate::{
    access::{self, Caller},
    accounts::audit_entry,
    announcing::{self, AnnouncementKind},
    campaigns::{self, CONFIRM_GRACE},
    db,
    domain::{
        CampaignKind, CampaignStatus, PledgeRule, PledgeState, SignatureStatus, WithoutMemberCount,
    },
    entities::{campaign, campaign_local, local, local_tally, signature},
    tally::{self, Standing, non_negative},
    views::LocalStanding,
};

/// The verdict an officer gives a pledge that counts toward a verified-only rule.
pub const VERIFIED: &str = "verified";
pub const NOT_MEMBER: &str = "not_member";

pub fn is_pledge(campaign: &campaign::Model) -> bool {
    campaign.kind == CampaignKind::Pledge.as_str()
}

/// The threshold rule a campaign states (empty for a petition).
pub fn rule_of(campaign: &campaign::Model) -> PledgeRule {
    PledgeRule {
        share_needed_bp: campaign
            .share_needed_bp
            .and_then(|bp| u32::try_from(bp).ok()),
        per_local_needed: campaign.per_local_needed.map(non_negative),
        total_needed: campaign.total_needed.map(non_negative),
        locals_needed: campaign.locals_needed.and_then(|n| u32::try_from(n).ok()),
        verified_only: campaign.verified_only,
        without_member_count: WithoutMemberCount::parse(&campaign.without_member_count)
            .unwrap_or(WithoutMemberCount::CountOnly),
    }
}

/// Writes a rule into a campaign being saved.
pub fn set_rule(active: &mut campaign::ActiveModel, rule: &PledgeRule) {
    let big = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    let small = |n: u32| i32::try_from(n).unwrap_or(i32::MAX);
    active.share_needed_bp = Set(rule.share_needed_bp.map(small));
    active.per_local_needed = Set(rule.per_local_needed.map(big));
    active.total_needed = Set(rule.total_needed.map(big));
    active.locals_needed = Set(rule.locals_needed.map(small));
    active.verified_only = Set(rule.verified_only);
    active.without_member_count = Set(rule.without_member_count.as_str().to_owned());
}

/// Where a pledge stands; None for a petition or a pledge without a rule.
pub fn state_of(campaign: &campaign::Model) -> Option<PledgeState> {
    if !is_pledge(campaign) || !rule_of(campaign).is_set() {
        return None;
    }
    Some(if campaign.reached_at.is_some() {
        PledgeState::Reached
    } else if campaign.ended_at.is_some() {
        PledgeState::NotReached
    } else {
        PledgeState::Gathering
    })
}

/// Whether thresholds may still be crossed at `now`: while confirmations are accepted
/// (so until the deadline's grace has passed) and the outcome is not settled.
fn still_counting(campaign: &campaign::Model, now: DateTime<Utc>) -> bool {
    campaign.ended_at.is_none() && campaigns::accepts_confirmations(campaign, now)
}

/// Whether a pledge's locals are frozen: from the moment it opens.
fn freezes(campaign: &campaign::Model) -> bool {
    is_pledge(campaign) && campaign.status != CampaignStatus::Draft.as_str()
}

#[derive(Debug, thiserror::Error)]
pub enum LocalsError {
    #[error("a local cannot leave a pledge once it has opened")]
    Leaving,
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Makes `chosen` the locals that may sign (none chosen: every local of the sponsors).
/// An open pledge lists its locals explicitly, each with its member count frozen.
pub async fn set_locals(
    txn: &impl ConnectionTrait,
    campaign: &campaign::Model,
    sponsor_ids: &[i64],
    chosen: Vec<i64>,
    now: DateTime<Utc>,
) -> Result<(), LocalsError> {
    let mut wanted: BTreeSet<i64> = chosen.into_iter().collect();
    if wanted.is_empty() && freezes(campaign) {
        wanted = local::Entity::find()
            .select_only()
            .column(local::Column::Id)
            .filter(local::Column::UnionId.is_in(sponsor_ids.iter().copied()))
            .into_tuple::<i64>()
            .all(txn)
            .await?
            .into_iter()
            .collect();
    }
    let rows = campaign_local::Entity::find()
        .filter(campaign_local::Column::CampaignId.eq(campaign.id))
        .all(txn)
        .await?;
    let leaving: Vec<&campaign_local::Model> = rows
        .iter()
        .filter(|row| !wanted.contains(&row.local_id))
        .collect();
    if leaving.iter().any(|row| row.frozen_at.is_some()) {
        return Err(LocalsError::Leaving);
    }
    if !leaving.is_empty() {
        campaign_local::Entity::delete_many()
            .filter(campaign_local::Column::CampaignId.eq(campaign.id))
            .filter(campaign_local::Column::LocalId.is_in(leaving.iter().map(|row| row.local_id)))
            .exec(txn)
            .await?;
    }
    let have: BTreeSet<i64> = rows.iter().map(|row| row.local_id).collect();
    let joining: Vec<campaign_local::ActiveModel> = wanted
        .difference(&have)
        .map(|&local_id| campaign_local::ActiveModel {
            campaign_id: Set(campaign.id),
            local_id: Set(local_id),
            member_count: Set(None),
            frozen_at: Set(None),
            proposed_member_count: Set(None),
            proposed_at: Set(None),
            proposed_by: Set(None),
            reached_at: Set(None),
        })
        .collect();
    if !joining.is_empty() {
        campaign_local::Entity::insert_many(joining)
            .exec_without_returning(txn)
            .await?;
    }
    if freezes(campaign) {
        freeze(txn, campaign.id, now).await?;
    }
    Ok(())
}

/// Copies each not yet frozen local's member count into the pledge.
async fn freeze(
    txn: &impl ConnectionTrait,
    campaign_id: i64,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let unfrozen: Vec<i64> = campaign_local::Entity::find()
        .select_only()
        .column(campaign_local::Column::LocalId)
        .filter(campaign_local::Column::CampaignId.eq(campaign_id))
        .filter(campaign_local::Column::FrozenAt.is_null())
        .into_tuple()
        .all(txn)
        .await?;
    if unfrozen.is_empty() {
        return Ok(());
    }
    let counts: Vec<(i64, Option<i64>)> = local::Entity::find()
        .select_only()
        .columns([local::Column::Id, local::Column::MemberCount])
        .filter(local::Column::Id.is_in(unfrozen))
        .into_tuple()
        .all(txn)
        .await?;
    for (local_id, member_count) in counts {
        campaign_local::Entity::update_many()
            .col_expr(
                campaign_local::Column::MemberCount,
                Expr::value(member_count),
            )
            .col_expr(campaign_local::Column::FrozenAt, Expr::value(now))
            .filter(campaign_local::Column::CampaignId.eq(campaign_id))
            .filter(campaign_local::Column::LocalId.eq(local_id))
            .exec(txn)
            .await?;
    }
    Ok(())
}

/// The pledges counted toward a local's threshold: every confirmed one (from the tally
/// rows), or only those an officer verified.
async fn counted_in_local(
    txn: &impl ConnectionTrait,
    campaign_id: i64,
    local_id: i64,
    verified_only: bool,
) -> Result<u64, DbErr> {
    if verified_only {
        return verified(campaign_id)
            .filter(signature::Column::LocalId.eq(local_id))
            .count(txn)
            .await;
    }
    let shards: Vec<i64> = local_tally::Entity::find()
        .select_only()
        .column(local_tally::Column::Count)
        .filter(local_tally::Column::CampaignId.eq(campaign_id))
        .filter(local_tally::Column::LocalId.eq(local_id))
        .into_tuple()
        .all(txn)
        .await?;
    Ok(non_negative(shards.into_iter().sum()))
}

fn verified(campaign_id: i64) -> sea_orm::Select<signature::Entity> {
    signature::Entity::find()
        .filter(signature::Column::CampaignId.eq(campaign_id))
        .filter(signature::Column::Status.eq(SignatureStatus::Confirmed.as_str()))
        .filter(signature::Column::Verification.eq(VERIFIED))
}

/// Every local's verified pledges.
async fn verified_by_local(
    db: &impl ConnectionTrait,
    campaign_id: i64,
) -> Result<BTreeMap<i64, u64>, DbErr> {
    let rows: Vec<(Option<i64>, i64)> = verified(campaign_id)
        .select_only()
        .column(signature::Column::LocalId)
        .column_as(signature::Column::Id.count(), "count")
        .group_by(signature::Column::LocalId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(local_id, count)| Some((local_id?, non_negative(count))))
        .collect())
}

/// Crosses a local's threshold if its pledges now meet it. Call it in the transaction
/// that counted a pledge there; true if this call crossed it.
pub async fn check_local(
    txn: &impl ConnectionTrait,
    campaign: &campaign::Model,
    local_id: i64,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let rule = rule_of(campaign);
    if !is_pledge(campaign) || !rule.judges_locals() || !still_counting(campaign, now) {
        return Ok(false);
    }
    // While a local gathers, its confirmations take turns on its row here: the one that
    // completes the threshold then counts every pledge committed before it, so two at
    // once cannot each see the other missing. (SQLite runs one writer at a time anyway.)
    // A local that has reached matches nothing, so nobody waits on it.
    let mut gathering = campaign_local::Entity::find_by_id((campaign.id, local_id))
        .filter(campaign_local::Column::ReachedAt.is_null())
        .filter(campaign_local::Column::FrozenAt.is_not_null());
    if txn.get_database_backend() == DbBackend::Postgres {
        gathering = gathering.lock_exclusive();
    }
    let Some(row) = gathering.one(txn).await? else {
        return Ok(false);
    };
    let counted = counted_in_local(txn, campaign.id, local_id, rule.verified_only).await?;
    if !rule.local_met(counted, row.member_count.map(non_negative)) {
        return Ok(false);
    }
    cross_local(txn, campaign, local_id, counted, now).await
}

async fn cross_local(
    txn: &impl ConnectionTrait,
    campaign: &campaign::Model,
    local_id: i64,
    counted: u64,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let crossed = campaign_local::Entity::update_many()
        .col_expr(campaign_local::Column::ReachedAt, Expr::value(now))
        .filter(campaign_local::Column::CampaignId.eq(campaign.id))
        .filter(campaign_local::Column::LocalId.eq(local_id))
        .filter(campaign_local::Column::ReachedAt.is_null())
        .exec(txn)
        .await?;
    if crossed.rows_affected != 1 {
        return Ok(false);
    }
    announcing::open(
        txn,
        campaign,
        Some(local_id),
        AnnouncementKind::Reached,
        now,
    )
    .await?;
    audit_entry(
        txn,
        "rollcall",
        "pledge.local_reached",
        json!({ "campaign": campaign.slug, "local": local_id, "counted": counted }),
        now,
    )
    .await?;
    Ok(true)
}

/// What an evaluation would change.
#[derive(Debug, Default)]
struct Plan {
    locals: Vec<(i64, u64)>,
    campaign_reached: bool,
    end: bool,
}

impl Plan {
    fn is_empty(&self) -> bool {
        self.locals.is_empty() && !self.campaign_reached && !self.end
    }
}

async fn plan(
    db: &impl ConnectionTrait,
    campaign: &campaign::Model,
    now: DateTime<Utc>,
) -> Result<Plan, DbErr> {
    let rule = rule_of(campaign);
    let mut plan = Plan::default();
    if !freezes(campaign) || campaign.ended_at.is_some() {
        return Ok(plan);
    }
    plan.end = campaign
        .closes_at
        .is_some_and(|closes| now >= closes + CONFIRM_GRACE);
    // The last judgment, as the deadline's grace runs out, still counts: a rule met by
    // the final confirmations ends as reached.
    let counting = still_counting(campaign, now) || plan.end;
    let rows = campaign_local::Entity::find()
        .filter(campaign_local::Column::CampaignId.eq(campaign.id))
        .all(db)
        .await?;
    let (counted, total) = if rule.verified_only {
        let counted = verified_by_local(db, campaign.id).await?;
        let total = counted.values().sum();
        (counted, total)
    } else {
        let counts = tally::counts(db, campaign.id).await?;
        let total = counts.total();
        (counts.by_local, total)
    };
    let mut reached = rows.iter().filter(|row| row.reached_at.is_some()).count() as u64;
    if counting && rule.judges_locals() {
        for row in rows
            .iter()
            .filter(|row| row.reached_at.is_none() && row.frozen_at.is_some())
        {
            let here = counted.get(&row.local_id).copied().unwrap_or(0);
            if rule.local_met(here, row.member_count.map(non_negative)) {
                plan.locals.push((row.local_id, here));
                reached += 1;
            }
        }
    }
    plan.campaign_reached =
        counting && campaign.reached_at.is_none() && rule.campaign_met(total, reached);
    Ok(plan)
}

/// Judges a pledge at `now`: crosses the locals and the campaign whose rule is met, and
/// once the deadline's grace has run out, settles the outcome for good. Idempotent, and
/// safe beside other evaluators: every change is conditional. True if anything changed.
pub async fn evaluate(
    db: &DatabaseConnection,
    campaign_id: i64,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let Some(campaign) = campaign::Entity::find_by_id(campaign_id).one(db).await? else {
        return Ok(false);
    };
    if !is_pledge(&campaign) || !rule_of(&campaign).is_set() {
        return Ok(false);
    }
    // Most evaluations change nothing: they read, and take no write lock.
    if plan(db, &campaign, now).await?.is_empty() {
        return Ok(false);
    }
    let txn = db::begin_write(db).await?;
    let Some(campaign) = campaign::Entity::find_by_id(campaign_id).one(&txn).await? else {
        return Ok(false);
    };
    let plan = plan(&txn, &campaign, now).await?;
    let mut changed = false;
    for (local_id, counted) in plan.locals {
        changed |= cross_local(&txn, &campaign, local_id, counted, now).await?;
    }
    let reached_now = plan.campaign_reached
        && campaign::Entity::update_many()
            .col_expr(campaign::Column::ReachedAt, Expr::value(now))
            .filter(campaign::Column::Id.eq(campaign.id))
            .filter(campaign::Column::ReachedAt.is_null())
            .exec(&txn)
            .await?
            .rows_affected
            == 1;
    if reached_now {
        announcing::open(&txn, &campaign, None, AnnouncementKind::Reached, now).await?;
        audit_entry(
            &txn,
            "rollcall",
            "pledge.reached",
            json!({ "campaign": campaign.slug }),
            now,
        )
        .await?;
        changed = true;
    }
    let ended_now = plan.end
        && campaign::Entity::update_many()
            .col_expr(campaign::Column::EndedAt, Expr::value(now))
            .filter(campaign::Column::Id.eq(campaign.id))
            .filter(campaign::Column::EndedAt.is_null())
            .exec(&txn)
            .await?
            .rows_affected
            == 1;
    if ended_now {
        let met = campaign.reached_at.is_some() || reached_now;
        if !met {
            announcing::open(&txn, &campaign, None, AnnouncementKind::Unmet, now).await?;
        }
        audit_entry(
            &txn,
            "rollcall",
            "pledge.ended",
            json!({ "campaign": campaign.slug, "reached": met }),
            now,
        )
        .await?;
        changed = true;
    }
    txn.commit().await?;
    Ok(changed)
}

/// Evaluates every pledge that is open or closed and not yet settled; the ids of those
/// that changed.
pub async fn evaluate_all(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<Vec<i64>, DbErr> {
    let ids: Vec<i64> = campaign::Entity::find()
        .select_only()
        .column(campaign::Column::Id)
        .filter(campaign::Column::Kind.eq(CampaignKind::Pledge.as_str()))
        .filter(campaign::Column::Status.is_in([
            CampaignStatus::Open.as_str(),
            CampaignStatus::Closed.as_str(),
        ]))
        .filter(campaign::Column::EndedAt.is_null())
        .into_tuple()
        .all(db)
        .await?;
    let mut changed = Vec::new();
    for id in ids {
        if evaluate(db, id, now).await? {
            changed.push(id);
        }
    }
    Ok(changed)
}

#[derive(Debug, thiserror::Error)]
pub enum MemberCountChoiceError {
    #[error("only the campaign's organizers accept a new member count")]
    Forbidden,
    #[error("there is no new member count waiting for this local")]
    NothingWaiting,
    #[error("no such campaign")]
    UnknownCampaign,
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Records an officer's new member count against every unsettled pledge the local is
/// frozen into: it waits there for an organizer. Call it in the transaction that sets
/// the count.
pub async fn propose_member_count(
    txn: &impl ConnectionTrait,
    local_id: i64,
    count: i64,
    by: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let unsettled: Vec<i64> = campaign::Entity::find()
        .select_only()
        .column(campaign::Column::Id)
        .filter(campaign::Column::Kind.eq(CampaignKind::Pledge.as_str()))
        .filter(campaign::Column::EndedAt.is_null())
        .into_tuple()
        .all(txn)
        .await?;
    let frozen = || {
        campaign_local::Entity::update_many()
            .filter(campaign_local::Column::LocalId.eq(local_id))
            .filter(campaign_local::Column::CampaignId.is_in(unsettled.clone()))
            .filter(campaign_local::Column::FrozenAt.is_not_null())
    };
    // The same count as the frozen one needs nobody's approval.
    without_proposal(frozen())
        .filter(campaign_local::Column::MemberCount.eq(count))
        .exec(txn)
        .await?;
    frozen()
        .col_expr(
            campaign_local::Column::ProposedMemberCount,
            Expr::value(count),
        )
        .col_expr(campaign_local::Column::ProposedAt, Expr::value(now))
        .col_expr(campaign_local::Column::ProposedBy, Expr::value(by))
        .filter(
            sea_orm::Condition::any()
                .add(campaign_local::Column::MemberCount.ne(count))
                .add(campaign_local::Column::MemberCount.is_null()),
        )
        .exec(txn)
        .await?;
    Ok(())
}

/// Clears the member count waiting for an organizer.
fn without_proposal(
    update: sea_orm::UpdateMany<campaign_local::Entity>,
) -> sea_orm::UpdateMany<campaign_local::Entity> {
    update
        .col_expr(
            campaign_local::Column::ProposedMemberCount,
            Expr::value(None::<i64>),
        )
        .col_expr(
            campaign_local::Column::ProposedAt,
            Expr::value(None::<DateTime<Utc>>),
        )
        .col_expr(
            campaign_local::Column::ProposedBy,
            Expr::value(None::<String>),
        )
}

/// An organizer accepts (or, with `accept` false, declines) the member count an officer
/// proposed for a local of a pledge. Accepting it becomes the pledge's denominator; a
/// local that had reached stays reached. The campaign's id, so its tally can be re-read.
pub async fn decide_member_count(
    db: &DatabaseConnection,
    caller: &Caller,
    slug: &str,
    local_id: i64,
    accept: bool,
    now: DateTime<Utc>,
) -> Result<i64, MemberCountChoiceError> {
    let campaign = campaigns::by_slug(db, slug)
        .await?
        .ok_or(MemberCountChoiceError::UnknownCampaign)?;
    if !access::edits_campaign(caller, campaign.id) {
        return Err(MemberCountChoiceError::Forbidden);
    }
    let txn = db::begin_write(db).await?;
    let row = campaign_local::Entity::find_by_id((campaign.id, local_id))
        .one(&txn)
        .await?
        .filter(|row| row.proposed_member_count.is_some())
        .ok_or(MemberCountChoiceError::NothingWaiting)?;
    let mut update = without_proposal(campaign_local::Entity::update_many());
    if accept {
        update = update.col_expr(
            campaign_local::Column::MemberCount,
            Expr::value(row.proposed_member_count),
        );
    }
    // Conditional on the proposal read: a newer one in between is not decided unseen.
    let decided = update
        .filter(campaign_local::Column::CampaignId.eq(campaign.id))
        .filter(campaign_local::Column::LocalId.eq(local_id))
        .filter(campaign_local::Column::ProposedAt.eq(row.proposed_at))
        .exec(&txn)
        .await?;
    if decided.rows_affected != 1 {
        return Err(MemberCountChoiceError::NothingWaiting);
    }
    audit_entry(
        &txn,
        &caller.label(),
        if accept {
            "pledge.member_count_accepted"
        } else {
            "pledge.member_count_declined"
        },
        json!({
            "campaign": campaign.slug,
            "local": local_id,
            "from": row.member_count,
            "proposed": row.proposed_member_count,
            "proposed_by": row.proposed_by,
        }),
        now,
    )
    .await?;
    if accept {
        check_local(&txn, &campaign, local_id, now).await?;
    }
    txn.commit().await?;
    Ok(campaign.id)
}

/// Where each of a pledge's listed locals stands: pledges needed, when it reached, and
/// how many withdrew since.
pub async fn standing(
    db: &impl ConnectionTrait,
    campaign: &campaign::Model,
    rows: &[campaign_local::Model],
) -> Result<BTreeMap<i64, Standing>, DbErr> {
    let rule = rule_of(campaign);
    let first_reached = rows.iter().filter_map(|row| row.reached_at).min();
    let mut withdrawn: Vec<(Option<i64>, Option<DateTime<Utc>>)> = Vec::new();
    if let Some(first) = first_reached {
        withdrawn = signature::Entity::find()
            .select_only()
            .columns([signature::Column::LocalId, signature::Column::WithdrawnAt])
            .filter(signature::Column::CampaignId.eq(campaign.id))
            .filter(signature::Column::Status.eq(SignatureStatus::Withdrawn.as_str()))
            .filter(signature::Column::WithdrawnAt.gt(first))
            .into_tuple()
            .all(db)
            .await?;
    }
    Ok(rows
        .iter()
        .map(|row| {
            let withdrawn_since = row.reached_at.map_or(0, |reached| {
                withdrawn
                    .iter()
                    .filter(|(local, at)| {
                        *local == Some(row.local_id) && at.is_some_and(|at| at > reached)
                    })
                    .count() as u64
            });
            let standing = Standing {
                needed: rule.local_needs(row.member_count.map(non_negative)),
                reached_at: row.reached_at,
                withdrawn_since,
                proposed_member_count: row.proposed_member_count.map(non_negative),
            };
            (row.local_id, standing)
        })
        .collect())
}

/// How each listed local of a pledge stands, with its verified and unreviewed pledges,
/// for the dashboards; empty for a petition.
pub async fn standings(
    db: &impl ConnectionTrait,
    campaign: &campaign::Model,
    directory: &tally::Directory,
    counts: &tally::Counts,
) -> Result<BTreeMap<i64, LocalStanding>, DbErr> {
    if !is_pledge(campaign) {
        return Ok(BTreeMap::new());
    }
    let rule = rule_of(campaign);
    let confirmed = &counts.by_local;
    let verdicts: Vec<(Option<i64>, Option<String>, i64)> = signature::Entity::find()
        .select_only()
        .column(signature::Column::LocalId)
        .column(signature::Column::Verification)
        .column_as(signature::Column::Id.count(), "count")
        .filter(signature::Column::CampaignId.eq(campaign.id))
        .filter(signature::Column::Status.eq(SignatureStatus::Confirmed.as_str()))
        .group_by(signature::Column::LocalId)
        .group_by(signature::Column::Verification)
        .into_tuple()
        .all(db)
        .await?;
    let with = |local_id: i64, verdict: Option<&str>| {
        verdicts
            .iter()
            .filter(|(local, word, _)| *local == Some(local_id) && word.as_deref() == verdict)
            .map(|(_, _, count)| non_negative(*count))
            .sum::<u64>()
    };
    let unsealed = unsealed_locals(campaign, directory);
    let rfc3339 = |at: DateTime<Utc>| at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    Ok(directory
        .standing
        .iter()
        .map(|(&local_id, standing)| {
            let verified = with(local_id, Some(VERIFIED));
            let counted = if rule.verified_only {
                verified
            } else {
                confirmed.get(&local_id).copied().unwrap_or(0)
            };
            let line = LocalStanding {
                member_count: directory.locals.get(&local_id).and_then(|l| l.member_count),
                proposed_member_count: standing.proposed_member_count,
                needed: standing.needed,
                counted,
                verified,
                unreviewed: with(local_id, None),
                reached_at: standing.reached_at.map(rfc3339),
                withdrawn_since: standing.withdrawn_since,
                sealed: unsealed
                    .as_ref()
                    .is_some_and(|open| !open.contains(&local_id)),
            };
            (local_id, line)
        })
        .collect())
}

/// The locals a campaign lists, as `union/local` slugs (empty: every sponsor's local).
pub async fn listed_slugs(
    db: &impl ConnectionTrait,
    campaign_id: i64,
) -> Result<Vec<String>, DbErr> {
    let ids: Vec<i64> = campaign_local::Entity::find()
        .select_only()
        .column(campaign_local::Column::LocalId)
        .filter(campaign_local::Column::CampaignId.eq(campaign_id))
        .into_tuple()
        .all(db)
        .await?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let locals = local::Entity::find()
        .filter(local::Column::Id.is_in(ids))
        .order_by_asc(local::Column::UnionId)
        .order_by_asc(local::Column::Id)
        .all(db)
        .await?;
    let unions: BTreeMap<i64, String> = crate::entities::union::Entity::find()
        .filter(crate::entities::union::Column::Id.is_in(locals.iter().map(|l| l.union_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u.slug))
        .collect();
    Ok(locals
        .into_iter()
        .filter_map(|l| Some(format!("{}/{}", unions.get(&l.union_id)?, l.slug)))
        .collect())
}

/// The locals of a sealed pledge whose pledgers' names may be seen: those that reached
/// their threshold. None when the campaign's names are not sealed.
pub fn unsealed_locals(
    campaign: &campaign::Model,
    directory: &tally::Directory,
) -> Option<BTreeSet<i64>> {
    (is_pledge(campaign) && campaign.sealed_names).then(|| {
        directory
            .standing
            .iter()
            .filter(|(_, standing)| standing.reached_at.is_some())
            .map(|(&local_id, _)| local_id)
            .collect()
    })
}

/// Whether `local_id`'s pledgers are sealed from everyone on this campaign.
pub fn is_sealed(campaign: &campaign::Model, directory: &tally::Directory, local_id: i64) -> bool {
    unsealed_locals(campaign, directory).is_some_and(|open| !open.contains(&local_id))
}

/// Runs until `shutdown` turns true: every few seconds (and when woken) judges the
/// pledges, refreshes the tallies of those that moved, and sends released
/// announcements. Picks up, after a restart, whatever was left half done.
pub async fn run_worker(
    db: DatabaseConnection,
    hub: std::sync::Arc<crate::hub::TallyHub>,
    public_url: String,
    mail_wake: std::sync::Arc<tokio::sync::Notify>,
    wake: std::sync::Arc<tokio::sync::Notify>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        if *shutdown.borrow() {
            break;
        }
        match evaluate_all(&db, Utc::now()).await {
            Ok(changed) => {
                for id in changed {
                    hub.refresh(id);
                }
            }
            Err(err) => tracing::error!(error = %err, "could not judge the pledges"),
        }
        match announcing::send_all(&db, &public_url, Utc::now()).await {
            Ok(0) => {}
            Ok(_) => mail_wake.notify_one(),
            Err(err) => tracing::error!(error = %err, "could not send announcements"),
        }
        tokio::select! {
            () = wake.notified() => {}
            () = tokio::time::sleep(std::time::Duration::from_secs(10)) => {}
            _ = shutdown.changed() => {}
        }
        // A burst of confirmations is judged once.
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}
