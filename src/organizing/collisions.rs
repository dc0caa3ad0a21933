//! The review list of paper lines whose address had already signed the campaign. Only
//! the campaign's organizers and admins see it: the officer who entered the line is
//! told nothing, and the line counts like a fresh one until an organizer keeps it (both
//! signatures stand) or removes it (the paper line is invalidated and leaves the tally).
//! A line that touches a local whose pledgers are still sealed stays off the list until
//! the local reaches, since the list would name a pledger.

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    sea_query::Expr,
};
use serde_json::json;

use crate::{
    accounts::access::{self, Caller},
    audit::audit_entry,
    domain::clock::rfc3339,
    domain::{CampaignId, LocalId},
    domain::{CollisionResolution, SignatureStatus},
    entities::{campaign, paper_collision, signature},
    live::effects::{Bells, Effects},
    pledges,
    store::campaigns,
    store::db,
    store::tally,
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

    /// The word the audit log records.
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

/// What applying a removal did, for the tally hub.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resolved {
    pub campaign_id: i64,
    pub local_id: Option<i64>,
    /// -1 when the paper line left the tally.
    pub delta: i64,
}

impl Resolved {
    pub fn effects(&self) -> Effects {
        let campaign = CampaignId(self.campaign_id);
        let effects = Effects::none()
            .moved(campaign, self.local_id.map(LocalId), self.delta)
            .reread(campaign);
        if self.delta == 0 {
            effects
        } else {
            effects.judge_pledges()
        }
    }
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
            earlier_status: earlier.status,
            earlier_paper: earlier.attested_by.is_some(),
        });
    }
    Ok(lines)
}

/// An organizer keeps or removes one waiting paper line, audited. A removal is only
/// recorded here: the line leaves the counts at the campaign's next cadence tick
/// ([`apply_due`]), so the officer who entered it cannot read the decision off a count.
pub async fn resolve(
    db: &DatabaseConnection,
    caller: &Caller,
    slug: &str,
    collision_id: i64,
    resolution: Resolution,
    now: DateTime<Utc>,
) -> Result<(), CollisionError> {
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
    let recorded = match resolution {
        Resolution::Keep => CollisionResolution::Kept,
        Resolution::Remove => CollisionResolution::Removing,
    };
    let claimed = paper_collision::Entity::update_many()
        .col_expr(paper_collision::Column::ResolvedAt, Expr::value(now))
        .col_expr(
            paper_collision::Column::ResolvedBy,
            Expr::value(caller.label()),
        )
        .col_expr(paper_collision::Column::Resolution, Expr::value(recorded))
        .filter(paper_collision::Column::Id.eq(row.id))
        .filter(paper_collision::Column::ResolvedAt.is_null())
        .exec(&txn)
        .await?;
    if claimed.rows_affected != 1 {
        return Err(CollisionError::NotFound);
    }
    audit_entry(
        &txn,
        &caller.label(),
        "paper.collision",
        json!({
            "campaign": found.slug,
            "collision": row.id,
            "signature": row.signature_id,
            "resolution": resolution.as_str(),
        }),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Whether a decision made at `resolved_at` is due at `now`: the campaign's cadence
/// period has turned since (never sooner than a minute).
fn due(resolved_at: DateTime<Utc>, every_minutes: i64, now: DateTime<Utc>) -> bool {
    let every = Ord::max(every_minutes, 1) * 60;
    now.timestamp().div_euclid(every) > resolved_at.timestamp().div_euclid(every)
}

/// Applies every removal whose campaign has reached its next cadence tick: the paper
/// line is invalidated (if it still counts) and leaves the tally. Each removal is
/// claimed once, so two processes never apply it twice.
pub async fn apply_due(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
) -> Result<Vec<Resolved>, DbErr> {
    let pending = paper_collision::Entity::find()
        .filter(paper_collision::Column::Resolution.eq(CollisionResolution::Removing))
        .order_by_asc(paper_collision::Column::Id)
        .all(db)
        .await?;
    let mut applied = Vec::new();
    for row in pending {
        let Some(found) = campaign::Entity::find_by_id(row.campaign_id)
            .one(db)
            .await?
        else {
            continue;
        };
        let resolved_at = row.resolved_at.unwrap_or(row.entered_at);
        if !due(resolved_at, i64::from(found.breakdown_every_minutes), now) {
            continue;
        }
        let txn = db::begin_write(db).await?;
        let claimed = paper_collision::Entity::update_many()
            .col_expr(
                paper_collision::Column::Resolution,
                Expr::value(CollisionResolution::Removed),
            )
            .filter(paper_collision::Column::Id.eq(row.id))
            .filter(paper_collision::Column::Resolution.eq(CollisionResolution::Removing))
            .exec(&txn)
            .await?;
        if claimed.rows_affected != 1 {
            continue;
        }
        let Some(paper) = signature::Entity::find_by_id(row.signature_id)
            .one(&txn)
            .await?
        else {
            txn.commit().await?;
            continue;
        };
        // Conditional on the line still counting: an organizer may have moderated it.
        let changed = signature::Entity::update_many()
            .col_expr(
                signature::Column::Status,
                Expr::value(SignatureStatus::Invalidated),
            )
            .col_expr(signature::Column::InvalidatedAt, Expr::value(now))
            .filter(signature::Column::Id.eq(paper.id))
            .filter(signature::Column::Status.eq(SignatureStatus::Confirmed))
            .exec(&txn)
            .await?;
        let delta = if changed.rows_affected == 1 {
            tally::add(&txn, found.id, paper.local_id, paper.id, -1).await?;
            -1
        } else {
            0
        };
        txn.commit().await?;
        applied.push(Resolved {
            campaign_id: found.id,
            local_id: paper.local_id,
            delta,
        });
    }
    Ok(applied)
}

/// Applies due removals a minute apart, and at once when the clock is moved (tests),
/// until `closing` turns true; the hub and the pledge worker hear of each.
pub async fn run_worker(
    db: DatabaseConnection,
    bells: Bells,
    clock: crate::domain::clock::Clock,
    mut closing: tokio::sync::watch::Receiver<bool>,
) {
    let mut moves = clock.moves();
    loop {
        tokio::select! {
            () = tokio::time::sleep(std::time::Duration::from_secs(60)) => {}
            _ = moves.changed() => {}
            _ = closing.wait_for(|stop| *stop) => return,
        }
        match apply_due(&db, clock.now()).await {
            Ok(applied) => bells.apply(applied.iter().map(Resolved::effects).collect()),
            Err(err) => {
                tracing::warn!(error = %err, "applying paper-line removals failed; retrying")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_removal_is_due_once_the_cadence_period_has_turned() {
        let at = |text: &str| DateTime::parse_from_rfc3339(text).unwrap().to_utc();
        let resolved = at("2026-12-07T10:03:20Z");
        assert!(
            !due(resolved, 5, at("2026-12-07T10:04:59Z")),
            "same five minutes"
        );
        assert!(
            due(resolved, 5, at("2026-12-07T10:05:00Z")),
            "the next tick"
        );
        assert!(!due(resolved, 60, at("2026-12-07T10:59:59Z")));
        assert!(due(resolved, 60, at("2026-12-07T11:00:00Z")));
        assert!(
            due(resolved, 0, at("2026-12-07T10:04:00Z")),
            "never below a minute"
        );
    }
}
