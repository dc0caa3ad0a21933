//! Strike pledges that bind when enough have pledged. A pledge's rule holds still once it
//! opens, and so does each local's member count: it is frozen into the campaign's locals
//! then, and an officer's later count waits for an organizer to accept it. A local
//! crosses its threshold once, by a conditional update (`reached_at` set only where it is
//! still empty) in the transaction whose confirmation (or verification) carried it over;
//! [`evaluate`] is the one idempotent judge of everything else: locals a race left
//! behind, the campaign's own rule, and the deadline.

pub mod announcing;
pub mod verifying;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, sea_query::Expr,
};
use serde_json::json;

use crate::{
    accounts::access::{self, Caller},
    audit::audit_entry,
    domain::{CampaignKind, CampaignStatus, PledgeRule, SignatureStatus, Verification},
    entities::{
        campaign::{self, is_pledge, rule_of},
        campaign_local, local, local_tally, signature,
    },
    pledges::announcing::AnnouncementKind,
    store::campaigns::{self, CONFIRM_GRACE},
    store::db,
    store::tally::{self, non_negative},
    views::LocalStanding,
};

/// Writes a rule into a campaign being saved.
pub fn set_rule(active: &mut campaign::ActiveModel, rule: &PledgeRule) {
    let big = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    let small = |n: u32| i32::try_from(n).unwrap_or(i32::MAX);
    active.share_needed_bp = Set(rule.share_needed_bp.map(small));
    active.per_local_needed = Set(rule.per_local_needed.map(big));
    active.total_needed = Set(rule.total_needed.map(big));
    active.locals_needed = Set(rule.locals_needed.map(small));
    active.verified_only = Set(rule.verified_only);
    active.without_member_count = Set(rule.without_member_count);
}

/// Whether thresholds may still be crossed at `now`: while confirmations are accepted
/// (so until the deadline's grace has passed) and the outcome is not settled.
fn still_counting(campaign: &campaign::Model, now: DateTime<Utc>) -> bool {
    campaign.ended_at.is_none() && campaigns::accepts_confirmations(campaign, now)
}

/// Whether a pledge's locals are frozen: from the moment it opens.
fn freezes(campaign: &campaign::Model) -> bool {
    is_pledge(campaign) && campaign.status != CampaignStatus::Draft
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
    let verdicts: Vec<(Option<i64>, Option<Verification>, i64)> = signature::Entity::find()
        .select_only()
        .column(signature::Column::LocalId)
        .column(signature::Column::Verification)
        .column_as(signature::Column::Id.count(), "count")
        .filter(signature::Column::CampaignId.eq(campaign.id))
        .filter(signature::Column::Status.eq(SignatureStatus::Confirmed))
        .group_by(signature::Column::LocalId)
        .group_by(signature::Column::Verification)
        .into_tuple()
        .all(db)
        .await?;
    let with = |local_id: i64, verdict: Option<Verification>| {
        verdicts
            .iter()
            .filter(|(local, found, _)| *local == Some(local_id) && *found == verdict)
            .map(|(_, _, count)| non_negative(*count))
            .sum::<u64>()
    };
    let unsealed = unsealed_locals(campaign, directory);
    let rfc3339 = |at: DateTime<Utc>| at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    Ok(directory
        .standing
        .iter()
        .map(|(&local_id, standing)| {
            let verified = with(local_id, Some(Verification::Verified));
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

mod evaluate;
mod member_counts;

pub use evaluate::*;
pub use member_counts::*;
