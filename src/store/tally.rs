//! Tallies: confirmed signatures counted per (campaign, local) over a few shard rows,
//! changed in the same transaction as the signature whose status changes, and a recount
//! that proves them equal to the confirmed rows.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, QueryFilter, QuerySelect,
    sea_query::{Expr, ExprTrait, OnConflict},
};
use uuid::Uuid;

use crate::{
    domain::clock::rfc3339,
    domain::{PledgeState, PublicBreakdown, SignatureStatus},
    entities::{campaign, local_tally, signature, supporter_tally},
    views::{LocalCount, LocalView, Tally, UnionCount, UnionView},
};

/// How many rows a local's (or the community supporters') count is spread over, so that
/// a hot local on a viral day does not serialise every confirmation on one row.
pub const SHARDS: i16 = 8;

/// A count from the database as the unsigned number it is; a negative one (never
/// expected) reads as zero.
pub fn non_negative(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

pub fn shard_of(signature_id: Uuid) -> i16 {
    // The tail of a UUIDv7 is random, so signatures spread evenly over the shards.
    i16::from(signature_id.as_bytes()[15]) % SHARDS
}

/// Adds `delta` (+1 on confirm, -1 on withdraw or invalidate) to the signature's tally
/// row. Call it inside the transaction that changes the signature's status.
pub async fn add(
    txn: &impl ConnectionTrait,
    campaign_id: i64,
    local_id: Option<i64>,
    signature_id: Uuid,
    delta: i64,
) -> Result<(), DbErr> {
    add_at_shard(txn, campaign_id, local_id, shard_of(signature_id), delta).await
}

/// Adds `delta` to one tally row: several signatures' changes at once.
pub async fn add_at_shard(
    txn: &impl ConnectionTrait,
    campaign_id: i64,
    local_id: Option<i64>,
    shard: i16,
    delta: i64,
) -> Result<(), DbErr> {
    match local_id {
        Some(local_id) => {
            let row = local_tally::ActiveModel {
                campaign_id: sea_orm::Set(campaign_id),
                local_id: sea_orm::Set(local_id),
                shard: sea_orm::Set(shard),
                count: sea_orm::Set(delta),
            };
            local_tally::Entity::insert(row)
                .on_conflict(
                    OnConflict::columns([
                        local_tally::Column::CampaignId,
                        local_tally::Column::LocalId,
                        local_tally::Column::Shard,
                    ])
                    .value(
                        local_tally::Column::Count,
                        Expr::col((local_tally::Entity, local_tally::Column::Count)).add(delta),
                    )
                    .to_owned(),
                )
                .exec_without_returning(txn)
                .await?;
        }
        None => {
            let row = supporter_tally::ActiveModel {
                campaign_id: sea_orm::Set(campaign_id),
                shard: sea_orm::Set(shard),
                count: sea_orm::Set(delta),
            };
            supporter_tally::Entity::insert(row)
                .on_conflict(
                    OnConflict::columns([
                        supporter_tally::Column::CampaignId,
                        supporter_tally::Column::Shard,
                    ])
                    .value(
                        supporter_tally::Column::Count,
                        Expr::col((supporter_tally::Entity, supporter_tally::Column::Count))
                            .add(delta),
                    )
                    .to_owned(),
                )
                .exec_without_returning(txn)
                .await?;
        }
    }
    Ok(())
}

/// `SUM(col)` as a 64-bit integer: PostgreSQL sums BIGINT into NUMERIC.
fn big_sum(col: impl sea_orm::sea_query::IntoColumnRef) -> Expr {
    Expr::col(col).sum().cast_as("BIGINT")
}

#[derive(FromQueryResult)]
struct LocalSum {
    local_id: i64,
    count: i64,
}

#[derive(FromQueryResult)]
struct Sum {
    count: Option<i64>,
}

/// Counts per local, and community supporters, as two maps from the tally rows.
async fn tallied(db: &impl ConnectionTrait, campaign_id: i64) -> Result<Counts, DbErr> {
    let by_local = local_tally::Entity::find()
        .select_only()
        .column(local_tally::Column::LocalId)
        .column_as(big_sum(local_tally::Column::Count), "count")
        .filter(local_tally::Column::CampaignId.eq(campaign_id))
        .group_by(local_tally::Column::LocalId)
        .into_model::<LocalSum>()
        .all(db)
        .await?;
    let supporters = supporter_tally::Entity::find()
        .select_only()
        .column_as(big_sum(supporter_tally::Column::Count), "count")
        .filter(supporter_tally::Column::CampaignId.eq(campaign_id))
        .into_model::<Sum>()
        .one(db)
        .await?
        .and_then(|sum| sum.count)
        .unwrap_or(0);
    Ok(Counts::from_sums(by_local, supporters))
}

/// The same counts taken from the confirmed signature rows themselves.
async fn counted(db: &impl ConnectionTrait, campaign_id: i64) -> Result<Counts, DbErr> {
    #[derive(FromQueryResult)]
    struct Row {
        local_id: Option<i64>,
        count: i64,
    }
    let rows = signature::Entity::find()
        .select_only()
        .column(signature::Column::LocalId)
        .column_as(signature::Column::Id.count(), "count")
        .filter(signature::Column::CampaignId.eq(campaign_id))
        .filter(signature::Column::Status.eq(SignatureStatus::Confirmed))
        .group_by(signature::Column::LocalId)
        .into_model::<Row>()
        .all(db)
        .await?;
    let supporters = rows
        .iter()
        .filter(|row| row.local_id.is_none())
        .map(|row| row.count)
        .sum();
    let by_local = rows
        .into_iter()
        .filter_map(|row| {
            row.local_id.map(|local_id| LocalSum {
                local_id,
                count: row.count,
            })
        })
        .collect();
    Ok(Counts::from_sums(by_local, supporters))
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    pub by_local: BTreeMap<i64, u64>,
    pub community_supporters: u64,
}

impl Counts {
    fn from_sums(by_local: Vec<LocalSum>, supporters: i64) -> Self {
        Self {
            by_local: by_local
                .into_iter()
                .filter(|sum| sum.count > 0)
                .map(|sum| (sum.local_id, non_negative(sum.count)))
                .collect(),
            community_supporters: non_negative(supporters),
        }
    }

    pub fn total(&self) -> u64 {
        self.by_local.values().sum::<u64>() + self.community_supporters
    }

    /// Moves one local's count (or the community supporters') by `delta`.
    pub fn apply(&mut self, local_id: Option<i64>, delta: i64) {
        match local_id {
            Some(local_id) => {
                let count = self.by_local.entry(local_id).or_default();
                *count = count.saturating_add_signed(delta);
                if *count == 0 {
                    self.by_local.remove(&local_id);
                }
            }
            None => {
                self.community_supporters = self.community_supporters.saturating_add_signed(delta);
            }
        }
    }
}

/// The confirmed counts of a campaign, from its tally rows.
pub async fn counts(db: &impl ConnectionTrait, campaign_id: i64) -> Result<Counts, DbErr> {
    tallied(db, campaign_id).await
}

/// Who may sign a campaign, as the public tally names them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Directory {
    pub unions: Vec<UnionView>,
    pub locals: BTreeMap<i64, LocalView>,
    /// A pledge: each local's standing against its threshold.
    pub standing: BTreeMap<i64, Standing>,
}

