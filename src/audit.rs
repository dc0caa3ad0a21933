//! The audit log: who did what to whom and why, written in the same transaction as the
//! change it records, so a change and its entry commit or roll back together.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait};

use crate::entities::audit;

/// Records an action with no reason given.
pub(crate) async fn audit_entry(
    txn: &impl ConnectionTrait,
    actor: &str,
    action: &str,
    details: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    audit_with_reason(txn, actor, action, "", details, now).await
}

/// Records an action and the reason its actor gave.
pub(crate) async fn audit_with_reason(
    txn: &impl ConnectionTrait,
    actor: &str,
    action: &str,
    reason: &str,
    details: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    audit::Entity::insert(audit::ActiveModel {
        at: Set(now),
        actor: Set(actor.to_owned()),
        action: Set(action.to_owned()),
        campaign_id: Set(None),
        reason: Set(reason.to_owned()),
        details: Set(details.to_string()),
        ..Default::default()
    })
    .exec_without_returning(txn)
    .await?;
    Ok(())
}
