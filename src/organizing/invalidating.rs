//! Invalidating signatures by filter (campaign, address or range, email domain, time
//! window): a count first, then one transaction that marks them invalidated, corrects
//! the tallies, and writes an audit entry naming who did it and why.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use ipnet::IpNet;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, QuerySelect, sea_query::Expr,
};
use serde::Serialize;
use uuid::Uuid;

use crate::{
    domain::CampaignId,
    domain::SignatureStatus,
    entities::{audit, signature},
    live::effects::Effects,
    store::campaigns,
    store::db,
    store::tally,
};

/// Which signatures of one campaign to invalidate. At least one of the others must be
/// given: a whole campaign is not invalidated by accident.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Filter {
    pub campaign: String,
    #[serde(serialize_with = "as_text")]
    pub network: Option<IpNet>,
    pub email_domain: Option<String>,
    /// Signed at or after.
    pub since: Option<DateTime<Utc>>,
    /// Signed before.
    pub until: Option<DateTime<Utc>>,
}

fn as_text<S: serde::Serializer>(net: &Option<IpNet>, s: S) -> Result<S::Ok, S::Error> {
    match net {
        Some(net) => s.serialize_some(&net.to_string()),
        None => s.serialize_none(),
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Matched {
    pub pending: u64,
    pub confirmed: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum InvalidateError {
    #[error("no campaign {0:?}")]
    UnknownCampaign(String),
    #[error("give at least one of: a network, an email domain, a time window")]
    NoFilter,
    #[error("say who you are and why: both are written to the audit log")]
    NoReason,
    #[error(transparent)]
    Db(#[from] DbErr),
}

type Row = (Uuid, Option<i64>, SignatureStatus, String, Option<String>);

/// The live (pending or confirmed) signatures the filter matches.
async fn matching(
    db: &impl ConnectionTrait,
    campaign_id: i64,
    filter: &Filter,
) -> Result<Vec<Row>, DbErr> {
    let mut query = signature::Entity::find()
        .select_only()
        .columns([
            signature::Column::Id,
            signature::Column::LocalId,
            signature::Column::Status,
            signature::Column::CanonicalEmail,
            signature::Column::Ip,
        ])
        .filter(signature::Column::CampaignId.eq(campaign_id))
        .filter(
            signature::Column::Status.is_in([SignatureStatus::Pending, SignatureStatus::Confirmed]),
        );
    if let Some(since) = filter.since {
        query = query.filter(signature::Column::CreatedAt.gte(since));
    }
    if let Some(until) = filter.until {
        query = query.filter(signature::Column::CreatedAt.lt(until));
    }
    if let Some(domain) = &filter.email_domain {
        let domain = domain.trim().trim_start_matches('@').to_ascii_lowercase();
        query = query.filter(signature::Column::CanonicalEmail.ends_with(format!("@{domain}")));
    }
    let rows: Vec<Row> = query.into_tuple().all(db).await?;
    // Addresses are matched here: CIDR containment is not portable SQL.
    Ok(rows
        .into_iter()
        .filter(|(_, _, _, _, ip)| match (&filter.network, ip) {
            (None, _) => true,
            (Some(net), Some(ip)) => ip
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| net.contains(&ip)),
            (Some(_), None) => false,
        })
        .collect())
}

fn count(rows: &[Row]) -> Matched {
    let confirmed = rows
        .iter()
        .filter(|r| r.2 == SignatureStatus::Confirmed)
        .count() as u64;
    Matched {
        pending: rows.len() as u64 - confirmed,
        confirmed,
    }
}

async fn campaign_of(db: &impl ConnectionTrait, filter: &Filter) -> Result<i64, InvalidateError> {
    if filter.network.is_none()
        && filter.email_domain.is_none()
        && filter.since.is_none()
        && filter.until.is_none()
    {
        return Err(InvalidateError::NoFilter);
    }
    Ok(campaigns::by_slug(db, &filter.campaign)
        .await?
        .ok_or_else(|| InvalidateError::UnknownCampaign(filter.campaign.clone()))?
        .id)
}

/// What the filter would invalidate, changing nothing.
pub async fn preview(db: &DatabaseConnection, filter: &Filter) -> Result<Matched, InvalidateError> {
    let campaign_id = campaign_of(db, filter).await?;
    Ok(count(&matching(db, campaign_id, filter).await?))
}

/// What was invalidated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalidated {
    pub campaign_id: i64,
    pub matched: Matched,
}

impl Invalidated {
    /// Every process rereads the campaign's corrected tallies; a pledge is judged again.
    pub fn effects(&self) -> Effects {
        Effects::none()
            .reread(CampaignId(self.campaign_id))
            .judge_pledges()
    }
}

/// Invalidates what the filter matches, corrects the tallies and writes the audit entry,
/// all in one transaction. Confirmation links of pending signatures stop working.
pub async fn invalidate(
    db: &DatabaseConnection,
    filter: &Filter,
    actor: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<Invalidated, InvalidateError> {
    if actor.trim().is_empty() || reason.trim().is_empty() {
        return Err(InvalidateError::NoReason);
    }
    let campaign_id = campaign_of(db, filter).await?;
    let txn = db::begin_write(db).await?;
    let rows = matching(&txn, campaign_id, filter).await?;
    let mut matched = Matched::default();
    let mut tallies: BTreeMap<(Option<i64>, i16), i64> = BTreeMap::new();
    for chunk in rows.chunks(500) {
        let ids: Vec<Uuid> = chunk.iter().map(|r| r.0).collect();
        // Conditional on the status at the moment of the update, and each row says what
        // it was: a confirmation that committed meanwhile is counted off as confirmed.
        for status in [SignatureStatus::Confirmed, SignatureStatus::Pending] {
            let changed = signature::Entity::update_many()
                .col_expr(
                    signature::Column::Status,
                    Expr::value(SignatureStatus::Invalidated),
                )
                .col_expr(signature::Column::InvalidatedAt, Expr::value(Some(now)))
                .col_expr(
                    signature::Column::ConfirmTokenHash,
                    Expr::value(Option::<String>::None),
                )
                .filter(signature::Column::Id.is_in(ids.clone()))
                .filter(signature::Column::Status.eq(status.as_str()))
                .exec_with_returning(&txn)
                .await?;
            for row in &changed {
                if status == SignatureStatus::Confirmed {
                    matched.confirmed += 1;
                    *tallies
                        .entry((row.local_id, tally::shard_of(row.id)))
                        .or_default() -= 1;
                } else {
                    matched.pending += 1;
                }
            }
        }
    }
    for ((local_id, shard), delta) in tallies {
        tally::add_at_shard(&txn, campaign_id, local_id, shard, delta).await?;
    }
    audit::Entity::insert(audit::ActiveModel {
        at: Set(now),
        actor: Set(actor.trim().to_owned()),
        action: Set("invalidate_signatures".to_owned()),
        campaign_id: Set(Some(campaign_id)),
        reason: Set(reason.trim().to_owned()),
        details: Set(serde_json::json!({"filter": filter, "invalidated": matched}).to_string()),
        ..Default::default()
    })
    .exec_without_returning(&txn)
    .await?;
    txn.commit().await?;
    Ok(Invalidated {
        campaign_id,
        matched,
    })
}