/// A local's standing in a pledge, as the public tally shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Standing {
    /// Pledges needed to reach its threshold; None when it cannot.
    pub needed: Option<u64>,
    pub reached_at: Option<DateTime<Utc>>,
    /// Signers who withdrew after it reached.
    pub withdrawn_since: u64,
    /// An officer's newer member count, waiting for an organizer.
    pub proposed_member_count: Option<u64>,
}

impl Directory {
    /// The id of the sponsoring union with this slug.
    pub fn union_id(&self, slug: &str) -> Option<i64> {
        self.unions.iter().find(|u| u.slug == slug).map(|u| u.id)
    }
}

/// How much of its tally a campaign shows the public.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Publication {
    pub breakdown: PublicBreakdown,
    pub smallest_group: u64,
    pub goal: Option<u64>,
    /// A pledge with a rule: where it stands, and when it was met.
    pub state: Option<PledgeState>,
    pub reached_at: Option<DateTime<Utc>>,
    /// How often the groups move (the total moves live).
    pub breakdown_every: chrono::Duration,
}

impl Publication {
    pub fn of(campaign: &campaign::Model) -> Self {
        Self {
            breakdown: campaign.public_breakdown,
            smallest_group: Ord::max(u64::try_from(campaign.smallest_group).unwrap_or(1), 1),
            goal: campaign.goal.map(non_negative),
            state: crate::entities::campaign::state_of(campaign),
            reached_at: campaign.reached_at,
            breakdown_every: chrono::Duration::minutes(i64::from(Ord::max(
                campaign.breakdown_every_minutes,
                1,
            ))),
        }
    }
}

/// The tally as the public may see it: the total, and the breakdown the campaign chose
/// with every group under its smallest size folded into `other`. Locals no longer among
/// the signing ones are counted in `other` too.
pub fn publish(
    counts: &Counts,
    directory: &Directory,
    publication: Publication,
    updated_at: String,
) -> Tally {
    publish_folding(counts, directory, publication, updated_at, &BTreeSet::new())
}

/// A group of the public breakdown, by which it is remembered between periods.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Group {
    Local(i64),
    Union(String),
}

/// How many more than the smallest group a group folded back into "other" needs to show
/// again: one signature going back and forth across the line then moves nothing.
fn margin(smallest_group: u64) -> u64 {
    if smallest_group <= 1 {
        0
    } else {
        Ord::max(1, smallest_group / 5)
    }
}

