//! The review list of paper lines whose address had already signed the campaign. Only
//! the campaign's organizers and admins see it: the officer who entered the line is
//! told nothing, and the line counts like a fresh one until an organizer keeps it (both
//! signatures stand) or removes it (the paper line is invalidated and leaves the tally).
//! A line that touches a local whose pledgers are still sealed stays off the list until
//! the local reaches, since the list would name a pledger.

use chrono::{DateTime, SecondsFormat, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    sea_query::Expr,
};
use serde_json::json;

use crate::{
    access::{self, Caller},
    accounts::audit_entry,
    campaigns, db,
    domain::SignatureStatus,
    entities::{campaign, paper_collision, signature},
    pledges, tally,
    views::CollisionLine,
};

/// What an organizer decides about a paper line whose address had already signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// Both stand: the paper line is someone's own signature.
    Keep,
    /// The paper line is a duplicate: invalidated, and no longer counted.
    Remove,
}

impl Resolution {
    pub fn parse(word: &str) -> Option<Self> {
        match word {
            "keep" => Some(Self::Keep),
            "remove" => Some(Self::Remove),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Keep => "kept",
            Self::Remove => "removed",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CollisionError {
    #[error("only the campaign's organizers and admins review paper lines")]
    Forbidden,
    #[error("no such paper line waiting for review")]
    NotFound,
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// What resolving did, for the tally hub.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resolved {
    pub campaign_id: i64,
    pub local_id: Option<i64>,
    /// -1 when the paper line left the tally.
    pub delta: i64,
}

fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The campaign's paper lines waiting for review, oldest first; empty for anyone who
/// does not edit the campaign.
pub async fn waiting(
    db: &impl ConnectionTrait,
    caller: &Caller,
    found: &campaign::Model,
    directory: &tally::Directory,
) -> Result<Vec<CollisionLine>, DbErr> {
    if !access::edits_campaign(caller, found.id) {
        return Ok(Vec::new());
    }
    let rows = paper_collision::Entity::find()
        .filter(paper_collision::Column::CampaignId.eq(found.id))
        .filter(paper_collision::Column::ResolvedAt.is_null())
        .order_by_asc(paper_collision::Column::EnteredAt)
        .order_by_asc(paper_collision::Column::Id)
        .all(db)
        .await?;
    let mut lines = Vec::with_capacity(rows.len());
    for row in rows {
        let ids = [row.signature_id, row.earlier_id];
        let signatures = signature::Entity::find()
            .filter(signature::Column::Id.is_in(ids))
            .all(db)
            .await?;
        let find = |id| signatures.iter().find(|s| s.id == id);
        let (Some(paper), Some(earlier)) = (find(row.signature_id), find(row.earlier_id)) else {
            continue;
        };
        let sealed = |local_id: Option<i64>| {
            local_id.is_some_and(|id| pledges::is_sealed(found, directory, id))
        };
        if sealed(paper.local_id) || sealed(earlier.local_id) {
            continue;
        }
        let label = |local_id: Option<i64>| {
            local_id
                .and_then(|id| directory.locals.get(&id))
                .map(|l| l.label())
                .unwrap_or_default()
        };
        lines.push(CollisionLine {
            id: row.id,
            given_name: paper.given_name.clone(),
            family_name: paper.family_name.clone(),
            email: paper.email.clone(),
            local: label(paper.local_id),
            entered_by: row.entered_by,
            entered_at: rfc3339(row.entered_at),
            earlier_local: label(earlier.local_id),
            earlier_status: earlier.status.clone(),
            earlier_paper: earlier.attested_by.is_some(),
        });
    }
    Ok(lines)
}

/// An organizer keeps or removes one waiting paper line, audited.
pub async fn resolve(
    db: &DatabaseConnection,
    caller: &Caller,
    slug: &str,
    collision_id: i64,
    resolution: Resolution,
    now: DateTime<Utc>,
) -> Result<Resolved, CollisionError> {
    let found = campaigns::by_slug(db, slug)
        .await?
        .ok_or(CollisionError::NotFound)?;
    if !access::edits_campaign(caller, found.id) {
        return Err(CollisionError::Forbidden);
    }
    let directory = campaigns::directory(db, &found).await?;
    // Only what the list shows can be resolved: a sealed line waits like it.
    if !waiting(db, caller, &found, &directory)
        .await?
        .iter()
        .any(|line| line.id == collision_id)
    {
        return Err(CollisionError::NotFound);
    }
    let txn = db::begin_write(db).await?;
    let row = paper_collision::Entity::find_by_id(collision_id)
        .filter(paper_collision::Column::CampaignId.eq(found.id))
        .filter(paper_collision::Column::ResolvedAt.is_null())
        .one(&txn)
        .await?
        .ok_or(CollisionError::NotFound)?;
    let claimed = paper_collision::Entity::update_many()
        .col_expr(paper_collision::Column::ResolvedAt, Expr::value(now))
        .col_expr(
            paper_collision::Column::ResolvedBy,
            Expr::value(caller.label()),
        )
        .col_expr(
            paper_collision::Column::Resolution,
            Expr::value(resolution.as_str()),
        )
        .filter(paper_collision::Column::Id.eq(row.id))
        .filter(paper_collision::Column::ResolvedAt.is_null())
        .exec(&txn)
        .await?;
    if claimed.rows_affected != 1 {
        return Err(CollisionError::NotFound);
    }
    let paper = signature::Entity::find_by_id(row.signature_id)
        .one(&txn)
        .await?
        .ok_or(CollisionError::NotFound)?;
    let mut delta = 0;
    if resolution == Resolution::Remove {
        // Conditional on the line still counting: an organizer may have moderated it.
        let changed = signature::Entity::update_many()
            .col_expr(
                signature::Column::Status,
                Expr::value(SignatureStatus::Invalidated.as_str()),
            )
            .col_expr(signature::Column::InvalidatedAt, Expr::value(now))
            .filter(signature::Column::Id.eq(paper.id))
            .filter(signature::Column::Status.eq(SignatureStatus::Confirmed.as_str()))
            .exec(&txn)
            .await?;
        if changed.rows_affected == 1 {
            delta = -1;
            tally::add(&txn, found.id, paper.local_id, paper.id, -1).await?;
        }
    }
    audit_entry(
        &txn,
        &caller.label(),
        "paper.collision",
        json!({
            "campaign": found.slug,
            "collision": row.id,
            "signature": paper.id,
            "resolution": resolution.as_str(),
        }),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(Resolved {
        campaign_id: found.id,
        local_id: paper.local_id,
        delta,
    })
}
