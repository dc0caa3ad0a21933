//! Tallies: confirmed signatures counted per (campaign, local) over a few shard rows,
//! changed in the same transaction as the signature whose status changes, and a recount
//! that proves them equal to the confirmed rows.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, SecondsFormat, Utc};

use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, QueryFilter, QuerySelect,
    sea_query::{Expr, ExprTrait, OnConflict},
};
use uuid::Uuid;

use crate::{
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

fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
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
        .filter(signature::Column::Status.eq(SignatureStatus::Confirmed.as_str()))
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
            breakdown: PublicBreakdown::parse(&campaign.public_breakdown)
                .unwrap_or(PublicBreakdown::TotalOnly),
            smallest_group: Ord::max(u64::try_from(campaign.smallest_group).unwrap_or(1), 1),
            goal: campaign.goal.map(non_negative),
            state: crate::pledges::state_of(campaign),
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
mod tests {
    use super::*;

    fn directory() -> Directory {
        let union = |slug: &str| UnionView {
            id: 0,
            slug: slug.into(),
            name: slug.to_uppercase(),
            short_name: slug.to_uppercase(),
        };
        let local = |id: i64, union: &str| LocalView {
            id,
            union: union.into(),
            union_short_name: union.to_uppercase(),
            name: format!("Local {id}"),
            city: None,
            region: None,
            member_count: Some(100),
        };
        Directory {
            unions: vec![union("a"), union("b")],
            locals: [local(1, "a"), local(2, "a"), local(3, "b")]
                .into_iter()
                .map(|l| (l.id, l))
                .collect(),
            standing: BTreeMap::new(),
        }
    }

    fn counts(by_local: &[(i64, u64)], supporters: u64) -> Counts {
        Counts {
            by_local: by_local.iter().copied().collect(),
            community_supporters: supporters,
        }
    }

    fn rule(breakdown: PublicBreakdown, smallest_group: u64) -> Publication {
        Publication {
            breakdown,
            smallest_group,
            goal: Some(1000),
            state: None,
            reached_at: None,
            breakdown_every: chrono::Duration::minutes(5),
        }
    }

    #[test]
    fn small_locals_are_folded_into_other() {
        let counts = counts(&[(1, 7), (2, 2), (3, 5), (99, 9)], 3);
        let tally = publish(
            &counts,
            &directory(),
            rule(PublicBreakdown::ByLocal, 5),
            "t".into(),
        );
        assert_eq!(tally.total, 26);
        let shown: Vec<_> = tally
            .by_local
            .iter()
            .map(|c| (c.local_id, c.count))
            .collect();
        assert_eq!(
            shown,
            [(1, 7), (3, 5)],
            "local 2 has too few; 99 no longer signs"
        );
        assert_eq!(tally.other, 11);
        assert_eq!(tally.community_supporters, 3);
        assert!(
            tally.by_union.is_empty(),
            "by union would show what by local folds"
        );
        assert_eq!(tally.by_local[0].label, "A Local 1");
    }

    #[test]
    fn unions_are_summed_and_folded_the_same_way() {
        let counts = counts(&[(1, 3), (2, 3), (3, 4)], 0);
        let tally = publish(
            &counts,
            &directory(),
            rule(PublicBreakdown::ByUnion, 5),
            "t".into(),
        );
        let shown: Vec<_> = tally
            .by_union
            .iter()
            .map(|c| (c.union.as_str(), c.count))
            .collect();
        assert_eq!(shown, [("a", 6)]);
        assert_eq!(tally.other, 4);
        assert!(tally.by_local.is_empty());
    }

    #[test]
    fn total_only_shows_the_total_and_nothing_else() {
        let counts = counts(&[(1, 30), (3, 40)], 8);
        let tally = publish(
            &counts,
            &directory(),
            rule(PublicBreakdown::TotalOnly, 1),
            "t".into(),
        );
        assert_eq!(tally.total, 78);
        assert_eq!((tally.other, tally.community_supporters), (0, 0));
        assert!(tally.by_local.is_empty() && tally.by_union.is_empty());
    }

    #[test]
    fn counts_move_and_empty_locals_disappear() {
        let mut counts = counts(&[(1, 1)], 0);
        counts.apply(Some(2), 1);
        counts.apply(Some(1), -1);
        counts.apply(None, 1);
        assert_eq!(counts.by_local.into_iter().collect::<Vec<_>>(), [(2, 1)]);
        assert_eq!(counts.community_supporters, 1);
    }

    /// 12:00:00 UTC on a day, plus `seconds`: the clock the cadence tests move by hand.
    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_796_385_600 + seconds, 0).unwrap()
    }

    #[test]
    fn between_ticks_only_the_total_moves() {
        let directory = directory();
        let rule = rule(PublicBreakdown::ByLocal, 5);
        let mut cadenced = Cadenced::default();
        let mut counts = counts(&[(1, 7), (3, 5)], 2);
        let first = cadenced.publish(&counts, &directory, rule, at(0));
        counts.apply(Some(3), 1);
        counts.apply(None, 1);
        let moved = cadenced.publish(&counts, &directory, rule, at(299));
        assert_eq!(moved.total, first.total + 2, "the total is live");
        assert_eq!(
            (
                moved.by_local.clone(),
                moved.other,
                moved.community_supporters
            ),
            (
                first.by_local.clone(),
                first.other,
                first.community_supporters
            ),
            "the groups wait for the next tick"
        );
        let ticked = cadenced.publish(&counts, &directory, rule, at(300));
        assert_eq!(ticked.by_local[1].count, 6);
        assert_eq!(ticked.community_supporters, 3);
    }

    #[test]
    fn every_process_ticks_at_the_same_moments() {
        let directory = directory();
        let rule = rule(PublicBreakdown::ByLocal, 1);
        let (mut early, mut late) = (Cadenced::default(), Cadenced::default());
        let mut counts = counts(&[(1, 7)], 0);
        early.publish(&counts, &directory, rule, at(10));
        counts.apply(Some(1), 1);
        // A second process first asked later in the same period, after the change.
        late.publish(&counts, &directory, rule, at(200));
        assert_eq!(
            early.publish(&counts, &directory, rule, at(301)).by_local,
            late.publish(&counts, &directory, rule, at(302)).by_local,
            "and from the next tick on both show the same"
        );
    }

    #[test]
    fn a_group_folded_back_needs_a_margin_more_to_show_again() {
        let directory = directory();
        let rule = rule(PublicBreakdown::ByLocal, 5);
        let mut cadenced = Cadenced::default();
        let shown = |tally: &Tally| {
            tally
                .by_local
                .iter()
                .map(|c| c.local_id)
                .collect::<Vec<_>>()
        };
        let mut counts = counts(&[(1, 5)], 0);
        assert_eq!(
            shown(&cadenced.publish(&counts, &directory, rule, at(0))),
            [1]
        );
        counts.apply(Some(1), -1);
        assert!(
            shown(&cadenced.publish(&counts, &directory, rule, at(300))).is_empty(),
            "never shown under the smallest group"
        );
        counts.apply(Some(1), 1);
        let back = cadenced.publish(&counts, &directory, rule, at(600));
        assert!(
            shown(&back).is_empty(),
            "one signature back does not flip it into view"
        );
        assert_eq!(back.other, 5);
        counts.apply(Some(1), 1);
        assert_eq!(
            shown(&cadenced.publish(&counts, &directory, rule, at(900))),
            [1],
            "one more does"
        );
    }

    #[test]
    fn a_stricter_view_takes_effect_at_once() {
        let directory = directory();
        let mut cadenced = Cadenced::default();
        let counts = counts(&[(1, 7), (3, 5)], 0);
        cadenced.publish(
            &counts,
            &directory,
            rule(PublicBreakdown::ByLocal, 5),
            at(0),
        );
        let stricter = cadenced.publish(
            &counts,
            &directory,
            rule(PublicBreakdown::ByLocal, 6),
            at(1),
        );
        assert_eq!(stricter.by_local.len(), 1);
        assert_eq!(stricter.other, 5);
        let total_only = cadenced.publish(
            &counts,
            &directory,
            rule(PublicBreakdown::TotalOnly, 6),
            at(2),
        );
        assert!(total_only.by_local.is_empty() && total_only.other == 0);
    }
}