/// [`publish`], with the groups in `raised` needing [`margin`] more to be shown.
fn publish_folding(
    counts: &Counts,
    directory: &Directory,
    publication: Publication,
    updated_at: String,
    raised: &BTreeSet<Group>,
) -> Tally {
    let mut tally = Tally {
        total: counts.total(),
        goal: publication.goal,
        breakdown: publication.breakdown,
        smallest_group: publication.smallest_group,
        state: publication.state,
        reached_at: publication.reached_at.map(rfc3339),
        updated_at,
        ..Tally::default()
    };
    let extra = margin(publication.smallest_group);
    let shown = |count: u64, group: Group| {
        count >= publication.smallest_group + if raised.contains(&group) { extra } else { 0 }
    };
    match publication.breakdown {
        PublicBreakdown::TotalOnly => return tally,
        PublicBreakdown::ByUnion => {
            let mut per_union: BTreeMap<&str, u64> = BTreeMap::new();
            for (local_id, &count) in &counts.by_local {
                match directory.locals.get(local_id) {
                    Some(local) => *per_union.entry(local.union.as_str()).or_default() += count,
                    None => tally.other += count,
                }
            }
            for union in &directory.unions {
                match per_union.get(union.slug.as_str()).copied() {
                    Some(count) if shown(count, Group::Union(union.slug.clone())) => {
                        tally.by_union.push(UnionCount {
                            union: union.slug.clone(),
                            name: union.name.clone(),
                            count,
                        })
                    }
                    Some(count) => tally.other += count,
                    None => {}
                }
            }
        }
        PublicBreakdown::ByLocal => {
            for (local_id, &count) in &counts.by_local {
                match directory.locals.get(local_id) {
                    Some(local) if shown(count, Group::Local(*local_id)) => {
                        let standing = directory.standing.get(local_id);
                        tally.by_local.push(LocalCount {
                            local_id: *local_id,
                            label: local.label(),
                            count,
                            member_count: local.member_count,
                            needed: standing.and_then(|s| s.needed),
                            reached_at: standing.and_then(|s| s.reached_at).map(rfc3339),
                            withdrawn_since: standing.map_or(0, |s| s.withdrawn_since),
                        });
                    }
                    _ => tally.other += count,
                }
            }
        }
    }
    tally.community_supporters = counts.community_supporters;
    tally
}

/// The public tally of one campaign as it moves: the total at once, the groups (by local
/// or union, "other", community supporters) once a period of the campaign's
/// `breakdown_every`, counted from 1970 by the wall clock so that every process moves them
/// at the same moments. A watcher then cannot match a step in a local's count to one
/// person's break. A change of what the campaign shows takes effect at once.
#[derive(Debug, Clone, Default)]
pub struct Cadenced {
    /// The period and the view (breakdown, smallest group) the groups were worked out for.
    worked_out: Option<(i64, PublicBreakdown, u64)>,
    groups: Tally,
    /// Groups once shown and folded since, which need a margin more to show again.
    raised: BTreeSet<Group>,
}

impl Cadenced {
    /// The public tally at `now`.
    pub fn publish(
        &mut self,
        counts: &Counts,
        directory: &Directory,
        publication: Publication,
        now: DateTime<Utc>,
    ) -> Tally {
        let every = Ord::max(publication.breakdown_every.num_seconds(), 60);
        let key = (
            now.timestamp().div_euclid(every),
            publication.breakdown,
            publication.smallest_group,
        );
        if self.worked_out != Some(key) {
            let groups =
                publish_folding(counts, directory, publication, String::new(), &self.raised);
            let shown = |tally: &Tally| -> BTreeSet<Group> {
                let locals = tally.by_local.iter().map(|c| Group::Local(c.local_id));
                let unions = tally.by_union.iter().map(|c| Group::Union(c.union.clone()));
                locals.chain(unions).collect()
            };
            let (before, after) = (shown(&self.groups), shown(&groups));
            self.raised.extend(before.difference(&after).cloned());
            self.raised.retain(|group| !after.contains(group));
            self.groups = Tally {
                breakdown_at: DateTime::from_timestamp(key.0 * every, 0).map(rfc3339),
                ..groups
            };
            self.worked_out = Some(key);
        }
        Tally {
            total: counts.total(),
            goal: publication.goal,
            state: publication.state,
            reached_at: publication.reached_at.map(rfc3339),
            updated_at: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            ..self.groups.clone()
        }
    }
}

/// The result of a recount: what the tally rows say and what the signatures say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recount {
    pub tallied: Counts,
    pub counted: Counts,
}

impl Recount {
    pub fn matches(&self) -> bool {
        self.tallied == self.counted
    }
}

/// Recounts a campaign from its confirmed signatures.
pub async fn recount(db: &impl ConnectionTrait, campaign_id: i64) -> Result<Recount, DbErr> {
    Ok(Recount {
        tallied: tallied(db, campaign_id).await?,
        counted: counted(db, campaign_id).await?,
    })
}

#[cfg(test)]
mod tests;
