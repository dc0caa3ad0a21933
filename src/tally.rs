//! Tallies: confirmed signatures counted per (campaign, local) over a few shard rows,
//! changed in the same transaction as the signature whose status changes, and a recount
//! that proves them equal to the confirmed rows.

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, QueryFilter, QuerySelect,
    sea_query::{Expr, ExprTrait, OnConflict},
};
use uuid::Uuid;

use crate::{
    domain::SignatureStatus,
    entities::{local, local_tally, signature, supporter_tally},
    views::{LocalCount, Tally},
};

/// How many rows a local's (or the community supporters') count is spread over, so that
/// a hot local on a viral day does not serialise every confirmation on one row.
pub const SHARDS: i16 = 8;

/// A count from the database as the unsigned number it is; a negative one (never
/// expected) reads as zero.
pub fn non_negative(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

fn shard_of(signature_id: Uuid) -> i16 {
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
    let shard = shard_of(signature_id);
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
    Ok(Counts::new(by_local, supporters))
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
    Ok(Counts::new(by_local, supporters))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counts {
    pub by_local: BTreeMap<i64, u64>,
    pub community_supporters: u64,
}

impl Counts {
    fn new(by_local: Vec<LocalSum>, supporters: i64) -> Self {
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
}

/// The campaign's tally as the public sees it: total, goal and each local's count
/// beside its member count.
pub async fn campaign_tally(
    db: &impl ConnectionTrait,
    campaign_id: i64,
    goal: Option<i64>,
    now: DateTime<Utc>,
) -> Result<Tally, DbErr> {
    let counts = tallied(db, campaign_id).await?;
    let member_counts: BTreeMap<i64, Option<i64>> = local::Entity::find()
        .select_only()
        .columns([local::Column::Id, local::Column::MemberCount])
        .filter(local::Column::Id.is_in(counts.by_local.keys().copied()))
        .into_tuple::<(i64, Option<i64>)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    Ok(Tally {
        total: counts.total(),
        goal: goal.map(non_negative),
        by_local: counts
            .by_local
            .iter()
            .map(|(&local_id, &count)| LocalCount {
                local_id,
                count,
                member_count: member_counts
                    .get(&local_id)
                    .copied()
                    .flatten()
                    .map(non_negative),
            })
            .collect(),
        community_supporters: counts.community_supporters,
        updated_at: now.to_rfc3339_opts(SecondsFormat::Secs, true),
    })
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
