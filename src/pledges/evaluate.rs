//! Judging a pledge: a local crosses its threshold once, by a conditional update in the
//! transaction that carried it over; `evaluate` settles everything else, idempotently,
//! and the worker runs it when counts move and at deadlines.

use super::*;

/// The pledges counted toward a local's threshold: every confirmed one (from the tally
/// rows), or only those an officer verified.
pub(super) async fn counted_in_local(
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

pub(super) fn verified(campaign_id: i64) -> sea_orm::Select<signature::Entity> {
    signature::Entity::find()
        .filter(signature::Column::CampaignId.eq(campaign_id))
        .filter(signature::Column::Status.eq(SignatureStatus::Confirmed))
        .filter(signature::Column::Verification.eq(Verification::Verified))
}

/// Every local's verified pledges.
pub(super) async fn verified_by_local(
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

pub(super) async fn cross_local(
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
        .filter(campaign::Column::Kind.eq(CampaignKind::Pledge))
        .filter(campaign::Column::Status.is_in([CampaignStatus::Open, CampaignStatus::Closed]))
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

/// Runs until `shutdown` turns true: every few seconds (and when woken) judges the
/// pledges, refreshes the tallies of those that moved, and sends released
/// announcements. Picks up, after a restart, whatever was left half done.
pub async fn run_worker(
    db: DatabaseConnection,
    bells: crate::live::effects::Bells,
    public_url: String,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    use crate::{domain::CampaignId, live::effects::Effects};
    let wake = bells.pledges.clone();
    loop {
        if *shutdown.borrow() {
            break;
        }
        match evaluate_all(&db, Utc::now()).await {
            Ok(changed) => bells.apply(
                changed
                    .into_iter()
                    .map(|id| Effects::none().reread(CampaignId(id)))
                    .collect(),
            ),
            Err(err) => tracing::error!(error = %err, "could not judge the pledges"),
        }
        match announcing::send_all(&db, &public_url, Utc::now()).await {
            Ok(0) => {}
            Ok(_) => bells.apply(Effects::none().mail()),
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
